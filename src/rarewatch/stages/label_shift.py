"""Stage label_shift: the early-warning horizon, and the event list.

docs/protocol.md, "Early warning is a label shift".
"""

from __future__ import annotations

import logging

import pandas as pd

from rarewatch.artifacts import atomic_dir, read_parquet
from rarewatch.config import Config
from rarewatch.data.label_shift import find_events, shift_labels
from rarewatch.data.schema import LABEL, TIME
from rarewatch.paths import Paths

log = logging.getLogger("rarewatch.label_shift")


def run(df: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shifted rows, and the original events (first/last time and row count) for later evaluation."""
    y = df[LABEL].to_numpy()
    events = find_events(y)
    times = df[TIME].to_numpy()
    event_table = pd.DataFrame(
        {
            "event": range(len(events)),
            "start_time": [times[s] for s, _ in events],
            "end_time": [times[e] for _, e in events],
            "rows": [e - s + 1 for s, e in events],
        }
    )
    labels, keep = shift_labels(y, horizon)
    out = df.loc[keep].reset_index(drop=True)
    out[LABEL] = labels
    return out, event_table


def execute(cfg: Config, paths: Paths) -> None:
    df = read_parquet(paths.interim, "preprocess")
    out, events = run(df, cfg.label_shift.horizon)
    with atomic_dir(paths.processed.parent) as tmp:
        out.to_parquet(tmp / paths.processed.name, index=False)
        events.to_parquet(tmp / paths.events.name, index=False)
    log.info(
        "horizon %d rows: %d events, %d positive rows of %d",
        cfg.label_shift.horizon,
        len(events),
        int(out[LABEL].sum()),
        len(out),
    )


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("label_shift", execute, argv)


if __name__ == "__main__":
    main()
