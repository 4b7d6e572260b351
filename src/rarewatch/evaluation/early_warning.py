"""Early-warning evaluation: operator alarms, events caught, lead times, false alarms. Pure functions.

An operator judges an early-warning system by whether it warned in time, how early, and how often it
cried wolf; these figures come beside the row metrics (ROC-AUC, PR-AUC, confusion counts), never
instead of them.

Terms
- event: a run of consecutive positive rows in the original labels, before the label shift
  (the events table `data/processed/events.parquet`: event, start_time, end_time, rows).
- warning window of an event: the `horizon` rows before it, which are the rows the label shift made
  positive and that precede it. In a scored frame (shifted labels, event rows dropped) every positive
  row belongs to the window of the first event that ends at or after it. With horizon 0 the labels
  are not shifted and an event's window is its own rows: an alarm there detects the event rather than
  warning of it, and its lead time is <= 0.
- operator alarm: what the alarm policy (`apply_policy`) makes of the rows over the threshold.
  A true alarm falls in a warning window (a positive row); a false alarm falls outside every window.
- lead time: event start time minus the time of the first alarm in its window; minutes when time is
  physical (timestamps, or numbers with data.time_unit seconds/minutes/...), rows otherwise.
- series: rows of one machine, run or file. Events, alarm policies and rates stay inside a series;
  the figures of a split are pooled over its series (sums of counts, all lead times together).
- recorded time: the time the rows cover, gaps of more than `max_gap` median steps left out
  (rarewatch.data.timeaxis.covered). False alarms per day are per recorded day: data recorded in short
  sessions weeks apart is not credited with the weeks in between.

Rows are taken sorted by series, then time; "the last n rows" and "silence rows" count rows of the
frame, so dropped event rows and split gaps do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.data.timeaxis import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, as_numbers, covered, median_step
from rarewatch.evaluation.thresholds import best_index, confusion_curve

DEFAULT_MAX_GAP = 1.5  # data.max_gap's default: steps over 1.5 median steps are gaps in recording


@dataclass(frozen=True)
class AlarmPolicy:
    """At least k of the last n rows over the threshold raise an alarm; then none for `silence` rows."""

    k: int = 1
    n: int = 1
    silence: int = 0

    def __post_init__(self) -> None:
        _check_policy(self.k, self.n, self.silence)

    @property
    def is_off(self) -> bool:
        """k = n = 1 and no silence: every row over the threshold is an alarm."""
        return self.k == 1 and self.n == 1 and self.silence == 0

    def apply(self, over: np.ndarray, blocks: np.ndarray | None = None) -> np.ndarray:
        """Operator alarms from rows over the threshold; `blocks` (series codes) keep each series apart."""
        if blocks is None:
            return apply_policy(over, self.k, self.n, self.silence)
        over = np.asarray(over, dtype=bool)
        out = np.zeros(len(over), dtype=bool)
        for lo, hi in _bounds(blocks):
            out[lo:hi] = apply_policy(over[lo:hi], self.k, self.n, self.silence)
        return out

    def as_dict(self) -> dict[str, int]:
        return {"k": self.k, "n": self.n, "silence_rows": self.silence}

    @classmethod
    def from_config(cls, alarm: Any) -> AlarmPolicy:
        """From the `alarm` config section (k, n, silence_rows)."""
        return cls(alarm.k, alarm.n, alarm.silence_rows)


def _check_policy(k: int, n: int, silence: int) -> None:
    if n < 1:
        raise ValueError(f"alarm policy n={n} must be >= 1")
    if not 1 <= k <= n:
        raise ValueError(f"alarm policy k={k} must be between 1 and n={n}")
    if silence < 0:
        raise ValueError(f"alarm policy silence={silence} must be >= 0")


def apply_policy(over: np.ndarray, k: int, n: int, silence: int) -> np.ndarray:
    """Operator alarms (bool per row) from the rows over the threshold, in time order.

    An alarm is raised at a row where at least k of the last n rows (this one included; fewer at the
    start of the frame) are over the threshold; after an alarm no new alarm is raised for `silence`
    rows. k = n = 1 with silence 0 makes every row over the threshold an alarm. With silence > 0 a
    flickering score raises one alarm, not twenty.
    """
    _check_policy(k, n, silence)
    over = np.asarray(over, dtype=bool)
    if over.ndim != 1:
        raise ValueError(f"'over' must be 1-D, got shape {over.shape}")
    if k == 1 and n == 1:
        candidate = over.copy()
    else:
        total = np.cumsum(over, dtype=np.int64)
        before = np.zeros_like(total)
        before[n:] = total[:-n]  # rows over the threshold up to n rows back, which leave the window
        candidate = (total - before) >= k
    if silence == 0 or not candidate.any():
        return candidate
    return _silenced(candidate, silence)


def _silenced(candidate: np.ndarray, silence: int) -> np.ndarray:
    """Greedy in time: keep a candidate, skip the next `silence` rows, keep the next candidate, ..."""
    size = len(candidate)
    # next_at[i]: the first candidate row >= i (size when there is none); one Python step per alarm.
    rows = np.where(candidate, np.arange(size), size)
    next_at = np.append(np.minimum.accumulate(rows[::-1])[::-1], size).tolist()
    alarms = np.zeros(size, dtype=bool)
    step = silence + 1
    i = next_at[0]
    picked = []
    while i < size:
        picked.append(i)
        i = next_at[min(i + step, size)]
    alarms[picked] = True
    return alarms


# ------------------------------------------------------------------------------------------ time axis


def time_values(values: Any, unit: str | None = None) -> tuple[np.ndarray, bool]:
    """Time as numbers: (int64 nanoseconds, True) for physical time, (float64 positions, False) otherwise."""
    return as_numbers(values, unit)


def _bounds(blocks: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) rows of each run of equal values of `blocks` (each series, rows sorted by series)."""
    b = np.asarray(blocks)
    if len(b) == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(b[1:] != b[:-1]) + 1])
    return list(zip(starts.tolist(), np.append(starts[1:], len(b)).tolist(), strict=True))


