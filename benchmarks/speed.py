"""Training and scoring speed side by side, in one run: rarewatch's dense AE against its peers.

    python benchmarks/speed.py [--repeats 3] [--keras-python PATH] [--quick] [--json results.json]

Every measurement is one job in a subprocess of its own (so its peak RSS is its own), run
interleaved with the others (the order rotates every repeat) and repeated; tables show medians.
Training figures are samples/s of the whole fit, validation included for all but PyOD (which has
none), from the model's construction to its last epoch: imports and data loading come before the
clock starts. Ratios are to the bare PyTorch loop of the same repeat, so machine noise cancels.

Training (dense AE 32-16-32, ReLU, Adam 1e-3, MSE, all epochs run, one torch thread):
- rarewatch:  the dense_ae family's fit (models/training.py);
- bare loop:  a plain PyTorch loop over the same tensors with one validation pass per epoch;
- PyOD:       pyod.models.auto_encoder.AutoEncoder, hidden [32, 16] mirrored, no batch norm or dropout;
- Keras:      the source notebooks' model (Dense 32-16-32), TensorFlow-CPU. TensorFlow is optional
              (`pip install tensorflow-cpu==2.21.0`, best in a venv of its own: pass its python with
              --keras-python or RAREWATCH_KERAS_PYTHON); without it the column is skipped with a message.
on the paper mill (conf/experiment/paper_mill_ae.yaml) and the normal rows of KDD 99's 10 % file
(conf/experiment/kdd_ae.yaml), each the normal training rows the pipeline builds, at batch 64 (the
notebooks'), 256 (rarewatch's default) and 1024.

Also: torch threads 1 vs 2, alone and beside a second training job; the LSTM families' windows/s at
their default lookback; the wall time of a 3 x 3 layer x percentile sweep (3 models trained, 6
reused); scoring 1M rows with the dense AE (rows/s and peak RSS).

Needs RAREWATCH_DATA (the paper mill and KDD 99 files, docs/datasets.md). Results: RESULTS-speed.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
PROJECT = HERE.parents[1]
DATASETS = {"paper mill": "paper_mill_ae", "KDD 99": "kdd_ae"}
IMPLS = ("bare loop", "rarewatch", "PyOD", "Keras")
HIDDEN = [32, 16, 32]
LR = 1e-3


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: on Linux that survives
    exec, so a job would report its parent's peak when that was higher."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def warm_torch() -> None:
    """One throwaway Adam step (plain and fused) before the clock: torch imports parts of itself at the
    first optimizer step (about 2-3 s here), which no implementation should be timed for."""
    import torch

    for fused in (False, True):
        layer = torch.nn.Linear(2, 2)
        optimizer = torch.optim.Adam(layer.parameters(), fused=fused)
        layer(torch.zeros(1, 2)).sum().backward()
        optimizer.step()


# ------------------------------------------------------------------------------- jobs (subprocesses)


def job_prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's training and validation rows of one experiment, encoded, saved as .npz."""
    import numpy as np
    import pandas as pd

    from rarewatch.composition import compose
    from rarewatch.config import config_from_dict
    from rarewatch.data.encoding import Encoder
    from rarewatch.models.registry import resolve
    from rarewatch.paths import Paths
    from rarewatch.stages import features, ingest, label_shift, preprocess, split, validate
    from rarewatch.stages.runner import run_stage
    from rarewatch.stages.train import fit_rows, to_rows

    cfg = resolve(config_from_dict(compose([f"+experiment={spec['experiment']}"])))
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths(Path(tmp))
        for stage in (validate, ingest, preprocess, label_shift, features, split):
            run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, paths)
        train, val = pd.read_parquet(paths.split("train")), pd.read_parquet(paths.split("val"))
    encoder = Encoder(cfg.data.categorical_columns, impute=cfg.preprocess.nan_policy == "impute")
    encoder.fit(fit_rows(train, "normal", "train"))
    rows = {name: to_rows(df, encoder, cfg.data.max_gap) for name, df in (("train", train), ("val", val))}
    arrays = {f"{name}_{field}": getattr(r, field) for name, r in rows.items() for field in ("x", "y", "segment")}
    np.savez(spec["out"], **{k: v.astype(np.float32) if k.endswith("_x") else v for k, v in arrays.items()})
    return {"train_normal": int((rows["train"].y == 0).sum()), "features": int(rows["train"].x.shape[1])}


