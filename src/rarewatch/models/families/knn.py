"""PyOD's KNN: distance to the k nearest training rows. Score = PyOD decision_function (higher = more anomalous).

`method` turns the k distances into one score: the largest (the k-th neighbour's distance), their
mean or their median. Euclidean distance on the encoded (scaled) features.

Fitting costs about O(training rows^2), so it fits on at most `max_train_rows` training rows, drawn
with the run's seed (the same seed gives the same rows and the same scores).

Saving: skops, trusting PyOD's KNN and what sklearn's neighbour search holds: a KD tree and its
Euclidean metric when sklearn picks one (few features), nothing more when it searches by brute force.
"""

from __future__ import annotations

from typing import Any, Literal

from rarewatch.models.families._pyod import CONTAMINATION, NeighbourConfig, NeighbourDetector


class Config(NeighbourConfig):
    method: Literal["largest", "mean", "median"]  # how the k neighbour distances make one score


class KNNDetector(NeighbourDetector):
    name = "knn"
    config_class = Config
    config: Config
    trusted_types = (
        "pyod.models.knn.KNN",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.neighbors._kd_tree.KDTree",
    )

    def _make_estimator(self) -> Any:
        from pyod.models.knn import KNN

        # algorithm='auto': sklearn picks a KD tree or brute force; both give the exact neighbours.
        return KNN(
            contamination=CONTAMINATION,
            n_neighbors=self.config.n_neighbors,
            method=self.config.method,
            algorithm="auto",
            n_jobs=1,
        )


FAMILY = KNNDetector
