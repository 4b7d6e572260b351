"""Tests for row metrics from scores and from one threshold (rarewatch.evaluation.metrics)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

from rarewatch.evaluation.metrics import Confusion, confusion_at, ranking_metrics

# The running hand case: positives are rows 2 and 3.
LABELS = np.array([0, 0, 1, 1, 0])
SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.2])


def test_confusion_at_hand_case():
    # threshold 0.35 -> alarms rows 1 (.4), 2 (.35), 3 (.8) -> TP rows 2,3; FP row 1; TN rows 0,4
    c = confusion_at(LABELS, SCORES, 0.35)
    assert (c.tn, c.fp, c.fn, c.tp) == (2, 1, 0, 2)
    assert c.precision == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert c.recall == 1.0  # 2 / (2 + 0)
    assert c.f1 == pytest.approx(0.8)  # 2 * (2/3) * 1 / (2/3 + 1) = (4/3) / (5/3)


def test_alarm_rule_is_score_greater_or_equal():
    # Threshold equal to row 2's score alarms row 2; a hair above does not.
    at = confusion_at(LABELS, SCORES, 0.35)
    above = confusion_at(LABELS, SCORES, np.nextafter(0.35, 1.0))
    assert at.tp == 2
    # above 0.35 -> alarms rows 1 (.4), 3 (.8) -> TP 1, FP 1, FN 1, TN 2
    assert (above.tn, above.fp, above.fn, above.tp) == (2, 1, 1, 1)


def test_confusion_at_extreme_thresholds():
    # threshold at the lowest score: every row alarms -> TP 2, FP 3
    low = confusion_at(LABELS, SCORES, 0.1)
    assert (low.tn, low.fp, low.fn, low.tp) == (0, 3, 0, 2)
    # threshold above every score: nothing alarms -> TN 3, FN 2
    high = confusion_at(LABELS, SCORES, 0.81)
    assert (high.tn, high.fp, high.fn, high.tp) == (3, 0, 2, 0)
    assert high.precision == 0.0 and high.recall == 0.0 and high.f1 == 0.0


def test_confusion_at_ties_all_alarm_or_none():
    labels = np.array([0, 1, 0, 1, 0])
    scores = np.full(5, 0.5)
    # all scores 0.5: threshold 0.5 alarms all 5 rows -> TP 2, FP 3
    c = confusion_at(labels, scores, 0.5)
    assert (c.tn, c.fp, c.fn, c.tp) == (0, 3, 0, 2)
    c = confusion_at(labels, scores, 0.5000001)
    assert (c.tn, c.fp, c.fn, c.tp) == (3, 0, 2, 0)


def test_confusion_at_float32_scores_compare_exactly():
    # The float just above 0.9f (in float64) must not alarm a float32 score of 0.9f.
    scores = np.array([0.1, 0.9], dtype=np.float32)
    just_above = float(np.nextafter(np.float64(scores[1]), np.inf))
    c = confusion_at(np.array([0, 1]), scores, just_above)
    assert (c.tn, c.fp, c.fn, c.tp) == (1, 0, 1, 0)


def test_confusion_matches_sklearn_on_random_data():
    rng = np.random.default_rng(3)
    labels = (rng.random(100) < 0.3).astype(int)
    scores = rng.integers(0, 10, 100) / 10  # many ties
    for t in (0.0, 0.25, 0.5, 0.9, 1.0):
        c = confusion_at(labels, scores, t)
        tn, fp, fn, tp = confusion_matrix(labels, (scores >= t).astype(int), labels=[0, 1]).ravel()
        assert (c.tn, c.fp, c.fn, c.tp) == (tn, fp, fn, tp)


def test_confusion_zero_divisions_are_zero():
    # no alarms at all: precision 0/0 -> 0
    assert Confusion(tn=3, fp=0, fn=2, tp=0).precision == 0.0
    # no positives at all: recall 0/0 -> 0, f1 0
    c = Confusion(tn=3, fp=2, fn=0, tp=0)
    assert c.recall == 0.0 and c.f1 == 0.0


def test_confusion_as_dict():
    # tp 1, fp 3, fn 1 -> precision 1/4, recall 1/2, f1 = 2*.25*.5/.75 = 1/3
    d = Confusion(tn=5, fp=3, fn=1, tp=1).as_dict()
    assert d == {
        "tn": 5,
        "fp": 3,
        "fn": 1,
        "tp": 1,
        "precision": 0.25,
        "recall": 0.5,
        "f1": pytest.approx(1 / 3),
    }


def test_ranking_metrics_hand_case_without_ties():
    # Shuffled version of the ranking P .9, N .8, N .7, P .6, P .5, N .4, N .3.
    labels = np.array([0, 1, 1, 0, 0, 1, 0])
    scores = np.array([0.4, 0.6, 0.9, 0.3, 0.8, 0.5, 0.7])
    # ROC-AUC: (pos, neg) pairs won: .9 beats 4, .6 beats .4,.3, .5 beats .4,.3 -> 8 / 12
    # AP: precision at each positive in rank order: 1/1, 2/4, 3/5 -> (1 + .5 + .6) / 3 = 0.7
    m = ranking_metrics(labels, scores)
    assert m["roc_auc"] == pytest.approx(2 / 3)
    assert m["pr_auc"] == pytest.approx(0.7)
    assert m["pr_auc_no_skill"] == pytest.approx(3 / 7)
    assert m["n_rows"] == 7 and m["n_positive"] == 3
    # independent reference agrees with the hand values
    assert roc_auc_score(labels, scores) == pytest.approx(2 / 3)
    assert average_precision_score(labels, scores) == pytest.approx(0.7)


def test_ranking_metrics_with_ties():
    labels = np.array([0, 1, 0, 1])
    scores = np.array([0.5, 0.5, 0.2, 0.9])
    # ROC pairs: (.5,.5) tie -> 0.5, (.5,.2) 1, (.9,.5) 1, (.9,.2) 1 -> 3.5 / 4
    # AP: thresholds .9 (P 1, R .5), .5 (P 2/3, R 1) -> .5 * 1 + .5 * 2/3 = 5/6
    m = ranking_metrics(labels, scores)
    assert m["roc_auc"] == pytest.approx(0.875)
    assert m["pr_auc"] == pytest.approx(5 / 6)
    assert roc_auc_score(labels, scores) == pytest.approx(0.875)
    assert average_precision_score(labels, scores) == pytest.approx(5 / 6)


def test_ranking_metrics_all_scores_equal():
    # one score for all: ROC is the diagonal (0.5); AP is the positive rate 2/5
    m = ranking_metrics(np.array([0, 1, 0, 1, 0]), np.full(5, 0.3))
    assert m["roc_auc"] == pytest.approx(0.5)
    assert m["pr_auc"] == pytest.approx(0.4)
    assert m["pr_auc_no_skill"] == pytest.approx(0.4)


@pytest.mark.parametrize(("labels", "no_skill"), [([0, 0, 0, 0], 0.0), ([1, 1, 1], 1.0)])
def test_ranking_metrics_one_class_gives_none(labels, no_skill):
    labels = np.array(labels)
    m = ranking_metrics(labels, np.linspace(0, 1, len(labels)))
    assert m["roc_auc"] is None
    assert m["pr_auc"] is None
    assert m["pr_auc_no_skill"] == no_skill
    assert m["n_positive"] == int(labels.sum())


def test_ranking_metrics_uses_scores_not_hard_labels():
    # Same hard predictions at 0.5 (rows 3,4 alarm), different rankings -> different AUCs.
    labels = np.array([0, 1, 0, 1, 0])
    a = ranking_metrics(labels, np.array([0.1, 0.4, 0.3, 0.9, 0.8]))  # pos .4 beats .1,.3; .9 beats 3 -> 5/6
    b = ranking_metrics(labels, np.array([0.4, 0.1, 0.3, 0.9, 0.8]))  # pos .1 beats 0; .9 beats 3 -> 3/6
    assert a["roc_auc"] == pytest.approx(5 / 6)
    assert b["roc_auc"] == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fn", [ranking_metrics, lambda y, s: confusion_at(y, s, 0.5)])
def test_non_finite_score_raises(fn, bad):
    scores = np.array([0.1, bad, 0.3, 0.4])
    with pytest.raises(ValueError, match="1 scores are NaN or infinite; the model diverged"):
        fn(np.array([0, 1, 0, 1]), scores)


def test_bad_labels_and_shapes_raise():
    with pytest.raises(ValueError, match="labels must be 0/1"):
        confusion_at(np.array([0, 2, 1]), np.array([0.1, 0.2, 0.3]), 0.2)
    with pytest.raises(ValueError, match=r"labels \(3,\) and scores \(2,\) must be 1-D of equal length"):
        ranking_metrics(np.array([0, 1, 0]), np.array([0.1, 0.2]))
