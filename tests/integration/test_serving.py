"""The chosen detector as an MLflow model: parity with the pipeline, the score CLI, mlflow serve, safe loading.

One small pipeline (the stages in-process, then the track stage into a sqlite store under tmp_path) is
shared by the module; each test then loads what the track stage logged.
"""

from __future__ import annotations

import io
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rarewatch.data.features import segment_starts
from rarewatch.data.windows import segments
from rarewatch.evaluation.early_warning import AlarmPolicy
from rarewatch.paths import Paths
from rarewatch.serving import bundle
from rarewatch.serving.scorer import Scorer
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

pytestmark = pytest.mark.slow

STAGES = (validate, ingest, preprocess, label_shift, features, split, train, evaluate, cost, summary)
# A cost matrix and detector under which the tiny test split has alarms; smoothing and a 2-of-3 policy,
# so the model's alarm path is the whole one.
SERVED = {
    "cost": {"tn": 0, "fp": 1, "fn": 40, "tp": 0},
    "model__max_epochs": 10,
    "smoothing__method": "mean",
    "alarm__k": 2,
    "alarm__n": 3,
}


def run_pipeline(cfg, root: Path) -> None:
    for stage in STAGES:
        run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, Paths(root))


@pytest.fixture(scope="module")
def served(tmp_path_factory, small_config):
    """(root, run info, tracking URI) of a pipeline run whose track stage logged the pyfunc model."""
    root = tmp_path_factory.mktemp("served")
    uri = f"sqlite:///{root.resolve()}/mlflow.db"
    cfg = small_config(**SERVED, tracking__uri=uri)
    run_pipeline(cfg, root)
    run_stage("track", track.execute, cfg, Paths(root))
    info = json.loads(Paths(root).run_info.read_text())
    return root, info, uri


def pipeline_alarms(root: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """data/scores/test.parquet and the operator alarms the pipeline's threshold and policy give it."""
    scores = pd.read_parquet(Paths(root).scores("test"))
    threshold = json.loads(Paths(root).cost_metrics.read_text())["best_threshold"]
    alarms = AlarmPolicy(k=2, n=3).apply(scores["score"].to_numpy() >= threshold)
    return scores, alarms


def plant_rows(root: Path) -> pd.DataFrame:
    """The test split as a plant would send it: the training file's columns, time as text, no label."""
    rows = pd.read_parquet(Paths(root).split("test")).drop(columns=["label"])
    rows["time"] = rows["time"].astype(str)
    return rows


def load_pyfunc(uri: str, model_uri: str):
    import mlflow

    mlflow.set_tracking_uri(uri)
    return mlflow.pyfunc.load_model(model_uri)


def test_logged_model_scores_the_test_split_like_the_pipeline(served):
    root, info, uri = served
    model = load_pyfunc(uri, f"runs:/{info['run_id']}/model")
    out = model.predict(plant_rows(root))
    scores, alarms = pipeline_alarms(root)

    np.testing.assert_array_equal(out["score"].to_numpy(), scores["score"].to_numpy())  # same floats
    np.testing.assert_array_equal(out["raw_score"].to_numpy(), scores["raw_score"].to_numpy())
    np.testing.assert_array_equal(out["alarm"].to_numpy(), alarms)
    assert alarms.sum() > 0  # the comparison covers alarms, not only quiet rows
    assert out["top_sensors"].tolist() == scores["top_sensors"].tolist()
    # Smoothing mean3 and a 2-of-3 policy: the first 2 + 2 rows of every segment have partial lookback.
    segment = segments(scores["time"].to_numpy(), 1.5)
    np.testing.assert_array_equal(out["complete"].to_numpy(), np.arange(len(segment)) - segment_starts(segment) >= 4)


def test_logged_model_carries_signature_example_and_no_pickle(served):
    root, info, uri = served
    from mlflow.models import get_model_info

    load_pyfunc(uri, info["model_uri"])  # sets the tracking URI
    model_info = get_model_info(f"runs:/{info['run_id']}/model")
    inputs = model_info.signature.inputs.input_names()
    assert inputs == ["time", "grade"] + [f"s{i:02d}" for i in range(8)]
    assert model_info.signature.outputs.input_names() == ["score", "raw_score", "alarm", "top_sensors", "complete"]
    assert model_info.saved_input_example_info is not None
    import mlflow

    path = Path(mlflow.artifacts.download_artifacts(info["model_uri"]))
    files = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    assert "artifacts/bundle/serving.json" in files and "artifacts/bundle/model/weights.pt" in files
    assert "python_model.pkl" not in (path / "MLmodel").read_text()


def test_scorer_on_sequence_model_with_rolling_features(tmp_path, small_config):
    """lstm_ae over rolling features: rows with their full lookback in the call score exactly as in the
    pipeline (whose features saw the rows before the split); the others are flagged incomplete."""
    cfg = small_config(
        model="lstm_ae",
        features__name="rolling",
        features__windows=[5],
        features__stats=["mean", "zscore"],
        features__aggregate=True,
        smoothing__method="mean",
    )
    run_pipeline(cfg, tmp_path)
    scorer = Scorer(bundle.write(cfg, Paths(tmp_path), tmp_path / "bundle"))
    out = scorer.score(plant_rows(tmp_path))
    scores = pd.read_parquet(Paths(tmp_path).scores("test"))

    lookback = cfg.model.lookback
    assert scorer.memory_rows == (5 - 1) + (lookback - 1) + (3 - 1)
    complete = out["complete"].to_numpy()
    segment = segments(scores["time"].to_numpy(), cfg.data.max_gap)
    np.testing.assert_array_equal(complete, np.arange(len(segment)) - segment_starts(segment) >= scorer.memory_rows)
    assert complete.sum() > len(complete) / 2
    np.testing.assert_array_equal(out["score"].to_numpy()[complete], scores["score"].to_numpy()[complete])


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rarewatch.serving.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
    )


