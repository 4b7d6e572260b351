"""`rarewatch-sweep`: Hydra app over conf/, running the pipeline in-process once per job.

    rarewatch-sweep -m model.hidden_dims='[32,16,32]','[64,32,64]' threshold.percentile=90,95,99

Each job is one MLflow run nested under one parent run per sweep; the sweep ends with a table
of its jobs sorted by validation cost. Jobs share trained models where only threshold or cost
settings differ (see rarewatch.pipeline). For parallel jobs, add
`hydra/launcher=joblib hydra.launcher.n_jobs=2 trainer.num_threads=1`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rarewatch.composition import CONF_DIR
from rarewatch.config import Config, config_from_dict, with_absolute_data_paths
from rarewatch.errors import RarewatchError

log = logging.getLogger("rarewatch.sweep")
PARENT_RUN_ENV = "RAREWATCH_SWEEP_PARENT_RUN_ID"
RESULT_FILE = "result.json"
CACHE_DIR = ".rarewatch/cache"


def typed(cfg: DictConfig) -> Config:
    from rarewatch.models.registry import resolve

    return resolve(config_from_dict(OmegaConf.to_container(cfg, resolve=True), source="sweep config"))


def run_job(cfg: Config, job_dir: Path, project_dir: Path, overrides: list[str]) -> dict[str, Any]:
    from rarewatch.pipeline.inprocess import run_pipeline
    from rarewatch.tracking import log_pipeline_run

    parent = os.environ.get(PARENT_RUN_ENV)
    if parent is None and HydraConfig.get().mode.name == "MULTIRUN":
        log.warning("no MLflow parent run for this sweep (see the warning at its start); logging a top-level run")
    cfg = with_absolute_data_paths(cfg, project_dir)
    result = run_pipeline(cfg, job_dir, project_dir / CACHE_DIR)
    run = log_pipeline_run(
        cfg, result.paths, tracking_root=project_dir, parent_run_id=parent, run_name=" ".join(overrides) or "defaults"
    )
    eval_m = json.loads(result.paths.eval_metrics.read_text())
    cost_m = json.loads(result.paths.cost_metrics.read_text())
    summary = {
        "overrides": " ".join(overrides),
        "val_cost": cost_m["val_cost"],
        "test_cost": cost_m["test_cost"],
        "test_savings": cost_m["test_savings"],
        "test_roc_auc": eval_m["test"]["roc_auc"],
        "test_pr_auc": eval_m["test"]["pr_auc"],
        "best_threshold": cost_m["best_threshold"],
        # Early warning on test at the min_cost threshold (absent for rows without a time axis).
        **_early_warning(eval_m),
        "train_seconds": json.loads(result.paths.timings.read_text())["train_seconds"],
        "model_reused": result.model_reused,
        "run_id": run["run_id"],
    }
    (job_dir / RESULT_FILE).write_text(json.dumps(summary, indent=2))
    return summary


def _early_warning(eval_m: dict[str, Any]) -> dict[str, Any]:
    entry = eval_m["thresholds"].get("min_cost", {}).get("test") or {}
    ew = entry.get("early_warning") or {}
    return {
        "event_recall": ew.get("event_recall"),
        "lead_time_median": ew.get("lead_time_median"),
        "lead_time_unit": ew.get("lead_time_unit"),
        "false_alarms_per_day": ew.get("false_alarms_per_day"),
    }


def sweep_table(sweep_dir: Path) -> list[dict[str, Any]]:
    rows = [json.loads(p.read_text()) for p in sweep_dir.glob(f"*/{RESULT_FILE}")]
    return sorted(rows, key=lambda r: r["val_cost"])


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Sweep: {len(rows)} jobs, sorted by validation cost (early warning: test at the min_cost threshold)",
        title_justify="left",
    )
    for col in (
        "overrides",
        "val cost",
        "test cost",
        "test savings",
        "test ROC-AUC",
        "test PR-AUC",
        "event recall",
        "lead time",
        "false alarms/day",
        "train s",
        "model",
    ):
        table.add_column(col, justify="left" if col == "overrides" else "right")
    for r in rows:
        lead = "n/a" if r.get("lead_time_median") is None else f"{r['lead_time_median']:g} {r['lead_time_unit']}"
        table.add_row(
            r["overrides"] or "(defaults)",
            f"{r['val_cost']:,.0f}",
            f"{r['test_cost']:,.0f}",
            f"{r['test_savings']:,.0f}",
            _f(r["test_roc_auc"]),
            _f(r["test_pr_auc"]),
            _f(r.get("event_recall")),
            lead,
            _f(r.get("false_alarms_per_day"), 1),
            f"{r['train_seconds']:.1f}",
            "reused" if r["model_reused"] else "trained",
        )
    Console(width=170).print(table)


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


class SweepCallback(Callback):
    """One MLflow parent run per multirun; prints and logs the job table at the end."""

    def __init__(self) -> None:
        self.parent_run_id: str | None = None
        self.uri: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from mlflow import MlflowClient

        from rarewatch.tracking import experiment_id, git_tags, resolve_uri

        cfg = typed(_without_hydra(config))
        project = Path.cwd()
        self.uri = resolve_uri(cfg.tracking.uri, project)
        client = MlflowClient(self.uri)
        exp_id = experiment_id(self.uri, cfg.tracking.experiment, project)
        overrides = " ".join(config.hydra.overrides.task)  # HydraConfig is only set inside jobs
        run = client.create_run(
            exp_id, run_name=f"sweep {overrides}".strip(), tags={"rarewatch.kind": "sweep", **git_tags(project)}
        )
        self.parent_run_id = run.info.run_id
        # Environment, not a global: joblib's worker processes inherit it.
        os.environ[PARENT_RUN_ENV] = self.parent_run_id

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from mlflow import MlflowClient

        rows = sweep_table(Path(config.hydra.sweep.dir))
        print_table(rows)
        if self.parent_run_id and self.uri:
            client = MlflowClient(self.uri)
            client.log_text(self.parent_run_id, json.dumps(rows, indent=2), "sweep_jobs.json")
            if rows:
                client.log_metric(self.parent_run_id, "best_val_cost", rows[0]["val_cost"])
            client.set_terminated(self.parent_run_id)
        os.environ.pop(PARENT_RUN_ENV, None)


def _without_hydra(config: DictConfig) -> DictConfig:
    return OmegaConf.create({k: v for k, v in OmegaConf.to_container(config).items() if k != "hydra"})


# Absolute: relative config paths resolve against the package, and conf/ sits beside src/.
@hydra.main(config_path=str(CONF_DIR), config_name="sweep", version_base=None)
def _app(cfg: DictConfig) -> float:
    hc = HydraConfig.get()
    try:
        config = typed(cfg)
        summary = run_job(config, Path(hc.runtime.output_dir), Path(hc.runtime.cwd), list(hc.overrides.task))
    except RarewatchError as exc:
        log.error("job %s failed: %s", hc.job.num if hc.mode.name == "MULTIRUN" else "", exc)
        raise
    if hc.mode.name != "MULTIRUN":
        print_table([summary])
    return summary["val_cost"]


def main() -> None:
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    try:
        _app()
    except RarewatchError as exc:
        print(f"rarewatch-sweep: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
