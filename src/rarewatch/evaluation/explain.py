"""Which sensors moved: per row, the sensors behind its score.

A detector gives one contribution per encoded feature and row (Detector.contributions: the
per-feature reconstruction error for autoencoders and PCA, the deviation from training in training
standard deviations for the rest). Encoded features map back to the sensor they come from
(`x12__zscore5` and `x12` to `x12`, the one-hot `x28=3` to `x28`); features that summarise many
sensors at once (`absz_max5`) count as "several". A row's top sensors are those with the largest
summed contribution.
"""

from __future__ import annotations

import numpy as np

SEVERAL = "several"  # features computed across sensors (rarewatch.data.features aggregates)
AGGREGATE_PREFIXES = ("absz_mean", "absz_max", "n_over3_")


def sensor_of(feature: str) -> str:
    if feature.startswith(AGGREGATE_PREFIXES) and "__" not in feature:
        return SEVERAL
    return feature.split("__", 1)[0].split("=", 1)[0]


def top_sensors(contributions: np.ndarray, features: list[str], k: int = 3) -> list[str]:
    """Per row, the `k` sensors with the largest summed contribution, as 'x12, x3, x51' (largest first)."""
    c = np.nan_to_num(np.abs(np.asarray(contributions, dtype=np.float64)))
    if c.ndim != 2 or c.shape[1] != len(features):
        raise ValueError(f"contributions {c.shape} do not match {len(features)} feature names")
    sensors = sorted({sensor_of(f) for f in features})
    index = {s: i for i, s in enumerate(sensors)}
    mapping = np.array([index[sensor_of(f)] for f in features])
    per_sensor = np.zeros((len(c), len(sensors)))
    np.add.at(per_sensor.T, mapping, c.T)  # sum the features of each sensor
    k = min(k, len(sensors))
    order = np.argsort(-per_sensor, axis=1, kind="stable")[:, :k]
    names = np.asarray(sensors, dtype=object)[order]
    return [", ".join(row) for row in names]
