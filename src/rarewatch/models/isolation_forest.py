"""Baseline: scikit-learn IsolationForest. Score = -score_samples (higher = more anomalous)."""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.ensemble import IsolationForest

from rarewatch.models.base import FitReport, Rows


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["normal", "all"]
    n_estimators: int
    max_samples: int
    max_features: float


class IsolationForestDetector:
    def __init__(self, config: Config, seed: int) -> None:
        self.config = config
        self.forest = IsolationForest(
            n_estimators=config.n_estimators,
            max_samples=config.max_samples,
            max_features=config.max_features,
            random_state=seed,
            n_jobs=1,
        )

    def fit(self, train: Rows, val: Rows) -> FitReport:
        x_train = train.normal_x() if self.config.train_on == "normal" else train.x
        start = time.perf_counter()
        if self.config.max_samples > len(x_train):
            self.forest.set_params(max_samples=len(x_train))
        self.forest.fit(x_train)
        return FitReport(train_rows=len(x_train), val_rows=len(val), seconds=time.perf_counter() - start)

    def score(self, rows: Rows) -> np.ndarray:
        return -self.forest.score_samples(rows.x)

    def save(self, directory: Path) -> None:
        with (directory / "forest.pkl").open("wb") as f:
            pickle.dump(self.forest, f)


def build(config: Config, seed: int, trainer: object) -> IsolationForestDetector:
    return IsolationForestDetector(config, seed)


def load(directory: Path, config: Config, trainer: object) -> IsolationForestDetector:
    det = IsolationForestDetector(config, seed=0)
    with (directory / "forest.pkl").open("rb") as f:
        det.forest = pickle.load(f)
    return det
