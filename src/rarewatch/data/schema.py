"""Turn a source table into rarewatch's canonical frame: `time`, `label` (0/1), then the features.

Optional canonical columns: `group` (reported per value, e.g. attack type), `series` (the machine,
run or file a row belongs to: sorting, label shift, windows, features and splits stay inside it) and
`subset` (rows of a publisher's separate test file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.data.formats import separator_hint
from rarewatch.errors import DataError

TIME = "time"
LABEL = "label"
GROUP = "group"  # optional: e.g. the attack type, carried to the scores for per-group recall
SERIES = "series"  # optional: the series (machine, run, file) of each row
SUBSET = "subset"  # optional: "test" on rows from the publisher's separate test file
RESERVED = (TIME, LABEL, GROUP, SERIES, SUBSET)
TIME_UNITS = ("rows", "seconds", "minutes", "hours", "days")


@dataclass(frozen=True)
class Schema:
    time_column: str | None
    label_column: str
    positive_label: str | None
    drop_columns: list[str]
    categorical_columns: list[str]
    negative_label: str | None = None
    group_column: str | None = None
    time_format: str | None = None
    series_column: str | None = None
    time_unit: str | None = None

    @classmethod
    def from_config(cls, data: Any) -> Schema:
        """From the `data` config section."""
        return cls(
            time_column=data.time_column,
            label_column=data.label_column,
            positive_label=data.positive_label,
            drop_columns=list(data.drop_columns),
            categorical_columns=list(data.categorical_columns),
            negative_label=data.negative_label,
            group_column=data.group_column,
            time_format=data.time_format,
            series_column=data.series_column,
            time_unit=data.time_unit,
        )


def label_classes(df: pd.DataFrame, schema: Schema) -> list[str]:
    """The label values of a table, as text (to check labels across several files together)."""
    _require(schema.label_column, list(df.columns), "data.label_column")
    return sorted(df[schema.label_column].dropna().map(_label_text).unique())


def normalise(df: pd.DataFrame, schema: Schema, classes: list[str] | None = None) -> pd.DataFrame:
    """The canonical frame. `classes`: the label values of every file of the data set (default: this
    table's), so that a file of normal rows only can sit beside a labelled one."""
    if len(df) == 0:
        raise DataError("the input table has no rows; check data.path")
    columns = list(df.columns)
    _require(schema.label_column, columns, "data.label_column")
    if schema.time_column is not None:
        _require(schema.time_column, columns, "data.time_column")
    for col in schema.drop_columns:
        _require(col, columns, "data.drop_columns")
    for col in schema.categorical_columns:
        _require(col, columns, "data.categorical_columns")
    if schema.group_column is not None:
        _require(schema.group_column, columns, "data.group_column")
    if schema.series_column is not None:
        _require(schema.series_column, columns, "data.series_column")
    reserved = set(RESERVED) - {schema.time_column, schema.label_column, schema.group_column, schema.series_column}
    clash = [c for c in columns if c in reserved and c not in schema.drop_columns]
    if clash:
        raise DataError(
            f"feature column '{clash[0]}' has a name rarewatch reserves; add it to data.drop_columns "
            "or rename it in the file"
        )

    label = to_binary_label(
        df[schema.label_column], schema.label_column, schema.positive_label, schema.negative_label, classes
    )
    if schema.time_column is not None:
        time = parse_time(df[schema.time_column], schema.time_column, schema.time_format)
        check_time_unit(time, schema.time_column, schema.time_unit)
    else:
        time = pd.Series(np.arange(len(df), dtype=np.int64))
    drop = {schema.label_column, *schema.drop_columns}
    drop.update(c for c in (schema.time_column, schema.group_column, schema.series_column) if c is not None)
    feature_cols = [c for c in columns if c not in drop]
    if not feature_cols:
        raise DataError("no feature columns left after removing time, label, group and data.drop_columns")
    out = {TIME: time.to_numpy(), LABEL: label}
    if schema.group_column is not None:
        out[GROUP] = _text(df[schema.group_column])
    if schema.series_column is not None:
        series = df[schema.series_column]
        if series.isna().any():
            i = int(np.flatnonzero(series.isna().to_numpy())[0])
            raise DataError(
                f"series column '{schema.series_column}' has {int(series.isna().sum())} missing values (first at "
                f"row {i}); every row must name its series"
            )
        out[SERIES] = _text(series)
    for col in feature_cols:
        if col in schema.categorical_columns:
            out[col] = _text(df[col])
        else:
            out[col] = to_numeric_feature(df[col], col)
    return pd.DataFrame(out)


def _text(series: pd.Series) -> np.ndarray:
    """Categories as stripped text: publishers pad values ("high", "high ") that mean the same."""
    return series.astype("string").str.strip().to_numpy(dtype=object)


def to_binary_label(
    series: pd.Series, name: str, positive: str | None, negative: str | None = None, classes: list[str] | None = None
) -> np.ndarray:
    if series.isna().any():
        raise DataError(
            f"label column '{name}' has {int(series.isna().sum())} missing values "
            f"(first at row {int(np.flatnonzero(series.isna().to_numpy())[0])}); drop or fill those rows"
        )
    text = series.map(_label_text)
    classes = sorted(set(classes or []) | set(text.unique()))
    if negative is not None:
        if negative not in classes:
            raise DataError(
                f"data.negative_label='{negative}' is not a value of label column '{name}' (values: "
                f"{', '.join(classes[:20])}); set data.negative_label to the normal class"
            )
        if len(classes) < 2:
            raise DataError(f"label column '{name}' has only the normal class '{negative}'; there is no event to learn")
        return (text != negative).to_numpy(dtype=np.int64)
    if len(classes) != 2:
        raise DataError(
            f"label column '{name}' has {len(classes)} classes ({', '.join(classes[:10])}); rarewatch needs "
            "exactly two (normal and positive): map the classes to two in the file, or set data.negative_label to "
            "the normal class (and data.positive_label=null) so that every other class counts as an event"
        )
    if positive not in classes:
        raise DataError(
            f"data.positive_label='{positive}' is not a value of label column '{name}' (values: "
            f"{', '.join(classes)}); set data.positive_label to one of them"
        )
    return (text == positive).to_numpy(dtype=np.int64)


def check_positive_fraction(label: np.ndarray, data: Any) -> None:
    """Refuse a label whose positive share is over data.max_positive_fraction.

    Rare-event detection with events on most rows means the label was read the wrong way round (the normal
    class named positive) or from the wrong column; left alone, the label shift would then drop most rows
    as event rows and train on the rest.
    """
    if len(label) == 0:
        return
    share = float(np.mean(label))
    if share <= data.max_positive_fraction:
        return
    named = (
        f"data.positive_label={data.positive_label!r}"
        if data.negative_label is None
        else f"every class but data.negative_label={data.negative_label!r}"
    )
    raise DataError(
        f"{share:.1%} of the {len(label)} rows are positive ({named} in label column '{data.label_column}'), more "
        f"than data.max_positive_fraction={data.max_positive_fraction}: events that common are not rare; check "
        "data.positive_label / data.negative_label and data.label_column, or raise data.max_positive_fraction if "
        "events really are the majority"
    )


def _label_text(v: object) -> str:
    # 1.0 and 1 must compare equal to the configured "1".
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def parse_time(series: pd.Series, name: str, fmt: str | None = None) -> pd.Series:
    if fmt in ("unix_s", "unix_ms"):
        if not pd.api.types.is_numeric_dtype(series) or series.isna().any():
            raise DataError(f"time column '{name}' must hold numbers for data.time_format={fmt}")
        return pd.to_datetime(series, unit="s" if fmt == "unix_s" else "ms").reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_numeric_dtype(series):
        if series.isna().any():
            raise DataError(f"time column '{name}' has {int(series.isna().sum())} missing values")
        return series.reset_index(drop=True)
    day_first = None if fmt else day_first_order(series, name)
    parsed = pd.to_datetime(
        series.astype("string").str.strip(), errors="coerce", format=fmt or "mixed", dayfirst=bool(day_first)
    )
    bad = parsed.isna() & series.notna() | series.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"time column '{name}' has {int(bad.sum())} values that are not timestamps "
            f"(first: {series.iloc[i]!r} at row {i}); fix them, or set data.time_column=null for unordered rows"
        )
    return parsed.reset_index(drop=True)


