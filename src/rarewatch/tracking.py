"""The one module that talks to MLflow.

A pipeline execution becomes one MLflow run, assembled from the files the stages wrote (config,
metrics, plots, model, data hash). Logging from files rather than from inside each stage means a
partial `dvc repro` (say, only `cost` after a cost-matrix change) still yields a complete,
comparable run.

Every process opens the store through `ensure_store` (which creates a sqlite store once, under a
lock between processes), and runs are started and ended explicitly by id, never as MLflow's
"active run": a sweep job's run exists from the job's start and ends FINISHED, FAILED (the job
raised) or KILLED (interrupted), so no run is left RUNNING by a job that failed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rarewatch.config import Config, flatten, to_dict
from rarewatch.data.sources import file_sha256
from rarewatch.errors import ConfigError, RarewatchError
from rarewatch.file_lock import exclusive_lock
from rarewatch.paths import Paths

if TYPE_CHECKING:
    from mlflow import MlflowClient

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def resolve_uri(uri: str | None, root: Path) -> str:
    """Config value, else $MLFLOW_TRACKING_URI, else an absolute SQLite file in the project root.

    Absolute, because a relative sqlite path inside `dvc exp run --queue`'s temporary copy of the
    repository would silently vanish with it; and never ./mlruns, which MLflow 3.13+ refuses.
    """
    if uri:
        return uri
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root.resolve() / 'mlflow.db'}"


def _client(uri: str) -> MlflowClient:
    from mlflow import MlflowClient  # importing mlflow costs seconds; only tracking code pays it

    return MlflowClient(uri)


def sqlite_file(uri: str) -> Path | None:
    """The database file of a sqlite store URI; None for servers, other databases and in-memory sqlite."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve()


def ensure_store(uri: str, experiment: str, root: Path) -> str:
    """Open the store (creating and migrating a sqlite store's tables once) and the experiment; its id.

    MLflow creates and migrates a sqlite store's tables the first time a process opens it, with no
    lock between processes: sweeps started together on a fresh project corrupted the store
    (`table _alembic_tmp_experiments already exists`, CircularDependencyError). So every rarewatch
    process opens a sqlite store here, holding an flock on `<db>.lock` beside the database while the
    tables are created or migrated and the experiment is created. A server store needs no lock.

    With a local store the experiment gets its artifacts in <root>/mlartifacts: MLflow's default is
    ./mlruns, and a stray ./mlruns directory flips MLflow's default store back to the refused file store.
    A tracking server (http or https) keeps its own artifact store (`mlflow server --serve-artifacts`):
    there the experiment takes the server's default, so every machine logs to the same place.
    """
    # MLflow announces creating and migrating the tables at INFO on its own handler: two extra lines in
    # a stage's one-line log, the first time a store is opened.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    db = sqlite_file(uri)
    if db is None:
        return _experiment(uri, experiment, root)
    if not db.parent.is_dir():
        raise ConfigError(
            f"tracking store '{uri}': directory '{db.parent}' does not exist; create it, or set tracking.uri "
            "(or MLFLOW_TRACKING_URI) to a sqlite file in an existing directory"
        )
    with exclusive_lock(db.with_name(db.name + ".lock")):
        return _experiment(uri, experiment, root)


def is_server(uri: str) -> bool:
    """A tracking server (mlflow server), reached over HTTP: it has its own artifact store."""
    return uri.startswith(("http://", "https://"))


def artifact_location(uri: str, root: Path) -> str | None:
    """Where a new experiment keeps its artifacts: the server's choice for a server, else <root>/mlartifacts."""
    return None if is_server(uri) else (root.resolve() / "mlartifacts").as_uri()


def _experiment(uri: str, name: str, root: Path) -> str:
    from mlflow.exceptions import MlflowException

    client = _client(uri)  # opens the store: this is where MLflow creates or migrates its tables
    exp = client.get_experiment_by_name(name)
    if exp is None:
        try:
            return client.create_experiment(name, artifact_location=artifact_location(uri, root))
        except MlflowException as exc:
            # A server store has no file lock: another process may have created it since the lookup.
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            exp = client.get_experiment_by_name(name)
            if exp is None:
                raise
    if exp.lifecycle_stage == "deleted":
        raise ConfigError(
            f"MLflow experiment '{name}' (tracking.experiment) is deleted in '{uri}'; restore it "
            f"(mlflow experiments restore --experiment-id {exp.experiment_id}) or choose another tracking.experiment"
        )
    return exp.experiment_id


