"""Supervised baseline: histogram gradient boosting on the labels. Score = predicted event probability.

Where labels exist, this is the bar an unsupervised detector has to clear to be worth its keep.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from rarewatch.errors import ConfigError, DataError
from rarewatch.models.base import FitReport, Rows


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["all"]  # supervised: it needs the event rows too
    max_iter: int
    learning_rate: float
    max_leaf_nodes: int
    balanced: bool  # weight classes by their inverse frequency (rare events otherwise barely count)

    def __post_init__(self) -> None:
        if self.max_iter < 1 or self.max_leaf_nodes < 2 or self.learning_rate <= 0:
            raise ConfigError(
                f"model.max_iter={self.max_iter} (>= 1), model.max_leaf_nodes={self.max_leaf_nodes} (>= 2) and "
                f"model.learning_rate={self.learning_rate} (> 0) are out of range"
            )


class GradientBoostingDetector:
    def __init__(self, config: Config, seed: int) -> None:
        self.config = config
        self.model = HistGradientBoostingClassifier(
            max_iter=config.max_iter,
            learning_rate=config.learning_rate,
            max_leaf_nodes=config.max_leaf_nodes,
            class_weight="balanced" if config.balanced else None,
            early_stopping=False,  # validation is for thresholds; no internal random holdout
            random_state=seed,
        )

    def fit(self, train: Rows, val: Rows) -> FitReport:
        if train.y.min() == train.y.max():
            raise DataError(
                "gradient_boosting needs both normal and event rows in the training split; it has only "
                f"label {int(train.y[0])}; use an unsupervised model or a longer training split"
            )
        start = time.perf_counter()
        self.model.fit(train.x, train.y)
        return FitReport(train_rows=len(train), val_rows=len(val), seconds=time.perf_counter() - start)

    def score(self, rows: Rows) -> np.ndarray:
        return self.model.predict_proba(rows.x)[:, 1]

    def save(self, directory: Path) -> None:
        with (directory / "gradient_boosting.pkl").open("wb") as f:
            pickle.dump(self.model, f)


def build(config: Config, seed: int, trainer: object) -> GradientBoostingDetector:
    return GradientBoostingDetector(config, seed)


def load(directory: Path, config: Config, trainer: object) -> GradientBoostingDetector:
    det = GradientBoostingDetector(config, seed=0)
    with (directory / "gradient_boosting.pkl").open("rb") as f:
        det.model = pickle.load(f)
    return det
