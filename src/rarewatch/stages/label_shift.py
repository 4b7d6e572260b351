"""Stage label_shift: the early-warning horizon, and the event list.

docs/protocol.md, "Early warning is a label shift".
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet
from rarewatch.config import Config
from rarewatch.data.label_shift import describe_shift, find_events, shift_labels
from rarewatch.data.schema import LABEL, SERIES, TIME, series_codes
from rarewatch.errors import DataError
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.label_shift")


def run(
    df: pd.DataFrame, horizon: int | None, max_dropped_fraction: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Shifted rows, the original events (series, first/last time, row count) and a report of the shift.

    horizon None means the data config did not state one: no shift, and the report says so. A shift that
    drops more than `max_dropped_fraction` of the rows (label_shift.max_dropped_fraction) is refused.
    """
    h = 0 if horizon is None else horizon
    y = df[LABEL].to_numpy()
    blocks = series_codes(df)
    events = find_events(y, blocks)
    times = df[TIME].to_numpy()
    table: dict[str, Any] = {"event": range(len(events))}
    if SERIES in df:
        series = df[SERIES].to_numpy()
        table["series"] = [series[s] for s, _ in events]
    table.update(
        start_time=[times[s] for s, _ in events],
        end_time=[times[e] for _, e in events],
        rows=[e - s + 1 for s, e in events],
    )
    labels, keep = shift_labels(y, h, blocks)
    check_dropped_fraction(int((~keep).sum()), len(df), h, max_dropped_fraction)
    out = df.loc[keep].reset_index(drop=True)
    out[LABEL] = labels
    report = {
        "horizon": h,
        "horizon_stated": horizon is not None,
        "rows_in": len(df),
        "events": len(events),
        "event_rows": int(y.sum()),
        "rows_dropped": int((~keep).sum()),
        "rows_made_positive": int(labels.sum()) if h > 0 else 0,
        "positive_rows_out": int(labels.sum()),
        "rows_out": int(keep.sum()),
    }
    return out, pd.DataFrame(table), report


def check_dropped_fraction(dropped: int, rows: int, horizon: int, max_fraction: float) -> None:
    """Early warning drops the event rows; when they are most of the data, the events are not rare (an
    inverted label, or a horizon meant for another data set) and the model would learn from what is left."""
    if rows == 0 or dropped / rows <= max_fraction:
        return
    raise DataError(
        f"label_shift.horizon={horizon} drops {dropped} of {rows} rows ({dropped / rows:.1%}) as event rows, more "
        f"than label_shift.max_dropped_fraction={max_fraction}; check data.positive_label (are normal rows marked "
        "positive?), use label_shift.horizon=0 to detect events rather than warn of them, or raise "
        "label_shift.max_dropped_fraction"
    )


def execute(cfg: Config, paths: Paths) -> None:
    df = read_parquet(paths.interim, "preprocess")
    out, events, report = run(df, cfg.label_shift.horizon, cfg.label_shift.max_dropped_fraction)
    with atomic_dir(paths.processed.parent) as tmp:
        out.to_parquet(tmp / paths.processed.name, index=False)
        events.to_parquet(tmp / paths.events.name, index=False)
        (tmp / paths.shift_report.name).write_text(json.dumps(report, indent=2) + "\n")
    log.info("%s", describe_shift(report))


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("label_shift", execute, argv)


if __name__ == "__main__":
    main()
