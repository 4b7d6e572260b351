"""The search space file (conf/search/<name>.yaml): what `rarewatch-search` may vary, and how it scores.

A plain YAML file, read by the command (not a Hydra config group):

    name: paper_mill                 # the study's default name (letters, digits, _)
    objective: val_pr_lift           # val_pr_lift | val_pr_auc (maximised) | val_cost (minimised); validation only
    base: [+experiment=paper_mill_ae, split.method=rolling, split.folds=4]   # Hydra overrides
    folds: [0, 1, 2, 3]              # split.fold values; a trial's value is the mean over them
    sampler: {seed: 0, startup_trials: 10}
    dimensions:
      model:                         # a categorical whose options carry their own dimensions
        branches:
          pca: {model.variance: {type: float, low: 0.5, high: 0.99}}
          isolation_forest: {model.n_estimators: {type: int, low: 50, high: 400, log: true}}
      features.windows: {choices: [[5], [5, 15]]}   # a plain categorical (any YAML values)

A dimension is exactly one of `choices` (a list of values), `branches` (option -> the dimensions sampled
only when that option is chosen) or a range (`type: int | float`, `low`, `high`, optional `log`, `step`).
Keys are Hydra override keys: a config group (`model`, `features`) takes option names, any other key a
value. Every section is strict (pydantic, extra=forbid); errors name the key like rarewatch.config does.
Whether the sampled values compose and validate is checked against conf/ by rarewatch.search.checking.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field, model_validator

from rarewatch.config import validated
from rarewatch.errors import ConfigError
from rarewatch.section import Section

NAME_PATTERN = r"^[A-Za-z0-9_]+$"
# split.fold is set per fold by the command itself, from `folds`.
RESERVED_KEYS = ("split.fold",)


class SpaceError(ConfigError):
    """A search space file that cannot be used as written (a key, a value, or a sample that does not validate)."""


def _number(value: Any) -> Any:
    """Ranges take YAML numbers only (not '5' or true); ints become floats, `type: int` checks them."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return float(value)


Number = Annotated[float, BeforeValidator(_number)]


class Dimension(Section):
    choices: list[Any] | None = Field(default=None, min_length=1)
    branches: dict[str, dict[str, Dimension]] | None = Field(default=None, min_length=1)
    type: Literal["int", "float"] | None = None
    low: Number | None = None
    high: Number | None = None
    log: bool = False
    step: int | None = Field(default=None, ge=1, description="int ranges only: sample low, low+step, ...")

    def problem(self) -> str | None:
        """What is wrong with this dimension as a whole, or None (the caller names where it is)."""
        kinds = [k for k, v in (("choices", self.choices), ("branches", self.branches), ("type", self.type)) if v]
        if len(kinds) != 1:
            return (
                "needs exactly one of 'choices' (a list), 'branches' (option -> dimensions) or 'type' (int or "
                f"float, with low and high); got {', '.join(kinds) or 'none of them'}"
            )
        if self.choices is not None:
            return next((f"choices[{i}] is {v!r}; {p}" for i, v in enumerate(self.choices) if (p := _bad(v))), None)
        if self.type is None:
            if self.low is not None or self.high is not None or self.step is not None or self.log:
                return "'low', 'high', 'log' and 'step' belong to ranges ('type: int' or 'type: float')"
            return None
        return self._range_problem()

    def _range_problem(self) -> str | None:
        if self.low is None or self.high is None:
            return f"a 'type: {self.type}' range needs 'low' and 'high'"
        if self.type == "int" and not (self.low.is_integer() and self.high.is_integer()):
            return f"'type: int' needs integer low and high; got low={self.low:g}, high={self.high:g}"
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            return f"'low' ({self.low:g}) must be below 'high' ({self.high:g})"
        if self.log and self.low <= 0:
            return f"'log: true' needs low > 0; got low={self.low:g}"
        if self.step is not None and (self.type != "int" or self.log):
            return "'step' applies to int ranges without 'log' only"
        return None