# Early-warning figures under the alarm policy (eval.json's early_warning block); lead times are in
# minutes for datetime data, rows otherwise (lead_time_unit there). None values are skipped.
EARLY_WARNING_METRICS = (
    "events",
    "events_caught",
    "event_recall",
    "lead_time_median",
    "lead_time_q1",
    "lead_time_q3",
    "alarms",
    "false_alarms",
    "false_alarms_per_day",
    "false_alarms_per_1000_rows",
    "alarms_per_event",
)


def metric_values(
    eval_m: dict[str, Any], cost_m: dict[str, Any], train_m: dict[str, Any], timings: dict[str, Any]
) -> dict[str, float]:
    """The flat metric names every run carries, so runs compare column by column in the UI."""
    out: dict[str, Any] = {}
    for split in ("val", "test"):
        for key in ("roc_auc", "pr_auc", "pr_auc_no_skill"):
            out[f"{split}.{key}"] = eval_m[split][key]
    for name, entry in eval_m["thresholds"].items():
        out[f"threshold.{name}"] = entry["value"]
        for split in ("val", "test"):
            for key, value in (entry[split] or {}).items():
                if key == "by_group":
                    for group, g in value.items():
                        out[f"{split}.{name}.recall.{_metric_safe(group)}"] = g["recall"]
                elif key == "early_warning":
                    for ew_key in EARLY_WARNING_METRICS:
                        out[f"{split}.{name}.{ew_key}"] = value.get(ew_key)
                else:
                    out[f"{split}.{name}.{key}"] = value
    for key in (
        "best_threshold",
        "val_cost",
        "val_no_alarm_cost",
        "test_cost",
        "test_no_alarm_cost",
        "test_savings",
        "test_savings_fraction",
    ):
        out[f"cost.{key}"] = cost_m[key]
    for key in ("val_false_alarms", "test_false_alarms"):  # only with false_alarm_pricing=per_alarm
        out[f"cost.{key}"] = cost_m.get(key)
    for key in ("epochs", "final_train_loss", "final_val_loss"):
        out[f"train.{key}"] = train_m.get(key)
    for key in ("train_seconds", "samples_per_second"):
        out[f"train.{key}"] = timings.get(key)
    return {k: float(v) for k, v in out.items() if v is not None}


RunStatus = Literal["FINISHED", "FAILED", "KILLED"]
ERROR_TAG = "rarewatch.error"


RUN_NAME_LIMIT = 250  # MLflow's runs.name column is VARCHAR(250): PostgreSQL refuses longer names, sqlite does not


def short_run_name(name: str) -> str:
    """`name` cut to what every MLflow store keeps (a sweep's overrides can be longer; they are params too)."""
    return name if len(name) <= RUN_NAME_LIMIT else name[: RUN_NAME_LIMIT - 1] + "…"


def start_run(
    uri: str,
    experiment_id: str,
    run_name: str,
    tags: dict[str, str],
    parent_run_id: str | None = None,
) -> str:
    """A new RUNNING run (nested under `parent_run_id` if given); its id.

    Runs are created and ended explicitly (no active run in the process), so a sweep's jobs that share
    a process never see each other's run, and a job that fails can still mark its own run FAILED.
    """
    from mlflow.tracking.context.git_context import GitRunContext
    from mlflow.tracking.context.registry import resolve_tags

    if parent_run_id is not None:
        tags = {**tags, "mlflow.parentRunId": parent_run_id}
    # What mlflow.start_run would add (user, source name and type), except MLflow's git commit: that is
    # the commit of the directory holding the entry-point script (the virtualenv's), not of the project
    # (git_tags gives the project's).
    run = _client(uri).create_run(
        experiment_id,
        run_name=short_run_name(run_name),
        # MLflow annotates `ignore` as providers but compares with isinstance: it takes classes.
        tags=resolve_tags(tags, ignore=[GitRunContext]),  # type: ignore[list-item]
    )
    return run.info.run_id


