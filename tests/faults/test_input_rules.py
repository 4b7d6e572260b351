"""Input that cannot be misread: each rule refuses the input that would silently falsify a result, with one
line naming the value and the setting that fixes it, and leaves the earlier outputs untouched.

Each case runs through the stage's run() (the message) and main() (exit code 2, one stderr line).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rarewatch.data.encoding import Encoder
from rarewatch.data.schema import parse_time
from rarewatch.errors import DataError
from rarewatch.paths import Paths
from rarewatch.stages import features, ingest, label_shift, preprocess, split, train, validate
from tests.stage_faults import (
    assert_one_line_error,
    leftovers,
    one_line,
    plant_frame,
    run_in_process,
    run_stage,
    snapshot,
)

# ------------------------------------------------------------------------------------------------ dates


def day_first_frame(days: int) -> pd.DataFrame:
    """Hourly rows over `days` days from 1 January 2024, written dd/mm/yyyy HH:MM (day first)."""
    df = plant_frame(n=24 * days, positives=(30,))
    df["time"] = pd.date_range("2024-01-01", periods=len(df), freq="h").strftime("%d/%m/%Y %H:%M")
    return df


def test_ambiguous_day_first_dates_are_refused_with_both_formats() -> None:
    # 2 days: 01/01 and 02/01 only; read month first they would become 1 January and 1 February.
    with pytest.raises(DataError, match=r"time column 'time' has dates like '01/01/2024 00:00'") as exc:
        parse_time(day_first_frame(2)["time"], "time")
    message = one_line(exc)
    assert "whose day and month are both 12 or less in all 48 values" in message
    assert "data.time_format='%d/%m/%Y %H:%M' (day first)" in message
    assert "data.time_format='%m/%d/%Y %H:%M' (month first)" in message


def test_a_day_over_12_settles_the_order_for_the_whole_column() -> None:
    times = parse_time(day_first_frame(14)["time"], "time")
    # Every row one hour after the previous one: 02/01 is 2 January, never 1 February.
    assert (times.diff().dropna() == pd.Timedelta(hours=1)).all()
    assert times.iloc[-1] == pd.Timestamp("2024-01-14 23:00")


def test_month_first_dates_with_a_day_over_12_parse_month_first() -> None:
    values = pd.Series(["01/12/2024", "01/13/2024", "02/01/2024"])
    assert parse_time(values, "t").tolist() == [pd.Timestamp(f"2024-{d}") for d in ("01-12", "01-13", "02-01")]


def test_mixed_day_first_and_month_first_dates_are_refused() -> None:
    with pytest.raises(DataError, match=r"mixes day-first \('13/01/2024'\) and month-first \('01/13/2024'\)"):
        parse_time(pd.Series(["13/01/2024", "01/13/2024"]), "t")


@pytest.mark.parametrize(
    "values", [["2024-01-02 10:00", "2024-02-01 10:00"], ["2024/01/02", "2024/02/01"], ["2024-01-02T10:00:00Z"]]
)
def test_year_first_dates_are_never_ambiguous(values: list[str]) -> None:
    assert parse_time(pd.Series(values), "t").notna().all()


def test_a_stated_time_format_is_used_as_given() -> None:
    times = parse_time(day_first_frame(2)["time"], "time", "%d/%m/%Y %H:%M")
    assert times.iloc[24] == pd.Timestamp("2024-01-02")


def test_main_ingest_refuses_ambiguous_dates_and_keeps_raw(tmp_path: Path, small_params, csv_data, write_params):
    params = write_params(small_params(data=csv_data()))
    plant_frame().to_csv(tmp_path / "source.csv", index=False)
    run_in_process([ingest.execute], params, tmp_path)
    before = snapshot(tmp_path)
    day_first_frame(2).to_csv(tmp_path / "source.csv", index=False)

    proc = run_stage("ingest", tmp_path, params)
    assert_one_line_error(
        proc, "ingest", "time column 'time' has dates like '01/01/2024 00:00'", "data.time_format='%d/%m/%Y %H:%M'"
    )
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []
    # The fix the message names works.
    fixed = write_params(small_params(data=csv_data(time_format="%d/%m/%Y %H:%M")))
    run_in_process([ingest.execute], fixed, tmp_path)
    raw = pd.read_parquet(Paths(tmp_path).raw)
    assert raw["time"].iloc[-1] == pd.Timestamp("2024-01-02 23:00")
    assert np.isclose(raw["label"].mean(), 1 / 48)


# ----------------------------------------------------------------------------------------- positive share


def test_a_mostly_positive_label_is_refused_at_ingest(tmp_path: Path, small_config, csv_data) -> None:
    paths = Paths(tmp_path)
    plant_frame().to_csv(tmp_path / "source.csv", index=False)
    ingest.execute(small_config(data=csv_data()), paths)
    before = snapshot(tmp_path)
    inverted = plant_frame(n=20, positives=tuple(range(14)))  # 70 % positive
    inverted.to_csv(tmp_path / "source.csv", index=False)

    with pytest.raises(DataError, match=r"70\.0% of the 20 rows are positive \(data\.positive_label='1'") as exc:
        ingest.execute(small_config(data=csv_data()), paths)
    message = one_line(exc)
    assert "more than data.max_positive_fraction=0.5" in message
    assert "check data.positive_label / data.negative_label" in message
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []
    # Events that really are the majority: the setting the message names lets them through.
    ingest.execute(small_config(data=csv_data(max_positive_fraction=0.8)), paths)


def test_main_ingest_refuses_a_mostly_positive_label(tmp_path: Path, small_params, csv_data, write_params) -> None:
    params = write_params(small_params(data=csv_data(negative_label="ok", positive_label=None)))
    frame = plant_frame(n=20, positives=tuple(range(14)))
    frame["y"] = np.where(frame["y"] == 1, "fault", "ok")
    frame.to_csv(tmp_path / "source.csv", index=False)

    proc = run_stage("ingest", tmp_path, params)
    assert_one_line_error(
        proc, "ingest", "70.0% of the 20 rows are positive (every class but data.negative_label='ok'", "0.5"
    )
    assert not (tmp_path / "data").exists()


# ------------------------------------------------------------------------------------------- label shift


def test_a_shift_that_drops_most_rows_is_refused(tmp_path: Path, small_params, csv_data, write_params) -> None:
    # 45 % positive passes the positive-share rule (0.5) but the shift would drop 45 % of the rows.
    frame = plant_frame(n=40, positives=tuple(range(0, 36, 2)))
    frame.to_csv(tmp_path / "source.csv", index=False)
    params = write_params(small_params(data=csv_data(), label_shift__horizon=1))
    run_in_process([ingest.execute, preprocess.execute], params, tmp_path)
    before = snapshot(tmp_path)

    proc = run_stage("label_shift", tmp_path, params)
    assert_one_line_error(
        proc,
        "label_shift",
        "label_shift.horizon=1 drops 18 of 40 rows (45.0%) as event rows",
        "more than label_shift.max_dropped_fraction=0.2",
        "use label_shift.horizon=0",
    )
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []
    assert not (tmp_path / "data" / "processed").exists()

    df = pd.read_parquet(Paths(tmp_path).interim)
    with pytest.raises(DataError, match=r"drops 18 of 40 rows") as exc:
        label_shift.run(df, 1, 0.2)
    one_line(exc)
    assert label_shift.run(df, 1, 0.5)[2]["rows_dropped"] == 18  # raised on purpose: it runs
    assert label_shift.run(df, 0, 0.2)[2]["rows_dropped"] == 0  # detection drops nothing


# ------------------------------------------------------------------------------- infinite and overflowing


def overflowing_frame() -> pd.DataFrame:
    """200 rows with +inf and -inf in 'a' (training rows and one test row) and 1e308 in 'b'."""
    df = plant_frame(n=200, positives=(30, 100, 150, 185))
    df.loc[[10, 60], "a"] = [np.inf, -np.inf]
    df.loc[170, "a"] = np.inf
    df.loc[40, "b"] = 1e308
    return df


def test_main_preprocess_refuses_infinite_values(tmp_path: Path, small_params, csv_data, write_params) -> None:
    overflowing_frame().to_csv(tmp_path / "source.csv", index=False)
    params = write_params(small_params(data=csv_data()))
    run_in_process([ingest.execute], params, tmp_path)  # ingest passes them on: the policy is preprocess's
    before = snapshot(tmp_path)

    proc = run_stage("preprocess", tmp_path, params)
    assert_one_line_error(
        proc,
        "preprocess",
        "4 values in 2 feature column(s) of the input are infinite or beyond +-3.4e+38",
        "'a' (3), 'b' (1)",
        "set preprocess.nonfinite=clip (to the column's training minimum or maximum) or preprocess.nonfinite=impute",
    )
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []
    assert not (tmp_path / "data" / "interim").exists()


@pytest.mark.parametrize("policy", ["clip", "impute"])
def test_clip_and_impute_train_on_finite_values(tmp_path: Path, small_params, csv_data, write_params, policy) -> None:
    overflowing_frame().to_csv(tmp_path / "source.csv", index=False)
    params = write_params(small_params(data=csv_data(), model="isolation_forest", preprocess__nonfinite=policy))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow in the scaler's arithmetic
        run_in_process(
            [ingest.execute, preprocess.execute, label_shift.execute, features.execute, split.execute, train.execute],
            params,
            tmp_path,
        )
    paths = Paths(tmp_path)
    assert json.loads((paths.interim.parent / "report.json").read_text())["nonfinite_counts"] == {"a": 3, "b": 1}
    encoder = Encoder.load(paths.model_dir)
    assert encoder.nonfinite == policy
    training = pd.read_parquet(paths.split("train")).query("label == 0")  # the encoder fits the normal rows
    finite_a = training["a"][np.isfinite(training["a"])]
    finite_b = training["b"][training["b"].abs() < 1e300]
    probe = pd.DataFrame({"a": [np.inf, -np.inf, 0.0], "b": [1e308, 10.0, 10.0]})
    same = pd.DataFrame(
        {"a": [finite_a.max(), finite_a.min(), 0.0], "b": [finite_b.max(), 10.0, 10.0]}
        if policy == "clip"
        else {"a": [finite_a.median(), finite_a.median(), 0.0], "b": [finite_b.median(), 10.0, 10.0]}
    )
    np.testing.assert_allclose(encoder.transform(probe), encoder.transform(same), rtol=1e-6)
    assert np.isfinite(encoder.transform(pd.read_parquet(paths.split("test")))).all()


def test_encoder_with_refuse_names_the_columns() -> None:
    train_rows = pd.DataFrame({"a": [1.0, 2.0, np.inf], "b": [1.0, -1e39, 3.0]})
    with pytest.raises(
        DataError, match=r"2 values in 2 feature column\(s\) of the training rows .*'a' \(1\), 'b' \(1\)"
    ):
        Encoder([], impute=True).fit(train_rows)
    encoder = Encoder([], impute=True).fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    with pytest.raises(DataError, match=r"1 values in 1 feature column\(s\) of the rows to encode .*'a' \(1\)"):
        encoder.transform(pd.DataFrame({"a": [np.inf]}))


def test_values_that_overflow_float32_once_scaled_are_named() -> None:
    encoder = Encoder([], impute=True).fit(pd.DataFrame({"a": [1.0, 1.0 + 1e-12, 1.0], "b": [1.0, 2.0, 3.0]}))
    with pytest.raises(DataError, match=r"1 values of feature\(s\) 'a' \(1\) are so far outside") as exc:
        encoder.transform(pd.DataFrame({"a": [1e30], "b": [2.0]}))
    assert "data.drop_columns" in one_line(exc)


# ------------------------------------------------------------------------- validate checks them first


VALIDATE_REFUSES = {
    # id: (the bad file, data overrides, fragments of the one line)
    "ambiguous dates": (
        lambda: day_first_frame(2),
        {},
        ("time column 'time' has dates like '01/01/2024 00:00'", "data.time_format='%m/%d/%Y %H:%M'"),
    ),
    "mostly positive": (
        lambda: plant_frame(n=20, positives=tuple(range(14))),
        {},
        ("70.0% of the 20 rows are positive", "data.max_positive_fraction=0.5"),
    ),
    "positive share over both files": (
        lambda: plant_frame(n=20, positives=tuple(range(8))),  # 8 of 20, and 5 of the test file's 10: 13 of 30
        {"test_path": "test.csv", "max_positive_fraction": 0.35},
        ("43.3% of the 30 rows are positive", "data.max_positive_fraction=0.35"),
    ),
}


@pytest.mark.parametrize("case", list(VALIDATE_REFUSES))
def test_validate_refuses_bad_input_before_ingest_replaces_raw(
    tmp_path: Path, small_params, csv_data, write_params, case: str
) -> None:
    make_bad, overrides, fragments = VALIDATE_REFUSES[case]
    plant_frame().to_csv(tmp_path / "source.csv", index=False)
    test_file = plant_frame(n=10, positives=(1, 2, 3, 4, 5))
    test_file.to_csv(tmp_path / "test.csv", index=False)
    good = write_params(small_params(data=csv_data(**{k: v for k, v in overrides.items() if k == "test_path"})))
    run_in_process([validate.execute, ingest.execute], good, tmp_path)
    before = snapshot(tmp_path)
    make_bad().to_csv(tmp_path / "source.csv", index=False)

    proc = run_stage("validate", tmp_path, write_params(small_params(data=csv_data(**overrides))))
    assert_one_line_error(proc, "validate", *fragments)
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []


def test_validate_passes_unambiguous_day_first_dates(tmp_path: Path, small_config, csv_data) -> None:
    day_first_frame(14).to_csv(tmp_path / "source.csv", index=False)
    record = validate.run(small_config(data=csv_data()), tmp_path)
    assert [f["key"] for f in record["files"]] == ["data.path"]
