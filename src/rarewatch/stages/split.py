"""Stage split: train < val < test by time with gaps; random only by config (docs/protocol.md, "Split by time")."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet
from rarewatch.config import Config
from rarewatch.data.schema import LABEL, SUBSET
from rarewatch.data.splitting import random_split, time_split
from rarewatch.errors import ConfigError, DataError
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.split")
SPLITS = ("train", "val", "test")


def run(df: pd.DataFrame, cfg: Config) -> dict[str, pd.DataFrame]:
    s = cfg.split
    if s.method == "random" and cfg.data.time_column is not None:
        raise ConfigError(
            f"split.method=random on data with a time axis (data.time_column='{cfg.data.time_column}') "
            "trains on the future; use split.method=time, or set data.time_column=null if the rows "
            "really have no order"
        )
    if SUBSET in df:
        # The publisher fixed the test set (a separate file): train and val share the other rows in
        # the configured proportion.
        given = df[SUBSET].to_numpy() == "test"
        main, test = df[~given].reset_index(drop=True), df[given].reset_index(drop=True)
        share = s.train_fraction / (s.train_fraction + s.val_fraction)
        if s.method == "random":
            index = random_split(main[LABEL].to_numpy(), share, 1 - share, cfg.seed)
            # random_split rounds each class down; its few leftover rows belong to val, not nowhere.
            index["val"] = np.sort(np.concatenate([index["val"], index.pop("test")]))
        else:
            index = time_split(len(main), share, 1 - share, s.gap_rows, with_test=False)
        parts = {name: main.iloc[index[name]].reset_index(drop=True) for name in ("train", "val")}
        parts["test"] = test
        parts = {name: part.drop(columns=SUBSET) for name, part in parts.items()}
    else:
        if s.method == "random":
            index = random_split(df[LABEL].to_numpy(), s.train_fraction, s.val_fraction, cfg.seed)
        else:
            index = time_split(len(df), s.train_fraction, s.val_fraction, s.gap_rows)
        parts = {name: df.iloc[index[name]].reset_index(drop=True) for name in SPLITS}
    if not (parts["train"][LABEL] == 0).any():
        raise DataError(
            "split 'train' has no normal rows, so there is nothing to learn normal behaviour from; "
            "check data.positive_label (is 'normal' marked positive?) or the split fractions"
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
    parts = run(read_parquet(paths.processed, "label_shift"), cfg)
    with atomic_dir(paths.split("train").parent) as tmp:
        for name, part in parts.items():
            part.to_parquet(tmp / f"{name}.parquet", index=False)
    for name, part in parts.items():
        log.info("%-5s %6d rows, %4d positive", name, len(part), int(part[LABEL].sum()))


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("split", execute, argv)


if __name__ == "__main__":
    main()
