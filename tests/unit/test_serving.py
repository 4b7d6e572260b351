"""The served model's pure parts: input checks, memory, the smoother it applies; and registration by
validation cost (rarewatch.serving)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rarewatch.errors import ConfigError, DataError
from rarewatch.evaluation.early_warning import AlarmPolicy
from rarewatch.evaluation.smoothing import Smoother
from rarewatch.serving import bundle, inputs

SPEC = {
    "time_column": "when",
    "time_kind": "datetime",
    "time_format": None,
    "series_column": None,
    "numeric_columns": ["a", "b"],
    "categorical_columns": ["grade"],
    "input_columns": ["grade", "a", "b"],
}


def rows(**columns) -> pd.DataFrame:
    base = {
        "when": ["2024-01-01 00:00", "2024-01-01 00:02", "2024-01-01 00:04"],
        "grade": ["A", "B ", "A"],
        "a": [1.0, 2.0, 3.0],
        "b": ["4", "", "6.5"],
        "y": [0, 1, 0],  # the label: ignored
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_canonical_frame_from_raw_rows():
    frame, order = inputs.canonical(rows(), SPEC)
    assert list(frame.columns) == ["time", "label", "grade", "a", "b"]
    assert frame["grade"].tolist() == ["A", "B", "A"]  # stripped, as ingest reads categories
    assert frame["b"].tolist()[0] == 4.0 and np.isnan(frame["b"].iloc[1]) and frame["b"].iloc[2] == 6.5
    assert frame["time"].iloc[1] == pd.Timestamp("2024-01-01 00:02")
    assert order.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (rows().drop(columns=["b"]), "input has no column 'b' (a sensor the model was trained on)"),
        (rows().drop(columns=["when"]), "input has no column 'when' (the time column)"),
        (rows().drop(columns=["grade"]), "input has no column 'grade' (a categorical column"),
        (rows(a=["1", "x", "3"]), "column 'a' must hold numbers (a sensor the model was trained on); got 'x' at row 1"),
        (
            rows(when=["2024-01-01 00:00", "2024-01-01 00:04", "2024-01-01 00:02"]),
            "time column 'when' is not in order: row 2",
        ),
        (rows(when=[1, 2, 3]), "time column 'when' must hold timestamps"),
        (rows(when=["2024-01-01", "later", "2024-01-03"]), "time column 'when' has 1 values that are not timestamps"),
    ],
    ids=["sensor", "time", "category", "type", "order", "numbers-for-times", "not-a-time"],
)
def test_bad_input_is_refused_naming_the_column(raw, message):
    with pytest.raises(DataError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        inputs.canonical(raw, SPEC)


def test_series_are_ordered_each_on_its_own_and_outputs_return_in_input_order():
    spec = {**SPEC, "series_column": "machine"}
    raw = rows(
        when=["2024-01-01 00:04", "2024-01-01 00:00", "2024-01-01 00:05"], machine=["m2", "m1", "m2"]
    )  # interleaved series, each in time order
    frame, order = inputs.canonical(raw, spec)
    assert frame["series"].tolist() == ["m1", "m2", "m2"]
    assert frame.iloc[order]["series"].tolist() == ["m2", "m1", "m2"]  # back in input order
    with pytest.raises(DataError, match="row 2 of series 'm2'"):
        inputs.canonical(raw.assign(when=["2024-01-01 00:04", "2024-01-01 00:00", "2024-01-01 00:03"]), spec)


def test_memory_rows_adds_up_every_lookback(small_config):
    # ewma of span 5: alpha = 1/3, (2/3)^k < 0.001 from k = ceil(ln 0.001 / ln(2/3)) = ceil(17.04) = 18.
    assert bundle.ewma_rows(5) == 18
    assert bundle.ewma_rows(1) == 0
    cfg = small_config(
        model="lstm_classifier",
        features__name="rolling",
        features__windows=[5, 15],
        features__stats=["mean"],
        features__lags=[20],
    )
    # features: max(15 - 1, lag 20) = 20; lookback 5 -> 4; max5 -> 4; 2-of-3 -> 2; silence 3 -> 3.
    assert bundle.memory_rows(cfg, Smoother("max", window=5), AlarmPolicy(2, 3, 3)) == 20 + 4 + 4 + 2 + 3


def test_applied_smoother_is_the_one_evaluate_chose():
    assert bundle.applied_smoother("max5", "auto", 3, 5) == Smoother("max", window=5)
    assert bundle.applied_smoother("ewma7", "ewma", 3, 7) == Smoother("ewma", window=3, span=7)
    assert bundle.applied_smoother("none", "none", 3, 5).method == "none"
    with pytest.raises(DataError, match="smoothing 'median9'"):
        bundle.applied_smoother("median9", "auto", 3, 5)


@pytest.mark.slow
def test_register_picks_the_lowest_validation_cost_never_test(tmp_path):
    from mlflow import MlflowClient

    from rarewatch.serving import register
    from rarewatch.tracking import ensure_store

    uri = f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    experiment_id = ensure_store(uri, "plant", tmp_path)
    client = MlflowClient(uri, registry_uri=uri)

    def run(name: str, val_cost: float, test_cost: float, model: bool = True, status: str = "FINISHED") -> str:
        run_id = client.create_run(experiment_id, run_name=name).info.run_id
        client.log_metric(run_id, "cost.val_cost", val_cost)
        client.log_metric(run_id, "cost.test_cost", test_cost)
        if model:
            logged = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
            client.finalize_logged_model(logged.model_id, "READY")
        client.set_terminated(run_id, status)
        return run_id

    run("a", val_cost=30, test_cost=1)  # best on test: must not win
    best = run("b", val_cost=10, test_cost=50)
    run("c", val_cost=20, test_cost=5)
    run("no-model", val_cost=5, test_cost=5, model=False)
    run("failed", val_cost=1, test_cost=1, status="FAILED")

    choice = register.best_run(client, "plant")
    assert (choice.run_id, choice.val_cost) == (best, 10)
    version = register.register(uri, choice, "plant-detector")
    champion = client.get_model_version_by_alias("plant-detector", "champion")
    assert str(champion.version) == version == "1" and champion.run_id == best
    with pytest.raises(ConfigError, match="no MLflow experiment 'nope'"):
        register.best_run(client, "nope")
