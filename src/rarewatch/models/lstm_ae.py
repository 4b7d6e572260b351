"""LSTM autoencoder: learns windows of normal rows; score = reconstruction error of row i's window.

Row i is scored from the `lookback` rows ending at i (see rarewatch.models.sequence). With
`score_on: window` the score is the MSE over the whole window, with `score_on: last` the MSE of
the window's last row (row i itself) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.errors import DataError
from rarewatch.models import sequence
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config(sequence.SequenceConfig):
    score_on: Literal["window", "last"]


class LSTMAEDetector(TorchDetector):
    def _make_net(self, n_features: int):  # noqa: ANN202 - torch type imported lazily
        from rarewatch.models.nets import LSTMAutoencoder

        c = self.config
        return LSTMAutoencoder(n_features, c.hidden_size, c.num_layers, c.dropout)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.batches import batch_loader
        from rarewatch.models.lit_autoencoder import ReconstructionModule
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        normal_only = c.train_on == "normal"
        w_train = sequence.gather(train.x, sequence.chosen_windows(train, c, normal_only, c.stride))
        w_val = sequence.gather(val.x, sequence.chosen_windows(val, c, normal_only, stride=1))
        for split, w in (("train", w_train), ("val", w_val)):
            if len(w) == 0:
                raise DataError(
                    f"the {split} split has no {'all-normal ' if normal_only else ''}window of "
                    f"model.lookback={c.lookback} rows; lower model.lookback"
                )
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._new_net(train.x.shape[1])
        module = ReconstructionModule(self.net, c.learning_rate, c.weight_decay)
        report = fit_module(
            module,
            batch_loader(w_train, batch_size=c.batch_size, shuffle=True, seed=self.seed),
            batch_loader(w_val, batch_size=4096, shuffle=False, seed=self.seed),
            max_epochs=c.max_epochs,
            patience=c.patience,
            trainer=self.trainer_config,
            train_samples=len(w_train),
            val_samples=len(w_val),
        )
        report.extra["unit"] = f"windows of {c.lookback} rows"
        return report

    def score(self, rows: Rows) -> np.ndarray:
        import torch

        net = self._trained_net()
        last_row_only = self.config.score_on == "last"

        def error(w: torch.Tensor) -> torch.Tensor:
            err = (net(w) - w) ** 2
            return err[:, -1].mean(dim=1) if last_row_only else err.mean(dim=(1, 2))

        return sequence.score_rows(error, rows, self.config.lookback, self.config.max_gap)


def build(config: Config, seed: int, trainer: TrainerConfig) -> LSTMAEDetector:
    return LSTMAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> LSTMAEDetector:
    return LSTMAEDetector.restore(directory, config, trainer)
