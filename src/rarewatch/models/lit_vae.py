"""LightningModule for the variational autoencoder: minimises the negative ELBO."""

from __future__ import annotations

import torch
from torch import nn

from rarewatch.models.lit_base import SharedStepModule
from rarewatch.models.nets import kl_divergence


def negative_elbo(net: nn.Module, x: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-row negative ELBO: squared reconstruction error summed over features + beta * KL."""
    reconstruction, mu, logvar = net(x)
    return ((reconstruction - x) ** 2).sum(dim=-1) + beta * kl_divergence(mu, logvar)


class VAEModule(SharedStepModule):
    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, beta: float) -> None:
        super().__init__(net, learning_rate, weight_decay)
        self.beta = beta

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        (x,) = batch
        loss = negative_elbo(self.net, x, self.beta).mean()
        self.log(f"{stage}_loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(x))
        return loss
