"""Stage evaluate: score val and test, ROC/PR from scores, thresholds chosen on val (protocol 3, 4)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet, write_json
from rarewatch.config import Config
from rarewatch.data.features import FeaturePipeline
from rarewatch.data.schema import GROUP, LABEL, TIME
from rarewatch.evaluation import plots
from rarewatch.evaluation.metrics import Confusion, by_group, confusion_at, ranking_metrics
from rarewatch.evaluation.thresholds import max_f1_threshold, min_cost_threshold, percentile_threshold
from rarewatch.models.base import Detector
from rarewatch.paths import Paths
from rarewatch.stages.train import load, to_rows

log = logging.getLogger(__name__)


def score_frame(df: pd.DataFrame, features: FeaturePipeline, detector: Detector) -> pd.DataFrame:
    """time, label, score (and group, when the data has one): the contract with the cost stage."""
    scores = np.asarray(detector.score(to_rows(df, features)), dtype=np.float64)
    out = pd.DataFrame({TIME: df[TIME].to_numpy(), LABEL: df[LABEL].to_numpy(), "score": scores})
    if GROUP in df:
        out[GROUP] = df[GROUP].to_numpy()
    return out


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
        else:
            chosen[strategy] = min_cost_threshold(y, s, c.tn, c.fp, c.fn, c.tp)
    return chosen


def run(scored: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Any]:
    """Metrics for scored val and test frames (columns time, label, score)."""
    thresholds = choose_thresholds(scored["val"], cfg)
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
        result["thresholds"][name] = entry
    return result


def write_plots(scored: dict[str, pd.DataFrame], result: dict[str, Any], directory: Path) -> None:
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
    plots.confusion_figure(confusions, "Confusion matrices (thresholds chosen on validation)",
                           directory / "confusion.png")
    plots.score_timeline(scored, {k: v["value"] for k, v in result["thresholds"].items()},
                         directory / "scores.png")


def execute(cfg: Config, paths: Paths) -> None:
    features, detector = load(paths.model_dir, cfg)
    scored = {
        split: score_frame(read_parquet(paths.split(split), "split"), features, detector) for split in ("val", "test")
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(scored, cfg)
    for w in caught:
        log.warning("%s", w.message)
    result["warnings"] = [str(w.message) for w in caught]
    with atomic_dir(paths.scores("val").parent) as tmp:
        for split, df in scored.items():
            df.to_parquet(tmp / f"{split}.parquet", index=False)
    with atomic_dir(paths.eval_plots) as tmp:
        write_plots(scored, result, tmp)
    write_json(result, paths.eval_metrics)
    for split in scored:
        m = result[split]
        log.info("%-4s ROC-AUC %s  PR-AUC %s (no skill %.4f)", split, _f(m["roc_auc"]), _f(m["pr_auc"]),
                 m["pr_auc_no_skill"])


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("evaluate", execute, argv)


if __name__ == "__main__":
    main()
