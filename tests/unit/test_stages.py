"""Each pipeline stage's run() on small in-memory frames, then the whole chain of execute() calls."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rarewatch.data import synthetic
from rarewatch.data.encoding import Encoder
from rarewatch.errors import ConfigError
from rarewatch.evaluation.cost import CostMatrix
from rarewatch.evaluation.early_warning import AlarmPolicy
from rarewatch.paths import Paths
from rarewatch.stages import cost, evaluate, features, ingest, label_shift, preprocess, split, summary, train, validate
from rarewatch.stages.runner import run_stage

T0 = pd.Timestamp("2024-01-01 00:00:00")


def minutes(*offsets: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([T0 + pd.Timedelta(minutes=m) for m in offsets])


# --------------------------------------------------------------------------------------------- ingest


def test_ingest_synthetic_gives_canonical_frame(small_config):
    cfg = small_config()
    table = synthetic.generate(cfg.data.synthetic)
    df, meta = ingest.run(table, cfg.data)

    # time, label, then the features in source order: grade and 8 channels s00..s07.
    assert list(df.columns) == ["time", "label", "grade"] + [f"s{i:02d}" for i in range(8)]
    assert np.array_equal(df["label"].to_numpy(), table["y"].to_numpy())
    assert set(np.unique(df["label"])) == {0, 1}
    assert pd.api.types.is_datetime64_any_dtype(df["time"])
    assert meta["rows"] == 3000
    assert meta["features"] == 9  # grade + 8 sensor channels
    assert meta["positive_rows"] == int(table["y"].sum())
    assert meta["has_time_axis"] is True


def test_ingest_csv_like_frame_with_string_labels(small_config, csv_data):
    cfg = small_config(
        data=csv_data(time_column="when", label_column="status", positive_label="break", categorical_columns=["line"])
    )
    table = pd.DataFrame(
        {
            "when": ["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:02", "2024-01-01 00:03"],
            "status": ["ok", "ok", "break", "ok"],
            "temp": ["1.5", "2.5", "3.5", "4.5"],  # numbers read as text still become floats
            "line": ["L1", "L2", "L1", "L2"],
        }
    )
    df, meta = ingest.run(table, cfg.data)

    assert list(df.columns) == ["time", "label", "temp", "line"]
    assert df["label"].tolist() == [0, 0, 1, 0]
    assert list(df["time"]) == list(minutes(0, 1, 2, 3))
    assert df["temp"].tolist() == [1.5, 2.5, 3.5, 4.5]
    assert df["line"].tolist() == ["L1", "L2", "L1", "L2"]
    assert meta["rows"] == 4
    assert meta["features"] == 2
    assert meta["positive_rows"] == 1
    assert meta["positive_rate"] == pytest.approx(0.25)  # 1 of 4


def test_ingest_execute_reads_a_csv_file_relative_to_root(tmp_path, small_config, csv_data):
    (tmp_path / "source.csv").write_text(
        "time,y,a\n2024-01-01 00:02,yes,3.0\n2024-01-01 00:00,no,1.0\n2024-01-01 00:01,no,2.0\n"
    )
    cfg = small_config(data=csv_data(positive_label="yes"))
    paths = Paths(tmp_path)
    ingest.execute(cfg, paths)

    df = pd.read_parquet(paths.raw)
    assert df["label"].tolist() == [1, 0, 0]
    assert df["a"].tolist() == [3.0, 1.0, 2.0]
    meta = json.loads((paths.raw.parent / "meta.json").read_text())
    assert meta["rows"] == 3 and meta["positive_rows"] == 1
    assert meta["source"] == "file"


# ----------------------------------------------------------------------------------------- preprocess


def test_preprocess_sorts_dedupes_drops_constant_keeps_categorical(small_config):
    cfg = small_config(data__categorical_columns=["grade"])
    raw = pd.DataFrame(
        {
            "time": minutes(3, 1, 2, 2, 0),
            "label": [0, 1, 0, 0, 0],
            "a": [3.5, 1.5, 2.5, 2.5, 0.5],
            "const": [7.0, 7.0, 7.0, 7.0, 7.0],
            "grade": ["B", "A", "B", "B", "A"],
        }
    )
    df, report = preprocess.run(raw, cfg)

    # rows 2 and 3 are identical -> one dropped; the rest sorted by time 0, 1, 2, 3.
    assert list(df["time"]) == list(minutes(0, 1, 2, 3))
    assert df["a"].tolist() == [0.5, 1.5, 2.5, 3.5]
    assert df["label"].tolist() == [0, 1, 0, 0]
    assert df["grade"].tolist() == ["A", "A", "B", "B"]
    assert "const" not in df.columns
    assert report["columns_dropped"] == {"const": "constant"}
    assert report["duplicates_dropped"] == 1
    assert report["rows_in"] == 5 and report["rows_out"] == 4


# ---------------------------------------------------------------------------------------- label_shift


def test_label_shift_marks_rows_before_events_and_drops_event_rows():
    t = minutes(*range(11))
    df = pd.DataFrame({"time": t, "label": [0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0], "a": np.arange(11) * 0.5})
    out, events, report = label_shift.run(df, horizon=2)

    # events: rows 4-5 and row 9. Horizon 2 -> rows 2, 3 and 7, 8 positive; rows 4, 5, 9 dropped.
    kept = [0, 1, 2, 3, 6, 7, 8, 10]
    assert list(out["time"]) == list(t[kept])
    assert out["a"].tolist() == [k * 0.5 for k in kept]
    assert out["label"].tolist() == [0, 0, 1, 1, 0, 1, 1, 0]
    assert events["event"].tolist() == [0, 1]
    assert list(events["start_time"]) == [t[4], t[9]]
    assert list(events["end_time"]) == [t[5], t[9]]
    assert events["rows"].tolist() == [2, 1]


def test_label_shift_horizon_zero_leaves_labels():
    df = pd.DataFrame({"time": minutes(*range(5)), "label": [0, 1, 1, 0, 1], "a": [1.0, 2.0, 3.0, 4.0, 5.0]})
    out, events, report = label_shift.run(df, horizon=0)
    assert out["label"].tolist() == [0, 1, 1, 0, 1]
    assert len(out) == 5
    assert events["rows"].tolist() == [2, 1]


# ---------------------------------------------------------------------------------------------- split


def _numbered(n: int, positives: list[int], with_time: bool = True) -> pd.DataFrame:
    label = np.zeros(n, dtype=np.int64)
    label[positives] = 1
    time = minutes(*range(n)) if with_time else np.arange(n)
    return pd.DataFrame({"time": time, "label": label, "row": np.arange(n, dtype=np.float64)})


def test_time_split_is_ordered_with_gaps(small_config):
    cfg = small_config(split__train_fraction=0.6, split__val_fraction=0.2, split__gap_rows=10)
    df = _numbered(200, [5, 60, 140, 150, 185, 195])
    parts = split.run(df, cfg)

    # 200 rows: train 0..119 (200*0.6), 10-row gap, val 130..169 (200*0.2), 10-row gap, test 180..199.
    assert parts["train"]["row"].tolist() == list(range(0, 120))
    assert parts["val"]["row"].tolist() == list(range(130, 170))
    assert parts["test"]["row"].tolist() == list(range(180, 200))
    assert parts["train"]["time"].max() < parts["val"]["time"].min() < parts["test"]["time"].min()
    # one row per minute: 10 rows left out between the splits -> 11 minutes apart
    assert parts["val"]["time"].min() - parts["train"]["time"].max() == pd.Timedelta(minutes=11)
    assert parts["test"]["time"].min() - parts["val"]["time"].max() == pd.Timedelta(minutes=11)
    assert [int(parts[k]["label"].sum()) for k in ("train", "val", "test")] == [2, 2, 2]


def test_random_split_refused_on_time_axis(small_config):
    with pytest.raises(ConfigError, match=r"split\.method=random on data with a time axis"):
        small_config(split__method="random")


def test_random_split_without_time_axis(small_config):
    cfg = small_config(
        split__method="random", split__train_fraction=0.6, split__val_fraction=0.2, data__time_column=None
    )
    df = _numbered(100, list(range(0, 100, 10)), with_time=False)
    parts = split.run(df, cfg)

    # stratified: 90 normal rows -> 54 / 18 / 18, 10 positive rows -> 6 / 2 / 2
    assert [len(parts[k]) for k in ("train", "val", "test")] == [60, 20, 20]
    assert [int(parts[k]["label"].sum()) for k in ("train", "val", "test")] == [6, 2, 2]
    rows = np.concatenate([parts[k]["row"].to_numpy() for k in ("train", "val", "test")])
    assert sorted(rows.tolist()) == list(range(100))  # disjoint and complete
    assert parts["train"]["row"].tolist() != list(range(60))  # shuffled, not a head/tail cut
    again = split.run(df, cfg)
    assert again["train"]["row"].tolist() == parts["train"]["row"].tolist()  # seeded


# ---------------------------------------------------------------------------------------------- train


def _with_extreme_positives(frame: pd.DataFrame) -> pd.DataFrame:
    """Push the positive rows far out on s00, so statistics that include them are visibly off."""
    out = frame.copy()
    out.loc[out["label"] == 1, "s00"] += 50.0
    return out


def _assert_scaled_on_normal_rows(features: Encoder, frame: pd.DataFrame) -> None:
    normal = frame[frame["label"] == 0]
    x = features.transform(frame)
    names = features.output_names
    for col in [c for c in frame.columns if c.startswith("s")]:
        got = x[:, names.index(col)]
        expected = (frame[col] - normal[col].mean()) / normal[col].std(ddof=0)
        np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("model", ["dense_ae", "isolation_forest"])
def test_train_fits_on_normal_training_rows(small_config, small_splits, model):
    cfg = small_config(model=model)
    train_df = _with_extreme_positives(small_splits["train"])
    assert train_df["label"].sum() > 0  # the check below only means something with positives present
    features, detector, report = train.run(train_df, small_splits["val"], cfg, cfg.model)

    assert isinstance(features, Encoder)
    assert report.train_rows == int((train_df["label"] == 0).sum())
    _assert_scaled_on_normal_rows(features, train_df)
    # a scaler fitted on all rows would have mean ~ 50 * (positives / rows) higher on s00
    assert train_df["s00"].mean() - train_df.loc[train_df["label"] == 0, "s00"].mean() > 0.5

    val_scores = detector.score(train.to_rows(small_splits["val"], features, 1.5))
    assert val_scores.shape == (len(small_splits["val"]),)
    assert np.isfinite(val_scores).all()
    # higher = more anomalous: the pushed-out rows score above the normal training rows on average
    train_scores = detector.score(train.to_rows(train_df, features, 1.5))
    is_pos = train_df["label"].to_numpy() == 1
    assert train_scores[is_pos].mean() > train_scores[~is_pos].mean()
    if model == "dense_ae":
        assert report.epochs == 2  # max_epochs 2, patience 5


# ------------------------------------------------------------------------------------------- evaluate

# Validation: scores 0.1 .. 1.0, positives at 0.3, 0.8 and 1.0 (7 normal, 3 positive rows).
VAL = pd.DataFrame(
    {
        "time": minutes(*range(10)),
        "label": [0, 0, 1, 0, 0, 0, 0, 1, 0, 1],
        "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    }
)
TEST = pd.DataFrame({"time": minutes(*range(20, 25)), "label": [0, 1, 0, 1, 0], "score": [0.05, 0.3, 0.5, 0.8, 0.95]})
EVAL_OVERRIDES = {
    "threshold": {"strategies": ["percentile", "max_f1", "min_cost"], "percentile": 95.0},
    "cost": {"tn": 0.0, "fp": 5.0, "fn": 100.0, "tp": 5.0},
}


def _counts(entry: dict) -> tuple[int, int, int, int]:
    return entry["tn"], entry["fp"], entry["fn"], entry["tp"]


def test_evaluate_thresholds_chosen_on_val(small_config):
    cfg = small_config(**EVAL_OVERRIDES)
    result = evaluate.run({"val": VAL, "test": TEST}, cfg)

    # ROC-AUC: positive>normal pairs: 0.3 beats 2, 0.8 beats 6, 1.0 beats 7 -> 15 of 3*7 = 21.
    assert result["val"]["roc_auc"] == pytest.approx(15 / 21)
    # AP: ranked by score, positives at ranks 1, 3, 8 -> (1/1 + 2/3 + 3/8) / 3 = 49/72.
    assert result["val"]["pr_auc"] == pytest.approx(49 / 72)
    assert result["val"]["pr_auc_no_skill"] == pytest.approx(0.3)  # 3 of 10
    # test: positives 0.3, 0.8 vs normals 0.05, 0.5, 0.95 -> 1 + 2 = 3 of 6 pairs; AP (1/2 + 2/4) / 2
    assert result["test"]["roc_auc"] == pytest.approx(0.5)
    assert result["test"]["pr_auc"] == pytest.approx(0.5)
    assert result["test"]["pr_auc_no_skill"] == pytest.approx(0.4)

    th = result["thresholds"]
    # percentile 95 of the normal scores [.1 .2 .4 .5 .6 .7 .9]: position 0.95 * 6 = 5.7 -> .7 + .7 * .2
    assert th["percentile"]["value"] == pytest.approx(0.84)
    # max F1: at 0.75 alarms on .8 .9 1.0 -> tp 2, fp 1, fn 1, F1 = 4/6, the best of all cut points
    assert th["max_f1"]["value"] == pytest.approx(0.75)
    # min cost (fp 5, fn 100, tp 5): at 0.25 alarms on .3 .. 1.0 -> 5 fp * 5 + 3 tp * 5 = 40; at 0.1: 50,
    # at 0.35 a positive is missed: 25 + 10 + 100 = 135.
    assert th["min_cost"]["value"] == pytest.approx(0.25)
    assert _counts(th["max_f1"]["val"]) == (6, 1, 1, 2)
    assert _counts(th["min_cost"]["val"]) == (2, 5, 0, 3)
    # test at the val thresholds: >= 0.84 alarms on .95; >= .75 on .8 .95; >= .25 on .3 .5 .8 .95
    assert _counts(th["percentile"]["test"]) == (2, 1, 2, 0)
    assert _counts(th["max_f1"]["test"]) == (2, 1, 1, 1)
    assert _counts(th["min_cost"]["test"]) == (1, 2, 0, 2)


def test_evaluate_thresholds_ignore_test_scores(small_config):
    cfg = small_config(**EVAL_OVERRIDES)
    before = evaluate.run({"val": VAL, "test": TEST}, cfg)
    changed = TEST.assign(score=TEST["score"] * 10 + 3)  # every test row now alarms at any threshold
    after = evaluate.run({"val": VAL, "test": changed}, cfg)

    for name in ("percentile", "max_f1", "min_cost"):
        assert after["thresholds"][name]["value"] == before["thresholds"][name]["value"]
        assert after["thresholds"][name]["val"] == before["thresholds"][name]["val"]
        assert _counts(after["thresholds"][name]["test"]) == (0, 3, 0, 2)


# ----------------------------------------------------------------------------------------------- cost


def test_cost_best_threshold_and_savings():
    table, m = cost.run(VAL, TEST, CostMatrix(tn=0.0, fp=5.0, fn=100.0, tp=5.0))

    # 10 distinct val scores -> lowest score, 9 midpoints, one above the top: 11 candidates.
    assert len(table) == 11
    assert table["cost"].iloc[0] == pytest.approx(50.0)  # alarm everywhere: 7 fp * 5 + 3 tp * 5
    assert table["cost"].iloc[-1] == pytest.approx(300.0)  # no alarm: 3 fn * 100
    assert m["best_threshold"] == pytest.approx(0.25)
    assert m["val_cost"] == pytest.approx(40.0)  # 5 fp * 5 + 3 tp * 5
    assert m["val_no_alarm_cost"] == pytest.approx(300.0)
    # test at >= 0.25: alarms .3 (pos) .5 .8 (pos) .95 -> tp 2, fp 2, fn 0, tn 1: 2*5 + 2*5 = 20
    assert _counts(m["test_confusion"]) == (1, 2, 0, 2)
    assert m["test_cost"] == pytest.approx(20.0)
    assert m["test_no_alarm_cost"] == pytest.approx(200.0)  # 2 positives * 100
    assert m["test_savings"] == pytest.approx(180.0)
    assert m["test_savings_fraction"] == pytest.approx(0.9)


def test_cost_val_choice_can_lose_money_on_test():
    # fp 10, fn 1: on val the cheapest is alarming on 1.0 only (>= 0.95): 2 fn = 2, vs 3 with no alarm
    # and 11 at 0.75 (1 fp + 1 fn). On test that threshold alarms on the normal 0.95: 10 + 2 fn = 12.
    _, m = cost.run(VAL, TEST, CostMatrix(tn=0.0, fp=10.0, fn=1.0, tp=0.0))
    assert m["best_threshold"] == pytest.approx(0.95)
    assert m["val_cost"] == pytest.approx(2.0)
    assert m["test_cost"] == pytest.approx(12.0)
    assert m["test_no_alarm_cost"] == pytest.approx(2.0)
    assert m["test_savings"] == pytest.approx(-10.0)
    assert m["test_savings_fraction"] == pytest.approx(-5.0)


def test_cost_tie_goes_to_fewer_alarms():
    # fp 10, fn 1, tp 1: alarming on 1.0 only costs 2 fn + 1 tp = 3, the same as no alarm (3 fn):
    # the tie goes to the higher threshold, above every val score.
    _, m = cost.run(VAL, TEST, CostMatrix(tn=0.0, fp=10.0, fn=1.0, tp=1.0))
    assert m["best_threshold"] > 1.0
    assert m["val_cost"] == pytest.approx(3.0)
    assert _counts(m["test_confusion"]) == (3, 0, 2, 0)
    assert m["test_savings"] == pytest.approx(0.0)


# ------------------------------------------------------------------------------------ whole pipeline

STAGES = (validate, ingest, preprocess, label_shift, features, split, train, evaluate, cost, summary)


def run_all(cfg, root: Path) -> None:
    """Every stage through the config view its spec declares, as dvc repro and the sweep run them."""
    for stage in STAGES:
        run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, Paths(root))


@pytest.fixture(scope="module")
def pipeline_root(tmp_path_factory, small_config) -> Path:
    root = tmp_path_factory.mktemp("pipeline")
    run_all(small_config(), root)
    return root


def test_pipeline_writes_the_dvc_contract(pipeline_root):
    p = Paths(pipeline_root)
    expected = [
        p.raw,
        p.interim,
        p.processed,
        p.events,
        p.split("train"),
        p.split("val"),
        p.split("test"),
        p.validated,
        p.model_dir / "card.json",
        p.model_dir / "model.json",
        p.model_dir / "encoder.json",
        p.model_dir / "weights.pt",
        p.train_metrics,
        p.timings,
        p.scores("val"),
        p.scores("test"),
        p.eval_metrics,
        *(p.eval_plots / f"{kind}_{s}.csv" for kind in ("roc", "pr") for s in ("val", "test")),
        *(p.eval_plots / name for name in ("roc_pr.png", "confusion.png", "scores.png")),
        p.cost_metrics,
        p.cost_plots / "cost_curve.csv",
        p.cost_plots / "cost_curve.png",
        p.summary,
    ]
    missing = [str(f.relative_to(pipeline_root)) for f in expected if not f.is_file() or f.stat().st_size == 0]
    assert missing == []
    leftovers = [str(f) for f in pipeline_root.rglob(".*")]
    assert leftovers == []  # atomic writes leave no temp files behind

    m = json.loads(p.eval_metrics.read_text())
    for s in ("val", "test"):
        n_rows = len(pd.read_parquet(p.split(s)))
        assert m[s]["n_rows"] == n_rows
        assert m[s]["n_positive"] > 0
        for key in ("roc_auc", "pr_auc", "pr_auc_no_skill"):
            assert isinstance(m[s][key], float) and 0.0 <= m[s][key] <= 1.0
        assert m[s]["pr_auc_no_skill"] == pytest.approx(m[s]["n_positive"] / n_rows)
        for name in ("percentile", "max_f1", "min_cost"):
            entry = m["thresholds"][name]
            assert isinstance(entry["value"], float)
            assert sum(_counts(entry[s])) == n_rows

    scores = pd.read_parquet(p.scores("test"))
    assert list(scores.columns) == ["time", "label", "score", "top_sensors", "raw_score"]
    c = json.loads(p.cost_metrics.read_text())
    assert c["best_threshold"] == m["thresholds"]["min_cost"]["value"]


def test_train_and_evaluate_are_deterministic(pipeline_root, tmp_path, small_config):
    """The same config gives byte-identical models and metrics: dvc.lock's hashes reproduce."""
    cfg = small_config()
    shutil.copytree(pipeline_root / "data" / "split", tmp_path / "data" / "split")
    shutil.copytree(pipeline_root / "data" / "processed", tmp_path / "data" / "processed")
    run_stage("train", train.execute, cfg, Paths(tmp_path))
    run_stage("evaluate", evaluate.execute, cfg, Paths(tmp_path))
    before, after = Paths(pipeline_root), Paths(tmp_path)
    assert after.eval_metrics.read_bytes() == before.eval_metrics.read_bytes()
    assert after.train_metrics.read_bytes() == before.train_metrics.read_bytes()
    model_files = sorted(f.name for f in before.model_dir.iterdir())
    assert model_files == sorted(f.name for f in after.model_dir.iterdir())
    for name in model_files:
        assert (after.model_dir / name).read_bytes() == (before.model_dir / name).read_bytes(), name


