"""LightningModule for reconstruction models: one shared step for train, val and test."""

from __future__ import annotations

import copy

import lightning as L
import torch
from torch import nn

from rarewatch.models.lit_base import SharedStepModule


class ReconstructionModule(SharedStepModule):
    """MSE between the net's output and its input, over all elements (rows or whole windows).

    With `input_noise` > 0 it trains a denoising autoencoder: in training steps only, Gaussian
    noise of that standard deviation is added to the input and the target stays the clean input;
    validation and test losses are on clean inputs.
    """

    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, input_noise: float = 0.0) -> None:
        super().__init__(net, learning_rate, weight_decay)
        self.input_noise = input_noise

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        (x,) = batch
        noisy = x + self.input_noise * torch.randn_like(x) if stage == "train" and self.input_noise > 0 else x
        loss = nn.functional.mse_loss(self.net(noisy), x)
        self.log(f"{stage}_loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(x))
        return loss


class History(L.Callback):
    """Per-epoch losses, and the weights of the best validation epoch (restored after fit)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.best_loss = float("inf")
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch = -1

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.endswith("_loss")}
        self.rows.append({"epoch": trainer.current_epoch, **metrics})
        val = metrics.get("val_loss", metrics.get("train_loss", float("inf")))
        if val < self.best_loss:
            self.best_loss = val
            self.best_epoch = trainer.current_epoch
            self.best_state = copy.deepcopy(module.net.state_dict())
