"""Raw rows in the training data's schema -> the canonical frame the pipeline's stages work on.

The rows a model scores carry the columns of the training file under their own names: the time column
(if the data has one), the series column (if any), every sensor and every categorical column the
features stage saw. Other columns (the label, dropped columns) are ignored. Every refusal names the
column: a missing one, a sensor that is not numeric, a time that is not a time, rows out of time order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rarewatch.data.schema import LABEL, SERIES, TIME, check_time_unit, parse_time
from rarewatch.errors import DataError

UNIX_FORMATS = ("unix_s", "unix_ms")  # data.time_format values whose times are numbers (epoch seconds, ms)


def required_columns(spec: dict[str, Any]) -> list[str]:
    """The columns an input must have, time and series first."""
    head = [c for c in (spec["time_column"], spec["series_column"]) if c is not None]
    return head + list(spec["input_columns"])


def check_columns(columns: list[str], spec: dict[str, Any]) -> None:
    missing = [c for c in required_columns(spec) if c not in columns]
    if not missing:
        return
    first = missing[0]
    role = (
        "the time column"
        if first == spec["time_column"]
        else "the series column"
        if first == spec["series_column"]
        else "a sensor the model was trained on"
        if first in spec["numeric_columns"]
        else "a categorical column the model was trained on"
    )
    more = f" (and {len(missing) - 1} more: {', '.join(missing[1:6])})" if len(missing) > 1 else ""
    raise DataError(
        f"input has no column '{first}' ({role}){more}; the model needs: {', '.join(required_columns(spec))}"
    )


def numeric(series: pd.Series, name: str, offset: int = 0) -> np.ndarray:
    """A sensor column as float64; anything that is not a number (or empty) is refused, naming the column."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype(np.float64).to_numpy()
    text = series.astype("string").str.strip()
    converted = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    bad = converted.isna() & text.notna() & (text != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"column '{name}' must hold numbers (a sensor the model was trained on); got {series.iloc[i]!r} at "
            f"row {i + offset} ({int(bad.sum())} such values)"
        )
    return converted.astype(np.float64).to_numpy()


def text(series: pd.Series) -> np.ndarray:
    """Categories as stripped text, as rarewatch.data.schema.normalise reads them."""
    return series.astype("string").str.strip().to_numpy(dtype=object)


def time_values(series: pd.Series, spec: dict[str, Any], offset: int = 0) -> pd.Series:
    name = spec["time_column"]
    if spec["time_kind"] == "numeric":
        values = numeric(series.reset_index(drop=True), name, offset)
        if np.isnan(values).any():
            i = int(np.flatnonzero(np.isnan(values))[0])
            raise DataError(f"time column '{name}' has a missing value at row {i + offset}; every row needs a time")
        return pd.Series(values)
    numbers_expected = spec["time_format"] in UNIX_FORMATS
    if not numbers_expected and pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        raise DataError(
            f"time column '{name}' must hold timestamps like '2024-01-01 00:02:00' (the model was trained on "
            f"timestamps); got the number {series.iloc[0]!r}"
        )
    parsed = parse_time(series.reset_index(drop=True), name, spec["time_format"])
    check_time_unit(parsed, name, None)
    return parsed


def canonical(raw: pd.DataFrame, spec: dict[str, Any], offset: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """(frame, order): the rows as the pipeline's stages see them, sorted by series (stable), and the
    positions of the input rows in that frame (frame.iloc[order] is in input order).

    Within each series, time must not go backwards: rolling features, windows and alarms read the rows
    in the order they come. `offset` is added to the row numbers in error messages (streamed rows).
    """
    if not isinstance(raw, pd.DataFrame):
        raise DataError(f"rows to score must be a table (pandas DataFrame), got {type(raw).__name__}")
    if len(raw) == 0:
        raise DataError("no rows to score")
    check_columns([str(c) for c in raw.columns], spec)
    raw = raw.reset_index(drop=True)
    out: dict[str, Any] = {}
    if spec["time_column"] is not None:
        out[TIME] = time_values(raw[spec["time_column"]], spec, offset).to_numpy()
    else:
        out[TIME] = np.arange(len(raw), dtype=np.int64)
    out[LABEL] = np.zeros(len(raw), dtype=np.int64)  # unknown: only the pipeline's code paths need the column
    if spec["series_column"] is not None:
        series = raw[spec["series_column"]]
        if series.isna().any():
            i = int(np.flatnonzero(series.isna().to_numpy())[0])
            raise DataError(
                f"series column '{spec['series_column']}' is empty at row {i + offset}; every row needs one"
            )
        out[SERIES] = text(series)
    for col in spec["input_columns"]:
        out[col] = text(raw[col]) if col in spec["categorical_columns"] else numeric(raw[col], col, offset)
    frame = pd.DataFrame(out)
    positions = np.arange(len(frame))
    if SERIES in frame:
        # The pipeline's order (rarewatch.data.schema.in_time_order): by series name, each series in its own order.
        positions = np.argsort(frame[SERIES].to_numpy().astype(str), kind="stable")
        frame = frame.iloc[positions].reset_index(drop=True)
    check_order(frame, spec, positions, offset)
    order = np.empty_like(positions)
    order[positions] = np.arange(len(positions))
    return frame, order


def check_order(frame: pd.DataFrame, spec: dict[str, Any], positions: np.ndarray, offset: int) -> None:
    """Refuse a series whose time goes backwards, naming the time column and the first such row."""
    if spec["time_column"] is None or len(frame) < 2:
        return
    t = frame[TIME].to_numpy()
    same = np.ones(len(t) - 1, dtype=bool)
    if SERIES in frame:
        s = frame[SERIES].to_numpy()
        same = s[1:] == s[:-1]
    back = same & (t[1:] < t[:-1])
    if back.any():
        i = int(np.flatnonzero(back)[0]) + 1
        row, before = int(positions[i]) + offset, int(positions[i - 1]) + offset
        where = f" of series '{frame[SERIES].iloc[i]}'" if SERIES in frame else ""
        raise DataError(
            f"time column '{spec['time_column']}' is not in order: row {row}{where} ({frame[TIME].iloc[i]}) comes "
            f"after row {before} ({frame[TIME].iloc[i - 1]}); sort the rows by time"
        )
