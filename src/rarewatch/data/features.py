"""Temporal features from the past only: how each sensor moves relative to its own recent history.

For every sensor and every window w (rows), computed inside segments (one series, no gap in the time
axis longer than data.max_gap median steps), so no feature of a row ever uses a later row, a row of
another series, or a row across a gap:

- mean, std, min, max of the last w rows (the row itself included);
- zscore: (x - rolling mean) / rolling std, the deviation of the current value from its recent self;
- slope: the least-squares slope of the last w rows against the row number;
- diff (x - previous row), lags (x of k rows back) and ewma (exponentially weighted mean, span s);
- across sensors, per window: the mean and the max of |zscore| and the number of sensors with
  |zscore| > 3 (how much of the machine is moving at once).

The first rows of a segment see a partial window (as many rows as the segment has so far); a row with
no past at all gets 0 for diff, its own value for lags, and 0 for zscore and slope. Nothing here is
fitted: scaling happens later, in the encoder, on training rows only.

Sums over windows come from cumulative sums, so the cost is linear in rows x sensors x windows, with
no Python loop over rows or segments (min/max use pandas' rolling within segments).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

STATS = ("mean", "std", "min", "max", "zscore", "slope")
Z_LIMIT = 20.0  # |zscore| is clipped: a flat window (std ~ 0) would otherwise give huge values


def segment_starts(segment: np.ndarray) -> np.ndarray:
    """Per row, the index of the first row of its segment."""
    seg = np.asarray(segment)
    n = len(seg)
    is_start = np.ones(n, dtype=bool)
    is_start[1:] = seg[1:] != seg[:-1]
    return np.maximum.accumulate(np.where(is_start, np.arange(n), 0)) if n else np.zeros(0, dtype=np.int64)


def _window_sums(values: np.ndarray, starts: np.ndarray, w: int) -> np.ndarray:
    """Per row i: the column sums of `values` over rows max(i - w + 1, segment start) .. i."""
    rows = np.arange(len(values))
    first = np.maximum(rows - w + 1, starts)
    csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    return csum[rows + 1] - csum[first]


def window_stats(x: np.ndarray, segment: np.ndarray, w: int, stats: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The requested rolling statistics of every column of x over windows of `w` rows within segments.

    Missing values (NaN) are left out of each window's statistics; a statistic of a window with no
    value is NaN (the encoder imputes it later with the training median).
    """
    if w < 1:
        raise ValueError(f"window {w} must be >= 1")
    starts = segment_starts(segment)
    valid = ~np.isnan(x)
    # Each value is taken relative to its segment's first row before summing squares, so the variance
    # does not cancel catastrophically; a reference from the past only, so no future row can move a
    # feature even by rounding.
    ref = np.nan_to_num(x[starts]) if len(x) else np.zeros_like(x)
    centred = np.where(valid, x - ref, 0.0)
    count = _window_sums(valid.astype(np.float64), starts, w)
    s1 = _window_sums(centred, starts, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_c = np.where(count > 0, s1 / count, np.nan)
    out: dict[str, np.ndarray] = {}
    if "mean" in stats:
        out["mean"] = mean_c + ref
    if {"std", "zscore"} & set(stats):
        s2 = _window_sums(centred**2, starts, w)
        with np.errstate(divide="ignore", invalid="ignore"):
            std = np.sqrt(np.maximum(np.where(count > 0, s2 / count, np.nan) - mean_c**2, 0.0))
            z = np.where(std > 1e-9, (np.where(valid, centred, np.nan) - mean_c) / std, 0.0)
        if "std" in stats:
            out["std"] = std
        if "zscore" in stats:
            out["zscore"] = np.where(valid, np.clip(z, -Z_LIMIT, Z_LIMIT), np.nan)
    if "slope" in stats:
        t_rel = np.where(valid, (np.arange(len(x)) - starts)[:, None].astype(np.float64), 0.0)
        st = _window_sums(t_rel, starts, w)
        stt = _window_sums(t_rel**2, starts, w)
        stx = _window_sums(t_rel * centred, starts, w)
        denom = count * stt - st**2
        with np.errstate(divide="ignore", invalid="ignore"):
            out["slope"] = np.where(denom > 1e-9, (count * stx - st * s1) / denom, 0.0)
    if {"min", "max"} & set(stats):
        grouped = pd.DataFrame(x).groupby(np.asarray(segment), sort=False).rolling(w, min_periods=1)
        if "min" in stats:
            out["min"] = grouped.min().reset_index(level=0, drop=True).sort_index().to_numpy()
        if "max" in stats:
            out["max"] = grouped.max().reset_index(level=0, drop=True).sort_index().to_numpy()
    return out


def lagged(x: np.ndarray, segment: np.ndarray, k: int) -> np.ndarray:
    """x of k rows back within the segment; the segment's first row where there is no such row."""
    starts = segment_starts(segment)
    rows = np.arange(len(x))
    return x[np.maximum(rows - k, starts)]


def ewma(x: np.ndarray, segment: np.ndarray, span: int) -> np.ndarray:
    """Exponentially weighted mean with `span`, restarted at every segment (pandas, adjust=True)."""
    grouped = pd.DataFrame(x).groupby(np.asarray(segment), sort=False).ewm(span=span)
    return grouped.mean().reset_index(level=0, drop=True).sort_index().to_numpy()


CHUNK_SENSORS = 8  # sensors computed at a time: bounds the float64 intermediates to rows x 8 columns each


def rolling_features(
    frame: pd.DataFrame, columns: list[str], segment: np.ndarray, settings: Any
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The feature columns for `columns` of `frame` (rows in segment order), and a report.

    `settings` is the features config section (windows, stats, diff, lags, ewma_spans, aggregate).
    Sensors are processed a few at a time and kept as float32, so memory grows with the output, not with
    the intermediate sums; the across-sensor aggregates are accumulated chunk by chunk.
    """
    n = len(frame)
    blocks: dict[str, np.ndarray] = {}  # name -> (rows, sensors) float32, filled chunk by chunk
    names: list[str] = [f"{stat}{w}" for w in settings.windows for stat in settings.stats]
    names += ["diff"] if settings.diff else []
    names += [f"lag{k}" for k in settings.lags] + [f"ewma{span}" for span in settings.ewma_spans]
    for name in names:
        blocks[name] = np.empty((n, len(columns)), dtype=np.float32)
    absz_sum = {w: np.zeros(n) for w in settings.windows} if settings.aggregate else {}
    absz_max = {w: np.zeros(n) for w in settings.windows} if settings.aggregate else {}
    over3 = {w: np.zeros(n) for w in settings.windows} if settings.aggregate else {}
    for lo in range(0, len(columns), CHUNK_SENSORS):
        part = slice(lo, lo + CHUNK_SENSORS)
        x = frame[columns[part]].to_numpy(dtype=np.float64)
        for w in settings.windows:
            stats = window_stats(x, segment, w, tuple(settings.stats) + (("zscore",) if settings.aggregate else ()))
            for stat in settings.stats:
                blocks[f"{stat}{w}"][:, part] = stats[stat]
            if settings.aggregate:
                absz = np.abs(np.nan_to_num(stats["zscore"]))
                absz_sum[w] += absz.sum(axis=1)
                absz_max[w] = np.maximum(absz_max[w], absz.max(axis=1))
                over3[w] += (absz > 3).sum(axis=1)
            del stats
        if settings.diff:
            blocks["diff"][:, part] = x - lagged(x, segment, 1)
        for k in settings.lags:
            blocks[f"lag{k}"][:, part] = lagged(x, segment, k)
        for span in settings.ewma_spans:
            blocks[f"ewma{span}"][:, part] = ewma(x, segment, span)
    parts = [
        pd.DataFrame(values, columns=[f"{c}__{name}" for c in columns], index=frame.index, copy=False)
        for name, values in blocks.items()
    ]
    if settings.aggregate:
        aggregates: dict[str, np.ndarray] = {}
        for w in settings.windows:
            aggregates[f"absz_mean{w}"] = (absz_sum[w] / max(len(columns), 1)).astype(np.float32)
            aggregates[f"absz_max{w}"] = absz_max[w].astype(np.float32)
            aggregates[f"n_over3_{w}"] = over3[w].astype(np.float32)
        parts.append(pd.DataFrame(aggregates, index=frame.index))
    out = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    lengths = np.bincount(pd.factorize(np.asarray(segment))[0]) if len(segment) else np.zeros(0, dtype=np.int64)
    longest = max(settings.windows, default=0)
    report = {
        "sensors": len(columns),
        "features": out.shape[1],
        "segments": int(len(lengths)),
        "segments_shorter_than_longest_window": int((lengths < longest).sum()),
        "rows_with_partial_windows": int(np.minimum(lengths, max(longest - 1, 0)).sum()),
    }
    return out, report
