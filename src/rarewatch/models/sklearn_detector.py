"""The base of families built on a scikit-learn-style estimator, saved with skops instead of pickle.

skops refuses to load any type it does not trust; a family lists, in `trusted_types`, exactly the
types its fitted estimator needs beyond the ones skops trusts by default. A file that asks for
anything else (a planted or foreign file) is refused before any of it is run.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rarewatch.errors import DataError
from rarewatch.models.base import Detector, FitReport, Rows

ESTIMATOR_FILE = "estimator.skops"


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def canonical_skops(data: bytes) -> bytes:
    """The same skops file with its volatile parts made stable, so equal models give equal bytes.

    skops names an array file and tags each object with the object's id() in this process, and stamps
    zip entries with the clock; renumbering both in the order they appear (consistently, so shared
    references stay shared) and fixing the time keeps models/ byte-reproducible, as dvc.lock expects.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        schema = json.loads(src.read("schema.json"))
        ids: dict[int, int] = {}
        files: dict[str, str] = {}

        def renumber(node: Any) -> Any:
            if isinstance(node, dict):
                out = {}
                for key, value in node.items():
                    if key == "__id__" and isinstance(value, int):
                        out[key] = ids.setdefault(value, len(ids) + 1)
                    elif key == "file" and isinstance(value, str) and value in src.namelist():
                        out[key] = files.setdefault(value, f"{len(files):06d}{Path(value).suffix}")
                    else:
                        out[key] = renumber(value)
                return out
            if isinstance(node, list):
                return [renumber(v) for v in node]
            return node

        schema = renumber(schema)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            dst.writestr(zipfile.ZipInfo("schema.json", ZIP_TIME), json.dumps(schema, sort_keys=True))
            for old, new in sorted(files.items(), key=lambda item: item[1]):
                info = zipfile.ZipInfo(new, ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, src.read(old))
            leftover = set(src.namelist()) - set(files) - {"schema.json"}
            if leftover:
                raise ValueError(f"skops file has entries its schema does not name: {sorted(leftover)[:5]}")
    return buffer.getvalue()


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
        with self._threads():
            used = self._fit_estimator(train)
        return FitReport(
            train_rows=used, val_rows=len(val), seconds=time.perf_counter() - start, extra=self._fit_extra()
        )

    def _fit_extra(self) -> dict[str, Any]:
        return {}

    def score(self, rows: Rows) -> np.ndarray:
        with self._threads():
            return np.asarray(self._score_estimator(rows.x), dtype=np.float64)

    def _threads(self) -> Any:
        """OpenMP and BLAS held to the job's thread budget (trainer.num_threads).

        Left alone, scikit-learn's histogram boosting takes every core, and its parallel sums then
        depend on how threads were scheduled: two fits with one seed gave different trees under load.
        One budget also keeps parallel sweep jobs from oversubscribing the machine.
        """
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.trainer_config.num_threads)

    def _save_state(self, directory: Path) -> None:
        import skops.io

        (directory / ESTIMATOR_FILE).write_bytes(canonical_skops(skops.io.dumps(self.estimator)))

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
