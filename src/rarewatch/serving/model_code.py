"""The pyfunc model, logged as code ("models from code", MLflow's recommended way for custom models).

MLflow stores this file in the model and runs it on load; nothing of rarewatch is pickled. The model's
one artifact is the bundle directory (rarewatch.serving.bundle), which `load_context` reads with the
safe loaders of rarewatch.serving.scorer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

BUNDLE = "bundle"  # the artifact key of the bundle directory


class RarewatchModel(PythonModel):
    """predict: raw rows in the training data's schema -> score, raw_score, alarm, top_sensors, complete."""

    def load_context(self, context: Any) -> None:
        from rarewatch.serving.scorer import Scorer

        self.scorer = Scorer(Path(context.artifacts[BUNDLE]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return self.scorer.score(model_input)


mlflow.models.set_model(RarewatchModel())
