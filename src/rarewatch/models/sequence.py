"""What the sequence families share: windows cut from `Rows`, and nets applied window by window.

Row i is scored from the window of the `lookback` rows ending at i (rarewatch.data.windows):
windows stop at gaps in the time axis (more than `max_gap` median steps) and are left-padded with
the segment's first row, so every row of a split gets exactly one score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rarewatch.data.windows import segments, training_windows, window_index
from rarewatch.models import checks
from rarewatch.models.base import Rows

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch

SCORE_BATCH = 4096


@dataclass(frozen=True)
class SequenceConfig:
    """The fields every sequence family has: windows, LSTM size and training. Families extend it."""

    name: str
    train_on: Literal["normal", "all"]  # normal: only windows whose rows are all normal
    lookback: int
    stride: int
    max_gap: float
    hidden_size: int
    num_layers: int
    dropout: float
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int

    def __post_init__(self) -> None:
        check_config(self)


def check_config(config: Any) -> None:
    """Range checks of the SequenceConfig fields."""
    checks.at_least(config, 1, "lookback", "stride", "hidden_size", "num_layers", "batch_size", "max_epochs")
    checks.at_least(config, 0, "patience")
    checks.check(config, "max_gap", lambda v: v >= 1, ">= 1 (multiples of the median time step)")
    checks.dropout(config)
    checks.positive(config, "learning_rate")
    checks.at_least(config, 0, "weight_decay")


def row_windows(rows: Rows, lookback: int, max_gap: float) -> np.ndarray:
    """(len(rows), lookback) row numbers of every row's window."""
    return window_index(segments(rows.time, max_gap), lookback)


def chosen_windows(rows: Rows, config: Any, normal_only: bool, stride: int) -> np.ndarray:
    """(n_windows, lookback) row numbers of the windows to train (or validate) on.

    Training takes every `config.stride`-th window; validation passes stride 1 (all windows).
    """
    index = row_windows(rows, config.lookback, config.max_gap)
    return index[training_windows(index, rows.y, stride, normal_only)]


def gather(x: np.ndarray, index: np.ndarray) -> torch.Tensor:
    """(n_windows, lookback, n_features) float32 tensor of the windows' rows."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.float32)[index]))


def score_rows(
    per_window: Callable[[torch.Tensor], torch.Tensor], rows: Rows, lookback: int, max_gap: float
) -> np.ndarray:
    """One score per row: `per_window` maps a (batch, lookback, n_features) tensor to (batch,) scores.

    Windows are gathered a batch at a time, so scoring never holds all windows in memory.
    """
    import torch

    index = row_windows(rows, lookback, max_gap)
    x = torch.from_numpy(np.ascontiguousarray(rows.x, dtype=np.float32))
    out = []
    with torch.no_grad():
        for start in range(0, len(index), SCORE_BATCH):
            out.append(per_window(x[torch.from_numpy(index[start : start + SCORE_BATCH])]))
    return torch.cat(out).numpy() if out else np.empty(0, dtype=np.float32)
