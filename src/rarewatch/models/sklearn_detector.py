"""The base of families built on a scikit-learn-style estimator, saved with skops instead of pickle.

skops refuses to load any type it does not trust; a family lists, in `trusted_types`, exactly the
types its fitted estimator needs beyond the ones skops trusts by default. A file that asks for
anything else (a planted or foreign file) is refused before any of it is run.
"""

from __future__ import annotations

import time
import zipfile
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rarewatch.errors import DataError
from rarewatch.models.base import Detector, FitReport, Rows

ESTIMATOR_FILE = "estimator.skops"


class SklearnDetector(Detector):
    trusted_types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, seed: int, trainer: Any) -> None:
        super().__init__(config, seed, trainer)
        self.estimator: Any = self._make_estimator()

    @abstractmethod
    def _make_estimator(self) -> Any:
        """A new, unfitted estimator from `self.config` and `self.seed`."""

    @abstractmethod
    def _score_estimator(self, x: np.ndarray) -> np.ndarray:
        """Scores of the fitted estimator, higher = more anomalous."""

    def _fit_estimator(self, train: Rows) -> int:
        """Fit on the rows `train_on` names; returns how many rows were used."""
        x = train.fit_x(self.config.train_on)
        self.estimator.fit(x)
        return len(x)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        start = time.perf_counter()
        used = self._fit_estimator(train)
        return FitReport(
            train_rows=used, val_rows=len(val), seconds=time.perf_counter() - start, extra=self._fit_extra()
        )

    def _fit_extra(self) -> dict[str, Any]:
        return {}

    def score(self, rows: Rows) -> np.ndarray:
        return np.asarray(self._score_estimator(rows.x), dtype=np.float64)

    def _save_state(self, directory: Path) -> None:
        import skops.io

        skops.io.dump(self.estimator, directory / ESTIMATOR_FILE)

    def _load_state(self, directory: Path) -> None:
        import skops.io

        path = directory / ESTIMATOR_FILE
        if not path.is_file():
            raise FileNotFoundError(f"'{path}' not found; rerun the 'train' stage")
        try:
            foreign = sorted(set(skops.io.get_untrusted_types(file=path)) - set(self.trusted_types))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:  # not a skops file at all
            raise DataError(f"'{path}' is not a skops file this family wrote ({exc}); rerun the 'train' stage") from exc
        if foreign:
            raise DataError(
                f"'{path}' asks to load types a '{self.name}' model never contains ({', '.join(foreign)}); "
                "refusing to open it. Retrain (dvc repro train) rather than loading a file from elsewhere"
            )
        self.estimator = skops.io.load(path, trusted=list(self.trusted_types))
