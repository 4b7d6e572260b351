"""Tests for threshold strategies (rarewatch.evaluation.thresholds)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score

from rarewatch.evaluation.metrics import confusion_at
from rarewatch.evaluation.thresholds import (
    confusion_curve,
    max_f1_threshold,
    min_cost_threshold,
    percentile_threshold,
)

LABELS = np.array([0, 0, 1, 1, 0])
SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.2])
# distinct sorted scores .1 .2 .35 .4 .8 -> candidates .1, midpoints .15 .275 .375 .6, just above .8
#   t      alarms              tp fp fn tn   F1 = 2tp / (2tp + fp + fn)
#   .1     all                 2  3  0  0    4/7
#   .15    .2 .35 .4 .8        2  2  0  1    4/6
#   .275   .35 .4 .8           2  1  0  2    4/5   <- max F1
#   .375   .4 .8               1  1  1  2    2/4
#   .6     .8                  1  0  1  3    2/3
#   >.8    none                0  0  2  3    0


def test_confusion_curve_hand_case():
    c = confusion_curve(LABELS, SCORES)
    assert c.thresholds[:5] == pytest.approx([0.1, 0.15, 0.275, 0.375, 0.6])
    assert 0.8 < c.thresholds[5] < 0.8 + 1e-12  # just above the max
    assert c.tp.tolist() == [2, 2, 2, 1, 1, 0]
    assert c.fp.tolist() == [3, 2, 1, 1, 0, 0]
    assert c.fn.tolist() == [0, 0, 0, 1, 1, 2]
    assert c.tn.tolist() == [0, 1, 2, 2, 3, 3]
    assert c.f1 == pytest.approx([4 / 7, 4 / 6, 4 / 5, 2 / 4, 2 / 3, 0.0])


def test_confusion_curve_last_candidate_raises_no_alarm():
    c = confusion_curve(LABELS, SCORES)
    last = confusion_at(LABELS, SCORES, c.thresholds[-1])
    assert last.tp + last.fp == 0


def test_confusion_curve_ties_are_never_split():
    labels = np.array([0, 1, 0, 1, 0, 1])
    scores = np.array([0.3, 0.3, 0.3, 0.7, 0.7, 0.9])
    # distinct .3 .7 .9 -> candidates .3 (all), .5 (.7 .7 .9), .8 (.9), >.9 (none)
    c = confusion_curve(labels, scores)
    assert c.thresholds[:3] == pytest.approx([0.3, 0.5, 0.8])
    assert c.tp.tolist() == [3, 2, 1, 0]  # .5: rows 3 (P), 4 (N), 5 (P) alarm
    assert c.fp.tolist() == [3, 1, 0, 0]
    assert c.fn.tolist() == [0, 1, 2, 3]
    assert c.tn.tolist() == [0, 2, 3, 3]


def test_confusion_curve_all_scores_equal():
    c = confusion_curve(np.array([0, 1, 0, 1, 0]), np.full(5, 0.5))
    # only two candidates: everything alarms (0.5) or nothing does (just above)
    assert len(c.thresholds) == 2
    assert c.thresholds[0] == 0.5 and c.thresholds[1] > 0.5
    assert c.tp.tolist() == [2, 0] and c.fp.tolist() == [3, 0]


def test_confusion_curve_cost():
    c = confusion_curve(LABELS, SCORES)
    # fp costs 1, fn costs 10: 3, 2, 1, 1+10, 10, 20
    assert c.cost(tn=0, fp=1, fn=10, tp=0).tolist() == [3, 2, 1, 11, 10, 20]


def test_confusion_curve_matches_confusion_at_and_sklearn_f1_with_ties():
    rng = np.random.default_rng(0)
    labels = (rng.random(200) < 0.15).astype(int)
    scores = np.round(rng.normal(size=200) + labels, 1)  # 1 decimal -> many ties
    assert len(np.unique(scores)) < 200 and 0 < labels.sum() < 200
    c = confusion_curve(labels, scores)
    assert len(c.thresholds) == len(np.unique(scores)) + 1
    assert np.all(np.diff(c.thresholds) > 0)
    for i, t in enumerate(c.thresholds):
        at = confusion_at(labels, scores, t)
        assert (at.tn, at.fp, at.fn, at.tp) == (c.tn[i], c.fp[i], c.fn[i], c.tp[i])
        assert c.f1[i] == pytest.approx(f1_score(labels, scores >= t, zero_division=0.0))


@pytest.mark.parametrize(
    "scores",
    [
        np.array([1.0, np.nextafter(1.0, 2.0), 0.5]),  # adjacent floats: midpoint rounds onto 1.0
        np.array([1e308, 1.7e308, -1e308]),  # midpoint of the two largest overflows
    ],
)
def test_confusion_curve_thresholds_reproduce_counts_at_float_limits(scores):
    labels = np.array([0, 1, 0])
    c = confusion_curve(labels, scores)
    assert np.all(np.isfinite(c.thresholds)) and np.all(np.diff(c.thresholds) > 0)
    for i, t in enumerate(c.thresholds):
        at = confusion_at(labels, scores, t)
        assert (at.tn, at.fp, at.fn, at.tp) == (c.tn[i], c.fp[i], c.fn[i], c.tp[i])
    # row 1 alone above row 0: the best threshold alarms only row 1 -> F1 = 1
    assert confusion_at(labels, scores, max_f1_threshold(labels, scores)).f1 == 1.0


def test_confusion_curve_float32_scores_last_threshold_is_no_alarm():
    labels = np.array([0, 1, 1])
    scores = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    c = confusion_curve(labels, scores)
    for i, t in enumerate(c.thresholds):
        at = confusion_at(labels, scores, float(t))
        assert (at.tn, at.fp, at.fn, at.tp) == (c.tn[i], c.fp[i], c.fn[i], c.tp[i])


def test_confusion_curve_rejects_empty_and_nan():
    with pytest.raises(ValueError, match="no scores to choose a threshold from"):
        confusion_curve(np.array([], dtype=int), np.array([]))
    with pytest.raises(ValueError, match="1 scores are NaN or infinite; the model diverged"):
        confusion_curve(np.array([0, 1]), np.array([0.2, np.nan]))


def test_percentile_threshold_uses_normal_rows_only():
    labels = np.array([0, 0, 1, 0, 0, 1])
    scores = np.array([1.0, 2.0, 100.0, 3.0, 4.0, 200.0])
    # normal scores 1 2 3 4; linear interpolation: p50 at position 1.5 -> 2.5; p75 at 2.25 -> 3.25
    assert percentile_threshold(labels, scores, 50) == pytest.approx(2.5)
    assert percentile_threshold(labels, scores, 75) == pytest.approx(3.25)


def test_percentile_threshold_without_normal_rows_raises():
    with pytest.raises(ValueError, match="needs normal validation rows; validation has none"):
        percentile_threshold(np.array([1, 1]), np.array([0.1, 0.2]), 95)


def test_percentile_threshold_nan_raises():
    with pytest.raises(ValueError, match="NaN or infinite"):
        percentile_threshold(np.array([0, 0]), np.array([0.1, np.nan]), 95)


def test_max_f1_threshold_hand_case():
    # see the table at the top: max F1 4/5 at .275 = (.2 + .35) / 2
    assert max_f1_threshold(LABELS, SCORES) == pytest.approx(0.275)


def test_max_f1_ties_go_to_higher_threshold():
    labels = np.array([1, 0, 0, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4])
    # t .1: tp2 fp2 -> 4/6; .15: tp1 fp2 fn1 -> 2/5; .25: tp1 fp1 fn1 -> 2/4; .35: tp1 fn1 -> 2/3; none -> 0
    # F1 2/3 at .1 and at .35 -> the higher, .35 (fewer alarms)
    assert max_f1_threshold(labels, scores) == pytest.approx(0.35)


def test_max_f1_all_positive_alarms_everything():
    # every row positive: alarming all gives F1 1
    assert max_f1_threshold(np.array([1, 1, 1]), np.array([0.3, 0.1, 0.2])) == pytest.approx(0.1)


def test_max_f1_no_positive_warns_and_returns_none():
    with pytest.warns(UserWarning, match="no positive rows.*use a longer validation split or the percentile"):
        assert max_f1_threshold(np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3])) is None


def test_max_f1_with_positives_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        max_f1_threshold(LABELS, SCORES)


def test_max_f1_nan_raises():
    with pytest.raises(ValueError, match="NaN or infinite"):
        max_f1_threshold(np.array([0, 1]), np.array([np.nan, 0.2]))


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        # costs per candidate (table above): fp=1, fn=10 -> 3, 2, 1, 11, 10, 20 -> .275
        ({"tn": 0, "fp": 1, "fn": 10, "tp": 0}, 0.275),
        # fp=5, fn=1 -> 15, 10, 5, 6, 1, 2 -> .6
        ({"tn": 0, "fp": 5, "fn": 1, "tp": 0}, 0.6),
        # tn=1 only -> 0, 1, 2, 2, 3, 3 -> alarm everything at .1
        ({"tn": 1, "fp": 0, "fn": 0, "tp": 0}, 0.1),
    ],
)
def test_min_cost_threshold_hand_case(costs, expected):
    assert min_cost_threshold(LABELS, SCORES, **costs) == pytest.approx(expected)


def test_min_cost_ties_go_to_higher_threshold():
    # fp = fn = 1 -> 3, 2, 1, 2, 1, 2: cost 1 at .275 and .6 -> .6
    assert min_cost_threshold(LABELS, SCORES, tn=0, fp=1, fn=1, tp=0) == pytest.approx(0.6)


def test_min_cost_all_free_picks_no_alarm():
    # every candidate costs 0 -> the highest one, just above the max score
    t = min_cost_threshold(LABELS, SCORES, tn=0, fp=0, fn=0, tp=0)
    assert t > 0.8
    assert confusion_at(LABELS, SCORES, t).fp == 0


def test_min_cost_nan_raises():
    with pytest.raises(ValueError, match="NaN or infinite"):
        min_cost_threshold(np.array([0, 1]), np.array([0.1, np.inf]), 0, 1, 1, 0)
