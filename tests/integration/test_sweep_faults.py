"""rarewatch-sweep when things go wrong: sweeps started together, a failing job, a job killed with
kill -9, SIGTERM, parallel jobs sharing a model, bad config. Each runs the real command on tiny data in
a fresh project directory and checks the table, the exit code, the MLflow store and the cache."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import BIN, command_env, sh
from tests.integration.test_sweep import SMALL

pytestmark = pytest.mark.slow

SWEEP = str(BIN / "rarewatch-sweep")
JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "trainer.num_threads=1"]
# Small batches and no early stopping: each epoch takes about 0.04 s on 2 cores with the lean training
# loop (0.15 s with Lightning's), so hundreds of epochs are needed to catch a training in the middle.
SLOW_EPOCHS = [o for o in SMALL if not o.startswith("model.max_epochs")] + ["model.patience=0", "model.batch_size=16"]
SLOW_TRAINING = [*SLOW_EPOCHS, "model.max_epochs=300"]  # about 10 s: long enough to be caught in the middle


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SWEEP, *args], cwd=cwd, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def table_rows(stdout: str) -> list[list[str]]:
    """The job rows of the sweep table printed in `stdout`, split into cells."""
    lines = stdout.splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith(("Sweep ", "Run ")))
    rule = next(i for i in range(title, len(lines)) if "───" in lines[i])
    rows = []
    for line in lines[rule + 1 :]:
        if not line.startswith("  "):  # the notes under the table start at the margin
            break
        rows.append(line.split())
    return rows


def store_runs(project: Path) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    exp = client.get_experiment_by_name("rarewatch")
    return client.search_runs([exp.experiment_id], max_results=1000)


def parents_and_children(runs: list[Any]) -> dict[str, list[Any]]:
    """{parent run id: its child runs}; fails on a run that is neither a sweep nor nested under one."""
    parents = {r.info.run_id: [] for r in runs if r.data.tags.get("rarewatch.kind") == "sweep"}
    for r in runs:
        if r.info.run_id not in parents:
            parent = r.data.tags.get("mlflow.parentRunId")
            assert parent in parents, f"orphan run {r.info.run_id} ({r.info.run_name})"
            parents[parent].append(r)
    return parents


def records(project: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(project.glob("multirun/*/*/result.json"))]


def lock_is_free(lock: Path) -> bool:
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def complete_model_entries(cache: Path) -> list[Path]:
    """The model entries in the cache; each must hold everything train writes."""
    entries = sorted(p for p in cache.glob("model-*") if p.is_dir())
    for entry in entries:
        for rel in ("models/model.json", "models/weights.pt", "models/encoder.json", "metrics/timings.json"):
            assert (entry / rel).is_file(), f"half-written cache entry: {entry / rel} missing"
    return entries


def wait_for_training(project: Path, proc: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    """The record of a job that is building a model (its temporary directory exists), once there is one."""
    cache = project / ".rarewatch" / "cache"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [r for r in records(project) if r["status"] == "running" and r.get("run_id")]
        if running and list(cache.glob(".model-*")):
            return running[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("no job started training")


# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_sweeps", [2, 3])
def test_sweeps_started_together_on_a_fresh_project_stay_apart(tmp_path: Path, n_sweeps: int):
    percentiles = [(str(90 + 2 * i), str(91 + 2 * i)) for i in range(n_sweeps)]
    procs = [start(["-m", f"threshold.percentile={a},{b}", *SMALL], tmp_path) for a, b in percentiles]
    outputs = [p.communicate(timeout=900) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, f"{out}\n{err}"

    # Each sweep's table lists its own two jobs, and only those.
    for (out, _), wanted in zip(outputs, percentiles, strict=True):
        assert sorted(row[1] for row in table_rows(out)) == sorted(wanted)
    assert len(list(tmp_path.glob("multirun/*"))) == n_sweeps  # one directory each, even in the same second
    assert len(records(tmp_path)) == 2 * n_sweeps

    # One parent run per sweep with exactly its own two jobs; no other run.
    runs = store_runs(tmp_path)
    assert len(runs) == 3 * n_sweeps
    family = parents_and_children(runs)
    assert len(family) == n_sweeps
    by_percentiles = {}
    for parent_id, children in family.items():
        assert len(children) == 2
        assert all(r.info.status == "FINISHED" for r in children)
        by_percentiles[parent_id] = sorted(r.data.params["threshold.percentile"] for r in children)
    assert sorted(by_percentiles.values()) == sorted(sorted(f"{float(p)}" for p in pair) for pair in percentiles)
    assert all(r.info.status == "FINISHED" for r in runs)
    # They all share one model: it is trained once, whichever sweep gets there first.
    assert sorted(r["model_reused"] for r in records(tmp_path)) == [False] + [True] * (2 * n_sweeps - 1)


def test_a_failing_job_fails_the_sweep_but_not_the_other_jobs(tmp_path: Path):
    # 3000 rows of gap leave no room for a test split: a DataError in job 1's split stage.
    proc = sh([SWEEP, "-m", "split.gap_rows=10,3000", *SMALL], tmp_path, check=False)
    assert proc.returncode == 1, proc.stderr
    rows = table_rows(proc.stdout)
    assert [row[:2] for row in rows] == [["0", "10"], ["1", "3000"]]
    assert "trained" in rows[0]
    assert rows[1][2:] == ["failed"]
    assert "job 1 failed: 3926 rows are too few for split" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == (
        "rarewatch-sweep: error: 1 of 2 jobs did not finish (job 1); see the table above"
    )
    assert "Traceback" not in proc.stderr

    runs = store_runs(tmp_path)
    ((parent_id, children),) = parents_and_children(runs).items()
    parent = next(r for r in runs if r.info.run_id == parent_id)
    assert parent.info.status == "FAILED"
    status = {r.data.params.get("split.gap_rows"): r for r in children}
    assert status["10"].info.status == "FINISHED" and "test.roc_auc" in status["10"].data.metrics
    assert status["3000"].info.status == "FAILED"
    assert "too few for split" in status["3000"].data.tags["rarewatch.error"]

    # The job that finished has all its results.
    good = next(r for r in records(tmp_path) if r["num"] == 0)
    assert good["status"] == "finished" and good["val_cost"] is not None
    (job_dir,) = [p.parent for p in tmp_path.glob("multirun/*/0/result.json")]
    assert (job_dir / "metrics" / "eval.json").is_file() and (job_dir / "metrics" / "cost.json").is_file()


def test_a_sweep_directory_is_never_shared(tmp_path: Path):
    args = ["-m", "hydra.sweep.dir=multirun/mine", "threshold.percentile=90", *SMALL]
    sh([SWEEP, *args], tmp_path)
    again = sh([SWEEP, *args], tmp_path, check=False)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "rarewatch-sweep: error: hydra.sweep.dir='multirun/mine' already holds a sweep; give this one a new "
        "directory (the default, multirun/<time>_<id>, is new for every sweep)"
    ]
    assert len(store_runs(tmp_path)) == 2  # the first sweep's parent and job; nothing from the refused one


def test_a_job_killed_mid_training_leaves_nothing_half_written(tmp_path: Path):
    # Two jobs on two joblib workers: one trains 1 epoch, the other 300 (about 10 s). Once the short one
    # has finished, the model being built is the long one's: its worker is killed with SIGKILL.
    args = ["-m", "model.max_epochs=300,1", *JOBLIB, *SLOW_EPOCHS]
    proc = start(args, tmp_path)
    cache = tmp_path / ".rarewatch" / "cache"
    deadline = time.monotonic() + 300
    while True:
        jobs = {r["overrides"][0]: r for r in records(tmp_path)}
        short, long = jobs.get("model.max_epochs=1"), jobs.get("model.max_epochs=300")
        if short and short["status"] == "finished" and long and list(cache.glob(".model-*")):
            break
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(1)
    assert len(complete_model_entries(cache)) == 1  # the short job's; the long one is still training
    os.kill(long["pid"], signal.SIGKILL)
    out, err = proc.communicate(timeout=300)

    # The sweep survives its worker: it reports, ends every run it started, and fails.
    assert proc.returncode == 1, f"{out}\n{err}"
    assert "rarewatch-sweep: error: TerminatedWorkerError" in err
    assert {r["num"]: r["status"] for r in records(tmp_path)} == {long["num"]: "killed", short["num"]: "finished"}
    runs = store_runs(tmp_path)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    assert next(r for r in runs if r.info.run_id == long["run_id"]).info.status == "KILLED"
    # No half-written entry, and no lock held by the dead process.
    assert all(lock_is_free(lock) for lock in cache.glob("*.lock"))
    assert len(complete_model_entries(cache)) == 1

    # The same sweep again: it completes, trains what the killed job did not finish, leaves no debris.
    first_dirs = set(tmp_path.glob("multirun/*"))
    again = sh([SWEEP, *args], tmp_path)
    (new_dir,) = set(tmp_path.glob("multirun/*")) - first_dirs
    rerun = {r["num"]: r for r in (json.loads(p.read_text()) for p in new_dir.glob("*/result.json"))}
    assert all(r["status"] == "finished" for r in rerun.values())
    assert rerun[long["num"]]["model_reused"] is False and rerun[short["num"]]["model_reused"] is True
    assert len(complete_model_entries(cache)) == 2
    assert not [p.name for p in cache.iterdir() if p.name.startswith(".")]  # no temporary directory left
    assert len(table_rows(again.stdout)) == 2


def test_sigterm_ends_the_sweep_killed_with_its_table(tmp_path: Path):
    proc = start(["-m", "model.hidden_dims=[8,4,8],[16,8,16]", *SLOW_TRAINING], tmp_path)
    running = wait_for_training(tmp_path, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, f"{out}\n{err}"
    assert err.strip().splitlines()[-1] == "rarewatch-sweep: error: interrupted (SIGTERM)"
    assert table_rows(out) == [[str(running["num"]), "killed"]]  # the job that never started is not listed
    assert "every job: model.hidden_dims=[8,4,8]" in out
    runs = {r.info.run_id: r for r in store_runs(tmp_path)}
    assert runs[running["run_id"]].info.status == "KILLED"
    (parent,) = [r for r in runs.values() if r.data.tags.get("rarewatch.kind") == "sweep"]
    assert parent.info.status == "KILLED"
    cache = tmp_path / ".rarewatch" / "cache"
    assert not [p for p in cache.iterdir() if p.name.startswith(".")] and not complete_model_entries(cache)


def test_parallel_jobs_sharing_a_model_train_it_once(tmp_path: Path):
    proc = sh([SWEEP, "-m", "threshold.percentile=90,99", *JOBLIB, *SMALL], tmp_path)
    rows = table_rows(proc.stdout)
    assert sorted(row[1] for row in rows) == ["90", "99"]
    assert sorted(cell for row in rows for cell in row if cell in ("trained", "reused")) == ["reused", "trained"]
    assert sorted(r["model_reused"] for r in records(tmp_path)) == [False, True]
    # Lightning's start-up banner is silenced in the worker processes too.
    assert "GPU available" not in proc.stdout + proc.stderr


def test_a_single_run_with_bad_config_or_data_says_so_in_one_line(tmp_path: Path):
    bad_value = sh([SWEEP, "model.patience=-1", *SMALL], tmp_path, check=False)
    assert bad_value.returncode == 2
    assert bad_value.stderr.splitlines() == ["rarewatch-sweep: error: config key 'model.patience' is -1; must be >= 0"]

    bad_key = sh([SWEEP, "model.hiden_dims=[8,4,8]", *SMALL], tmp_path, check=False)
    assert bad_key.returncode == 2
    assert bad_key.stderr.splitlines() == [
        "rarewatch-sweep: error: Could not override 'model.hiden_dims'. To append to your config use "
        "+model.hiden_dims=[8,4,8] (Key 'hiden_dims' is not in struct)"
    ]

    bad_data = sh([SWEEP, "split.gap_rows=3000", *SMALL], tmp_path, check=False)
    assert bad_data.returncode == 2
    assert bad_data.stderr.strip().splitlines()[-1].startswith("rarewatch-sweep: error: 3926 rows are too few")
    assert "Traceback" not in bad_data.stderr
    (run,) = store_runs(tmp_path)  # the data error came after the run started: it is FAILED, not RUNNING
    assert run.info.status == "FAILED"


def test_a_sweep_that_cannot_open_its_store_runs_no_job(tmp_path: Path):
    missing = sh(
        [SWEEP, "-m", f"tracking.uri=sqlite:///{tmp_path}/nowhere/mlflow.db", "seed=1,2", *SMALL], tmp_path, False
    )
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"rarewatch-sweep: error: tracking store 'sqlite:///{tmp_path}/nowhere/mlflow.db': directory "
        f"'{tmp_path}/nowhere' does not exist; create it, or set tracking.uri (or MLFLOW_TRACKING_URI) to a sqlite "
        "file in an existing directory"
    ]

    (tmp_path / "mlflow.db").write_text("not a database")  # a broken store: the error is MLflow's, one line
    broken = sh([SWEEP, "-m", "seed=1,2", *SMALL], tmp_path, check=False)
    assert broken.returncode == 1
    (line,) = [line for line in broken.stderr.splitlines() if line.startswith("rarewatch-sweep: error:")]
    assert "file is not a database" in line and "Traceback" not in broken.stderr
    assert not list(tmp_path.glob("multirun/*/*/result.json"))  # no job ran


OPEN_STORE = """
import sys
from pathlib import Path
from rarewatch.tracking import ensure_store
root = Path(sys.argv[1])
print(ensure_store(f"sqlite:///{root / 'mlflow.db'}", "rarewatch", root))
"""


def test_processes_opening_a_fresh_store_together_create_it_once(tmp_path: Path):
    import sys

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_STORE, str(tmp_path)],
            env=command_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert len({out.strip() for out, _ in outputs}) == 1  # one experiment, the same id for everyone
    assert len(store_runs(tmp_path)) == 0


def test_a_job_whose_logging_fails_is_a_failed_job(tmp_path: Path):
    # The experiment's artifact directory is a file: every artifact upload fails.
    (tmp_path / "mlartifacts").write_text("a file, not a directory")
    proc = sh([SWEEP, "-m", "threshold.percentile=90,99", *SMALL], tmp_path, check=False)
    assert proc.returncode == 1
    assert [row[2:] for row in table_rows(proc.stdout)] == [["failed"], ["failed"]]
    assert "job 0 failed: NotADirectoryError" in proc.stdout
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith("rarewatch-sweep: error: the sweep's end could not be recorded: NotADirectoryError")
    )
    runs = store_runs(tmp_path)
    assert len(runs) == 3 and {r.info.status for r in runs} == {"FAILED"}  # the parent too: none left RUNNING
    assert all(r["status"] == "failed" for r in records(tmp_path))
