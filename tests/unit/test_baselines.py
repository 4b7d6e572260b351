"""Baselines beside every deep model: PCA reconstruction error and supervised gradient boosting."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from rarewatch.errors import ConfigError, DataError
from rarewatch.stages import train

BASELINES = {
    "pca": {"name": "pca", "train_on": "normal", "variance": 0.9},
    "gradient_boosting": {
        "name": "gradient_boosting",
        "train_on": "all",
        "max_iter": 50,
        "learning_rate": 0.1,
        "max_leaf_nodes": 15,
        "balanced": True,
    },
}


def _test_auc(cfg, small_splits) -> tuple[float, np.ndarray]:
    features, detector, _ = train.run(small_splits["train"], small_splits["val"], cfg)
    scores = detector.score(train.to_rows(small_splits["test"], features))
    return roc_auc_score(small_splits["test"]["label"], scores), scores


def test_pca_beats_chance_and_is_deterministic(small_config, small_splits):
    cfg = small_config(model=BASELINES["pca"])
    auc, scores = _test_auc(cfg, small_splits)
    # Behavioural floor on the generated data: the precursor breaks the channels' correlations.
    assert auc > 0.65, f"pca test ROC-AUC {auc:.3f}"
    assert scores.shape == (len(small_splits["test"]),)
    _, again = _test_auc(cfg, small_splits)
    np.testing.assert_array_equal(scores, again)


def test_gradient_boosting_learns_a_supervised_signal(small_config, small_splits):
    # Row-wise trees barely see the synthetic precursor (it moves a different channel subset each
    # time), so the floor is set on a signal a supervised model must find: events where s00 is high.
    rng = np.random.default_rng(0)
    parts = {}
    for name, part in small_splits.items():
        part = part.copy()
        part["label"] = (rng.random(len(part)) < 0.05).astype(np.int64)
        part.loc[part["label"] == 1, "s00"] += 3.0
        parts[name] = part
    cfg = small_config(model=BASELINES["gradient_boosting"])
    auc, scores = _test_auc(cfg, parts)
    assert auc > 0.9, f"gradient_boosting test ROC-AUC {auc:.3f}"
    assert ((scores >= 0) & (scores <= 1)).all()  # a probability
    _, again = _test_auc(cfg, parts)
    np.testing.assert_array_equal(scores, again)


def test_baselines_round_trip_through_save_and_load(small_config, small_splits, tmp_path):
    for name, model in BASELINES.items():
        cfg = small_config(model=model)
        features, detector, report = train.run(small_splits["train"], small_splits["val"], cfg)
        directory = tmp_path / name
        directory.mkdir()
        train.save(directory, features, detector, cfg, report)
        features2, loaded = train.load(directory, cfg)
        rows = train.to_rows(small_splits["test"], features2)
        np.testing.assert_array_equal(detector.score(rows), loaded.score(rows))


def test_pca_is_fitted_on_normal_rows_only(small_config, small_splits):
    cfg = small_config(model=BASELINES["pca"])
    _, detector, report = train.run(small_splits["train"], small_splits["val"], cfg)
    n_normal = int((small_splits["train"]["label"] == 0).sum())
    assert n_normal < len(small_splits["train"])  # the check means something only with events present
    assert report.train_rows == detector.pca.n_samples_ == n_normal


def test_gradient_boosting_needs_both_classes(small_config, small_splits):
    cfg = small_config(model=BASELINES["gradient_boosting"])
    normal_only = small_splits["train"][small_splits["train"]["label"] == 0]
    with pytest.raises(DataError, match="needs both normal and event rows"):
        train.run(normal_only, small_splits["val"], cfg)


def test_pca_variance_out_of_range_is_a_config_error(small_config):
    with pytest.raises(ConfigError, match=r"model.variance=1.5 must be in \(0, 1\)"):
        small_config(model={**BASELINES["pca"], "variance": 1.5})
