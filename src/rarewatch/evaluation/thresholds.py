"""Threshold strategies, all fitted on validation scores only (docs/protocol.md, "Thresholds on validation")."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rarewatch.evaluation.metrics import check_scores


@dataclass(frozen=True)
class ConfusionCurve:
    """Counts for every distinct candidate threshold, in increasing threshold order.

    Candidates are the lowest score (alarm on every row), the midpoints between consecutive
    distinct scores (so a test score between two validation scores falls on a defined side),
    and the next float above the highest score (no alarm at all).
    """

    thresholds: np.ndarray
    tn: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tp: np.ndarray

    @property
    def f1(self) -> np.ndarray:
        denom = 2 * self.tp + self.fp + self.fn
        return np.divide(2 * self.tp, denom, out=np.zeros(len(self.tp)), where=denom > 0)

    def cost(self, tn: float, fp: float, fn: float, tp: float) -> np.ndarray:
        return self.tn * tn + self.fp * fp + self.fn * fn + self.tp * tp


def confusion_curve(labels: np.ndarray, scores: np.ndarray) -> ConfusionCurve:
    check_scores(labels, scores)
    if len(scores) == 0:
        raise ValueError("no scores to choose a threshold from")
    order = np.argsort(scores, kind="stable")
    s = scores[order].astype(np.float64)
    y = labels[order]
    uniq, first = np.unique(s, return_index=True)
    # Rows with score >= uniq[i] are those from index first[i] on.
    pos_from = np.concatenate([np.cumsum(y[::-1])[::-1], [0]])
    n = len(s)
    n_pos = int(y.sum())
    tp = pos_from[first]
    alarms = n - first
    fp = alarms - tp
    lo, hi = uniq[:-1], uniq[1:]
    with np.errstate(over="ignore"):
        mid = (lo + hi) / 2
    # Between adjacent floats the midpoint rounds to `lo` (or overflows to inf); `hi` itself then
    # gives the same alarms (score >= hi) that the counts describe.
    mid = np.where((mid > lo) & (mid <= hi), mid, hi)
    thresholds = np.concatenate([[uniq[0]], mid, [np.nextafter(uniq[-1], np.inf)]])
    tp = np.concatenate([tp, [0]])
    fp = np.concatenate([fp, [0]])
    return ConfusionCurve(
        thresholds=thresholds,
        tn=(n - n_pos) - fp,
        fp=fp,
        fn=n_pos - tp,
        tp=tp,
    )


def best_index(values: np.ndarray, maximise: bool = False) -> int:
    """Index of the best value; ties go to the last one, i.e. the highest threshold (fewer alarms)."""
    flipped = values[::-1]
    return len(values) - 1 - int(np.argmax(flipped) if maximise else np.argmin(flipped))


def percentile_threshold(labels: np.ndarray, scores: np.ndarray, percentile: float) -> float:
    """The p-th percentile of the scores of normal rows (the notebooks' 95th-percentile rule)."""
    check_scores(labels, scores)
    normal = scores[labels == 0]
    if len(normal) == 0:
        raise ValueError("percentile threshold needs normal validation rows; validation has none")
    return float(np.percentile(normal, percentile))


def max_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """The threshold maximising F1; None (with a warning) when there is no positive to find."""
    if not labels.any():
        warnings.warn(
            "max_f1 threshold skipped: validation has no positive rows, so F1 is 0 everywhere; "
            "use a longer validation split or the percentile strategy",
            stacklevel=2,
        )
        return None
    curve = confusion_curve(labels, scores)
    return float(curve.thresholds[best_index(curve.f1, maximise=True)])


def min_cost_threshold(labels: np.ndarray, scores: np.ndarray, tn: float, fp: float, fn: float, tp: float) -> float:
    """The threshold with the lowest total cost; ties go to the highest threshold (fewer alarms)."""
    curve = confusion_curve(labels, scores)
    return float(curve.thresholds[best_index(curve.cost(tn, fp, fn, tp))])
