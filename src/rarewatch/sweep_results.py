"""A sweep's job results: the record each job writes, their ranking, and the table the sweep prints.

Each job writes `result.json` in its own directory: status `running` from its start (with its pid and,
once it has one, its MLflow run), then `finished` with its figures, `failed` with a one-line error, or
`killed`. The sweep reads back the records that carry its id, so its table lists exactly its own jobs,
including the ones that failed or died.

The table has one line per job. Of the overrides only those that differ between jobs are columns
(short names, shortened values); the ones all jobs share are listed once under it. Each threshold
strategy the jobs use gets its test F1 and recall at the job's own threshold. Jobs whose metrics are
flagged degenerate (eval.json / cost.json `degenerate`) are ranked after the others, failed jobs last.

Everything here but the record files' reading and writing is pure, and tested without running a sweep.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

RESULT_FILE = "result.json"
Status = Literal["running", "finished", "failed", "killed"]
# The order strategies appear in conf/threshold (others follow, by name).
STRATEGY_ORDER = ("percentile", "max_f1", "min_cost")
VALUE_WIDTH = 24  # override values longer than this are shortened in the table


class Flag(BaseModel):
    """One reason a job's metrics are degenerate (eval.json / cost.json `degenerate` entries)."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str


class StrategyFigures(BaseModel):
    """Test figures at the threshold one strategy chose on validation (None: the strategy was skipped)."""

    threshold: float | None
    f1: float | None = None
    recall: float | None = None
    precision: float | None = None
    event_recall: float | None = None


class JobResult(BaseModel):
    """A job's record (result.json). Figures are None until the job has finished."""

    sweep_id: str | None  # None for a single run
    num: int
    overrides: list[str]
    status: Status
    pid: int | None = None
    run_id: str | None = None  # the job's MLflow run, as soon as it exists
    error: str | None = None  # one line
    input_error: bool = False  # the error is bad config or data (RarewatchError), not a fault of the code or store
    val_cost: float | None = None
    test_cost: float | None = None
    test_savings: float | None = None
    test_roc_auc: float | None = None
    test_pr_auc: float | None = None
    test_pr_auc_no_skill: float | None = None
    best_threshold: float | None = None
    strategies: dict[str, StrategyFigures] = {}
    degenerate: list[Flag] = []
    data_reused: bool | None = None
    model_reused: bool | None = None
    train_seconds: float | None = None  # None when the model was reused: this job trained nothing


_FLAGS = TypeAdapter(list[Flag])


def degenerate_flags(eval_m: dict[str, Any], cost_m: dict[str, Any]) -> list[Flag]:
    """The `degenerate` entries of eval.json and cost.json (a missing key: none), without repeats."""
    flags: list[Flag] = []
    for name, metrics in (("metrics/eval.json", eval_m), ("metrics/cost.json", cost_m)):
        try:
            entries = _FLAGS.validate_python(metrics.get("degenerate", []))
        except ValidationError as exc:
            raise ValueError(
                f'{name}: \'degenerate\' must be a list of {{"code": str, "message": str}}, got '
                f"{metrics.get('degenerate')!r} ({exc.errors()[0]['msg']}); the evaluate and cost stages write it"
            ) from None
        flags += [f for f in entries if f not in flags]
    return flags


def finished_figures(
    eval_m: dict[str, Any], cost_m: dict[str, Any], timings: dict[str, Any], *, data_reused: bool, model_reused: bool
) -> dict[str, Any]:
    """The fields of a finished JobResult, from the job's metrics files."""
    strategies = {}
    for name, entry in eval_m["thresholds"].items():
        test = entry.get("test") or {}
        strategies[name] = StrategyFigures(
            threshold=entry.get("value"),
            f1=test.get("f1"),
            recall=test.get("recall"),
            precision=test.get("precision"),
            event_recall=(test.get("early_warning") or {}).get("event_recall"),
        )
    return {
        "status": "finished",
        "val_cost": cost_m["val_cost"],
        "test_cost": cost_m["test_cost"],
        "test_savings": cost_m["test_savings"],
        "test_roc_auc": eval_m["test"]["roc_auc"],
        "test_pr_auc": eval_m["test"]["pr_auc"],
        "test_pr_auc_no_skill": eval_m["test"].get("pr_auc_no_skill"),
        "best_threshold": cost_m["best_threshold"],
        "strategies": strategies,
        "degenerate": degenerate_flags(eval_m, cost_m),
        "data_reused": data_reused,
        "model_reused": model_reused,
        "train_seconds": None if model_reused else timings["train_seconds"],
    }


