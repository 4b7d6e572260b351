"""Tests for the early-warning evaluation (rarewatch.evaluation.early_warning), hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rarewatch.config import config_from_dict
from rarewatch.errors import ConfigError
from rarewatch.evaluation.early_warning import (
    AlarmPolicy,
    alarm_cost_curve,
    apply_policy,
    candidate_subsample,
    early_warning_metrics,
    events_from_labels,
    false_alarm_counts,
    min_alarm_cost_threshold,
    window_events,
)
from rarewatch.evaluation.thresholds import confusion_curve

T0 = pd.Timestamp("2024-01-01 00:00:00")


def rows(*flags: int) -> np.ndarray:
    return np.array(flags, dtype=bool)


def alarm_rows(alarms: np.ndarray) -> list[int]:
    return np.flatnonzero(alarms).tolist()


# ------------------------------------------------------------------------------------------- policy


def test_policy_off_every_row_over_is_an_alarm():
    over = rows(0, 1, 1, 0, 1)
    assert apply_policy(over, 1, 1, 0).tolist() == over.tolist()
    assert AlarmPolicy().is_off and not AlarmPolicy(1, 1, 5).is_off


def test_policy_k_of_n_with_silence():
    # over       1 0 1 1 1 0 0 1
    # 2 of last 3: row 0: 1 row over (of 1); row 1: 1 (of 2); row 2: rows 0-2 -> 2 -> ALARM,
    # rows 3, 4 silenced; row 5: rows 3-5 = 1 1 0 -> 2 -> ALARM (k of n, the row itself need not be over),
    # rows 6, 7 silenced.
    assert alarm_rows(apply_policy(rows(1, 0, 1, 1, 1, 0, 0, 1), 2, 3, 2)) == [2, 5]


def test_policy_k_of_n_without_silence():
    # 2 of the last 2: counts 1 2 1 1 2 2 -> rows 1, 4, 5
    assert alarm_rows(apply_policy(rows(1, 1, 0, 1, 1, 1), 2, 2, 0)) == [1, 4, 5]
    # at the start fewer than n rows exist: 2 of rows 0-1 already meet k=2 of n=3
    assert alarm_rows(apply_policy(rows(1, 1), 2, 3, 0)) == [1]
    assert alarm_rows(apply_policy(rows(0, 0, 1), 2, 3, 0)) == []


def test_flickering_score_raises_one_alarm_not_five():
    flicker = rows(1, 0, 1, 0, 1, 0, 1, 0, 1, 0)
    assert apply_policy(flicker, 1, 1, 0).sum() == 5
    # silence 10: the alarm at row 0 silences rows 1-10
    assert alarm_rows(apply_policy(flicker, 1, 1, 10)) == [0]
    # silence 5: alarm at 0 silences 1-5; row 6 is over -> alarm, silencing 7-11
    assert alarm_rows(apply_policy(flicker, 1, 1, 5)) == [0, 6]
    # silence 1 just skips the next row: 0, 2, 4, 6, 8 all alarm
    assert alarm_rows(apply_policy(flicker, 1, 1, 1)) == [0, 2, 4, 6, 8]


def test_policy_edges():
    assert apply_policy(rows(), 2, 3, 4).tolist() == []
    assert apply_policy(rows(0, 0, 0), 1, 1, 3).tolist() == [False] * 3
    assert alarm_rows(apply_policy(rows(1, 1, 1, 1), 1, 1, 100)) == [0]


@pytest.mark.parametrize(
    ("k", "n", "silence", "message"),
    [
        (0, 1, 0, "k=0 must be between 1 and n=1"),
        (3, 2, 0, "k=3 must be between 1 and n=2"),
        (1, 0, 0, "n=0 must be >= 1"),
        (1, 1, -1, "silence=-1 must be >= 0"),
    ],
)
def test_policy_rejects_bad_settings(k, n, silence, message):
    with pytest.raises(ValueError, match=message):
        apply_policy(rows(1), k, n, silence)
    with pytest.raises(ValueError, match=message):
        AlarmPolicy(k, n, silence)


def test_policy_matches_a_row_by_row_reference():
    def reference(over: np.ndarray, k: int, n: int, silence: int) -> list[int]:
        out, quiet_until = [], -1
        for i in range(len(over)):
            if i > quiet_until and over[max(0, i - n + 1) : i + 1].sum() >= k:
                out.append(i)
                quiet_until = i + silence
        return out

    rng = np.random.default_rng(1)
    for _ in range(200):
        over = rng.random(int(rng.integers(0, 40))) < rng.random()
        n = int(rng.integers(1, 6))
        k, silence = int(rng.integers(1, n + 1)), int(rng.integers(0, 6))
        assert alarm_rows(apply_policy(over, k, n, silence)) == reference(over, k, n, silence)


# ------------------------------------------------------------------------------------------ metrics

# 12 original rows, one event at row 8, horizon 2: rows 6, 7 become positive and row 8 is dropped.
KEPT = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11]
LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0])
ALARMS = np.isin(KEPT, [3, 6, 7])  # alarms at rows 3, 6, 7


def test_one_event_in_rows():
    m = early_warning_metrics(np.array(KEPT), LABELS, ALARMS, [8], [8])
    assert m["events"] == 1 and m["events_caught"] == 1
    assert m["event_recall"] == 1.0
    assert m["lead_time_unit"] == "rows"
    # first alarm in the window is row 6: 8 - 6 = 2 rows
    assert m["lead_time_median"] == 2.0
    assert (m["lead_time_q1"], m["lead_time_q3"], m["lead_time_min"], m["lead_time_max"]) == (2.0, 2.0, 2.0, 2.0)
    assert (m["alarms"], m["true_alarms"], m["false_alarms"]) == (3, 2, 1)  # row 3 is the false alarm
    assert m["false_alarms_per_day"] is None  # no datetime axis
    assert m["false_alarms_per_1000_rows"] == pytest.approx(1000 / 11)
    assert m["alarms_per_event"] == 3.0


def test_one_event_in_minutes():
    # the same rows two minutes apart: lead 2 rows = 4 minutes
    times = pd.Series([T0 + pd.Timedelta(minutes=2 * r) for r in KEPT])
    m = early_warning_metrics(times, LABELS, ALARMS, [T0 + pd.Timedelta(minutes=16)], [T0 + pd.Timedelta(minutes=16)])
    assert m["lead_time_unit"] == "minutes"
    assert m["lead_time_median"] == 4.0
    # recorded time: the 2-minute steps of rows 0..7 and 9..11 (14 + 4 minutes), the 4-minute step over the
    # dropped event row 8 left out (more than max_gap=1.5 median steps), plus one 2-minute row for each of
    # the two stretches = 22 minutes -> 1 false alarm = 1440 / 22 a day
    assert m["recorded_days"] == pytest.approx(22 / 1440)
    assert m["false_alarms_per_day"] == pytest.approx(1440 / 22)
    # a laxer gap limit counts the step over the dropped row: minute 0 to 22 plus one row, 24 minutes
    assert early_warning_metrics(
        times, LABELS, ALARMS, [T0 + pd.Timedelta(minutes=16)], [T0 + pd.Timedelta(minutes=16)], max_gap=3.0
    )["false_alarms_per_day"] == pytest.approx(60.0)
    assert m["false_alarms_per_1000_rows"] == pytest.approx(1000 / 11)


def test_several_events_caught_missed_and_outside_the_split():
    # 30 original rows, horizon 3. Events: A rows 5-6, B row 15, C row 25, D row 40 (after this split).
    # Windows: A 2-4, B 12-14, C 22-24. Event rows 5, 6, 15, 25 are dropped.
    kept = [r for r in range(30) if r not in (5, 6, 15, 25)]
    labels = np.isin(kept, [2, 3, 4, 12, 13, 14, 22, 23, 24]).astype(int)
    alarms = np.isin(kept, [2, 4, 9, 14, 27])
    m = early_warning_metrics(np.array(kept), labels, alarms, [5, 15, 25, 40], [6, 15, 25, 40])
    # D has no window row here: 3 events. A caught at row 2 (lead 3), B at row 14 (lead 1), C missed.
    assert (m["events"], m["events_caught"]) == (3, 2)
    assert m["event_recall"] == pytest.approx(2 / 3)
    assert m["lead_time_median"] == 2.0
    assert (m["lead_time_q1"], m["lead_time_q3"]) == (1.5, 2.5)  # linear interpolation of [1, 3]
    assert (m["lead_time_min"], m["lead_time_max"]) == (1.0, 3.0)
    assert (m["alarms"], m["true_alarms"], m["false_alarms"]) == (5, 3, 2)  # rows 9 and 27 are false
    assert m["false_alarms_per_1000_rows"] == pytest.approx(2000 / 26)
    assert m["alarms_per_event"] == pytest.approx(5 / 3)


def test_no_alarms_and_no_events():
    m = early_warning_metrics(np.array(KEPT), LABELS, np.zeros(11, dtype=bool), [8], [8])
    assert (m["events"], m["events_caught"], m["event_recall"]) == (1, 0, 0.0)
    assert m["lead_time_median"] is None and m["lead_time_q1"] is None
    assert (m["false_alarms"], m["alarms_per_event"]) == (0, 0.0)
    empty = early_warning_metrics(np.arange(5), np.zeros(5, dtype=int), rows(1, 0, 0, 0, 0), [], [])
    assert (empty["events"], empty["event_recall"], empty["alarms_per_event"]) == (0, None, None)
    assert empty["false_alarms"] == 1


def test_horizon_zero_the_event_rows_are_the_window():
    # labels unshifted: event at rows 4-5; an alarm at row 5 detects it one row after it started
    labels = np.array([0, 0, 0, 0, 1, 1, 0, 0])
    m = early_warning_metrics(np.arange(8), labels, np.isin(np.arange(8), [5]), [4], [5])
    assert (m["events_caught"], m["lead_time_median"], m["false_alarms"]) == (1, -1.0, 0)


def test_rows_out_of_time_order_are_sorted_first():
    order = np.array([10, 3, 0, 7, 6, 1, 2, 4, 5, 8, 9])
    m = early_warning_metrics(np.array(KEPT)[order], LABELS[order], ALARMS[order], [8], [8])
    assert (m["lead_time_median"], m["false_alarms"]) == (2.0, 1)


def test_window_events_close_events_share_a_run():
    # events A rows 10-11, B row 13, horizon 2: positives 8, 9 (A) and 12 (B) are adjacent once 10, 11 drop
    t = np.array([7, 8, 9, 12, 14], dtype=float)
    assert window_events(t, np.array([0, 1, 1, 1, 0]), np.array([11.0, 13.0])).tolist() == [-1, 0, 0, 1, -1]


def test_mixed_time_kinds_rejected():
    with pytest.raises(ValueError, match="both be physical times or both be positions"):
        early_warning_metrics(np.array(KEPT), LABELS, ALARMS, [T0], [T0])
    with pytest.raises(ValueError, match="time must be datetimes or numbers"):
        early_warning_metrics(np.array(["a", "b"]), np.array([0, 1]), rows(0, 1), [1], [1])


def test_events_from_labels_estimate():
    est = events_from_labels(np.array(KEPT), LABELS, horizon=2)
    # the window ends at row 7; the event starts one row (median spacing 1) later, at row 8
    assert est["start_time"].tolist() == [8.0] and est["end_time"].tolist() == [8.0]
    times = pd.Series([T0 + pd.Timedelta(minutes=2 * r) for r in KEPT])
    est = events_from_labels(times, LABELS, horizon=2)
    assert list(est["start_time"]) == [T0 + pd.Timedelta(minutes=16)]
    unshifted = events_from_labels(np.arange(8), np.array([1, 0, 0, 0, 1, 1, 0, 1]), horizon=0)
    assert unshifted["start_time"].tolist() == [0, 4, 7] and unshifted["end_time"].tolist() == [0, 5, 7]
    assert unshifted["rows"].tolist() == [1, 2, 1]


# ---------------------------------------------------------------------------- pricing per operator alarm

# 12 rows in time order: a flickering normal stretch (rows 2-6 at .6) and a warning window (rows 9, 10).
PRICE_LABELS = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
PRICE_SCORES = np.array([0.1, 0.1, 0.6, 0.6, 0.6, 0.6, 0.6, 0.1, 0.1, 0.5, 0.2, 0.1])


def test_false_alarm_counts_per_threshold():
    thresholds = confusion_curve(PRICE_LABELS, PRICE_SCORES).thresholds  # .1 .15 .35 .55 >.6
    # policy off: the false-positive rows, 10 5 5 5 0
    assert false_alarm_counts(PRICE_LABELS, PRICE_SCORES, thresholds, AlarmPolicy()).tolist() == [10, 5, 5, 5, 0]
    # silence 3: at .1 alarms 0, 4, 8 (all normal) -> 3; at .15 alarms 2, 6, 10 -> 2 false (10 is in the
    # window); at .35 alarms 2, 6 (9 is silenced) -> 2; at .55 alarms 2, 6 -> 2; none above .6
    counts = false_alarm_counts(PRICE_LABELS, PRICE_SCORES, thresholds, AlarmPolicy(1, 1, 3))
    assert counts.tolist() == [3, 2, 2, 2, 0]


def test_alarm_cost_curve_and_min_cost():
    policy = AlarmPolicy(1, 1, 3)
    c = alarm_cost_curve(PRICE_LABELS, PRICE_SCORES, tn=0, fp=15, fn=30, tp=0, policy=policy)
    # FN rows 0 0 1 2 2; cost = 15 * false alarms + 30 * FN rows
    assert c.fp.tolist() == [10, 5, 5, 5, 0]
    assert c.false_alarms.tolist() == [3, 2, 2, 2, 0]
    assert c.cost.tolist() == [45, 30, 60, 90, 60]
    assert not c.subsampled
    assert min_alarm_cost_threshold(PRICE_LABELS, PRICE_SCORES, 0, 15, 30, 0, policy) == pytest.approx(0.15)
    # policy off: the same as row pricing, 150 75 105 135 60 -> no alarm at all
    off = min_alarm_cost_threshold(PRICE_LABELS, PRICE_SCORES, 0, 15, 30, 0, AlarmPolicy())
    assert off > 0.6


def test_candidate_subsample():
    assert candidate_subsample(10, 10, budget=100).tolist() == list(range(10))
    # budget for 4 of 10 thresholds on 10 rows: 0, 3, 6, 9 (first and last kept)
    assert candidate_subsample(10, 10, budget=40).tolist() == [0, 3, 6, 9]


# ------------------------------------------------------------------------------------------- config


def _params(small_params, **alarm) -> dict:
    return small_params(alarm={"k": 1, "n": 1, "silence_rows": 0, **alarm})


def test_alarm_config_loads(small_params):
    cfg = config_from_dict(_params(small_params, k=2, n=3, silence_rows=30))
    assert (cfg.alarm.k, cfg.alarm.n, cfg.alarm.silence_rows) == (2, 3, 30)
    assert cfg.cost.false_alarm_pricing == "per_row"


@pytest.mark.parametrize(
    ("alarm", "message"),
    [
        ({"k": 3, "n": 2}, r"alarm.k=3 must be between 1 and alarm.n=2 .* e.g. alarm.k=2 alarm.n=3"),
        ({"k": 0}, r"'alarm.k' is 0; must be >= 1 \(an alarm needs k of the last n rows over the threshold\)"),
        ({"n": 0}, r"'alarm.n' is 0; must be >= 1 .*use alarm.n=1 for no smoothing"),
        ({"silence_rows": -1}, r"'alarm.silence_rows' is -1; must be >= 0 .*0 turns silencing off"),
        ({"k": 1.5}, r"config key 'alarm.k' is 1.5; must be an integer"),
    ],
)
def test_alarm_config_errors(small_params, alarm, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_params(small_params, **alarm))


def test_false_alarm_pricing_values(small_params):
    cfg = config_from_dict(small_params(cost__false_alarm_pricing="per_alarm"))
    assert cfg.cost.false_alarm_pricing == "per_alarm"
    with pytest.raises(
        ConfigError,
        match=r"'cost.false_alarm_pricing' is 'per_event'; allowed values: "
        r"'per_row' or 'per_alarm'",
    ):
        config_from_dict(small_params(cost__false_alarm_pricing="per_event"))
