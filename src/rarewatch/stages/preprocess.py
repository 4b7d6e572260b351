"""Stage preprocess: time order, duplicates, constant/ID columns, NaN policy (nothing fitted here)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet
from rarewatch.config import Config
from rarewatch.data.cleaning import clean
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.preprocess")


def run(df: pd.DataFrame, cfg: Config) -> tuple[pd.DataFrame, dict[str, Any]]:
    p = cfg.preprocess
    return clean(
        df,
        cfg.data.categorical_columns,
        p.drop_constant,
        p.drop_duplicates,
        p.nan_policy,
        has_time_axis=cfg.data.time_column is not None,
        nonfinite=p.nonfinite,
    )


def execute(cfg: Config, paths: Paths) -> None:
    df, report = run(read_parquet(paths.raw, "ingest"), cfg)
    with atomic_dir(paths.interim.parent) as tmp:
        df.to_parquet(tmp / paths.interim.name, index=False)
        (tmp / "report.json").write_text(json.dumps(report, indent=2))
    log.info(
        "%d -> %d rows, dropped columns: %s", report["rows_in"], report["rows_out"], report["columns_dropped"] or "none"
    )


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("preprocess", execute, argv)


if __name__ == "__main__":
    main()
