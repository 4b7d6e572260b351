"""rarewatch.data.windows: segments at time gaps, window index matrices, training windows."""

from __future__ import annotations

import numpy as np
import pytest

from rarewatch.data.windows import segments, training_windows, window_index

# ------------------------------------------------------------------------------------------ segments


def test_segments_start_after_steps_above_max_gap_times_median():
    # steps 1 1 1 3 1 1 12 1 -> median 1; with max_gap 1.5, steps 3 (row 4) and 12 (row 7) start segments
    t = np.array([0, 1, 2, 3, 6, 7, 8, 20, 21])
    assert segments(t, 1.5).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2]
    # max_gap 3: a step of exactly 3 x median is not a gap, 12 still is
    assert segments(t, 3.0).tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert segments(t.astype(np.float32), 1.5).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2]


def test_segments_on_datetimes_any_unit():
    # one row every 2 minutes; the 10:06 row was dropped (a label-shifted event) -> a 4-minute step
    t = np.array(
        ["2024-01-01T10:00", "2024-01-01T10:02", "2024-01-01T10:04", "2024-01-01T10:08", "2024-01-01T10:10"],
        dtype="datetime64[m]",
    )
    assert segments(t, 1.5).tolist() == [0, 0, 0, 1, 1]
    assert segments(t.astype("datetime64[us]"), 1.5).tolist() == [0, 0, 0, 1, 1]
    assert segments(t.astype("datetime64[ns]"), 1.5).tolist() == [0, 0, 0, 1, 1]
    assert segments(t, 2.0).tolist() == [0, 0, 0, 0, 0]  # 4 min = 2 x the median: not above it


def test_segments_with_mostly_repeated_timestamps_use_the_positive_median():
    # steps 0 0 0 1 0 4: median 0 -> median of positive steps (1, 4) = 2.5; 4 > 1.5 * 2.5 = 3.75
    t = np.array([0, 0, 0, 0, 1, 1, 5])
    assert segments(t, 1.5).tolist() == [0, 0, 0, 0, 0, 0, 1]
    assert segments(np.zeros(4), 1.5).tolist() == [0, 0, 0, 0]


def test_segments_of_tiny_inputs():
    assert segments(np.array([], dtype="datetime64[ns]"), 1.5).tolist() == []
    assert segments(np.array([5.0]), 1.5).tolist() == [0]


def test_segments_reject_bad_input():
    with pytest.raises(ValueError, match="max_gap=0"):
        segments(np.arange(3), 0)
    with pytest.raises(ValueError, match="NaT"):
        segments(np.array(["2024-01-01", "NaT"], dtype="datetime64[s]"), 1.5)
    with pytest.raises(TypeError, match="datetime64 or numeric"):
        segments(np.array(["a", "b"], dtype=object), 1.5)


# -------------------------------------------------------------------------------------- window_index


def test_window_index_pads_segment_starts_with_the_first_row():
    index = window_index(np.array([0, 0, 0, 0, 1, 1, 1]), lookback=3)
    assert index.tolist() == [
        [0, 0, 0],  # row 0: two padding copies of row 0
        [0, 0, 1],
        [0, 1, 2],
        [1, 2, 3],
        [4, 4, 4],  # row 4 starts segment 1: never reaches back into segment 0
        [4, 4, 5],
        [4, 5, 6],
    ]


def test_window_index_every_row_gets_a_window_ending_at_itself():
    seg = np.array([0, 0, 1, 2, 2, 2, 2, 2])
    index = window_index(seg, lookback=4)
    assert index.shape == (8, 4)
    assert index[:, -1].tolist() == list(range(8))
    assert (seg[index] == seg[:, None]).all()  # no window crosses a segment boundary
    assert (np.diff(index, axis=1) >= 0).all()  # time order inside each window
    assert window_index(seg, lookback=1).tolist() == [[i] for i in range(8)]


def test_window_index_treats_each_run_of_equal_ids_as_a_segment():
    # ids need not be 0, 1, 2, ...: a change of value is a boundary
    assert window_index(np.array([7, 7, 3, 3]), lookback=2).tolist() == [[0, 0], [0, 1], [2, 2], [2, 3]]
    assert window_index(np.array([], dtype=np.int64), lookback=3).shape == (0, 3)
    with pytest.raises(ValueError, match="lookback=0"):
        window_index(np.zeros(3), lookback=0)


# --------------------------------------------------------------------------------- training_windows

INDEX = window_index(np.array([0, 0, 0, 0, 1, 1, 1]), lookback=3)  # as in the test above
Y = np.array([0, 0, 1, 0, 0, 0, 0])  # row 2 positive: in the windows of rows 2 and 3


def test_training_windows_normal_only_drops_windows_holding_a_positive():
    assert training_windows(INDEX, Y, stride=1, normal_only=True).tolist() == [0, 1, 4, 5, 6]
    assert training_windows(INDEX, Y, stride=1, normal_only=False).tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_training_windows_stride_then_filter():
    # stride 2: windows 0, 2, 4, 6; window 2 holds the positive row
    assert training_windows(INDEX, Y, stride=2, normal_only=True).tolist() == [0, 4, 6]
    assert training_windows(INDEX, Y, stride=3, normal_only=False).tolist() == [0, 3, 6]
    assert training_windows(INDEX, np.ones(7), stride=1, normal_only=True).tolist() == []
    with pytest.raises(ValueError, match="stride=0"):
        training_windows(INDEX, Y, stride=0, normal_only=False)
