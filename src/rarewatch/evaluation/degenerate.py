"""Results that look like measurements but are not: flagged loudly, never ranked first.

Each flag is {"code", "message"}; codes are stable names (`few_positives:test`, `alarms_everywhere:
min_cost:test`, ...) for the summary, the MLflow tags and the sweep's ranking. Pure functions over the
figures evaluate and cost already computed.
"""

from __future__ import annotations

from typing import Any


def flag(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def evaluation_flags(result: dict[str, Any], min_positives: int, max_alarm_share: float) -> list[dict[str, str]]:
    """Flags for evaluate's result: too few positives to trust an AUC, thresholds that alarm on (almost)
    every row or on none."""
    flags = []
    for split in ("val", "test"):
        n_pos = result[split]["n_positive"]
        if n_pos == 0:
            flags.append(
                flag(
                    f"no_positives:{split}",
                    f"{split} has no positive rows: its AUCs are undefined"
                    + (
                        "; thresholds that need positives are skipped and min_cost means never alarm"
                        if split == "val"
                        else "; no detection rate can be measured"
                    ),
                )
            )
        elif n_pos < min_positives:
            flags.append(
                flag(
                    f"few_positives:{split}",
                    f"{split} has {n_pos} positive rows (fewer than evaluation.min_positives={min_positives}): its "
                    f"ROC-AUC and PR-AUC are unreliable",
                )
            )
    for name, entry in result["thresholds"].items():
        for split in ("val", "test"):
            counts = entry.get(split)
            if not counts:
                continue
            rows = counts["tn"] + counts["fp"] + counts["fn"] + counts["tp"]
            share = (counts["tp"] + counts["fp"]) / rows if rows else 0.0
            if share > max_alarm_share:
                flags.append(
                    flag(
                        f"alarms_everywhere:{name}:{split}",
                        f"the {name} threshold alarms on {share:.0%} of {split} rows (more than "
                        f"evaluation.max_alarm_share={max_alarm_share:.0%}): it does not tell events from normal rows",
                    )
                )
            elif share == 0 and split == "test":
                flags.append(
                    flag(
                        f"no_alarms:{name}:{split}",
                        f"the {name} threshold raises no alarm on any {split} row: it detects nothing",
                    )
                )
    return flags


def cost_flags(curve_costs: list[float], best_index: int, n_candidates: int) -> list[dict[str, str]]:
    """Flags for the cost stage: the cost matrix makes alarming on every row the cheapest choice."""
    if n_candidates > 1 and best_index == 0 and curve_costs[0] < min(curve_costs[1:]):
        return [
            flag(
                "always_alarm_cheapest",
                "under this cost matrix, alarming on every validation row is cheaper than any threshold: events are "
                "not rare enough for these costs (cost.fp too low against cost.fn?); the savings reported are those "
                "of a permanent alarm",
            )
        ]
    return []
