"""Run the stages in-process (what `rarewatch-sweep` does per job), reusing finished work.

`dvc repro` decides what to rerun from dvc.lock; a sweep has no lock file, so this module keys a
content cache on exactly the params the stages declare in rarewatch.pipeline.spec (the lists dvc.yaml
is generated from), plus the source files those stages can import, so a code change is never served
stale results:

- data  (ingest .. split): the params of those four stages and the sha256 of every input file (from
  the validate stage's record), so a data file overwritten in place is never served from the cache;
- model (train):           the data key and the params of train.

Jobs that differ only in threshold or cost settings therefore share one trained model and only
rerun evaluate and cost, as `dvc repro` would.

Parallel jobs (the joblib launcher, sweeps run side by side, benchmark processes) that need the same
entry take turns on a per-key file lock: one builds it, the others wait and reuse it. An entry is
built in a temporary directory and renamed into place, so a job killed mid-build (kill -9 included)
leaves no half-written entry, and its lock dies with it; the next builder of that key deletes the
killed build's temporary directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rarewatch.config import Config, to_dict
from rarewatch.file_lock import exclusive_lock
from rarewatch.paths import Paths
from rarewatch.pipeline import spec
from rarewatch.pipeline.closure import closure
from rarewatch.stages import cost, evaluate, features, ingest, label_shift, preprocess, split, summary, train, validate
from rarewatch.stages.runner import run_stage

log = logging.getLogger("rarewatch.pipeline")
_PACKAGE = Path(__file__).resolve().parents[1]
_MODULES = {
    "validate": validate,
    "ingest": ingest,
    "preprocess": preprocess,
    "label_shift": label_shift,
    "features": features,
    "split": split,
    "train": train,
    "evaluate": evaluate,
    "cost": cost,
    "summary": summary,
}


@dataclass(frozen=True)
class PipelineResult:
    paths: Paths
    data_reused: bool
    model_reused: bool


def code_digest(stages: tuple[str, ...]) -> str:
    """A hash of the source files `stages` can import (their dvc.yaml code deps): an edit elsewhere in the
    package (the search, the sweep, another family's docs) keeps the cache; an edit there never serves
    stale results."""
    h = hashlib.sha256()
    for path in sorted(closure([spec.stage(name).module for name in stages])):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_params(cfg: Config, names: tuple[str, ...]) -> dict[str, object]:
    """The declared params of stages `names`, with their values in `cfg`."""
    c = to_dict(cfg)
    return {k: v for name in names for k, v in spec.param_values(c, spec.stage(name).params).items()}


def data_key(cfg: Config, code: str, inputs: dict[str, object]) -> str:
    """`inputs` is the validate stage's record: the sha256 of every input file, so new contents miss."""
    return _key("data", code, inputs, stage_params(cfg, spec.DATA_STAGES))


def model_key(cfg: Config, data_code: str, model_code: str, inputs: dict[str, object]) -> str:
    return _key("model", data_key(cfg, data_code, inputs), model_code, stage_params(cfg, (spec.MODEL_STAGE,)))


def _cached(target: Path, build: Callable[[Path], None]) -> bool:
    """Build cache entry `target` unless it exists; True if it existed (reused).

    Under the entry's lock (`<target>.lock`), so of several jobs needing one entry exactly one builds
    it. `build` fills a temporary directory that is renamed to `target` only when it succeeds.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.with_name(f"{target.name}.lock")
    with exclusive_lock(lock, on_wait=lambda: log.info("waiting for another job building %s", target.name)):
        if target.is_dir():
            return True
        # Only a holder of this lock builds this entry, so a temporary directory of it that exists now
        # belongs to a build whose process died (kill -9, power loss) and will never finish.
        for leftover in target.parent.glob(f".{target.name}.*"):
            shutil.rmtree(leftover)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            build(tmp)
            os.rename(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    return False


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        dst.unlink() if dst.is_symlink() or dst.is_file() else shutil.rmtree(dst)
    dst.symlink_to(src.resolve(), target_is_directory=src.is_dir())


def _run(name: str, cfg: Config, paths: Paths) -> None:
    run_stage(name, _MODULES[name].execute, cfg, paths)


def run_pipeline(cfg: Config, job_root: Path, cache_root: Path) -> PipelineResult:
    """validate .. summary for one config; outputs under `job_root` in the same layout as `dvc repro`."""
    data_code = code_digest(spec.DATA_STAGES)
    model_code = code_digest((spec.MODEL_STAGE,))
    _run("validate", cfg, Paths(job_root))
    inputs = json.loads(Paths(job_root).validated.read_text())
    data_dir = cache_root / f"data-{data_key(cfg, data_code, inputs)}"
    model_dir = cache_root / f"model-{model_key(cfg, data_code, model_code, inputs)}"

    def build_data(root: Path) -> None:
        for name in spec.DATA_STAGES:
            _run(name, cfg, Paths(root))

    def build_model(root: Path) -> None:
        _link(Paths(data_dir).split("train").parent, Paths(root).split("train").parent)
        _run(spec.MODEL_STAGE, cfg, Paths(root))
        Paths(root).split("train").parent.unlink()

    data_reused = _cached(data_dir, build_data)
    model_reused = _cached(model_dir, build_model)

    job = Paths(job_root)
    _link(Paths(data_dir).raw.parent, job.raw.parent)
    _link(Paths(data_dir).processed.parent, job.processed.parent)
    _link(Paths(data_dir).split("train").parent, job.split("train").parent)
    _link(Paths(model_dir).model_dir, job.model_dir)
    job.train_metrics.parent.mkdir(parents=True, exist_ok=True)
    for metrics in (Paths(model_dir).train_metrics, Paths(model_dir).timings, Paths(model_dir).training_run):
        if metrics.exists():  # training_run.json: only when the model was trained in an MLflow run
            shutil.copyfile(metrics, job.root / metrics.relative_to(model_dir))
    _run("evaluate", cfg, job)
    _run("cost", cfg, job)
    _run("summary", cfg, job)
    return PipelineResult(job, data_reused, model_reused)
