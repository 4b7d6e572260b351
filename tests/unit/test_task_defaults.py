"""Defaults that never change the task silently, loud degenerate results, and inputs users actually have."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from rarewatch.composition import compose
from rarewatch.config import config_from_dict
from rarewatch.data.label_shift import describe_shift
from rarewatch.errors import DataError
from rarewatch.evaluation.cost import CostMatrix
from rarewatch.evaluation.degenerate import cost_flags, evaluation_flags
from rarewatch.evaluation.early_warning import early_warning_metrics
from rarewatch.paths import Paths
from rarewatch.stages import cost, ingest, label_shift, validate
from rarewatch.stages.runner import run_stage

# ------------------------------------------------------------------------------ the horizon, stated


@pytest.mark.parametrize(
    ("data", "horizon"),
    [("synthetic", 2), ("paper_mill", 2), ("creditcard", 0), ("kddcup99", 0), ("secom", 0), ("ton_iot_fridge", 0)],
)
def test_every_data_config_states_its_horizon(data, horizon):
    assert compose([f"data={data}"])["label_shift"]["horizon"] == horizon


def test_a_user_file_without_a_horizon_gets_none_and_says_so(tmp_path, small_config, csv_data, caplog):
    assert compose(["data=csv", "data.path=x.csv"])["label_shift"]["horizon"] is None
    rows = 40
    pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=rows, freq="min"), "y": [0] * 30 + [1] + [0] * 9,
         "a": np.sin(np.arange(rows, dtype=float))}
    ).to_csv(tmp_path / "source.csv", index=False)  # fmt: skip
    cfg = small_config(data=csv_data(), label_shift__horizon=None)
    for stage in (validate, ingest):
        run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, Paths(tmp_path))
    from rarewatch.stages import preprocess

    run_stage("preprocess", preprocess.execute, cfg, Paths(tmp_path))
    with caplog.at_level(logging.INFO, logger="rarewatch.label_shift"):
        run_stage("label_shift", label_shift.execute, cfg, Paths(tmp_path))
    report = json.loads(Paths(tmp_path).shift_report.read_text())
    assert report == {
        "horizon": 0, "horizon_stated": False, "rows_in": 40, "events": 1, "event_rows": 1, "rows_dropped": 0,
        "rows_made_positive": 0, "positive_rows_out": 1, "rows_out": 40,
    }  # fmt: skip
    assert "label_shift.horizon is not set for this data" in caplog.text


def test_the_shift_is_described():
    report = {"horizon": 2, "horizon_stated": True, "events": 3, "rows_dropped": 4, "rows_made_positive": 6}
    assert describe_shift(report) == (
        "early-warning horizon H=2 rows: 3 events, their 4 rows dropped, 6 rows before them made positive"
    )


def test_card_fraud_config_gives_detection_figures():
    cfg = config_from_dict(compose(["data=creditcard"]))
    assert cfg.label_shift.horizon == 0 and cfg.data.time_unit == "seconds"


# ------------------------------------------------------------------------------------- numeric time


def _numbered_csv(tmp_path, unit_header: str = "t") -> None:
    rows = 60
    pd.DataFrame({unit_header: np.arange(rows) * 30.0, "y": [0] * 40 + [1] + [0] * 19, "a": np.ones(rows)}).to_csv(
        tmp_path / "source.csv", index=False
    )


def test_numeric_time_needs_its_unit(tmp_path, small_config, csv_data):
    _numbered_csv(tmp_path)
    cfg = small_config(data=csv_data(time_column="t"))
    with pytest.raises(DataError, match=r"time column 't' holds numbers \(0.0, 30.0, 60.0, ...\): say what they count"):
        run_stage("ingest", ingest.execute, cfg, Paths(tmp_path))


def test_numeric_seconds_give_lead_times_in_minutes():
    # rows 30 s apart; the event at 600 s; an alarm at 540 s -> 1 minute ahead
    t = np.arange(20) * 30.0
    labels = np.zeros(20, dtype=int)
    labels[17:19] = 1  # warning rows at 510 s and 540 s
    alarms = np.zeros(20, dtype=bool)
    alarms[18] = True
    m = early_warning_metrics(t, labels, alarms, [570.0], [570.0], unit="seconds")
    assert m["lead_time_unit"] == "minutes" and m["lead_time_median"] == pytest.approx(0.5)
    assert m["recorded_days"] == pytest.approx(20 * 30 / 86400)
    rows = early_warning_metrics(t, labels, alarms, [570.0], [570.0], unit="rows")
    assert rows["lead_time_unit"] == "rows" and rows["false_alarms_per_day"] is None


# ------------------------------------------------------------------------------------- degenerate


def _result(val_pos: int, test_pos: int, test_alarms: int, rows: int = 100) -> dict:
    counts = {"tn": rows - test_pos - max(test_alarms - test_pos, 0), "fp": max(test_alarms - test_pos, 0), "fn": 0,
              "tp": min(test_alarms, test_pos)}  # fmt: skip
    return {
        "val": {"n_positive": val_pos, "n_rows": rows},
        "test": {"n_positive": test_pos, "n_rows": rows},
        "thresholds": {"min_cost": {"value": 0.5, "val": None, "test": counts}},
    }


def test_few_positives_are_flagged():
    flags = evaluation_flags(_result(val_pos=3, test_pos=25, test_alarms=30), min_positives=10, max_alarm_share=0.5)
    assert [f["code"] for f in flags] == ["few_positives:val"]
    assert "val has 3 positive rows (fewer than evaluation.min_positives=10)" in flags[0]["message"]


def test_no_positives_in_validation_is_flagged():
    flags = evaluation_flags(_result(val_pos=0, test_pos=25, test_alarms=30), min_positives=10, max_alarm_share=0.5)
    assert [f["code"] for f in flags] == ["no_positives:val"]
    assert "min_cost means never alarm" in flags[0]["message"]


def test_a_threshold_alarming_almost_everywhere_or_nowhere_is_flagged():
    everywhere = evaluation_flags(_result(20, 20, test_alarms=90), min_positives=10, max_alarm_share=0.5)
    assert [f["code"] for f in everywhere] == ["alarms_everywhere:min_cost:test"]
    assert "alarms on 90% of test rows" in everywhere[0]["message"]
    nowhere = evaluation_flags(_result(20, 20, test_alarms=0), min_positives=10, max_alarm_share=0.5)
    assert [f["code"] for f in nowhere] == ["no_alarms:min_cost:test"]


def test_always_alarm_cheapest_is_flagged():
    assert [f["code"] for f in cost_flags([10.0, 12.0, 30.0], 0, 3)] == ["always_alarm_cheapest"]
    assert cost_flags([12.0, 10.0, 30.0], 1, 3) == []


def test_events_that_are_not_rare_make_the_cost_stage_say_so():
    # 70 % positive rows with fp 5 / fn 100: alarming everywhere is cheaper than any threshold
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.7).astype(int)
    frame = pd.DataFrame({"time": np.arange(200), "label": y, "score": rng.random(200)})
    _, metrics = cost.run(frame, frame, CostMatrix(0.0, 5.0, 100.0, 5.0))
    assert [f["code"] for f in metrics["degenerate"]] == ["always_alarm_cheapest"]


# ------------------------------------------------------------------------------------------ inputs


def test_a_semicolon_file_is_read_with_a_note(tmp_path, small_config, csv_data, caplog):
    (tmp_path / "source.csv").write_text("time;y;a\n2024-01-01 00:00;0;1.5\n2024-01-01 00:01;1;2.5\n")
    cfg = small_config(data=csv_data())
    with caplog.at_level(logging.WARNING, logger="rarewatch.ingest"):
        run_stage("validate", validate.execute, cfg, Paths(tmp_path))
        run_stage("ingest", ingest.execute, cfg, Paths(tmp_path))
    assert pd.read_parquet(Paths(tmp_path).raw)["a"].tolist() == [1.5, 2.5]
    assert "looks semicolon-separated" in caplog.text and "data.separator" in caplog.text


def test_an_explicit_separator_is_used(tmp_path, small_config, csv_data):
    (tmp_path / "source.csv").write_text("time\ty\ta\n2024-01-01 00:00\t0\t1.5\n2024-01-01 00:01\t1\t2.5\n")
    cfg = small_config(data=csv_data(separator="\t"))
    run_stage("ingest", ingest.execute, cfg, Paths(tmp_path))
    assert pd.read_parquet(Paths(tmp_path).raw)["a"].tolist() == [1.5, 2.5]


def test_a_wrong_separator_names_the_setting(tmp_path, small_config, csv_data):
    (tmp_path / "source.csv").write_text("time;y;a\n2024-01-01 00:00;0;1.5\n")
    cfg = small_config(data=csv_data(separator=","))
    with pytest.raises(DataError, match=r"column 'y' not found.*it is semicolon-separated, so set data.separator=';'"):
        run_stage("validate", validate.execute, cfg, Paths(tmp_path))


@pytest.mark.parametrize(("positive", "negative"), [("1", None), (None, "0")])
def test_a_normal_operation_file_trains_beside_a_labelled_test_file(
    tmp_path, small_config, csv_data, positive, negative
):
    t = pd.date_range("2024-01-01", periods=30, freq="min")
    pd.DataFrame({"time": t[:20], "y": 0, "a": np.arange(20.0)}).to_csv(tmp_path / "normal.csv", index=False)
    pd.DataFrame({"time": t[20:], "y": [0, 0, 1, 0, 0, 1, 0, 0, 0, 0], "a": np.arange(10.0)}).to_csv(
        tmp_path / "labelled.csv", index=False
    )
    cfg = small_config(
        data=csv_data(path="normal.csv", test_path="labelled.csv", positive_label=positive, negative_label=negative)
    )
    run_stage("ingest", ingest.execute, cfg, Paths(tmp_path))
    raw = pd.read_parquet(Paths(tmp_path).raw)
    assert raw["label"].sum() == 2 and (raw["subset"] == "test").sum() == 10
