"""LightningModule for supervised window classifiers: BCE with logits, positives weighted.

Model selection: with rare positives the validation BCE soon rises (the net grows confident on
the many normal windows) while its ranking of the windows still improves, and ranking is what
the evaluation reports (ROC-AUC, PR-AUC, thresholds). So the `val_loss` that early stopping and
the best-epoch choice follow is 1 - ROC-AUC of the validation windows; the weighted BCE is logged
beside it as `val_bce_loss`. When the validation windows hold a single class, ROC-AUC does not
exist and `val_loss` is the weighted BCE.
"""

from __future__ import annotations

import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from rarewatch.models.lit_base import SharedStepModule


class ClassifierModule(SharedStepModule):
    """`net(x)` returns one logit per sample; the loss weighs positives by `pos_weight`."""

    def __init__(self, net: nn.Module, learning_rate: float, weight_decay: float, pos_weight: float) -> None:
        super().__init__(net, learning_rate, weight_decay)
        self.register_buffer("pos_weight", torch.tensor(float(pos_weight)))
        self._val: list[tuple[torch.Tensor, torch.Tensor]] = []

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.net(x)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight)
        name = "train_loss" if stage == "train" else f"{stage}_bce_loss"
        self.log(name, loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(x))
        if stage == "val":
            self._val.append((logits.detach(), y))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def on_validation_epoch_end(self) -> None:
        logits = torch.cat([b[0] for b in self._val])
        y = torch.cat([b[1] for b in self._val])
        self._val = []
        if 0 < float(y.sum()) < len(y):
            value = 1.0 - float(roc_auc_score(y.numpy(), logits.double().numpy()))
        else:
            value = float(nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight))
        self.log("val_loss", value, prog_bar=True)
