"""Typed configuration: params.yaml (or a composed Hydra config) checked by pydantic models.

Every section is a frozen pydantic model with `extra="forbid"` and strict types, and every range is a
field constraint or a validator on the section, so there is one validation mechanism for all of
them. A failure becomes one `ConfigError` that names the key, the value and the fix
(`config key 'model.patience' is -1; must be >= 0`).

The model section is checked in two steps. Here only its `name` is checked, against the files in
`rarewatch/models/families/` (no family is imported); `rarewatch.models.registry.resolve` then
checks the rest against the family's own config class. Stages that do not read the model section
therefore do not import any family code (and do not depend on it in dvc.yaml).
"""

from __future__ import annotations

import difflib
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from rarewatch.data.synthetic import SyntheticConfig
from rarewatch.errors import ConfigError
from rarewatch.models import families
from rarewatch.section import Section

# Where relative data paths are resolved: the project root, or the data directory of real data sets.
DATA_DIR_ENV = "RAREWATCH_DATA"


def _label_text(value: Any) -> Any:
    """YAML reads 1, 1.0 or yes as non-strings; a class label is compared as text anyway."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value


Label = Annotated[str, BeforeValidator(_label_text)]


class DataConfig(Section):
    name: str = Field(min_length=1)
    source: Literal["synthetic", "file", "url"]
    # Relative paths (path, companion_path, test_path) are taken from `root`: `project` (the project
    # directory) or `data_dir` ($RAREWATCH_DATA, default <project>/datasets; docs/datasets.md).
    root: Literal["project", "data_dir"]
    path: str | None
    origin: str | None  # where to get the file: shown when it is missing
    url: str | None
    sha256: str | None
    format: str  # auto, or a reader in rarewatch.data.formats (csv, parquet, ...)
    companion_path: str | None  # the second file some formats need (labels, column names)
    test_path: str | None  # a publisher's separate test file: its rows become the test split
    time_column: str | None  # null: rows have no order (random splits allowed)
    time_format: str | None  # strftime format, unix_s or unix_ms; null: inferred
    # The unit of a numeric time column (seconds since start, say); null for datetimes and for rows
    # without a time axis. It sets the unit of lead times and the time base of alarm rates.
    time_unit: Literal["rows", "seconds", "minutes", "hours", "days"] | None
    max_gap: float = Field(
        ge=1,
        description="a step longer than this many median steps is a gap in recording: windows, features and "
        "alarm rates never cross it",
    )
    series_column: str | None  # rows of one machine, run or file: sorting, shifts, windows and splits stay inside
    separator: str | None  # CSV field separator; null: ',' or, when the header says so, ';' or a tab
    label_column: str
    positive_label: Label | None  # exactly one of positive_label / negative_label
    negative_label: Label | None  # every other class is positive (attack types, fault codes)
    group_column: str | None  # reported per value (e.g. attack type); never a feature
    drop_columns: list[str]
    categorical_columns: list[str]
    max_positive_fraction: float = Field(
        gt=0,
        le=1,
        description="a share of positive rows above this stops ingest: events that common are not rare, so the "
        "label is more likely inverted or the wrong column",
    )
    synthetic: SyntheticConfig | None

    @model_validator(mode="after")
    def _consistent(self) -> DataConfig:
        if (self.positive_label is None) == (self.negative_label is None):
            raise ConfigError(
                "set exactly one of data.positive_label (the event class) and data.negative_label (the normal "
                f"class; all others are events); got positive_label={self.positive_label!r}, "
                f"negative_label={self.negative_label!r}"
            )
        if self.source == "synthetic" and self.synthetic is None:
            raise ConfigError("data.source=synthetic needs a data.synthetic section (see conf/data/synthetic.yaml)")
        if self.test_path is not None and self.source == "synthetic":
            raise ConfigError("data.test_path needs data.source=file or url")
        if self.source == "file" and not self.path:
            raise ConfigError("data.source=file needs data.path (a CSV or Parquet file)")
        if self.source == "url" and not (self.url and self.sha256 and self.path):
            raise ConfigError("data.source=url needs data.url, data.sha256 and data.path (where to cache it)")
        if self.url is not None:
            check_url(self.url)
        return self


URL_SCHEMES = ("https", "http")


def check_url(url: str) -> None:
    """Only web downloads: a `file:` or `ftp:` URL would read local files or an unchecked server."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in URL_SCHEMES or not parts.netloc:
        raise ConfigError(
            f"data.url={url!r} is not an https:// (or http://) URL (scheme {parts.scheme or 'none'!r}); "
            "only web downloads are fetched: for a file on this machine use data.source=file and data.path"
        )


