"""Dense autoencoder: learns normal rows, flags what it cannot reconstruct (score = row MSE)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.errors import ConfigError
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector

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


class DenseAEDetector(TorchDetector):
    def _make_net(self, n_features: int):  # noqa: ANN202 - torch type imported lazily
        from rarewatch.models.nets import DenseAutoencoder

        self.n_features = n_features
        return DenseAutoencoder(n_features, self.config.hidden_dims, self.config.activation, self.config.dropout)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        import torch

        from rarewatch.models.batches import batch_loader
        from rarewatch.models.lit_autoencoder import ReconstructionModule
        from rarewatch.models.training import fit_module, seed_and_threads

        x_train, x_val = _fit_x(train, self.config.train_on), _fit_x(val, self.config.train_on)
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._make_net(x_train.shape[1])
        module = ReconstructionModule(self.net, self.config.learning_rate, self.config.weight_decay)
        return fit_module(
            module,
            batch_loader(torch.from_numpy(x_train), batch_size=self.config.batch_size, shuffle=True, seed=self.seed),
            batch_loader(torch.from_numpy(x_val), batch_size=8192, shuffle=False, seed=self.seed),
            max_epochs=self.config.max_epochs,
            patience=self.config.patience,
            trainer=self.trainer_config,
            train_samples=len(x_train),
            val_samples=len(x_val),
        )

    def score(self, rows: Rows) -> np.ndarray:
        import torch

        from rarewatch.models.nets import reconstruction_error

        if self.net is None:
            raise RuntimeError("score() before fit() or load()")
        torch.set_num_threads(self.trainer_config.num_threads)
        return reconstruction_error(self.net, torch.from_numpy(np.ascontiguousarray(rows.x, dtype=np.float32))).numpy()


def build(config: Config, seed: int, trainer: TrainerConfig) -> DenseAEDetector:
    return DenseAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> DenseAEDetector:
    return DenseAEDetector.restore(directory, config, trainer)


def _fit_x(rows: Rows, train_on: str) -> np.ndarray:
    return rows.normal_x() if train_on == "normal" else rows.x
