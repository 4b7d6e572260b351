"""Preprocess: time order, duplicate rows, constant and ID-like columns, categorical typing.

Nothing here is fitted: the statistics that could leak (scaling, imputation, category
encoding) are fitted on training rows in `features.py`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rarewatch.data import finite
from rarewatch.data.schema import LABEL, TIME, feature_columns, in_time_order
from rarewatch.errors import DataError


def clean(
    df: pd.DataFrame,
    categorical: list[str],
    drop_constant: bool,
    drop_duplicates: bool,
    nan_policy: str,
    has_time_axis: bool = True,
    nonfinite: str = "refuse",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """has_time_axis=False: `time` only numbers the rows (data.time_column=null), so it is left out
    when judging duplicates; otherwise two equal rows would always differ by their row number.

    nonfinite (preprocess.nonfinite): `refuse` stops on infinite or overflowing values
    (rarewatch.data.finite); `clip` and `impute` pass them on to the encoder, which replaces them with
    statistics of the training rows (nothing is fitted here)."""
    report: dict[str, Any] = {"rows_in": len(df)}
    df = in_time_order(df)  # by series, then time: each series' rows together, in their own order
    if drop_duplicates:
        before = len(df)
        key = None if has_time_axis else [c for c in df.columns if c != TIME]
        df = df.drop_duplicates(subset=key).reset_index(drop=True)
        report["duplicates_dropped"] = before - len(df)
    dropped: dict[str, str] = {}
    for col in feature_columns(df):
        values = df[col]
        if drop_constant and values.nunique(dropna=False) <= 1:
            dropped[col] = "constant"
        elif _is_row_id(values, col in categorical):
            dropped[col] = "row identifier"
    df = df.drop(columns=list(dropped))
    report["columns_dropped"] = dropped
    features = feature_columns(df)
    if not features:
        raise DataError(f"every feature column was dropped ({dropped}); nothing is left to learn from")
    numeric = [c for c in features if c not in categorical]
    nan_counts = {c: int(n) for c, n in df[numeric].isna().sum().items() if n}
    report["nan_counts"] = nan_counts
    out_of_range = finite.counts(df, numeric)
    report["nonfinite_counts"] = out_of_range
    if nonfinite == "refuse":
        finite.refuse(out_of_range, "the input")
    if nan_counts and nan_policy == "refuse":
        worst = max(nan_counts, key=nan_counts.__getitem__)
        raise DataError(
            f"{len(nan_counts)} feature columns have missing values (most: '{worst}' with {nan_counts[worst]}); "
            "set preprocess.nan_policy=impute to fill them with training medians, or clean the file"
        )
    report["rows_out"] = len(df)
    report["features"] = features
    report["positive_rows"] = int(df[LABEL].sum())
    return df, report


def _is_row_id(values: pd.Series, categorical: bool) -> bool:
    """A column that only numbers or names the rows: unique per row, so it cannot generalise."""
    if len(values) < 3 or values.isna().any() or values.nunique() != len(values):
        return False
    if categorical:
        return True
    if pd.api.types.is_numeric_dtype(values) and np.all(np.mod(values.to_numpy(), 1) == 0):
        steps = np.diff(values.to_numpy())
        return bool(np.all(steps == 1))
    return False
