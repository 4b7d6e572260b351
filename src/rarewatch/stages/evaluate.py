"""Stage evaluate: score val and test; ROC/PR from scores; thresholds chosen on val.

docs/protocol.md: "Thresholds on validation", "AUC from scores".

Beside the row metrics, each threshold gets early-warning figures under the operator alarm policy
(events caught, lead time, false alarms per day), against the events table the label_shift stage wrote.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet, write_json
from rarewatch.config import Config
from rarewatch.data.encoding import Encoder
from rarewatch.data.schema import GROUP, LABEL, SERIES, TIME, in_time_order, series_codes
from rarewatch.data.windows import segments
from rarewatch.errors import DataError
from rarewatch.evaluation import plots
from rarewatch.evaluation.degenerate import evaluation_flags
from rarewatch.evaluation.early_warning import (
    AlarmPolicy,
    early_warning_metrics,
    events_from_labels,
    min_alarm_cost_threshold,
    per_series_figures,
)
from rarewatch.evaluation.explain import top_sensors
from rarewatch.evaluation.metrics import Confusion, by_group, confusion_at, ranking_metrics
from rarewatch.evaluation.smoothing import Smoother
from rarewatch.evaluation.smoothing import choose as choose_smoother
from rarewatch.evaluation.thresholds import max_f1_threshold, min_cost_threshold, percentile_threshold
from rarewatch.models.base import Detector, Rows
from rarewatch.models.encoded import load, to_rows
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.evaluate")


EXPLAIN_CHUNK = 50_000  # rows per block of per-feature contributions (rows x features floats at a time)


def score_frame(df: pd.DataFrame, encoder: Encoder, detector: Detector, max_gap: float) -> pd.DataFrame:
    """time, label, score, top_sensors (and series and group, when the data has them): the contract with
    the cost stage. `score` is the model's; smoothing (smooth_scores) may replace it later."""
    rows = to_rows(df, encoder, max_gap)
    scores = np.asarray(detector.score(rows), dtype=np.float64)
    names = encoder.output_names
    top: list[str] = []
    for start in range(0, len(rows), EXPLAIN_CHUNK):
        part = slice(start, start + EXPLAIN_CHUNK)
        chunk = Rows(x=rows.x[part], y=rows.y[part], time=rows.time[part], segment=rows.segment[part])
        top += top_sensors(detector.contributions(chunk), names)
    out = pd.DataFrame({TIME: df[TIME].to_numpy(), LABEL: df[LABEL].to_numpy(), "score": scores, "top_sensors": top})
    for column in (SERIES, GROUP):
        if column in df:
            out[column] = df[column].to_numpy()
    return out


def smooth_scores(scored: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Any]:
    """Replace each frame's score by its smoothed score (keeping the model's as raw_score); the smoother
    is the configured one, or with method auto the best candidate on validation. Returns what was done."""
    c = cfg.smoothing
    seg = {split: segments(df[TIME].to_numpy(), cfg.data.max_gap, series_codes(df)) for split, df in scored.items()}
    tried: dict[str, float | None] = {}
    if c.method == "auto":
        val = scored["val"]
        smoother, tried = choose_smoother(val[LABEL].to_numpy(), val["score"].to_numpy(), seg["val"])
    else:
        smoother = Smoother(c.method, window=c.window, span=c.span)
    for split, df in scored.items():
        df["raw_score"] = df["score"]
        df["score"] = smoother.apply(df["raw_score"].to_numpy(), seg[split])
    return {"method": c.method, "applied": smoother.label, "validation_pr_auc": tried}


def choose_thresholds(val: pd.DataFrame, cfg: Config) -> dict[str, float | None]:
    """Every configured strategy, fitted on validation scores only."""
    y, s = val[LABEL].to_numpy(), val["score"].to_numpy()
    c = cfg.cost
    chosen: dict[str, float | None] = {}
    for strategy in cfg.threshold.strategies:
        if strategy == "percentile":
            chosen[strategy] = percentile_threshold(y, s, cfg.threshold.percentile)
        elif strategy == "max_f1":
            chosen[strategy] = max_f1_threshold(y, s)
        elif c.false_alarm_pricing == "per_alarm":
            # The cost stage's pricing: false positives per false operator alarm (alarms need time order).
            v = in_time_order(val)
            chosen[strategy] = min_alarm_cost_threshold(
                v[LABEL].to_numpy(),
                v["score"].to_numpy(),
                c.tn,
                c.fp,
                c.fn,
                c.tp,
                AlarmPolicy.from_config(cfg.alarm),
                series_codes(v),
            )
        else:
            chosen[strategy] = min_cost_threshold(y, s, c.tn, c.fp, c.fn, c.tp)
    return chosen


