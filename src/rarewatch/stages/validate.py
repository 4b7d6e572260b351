"""Stage validate: check the whole config and the input files before any other stage replaces an output.

DVC removes a stage's outputs just before running it. This stage runs first and touches nothing but
its own small record, so a config that cannot work (a bad model setting, a missing file, a label
column that is not there) stops `dvc repro` / `dvc exp run` while the previous results are intact.
For CSV and Parquet files it also reads the label and time columns (not the rest): the label's classes
and positive share (data.max_positive_fraction) and the day/month order of text dates are checked here
too. What needs every column (non-finite values) or the other layouts (kddcup, secom_uci) is checked
by ingest and preprocess.

It runs on every `dvc repro` (always_changed in dvc.yaml): its record holds the sha256 of every input
file, so when a data file changes on disk, ingest and everything after it rerun; when nothing changed,
the record is the same and nothing after it reruns.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.artifacts import write_json
from rarewatch.config import Config, DataConfig, download_roots, resolve_data_path
from rarewatch.data import formats, sources
from rarewatch.data.schema import (
    Schema,
    check_positive_fraction,
    day_first_order,
    label_classes,
    to_binary_label,
)
from rarewatch.errors import DataError
from rarewatch.models.registry import resolve_model
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.validate")
HEADER_ROWS = 50  # enough to see the columns and the type of the time column


def check_columns(columns: list[str], data: DataConfig, file_key: str) -> None:
    """The columns the config names must be in the file's header."""
    named = {
        "data.label_column": [data.label_column],
        "data.time_column": [data.time_column] if data.time_column else [],
        "data.group_column": [data.group_column] if data.group_column else [],
        "data.drop_columns": data.drop_columns,
        "data.categorical_columns": data.categorical_columns,
    }
    for key, wanted in named.items():
        for col in wanted:
            if col not in columns:
                shown = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
                hint = formats.separator_hint(columns)
                raise DataError(f"{key}: column '{col}' not found in {file_key}; columns are: {shown}{hint}")


def header(path: Path, fmt: str, separator: str | None) -> list[str] | None:
    """The column names of a CSV or Parquet file without reading it all (None for other layouts)."""
    fmt = formats.detect(path) if fmt == "auto" else fmt
    if fmt == "csv":
        sep = separator or formats.sniff_separator(path) or ","
        return [str(c).strip() for c in pd.read_csv(path, nrows=HEADER_ROWS, encoding="utf-8-sig", sep=sep).columns]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return None


def read_columns(path: Path, fmt: str, separator: str | None, wanted: list[str]) -> pd.DataFrame | None:
    """Just the `wanted` columns of a CSV or Parquet file, read as ingest reads them (None for other layouts)."""
    fmt = formats.detect(path) if fmt == "auto" else fmt
    if fmt == "csv":
        sep = separator or formats.sniff_separator(path) or ","
        df = pd.read_csv(
            path, encoding="utf-8-sig", sep=sep, skipinitialspace=True, usecols=lambda c: str(c).strip() in wanted
        )
        df.columns = [str(c).strip() for c in df.columns]
        return df
    if fmt == "parquet":
        return pd.read_parquet(path, columns=wanted)
    return None


def check_labels_and_times(tables: dict[str, list[pd.DataFrame]], data: DataConfig) -> None:
    """The input rules a read of two columns can check before ingest replaces data/raw: the label's classes
    and positive share (data.max_positive_fraction), and the day/month order of text dates.

    `tables` holds each file key's tables (a glob's files under one key, read together as ingest does).
    """
    schema = Schema.from_config(data)
    frames = {key: pd.concat(parts, ignore_index=True) for key, parts in tables.items() if parts}
    if not frames:
        return
    classes = sorted({c for df in frames.values() for c in label_classes(df, schema)})
    labels = [to_binary_label(df[data.label_column], data.label_column, data.positive_label, data.negative_label,
                              classes) for df in frames.values()]  # fmt: skip
    check_positive_fraction(np.concatenate(labels), data)
    if data.time_column is not None and data.time_format is None:
        for df in frames.values():
            time = df[data.time_column]
            if not (pd.api.types.is_datetime64_any_dtype(time) or pd.api.types.is_numeric_dtype(time)):
                day_first_order(time, data.time_column)


def run(cfg: Config, project: Path) -> dict[str, Any]:
    """The record of a valid config: each input file's key, name and sha256.

    Only what ingest reads goes in it, so a change elsewhere (say, the model) leaves the record as it
    was and does not rerun ingest.
    """
    resolve_model(cfg.model)
    d = cfg.data
    if d.source == "url" and d.path is not None:
        # Where the download will be cached: never outside the project or the data directory.
        sources.check_inside(resolve_data_path(d, d.path, project), download_roots(project), "data.path")
    files = []
    tables: dict[str, list[pd.DataFrame]] = {"data.path": [], "data.test_path": []}
    wanted = [c for c in (d.label_column, d.time_column) if c is not None]
    for key, path in sources.require_files(d, project):
        if key in tables:
            try:
                columns = header(path, d.format, d.separator)
                if columns is not None:
                    check_columns(columns, d, key)
                    table = read_columns(path, d.format, d.separator, wanted)
                    tables[key] += [table] if table is not None else []
            except (ValueError, OSError, pd.errors.ParserError) as exc:
                if isinstance(exc, DataError):
                    raise
                raise DataError(sources.unreadable_message(key, path, d.format, exc)) from exc
        # The name and content, never the absolute path: the record is the same on every machine.
        files.append({"key": key, "name": path.name, "sha256": sources.file_sha256(path)})
    check_labels_and_times(tables, d)
    return {"dataset": d.name, "source": d.source, "files": files}


def execute(cfg: Config, paths: Paths) -> None:
    record = run(cfg, paths.root)
    write_json(record, paths.validated)
    log.info("config valid; %d input file(s) checked", len(record["files"]))


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("validate", execute, argv)


if __name__ == "__main__":
    main()
