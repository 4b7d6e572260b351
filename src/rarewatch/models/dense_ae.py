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

        c = self.config
        return DenseAutoencoder(n_features, c.hidden_dims, c.activation, c.dropout)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.lit_autoencoder import ReconstructionModule

        c = self.config
        return self._fit_on_rows(train, val, lambda net: ReconstructionModule(net, c.learning_rate, c.weight_decay))

    def score(self, rows: Rows) -> np.ndarray:
        return self._score_in_batches(lambda net, x: ((net(x) - x) ** 2).mean(dim=1), rows)


def build(config: Config, seed: int, trainer: TrainerConfig) -> DenseAEDetector:
    return DenseAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> DenseAEDetector:
    return DenseAEDetector.restore(directory, config, trainer)
