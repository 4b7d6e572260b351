"""PyOD's KNN: distance to the k nearest training rows. Score = PyOD decision_function (higher = more anomalous).

`method` turns the k distances into one score: the largest (the k-th neighbour's distance), their
mean or their median. Euclidean distance on the encoded (scaled) features.

Fitting costs about O(training rows^2), so it fits on at most `max_train_rows` training rows, drawn
with the run's seed (the same seed gives the same rows and the same scores).

Neighbours are found by brute force (exact, and BLAS-fast on capped training rows). sklearn's KD and
ball trees count every query inside the tree they pickle, so a tree-backed model's saved file would
change with what it had scored, and dvc.lock would see a new model where there is none. Saving: skops,
trusting PyOD's KNN alone.
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
    trusted_types = ("pyod.models.knn.KNN",)

    def _make_estimator(self) -> Any:
        import warnings

        from pyod.models.knn import KNN

        with warnings.catch_warnings():
            # PyOD calls `algorithm` deprecated "in 0.7.6"; it is still honoured in the pinned 3.6.
            warnings.filterwarnings("ignore", message="algorithm parameter is deprecated", category=FutureWarning)
            return KNN(
                contamination=CONTAMINATION,
                n_neighbors=self.config.n_neighbors,
                method=self.config.method,
                algorithm="brute",
                n_jobs=1,
            )


FAMILY = KNNDetector
