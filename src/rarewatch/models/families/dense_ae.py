"""Dense autoencoder: learns normal rows, flags what it cannot reconstruct (score = row MSE)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector, TrainingConfig

if TYPE_CHECKING:
    from torch import nn


class Config(TrainingConfig):
    hidden_dims: list[int] = Field(min_length=1)  # layer widths; the narrowest is the bottleneck
    activation: Literal["relu", "tanh", "elu", "gelu"]
    dropout: float = Field(ge=0, lt=1)


class DenseAEDetector(TorchDetector):
    name = "dense_ae"
    config_class = Config

    def _make_net(self, n_features: int) -> nn.Module:
        from rarewatch.models.nets import DenseAutoencoder

        c = self.config
        return DenseAutoencoder(n_features, c.hidden_dims, c.activation, c.dropout)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.lightning_modules import ReconstructionModule

        c = self.config
        return self._fit_on_rows(train, val, lambda net: ReconstructionModule(net, c.learning_rate, c.weight_decay))

    def score(self, rows: Rows) -> np.ndarray:
        # square_ in place: one (batch, n_features) temporary fewer per batch.
        return self._score_in_batches(lambda net, x: (net(x) - x).square_().mean(dim=1), rows)

    def contributions(self, rows: Rows) -> np.ndarray:
        return self._score_in_batches(lambda net, x: (net(x) - x) ** 2, rows)


FAMILY = DenseAEDetector