# ------------------------------------------------------------------ early warning in evaluate and cost

# Events behind VAL and TEST as if horizon 1: each positive row is the warning row of an event that
# starts half a minute later (its own rows were dropped by the label shift).
EVENTS = pd.DataFrame(
    {
        "event": range(5),
        "start_time": T0 + pd.to_timedelta([2.5, 7.5, 9.5, 21.5, 23.5], unit="min"),
        "end_time": T0 + pd.to_timedelta([2.5, 7.5, 9.5, 21.5, 23.5], unit="min"),
        "rows": [1, 1, 1, 1, 1],
    }
)


def test_evaluate_reports_early_warning_per_strategy_and_split(small_config):
    cfg = small_config(**EVAL_OVERRIDES)
    result = evaluate.run({"val": VAL, "test": TEST}, cfg, EVENTS)
    assert result["alarm_policy"] == {"k": 1, "n": 1, "silence_rows": 0}

    th = result["thresholds"]
    for name in ("percentile", "max_f1", "min_cost"):
        for s in ("val", "test"):
            assert th[name][s]["early_warning"]["events"] == (3 if s == "val" else 2)
    # test at min_cost .25: alarms at minutes 21 (.3, window of the 21.5 event), 22 (.5), 23 (.8, window of
    # 23.5), 24 (.95): both events caught half a minute ahead; 22 and 24 are false alarms.
    ew = th["min_cost"]["test"]["early_warning"]
    assert (ew["events"], ew["events_caught"], ew["event_recall"]) == (2, 2, 1.0)
    assert ew["lead_time_unit"] == "minutes"
    assert ew["lead_time_median"] == pytest.approx(0.5)
    assert (ew["alarms"], ew["true_alarms"], ew["false_alarms"]) == (4, 2, 2)
    # the test rows span minute 20 to 24 plus one minute: 5 minutes -> 2 / (5 / 1440) a day
    assert ew["false_alarms_per_day"] == pytest.approx(576.0)
    assert ew["false_alarms_per_1000_rows"] == pytest.approx(400.0)
    assert ew["alarms_per_event"] == pytest.approx(2.0)
    # percentile .84 on test: only the normal .95 alarms
    ew = th["percentile"]["test"]["early_warning"]
    assert (ew["events_caught"], ew["event_recall"], ew["lead_time_median"]) == (0, 0.0, None)
    assert (ew["false_alarms"], ew["alarms_per_event"]) == (1, 0.5)
    # val at .25: alarms on rows 2..9; every event's window row (2, 7, 9) alarms; 3 4 5 6 8 are false
    ew = th["min_cost"]["val"]["early_warning"]
    assert (ew["events_caught"], ew["false_alarms"]) == (3, 5)
    assert ew["false_alarms_per_day"] == pytest.approx(5 / (10 / 1440))
    # the row metrics are still there, unchanged
    assert _counts(th["min_cost"]["test"]) == (1, 2, 0, 2)


