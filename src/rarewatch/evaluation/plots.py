"""PNG figures for MLflow and `dvc plots`. Only matplotlib's file backend: no display needed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from rarewatch.evaluation.metrics import Confusion  # noqa: E402


def curve_tables(labels: np.ndarray, scores: np.ndarray) -> dict[str, pd.DataFrame]:
    """ROC and PR points as tables: the data behind `dvc plots` and the PNGs."""
    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    return {
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr}),
        "pr": pd.DataFrame({"recall": recall, "precision": precision}),
    }


def roc_pr_figure(tables: Mapping[str, Mapping[str, pd.DataFrame]], metrics: Mapping[str, Mapping], path: Path) -> None:
    """Side by side ROC and PR curves for each split, with chance lines and AUCs in the legend."""
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.8))
    for split, t in tables.items():
        m = metrics[split]
        ax_roc.plot(t["roc"]["fpr"], t["roc"]["tpr"], label=f"{split} (ROC-AUC {_fmt(m['roc_auc'])})")
        line = ax_pr.plot(t["pr"]["recall"], t["pr"]["precision"], label=f"{split} (PR-AUC {_fmt(m['pr_auc'])})")[0]
        ax_pr.axhline(
            m["pr_auc_no_skill"],
            ls=":",
            color=line.get_color(),
            lw=1,
            label=f"{split} no skill ({_fmt(m['pr_auc_no_skill'])})",
        )
    ax_roc.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="chance")
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    ax_pr.set(xlabel="recall", ylabel="precision", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.01))
    for ax in (ax_roc, ax_pr):
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    _save(fig, path)


def confusion_figure(confusions: Mapping[str, Confusion], title: str, path: Path) -> None:
    """One 2x2 matrix per (split, strategy), counts and row-normalised shares."""
    n = len(confusions)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False)
    for ax, (name, c) in zip(axes.flat, confusions.items(), strict=False):
        mat = np.array([[c.tn, c.fp], [c.fn, c.tp]], dtype=float)
        share = mat / np.maximum(mat.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(2):
            for j in range(2):
                ax.text(
                    j,
                    i,
                    f"{int(mat[i, j])}\n{share[i, j]:.1%}",
                    ha="center",
                    va="center",
                    color="white" if share[i, j] > 0.6 else "black",
                    fontsize=9,
                )
        ax.set_xticks([0, 1], ["no alarm", "alarm"])
        ax.set_yticks([0, 1], ["normal", "event"])
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title)
    _save(fig, path)


def score_timeline(frames: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float | None], path: Path) -> None:
    """Reconstruction error (score) over time per split, events in red, threshold lines dashed."""
    fig, axes = plt.subplots(len(frames), 1, figsize=(12, 3.2 * len(frames)), squeeze=False)
    for ax, (split, df) in zip(axes[:, 0], frames.items(), strict=True):
        normal = df["label"] == 0
        ax.scatter(
            df.loc[normal, "time"],
            df.loc[normal, "score"],
            s=2,
            color="tab:blue",
            alpha=0.4,
            label="normal",
            rasterized=True,
        )
        ax.scatter(df.loc[~normal, "time"], df.loc[~normal, "score"], s=14, color="tab:red", label="positive")
        for (name, t), style in zip(thresholds.items(), ["--", "-.", ":"], strict=False):
            if t is not None:
                ax.axhline(t, ls=style, lw=1, color="black", label=f"{name} = {t:.4g}")
        ax.set_yscale("log" if (df["score"] > 0).all() else "linear")
        ax.set(title=f"{split}: anomaly score over time", ylabel="score")
        ax.legend(loc="upper right", fontsize=8, markerscale=2)
    _save(fig, path)


def alarm_timeline(
    frames: Mapping[str, pd.DataFrame],
    alarms: Mapping[str, np.ndarray],
    events: pd.DataFrame,
    threshold: float,
    label: str,
    path: Path,
    max_notes: int = 30,
) -> None:
    """What an operator would have seen: score over time, the threshold, events, operator alarms, and
    beside the first alarm of each run of alarms the sensor that moved most (column top_sensors).

    `frames` hold time and score (and top_sensors) per split (in time order), `alarms` a bool per row of
    each, `events` the events table (start_time, end_time); events are red spans (at least one row wide).
    At most `max_notes` alarms per panel are labelled (the highest-scoring ones).
    """
    fig, axes = plt.subplots(len(frames), 1, figsize=(12, 3.2 * len(frames)), squeeze=False)
    for ax, (split, df) in zip(axes[:, 0], frames.items(), strict=True):
        time, score = df["time"], df["score"].to_numpy()
        ax.plot(time, score, lw=0.6, color="tab:blue", label="score", rasterized=True)
        ax.axhline(threshold, ls="--", lw=1, color="black", label=f"{label} = {threshold:.4g}")
        lo, hi = time.min(), time.max()
        step = time.diff().median() if len(time) > 1 else 0
        shown = events[(events["end_time"] >= lo) & (events["start_time"] <= hi)]
        if len(shown) <= 200:
            for start, end in zip(shown["start_time"], shown["end_time"], strict=True):
                ax.axvspan(start, end + step, color="tab:red", alpha=0.35, lw=0)
        # One collection for all event lines: thousands of separate artists take minutes to draw.
        ax.vlines(
            shown["start_time"],
            0,
            1,
            transform=ax.get_xaxis_transform(),
            color="tab:red",
            alpha=0.6,
            lw=1,
            label=f"event ({len(shown)})",
        )
        a = np.asarray(alarms[split], dtype=bool)
        ax.scatter(
            time[a],
            score[a],
            marker="v",
            s=28,
            color="tab:orange",
            edgecolor="black",
            lw=0.4,
            zorder=3,
            label=f"operator alarm ({int(a.sum())})",
        )
        if "top_sensors" in df:
            first = a & ~np.concatenate([[False], a[:-1]])  # the first alarm of each run of alarms
            rows = np.flatnonzero(first)
            rows = rows[np.argsort(-score[rows])[:max_notes]]
            sensors = df["top_sensors"].to_numpy()
            for r in rows:
                ax.annotate(str(sensors[r]).split(",")[0], (time.iloc[r], score[r]), xytext=(2, 6),
                            textcoords="offset points", fontsize=6, rotation=45, color="tab:brown")  # fmt: skip
        ax.set_yscale("log" if (score > 0).all() else "linear")
        ax.set(title=f"{split}: score, threshold, events and operator alarms (label: top sensor)", ylabel="score")
        ax.margins(y=0.25)
        ax.legend(loc="upper left", fontsize=8, ncols=4, framealpha=0.9)
    _save(fig, path)


def cost_figure(curve: pd.DataFrame, best: float, no_alarm_cost: float, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(curve["threshold"], curve["cost"], lw=1.2, label="validation cost")
    ax.axhline(no_alarm_cost, ls=":", color="grey", label=f"no alarm ({no_alarm_cost:.0f})")
    ax.axvline(best, ls="--", color="tab:red", label=f"best-cost threshold {best:.4g}")
    if (curve["threshold"] > 0).all():
        ax.set_xscale("log")
    ax.set(xlabel="threshold (score)", ylabel="total cost on validation", title="Cost vs threshold")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _save(fig: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
