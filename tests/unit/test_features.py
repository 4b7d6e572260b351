"""Temporal features (rarewatch.data.features, the features stage): past only, per series, between gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rarewatch.config import FeaturesConfig
from rarewatch.data.features import lagged, rolling_features, window_stats
from rarewatch.errors import ConfigError
from rarewatch.stages import features

ROLLING = FeaturesConfig(
    name="rolling", windows=[3], stats=["mean", "std", "min", "max", "zscore", "slope"], diff=True, lags=[1],
    ewma_spans=[2], aggregate=True, keep_raw=True, columns=[],
)  # fmt: skip


def test_window_statistics_by_hand():
    x = np.array([[1.0], [2.0], [4.0], [7.0]])
    s = window_stats(x, np.zeros(4, dtype=int), 3, ("mean", "std", "min", "max", "zscore", "slope"))
    # row 3's window is 2, 4, 7: mean 13/3; population std sqrt(((2-13/3)^2 + (4-13/3)^2 + (7-13/3)^2) / 3)
    assert s["mean"][:, 0] == pytest.approx([1.0, 1.5, 7 / 3, 13 / 3])
    std3 = np.sqrt(((2 - 13 / 3) ** 2 + (4 - 13 / 3) ** 2 + (7 - 13 / 3) ** 2) / 3)
    assert s["std"][3, 0] == pytest.approx(std3)
    assert s["zscore"][3, 0] == pytest.approx((7 - 13 / 3) / std3)
    assert s["min"][:, 0].tolist() == [1.0, 1.0, 1.0, 2.0] and s["max"][:, 0].tolist() == [1.0, 2.0, 4.0, 7.0]
    # least-squares slope of (0, 2), (1, 4), (2, 7): 2.5; of (0, 1), (1, 2): 1; one point: 0
    assert s["slope"][:, 0] == pytest.approx([0.0, 1.0, 1.5, 2.5])
    assert s["zscore"][0, 0] == 0.0  # one value: no deviation to speak of


def test_windows_restart_at_every_segment():
    x = np.array([[1.0], [2.0], [10.0], [20.0]])
    s = window_stats(x, np.array([0, 0, 1, 1]), 3, ("mean",))
    assert s["mean"][:, 0].tolist() == [1.0, 1.5, 10.0, 15.0]  # row 2 never sees rows 0-1
    assert lagged(x, np.array([0, 0, 1, 1]), 1)[:, 0].tolist() == [1.0, 1.0, 10.0, 10.0]


def test_missing_values_are_left_out_of_windows():
    x = np.array([[1.0], [np.nan], [3.0]])
    s = window_stats(x, np.zeros(3, dtype=int), 3, ("mean", "zscore"))
    assert s["mean"][:, 0].tolist() == [1.0, 1.0, 2.0]
    assert np.isnan(s["zscore"][1, 0]) and s["zscore"][2, 0] == pytest.approx(1.0)


def _frame(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=rows, freq="min"), "label": 0,
         "a": rng.normal(size=rows), "b": rng.normal(size=rows).cumsum()}
    )  # fmt: skip


def test_no_feature_of_row_t_depends_on_a_later_row():
    frame = _frame()
    segment = np.zeros(len(frame), dtype=int)
    before, _ = rolling_features(frame, ["a", "b"], segment, ROLLING)
    for t in (0, 10, 35, 58):
        changed = frame.copy()
        changed.loc[t + 1 :, ["a", "b"]] = changed.loc[t + 1 :, ["a", "b"]] * 100 + 7  # rewrite the future
        after, _ = rolling_features(changed, ["a", "b"], segment, ROLLING)
        pd.testing.assert_series_equal(after.iloc[t], before.iloc[t], check_names=False, check_exact=True)
        assert not after.iloc[t + 1].equals(before.iloc[t + 1])  # the future itself did move


def test_no_feature_crosses_a_series_or_a_gap(small_config):
    frame = _frame(40)
    frame["series"] = np.repeat(["m1", "m2"], 20)
    frame.loc[30:, "time"] += pd.Timedelta(hours=5)  # a pause inside m2
    cfg = small_config(features=ROLLING.model_dump())
    out, report = features.run(frame, cfg)
    assert report["segments"] == 3
    # m2's first row, and the first row after the pause, have no past: their diff is 0, lag is themselves
    for row in (20, 30):
        assert out.loc[row, "a__diff"] == 0.0 and out.loc[row, "a__lag1"] == pytest.approx(frame.loc[row, "a"])
        assert out.loc[row, "a__mean3"] == pytest.approx(frame.loc[row, "a"])
    changed = frame.copy()
    changed.loc[:19, "a"] += 50.0  # m1 moves; m2 must not notice
    out2, _ = features.run(changed, cfg)
    pd.testing.assert_frame_equal(out2.iloc[20:].drop(columns="a"), out.iloc[20:].drop(columns="a"), check_exact=True)


def test_short_segments_are_counted():
    frame = _frame(10)
    _, report = rolling_features(
        frame, ["a"], np.repeat([0, 1, 2], [2, 3, 5]), ROLLING.model_copy(update={"windows": [4]})
    )
    assert report["segments_shorter_than_longest_window"] == 2  # 2 and 3 rows
    assert report["rows_with_partial_windows"] == 2 + 3 + 3


def test_the_stage_adds_named_columns_and_keeps_the_rows(small_config):
    frame = _frame(30)
    cfg = small_config(features=ROLLING.model_dump())
    out, report = features.run(frame, cfg)
    assert len(out) == 30 and {"a", "b", "a__zscore3", "b__slope3", "a__ewma2", "absz_max3"} <= set(out.columns)
    assert report["columns_added"] == out.shape[1] - frame.shape[1]
    none, _ = features.run(frame, small_config())
    assert none is frame  # features=none: the identity


def test_rolling_features_need_a_time_axis(small_config):
    with pytest.raises(ConfigError, match="features=rolling needs a time axis .* use features=none"):
        small_config(features=ROLLING.model_dump(), data__time_column=None, split__method="random")


def test_unknown_feature_columns_are_named(small_config):
    cfg = small_config(features={**ROLLING.model_dump(), "columns": ["a", "nope"]})
    with pytest.raises(ConfigError, match=r"features.columns \['nope'\] are not numeric feature columns"):
        features.run(_frame(10), cfg)
