"""PyOD's LOF (local outlier factor). Score = PyOD decision_function (higher = more anomalous).

How much sparser a row's neighbourhood is than its neighbours' own, among the k nearest training rows
(about 1 inside the normal rows, higher outside). Euclidean distance on the encoded (scaled) features.

Fitting costs about O(training rows^2), so it fits on at most `max_train_rows` training rows, drawn
with the run's seed (the same seed gives the same rows and the same scores).

Neighbours by brute force (see knn.py for why no search tree). Saving: skops, trusting PyOD's LOF alone.
"""

from __future__ import annotations

from typing import Any

from rarewatch.models.families._pyod import CONTAMINATION, NeighbourConfig, NeighbourDetector


class Config(NeighbourConfig):
    pass  # n_neighbors and max_train_rows (NeighbourConfig)


class LOFDetector(NeighbourDetector):
    name = "lof"
    config_class = Config
    trusted_types = ("pyod.models.lof.LOF",)

    def _make_estimator(self) -> Any:
        from pyod.models.lof import LOF

        # novelty=True: rows not seen in training are scored against the training rows (PyOD's default,
        # stated because sklearn's LocalOutlierFactor cannot score new rows without it). Brute force,
        # as in knn.py: a pickled search tree carries query counters that make the file drift.
        return LOF(
            contamination=CONTAMINATION,
            n_neighbors=self.config.n_neighbors,
            novelty=True,
            algorithm="brute",
            n_jobs=1,
        )


FAMILY = LOFDetector
