"""How one MLflow run records one pipeline execution, across the separate processes of `dvc repro`.

`dvc repro` runs each stage in its own process, and may skip any of them, so the run is built in two
steps (docs/architecture.md, "One MLflow run per pipeline execution"):

1. The train stage opens the run (named `model · data · DVC experiment`, with the git tags), streams
   the curves into it through Lightning's MLflow logger while the model trains, and ends it with the
   tag rarewatch.record=training. It tags the run with the sha256 of the model it wrote and leaves a
   pointer to the run in metrics/training_run.json: beside the DVC outputs, never one of them, so the
   outputs stay byte for byte reproducible.
2. The track stage completes that run (config, dataset inputs, metrics, plots, model; record=complete)
   when the pointer names the model now in models/ and the run is not complete yet. Otherwise the model
   was not trained by this execution (DVC kept it, say, because only the cost settings changed): track
   starts a new run, links it to the training run of that model (rarewatch.training_run_id, found by
   the pointer or by the model's sha256 in the store) and copies its curves, so every run is complete.

A sweep job already has its run for its whole life (rarewatch.sweep): it hands that run to the train
stage with `recording_into`, so the curves stream into the job's run; a job whose model came from the
sweep's cache gets the curves of the job that trained it, the same way as step 2.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rarewatch import tracking
from rarewatch.artifacts import write_json
from rarewatch.models import curves
from rarewatch.paths import Paths

RECORD_TAG = "rarewatch.record"  # training: only the training is recorded yet; complete: the whole execution
TRAINING_RUN_TAG = "rarewatch.training_run_id"  # on a run whose model another run trained
MODEL_TAG = "rarewatch.model_sha256"  # on the run that trained the model: the sha256 of models/
REUSE_TAG = "rarewatch.model"  # trained (in this run) or reused (trained by another run)


@dataclass(frozen=True)
class RunRef:
    uri: str
    experiment_id: str
    run_id: str


_GIVEN: ContextVar[RunRef | None] = ContextVar("rarewatch_run", default=None)


@contextmanager
def recording_into(run: RunRef) -> Iterator[None]:
    """The train stage, run inside the block, streams its curves into `run` and tags it with the model it
    wrote: a sweep job's run, or the one `stage_run` opened under DVC."""
    token = _GIVEN.set(run)
    try:
        yield
    finally:
        _GIVEN.reset(token)


def store_root(root: Path) -> Path:
    """Where the default store (mlflow.db) lives: DVC_ROOT under DVC, which for `dvc exp run --temp` and
    `--queue` is the workspace the experiment came from, not the temporary copy DVC deletes afterwards."""
    return Path(os.environ.get("DVC_ROOT") or root).resolve()


def open_store(uri: str | None, experiment: str, root: Path) -> tuple[str, str]:
    """The store's URI (tracking.uri, else $MLFLOW_TRACKING_URI, else <store_root>/mlflow.db) and the
    experiment's id."""
    base = store_root(root)
    resolved = tracking.resolve_uri(uri, base)
    return resolved, tracking.ensure_store(resolved, experiment, base)


