"""A search space walked into Hydra overrides: the one place that turns choices into `key=value`.

`sample(trial, dimensions)` asks an Optuna trial (a live one, or `optuna.trial.FixedTrial` in tests) for
each dimension in file order. A `branches` dimension asks for its option first and then only for the
dimensions under that option, so a family's hyper-parameters exist in a trial only when that family
was chosen. Optuna parameter names carry the branch they live in (`model.variance [model=pca]`), so two
families may vary a key of the same name over different ranges without sharing a distribution.

`walk(dimensions, pick)` is the same walk with any chooser; rarewatch.search.checking uses it to build
the probe samples it validates before a study starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rarewatch.search.space import Dimension

# Strings Hydra reads back as themselves without quotes; anything else is quoted.
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_HYDRA_WORDS = {"null", "true", "false", "nan", "inf"}

# pick(param_name, dimension) -> an option name (branches), a rendered choice (choices), an int, or a
# rendered float.
Pick = Callable[[str, Dimension], Any]


def render(value: Any) -> str:
    """A value as Hydra's override grammar reads it back (`[5,15]`, `null`, `'a b'`, `0.001`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _HYDRA_WORDS:
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def param_name(key: str, context: tuple[str, ...]) -> str:
    """`model.variance [model=pca]`: the key, and the branch options it is conditional on."""
    return f"{key} [{', '.join(context)}]" if context else key


def int_bounds(dim: Dimension) -> tuple[int, int]:
    """The reachable int range: with a step, high is lowered to the last value on the grid (as Optuna does)."""
    assert dim.low is not None and dim.high is not None  # a checked range (space.Dimension.problem)
    low, high = int(dim.low), int(dim.high)
    step = dim.step or 1
    return low, low + (high - low) // step * step


def walk(dimensions: dict[str, Dimension], pick: Pick, context: tuple[str, ...] = ()) -> list[str]:
    """Overrides for one sample, parents before the dimensions conditional on them."""
    overrides: list[str] = []
    for key, dim in dimensions.items():
        value = pick(param_name(key, context), dim)
        if dim.branches is None:
            overrides.append(f"{key}={value}")  # choices come rendered, ranges as numbers
            continue
        overrides.append(f"{key}={render(value)}")
        overrides += walk(dim.branches[value], pick, (*context, f"{key}={value}"))
    return overrides


def sample(trial: Any, dimensions: dict[str, Dimension]) -> list[str]:
    """Ask `trial` (an optuna Trial or FixedTrial) for every active dimension; the overrides it chose."""

    def pick(name: str, dim: Dimension) -> Any:
        if dim.branches is not None:
            return trial.suggest_categorical(name, list(dim.branches))
        if dim.choices is not None:
            # Optuna stores scalar choices only: lists (hidden_dims) go in as their override text.
            return trial.suggest_categorical(name, [render(v) for v in dim.choices])
        assert dim.low is not None and dim.high is not None
        if dim.type == "int":
            low, high = int_bounds(dim)
            return trial.suggest_int(name, low, high, step=dim.step or 1, log=dim.log)
        return render(trial.suggest_float(name, dim.low, dim.high, log=dim.log))

    return walk(dimensions, pick)