# A date written with its day and month as numbers before the year: 02/01/2024, 2.1.24, 02-01-2024 13:45.
# (Year-first dates, ISO 8601 among them, have one reading only.)
_DAY_MONTH_YEAR = r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)(.*)$"
_CLOCK = re.compile(r"^(\s+|T)\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def day_first_order(series: pd.Series, name: str) -> bool | None:
    """For text dates written day/month/year or month/day/year: True (day first) or False (month first),
    as the values show it; None when the column holds no such dates.

    pandas would read `02/01/2024` month first and `13/01/2024` day first in the same column; a value
    over 12 in one position settles the order for the whole column, and when no value settles it the
    column is refused (data.time_format states it) rather than guessed.
    """
    text = series.dropna().astype("string").str.strip()
    parts = text.str.extract(_DAY_MONTH_YEAR)
    matched = parts[0].notna()
    if not matched.any():
        return None
    first, second = parts.loc[matched, 0].astype(int), parts.loc[matched, 2].astype(int)
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and not month_first:
        return True
    if month_first and not day_first:
        return False
    day_fmt, month_fmt = _numeric_date_formats(parts.loc[matched].iloc[0])
    formats = f"data.time_format='{day_fmt}' (day first) or data.time_format='{month_fmt}' (month first)"
    if day_first and month_first:
        a = text[matched][first > 12].iloc[0]
        b = text[matched][second > 12].iloc[0]
        raise DataError(
            f"time column '{name}' mixes day-first ({a!r}) and month-first ({b!r}) dates; write them one way and "
            f"set {formats}"
        )
    raise DataError(
        f"time column '{name}' has dates like {text[matched].iloc[0]!r} whose day and month are both 12 or less "
        f"in all {int(matched.sum())} values, so 02/01 could be 2 January or 1 February; set {formats}"
    )


def _numeric_date_formats(parts: pd.Series) -> tuple[str, str]:
    """(day-first, month-first) strftime formats for one value split by _DAY_MONTH_YEAR."""
    sep, year, rest = parts[1], "%Y" if len(parts[3]) == 4 else "%y", parts[4]
    clock = _CLOCK.match(rest)
    if not rest:
        tail = ""
    elif clock:
        tail = clock.group(1) + "%H:%M" + (":%S" if clock.group(2) else "") + (".%f" if clock.group(3) else "")
    else:
        tail = " ..."  # a time part of another shape: the user completes it
    return f"%d{sep}%m{sep}{year}{tail}", f"%m{sep}%d{sep}{year}{tail}"


def check_time_unit(time: pd.Series, name: str, unit: str | None) -> None:
    """A numeric time column needs its unit stated; a timestamp column must not have one."""
    if pd.api.types.is_datetime64_any_dtype(time):
        if unit is not None:
            raise DataError(
                f"data.time_unit={unit} is for numeric time columns, but time column '{name}' holds timestamps; "
                "set data.time_unit=null"
            )
        return
    if unit is None:
        sample = ", ".join(str(v) for v in time.iloc[:3].tolist())
        raise DataError(
            f"time column '{name}' holds numbers ({sample}, ...): say what they count with data.time_unit "
            f"({' | '.join(TIME_UNITS)}), or set data.time_format=unix_s (or unix_ms) for epoch times"
        )


def to_numeric_feature(series: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(np.float64).to_numpy()
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(np.float64).to_numpy()
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"feature column '{name}' has non-numeric values (first: {series.iloc[i]!r} at row {i}, "
            f"{int(bad.sum())} in all); list it in data.categorical_columns or data.drop_columns"
        )
    return converted.astype(np.float64).to_numpy()


def in_time_order(df: pd.DataFrame) -> pd.DataFrame:
    """`df` sorted by series, then time (stable), or `df` itself when it already is."""
    if SERIES not in df:
        if df[TIME].is_monotonic_increasing:
            return df
        return df.sort_values(TIME, kind="stable").reset_index(drop=True)
    keys = pd.MultiIndex.from_arrays([df[SERIES].to_numpy(), df[TIME].to_numpy()])
    if keys.is_monotonic_increasing:
        return df
    return df.sort_values([SERIES, TIME], kind="stable").reset_index(drop=True)


def series_codes(df: pd.DataFrame) -> np.ndarray | None:
    """Integer codes of the series column (in order of appearance), or None without one."""
    if SERIES not in df:
        return None
    return pd.factorize(df[SERIES].to_numpy())[0].astype(np.int64)


def feature_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in RESERVED]


def _require(col: str, columns: list, key: str) -> None:
    if col not in columns:
        shown = ", ".join(map(str, columns[:30])) + (" ..." if len(columns) > 30 else "")
        raise DataError(f"{key}: column '{col}' not found; columns are: {shown}{separator_hint(columns)}")
