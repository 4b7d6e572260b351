"""Stage features: temporal features from the past only, per series, between gaps (rarewatch.data.features).

Between label_shift and split, so the split (and every fold of a rolling-origin evaluation) reuses the
same features: a row's features depend on its own past only, never on which split it lands in, and no
statistic is fitted here (the encoder scales them on training rows). features=none writes the rows as
they are.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet
from rarewatch.config import Config
from rarewatch.data.features import rolling_features
from rarewatch.data.schema import TIME, feature_columns, series_codes
from rarewatch.data.windows import segments
from rarewatch.errors import ConfigError
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.features")
REPORT_FILE = "report.json"


def sensors(df: pd.DataFrame, cfg: Config) -> list[str]:
    """The numeric feature columns to derive features from (features.columns, or all of them)."""
    numeric = [c for c in feature_columns(df) if c not in cfg.data.categorical_columns]
    wanted = cfg.features.columns or numeric
    unknown = [c for c in wanted if c not in numeric]
    if unknown:
        raise ConfigError(
            f"features.columns {unknown[:5]} are not numeric feature columns of the data; they are: {numeric[:30]}"
        )
    return list(wanted)


def run(df: pd.DataFrame, cfg: Config) -> tuple[pd.DataFrame, dict[str, Any]]:
    f = cfg.features
    if f.name == "none":
        return df, {"features": "none", "columns_added": 0}
    columns = sensors(df, cfg)
    segment = segments(df[TIME].to_numpy(), cfg.data.max_gap, series_codes(df))
    derived, report = rolling_features(df, columns, segment, f)
    base = df if f.keep_raw else df.drop(columns=columns)
    out = pd.concat([base.reset_index(drop=True), derived.reset_index(drop=True)], axis=1)
    return out, {"features": f.name, "columns_added": derived.shape[1], **report}


def execute(cfg: Config, paths: Paths) -> None:
    df = read_parquet(paths.processed, "label_shift")
    out, report = run(df, cfg)
    with atomic_dir(paths.features.parent) as tmp:
        out.to_parquet(tmp / paths.features.name, index=False)
        (tmp / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    if report["features"] == "none":
        log.info("features=none: the rows as they are (%d columns)", len(feature_columns(out)))
        return
    log.info("features=%s: %d features from %d sensors, %d segments", report["features"], report["columns_added"],
             report["sensors"], report["segments"])  # fmt: skip
    if report["segments_shorter_than_longest_window"]:
        log.info(
            "%d segments are shorter than the longest window (%d rows): their rows use partial windows",
            report["segments_shorter_than_longest_window"], max(cfg.features.windows, default=0),
        )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("features", execute, argv)


if __name__ == "__main__":
    main()
