"""Baseline: PCA reconstruction error (the linear autoencoder). Score = per-row squared error."""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.decomposition import PCA

from rarewatch.errors import ConfigError
from rarewatch.models.base import FitReport, Rows


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["normal", "all"]
    variance: float  # keep the fewest components explaining this share of the training variance

    def __post_init__(self) -> None:
        if not 0 < self.variance < 1:
            raise ConfigError(f"model.variance={self.variance} must be in (0, 1), e.g. 0.9")


class PCADetector:
    def __init__(self, config: Config, seed: int) -> None:
        self.config = config
        self.pca = PCA(n_components=config.variance, svd_solver="full", random_state=seed)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        x = train.normal_x() if self.config.train_on == "normal" else train.x
        start = time.perf_counter()
        self.pca.fit(x)
        return FitReport(
            train_rows=len(x),
            val_rows=len(val),
            seconds=time.perf_counter() - start,
            extra={"components": int(self.pca.n_components_)},
        )

    def score(self, rows: Rows) -> np.ndarray:
        x = rows.x.astype(np.float64)
        recon = self.pca.inverse_transform(self.pca.transform(x))
        return ((x - recon) ** 2).mean(axis=1)

    def save(self, directory: Path) -> None:
        with (directory / "pca.pkl").open("wb") as f:
            pickle.dump(self.pca, f)


def build(config: Config, seed: int, trainer: object) -> PCADetector:
    return PCADetector(config, seed)


def load(directory: Path, config: Config, trainer: object) -> PCADetector:
    det = PCADetector(config, seed=0)
    with (directory / "pca.pkl").open("rb") as f:
        det.pca = pickle.load(f)
    return det
