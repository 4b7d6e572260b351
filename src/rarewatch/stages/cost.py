"""Stage cost: price every candidate threshold on val, pick the cheapest, report test cost and savings.

Reads only the score files: no model is loaded, so changing the cost matrix reruns seconds of work.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet, write_json
from rarewatch.config import Config
from rarewatch.data.schema import LABEL
from rarewatch.evaluation import plots
from rarewatch.evaluation.cost import CostMatrix, savings
from rarewatch.evaluation.metrics import confusion_at
from rarewatch.evaluation.thresholds import confusion_curve, min_cost_threshold
from rarewatch.paths import Paths

log = logging.getLogger(__name__)


def run(val: pd.DataFrame, test: pd.DataFrame, matrix: CostMatrix) -> tuple[pd.DataFrame, dict[str, Any]]:
    yv, sv = val[LABEL].to_numpy(), val["score"].to_numpy()
    curve = confusion_curve(yv, sv)
    table = pd.DataFrame(
        {"threshold": curve.thresholds, "tn": curve.tn, "fp": curve.fp, "fn": curve.fn, "tp": curve.tp,
         "cost": curve.cost(matrix.tn, matrix.fp, matrix.fn, matrix.tp)}
    )
    best = min_cost_threshold(yv, sv, matrix.tn, matrix.fp, matrix.fn, matrix.tp)
    best_row = table[table["threshold"] == best].iloc[0]
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
    }
    return table, metrics


def execute(cfg: Config, paths: Paths) -> None:
    c = cfg.cost
    table, metrics = run(
        read_parquet(paths.scores("val"), "evaluate"),
        read_parquet(paths.scores("test"), "evaluate"),
        CostMatrix(c.tn, c.fp, c.fn, c.tp),
    )
    with atomic_dir(paths.cost_plots) as tmp:
        table.to_csv(tmp / "cost_curve.csv", index=False)
        plots.cost_figure(table, metrics["best_threshold"], metrics["val_no_alarm_cost"], tmp / "cost_curve.png")
    write_json(metrics, paths.cost_metrics)
    log.info("best-cost threshold %.4g: test cost %.0f vs %.0f without alarms (savings %.0f)",
             metrics["best_threshold"], metrics["test_cost"], metrics["test_no_alarm_cost"], metrics["test_savings"])


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("cost", execute, argv)


if __name__ == "__main__":
    main()
