"""Stage ingest: load the configured source, check its schema, write the canonical raw table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir
from rarewatch.config import Config, DataConfig, resolve_data_path
from rarewatch.data import sources, synthetic
from rarewatch.data.schema import LABEL, SUBSET, Schema, feature_columns, normalise
from rarewatch.errors import DataError
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.ingest")


def load_source(cfg: DataConfig, root: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any]]:
    """Read the table(s) the config names: (main rows, the publisher's test rows or None, provenance)."""
    if cfg.source == "synthetic":
        return synthetic.generate(cfg.synthetic), None, {"source": "synthetic"}
    path = resolve_data_path(cfg, cfg.path, root)
    if cfg.source == "url":
        path = sources.fetch_url(cfg.url, cfg.sha256, path)
    companion = resolve_data_path(cfg, cfg.companion_path, root) if cfg.companion_path else None
    # The configured path, not the absolute one: data/raw is the same on every machine.
    provenance: dict[str, Any] = {"source": cfg.source, "path": cfg.path, "sha256": sources.file_sha256(path)}
    test = None
    if cfg.test_path:
        test_file = resolve_data_path(cfg, cfg.test_path, root)
        test = sources.read_table(test_file, cfg.format, companion)
        provenance.update(test_path=cfg.test_path, test_sha256=sources.file_sha256(test_file))
    return sources.read_table(path, cfg.format, companion), test, provenance


def run(
    table: pd.DataFrame, cfg: DataConfig, test_table: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    schema = Schema(
        cfg.time_column,
        cfg.label_column,
        cfg.positive_label,
        cfg.drop_columns,
        cfg.categorical_columns,
        cfg.negative_label,
        cfg.group_column,
        cfg.time_format,
    )
    df = normalise(table, schema)
    if test_table is not None:
        test = normalise(test_table, schema)
        if list(test.columns) != list(df.columns):
            raise DataError(
                f"data.test_path has columns {list(test.columns)[:12]} but data.path has {list(df.columns)[:12]}; "
                "both files must share one layout"
            )
        df = pd.concat([df.assign(**{SUBSET: "main"}), test.assign(**{SUBSET: "test"})], ignore_index=True)
    meta = {
        "dataset": cfg.name,
        "rows": len(df),
        "features": len(feature_columns(df)),
        "positive_rows": int(df[LABEL].sum()),
        "positive_rate": float(df[LABEL].mean()),
        "has_time_axis": cfg.time_column is not None,
        "given_test_rows": int((df[SUBSET] == "test").sum()) if SUBSET in df else 0,
    }
    return df, meta


def execute(cfg: Config, paths: Paths) -> None:
    table, test_table, provenance = load_source(cfg.data, paths.root)
    df, meta = run(table, cfg.data, test_table)
    with atomic_dir(paths.raw.parent) as tmp:
        df.to_parquet(tmp / paths.raw.name, index=False)
        pd.Series({**meta, **provenance}).to_json(tmp / "meta.json", indent=2)
    log.info(
        "%d rows, %d features, %d positive (%.2f%%) from %s",
        meta["rows"],
        meta["features"],
        meta["positive_rows"],
        100 * meta["positive_rate"],
        provenance["source"],
    )


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("ingest", execute, argv)


if __name__ == "__main__":
    main()
