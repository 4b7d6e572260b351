"""LSTM autoencoder: learns windows of normal rows; score = reconstruction error of row i's window.

Row i is scored from the `lookback` rows ending at i (see rarewatch.models.sequence). With
`score_on: window` the score is the MSE over the whole window, with `score_on: last` the MSE of
the window's last row (row i itself) only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.models.base import Rows
from rarewatch.models.sequence import SequenceConfig, SequenceDetector

if TYPE_CHECKING:
    import torch
    from torch import nn

    from rarewatch.models.lightning_modules import SharedStepModule


class Config(SequenceConfig):
    score_on: Literal["window", "last"]


class LSTMAEDetector(SequenceDetector):
    name = "lstm_ae"
    config_class = Config

    def _make_net(self, n_features: int) -> nn.Module:
        from rarewatch.models.nets import LSTMAutoencoder

        c = self.config
        return LSTMAutoencoder(n_features, c.hidden_size, c.num_layers, c.dropout)

    def _module(self, net: nn.Module, train_y: np.ndarray) -> SharedStepModule:
        from rarewatch.models.lightning_modules import ReconstructionModule

        return ReconstructionModule(net, self.config.learning_rate, self.config.weight_decay)

    def score(self, rows: Rows) -> np.ndarray:
        net = self._trained_net()
        last_row_only = self.config.score_on == "last"

        def error(w: torch.Tensor) -> torch.Tensor:
            err = (net(w) - w) ** 2
            return err[:, -1].mean(dim=1) if last_row_only else err.mean(dim=(1, 2))

        return self._score_windows(error, rows)

    def contributions(self, rows: Rows) -> np.ndarray:
        net = self._trained_net()
        return self._score_windows(lambda w: ((net(w) - w) ** 2)[:, -1], rows)  # the row's own reconstruction


FAMILY = LSTMAEDetector
