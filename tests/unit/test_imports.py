"""Stages that neither train nor load a model must not pay for torch, lightning or mlflow.pytorch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
LIGHT = ["ingest", "preprocess", "label_shift", "split", "cost", "track"]


@pytest.mark.parametrize("stage", LIGHT)
def test_stage_does_not_import_torch(stage: str) -> None:
    code = (
        f"import sys, rarewatch.stages.{stage} as s; from rarewatch.config import load_config; "
        f"load_config(r'{PARAMS}'); "
        "heavy = [m for m in ('torch', 'lightning', 'mlflow.pytorch') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_training_stage_does_import_torch() -> None:
    # The check above can fail: the train stage's model really does pull torch in when it fits.
    code = "import sys, rarewatch.models.dense_ae as m; m.DenseAEDetector; import rarewatch.models.nets; " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