def log_config(uri: str, run_id: str, cfg: Config) -> None:
    """The whole config: as flat params (to compare runs column by column) and as config.yaml."""
    from mlflow.entities import Param

    client = _client(uri)
    params = [Param(k, v) for k, v in flat_params(cfg).items()]
    client.log_batch(run_id, params=params)
    client.log_dict(run_id, to_dict(cfg), "config.yaml")


def flat_params(cfg: Config) -> dict[str, str]:
    """The config as MLflow params: dotted keys, values as MLflow stores them."""
    return {k: _param(v) for k, v in flatten(to_dict(cfg)).items()}


def log_results(
    uri: str,
    run_id: str,
    cfg: Config,
    paths: Paths,
    tags: dict[str, str] | None = None,
    model_reused: bool = False,
) -> None:
    """Metrics, dataset inputs, metric files, plots and (tracking.log_model) the model under `paths`.

    Not the per-epoch curves: rarewatch.recording streams them while training, or copies them from
    the run that trained a reused model.

    `model_reused`: this run's model was trained by another run (a sweep's cache), so its wall-clock
    training figures are not this run's and are not logged.
    """
    from mlflow.entities import Metric, RunTag

    client = _client(uri)
    eval_m = json.loads(paths.eval_metrics.read_text())
    cost_m = json.loads(paths.cost_metrics.read_text())
    train_m = json.loads(paths.train_metrics.read_text())
    timings = {} if model_reused else json.loads(paths.timings.read_text())
    all_tags = {
        "data.sha256": file_sha256(paths.raw),
        "dataset": cfg.data.name,
        "model": cfg.model.name,
        **result_tags(eval_m, cost_m),
    }
    all_tags.update(tags or {})
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in metric_values(eval_m, cost_m, train_m, timings).items()]
    client.log_batch(run_id, metrics=metrics, tags=[RunTag(k, v) for k, v in all_tags.items()])
    log_datasets(uri, run_id, cfg, paths)
    client.log_dict(run_id, eval_m, "metrics/eval.json")
    client.log_dict(run_id, cost_m, "metrics/cost.json")
    for directory in (paths.eval_plots, paths.cost_plots):
        for png in sorted(directory.glob("*.png")):
            client.log_artifact(run_id, str(png), "plots")
    if cfg.tracking.log_model:
        # The raw files; "model" is the MLflow model the track stage logs (rarewatch.serving.logged_model).
        client.log_artifacts(run_id, str(paths.model_dir), "model_files")


def log_summary(uri: str, run_id: str, texts: dict[str, str], metrics: dict[str, float]) -> None:
    """Text artifacts ({artifact file: content}) and metrics of a run (a sweep's table and best cost)."""
    client = _client(uri)
    for name, text in texts.items():
        client.log_text(run_id, text, name)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)


def end_run(uri: str, run_id: str, status: RunStatus, error: str | None = None) -> None:
    """End a run with `status`; `error` (one line) becomes its rarewatch.error tag."""
    client = _client(uri)
    if error is not None:
        client.set_tag(run_id, ERROR_TAG, error[:5000])
    client.set_terminated(run_id, status)


def running_children(uri: str, experiment_id: str, parent_run_id: str) -> list[str]:
    """The ids of the runs nested under `parent_run_id` that are still RUNNING."""
    runs = _client(uri).search_runs(
        [experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}' and attributes.status = 'RUNNING'",
        max_results=50_000,
    )
    return [r.info.run_id for r in runs]


@contextmanager
def ending_run(uri: str, run_id: str, status: RunStatus | None = "FINISHED") -> Iterator[None]:
    """End the run with `status` when the block succeeds (None: leave it running), FAILED when it raises,
    KILLED when it is interrupted.

    If ending the run fails as well, that is added to the block's exception as a note (not lost).
    """
    try:
        yield
    except BaseException as exc:
        failed_status: RunStatus = "FAILED" if isinstance(exc, Exception) else "KILLED"
        try:
            end_run(uri, run_id, failed_status, error_line(exc))
        except Exception as end_exc:
            exc.add_note(f"(and marking MLflow run {run_id} {failed_status} failed: {error_line(end_exc)})")
        raise
    if status is not None:
        end_run(uri, run_id, status)


