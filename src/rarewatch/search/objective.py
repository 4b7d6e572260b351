"""The figure a study optimises, read from the validation side of a run's metrics and nothing else.

`val_pr_auc` is `metrics/eval.json` val.pr_auc (maximised); `val_pr_lift` is that PR-AUC divided by its
no-skill value, the validation positive rate (maximised): folds with different shares of positives then
weigh the same in a trial's mean; `val_cost` is `metrics/cost.json` val_cost, the validation cost at the
cheapest validation threshold (minimised). Test figures are never read here:
a search that looked at them would choose on test (docs/protocol.md, "Thresholds on validation" — the
same rule, one level up).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rarewatch.errors import DataError


def validation_figure(objective: str, eval_metrics: Mapping[str, Any], cost_metrics: Mapping[str, Any]) -> float:
    """The objective's value for one run; DataError when validation cannot give it (no positives)."""
    if objective in ("val_pr_auc", "val_pr_lift"):
        val = eval_metrics["val"]
        value = val["pr_auc"]
        if value is None:
            raise DataError(
                f"validation PR-AUC is undefined: the validation split has {val['n_positive']} positive rows out of "
                f"{val['n_rows']} ({val.get('note') or 'a single class'}); use fewer split.folds or another fold"
            )
        if objective == "val_pr_lift":
            value = value / val["pr_auc_no_skill"]
    elif objective == "val_cost":
        value = cost_metrics["val_cost"]
    else:
        raise ValueError(f"unknown objective {objective!r}; use val_pr_lift, val_pr_auc or val_cost")
    value = float(value)
    if not math.isfinite(value):
        raise DataError(f"{objective} is {value}: not a usable figure for this run")
    return value


def validation_positives(eval_metrics: Mapping[str, Any]) -> int:
    return int(eval_metrics["val"]["n_positive"])


def aggregate(values: Sequence[float]) -> float:
    """A trial's value: the mean over its folds (each fold weighs the same, whatever its positives)."""
    if not values:
        raise ValueError("no fold values to average")
    return math.fsum(values) / len(values)
