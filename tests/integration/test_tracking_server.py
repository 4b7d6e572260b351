"""A shared tracking server: PostgreSQL and `mlflow server --serve-artifacts` on loopback, a 4-job parallel
sweep logging to it, every run and its artifacts in the server's store, both processes stopped by PID."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rarewatch import tracking_server
from tests.integration.conftest import BIN, TINY, sh

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tracking_server.Server]:
    if tracking_server.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql; .ci/run installs it)")
    started = tracking_server.start(tmp_path / "server")
    cluster = (started.directory / "postgres").resolve()
    try:
        yield started
    finally:
        tracking_server.stop(started)
        assert not tracking_server.alive(started.mlflow_pid) and not tracking_server.alive(started.postgres_pid)
        if cluster.parent.name.startswith("rarewatch-postgres-"):  # root's cluster, outside tmp_path
            shutil.rmtree(cluster.parent)


def test_parallel_sweep_logs_runs_and_artifacts_to_the_server(server: tracking_server.Server, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    proc = sh(
        [
            str(BIN / "rarewatch-sweep"),
            "-m",
            "threshold.percentile=90,95,97,99",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            f"tracking.uri={server.uri}",
            *TINY,
        ],
        project,
    )
    assert "4 jobs, 4 finished" in proc.stdout, proc.stdout
    # Nothing was stored beside the project: the server has the runs and the artifacts.
    assert not (project / "mlflow.db").exists() and not (project / "mlartifacts").exists()

    from mlflow import MlflowClient

    client = MlflowClient(server.uri)
    exp = client.get_experiment_by_name("rarewatch")
    assert exp.artifact_location.startswith("mlflow-artifacts:")  # the server's store, not a file:// path
    runs = client.search_runs([exp.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("rarewatch.kind") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(runs) == 5 and len(children) == 4
    assert parent.info.status == "FINISHED" and all(r.info.status == "FINISHED" for r in children)
    assert {r.data.params["threshold.percentile"] for r in children} == {"90.0", "95.0", "97.0", "99.0"}
    for run in children:
        logged = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"config.yaml", "metrics", "plots", "model_files"} <= logged, logged
        # The job's detector as an MLflow model, in the server's store too (rarewatch.serving).
        (output,) = client.get_run(run.info.run_id).outputs.model_outputs
        assert client.get_logged_model(output.model_id).artifact_location.startswith("mlflow-artifacts:")
        eval_json = json.loads(
            Path(client.download_artifacts(run.info.run_id, "metrics/eval.json", str(tmp_path))).read_text()
        )
        assert eval_json["test"]["roc_auc"] == pytest.approx(run.data.metrics["test.roc_auc"])
    assert {"sweep_table.txt", "sweep_jobs.json"} <= {a.path for a in client.list_artifacts(parent.info.run_id)}
    # The artifacts are files of the server (--artifacts-destination), one directory per run.
    stored = {p.name for p in (server.directory / "artifacts" / exp.experiment_id).iterdir()}
    assert stored - {"models"} == {r.info.run_id for r in runs}  # models/: MLflow's logged models
