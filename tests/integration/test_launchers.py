"""The same 2-job sweep under Hydra's basic, joblib and submitit (local executor) launchers: the same
per-job figures, and one model trained and reused across the parallel workers (the cache and its lock).
DDP in a sweep whose launcher runs jobs in parallel is refused before any job starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import BIN, sh

pytestmark = pytest.mark.slow

SWEEP = [
    "-m",
    "threshold.percentile=90,99",  # one model, two thresholds: the second job reuses the first's model
    "data.synthetic.n_rows=3000",
    "data.synthetic.n_channels=8",
    "data.synthetic.precursor_channels=3",
    "data.synthetic.event_rate=0.02",
    "data.synthetic.grade_block_rows=500",
    "model.hidden_dims=[8,4,8]",
    "model.max_epochs=2",
    "trainer.progress_bar=false",
]

LAUNCHERS = {
    "basic": [],
    "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    # submitit's local executor: every job in its own process, all at once; on a cluster, submitit_slurm.
    "submitit_local": ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"],
}

FIGURES = ("val_cost", "test_cost", "test_roc_auc", "test_pr_auc", "best_threshold", "strategies")


def per_job(project: Path) -> dict[str, dict]:
    """Each job's figures by its overrides, from the sweep's result.json files."""
    results = [json.loads(p.read_text()) for p in project.glob("multirun/*/*/result.json")]
    assert len(results) == 2 and all(r["status"] == "finished" for r in results), results
    # Exactly one job trained the model; the other waited on its lock and reused it.
    assert sorted(r["model_reused"] for r in results) == [False, True]
    return {" ".join(r["overrides"]): {k: r[k] for k in FIGURES} for r in results}


def test_basic_joblib_and_submitit_give_the_same_per_job_figures(tmp_path: Path) -> None:
    figures = {}
    # One MLflow store for the three sweeps (a new store costs seconds of migrations).
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    for name, launcher in LAUNCHERS.items():
        project = tmp_path / name  # a project of its own: its own cache, so each launcher trains anew
        project.mkdir()
        proc = sh([str(BIN / "rarewatch-sweep"), *SWEEP, *launcher], project, env=store)
        assert "2 jobs, 2 finished" in proc.stdout, proc.stdout
        figures[name] = per_job(project)
    assert figures["joblib"] == figures["basic"]
    assert figures["submitit_local"] == figures["basic"]
    assert len({json.dumps(f, sort_keys=True) for f in figures["basic"].values()}) == 2  # the thresholds differ


def test_ddp_in_parallel_sweep_jobs_is_refused_before_any_job(tmp_path: Path) -> None:
    proc = sh(
        [str(BIN / "rarewatch-sweep"), *SWEEP, "trainer=ddp", *LAUNCHERS["joblib"]],
        tmp_path,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "distributed fit" in proc.stderr and "JoblibLauncher) runs 2 jobs at once" in proc.stderr, proc.stderr
    assert not list(tmp_path.glob("multirun/*/*/result.json"))
