"""Tests for the cost matrix and savings (rarewatch.evaluation.cost)."""

from __future__ import annotations

import numpy as np
import pytest

from rarewatch.evaluation.cost import CostMatrix, savings
from rarewatch.evaluation.metrics import Confusion, confusion_at

MATRIX = CostMatrix(tn=0.0, fp=5.0, fn=100.0, tp=5.0)


def test_total_weights_every_cell():
    # 2*0 + 1*5 + 0*100 + 2*5 = 15
    assert MATRIX.total(Confusion(tn=2, fp=1, fn=0, tp=2)) == 15.0
    # 1*1 + 2*2 + 3*3 + 4*4 = 30: every cell has its own weight
    assert CostMatrix(tn=1, fp=2, fn=3, tp=4).total(Confusion(tn=1, fp=2, fn=3, tp=4)) == 30


def test_total_of_a_thresholded_confusion():
    labels = np.array([0, 0, 1, 1, 0])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2])
    # threshold 0.35 -> TN 2, FP 1, FN 0, TP 2 -> 15; threshold 0.9 -> FN 2 -> 200
    assert MATRIX.total(confusion_at(labels, scores, 0.35)) == 15.0
    assert MATRIX.total(confusion_at(labels, scores, 0.9)) == 200.0


def test_no_alarm_cost():
    labels = np.array([0, 0, 1, 1, 0])
    # 2 missed events * 100 + 3 normal rows * 0 = 200
    assert MATRIX.no_alarm(labels) == 200.0
    # with tn = 1: 2 * 100 + 3 * 1 = 203
    assert CostMatrix(tn=1, fp=5, fn=100, tp=5).no_alarm(labels) == 203.0
    assert MATRIX.no_alarm(np.zeros(4, dtype=int)) == 0.0


def test_savings():
    # 200 - 15 = 185 saved, 185 / 200 = 0.925
    assert savings(200.0, 15.0) == {"savings": 185.0, "savings_fraction": pytest.approx(0.925)}


def test_negative_savings_when_detector_costs_more():
    # 100 - 150 = -50, -50 / 100 = -0.5
    assert savings(100.0, 150.0) == {"savings": -50.0, "savings_fraction": -0.5}


def test_savings_fraction_none_when_no_alarm_costs_nothing():
    assert savings(0.0, 10.0) == {"savings": -10.0, "savings_fraction": None}