def model_sha256(directory: Path) -> str:
    """One hash of every file in a model directory (names and contents): the same model, the same hash."""
    h = hashlib.sha256()
    for path in sorted(p for p in directory.resolve().rglob("*") if p.is_file()):
        h.update(path.relative_to(directory.resolve()).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


# ------------------------------------------------------------------------------------ the train stage


@contextmanager
def stage_run(cfg: Any, paths: Paths) -> Iterator[RunRef]:
    """A new run for the train stage under DVC, given to the stage inside the block (`recording_into`).

    Named `model · data · DVC experiment` (reads tracking.uri, tracking.experiment, model.name and
    data.name), with the git tags and rarewatch.record=training; ended FINISHED when the block ends, or
    FAILED if training fails. The track stage completes it.
    """
    uri, experiment_id = open_store(cfg.tracking.uri, cfg.tracking.experiment, paths.root)
    name = tracking.run_name(cfg.model.name, cfg.data.name)
    tags = {**tracking.git_tags(paths.root), RECORD_TAG: "training", REUSE_TAG: "trained"}
    run = RunRef(uri, experiment_id, tracking.start_run(uri, experiment_id, name, tags))
    with tracking.ending_run(uri, run.run_id), recording_into(run):
        yield run


@contextmanager
def streaming_curves() -> Iterator[RunRef | None]:
    """Inside the block, Lightning fits stream their curves into the given run (None: no run given, as
    for tests and benchmarks calling the stages directly: nothing is recorded)."""
    given = _GIVEN.get()
    if given is None:
        yield None
        return
    with curves.streaming_to(partial(tracking.epoch_logger, given.uri, given.run_id)):
        yield given


def record_trained_model(run: RunRef, paths: Paths) -> None:
    """Tag `run` with the sha256 of the model in `paths`, and point to `run` from paths.training_run."""
    from mlflow import MlflowClient

    digest = model_sha256(paths.model_dir)
    MlflowClient(run.uri).set_tag(run.run_id, MODEL_TAG, digest)
    pointer = {"run_id": run.run_id, "experiment_id": run.experiment_id, "tracking_uri": run.uri}
    write_json({**pointer, "model_sha256": digest}, paths.training_run)


# ------------------------------------------------------------------------------------ the track stage


@dataclass(frozen=True)
class TrainingRun:
    """The run that trained a model: its id, tags and params, and whether this workspace's pointer named it."""

    run_id: str
    tags: dict[str, str]
    params: dict[str, str]
    from_pointer: bool


def _pointer(paths: Paths, uri: str, digest: str) -> str | None:
    """The run paths.training_run names, if it trained the model now in `paths` and is in store `uri`."""
    if not paths.training_run.is_file():
        return None
    pointer = json.loads(paths.training_run.read_text())
    if pointer.get("model_sha256") != digest or pointer.get("tracking_uri") != uri:
        return None
    return str(pointer["run_id"])


def training_run_of(uri: str, experiment_id: str, paths: Paths) -> TrainingRun | None:
    """The run of experiment `experiment_id` that trained the model in `paths`; None if the store has none.

    The pointer first (exact even when several runs trained identical models); else the newest run
    tagged with the model's sha256 (a model DVC restored from its cache, or trained in another copy of
    the repository).
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(uri)
    digest = model_sha256(paths.model_dir)
    run_id = _pointer(paths, uri, digest)
    if run_id is not None:
        try:
            run = client.get_run(run_id)
        except MlflowException:  # deleted for good (mlflow gc), or never in this store
            run = None
        if run is not None and run.info.lifecycle_stage == "active" and run.info.experiment_id == experiment_id:
            return TrainingRun(run_id, run.data.tags, run.data.params, from_pointer=True)
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{MODEL_TAG}` = '{digest}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not found:
        return None
    return TrainingRun(found[0].info.run_id, found[0].data.tags, found[0].data.params, from_pointer=False)


def add_curves(uri: str, run_id: str, paths: Paths, trained_by: TrainingRun | None) -> None:
    """The curves of a run whose model another run trained: copied from that run (and the link tagged),
    or, when the store does not hold it, logged from metrics/train.json's history."""
    from mlflow import MlflowClient

    if trained_by is not None:
        tracking.copy_curves(uri, trained_by.run_id, run_id)
        MlflowClient(uri).set_tag(run_id, TRAINING_RUN_TAG, trained_by.run_id)
    else:
        tracking.log_history(uri, run_id, json.loads(paths.train_metrics.read_text()).get("history", []))


def _completes(trained_by: TrainingRun | None, cfg: Any) -> bool:
    """Whether this execution completes `trained_by`: this workspace's train stage opened it, nothing
    completed it yet, and the params a failed earlier attempt logged to it (MLflow params are
    immutable) agree with this config."""
    if trained_by is None or not trained_by.from_pointer or trained_by.tags.get(RECORD_TAG) != "training":
        return False
    params = tracking.flat_params(cfg)
    return all(params.get(k) == v for k, v in trained_by.params.items())


def complete_run(
    cfg: Any, paths: Paths, also: Callable[[str, str, str], dict[str, str]] | None = None
) -> dict[str, str]:
    """Record this pipeline execution: complete the train stage's run, or start one linked to the run
    that trained the model (module docstring). Returns what metrics/run.json holds.

    `also(uri, run_id, experiment_id)` logs more into the run before it ends (the track stage's served
    model) and returns entries for that record; it is passed in so that the train stage, which imports
    this module, does not depend on the serving code."""
    uri, experiment_id = open_store(cfg.tracking.uri, cfg.tracking.experiment, paths.root)
    trained_by = training_run_of(uri, experiment_id, paths)
    own = _completes(trained_by, cfg)
    if own and trained_by is not None:
        run_id = trained_by.run_id
    else:
        name = tracking.run_name(cfg.model.name, cfg.data.name)
        run_id = tracking.start_run(uri, experiment_id, name, {**tracking.git_tags(paths.root), REUSE_TAG: "reused"})
    with tracking.ending_run(uri, run_id):
        tracking.log_config(uri, run_id, cfg)
        tracking.log_results(uri, run_id, cfg, paths, {RECORD_TAG: "complete"}, model_reused=not own)
        if not own:
            add_curves(uri, run_id, paths, trained_by)
        extra = also(uri, run_id, experiment_id) if also is not None else {}
    info = {"run_id": run_id, "experiment_id": experiment_id, "tracking_uri": uri, **extra}
    if not own and trained_by is not None:
        info["training_run_id"] = trained_by.run_id
    return info