def _rows(x: Any, y: Any = None, segment: Any = None) -> Any:
    import numpy as np

    from rarewatch.models.base import Rows

    n = len(x)
    return Rows(
        x=x,
        y=np.zeros(n, dtype=np.int64) if y is None else y,
        time=np.arange(n),
        segment=np.zeros(n, dtype=np.int64) if segment is None else segment,
    )


def _trainer(threads: int) -> Any:
    from rarewatch.config import TrainerConfig

    return TrainerConfig(
        accelerator="cpu",
        devices=1,
        strategy="auto",
        precision="32-true",
        num_threads=threads,
        deterministic=True,
        progress_bar=False,
    )


def _dense_config(batch: int, epochs: int) -> Any:
    from rarewatch.models.families.dense_ae import Config

    return Config(
        name="dense_ae",
        train_on="normal",
        hidden_dims=HIDDEN,
        activation="relu",
        dropout=0.0,
        learning_rate=LR,
        weight_decay=0.0,
        batch_size=batch,
        max_epochs=epochs,
        patience=0,  # every epoch runs, as in the peers
    )


def train_rarewatch(d: dict[str, Any], batch: int, epochs: int, threads: int) -> float:
    import rarewatch.models.lightning_modules  # noqa: F401  (imported before the clock, as torch is)
    import rarewatch.models.training  # noqa: F401
    from rarewatch.models.families.dense_ae import DenseAEDetector

    detector = DenseAEDetector(_dense_config(batch, epochs), 0, _trainer(threads))
    train, val = _rows(d["train_x"]), _rows(d["val_x"])
    start = time.perf_counter()
    detector.fit(train, val)
    return time.perf_counter() - start


def train_bare(d: dict[str, Any], batch: int, epochs: int, threads: int) -> float:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, v = torch.from_numpy(d["train_x"]), torch.from_numpy(d["val_x"])
    start = time.perf_counter()
    width, layers = x.shape[1], []
    for h in HIDDEN:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    net = nn.Sequential(*layers, nn.Linear(width, x.shape[1]))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(x), generator=generator).split(batch):
            b = x[idx]
            loss = nn.functional.mse_loss(net(b), b)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            float(sum(nn.functional.mse_loss(net(c), c, reduction="sum") for c in v.split(8192)))
    return time.perf_counter() - start


