"""Print the result of the last pipeline run: the figures a user reads first, and where to look next."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rarewatch.data.label_shift import describe_shift
from rarewatch.paths import Paths


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def render(eval_m: dict[str, Any], cost_m: dict[str, Any], run: dict[str, Any] | None, console: Console) -> None:
    shift = eval_m.get("label_shift")
    if shift:
        console.print(f"Task: {describe_shift(shift)}")
    ranking = Table(title="Ranking (from continuous scores)", title_justify="left")
    for col in ("split", "ROC-AUC", "PR-AUC", "PR-AUC no skill", "rows", "positives", "note"):
        ranking.add_column(col, justify="left" if col in ("split", "note") else "right")
    for split in ("val", "test"):
        m = eval_m[split]
        ranking.add_row(
            split,
            _f(m["roc_auc"]),
            _f(m["pr_auc"]),
            _f(m["pr_auc_no_skill"], 4),
            str(m["n_rows"]),
            str(m["n_positive"]),
            m.get("note") or "",
        )
    console.print(ranking)

    thr = Table(title="Thresholds chosen on validation, applied to test", title_justify="left")
    for col in ("strategy", "threshold", "test precision", "test recall", "test F1", "TN", "FP", "FN", "TP"):
        thr.add_column(col, justify="left" if col == "strategy" else "right")
    for name, entry in eval_m["thresholds"].items():
        t = entry["test"]
        if t is None:
            thr.add_row(name, "skipped", *[""] * 7)
            continue
        thr.add_row(
            name,
            f"{entry['value']:.4g}",
            _f(t["precision"]),
            _f(t["recall"]),
            _f(t["f1"]),
            *(str(t[k]) for k in ("tn", "fp", "fn", "tp")),
        )
    console.print(thr)
    _early_warning_table(eval_m, console)

    c = cost_m["cost_matrix"]
    console.print(
        f"Cost matrix TN {c['tn']:g} / FP {c['fp']:g} / FN {c['fn']:g} / TP {c['tp']:g}: "
        f"best-cost threshold [bold]{cost_m['best_threshold']:.4g}[/] (on validation); "
        f"test cost [bold]{cost_m['test_cost']:,.0f}[/] vs {cost_m['test_no_alarm_cost']:,.0f} with no alarms "
        f"(savings {cost_m['test_savings']:,.0f}"
        + (f", {cost_m['test_savings_fraction']:.1%})" if cost_m["test_savings_fraction"] is not None else ")")
    )
    _series_table(eval_m, console)
    for w in eval_m.get("warnings", []):
        console.print(f"[yellow]warning:[/] {w}")
    for f in [*eval_m.get("degenerate", []), *cost_m.get("degenerate", [])]:
        console.print(f"[bold red]degenerate result ({f['code']}):[/] {f['message']}")
    if run:
        console.print(f"MLflow run {run['run_id']} in {run['tracking_uri']}")
    console.print(
        "Open the MLflow UI: [bold]make ui[/] (http://127.0.0.1:5000)   "
        "Plots offline: [bold]make plots[/] (dvc_plots/index.html)"
    )


def _series_table(eval_m: dict[str, Any], console: Console, limit: int = 20) -> None:
    """Per series on test, at the min_cost threshold (else the first strategy): where the pooled figures come from."""
    entries = eval_m["thresholds"]
    name = "min_cost" if "min_cost" in entries else next(iter(entries), None)
    by_series = ((entries.get(name) or {}).get("test") or {}).get("by_series") if name else None
    if not by_series:
        return
    table = Table(title=f"Per series on test @ {name} ({len(by_series)} series)", title_justify="left")
    for col in ("series", "rows", "positives", "ROC-AUC", "events caught", "false alarms", "per recorded hour"):
        table.add_column(col, justify="left" if col == "series" else "right")
    for series, m in list(by_series.items())[:limit]:
        table.add_row(
            series, str(m["rows"]), str(m["positives"]), _f(m["roc_auc"]), f"{m['events_caught']}/{m['events']}",
            str(m["false_alarms"]), _f(m["false_alarms_per_hour"], 2),
        )  # fmt: skip
    console.print(table)
    if len(by_series) > limit:
        console.print(f"... and {len(by_series) - limit} more series in metrics/eval.json")


def _early_warning_table(eval_m: dict[str, Any], console: Console) -> None:
    """Per strategy on test: events warned of, how early, how often it cried wolf (under the alarm policy)."""
    rows = [(name, (entry["test"] or {}).get("early_warning")) for name, entry in eval_m["thresholds"].items()]
    if not any(ew for _, ew in rows):
        return  # an eval.json from before early-warning evaluation
    p = eval_m.get("alarm_policy") or {}
    k, n, silence = p.get("k"), p.get("n"), p.get("silence_rows")
    policy = (
        "off, every row over the threshold alarms"
        if (k, n, silence) == (1, 1, 0)
        else f"{k} of the last {n} rows over, then {silence} rows silent"
    )
    unit = next((ew["lead_time_unit"] for _, ew in rows if ew), "minutes")
    per_day = all(ew["false_alarms_per_day"] is not None for _, ew in rows if ew)
    rate = "false alarms / recorded day" if per_day else "false alarms / 1000 rows"
    table = Table(title=f"Early warning on test (alarm policy: {policy})", title_justify="left")
    for col in (
        "strategy",
        "events caught",
        "event recall",
        f"median lead ({unit})",
        "lead IQR",
        rate,
        "alarms / event",
    ):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for name, ew in rows:
        if not ew:
            table.add_row(name, "skipped", *[""] * 5)
            continue
        iqr = "n/a" if ew["lead_time_q1"] is None else f"{ew['lead_time_q1']:.3g}-{ew['lead_time_q3']:.3g}"
        table.add_row(
            name,
            f"{ew['events_caught']}/{ew['events']}",
            _f(ew["event_recall"]),
            _f(ew["lead_time_median"], 1),
            iqr,
            _f(ew["false_alarms_per_day"] if per_day else ew["false_alarms_per_1000_rows"], 2),
            _f(ew["alarms_per_event"], 2),
        )
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rarewatch-summary", description=__doc__)
    parser.add_argument("--root", default=".", help="project directory holding metrics/")
    args = parser.parse_args(argv)
    paths = Paths(Path(args.root))
    console = Console(width=120) if not Console().is_terminal else Console()
    if not paths.eval_metrics.is_file() or not paths.cost_metrics.is_file():
        console.print("no results yet: run `dvc repro` first")
        raise SystemExit(1)
    run = json.loads(paths.run_info.read_text()) if paths.run_info.is_file() else None
    render(json.loads(paths.eval_metrics.read_text()), json.loads(paths.cost_metrics.read_text()), run, console)


if __name__ == "__main__":
    main()
