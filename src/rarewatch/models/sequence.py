"""What the sequence families share: windows cut from `Rows`, their config, their fit, and scoring.

Row i is scored from the window of the `lookback` rows ending at i (rarewatch.data.windows):
windows stay inside the row's segment (one series, no gap in the time axis: `Rows.segment`, cut at
`data.max_gap`) and are left-padded with the segment's first row, so every row gets exactly one score.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from rarewatch.data.windows import training_windows, window_index
from rarewatch.errors import DataError
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector, TrainingConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

    from rarewatch.models.lightning_modules import SharedStepModule

SCORE_BATCH = 4096


class SequenceConfig(TrainingConfig):
    """The fields every sequence family has: windows and LSTM size. Families extend it."""

    lookback: int = Field(ge=1)  # rows per window
    stride: int = Field(ge=1)  # train on every stride-th window
    hidden_size: int = Field(ge=1)
    num_layers: int = Field(ge=1)
    dropout: float = Field(ge=0, lt=1)  # between stacked LSTM layers


def row_windows(rows: Rows, lookback: int) -> np.ndarray:
    """(len(rows), lookback) row numbers of every row's window."""
    return window_index(rows.segment, lookback)


def chosen_windows(rows: Rows, config: SequenceConfig, normal_only: bool, stride: int) -> np.ndarray:
    """(n_windows, lookback) row numbers of the windows to train (or validate) on.

    Training takes every `config.stride`-th window; validation passes stride 1 (all windows).
    """
    index = row_windows(rows, config.lookback)
    return index[training_windows(index, rows.y, stride, normal_only)]


def gather(x: np.ndarray, index: np.ndarray) -> torch.Tensor:
    """(n_windows, lookback, n_features) float32 tensor of the windows' rows."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.float32)[index]))


class SequenceDetector(TorchDetector):
    """A net over windows. `supervised` families learn each window's label (that of its last row)."""

    supervised = False

    def _check_windows(self, train_y: np.ndarray, val_y: np.ndarray) -> None:
        """Hook for families that need more of their windows (e.g. positives to learn from)."""

    @abstractmethod
    def _module(self, net: nn.Module, train_y: np.ndarray) -> SharedStepModule:
        """The LightningModule (the loss) that trains `net`."""

    def _fit_extra(self, train_y: np.ndarray) -> dict[str, Any]:
        """Figures about the training windows for the model card."""
        return {}

    def fit(self, train: Rows, val: Rows) -> FitReport:
        import torch

        from rarewatch.models.batches import Batches
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        normal_only = c.train_on == "normal" and not self.supervised
        index = {
            "train": chosen_windows(train, c, normal_only, c.stride),
            "val": chosen_windows(val, c, normal_only, stride=1),
        }
        for split, idx in index.items():
            if len(idx) == 0:
                raise DataError(
                    f"the {split} split has no {'all-normal ' if normal_only else ''}window of "
                    f"model.lookback={c.lookback} rows; lower model.lookback"
                )
        labels = {"train": train.y[index["train"][:, -1]], "val": val.y[index["val"][:, -1]]}
        self._check_windows(labels["train"], labels["val"])
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._new_net(train.x.shape[1])
        tensors = {
            split: (gather(rows.x, index[split]),)
            + ((torch.from_numpy(labels[split].astype(np.float32)),) if self.supervised else ())
            for split, rows in (("train", train), ("val", val))
        }
        report = fit_module(
            self._module(self.net, labels["train"]),
            Batches(*tensors["train"], batch_size=c.batch_size, shuffle=True, seed=self.seed),
            Batches(*tensors["val"], batch_size=SCORE_BATCH, shuffle=False, seed=self.seed),
            max_epochs=c.max_epochs,
            patience=c.patience,
            trainer=self.trainer_config,
            train_samples=len(index["train"]),
            val_samples=len(index["val"]),
        )
        report.extra.update({"unit": f"windows of {c.lookback} rows", **self._fit_extra(labels["train"])})
        return report

    def _score_windows(self, per_window: Callable[[torch.Tensor], torch.Tensor], rows: Rows) -> np.ndarray:
        """One score per row: `per_window` maps a (batch, lookback, n_features) tensor to (batch,) scores.

        Windows are gathered a batch at a time, so scoring never holds all windows in memory.
        """
        import torch

        self._trained_net()
        index = row_windows(rows, self.config.lookback)
        x = torch.from_numpy(np.ascontiguousarray(rows.x, dtype=np.float32))
        out = []
        with torch.no_grad():
            for start in range(0, len(index), SCORE_BATCH):
                out.append(per_window(x[torch.from_numpy(index[start : start + SCORE_BATCH])]))
        return torch.cat(out).numpy() if out else np.empty(0, dtype=np.float32)
