"""Denoising dense autoencoder: reconstructs clean rows from noisy ones; score = row MSE.

Same network and score as dense_ae; during training, Gaussian noise of standard deviation
`input_noise` (in units of the scaled features) is added to the input while the target stays the
clean row, so the net cannot learn the identity and must learn the normal correlation structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rarewatch.models import checks
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.dense_ae import DenseAEDetector

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["normal", "all"]
    hidden_dims: list[int]
    activation: Literal["relu", "tanh", "elu", "gelu"]
    dropout: float
    input_noise: float
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int

    def __post_init__(self) -> None:
        checks.hidden_dims(self)
        checks.dropout(self)
        checks.check(self, "input_noise", lambda v: v > 0, "> 0 (standard deviation of the noise; 0 is dense_ae)")
        checks.positive(self, "learning_rate")
        checks.at_least(self, 1, "batch_size", "max_epochs")
        checks.at_least(self, 0, "patience", "weight_decay")


class DenoisingAEDetector(DenseAEDetector):
    """A DenseAEDetector whose training adds noise to the input (scoring and saving are the same)."""

    def fit(self, train: Rows, val: Rows) -> FitReport:
        import torch

        from rarewatch.models.batches import batch_loader
        from rarewatch.models.lit_autoencoder import ReconstructionModule
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        x_train, x_val = (r.normal_x() if c.train_on == "normal" else r.x for r in (train, val))
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._make_net(x_train.shape[1])
        module = ReconstructionModule(self.net, c.learning_rate, c.weight_decay, input_noise=c.input_noise)
        return fit_module(
            module,
            batch_loader(torch.from_numpy(x_train), batch_size=c.batch_size, shuffle=True, seed=self.seed),
            batch_loader(torch.from_numpy(x_val), batch_size=8192, shuffle=False, seed=self.seed),
            max_epochs=c.max_epochs,
            patience=c.patience,
            trainer=self.trainer_config,
            train_samples=len(x_train),
            val_samples=len(x_val),
        )


def build(config: Config, seed: int, trainer: TrainerConfig) -> DenoisingAEDetector:
    return DenoisingAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> DenoisingAEDetector:
    return DenoisingAEDetector.restore(directory, config, trainer)