def test_evaluate_early_warning_under_a_k_of_n_policy(small_config):
    cfg = small_config(**EVAL_OVERRIDES, alarm={"k": 2, "n": 2, "silence_rows": 0})
    result = evaluate.run({"val": VAL, "test": TEST}, cfg, EVENTS)
    # test over .25: minutes 21 22 23 24 -> 2 of the last 2 rows first at 22, then 23, 24. The 21.5 event's
    # only window row (21) raises no alarm: missed. 23 warns of the 23.5 event; 22 and 24 are false.
    ew = result["thresholds"]["min_cost"]["test"]["early_warning"]
    assert (ew["events_caught"], ew["event_recall"], ew["lead_time_median"]) == (1, 0.5, 0.5)
    assert (ew["alarms"], ew["false_alarms"]) == (3, 2)
    assert result["alarm_policy"] == {"k": 2, "n": 2, "silence_rows": 0}


def test_evaluate_without_events_table_estimates_event_starts(small_config):
    # Rows one minute apart: a window row's event is estimated to start a minute later (the true start
    # is 0.5 later here), so lead times read 1 minute; counts are the same.
    cfg = small_config(**EVAL_OVERRIDES, label_shift__horizon=1)
    result = evaluate.run({"val": VAL, "test": TEST}, cfg)
    ew = result["thresholds"]["min_cost"]["test"]["early_warning"]
    assert (ew["events"], ew["events_caught"], ew["false_alarms"]) == (2, 2, 2)
    assert ew["lead_time_median"] == pytest.approx(1.0)