def operator_alarms(df: pd.DataFrame, threshold: float, policy: AlarmPolicy) -> np.ndarray:
    """The alarms an operator would see, per row of `df` (sorted by series, then time)."""
    return policy.apply(df["score"].to_numpy(dtype=np.float64) >= threshold, series_codes(df))


def split_events(df: pd.DataFrame, events: pd.DataFrame | None, horizon: int) -> pd.DataFrame:
    """The events table, or (without one) an estimate from the split's shifted labels."""
    return events if events is not None else events_from_labels(df[TIME], df[LABEL].to_numpy(), horizon)


def _series_of(df: pd.DataFrame) -> np.ndarray | None:
    return df[SERIES].to_numpy() if SERIES in df else None


def run(scored: dict[str, pd.DataFrame], cfg: Config, events: pd.DataFrame | None = None) -> dict[str, Any]:
    """Metrics for scored val and test frames (columns time, label, score; series and group if any).

    `events` is the events table (event, series, start_time, end_time, rows) of the original labels;
    without it, event start times are estimated from each split's shifted labels (see events_from_labels).
    """
    thresholds = choose_thresholds(scored["val"], cfg)
    policy = AlarmPolicy.from_config(cfg.alarm)
    ordered = {split: in_time_order(df) for split, df in scored.items()}
    horizon = cfg.label_shift.horizon or 0
    tables = {split: split_events(df, events, horizon) for split, df in ordered.items()}
    d = cfg.data
    result: dict[str, Any] = {
        split: ranking_metrics(df[LABEL].to_numpy(), df["score"].to_numpy()) for split, df in scored.items()
    }
    result["thresholds"] = {}
    for name, value in thresholds.items():
        entry: dict[str, Any] = {"value": value}
        for split, df in scored.items():
            y, s = df[LABEL].to_numpy(), df["score"].to_numpy()
            entry[split] = None if value is None else confusion_at(y, s, value).as_dict()
            if value is not None and GROUP in df:
                entry[split]["by_group"] = by_group(y, s, df[GROUP].to_numpy(), value)
            # Rows without a time axis (data.time_column=null) have no "before": no early warning.
            if value is not None and d.time_column is not None:
                o, ev = ordered[split], tables[split]
                alarms = operator_alarms(o, value, policy)
                where = {
                    "unit": d.time_unit,
                    "series": _series_of(o),
                    "event_series": ev["series"].to_numpy() if SERIES in o and "series" in ev else None,
                    "max_gap": d.max_gap,
                }
                if where["series"] is not None and where["event_series"] is None:
                    raise DataError("the events table has no series column; rerun the label_shift stage")
                entry[split]["early_warning"] = early_warning_metrics(
                    o[TIME], o[LABEL].to_numpy(), alarms, ev["start_time"], ev["end_time"], **where
                )
                if where["series"] is not None:
                    entry[split]["by_series"] = per_series_figures(
                        o[TIME], o[LABEL].to_numpy(), o["score"].to_numpy(), alarms, ev["start_time"], ev["end_time"],
                        **where,
                    )  # fmt: skip
        result["thresholds"][name] = entry
    result["alarm_policy"] = policy.as_dict()
    e = cfg.evaluation
    result["degenerate"] = evaluation_flags(result, e.min_positives, e.max_alarm_share)
    for split in scored:
        n_pos = result[split]["n_positive"]
        result[split]["reliable"] = n_pos >= e.min_positives
        result[split]["note"] = None if n_pos >= e.min_positives else f"unreliable: {n_pos} positives"
    return result


