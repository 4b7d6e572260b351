"""Tests for early warning as label shift (rarewatch.data.label_shift).

docs/protocol.md, "Early warning is a label shift".
"""

from __future__ import annotations

import numpy as np
import pytest

from rarewatch.data.label_shift import find_events, shift_labels

Y = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 1])


def test_find_events_runs_inclusive():
    # runs of 1s: rows 4-5 and row 9
    assert find_events(Y) == [(4, 5), (9, 9)]


def test_find_events_at_the_start_and_bool_input():
    assert find_events(np.array([True, True, False, True])) == [(0, 1), (3, 3)]


def test_find_events_all_zeros_all_ones_empty():
    assert find_events(np.zeros(6, dtype=int)) == []
    assert find_events(np.ones(5, dtype=int)) == [(0, 4)]
    assert find_events(np.array([], dtype=int)) == []


def test_horizon_zero_is_identity():
    new, keep = shift_labels(Y, 0)
    assert new.tolist() == Y.tolist()
    assert keep.tolist() == [True] * 10


def test_horizon_zero_returns_a_copy():
    y = Y.copy()
    new, _ = shift_labels(y, 0)
    new[0] = 1
    assert y[0] == 0


def test_horizon_two_hand_case():
    new, keep = shift_labels(Y, 2)
    # events rows 4-5 and 9 -> rows 2,3 and 7,8 become positive; rows 4,5,9 are dropped
    assert keep.tolist() == [True, True, True, True, False, False, True, True, True, False]
    # kept rows 0 1 2 3 6 7 8 -> labels 0 0 1 1 0 1 1
    assert new.tolist() == [0, 0, 1, 1, 0, 1, 1]


def test_event_at_row_zero_has_no_warning_rows():
    new, keep = shift_labels(np.array([1, 0, 0, 0]), 2)
    assert keep.tolist() == [False, True, True, True]
    assert new.tolist() == [0, 0, 0]


def test_event_at_row_one_window_clipped_at_start():
    # horizon 3 before row 1 would be rows -2..0 -> only row 0
    new, keep = shift_labels(np.array([0, 1, 0, 0, 0]), 3)
    assert keep.tolist() == [True, False, True, True, True]
    assert new.tolist() == [1, 0, 0, 0]


def test_two_events_closer_than_horizon():
    y = np.array([0, 0, 0, 1, 0, 1, 0])
    # horizon 3: event 3 -> rows 0,1,2; event 5 -> rows 2,3,4 (row 3 is an event: dropped anyway)
    new, keep = shift_labels(y, 3)
    assert keep.tolist() == [True, True, True, False, True, False, True]
    # kept rows 0 1 2 4 6 -> 1 1 1 1 0
    assert new.tolist() == [1, 1, 1, 1, 0]


def test_horizon_longer_than_history():
    new, keep = shift_labels(np.array([0, 0, 1]), 10)
    assert keep.tolist() == [True, True, False]
    assert new.tolist() == [1, 1]


def test_all_positive_drops_everything_and_all_normal_keeps_everything():
    new, keep = shift_labels(np.ones(4, dtype=int), 2)
    assert len(new) == 0 and not keep.any()
    new, keep = shift_labels(np.zeros(4, dtype=int), 2)
    assert new.tolist() == [0, 0, 0, 0] and keep.all()


def test_negative_horizon_raises():
    with pytest.raises(ValueError, match="horizon=-1 must be >= 0"):
        shift_labels(Y, -1)
