"""One trial: a sample's overrides run through the pipeline once per fold, scored on validation.

Each fold composes `base + sample + split.fold=k`, runs validate .. cost in-process
(rarewatch.pipeline.inprocess.run_pipeline, whose cache shares data and trained models between trials
that differ only in later settings), reads the validation figure and throws the job directory away.
The pipeline's own errors (rarewatch.errors.RarewatchError: a fold without positives, a family that
needs them) propagate for the caller to record; a sample that no longer validates is the space file's
error (SpaceError).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rarewatch.config import Config, with_absolute_data_paths
from rarewatch.errors import RarewatchError
from rarewatch.search.composing import Composer, typed
from rarewatch.search.objective import aggregate, validation_figure, validation_positives
from rarewatch.search.space import SearchSpace, SpaceError


@dataclass(frozen=True)
class FoldResult:
    fold: int
    value: float
    val_positives: int
    model_reused: bool
    seconds: float


@dataclass(frozen=True)
class TrialResult:
    value: float
    folds: list[FoldResult]

    def user_attrs(self) -> dict[str, object]:
        """What the study records beside the value (validation only: no test figure is kept)."""
        return {
            "fold_values": {str(f.fold): f.value for f in self.folds},
            "val_positives": {str(f.fold): f.val_positives for f in self.folds},
            "models_reused": sum(f.model_reused for f in self.folds),
            "seconds": round(sum(f.seconds for f in self.folds), 2),
        }


def fold_config(composer: Composer, space: SearchSpace, overrides: list[str], fold: int, project: Path) -> Config:
    """The checked config of one fold of a sample; SpaceError if the space produced an invalid one."""
    every = [*space.base, *overrides, f"split.fold={fold}"]
    try:
        cfg = typed(composer.compose(every).params, source=" ".join(every))
    except RarewatchError as exc:
        raise SpaceError(
            f"the sample {' '.join(overrides)} does not make a valid config: {exc}; fix the space file"
        ) from None
    return with_absolute_data_paths(cfg, project)


def run_trial(
    composer: Composer,
    space: SearchSpace,
    overrides: list[str],
    project: Path,
    work_dir: Path,
    cache_root: Path,
    on_fold: Callable[[int], None] | None = None,
) -> TrialResult:
    from rarewatch.pipeline.inprocess import run_pipeline

    work_dir.mkdir(parents=True, exist_ok=True)
    results: list[FoldResult] = []
    for fold in space.folds:
        if on_fold is not None:
            on_fold(fold)
        cfg = fold_config(composer, space, overrides, fold, project)
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(dir=work_dir, prefix=f"fold{fold}-") as job:
                run = run_pipeline(cfg, Path(job), cache_root)
                eval_metrics = json.loads(run.paths.eval_metrics.read_text())
                cost_metrics = json.loads(run.paths.cost_metrics.read_text())
            value = validation_figure(space.objective, eval_metrics, cost_metrics)
        except RarewatchError as exc:
            # The data's fault, in this fold: say which (the caller records the trial as failed).
            raise type(exc)(f"fold {fold}: {exc}") from exc
        results.append(
            FoldResult(fold, value, validation_positives(eval_metrics), run.model_reused, time.perf_counter() - started)
        )
    return TrialResult(aggregate([r.value for r in results]), results)
