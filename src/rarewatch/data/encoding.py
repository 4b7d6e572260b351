"""The fitted part of preprocessing: median imputer, standard scaler and one-hot encoder.

Fitted on training rows only (docs/protocol.md, "Fit on training rows"). The fitted
state is a handful of numbers per column, saved as JSON: a model directory never needs pickle.
Numeric columns: missing values become the training median, then (x - mean) / std with the training
mean and population std (std 0 counts as 1). With `per_series`, each series gets its own median, mean
and std from its own training rows (machines with different operating points), and a series without
training rows cannot be encoded. Categorical columns: one 0/1 column per category seen in training,
sorted; unseen and missing categories give all zeros.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.data import finite
from rarewatch.data.schema import SERIES, feature_columns
from rarewatch.errors import DataError

ENCODER_FILE = "encoder.json"


class Encoder:
    """Frame -> float32 matrix, fitted on the rows the model trains on."""

    def __init__(
        self,
        categorical: list[str],
        impute: bool,
        max_missing_fraction: float = 1.0,
        per_series: bool = False,
        nonfinite: str = "refuse",
    ) -> None:
        self.categorical = list(categorical)
        self.impute = impute
        self.max_missing_fraction = max_missing_fraction
        self.per_series = per_series
        self.nonfinite = nonfinite  # preprocess.nonfinite: refuse | clip | impute (rarewatch.data.finite)
        # per numeric column: the smallest and largest in-range training value (what `clip` replaces with)
        self.low: np.ndarray = np.empty(0)
        self.high: np.ndarray = np.empty(0)
        # series -> (median, mean, scale), for per_series scaling
        self.series_stats: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.columns: list[str] = []  # the input columns used, in order
        self.dropped_missing: list[str] = []
        self.numeric: list[str] = []
        self.median: np.ndarray = np.empty(0)
        self.mean: np.ndarray = np.empty(0)
        self.scale: np.ndarray = np.empty(0)
        self.categories: dict[str, list[str]] = {}
        self.fitted = False

    def fit(self, df: pd.DataFrame) -> Encoder:
        if len(df) == 0:
            raise DataError("no rows to fit the scaler on")
        columns = feature_columns(df)
        # Judged on the fit rows only, like every other fitted statistic here.
        missing = df[columns].isna().mean()
        self.dropped_missing = [c for c in columns if missing[c] > self.max_missing_fraction]
        self.columns = [c for c in columns if c not in self.dropped_missing]
        if not self.columns:
            raise DataError(
                f"every feature is missing in more than {self.max_missing_fraction:.0%} of the training rows; "
                "raise preprocess.max_missing_fraction"
            )
        self.numeric = [c for c in self.columns if c not in self.categorical]
        x = df[self.numeric].to_numpy(dtype=np.float64)
        bad = finite.out_of_range(x)
        self._check_policy(bad, "the training rows")
        in_range = np.where(bad, np.nan, x)
        seen = ~np.isnan(in_range).all(axis=0)
        self.low, self.high = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        self.low[seen], self.high[seen] = np.nanmin(in_range[:, seen], axis=0), np.nanmax(in_range[:, seen], axis=0)
        # Statistics of what the model will see: clipped values, or (impute) the values in range only.
        x = self._clipped(x, bad) if self.nonfinite == "clip" else in_range
        self.median, self.mean, self.scale = self._statistics(x)
        if self.per_series:
            if SERIES not in df:
                raise DataError("preprocess.scaling=per_series needs series: set data.series_column")
            series = df[SERIES].astype(str).to_numpy()
            self.series_stats = {name: self._statistics(x[series == name]) for name in sorted(set(series))}
        self.categories = {
            c: sorted(df[c].dropna().astype(str).unique().tolist()) for c in self.columns if c in self.categorical
        }
        self.fitted = True
        return self

    def _check_policy(self, bad: np.ndarray, where: str) -> None:
        """nonfinite=refuse: out-of-range values stop here too (preprocess refuses them first)."""
        if self.nonfinite == "refuse" and bad.any():
            found = {c: int(n) for c, n in zip(self.numeric, bad.sum(axis=0), strict=True) if n}
            finite.refuse(found, where)

    def _clipped(self, x: np.ndarray, bad: np.ndarray) -> np.ndarray:
        """Out-of-range values replaced by the training minimum (negative ones) or maximum (positive ones)."""
        return np.where(bad, np.where(x > 0, self.high, self.low), x)

    def _statistics(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(median, mean, scale) per column of x, fitted as the module docstring says."""
        # A column with no value at all in training: median 0 (it then encodes as a constant 0).
        seen = ~np.isnan(x).all(axis=0)
        median = np.zeros(x.shape[1])
        median[seen] = np.nanmedian(x[:, seen], axis=0)
        if self.impute:
            x = np.where(np.isnan(x), median, x)
        # Mean and population std over the values present (all of them once imputed).
        present = ~np.isnan(x)
        count = np.maximum(present.sum(axis=0), 1)
        mean = np.where(present, x, 0.0).sum(axis=0) / count
        std = np.sqrt((np.where(present, x - mean, 0.0) ** 2).sum(axis=0) / count)
        return median, mean, np.where(std > 0, std, 1.0)

    def _row_statistics(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-row (median, mean, scale): the global ones, or each row's series' own."""
        if not self.per_series:
            return self.median, self.mean, self.scale
        if SERIES not in df:
            raise DataError("this model was scaled per series, but the rows have no series column")
        series = df[SERIES].astype(str).to_numpy()
        unknown = sorted(set(series) - set(self.series_stats))
        if unknown:
            raise DataError(
                f"series {unknown[:5]} had no training rows, so per-series scaling has nothing to scale them by; "
                "use preprocess.scaling=global, or a split that trains on every series (split.method=time or head)"
            )
        names = sorted(self.series_stats)
        codes = np.searchsorted(names, series)
        stacked = [np.stack([self.series_stats[n][i] for n in names]) for i in range(3)]
        return stacked[0][codes], stacked[1][codes], stacked[2][codes]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("Encoder.transform called before fit")
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise DataError(f"columns {missing} that the model was trained on are missing; retrain (dvc repro)")
        x = df[self.numeric].to_numpy(dtype=np.float64)
        median, mean, scale = self._row_statistics(df)
        bad = finite.out_of_range(x)
        if bad.any():
            self._check_policy(bad, "the rows to encode")
            x = self._clipped(x, bad) if self.nonfinite == "clip" else np.where(bad, median, x)
        if self.impute:
            x = np.where(np.isnan(x), median, x)
        parts = [(x - mean) / scale]
        for col, cats in self.categories.items():
            values = df[col].astype("string").to_numpy(dtype=object, na_value=None)
            parts.append((values[:, None] == np.asarray(cats, dtype=object)[None, :]).astype(np.float64))
        wide = np.concatenate(parts, axis=1) if parts else np.empty((len(df), 0))
        with np.errstate(over="ignore"):
            out = wide.astype(np.float32)
        if not np.isfinite(out).all():
            self._explain_nonfinite(wide, out)
        return out

    def _explain_nonfinite(self, wide: np.ndarray, out: np.ndarray) -> None:
        """The error for NaN (missing values not imputed) or values that overflow float32 once scaled."""
        names = self.output_names
        missing = {names[i]: int(n) for i, n in enumerate(np.isnan(wide).sum(axis=0)) if n}
        if missing:
            listed = ", ".join(f"'{c}' ({n})" for c, n in list(missing.items())[:5])
            raise DataError(
                f"features {list(missing)[:5]} contain NaN (missing values: {listed}) after preprocessing, and "
                "preprocess.nan_policy is refuse; set preprocess.nan_policy=impute or clean the input"
            )
        over = {names[i]: int(n) for i, n in enumerate(np.isinf(out).sum(axis=0)) if n}
        listed = ", ".join(f"'{c}' ({n})" for c, n in list(over.items())[:5])
        raise DataError(
            f"{sum(over.values())} values of feature(s) {listed} are so far outside the training rows' range that "
            "they overflow float32 once scaled (a training standard deviation near 0?); check those columns in the "
            "file, or drop them with data.drop_columns"
        )

    @property
    def output_names(self) -> list[str]:
        if not self.fitted:
            return []
        return [*self.numeric, *(f"{c}={v}" for c, cats in self.categories.items() for v in cats)]

    def state(self) -> dict[str, Any]:
        return {
            "categorical": self.categorical,
            "impute": self.impute,
            "max_missing_fraction": self.max_missing_fraction,
            "per_series": self.per_series,
            "nonfinite": self.nonfinite,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "columns": self.columns,
            "dropped_missing": self.dropped_missing,
            "numeric": self.numeric,
            "median": self.median.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "categories": self.categories,
            "series": {name: [v.tolist() for v in stats] for name, stats in self.series_stats.items()},
        }

    def save(self, directory: Path) -> None:
        (directory / ENCODER_FILE).write_text(json.dumps(self.state(), indent=1) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Encoder:
        path = directory / ENCODER_FILE
        if not path.is_file():
            raise FileNotFoundError(f"'{path}' not found; rerun the 'train' stage (dvc repro train)")
        try:
            s = json.loads(path.read_text())
            enc = cls(
                list(s["categorical"]), bool(s["impute"]), float(s["max_missing_fraction"]), bool(s["per_series"])
            )
            enc.columns, enc.dropped_missing, enc.numeric = (
                list(s["columns"]),
                list(s["dropped_missing"]),
                list(s["numeric"]),
            )
            enc.median, enc.mean, enc.scale = (np.asarray(s[k], dtype=np.float64) for k in ("median", "mean", "scale"))
            # Encoders saved before preprocess.nonfinite existed refused out-of-range values.
            enc.nonfinite = str(s.get("nonfinite", "refuse"))
            enc.low, enc.high = (np.asarray(s.get(k, []), dtype=np.float64) for k in ("low", "high"))
            enc.categories = {str(k): [str(v) for v in vs] for k, vs in s["categories"].items()}
            enc.series_stats = {
                str(name): tuple(np.asarray(v, dtype=np.float64) for v in stats)  # type: ignore[misc]
                for name, stats in s["series"].items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"'{path}' is not an encoder file rarewatch wrote ({exc}); rerun the 'train' stage"
            ) from exc
        enc.fitted = True
        return enc
