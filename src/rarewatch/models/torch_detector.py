"""The base of the deep families: a torch net, trained by the shared loop (models/training.py), saved as weights.

A family subclasses `TorchDetector` and implements `_make_net(n_features)`, `fit` and `score`.
Row-wise families fit with `_fit_on_rows` and score with `_score_in_batches`; sequence families
extend `rarewatch.models.sequence.SequenceDetector`. torch and lightning are imported inside the
methods, so checking a config or listing the families never pays their start-up cost.
"""

from __future__ import annotations

import json
import pickle
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from rarewatch.config import FamilyConfig
from rarewatch.errors import DataError
from rarewatch.models.base import Detector, FitReport, Rows

if TYPE_CHECKING:
    import lightning as L
    import torch
    from torch import nn

SCORE_BATCH = 8192
WEIGHTS_FILE = "weights.pt"
NET_FILE = "net.json"


class TrainingConfig(FamilyConfig):
    """The fields every deep family has: Adam and early stopping on the validation loss."""

    learning_rate: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    batch_size: int = Field(ge=1)
    max_epochs: int = Field(ge=1)
    patience: int = Field(ge=0)  # epochs without a better validation loss before stopping; 0: never stop early


class TorchDetector(Detector):
    def __init__(self, config: Any, seed: int, trainer: Any) -> None:
        super().__init__(config, seed, trainer)
        self.net: Any = None
        self.n_features = 0

    @abstractmethod
    def _make_net(self, n_features: int) -> nn.Module:
        """A new net for rows of `n_features` encoded features."""

    def _new_net(self, n_features: int) -> nn.Module:
        self.n_features = n_features
        return self._make_net(n_features)

    def _trained_net(self) -> nn.Module:
        """The net in eval mode, with torch's threads set for scoring."""
        import torch

        if self.net is None:
            raise RuntimeError("score() before fit() or load()")
        torch.set_num_threads(self.trainer_config.num_threads)
        return self.net.eval()

    def _fit_on_rows(self, train: Rows, val: Rows, make_module: Callable[[nn.Module], L.LightningModule]) -> FitReport:
        """Fit a row-wise net on the rows `config.train_on` names, in whole in-memory batches."""
        import torch

        from rarewatch.models.batches import Batches
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        x_train, x_val = train.fit_x(c.train_on), val.fit_x(c.train_on)
        for split, x in (("train", x_train), ("val", x_val)):
            if len(x) == 0:
                raise DataError(f"the {split} split has no {'normal ' if c.train_on == 'normal' else ''}rows to fit on")
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._new_net(x_train.shape[1])
        return fit_module(
            make_module(self.net),
            Batches(torch.from_numpy(x_train), batch_size=c.batch_size, shuffle=True, seed=self.seed),
            Batches(torch.from_numpy(x_val), batch_size=SCORE_BATCH, shuffle=False, seed=self.seed),
            max_epochs=c.max_epochs,
            patience=c.patience,
            trainer=self.trainer_config,
            train_samples=len(x_train),
            val_samples=len(x_val),
        )

    def _score_in_batches(self, per_batch: Callable[[nn.Module, torch.Tensor], torch.Tensor], rows: Rows) -> np.ndarray:
        """One score per row: `per_batch(net, x)` maps a (batch, n_features) tensor to (batch,) scores."""
        import torch

        net = self._trained_net()
        x = torch.from_numpy(np.ascontiguousarray(rows.x, dtype=np.float32))  # no copy when already float32
        # inference_mode: no autograd bookkeeping at all (no_grad still versions every tensor).
        with torch.inference_mode():
            out = [per_batch(net, x[start : start + SCORE_BATCH]) for start in range(0, len(x), SCORE_BATCH)]
        return torch.cat(out).numpy() if out else np.empty(0, dtype=np.float32)

    def _save_state(self, directory: Path) -> None:
        import torch

        if self.net is None:
            raise RuntimeError("save() before fit()")
        torch.save(self.net.state_dict(), directory / WEIGHTS_FILE)
        (directory / NET_FILE).write_text(json.dumps({"n_features": self.n_features}) + "\n")

    def _load_state(self, directory: Path) -> None:
        import torch

        self.net = self._new_net(int(json.loads((directory / NET_FILE).read_text())["n_features"]))
        try:
            # weights_only: tensors and plain containers, never arbitrary objects.
            state = torch.load(directory / WEIGHTS_FILE, weights_only=True)
        except (RuntimeError, OSError, pickle.UnpicklingError) as exc:
            raise DataError(f"'{directory / WEIGHTS_FILE}' is not a weights file this family wrote: {exc}") from exc
        self.net.load_state_dict(state)
        self.net.eval()
