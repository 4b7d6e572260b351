"""Stage ingest: load the configured source, check its schema, write the canonical raw table."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir
from rarewatch.config import Config, DataConfig, download_roots, resolve_data_path
from rarewatch.data import sources, synthetic
from rarewatch.data.schema import (
    LABEL,
    SERIES,
    SUBSET,
    Schema,
    check_positive_fraction,
    feature_columns,
    label_classes,
    normalise,
)
from rarewatch.errors import DataError
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.ingest")


FILE_SERIES = "source_file"  # the column a glob's file names go into, when no series column is named


def load_source(cfg: DataConfig, root: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any]]:
    """Read the table(s) the config names: (main rows, the publisher's test rows or None, provenance).

    A glob in data.path reads every matching file; each file is one series (its name, in the column
    FILE_SERIES) unless data.series_column names a column of the files.
    """
    if cfg.source == "synthetic":
        return synthetic.generate(cfg.synthetic), None, {"source": "synthetic"}
    # Every named file first, each missing one reported with its key and where relative paths start
    # (validate does the same; sweep jobs have no validate stage).
    sources.require_files(cfg, root)
    path = resolve_data_path(cfg, cfg.path, root)
    if cfg.source == "url":
        path = sources.fetch_url(cfg.url, cfg.sha256, path, download_roots(root))
    companion = resolve_data_path(cfg, cfg.companion_path, root) if cfg.companion_path else None
    files = sources.expand(path)
    tables = [sources.read_table(f, cfg.format, companion, cfg.separator) for f in files]
    if len(files) > 1 or sources.is_glob(path):
        if cfg.series_column is None:
            tables = [t.assign(**{FILE_SERIES: f.stem}) for t, f in zip(tables, files, strict=True)]
        table = pd.concat(tables, ignore_index=True)
    else:
        table = tables[0]
    # The configured path and file names, not absolute paths: data/raw is the same on every machine.
    provenance: dict[str, Any] = {
        "source": cfg.source,
        "path": cfg.path,
        "files": {f.name: sources.file_sha256(f) for f in files},
    }
    test = None
    if cfg.test_path:
        test_file = resolve_data_path(cfg, cfg.test_path, root)
        test = sources.read_table(test_file, cfg.format, companion, cfg.separator, key="data.test_path")
        provenance.update(test_path=cfg.test_path, test_sha256=sources.file_sha256(test_file))
    return table, test, provenance


def schema_of(cfg: DataConfig, table: pd.DataFrame) -> Schema:
    schema = Schema.from_config(cfg)
    if cfg.series_column is None and FILE_SERIES in table.columns:
        return dataclasses.replace(schema, series_column=FILE_SERIES)
    return schema


def run(
    table: pd.DataFrame, cfg: DataConfig, test_table: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    schema = schema_of(cfg, table)
    # Labels are checked across both files: a file of normal operation can train beside a labelled test file.
    classes = sorted(
        set(label_classes(table, schema)) | set(label_classes(test_table, schema) if test_table is not None else [])
    )
    df = normalise(table, schema, classes)
    if test_table is not None:
        test = normalise(test_table, schema, classes)
        if list(test.columns) != list(df.columns):
            raise DataError(
                f"data.test_path has columns {list(test.columns)[:12]} but data.path has {list(df.columns)[:12]}; "
                "both files must share one layout"
            )
        df = pd.concat([df.assign(**{SUBSET: "main"}), test.assign(**{SUBSET: "test"})], ignore_index=True)
    check_positive_fraction(df[LABEL].to_numpy(), cfg)
    meta = {
        "dataset": cfg.name,
        "rows": len(df),
        "features": len(feature_columns(df)),
        "positive_rows": int(df[LABEL].sum()),
        "positive_rate": float(df[LABEL].mean()),
        "has_time_axis": cfg.time_column is not None,
        "series": int(df[SERIES].nunique()) if SERIES in df else 1,
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