def test_register_then_score_a_file_and_a_stream(served, tmp_path, capsys):
    root, info, uri = served
    from rarewatch.serving import cli as score_cli
    from rarewatch.serving import register

    register.main(["--experiment", "rarewatch", "--name", "plant", "--tracking-uri", uri])
    assert "alias 'champion' -> version 1" in capsys.readouterr().out
    rows = plant_rows(root)
    rows.to_csv(tmp_path / "plant.csv", index=False)
    score_cli.main(
        ["score", "--model", "models:/plant@champion", "--input", str(tmp_path / "plant.csv"),
         "--output", str(tmp_path / "alarms.csv"), "--tracking-uri", uri]
    )  # fmt: skip
    out = pd.read_csv(tmp_path / "alarms.csv")
    scores, alarms = pipeline_alarms(root)
    np.testing.assert_array_equal(out["alarm"].to_numpy(), alarms)
    assert out["time"].tolist() == rows["time"].tolist()
    assert f"{len(rows)} rows, {int(alarms.sum())} alarms" in capsys.readouterr().err
    # The same model from a local directory (no store needed), written to stdout.
    import mlflow

    local = mlflow.artifacts.download_artifacts(info["model_uri"], dst_path=str(tmp_path / "local"))
    score_cli.main(["score", "--model", local, "--input", str(tmp_path / "plant.csv")])
    from_dir = pd.read_csv(io.StringIO(capsys.readouterr().out))
    np.testing.assert_array_equal(from_dir["alarm"].to_numpy(), alarms)

    # A stretch around the first alarms, streamed to a real process: it prints the alarms the batch raises
    # on the same rows, each as it fires (read here while its stdin is still open).
    first = int(np.flatnonzero(alarms)[0])
    part = rows.iloc[max(first - 20, 0) : first + 40]
    expected = part["time"][predicted(uri, info, part)["alarm"].to_numpy()].tolist()
    assert expected  # the stretch has alarms
    process = subprocess.Popen(
        [sys.executable, "-m", "rarewatch.serving.cli", "score", "--model", f"runs:/{info['run_id']}/model",
         "--input", "-", "--tracking-uri", uri],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [printed.put(line) for line in process.stdout], daemon=True).start()
    try:
        process.stdin.write(part.to_csv(index=False))
        process.stdin.flush()
        lines = [printed.get(timeout=240).rstrip("\n") for _ in range(1 + len(expected))]
        assert lines[0] == "time,score,top_sensors,complete"
        assert [line.split(",")[0] for line in lines[1:]] == expected
        process.stdin.close()
        assert process.wait(timeout=120) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def predicted(uri: str, info: dict, rows: pd.DataFrame) -> pd.DataFrame:
    return load_pyfunc(uri, f"runs:/{info['run_id']}/model").predict(rows.reset_index(drop=True))


