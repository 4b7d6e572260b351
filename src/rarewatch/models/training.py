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
loop never finalizes the logger: whoever made it owns its run. Without `logger`, the logger the
caller installed with `rarewatch.models.curves.streaming_to` (the train stage's MLflow run) gets them.

A trainer section the lean loop does not cover (a distributed `strategy`, more than one device, or a
`precision` other than 32-true) is fitted by `lightning.Trainer` instead (`fit_with_lightning`),
with the same history, early stopping, best weights and logger.
"""

from __future__ import annotations

import copy
import logging
import math
import time
import warnings
from typing import TYPE_CHECKING, Any

import lightning as L
import torch

from rarewatch.models import curves
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
    if logger is None:
        logger = curves.logger() or None
    if needs_lightning(trainer):
        return fit_with_lightning(
            module,
            train,
            val,
            max_epochs=max_epochs,
            patience=patience,
            trainer=trainer,
            train_samples=train_samples,
            val_samples=val_samples,
            logger=logger,
        )
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


def needs_lightning(trainer: TrainerConfig) -> bool:
    """Whether a trainer section asks for what only lightning.Trainer does (DDP, several devices, AMP)."""
    return trainer.strategy != "auto" or trainer.devices > 1 or trainer.precision != "32-true"


def trainer_arguments(trainer: TrainerConfig) -> dict[str, object]:
    """The L.Trainer arguments a trainer section sets (conf/trainer/*.yaml)."""
    return {
        "accelerator": trainer.accelerator,
        "devices": trainer.devices,
        "strategy": trainer.strategy,
        "precision": trainer.precision,
        "deterministic": trainer.deterministic,
        "enable_progress_bar": trainer.progress_bar,
    }


class History(L.Callback):
    """Per-epoch figures, and the weights of the best epoch by `monitor` (restored after fit)."""

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor
        self.rows: list[dict[str, float]] = []
        self.best_value = float("inf")
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch = -1

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        self.rows.append({"epoch": trainer.current_epoch, **metrics})
        value = metrics.get(self.monitor, metrics.get("train_loss", float("inf")))
        if value < self.best_value:
            self.best_value = value
            self.best_epoch = trainer.current_epoch
            self.best_state = copy.deepcopy(module.net.state_dict())


def fit_with_lightning(
    module: SharedStepModule,
    train: Batches,
    val: Batches,
    *,
    max_epochs: int,
    patience: int,
    trainer: TrainerConfig,
    train_samples: int,
    val_samples: int,
    logger: Any = None,
) -> FitReport:
    """The same fit through lightning.Trainer, for the trainer sections the lean loop does not cover."""
    from lightning.pytorch.callbacks import EarlyStopping as LightningEarlyStopping

    history = History(module.monitor)
    callbacks: list[L.Callback] = [history]
    if patience > 0:
        callbacks.append(LightningEarlyStopping(module.monitor, patience=patience, mode="min"))
    fitter = L.Trainer(
        **trainer_arguments(trainer),  # type: ignore[arg-type]
        max_epochs=max_epochs,
        callbacks=callbacks,
        logger=logger if logger is not None else False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    with warnings.catch_warnings():
        # In-memory batches need no worker processes; Lightning's hint about them is noise here.
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        # Lightning 2.6 trips over its own deprecation (LeafSpec) inside fit; not ours to fix.
        warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated.*")
        # Curves are logged per epoch only, so the per-step logging interval does not apply.
        warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
        start = time.perf_counter()
        fitter.fit(module, train.loader(), val.loader())
        seconds = time.perf_counter() - start
    if history.best_state is not None:
        module.net.load_state_dict(history.best_state)
    module.to("cpu")
    module.net.eval()
    epochs = len(history.rows)
    return FitReport(
        train_rows=train_samples,
        val_rows=val_samples,
        seconds=seconds,
        epochs=epochs,
        samples_per_second=train_samples * epochs / seconds if seconds > 0 else None,
        history=history.rows,
        extra={"monitor": module.monitor, "best_epoch": history.best_epoch, "best_value": history.best_value},
    )
