"""The LightningModule plumbing every family shares: the net, Adam, and one `_step` for all stages.

A family's module only says what its loss is (`_step(batch, stage)`), as in Lightning's
autoencoder example; train, val and test steps are never copied.
"""

from __future__ import annotations

import lightning as L
import torch
from torch import nn


class SharedStepModule(L.LightningModule):
    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float) -> None:
        super().__init__()
        self.net = net
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        raise NotImplementedError

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "test")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
