"""Stage train: fit the encoder and the model on training rows (docs/protocol.md, "Fit on training rows").

models/ holds everything needed to score new rows, all in formats that load without running code:
model.json (family, seed and the model config it was trained with), the family's state (weights.pt +
net.json, or estimator.skops), encoder.json (imputer, scaler, one-hot) and card.json (what it is).
Nothing in models/ depends on the clock, so the same config gives the same files; wall-clock figures
go to metrics/timings.json.

The stage records into an MLflow run (rarewatch.recording): the curves stream into it during the fit,
and metrics/training_run.json, beside the outputs, points to it for the track stage.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet, write_json
from rarewatch.config import Config, FamilyConfig
from rarewatch.data.encoding import Encoder
from rarewatch.data.schema import LABEL
from rarewatch.errors import DataError
from rarewatch.models.base import Detector, FitReport
from rarewatch.models.encoded import load, to_rows  # noqa: F401 (load: kept importable from the stage)
from rarewatch.models.registry import family, resolve_model
from rarewatch.paths import Paths
from rarewatch.recording import record_trained_model, stage_run, streaming_curves

log = logging.getLogger("rarewatch.train")
CARD_FILE = "card.json"


def fit_rows(df: pd.DataFrame, train_on: str, split: str) -> pd.DataFrame:
    """The rows the encoder is fitted on: only normal rows for novelty detectors."""
    rows = df[df[LABEL] == 0] if train_on == "normal" else df
    if len(rows) == 0:
        raise DataError(f"split '{split}' has no normal rows to train on; check data.positive_label")
    return rows


def run(
    train: pd.DataFrame, val: pd.DataFrame, cfg: Config, model: FamilyConfig
) -> tuple[Encoder, Detector, FitReport]:
    # Checked for its error only: early stopping needs such validation rows.
    fit_rows(val, model.train_on, "val")
    encoder = Encoder(
        cfg.data.categorical_columns,
        impute=cfg.preprocess.nan_policy == "impute",
        max_missing_fraction=cfg.preprocess.max_missing_fraction,
        per_series=cfg.preprocess.scaling == "per_series",
        nonfinite=cfg.preprocess.nonfinite,
    )
    encoder.fit(fit_rows(train, model.train_on, "train"))
    detector = family(model.name).build(model, cfg.seed, cfg.trainer)
    # Whole splits in time order: sequence models need the neighbours of each row, and each family
    # picks its own training rows (or windows) by `train_on`.
    gap = cfg.data.max_gap
    report = detector.fit(to_rows(train, encoder, gap), to_rows(val, encoder, gap))
    return encoder, detector, report


def card(encoder: Encoder, detector: Detector, report: FitReport) -> dict[str, Any]:
    """What the model is, for people (model.json is what loads it)."""
    return {
        "model": detector.name,
        "seed": detector.seed,
        "inputs": encoder.columns,
        "dropped_mostly_missing": encoder.dropped_missing,
        "encoded_features": encoder.output_names,
        "trained_on": f"{detector.config.train_on} rows of the training split",
        "encoder_fitted_on": f"{detector.config.train_on} rows of the training split",
        "score": "higher = more anomalous",
        "fit": {"train_rows": report.train_rows, "val_rows": report.val_rows, "epochs": report.epochs, **report.extra},
    }


def save(directory: Path, encoder: Encoder, detector: Detector, report: FitReport) -> None:
    encoder.save(directory)
    detector.save(directory)
    (directory / CARD_FILE).write_text(json.dumps(card(encoder, detector, report), indent=2, default=str) + "\n")


def train_metrics(report: FitReport) -> dict[str, Any]:
    """Deterministic figures of the fit (the same config gives the same file)."""
    last = report.history[-1] if report.history else {}
    return {
        "epochs": report.epochs,
        "train_rows": report.train_rows,
        "final_train_loss": last.get("train_loss"),
        "final_val_loss": last.get("val_loss"),
        **report.extra,
        "history": report.history,
    }


def timings(report: FitReport) -> dict[str, Any]:
    return {"train_seconds": report.seconds, "samples_per_second": report.samples_per_second}


def inputs(cfg: Config, paths: Paths) -> tuple[FamilyConfig, pd.DataFrame, pd.DataFrame]:
    """The checked model config and the train and val splits: every input error before anything starts."""
    return (
        resolve_model(cfg.model),
        read_parquet(paths.split("train"), "split"),
        read_parquet(paths.split("val"), "split"),
    )


def execute(cfg: Config, paths: Paths) -> None:
    """Train and write models/ and the metrics; the curves stream into the MLflow run given with
    rarewatch.recording.recording_into (a sweep job's, or the one `execute_recorded` opens), if any."""
    _train(cfg, paths, *inputs(cfg, paths))


def _train(cfg: Config, paths: Paths, model: FamilyConfig, train: pd.DataFrame, val: pd.DataFrame) -> None:
    with streaming_curves() as mlflow_run:
        encoder, detector, report = run(train, val, cfg, model)
        with atomic_dir(paths.model_dir) as tmp:
            save(tmp, encoder, detector, report)
        write_json(train_metrics(report), paths.train_metrics)
        write_json(timings(report), paths.timings)
        if mlflow_run is not None:
            record_trained_model(mlflow_run, paths)
    speed = f", {report.samples_per_second:,.0f} samples/s" if report.samples_per_second else ""
    recorded = f"; MLflow run {mlflow_run.run_id}" if mlflow_run is not None else ""
    log.info(
        "%s trained on %d rows in %.1f s (%d epochs%s)%s",
        model.name,
        report.train_rows,
        report.seconds,
        report.epochs,
        speed,
        recorded,
    )


def execute_recorded(cfg: Config, paths: Paths) -> None:
    """`execute` in an MLflow run of its own, which the track stage completes (`dvc repro`). Bad input
    stops the stage before the run is opened."""
    checked = inputs(cfg, paths)
    with stage_run(cfg, paths):
        _train(cfg, paths, *checked)


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("train", execute_recorded, argv)


if __name__ == "__main__":
    main()
