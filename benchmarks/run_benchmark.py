"""Every model family x every data set, across folds and seeds, under rarewatch's protocol.

    python benchmarks/run_benchmark.py                                   # everything (hours on 2 cores)
    python benchmarks/run_benchmark.py --setups paper_mill --models ecod,isolation_forest
    python benchmarks/run_benchmark.py --from-csv                        # rewrite RESULTS.md only

Each (setup, model, seed, fold) job runs in its own process (so peak memory is that job's), through the
same in-process pipeline as `rarewatch-sweep` (thresholds chosen on validation, test scored once), two
jobs at a time with one torch thread each. Setups with rolling-origin folds run every fold; stochastic
families run several seeds, deterministic ones (pca, ecod, copod, knn, lof) one. Writes
benchmarks/results.csv (one row per job, with its fold and seed) and benchmarks/RESULTS.md (mean ± std
over folds and seeds).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setup:
    """A data set with the protocol settings of its experiment config, minus the model (varied here)."""

    overrides: list[str]
    folds: int | None = None  # rolling-origin folds (split.fold = 0 .. folds-1); None: the experiment's one split
    time_axis: bool = True
    note: str = ""
    extra_models: list[str] = field(default_factory=list)


SETUPS: dict[str, Setup] = {
    "synthetic": Setup([], note="the embedded default data (time split 60/20/20, H=2)"),
    "paper_mill": Setup(
        ["+experiment=paper_mill_rolling"],
        folds=4,
        note="H=2, rolling origin: initial 40 %, 4 folds; each model on the sensors' own values (features=none)",
    ),
    "paper_mill_rolling_features": Setup(
        ["+experiment=paper_mill_rolling", "features=rolling"],
        folds=4,
        note="the same folds with conf/features/rolling.yaml (past-only rolling statistics per sensor)",
    ),
    "paper_mill_best": Setup(
        ["+experiment=paper_mill_best"],
        folds=4,
        note="the configuration rarewatch-search chose on validation (conf/experiment/paper_mill_best.yaml)",
    ),
    # The published paper-mill figures come from random row splits; this setup repeats that (leaky)
    # protocol so the numbers can be compared, and shows how much of them the leak explains.
    "paper_mill_random_rows": Setup(
        [
            "+experiment=paper_mill_ae",
            "data.time_column=null",
            "data.time_format=null",
            "data.drop_columns=[time]",
            "split.method=random",
        ],
        time_axis=False,
        note="LEAKY reference: rows split at random, as the published figures were",
    ),  # fmt: skip
    "secom": Setup(["+experiment=secom_ae"], note="one wafer per row, H=0, time split"),
    "ton_iot_fridge": Setup(["+experiment=fridge_unordered"], time_axis=False, note="rows split at random"),
    "kddcup99": Setup(["+experiment=kdd_ae"], time_axis=False, note="train on the 10 % file, test on corrected"),
}
MODELS = [
    "dense_ae", "denoising_ae", "vae", "lstm_ae", "lstm_classifier",
    "isolation_forest", "pca", "gradient_boosting", "ecod", "copod", "knn", "lof",
]  # fmt: skip
SEQUENCE_MODELS = {"lstm_ae", "lstm_classifier"}
DETERMINISTIC = {"pca", "ecod", "copod", "knn", "lof"}  # the seed changes nothing: one run per fold
BASELINES = {"isolation_forest", "pca", "gradient_boosting", "ecod", "copod", "knn", "lof"}

# Published figures where a comparable one exists (the source notebooks / blog posts).
REFERENCES: dict[tuple[str, str], str] = {
    ("paper_mill_random_rows", "dense_ae"): "ROC-AUC 0.62, F1 0.075",
    ("paper_mill_random_rows", "lstm_ae"): "ROC-AUC 0.71 (windows over random rows: not reproducible here)",
    ("paper_mill", "ecod"): "peers: PyOD ECOD 0.67 on one chronological test split",
    ("paper_mill", "isolation_forest"): "peers: PyOD IForest 0.62 on one chronological test split",
    ("paper_mill_rolling_features", "gradient_boosting"): "peers: GB on rolling features about 0.69, one split",
}


@dataclass(frozen=True)
class Job:
    setup: str
    model: str
    seed: int
    fold: int | None

    @property
    def label(self) -> str:
        return f"{self.setup}-{self.model}-s{self.seed}" + ("" if self.fold is None else f"-f{self.fold}")


def job_overrides(job: Job) -> list[str]:
    return [
        *SETUPS[job.setup].overrides,
        f"model={job.model}",
        f"seed={job.seed}",
        *([] if job.fold is None else [f"split.fold={job.fold}"]),
        "trainer.progress_bar=false",
        "trainer.num_threads=1",
    ]


def jobs_for(setups: list[str], models: list[str], seeds: list[int]) -> list[Job]:
    jobs = []
    for setup in setups:
        s = SETUPS[setup]
        if setup == "paper_mill_best" and not (ROOT / "conf/experiment/paper_mill_best.yaml").is_file():
            continue  # no search result yet (rarewatch-search conf/search/paper_mill.yaml)
        folds: list[int | None] = list(range(s.folds)) if s.folds else [None]
        for model in [_best_model()] if setup == "paper_mill_best" else models:
            if model in SEQUENCE_MODELS and not s.time_axis:
                continue  # no order, no window: reported as not applicable
            for seed in seeds[:1] if model in DETERMINISTIC else seeds:
                jobs += [Job(setup, model, seed, fold) for fold in folds]
    return jobs


def _best_model() -> str:
    """The family the search's experiment file chose (its `override /model:` line)."""
    for line in (ROOT / "conf/experiment/paper_mill_best.yaml").read_text().splitlines():
        if "override /model:" in line:
            return line.split(":", 1)[1].strip()
    return "dense_ae"


