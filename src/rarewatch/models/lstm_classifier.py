"""Supervised LSTM classifier: a window's label is the label of its last row; score = P(positive).

Unlike the autoencoders it learns from the labelled positives, so it needs positive windows in
the training split (with label_shift.horizon > 0 these are the early-warning rows). The class
imbalance is handled by the weight of the positive class in the loss: `class_weight: [w0, w1]`
gives pos_weight w1 / w0 (as in the source notebook), `balanced: true` gives the training ratio
n_normal / n_positive, and neither gives 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.errors import ConfigError, DataError
from rarewatch.models import checks, sequence
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config(sequence.SequenceConfig):
    train_on: Literal["all"]  # supervised: normal and positive windows alike
    class_weight: list[float] | None  # [normal, positive]; null with balanced: true, or for no weighting
    balanced: bool  # weigh positives by n_normal / n_positive of the training windows

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.class_weight is not None:
            checks.check(
                self,
                "class_weight",
                lambda v: len(v) == 2 and min(v) > 0,
                "null, or two weights > 0: [normal, positive]",
            )
            if self.balanced:
                raise ConfigError(
                    f"model.class_weight={self.class_weight} and model.balanced=true contradict each other; "
                    "set model.class_weight=null to weigh by the training class ratio, or model.balanced=false"
                )


def pos_weight(config: Config, y: np.ndarray) -> float:
    """The loss weight of positive windows relative to normal ones."""
    if config.balanced:
        return float((y == 0).sum()) / float((y == 1).sum())
    if config.class_weight is not None:
        return config.class_weight[1] / config.class_weight[0]
    return 1.0


class LSTMClassifierDetector(TorchDetector):
    def _make_net(self, n_features: int):  # noqa: ANN202 - torch type imported lazily
        from rarewatch.models.nets import LSTMClassifier

        c = self.config
        return LSTMClassifier(n_features, c.hidden_size, c.num_layers, c.dropout)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        import torch

        from rarewatch.models.batches import batch_loader
        from rarewatch.models.lit_classifier import ClassifierModule
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        index_train = sequence.chosen_windows(train, c, normal_only=False, stride=c.stride)
        index_val = sequence.chosen_windows(val, c, normal_only=False, stride=1)
        y_train, y_val = train.y[index_train[:, -1]], val.y[index_val[:, -1]]
        if not (y_train == 1).any():
            raise DataError(
                f"lstm_classifier is supervised but none of the {len(y_train)} training windows (model.stride="
                f"{c.stride}, each labelled by its last row) is positive; it needs "
                "labelled events in the training split (check data.positive_label, label_shift.horizon, "
                "model.stride) or use a novelty model such as model=lstm_ae"
            )
        if len(y_val) == 0:
            raise DataError("the val split has no rows to validate the lstm_classifier on")
        weight = pos_weight(c, y_train)
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._new_net(train.x.shape[1])
        module = ClassifierModule(self.net, c.learning_rate, c.weight_decay, weight)
        labels = {k: torch.from_numpy(y.astype(np.float32)) for k, y in (("train", y_train), ("val", y_val))}
        report = fit_module(
            module,
            batch_loader(
                sequence.gather(train.x, index_train),
                labels["train"],
                batch_size=c.batch_size,
                shuffle=True,
                seed=self.seed,
            ),
            batch_loader(
                sequence.gather(val.x, index_val), labels["val"], batch_size=4096, shuffle=False, seed=self.seed
            ),
            max_epochs=c.max_epochs,
            patience=c.patience,
            trainer=self.trainer_config,
            train_samples=len(y_train),
            val_samples=len(y_val),
        )
        report.extra.update(
            {
                "unit": f"windows of {c.lookback} rows",
                "pos_weight": weight,
                "positive_windows": int(y_train.sum()),
                "val_loss": "1 - ROC-AUC of the validation windows (weighted BCE: val_bce_loss)",
            }
        )
        return report

    def score(self, rows: Rows) -> np.ndarray:
        import torch

        net = self._trained_net()

        def probability(w: torch.Tensor) -> torch.Tensor:
            # float64: a float32 sigmoid saturates at 1.0 for logits above ~17 and ties the top scores.
            return torch.sigmoid(net(w).double())

        return sequence.score_rows(probability, rows, self.config.lookback, self.config.max_gap)


def build(config: Config, seed: int, trainer: TrainerConfig) -> LSTMClassifierDetector:
    return LSTMClassifierDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> LSTMClassifierDetector:
    return LSTMClassifierDetector.restore(directory, config, trainer)
