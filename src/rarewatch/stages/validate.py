"""Stage validate: check the whole config and the input files before any other stage replaces an output.

DVC removes a stage's outputs just before running it. This stage runs first and touches nothing but
its own small record, so a config that cannot work (a bad model setting, a missing file, a label
column that is not there) stops `dvc repro` / `dvc exp run` while the previous results are intact.

It runs on every `dvc repro` (always_changed in dvc.yaml): its record holds the sha256 of every input
file, so when a data file changes on disk, ingest and everything after it rerun; when nothing changed,
the record is the same and nothing after it reruns.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.artifacts import write_json
from rarewatch.config import Config, DataConfig, data_dir, download_roots, resolve_data_path
from rarewatch.data import formats, sources
from rarewatch.errors import DataError
from rarewatch.models.registry import resolve_model
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.validate")
HEADER_ROWS = 50  # enough to see the columns and the type of the time column


def input_files(data: DataConfig, project: Path) -> list[tuple[str, Path]]:
    """(config key, absolute path) of every file the data config names (a glob's matches one by one)."""
    keys = ("path", "companion_path", "test_path") if data.source == "file" else ("companion_path", "test_path")
    out = []
    for key in keys:
        value = getattr(data, key)
        if value is None:
            continue
        path = resolve_data_path(data, value, project)
        if key == "path" and sources.is_glob(path):
            out += [(f"data.{key}", f) for f in sources.expand(path)]
        else:
            out.append((f"data.{key}", path))
    return out


def missing_file_message(data: DataConfig, key: str, path: Path, project: Path) -> str:
    where = (
        f"the data directory {data_dir(project)} (set RAREWATCH_DATA to change it)"
        if data.root == "data_dir"
        else f"the project directory {project.resolve()}"
    )
    value = getattr(data, key.removeprefix("data."))
    text = f"{key}='{value}' not found: no file '{path}' (relative paths are taken from {where})"
    if data.origin:
        text += f"; get it from {data.origin}"
    return text + "; see docs/datasets.md"


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
                hint = ""
                if len(columns) == 1 and any(sep in columns[0] for sep in (";", "\t", "|")):
                    hint = " (the header is one column: set data.separator to the file's separator, e.g. ';')"
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
    for key, path in input_files(d, project):
        if not path.is_file():
            raise DataError(missing_file_message(d, key, path, project))
        if key in ("data.path", "data.test_path"):
            try:
                columns = header(path, d.format, d.separator)
            except (ValueError, OSError, pd.errors.ParserError) as exc:
                raise DataError(f"{key}: cannot read '{path}' as {d.format}: {exc}") from exc
            if columns is not None:
                check_columns(columns, d, key)
        # The name and content, never the absolute path: the record is the same on every machine.
        files.append({"key": key, "name": path.name, "sha256": sources.file_sha256(path)})
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
