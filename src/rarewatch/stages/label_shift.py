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
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.label_shift")


def run(df: pd.DataFrame, horizon: int | None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Shifted rows, the original events (series, first/last time, row count) and a report of the shift.

    horizon None means the data config did not state one: no shift, and the report says so.
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


def execute(cfg: Config, paths: Paths) -> None:
    df = read_parquet(paths.interim, "preprocess")
    out, events, report = run(df, cfg.label_shift.horizon)
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
