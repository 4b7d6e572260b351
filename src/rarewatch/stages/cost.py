"""Stage cost: price every candidate threshold on val, pick the cheapest, report test cost and savings.

Reads only the score files: no model is loaded, so changing the cost matrix reruns seconds of work.
With cost.false_alarm_pricing=per_alarm, false positives are priced per false operator alarm under the
alarm policy (conf/alarm) instead of per row over the threshold; TN, FN and TP stay row counts.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet, write_json
from rarewatch.config import Config
from rarewatch.data.schema import LABEL, in_time_order, series_codes
from rarewatch.evaluation import plots
from rarewatch.evaluation.cost import CostMatrix, savings
from rarewatch.evaluation.degenerate import cost_flags
from rarewatch.evaluation.early_warning import AlarmPolicy, alarm_cost_curve, false_alarm_counts
from rarewatch.evaluation.metrics import confusion_at
from rarewatch.evaluation.thresholds import best_index, confusion_curve, min_cost_threshold
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.cost")


def run(
    val: pd.DataFrame,
    test: pd.DataFrame,
    matrix: CostMatrix,
    pricing: Literal["per_row", "per_alarm"] = "per_row",
    policy: AlarmPolicy | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    policy = policy or AlarmPolicy()
    if pricing == "per_alarm":
        return _run_per_alarm(val, test, matrix, policy)
    table, metrics = _run_per_row(val, test, matrix)
    return table, {**metrics, "false_alarm_pricing": pricing, "alarm_policy": policy.as_dict()}


def _run_per_row(val: pd.DataFrame, test: pd.DataFrame, matrix: CostMatrix) -> tuple[pd.DataFrame, dict[str, Any]]:
    yv, sv = val[LABEL].to_numpy(), val["score"].to_numpy()
    curve = confusion_curve(yv, sv)
    table = pd.DataFrame(
        {
            "threshold": curve.thresholds,
            "tn": curve.tn,
            "fp": curve.fp,
            "fn": curve.fn,
            "tp": curve.tp,
            "cost": curve.cost(matrix.tn, matrix.fp, matrix.fn, matrix.tp),
        }
    )
    best = min_cost_threshold(yv, sv, matrix.tn, matrix.fp, matrix.fn, matrix.tp)
    best_row = table[table["threshold"] == best].iloc[0]
    flags = cost_flags(table["cost"].tolist(), int(best_row.name), len(table))
    yt, st = test[LABEL].to_numpy(), test["score"].to_numpy()
    test_conf = confusion_at(yt, st, best)
    test_cost = matrix.total(test_conf)
    no_alarm = matrix.no_alarm(yt)
    metrics = {
        "cost_matrix": {"tn": matrix.tn, "fp": matrix.fp, "fn": matrix.fn, "tp": matrix.tp},
        "best_threshold": best,
        "val_cost": float(best_row["cost"]),
        "val_no_alarm_cost": matrix.no_alarm(yv),
        "test_cost": test_cost,
        "test_no_alarm_cost": no_alarm,
        **{f"test_{k}": v for k, v in savings(no_alarm, test_cost).items()},
        "test_confusion": test_conf.as_dict(),
        "degenerate": flags,
    }
    return table, metrics


def _run_per_alarm(
    val: pd.DataFrame, test: pd.DataFrame, matrix: CostMatrix, policy: AlarmPolicy
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Like per_row, with FP = false operator alarms (alarms on rows outside every warning window)."""
    val, test = in_time_order(val), in_time_order(test)
    yv, sv = val[LABEL].to_numpy(), val["score"].to_numpy()
    curve = alarm_cost_curve(yv, sv, matrix.tn, matrix.fp, matrix.fn, matrix.tp, policy, series_codes(val))
    table = pd.DataFrame(
        {
            "threshold": curve.thresholds,
            "tn": curve.tn,
            "fp": curve.fp,
            "false_alarms": curve.false_alarms,
            "fn": curve.fn,
            "tp": curve.tp,
            "cost": curve.cost,
        }
    )
    best_i = best_index(curve.cost)
    best = float(curve.thresholds[best_i])
    yt, st = test[LABEL].to_numpy(), test["score"].to_numpy()
    test_conf = confusion_at(yt, st, best)
    test_false_alarms = int(false_alarm_counts(yt, st, np.array([best]), policy, series_codes(test))[0])
    test_cost = (
        test_conf.tn * matrix.tn + test_false_alarms * matrix.fp + test_conf.fn * matrix.fn + test_conf.tp * matrix.tp
    )
    no_alarm = matrix.no_alarm(yt)
    metrics = {
        "cost_matrix": {"tn": matrix.tn, "fp": matrix.fp, "fn": matrix.fn, "tp": matrix.tp},
        "best_threshold": best,
        "val_cost": float(curve.cost[best_i]),
        "val_no_alarm_cost": matrix.no_alarm(yv),
        "test_cost": test_cost,
        "test_no_alarm_cost": no_alarm,
        **{f"test_{k}": v for k, v in savings(no_alarm, test_cost).items()},
        "test_confusion": test_conf.as_dict(),
        "false_alarm_pricing": "per_alarm",
        "alarm_policy": policy.as_dict(),
        "val_false_alarms": int(curve.false_alarms[best_i]),
        "test_false_alarms": test_false_alarms,
        "candidates_subsampled": curve.subsampled,
        "degenerate": cost_flags(curve.cost.tolist(), best_i, len(curve.cost)),
    }
    return table, metrics


def execute(cfg: Config, paths: Paths) -> None:
    c = cfg.cost
    table, metrics = run(
        read_parquet(paths.scores("val"), "evaluate"),
        read_parquet(paths.scores("test"), "evaluate"),
        CostMatrix(c.tn, c.fp, c.fn, c.tp),
        pricing=c.false_alarm_pricing,
        policy=AlarmPolicy.from_config(cfg.alarm),
    )
    with atomic_dir(paths.cost_plots) as tmp:
        table.to_csv(tmp / "cost_curve.csv", index=False)
        plots.cost_figure(table, metrics["best_threshold"], metrics["val_no_alarm_cost"], tmp / "cost_curve.png")
    write_json(metrics, paths.cost_metrics)
    log.info(
        "best-cost threshold %.4g: test cost %.0f vs %.0f without alarms (savings %.0f)",
        metrics["best_threshold"],
        metrics["test_cost"],
        metrics["test_no_alarm_cost"],
        metrics["test_savings"],
    )


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("cost", execute, argv)


if __name__ == "__main__":
    main()
