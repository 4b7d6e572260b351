"""Typed configuration: params.yaml (or a composed Hydra config) checked into dataclasses.

Every stage starts by calling `load_config`, so a missing, extra or mistyped key stops the
stage with a message naming the key and the fix, before any file is read or written.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from rarewatch.data.synthetic import SyntheticConfig
from rarewatch.data.synthetic import validate as validate_synthetic
from rarewatch.errors import ConfigError


@dataclass(frozen=True)
class DataConfig:
    name: str
    source: Literal["synthetic", "file", "url"]
    path: str | None  # relative paths are relative to the project root
    url: str | None
    sha256: str | None
    format: str  # auto, or a reader in rarewatch.data.formats (csv, parquet, ...)
    companion_path: str | None  # the second file some formats need (labels, column names)
    test_path: str | None  # a publisher's separate test file: its rows become the test split
    time_column: str | None  # null: rows have no order (random splits allowed)
    time_format: str | None  # strftime format, unix_s or unix_ms; null: inferred
    label_column: str
    positive_label: str | None  # exactly one of positive_label / negative_label
    negative_label: str | None  # every other class is positive (attack types, fault codes)
    group_column: str | None  # reported per value (e.g. attack type); never a feature
    drop_columns: list[str]
    categorical_columns: list[str]
    synthetic: SyntheticConfig | None


@dataclass(frozen=True)
class PreprocessConfig:
    drop_constant: bool
    drop_duplicates: bool
    nan_policy: Literal["impute", "refuse"]
    max_missing_fraction: float  # columns missing more often than this in training rows are dropped


@dataclass(frozen=True)
class LabelShiftConfig:
    horizon: int


@dataclass(frozen=True)
class SplitConfig:
    method: Literal["time", "random"]
    train_fraction: float
    val_fraction: float
    gap_rows: int


@dataclass(frozen=True)
class ThresholdConfig:
    strategies: list[Literal["percentile", "max_f1", "min_cost"]]
    percentile: float


@dataclass(frozen=True)
class CostConfig:
    tn: float
    fp: float
    fn: float
    tp: float
    # per_row: FP counts rows over the threshold outside every warning window; per_alarm: false operator
    # alarms under the alarm policy (the same as per_row while the policy is off).
    false_alarm_pricing: Literal["per_row", "per_alarm"]


@dataclass(frozen=True)
class AlarmConfig:
    """Operator alarm policy: an alarm where at least k of the last n rows are over the threshold,
    then no new alarm for silence_rows rows. k = n = 1, silence_rows = 0: every row over it alarms."""

    k: int
    n: int
    silence_rows: int


@dataclass(frozen=True)
class TrainerConfig:
    accelerator: str
    devices: int
    num_threads: int
    deterministic: bool
    progress_bar: bool


@dataclass(frozen=True)
class TrackingConfig:
    uri: str | None
    experiment: str
    log_model: bool


@dataclass(frozen=True)
class Config:
    seed: int
    data: DataConfig
    preprocess: PreprocessConfig
    label_shift: LabelShiftConfig
    split: SplitConfig
    model: Any  # the family's own dataclass, chosen by model.name (see models/registry.py)
    threshold: ThresholdConfig
    cost: CostConfig
    alarm: AlarmConfig
    trainer: TrainerConfig
    tracking: TrackingConfig


def load_config(path: str | Path = "params.yaml") -> Config:
    """Read a params file and check it; raises ConfigError naming the bad key and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file '{path}' not found; run from the project root or pass --params PATH "
            "(params.yaml is composed from conf/ by `dvc exp run`)"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML: {exc}") from exc
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: Any, source: str = "config") -> Config:
    from rarewatch.models.registry import model_config_class

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(raw).__name__}")
    model_raw = raw.get("model")
    if not isinstance(model_raw, dict) or "name" not in model_raw:
        raise ConfigError(f"{source}: 'model' must be a mapping with a 'name' key (e.g. model=dense_ae)")
    model_cls = model_config_class(str(model_raw["name"]))
    cfg = _build(Config, raw, "", {"model": model_cls})
    _check_values(cfg)
    return cfg


