"""Bad input stops a stage with one readable message (the value and the fix) and touches no earlier output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rarewatch.config import config_from_dict, load_config
from rarewatch.errors import ConfigError, DataError
from rarewatch.models.encoded import to_rows
from rarewatch.models.registry import resolve
from rarewatch.paths import Paths
from rarewatch.stages import features, ingest, label_shift, preprocess, split, train
from tests.stage_faults import (
    assert_one_line_error,
    leftovers,
    one_line,
    plant_frame,
    run_in_process,
    run_stage,
    snapshot,
)

# ------------------------------------------------------------------------------- ingest: the source file


def _drop_label(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns="y")


def _rename_time(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={"time": "stamp"})


def _text_in_a(df: pd.DataFrame) -> pd.DataFrame:
    df["a"] = df["a"].astype(object)
    df.loc[2, "a"] = "high"
    return df


def _three_classes(df: pd.DataFrame) -> pd.DataFrame:
    df.loc[7, "y"] = 2
    return df


def _one_class(df: pd.DataFrame) -> pd.DataFrame:
    df["y"] = 0
    return df


def _words(df: pd.DataFrame) -> pd.DataFrame:
    df["y"] = np.where(df["y"] == 1, "break", "ok")
    return df


BAD_SOURCES = {
    # id: (make the bad file's text, data overrides, message: the value, message: the fix)
    "missing label column": (_drop_label, {}, r"data\.label_column: column 'y' not found", "columns are: time, a, b"),
    "missing time column": (
        _rename_time,
        {},
        r"data\.time_column: column 'time' not found",
        "columns are: stamp, y, a, b",
    ),
    "non-numeric feature": (
        _text_in_a,
        {},
        r"feature column 'a' has non-numeric values \(first: 'high' at row 2",
        "list it in data.categorical_columns or data.drop_columns",
    ),
    "three label classes": (
        _three_classes,
        {},
        r"label column 'y' has 3 classes \(0, 1, 2\)",
        "map the classes to two",
    ),
    "one label class": (_one_class, {}, r"label column 'y' has 1 class(es)? \(0\)", "needs exactly two"),
    "positive label not a value": (
        _words,
        {"positive_label": "yes"},
        r"data\.positive_label='yes' is not a value of label column 'y' "
        r"\(values: break, ok\)",
        "set data.positive_label to one of them",
    ),
    "empty file": (lambda df: "", {}, r"data file '.*source\.csv' is empty \(0 bytes\)", "point data.path at"),
    "header only": (
        lambda df: "time,y,a,b\n",
        {},
        r"data file '.*source\.csv' has a header \(time, y, a, b\) but no data rows",
        "point data.path at",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES), ids=list(BAD_SOURCES))
def test_ingest_bad_source_keeps_previous_raw(tmp_path, small_config, csv_data, case):
    make_bad, data_overrides, value, fix = BAD_SOURCES[case]
    source = tmp_path / "source.csv"
    plant_frame().to_csv(source, index=False)
    paths = Paths(tmp_path)
    ingest.execute(small_config(data=csv_data()), paths)  # a good earlier run
    before = snapshot(tmp_path)
    assert Path("data/raw/data.parquet") in {Path(k) for k in before}

    bad = make_bad(plant_frame())
    if isinstance(bad, str):
        source.write_text(bad)
    else:
        bad.to_csv(source, index=False)
    with pytest.raises(DataError, match=value) as exc:
        ingest.execute(small_config(data=csv_data(**data_overrides)), paths)

    assert fix in one_line(exc)
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


# -------------------------------------------------------------------------------------- preprocess: NaN


def _frame_with_nans() -> pd.DataFrame:
    df = plant_frame()
    df.loc[[3, 11], "a"] = np.nan
    df.loc[8, "b"] = np.nan
    return df


def test_nan_refused_by_preprocess(tmp_path, small_config, csv_data):
    _frame_with_nans().to_csv(tmp_path / "source.csv", index=False)
    cfg = small_config(data=csv_data(), preprocess__nan_policy="refuse")
    paths = Paths(tmp_path)
    ingest.execute(cfg, paths)  # ingest passes missing values on; the policy is preprocess's
    before = snapshot(tmp_path)

    with pytest.raises(DataError, match=r"2 feature columns have missing values \(most: 'a' with 2\)") as exc:
        preprocess.execute(cfg, paths)
    assert "set preprocess.nan_policy=impute" in one_line(exc)
    assert snapshot(tmp_path) == before
    assert not paths.interim.parent.exists()
    assert leftovers(tmp_path) == []


def test_nan_imputed_with_training_median(small_config, csv_data):
    cfg = small_config(data=csv_data(), preprocess__nan_policy="impute", model="isolation_forest")
    raw, _ = ingest.run(_frame_with_nans(), cfg.data)
    cleaned, report = preprocess.run(raw, cfg)
    assert report["nan_counts"] == {"a": 2, "b": 1}
    assert len(cleaned) == 20  # rows with gaps are kept for the imputer

    t = pd.date_range("2024-01-01", periods=9, freq="min")
    train_df = pd.DataFrame(
        {
            "time": t[:6],
            "label": [0, 0, 0, 0, 0, 1],
            "a": [1.0, 2.0, 4.0, np.nan, 10.0, 1000.0],
            "b": [0.5, 1.5, 0.7, 1.1, 0.9, 0.3],
        }
    )
    val_df = pd.DataFrame({"time": t[6:], "label": [0, 0, 1], "a": [500.0, 600.0, np.nan], "b": [0.2, 0.4, 0.6]})
    features, detector, _ = train.run(train_df, val_df, cfg, cfg.model)

    # median of the normal training values of a: [1, 2, 4, 10] -> (2 + 4) / 2 = 3
    # (with the positive row it would be 4, with validation rows 10)
    probe = pd.DataFrame({"a": [np.nan, 3.0, 4.0], "b": [1.0, 1.0, 1.0]})
    x = features.transform(probe)
    np.testing.assert_array_equal(x[0], x[1])
    assert not np.array_equal(x[0], x[2])
    assert np.isfinite(detector.score(to_rows(val_df, features, 1.5))).all()


# ----------------------------------------------------------------------------- split: no normal training


def test_split_without_normal_training_rows(small_config):
    cfg = small_config(split__train_fraction=0.6, split__val_fraction=0.2, split__gap_rows=2)
    label = np.ones(50, dtype=np.int64)
    label[40:] = 0  # normal rows only in val/test: 50 * 0.6 = 30 training rows, all positive
    df = pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=50, freq="min"), "label": label, "a": np.linspace(0.5, 9.5, 50)}
    )
    with pytest.raises(DataError, match=r"split 'train' has no normal rows") as exc:
        split.run(df, cfg)
    assert "check data.positive_label" in one_line(exc)


# ----------------------------------------------------------------------------------------------- config


def test_unknown_config_key(small_params, write_params):
    params = small_params()
    params["model"]["hiden_dims"] = params["model"].pop("hidden_dims")
    with pytest.raises(ConfigError, match=r"unknown config key 'model\.hiden_dims'") as exc:
        resolve(load_config(write_params(params)))
    assert "did you mean 'model.hidden_dims'?" in one_line(exc)


def test_unknown_model_name(small_params):
    params = small_params()
    params["model"]["name"] = "dense_aee"
    expected = r"unknown model 'dense_aee'; available: .*dense_ae.*isolation_forest"
    with pytest.raises(ConfigError, match=expected) as exc:
        config_from_dict(params)
    assert "(model=<name>)" in one_line(exc)


# ------------------------------------------------------------------------------ through main(), as DVC does


def test_main_ingest_empty_file_keeps_previous_raw(tmp_path, small_params, csv_data, write_params):
    params = write_params(small_params(data=csv_data()))
    plant_frame().to_csv(tmp_path / "source.csv", index=False)
    run_in_process([ingest.execute], params, tmp_path)
    (tmp_path / "source.csv").write_bytes(b"")
    before = snapshot(tmp_path)
    assert before

    proc = run_stage("ingest", tmp_path, params)
    assert_one_line_error(proc, "ingest", "source.csv' is empty (0 bytes)", "point data.path at")
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_main_preprocess_refuses_nans(tmp_path, small_params, csv_data, write_params):
    params = write_params(small_params(data=csv_data(), preprocess__nan_policy="refuse"))
    _frame_with_nans().to_csv(tmp_path / "source.csv", index=False)
    run_in_process([ingest.execute], params, tmp_path)
    before = snapshot(tmp_path)

    proc = run_stage("preprocess", tmp_path, params)
    assert_one_line_error(proc, "preprocess", "'a' with 2", "set preprocess.nan_policy=impute")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "data" / "interim").exists()
    assert leftovers(tmp_path) == []


def test_main_split_with_normal_marked_positive(tmp_path, small_params, csv_data, write_params):
    # the user marked the normal class as positive: every training row is "positive"
    source = plant_frame(n=200, positives=(190, 191, 192))
    source["y"] = np.where(source["y"] == 1, "break", "ok")
    source.to_csv(tmp_path / "source.csv", index=False)
    # Ingest's share rule (data.max_positive_fraction) would stop this file first; lifted to reach split's guard.
    data = csv_data(positive_label="ok", max_positive_fraction=1.0)
    params = write_params(small_params(data=data, label_shift__horizon=0))
    run_in_process([ingest.execute, preprocess.execute, label_shift.execute, features.execute], params, tmp_path)
    before = snapshot(tmp_path)
    earlier = {"data/raw/data.parquet", "data/interim/data.parquet", "data/processed/data.parquet"}
    assert earlier <= set(before)

    proc = run_stage("split", tmp_path, params)
    assert_one_line_error(proc, "split", "split 'train' has no normal rows", "check data.positive_label")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "data" / "split").exists()
    assert leftovers(tmp_path) == []


def test_main_train_with_misspelt_key(tmp_path, small_params, csv_data, write_params):
    params = small_params(data=csv_data())
    plant_frame(n=200, positives=(30, 100, 150, 185)).to_csv(tmp_path / "source.csv", index=False)
    path = write_params(params)
    before_train = [ingest.execute, preprocess.execute, label_shift.execute, features.execute, split.execute]
    run_in_process(before_train, path, tmp_path)
    before = snapshot(tmp_path)
    assert "data/split/train.parquet" in before

    params["model"]["hiden_dims"] = params["model"].pop("hidden_dims")
    write_params(params)
    proc = run_stage("train", tmp_path, path)
    assert_one_line_error(proc, "train", "unknown config key 'model.hiden_dims'", "did you mean 'model.hidden_dims'?")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "models").exists()
    assert not (tmp_path / "metrics").exists()
    assert leftovers(tmp_path) == []
