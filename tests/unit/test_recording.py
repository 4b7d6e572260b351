"""One complete MLflow run per pipeline execution (rarewatch.recording): the train stage opens the run and
streams the curves into it, the track stage completes it, and a rerun that kept the model gets a new
run linked to the one that trained it. The stages run in-process, as `dvc repro` runs them, on small data."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rarewatch.paths import Paths
from rarewatch.recording import MODEL_TAG, RECORD_TAG, TRAINING_RUN_TAG, model_sha256
from rarewatch.stages import (
    cost,
    evaluate,
    features,
    ingest,
    label_shift,
    preprocess,
    split,
    summary,
    track,
    train,
    validate,
)
from rarewatch.stages.runner import run_stage
from rarewatch.tracking import PIPELINE_WRITTEN, git_tags, run_name

BEFORE_TRAIN = (validate, ingest, preprocess, label_shift, features, split)
AFTER_TRAIN = (evaluate, cost, summary, track)


def _stages(cfg, root: Path, stages) -> None:
    for stage in stages:
        name = stage.__name__.rsplit(".", 1)[1]
        run_stage(name, train.execute_recorded if stage is train else stage.execute, cfg, Paths(root))


def _client(root: Path):
    from mlflow import MlflowClient

    info = json.loads(Paths(root).run_info.read_text())
    return MlflowClient(info["tracking_uri"]), info


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, small_config) -> tuple[Path, object]:
    """The whole pipeline of a deep family (4 epochs, no early stop) recorded into a sqlite store."""
    root = tmp_path_factory.mktemp("recorded")
    cfg = small_config(tracking__uri=f"sqlite:///{root / 'mlflow.db'}", model__max_epochs=4, model__patience=0)
    _stages(cfg, root, (*BEFORE_TRAIN, train, *AFTER_TRAIN))
    return root, cfg


@pytest.mark.slow
def test_one_run_holds_curves_datasets_metrics_and_artifacts(recorded):
    root, cfg = recorded
    client, info = _client(root)
    pointer = json.loads(Paths(root).training_run.read_text())
    assert pointer["run_id"] == info["run_id"] and "training_run_id" not in info  # train's run, completed
    run = client.get_run(info["run_id"])
    assert run.info.status == "FINISHED" and run.data.tags[RECORD_TAG] == "complete"
    assert run.data.tags[MODEL_TAG] == model_sha256(Paths(root).model_dir) == pointer["model_sha256"]
    assert run.info.run_name == "dense_ae · synthetic · workspace"
    # The curves Lightning's logger streamed during the fit: one point per epoch, step = epoch.
    history = client.get_metric_history(run.info.run_id, "epoch.train_loss")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert len(client.get_metric_history(run.info.run_id, "epoch.val_loss")) == 4
    # ... in the same run as the evaluation, the config and the artifacts.
    assert "val.roc_auc" in run.data.metrics and "cost.test_cost" in run.data.metrics
    assert run.data.params["model.name"] == "dense_ae"
    assert "metrics/eval.json" in {a.path for a in client.list_artifacts(run.info.run_id, "metrics")}
    # The splits as dataset inputs: digest, source (the data and its sha256) and schema.
    inputs = {i.tags[0].value: i.dataset for i in run.inputs.dataset_inputs}
    assert set(inputs) == {"training", "validation", "testing"}
    training = inputs["training"]
    assert training.name == "synthetic-train" and len(training.digest) == 16
    source = json.loads(training.source)
    assert source["uri"] == str(Paths(root).raw.resolve()) and len(source["sha256"]) == 64
    columns = {c["name"] for c in json.loads(training.schema)["mlflow_colspec"]}
    assert {"time", "label"} <= columns and json.loads(training.profile)["num_rows"] > 0


@pytest.mark.slow
def test_a_rerun_that_kept_the_model_gets_a_complete_linked_run(recorded, small_config):
    """Only the stages after train rerun (a cost change): a new run, linked to the run that trained the
    model, with its curves copied; and without the pointer file, the run is found by the model's hash."""
    root, cfg = recorded
    client, first = _client(root)
    changed = cfg.model_copy(update={"cost": cfg.cost.model_copy(update={"fp": cfg.cost.fp * 2})})
    for keep_pointer in (True, False):
        if not keep_pointer:
            Paths(root).training_run.unlink()
        _stages(changed, root, AFTER_TRAIN)
        client, info = _client(root)
        assert info["run_id"] != first["run_id"] and info["training_run_id"] == first["run_id"]
        run = client.get_run(info["run_id"])
        assert run.data.tags[TRAINING_RUN_TAG] == first["run_id"] and run.data.tags["rarewatch.model"] == "reused"
        assert run.data.tags[RECORD_TAG] == "complete" and run.info.status == "FINISHED"
        assert [m.step for m in client.get_metric_history(run.info.run_id, "epoch.train_loss")] == [0, 1, 2, 3]
        assert "cost.test_cost" in run.data.metrics and "train.train_seconds" not in run.data.metrics
        assert {i.tags[0].value for i in run.inputs.dataset_inputs} == {"training", "validation", "testing"}
    # The training run keeps its own record.
    assert client.get_run(first["run_id"]).data.params["cost.fp"] == str(cfg.cost.fp)


