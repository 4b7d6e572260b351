"""Baseline: scikit-learn IsolationForest. Score = -score_samples (higher = more anomalous)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from rarewatch.config import FamilyConfig
from rarewatch.models.base import Rows
from rarewatch.models.sklearn_detector import SklearnDetector


class Config(FamilyConfig):
    n_estimators: int = Field(ge=1)
    max_samples: int = Field(ge=2)  # capped at the number of training rows
    max_features: float = Field(gt=0, le=1)


class IsolationForestDetector(SklearnDetector):
    name = "isolation_forest"
    config_class = Config
    trusted_types = ("sklearn.tree._tree.Tree",)

    def _make_estimator(self) -> Any:
        from sklearn.ensemble import IsolationForest

        c = self.config
        return IsolationForest(
            n_estimators=c.n_estimators,
            max_samples=c.max_samples,
            max_features=c.max_features,
            random_state=self.seed,
            n_jobs=1,
        )

    def _fit_estimator(self, train: Rows) -> int:
        x = train.fit_x(self.config.train_on)
        self.estimator.set_params(max_samples=min(self.config.max_samples, len(x)))
        self.estimator.fit(x)
        return len(x)

    def _score_estimator(self, x: np.ndarray) -> np.ndarray:
        return -self.estimator.score_samples(x)


FAMILY = IsolationForestDetector
