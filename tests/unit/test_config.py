"""Tests for the typed configuration (rarewatch.config): one pydantic mechanism, one message per key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rarewatch.config import config_from_dict, flatten, load_config, resolve_data_path, to_dict
from rarewatch.errors import ConfigError
from rarewatch.models.registry import resolve

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


def _check(**changes):
    """The whole config checked, the model section against its family too (what the validate stage does)."""
    return resolve(config_from_dict(_raw(**changes)))


def test_committed_params_load():
    cfg = resolve(load_config(PARAMS))
    assert cfg.seed == 42
    assert cfg.model.name == "dense_ae"
    assert cfg.model.hidden_dims == [32, 16, 32]
    assert type(cfg.model).__module__ == "rarewatch.models.families.dense_ae"
    assert cfg.data.synthetic.n_rows == 20000
    assert cfg.threshold.strategies == ["percentile", "max_f1", "min_cost"]
    assert cfg.label_shift.horizon == 2
    assert cfg.cost.fn == 100.0
    assert cfg.trainer.num_threads == 1  # one thread per job: two collapse on a busy 2-core machine


def test_model_section_is_checked_only_by_name_until_resolved():
    # Stages that do not read the model section do not import its family (and do not depend on it).
    cfg = config_from_dict(_raw(model__patience=-1))
    assert cfg.model.name == "dense_ae"
    with pytest.raises(ConfigError, match=r"'model\.patience' is -1; must be >= 0"):
        resolve(cfg)


def test_load_config_from_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(_raw(split__gap_rows=3)))
    assert load_config(path).split.gap_rows == 3


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"config file '.*nope.yaml' not found; run from the project root or pass "):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: [1\n")
    with pytest.raises(ConfigError, match="bad.yaml' is not valid YAML"):
        load_config(path)


def test_top_level_not_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got list"):
        config_from_dict([1, 2])


def test_int_where_float_expected_is_a_float():
    cfg = _check(cost__fn=100, model__learning_rate=1)
    assert cfg.cost.fn == 100.0 and isinstance(cfg.cost.fn, float)
    assert isinstance(cfg.model.learning_rate, float)


def test_number_where_a_label_is_expected_becomes_text():
    # YAML reads positive_label: 1 as an int; labels compare as text
    assert config_from_dict(_raw(data__positive_label=1)).data.positive_label == "1"
    assert config_from_dict(_raw(data__positive_label=1.0)).data.positive_label == "1"


def test_missing_key_names_key_and_fix():
    with pytest.raises(ConfigError, match="config key 'split.gap_rows' is missing; add it to params.yaml"):
        config_from_dict(_raw(split__gap_rows=DELETE))


def test_missing_nested_synthetic_key():
    with pytest.raises(ConfigError, match="config key 'data.synthetic.seed' is missing"):
        config_from_dict(_raw(data__synthetic__seed=DELETE))


def test_several_errors_are_counted():
    with pytest.raises(ConfigError, match=r"'seed' is -1; must be >= 0 \(and 1 more\)"):
        config_from_dict(_raw(split__gap_rows=-1, seed=-1))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"split__gap_row": 3}, r"unknown config key 'split.gap_row' \(did you mean 'split.gap_rows'\?\)"),
        ({"sed": 1}, r"unknown config key 'sed' \(did you mean 'seed'\?\)"),
        ({"model__hidden_dim": [8]}, r"unknown config key 'model.hidden_dim' \(did you mean 'model.hidden_dims'\?\)"),
        ({"cost__zzzz": 1}, r"unknown config key 'cost.zzzz'; allowed keys: tn, fp, fn, tp, false_alarm_pricing"),
        ({"data__synthetic__n_row": 1}, r"unknown config key 'data.synthetic.n_row' \(did you mean 'data.synthetic"),
    ],
)
def test_unknown_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        _check(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"split__gap_rows": "10"}, r"config key 'split.gap_rows' is '10'; must be an integer"),
        ({"trainer__devices": True}, r"config key 'trainer.devices' is True; must be an integer"),
        ({"model__max_epochs": 2.5}, r"config key 'model.max_epochs' is 2.5; must be an integer"),
        ({"threshold__strategies": 0.5}, r"config key 'threshold.strategies' is 0.5; must be a list"),
        ({"model__hidden_dims": [32, "x"]}, r"config key 'model.hidden_dims\[1\]' is 'x'; must be an integer"),
        ({"cost__fp": True}, r"config key 'cost.fp' is True; must be a number"),
        ({"cost__fp": "5"}, r"config key 'cost.fp' is '5'; must be a number"),
        ({"cost__fp": float("inf")}, r"config key 'cost.fp' is inf; must be a finite number"),
        (
            {"preprocess__drop_constant": "yes"},
            r"config key 'preprocess.drop_constant' is 'yes'; must be true or false",
        ),
        ({"data__label_column": None}, r"config key 'data.label_column' is None; must be a string"),
        ({"data__synthetic": 5}, r"config key 'data.synthetic' is 5; must be a mapping"),
        ({"cost": [1, 2]}, r"config key 'cost' is \[1, 2\]; must be a mapping"),
    ],
)
def test_wrong_type(changes, message):
    with pytest.raises(ConfigError, match=message):
        _check(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"split__method": "shuffle"},
            r"config key 'split.method' is 'shuffle'; allowed values: 'time', 'random', 'series', 'head' or 'rolling'",
        ),
        (
            {"threshold__strategies": ["max_f1", "best"]},
            r"config key 'threshold.strategies\[1\]' is 'best'; allowed values: 'percentile', 'max_f1' or 'min_cost'",
        ),
        (
            {"preprocess__nan_policy": "drop"},
            r"'preprocess.nan_policy' is 'drop'; allowed values: 'impute' or 'refuse'",
        ),
        ({"model__activation": "sigmoid"}, r"'model.activation' is 'sigmoid'; allowed values: 'relu'"),
        ({"data__root": "home"}, r"'data.root' is 'home'; allowed values: 'project' or 'data_dir'"),
    ],
)
def test_literal_out_of_range(changes, message):
    with pytest.raises(ConfigError, match=message):
        _check(**changes)


@pytest.mark.parametrize("name", ["xgboost", "registry", "__init__"])
def test_unknown_model_name(name):
    with pytest.raises(ConfigError, match=rf"unknown model '{name}'; available: .*dense_ae.*isolation_forest.*"):
        config_from_dict(_raw(model__name=name))


def test_model_without_name():
    with pytest.raises(ConfigError, match="config key 'model.name' is missing"):
        config_from_dict(_raw(model__name=DELETE))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label_shift__horizon": -1}, r"'label_shift.horizon' is -1; must be >= 0"),
        (
            {"split__train_fraction": 0.7, "split__val_fraction": 0.3},
            r"split.train_fraction=0.7 and split.val_fraction=0.3 must sum to less than 1",
        ),
        ({"split__train_fraction": 0.0}, r"'split.train_fraction' is 0.0; must be > 0"),
        ({"split__gap_rows": -1}, r"'split.gap_rows' is -1; must be >= 0"),
        ({"threshold__percentile": 100}, r"'threshold.percentile' is 100; must be < 100"),
        ({"threshold__strategies": []}, r"'threshold.strategies' is \[\]; needs at least 1 item"),
        ({"data__synthetic": None}, r"data.source=synthetic needs a data.synthetic section"),
        ({"data__source": "file"}, r"data.source=file needs data.path"),
        (
            {"data__source": "url", "data__path": "x.csv", "data__url": "https://e.org/x.csv"},
            r"data.source=url needs data.url, data.sha256 and data.path",
        ),
        ({"data__negative_label": "0"}, r"set exactly one of data.positive_label .* and data.negative_label"),
        ({"trainer__num_threads": 0}, r"'trainer.num_threads' is 0; must be >= 1"),
        ({"alarm__k": 3, "alarm__n": 2}, r"alarm.k=3 must be between 1 and alarm.n=2"),
        ({"model__dropout": 1.0}, r"'model.dropout' is 1.0; must be < 1"),
        ({"model__patience": -1}, r"'model.patience' is -1; must be >= 0"),
        ({"model__weight_decay": -0.5}, r"'model.weight_decay' is -0.5; must be >= 0"),
        ({"seed": -3}, r"'seed' is -3; must be >= 0"),
        ({"tracking__experiment": ""}, r"'tracking.experiment' is ''; "),
    ],
)
def test_out_of_range_values(changes, message):
    with pytest.raises(ConfigError, match=message):
        _check(**changes)


def test_file_source_with_path_loads():
    cfg = config_from_dict(_raw(data__source="file", data__path="data/x.csv", data__synthetic=None))
    assert cfg.data.path == "data/x.csv" and cfg.data.synthetic is None


def test_data_paths_resolve_against_their_root(tmp_path, monkeypatch):
    project = tmp_path / "project"
    cfg = config_from_dict(_raw(data__source="file", data__path="plant/x.csv", data__synthetic=None))
    assert resolve_data_path(cfg.data, "plant/x.csv", project) == project.resolve() / "plant/x.csv"
    real = cfg.data.model_copy(update={"root": "data_dir"})
    monkeypatch.delenv("RAREWATCH_DATA", raising=False)
    assert resolve_data_path(real, "plant/x.csv", project) == project.resolve() / "datasets/plant/x.csv"
    monkeypatch.setenv("RAREWATCH_DATA", str(tmp_path / "sets"))
    assert resolve_data_path(real, "plant/x.csv", project) == (tmp_path / "sets/plant/x.csv").resolve()
    assert resolve_data_path(real, "/abs/x.csv", project) == Path("/abs/x.csv")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data__synthetic__n_rows": 50}, r"'data.synthetic.n_rows' is 50; must be >= 100"),
        ({"data__synthetic__event_rate": 0.5}, r"'data.synthetic.event_rate' is 0.5; must be < 0.2"),
        ({"data__synthetic__start": "yesterday-ish"}, r"'data.synthetic.start' is 'yesterday-ish'; must be an ISO"),
        ({"data__synthetic__n_rows": "many"}, r"config key 'data.synthetic.n_rows' is 'many'; must be an integer"),
    ],
)
def test_synthetic_section_errors_are_config_errors(changes, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_raw(**changes))


def test_flatten():
    nested = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}
    assert flatten(nested) == {"a.b": 1, "a.c.d": [1, 2], "e": None}


def test_flatten_config():
    flat = flatten(to_dict(resolve(load_config(PARAMS))))
    assert flat["split.gap_rows"] == 10
    assert flat["model.name"] == "dense_ae"
    assert flat["model.hidden_dims"] == [32, 16, 32]
    assert flat["data.synthetic.seed"] == 42
    assert flat["threshold.strategies"] == ["percentile", "max_f1", "min_cost"]
    assert not any(isinstance(v, dict) for v in flat.values())
