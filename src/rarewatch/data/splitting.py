"""Train/val/test splits (docs/protocol.md, "Split by time"): by time with gaps within every series,
whole series held out, the start of every series, or at random only when asked and only for rows
without a time axis. Every function returns sorted row indices per split.

Rows come sorted by series, then time; `blocks` are the rows' series codes (contiguous per series).
"""

from __future__ import annotations

from collections.abc import Callable

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


def rolling_origin(n: int, initial: float, folds: int, fold: int, gap: int) -> dict[str, np.ndarray]:
    """Fold `fold` of `folds` chronological folds (an expanding window, "rolling origin").

    The first `initial` share of the rows is the initial training window; the rest is cut into folds + 1
    equal blocks B0, B1, .... Fold k trains on the initial window and B0..B(k-1), validates on Bk and
    tests on B(k+1), with `gap` rows left out before val and before test. So every fold tests on later
    rows than it trained on, and the folds' test blocks B1 .. B(folds) do not overlap.
    """
    if not 0 <= fold < folds:
        raise DataError(f"split.fold={fold} must be between 0 and split.folds - 1 = {folds - 1}")
    start = int(n * initial)
    edges = start + np.linspace(0, n - start, folds + 2).astype(np.int64)
    train_end, val_end, test_end = edges[fold], edges[fold + 1], edges[fold + 2]
    if train_end == 0 or val_end - train_end <= gap or test_end - val_end <= gap:
        raise DataError(
            f"{n} rows are too few for {folds} folds after an initial {initial:.0%} with gap_rows={gap} (blocks "
            f"of {(n - start) // (folds + 1)} rows); use fewer split.folds or a smaller split.gap_rows"
        )
    return {
        "train": np.arange(0, train_end),
        "val": np.arange(train_end + gap, val_end),
        "test": np.arange(val_end + gap, test_end),
    }


def rolling_origin_per_series(
    blocks: np.ndarray | None,
    n: int,
    initial: float,
    folds: int,
    fold: int,
    gap: int,
    names: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """rolling_origin inside every series."""
    return _per_series(blocks, n, names, lambda lo, hi: rolling_origin(hi - lo, initial, folds, fold, gap))


def block_bounds(blocks: np.ndarray | None, n: int) -> list[tuple[int, int]]:
    """(first row, end row) of every series, in row order; one series of all rows without `blocks`."""
    if blocks is None or n == 0:
        return [(0, n)]
    b = np.asarray(blocks)
    starts = np.concatenate([[0], np.flatnonzero(b[1:] != b[:-1]) + 1])
    ends = np.concatenate([starts[1:], [n]])
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _per_series(
    blocks: np.ndarray | None,
    n: int,
    names: list[str] | None,
    split_one: Callable[[int, int], dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {}
    for i, (lo, hi) in enumerate(block_bounds(blocks, n)):
        try:
            index = split_one(lo, hi)
        except DataError as exc:
            if names is None:
                raise
            raise DataError(f"series '{names[i]}': {exc}") from None
        for name, rows in index.items():
            parts.setdefault(name, []).append(rows + lo)
    return {name: np.concatenate(rows) for name, rows in parts.items()}


def time_split_per_series(
    blocks: np.ndarray | None,
    n: int,
    train_fraction: float,
    val_fraction: float,
    gap: int,
    with_test: bool = True,
    names: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """time_split inside every series: its early rows train, the next validate, the last test."""
    return _per_series(
        blocks, n, names, lambda lo, hi: time_split(hi - lo, train_fraction, val_fraction, gap, with_test)
    )


def head_split(
    blocks: np.ndarray | None,
    n: int,
    head: np.ndarray,
    val_fraction: float,
    gap: int,
    names: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """The rows marked `head` at the start of every series train; of the rest of the series, the first
    `val_fraction` (by time, after `gap` rows) validates and the remainder, after another gap, tests."""
    head = np.asarray(head, dtype=bool)

    def split_one(lo: int, hi: int) -> dict[str, np.ndarray]:
        n_head = int(head[lo:hi].sum())
        if n_head == 0 or not head[lo : lo + n_head].all():
            raise DataError("its training rows must be the first rows of the series; none were marked")
        rest = time_split(hi - lo - n_head - gap, val_fraction, 1 - val_fraction, gap, with_test=False)
        offset = n_head + gap
        return {"train": np.arange(0, n_head), "val": rest["train"] + offset, "test": rest["val"] + offset}

    return _per_series(blocks, n, names, split_one)


def series_split(blocks: np.ndarray, train_fraction: float, val_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Whole series held out: a seeded shuffle of the series, cut by the fractions (of series)."""
    codes = np.unique(np.asarray(blocks))
    if len(codes) < 3:
        raise DataError(
            f"split.method=series needs at least 3 series (one each for train, val and test); the data has "
            f"{len(codes)}; use split.method=time"
        )
    order = np.random.default_rng(seed).permutation(codes)
    n_train = max(1, int(round(len(codes) * train_fraction)))
    n_val = max(1, int(round(len(codes) * val_fraction)))
    n_train = min(n_train, len(codes) - 2)
    n_val = min(n_val, len(codes) - n_train - 1)
    chosen = {"train": order[:n_train], "val": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}
    b = np.asarray(blocks)
    return {name: np.flatnonzero(np.isin(b, codes_)) for name, codes_ in chosen.items()}


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
