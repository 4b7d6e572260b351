"""Shared fixtures: a small, fast configuration built from the project's params.yaml.

`small_config(**overrides)` returns a checked `rarewatch.config.Config`; `small_params(**overrides)`
the plain dict behind it; `write_params(params)` writes such a dict as YAML into the test's tmp_path.
`splits_of(cfg)` runs ingest .. split in memory on cfg's synthetic data; `small_splits` is that for
the small config.

Overrides:
- `section__key=value` sets one nested value (`preprocess__nan_policy="refuse"`,
  `data__synthetic__n_rows=500`);
- `section=value` replaces a whole section (`cost={"tn": 0, "fp": 1, "fn": 10, "tp": 1}`);
- `model="isolation_forest"` (a string) picks one of the small model presets below.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from rarewatch.config import Config, config_from_dict
from rarewatch.data import synthetic
from rarewatch.stages import ingest, label_shift, preprocess, split

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"

# Small enough for a whole pipeline in seconds, large enough that every split has positives:
# ~0.02 * 3000 = 60 event rows, so roughly 30 events and 60 early-warning rows at horizon 2.
SMALL_SYNTHETIC: dict[str, Any] = {
    "n_rows": 3000,
    "n_channels": 8,
    "n_latent": 2,
    "precursor_channels": 3,
    "event_rate": 0.02,  # allowed: < mean event length / min spacing = 2 / 23 = 0.087
    "grade_block_rows": 500,
    "seed": 7,
}

SMALL_MODELS: dict[str, dict[str, Any]] = {
    "dense_ae": {
        "name": "dense_ae",
        "train_on": "normal",
        "hidden_dims": [8, 4, 8],
        "activation": "relu",
        "dropout": 0.0,
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "batch_size": 256,
        "max_epochs": 2,
        "patience": 5,
    },
    "isolation_forest": {
        "name": "isolation_forest",
        "train_on": "normal",
        "n_estimators": 25,
        "max_samples": 128,
        "max_features": 1.0,
    },
    "lstm_ae": {
        "name": "lstm_ae",
        "train_on": "normal",
        "lookback": 5,
        "stride": 1,
        "max_gap": 1.5,
        "hidden_size": 8,
        "num_layers": 1,
        "dropout": 0.0,
        "score_on": "last",
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "batch_size": 128,
        "max_epochs": 5,
        "patience": 3,
    },
    "lstm_classifier": {
        "name": "lstm_classifier",
        "train_on": "all",
        "lookback": 5,
        "stride": 1,
        "max_gap": 1.5,
        "hidden_size": 8,
        "num_layers": 1,
        "dropout": 0.0,
        "class_weight": [1.0, 4.0],
        "balanced": False,
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "batch_size": 128,
        "max_epochs": 10,
        "patience": 5,
    },
    "denoising_ae": {
        "name": "denoising_ae",
        "train_on": "normal",
        "hidden_dims": [16, 8, 16],
        "activation": "relu",
        "dropout": 0.0,
        "input_noise": 0.3,
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "batch_size": 256,
        "max_epochs": 5,
        "patience": 3,
    },
    "vae": {
        "name": "vae",
        "train_on": "normal",
        "hidden_dims": [8],
        "latent_dim": 2,
        "activation": "relu",
        "beta": 0.1,
        "score": "elbo",
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "batch_size": 256,
        "max_epochs": 10,
        "patience": 3,
    },
}


def _base_params() -> dict[str, Any]:
    params = yaml.safe_load(PROJECT_PARAMS.read_text())
    params["data"]["synthetic"].update(SMALL_SYNTHETIC)
    params["model"] = copy.deepcopy(SMALL_MODELS["dense_ae"])
    params["trainer"].update({"accelerator": "cpu", "devices": 1, "progress_bar": False, "deterministic": True})
    params["tracking"]["uri"] = None
    # Pinned so tuning params.yaml cannot silently change what the pipeline tests see.
    params["threshold"]["strategies"] = ["percentile", "max_f1", "min_cost"]
    params["label_shift"]["horizon"] = 2
    params["split"].update({"method": "time", "train_fraction": 0.6, "val_fraction": 0.2, "gap_rows": 10})
    params["alarm"] = {"k": 1, "n": 1, "silence_rows": 0}
    params["cost"]["false_alarm_pricing"] = "per_row"
    return params


def make_params(**overrides: Any) -> dict[str, Any]:
    params = _base_params()
    for key, value in overrides.items():
        if key == "model" and isinstance(value, str):
            value = SMALL_MODELS[value]
        *parents, leaf = key.split("__")
        node = params
        for part in parents:
            node = node[part]
        node[leaf] = copy.deepcopy(value)
    if isinstance(params["cost"], dict):
        # a whole cost section written as the four matrix entries keeps the default pricing
        params["cost"].setdefault("false_alarm_pricing", "per_row")
    return params


@pytest.fixture(scope="session")
def small_params() -> Callable[..., dict[str, Any]]:
    return make_params


@pytest.fixture(scope="session")
def small_config() -> Callable[..., Config]:
    def factory(**overrides: Any) -> Config:
        return config_from_dict(make_params(**overrides), source="small_config")

    return factory


@pytest.fixture
def write_params(tmp_path: Path) -> Callable[..., Path]:
    """Write a params dict (default: the small one) as YAML; returns the file's path."""

    def writer(params: dict[str, Any] | None = None, path: Path | None = None) -> Path:
        target = path or tmp_path / "params.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(params if params is not None else make_params(), sort_keys=False))
        return target

    return writer


def csv_data_section(**overrides: Any) -> dict[str, Any]:
    """A `data` section for a local CSV file (relative paths resolve against the stage's --root)."""
    section: dict[str, Any] = {
        "name": "plant",
        "source": "file",
        "path": "source.csv",
        "url": None,
        "sha256": None,
        "format": "auto",
        "companion_path": None,
        "test_path": None,
        "time_column": "time",
        "time_format": None,
        "label_column": "y",
        "positive_label": "1",
        "negative_label": None,
        "group_column": None,
        "drop_columns": [],
        "categorical_columns": [],
        "synthetic": None,
    }
    section.update(overrides)
    return section


@pytest.fixture(scope="session")
def csv_data() -> Callable[..., dict[str, Any]]:
    return csv_data_section


def _splits_of(cfg: Config) -> dict[str, pd.DataFrame]:
    df, _ = ingest.run(synthetic.generate(cfg.data.synthetic), cfg.data)
    df, _ = preprocess.run(df, cfg)
    df, _ = label_shift.run(df, cfg.label_shift.horizon)
    return split.run(df, cfg)


@pytest.fixture(scope="session")
def splits_of() -> Callable[[Config], dict[str, pd.DataFrame]]:
    """ingest -> preprocess -> label_shift -> split in memory, for a config with synthetic data."""
    return _splits_of


@pytest.fixture(scope="session")
def small_splits(small_config) -> dict[str, pd.DataFrame]:
    return _splits_of(small_config())