class PreprocessConfig(Section):
    drop_constant: bool
    drop_duplicates: bool
    nan_policy: Literal["impute", "refuse"]
    # +-inf and values beyond float32's range (rarewatch.data.finite): refuse (stop, naming the columns),
    # clip (to the column's training min/max) or impute (the training median).
    nonfinite: Literal["refuse", "clip", "impute"]
    scaling: Literal["global", "per_series"]  # per_series: each series scaled by its own training rows
    max_missing_fraction: float = Field(
        gt=0, le=1, description="columns missing more often than this in training rows are dropped; 1 keeps all"
    )


class FeaturesConfig(Section):
    """Temporal features from the past only (rarewatch.data.features); name none is the identity."""

    name: Literal["none", "rolling"]
    windows: list[Annotated[int, Field(ge=1)]]  # rows per rolling window
    stats: list[Literal["mean", "std", "min", "max", "zscore", "slope"]]
    diff: bool  # x minus the previous row
    lags: list[Annotated[int, Field(ge=1)]]  # x of k rows back
    ewma_spans: list[Annotated[int, Field(ge=1)]]
    aggregate: bool  # across sensors per window: mean and max |zscore|, count of |zscore| > 3
    keep_raw: bool  # keep the sensors' own values beside their features
    columns: list[str]  # the sensors to derive features from; [] = every numeric feature column

    @model_validator(mode="after")
    def _something_to_compute(self) -> FeaturesConfig:
        if self.name == "rolling" and not (self.windows or self.diff or self.lags or self.ewma_spans):
            raise ConfigError("features=rolling computes nothing: give features.windows, diff, lags or ewma_spans")
        if self.windows and not (self.stats or self.aggregate):
            raise ConfigError("features.windows are set but features.stats is empty and aggregate is false")
        return self


class LabelShiftConfig(Section):
    # Each data config states it (conf/data/*.yaml); null means "not stated": no shift (H=0), said aloud.
    horizon: int | None = Field(
        ge=0, description="rows before each event that become positive; 0 leaves labels as they are"
    )
    max_dropped_fraction: float = Field(
        gt=0,
        le=1,
        description="a shift that drops more than this share of the rows as event rows stops: the rest would be "
        "a minority of the data",
    )


class SplitConfig(Section):
    """time: by time within every series; random: rows without a time axis only; series: whole series
    held out (the fractions count series); head: the first head_rows rows (or head_minutes) of every
    series train, and of the rest of each series the first val_fraction validates, the remainder tests;
    rolling: fold `fold` of `folds` chronological folds after an initial training window of train_fraction
    (rolling origin, rarewatch.data.splitting)."""

    method: Literal["time", "random", "series", "head", "rolling"]
    train_fraction: float = Field(gt=0, lt=1)
    val_fraction: float = Field(gt=0, lt=1)
    gap_rows: int = Field(ge=0, description="rows left out between splits; at least the window length")
    head_rows: int | None = Field(ge=1, description="split.method=head: training rows at the start of each series")
    head_minutes: float | None = Field(gt=0, description="split.method=head: training minutes at each series' start")
    folds: int = Field(ge=2, description="split.method=rolling: the number of chronological folds")
    fold: int = Field(ge=0, description="split.method=rolling: which fold this run is (0 .. folds - 1)")

    @model_validator(mode="after")
    def _consistent(self) -> SplitConfig:
        if self.method != "head" and self.train_fraction + self.val_fraction >= 1:
            raise ConfigError(
                f"split.train_fraction={self.train_fraction} and split.val_fraction={self.val_fraction} "
                "must sum to less than 1 (test gets the rest)"
            )
        if self.method == "head" and (self.head_rows is None) == (self.head_minutes is None):
            raise ConfigError(
                "split.method=head needs exactly one of split.head_rows and split.head_minutes (how much of the "
                f"start of each series trains); got head_rows={self.head_rows}, head_minutes={self.head_minutes}"
            )
        if self.fold >= self.folds:
            raise ConfigError(
                f"split.fold={self.fold} must be below split.folds={self.folds} (folds are numbered from 0)"
            )
        if self.method != "head" and (self.head_rows is not None or self.head_minutes is not None):
            raise ConfigError(
                f"split.head_rows / split.head_minutes apply to split.method=head only (method is {self.method}); "
                "set them to null"
            )
        return self


