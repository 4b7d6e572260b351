"""Log the pipeline's chosen detector into a run as an MLflow pyfunc model named `model`.

The model is logged as code (rarewatch/serving/model_code.py) with the bundle directory as its one
artifact, an explicit signature (raw input columns -> score, raw_score, alarm, top_sensors, complete),
an input example (the first rows the pipeline processed, in the training file's column names) and
pinned pip requirements (listed here, so MLflow does not load the model to guess them).
"""

from __future__ import annotations

import logging
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rarewatch.config import Config
from rarewatch.data.schema import SERIES, TIME
from rarewatch.paths import Paths
from rarewatch.serving import bundle
from rarewatch.serving.inputs import UNIX_FORMATS

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

log = logging.getLogger("rarewatch.track")
MODEL_NAME = "model"  # runs:/<run id>/model
MODEL_CODE = Path(__file__).with_name("model_code.py")
EXAMPLE_ROWS = 5
# What the model imports at load time (the rest comes with these); rarewatch itself is not on PyPI:
# serve it from the project's environment (`mlflow models serve --env-manager local`).
REQUIREMENTS = ("mlflow", "torch", "lightning", "numpy", "pandas", "scipy", "scikit-learn", "pyod", "skops", "pydantic")


def requirements() -> list[str]:
    pins = []
    for name in REQUIREMENTS:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pins


def signature(spec: dict[str, Any]) -> ModelSignature:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    columns = []
    if spec["time_column"] is not None:
        as_text = spec["time_kind"] == "datetime" and spec["time_format"] not in UNIX_FORMATS
        columns.append(ColSpec("string" if as_text else "double", spec["time_column"]))
    if spec["series_column"] is not None:
        columns.append(ColSpec("string", spec["series_column"]))
    for col in spec["input_columns"]:
        columns.append(ColSpec("string" if col in spec["categorical_columns"] else "double", col))
    outputs = [
        ColSpec("double", "score"),
        ColSpec("double", "raw_score"),
        ColSpec("boolean", "alarm"),
        ColSpec("string", "top_sensors"),
        ColSpec("boolean", "complete"),
    ]
    return ModelSignature(inputs=Schema(columns), outputs=Schema(outputs))


def input_example(paths: Paths, spec: dict[str, Any]) -> pd.DataFrame:
    """The first processed rows, as a plant would send them: the training file's names, time as text."""
    import pyarrow.parquet as pq

    columns = [c for c in (TIME, SERIES) if c in pq.read_schema(paths.processed).names] + spec["input_columns"]
    rows = pq.ParquetFile(paths.processed).iter_batches(batch_size=EXAMPLE_ROWS, columns=columns)
    df = next(rows).to_pandas().head(EXAMPLE_ROWS)
    out = pd.DataFrame(index=df.index)
    if spec["time_column"] is not None:
        t = df[TIME]
        if spec["time_kind"] == "numeric":
            out[spec["time_column"]] = t.astype(float)
        elif spec["time_format"] in UNIX_FORMATS:  # back to epoch numbers, as the file has them
            seconds = (t - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
            out[spec["time_column"]] = seconds * (1000 if spec["time_format"] == "unix_ms" else 1)
        else:
            out[spec["time_column"]] = t.astype(str)
    if spec["series_column"] is not None:
        out[spec["series_column"]] = df[SERIES].astype(str)
    for col in spec["input_columns"]:
        out[col] = df[col].astype(str) if col in spec["categorical_columns"] else df[col].astype(float)
    return out


def log_served_model(uri: str, run_id: str, cfg: Config, paths: Paths, experiment_id: str | None = None) -> str:
    """Log the bundle of the outputs under `paths` into run `run_id`; returns the model's URI (models:/<id>).

    The model is saved locally with mlflow.pyfunc.save_model, then uploaded as the run's logged model,
    through an explicit client (no active run, no global tracking URI). mlflow.pyfunc.log_model would
    also load the model and predict the input example, seconds of torch imports on every `dvc repro`;
    tests/unit/test_serving.py loads and predicts logged models instead.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import Model

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    client = MlflowClient(uri)
    experiment_id = experiment_id or client.get_run(run_id).info.experiment_id
    logged = client.create_logged_model(
        experiment_id, name=MODEL_NAME, source_run_id=run_id, tags={"rarewatch.model": cfg.model.name}
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = bundle.write(cfg, paths, Path(tmp) / "bundle")
            spec = bundle.read_spec(directory)
            local = Path(tmp) / MODEL_NAME
            mlflow.pyfunc.save_model(
                str(local),
                python_model=str(MODEL_CODE),
                artifacts={"bundle": str(directory)},
                signature=signature(spec),
                input_example=input_example(paths, spec),
                pip_requirements=requirements(),
                metadata={"rarewatch": {k: spec[k] for k in ("threshold", "smoothing", "alarm_policy", "memory_rows")}},
                mlflow_model=Model(
                    artifact_path=logged.artifact_location,
                    model_uuid=logged.model_id,
                    model_id=logged.model_id,
                    run_id=run_id,
                ),
            )
            client.log_model_artifacts(logged.model_id, str(local))
        client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
        client.finalize_logged_model(logged.model_id, "READY")
    except BaseException:
        client.finalize_logged_model(logged.model_id, "FAILED")
        raise
    log.info(
        "MLflow model runs:/%s/model (models:/%s): threshold %.6g, smoothing %s, alarm policy %s",
        run_id, logged.model_id, spec["threshold"], spec["smoothing"]["method"], spec["alarm_policy"],
    )  # fmt: skip
    return f"models:/{logged.model_id}"