def write_result(job_dir: Path, result: JobResult) -> None:
    """Replace the job's record atomically: the sweep may read it at any moment."""
    job_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{RESULT_FILE}.", dir=job_dir)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(result.model_dump_json(indent=2) + "\n")
        os.replace(tmp, job_dir / RESULT_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_results(sweep_dir: Path, sweep_id: str) -> dict[Path, JobResult]:
    """{job directory: record} of sweep `sweep_id` (one job per subdirectory of its directory), by job number."""
    found = {p.parent: JobResult.model_validate_json(p.read_text()) for p in sweep_dir.glob(f"*/{RESULT_FILE}")}
    mine = [(d, r) for d, r in found.items() if r.sweep_id == sweep_id]
    return dict(sorted(mine, key=lambda item: item[1].num))


# ------------------------------------------------------------------------------------------ ranking


def is_degenerate(result: JobResult) -> bool:
    return bool(result.degenerate)


def rank(results: list[JobResult]) -> list[JobResult]:
    """Finished jobs by validation cost, those flagged degenerate after the others; then unfinished ones.

    Ties go to the lower job number, so the order is the same every time.
    """

    def key(r: JobResult) -> tuple[int, float, int]:
        if r.status != "finished" or r.val_cost is None:
            return (2, 0.0, r.num)
        return (1 if is_degenerate(r) else 0, r.val_cost, r.num)

    return sorted(results, key=key)


# ---------------------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[str, str]:
    """('model.hidden_dims', '[8,4,8]') for 'model.hidden_dims=[8,4,8]'; Hydra's +, ++ and ~ prefixes dropped."""
    key, sep, value = text.partition("=")
    key = key.lstrip("+~")
    if not sep:
        return key, "(deleted)" if text.startswith("~") else ""
    return key, value


def override_columns(results: list[JobResult]) -> tuple[list[str], dict[str, str]]:
    """(keys whose value differs between jobs, {key: value} of the overrides every job shares).

    A key some jobs set and others leave at its default differs. Keys keep their command-line order.
    """
    per_job = [dict(parse_override(o) for o in r.overrides) for r in results]
    keys: list[str] = []
    for overrides in per_job:
        keys += [k for k in overrides if k not in keys]
    differing, common = [], {}
    for key in keys:
        values = [overrides.get(key) for overrides in per_job]
        if len(set(values)) > 1:
            differing.append(key)
        elif values and values[0] is not None:
            common[key] = values[0]
    return differing, common


def short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key by its last part, or by as many trailing parts as it takes to be unambiguous.

    ['model.hidden_dims', 'seed', 'data.synthetic.seed'] -> hidden_dims, seed, synthetic.seed.
    """
    parts = {k: k.split(".") for k in keys}
    names = {}
    for key, own in parts.items():
        for n in range(1, len(own) + 1):
            tail = own[-n:]
            if not any(other != key and p[-n:] == tail for other, p in parts.items()):
                break
        names[key] = ".".join(tail)
    return names


def _is_path(value: str) -> bool:
    return "/" in value and not value.startswith(("[", "{")) and "," not in value


def shorten(value: str, path_parts: int = 1, width: int = VALUE_WIDTH) -> str:
    """A value short enough for a table cell.

    A path becomes its last `path_parts` parts (its file name by default); a long list keeps its first
    two items and its last (`[1,2,…,9]`); another long value keeps its start and end.
    """
    if _is_path(value):
        return "/".join(value.rstrip("/").split("/")[-path_parts:])
    if len(value) <= width:
        return value
    if value.startswith("[") and value.endswith("]"):
        items = value[1:-1].split(",")
        if len(items) > 3:
            return f"[{items[0]},{items[1]},…,{items[-1]}]"
    half = (width - 1) // 2
    return f"{value[:half]}…{value[-half:]}"


def shorten_column(values: list[str | None]) -> list[str]:
    """`shorten` for every value of one column, as long as distinct values stay distinct.

    Two files of the same name in different directories get as many parent directories as it takes;
    values that still collide are shown in full. None (a job that leaves the key at its default) is
    '(default)'.
    """
    distinct = sorted({v for v in values if v is not None})
    deepest = max((v.count("/") + 1 for v in distinct), default=1)
    short = {v: v for v in distinct}
    for parts in range(1, deepest + 1):
        candidate = {v: shorten(v, parts) for v in distinct}
        if len(set(candidate.values())) == len(distinct):
            short = candidate
            break
    return ["(default)" if v is None else short[v] for v in values]


def strategies_used(results: list[JobResult]) -> list[str]:
    """Every threshold strategy any finished job used, in conf/threshold's order."""
    used = {name for r in results for name in r.strategies}
    return [s for s in STRATEGY_ORDER if s in used] + sorted(used - set(STRATEGY_ORDER))


# -------------------------------------------------------------------------------------------- table


@dataclass(frozen=True)
class SweepTable:
    """The sweep's table as text cells: what is printed, and logged to the sweep's parent run."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    align: list[Literal["left", "right"]]  # per column: text left, figures right
    notes: list[str] = field(default_factory=list)


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _seconds(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.2f}" if x < 10 else f"{x:.0f}"


def _cost(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def build_table(results: list[JobResult], label: str) -> SweepTable:
    ranked = rank(results)
    keys, common = override_columns(ranked)
    names = short_names(keys)
    columns = {k: shorten_column([dict(parse_override(o) for o in r.overrides).get(k) for r in ranked]) for k in keys}
    strategies = strategies_used(ranked)
    headers = ["job", *(names[k] for k in keys), "val cost", "test cost", "ROC-AUC", "PR-AUC"]
    for s in strategies:
        headers += [f"{s}\nF1", f"{s}\nrecall"]
    headers += ["model", "train s", "degenerate"]

    rows = []
    for i, r in enumerate(ranked):
        row = [str(r.num), *(columns[k][i] for k in keys)]
        if r.status == "finished":
            row += [_cost(r.val_cost), _cost(r.test_cost), _num(r.test_roc_auc), _num(r.test_pr_auc)]
            for s in strategies:
                fig = r.strategies.get(s)
                row += ["", ""] if fig is None else [_num(fig.f1), _num(fig.recall)]
            # A reused model was trained by another job (or sweep): its training time is not this job's.
            trained = not r.model_reused
            row += ["trained" if trained else "reused", _seconds(r.train_seconds) if trained else "", _codes(r)]
        else:
            row += [""] * (4 + 2 * len(strategies)) + [r.status, "", ""]
        rows.append(row)

    finished = sum(r.status == "finished" for r in ranked)
    unfinished = len(ranked) - finished
    degenerate = sum(r.status == "finished" and is_degenerate(r) for r in ranked)
    counts = f"{len(ranked)} job{'s' if len(ranked) != 1 else ''}, {finished} finished"
    if unfinished:
        counts += f", {unfinished} failed"
    title = f"{label}: {counts}"
    if len(ranked) > 1:
        title += "; ranked by validation cost" + (", degenerate results last" if degenerate else "")

    notes = []
    if strategies:
        notes.append("F1, recall: on test, at the threshold each strategy chose on validation")
    if common:
        notes.append("every job: " + " ".join(f"{k}={shorten(v)}" for k, v in common.items()))
    seen: dict[str, str] = {}
    for r in ranked:
        for flag in r.degenerate:
            seen.setdefault(flag.code, flag.message)
    notes += [f"degenerate {code}: {message}" for code, message in seen.items()]
    notes += [f"job {r.num} {r.status}: {r.error or 'no error recorded'}" for r in ranked if r.status != "finished"]
    left: list[Literal["left", "right"]] = ["left"]
    right: list[Literal["left", "right"]] = ["right"]
    align = left * (1 + len(keys)) + right * (4 + 2 * len(strategies)) + left + right + left
    return SweepTable(title, headers, rows, align, notes)


REPEAT_KEYS = ("split.fold", "seed")  # overrides that repeat one configuration rather than change it


def _mean_std(values: list[float], digits: int = 3) -> str:
    if not values:
        return "n/a"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def aggregate_table(results: list[JobResult], label: str) -> SweepTable | None:
    """Mean ± std (sample std) over the folds and seeds of each configuration, when the sweep varies
    split.fold or seed; None otherwise. One fold is one draw: evidence comes from the spread over folds."""
    keys, _ = override_columns(results)
    repeats = [k for k in keys if k in REPEAT_KEYS]
    if not repeats:
        return None
    others = [k for k in keys if k not in REPEAT_KEYS]
    names = short_names(others)
    groups: dict[tuple[str | None, ...], list[JobResult]] = {}
    for r in results:
        if r.status == "finished":
            overrides = dict(parse_override(o) for o in r.overrides)
            groups.setdefault(tuple(overrides.get(k) for k in others), []).append(r)
    headers = [*(names[k] for k in others), "runs", "test ROC-AUC", "test PR-AUC", "PR-AUC / no skill",
               "test cost", "savings > 0"]  # fmt: skip
    rows = []
    for values, group in groups.items():
        lift = [r.test_pr_auc / r.test_pr_auc_no_skill for r in group if r.test_pr_auc and r.test_pr_auc_no_skill]
        rows.append(
            [
                *(shorten(v) if v is not None else "" for v in values),
                str(len(group)),
                _mean_std([r.test_roc_auc for r in group if r.test_roc_auc is not None]),
                _mean_std([r.test_pr_auc for r in group if r.test_pr_auc is not None], 4),
                _mean_std(lift, 2),
                _mean_std([r.test_cost for r in group if r.test_cost is not None], 0),
                f"{sum((r.test_savings or 0) > 0 for r in group)}/{len(group)}",
            ]
        )
    rows.sort(key=lambda row: row[len(others) + 1], reverse=True)
    align: list[Literal["left", "right"]] = ["left"] * len(others) + ["right"] * 6
    notes = [f"mean ± std over {' and '.join(repeats)}; figures on test at each run's own validation threshold"]
    return SweepTable(f"{label}: over {', '.join(repeats)}", headers, rows, align, notes)


def _codes(result: JobResult) -> str:
    return ",".join(dict.fromkeys(f.code for f in result.degenerate))


def table_text(table: SweepTable) -> str:
    """The title, the table and its notes as plain text, one line per job however wide that makes it.

    Plain (no colour) and never wrapped to the terminal: the same text is printed, logged to the
    sweep's parent run, and read by tests; a wrapped row would be several lines per job.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    out = Table(box=box.SIMPLE_HEAD)
    for header, justify in zip(table.headers, table.align, strict=True):
        out.add_column(header, justify=justify, no_wrap=True)
    for row in table.rows:
        out.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=10_000, color_system=None, highlight=False).print(out)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    return "\n".join([table.title, *(line for line in lines if line), *table.notes]) + "\n"


def print_table(table: SweepTable) -> None:
    sys.stdout.write(table_text(table))
    sys.stdout.flush()


def results_json(results: list[JobResult]) -> str:
    """The ranked records as a JSON list (the sweep's parent run keeps it as sweep_jobs.json)."""
    return json.dumps([r.model_dump(mode="json") for r in rank(results)], indent=2)