@pytest.mark.slow
def test_a_training_run_is_completed_only_when_its_params_agree(recorded, tmp_path):
    """MLflow params are immutable: a training run an earlier, failed track logged another config to is
    not completed again; the execution gets its own run, linked to it."""
    from rarewatch.tracking import start_run

    root, cfg = recorded
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    client, first = _client(root)
    stale = start_run(first["tracking_uri"], first["experiment_id"], "stale", {RECORD_TAG: "training"})
    client.log_param(stale, "cost.fp", "-1")
    pointer = {"run_id": stale, "experiment_id": first["experiment_id"], "tracking_uri": first["tracking_uri"]}
    Paths(copy).training_run.write_text(json.dumps({**pointer, "model_sha256": model_sha256(Paths(copy).model_dir)}))
    run_stage("track", track.execute, cfg, Paths(copy))
    info = json.loads(Paths(copy).run_info.read_text())
    assert info["run_id"] != stale and info["training_run_id"] == stale
    assert client.get_run(info["run_id"]).data.params["cost.fp"] == str(cfg.cost.fp)


def test_run_names_say_model_data_and_dvc_experiment(monkeypatch):
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    assert run_name("dense_ae", "synthetic") == "dense_ae · synthetic · workspace"
    monkeypatch.setenv("DVC_EXP_NAME", "exp-abc12")
    assert run_name("lstm_ae", "paper_mill") == "lstm_ae · paper_mill · exp-abc12"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_git_dirty_counts_tracked_source_changes_not_pipeline_written_files(tmp_path):
    for rel in (*PIPELINE_WRITTEN, "src/stage.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("v1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "c")
    assert git_tags(tmp_path)["git.dirty"] == "false"
    for rel in PIPELINE_WRITTEN:  # what dvc repro / dvc exp run -S rewrite during the run
        (tmp_path / rel).write_text("v2\n")
    (tmp_path / "untracked.txt").write_text("new\n")
    tags = git_tags(tmp_path)
    assert tags["git.dirty"] == "false" and "git.changed" not in tags
    (tmp_path / "src/stage.py").write_text("v2\n")
    tags = git_tags(tmp_path)
    assert tags["git.dirty"] == "true" and tags["git.changed"] == "src/stage.py"
    assert len(tags["mlflow.source.git.commit"]) == 40


def test_the_default_store_follows_dvc_root_out_of_a_temporary_experiment_copy(tmp_path, monkeypatch):
    from rarewatch.recording import store_root

    monkeypatch.delenv("DVC_ROOT", raising=False)
    assert store_root(tmp_path / "project") == (tmp_path / "project").resolve()
    # `dvc exp run --temp/--queue` runs in .dvc/tmp/exps/<copy>, with DVC_ROOT the workspace it came from.
    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "workspace"))
    assert store_root(tmp_path / "workspace/.dvc/tmp/exps/tmpabc") == (tmp_path / "workspace").resolve()


def test_the_model_hash_covers_every_file_name_and_content_not_the_location(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        (d / "sub").mkdir(parents=True)
        (d / "model.json").write_text('{"family": "pca"}\n')
        (d / "sub" / "weights.pt").write_bytes(b"\x00\x01")
    assert model_sha256(one) == model_sha256(two)
    (two / "sub" / "weights.pt").write_bytes(b"\x00\x02")
    assert model_sha256(one) != model_sha256(two)
    (two / "sub" / "weights.pt").rename(two / "sub" / "other.pt")
    (two / "sub" / "other.pt").write_bytes(b"\x00\x01")
    assert model_sha256(one) != model_sha256(two)
