"""What the PyOD families (ecod, copod, knn, lof) share: a PyOD detector behind the SklearnDetector contract.

PyOD is the field's own library of the detectors users compare against; these families wrap its
estimators rather than reimplement them. Score = PyOD's `decision_function` (higher = more anomalous).

Not a family itself (`families.names()` skips modules starting with '_'). Like every family module it
imports PyOD only inside methods: `import pyod.models.ecod` alone takes seconds (numba, llvmlite and
matplotlib.pyplot), and the validate stage imports every family module.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from rarewatch.config import FamilyConfig
from rarewatch.errors import ConfigError, DataError
from rarewatch.models.base import Rows
from rarewatch.models.sklearn_detector import SklearnDetector

# PyOD requires a contamination in (0, 0.5] and uses it only to set `threshold_` and `labels_` on the
# training rows, for its own predict(). rarewatch never calls predict: thresholds are chosen on
# validation scores by the evaluate stage, and decision_function does not depend on contamination
# (tests/unit/test_families.py checks that). So it is fixed here rather than offered as a setting.
CONTAMINATION = 0.1


class PyODDetector(SklearnDetector):
    """A fitted PyOD estimator scored by its decision_function."""

    def _score_estimator(self, x: np.ndarray) -> np.ndarray:
        return self.estimator.decision_function(x)


# ------------------------------------------------------------------------------- ECOD and COPOD

# decision_function recomputes these on every call, for the training rows plus the scored rows, and
# leaves them on the estimator: the fitted model needs none of them.
_ECDF_SCRATCH = ("O", "U_l", "U_r", "U_skew")


class EcdfDetector(PyODDetector):
    """ECOD and COPOD: per-feature empirical CDFs of the training rows, kept as the rows themselves.

    PyOD scores a batch by computing the ECDFs over the training rows and the batch together (by
    design, its maintainer says in pyod issue #401), so a row's score depends a little on the other rows
    scored with it; the evaluate stage scores each split as one batch. On the default data a test row's
    score moves by a median 2-4% against scoring it alone (ROC-AUC by under 0.01); scoring rows one
    at a time instead would cost about 60 ms a row.
    """

    def _fit_estimator(self, train: Rows) -> int:
        used = super()._fit_estimator(train)
        # The training call's per-call arrays (4 x training rows x features) would otherwise go into
        # the saved file for nothing.
        for name in _ECDF_SCRATCH:
            delattr(self.estimator, name)
        return used

    def _score_estimator(self, x: np.ndarray) -> np.ndarray:
        # On a shallow copy (the training rows are shared, not copied): decision_function writes its
        # per-call arrays onto the estimator, which would keep (training + scored rows) x features
        # x 4 floats alive after scoring and make the saved file depend on what was scored before.
        return copy.copy(self.estimator).decision_function(x)


# ------------------------------------------------------------------------------- kNN and LOF


class NeighbourConfig(FamilyConfig):
    """The settings kNN and LOF share: neighbours and the cap on training rows."""

    n_neighbors: int = Field(ge=1)
    # Neighbour search costs about O(training rows^2) to fit: above this many training rows, fit on a
    # subsample of this size drawn with the run's seed. 0 or null: all training rows.
    max_train_rows: int | None = Field(ge=0)

    @model_validator(mode="after")
    def _enough_rows_for_the_neighbours(self) -> NeighbourConfig:
        if self.max_train_rows and self.max_train_rows <= self.n_neighbors:
            raise ConfigError(
                f"model.max_train_rows={self.max_train_rows} leaves no more rows than model.n_neighbors="
                f"{self.n_neighbors}; raise model.max_train_rows above it (0 or null: all training rows)"
            )
        return self


def seeded_rows(x: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """At most `max_rows` rows of `x`, drawn without replacement by `seed`, in their original order.

    All rows when `max_rows` is 0 or None, or when there are no more than that.
    """
    if not max_rows or len(x) <= max_rows:
        return x
    keep = np.random.default_rng(seed).choice(len(x), size=max_rows, replace=False)
    return x[np.sort(keep)]


class NeighbourDetector(PyODDetector):
    """kNN and LOF: fitted on at most `max_train_rows` training rows, drawn with the run's seed."""

    config: NeighbourConfig

    def _fit_estimator(self, train: Rows) -> int:
        c = self.config
        available = train.fit_x(c.train_on)
        x = seeded_rows(available, c.max_train_rows, self.seed)
        # Each training row's own score needs n_neighbors other rows; sklearn would otherwise fail
        # with a message about its internals, or (LOF) quietly use fewer neighbours.
        if len(x) <= c.n_neighbors:
            raise DataError(
                f"{self.name}: model.n_neighbors={c.n_neighbors} needs more than {c.n_neighbors} training rows "
                f"({c.train_on} rows), got {len(x)}; lower model.n_neighbors or train on a longer split"
            )
        self.available_rows = len(available)
        self.estimator.fit(x)
        return len(x)

    def _fit_extra(self) -> dict[str, Any]:
        return {"available_train_rows": self.available_rows}
