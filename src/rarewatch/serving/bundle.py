"""The directory an MLflow model of rarewatch carries, written from the pipeline's outputs.

    serving.json   the input schema (time, series, sensor and categorical columns, in the training data's
                   names), the chosen threshold, the smoothing and the alarm policy, and `memory_rows`
    config.json    the whole pipeline config the model was trained and evaluated with (features, data, ...)
    model/         the train stage's model directory as it is: model.json, encoder.json, card.json and the
                   family's state (weights.pt + net.json, or estimator.skops)

Everything is JSON, skops or torch weights: loading it never unpickles (rarewatch.serving.scorer).
The threshold is the cost stage's, chosen on validation rows; the smoothing is the one the evaluate
stage applied (with smoothing.method=auto, the candidate it chose on validation).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from rarewatch.config import Config, to_dict
from rarewatch.data.schema import RESERVED, SERIES, TIME
from rarewatch.errors import DataError
from rarewatch.evaluation.early_warning import AlarmPolicy
from rarewatch.evaluation.smoothing import CANDIDATES, Smoother
from rarewatch.paths import Paths

SPEC_FILE = "serving.json"
CONFIG_FILE = "config.json"
MODEL_DIR = "model"
FORMAT = 1
FILE_SERIES = "source_file"  # rarewatch.stages.ingest.FILE_SERIES: a glob's file names, when no series column
EWMA_WEIGHT_LEFT = 0.001  # an ewma's memory: the rows after which older rows weigh less than this in total


def applied_smoother(applied: str, method: str, window: int, span: int) -> Smoother:
    """The smoother evaluate applied (its label in eval.json), as an object."""
    configured = Smoother(method, window=window, span=span) if method != "auto" else None
    for candidate in (configured, *CANDIDATES):
        if candidate is not None and candidate.label == applied:
            return candidate
    raise DataError(f"metrics/eval.json names smoothing '{applied}', which rarewatch does not know; rerun evaluate")


def ewma_rows(span: int) -> int:
    """Rows an ewma of `span` remembers: after them the older rows weigh less than EWMA_WEIGHT_LEFT."""
    alpha = 2.0 / (span + 1.0)
    return 0 if alpha >= 1 else math.ceil(math.log(EWMA_WEIGHT_LEFT) / math.log(1.0 - alpha))


def smoother_rows(s: Smoother) -> int:
    if s.method in ("mean", "max"):
        return s.window - 1
    return ewma_rows(s.span) if s.method == "ewma" else 0


def memory_rows(cfg: Config, smoother: Smoother, policy: AlarmPolicy) -> int:
    """How many earlier rows of its segment a row's outputs depend on (features, windows, smoothing, alarms).

    Exact for windows, lags, diff and k-of-n; for ewma features or smoothing the rows until older rows weigh
    under 0.1 %; a silence after an alarm counts its `silence` rows.
    """
    f = cfg.features
    features = 0
    if f.name != "none":
        features = max(
            max(f.windows, default=1) - 1,
            max(f.lags, default=0),
            1 if f.diff else 0,
            max((ewma_rows(s) for s in f.ewma_spans), default=0),
        )
    windows = int(getattr(cfg.model, "lookback", 1)) - 1
    return features + windows + smoother_rows(smoother) + policy.n - 1 + policy.silence


def processed_schema(paths: Paths) -> Any:
    """The arrow schema of the rows the features stage read (the processed rows)."""
    import pyarrow.parquet as pq

    if not paths.processed.is_file():
        raise FileNotFoundError(f"'{paths.processed}' not found; run the pipeline first (dvc repro)")
    return pq.read_schema(paths.processed)


def spec_of(cfg: Config, paths: Paths) -> dict[str, Any]:
    """serving.json for the pipeline outputs under `paths`."""
    schema = processed_schema(paths)
    eval_m = json.loads(paths.eval_metrics.read_text())
    cost_m = json.loads(paths.cost_metrics.read_text())
    s = cfg.smoothing
    smoother = applied_smoother(eval_m["smoothing"]["applied"], s.method, s.window, s.span)
    policy = AlarmPolicy.from_config(cfg.alarm)
    d = cfg.data
    series_column = d.series_column or (FILE_SERIES if SERIES in schema.names else None)
    # The feature columns in the processed rows' order: the features stage derives in that order.
    columns = [c for c in schema.names if c not in RESERVED]
    time_kind = None
    if d.time_column is not None:
        time_kind = "datetime" if str(schema.field(TIME).type).startswith("timestamp") else "numeric"
    return {
        "format": FORMAT,
        "model": cfg.model.name,
        "dataset": d.name,
        "time_column": d.time_column,
        "time_kind": time_kind,
        "time_format": d.time_format,
        "series_column": series_column,
        "numeric_columns": [c for c in columns if c not in d.categorical_columns],
        "categorical_columns": [c for c in columns if c in d.categorical_columns],
        "input_columns": columns,
        "threshold": float(cost_m["best_threshold"]),
        "threshold_chosen_by": "the cost stage: lowest cost on the validation rows (metrics/cost.json)",
        "smoothing": {"method": smoother.method, "window": smoother.window, "span": smoother.span},
        "alarm_policy": policy.as_dict(),
        "memory_rows": memory_rows(cfg, smoother, policy),
        "outputs": ["score", "raw_score", "alarm", "top_sensors", "complete"],
    }


def write(cfg: Config, paths: Paths, dest: Path) -> Path:
    """The bundle of the pipeline outputs under `paths`, written into the new directory `dest`."""
    dest.mkdir(parents=True)
    (dest / SPEC_FILE).write_text(json.dumps(spec_of(cfg, paths), indent=2) + "\n")
    (dest / CONFIG_FILE).write_text(json.dumps(to_dict(cfg), indent=1) + "\n")
    shutil.copytree(paths.model_dir, dest / MODEL_DIR)
    return dest


def read_spec(directory: Path) -> dict[str, Any]:
    path = directory / SPEC_FILE
    if not path.is_file():
        raise DataError(f"'{directory}' is not a rarewatch model bundle ({SPEC_FILE} missing)")
    spec = json.loads(path.read_text())
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise DataError(f"'{path}' is not a rarewatch serving file of format {FORMAT}; log the model again")
    return spec
