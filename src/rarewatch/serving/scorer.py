"""A model bundle loaded from its own files, scoring raw rows exactly as the pipeline scores a split.

One call is one stretch of rows, like one split in the pipeline: rolling features, sequence windows,
smoothing and the alarm policy all run over the rows of the call, within segments (a series, cut where
the time axis has a gap over data.max_gap median steps), through the very functions the stages use
(rarewatch.stages.features.run, rarewatch.stages.evaluate.score_frame, Smoother, AlarmPolicy). So the
test split given to `score` comes back with the floats of data/scores/test.parquet.

A row's outputs depend on up to `memory_rows` earlier rows of its segment (serving.json). A row with
fewer in the call has partial windows, as the first rows of every segment have in the pipeline: it is
scored, and marked `complete = False`. A caller who wants every row complete passes the `memory_rows`
rows before the ones it cares about and keeps the outputs of the complete rows; `rarewatch score` on a
stream does that for each new row.

Loading never unpickles: JSON for the config, schema and encoder, skops with the family's trusted
types for estimators, torch.load(weights_only=True) for weights (rarewatch.models).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rarewatch.config import Config, config_from_dict
from rarewatch.data.features import segment_starts
from rarewatch.data.schema import TIME, series_codes
from rarewatch.data.windows import segments
from rarewatch.evaluation.early_warning import AlarmPolicy
from rarewatch.evaluation.smoothing import Smoother
from rarewatch.serving import bundle, inputs

OUTPUT_COLUMNS = ("score", "raw_score", "alarm", "top_sensors", "complete")


class Scorer:
    """The bundle in `directory` (rarewatch.serving.bundle), ready to score raw rows."""

    def __init__(self, directory: Path) -> None:
        from rarewatch.stages.train import load

        directory = Path(directory)
        self.spec: dict[str, Any] = bundle.read_spec(directory)
        self.cfg: Config = config_from_dict(
            json.loads((directory / bundle.CONFIG_FILE).read_text()), source=str(directory / bundle.CONFIG_FILE)
        )
        self.encoder, self.detector = load(directory / bundle.MODEL_DIR, self.cfg.trainer)
        s = self.spec["smoothing"]
        self.smoother = Smoother(s["method"], window=int(s["window"]), span=int(s["span"]))
        a = self.spec["alarm_policy"]
        self.policy = AlarmPolicy(int(a["k"]), int(a["n"]), int(a["silence_rows"]))
        self.threshold = float(self.spec["threshold"])
        self.memory_rows = int(self.spec["memory_rows"])

    def score(self, raw: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
        """score (smoothed, what the threshold applies to), raw_score (the model's), alarm (after the alarm
        policy), top_sensors and complete, one row per input row, in input order."""
        from rarewatch.stages import evaluate, features

        frame, order = inputs.canonical(raw, self.spec, offset)
        rows, _ = features.run(frame, self.cfg)
        scored = evaluate.score_frame(rows, self.encoder, self.detector, self.cfg.data.max_gap)
        segment = segments(scored[TIME].to_numpy(), self.cfg.data.max_gap, series_codes(scored))
        raw_score = scored["score"].to_numpy(dtype=np.float64)
        score = self.smoother.apply(raw_score, segment)
        alarm = self.policy.apply(score >= self.threshold, series_codes(scored))
        seen = np.arange(len(segment)) - segment_starts(segment)
        out = pd.DataFrame(
            {
                "score": score,
                "raw_score": raw_score,
                "alarm": alarm.astype(bool),
                "top_sensors": scored["top_sensors"].to_numpy(dtype=object),
                "complete": seen >= self.memory_rows,
            }
        )
        return out.iloc[order].reset_index(drop=True)


def key_columns(raw: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """The time and series columns of `raw` (as given), to print beside the outputs."""
    keys = [c for c in (spec["time_column"], spec["series_column"]) if c is not None]
    return raw[keys].reset_index(drop=True) if keys else pd.DataFrame(index=range(len(raw)))
