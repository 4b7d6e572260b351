"""Tests for the typed configuration (rarewatch.config)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rarewatch.config import config_from_dict, flatten, load_config, to_dict
from rarewatch.errors import ConfigError

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
RAW = yaml.safe_load(PARAMS.read_text())
DELETE = object()


def _raw(**changes) -> dict:
    """A deep copy of params.yaml with dotted keys set (value DELETE removes the key)."""
    raw = copy.deepcopy(RAW)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = raw
        for p in parents:
            node = node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return raw


def test_committed_params_load():
    cfg = load_config(PARAMS)
    assert cfg.seed == 42
    assert cfg.model.name == "dense_ae"
    assert cfg.model.hidden_dims == [32, 16, 32]
    assert type(cfg.model).__module__ == "rarewatch.models.dense_ae"
    assert cfg.data.synthetic.n_rows == 20000
    assert cfg.threshold.strategies == ["percentile", "max_f1", "min_cost"]
    assert cfg.label_shift.horizon == 2
    assert cfg.cost.fn == 100.0


def test_load_config_from_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(_raw(split__gap_rows=3)))
    assert load_config(path).split.gap_rows == 3


def test_missing_file(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"config file '.*nope.yaml' not found; run from the project root or pass "
        "--params PATH",
    ):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: [1\n")
    with pytest.raises(ConfigError, match="bad.yaml' is not valid YAML"):
        load_config(path)


def test_top_level_not_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got list"):
        config_from_dict([1, 2])


def test_isolation_forest_model_section():
    model = {
        "name": "isolation_forest",
        "train_on": "all",
        "n_estimators": 10,
        "max_samples": 64,
        "max_features": 1,
    }
    cfg = config_from_dict(_raw(model=model))
    assert cfg.model.n_estimators == 10
    assert cfg.model.max_features == 1.0 and isinstance(cfg.model.max_features, float)


def test_int_where_float_expected_becomes_float():
    cfg = config_from_dict(_raw(cost__fn=100))
    assert cfg.cost.fn == 100.0 and isinstance(cfg.cost.fn, float)


def test_number_where_string_expected_becomes_text():
    # YAML reads positive_label: 1 as an int; labels compare as text
    assert config_from_dict(_raw(data__positive_label=1)).data.positive_label == "1"


def test_missing_key_names_key_and_fix():
    with pytest.raises(ConfigError, match="config key 'split.gap_rows' is missing; add it to params.yaml"):
        config_from_dict(_raw(split__gap_rows=DELETE))


def test_missing_nested_synthetic_key():
    with pytest.raises(ConfigError, match="config key 'data.synthetic.seed' is missing"):
        config_from_dict(_raw(data__synthetic__seed=DELETE))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"split__gap_row": 3}, r"unknown config key 'split.gap_row' \(did you mean 'split.gap_rows'\?\)"),
        ({"sed": 1}, r"unknown config key 'sed' \(did you mean 'seed'\?\)"),
        (
            {"model__hidden_dim": [8]},
            r"unknown config key 'model.hidden_dim' \(did you mean 'model.hidden_dims'\?\)",
        ),
        ({"cost__zzzz": 1}, r"unknown config key 'cost.zzzz'; allowed keys: tn, fp, fn, tp"),
    ],
)
def test_unknown_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_raw(**changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"split__gap_rows": "10"}, r"config key 'split.gap_rows' must be an integer, got '10'"),
        ({"trainer__devices": True}, r"config key 'trainer.devices' must be an integer, got True"),
        ({"model__max_epochs": 2.5}, r"config key 'model.max_epochs' must be an integer, got 2.5"),
        ({"threshold__strategies": 0.5}, r"config key 'threshold.strategies' must be a list, got 0.5"),
        (
            {"model__hidden_dims": [32, "x"]},
            r"config key 'model.hidden_dims\[1\]' must be an integer, got 'x'",
        ),
        ({"cost__fp": True}, r"config key 'cost.fp' must be a number, got True"),
        ({"cost__fp": "5"}, r"config key 'cost.fp' must be a number, got '5'"),
        (
            {"preprocess__drop_constant": "yes"},
            r"config key 'preprocess.drop_constant' must be true or false, "
            r"got 'yes'",
        ),
        ({"data__label_column": None}, r"config key 'data.label_column' must be a string, got None"),
        ({"data__synthetic": 5}, r"config key 'data.synthetic' must be a mapping, got 5"),
        ({"cost": [1, 2]}, r"config key 'cost' must be a mapping, got \[1, 2\]"),
    ],
)
def test_wrong_type(changes, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_raw(**changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"split__method": "shuffle"},
            r"config key 'split.method' is 'shuffle'; allowed values: 'time', 'random'",
        ),
        (
            {"threshold__strategies": ["max_f1", "best"]},
            r"config key 'threshold.strategies\[1\]' is 'best'; "
            r"allowed values: 'percentile', 'max_f1', 'min_cost'",
        ),
        (
            {"preprocess__nan_policy": "drop"},
            r"'preprocess.nan_policy' is 'drop'; allowed values: 'impute', 'refuse'",
        ),
        ({"model__activation": "sigmoid"}, r"'model.activation' is 'sigmoid'; allowed values: 'relu'"),
    ],
)
def test_literal_out_of_range(changes, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_raw(**changes))


@pytest.mark.parametrize("name", ["xgboost", "nets", "registry"])
def test_unknown_model_name(name):
    with pytest.raises(
        ConfigError,
        match=rf"unknown model '{name}'; available: .*dense_ae.*isolation_forest"
        r".*\(model=<name>\)",
    ):
        config_from_dict(_raw(model__name=name))


def test_model_without_name():
    with pytest.raises(ConfigError, match="'model' must be a mapping with a 'name' key"):
        config_from_dict(_raw(model__name=DELETE))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label_shift__horizon": -1}, r"label_shift.horizon=-1 must be >= 0 rows"),
        (
            {"split__train_fraction": 0.7, "split__val_fraction": 0.3},
            r"split.train_fraction=0.7 and split.val_fraction=0.3 must each be in \(0, 1\) "
            r"and sum to less than 1",
        ),
        ({"split__train_fraction": 0.0}, r"split.train_fraction=0.0 .* must each be in \(0, 1\)"),
        ({"split__gap_rows": -1}, r"split.gap_rows=-1 must be >= 0"),
        ({"threshold__percentile": 100}, r"threshold.percentile=100.0 must be in \(0, 100\)"),
        (
            {"threshold__strategies": []},
            r"threshold.strategies is empty; use any of \[percentile, max_f1, min_cost\]",
        ),
        ({"data__synthetic": None}, r"data.source=synthetic needs a data.synthetic section"),
        ({"data__source": "file"}, r"data.source=file needs data.path"),
        (
            {"data__source": "url", "data__path": "x.csv", "data__url": "https://e.org/x.csv"},
            r"data.source=url needs data.url, data.sha256 and data.path",
        ),
        ({"trainer__num_threads": 0}, r"trainer.num_threads=0 must be >= 1"),
        ({"model__dropout": 1.0}, r"model.dropout=1.0 must be in \[0, 1\)"),
    ],
)
def test_out_of_range_values(changes, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_raw(**changes))


def test_file_source_with_path_loads():
    cfg = config_from_dict(_raw(data__source="file", data__path="data/x.csv", data__synthetic=None))
    assert cfg.data.path == "data/x.csv" and cfg.data.synthetic is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data__synthetic__n_rows": 50}, r"data.synthetic.n_rows=50 must be an integer >= 100"),
        ({"data__synthetic__event_rate": 0.5}, r"data.synthetic.event_rate=0.5 must be in \(0.0, 0.2\)"),
        (
            {"data__synthetic__start": "yesterday-ish"},
            r"data.synthetic.start='yesterday-ish' must be an ISO timestamp",
        ),
        (
            {"data__synthetic__n_rows": "many"},
            r"config key 'data.synthetic.n_rows' must be an integer, got 'many'",
        ),
    ],
)
def test_synthetic_section_errors_are_config_errors(changes, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_raw(**changes))


def test_flatten():
    nested = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}
    assert flatten(nested) == {"a.b": 1, "a.c.d": [1, 2], "e": None}


def test_flatten_config():
    flat = flatten(to_dict(load_config(PARAMS)))
    assert flat["split.gap_rows"] == 10
    assert flat["model.name"] == "dense_ae"
    assert flat["data.synthetic.seed"] == 42
    assert flat["threshold.strategies"] == ["percentile", "max_f1", "min_cost"]
    assert not any(isinstance(v, dict) for v in flat.values())
