"""`rarewatch score --input -`: score CSV rows as they arrive on stdin, and print alarms as they fire.

The first line is the header (the training data's column names). Each row is checked on its own (the
error names its column and row number, counting data rows from 0), then scored together with the
rows before it in its series: the model is stateless, so the stream keeps the last `context` rows of
each series and scores them with the new one, keeping the new row's outputs. With `context` above the
model's `memory_rows`, every output the new row depends on is computed from the same rows as in a
batch over the whole file, so the stream raises the alarms the batch does (exactly, while the stream
is shorter than `context` rows; beyond that up to float rounding of the rolling sums, and for ewma
smoothing up to the weight of the rows that left the context). One line per alarm is printed and
flushed at once: the time and series columns, score, top_sensors and complete.
"""

from __future__ import annotations

import csv
import sys
from collections import deque
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from rarewatch.errors import DataError
from rarewatch.serving import inputs
from rarewatch.serving.cli import text_columns

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel


def stream(model: PyFuncModel, spec: dict[str, Any], lines: IO[str], out: IO[str], context: int) -> int:
    """Score every row of `lines` (CSV with a header); write each alarm to `out`; returns the alarm count."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        raise DataError("no header line on stdin: the first line must name the columns")
    inputs.check_columns(header, spec)
    keys = [c for c in (spec["time_column"], spec["series_column"]) if c is not None]
    series_at = header.index(spec["series_column"]) if spec["series_column"] else None
    required = inputs.required_columns(spec)
    text = set(text_columns(spec))
    at = {c: header.index(c) for c in required}
    buffers: dict[str, deque[dict[str, Any]]] = {}
    last_time: dict[str, Any] = {}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*keys, "score", "top_sensors", "complete"])
    out.flush()
    row, alarms = -1, 0
    for values in reader:
        if not values:
            continue
        row += 1
        if len(values) != len(header):
            raise DataError(f"row {row} has {len(values)} fields but the header names {len(header)} columns")
        # Checked and converted once, on arrival; the context keeps the converted rows.
        canonical, _ = inputs.canonical(frame_of([values], header), spec, offset=row)
        series = values[series_at] if series_at is not None else ""
        t = canonical["time"].iloc[0]
        if spec["time_column"] is not None and series in last_time and t < last_time[series]:
            where = f" of series '{series}'" if series_at is not None else ""
            raise DataError(
                f"time column '{spec['time_column']}' is not in order: row {row}{where} ({t}) comes after a row at "
                f"{last_time[series]}; send the rows in time order"
            )
        typed = {c: (values[at[c]] or None) if c in text else float(canonical[c].iloc[0]) for c in required}
        buffer = buffers.setdefault(series, deque(maxlen=context - 1))
        scored = model.predict(pd.DataFrame([*buffer, typed], columns=required)).iloc[-1]
        buffer.append(typed)
        last_time[series] = t
        if scored["alarm"]:
            alarms += 1
            key_values = [values[at[k]] for k in keys]
            score = repr(float(scored["score"]))
            writer.writerow([*key_values, score, scored["top_sensors"], bool(scored["complete"])])
            out.flush()
    print(f"rarewatch score: {row + 1} rows streamed, {alarms} alarms", file=sys.stderr)
    return alarms


def frame_of(rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    """CSV fields as a frame of text; empty fields are missing values, as in a CSV file read in batch."""
    df = pd.DataFrame(rows, columns=header, dtype=object)
    return df.where(df != "", None)
