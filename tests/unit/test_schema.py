"""Tests for the canonical frame (rarewatch.data.schema)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rarewatch.data.schema import Schema, normalise, parse_time, to_binary_label, to_numeric_feature
from rarewatch.errors import DataError

SCHEMA = Schema(
    time_column="ts",
    label_column="status",
    positive_label="break",
    drop_columns=["id"],
    categorical_columns=["grade"],
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": [
                "2024-01-01 00:00:00",
                "2024-01-01 00:02:00",
                "2024-01-01 00:04:00",
                "2024-01-01 00:06:00",
            ],
            "status": ["ok", "break", "ok", "ok"],
            "id": [11, 12, 13, 14],
            "grade": ["A", "B", "A", None],
            "s1": [1, 2, 3, 4],
            "s2": ["1.5", "2.5", None, "4"],
            "flag": [True, False, True, False],
        }
    )


def test_normalise_canonical_frame():
    out = normalise(_frame(), SCHEMA)
    # time and label first, then the features in file order; ts/status/id removed
    assert list(out.columns) == ["time", "label", "grade", "s1", "s2", "flag"]
    assert out["label"].tolist() == [0, 1, 0, 0]
    assert pd.api.types.is_datetime64_any_dtype(out["time"])
    assert out["time"].iloc[1] == pd.Timestamp("2024-01-01 00:02:00")
    assert out["s1"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out["s2"].iloc[[0, 1, 3]].tolist() == [1.5, 2.5, 4.0] and np.isnan(out["s2"].iloc[2])
    assert out["flag"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert out["grade"].iloc[:3].tolist() == ["A", "B", "A"] and pd.isna(out["grade"].iloc[3])


def test_normalise_without_time_column_numbers_rows():
    df = pd.DataFrame({"y": [0, 1, 0], "x": [0.5, 0.1, 0.2]})
    out = normalise(df, Schema(None, "y", "1", [], []))
    assert out["time"].tolist() == [0, 1, 2]
    assert out["label"].tolist() == [0, 1, 0]


def test_normalise_empty_table():
    with pytest.raises(DataError, match="the input table has no rows; check data.path"):
        normalise(_frame().iloc[:0], SCHEMA)


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("label_column", "target", "data.label_column"),
        ("time_column", "when", "data.time_column"),
        ("drop_columns", ["nope"], "data.drop_columns"),
        ("categorical_columns", ["colour"], "data.categorical_columns"),
    ],
)
def test_normalise_missing_column_names_key_and_columns(field, value, key):
    schema = Schema(**{**SCHEMA.__dict__, field: value})
    missing = value[0] if isinstance(value, list) else value
    with pytest.raises(DataError, match=rf"{key}: column '{missing}' not found; columns are: ts, status, id"):
        normalise(_frame(), schema)


def test_normalise_reserved_feature_name():
    df = _frame().assign(label=1.0)
    with pytest.raises(
        DataError,
        match="feature column 'label' has a name rarewatch reserves; add it to data.drop_columns or rename it",
    ):
        normalise(df, SCHEMA)
    # dropping it is the documented fix
    out = normalise(df, Schema(**{**SCHEMA.__dict__, "drop_columns": ["id", "label"]}))
    assert out["label"].tolist() == [0, 1, 0, 0]


def test_normalise_time_named_feature_clashes_when_time_column_is_null():
    df = pd.DataFrame({"y": [0, 1], "time": [5.0, 6.0]})
    with pytest.raises(DataError, match="feature column 'time' has a name rarewatch reserves"):
        normalise(df, Schema(None, "y", "1", [], []))


def test_normalise_no_features_left():
    df = _frame()[["ts", "status", "id"]]
    with pytest.raises(DataError, match="no feature columns left .*data.drop_columns"):
        normalise(df, Schema("ts", "status", "break", ["id"], []))


def test_to_binary_label_text_and_numbers():
    assert to_binary_label(pd.Series([0, 1, 0]), "y", "1").tolist() == [0, 1, 0]
    # 1.0 counts as "1"
    assert to_binary_label(pd.Series([0.0, 1.0, 1.0]), "y", "1").tolist() == [0, 1, 1]
    # surrounding spaces are ignored
    assert to_binary_label(pd.Series([" yes", "no ", "no"]), "y", "yes").tolist() == [1, 0, 0]
    assert to_binary_label(pd.Series([True, False]), "y", "True").tolist() == [1, 0]


def test_to_binary_label_missing_values():
    with pytest.raises(DataError, match=r"label column 'y' has 1 missing values \(first at row 2\); drop or fill"):
        to_binary_label(pd.Series([0.0, 1.0, np.nan]), "y", "1")


@pytest.mark.parametrize(("values", "n", "shown"), [(["a", "b", "c", "a"], 3, "a, b, c"), (["a", "a"], 1, "a")])
def test_to_binary_label_needs_two_classes(values, n, shown):
    with pytest.raises(
        DataError,
        match=rf"label column 'y' has {n} classes \({shown}\); rarewatch needs exactly "
        "two .*map the classes to two in the file",
    ):
        to_binary_label(pd.Series(values), "y", "a")


def test_to_binary_label_positive_not_present():
    with pytest.raises(
        DataError,
        match=r"data.positive_label='2' is not a value of label column 'y' "
        r"\(values: 0, 1\); set data.positive_label to one of them",
    ):
        to_binary_label(pd.Series([0, 1, 1]), "y", "2")


def test_parse_time_strings_and_mixed_formats():
    out = parse_time(pd.Series(["2024-01-01 10:00", "2024-01-02"]), "ts")
    assert out.tolist() == [pd.Timestamp("2024-01-01 10:00"), pd.Timestamp("2024-01-02")]


def test_parse_time_numeric_kept_and_reindexed():
    out = parse_time(pd.Series([3, 5, 9], index=[7, 8, 9]), "ts")
    assert out.tolist() == [3, 5, 9]
    assert out.index.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("values", "first"),
    [(["2024-01-01", "soon", "later"], r"'soon' at row 1"), (["2024-01-01", None], "(None|nan) at row 1")],
)
def test_parse_time_bad_values(values, first):
    with pytest.raises(
        DataError,
        match=rf"time column 'ts' has {len(values) - 1} values that are not timestamps "
        rf"\(first: {first}\); fix them, or set data.time_column=null",
    ):
        parse_time(pd.Series(values), "ts")


def test_parse_time_numeric_with_missing():
    with pytest.raises(DataError, match="time column 'ts' has 1 missing values"):
        parse_time(pd.Series([1.0, np.nan, 3.0]), "ts")


def test_to_numeric_feature():
    assert to_numeric_feature(pd.Series([1, 2]), "x").tolist() == [1.0, 2.0]
    assert to_numeric_feature(pd.Series([True, False]), "x").tolist() == [1.0, 0.0]
    out = to_numeric_feature(pd.Series(["1.5", None, "-2"]), "x")
    assert out[0] == 1.5 and np.isnan(out[1]) and out[2] == -2.0
    assert out.dtype == np.float64


def test_to_numeric_feature_text_names_value_and_fix():
    with pytest.raises(
        DataError,
        match=r"feature column 'x' has non-numeric values \(first: 'abc' at row 1, "
        r"2 in all\); list it in data.categorical_columns or data.drop_columns",
    ):
        to_numeric_feature(pd.Series(["1", "abc", "def"]), "x")
