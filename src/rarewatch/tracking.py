"""The one module that talks to MLflow.

A pipeline execution becomes one MLflow run, assembled from the files the stages wrote (config,
metrics, plots, model, data hash). Logging from files rather than from inside each stage means a
partial `dvc repro` (say, only `cost` after a cost-matrix change) still yields a complete,
comparable run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from rarewatch.config import Config, flatten, to_dict
from rarewatch.data.sources import file_sha256
from rarewatch.paths import Paths

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def resolve_uri(uri: str | None, root: Path) -> str:
    """Config value, else $MLFLOW_TRACKING_URI, else an absolute SQLite file in the project root.

    Absolute, because a relative sqlite path inside `dvc exp run --queue`'s temporary copy of the
    repository would silently vanish with it; and never ./mlruns, which MLflow 3.13+ refuses.
    """
    if uri:
        return uri
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root.resolve() / 'mlflow.db'}"


def _mlflow():  # noqa: ANN202 - importing mlflow costs seconds; only tracking code pays it
    import mlflow

    return mlflow


def experiment_id(uri: str, name: str, root: Path) -> str:
    """The experiment's id, creating it with artifacts in <project>/mlartifacts.

    MLflow's default artifact location is ./mlruns, and a stray ./mlruns directory flips MLflow's
    default store back to the refused file store; so every experiment gets an explicit one.
    """
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return client.create_experiment(name, artifact_location=(root.resolve() / "mlartifacts").as_uri())


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


def log_pipeline_run(
    cfg: Config, paths: Paths, tracking_root: Path, parent_run_id: str | None = None, run_name: str | None = None
) -> dict[str, str]:
    """Log one complete run from the stage outputs under `paths`; returns its ids for metrics/run.json."""
    mlflow = _mlflow()
    uri = resolve_uri(cfg.tracking.uri, tracking_root)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(experiment_id=experiment_id(uri, cfg.tracking.experiment, tracking_root))
    eval_m = json.loads(paths.eval_metrics.read_text())
    cost_m = json.loads(paths.cost_metrics.read_text())
    train_m = json.loads(paths.train_metrics.read_text())
    timings = json.loads(paths.timings.read_text())
    tags = {
        **git_tags(tracking_root),
        "data.sha256": file_sha256(paths.raw),
        "dataset": cfg.data.name,
        "model": cfg.model.name,
        **result_tags(eval_m, cost_m),
    }
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    with mlflow.start_run(run_name=run_name or f"{cfg.model.name}-{cfg.data.name}", tags=tags) as run:
        params = {k: _param(v) for k, v in flatten(to_dict(cfg)).items()}
        mlflow.log_params(params)
        mlflow.log_metrics(metric_values(eval_m, cost_m, train_m, timings))
        for row in train_m.get("history", []):
            step = int(row["epoch"])
            mlflow.log_metrics({f"epoch.{k}": float(v) for k, v in row.items() if k != "epoch"}, step=step)
        mlflow.log_dict(to_dict(cfg), "config.yaml")
        mlflow.log_dict(eval_m, "metrics/eval.json")
        mlflow.log_dict(cost_m, "metrics/cost.json")
        for directory in (paths.eval_plots, paths.cost_plots):
            for png in sorted(directory.glob("*.png")):
                mlflow.log_artifact(str(png), "plots")
        if cfg.tracking.log_model:
            mlflow.log_artifacts(str(paths.model_dir), "model")
        return {"run_id": run.info.run_id, "experiment_id": experiment.experiment_id, "tracking_uri": uri}


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


def git_tags(root: Path) -> dict[str, str]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except OSError:
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {}
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"mlflow.source.git.commit": commit, "git.dirty": str(dirty).lower()}
