"""Early warning as label shift (docs/protocol.md, "Early warning is a label shift").

Rows come sorted by series, then time. `blocks` gives each row's series (any integer codes, equal for
the rows of one series, which are contiguous); events never span two series, and the warning rows of
an event are taken from its own series only. Without `blocks` all rows are one series.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _block_edges(n: int, blocks: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per row: does a new series start here / does the series end here."""
    starts = np.zeros(n, dtype=bool)
    ends = np.zeros(n, dtype=bool)
    if n:
        starts[0] = ends[-1] = True
        if blocks is not None:
            change = np.asarray(blocks)[1:] != np.asarray(blocks)[:-1]
            starts[1:] |= change
            ends[:-1] |= change
    return starts, ends


def find_events(labels: np.ndarray, blocks: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Runs of consecutive positive rows within one series, as (first, last) row indices, inclusive."""
    y = np.asarray(labels).astype(bool)
    series_start, series_end = _block_edges(len(y), blocks)
    prev = np.concatenate([[False], y[:-1]]) & ~series_start
    nxt = np.concatenate([y[1:], [False]]) & ~series_end
    starts = np.flatnonzero(y & ~prev)
    ends = np.flatnonzero(y & ~nxt)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def shift_labels(labels: np.ndarray, horizon: int, blocks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (new labels, keep mask) for an early-warning horizon of `horizon` rows.

    The `horizon` rows before each event (in its series) become positive and the event rows are
    dropped, so a model is rewarded for warning before a break, never for noticing one under way.
    horizon=0 leaves labels as they are and drops nothing.
    """
    if horizon < 0:
        raise ValueError(f"horizon={horizon} must be >= 0")
    y = np.asarray(labels).astype(np.int64)
    if horizon == 0:
        return y.copy(), np.ones(len(y), dtype=bool)
    series_start, _ = _block_edges(len(y), blocks)
    first_of_series = np.maximum.accumulate(np.where(series_start, np.arange(len(y)), 0)) if len(y) else y
    shifted = np.zeros_like(y)
    keep = y == 0
    for start, _ in find_events(y, blocks):
        shifted[max(int(first_of_series[start]), start - horizon) : start] = 1
    return shifted[keep], keep


def describe_shift(report: dict[str, Any]) -> str:
    """One line on what the shift did (the summary and the stage log print it)."""
    if report["horizon"] == 0:
        text = f"no early-warning shift (H=0): labels as given, {report['events']} events"
        if not report["horizon_stated"]:
            text += (
                "; label_shift.horizon is not set for this data, so the run detects events rather than warning "
                "of them: set label_shift.horizon=N to warn N rows before each event"
            )
        return text
    return (
        f"early-warning horizon H={report['horizon']} rows: {report['events']} events, their "
        f"{report['rows_dropped']} rows dropped, {report['rows_made_positive']} rows before them made positive"
    )
