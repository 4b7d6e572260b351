"""Stages that neither train nor load a model must not pay for torch, lightning or mlflow.pytorch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
LIGHT = ["validate", "ingest", "preprocess", "label_shift", "split", "cost", "track"]


def test_light_stages_do_not_import_torch() -> None:
    # One process, stage after stage: the first one that pulls in a heavy module is named.
    code = (
        "import importlib, sys; from rarewatch.config import load_config; "
        f"from rarewatch.models.registry import resolve; resolve(load_config(r'{PARAMS}'))\n"
        f"for stage in {LIGHT!r}:\n"
        "    importlib.import_module('rarewatch.stages.' + stage)\n"
        "    heavy = [m for m in ('torch', 'lightning', 'mlflow.pytorch') if m in sys.modules]\n"
        "    print(stage, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:-1] == [f"{stage} []" for stage in LIGHT]


@pytest.mark.parametrize("stage", ["train", "evaluate"])
def test_model_stages_import_torch_only_when_a_model_is_built(stage: str) -> None:
    # Importing the stage and checking the config (what every stage does first) stays light: torch
    # arrives with the model family's fit/load, so a config error costs no torch start-up either.
    code = (
        f"import sys, rarewatch.stages.{stage}; from rarewatch.config import load_config; "
        f"from rarewatch.models.registry import family, resolve; cfg = resolve(load_config(r'{PARAMS}')); "
        "before = 'torch' in sys.modules; "
        "family(cfg.model.name).build(cfg.model, 0, cfg.trainer)._new_net(4); print(before, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False True"
