"""params.yaml (what `dvc repro` reads) must be exactly conf/ composed, as `dvc exp run` writes it."""

from __future__ import annotations

from pathlib import Path

import yaml

from rarewatch.composition import compose, compose_yaml
from rarewatch.config import config_from_dict

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_committed_params_match_conf():
    # Fails when conf/ was edited without `make params` (python -m rarewatch.composition).
    assert yaml.safe_load(PARAMS.read_text()) == compose()


def test_every_model_family_composes_and_validates():
    conf_models = sorted(p.stem for p in (PARAMS.parent / "conf" / "model").glob("*.yaml"))
    assert {"dense_ae", "isolation_forest", "lstm_ae", "lstm_classifier"} <= set(conf_models)
    for name in conf_models:
        cfg = config_from_dict(compose([f"model={name}"]))
        assert cfg.model.name == name


def test_overrides_reach_the_yaml():
    text = compose_yaml(["cost.fn=500", "model.hidden_dims=[64,32,64]"])
    composed = yaml.safe_load(text)
    assert composed["cost"]["fn"] == 500
    assert composed["model"]["hidden_dims"] == [64, 32, 64]