def train_pyod(d: dict[str, Any], batch: int, epochs: int, threads: int) -> float:
    import torch
    from pyod.models.auto_encoder import AutoEncoder

    torch.set_num_threads(threads)
    model = AutoEncoder(
        hidden_neuron_list=HIDDEN[:2],  # PyOD mirrors the encoder: 32-16-32
        batch_norm=False,
        dropout_rate=0.0,
        preprocessing=False,  # rows are already standardised
        epoch_num=epochs,
        batch_size=batch,
        lr=LR,
        optimizer_params={"weight_decay": 0.0},
        device="cpu",
        verbose=0,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(d["train_x"])  # also scores the training rows once, as PyOD's fit always does
    return time.perf_counter() - start


def train_keras(d: dict[str, Any], batch: int, epochs: int, threads: int) -> float:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.keras.utils.set_random_seed(0)
    x, v = d["train_x"], d["val_x"]
    start = time.perf_counter()
    model = tf.keras.Sequential(
        [tf.keras.Input(shape=(x.shape[1],))]
        + [tf.keras.layers.Dense(h, activation="relu") for h in HIDDEN]
        + [tf.keras.layers.Dense(x.shape[1])]
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(LR), loss="mse")
    model.fit(x, x, batch_size=batch, epochs=epochs, validation_data=(v, v), shuffle=True, verbose=0)
    return time.perf_counter() - start


TRAIN = {"bare loop": train_bare, "rarewatch": train_rarewatch, "PyOD": train_pyod, "Keras": train_keras}


def job_train(spec: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    d = {k: v for k, v in np.load(spec["data"]).items()}
    d["train_x"], d["val_x"] = d["train_x"][d["train_y"] == 0], d["val_x"][d["val_y"] == 0]
    if spec["impl"] != "Keras":
        warm_torch()
    seconds = TRAIN[spec["impl"]](d, spec["batch"], spec["epochs"], spec["threads"])
    return {"samples_per_second": len(d["train_x"]) * spec["epochs"] / seconds, "seconds": seconds}


def job_lstm(spec: dict[str, Any]) -> dict[str, Any]:
    """Windows/s of an LSTM family's fit (the family's default config from conf/model, few epochs)."""
    import numpy as np

    from rarewatch.composition import compose
    from rarewatch.config import config_from_dict
    from rarewatch.models.registry import family, resolve

    d = dict(np.load(spec["data"]))
    cfg = resolve(config_from_dict(compose([f"model={spec['family']}"])))
    model = cfg.model.model_copy(update={"max_epochs": spec["epochs"], "patience": 0})
    detector = family(spec["family"]).build(model, 0, _trainer(1))
    train = _rows(d["train_x"], d["train_y"], d["train_segment"])
    val = _rows(d["val_x"], d["val_y"], d["val_segment"])
    report = detector.fit(train, val)
    return {"samples_per_second": report.samples_per_second, "lookback": model.lookback, "windows": report.train_rows}


def job_score(spec: dict[str, Any]) -> dict[str, Any]:
    """Rows/s of DenseAEDetector.score over a 1M-row file (a net trained briefly on its first rows)."""
    import numpy as np

    from rarewatch.models.families.dense_ae import DenseAEDetector

    x = np.load(spec["data"])
    detector = DenseAEDetector(_dense_config(1024, 1), 0, _trainer(spec["threads"]))
    detector.fit(_rows(x[:20000]), _rows(x[20000:25000]))
    rows = _rows(x)
    detector.score(_rows(x[:1000]))  # warm: a scorer that serves more than one call is past its first batch
    rss_before = rss_mb()
    start = time.perf_counter()
    scores = detector.score(rows)
    seconds = time.perf_counter() - start
    return {"rows_per_second": len(x) / seconds, "seconds": seconds, "rss_before_mb": rss_before, "n": len(scores)}


def job_busy(spec: dict[str, Any]) -> dict[str, Any]:
    """A second training job: the rarewatch dense AE, over and over, until killed."""
    import numpy as np

    d = dict(np.load(spec["data"]))
    d["train_x"], d["val_x"] = d["train_x"][d["train_y"] == 0], d["val_x"][d["val_y"] == 0]
    while True:
        train_rarewatch(d, spec["batch"], 5, spec["threads"])


JOBS = {"prepare": job_prepare, "train": job_train, "lstm": job_lstm, "score": job_score, "busy": job_busy}


def run_job_here(spec: dict[str, Any]) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    result = JOBS[spec["job"]](spec)
    result["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(result), flush=True)


# ------------------------------------------------------------------------------------------ parent


def env_for_jobs() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT / "src"), env.get("PYTHONPATH")]))
    env.setdefault("RAREWATCH_DATA", str(PROJECT / "datasets"))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def spawn(spec: dict[str, Any], python: str = sys.executable) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [python, str(HERE), "--job", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for_jobs(),
        cwd=PROJECT,
    )


def run(spec: dict[str, Any], python: str = sys.executable) -> dict[str, Any]:
    proc = spawn(spec, python)
    out, err = proc.communicate()
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"job {spec} failed (exit {proc.returncode}):\n{err[-3000:]}")


def keras_python(given: str | None) -> str | None:
    """A python that imports tensorflow: --keras-python, $RAREWATCH_KERAS_PYTHON, or this one."""
    for candidate in (given, os.environ.get("RAREWATCH_KERAS_PYTHON"), sys.executable):
        if candidate and subprocess.run([candidate, "-c", "import tensorflow"], capture_output=True).returncode == 0:
            return candidate
    return None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float, digits: int = 0) -> str:
    return "—" if value != value else f"{value:,.{digits}f}"


def versions(keras: str | None) -> str:
    import platform

    import lightning
    import pyod
    import torch

    parts = [f"Python {platform.python_version()}", f"torch {torch.__version__}", f"lightning {lightning.__version__}"]
    parts.append(f"pyod {pyod.__version__}")
    if keras:
        tf = subprocess.run(
            [keras, "-c", "import tensorflow as t; print(t.__version__)"], capture_output=True, text=True
        )
        parts.append(f"tensorflow-cpu {tf.stdout.strip()} (its own venv)")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores ({cpu}); " + ", ".join(parts)


