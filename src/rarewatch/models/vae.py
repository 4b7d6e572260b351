"""Variational autoencoder on rows, trained on normal rows by the negative ELBO.

Score (`score:`): `elbo` = the row's negative ELBO (squared reconstruction error summed over
features + beta * KL of its latent code), `reconstruction` = the row's reconstruction MSE alone.
Both use z = mu (no sampling), so scores are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.models import checks
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["normal", "all"]
    hidden_dims: list[int]
    latent_dim: int
    activation: Literal["relu", "tanh", "elu", "gelu"]
    beta: float  # weight of the KL term in the negative ELBO
    score: Literal["elbo", "reconstruction"]
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int

    def __post_init__(self) -> None:
        checks.hidden_dims(self)
        checks.at_least(self, 1, "latent_dim", "batch_size", "max_epochs")
        checks.check(self, "beta", lambda v: v >= 0, ">= 0 (1 is the plain ELBO)")
        checks.positive(self, "learning_rate")
        checks.at_least(self, 0, "patience", "weight_decay")


class VAEDetector(TorchDetector):
    def _make_net(self, n_features: int):  # noqa: ANN202 - torch type imported lazily
        from rarewatch.models.nets import DenseVAE

        c = self.config
        return DenseVAE(n_features, c.hidden_dims, c.latent_dim, c.activation)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.lit_vae import VAEModule

        c = self.config
        return self._fit_on_rows(train, val, lambda net: VAEModule(net, c.learning_rate, c.weight_decay, c.beta))

    def score(self, rows: Rows) -> np.ndarray:
        from rarewatch.models.lit_vae import negative_elbo

        if self.config.score == "elbo":
            return self._score_in_batches(lambda net, x: negative_elbo(net, x, self.config.beta), rows)
        return self._score_in_batches(lambda net, x: ((net(x)[0] - x) ** 2).mean(dim=1), rows)


def build(config: Config, seed: int, trainer: TrainerConfig) -> VAEDetector:
    return VAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> VAEDetector:
    return VAEDetector.restore(directory, config, trainer)
