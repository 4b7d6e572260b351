"""Stage ingest: load the configured source, check its schema, write the canonical raw table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir
from rarewatch.config import Config, DataConfig
from rarewatch.data import sources, synthetic
from rarewatch.data.schema import LABEL, Schema, normalise
from rarewatch.paths import Paths

log = logging.getLogger(__name__)


def load_source(cfg: DataConfig, root: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the table the config names; returns it with provenance for the data card."""
    if cfg.source == "synthetic":
        return synthetic.generate(cfg.synthetic), {"source": "synthetic"}
    if cfg.source == "url":
        path = sources.fetch_url(cfg.url, cfg.sha256, root / cfg.path)
    else:
        path = Path(cfg.path).expanduser()
        path = path if path.is_absolute() else root / path
    return sources.read_table(path, cfg.format), {"source": cfg.source, "path": str(path),
                                                   "sha256": sources.file_sha256(path)}


def run(table: pd.DataFrame, cfg: DataConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    schema = Schema(cfg.time_column, cfg.label_column, cfg.positive_label, cfg.drop_columns,
                    cfg.categorical_columns)
    df = normalise(table, schema)
    meta = {
        "dataset": cfg.name,
        "rows": len(df),
        "features": len(df.columns) - 2,
        "positive_rows": int(df[LABEL].sum()),
        "positive_rate": float(df[LABEL].mean()),
        "has_time_axis": cfg.time_column is not None,
    }
    return df, meta


def execute(cfg: Config, paths: Paths) -> None:
    table, provenance = load_source(cfg.data, paths.root)
    df, meta = run(table, cfg.data)
    with atomic_dir(paths.raw.parent) as tmp:
        df.to_parquet(tmp / paths.raw.name, index=False)
        pd.Series({**meta, **provenance}).to_json(tmp / "meta.json", indent=2)
    log.info("%d rows, %d features, %d positive (%.2f%%) from %s", meta["rows"], meta["features"],
             meta["positive_rows"], 100 * meta["positive_rate"], provenance["source"])


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("ingest", execute, argv)


if __name__ == "__main__":
    main()