class ThresholdConfig(Section):
    strategies: list[Literal["percentile", "max_f1", "min_cost"]] = Field(
        min_length=1, description="any of [percentile, max_f1, min_cost]"
    )
    percentile: float = Field(gt=0, lt=100, description="percentile of the normal validation rows' scores")


class CostConfig(Section):
    tn: float
    fp: float
    fn: float
    tp: float
    # per_row: FP counts rows over the threshold outside every warning window; per_alarm: false operator
    # alarms under the alarm policy (the same as per_row while the policy is off).
    false_alarm_pricing: Literal["per_row", "per_alarm"]


class AlarmConfig(Section):
    """Operator alarm policy: an alarm where at least k of the last n rows are over the threshold,
    then no new alarm for silence_rows rows. k = n = 1, silence_rows = 0: every row over it alarms."""

    k: int = Field(ge=1, description="an alarm needs k of the last n rows over the threshold")
    n: int = Field(ge=1, description="the rows the k-of-n rule looks back over; use alarm.n=1 for no smoothing")
    silence_rows: int = Field(ge=0, description="rows without a new alarm after one; 0 turns silencing off")

    @model_validator(mode="after")
    def _k_within_n(self) -> AlarmConfig:
        if self.k > self.n:
            raise ConfigError(
                f"alarm.k={self.k} must be between 1 and alarm.n={self.n} (an alarm needs k of the last n rows "
                "over the threshold); e.g. alarm.k=2 alarm.n=3, or alarm.k=1 alarm.n=1 for every row over it"
            )
        return self


class SmoothingConfig(Section):
    """Score smoothing before thresholding (rarewatch.evaluation.smoothing): past rows only."""

    method: Literal["none", "mean", "max", "ewma", "auto"]  # auto: the best of a fixed set on validation PR-AUC
    window: int = Field(ge=1, description="rows the mean or max looks back over (the row itself included)")
    span: int = Field(ge=1, description="the span of the ewma")


class EvaluationConfig(Section):
    """When a result is flagged as degenerate (summary, MLflow tag, sweep ranking)."""

    min_positives: int = Field(ge=1, description="fewer positive rows in val or test flag its AUCs as unreliable")
    max_alarm_share: float = Field(
        gt=0, le=1, description="a chosen threshold alarming on more than this share of rows is flagged"
    )


# Lightning's strategies for one or more devices of one machine (multi-node runs are out of scope).
TrainerStrategy = Literal["auto", "ddp", "ddp_spawn", "ddp_find_unused_parameters_true", "fsdp"]
TrainerPrecision = Literal["32-true", "64-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true"]


class TrainerConfig(Section):
    """Lightning's Trainer settings (conf/trainer/cpu|gpu|ddp.yaml)."""

    accelerator: Literal["cpu", "gpu", "cuda", "mps", "auto"]
    devices: int = Field(ge=1)
    strategy: TrainerStrategy
    precision: TrainerPrecision  # 16-mixed on a CPU: Lightning itself uses bf16-mixed instead, with a warning
    num_threads: int = Field(
        ge=1, description="threads per job (torch, and OpenMP/BLAS under scikit-learn and PyOD); 1 unless measured"
    )
    deterministic: bool
    progress_bar: bool

    @property
    def distributed(self) -> bool:
        """One fit spread over several processes (one per device): DDP and its relatives."""
        return self.devices > 1 or self.strategy != "auto"


class TrackingConfig(Section):
    uri: str | None  # null: $MLFLOW_TRACKING_URI, else sqlite:///<project>/mlflow.db
    experiment: str = Field(min_length=1)
    log_model: bool