# Validation in time order: a flickering normal stretch (minutes 2-6 at .6) and a warning window (9, 10).
FLICKER_VAL = pd.DataFrame(
    {
        "time": minutes(*range(12)),
        "label": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0],
        "score": [0.1, 0.1, 0.6, 0.6, 0.6, 0.6, 0.6, 0.1, 0.1, 0.5, 0.2, 0.1],
    }
)
FLICKER_TEST = pd.DataFrame(
    {"time": minutes(*range(20, 26)), "label": [0, 0, 0, 1, 1, 0], "score": [0.7, 0.7, 0.1, 0.3, 0.1, 0.1]}
)
FLICKER_MATRIX = CostMatrix(tn=0.0, fp=15.0, fn=30.0, tp=0.0)


def test_cost_per_alarm_pricing_changes_the_chosen_threshold():
    # candidates .1 .15 .35 .55 >.6; FP rows 10 5 5 5 0, FN rows 0 0 1 2 2.
    # per row: 150, 75, 105, 135, 60 -> no alarm at all (the flicker's 5 rows cost 75).
    _, per_row = cost.run(FLICKER_VAL, FLICKER_TEST, FLICKER_MATRIX)
    assert per_row["best_threshold"] > 0.6
    assert per_row["val_cost"] == pytest.approx(60.0)
    assert per_row["false_alarm_pricing"] == "per_row"

    # per alarm, 1 of 1 rows and 3 rows silent: false alarms 3 2 2 2 0 (at .15: alarms 2, 6 and 10, the
    # last in the window) -> 45, 30, 60, 90, 60: the flicker is one operator alarm twice, and .15 wins.
    policy = AlarmPolicy(k=1, n=1, silence=3)
    table, m = cost.run(FLICKER_VAL, FLICKER_TEST, FLICKER_MATRIX, pricing="per_alarm", policy=policy)
    assert table["false_alarms"].tolist() == [3, 2, 2, 2, 0]
    assert table["cost"].tolist() == [45, 30, 60, 90, 60]
    assert m["best_threshold"] == pytest.approx(0.15)
    assert m["val_cost"] == pytest.approx(30.0)
    assert m["val_false_alarms"] == 2
    # test at .15: over at minutes 20, 21, 23 -> alarm at 20 silences 21-23: 1 false alarm, and the row
    # counts say TP 1 (23), FN 1 (24): 15 + 30 = 45 vs 60 without alarms.
    assert m["test_false_alarms"] == 1
    assert _counts(m["test_confusion"]) == (2, 2, 1, 1)
    assert m["test_cost"] == pytest.approx(45.0)
    assert m["test_no_alarm_cost"] == pytest.approx(60.0)
    assert m["test_savings"] == pytest.approx(15.0)
    assert m["alarm_policy"] == {"k": 1, "n": 1, "silence_rows": 3}
    assert m["candidates_subsampled"] is False