def training_table(args: argparse.Namespace, data: dict[str, Path], keras: str | None) -> list[str]:
    impls = [i for i in IMPLS if i != "Keras" or keras]
    cells: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for repeat in range(args.repeats):
        for name, path in data.items():
            epochs = args.epochs if name == "paper mill" else args.kdd_epochs
            for batch in args.batches:
                shift = repeat % len(impls)
                for impl in impls[shift:] + impls[:shift]:  # a different order every repeat
                    spec = {"job": "train", "impl": impl, "data": str(path), "batch": batch, "epochs": epochs}
                    result = run({**spec, "threads": 1}, keras if impl == "Keras" else sys.executable)
                    result["repeat"] = repeat
                    cells.setdefault((name, batch, impl), []).append(result)
                    print(f"  {name} batch {batch} {impl}: {result['samples_per_second']:,.0f} samples/s", flush=True)
    lines = [
        "| data | batch | implementation | samples/s | × bare loop | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for name in data:
        for batch in args.batches:
            bare = {r["repeat"]: r["samples_per_second"] for r in cells[(name, batch, "bare loop")]}
            for impl in impls:
                runs = cells[(name, batch, impl)]
                ratio = median([r["samples_per_second"] / bare[r["repeat"]] for r in runs])
                sps = median([r["samples_per_second"] for r in runs])
                rss = max(r["peak_rss_mb"] for r in runs)
                lines.append(f"| {name} | {batch} | {impl} | {fmt(sps)} | {ratio:.2f} | {fmt(rss)} |")
    args.raw["training"] = {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in cells.items()}
    return lines


def thread_table(args: argparse.Namespace, path: Path) -> list[str]:
    """rarewatch at batch 64 with 1 and 2 torch threads, alone and beside a second training job."""
    cells: dict[tuple[int, str], list[float]] = {}
    for _ in range(args.repeats):
        for threads in (1, 2):
            for load in ("idle", "second job"):
                busy = None
                if load == "second job":
                    busy = spawn({"job": "busy", "data": str(path), "batch": 64, "threads": threads})
                    time.sleep(3)  # past its imports: it is training when the measured job starts
                try:
                    spec = {"job": "train", "impl": "rarewatch", "data": str(path), "batch": 64}
                    result = run({**spec, "epochs": args.epochs, "threads": threads})
                finally:
                    if busy is not None:
                        busy.kill()
                        busy.communicate()
                cells.setdefault((threads, load), []).append(result["samples_per_second"])
                print(f"  threads {threads}, {load}: {result['samples_per_second']:,.0f} samples/s", flush=True)
    lines = ["| torch threads | machine | samples/s |", "|---|---|---|"]
    for (threads, load), values in cells.items():
        lines.append(f"| {threads} | {load} | {fmt(median(values))} |")
    args.raw["threads"] = {f"{k[0]}|{k[1]}": v for k, v in cells.items()}
    return lines


def lstm_table(args: argparse.Namespace, path: Path) -> list[str]:
    lines = ["| family | lookback | training windows | windows/s |", "|---|---|---|---|"]
    for name in ("lstm_ae", "lstm_classifier"):
        runs = [
            run({"job": "lstm", "family": name, "data": str(path), "epochs": args.lstm_epochs})
            for _ in range(args.repeats)
        ]
        sps = median([r["samples_per_second"] for r in runs])
        lines.append(f"| {name} | {runs[0]['lookback']} | {runs[0]['windows']:,} | {fmt(sps)} |")
        print(f"  {name}: {sps:,.0f} windows/s", flush=True)
    return lines


SWEEP = ["model.hidden_dims=[32,16,32],[64,32,64],[16,8,16]", "threshold.percentile=90,95,99"]


def sweep_time(args: argparse.Namespace) -> list[str]:
    """Wall time of rarewatch-sweep over 3 layer sizes x 3 percentiles, in an empty project directory."""
    times = []
    for _ in range(args.sweep_repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "rarewatch.sweep", "-m", *SWEEP, "trainer.progress_bar=false"],
                cwd=tmp,
                env=env_for_jobs(),
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise RuntimeError(f"the sweep failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
            trained = sum(1 for line in proc.stdout.splitlines() if re.match(r"\s+\d+\s.*\btrained\b", line))
            print(f"  sweep: {times[-1]:.1f} s ({trained} trained)", flush=True)
    return [
        f"`rarewatch-sweep -m {' '.join(SWEEP)}` (9 jobs, 3 trained, 6 reused; empty cache): "
        f"median {median(times):.1f} s wall time (runs: {', '.join(f'{t:.1f}' for t in times)})"
    ]


def scoring_table(args: argparse.Namespace, workdir: Path) -> list[str]:
    import numpy as np

    n = 100_000 if args.quick else 1_000_000
    path = workdir / "score_rows.npy"
    np.save(path, np.random.default_rng(0).standard_normal((n, 67), dtype=np.float32))
    runs = [run({"job": "score", "data": str(path), "threads": 1}) for _ in range(args.repeats)]
    rps = median([r["rows_per_second"] for r in runs])
    print(f"  scoring: {rps:,.0f} rows/s", flush=True)
    return [
        "| rows × features | rows/s | seconds | RSS before scoring MB | peak RSS MB |",
        "|---|---|---|---|---|",
        f"| {n:,} × 67 | {fmt(rps)} | {median([r['seconds'] for r in runs]):.2f} | "
        f"{fmt(median([r['rss_before_mb'] for r in runs]))} | {fmt(max(r['peak_rss_mb'] for r in runs))} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="epochs on the paper mill")
    parser.add_argument("--kdd-epochs", type=int, default=3, help="epochs on KDD 99 (5x the rows of the paper mill)")
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024], help="256: the default")
    parser.add_argument("--lstm-epochs", type=int, default=2)
    parser.add_argument("--sweep-repeats", type=int, default=1, help="the sweep takes minutes: once by default")
    parser.add_argument("--keras-python", help="a python that imports tensorflow (default: $RAREWATCH_KERAS_PYTHON)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 1 epoch: check that everything runs")
    parser.add_argument("--only", nargs="*", choices=["training", "threads", "lstm", "sweep", "scoring"])
    parser.add_argument("--json", type=Path, help="also write every raw figure here")
    args = parser.parse_args()
    if args.job:
        run_job_here(json.loads(args.job))
        return
    if args.quick:
        args.repeats, args.epochs, args.kdd_epochs, args.lstm_epochs, args.sweep_repeats = 1, 1, 1, 1, 1
    args.raw = {}
    parts = set(args.only or ["training", "threads", "lstm", "sweep", "scoring"])
    keras = keras_python(args.keras_python)
    print(versions(keras))
    if "training" in parts and keras is None:
        print(
            "Keras: skipped (TensorFlow is not installed; pip install tensorflow-cpu==2.21.0, e.g. in a venv of its"
            " own, and pass its python with --keras-python)"
        )
    out: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="rarewatch-speed-"))
    try:
        data: dict[str, Path] = {}
        if parts & {"training", "threads", "lstm"}:
            for name, experiment in DATASETS.items():
                if name == "KDD 99" and "training" not in parts:
                    continue
                data[name] = workdir / f"{experiment}.npz"
                info = run({"job": "prepare", "experiment": experiment, "out": str(data[name])})
                print(f"{name}: {info['train_normal']:,} normal training rows x {info['features']} features")
        if "training" in parts:
            print("training, interleaved:")
            out += ["## Training, one torch thread", "", *training_table(args, data, keras), ""]
        if "threads" in parts:
            print("threads:")
            out += ["## Threads (rarewatch, paper mill, batch 64)", "", *thread_table(args, data["paper mill"]), ""]
        if "lstm" in parts:
            print("LSTM families:")
            out += ["## LSTM families (paper mill, default config)", "", *lstm_table(args, data["paper mill"]), ""]
        if "sweep" in parts:
            print("sweep:")
            out += ["## Sweep", "", *sweep_time(args), ""]
        if "scoring" in parts:
            print("scoring:")
            out += ["## Scoring (dense AE, one torch thread)", "", *scoring_table(args, workdir), ""]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("\n".join(out))
    if args.json:
        args.json.write_text(json.dumps(args.raw, indent=1) + "\n")


if __name__ == "__main__":
    main()
