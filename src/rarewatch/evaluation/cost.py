"""Money (or any unit) per outcome: the cost matrix applied to confusion counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rarewatch.evaluation.metrics import Confusion


@dataclass(frozen=True)
class CostMatrix:
    tn: float
    fp: float
    fn: float
    tp: float

    def total(self, c: Confusion) -> float:
        return c.tn * self.tn + c.fp * self.fp + c.fn * self.fn + c.tp * self.tp

    def no_alarm(self, labels: np.ndarray) -> float:
        """What the plant pays without the detector: every event missed, every normal row a TN."""
        n_pos = int(labels.sum())
        return n_pos * self.fn + (len(labels) - n_pos) * self.tn


def savings(no_alarm_cost: float, cost: float) -> dict[str, float | None]:
    saved = no_alarm_cost - cost
    return {
        "savings": saved,
        "savings_fraction": saved / no_alarm_cost if no_alarm_cost else None,
    }
