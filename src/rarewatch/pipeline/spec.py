"""The stage graph, declared once: what each stage reads (config keys, files) and writes.

dvc.yaml is generated from this (`python -m rarewatch.pipeline.dvcfile`, or `make dvc.yaml`) and a test
fails when the committed one differs. The same declarations serve three more purposes:

- the code deps of each stage are its module's import closure inside rarewatch (closure.py);
- every stage runs on a `ConfigView` that raises when it reads a key its `params` do not list, so
  the params DVC watches are exactly the ones the code reads;
- the sweep's cache keys hash exactly these params (rarewatch.pipeline.inprocess).

`untracked` keys are read but cannot change a stage's outputs (the progress bar): they are neither
DVC params nor part of a cache key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rarewatch.config import SECTIONS
from rarewatch.paths import Paths

REL = Paths(Path(""))  # paths relative to the project root, as dvc.yaml writes them


@dataclass(frozen=True)
class StageSpec:
    name: str
    params: tuple[str, ...]
    deps: tuple[Path, ...] = ()  # files or directories written by earlier stages
    outs: tuple[Path, ...] = ()  # cached outputs
    metrics: tuple[Path, ...] = ()  # small JSON files DVC compares, versioned by git (cache: false)
    untracked: tuple[str, ...] = ()
    always_changed: bool = False  # rerun on every `dvc repro` (its outputs decide what reruns after it)

    @property
    def module(self) -> str:
        return f"rarewatch.stages.{self.name}"


STAGES: tuple[StageSpec, ...] = (
    # Checks the whole config (every model family field too) and the input's header before any stage
    # replaces an output, so a bad `dvc exp run -S` leaves the previous results in place.
    StageSpec("validate", params=SECTIONS, outs=(REL.validated,), always_changed=True),
    StageSpec("ingest", params=("data",), deps=(REL.validated,), outs=(REL.raw.parent,)),
    StageSpec(
        "preprocess",
        params=(
            "preprocess.drop_constant",
            "preprocess.drop_duplicates",
            "preprocess.nan_policy",
            "preprocess.nonfinite",
            "data.categorical_columns",
            "data.time_column",
        ),
        deps=(REL.raw.parent,),
        outs=(REL.interim.parent,),
    ),
    StageSpec("label_shift", params=("label_shift",), deps=(REL.interim.parent,), outs=(REL.processed.parent,)),
    StageSpec(
        "features",
        params=("features", "data.max_gap", "data.categorical_columns"),
        deps=(REL.processed.parent,),
        outs=(REL.features.parent,),
    ),
    StageSpec(
        "split",
        params=("split", "seed", "data.time_unit"),
        deps=(REL.features.parent,),
        outs=(REL.split("train").parent,),
    ),
    StageSpec(
        "train",
        params=(
            "seed",
            "model",
            "trainer.accelerator",
            "trainer.devices",
            "trainer.strategy",
            "trainer.precision",
            "trainer.num_threads",
            "trainer.deterministic",
            "data.categorical_columns",
            "data.max_gap",
            "preprocess.nan_policy",
            "preprocess.nonfinite",
            "preprocess.max_missing_fraction",
            "preprocess.scaling",
        ),
        deps=(REL.split("train").parent,),
        outs=(REL.model_dir, REL.train_metrics, REL.timings),
        # What the train stage's MLflow run is named and where it goes (rarewatch.recording): no output
        # depends on them.
        untracked=("trainer.progress_bar", "tracking.uri", "tracking.experiment", "data.name"),
    ),
    StageSpec(
        "evaluate",
        params=(
            "smoothing",
            "threshold",
            "cost",
            "alarm",
            "evaluation",
            "label_shift.horizon",
            "data.time_column",
            "data.time_unit",
            "data.max_gap",
            "trainer.num_threads",
        ),
        deps=(REL.model_dir, REL.split("train").parent, REL.processed.parent),
        outs=(REL.scores("val").parent, REL.eval_plots, REL.eval_metrics),
    ),
    StageSpec(
        "cost",
        params=("cost", "alarm"),
        deps=(REL.scores("val").parent,),
        outs=(REL.cost_plots, REL.cost_metrics),
    ),
    # The headline figures DVC compares (exp show, metrics diff): small, git-tracked, one per experiment.
    StageSpec("summary", params=(), deps=(REL.eval_metrics, REL.cost_metrics), metrics=(REL.summary,)),
    # Logs the whole config, so it reads every section, and the splits as dataset inputs; its only output
    # is the MLflow run (run.json is a pointer to it, new every time, so not a DVC output).
    StageSpec(
        "track",
        params=SECTIONS,
        deps=(
            REL.validated,
            REL.raw.parent,
            REL.processed.parent,  # the served model's input columns and example rows (rarewatch.serving)
            REL.split("train").parent,
            REL.model_dir,
            REL.train_metrics,
            REL.timings,
            REL.eval_metrics,
            REL.cost_metrics,
            REL.summary,
            REL.eval_plots,
            REL.cost_plots,
        ),
    ),
)

BY_NAME = {s.name: s for s in STAGES}

# Outputs that differ from run to run by design (wall-clock figures); everything else reproduces.
VOLATILE = frozenset({REL.timings.as_posix()})

# The stages a sweep job caches as one unit, and the one that trains (rarewatch.pipeline.inprocess).
DATA_STAGES = ("ingest", "preprocess", "label_shift", "features", "split")
MODEL_STAGE = "train"


def stage(name: str) -> StageSpec:
    return BY_NAME[name]


def param_values(cfg_dict: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """{key: value} for dotted keys of a config dict (what DVC compares between runs)."""
    out = {}
    for key in keys:
        node: Any = cfg_dict
        for part in key.split("."):
            node = node[part]
        out[key] = node
    return out


class UndeclaredParamError(RuntimeError):
    """A stage read a config key its StageSpec does not list: dvc.yaml would not rerun it on a change."""


class ConfigView:
    """Read-only access to the config keys one stage declares (params and untracked).

    A whole section declared (`cost`) gives the real section object; a key below one (`data.time_column`)
    gives a view of the section that allows just that key. Anything else raises UndeclaredParamError.
    """

    def __init__(self, obj: Any, allowed: frozenset[str], stage_name: str, prefix: str = "") -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_allowed", allowed)
        object.__setattr__(self, "_stage", stage_name)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        key = self._prefix + name
        value = getattr(self._obj, name)
        if key in self._allowed:
            return value
        if any(a.startswith(key + ".") for a in self._allowed):
            return ConfigView(value, self._allowed, self._stage, key + ".")
        raise UndeclaredParamError(
            f"stage '{self._stage}' reads config key '{key}', which its params in rarewatch/pipeline/spec.py do "
            "not list; add it there and regenerate dvc.yaml (make dvc.yaml)"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the config is read-only")

    def __repr__(self) -> str:
        return f"ConfigView({self._stage}: {sorted(self._allowed)})"


def view(cfg: Any, spec: StageSpec) -> Any:
    """`cfg` as `spec`'s stage may see it (the config itself for a stage that declares every section)."""
    if set(SECTIONS) <= set(spec.params):
        return cfg
    return ConfigView(cfg, frozenset(spec.params + spec.untracked), spec.name)
