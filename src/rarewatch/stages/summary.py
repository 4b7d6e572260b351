"""Stage summary: a dozen headline figures in metrics/summary.json, the file DVC compares.

`dvc exp show`, `dvc metrics diff` and `dvc metrics show` read this small file (git-tracked, so every
experiment commit holds it); the long eval.json and cost.json stay as cached outputs and MLflow
artifacts. Figures are at the min_cost threshold (else the first strategy), on test unless named val.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rarewatch.artifacts import write_json
from rarewatch.config import Config
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.summary")


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def run(eval_m: dict[str, Any], cost_m: dict[str, Any]) -> dict[str, Any]:
    entries = eval_m["thresholds"]
    strategy = "min_cost" if "min_cost" in entries else next(iter(entries))
    test = entries[strategy].get("test") or {}
    ew = test.get("early_warning") or {}
    flags = [*eval_m.get("degenerate", []), *cost_m.get("degenerate", [])]
    return {
        "roc_auc": _r(eval_m["test"]["roc_auc"]),
        "pr_auc": _r(eval_m["test"]["pr_auc"]),
        "pr_no_skill": _r(eval_m["test"]["pr_auc_no_skill"]),
        "val_roc_auc": _r(eval_m["val"]["roc_auc"]),
        "val_pr_auc": _r(eval_m["val"]["pr_auc"]),
        "val_cost": _r(cost_m["val_cost"], 2),
        "cost": _r(cost_m["test_cost"], 2),
        "savings": _r(cost_m["test_savings"], 2),
        "recall": _r(test.get("recall")),
        "precision": _r(test.get("precision")),
        "event_recall": _r(ew.get("event_recall")),
        "false_alarms_day": _r(ew.get("false_alarms_per_day"), 2),
        "degenerate": len(flags),
    }


def execute(cfg: Config, paths: Paths) -> None:
    headline = run(json.loads(paths.eval_metrics.read_text()), json.loads(paths.cost_metrics.read_text()))
    write_json(headline, paths.summary)
    log.info("metrics/summary.json: ROC-AUC %s, PR-AUC %s, test cost %s", headline["roc_auc"], headline["pr_auc"],
             headline["cost"])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("summary", execute, argv)


if __name__ == "__main__":
    main()
