"""The MLflow store and run handling of rarewatch.tracking (a sqlite store in a temporary directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rarewatch.errors import ConfigError, DataError
from rarewatch.tracking import (
    RUN_NAME_LIMIT,
    artifact_location,
    end_run,
    ending_run,
    ensure_store,
    error_line,
    running_children,
    short_run_name,
    sqlite_file,
    start_run,
)


def run_status(uri: str, run_id: str) -> str:
    from mlflow import MlflowClient

    return MlflowClient(uri).get_run(run_id).info.status


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One sqlite store for the tests below (creating one takes a second or two of migrations)."""
    root = tmp_path_factory.mktemp("store")
    return f"sqlite:///{root / 'mlflow.db'}", root


def test_sqlite_file_of_a_store_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert sqlite_file(f"sqlite:///{tmp_path / 'mlflow.db'}") == tmp_path / "mlflow.db"
    monkeypatch.chdir(tmp_path)
    assert sqlite_file("sqlite:///runs/mlflow.db") == tmp_path / "runs" / "mlflow.db"  # relative to the cwd
    assert sqlite_file("sqlite://") is None  # in memory: one process, nothing to lock
    assert sqlite_file("http://127.0.0.1:5000") is None
    assert sqlite_file("postgresql://u@host/db") is None


def test_ensure_store_creates_the_store_once_under_a_lock_beside_it(store: tuple[str, Path]):
    uri, root = store
    first = ensure_store(uri, "rarewatch", root)
    assert (root / "mlflow.db").is_file() and (root / "mlflow.db.lock").is_file()
    assert ensure_store(uri, "rarewatch", root) == first
    assert ensure_store(uri, "other", root) != first


def test_ensure_store_names_a_missing_directory(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'nowhere' / 'mlflow.db'}"
    with pytest.raises(ConfigError, match=r"directory '.*nowhere' does not exist; create it, or set tracking.uri"):
        ensure_store(uri, "rarewatch", tmp_path)


def test_ensure_store_refuses_a_deleted_experiment(store: tuple[str, Path]):
    from mlflow import MlflowClient

    uri, root = store
    MlflowClient(uri).delete_experiment(ensure_store(uri, "gone", root))
    with pytest.raises(ConfigError, match=r"experiment 'gone' .* is deleted .*mlflow experiments restore"):
        ensure_store(uri, "gone", root)


def test_ending_run_marks_how_the_block_ended(store: tuple[str, Path]):
    uri, root = store
    exp = ensure_store(uri, "rarewatch", root)
    ok, failed, killed, parent = (start_run(uri, exp, name, {}) for name in ("ok", "failed", "killed", "parent"))
    with ending_run(uri, ok):
        pass
    with pytest.raises(DataError), ending_run(uri, failed):
        raise DataError("no normal rows in split 'train'")
    with pytest.raises(KeyboardInterrupt), ending_run(uri, killed):
        raise KeyboardInterrupt
    with ending_run(uri, parent, status=None):  # left running: its owner ends it
        pass
    assert [run_status(uri, r) for r in (ok, failed, killed, parent)] == ["FINISHED", "FAILED", "KILLED", "RUNNING"]
    from mlflow import MlflowClient

    assert MlflowClient(uri).get_run(failed).data.tags["rarewatch.error"] == "no normal rows in split 'train'"
    end_run(uri, parent, "FINISHED")


def test_running_children_are_the_parents_unfinished_runs(store: tuple[str, Path]):
    uri, root = store
    exp = ensure_store(uri, "sweeps", root)
    parent, other_parent = start_run(uri, exp, "sweep", {}), start_run(uri, exp, "other sweep", {})
    done, left = (start_run(uri, exp, name, {}, parent_run_id=parent) for name in ("done", "left"))
    start_run(uri, exp, "another sweep's job", {}, parent_run_id=other_parent)
    end_run(uri, done, "FINISHED")
    assert running_children(uri, exp, parent) == [left]


def test_ending_run_keeps_the_error_when_ending_the_run_fails_too(store: tuple[str, Path]):
    uri, root = store
    ensure_store(uri, "rarewatch", root)
    with pytest.raises(ValueError, match="the job's own error") as caught, ending_run(uri, "no-such-run"):
        raise ValueError("the job's own error")
    assert "marking MLflow run no-such-run FAILED failed" in caught.value.__notes__[0]


def test_error_line():
    assert error_line(DataError("split 'train' has no normal rows")) == "split 'train' has no normal rows"
    assert error_line(OSError("disk\nfull")) == "OSError: disk full"
    exc = RuntimeError("store gone")
    exc.add_note("(and marking MLflow run r1 FAILED failed: OperationalError)")
    assert error_line(exc) == "RuntimeError: store gone (and marking MLflow run r1 FAILED failed: OperationalError)"
    assert error_line(KeyboardInterrupt()) == "interrupted"


def test_the_ui_link_opens_the_runs_table_of_the_model_training_view():
    from rarewatch.ui import runs_table_url

    assert runs_table_url("http://127.0.0.1:5000", "3") == (
        "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning"
    )
    assert runs_table_url("http://h:1", None).endswith("/#/experiments?workflowType=machine_learning")


def test_a_tracking_server_keeps_its_own_artifact_store(tmp_path: Path):
    # A server (mlflow server --serve-artifacts) chooses; a local store gets <root>/mlartifacts.
    assert artifact_location("http://127.0.0.1:5000", tmp_path) is None
    assert artifact_location("https://mlflow.example.org", tmp_path) is None
    assert artifact_location(f"sqlite:///{tmp_path}/mlflow.db", tmp_path) == (tmp_path / "mlartifacts").as_uri()


def test_run_names_fit_mlflows_column():
    assert short_run_name("model.hidden_dims=[8,4,8]") == "model.hidden_dims=[8,4,8]"
    long = "x" * 300
    assert len(short_run_name(long)) == RUN_NAME_LIMIT == 250
    assert short_run_name(long).endswith("…") and short_run_name("y" * 250) == "y" * 250
