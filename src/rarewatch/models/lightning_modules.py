"""The LightningModules of the deep families. Each states only its loss, in one `loss` shared by
train, val and test (as in Lightning's autoencoder example); the nets themselves are in nets.py.

rarewatch trains them with its own lean loop (rarewatch.models.training), which calls `loss` and
`validation_metrics` directly: Lightning's per-step hooks and logging cost more than the arithmetic
of these small nets. The Lightning hooks (`training_step`, ...) stay, so a `lightning.Trainer` can
still fit any of them.

`monitor` names the validation figure that early stopping and the best-epoch choice follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import lightning as L
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from rarewatch.models.nets import kl_divergence


class SharedStepModule(L.LightningModule):
    monitor: ClassVar[str] = "val_loss"

    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float) -> None:
        super().__init__()
        self.net = net
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay

    def loss(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        """The mean loss of one batch; `stage` is "train", "val" or "test"."""
        raise NotImplementedError

    def validation_metrics(self, batches: Iterable[tuple[torch.Tensor, ...]]) -> dict[str, float]:
        """The epoch's validation figures over all `batches` (eval mode, no grad): at least `monitor`."""
        total, rows = torch.zeros((), dtype=torch.float64), 0
        for batch in batches:
            total += self.loss(batch, "val").double() * len(batch[0])
            rows += len(batch[0])
        return {"val_loss": float(total) / max(rows, 1)}

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        loss = self.loss(batch, stage)
        self._log_loss(f"{stage}_loss", loss, len(batch[0]))
        return loss

    def _log_loss(self, name: str, loss: torch.Tensor, batch_size: int) -> None:
        self.log(name, loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=batch_size)

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "test")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # fused: one kernel for all parameters instead of a Python loop over them (deterministic on CPU).
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay, fused=True)


class ReconstructionModule(SharedStepModule):
    """MSE between the net's output and its input, over all elements (rows or whole windows).

    With `input_noise` > 0 it trains a denoising autoencoder: in training steps only, Gaussian
    noise of that standard deviation is added to the input and the target stays the clean input;
    validation and test losses are on clean inputs.
    """

    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, input_noise: float = 0.0) -> None:
        super().__init__(net, learning_rate, weight_decay)
        self.input_noise = input_noise

    def loss(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        (x,) = batch
        noisy = x + self.input_noise * torch.randn_like(x) if stage == "train" and self.input_noise > 0 else x
        return nn.functional.mse_loss(self.net(noisy), x)


def negative_elbo(net: nn.Module, x: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-row negative ELBO: squared reconstruction error summed over features + beta * KL."""
    reconstruction, mu, logvar = net(x)
    return ((reconstruction - x) ** 2).sum(dim=-1) + beta * kl_divergence(mu, logvar)


class VAEModule(SharedStepModule):
    """Minimises the negative ELBO (beta-weighted KL)."""

    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, beta: float) -> None:
        super().__init__(net, learning_rate, weight_decay)
        self.beta = beta

    def loss(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        (x,) = batch
        return negative_elbo(self.net, x, self.beta).mean()


class ClassifierModule(SharedStepModule):
    """Supervised window classifier: `net(x)` returns one logit per sample; BCE with positives weighted.

    Model selection: with rare positives the validation BCE soon rises (the net grows confident on the
    many normal windows) while its ranking of the windows still improves, and ranking is what the
    evaluation reports. So early stopping and the best epoch follow `val_1_minus_roc_auc`, 1 - ROC-AUC
    of the validation windows (lower is better); the weighted BCE is logged as `val_loss`. When the
    validation windows hold a single class, ROC-AUC does not exist and the monitored figure is the BCE.
    """

    monitor = "val_1_minus_roc_auc"

    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, pos_weight: float) -> None:
        super().__init__(net, learning_rate, weight_decay)
        self.register_buffer("pos_weight", torch.tensor(float(pos_weight)))
        self._val: list[tuple[torch.Tensor, torch.Tensor]] = []

    def loss(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x, y = batch
        return nn.functional.binary_cross_entropy_with_logits(self.net(x), y, pos_weight=self.pos_weight)

    def validation_metrics(self, batches: Iterable[tuple[torch.Tensor, ...]]) -> dict[str, float]:
        pairs = [(self.net(x), y) for x, y in batches]
        logits, y = torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])
        bce = float(nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight))
        return {"val_loss": bce, self.monitor: self._ranking_figure(logits, y, bce)}

    @staticmethod
    def _ranking_figure(logits: torch.Tensor, y: torch.Tensor, bce: float) -> float:
        if 0 < float(y.sum()) < len(y):
            return 1.0 - float(roc_auc_score(y.cpu().numpy(), logits.double().cpu().numpy()))
        return bce

    # For a lightning.Trainer: the same figures, from the batches' logits gathered over the epoch.
    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        x, y = batch
        logits = self.net(x)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight)
        self._log_loss("val_loss", loss, len(x))
        self._val.append((logits.detach(), y))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def on_validation_epoch_end(self) -> None:
        logits = torch.cat([b[0] for b in self._val])
        y = torch.cat([b[1] for b in self._val])
        self._val = []
        bce = float(nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight))
        self.log(self.monitor, self._ranking_figure(logits, y, bce), prog_bar=True)
