"""The Lightning fit loop every deep family shares: seeding, early stopping, best weights, history."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

from rarewatch.models.base import FitReport

if TYPE_CHECKING:
    import lightning as L
    from torch.utils.data import DataLoader

    from rarewatch.config import TrainerConfig


def seed_and_threads(seed: int, trainer: TrainerConfig) -> None:
    import lightning as L
    import torch

    torch.set_num_threads(trainer.num_threads)
    L.seed_everything(seed, workers=True, verbose=False)


def fit_module(
    module: L.LightningModule,
    train: DataLoader,
    val: DataLoader,
    *,
    max_epochs: int,
    patience: int,
    trainer: TrainerConfig,
    train_samples: int,
    val_samples: int,
) -> FitReport:
    """Fit with early stopping on `val_loss`; the module's `net` ends with its best-epoch weights."""
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping

    from rarewatch.models.lit_autoencoder import History

    history = History()
    callbacks: list[L.Callback] = [history]
    if patience > 0:
        callbacks.append(EarlyStopping("val_loss", patience=patience, mode="min"))
    fitter = L.Trainer(
        accelerator=trainer.accelerator,
        devices=trainer.devices,
        deterministic=trainer.deterministic,
        enable_progress_bar=trainer.progress_bar,
        max_epochs=max_epochs,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    with warnings.catch_warnings():
        # In-memory batches need no worker processes; Lightning's hint about them is noise here.
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        # Lightning 2.6 trips over its own deprecation (LeafSpec) inside fit; not ours to fix.
        warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated.*")
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
        extra={"best_epoch": history.best_epoch, "best_val_loss": history.best_loss},
    )
