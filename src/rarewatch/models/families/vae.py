"""Variational autoencoder on rows, trained on normal rows by the negative ELBO.

Score (`score:`): `elbo` = the row's negative ELBO (squared reconstruction error summed over
features + beta * KL of its latent code), `reconstruction` = the row's reconstruction MSE alone.
Both use z = mu (no sampling), so scores are deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector, TrainingConfig

if TYPE_CHECKING:
    from torch import nn


class Config(TrainingConfig):
    hidden_dims: list[int] = Field(min_length=1)  # encoder widths; the decoder mirrors them
    latent_dim: int = Field(ge=1)
    activation: Literal["relu", "tanh", "elu", "gelu"]
    beta: float = Field(ge=0)  # weight of the KL term in the negative ELBO (1 = the plain ELBO)
    score: Literal["elbo", "reconstruction"]


class VAEDetector(TorchDetector):
    name = "vae"
    config_class = Config

    def _make_net(self, n_features: int) -> nn.Module:
        from rarewatch.models.nets import DenseVAE

        c = self.config
        return DenseVAE(n_features, c.hidden_dims, c.latent_dim, c.activation)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.lightning_modules import VAEModule

        c = self.config
        return self._fit_on_rows(train, val, lambda net: VAEModule(net, c.learning_rate, c.weight_decay, c.beta))

    def score(self, rows: Rows) -> np.ndarray:
        from rarewatch.models.lightning_modules import negative_elbo

        if self.config.score == "elbo":
            return self._score_in_batches(lambda net, x: negative_elbo(net, x, self.config.beta), rows)
        return self._score_in_batches(lambda net, x: ((net(x)[0] - x) ** 2).mean(dim=1), rows)

    def contributions(self, rows: Rows) -> np.ndarray:
        return self._score_in_batches(lambda net, x: (net(x)[0] - x) ** 2, rows)


FAMILY = VAEDetector
