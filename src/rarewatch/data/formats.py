"""File formats as their publishers distribute them, each read into one pandas frame.

A format is a function `(path, companion) -> DataFrame`; `companion` is the second file some
layouts need (a labels file, a column-names file). The frame keeps the publisher's column names;
schema.normalise maps them onto rarewatch's canonical columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rarewatch.errors import DataError

log = logging.getLogger("rarewatch.ingest")


SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def separator_hint(columns: list[str]) -> str:
    """For a table read as one column whose name holds ';', a tab or '|': the setting that splits it."""
    if len(columns) != 1:
        return ""
    found = [sep for sep in SEPARATORS if sep in str(columns[0])]
    if not found:
        return ""
    shown = {"\t": "\\t"}.get(found[0], found[0])
    return (
        f" (the header was read as one column: it is {SEPARATORS[found[0]]}-separated, so set data.separator='{shown}')"
    )


def sniff_separator(path: Path) -> str | None:
    """The separator a CSV's header uses when it is not a comma (';', a tab or '|'), else None.

    A header with no comma but one of the others is read with that one; anything else stays ','.
    """
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
            header = f.readline()
    except OSError:
        return None  # not plain text (zip, ...): pandas decides
    if "," in header:
        return None
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > 0 else None


def read_csv(path: Path, companion: Path | None, separator: str | None = None) -> pd.DataFrame:
    """A CSV with `separator` (None: ',' unless the header shows ';', a tab or '|'; logged)."""
    if separator is None:
        separator = sniff_separator(path)
        if separator is not None:
            log.warning(
                "'%s' looks %s-separated (its header has no comma): reading it so; set data.separator to be explicit",
                path.name,
                SEPARATORS[separator],
            )
    # utf-8-sig strips a byte-order mark, which would otherwise glue itself to the first column name;
    # compression is inferred from the suffix (.gz, .zip, ...).
    df = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True, sep=separator or ",")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_parquet(path: Path, companion: Path | None) -> pd.DataFrame:
    return pd.read_parquet(path)


SECOM_SENSORS = 590
SECOM_TIME_FORMAT = "%d/%m/%Y %H:%M:%S"


def read_secom_uci(path: Path, companion: Path | None) -> pd.DataFrame:
    """UCI SECOM as published: `secom.data` + `secom_labels.data` (the companion), row by row.

    secom.data: 590 space-separated readings per line, missing ones written `NaN`, no header; the
    columns become sensor_0 .. sensor_589 (0-based, the names other SECOM copies use).
    secom_labels.data: `-1 "19/07/2008 11:55:00"` per line (-1 pass, 1 fail; dd/mm/yyyy), CRLF.
    """
    if companion is None:
        raise DataError("this format needs data.companion_path (its second file)")
    data = pd.read_csv(path, sep=r"\s+", header=None, na_values=["NaN"], keep_default_na=True, encoding="utf-8-sig")
    if data.shape[1] != SECOM_SENSORS:
        raise DataError(
            f"'{path}' has {data.shape[1]} space-separated columns but the UCI secom.data layout has "
            f"{SECOM_SENSORS}; point data.path at secom.data (data.companion_path at secom_labels.data)"
        )
    data.columns = [f"sensor_{i}" for i in range(SECOM_SENSORS)]
    labels = pd.read_csv(
        companion, sep=" ", header=None, quotechar='"', dtype=str, encoding="utf-8-sig", skip_blank_lines=True
    )
    if labels.shape[1] != 2:
        raise DataError(
            f"'{companion}' has {labels.shape[1]} fields per line; secom_labels.data lines look like "
            '-1 "19/07/2008 11:55:00" (label, quoted dd/mm/yyyy timestamp)'
        )
    if len(labels) != len(data):
        raise DataError(
            f"'{path}' has {len(data)} rows but its labels file '{companion}' has {len(labels)}; "
            "the two SECOM files must match line by line (use the pair from one download)"
        )
    stamps = labels[1].str.strip()
    time = pd.to_datetime(stamps, format=SECOM_TIME_FORMAT, errors="coerce")
    if time.isna().any():
        i = int(time.isna().to_numpy().argmax())
        raise DataError(f"'{companion}' line {i + 1}: timestamp {stamps.iloc[i]!r} is not dd/mm/yyyy HH:MM:SS")
    front = pd.DataFrame({"label": labels[0].str.strip().to_numpy(), "timestamp": time.to_numpy()})
    return pd.concat([front, data], axis=1)


def read_kddcup(path: Path, companion: Path | None) -> pd.DataFrame:
    """KDD Cup 1999 as published: headerless rows (gzip or plain) named by `kddcup.names`.

    kddcup.names: the first line lists the attack types; each following `name: type.` line names one
    feature (41 of them). The 42nd column, `label`, holds the class with its dot (`normal.`, `smurf.`).
    """
    if companion is None:
        raise DataError("this format needs data.companion_path (its second file)")
    names = kddcup_names(companion)
    with path.open("rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"  # by content: downloads often lose the .gz suffix
    data = pd.read_csv(path, header=None, compression="gzip" if gzipped else None, low_memory=False)
    if data.shape[1] != len(names):
        raise DataError(
            f"'{path}' has {data.shape[1]} columns but '{companion}' names {len(names)} "
            f"({len(names) - 1} features + label); is it a KDD Cup 99 data file (kddcup.data*, corrected)?"
        )
    data.columns = names
    return data


def kddcup_names(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    names = []
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        name, sep, _ = line.partition(":")
        if not sep or not name.strip():
            raise DataError(
                f"'{path}' line {number} is {line.strip()!r}; kddcup.names lines after the first look like "
                "'duration: continuous.'"
            )
        names.append(name.strip())
    if not names:
        raise DataError(f"'{path}' names no columns; data.companion_path must be kddcup.names")
    return [*names, "label"]


READERS: dict[str, Callable[[Path, Path | None], pd.DataFrame]] = {
    "csv": read_csv,
    "parquet": read_parquet,
    "secom_uci": read_secom_uci,
    "kddcup": read_kddcup,
}
NEEDS_COMPANION: set[str] = {"secom_uci", "kddcup"}


def detect(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if any(s in (".csv", ".txt") for s in suffixes):
        return "csv"
    raise DataError(f"cannot tell the format of '{path}' from its name; set data.format to one of {sorted(READERS)}")


def read(path: Path, fmt: str, companion: Path | None, separator: str | None = None) -> pd.DataFrame:
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt not in READERS:
        raise DataError(f"data.format={fmt!r} is unknown; use auto or one of {sorted(READERS)}")
    if fmt in NEEDS_COMPANION and companion is None:
        raise DataError(f"data.format={fmt} needs data.companion_path (its second file)")
    if fmt == "csv":
        return read_csv(path, companion, separator)
    return READERS[fmt](path, companion)
