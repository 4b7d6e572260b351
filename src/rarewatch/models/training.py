"""The Lightning fit loop every deep family shares: seeding, early stopping, best weights, history."""

from __future__ import annotations

import copy
import time
import warnings
from typing import TYPE_CHECKING

import lightning as L
import torch

from rarewatch.models import curves
from rarewatch.models.base import FitReport

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from rarewatch.config import TrainerConfig
    from rarewatch.models.lightning_modules import SharedStepModule


def seed_and_threads(seed: int, trainer: TrainerConfig) -> None:
    torch.set_num_threads(trainer.num_threads)
    L.seed_everything(seed, workers=True, verbose=False)


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


def fit_module(
    module: SharedStepModule,
    train: DataLoader,
    val: DataLoader,
    *,
    max_epochs: int,
    patience: int,
    trainer: TrainerConfig,
    train_samples: int,
    val_samples: int,
) -> FitReport:
    """Fit with early stopping on `module.monitor`; the module's `net` ends with its best-epoch weights."""
    from lightning.pytorch.callbacks import EarlyStopping

    history = History(module.monitor)
    callbacks: list[L.Callback] = [history]
    if patience > 0:
        callbacks.append(EarlyStopping(module.monitor, patience=patience, mode="min"))
    fitter = L.Trainer(
        **trainer_arguments(trainer),
        max_epochs=max_epochs,
        callbacks=callbacks,
        logger=curves.logger(),  # the caller's MLflow run, if it installed one (rarewatch.recording)
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
        fitter.fit(module, train, val)
        seconds = time.perf_counter() - start
    if history.best_state is not None:
        module.net.load_state_dict(history.best_state)
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