class ModelSection(Section):
    """The model section before its family is resolved: the name is checked, the rest kept as given.

    `rarewatch.models.registry.resolve` replaces it with the family's own config (a FamilyConfig).
    """

    model_config = ConfigDict(extra="allow")
    name: str

    @field_validator("name")
    @classmethod
    def _known_family(cls, name: str) -> str:
        known = families.names()
        if name not in known:
            raise ValueError(f"unknown model '{name}'; available: {', '.join(known)} (model=<name>)")
        return name


class FamilyConfig(ModelSection):
    """Base of every family's config (conf/model/<name>.yaml): the fields all families share."""

    model_config = ConfigDict(extra="forbid")
    train_on: Literal["normal", "all"]  # normal: fit on the normal training rows only


class Config(Section):
    seed: int = Field(ge=0)
    data: DataConfig
    preprocess: PreprocessConfig
    label_shift: LabelShiftConfig
    features: FeaturesConfig
    split: SplitConfig
    model: SerializeAsAny[ModelSection]  # the family's own config once resolved: dump all its fields
    smoothing: SmoothingConfig
    threshold: ThresholdConfig
    cost: CostConfig
    alarm: AlarmConfig
    evaluation: EvaluationConfig
    trainer: TrainerConfig
    tracking: TrackingConfig

    @model_validator(mode="after")
    def _across_sections(self) -> Config:
        check_across_sections(self)
        return self


SECTIONS: tuple[str, ...] = tuple(Config.model_fields)


def check_across_sections(cfg: Config) -> None:
    """Rules between sections (the validate stage applies them before anything runs)."""
    d, s = cfg.data, cfg.split
    if s.method == "rolling" and d.time_column is None:
        raise ConfigError(
            "split.method=rolling folds by time: it needs data.time_column (use random for unordered rows)"
        )
    if s.method == "random" and d.time_column is not None:
        raise ConfigError(
            f"split.method=random on data with a time axis (data.time_column='{d.time_column}') trains on the "
            "future; use split.method=time, or set data.time_column=null if the rows really have no order"
        )
    if s.method in ("series", "head") and d.series_column is None and not _is_glob(d.path):
        raise ConfigError(
            f"split.method={s.method} works on series: set data.series_column (or a data.path glob, one file per "
            "series)"
        )
    if s.method == "head" and s.head_minutes is not None and d.time_column is None:
        raise ConfigError("split.head_minutes needs a time axis (data.time_column); use split.head_rows")
    if cfg.preprocess.scaling == "per_series" and s.method == "series":
        raise ConfigError(
            "preprocess.scaling=per_series needs training rows of every series, but split.method=series holds "
            "whole series out; use preprocess.scaling=global, or split.method=time or head"
        )
    if cfg.features.name != "none" and d.time_column is None:
        raise ConfigError(
            f"features={cfg.features.name} needs a time axis (its windows look back in time), but data.time_column "
            "is null: these rows have no order; use features=none"
        )
    if d.time_column is None and d.time_unit not in (None, "rows"):
        raise ConfigError(f"data.time_unit={d.time_unit} needs a time column (data.time_column is null)")


def _is_glob(path: str | None) -> bool:
    return path is not None and any(c in path for c in "*?[")


def load_config(path: str | Path = "params.yaml") -> Config:
    """Read a params file and check it; raises ConfigError naming the bad key and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file '{path}' not found; run from the project root or pass --params PATH "
            "(params.yaml is composed from conf/ by `dvc exp run`, or by `make params`)"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML: {exc}") from exc
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: Any, source: str = "config") -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(raw).__name__}")
    return validated(Config, raw)


def validated(cls: type[BaseModel], raw: Any, prefix: str = "") -> Any:
    """`cls.model_validate(raw)`, with pydantic's errors turned into one ConfigError naming the key."""
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        # An unknown key first: it is usually a misspelt one, which also makes the real key "missing".
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        messages = [_message(cls, err, prefix) for err in errors]
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        raise ConfigError(messages[0] + more) from None


def data_dir(project: Path) -> Path:
    """The data directory of real data sets: $RAREWATCH_DATA, else <project>/datasets."""
    import os

    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser().resolve() if value else (project / "datasets").resolve()


def download_roots(project: Path) -> tuple[Path, ...]:
    """Where a URL download may be cached: the project (the stage's root and the directory the command
    runs from: a sweep job's root is below the project) and the data directory."""
    roots = (project.resolve(), Path.cwd().resolve(), data_dir(project))
    return tuple(dict.fromkeys(roots))


