"""Stage split: train < val < test by time with gaps; random only by config (docs/protocol.md, "Split by time")."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet
from rarewatch.config import Config
from rarewatch.data.schema import LABEL, SERIES, SUBSET, TIME, series_codes
from rarewatch.data.splitting import (
    block_bounds,
    head_split,
    random_split,
    rolling_origin_per_series,
    series_split,
    time_split_per_series,
)
from rarewatch.data.timeaxis import NS_PER_MINUTE, as_numbers
from rarewatch.errors import ConfigError, DataError
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.split")
SPLITS = ("train", "val", "test")


def head_mask(df: pd.DataFrame, cfg: Config) -> np.ndarray:
    """The rows at the start of every series that split.method=head trains on."""
    s = cfg.split
    blocks = series_codes(df)
    starts = np.zeros(len(df), dtype=np.int64)
    for lo, hi in block_bounds(blocks, len(df)):
        starts[lo:hi] = lo
    if s.head_rows is not None:
        return np.arange(len(df)) - starts < s.head_rows
    t, physical = as_numbers(df[TIME], cfg.data.time_unit)
    if not physical:
        raise ConfigError(
            "split.head_minutes needs time in a unit of time (timestamps, or data.time_unit seconds/minutes/...); "
            "use split.head_rows"
        )
    return t - t[starts] < s.head_minutes * NS_PER_MINUTE


def _index(df: pd.DataFrame, cfg: Config, with_test: bool) -> dict[str, np.ndarray]:
    """Row indices per split. Without a test split (the publisher gave one), train and val share the
    rows in the configured proportion."""
    s = cfg.split
    blocks = series_codes(df)
    names = pd.unique(df[SERIES]).tolist() if SERIES in df else None
    train_f, val_f = s.train_fraction, s.val_fraction
    if not with_test and s.method != "head":
        train_f = s.train_fraction / (s.train_fraction + s.val_fraction)
        val_f = 1 - train_f
    if s.method == "random":
        index = random_split(df[LABEL].to_numpy(), train_f, val_f, cfg.seed)
    elif s.method == "series":
        if blocks is None:
            raise ConfigError("split.method=series needs series: set data.series_column")
        # series_split always makes three parts; without a test split its third part joins val below.
        index = series_split(blocks, train_f, val_f if with_test else val_f / 2, cfg.seed)
    elif s.method == "head":
        index = head_split(blocks, len(df), head_mask(df, cfg), s.val_fraction, s.gap_rows, names)
    elif s.method == "rolling":
        if not with_test:
            raise ConfigError("split.method=rolling makes its own test blocks; it cannot use data.test_path")
        return rolling_origin_per_series(blocks, len(df), s.train_fraction, s.folds, s.fold, s.gap_rows, names)
    else:
        return time_split_per_series(blocks, len(df), train_f, val_f, s.gap_rows, with_test=with_test, names=names)
    if not with_test:
        # What would have been test goes to val: random_split's rounding leftovers, or the last part.
        index["val"] = np.sort(np.concatenate([index["val"], index.pop("test")]))
    return index


def run(df: pd.DataFrame, cfg: Config) -> dict[str, pd.DataFrame]:
    if SUBSET in df:
        # The publisher fixed the test set (a separate file): train and val share the other rows in
        # the configured proportion.
        given = df[SUBSET].to_numpy() == "test"
        main, test = df[~given].reset_index(drop=True), df[given].reset_index(drop=True)
        index = _index(main, cfg, with_test=False)
        parts = {name: main.iloc[index[name]].reset_index(drop=True) for name in ("train", "val")}
        parts["test"] = test
        parts = {name: part.drop(columns=SUBSET) for name, part in parts.items()}
    else:
        index = _index(df, cfg, with_test=True)
        parts = {name: df.iloc[np.sort(index[name])].reset_index(drop=True) for name in SPLITS}
    if not (parts["train"][LABEL] == 0).any():
        raise DataError(
            "split 'train' has no normal rows, so there is nothing to learn normal behaviour from; "
            "check data.positive_label (is 'normal' marked positive?) or the split fractions"
        )
    if cfg.split.method == "rolling" and not parts["val"][LABEL].any():
        s = cfg.split
        raise DataError(
            f"split.fold={s.fold} of split.folds={s.folds}: its validation block has no positive row, so no threshold "
            "can be chosen on it; use fewer folds (split.folds), or more data"
        )
    for name in ("val", "test"):
        if not parts[name][LABEL].any():
            warnings.warn(
                f"split '{name}' has no positive rows: its ROC-AUC/PR-AUC are undefined and "
                "thresholds that need positives are skipped; use a larger split",
                stacklevel=2,
            )
    return parts


def execute(cfg: Config, paths: Paths) -> None:
    parts = run(read_parquet(paths.features, "features"), cfg)
    with atomic_dir(paths.split("train").parent) as tmp:
        for name, part in parts.items():
            part.to_parquet(tmp / f"{name}.parquet", index=False)
    for name, part in parts.items():
        series = f", {part[SERIES].nunique()} series" if SERIES in part else ""
        log.info("%-5s %6d rows, %4d positive%s", name, len(part), int(part[LABEL].sum()), series)


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("split", execute, argv)


if __name__ == "__main__":
    main()
