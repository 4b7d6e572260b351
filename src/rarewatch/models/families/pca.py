"""Baseline: PCA reconstruction error (the linear autoencoder). Score = per-row squared error."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from rarewatch.config import FamilyConfig
from rarewatch.models.base import Rows
from rarewatch.models.sklearn_detector import SklearnDetector


class Config(FamilyConfig):
    variance: float = Field(gt=0, lt=1)  # keep the fewest components explaining this share of the variance


class PCADetector(SklearnDetector):
    name = "pca"
    config_class = Config

    def _make_estimator(self) -> Any:
        from sklearn.decomposition import PCA

        return PCA(n_components=self.config.variance, svd_solver="full", random_state=self.seed)

    def _fit_extra(self) -> dict[str, Any]:
        return {"components": int(self.estimator.n_components_)}

    def _score_estimator(self, x: np.ndarray) -> np.ndarray:
        return self._squared_errors(x).mean(axis=1)

    def _squared_errors(self, x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        return (x - self.estimator.inverse_transform(self.estimator.transform(x))) ** 2

    def contributions(self, rows: Rows) -> np.ndarray:
        return self._squared_errors(rows.x)


FAMILY = PCADetector
