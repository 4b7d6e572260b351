"""The fit loop every deep family shares: seeding, early stopping, best weights, history, logging.

A lean loop, not `lightning.Trainer.fit`: profiling a dense-AE fit on the paper mill (batch 64, one
thread) put more than half of the time in Lightning's per-step machinery (about twenty hook calls
per step, each through its profiler; moving each batch "to the device"; `self.log` of every step's
loss), against about a third in the forward, backward and Adam arithmetic. So, per step, this loop
does only the arithmetic: no hooks, no logging and no `.item()` (the epoch's loss is summed on the
tensor and read once per epoch); batches come from `Batches` (one seeded permutation per epoch) and
Adam is fused. Validation runs once per epoch, in scoring-sized batches, under inference mode.

What Lightning gave and the loop keeps: seeding (`lightning.seed_everything`), early stopping on
`module.monitor` with `patience` (as Lightning's EarlyStopping: stop after `patience` epochs without
a strictly lower value, or at once on a non-finite one), the best epoch's weights restored at the
end (an in-memory checkpoint), and per-epoch figures sent to a Lightning logger (`logger`, e.g.
`lightning.pytorch.loggers.MLFlowLogger`) through its `log_metrics(metrics, step=epoch)`. The
loop never finalizes the logger: whoever made it owns its run.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

import lightning as L
import torch

from rarewatch.models.base import FitReport

if TYPE_CHECKING:
    from lightning.fabric.loggers import Logger

    from rarewatch.config import TrainerConfig
    from rarewatch.models.batches import Batches
    from rarewatch.models.lightning_modules import SharedStepModule

log = logging.getLogger("rarewatch.train")


def seed_and_threads(seed: int, trainer: TrainerConfig) -> None:
    torch.set_num_threads(trainer.num_threads)
    L.seed_everything(seed, workers=True, verbose=False)


def device_for(accelerator: str) -> torch.device:
    """The torch device a `trainer.accelerator` setting trains on ("auto": CUDA when there is one)."""
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    if accelerator == "mps":
        return torch.device("mps")
    return torch.device("cpu")


class EarlyStopping:
    """Lower is better. `patience` epochs without a strictly lower value stop training (0: never)."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = math.inf
        self.best_epoch = -1
        self.waited = 0

    def update(self, epoch: int, value: float) -> tuple[bool, bool]:
        """(improved, stop) after an epoch whose monitored figure is `value`."""
        if not math.isfinite(value):
            return False, True
        if value < self.best:
            self.best, self.best_epoch, self.waited = value, epoch, 0
            return True, False
        self.waited += 1
        return False, 0 < self.patience <= self.waited


def fit_module(
    module: SharedStepModule,
    train: Batches,
    val: Batches,
    *,
    max_epochs: int,
    patience: int,
    trainer: TrainerConfig,
    train_samples: int,
    val_samples: int,
    logger: Logger | None = None,
) -> FitReport:
    """Fit with early stopping on `module.monitor`; the module's `net` ends with its best-epoch weights.

    Per-epoch rows ({"epoch", "train_loss", "val_loss", ...}) go to the report's history and, when
    given, to `logger`. The net ends on the CPU, in eval mode.
    """
    if trainer.deterministic:
        torch.use_deterministic_algorithms(True)
    device = device_for(trainer.accelerator)
    net = module.net.to(device)
    module.to(device)  # buffers of the loss (a positive-class weight) too
    train, val = train.to(device), val.to(device)
    optimizer = module.configure_optimizers()
    stopper = EarlyStopping(patience)
    rows: list[dict[str, float]] = []  # epoch numbers are ints
    best_state: dict[str, torch.Tensor] | None = None
    start = time.perf_counter()
    for epoch in range(max_epochs):
        net.train()
        total = torch.zeros((), dtype=torch.float64, device=device)
        for batch in train:
            loss = module.loss(batch, "train")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch[0])
        net.eval()
        with torch.inference_mode():
            figures = module.validation_metrics(val)
        row = {"epoch": epoch, "train_loss": float(total) / max(train.rows, 1), **figures}
        rows.append(row)
        if logger is not None:
            logger.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=epoch)
        if trainer.progress_bar:
            shown = " ".join(f"{k}={v:.5g}" for k, v in row.items() if k != "epoch")
            log.info("epoch %d/%d %s", epoch + 1, max_epochs, shown)
        value = row.get(module.monitor, row["train_loss"])
        improved, stop = stopper.update(epoch, value)
        if improved:
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if stop:
            break
    seconds = time.perf_counter() - start
    if best_state is not None:
        net.load_state_dict(best_state)
    module.to("cpu")
    net.eval()
    if logger is not None:
        logger.save()
    epochs = len(rows)
    return FitReport(
        train_rows=train_samples,
        val_rows=val_samples,
        seconds=seconds,
        epochs=epochs,
        samples_per_second=train_samples * epochs / seconds if seconds > 0 else None,
        history=rows,
        extra={"monitor": module.monitor, "best_epoch": stopper.best_epoch, "best_value": stopper.best},
    )