def with_absolute_data_paths(cfg: Config, base: Path) -> Config:
    """Relative data paths are relative to the project; fix them before running outside it (sweep jobs)."""

    def absolute(p: str | None) -> str | None:
        return None if p is None or Path(p).expanduser().is_absolute() else str((base / p).resolve())

    d = cfg.data
    fixed = {k: absolute(getattr(d, k)) or getattr(d, k) for k in ("path", "companion_path", "test_path")}
    return dataclasses.replace(cfg, data=dataclasses.replace(d, **fixed))


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}; the form MLflow params and sweep tables use."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _build(cls: type, raw: Any, path: str, overrides: dict[str, type] | None = None) -> Any:
    where = path.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"config key '{where}' must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    extra = [k for k in raw if k not in fields]
    if extra:
        key = extra[0]
        close = difflib.get_close_matches(str(key), fields, n=1)
        hint = f" (did you mean '{path}{close[0]}'?)" if close else f"; allowed keys: {', '.join(fields)}"
        raise ConfigError(f"unknown config key '{path}{key}'{hint}")
    missing = [f for f in fields if f not in raw]
    if missing:
        raise ConfigError(
            f"config key '{path}{missing[0]}' is missing; add it to params.yaml (or to conf/ and rerun "
            "`dvc exp run`, which recomposes params.yaml)"
        )
    values = {}
    for name in fields:
        tp = (overrides or {}).get(name, hints[name])
        values[name] = _coerce(tp, raw[name], f"{path}{name}")
    return cls(**values)


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"config key '{key}' must not be null")
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, key)
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(f"config key '{key}' is {value!r}; allowed values: {allowed}")
        return value
    if origin is list:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"config key '{key}' must be a list, got {value!r}")
        return [_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{key}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key '{key}' must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config key '{key}' must be a number, got {value!r}")
        return float(value)
    if tp is str:
        # YAML reads 1 or yes as non-strings; labels like positive_label compare as text anyway.
        if isinstance(value, dict | list) or value is None:
            raise ConfigError(f"config key '{key}' must be a string, got {value!r}")
        return str(value)
    if tp is Any:
        return value
    raise ConfigError(f"config key '{key}': unsupported type {tp!r} in the config schema")


def _check_values(cfg: Config) -> None:
    if cfg.label_shift.horizon < 0:
        raise ConfigError(f"label_shift.horizon={cfg.label_shift.horizon} must be >= 0 rows")
    s = cfg.split
    if not (0 < s.train_fraction < 1 and 0 < s.val_fraction < 1 and s.train_fraction + s.val_fraction < 1):
        raise ConfigError(
            f"split.train_fraction={s.train_fraction} and split.val_fraction={s.val_fraction} must each be "
            "in (0, 1) and sum to less than 1 (test gets the rest)"
        )
    if s.gap_rows < 0:
        raise ConfigError(f"split.gap_rows={s.gap_rows} must be >= 0")
    if not 0 < cfg.threshold.percentile < 100:
        raise ConfigError(f"threshold.percentile={cfg.threshold.percentile} must be in (0, 100)")
    if not cfg.threshold.strategies:
        raise ConfigError("threshold.strategies is empty; use any of [percentile, max_f1, min_cost]")
    _check_alarm(cfg.alarm)
    d = cfg.data
    if d.source == "synthetic" and d.synthetic is None:
        raise ConfigError("data.source=synthetic needs a data.synthetic section (see conf/data/synthetic.yaml)")
    if d.synthetic is not None:
        try:
            validate_synthetic(d.synthetic)
        except ValueError as exc:
            raise ConfigError(f"data.{exc}") from exc
    if (d.positive_label is None) == (d.negative_label is None):
        raise ConfigError(
            "set exactly one of data.positive_label (the event class) and data.negative_label (the normal "
            f"class; all others are events); got positive_label={d.positive_label!r}, "
            f"negative_label={d.negative_label!r}"
        )
    if d.test_path is not None and d.source == "synthetic":
        raise ConfigError("data.test_path needs data.source=file or url")
    if not 0 < cfg.preprocess.max_missing_fraction <= 1:
        raise ConfigError(
            f"preprocess.max_missing_fraction={cfg.preprocess.max_missing_fraction} must be in (0, 1]; "
            "1 keeps every column"
        )
    if d.source == "file" and not d.path:
        raise ConfigError("data.source=file needs data.path (a CSV or Parquet file)")
    if d.source == "url" and not (d.url and d.sha256 and d.path):
        raise ConfigError("data.source=url needs data.url, data.sha256 and data.path (where to cache it)")
    if cfg.trainer.num_threads < 1:
        raise ConfigError(f"trainer.num_threads={cfg.trainer.num_threads} must be >= 1")


def _check_alarm(a: AlarmConfig) -> None:
    if a.n < 1:
        raise ConfigError(
            f"alarm.n={a.n} must be >= 1 (the rows the k-of-n rule looks back over); use alarm.n=1 for no smoothing"
        )
    if not 1 <= a.k <= a.n:
        raise ConfigError(
            f"alarm.k={a.k} must be between 1 and alarm.n={a.n} (an alarm needs k of the last n rows over "
            "the threshold); e.g. alarm.k=2 alarm.n=3, or alarm.k=1 alarm.n=1 for every row over it"
        )
    if a.silence_rows < 0:
        raise ConfigError(
            f"alarm.silence_rows={a.silence_rows} must be >= 0 (rows without a new alarm after one); "
            "0 turns silencing off"
        )
