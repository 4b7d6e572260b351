"""Many series in one experiment: sorting, label shift, windows, scaling, splits and figures stay inside
each series, on a generated data set of several machines recorded over the same hours."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rarewatch.data import synthetic
from rarewatch.data.encoding import Encoder
from rarewatch.data.label_shift import find_events, shift_labels
from rarewatch.data.splitting import series_split, time_split_per_series
from rarewatch.data.timeaxis import covered
from rarewatch.data.windows import segments, window_index
from rarewatch.errors import ConfigError, DataError
from rarewatch.paths import Paths
from rarewatch.stages import cost, evaluate, features, ingest, label_shift, preprocess, split, train, validate
from rarewatch.stages.runner import run_stage

MACHINES = ["m1", "m2", "m3", "m4", "m5"]


def machines_frame(rows: int = 1200, shift_per_machine: float = 5.0) -> pd.DataFrame:
    """Five machines recorded over the same hours (overlapping timestamps), each at its own operating
    point (sensor offsets of 0, 5, 10, ...), rows shuffled as one file from a plant historian would be."""
    parts = []
    for i, name in enumerate(MACHINES):
        cfg = synthetic.SyntheticConfig(
            **{**synthetic.DEFAULTS.model_dump(), "n_rows": rows, "n_channels": 6, "n_latent": 2,
               "precursor_channels": 2, "event_rate": 0.02, "grade_block_rows": 400, "seed": 100 + i}
        )  # fmt: skip
        frame = synthetic.generate(cfg).drop(columns="grade")
        sensors = [c for c in frame.columns if c.startswith("s")]
        frame[sensors] += i * shift_per_machine
        parts.append(frame.assign(machine=name))
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=0).reset_index(drop=True)


def _cfg(small_config, csv_data, **overrides):
    data = csv_data(path="plant.csv", series_column="machine", categorical_columns=[])
    return small_config(data=data, **overrides)


def _run(
    cfg, root: Path, stages=(validate, ingest, preprocess, label_shift, features, split, train, evaluate, cost)
) -> Paths:
    for stage in stages:
        run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, Paths(root))
    return Paths(root)


@pytest.fixture(scope="module")
def plant_csv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("plant")
    machines_frame().to_csv(root / "plant.csv", index=False)
    return root


def _copy(plant_csv: Path, tmp_path: Path) -> Path:
    (tmp_path / "plant.csv").write_bytes((plant_csv / "plant.csv").read_bytes())
    return tmp_path


# ------------------------------------------------------------------------------------ pure functions


def test_events_and_shift_stay_inside_a_series():
    # two series back to back: series A ends with a positive row, series B starts with one
    y = np.array([0, 0, 0, 1, 1, 0, 0, 1])
    blocks = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert find_events(y) == [(3, 4), (7, 7)]  # one series: the run 3-4 is one event
    assert find_events(y, blocks) == [(3, 3), (4, 4), (7, 7)]  # two: B's first row is its own event
    labels, keep = shift_labels(y, 2, blocks)
    # A: rows 1, 2 warn of the event at 3; B: the event at 4 has no row before it in B; rows 5, 6 warn of 7.
    assert keep.tolist() == [True, True, True, False, False, True, True, False]
    assert labels.tolist() == [0, 1, 1, 1, 1]


def test_segments_and_windows_never_join_two_series():
    t = np.array([0.0, 1, 2, 3, 0, 1, 2, 3])  # two series over the same times
    blocks = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    seg = segments(t, 1.5, blocks)
    assert seg.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    index = window_index(seg, 3)
    assert (blocks[index] == blocks[:, None]).all()  # every window's rows are of the row's own series
    assert index[4].tolist() == [4, 4, 4]  # B's first row is padded with itself, never A's rows


def test_recorded_time_leaves_out_gaps_and_series_boundaries():
    # a session of 4 one-minute rows, a 10-hour pause, 3 more rows; median step 1 minute.
    t = np.array([0, 1, 2, 3, 600, 601, 602], dtype=float)
    # steps inside sessions: 3 + 2 = 5 minutes, plus one step for each of the 2 stretches = 7 minutes
    assert covered(t, None, max_gap=1.5) == pytest.approx(7.0)
    blocks = np.array([0, 0, 0, 0, 1, 1, 1])  # the same as two series: the pause is a boundary anyway
    assert covered(t, blocks, max_gap=1.5) == pytest.approx(7.0)
    assert covered(t, None, max_gap=1000.0) == pytest.approx(603.0)  # a limit above the pause counts it


def test_time_split_within_every_series():
    blocks = np.repeat([0, 1], [20, 10])
    index = time_split_per_series(blocks, 30, 0.5, 0.2, gap=1)
    # series 0 (rows 0-19): train 0-9, gap, val 11-14, gap, test 16-19; series 1 (rows 20-29): train 20-24,
    # gap, val 26-27 (int(10 * 0.2)), gap, test 29
    assert index["train"].tolist() == [*range(0, 10), *range(20, 25)]
    assert index["val"].tolist() == [11, 12, 13, 14, 26, 27]
    assert index["test"].tolist() == [16, 17, 18, 19, 29]


def test_a_series_too_short_for_a_split_is_named():
    blocks = np.repeat([0, 1], [20, 3])
    with pytest.raises(DataError, match="series 'short'"):
        time_split_per_series(blocks, 23, 0.5, 0.2, gap=1, names=["long", "short"])


def test_whole_series_held_out():
    blocks = np.repeat(np.arange(5), 4)
    index = series_split(blocks, 0.6, 0.2, seed=1)
    held = {name: set(blocks[rows].tolist()) for name, rows in index.items()}
    assert [len(held[n]) for n in ("train", "val", "test")] == [3, 1, 1]
    assert held["train"].isdisjoint(held["val"]) and held["val"].isdisjoint(held["test"])
    with pytest.raises(DataError, match="at least 3 series"):
        series_split(np.repeat([0, 1], 4), 0.6, 0.2, seed=1)


def test_per_series_scaling_uses_each_series_own_training_rows():
    df = pd.DataFrame({"time": range(6), "label": 0, "series": ["a", "a", "a", "b", "b", "b"],
                       "x": [1.0, 2.0, 3.0, 11.0, 12.0, 13.0]})  # fmt: skip
    enc = Encoder([], impute=True, per_series=True).fit(df)
    # each series centred on its own mean (2 and 12) and scaled by its own std (sqrt(2/3))
    np.testing.assert_allclose(enc.transform(df)[:, 0], np.tile([-1.2247449, 0.0, 1.2247449], 2), rtol=1e-6)
    glob = Encoder([], impute=True).fit(df)
    assert glob.transform(df)[0, 0] == pytest.approx((1.0 - 7.0) / np.std(df["x"]))  # one scaler: far apart
    with pytest.raises(DataError, match=r"series \['c'\] had no training rows"):
        enc.transform(df.assign(series="c"))


# ------------------------------------------------------------------------------------ end to end


def test_ingest_sorts_by_series_then_time(plant_csv, tmp_path, small_config, csv_data):
    cfg = _cfg(small_config, csv_data)
    paths = _run(cfg, _copy(plant_csv, tmp_path), (validate, ingest, preprocess, label_shift))
    df = pd.read_parquet(paths.interim)
    assert df["series"].tolist() == sorted(df["series"].tolist())
    for _, part in df.groupby("series"):
        assert part["time"].is_monotonic_increasing
    events = pd.read_parquet(paths.events)
    assert set(events["series"]) == set(MACHINES)


@pytest.mark.parametrize("method", ["time", "series", "head"])
def test_each_split_mode_end_to_end_with_per_series_figures(plant_csv, tmp_path, small_config, csv_data, method):
    overrides = {"split__method": method, "model": "isolation_forest"}
    if method == "head":
        overrides.update(split__head_rows=500, split__val_fraction=0.5)
    if method == "series":
        overrides.update(split__train_fraction=0.6, split__val_fraction=0.2)
    cfg = _cfg(small_config, csv_data, **overrides)
    paths = _run(cfg, _copy(plant_csv, tmp_path))
    parts = {name: pd.read_parquet(paths.split(name)) for name in ("train", "val", "test")}
    series = {name: set(part["series"]) for name, part in parts.items()}
    if method == "series":
        assert series["train"].isdisjoint(series["val"] | series["test"]) and series["val"].isdisjoint(series["test"])
    else:
        assert series["train"] == series["val"] == series["test"] == set(MACHINES)
        for machine in MACHINES:  # within each series: train before val before test
            t = {name: part.loc[part["series"] == machine, "time"] for name, part in parts.items()}
            assert t["train"].max() < t["val"].min() and t["val"].max() < t["test"].min()
    if method == "head":
        assert (parts["train"].groupby("series").size() == 500).all()
    result = json.loads(paths.eval_metrics.read_text())
    by_series = result["thresholds"]["min_cost"]["test"]["by_series"]
    assert set(by_series) == series["test"]
    one = by_series[sorted(series["test"])[0]]
    assert {"rows", "positives", "roc_auc", "event_recall", "false_alarms_per_hour", "recorded_hours"} <= set(one)
    assert sum(m["rows"] for m in by_series.values()) == result["test"]["n_rows"]
    pooled = result["thresholds"]["min_cost"]["test"]["early_warning"]
    assert pooled["events"] == sum(m["events"] for m in by_series.values())
    if method != "series":
        # 5 machines over the same hours: the recorded time is about 5 x the calendar time of the test part
        calendar_days = (parts["test"]["time"].max() - parts["test"]["time"].min()) / pd.Timedelta(days=1)
        assert pooled["recorded_days"] > 3 * calendar_days


def test_per_series_scaling_end_to_end(plant_csv, tmp_path, small_config, csv_data):
    cfg = _cfg(small_config, csv_data, preprocess__scaling="per_series", model="isolation_forest")
    paths = _run(cfg, _copy(plant_csv, tmp_path))
    encoder = json.loads((paths.model_dir / "encoder.json").read_text())
    assert encoder["per_series"] is True and set(encoder["series"]) == set(MACHINES)
    train_rows = pd.read_parquet(paths.split("train"))
    train_rows = train_rows[train_rows["label"] == 0]  # isolation_forest: fitted on normal rows
    column = encoder["numeric"].index("s00")
    for machine in MACHINES:  # each machine s own training mean of s00
        expected = train_rows.loc[train_rows["series"] == machine, "s00"].mean()
        assert encoder["series"][machine][1][column] == pytest.approx(expected)


def test_per_series_scaling_with_whole_series_held_out_is_refused(small_config, csv_data):
    with pytest.raises(ConfigError, match="preprocess.scaling=per_series needs training rows of every series"):
        _cfg(small_config, csv_data, preprocess__scaling="per_series", split__method="series")


def test_series_split_modes_need_series(small_config):
    with pytest.raises(ConfigError, match="split.method=head works on series"):
        small_config(split__method="head", split__head_rows=100)


def test_a_glob_reads_one_series_per_file(tmp_path, small_config, csv_data):
    frame = machines_frame(rows=300)
    for machine, part in frame.groupby("machine"):
        part.drop(columns="machine").to_csv(tmp_path / f"{machine}.csv", index=False)
    cfg = small_config(data=csv_data(path="m*.csv", categorical_columns=[]))
    paths = _run(cfg, tmp_path, (validate, ingest))
    raw = pd.read_parquet(paths.raw)
    assert sorted(raw["series"].unique()) == MACHINES
    record = json.loads(paths.validated.read_text())
    assert sorted(f["name"] for f in record["files"]) == [f"{m}.csv" for m in MACHINES]
