"""Score smoothing over time, before thresholding: one high score is noise, a run of them is a warning.

A smoothed score of row t uses rows t-k+1 .. t of its own segment (one series, no gap), never a later
row: `mean` and `max` over the last `window` rows, `ewma` with `span`. `auto` tries a fixed set of
candidates and keeps the one with the best validation PR-AUC (ties: the simplest, in list order), so
the choice is made on validation like every threshold; evaluate records what it chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score


@dataclass(frozen=True)
class Smoother:
    method: str  # none | mean | max | ewma
    window: int = 1  # rows, for mean and max
    span: int = 1  # for ewma

    @property
    def label(self) -> str:
        if self.method == "none":
            return "none"
        return f"{self.method}{self.span if self.method == 'ewma' else self.window}"

    def apply(self, scores: np.ndarray, segment: np.ndarray) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        if self.method == "none" or len(s) == 0:
            return s
        grouped = pd.Series(s).groupby(np.asarray(segment), sort=False)
        if self.method == "ewma":
            out = grouped.ewm(span=self.span).mean()
        elif self.method == "mean":
            out = grouped.rolling(self.window, min_periods=1).mean()
        elif self.method == "max":
            out = grouped.rolling(self.window, min_periods=1).max()
        else:
            raise ValueError(f"unknown smoothing method {self.method!r}; use none, mean, max, ewma or auto")
        return out.reset_index(level=0, drop=True).sort_index().to_numpy()


CANDIDATES = (
    Smoother("none"),
    Smoother("mean", window=3),
    Smoother("max", window=3),
    Smoother("mean", window=5),
    Smoother("max", window=5),
    Smoother("ewma", span=5),
    Smoother("mean", window=10),
    Smoother("ewma", span=10),
)


def choose(labels: np.ndarray, scores: np.ndarray, segment: np.ndarray) -> tuple[Smoother, dict[str, float | None]]:
    """The candidate with the highest PR-AUC on these (validation) rows, and every candidate's PR-AUC."""
    y = np.asarray(labels)
    tried: dict[str, float | None] = {}
    if not 0 < y.sum() < len(y):
        return CANDIDATES[0], dict.fromkeys((c.label for c in CANDIDATES), None)  # nothing to choose by
    best, best_value = CANDIDATES[0], -1.0
    for candidate in CANDIDATES:
        value = float(average_precision_score(y, candidate.apply(scores, segment)))
        tried[candidate.label] = value
        if value > best_value + 1e-12:
            best, best_value = candidate, value
    return best, tried
