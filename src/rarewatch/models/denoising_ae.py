"""Denoising dense autoencoder: reconstructs clean rows from noisy ones; score = row MSE.

Same network and score as dense_ae; during training, Gaussian noise of standard deviation
`input_noise` (in units of the scaled features) is added to the input while the target stays the
clean row, so the net cannot learn the identity and must learn the normal correlation structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rarewatch.models import checks, dense_ae
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.dense_ae import DenseAEDetector

if TYPE_CHECKING:
    from torch import nn

    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config(dense_ae.Config):
    input_noise: float

    def __post_init__(self) -> None:
        super().__post_init__()
        checks.check(self, "input_noise", lambda v: v > 0, "> 0 (standard deviation of the noise; 0 is dense_ae)")
        checks.at_least(self, 0, "patience", "weight_decay")


class DenoisingAEDetector(DenseAEDetector):
    """A DenseAEDetector whose training adds noise to the input (scoring and saving are the same)."""

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.lit_autoencoder import ReconstructionModule

        c = self.config

        def module(net: nn.Module) -> ReconstructionModule:
            return ReconstructionModule(net, c.learning_rate, c.weight_decay, input_noise=c.input_noise)

        return self._fit_on_rows(train, val, module)


def build(config: Config, seed: int, trainer: TrainerConfig) -> DenoisingAEDetector:
    return DenoisingAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> DenoisingAEDetector:
    return DenoisingAEDetector.restore(directory, config, trainer)