def _bad(value: Any) -> str | None:
    """Why a choice value cannot be one (None if it can): scalars, or flat lists of scalars."""
    scalar = (str, int, float, bool, type(None))
    if isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value)):
        return None
    return "a choice must be a scalar or a flat list of scalars (a mapping cannot be one choice)"


class Sampler(Section):
    seed: int = Field(ge=0, description="the TPE sampler's seed: the same command on a new storage repeats")
    startup_trials: int = Field(ge=1, description="random trials before TPE models the results")


class SearchSpace(Section):
    name: str = Field(pattern=NAME_PATTERN, description="letters, digits and _ (it names the experiment file)")
    objective: Literal["val_pr_lift", "val_pr_auc", "val_cost"]
    base: list[str]
    folds: list[int] = Field(min_length=1)
    sampler: Sampler
    dimensions: dict[str, Dimension] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SearchSpace:
        if any(f < 0 for f in self.folds) or len(set(self.folds)) != len(self.folds):
            raise ConfigError(f"'folds' must be distinct split.fold values >= 0; got {self.folds}")
        for override in self.base:
            if override.split("=", 1)[0].lstrip("+~") in RESERVED_KEYS:
                raise ConfigError(f"'base' sets {override!r}; the folds come from 'folds' (e.g. folds: [0, 1, 2, 3])")
        _check_keys(self.dimensions, path=(), seen=())
        return self

    def fingerprint(self) -> str:
        """Identifies what trials mean: a resumed study must have been made from the same space."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return "minimize" if self.objective == "val_cost" else "maximize"


def _check_keys(dimensions: dict[str, Dimension], path: tuple[str, ...], seen: tuple[str, ...]) -> None:
    """Each dimension well formed; no reserved key, and no key set twice along one branch (the later
    value would silently win)."""
    for key, dim in dimensions.items():
        where = "dimensions" + "".join(f".{p}" for p in (*path, key))
        if (problem := dim.problem()) is not None:
            raise ConfigError(f"{where}: {problem}")
        if key in RESERVED_KEYS:
            raise ConfigError(f"{where}: '{key}' is set by the command from 'folds'; remove this dimension")
        if key in seen:
            raise ConfigError(f"{where}: '{key}' is already varied by an enclosing dimension; keep one of them")
        for option, children in (dim.branches or {}).items():
            _check_keys(children, (*path, key, "branches", option), (*seen, key))


def load_space(path: Path) -> SearchSpace:
    """Read and check a space file; raises SpaceError naming the file and the key."""
    if not path.is_file():
        raise SpaceError(f"search space file '{path}' not found; see conf/search/ for examples")
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpaceError(f"search space file '{path}' is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SpaceError(f"search space file '{path}': expected a mapping at the top level, got {type(raw).__name__}")
    try:
        if isinstance(raw.get("dimensions"), dict):
            _check_dimension_keys(raw["dimensions"], "dimensions")
        return validated(SearchSpace, raw)
    except ConfigError as exc:
        raise SpaceError(f"search space file '{path}': {_space_wording(str(exc))}") from None


def _check_dimension_keys(dimensions: dict[str, Any], where: str) -> None:
    """Unknown keys inside a dimension, with the closest allowed one (pydantic's path stops at dict keys)."""
    allowed = list(Dimension.model_fields)
    for key, dim in dimensions.items():
        if not isinstance(dim, dict):
            continue  # pydantic reports it ("must be a mapping")
        for field in dim:
            if field not in allowed:
                close = difflib.get_close_matches(str(field), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                raise ConfigError(f"unknown key '{where}.{key}.{field}' ({hint})")
        branches = dim.get("branches")
        for option, children in branches.items() if isinstance(branches, dict) else ():
            if isinstance(children, dict):
                _check_dimension_keys(children, f"{where}.{key}.branches.{option}")


def _space_wording(message: str) -> str:
    """rarewatch.config's messages speak of params.yaml; here the key is in the space file."""
    message = message.replace("config key '", "key '")
    return message.replace(
        "add it to params.yaml (or to conf/ and rerun `dvc exp run` or `make params`, which recompose params.yaml)",
        "add it to the space file",
    )
