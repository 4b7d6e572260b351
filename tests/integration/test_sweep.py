"""A 2x2 Hydra multirun: one MLflow run per job under one parent, models reused across thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import BIN, sh

pytestmark = pytest.mark.slow

SMALL = [
    "data.synthetic.n_rows=4000",
    "data.synthetic.n_channels=10",
    "data.synthetic.precursor_channels=3",
    "data.synthetic.event_rate=0.02",
    "model.max_epochs=2",
    "trainer.progress_bar=false",
]


def test_sweep_2x2_nests_runs_and_reuses_models(tmp_path: Path) -> None:
    proc = sh(
        [
            str(BIN / "rarewatch-sweep"),
            "-m",
            "model.hidden_dims=[8,4,8],[16,8,16]",
            "threshold.percentile=90,99",
            *SMALL,
        ],
        tmp_path,
    )
    assert "4 jobs, 4 finished; ranked by validation cost" in proc.stdout

    results = [json.loads(p.read_text()) for p in tmp_path.glob("multirun/*/*/result.json")]
    assert len(results) == 4
    # Two architectures are trained once each; the other percentile reuses the trained model.
    assert sorted(r["model_reused"] for r in results) == [False, False, True, True]

    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("rarewatch")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if r.data.tags.get("rarewatch.kind") == "sweep"]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == 4
    assert {r.data.params["threshold.percentile"] for r in children} == {"90.0", "99.0"}
    assert all("test.roc_auc" in r.data.metrics for r in children)
    # A reused model's training time belongs to the run that trained it.
    trained = [r for r in children if r.data.tags["rarewatch.model"] == "trained"]
    assert len(trained) == 2 and all("train.train_seconds" in r.data.metrics for r in trained)
    assert not [
        r for r in children if r.data.tags["rarewatch.model"] == "reused" and "train.train_seconds" in r.data.metrics
    ]
    assert parents[0].info.status == "FINISHED"
    assert parents[0].data.metrics["best_val_cost"] == min(r["val_cost"] for r in results)
    # Curves stream into the job that trains; a job that reused the model has them copied from that job.
    ids = {r.info.run_id for r in trained}
    for r in children:
        assert [m.step for m in client.get_metric_history(r.info.run_id, "epoch.train_loss")] == [0, 1]
        assert {i.tags[0].value for i in r.inputs.dataset_inputs} == {"training", "validation", "testing"}
        if r.data.tags["rarewatch.model"] == "reused":
            assert r.data.tags["rarewatch.training_run_id"] in ids
    # Every job logged its detector as an MLflow model; rarewatch-register would pick the sweep's best.
    assert all(len(client.get_run(r.info.run_id).outputs.model_outputs) == 1 for r in children)
    from rarewatch.serving.register import best_run

    assert best_run(client, "rarewatch").val_cost == min(r["val_cost"] for r in results)