def test_score_refuses_bad_input_naming_the_column(served, tmp_path, capsys):
    root, info, uri = served
    from rarewatch.serving import cli as score_cli

    rows = plant_rows(root).head(20)
    cases = {
        "missing": (rows.drop(columns=["s03"]), "input has no column 's03' (a sensor the model was trained on)"),
        "type": (
            rows.assign(s05=["x"] + list(rows["s05"].iloc[1:])),
            "column 's05' must hold numbers (a sensor the model was trained on); got 'x' at row 0",
        ),
        "order": (rows.iloc[::-1], "time column 'time' is not in order: row 1"),
        "time": (rows.assign(time="soon"), "time column 'time' has 20 values that are not timestamps"),
    }
    for name, (frame, message) in cases.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        path = str(tmp_path / f"{name}.csv")
        with pytest.raises(SystemExit) as exit_info:
            score_cli.main(["score", "--model", info["model_uri"], "--input", path, "--tracking-uri", uri])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2, (name, err)
        assert err.startswith("rarewatch score: error: ") and message in err, (name, err)
    # A streamed row is named by its number in the stream.
    bad = rows.astype({"s01": object})
    bad.loc[5, "s01"] = "n/a"
    done = cli(
        "score", "--model", info["model_uri"], "--input", "-", "--tracking-uri", uri, stdin=bad.to_csv(index=False)
    )
    assert (
        done.returncode == 2
        and "column 's01' must hold numbers (a sensor the model was trained on); got 'n/a' at row 5" in done.stderr
    ), done.stderr


def test_planted_pickle_is_refused_on_load(served, tmp_path):
    root, info, uri = served
    import mlflow

    model_dir = Path(mlflow.artifacts.download_artifacts(info["model_uri"], dst_path=str(tmp_path / "m")))
    marker = tmp_path / "pwned"
    weights = model_dir / "artifacts" / "bundle" / "model" / "weights.pt"
    # A pickle whose loading runs a shell command: what a tampered model file would do.
    payload = subprocess.run(
        [sys.executable, "-c", PLANT.format(target=str(weights), marker=str(marker))], capture_output=True, text=True
    )
    assert payload.returncode == 0, payload.stderr
    with pytest.raises(Exception, match="(?i)weights_only|unpickl"):
        mlflow.pyfunc.load_model(str(model_dir))
    assert not marker.exists()


PLANT = """
import os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
torch.save({{"net.0.weight": Evil()}}, "{target}")
"""


VENV_PATH = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_serve_answers_invocations_on_loopback(served, tmp_path):
    root, info, uri = served
    import mlflow

    mlflow.set_tracking_uri(uri)
    model_dir = mlflow.artifacts.download_artifacts(info["model_uri"], dst_path=str(tmp_path / "m"))
    port = free_port()
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    server = subprocess.Popen(
        [mlflow_bin, "models", "serve", "-m", model_dir, "--env-manager", "local", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "PATH": VENV_PATH},  # mlflow runs the venv's uvicorn
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: stopped below with every worker
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        rows = plant_rows(root).head(30)
        # json.dumps writes floats exactly (pandas' to_json would round them to 10 digits).
        split_rows = {"columns": list(rows.columns), "data": rows.astype(object).to_numpy().tolist()}
        body = json.dumps({"dataframe_split": split_rows}).encode()
        request = urllib.request.Request(f"{base}/invocations", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as r:
            predictions = pd.DataFrame(json.loads(r.read())["predictions"])
        expected = pd.read_parquet(Paths(root).scores("test")).head(30)
        # Float32 scores of a 30-row call may differ from the whole split's in the last place (torch kernels by size).
        np.testing.assert_allclose(predictions["score"].to_numpy(), expected["score"].to_numpy(), rtol=1e-6)
        assert predictions["top_sensors"].tolist() == expected["top_sensors"].tolist()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
