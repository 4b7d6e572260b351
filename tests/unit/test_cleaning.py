"""Tests for unfitted preprocessing (rarewatch.data.cleaning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rarewatch.data.cleaning import clean
from rarewatch.errors import DataError


def _frame() -> pd.DataFrame:
    # Rows 2 and 3 are exact duplicates (time 2). Sorted by time the rows are t = 1, 2, 2, 3, 4, 5.
    return pd.DataFrame(
        {
            "time": [3, 1, 2, 2, 4, 5],
            "label": [0, 0, 1, 1, 0, 0],
            "x": [3.0, 1.0, 2.0, 2.0, np.nan, 5.0],
            "const": [7.0] * 6,
            "row_id": [102, 100, 101, 101, 103, 104],  # after sort + dedup: 100..104, steps of 1
            "count": [5, 9, 2, 2, 7, 1],  # unique integers but not consecutive: a real feature
            "tag": ["c", "a", "b", "b", "d", "e"],  # categorical, unique per row
            "grade": ["A", "A", "B", "B", "A", "B"],
        }
    )


def test_clean_hand_case():
    df, report = clean(_frame(), ["tag", "grade"], drop_constant=True, drop_duplicates=True, nan_policy="impute")
    assert df["time"].tolist() == [1, 2, 3, 4, 5]
    assert list(df.columns) == ["time", "label", "x", "count", "grade"]
    # sorted by time: x 1, 2, 3, nan, 5; count 9, 2, 5, 7, 1
    assert df["x"].iloc[[0, 1, 2, 4]].tolist() == [1.0, 2.0, 3.0, 5.0] and np.isnan(df["x"].iloc[3])
    assert df["count"].tolist() == [9, 2, 5, 7, 1]
    assert report == {
        "rows_in": 6,
        "duplicates_dropped": 1,
        "columns_dropped": {"const": "constant", "row_id": "row identifier", "tag": "row identifier"},
        "nan_counts": {"x": 1},
        "nonfinite_counts": {},
        "rows_out": 5,
        "features": ["x", "count", "grade"],
        "positive_rows": 1,
    }


def test_clean_keeps_duplicates_and_constants_when_asked():
    df, report = clean(_frame(), ["tag", "grade"], drop_constant=False, drop_duplicates=False, nan_policy="impute")
    assert len(df) == 6 and report["rows_out"] == 6
    assert "const" in df.columns
    assert report["positive_rows"] == 2
    # with the duplicate kept, row_id (100, 101, 101, ...) is not unique, so it is not an identifier
    assert "row_id" in df.columns


def test_clean_sort_is_stable_for_equal_times():
    df = pd.DataFrame({"time": [2, 1, 2], "label": [0, 0, 1], "x": [30.0, 10.0, 20.0]})
    out, _ = clean(df, [], drop_constant=True, drop_duplicates=True, nan_policy="impute")
    # time 1 first, then the two time-2 rows in their original order (30 before 20)
    assert out["x"].tolist() == [10.0, 30.0, 20.0]


def test_clean_all_nan_column_is_constant():
    df = pd.DataFrame({"time": [1, 2, 3], "label": [0, 1, 0], "x": [0.3, 0.1, 0.2], "empty": [np.nan] * 3})
    out, report = clean(df, [], drop_constant=True, drop_duplicates=True, nan_policy="impute")
    assert report["columns_dropped"] == {"empty": "constant"}


def test_clean_short_frames_have_no_identifiers():
    # fewer than 3 rows: consecutive integers are not treated as an identifier
    df = pd.DataFrame({"time": [1, 2], "label": [0, 1], "n": [5, 6]})
    out, report = clean(df, [], drop_constant=True, drop_duplicates=True, nan_policy="impute")
    assert report["columns_dropped"] == {} and "n" in out.columns


def test_clean_refuse_nan_names_column_and_fix():
    with pytest.raises(
        DataError,
        match=r"1 feature columns have missing values \(most: 'x' with 1\); "
        "set preprocess.nan_policy=impute",
    ):
        clean(_frame(), ["tag", "grade"], drop_constant=True, drop_duplicates=True, nan_policy="refuse")


def test_clean_refuse_ignores_categorical_missing():
    df = pd.DataFrame({"time": [1, 2, 3], "label": [0, 1, 0], "x": [0.3, 0.1, 0.2], "g": ["a", None, "a"]})
    _, report = clean(df, ["g"], drop_constant=True, drop_duplicates=True, nan_policy="refuse")
    assert report["nan_counts"] == {}


def test_clean_everything_dropped():
    df = pd.DataFrame({"time": [1, 2, 3], "label": [0, 1, 0], "c": [1.0, 1.0, 1.0], "i": [0, 1, 2]})
    with pytest.raises(DataError, match="every feature column was dropped .*nothing is left to learn from"):
        clean(df, [], drop_constant=True, drop_duplicates=True, nan_policy="impute")