def test_cost_per_alarm_with_the_policy_off_is_per_row():
    _, per_row = cost.run(VAL, TEST, CostMatrix(tn=0.0, fp=5.0, fn=100.0, tp=5.0))
    _, per_alarm = cost.run(VAL, TEST, CostMatrix(tn=0.0, fp=5.0, fn=100.0, tp=5.0), pricing="per_alarm")
    for key in ("best_threshold", "val_cost", "test_cost", "test_savings"):
        assert per_alarm[key] == pytest.approx(per_row[key])


def test_evaluate_min_cost_follows_per_alarm_pricing(small_config):
    cost_section = {"tn": 0.0, "fp": 15.0, "fn": 30.0, "tp": 0.0}
    per_alarm = small_config(
        threshold={"strategies": ["min_cost"], "percentile": 95.0},
        cost={**cost_section, "false_alarm_pricing": "per_alarm"},
        alarm={"k": 1, "n": 1, "silence_rows": 3},
    )
    result = evaluate.run({"val": FLICKER_VAL, "test": FLICKER_TEST}, per_alarm)
    assert result["thresholds"]["min_cost"]["value"] == pytest.approx(0.15)  # as the cost stage chose
    per_row = small_config(
        threshold={"strategies": ["min_cost"], "percentile": 95.0},
        cost=cost_section,
        alarm={"k": 1, "n": 1, "silence_rows": 3},
    )
    assert evaluate.run({"val": FLICKER_VAL, "test": FLICKER_TEST}, per_row)["thresholds"]["min_cost"]["value"] > 0.6