def run_job_in_process(job: Job, cache: Path) -> dict[str, Any]:
    from rarewatch.composition import compose
    from rarewatch.config import config_from_dict, with_absolute_data_paths
    from rarewatch.models.registry import resolve
    from rarewatch.pipeline.inprocess import run_pipeline

    overrides = job_overrides(job)
    if job.setup == "paper_mill_best":
        overrides = [o for o in overrides if not o.startswith("model=")]
    cfg = with_absolute_data_paths(resolve(config_from_dict(compose(overrides))), ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_pipeline(cfg, Path(tmp), cache)
        wall = time.perf_counter() - start
        eval_m = json.loads(result.paths.eval_metrics.read_text())
        cost_m = json.loads(result.paths.cost_metrics.read_text())
        timings = json.loads(result.paths.timings.read_text())
    test, val = eval_m["test"], eval_m["val"]
    row: dict[str, Any] = {
        "setup": job.setup,
        "model": job.model,
        "seed": job.seed,
        "fold": job.fold,
        "features": cfg.features.name,
        "test_roc_auc": test["roc_auc"],
        "test_pr_auc": test["pr_auc"],
        "test_pr_auc_no_skill": test["pr_auc_no_skill"],
        "test_positives": test["n_positive"],
        "val_pr_auc": val["pr_auc"],
        "val_pr_auc_no_skill": val["pr_auc_no_skill"],
        "test_cost": cost_m["test_cost"],
        "test_no_alarm_cost": cost_m["test_no_alarm_cost"],
        "test_savings": cost_m["test_savings"],
        "degenerate": len(eval_m.get("degenerate", [])) + len(cost_m.get("degenerate", [])),
        "smoothing": (eval_m.get("smoothing") or {}).get("applied"),
        "train_seconds": timings["train_seconds"],
        "job_seconds": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    for strategy in ("max_f1", "min_cost", "percentile"):
        t = eval_m["thresholds"].get(strategy, {}).get("test")
        row[f"test_f1_{strategy}"] = t["f1"] if t else None
        row[f"test_recall_{strategy}"] = t["recall"] if t else None
        ew = (t or {}).get("early_warning") or {}
        row[f"event_recall_{strategy}"] = ew.get("event_recall")
    return row


def run_job_subprocess(job: Job, cache: Path, log_dir: Path) -> dict[str, Any]:
    out = log_dir / f"{job.label}.json"
    log = log_dir / f"{job.label}.log"
    cmd = [sys.executable, __file__, "--job", job.setup, job.model, str(job.seed),
           "" if job.fold is None else str(job.fold), "--cache", str(cache), "--job-out", str(out)]  # fmt: skip
    with log.open("w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    if proc.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:] or ["(no output)"]
        return {"setup": job.setup, "model": job.model, "seed": job.seed, "fold": job.fold, "error": tail[0][:300]}
    return json.loads(out.read_text())


# ------------------------------------------------------------------------------------------- tables


def fmt(mean: float, std: float, digits: int = 3) -> str:
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if not pd.isna(std) else f"{mean:.{digits}f}"


COLUMNS = [  # (column, digits)
    ("test_roc_auc", 3), ("test_pr_auc", 4), ("pr_lift", 2), ("test_f1_min_cost", 3), ("test_recall_min_cost", 3),
    ("event_recall_min_cost", 3), ("test_savings", 0), ("train_seconds", 1), ("peak_rss_mb", 0),
]  # fmt: skip
HEADERS = ["test ROC-AUC", "test PR-AUC", "PR-AUC / no skill", "F1 @min_cost", "recall @min_cost",
           "event recall @min_cost", "savings", "train s", "peak RSS MB"]  # fmt: skip


def summarise(rows: pd.DataFrame) -> str:
    rows = rows.copy()
    if "error" not in rows:
        rows["error"] = None
    ok = rows[rows["error"].isna()].copy()
    ok["pr_lift"] = ok["test_pr_auc"] / ok["test_pr_auc_no_skill"]
    lines: list[str] = []
    for setup, spec in SETUPS.items():
        sub = ok[ok["setup"] == setup]
        if sub.empty:
            continue
        agg = sub.groupby("model")[[c for c, _ in COLUMNS]].agg(["mean", "std"])
        runs = sub.groupby("model").size()
        folds = sub.groupby("model")["fold"].nunique()
        seeds = sub.groupby("model")["seed"].nunique()
        positive = sub.assign(p=sub["test_savings"] > 0).groupby("model")["p"].sum()
        lines += [f"### {setup}", "", spec.note + ".", ""]
        lines.append(
            f"Test positives per run: {sub['test_positives'].mean():.0f} on average "
            f"(PR-AUC no-skill {sub['test_pr_auc_no_skill'].mean():.4f})"
            + ("" if spec.time_axis else "; no time axis: temporal features and sequence models do not apply")
            + "."
        )
        lines += ["", "| model | runs (folds × seeds) | " + " | ".join(HEADERS) + " | savings > 0 | published |",
                  "|---|---|" + "---|" * (len(HEADERS) + 2)]  # fmt: skip
        order = agg.sort_values(("test_roc_auc", "mean"), ascending=False)
        for model, r in order.iterrows():
            name = f"{model} (baseline)" if model in BASELINES else model
            cells = [fmt(r[(c, "mean")], r[(c, "std")], d) for c, d in COLUMNS]
            shape = f"{runs[model]} ({folds[model] or 1} × {seeds[model]})"
            lines.append(
                f"| {name} | {shape} | " + " | ".join(cells)
                + f" | {int(positive[model])}/{runs[model]} | {REFERENCES.get((setup, model), '')} |"
            )  # fmt: skip
        failed = rows[(rows["setup"] == setup) & rows["error"].notna()].drop_duplicates(["model"])
        for _, r in failed.iterrows():
            lines.append(f"| {r['model']} | 0 | not run: {r['error']} |" + " |" * (len(HEADERS) + 1))
        lines.append("")
    return "\n".join(lines)


HEADER = """# Benchmark: every model family on every data set

`python benchmarks/run_benchmark.py` — {jobs} jobs, {minutes:.0f} min on a 2-core CPU (two jobs at a time,
one torch thread each). Raw rows, one per (setup, model, seed, fold): [results.csv](results.csv).

Protocol: time-ordered splits with gaps where there is a time axis; the paper mill by rolling origin
(an initial training window of 40 % of the rows, then 4 folds; fold k trains on everything before its
validation block and tests on the block after it); scalers and imputers fitted on training rows; every
threshold chosen on validation and applied to test once; ROC-AUC and PR-AUC from continuous scores.
Figures are mean ± std over folds and seeds (stochastic families: seeds {seeds}; pca, ecod, copod, knn,
lof are deterministic: one run per fold). "savings > 0" counts the runs whose test cost at the threshold
chosen on validation beats raising no alarm. Peak RSS is the whole job's process (data, model, scoring).

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", default="0,1", help="seeds of the stochastic families")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at a time (each with one torch thread)")
    parser.add_argument("--cache", default=str(ROOT / ".rarewatch" / "benchmark-cache"))
    parser.add_argument("--csv", default=str(ROOT / "benchmarks" / "results.csv"))
    parser.add_argument("--markdown", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--append", action="store_true", help="keep the csv's rows of other setups/models")
    parser.add_argument("--from-csv", action="store_true", help="only rewrite the Markdown from --csv")
    parser.add_argument("--job", nargs=4, metavar=("SETUP", "MODEL", "SEED", "FOLD"), help=argparse.SUPPRESS)
    parser.add_argument("--job-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.job:
        import warnings

        warnings.filterwarnings("ignore")
        setup, model, seed, fold = args.job
        row = run_job_in_process(Job(setup, model, int(seed), int(fold) if fold else None), Path(args.cache))
        Path(args.job_out).write_text(json.dumps(row))
        return

    if args.from_csv:
        frame = pd.read_csv(args.csv)
        head = Path(args.markdown).read_text().split("### ", 1)[0]
        Path(args.markdown).write_text(head + summarise(frame) + "\n")
        print(f"rewrote {args.markdown} from {args.csv}")
        return

    jobs = jobs_for(args.setups.split(","), args.models.split(","), [int(s) for s in args.seeds.split(",")])
    log_dir = Path(args.cache) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for i, row in enumerate(pool.map(lambda j: run_job_subprocess(j, Path(args.cache), log_dir), jobs), 1):
            status = row.get("error") or f"ROC-AUC {row['test_roc_auc']}"
            print(f"[{i}/{len(jobs)}] {row['setup']} {row['model']} seed {row['seed']} fold {row['fold']}: {status}",
                  flush=True)  # fmt: skip
            rows.append(row)
    frame = pd.DataFrame(rows)
    if args.append and Path(args.csv).is_file():
        old = pd.read_csv(args.csv)
        keep = ~old.set_index(["setup", "model"]).index.isin(frame.set_index(["setup", "model"]).index)
        frame = pd.concat([old[keep], frame], ignore_index=True)
    frame.to_csv(args.csv, index=False)
    minutes = (time.perf_counter() - started) / 60
    header = HEADER.format(jobs=len(frame), minutes=minutes, seeds=args.seeds)
    Path(args.markdown).write_text(header + summarise(frame) + "\n")
    print(f"wrote {args.csv} and {args.markdown}")


if __name__ == "__main__":
    main()