def error_line(exc: BaseException) -> str:
    """An error on one line: rarewatch's own message for bad input, else the exception's type and message."""
    if isinstance(exc, RarewatchError):
        text = str(exc)
    elif isinstance(exc, SystemExit):
        text = f"exited with code {exc.code}"
    elif not isinstance(exc, Exception):  # Ctrl-C, SIGTERM
        text = f"interrupted ({exc})" if str(exc) else "interrupted"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return " ".join(" ".join([text, *getattr(exc, "__notes__", [])]).split())


def result_tags(eval_m: dict[str, Any], cost_m: dict[str, Any]) -> dict[str, str]:
    """Tags that say how far the numbers can be trusted: degenerate flags and unreliable AUCs."""
    flags = [f["code"] for f in [*eval_m.get("degenerate", []), *cost_m.get("degenerate", [])]]
    tags = {"rarewatch.degenerate": str(bool(flags)).lower()}
    if flags:
        tags["rarewatch.flags"] = ", ".join(flags)[:5000]
    for split in ("val", "test"):
        if eval_m[split].get("note"):
            tags[f"{split}.auc_note"] = eval_m[split]["note"]
    shift = eval_m.get("label_shift")
    if shift:
        tags["label_shift"] = f"H={shift['horizon']}" + ("" if shift["horizon_stated"] else " (not stated)")
    return tags


def _metric_safe(name: str) -> str:
    """MLflow metric names allow letters, digits, _ - . space / only (attack types end in '.')."""
    return re.sub(r"[^\w\-. /]", "_", name).strip(". ") or "_"