def write_plots(
    scored: dict[str, pd.DataFrame],
    result: dict[str, Any],
    directory: Path,
    cfg: Config,
    events: pd.DataFrame | None,
) -> None:
    tables = {}
    for split, df in scored.items():
        if result[split]["roc_auc"] is None:
            continue
        tables[split] = plots.curve_tables(df[LABEL].to_numpy(), df["score"].to_numpy())
        for kind, table in tables[split].items():
            table.to_csv(directory / f"{kind}_{split}.csv", index=False)
    if tables:
        plots.roc_pr_figure(tables, result, directory / "roc_pr.png")
    confusions = {}
    for name, entry in result["thresholds"].items():
        for split in scored:
            if entry[split] is not None:
                c = entry[split]
                confusions[f"{split} @ {name}"] = Confusion(c["tn"], c["fp"], c["fn"], c["tp"])
    plots.confusion_figure(
        confusions, "Confusion matrices (thresholds chosen on validation)", directory / "confusion.png"
    )
    plots.score_timeline(scored, {k: v["value"] for k, v in result["thresholds"].items()}, directory / "scores.png")
    if cfg.data.time_column is not None:
        write_alarm_timeline(scored, result, cfg, events, directory / "timeline.png")


def write_alarm_timeline(
    scored: dict[str, pd.DataFrame], result: dict[str, Any], cfg: Config, events: pd.DataFrame | None, path: Path
) -> None:
    """Test (and val) over time at the min_cost threshold (else the first one chosen), with alarms."""
    chosen = {k: v["value"] for k, v in result["thresholds"].items() if v["value"] is not None}
    if not chosen:
        return
    name = "min_cost" if "min_cost" in chosen else next(iter(chosen))
    policy = AlarmPolicy.from_config(cfg.alarm)
    frames = {split: in_time_order(scored[split]) for split in ("test", "val") if split in scored}
    alarms = {split: operator_alarms(df, chosen[name], policy) for split, df in frames.items()}
    if events is None:
        events = pd.concat([split_events(df, None, cfg.label_shift.horizon or 0) for df in frames.values()])
    label = name if policy.is_off else f"{name} (alarm: {policy.k} of {policy.n}, silence {policy.silence})"
    plots.alarm_timeline(frames, alarms, events, chosen[name], label, path)


def execute(cfg: Config, paths: Paths) -> None:
    encoder, detector = load(paths.model_dir, cfg.trainer)
    scored = {
        split: score_frame(read_parquet(paths.split(split), "split"), encoder, detector, cfg.data.max_gap)
        for split in ("val", "test")
    }
    events = read_parquet(paths.events, "label_shift")
    smoothing = smooth_scores(scored, cfg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(scored, cfg, events)
    result["smoothing"] = smoothing
    for w in caught:
        log.warning("%s", w.message)
    result["warnings"] = [str(w.message) for w in caught]
    # What the label shift did, so the summary and MLflow say which task was measured.
    result["label_shift"] = json.loads(paths.shift_report.read_text()) if paths.shift_report.is_file() else None
    with atomic_dir(paths.scores("val").parent) as tmp:
        for split, df in scored.items():
            df.to_parquet(tmp / f"{split}.parquet", index=False)
    with atomic_dir(paths.eval_plots) as tmp:
        write_plots(scored, result, tmp, cfg, events)
    write_json(result, paths.eval_metrics)
    for split in scored:
        m = result[split]
        log.info(
            "%-4s ROC-AUC %s  PR-AUC %s (no skill %.4f)", split, _f(m["roc_auc"]), _f(m["pr_auc"]), m["pr_auc_no_skill"]
        )
    for name, entry in result["thresholds"].items():
        ew = (entry["test"] or {}).get("early_warning")
        if ew:
            rate, unit = (
                (ew["false_alarms_per_day"], "day")
                if ew["false_alarms_per_day"] is not None
                else (ew["false_alarms_per_1000_rows"], "1000 rows")
            )
            log.info(
                "test @ %-10s events caught %d/%d, median lead time %s %s, false alarms %s per %s",
                name,
                ew["events_caught"],
                ew["events"],
                _f(ew["lead_time_median"]),
                ew["lead_time_unit"],
                _f(rate),
                unit,
            )


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("evaluate", execute, argv)


if __name__ == "__main__":
    main()
