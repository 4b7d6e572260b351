"""Score smoothing from the past only, chosen on validation; and the sensors behind each score."""

from __future__ import annotations

import numpy as np
import pytest

from rarewatch.evaluation.explain import SEVERAL, sensor_of, top_sensors
from rarewatch.evaluation.smoothing import CANDIDATES, Smoother, choose


def test_smoothers_by_hand():
    s = np.array([1.0, 5.0, 3.0, 0.0, 4.0])
    seg = np.zeros(5, dtype=int)
    assert Smoother("mean", window=2).apply(s, seg).tolist() == [1.0, 3.0, 4.0, 1.5, 2.0]
    assert Smoother("max", window=3).apply(s, seg).tolist() == [1.0, 5.0, 5.0, 5.0, 4.0]
    # ewma span 3 (alpha 0.5, adjust=True): row 1 = (5 + 0.5 * 1) / 1.5
    assert Smoother("ewma", span=3).apply(s, seg)[1] == pytest.approx(5.5 / 1.5)
    assert Smoother("none").apply(s, seg).tolist() == s.tolist()


def test_smoothing_restarts_at_every_segment_and_never_looks_ahead():
    s = np.array([9.0, 9.0, 1.0, 1.0])
    assert Smoother("max", window=3).apply(s, np.array([0, 0, 1, 1])).tolist() == [9.0, 9.0, 1.0, 1.0]
    later = s.copy()
    later[3] = 100.0
    assert Smoother("mean", window=3).apply(later, np.zeros(4, dtype=int))[:3].tolist() == [9.0, 9.0, 19 / 3]


def test_auto_picks_the_best_on_validation():
    # positives are the rows after a build-up: a window over the last rows catches it, the raw score does not
    rng = np.random.default_rng(0)
    scores = rng.random(600)
    labels = np.zeros(600, dtype=int)
    for start in range(20, 580, 40):
        scores[start : start + 2] += 3.0  # a burst...
        labels[start + 2] = 1  # ...then the event row, whose own score is ordinary
    best, tried = choose(labels, scores, np.zeros(600, dtype=int))
    assert best.method in ("mean", "max") and best.window == 3
    assert tried[best.label] == max(v for v in tried.values() if v is not None) > tried["none"] + 0.3
    assert set(tried) == {c.label for c in CANDIDATES}
    nothing, _ = choose(np.zeros(10, dtype=int), rng.random(10), np.zeros(10, dtype=int))
    assert nothing.method == "none"  # no positive to choose by


def test_features_map_back_to_their_sensors():
    assert sensor_of("x12") == "x12" and sensor_of("x12__zscore5") == "x12" and sensor_of("x28=3") == "x28"
    assert sensor_of("absz_max15") == SEVERAL


def test_top_sensors_sum_the_features_of_each_sensor():
    features = ["a", "a__zscore5", "b", "b__zscore5", "grade=A"]
    contributions = np.array(
        [
            [1.0, 1.0, 1.5, 0.0, 0.0],  # a: 2.0, b: 1.5
            [0.0, 0.0, 0.1, 0.2, 5.0],  # grade first
        ]
    )
    assert top_sensors(contributions, features, k=2) == ["a, b", "grade, b"]
    with pytest.raises(ValueError, match="do not match"):
        top_sensors(contributions, features[:2])
