"""Train/val/test splits (docs/protocol.md, "Split by time"): by time with gaps, or at random only when asked."""

from __future__ import annotations

import numpy as np

from rarewatch.errors import DataError


def time_split(
    n: int, train_fraction: float, val_fraction: float, gap: int, with_test: bool = True
) -> dict[str, np.ndarray]:
    """Contiguous index ranges train < val < test with `gap` rows left out between them.

    with_test=False (the test set comes from elsewhere): val runs to the last row.
    """
    n_train = int(n * train_fraction)
    n_val = int(n * val_fraction) if with_test else n - n_train - gap
    val_start = n_train + gap
    test_start = val_start + n_val + gap
    if not with_test:
        if n_train == 0 or n_val <= 0:
            raise DataError(f"{n} rows are too few for a train/val split at {train_fraction:.2f} with gap_rows={gap}")
        return {"train": np.arange(0, n_train), "val": np.arange(val_start, n)}
    if n_train == 0 or n_val == 0 or test_start >= n:
        raise DataError(
            f"{n} rows are too few for split train={train_fraction}, val={val_fraction} with "
            f"gap_rows={gap}: a split would be empty; use more rows or a smaller split.gap_rows"
        )
    return {
        "train": np.arange(0, n_train),
        "val": np.arange(val_start, val_start + n_val),
        "test": np.arange(test_start, n),
    }


def random_split(labels: np.ndarray, train_fraction: float, val_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Stratified random split, each class cut by the same fractions; indices sorted."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        a = int(len(idx) * train_fraction)
        b = a + int(len(idx) * val_fraction)
        parts["train"].append(idx[:a])
        parts["val"].append(idx[a:b])
        parts["test"].append(idx[b:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}
