"""Sliding windows over time-ordered rows, as index matrices (pure numpy, no copies of the data).

A sequence model scores row i from the `lookback` rows ending at i. Windows must not bridge a gap
in the time axis or the boundary between two series: the label shift drops event rows, plants have
outages, and a window across such a gap would glue together rows that were never neighbours.
`segments` cuts the rows at gaps and series boundaries, `window_index` builds the windows inside
segments, `training_windows` picks the ones to train on.

Each split is windowed on its own, so windows never cross a split boundary either.
"""

from __future__ import annotations

import numpy as np

__all__ = ["segments", "training_windows", "window_index"]


def segments(time: np.ndarray, max_gap: float, blocks: np.ndarray | None = None) -> np.ndarray:
    """Segment id (0, 1, 2, ...) per row of time-ordered `time` (sorted by series, then time).

    A new segment starts at row i when row i starts a new series (`blocks`, the rows' series codes)
    or when `time[i] - time[i-1]` exceeds `max_gap` times the median step within series. `time` may
    be datetime64 (any unit) or numeric. When more than half the steps are zero (repeated timestamps),
    the median of the positive steps is used instead, so a zero median does not make every step a gap.
    Steps that go backwards (unordered rows) never start a segment.
    """
    if max_gap <= 0:
        raise ValueError(f"max_gap={max_gap} must be > 0 (a multiple of the median time step)")
    steps = _steps(np.asarray(time))
    if len(steps) == 0:
        return np.zeros(len(time), dtype=np.int64)
    new_series = (
        np.zeros(len(steps), dtype=bool) if blocks is None else np.asarray(blocks)[1:] != np.asarray(blocks)[:-1]
    )
    within = steps[~new_series]
    median = float(np.median(within)) if len(within) else 0.0
    if median <= 0:
        positive = within[within > 0]
        median = float(np.median(positive)) if len(positive) else 0.0
    starts = new_series | ((steps > max_gap * median) if median > 0 else False)
    return np.concatenate([[0], np.cumsum(starts)]).astype(np.int64)


def window_index(segment_ids: np.ndarray, lookback: int) -> np.ndarray:
    """(n_rows, lookback) row numbers: row i's window is the `lookback` rows ending at i.

    The last column is i itself; windows stay inside row i's segment (a run of equal segment ids).
    Rows fewer than `lookback` rows after their segment's start are left-padded by repeating the
    segment's first row, so that EVERY row has a window and gets a score: every model, row-wise or
    sequence, is evaluated on exactly the same rows. `x[window_index(...)]` gathers the windows.
    """
    if lookback < 1:
        raise ValueError(f"lookback={lookback} must be >= 1")
    seg = np.asarray(segment_ids)
    n = len(seg)
    rows = np.arange(n, dtype=np.int64)
    is_start = np.ones(n, dtype=bool)
    is_start[1:] = seg[1:] != seg[:-1]
    segment_start = np.maximum.accumulate(np.where(is_start, rows, 0)) if n else rows
    index = rows[:, None] + np.arange(1 - lookback, 1, dtype=np.int64)[None, :]
    return np.maximum(index, segment_start[:, None])


def training_windows(index: np.ndarray, y: np.ndarray, stride: int, normal_only: bool) -> np.ndarray:
    """Numbers of the windows (rows of `index`) to train on, ascending.

    Every `stride`-th window (windows 0, stride, 2*stride, ...); with `normal_only`, only those
    whose rows are all normal (y == 0), including the padding rows.
    """
    if stride < 1:
        raise ValueError(f"stride={stride} must be >= 1")
    chosen = np.arange(0, len(index), stride, dtype=np.int64)
    if normal_only and len(chosen):
        labels = np.asarray(y)[index[chosen]]
        chosen = chosen[(labels == 0).all(axis=1)]
    return chosen


def _steps(t: np.ndarray) -> np.ndarray:
    """Steps between consecutive rows as float64 (nanoseconds for datetimes: differenced as int64
    first, since float64 cannot hold epoch nanoseconds exactly)."""
    if np.issubdtype(t.dtype, np.datetime64):
        if np.isnat(t).any():
            raise ValueError("time has missing values (NaT); windows need a complete time axis")
        return np.diff(t.astype("datetime64[ns]").astype(np.int64)).astype(np.float64)
    if np.issubdtype(t.dtype, np.number) and not np.issubdtype(t.dtype, np.complexfloating):
        out = t.astype(np.float64)
        if np.isnan(out).any():
            raise ValueError("time has missing values (NaN); windows need a complete time axis")
        return np.diff(out)
    raise TypeError(f"time must be datetime64 or numeric, got dtype {t.dtype}")
