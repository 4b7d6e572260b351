"""Tests for the fitted preprocessing (rarewatch.data.encoding; protocol: fit on training rows)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rarewatch.data.encoding import ENCODER_FILE, Encoder
from rarewatch.errors import DataError

SQRT2 = np.sqrt(2.0)

# Training rows A. x: mean 2, population std 1. y: median of (0, 4, 2) = 2; imputed (0, 2, 4, 2) ->
# mean 2, population std sqrt((4 + 0 + 4 + 0) / 4) = sqrt(2).
A = pd.DataFrame(
    {
        "time": [0, 1, 2, 3],
        "label": [0, 0, 0, 0],
        "x": [1.0, 3.0, 1.0, 3.0],
        "y": [0.0, np.nan, 4.0, 2.0],
        "g": ["a", "b", "a", "b"],
    }
)
# Rows B have a very different distribution (x mean 11, y median 6).
B = pd.DataFrame({"time": [10, 11], "label": [1, 0], "x": [10.0, 12.0], "y": [np.nan, 6.0], "g": ["a", "zzz"]})


def _fitted() -> Encoder:
    return Encoder(categorical=["g"], impute=True).fit(A)


def test_output_columns_exclude_time_and_label():
    assert _fitted().output_names == ["x", "y", "g=a", "g=b"]


def test_training_rows_are_standardised():
    out = _fitted().transform(A)
    assert out.dtype == np.float32
    assert out[:, 0].tolist() == [-1.0, 1.0, -1.0, 1.0]  # (x - 2) / 1
    assert out[:, 1] == pytest.approx([-SQRT2, 0.0, SQRT2, 0.0])  # (0|2|4|2 - 2) / sqrt2


def test_scaler_statistics_come_from_fit_rows_only():
    out = _fitted().transform(B)
    # with A's mean 2 and std 1: (10 - 2) / 1 = 8, (12 - 2) / 1 = 10; fitted on B it would be -1, 1
    assert out[:, 0].tolist() == [8.0, 10.0]


def test_imputer_median_comes_from_fit_rows_only():
    out = _fitted().transform(B)
    # missing y -> A's median 2 -> (2 - 2) / sqrt2 = 0 (B's own median, 6, would give 2 * sqrt2)
    # y = 6 -> (6 - 2) / sqrt2 = 2 sqrt2
    assert out[:, 1] == pytest.approx([0.0, 2 * SQRT2])


def test_unknown_category_is_all_zero():
    out = _fitted().transform(B)
    assert out[0, 2:].tolist() == [1.0, 0.0]  # "a"
    assert out[1, 2:].tolist() == [0.0, 0.0]  # "zzz" was never seen in training


def test_extra_columns_at_transform_are_ignored():
    out = _fitted().transform(B.assign(new=[1.0, 2.0]))
    assert out.shape == (2, 4)


def test_missing_column_at_transform():
    with pytest.raises(DataError, match=r"columns \['y'\] that the model was trained on are missing; retrain"):
        _fitted().transform(B.drop(columns=["y"]))


def test_transform_before_fit():
    with pytest.raises(RuntimeError, match="before fit"):
        Encoder([], impute=True).transform(A)
    assert Encoder([], impute=True).output_names == []


def test_fit_on_no_rows():
    with pytest.raises(DataError, match="no rows to fit the scaler on"):
        Encoder(["g"], impute=True).fit(A.iloc[:0])


def test_nan_without_imputation_is_refused_with_fix():
    pipe = Encoder(["g"], impute=False).fit(A)
    with pytest.raises(
        DataError,
        match=r"features \['y'\] contain NaN \(missing values: 'y' \(1\)\) after preprocessing, and "
        r"preprocess.nan_policy is refuse; set preprocess.nan_policy=impute",
    ):
        pipe.transform(B)


def test_all_missing_training_column_is_kept_and_filled():
    # y has no training value at all: the column stays (same width) and a missing y becomes 0, not NaN
    a = A.assign(y=np.nan)
    out = Encoder(["g"], impute=True).fit(a).transform(B)
    assert out.shape == (2, 4)
    assert out[0, 1] == 0.0 and np.isfinite(out).all()


def test_saved_state_is_json_and_round_trips(tmp_path):
    enc = _fitted()
    enc.save(tmp_path)
    state = json.loads((tmp_path / ENCODER_FILE).read_text())  # plain JSON: nothing to unpickle
    assert state["median"] == [2.0, 2.0] and state["categories"] == {"g": ["a", "b"]}
    loaded = Encoder.load(tmp_path)
    assert np.array_equal(loaded.transform(B), enc.transform(B))
    assert loaded.output_names == enc.output_names


def test_a_foreign_encoder_file_is_refused(tmp_path):
    (tmp_path / ENCODER_FILE).write_text(json.dumps({"columns": ["x"]}))
    with pytest.raises(DataError, match="is not an encoder file rarewatch wrote"):
        Encoder.load(tmp_path)


def test_missing_category_is_all_zero():
    out = _fitted().transform(B.assign(g=pd.array([None, "b"], dtype="string")))
    assert out[:, 2:].tolist() == [[0.0, 0.0], [0.0, 1.0]]
