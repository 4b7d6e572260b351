"""The fitted part of preprocessing: imputer, scaler and one-hot encoder, fitted on training rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from rarewatch.data.schema import feature_columns
from rarewatch.errors import DataError


class FeaturePipeline:
    """Frame -> float32 matrix. Fit on the rows the model trains on (protocol rule 2)."""

    def __init__(self, categorical: list[str], impute: bool, max_missing_fraction: float = 1.0) -> None:
        self.categorical = categorical
        self.impute = impute
        self.max_missing_fraction = max_missing_fraction
        self.columns: list[str] = []
        self.dropped_missing: list[str] = []
        self._transformer: ColumnTransformer | None = None

    def fit(self, df: pd.DataFrame) -> FeaturePipeline:
        if len(df) == 0:
            raise DataError("no rows to fit the scaler on")
        columns = feature_columns(df)
        # Judged on the fit rows only, like every other fitted statistic here.
        missing = df[columns].isna().mean()
        self.dropped_missing = [c for c in columns if missing[c] > self.max_missing_fraction]
        self.columns = [c for c in columns if c not in self.dropped_missing]
        if not self.columns:
            raise DataError(
                f"every feature is missing in more than {self.max_missing_fraction:.0%} of the training rows; "
                "raise preprocess.max_missing_fraction"
            )
        cats = [c for c in self.columns if c in self.categorical]
        nums = [c for c in self.columns if c not in cats]
        numeric_steps = [("scale", StandardScaler())]
        if self.impute:
            numeric_steps.insert(0, ("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
        self._transformer = ColumnTransformer(
            [
                ("num", Pipeline(numeric_steps), nums),
                ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cats),
            ],
            sparse_threshold=0.0,
        )
        self._transformer.fit(df[self.columns])
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        if self._transformer is None:
            raise RuntimeError("FeaturePipeline.transform called before fit")
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise DataError(f"columns {missing} that the model was trained on are missing; retrain (dvc repro)")
        out = self._transformer.transform(df[self.columns]).astype(np.float32)
        if not np.isfinite(out).all():
            raise DataError(
                "features contain NaN or infinite values after preprocessing; set preprocess.nan_policy=impute "
                "or clean the input"
            )
        return out

    @property
    def output_names(self) -> list[str]:
        if self._transformer is None:
            return []
        return [str(n) for n in self._transformer.get_feature_names_out()]
