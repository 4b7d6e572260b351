"""`dvc repro` of the committed pipeline in a fresh copy: outputs, MLflow run, the committed dvc.lock
reproduced, and what reruns after a change."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import BIN, sh
from tests.integration.dvc_remote import assert_push_pull_round_trip

pytestmark = pytest.mark.slow


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


def test_repro_tracks_and_reruns_only_what_changed(repo_copy: Path, tmp_path: Path) -> None:
    committed_summary = (repo_copy / "metrics/summary.json").read_text()
    first = sh(["dvc", "repro"], repo_copy)
    # Every stage runs; summary only if its inputs differ from the committed run's, since its output,
    # metrics/summary.json, is git-tracked and already in the clone (and here reproduced exactly).
    assert [s for s in stages_run(first.stdout) if s != "summary"] == [
        "validate",
        "ingest",
        "preprocess",
        "label_shift",
        "features",
        "split",
        "train",
        "evaluate",
        "cost",
        "track",
    ]
    assert (repo_copy / "metrics/summary.json").read_text() == committed_summary
    for rel in (
        "data/raw/data.parquet",
        "data/split/train.parquet",
        "data/split/val.parquet",
        "data/split/test.parquet",
        "models/card.json",
        "models/model.json",
        "models/encoder.json",
        "models/weights.pt",
        "data/scores/val.parquet",
        "data/scores/test.parquet",
        "metrics/plots/evaluate/roc_pr.png",
        "metrics/plots/evaluate/confusion.png",
        "metrics/plots/evaluate/scores.png",
        "metrics/plots/cost/cost_curve.png",
        "metrics/plots/cost/cost_curve.csv",
    ):
        assert (repo_copy / rel).is_file(), rel
    eval_m = json.loads((repo_copy / "metrics/eval.json").read_text())
    # The default synthetic data is built so that early warning is learnable but not trivial.
    assert 0.6 < eval_m["test"]["roc_auc"] < 0.999
    assert eval_m["test"]["pr_auc"] > eval_m["test"]["pr_auc_no_skill"]
    assert set(eval_m["thresholds"]) == {"percentile", "max_f1", "min_cost"}

    # The MLflow run holds what the issue lists, in sqlite:///<repo>/mlflow.db.
    from mlflow import MlflowClient

    run_info = json.loads((repo_copy / "metrics/run.json").read_text())
    assert run_info["tracking_uri"] == f"sqlite:///{repo_copy / 'mlflow.db'}"
    client = MlflowClient(run_info["tracking_uri"])
    run = client.get_run(run_info["run_id"])
    m = run.data.metrics
    for key in (
        "val.roc_auc",
        "test.roc_auc",
        "val.pr_auc",
        "test.pr_auc",
        "test.pr_auc_no_skill",
        "threshold.percentile",
        "threshold.max_f1",
        "threshold.min_cost",
        "test.min_cost.tp",
        "test.min_cost.fp",
        "test.percentile.fn",
        "val.max_f1.tn",
        "cost.best_threshold",
        "cost.test_cost",
        "cost.test_no_alarm_cost",
        "cost.test_savings",
    ):
        assert key in m, key
    assert m["test.roc_auc"] == pytest.approx(eval_m["test"]["roc_auc"])
    assert run.data.params["model.hidden_dims"] == "[32, 16, 32]"
    assert run.data.tags["model"] == "dense_ae" and len(run.data.tags["data.sha256"]) == 64
    assert "mlflow.source.git.commit" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/roc_pr.png", "plots/confusion.png", "plots/scores.png", "plots/cost_curve.png"} <= artifacts
    files = {a.path for a in client.list_artifacts(run.info.run_id, "model_files")}
    assert files >= {"model_files/weights.pt", "model_files/card.json"}
    # The chosen detector as an MLflow model (rarewatch.serving): one logged model, named "model".
    assert len(run.outputs.model_outputs) == 1
    assert client.get_logged_model(run.outputs.model_outputs[0].model_id).name == "model"
    # The train stage opened this run and streamed the curves into it; track completed it. Only files the
    # pipeline itself rewrote (dvc.lock) differ from the commit, so the source is clean.
    assert run.info.run_name == "dense_ae · synthetic · workspace"
    assert run.data.tags["rarewatch.record"] == "complete" and run.data.tags["git.dirty"] == "false"
    assert len(client.get_metric_history(run.info.run_id, "epoch.train_loss")) > 1
    assert {i.tags[0].value for i in run.inputs.dataset_inputs} == {"training", "validation", "testing"}

    # A fresh run reproduces the committed dvc.lock: every hash but the wall-clock file's.
    check = sh([str(BIN / "python"), "-m", "rarewatch.pipeline.lockcheck"], repo_copy)
    assert "reproduced exactly" in check.stdout

    # Nothing changed: only the input check runs (always), and nothing after it.
    again = sh(["dvc", "repro"], repo_copy)
    assert stages_run(again.stdout) == ["validate"]

    # data/ and models/ on a DVC remote: pushed, pulled into a fresh clone, nothing to recompute there.
    assert_push_pull_round_trip(repo_copy, tmp_path)

    # Editing a module reruns exactly the stages that can import it.
    (repo_copy / "src/rarewatch/evaluation/metrics.py").write_text(
        (repo_copy / "src/rarewatch/evaluation/metrics.py").read_text() + "\n# an edit\n"
    )
    status = json.loads(sh(["dvc", "status", "--json"], repo_copy).stdout)
    declared = yaml.safe_load((repo_copy / "dvc.yaml").read_text())["stages"]
    importers = {n for n, e in declared.items() if "src/rarewatch/evaluation/metrics.py" in e["deps"]}
    assert {"evaluate", "cost"} <= importers and "ingest" not in importers
    assert set(status) == importers | {"validate"}
    sh(["git", "checkout", "--", "src/rarewatch/evaluation/metrics.py"], repo_copy)

    # A cost-matrix change reruns the stages after train, never train.
    params = yaml.safe_load((repo_copy / "params.yaml").read_text())
    params["cost"]["fp"] = 20.0
    (repo_copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    third = sh(["dvc", "repro"], repo_copy)
    assert stages_run(third.stdout) == ["validate", "evaluate", "cost", "summary", "track"]
    assert json.loads((repo_copy / "metrics/cost.json").read_text())["cost_matrix"]["fp"] == 20.0
    runs = client.search_runs([run.info.experiment_id])
    assert len(runs) == 2
    # A complete run of its own, linked to the run that trained the model it kept, with its curves.
    rerun = client.get_run(json.loads((repo_copy / "metrics/run.json").read_text())["run_id"])
    assert rerun.data.tags["rarewatch.training_run_id"] == run.info.run_id
    assert len(client.get_metric_history(rerun.info.run_id, "epoch.train_loss")) > 1
    assert "cost.test_cost" in rerun.data.metrics and rerun.inputs.dataset_inputs

    # `dvc exp run -S` composes conf/ into params.yaml (Hydra) and reruns after train only.
    exp = sh(["dvc", "exp", "run", "-n", "p99", "-S", "threshold.percentile=99"], repo_copy)
    assert stages_run(exp.stdout) in (
        ["validate", "evaluate", "summary", "track"],
        ["validate", "evaluate", "cost", "summary", "track"],
    )
    composed = yaml.safe_load((repo_copy / "params.yaml").read_text())
    assert composed["threshold"]["percentile"] == 99.0
    assert composed["cost"]["fp"] == 5.0  # recomposed from conf/, so the hand edit above is gone
    # The run is named after the experiment (DVC_EXP_NAME).
    named = client.get_run(json.loads((repo_copy / "metrics/run.json").read_text())["run_id"])
    assert named.info.run_name == "dense_ae · synthetic · p99"
