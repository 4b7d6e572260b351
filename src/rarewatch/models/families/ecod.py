"""PyOD's ECOD (empirical-CDF outlier detection). Score = PyOD decision_function (higher = more anomalous).

Per feature, how far into either tail of the training rows' empirical distribution a value lies,
summed over features; no settings beyond the training rows. Fast: sorting, O(rows log rows) per feature.

Saving: skops stores the fitted estimator, whose state is the training rows themselves (`X_train`)
and their scores; it needs only `pyod.models.ecod.ECOD` trusted beyond skops' defaults. Scoring uses
the training rows together with the scored batch (see `EcdfDetector`).
"""

from __future__ import annotations

from typing import Any

from rarewatch.config import FamilyConfig
from rarewatch.models.families._pyod import CONTAMINATION, EcdfDetector


class Config(FamilyConfig):
    pass  # parameter-free: only train_on


class ECODDetector(EcdfDetector):
    name = "ecod"
    config_class = Config
    trusted_types = ("pyod.models.ecod.ECOD",)

    def _make_estimator(self) -> Any:
        from pyod.models.ecod import ECOD

        # n_jobs=1: PyOD's parallel path starts joblib workers, prints progress and rewrites its own n_jobs.
        return ECOD(contamination=CONTAMINATION, n_jobs=1)


FAMILY = ECODDetector
