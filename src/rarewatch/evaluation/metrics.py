"""Row metrics from continuous scores and from one threshold. Alarm rule everywhere: score >= threshold."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


@dataclass(frozen=True)
class Confusion:
    tn: int
    fp: int
    fn: int
    tp: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def check_scores(labels: np.ndarray, scores: np.ndarray) -> None:
    if labels.shape != scores.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and scores {scores.shape} must be 1-D of equal length")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{int((~np.isfinite(scores)).sum())} scores are NaN or infinite; the model diverged")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0/1")


def confusion_at(labels: np.ndarray, scores: np.ndarray, threshold: float) -> Confusion:
    check_scores(labels, scores)
    # Compare in float64: thresholds are float64 (midpoints, the float just above the max), and a
    # float32 comparison would round them back onto a score.
    alarm = np.asarray(scores, dtype=np.float64) >= threshold
    pos = labels == 1
    return Confusion(
        tn=int((~alarm & ~pos).sum()),
        fp=int((alarm & ~pos).sum()),
        fn=int((~alarm & pos).sum()),
        tp=int((alarm & pos).sum()),
    )


def ranking_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """ROC-AUC and PR-AUC (average precision) from continuous scores, with PR-AUC's no-skill value.

    Both are None when only one class is present: an AUC is undefined then, and a made-up 0.5
    would look like a measurement.
    """
    check_scores(labels, scores)
    n_pos = int(labels.sum())
    both = 0 < n_pos < len(labels)
    return {
        "roc_auc": float(roc_auc_score(labels, scores)) if both else None,
        "pr_auc": float(average_precision_score(labels, scores)) if both else None,
        "pr_auc_no_skill": n_pos / len(labels) if len(labels) else None,
        "n_rows": len(labels),
        "n_positive": n_pos,
    }


def by_group(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, threshold: float) -> dict[str, dict]:
    """Per value of the group column (e.g. attack type): rows, alarms, and recall where it has events.

    A group of normal rows has no recall; its alarm share is its false-alarm rate.
    """
    check_scores(labels, scores)
    alarm = np.asarray(scores, dtype=np.float64) >= threshold
    out: dict[str, dict] = {}
    for g in sorted(set(groups.tolist()), key=str):
        mask = groups == g
        n_pos = int(labels[mask].sum())
        out[str(g)] = {
            "rows": int(mask.sum()),
            "positives": n_pos,
            "alarms": int(alarm[mask].sum()),
            "alarm_share": float(alarm[mask].mean()),
            "recall": float((alarm & mask & (labels == 1)).sum() / n_pos) if n_pos else None,
        }
    return out