def resolve_data_path(data: DataConfig, value: str, project: Path) -> Path:
    """An absolute path for a configured data file (data.path, companion_path or test_path)."""
    p = Path(value).expanduser()
    if p.is_absolute():
        return p
    return (data_dir(project) if data.root == "data_dir" else project.resolve()) / p


def with_absolute_data_paths(cfg: Config, project: Path) -> Config:
    """Relative data paths made absolute, for running outside the project directory (sweep jobs)."""
    d = cfg.data
    fixed = {
        key: str(resolve_data_path(d, value, project))
        for key in ("path", "companion_path", "test_path")
        if (value := getattr(d, key)) is not None
    }
    return cfg.model_copy(update={"data": d.model_copy(update=fixed)})


def to_dict(cfg: BaseModel) -> dict[str, Any]:
    return cfg.model_dump(mode="json")


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


def _message(cls: type[BaseModel], err: Any, prefix: str) -> str:
    loc = [str(part) for part in err["loc"]]
    key = prefix + _dotted(loc)
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        return _unknown_key(cls, loc, prefix)
    if kind == "missing":
        return (
            f"config key '{key}' is missing; add it to params.yaml (or to conf/ and rerun `dvc exp run` or "
            "`make params`, which recompose params.yaml)"
        )
    if kind == "value_error":
        error = ctx.get("error")
        # A section's own rule (a ConfigError) already names its keys; a field validator's is about its key.
        if isinstance(error, ConfigError):
            return str(error)
        return f"config key '{key}' is {value!r}; {error or err['msg']}"
    where = f"config key '{key}'" if key else "the config"
    field = _field(cls, loc)
    hint = f" ({field.description})" if field is not None and field.description else ""
    return f"{where} is {value!r}; {_requirement(kind, ctx, err['msg'])}{hint}"


def _requirement(kind: str, ctx: dict[str, Any], fallback: str) -> str:
    bounds = {
        "greater_than": "> {gt}",
        "greater_than_equal": ">= {ge}",
        "less_than": "< {lt}",
        "less_than_equal": "<= {le}",
    }
    if kind in bounds:
        return "must be " + bounds[kind].format(**ctx)
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "literal_error":
        return f"allowed values: {ctx.get('expected')}"
    types = {
        "int_type": "must be an integer",
        "float_type": "must be a number",
        "finite_number": "must be a finite number",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "model_type": "must be a mapping",
        "dict_type": "must be a mapping",
    }
    return types.get(kind, fallback[0].lower() + fallback[1:])


def _dotted(loc: list[str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _unknown_key(cls: type[BaseModel], loc: list[str], prefix: str) -> str:
    """'unknown config key' with the closest allowed key."""
    key = prefix + _dotted(loc)
    model = _section_at(cls, loc[:-1])
    if model is None:
        return f"unknown config key '{key}'"
    allowed = list(model.model_fields)
    parent = (prefix + _dotted(loc[:-1])).rstrip(".")
    parent = f"{parent}." if parent else ""
    close = difflib.get_close_matches(loc[-1], allowed, n=1)
    if close:
        return f"unknown config key '{key}' (did you mean '{parent}{close[0]}'?)"
    return f"unknown config key '{key}'; allowed keys: {', '.join(allowed)}"


def _section_at(cls: type[BaseModel], loc: list[str]) -> type[BaseModel] | None:
    """The section class at path `loc` below `cls` (list indices skipped), or None."""
    model: Any = cls
    for part in loc:
        if part.isdigit():
            continue
        field = model.model_fields.get(part) if _is_section(model) else None
        model = _section_type(field.annotation) if field is not None else None
    return model if _is_section(model) else None


def _field(cls: type[BaseModel], loc: list[str]) -> Any:
    """The pydantic FieldInfo of the key at `loc` (for its description), or None."""
    names = [p for p in loc if not p.isdigit()]
    if not names:
        return None
    section = _section_at(cls, names[:-1])
    return section.model_fields.get(names[-1]) if section is not None else None


def _is_section(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, BaseModel)


def _section_type(annotation: Any) -> Any:
    """The BaseModel inside `X | None`, else the annotation itself."""
    for arg in getattr(annotation, "__args__", ()) or (annotation,):
        if _is_section(arg):
            return arg
    return annotation
