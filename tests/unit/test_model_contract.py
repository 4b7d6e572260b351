"""The model contract (rarewatch/models/base.py), checked for every registered family.

Each family is trained on small generated data whose events have a learnable precursor (stronger
than the default data's, no decoys), from its real conf/model/<name>.yaml made small (conftest.py).
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from rarewatch.errors import DataError
from rarewatch.models import families
from rarewatch.models.base import MODEL_FILE, Detector, Rows
from rarewatch.models.registry import family, load_detector
from rarewatch.stages import train
from tests.conftest import CPU_TRAINER

FAMILIES = families.names()

# 6000 rows at event_rate 0.04: ~140 / 50 / 50 early-warning rows in train / val / test.
SIGNAL = {
    "data__synthetic__n_rows": 6000,
    "data__synthetic__event_rate": 0.04,
    "data__synthetic__precursor_strength": 5.0,
    "data__synthetic__decoy_rate": 0.0,
}


@pytest.fixture(scope="module")
def signal_splits(small_config, splits_of):
    return splits_of(small_config(**SIGNAL))


@pytest.fixture(scope="module")
def trained(small_config, signal_splits):
    """family name -> (cfg, encoder, detector, report), trained once per module."""
    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in cache:
            cfg = small_config(model=name, **SIGNAL)
            cache[name] = (cfg, *train.run(signal_splits["train"], signal_splits["val"], cfg, cfg.model))
        return cache[name]

    return get


def test_every_family_module_declares_its_detector():
    assert {"dense_ae", "isolation_forest", "lstm_ae", "pca", "gradient_boosting"} <= set(FAMILIES)
    for name in FAMILIES:
        cls = family(name)
        assert issubclass(cls, Detector) and cls.name == name
        assert not getattr(cls, "__abstractmethods__", None), f"{name} leaves {cls.__abstractmethods__} abstract"


@pytest.mark.parametrize("name", FAMILIES)
def test_one_finite_score_per_row(trained, signal_splits, name):
    _, encoder, detector, report = trained(name)
    for split in ("val", "test"):
        scores = detector.score(train.to_rows(signal_splits[split], encoder, 1.5))
        assert scores.shape == (len(signal_splits[split]),)
        assert np.isfinite(scores).all()
    assert report.train_rows > 0


def _planted(rows: Rows, direction: np.ndarray, at: int, width: int = 5) -> Rows:
    """`rows` with the `width` rows ending at `at` moved 9 standard units along `direction`.

    `width` rows, so that a sequence model sees the move over its whole window (lookback 5).
    """
    x = rows.x.copy()
    x[at - width + 1 : at + 1] += 9.0 * direction / np.linalg.norm(direction)
    return Rows(x=x, y=rows.y, time=rows.time, segment=rows.segment)


@pytest.mark.parametrize("name", FAMILIES)
def test_a_planted_anomaly_scores_higher(trained, signal_splits, name):
    """Normal rows moved along the direction that separates event rows from normal ones in training.

    That is off the normal manifold for novelty detectors and towards the events for supervised ones,
    so every family must score the moved row above itself unmoved and above 3 in 4 normal rows (an
    IsolationForest's score saturates outside the training range, so the bar cannot be much higher).
    """
    _, encoder, detector, _ = trained(name)
    fit = train.to_rows(signal_splits["train"], encoder, 1.5)
    direction = fit.x[fit.y == 1].mean(axis=0) - fit.x[fit.y == 0].mean(axis=0)
    rows = train.to_rows(signal_splits["test"], encoder, 1.5)
    before = detector.score(rows)
    normal = np.flatnonzero(rows.y == 0)
    targets = [int(i) for i in normal[len(normal) // 4 :: len(normal) // 4][:3]]  # well inside the split
    for at in targets:
        after = detector.score(_planted(rows, direction, at))
        assert after[at] > before[at], f"{name}: row {at} scored {after[at]:.4g} planted vs {before[at]:.4g}"
        assert after[at] > np.quantile(before[normal], 0.75), f"{name}: planted row not above 75% of normal rows"


@pytest.mark.parametrize("name", FAMILIES)
def test_same_seed_gives_identical_scores_and_files(trained, signal_splits, tmp_path, name):
    cfg, encoder, detector, report = trained(name)
    encoder2, detector2, report2 = train.run(signal_splits["train"], signal_splits["val"], cfg, cfg.model)
    test = signal_splits["test"]
    np.testing.assert_array_equal(
        detector2.score(train.to_rows(test, encoder2, 1.5)), detector.score(train.to_rows(test, encoder, 1.5))
    )
    # Byte for byte: dvc.lock hashes models/, so an unchanged model must give unchanged files, however
    # much either one scored before it was saved (kNN and LOF trees count their queries).
    detector.score(train.to_rows(signal_splits["val"], encoder, 1.5))
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    train.save(first, encoder, detector, report)
    train.save(second, encoder2, detector2, report2)
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (second / path.name).read_bytes(), f"{name}: {path.name} differs"


@pytest.mark.parametrize("name", FAMILIES)
def test_save_and_load_give_identical_scores(trained, signal_splits, tmp_path, name):
    cfg, encoder, detector, report = trained(name)
    train.save(tmp_path, encoder, detector, report)
    # Loading needs no model config: the directory carries its own (model.json).
    encoder2, loaded = train.load(tmp_path, cfg.trainer)
    assert type(loaded) is type(detector) and loaded.config == detector.config
    rows = train.to_rows(signal_splits["test"], encoder, 1.5)
    np.testing.assert_array_equal(
        loaded.score(train.to_rows(signal_splits["test"], encoder2, 1.5)), detector.score(rows)
    )
    saved = json.loads((tmp_path / MODEL_FILE).read_text())
    assert saved["family"] == name and saved["config"] == cfg.model.model_dump(mode="json")


class _Exploit:
    """Unpickling this would run a command: no model file may ever be unpickled."""

    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("name", FAMILIES)
def test_a_planted_malicious_file_is_refused(trained, tmp_path, monkeypatch, name):
    cfg, encoder, detector, report = trained(name)
    train.save(tmp_path, encoder, detector, report)
    state = [p for p in tmp_path.iterdir() if p.suffix in (".pt", ".skops")]
    assert len(state) == 1, f"{name}: expected one weights or estimator file, got {state}"
    state[0].write_bytes(pickle.dumps(_Exploit()))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="refus|not a"):
        load_detector(tmp_path, cfg.trainer)
    assert not (tmp_path / "pwned").exists()


def test_loading_follows_the_saved_config_not_the_current_one(trained, signal_splits, tmp_path):
    cfg, encoder, detector, report = trained("dense_ae")
    train.save(tmp_path, encoder, detector, report)
    loaded = load_detector(tmp_path, CPU_TRAINER)
    assert loaded.config.hidden_dims == cfg.model.hidden_dims and loaded.seed == cfg.seed
