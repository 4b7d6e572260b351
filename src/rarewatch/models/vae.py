"""Variational autoencoder on rows, trained on normal rows by the negative ELBO.

Score (`score:`): `elbo` = the row's negative ELBO (squared reconstruction error summed over
features + beta * KL of its latent code), `reconstruction` = the row's reconstruction MSE alone.
Both use z = mu (no sampling), so scores are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from rarewatch.models import checks
from rarewatch.models.base import FitReport, Rows
from rarewatch.models.torch_detector import TorchDetector

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


@dataclass(frozen=True)
class Config:
    name: str
    train_on: Literal["normal", "all"]
    hidden_dims: list[int]
    latent_dim: int
    activation: Literal["relu", "tanh", "elu", "gelu"]
    beta: float  # weight of the KL term in the negative ELBO
    score: Literal["elbo", "reconstruction"]
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int

    def __post_init__(self) -> None:
        checks.hidden_dims(self)
        checks.at_least(self, 1, "latent_dim", "batch_size", "max_epochs")
        checks.check(self, "beta", lambda v: v >= 0, ">= 0 (1 is the plain ELBO)")
        checks.positive(self, "learning_rate")
        checks.at_least(self, 0, "patience", "weight_decay")


class VAEDetector(TorchDetector):
    def _make_net(self, n_features: int):  # noqa: ANN202 - torch type imported lazily
        from rarewatch.models.nets import DenseVAE

        c = self.config
        self.n_features = n_features
        return DenseVAE(n_features, c.hidden_dims, c.latent_dim, c.activation)

    def fit(self, train: Rows, val: Rows) -> FitReport:
        import torch

        from rarewatch.models.batches import batch_loader
        from rarewatch.models.lit_vae import VAEModule
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        x_train, x_val = (r.normal_x() if c.train_on == "normal" else r.x for r in (train, val))
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._make_net(x_train.shape[1])
        module = VAEModule(self.net, c.learning_rate, c.weight_decay, c.beta)
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

    def score(self, rows: Rows) -> np.ndarray:
        import torch

        from rarewatch.models.lit_vae import negative_elbo

        if self.net is None:
            raise RuntimeError("score() before fit() or load()")
        torch.set_num_threads(self.trainer_config.num_threads)
        net = self.net.eval()
        x = torch.from_numpy(np.ascontiguousarray(rows.x, dtype=np.float32))
        out = []
        with torch.no_grad():
            for start in range(0, len(x), 8192):
                xb = x[start : start + 8192]
                if self.config.score == "elbo":
                    out.append(negative_elbo(net, xb, self.config.beta))
                else:
                    out.append(((net(xb)[0] - xb) ** 2).mean(dim=1))
        return torch.cat(out).numpy() if out else np.empty(0, dtype=np.float32)


def build(config: Config, seed: int, trainer: TrainerConfig) -> VAEDetector:
    return VAEDetector(config, seed, trainer)


def load(directory: Path, config: Config, trainer: TrainerConfig) -> VAEDetector:
    return VAEDetector.restore(directory, config, trainer)
