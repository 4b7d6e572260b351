"""The one interface every model family implements: fit on training rows, one score per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


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
    """Higher score = more anomalous. X is already imputed, scaled and encoded (float32)."""

    def fit(
        self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray
    ) -> FitReport: ...

    def score(self, x: np.ndarray) -> np.ndarray: ...

    def save(self, directory: Path) -> None: ...
