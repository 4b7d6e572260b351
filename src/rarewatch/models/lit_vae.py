"""LightningModule for the variational autoencoder: minimises the negative ELBO."""

from __future__ import annotations

import lightning as L
import torch
from torch import nn

from rarewatch.models.nets import kl_divergence


def negative_elbo(net: nn.Module, x: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-row negative ELBO: squared reconstruction error summed over features + beta * KL."""
    reconstruction, mu, logvar = net(x)
    return ((reconstruction - x) ** 2).sum(dim=-1) + beta * kl_divergence(mu, logvar)


class VAEModule(L.LightningModule):
    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, beta: float) -> None:
        super().__init__()
        self.net = net
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.beta = beta

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        (x,) = batch
        loss = negative_elbo(self.net, x, self.beta).mean()
        self.log(f"{stage}_loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(x))
        return loss

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "test")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