# --------------------------------------------------------------------------------------------- events


def window_events(t: np.ndarray, labels: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per row, the index of the event whose warning window holds it; -1 for rows in no window.

    A positive row belongs to the first event ending at or after it (`ends` sorted ascending, on the
    same time axis as `t`): with horizon > 0 the event that follows it, with horizon 0 the event
    it is part of.
    """
    out = np.full(len(t), -1, dtype=np.int64)
    pos = np.asarray(labels) == 1
    idx = np.searchsorted(ends, t[pos], side="left")
    out[pos] = np.where(idx < len(ends), idx, -1)
    return out


def events_from_labels(times: Any, labels: np.ndarray, horizon: int) -> pd.DataFrame:
    """An estimate of the events table from a scored frame, for when the table is not at hand.

    horizon 0: each run of positive rows is an event. horizon > 0: each run of positive rows is a
    warning window, and its event starts one row interval (the median spacing of the times) after
    its last row. Exact for regularly sampled data whose windows lie whole in the frame; windows of
    events closer than `horizon` rows merge into one.
    """
    t, is_dt = time_values(times)
    order = np.argsort(t, kind="stable")
    t, y = t[order], np.asarray(labels)[order].astype(np.int8)
    edges = np.diff(np.concatenate([[0], y, [0]]))
    first = np.flatnonzero(edges == 1)
    last = np.flatnonzero(edges == -1) - 1
    if horizon == 0:
        starts, ends = t[first], t[last]
    else:
        step = median_step(t)
        starts = ends = t[last] + (round(step) if is_dt else step)
    if is_dt:
        starts = np.asarray(starts, dtype=np.int64).astype("datetime64[ns]")
        ends = np.asarray(ends, dtype=np.int64).astype("datetime64[ns]")
    return pd.DataFrame(
        {"event": np.arange(len(first)), "start_time": starts, "end_time": ends, "rows": last - first + 1}
    )


# ---------------------------------------------------------------------------------------------- metrics


@dataclass
class _Counts:
    """What one series contributes to a split's early-warning figures."""

    events: int = 0
    caught: int = 0
    alarms: int = 0
    true_alarms: int = 0
    false_alarms: int = 0
    rows: int = 0
    recorded: float = 0.0  # ns for physical time, else positions
    leads: list[np.ndarray] = field(default_factory=list)

    def add(self, other: _Counts) -> None:
        for name in ("events", "caught", "alarms", "true_alarms", "false_alarms", "rows", "recorded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.leads += other.leads


def _one_series(
    t: np.ndarray, y: np.ndarray, alarms: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_gap: float
) -> _Counts:
    if np.any(np.diff(ends) < 0):
        raise ValueError("events must be sorted by time")
    event_of = window_events(t, y, ends)
    in_window = alarms & (event_of >= 0)
    # Rows are in time order, so the first alarm of each event is its earliest.
    caught, first = np.unique(event_of[in_window], return_index=True)
    return _Counts(
        events=len(np.unique(event_of[event_of >= 0])),
        caught=len(caught),
        alarms=int(alarms.sum()),
        true_alarms=int(in_window.sum()),
        false_alarms=int((alarms & (y == 0)).sum()),
        rows=len(t),
        recorded=covered(t, None, max_gap),
        leads=[starts[caught] - t[in_window][first]],
    )


def _by_series(
    times: Any,
    labels: np.ndarray,
    alarms: np.ndarray,
    event_starts: Any,
    event_ends: Any,
    unit: str | None,
    series: np.ndarray | None,
    event_series: np.ndarray | None,
    max_gap: float,
) -> tuple[dict[str, _Counts], bool]:
    t, physical = time_values(times, unit)
    starts, starts_phys = time_values(pd.Series(event_starts), unit)
    ends, ends_phys = time_values(pd.Series(event_ends), unit)
    if len(starts) and (starts_phys != physical or ends_phys != physical):
        raise ValueError("event times and row times must both be physical times or both be positions")
    y = np.asarray(labels)
    alarms = np.asarray(alarms, dtype=bool)
    if not (len(t) == len(y) == len(alarms)):
        raise ValueError(f"times ({len(t)}), labels ({len(y)}) and alarms ({len(alarms)}) differ in length")
    if (series is None) != (event_series is None):
        raise ValueError("give the series of the rows and of the events, or of neither")
    names = np.zeros(len(t), dtype=object) if series is None else np.asarray(series, dtype=object)
    event_names = (
        np.zeros(len(starts), dtype=object) if event_series is None else np.asarray(event_series, dtype=object)
    )
    out: dict[str, _Counts] = {}
    for name in pd.unique(names):
        rows = names == name
        order = np.argsort(t[rows], kind="stable")
        ev = event_names == name
        out[str(name)] = _one_series(t[rows][order], y[rows][order], alarms[rows][order], starts[ev], ends[ev], max_gap)
    return out, physical


def early_warning_metrics(
    times: Any,
    labels: np.ndarray,
    alarms: np.ndarray,
    event_starts: Any,
    event_ends: Any,
    *,
    unit: str | None = None,
    series: np.ndarray | None = None,
    event_series: np.ndarray | None = None,
    max_gap: float = DEFAULT_MAX_GAP,
) -> dict[str, Any]:
    """Events caught, lead times and false alarms for one split under one set of operator alarms.

    `times`, `labels` (shifted, 0/1), `alarms` and `series` are per row of the split; `event_starts`,
    `event_ends` and `event_series` are the events table's columns (all events; those with no
    warning-window row in this split are not counted: an event whose window fell in a split gap could
    not be warned of here). `unit` is data.time_unit for a numeric time column.

    Rates: false alarms per day are per recorded day (gaps over `max_gap` median steps left out; None
    when time is not physical) and per 1000 rows. alarms_per_event is every operator alarm divided by
    the events (1.0: one alarm per event; above that, repeated or false alarms).
    """
    parts, physical = _by_series(times, labels, alarms, event_starts, event_ends, unit, series, event_series, max_gap)
    total = _Counts()
    for part in parts.values():
        total.add(part)
    return _figures(total, physical, max_gap)


def per_series_figures(
    times: Any,
    labels: np.ndarray,
    scores: np.ndarray,
    alarms: np.ndarray,
    event_starts: Any,
    event_ends: Any,
    *,
    unit: str | None,
    series: np.ndarray,
    event_series: np.ndarray,
    max_gap: float = DEFAULT_MAX_GAP,
) -> dict[str, dict[str, Any]]:
    """Per series: rows, positives, ROC-AUC (where both classes exist), events caught, event recall,
    false alarms and false alarms per recorded hour."""
    from rarewatch.evaluation.metrics import ranking_metrics

    parts, physical = _by_series(times, labels, alarms, event_starts, event_ends, unit, series, event_series, max_gap)
    names = np.asarray(series, dtype=object)
    y, s = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    out = {}
    for name, part in parts.items():
        rows = names.astype(str) == name
        ranking = ranking_metrics(y[rows], s[rows])
        hours = part.recorded / NS_PER_HOUR if physical else None
        out[name] = {
            "rows": part.rows,
            "positives": ranking["n_positive"],
            "roc_auc": ranking["roc_auc"],
            "events": part.events,
            "events_caught": part.caught,
            "event_recall": part.caught / part.events if part.events else None,
            "false_alarms": part.false_alarms,
            "recorded_hours": hours,
            "false_alarms_per_hour": part.false_alarms / hours if hours else None,
        }
    return out


def _figures(c: _Counts, physical: bool, max_gap: float) -> dict[str, Any]:
    lead = np.concatenate(c.leads) if c.leads else np.empty(0)
    lead = lead / NS_PER_MINUTE if physical else lead.astype(np.float64)
    days = c.recorded / NS_PER_DAY if physical else None
    return {
        "events": c.events,
        "events_caught": c.caught,
        "event_recall": c.caught / c.events if c.events else None,
        "lead_time_unit": "minutes" if physical else "rows",
        **_spread(lead),
        "alarms": c.alarms,
        "true_alarms": c.true_alarms,
        "false_alarms": c.false_alarms,
        "recorded_days": days,
        "gap_limit_median_steps": max_gap,
        "false_alarms_per_day": c.false_alarms / days if days else None,
        "false_alarms_per_1000_rows": 1000 * c.false_alarms / c.rows if c.rows else None,
        "alarms_per_event": c.alarms / c.events if c.events else None,
    }


def _spread(lead: np.ndarray) -> dict[str, float | None]:
    keys = ("lead_time_median", "lead_time_q1", "lead_time_q3", "lead_time_min", "lead_time_max")
    if len(lead) == 0:
        return dict.fromkeys(keys)
    q1, median, q3 = np.percentile(lead, [25, 50, 75])
    return dict(zip(keys, (float(median), float(q1), float(q3), float(lead.min()), float(lead.max())), strict=True))


# ------------------------------------------------------------------------------- cost per operator alarm

# Counting false alarms applies the policy once per candidate threshold: O(thresholds x rows). Measured
# on 2 cores, 3976 candidates on 3976 validation rows: 0.02 s with the policy off, 0.06 s for k 2, n 3,
# 0.7 s for k 2, n 3, silence 30, 1.3 s for silence 1 (one Python step per alarm). Above this budget of
# thresholds x rows (about 3x that case), an evenly spaced subsample of the candidates is priced
# instead (the first and last always included), and the chosen threshold is the cheapest of that
# subsample; the cost stage reports candidates_subsampled.
MAX_POLICY_WORK = 50_000_000


def candidate_subsample(n_thresholds: int, n_rows: int, budget: int = MAX_POLICY_WORK) -> np.ndarray:
    """Indices of the candidate thresholds to price per alarm: all of them, or an even subsample."""
    if n_thresholds * max(n_rows, 1) <= budget:
        return np.arange(n_thresholds)
    keep = max(2, budget // max(n_rows, 1))
    return np.unique(np.linspace(0, n_thresholds - 1, keep).round().astype(np.int64))


def false_alarm_counts(
    labels: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray,
    policy: AlarmPolicy,
    blocks: np.ndarray | None = None,
) -> np.ndarray:
    """False operator alarms (alarms on rows outside every warning window) at each threshold.

    Rows must be sorted by series (`blocks`), then time. With the policy off this is the false-positive
    row count.
    """
    s = np.asarray(scores, dtype=np.float64)
    normal = np.asarray(labels) == 0
    out = np.empty(len(thresholds), dtype=np.int64)
    for j, threshold in enumerate(np.asarray(thresholds, dtype=np.float64)):
        out[j] = int((policy.apply(s >= threshold, blocks) & normal).sum())
    return out


@dataclass(frozen=True)
class AlarmCostCurve:
    """Candidate thresholds priced with false positives counted per false operator alarm.

    TN, FN and TP stay row counts (rows over the threshold, as in the confusion curve); only the
    false-positive term changes, from rows over the threshold outside every window to false alarms.
    """

    thresholds: np.ndarray
    tn: np.ndarray
    fp: np.ndarray  # rows, for reference
    false_alarms: np.ndarray
    fn: np.ndarray
    tp: np.ndarray
    cost: np.ndarray
    subsampled: bool


def alarm_cost_curve(
    labels: np.ndarray,
    scores: np.ndarray,
    tn: float,
    fp: float,
    fn: float,
    tp: float,
    policy: AlarmPolicy,
    blocks: np.ndarray | None = None,
) -> AlarmCostCurve:
    """Cost per candidate threshold with false alarms priced per operator alarm (rows sorted by series
    `blocks`, then time)."""
    curve = confusion_curve(labels, scores)
    idx = candidate_subsample(len(curve.thresholds), len(scores))
    thresholds = curve.thresholds[idx]
    false_alarms = false_alarm_counts(labels, scores, thresholds, policy, blocks)
    return AlarmCostCurve(
        thresholds=thresholds,
        tn=curve.tn[idx],
        fp=curve.fp[idx],
        false_alarms=false_alarms,
        fn=curve.fn[idx],
        tp=curve.tp[idx],
        cost=curve.tn[idx] * tn + false_alarms * fp + curve.fn[idx] * fn + curve.tp[idx] * tp,
        subsampled=len(idx) < len(curve.thresholds),
    )


def min_alarm_cost_threshold(
    labels: np.ndarray,
    scores: np.ndarray,
    tn: float,
    fp: float,
    fn: float,
    tp: float,
    policy: AlarmPolicy,
    blocks: np.ndarray | None = None,
) -> float:
    """The cheapest threshold with false alarms priced per operator alarm; ties go to the highest."""
    curve = alarm_cost_curve(labels, scores, tn, fp, fn, tp, policy, blocks)
    return float(curve.thresholds[best_index(curve.cost)])
