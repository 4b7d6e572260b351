"""Stage train: fit the feature pipeline and the model on training rows (protocol rule 2)."""

from __future__ import annotations

import json
import logging
import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet, write_json
from rarewatch.config import Config, to_dict
from rarewatch.data.features import FeaturePipeline
from rarewatch.data.schema import LABEL, TIME
from rarewatch.errors import DataError
from rarewatch.models.base import Detector, FitReport, Rows
from rarewatch.models.registry import family
from rarewatch.paths import Paths

log = logging.getLogger(__name__)


def fit_rows(df: pd.DataFrame, train_on: str, split: str) -> pd.DataFrame:
    """The rows the feature pipeline is fitted on: only normal rows for novelty detectors."""
    rows = df[df[LABEL] == 0] if train_on == "normal" else df
    if len(rows) == 0:
        raise DataError(f"split '{split}' has no normal rows to train on; check data.positive_label")
    return rows


def to_rows(df: pd.DataFrame, features: FeaturePipeline) -> Rows:
    return Rows(x=features.transform(df), y=df[LABEL].to_numpy(), time=df[TIME].to_numpy())


def run(train: pd.DataFrame, val: pd.DataFrame, cfg: Config) -> tuple[FeaturePipeline, Detector, FitReport]:
    fam = family(cfg.model.name)
    fit_rows(val, cfg.model.train_on, "val")  # only for its error: early stopping needs such val rows
    features = FeaturePipeline(
        cfg.data.categorical_columns,
        impute=cfg.preprocess.nan_policy == "impute",
        max_missing_fraction=cfg.preprocess.max_missing_fraction,
    )
    features.fit(fit_rows(train, cfg.model.train_on, "train"))
    detector = fam.build(cfg.model, cfg.seed, cfg.trainer)
    # Whole splits in time order: sequence models need the neighbours of each row, and each family
    # picks its own training rows (or windows) by `train_on`.
    report = detector.fit(to_rows(train, features), to_rows(val, features))
    return features, detector, report


def save(directory: Path, features: FeaturePipeline, detector: Detector, cfg: Config, report: FitReport) -> None:
    with (directory / "features.pkl").open("wb") as f:
        pickle.dump(features, f)
    detector.save(directory)
    card = {
        "model": cfg.model.name,
        "dataset": cfg.data.name,
        "seed": cfg.seed,
        "model_config": to_dict(cfg.model),
        "inputs": features.columns,
        "dropped_mostly_missing": features.dropped_missing,
        "encoded_features": features.output_names,
        "trained_on": f"{cfg.model.train_on} rows of the training split",
        "scaler_fitted_on": f"{cfg.model.train_on} rows of the training split",
        "score": "higher = more anomalous",
        "fit": {k: v for k, v in asdict(report).items() if k != "history"},
    }
    (directory / "card.json").write_text(json.dumps(card, indent=2, default=str))


def load(directory: Path, cfg: Config) -> tuple[FeaturePipeline, Detector]:
    if not (directory / "card.json").is_file():
        raise FileNotFoundError(f"no trained model in '{directory}'; run the 'train' stage first (dvc repro train)")
    card = json.loads((directory / "card.json").read_text())
    if card["model"] != cfg.model.name:
        raise DataError(
            f"'{directory}' holds a '{card['model']}' model but the config says model={cfg.model.name}; "
            "rerun the 'train' stage (dvc repro)"
        )
    with (directory / "features.pkl").open("rb") as f:
        features = pickle.load(f)
    return features, family(cfg.model.name).load(directory, cfg.model, cfg.trainer)


def train_metrics(report: FitReport) -> dict[str, Any]:
    last = report.history[-1] if report.history else {}
    return {
        "train_seconds": report.seconds,
        "epochs": report.epochs,
        "samples_per_second": report.samples_per_second,
        "train_rows": report.train_rows,
        "final_train_loss": last.get("train_loss"),
        "final_val_loss": last.get("val_loss"),
        **report.extra,
        "history": report.history,
    }


def execute(cfg: Config, paths: Paths) -> None:
    train = read_parquet(paths.split("train"), "split")
    val = read_parquet(paths.split("val"), "split")
    features, detector, report = run(train, val, cfg)
    with atomic_dir(paths.model_dir) as tmp:
        save(tmp, features, detector, cfg, report)
    write_json(train_metrics(report), paths.train_metrics)
    speed = f", {report.samples_per_second:,.0f} samples/s" if report.samples_per_second else ""
    log.info(
        "%s trained on %d rows in %.1f s (%d epochs%s)",
        cfg.model.name,
        report.train_rows,
        report.seconds,
        report.epochs,
        speed,
    )


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("train", execute, argv)


if __name__ == "__main__":
    main()
