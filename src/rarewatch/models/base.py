"""The one interface every model family implements: fit on training rows, one score per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Rows:
    """One split, in time order: encoded features, 0/1 labels, and the rows' timestamps.

    Row-wise models use `x` (and `y` to pick normal rows); sequence models also need `time` to
    cut windows at gaps in the time axis (dropped event rows, outages).
    """

    x: np.ndarray
    y: np.ndarray
    time: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.x) == len(self.y) == len(self.time)):
            raise ValueError(f"x, y and time differ in length: {len(self.x)}, {len(self.y)}, {len(self.time)}")

    def __len__(self) -> int:
        return len(self.y)

    def normal_x(self) -> np.ndarray:
        return self.x[self.y == 0]


@dataclass
class FitReport:
    """What training did, for the model card and MLflow (per-epoch history for deep models)."""

    train_rows: int
    val_rows: int
    seconds: float = 0.0
    epochs: int = 0
    samples_per_second: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    """Higher score = more anomalous; `score` returns one value per row of `rows`."""

    def fit(self, train: Rows, val: Rows) -> FitReport: ...

    def score(self, rows: Rows) -> np.ndarray: ...

    def save(self, directory: Path) -> None: ...
