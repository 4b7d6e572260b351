"""params.yaml (what `dvc repro` reads) must be exactly conf/ composed, as `dvc exp run` writes it."""

from __future__ import annotations

from pathlib import Path

import yaml

from rarewatch.composition import compose, compose_yaml
from rarewatch.config import config_from_dict
from rarewatch.models import families
from rarewatch.models.registry import family, resolve

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_committed_params_match_conf():
    # Fails when conf/ was edited without `make params` (python -m rarewatch.composition).
    assert yaml.safe_load(PARAMS.read_text()) == compose()


def test_every_model_family_has_a_config_that_composes_and_validates():
    conf_models = sorted(p.stem for p in (PARAMS.parent / "conf" / "model").glob("*.yaml"))
    assert conf_models == families.names()  # one module and one yaml per family, nothing else
    for name in conf_models:
        cfg = resolve(config_from_dict(compose([f"model={name}"])))
        assert cfg.model.name == name and type(cfg.model) is family(name).config_class


def test_every_data_and_experiment_config_composes_and_validates():
    conf = PARAMS.parent / "conf"
    for data in sorted(p.stem for p in (conf / "data").glob("*.yaml")):
        overrides = [f"data={data}"] + (["data.path=plant.csv"] if data == "csv" else [])
        assert config_from_dict(compose(overrides)).data is not None
    for experiment in sorted(p.stem for p in (conf / "experiment").glob("*.yaml")):
        resolve(config_from_dict(compose([f"+experiment={experiment}"])))


def test_overrides_reach_the_yaml():
    text = compose_yaml(["cost.fn=500", "model.hidden_dims=[64,32,64]"])
    composed = yaml.safe_load(text)
    assert composed["cost"]["fn"] == 500
    assert composed["model"]["hidden_dims"] == [64, 32, 64]
