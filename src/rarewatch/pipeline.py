"""Run the stages in-process (what `rarewatch-sweep` does per job), reusing finished work.

`dvc repro` decides what to rerun from dvc.lock; a sweep has no lock file, so this module keys a
content cache on exactly the config sections each step reads (plus the package source, so a code
change is never served stale results):

- data  (ingest .. split):  data, preprocess, label_shift, split, seed
- model (train):            the data key, model, trainer, seed, categorical columns, NaN policy

Jobs that differ only in threshold or cost settings therefore share one trained model and only
rerun evaluate and cost, as `dvc repro` would.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rarewatch.config import Config, to_dict
from rarewatch.paths import Paths
from rarewatch.stages import cost, evaluate, ingest, label_shift, preprocess, split, train

_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PipelineResult:
    paths: Paths
    data_reused: bool
    model_reused: bool


def source_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def data_key(cfg: Config, code: str) -> str:
    c = to_dict(cfg)
    return _key("data", code, c["data"], c["preprocess"], c["label_shift"], c["split"], cfg.seed)


def model_key(cfg: Config, code: str) -> str:
    c = to_dict(cfg)
    trainer = {k: v for k, v in c["trainer"].items() if k != "progress_bar"}
    return _key(
        "model",
        data_key(cfg, code),
        c["model"],
        trainer,
        cfg.seed,
        cfg.data.categorical_columns,
        cfg.preprocess.nan_policy,
        cfg.preprocess.max_missing_fraction,
    )


def _cached(target: Path, build: Callable[[Path], None]) -> bool:
    """Build into a temporary directory and rename it to `target`; True if `target` already existed.

    Rename is atomic, so parallel jobs (joblib launcher) racing on one key never see half a result;
    the loser discards its copy.
    """
    if target.is_dir():
        return True
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return False


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        dst.unlink() if dst.is_symlink() or dst.is_file() else shutil.rmtree(dst)
    dst.symlink_to(src.resolve(), target_is_directory=src.is_dir())


def run_pipeline(cfg: Config, job_root: Path, cache_root: Path) -> PipelineResult:
    """ingest .. cost for one config; outputs under `job_root` in the same layout as `dvc repro`."""
    code = source_digest()
    data_dir = cache_root / f"data-{data_key(cfg, code)}"
    model_dir = cache_root / f"model-{model_key(cfg, code)}"

    def build_data(root: Path) -> None:
        for stage in (ingest, preprocess, label_shift, split):
            stage.execute(cfg, Paths(root))

    def build_model(root: Path) -> None:
        _link(Paths(data_dir).split("train").parent, Paths(root).split("train").parent)
        train.execute(cfg, Paths(root))
        Paths(root).split("train").parent.unlink()

    data_reused = _cached(data_dir, build_data)
    model_reused = _cached(model_dir, build_model)

    job = Paths(job_root)
    _link(Paths(data_dir).raw.parent, job.raw.parent)
    _link(Paths(data_dir).processed.parent, job.processed.parent)
    _link(Paths(data_dir).split("train").parent, job.split("train").parent)
    _link(Paths(model_dir).model_dir, job.model_dir)
    job.train_metrics.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Paths(model_dir).train_metrics, job.train_metrics)
    evaluate.execute(cfg, job)
    cost.execute(cfg, job)
    return PipelineResult(job, data_reused, model_reused)
