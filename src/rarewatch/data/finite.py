"""Values no model can compute with: +-inf, and finite values beyond float32's range (models compute in
float32, and squaring such a value overflows the scaler's float64 arithmetic too).

NaN is not one of them: it is a missing value, handled by preprocess.nan_policy. What happens to these
values is preprocess.nonfinite: `refuse` (preprocess stops, naming the columns), `clip` (to the column's
smallest or largest in-range training value) or `impute` (the column's training median); clip and impute
are fitted on training rows by the encoder (rarewatch.data.encoding), like every other statistic.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from rarewatch.errors import DataError

# float32's largest value: a reading beyond it is a sentinel or an overflow upstream, never a measurement.
LIMIT = float(np.finfo(np.float32).max)
NonfinitePolicy = Literal["refuse", "clip", "impute"]
FIX = (
    "fix the file, or set preprocess.nonfinite=clip (to the column's training minimum or maximum) or "
    "preprocess.nonfinite=impute (the column's training median)"
)


def out_of_range(x: np.ndarray) -> np.ndarray:
    """True where a value is +-inf or beyond +-LIMIT (NaN is False: it is a missing value)."""
    with np.errstate(invalid="ignore"):
        return np.isinf(x) | (np.abs(x) > LIMIT)


def counts(df: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Out-of-range values per numeric column, for the columns that have any."""
    if not columns:
        return {}
    bad = out_of_range(df[columns].to_numpy(dtype=np.float64)).sum(axis=0)
    return {c: int(n) for c, n in zip(columns, bad, strict=True) if n}


def refuse(found: dict[str, int], where: str) -> None:
    """One DataError naming every column with out-of-range values (the worst first) and the fix."""
    if not found:
        return
    worst = sorted(found, key=lambda c: (-found[c], c))
    listed = ", ".join(f"'{c}' ({found[c]})" for c in worst[:10]) + (" ..." if len(worst) > 10 else "")
    total = sum(found.values())
    raise DataError(
        f"{total} values in {len(found)} feature column(s) of {where} are infinite or beyond +-{LIMIT:.3g}, "
        f"which no model can compute with: {listed}; {FIX}"
    )
