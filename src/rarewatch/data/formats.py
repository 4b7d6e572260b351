"""File formats as their publishers distribute them, each read into one pandas frame.

A format is a function `(path, companion) -> DataFrame`; `companion` is the second file some
layouts need (a labels file, a column-names file). The frame keeps the publisher's column names;
schema.normalise maps them onto rarewatch's canonical columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rarewatch.errors import DataError


def read_csv(path: Path, companion: Path | None) -> pd.DataFrame:
    # utf-8-sig strips a byte-order mark, which would otherwise glue itself to the first column name;
    # compression is inferred from the suffix (.gz, .zip, ...).
    df = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_parquet(path: Path, companion: Path | None) -> pd.DataFrame:
    return pd.read_parquet(path)


READERS: dict[str, Callable[[Path, Path | None], pd.DataFrame]] = {
    "csv": read_csv,
    "parquet": read_parquet,
}
NEEDS_COMPANION: set[str] = set()


def detect(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if any(s in (".csv", ".txt") for s in suffixes):
        return "csv"
    raise DataError(f"cannot tell the format of '{path}' from its name; set data.format to one of {sorted(READERS)}")


def read(path: Path, fmt: str, companion: Path | None) -> pd.DataFrame:
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt not in READERS:
        raise DataError(f"data.format={fmt!r} is unknown; use auto or one of {sorted(READERS)}")
    if fmt in NEEDS_COMPANION and companion is None:
        raise DataError(f"data.format={fmt} needs data.companion_path (its second file)")
    return READERS[fmt](path, companion)
