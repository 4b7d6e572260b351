"""Supervised baseline: histogram gradient boosting on the labels. Score = predicted event probability.

Where labels exist, this is the bar an unsupervised detector has to clear to be worth its keep.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from rarewatch.config import FamilyConfig
from rarewatch.errors import DataError
from rarewatch.models.base import Rows
from rarewatch.models.sklearn_detector import SklearnDetector


class Config(FamilyConfig):
    train_on: Literal["all"]  # supervised: it needs the event rows too
    max_iter: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    max_leaf_nodes: int = Field(ge=2)
    balanced: bool  # weight classes by their inverse frequency (rare events otherwise barely count)


class GradientBoostingDetector(SklearnDetector):
    name = "gradient_boosting"
    config_class = Config
    trusted_types = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)

    def _make_estimator(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        c = self.config
        return HistGradientBoostingClassifier(
            max_iter=c.max_iter,
            learning_rate=c.learning_rate,
            max_leaf_nodes=c.max_leaf_nodes,
            class_weight="balanced" if c.balanced else None,
            early_stopping=False,  # validation is for thresholds; no internal random holdout
            random_state=self.seed,
        )

    def _fit_estimator(self, train: Rows) -> int:
        if train.y.min() == train.y.max():
            raise DataError(
                "gradient_boosting needs both normal and event rows in the training split; it has only "
                f"label {int(train.y[0])}; use an unsupervised model or a longer training split"
            )
        self.estimator.fit(train.x, train.y)
        return len(train)

    def _score_estimator(self, x: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(x)[:, 1]


FAMILY = GradientBoostingDetector
