"""Tests for train/val/test splits (rarewatch.data.splitting; docs/protocol.md, "Split by time")."""

from __future__ import annotations

import numpy as np
import pytest

from rarewatch.data.splitting import random_split, time_split
from rarewatch.errors import DataError


def test_time_split_without_gap():
    # 10 rows, 0.6 / 0.2 -> train 0..5, val 6..7, test 8..9
    s = time_split(10, 0.6, 0.2, 0)
    assert s["train"].tolist() == [0, 1, 2, 3, 4, 5]
    assert s["val"].tolist() == [6, 7]
    assert s["test"].tolist() == [8, 9]


def test_time_split_with_gap():
    # 20 rows, 0.5 / 0.2, gap 2 -> train 0..9, (10, 11 left out), val 12..15, (16, 17 left out), test 18..19
    s = time_split(20, 0.5, 0.2, 2)
    assert s["train"].tolist() == list(range(10))
    assert s["val"].tolist() == [12, 13, 14, 15]
    assert s["test"].tolist() == [18, 19]


def test_time_split_is_ordered_with_gaps_at_scale():
    s = time_split(1000, 0.6, 0.2, 25)
    assert s["train"].max() + 25 < s["val"].min()
    assert s["val"].max() + 25 < s["test"].min()
    assert s["test"].max() == 999


@pytest.mark.parametrize(
    ("n", "train", "val", "gap"),
    [
        (10, 0.6, 0.2, 1),  # test would start at 6 + 1 + 2 + 1 = 10: empty
        (3, 0.2, 0.2, 0),  # int(3 * 0.2) = 0 training rows
        (10, 0.6, 0.05, 0),  # int(10 * 0.05) = 0 validation rows
    ],
)
def test_time_split_too_few_rows(n, train, val, gap):
    with pytest.raises(DataError, match=rf"{n} rows are too few .*gap_rows={gap}.*smaller split.gap_rows"):
        time_split(n, train, val, gap)


LABELS = np.array([0] * 12 + [1] * 8)


def test_random_split_is_stratified_and_partitions_rows():
    s = random_split(LABELS, 0.5, 0.25, seed=0)
    # class 0: 12 rows -> 6 train, int(3.0) = 3 val, 3 test; class 1: 8 rows -> 4, 2, 2
    assert [int((LABELS[s[k]] == 0).sum()) for k in ("train", "val", "test")] == [6, 3, 3]
    assert [int((LABELS[s[k]] == 1).sum()) for k in ("train", "val", "test")] == [4, 2, 2]
    joined = np.concatenate([s["train"], s["val"], s["test"]])
    assert sorted(joined.tolist()) == list(range(20))  # disjoint and complete
    for idx in s.values():
        assert idx.tolist() == sorted(idx.tolist())


def test_random_split_seeded():
    a = random_split(LABELS, 0.5, 0.25, seed=1)
    b = random_split(LABELS, 0.5, 0.25, seed=1)
    c = random_split(LABELS, 0.5, 0.25, seed=2)
    assert all(a[k].tolist() == b[k].tolist() for k in a)
    assert a["train"].tolist() != c["train"].tolist()


def test_random_split_actually_shuffles():
    # A contiguous cut would put rows 0..5 of class 0 in train; a permutation does not (seed fixed).
    s = random_split(LABELS, 0.5, 0.25, seed=0)
    assert s["train"][LABELS[s["train"]] == 0].tolist() != [0, 1, 2, 3, 4, 5]


def test_rolling_origin_folds_by_hand():
    from rarewatch.data.splitting import rolling_origin

    # 100 rows, initial window 40 %, 2 folds: the last 60 rows in 3 blocks of 20 (rows 40-59, 60-79, 80-99).
    fold0 = rolling_origin(100, 0.4, folds=2, fold=0, gap=2)
    assert fold0["train"].tolist() == list(range(40))
    assert fold0["val"].tolist() == list(range(42, 60)) and fold0["test"].tolist() == list(range(62, 80))
    fold1 = rolling_origin(100, 0.4, folds=2, fold=1, gap=2)
    assert fold1["train"].tolist() == list(range(60))  # the window grows: fold 0's validation block joins
    assert fold1["val"].tolist() == list(range(62, 80)) and fold1["test"].tolist() == list(range(82, 100))


def test_rolling_origin_refuses_folds_too_small():
    from rarewatch.data.splitting import rolling_origin

    with pytest.raises(DataError, match="too few for 4 folds after an initial 40%"):
        rolling_origin(30, 0.4, folds=4, fold=0, gap=5)
    with pytest.raises(DataError, match="split.fold=4 must be between 0 and split.folds - 1 = 3"):
        rolling_origin(300, 0.4, folds=4, fold=4, gap=5)


def test_a_fold_without_positives_in_validation_is_named(small_config):
    import pandas as pd

    from rarewatch.stages import split

    cfg = small_config(
        split__method="rolling", split__folds=2, split__fold=1, split__train_fraction=0.4, split__gap_rows=0
    )
    t = pd.date_range("2024-01-01", periods=100, freq="min")
    y = [0] * 100
    y[50] = y[90] = 1  # positives in fold 0's validation block and in fold 1's test block only
    df = pd.DataFrame({"time": t, "label": y, "a": range(100)})
    with pytest.raises(DataError, match=r"split.fold=1 of split.folds=2: its validation block has no positive row"):
        split.run(df, cfg)
