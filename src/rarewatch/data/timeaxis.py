"""The time axis as numbers: physical time in nanoseconds, or plain positions.

A time column holds timestamps, or numbers whose unit the config states (`data.time_unit`): rows,
seconds, minutes, hours or days. Physical time (timestamps, or numbers in a unit of time) becomes
int64 nanoseconds, so durations, lead times and rates per day mean the same for every data set;
`rows` (and data without a time axis) stays as positions, and only rates per row make sense there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NS_PER = {"seconds": 10**9, "minutes": 60 * 10**9, "hours": 3600 * 10**9, "days": 86400 * 10**9}
NS_PER_MINUTE = NS_PER["minutes"]
NS_PER_HOUR = NS_PER["hours"]
NS_PER_DAY = NS_PER["days"]


def as_numbers(values: Any, unit: str | None = None) -> tuple[np.ndarray, bool]:
    """(time as numbers, is_physical): int64 ns for timestamps and numbers in a unit of time; float64
    positions for `rows` or no unit."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    if len(series) == 0 and series.dtype == object:
        return np.empty(0, dtype=np.float64), unit in NS_PER
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.to_numpy(dtype="datetime64[ns]").astype(np.int64), True
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise ValueError(f"time must be datetimes or numbers, got dtype {series.dtype}")
    numbers = series.to_numpy(dtype=np.float64)
    if unit in NS_PER:
        return np.rint(numbers * NS_PER[unit]).astype(np.int64), True
    return numbers, False


def median_step(t: np.ndarray, blocks: np.ndarray | None = None) -> float:
    """The median positive step between consecutive rows of the same series (0 if there is none)."""
    steps = np.diff(np.asarray(t, dtype=np.float64))
    if blocks is not None:
        b = np.asarray(blocks)
        steps = steps[b[1:] == b[:-1]]
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else 0.0


def covered(t: np.ndarray, blocks: np.ndarray | None, max_gap: float) -> float:
    """The time the rows cover, in t's units: steps within a series up to `max_gap` median steps, plus
    one median step per stretch of recording. Gaps (between sessions, outages) do not count, so a rate
    per recorded day stays a rate per day of data, whatever the calendar time between sessions."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) == 0:
        return 0.0
    step = median_step(t, blocks)
    if step == 0:
        return 0.0
    steps = np.diff(t)
    same = np.ones(len(steps), dtype=bool) if blocks is None else np.asarray(blocks)[1:] == np.asarray(blocks)[:-1]
    inside = same & (steps >= 0) & (steps <= max_gap * step)
    stretches = 1 + int((~inside).sum())
    return float(steps[inside].sum() + stretches * step)
