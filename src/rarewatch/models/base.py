"""The contract every model family implements, and the data it works on.

A family is a `Detector` subclass in `rarewatch/models/families/<name>.py` with its own config class
(`rarewatch.config.FamilyConfig`). It must provide:

- build:  `Family.build(config, seed, trainer)`, an unfitted detector;
- fit:    `fit(train, val) -> FitReport` on whole splits in time order (each family picks its own
          training rows by `config.train_on`; validation is for early stopping only);
- score:  `score(rows) -> np.ndarray`, one finite score per row, higher = more anomalous;
- save:   `save(directory)`: its config and seed (model.json) and its fitted state, in formats that
          load without running code (JSON, skops with a list of trusted types, torch weights only);
- load:   `Family.load(directory, trainer)`: rebuilt from its own saved config, never from whatever
          the current params say.

Two bases carry the shared machinery: `SklearnDetector` (an estimator saved with skops) and
`TorchDetector` (a torch net trained by the shared lean loop (rarewatch.models.training)); sequence families extend
`SequenceDetector`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from rarewatch.config import FamilyConfig, TrainerConfig, validated
from rarewatch.errors import DataError

MODEL_FILE = "model.json"


@dataclass(frozen=True)
class Rows:
    """One split, sorted by series then time: encoded features, 0/1 labels, timestamps and segments.

    Row-wise models use `x` (and `y` to pick normal rows); sequence models cut their windows inside
    `segment`s: stretches of one series without a gap in the time axis (rarewatch.data.windows.segments),
    so no window joins two series or the two sides of a dropped event or an outage.
    """

    x: np.ndarray
    y: np.ndarray
    time: np.ndarray
    segment: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.x) == len(self.y) == len(self.time) == len(self.segment)):
            raise ValueError(
                f"x, y, time and segment differ in length: {len(self.x)}, {len(self.y)}, {len(self.time)}, "
                f"{len(self.segment)}"
            )

    def __len__(self) -> int:
        return len(self.y)

    def normal_x(self) -> np.ndarray:
        return self.x[self.y == 0]

    def fit_x(self, train_on: str) -> np.ndarray:
        """The rows a row-wise model learns from: the normal ones, or all of them."""
        return self.normal_x() if train_on == "normal" else self.x


@dataclass
class FitReport:
    """What training did, for the model card and MLflow (per-epoch history for deep models).

    `seconds` and `samples_per_second` are wall-clock figures: they go to metrics/timings.json, never
    into the model directory, so that retraining the same model gives the same files.
    """

    train_rows: int
    val_rows: int
    seconds: float = 0.0
    epochs: int = 0
    samples_per_second: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Detector(ABC):
    """Higher score = more anomalous. See the module docstring for the contract."""

    name: ClassVar[str]
    config_class: ClassVar[type[FamilyConfig]]

    def __init__(self, config: Any, seed: int, trainer: TrainerConfig) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self.seed = seed
        self.trainer_config = trainer

    @classmethod
    def build(cls, config: Any, seed: int, trainer: TrainerConfig) -> Self:
        return cls(config, seed, trainer)

    @abstractmethod
    def fit(self, train: Rows, val: Rows) -> FitReport: ...

    @abstractmethod
    def score(self, rows: Rows) -> np.ndarray: ...

    def contributions(self, rows: Rows) -> np.ndarray:
        """(n_rows, n_features): how much each encoded feature adds to each row's score.

        By default the deviation from training in training standard deviations: the encoder standardises
        every feature on training rows, so |x| is that deviation. Reconstruction families override it
        with their per-feature reconstruction error.
        """
        return np.abs(rows.x)

    @abstractmethod
    def _save_state(self, directory: Path) -> None:
        """Write the fitted state into `directory` (safe formats only)."""

    @abstractmethod
    def _load_state(self, directory: Path) -> None:
        """Read what `_save_state` wrote."""

    def save(self, directory: Path) -> None:
        spec = {"family": self.name, "seed": self.seed, "config": self.config.model_dump(mode="json")}
        (directory / MODEL_FILE).write_text(json.dumps(spec, indent=2) + "\n")
        self._save_state(directory)

    @classmethod
    def load(cls, directory: Path, trainer: TrainerConfig) -> Self:
        spec = read_model_spec(directory)
        if spec["family"] != cls.name:
            raise DataError(f"'{directory}' holds a '{spec['family']}' model, not '{cls.name}'")
        config = validated(cls.config_class, spec["config"], prefix=f"{directory / MODEL_FILE}: model.")
        detector = cls(config, int(spec["seed"]), trainer)
        detector._load_state(directory)
        return detector


def read_model_spec(directory: Path) -> dict[str, Any]:
    """model.json of a saved detector: {"family", "seed", "config"}."""
    path = directory / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no trained model in '{directory}' ({MODEL_FILE} missing); run the 'train' stage")
    spec = json.loads(path.read_text())
    if not isinstance(spec, dict) or not {"family", "seed", "config"} <= set(spec):
        raise DataError(f"'{path}' is not a rarewatch model file (needs family, seed and config)")
    return spec
