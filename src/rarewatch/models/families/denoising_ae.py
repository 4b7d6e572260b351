"""Denoising dense autoencoder: reconstructs clean rows from noisy ones; score = row MSE.

Same network and score as dense_ae; during training, Gaussian noise of standard deviation
`input_noise` (in units of the scaled features) is added to the input while the target stays the
clean row, so the net cannot learn the identity and must learn the normal correlation structure.
"""

from __future__ import annotations

from pydantic import Field

from rarewatch.models.base import FitReport, Rows
from rarewatch.models.families import dense_ae


class Config(dense_ae.Config):
    input_noise: float = Field(gt=0)  # standard deviation of the noise; 0 would be dense_ae


class DenoisingAEDetector(dense_ae.DenseAEDetector):
    """A DenseAEDetector whose training adds noise to the input (scoring and saving are the same)."""

    name = "denoising_ae"
    config_class = Config

    def fit(self, train: Rows, val: Rows) -> FitReport:
        from rarewatch.models.lightning_modules import ReconstructionModule

        c = self.config
        return self._fit_on_rows(
            train, val, lambda net: ReconstructionModule(net, c.learning_rate, c.weight_decay, c.input_noise)
        )


FAMILY = DenoisingAEDetector