def test_pipeline_writes_early_warning_and_timeline(pipeline_root):
    from rarewatch.tracking import metric_values

    p = Paths(pipeline_root)
    assert (p.eval_plots / "timeline.png").stat().st_size > 0
    m = json.loads(p.eval_metrics.read_text())
    n_events = len(pd.read_parquet(p.events))
    for name in ("percentile", "max_f1", "min_cost"):
        for s in ("val", "test"):
            ew = m["thresholds"][name][s]["early_warning"]
            assert 0 < ew["events"] < n_events
            assert ew["events_caught"] <= ew["events"]
            assert ew["lead_time_unit"] == "minutes"
            assert ew["false_alarms"] == m["thresholds"][name][s]["fp"]  # policy off: one alarm per FP row
    flat = metric_values(
        m,
        json.loads(p.cost_metrics.read_text()),
        json.loads(p.train_metrics.read_text()),
        json.loads(p.timings.read_text()),
    )
    for key in ("event_recall", "false_alarms_per_day", "alarms_per_event", "events"):
        assert f"test.min_cost.{key}" in flat
    assert not any(k.endswith(".early_warning") for k in flat)


def test_evaluate_has_no_early_warning_without_a_time_axis(small_config):
    # Rows without order (data.time_column=null) have no "before an event": row metrics only.
    cfg = small_config(**EVAL_OVERRIDES, data__time_column=None)
    result = evaluate.run({"val": VAL, "test": TEST}, cfg, EVENTS)
    for entry in result["thresholds"].values():
        for s in ("val", "test"):
            assert "early_warning" not in entry[s]
            assert {"tn", "fp", "fn", "tp"} <= set(entry[s])
