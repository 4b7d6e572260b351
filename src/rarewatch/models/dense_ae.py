"""Dense autoencoder: learns normal rows, flags what it cannot reconstruct (score = row MSE)."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.errors import ConfigError
from rarewatch.models.base import FitReport

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["normal", "all"]
    hidden_dims: list[int]
    activation: Literal["relu", "tanh", "elu", "gelu"]
    dropout: float
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int

    def __post_init__(self) -> None:
        if not self.hidden_dims or min(self.hidden_dims) < 1:
            raise ConfigError(f"model.hidden_dims={self.hidden_dims} needs at least one layer, each >= 1 wide")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"model.dropout={self.dropout} must be in [0, 1)")
        for key in ("learning_rate", "batch_size", "max_epochs"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"model.{key}={getattr(self, key)} must be > 0")


class DenseAEDetector:
    def __init__(self, config: Config, seed: int, trainer: TrainerConfig) -> None:
        self.config = config
        self.seed = seed
        self.trainer_config = trainer
        self.net = None
        self.n_features = 0

    def _make_net(self, n_features: int):  # noqa: ANN202 - torch type imported lazily
        from rarewatch.models.nets import DenseAutoencoder

        self.n_features = n_features
        return DenseAutoencoder(n_features, self.config.hidden_dims, self.config.activation, self.config.dropout)

    def fit(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> FitReport:
        import lightning as L
        import torch
        from lightning.pytorch.callbacks import EarlyStopping

        from rarewatch.models.batches import batch_loader
        from rarewatch.models.lit_autoencoder import History, ReconstructionModule

        torch.set_num_threads(self.trainer_config.num_threads)
        L.seed_everything(self.seed, workers=True, verbose=False)
        self.net = self._make_net(x_train.shape[1])
        module = ReconstructionModule(self.net, self.config.learning_rate, self.config.weight_decay)
        train = batch_loader(torch.from_numpy(x_train), batch_size=self.config.batch_size, shuffle=True,
                             seed=self.seed)
        val = batch_loader(torch.from_numpy(x_val), batch_size=8192, shuffle=False, seed=self.seed)
        history = History()
        callbacks: list[L.Callback] = [history]
        if self.config.patience > 0:
            callbacks.append(EarlyStopping("val_loss", patience=self.config.patience, mode="min"))
        trainer = L.Trainer(
            accelerator=self.trainer_config.accelerator,
            devices=self.trainer_config.devices,
            deterministic=self.trainer_config.deterministic,
            enable_progress_bar=self.trainer_config.progress_bar,
            max_epochs=self.config.max_epochs,
            callbacks=callbacks,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        with warnings.catch_warnings():
            # The in-memory batches need no worker processes; Lightning's hint about them is noise here.
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            # Lightning 2.6 trips over its own deprecation (LeafSpec) inside fit; not ours to fix.
            warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated.*")
            start = time.perf_counter()
            trainer.fit(module, train, val)
            seconds = time.perf_counter() - start
        if history.best_state is not None:
            self.net.load_state_dict(history.best_state)
        epochs = len(history.rows)
        return FitReport(
            train_rows=len(x_train),
            val_rows=len(x_val),
            seconds=seconds,
            epochs=epochs,
            samples_per_second=len(x_train) * epochs / seconds if seconds > 0 else None,
            history=history.rows,
            extra={"best_epoch": history.best_epoch, "best_val_loss": history.best_loss},
        )

    def score(self, x: np.ndarray) -> np.ndarray:
        import torch

        from rarewatch.models.nets import reconstruction_error

        if self.net is None:
            raise RuntimeError("score() before fit() or load()")
        torch.set_num_threads(self.trainer_config.num_threads)
        return reconstruction_error(self.net, torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()

    def save(self, directory: Path) -> None:
        import torch

        torch.save(self.net.state_dict(), directory / "weights.pt")
        (directory / "net.json").write_text(json.dumps({"n_features": self.n_features}))


def build(config: Config, seed: int, trainer: TrainerConfig) -> DenseAEDetector:
    return DenseAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> DenseAEDetector:
    import torch

    det = DenseAEDetector(config, seed=0, trainer=trainer)
    n_features = json.loads((directory / "net.json").read_text())["n_features"]
    det.net = det._make_net(n_features)
    det.net.load_state_dict(torch.load(directory / "weights.pt", weights_only=True))
    det.net.eval()
    return det
