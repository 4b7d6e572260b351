"""Supervised LSTM classifier: a window's label is the label of its last row; score = P(positive).

Unlike the autoencoders it learns from the labelled positives, so it needs positive windows in
the training split (with label_shift.horizon > 0 these are the early-warning rows). The class
imbalance is handled by the weight of the positive class in the loss: `class_weight: [w0, w1]`
gives pos_weight w1 / w0 (as in the source notebook), `balanced: true` gives the training ratio
n_normal / n_positive, and neither gives 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from rarewatch.errors import ConfigError, DataError
from rarewatch.models.base import Rows
from rarewatch.models.sequence import SequenceConfig, SequenceDetector

if TYPE_CHECKING:
    from torch import nn

    from rarewatch.models.lightning_modules import SharedStepModule


class Config(SequenceConfig):
    train_on: Literal["all"]  # supervised: normal and positive windows alike
    # [normal, positive] loss weights; null with balanced: true, or for no weighting.
    class_weight: list[float] | None = Field(min_length=2, max_length=2)
    balanced: bool  # weigh positives by n_normal / n_positive of the training windows

    @model_validator(mode="after")
    def _one_weighting(self) -> Config:
        if self.class_weight is not None:
            if min(self.class_weight) <= 0:
                raise ConfigError(f"model.class_weight={self.class_weight} needs two weights > 0: [normal, positive]")
            if self.balanced:
                raise ConfigError(
                    f"model.class_weight={self.class_weight} and model.balanced=true contradict each other; "
                    "set model.class_weight=null to weigh by the training class ratio, or model.balanced=false"
                )
        return self


def pos_weight(config: Config, y: np.ndarray) -> float:
    """The loss weight of positive windows relative to normal ones."""
    if config.balanced:
        return float((y == 0).sum()) / float((y == 1).sum())
    if config.class_weight is not None:
        return config.class_weight[1] / config.class_weight[0]
    return 1.0


class LSTMClassifierDetector(SequenceDetector):
    name = "lstm_classifier"
    config_class = Config
    supervised = True

    def _make_net(self, n_features: int) -> nn.Module:
        from rarewatch.models.nets import LSTMClassifier

        c = self.config
        return LSTMClassifier(n_features, c.hidden_size, c.num_layers, c.dropout)

    def _check_windows(self, train_y: np.ndarray, val_y: np.ndarray) -> None:
        if not (train_y == 1).any():
            raise DataError(
                f"lstm_classifier is supervised but none of the {len(train_y)} training windows (model.stride="
                f"{self.config.stride}, each labelled by its last row) is positive; it needs labelled events in "
                "the training split (check data.positive_label, label_shift.horizon, model.stride) or use a "
                "novelty model such as model=lstm_ae"
            )

    def _module(self, net: nn.Module, train_y: np.ndarray) -> SharedStepModule:
        from rarewatch.models.lightning_modules import ClassifierModule

        c = self.config
        return ClassifierModule(net, c.learning_rate, c.weight_decay, pos_weight(c, train_y))

    def _fit_extra(self, train_y: np.ndarray) -> dict[str, Any]:
        return {"pos_weight": pos_weight(self.config, train_y), "positive_windows": int(train_y.sum())}

    def score(self, rows: Rows) -> np.ndarray:
        import torch

        net = self._trained_net()

        def probability(w: torch.Tensor) -> torch.Tensor:
            # float64: a float32 sigmoid saturates at 1.0 for logits above ~17 and ties the top scores.
            return torch.sigmoid(net(w).double())

        return self._score_windows(probability, rows)


FAMILY = LSTMClassifierDetector
