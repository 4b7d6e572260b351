"""Early warning as label shift (docs/protocol.md, "Early warning is a label shift")."""

from __future__ import annotations

import numpy as np


def find_events(labels: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive positive rows as (first, last) row indices, inclusive."""
    y = np.asarray(labels).astype(np.int8)
    edges = np.diff(np.concatenate([[0], y, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def shift_labels(labels: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (new labels, keep mask) for an early-warning horizon of `horizon` rows.

    The `horizon` rows before each event become positive and the event rows are dropped,
    so a model is rewarded for warning before a break, never for noticing one under way.
    horizon=0 leaves labels as they are and drops nothing.
    """
    if horizon < 0:
        raise ValueError(f"horizon={horizon} must be >= 0")
    y = np.asarray(labels).astype(np.int64)
    if horizon == 0:
        return y.copy(), np.ones(len(y), dtype=bool)
    shifted = np.zeros_like(y)
    keep = y == 0
    for start, _ in find_events(y):
        shifted[max(0, start - horizon) : start] = 1
    return shifted[keep], keep