def _param(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return text[:6000]


# Files the pipeline itself rewrites during a run: `dvc exp run -S` edits params.yaml, every stage
# DVC runs rewrites dvc.lock, and the summary stage writes metrics/summary.json. A change to these is
# the run's own doing (and the config is logged whole), so it does not make the source dirty.
PIPELINE_WRITTEN = ("dvc.lock", "params.yaml", "metrics/summary.json")


def git_tags(root: Path) -> dict[str, str]:
    """The project's commit, and whether tracked files differ from it (git.dirty, with git.changed naming
    up to 20 of them); PIPELINE_WRITTEN files are not counted. Untracked files never count.

    `--no-optional-locks`: DVC runs git commands in the same repository while its stages run, and
    `git status` would otherwise take the index lock to refresh its stat cache.
    """

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "--no-optional-locks", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {}
    excluded = [f":(exclude){name}" for name in PIPELINE_WRITTEN]
    status = git("status", "--porcelain", "-z", "--untracked-files=no", "--", ".", *excluded)
    changed = []
    entries = iter((status or "").split("\0"))
    for entry in entries:  # "XY path"; a rename or copy is followed by its old path
        if len(entry) > 3:
            changed.append(entry[3:])
            if entry[0] in "RC":
                next(entries, None)
    tags = {"mlflow.source.git.commit": commit.strip(), "git.dirty": str(bool(changed)).lower()}
    if changed:
        tags["git.changed"] = ", ".join(changed[:20]) + (f" (+{len(changed) - 20} more)" if len(changed) > 20 else "")
    return tags


def run_name(model: str, data: str) -> str:
    """`dense_ae · synthetic · exp-abc12`: the model, the data and the DVC experiment (DVC_EXP_NAME, set by
    `dvc exp run`; "workspace" for a plain `dvc repro`, as `dvc exp show` calls it)."""
    return f"{model} · {data} · {os.environ.get('DVC_EXP_NAME') or 'workspace'}"


# ----------------------------------------------------------------------------------- dataset inputs

SPLIT_CONTEXTS = {"train": "training", "val": "validation", "test": "testing"}


def data_source(cfg: Config, paths: Paths) -> tuple[Any, dict[str, Any]]:
    """The MLflow source of the data (the URL, the data file, or the generated rows) and what rarewatch
    adds to it: the content hash of that file and of every input file (the validate stage's record)."""
    from mlflow.data.http_dataset_source import HTTPDatasetSource

    from rarewatch.config import resolve_data_path

    d = cfg.data
    files = json.loads(paths.validated.read_text())["files"]
    by_key = {f["key"]: f["sha256"] for f in files}
    if d.source == "url" and d.url is not None:
        return HTTPDatasetSource(d.url), {"sha256": d.sha256, "files": files}
    if d.source == "file" and d.path is not None:
        path = resolve_data_path(d, d.path, paths.root)
        return _local_source(path), {"sha256": by_key.get("data.path"), "files": files}
    # Synthetic rows exist first as the ingest stage's output.
    raw = paths.raw.resolve()
    return _local_source(raw), {"sha256": file_sha256(raw), "files": files, "generator": d.source}


def _local_source(path: Path) -> Any:
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    with warnings.catch_warnings():
        # MLflow registers its local-file source twice (with and without file:) and warns that a path
        # could be either; both are the same class.
        warnings.filterwarnings("ignore", message=".*can be interpreted in multiple ways.*")
        return resolve_dataset_source(str(path))


def log_datasets(uri: str, run_id: str, cfg: Config, paths: Paths) -> None:
    """The train, val and test splits as dataset inputs (contexts training, validation, testing).

    Each has the splits' schema and row count (MLflow's profile), a digest that is the sha256 of the
    split file (all rows, unlike MLflow's default digest of the first rows), and a source naming the
    data file or URL with its sha256.
    """
    import mlflow.data
    import pandas as pd
    from mlflow.entities import Dataset, DatasetInput, InputTag

    from rarewatch.data.schema import LABEL

    source, extra = data_source(cfg, paths)
    source_json = json.dumps({**source.to_dict(), **extra})
    inputs = []
    for split, context in SPLIT_CONTEXTS.items():
        path = paths.split(split)
        with warnings.catch_warnings():
            # Its hint that integer columns cannot hold missing values is about model signatures.
            warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column.*")
            ds = mlflow.data.from_pandas(
                pd.read_parquet(path),
                source=source,
                targets=LABEL,
                name=f"{cfg.data.name}-{split}",
                digest=file_sha256(path)[:16],
            ).to_dict()
        entity = Dataset(ds["name"], ds["digest"], ds["source_type"], source_json, ds.get("schema"), ds.get("profile"))
        inputs.append(DatasetInput(entity, [InputTag("mlflow.data.context", context)]))
    _client(uri).log_inputs(run_id, datasets=inputs)


# ----------------------------------------------------------------------------------- training curves

CURVE_PREFIX = "epoch"  # curves are epoch.<figure> (epoch.train_loss, epoch.val_loss), one point per epoch


def epoch_logger(uri: str, run_id: str) -> Any:
    """Lightning's MLflow logger, writing each epoch's figures into run `run_id` as it ends.

    Adapted in four ways: the step of a point is its epoch (not Lightning's batch count), so curves of
    runs with different batch sizes line up; it logs no hyperparameters (rarewatch logs the whole
    config); it never ends the run, whose owner does (a sweep job, or the track stage); and it has no
    version, so the progress bar looks as it does without a logger.
    """
    from lightning.pytorch.loggers import MLFlowLogger

    class EpochCurves(MLFlowLogger):
        LOGGER_JOIN_CHAR = "."

        def log_metrics(self, metrics: Any, step: int | None = None) -> None:
            epoch = metrics.get("epoch")
            figures = {k: v for k, v in metrics.items() if k != "epoch"}
            super().log_metrics(figures, step=int(epoch) if epoch is not None else step)

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass

        def finalize(self, status: str) -> None:
            pass

        @property
        def version(self) -> None:  # Lightning would show the run id's tail in the progress bar (v_num)
            return None

    return EpochCurves(tracking_uri=uri, run_id=run_id, prefix=CURVE_PREFIX)


def log_history(uri: str, run_id: str, history: list[dict[str, float]]) -> None:
    """Curves from metrics/train.json's history, for a model whose training run is not in the store."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [
        Metric(f"{CURVE_PREFIX}.{k}", float(v), now, int(row["epoch"]))
        for row in history
        for k, v in row.items()
        if k != "epoch"
    ]
    for start in range(0, len(metrics), 1000):  # MLflow takes at most 1000 metrics per batch
        _client(uri).log_batch(run_id, metrics=metrics[start : start + 1000])


def copy_curves(uri: str, source_run: str, run_id: str) -> int:
    """Copy the epoch.* curves of `source_run` (with their steps and times) into `run_id`; the point count."""
    client = _client(uri)
    keys = [k for k in client.get_run(source_run).data.metrics if k.startswith(CURVE_PREFIX + ".")]
    points = [m for key in keys for m in client.get_metric_history(source_run, key)]
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start : start + 1000])
    return len(points)
