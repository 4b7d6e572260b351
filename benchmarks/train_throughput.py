"""Dense-AE training throughput on the default synthetic data (2-core CPU figures go in README.md).

    python benchmarks/train_throughput.py [--epochs 10] [--repeats 3]

Compares rarewatch's whole-batch feeding (BatchSampler over in-memory tensors) with a
per-sample DataLoader at the default batch size and at 1024; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from rarewatch.composition import compose
from rarewatch.config import config_from_dict
from rarewatch.data.encoding import Encoder
from rarewatch.models.batches import batch_loader
from rarewatch.models.lightning_modules import ReconstructionModule
from rarewatch.models.nets import DenseAutoencoder
from rarewatch.models.registry import resolve
from rarewatch.paths import Paths
from rarewatch.stages import features, ingest, label_shift, preprocess, split
from rarewatch.stages.runner import run_stage


def training_matrix() -> tuple[torch.Tensor, object]:
    cfg = resolve(config_from_dict(compose()))
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths(Path(tmp))
        for stage in (ingest, preprocess, label_shift, features, split):
            run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, paths)
        import pandas as pd

        train = pd.read_parquet(paths.split("train"))
    normal = train[train["label"] == 0]
    x = Encoder(cfg.data.categorical_columns, impute=True).fit(normal).transform(normal)
    return torch.from_numpy(x), cfg


def samples_per_second(x: torch.Tensor, cfg: object, batch_size: int, feeding: str, epochs: int) -> float:
    L.seed_everything(0, verbose=False)
    net = DenseAutoencoder(x.shape[1], cfg.model.hidden_dims, cfg.model.activation, 0.0)
    module = ReconstructionModule(net, 1e-3, 0.0)
    if feeding == "whole batches":
        loader = batch_loader(x, batch_size=batch_size, shuffle=True, seed=0)
    else:
        loader = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True)
    clock = EpochClock()
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        callbacks=[clock],
    )
    trainer.fit(module, loader)
    # Epoch time only: Trainer start-up (about a second, once per fit) is not throughput.
    return len(x) * epochs / clock.seconds


class EpochClock(L.Callback):
    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.seconds += time.perf_counter() - self._start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    torch.set_num_threads(2)
    x, cfg = training_matrix()
    default_bs = cfg.model.batch_size
    print(
        f"dense AE {x.shape[1]}-{'-'.join(map(str, cfg.model.hidden_dims))}-{x.shape[1]}, "
        f"{len(x)} normal training rows, {args.epochs} epochs, median of {args.repeats}, "
        f"torch threads {torch.get_num_threads()}\n"
    )
    print("| batch size | feeding | samples/s |\n|---|---|---|")
    for bs in (default_bs, 1024):
        for feeding in ("whole batches", "per-sample DataLoader"):
            runs = [samples_per_second(x, cfg, bs, feeding, args.epochs) for _ in range(args.repeats)]
            print(f"| {bs} | {feeding} | {statistics.median(runs):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
