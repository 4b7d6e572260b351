"""What the deep families share: their settings, the net, and its weights on disk.

A family subclasses `TorchDetector` and implements `_make_net(n_features)` (which records
`n_features`), `fit` and `score`; saving and restoring the weights is the same for all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from rarewatch.config import TrainerConfig


class TorchDetector:
    def __init__(self, config: Any, seed: int, trainer: TrainerConfig) -> None:
        self.config = config
        self.seed = seed
        self.trainer_config = trainer
        self.net: Any = None
        self.n_features = 0

    def _make_net(self, n_features: int) -> Any:
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        import torch

        torch.save(self.net.state_dict(), directory / "weights.pt")
        (directory / "net.json").write_text(json.dumps({"n_features": self.n_features}))

    @classmethod
    def restore(cls, directory: Path, config: Any, trainer: TrainerConfig) -> Self:
        import torch

        det = cls(config, seed=0, trainer=trainer)
        det.net = det._make_net(json.loads((directory / "net.json").read_text())["n_features"])
        det.net.load_state_dict(torch.load(directory / "weights.pt", weights_only=True))
        det.net.eval()
        return det
