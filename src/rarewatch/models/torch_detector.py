"""What the deep families share: their settings, the net, training on rows, scoring, weights on disk.

A family subclasses `TorchDetector` and implements `_make_net(n_features)`, `fit` and `score`.
Row-wise families fit with `_fit_on_rows` and score with `_score_in_batches`; sequence families cut
windows first (rarewatch.models.sequence) and use `_trained_net` to score them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from rarewatch.models.base import FitReport, Rows

if TYPE_CHECKING:
    import lightning as L
    import torch
    from torch import nn

    from rarewatch.config import TrainerConfig

SCORE_BATCH = 8192


class TorchDetector:
    def __init__(self, config: Any, seed: int, trainer: TrainerConfig) -> None:
        self.config = config
        self.seed = seed
        self.trainer_config = trainer
        self.net: Any = None
        self.n_features = 0

    def _make_net(self, n_features: int) -> nn.Module:
        raise NotImplementedError

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

        from rarewatch.models.batches import batch_loader
        from rarewatch.models.training import fit_module, seed_and_threads

        c = self.config
        x_train, x_val = (r.normal_x() if c.train_on == "normal" else r.x for r in (train, val))
        seed_and_threads(self.seed, self.trainer_config)
        self.net = self._new_net(x_train.shape[1])
        return fit_module(
            make_module(self.net),
            batch_loader(torch.from_numpy(x_train), batch_size=c.batch_size, shuffle=True, seed=self.seed),
            batch_loader(torch.from_numpy(x_val), batch_size=SCORE_BATCH, shuffle=False, seed=self.seed),
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
        x = torch.from_numpy(np.ascontiguousarray(rows.x, dtype=np.float32))
        with torch.no_grad():
            out = [per_batch(net, x[start : start + SCORE_BATCH]) for start in range(0, len(x), SCORE_BATCH)]
        return torch.cat(out).numpy() if out else np.empty(0, dtype=np.float32)

    def save(self, directory: Path) -> None:
        import torch

        torch.save(self.net.state_dict(), directory / "weights.pt")
        (directory / "net.json").write_text(json.dumps({"n_features": self.n_features}))

    @classmethod
    def restore(cls, directory: Path, config: Any, trainer: TrainerConfig) -> Self:
        import torch

        det = cls(config, seed=0, trainer=trainer)
        det.net = det._new_net(json.loads((directory / "net.json").read_text())["n_features"])
        det.net.load_state_dict(torch.load(directory / "weights.pt", weights_only=True))
        det.net.eval()
        return det
