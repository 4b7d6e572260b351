"""What single families do beyond the contract (test_model_contract.py): windows that stop at gaps,
the classifier's weighting, the baselines' training rows, the nets and losses, config checks.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from rarewatch.config import config_from_dict
from rarewatch.errors import ConfigError, DataError
from rarewatch.models.base import Rows
from rarewatch.models.registry import family, resolve
from rarewatch.stages import train
from tests.conftest import CPU_TRAINER

SEQUENCE_FAMILIES = ["lstm_ae", "lstm_classifier"]

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


@pytest.mark.parametrize("name", SEQUENCE_FAMILIES)
def test_windows_stop_at_time_gaps(trained, signal_splits, name):
    _, features, detector, _ = trained(name)
    rows = train.to_rows(signal_splits["test"], features, 1.5)
    start = int(np.flatnonzero(np.diff(rows.segment))[0]) + 1  # first row after a dropped event
    assert np.diff(rows.time[start - 1 : start + 1]) > 1.5 * np.median(np.diff(rows.time))  # it is a gap
    before = detector.score(rows)
    changed = Rows(x=rows.x.copy(), y=rows.y, time=rows.time, segment=rows.segment)
    changed.x[:start] += 5.0  # rewrite everything before the gap

    after = detector.score(changed)
    np.testing.assert_array_equal(after[start:], before[start:])  # rows after the gap never see it
    assert not np.array_equal(after[:start], before[:start])


def test_lstm_classifier_without_positive_windows_fails_clearly(small_config, signal_splits):
    cfg = small_config(model="lstm_classifier", **SIGNAL)
    no_events = signal_splits["train"].assign(label=0)
    with pytest.raises(DataError, match=r"none of the \d+ training windows .* is positive.*model=lstm_ae"):
        train.run(no_events, signal_splits["val"], cfg, cfg.model)


@pytest.mark.parametrize(
    ("name", "key", "value", "match"),
    [
        ("lstm_ae", "lookback", 0, r"'model\.lookback' is 0; must be >= 1"),
        ("lstm_ae", "dropout", 1.0, r"'model\.dropout' is 1\.0; must be < 1"),
        ("lstm_ae", "score_on", "first", r"'model\.score_on' is 'first'; allowed values: 'window' or 'last'"),
        ("lstm_ae", "patience", -1, r"'model\.patience' is -1; must be >= 0"),
        ("lstm_classifier", "stride", 0, r"'model\.stride' is 0; must be >= 1"),
        ("lstm_classifier", "class_weight", [1.0, 2.0, 3.0], r"'model\.class_weight' is \[1\.0, 2\.0, 3\.0\]"),
        ("lstm_classifier", "class_weight", [1.0, 0.0], r"model\.class_weight=\[1\.0, 0\.0\] needs two weights > 0"),
        ("lstm_classifier", "balanced", True, r"class_weight=\[1\.0, 4\.0\] and model\.balanced=true contradict"),
        ("lstm_classifier", "train_on", "normal", r"'model\.train_on' is 'normal'; allowed values: 'all'"),
        ("denoising_ae", "input_noise", 0.0, r"'model\.input_noise' is 0\.0; must be > 0"),
        ("dense_ae", "weight_decay", -0.5, r"'model\.weight_decay' is -0\.5; must be >= 0"),
        ("dense_ae", "hidden_dims", [], r"'model\.hidden_dims' is \[\]; needs at least 1 item"),
        ("vae", "latent_dim", 0, r"'model\.latent_dim' is 0; must be >= 1"),
        ("vae", "beta", -1.0, r"'model\.beta' is -1\.0; must be >= 0"),
        ("isolation_forest", "n_estimators", 0, r"'model\.n_estimators' is 0; must be >= 1"),
        ("pca", "variance", 1.5, r"'model\.variance' is 1\.5; must be < 1"),
        ("gradient_boosting", "max_leaf_nodes", 1, r"'model\.max_leaf_nodes' is 1; must be >= 2"),
        ("ecod", "train_on", "some", r"'model\.train_on' is 'some'; allowed values: 'normal' or 'all'"),
        ("copod", "alpha", 0.1, r"unknown config key 'model\.alpha'; allowed keys: name, train_on"),
        ("knn", "n_neighbors", 0, r"'model\.n_neighbors' is 0; must be >= 1"),
        ("knn", "method", "max", r"'model\.method' is 'max'; allowed values: 'largest', 'mean' or 'median'"),
        ("knn", "max_train_rows", -1, r"'model\.max_train_rows' is -1; must be >= 0"),
        ("lof", "max_train_rows", 1.5, r"'model\.max_train_rows' is 1\.5; must be an integer"),
        ("lof", "max_train_rows", 20, r"max_train_rows=20 leaves no more rows than model\.n_neighbors=20; raise"),
    ],
)
def test_config_values_are_checked(small_params, name, key, value, match):
    params = small_params(model=name)
    params["model"] = {**copy.deepcopy(params["model"]), key: value}
    with pytest.raises(ConfigError, match=match):
        resolve(config_from_dict(params))


def test_lstm_classifier_balanced_weight_is_the_training_ratio(small_params):
    from rarewatch.models.families.lstm_classifier import pos_weight

    params = small_params(model="lstm_classifier")

    def weight() -> float:
        return pos_weight(resolve(config_from_dict(params)).model, y)

    y = np.array([0] * 12 + [1] * 3)
    assert weight() == pytest.approx(4.0)  # class_weight [1, 4]
    params["model"].update(class_weight=None, balanced=True)
    assert weight() == pytest.approx(12 / 3)
    params["model"].update(class_weight=[2.0, 3.0], balanced=False)
    assert weight() == pytest.approx(1.5)
    params["model"].update(class_weight=None, balanced=False)
    assert weight() == pytest.approx(1.0)


# --------------------------------------------------------------------------------- nets and losses


def test_net_shapes():
    from rarewatch.models.nets import DenseVAE, LSTMAutoencoder, LSTMClassifier

    x = torch.randn(4, 6, 3)
    assert LSTMAutoencoder(3, hidden_size=5, num_layers=2, dropout=0.1)(x).shape == (4, 6, 3)
    assert LSTMClassifier(3, hidden_size=5, num_layers=1, dropout=0.0)(x).shape == (4,)
    vae = DenseVAE(3, hidden_dims=[8], latent_dim=2, activation="relu").eval()
    reconstruction, mu, logvar = vae(x[:, 0])
    assert reconstruction.shape == (4, 3) and mu.shape == logvar.shape == (4, 2)
    np.testing.assert_array_equal(vae(x[:, 0])[0].detach(), reconstruction.detach())  # eval: z = mu


def test_negative_elbo_by_hand():
    from rarewatch.models.lightning_modules import negative_elbo

    def net(x):
        return torch.zeros_like(x), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, np.log(2.0)]])

    # reconstruction: 1^2 + 2^2 = 5. KL per latent: -0.5 (1 + logvar - mu^2 - e^logvar):
    # (1, 0): -0.5 (1 + 0 - 1 - 1) = 0.5; (0, ln 2): -0.5 (1 + ln 2 - 0 - 2) = 0.5 - 0.5 ln 2
    kl = 1.0 - 0.5 * np.log(2.0)
    got = negative_elbo(net, torch.tensor([[1.0, 2.0]]), beta=2.0)
    assert got.shape == (1,)
    assert float(got[0]) == pytest.approx(5.0 + 2.0 * kl)


def test_input_noise_only_in_training_steps():
    from rarewatch.models.lightning_modules import ReconstructionModule

    torch.manual_seed(0)
    module = ReconstructionModule(torch.nn.Identity(), learning_rate=0.1, weight_decay=0.0, input_noise=0.5)
    module.log = lambda *args, **kwargs: None  # no Trainer attached
    x = (torch.randn(20000, 3),)
    assert float(module._step(x, "val")) == 0.0  # clean input: the identity reconstructs exactly
    assert float(module._step(x, "train")) == pytest.approx(0.25, rel=0.05)  # noise variance 0.5^2


def test_family_modules_do_not_import_torch_or_pyod():
    # The validate stage imports every family module; torch and pyod must wait until fit/score/load.
    import subprocess
    import sys

    from rarewatch.models import families

    imports = ", ".join(f"rarewatch.models.families.{name}" for name in families.names())
    heavy = ("torch", "lightning", "pyod", "numba")  # pyod alone takes seconds to import (numba, llvmlite)
    code = f"import sys; import {imports}; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------- baselines


def test_pca_and_isolation_forest_fit_on_normal_rows_only(small_config, small_splits):
    n_normal = int((small_splits["train"]["label"] == 0).sum())
    assert n_normal < len(small_splits["train"])  # the check means something only with events present
    for name in ("pca", "isolation_forest"):
        cfg = small_config(model=name)
        _, detector, report = train.run(small_splits["train"], small_splits["val"], cfg, cfg.model)
        assert report.train_rows == n_normal
    assert detector.estimator.max_samples_ == 128  # isolation_forest's small preset


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
    cfg = small_config(model="gradient_boosting")
    encoder, detector, _ = train.run(parts["train"], parts["val"], cfg, cfg.model)
    scores = detector.score(train.to_rows(parts["test"], encoder, 1.5))
    assert roc_auc_score(parts["test"]["label"], scores) > 0.9
    assert ((scores >= 0) & (scores <= 1)).all()  # a probability


def test_gradient_boosting_needs_both_classes(small_config, small_splits):
    cfg = small_config(model="gradient_boosting")
    normal_only = small_splits["train"][small_splits["train"]["label"] == 0]
    with pytest.raises(DataError, match="needs both normal and event rows"):
        train.run(normal_only, small_splits["val"], cfg, cfg.model)


# --------------------------------------------------------------------------------- PyOD families

PYOD_FAMILIES = ["ecod", "copod", "knn", "lof"]
NEIGHBOUR_FAMILIES = ["knn", "lof"]
_TRAINER = CPU_TRAINER


def test_seeded_rows_are_a_capped_seeded_subsample_in_order():
    from rarewatch.models.families._pyod import seeded_rows

    x = np.arange(100.0)[:, None]
    picked = seeded_rows(x, 30, seed=1)
    assert picked.shape == (30, 1) and set(picked[:, 0]) <= set(x[:, 0])
    assert (np.diff(picked[:, 0]) > 0).all()  # distinct rows, in their original (time) order
    np.testing.assert_array_equal(seeded_rows(x, 30, seed=1), picked)
    assert not np.array_equal(seeded_rows(x, 30, seed=2), picked)
    for no_cap in (0, None, 100, 500):
        assert seeded_rows(x, no_cap, seed=1) is x


@pytest.mark.parametrize("name", NEIGHBOUR_FAMILIES)
def test_neighbour_families_fit_on_the_seeded_capped_normal_rows(small_config, small_splits, name):
    from rarewatch.models.families._pyod import seeded_rows

    cfg = small_config(model=name, model__max_train_rows=500)
    encoder, detector, report = train.run(small_splits["train"], small_splits["val"], cfg, cfg.model)
    normal = train.to_rows(small_splits["train"], encoder, 1.5).normal_x()
    assert len(normal) > 500 and report.train_rows == 500
    assert report.extra == {"available_train_rows": len(normal)}
    fitted = detector.estimator.neigh_ if name == "knn" else detector.estimator.detector_
    np.testing.assert_array_equal(fitted._fit_X, seeded_rows(normal, 500, cfg.seed))

    uncapped = small_config(model=name, model__max_train_rows=0)
    _, _, report = train.run(small_splits["train"], small_splits["val"], uncapped, uncapped.model)
    assert report.train_rows == len(normal)


@pytest.mark.parametrize("name", NEIGHBOUR_FAMILIES)
def test_neighbour_families_need_more_rows_than_neighbours(small_config, small_splits, name):
    cfg = small_config(model=name, model__n_neighbors=5, model__max_train_rows=0)
    few = small_splits["train"][small_splits["train"]["label"] == 0].head(5)
    with pytest.raises(DataError, match=rf"{name}: model\.n_neighbors=5 needs more than 5 training rows .* got 5"):
        train.run(few, small_splits["val"], cfg, cfg.model)


@pytest.mark.parametrize("name", PYOD_FAMILIES)
def test_pyod_scores_do_not_depend_on_the_fixed_contamination(trained, signal_splits, name):
    # Why contamination may be fixed internally (families/_pyod.py): it only sets PyOD's own labels.
    _, encoder, detector, _ = trained(name)
    fit = train.to_rows(signal_splits["train"], encoder, 1.5)
    rows = train.to_rows(signal_splits["test"], encoder, 1.5)
    other = family(name).build(detector.config, detector.seed, detector.trainer_config)
    other.estimator.set_params(contamination=0.3)
    other.fit(fit, fit)
    np.testing.assert_array_equal(other.score(rows), detector.score(rows))


@pytest.mark.parametrize("name", ["ecod", "copod"])
def test_ecdf_scoring_leaves_the_fitted_model_as_it_was(small_config, small_splits, tmp_path, name):
    # PyOD's ECOD/COPOD write per-call arrays (training + scored rows) onto the estimator: scoring
    # must neither grow the model nor change what save() writes.
    import zipfile

    def saved_arrays() -> list[int]:
        # sizes of the arrays in the skops file (its bytes also hold object ids, so they vary per dump)
        detector.save(tmp_path)
        with zipfile.ZipFile(tmp_path / "estimator.skops") as z:
            return sorted(i.file_size for i in z.infolist() if i.filename.endswith(".npy"))

    cfg = small_config(model=name)
    encoder, detector, _ = train.run(small_splits["train"], small_splits["val"], cfg, cfg.model)
    before = set(vars(detector.estimator))
    assert {"O", "U_l", "U_r", "U_skew"}.isdisjoint(before)
    arrays = saved_arrays()
    train_x = detector.estimator.X_train
    assert max(arrays) < 2 * train_x.nbytes  # the training rows are the largest thing saved
    detector.score(train.to_rows(small_splits["test"], encoder, 1.5))
    assert set(vars(detector.estimator)) == before
    assert saved_arrays() == arrays


@pytest.mark.parametrize("name", PYOD_FAMILIES)
def test_trusted_types_are_exactly_what_saved_pyod_models_need(tmp_path, name):
    # Few features and many: the trusted list must cover what a saved model asks for at either width
    # (kNN and LOF search by brute force, so no search tree at all), and nothing more.
    import skops.io

    cls = family(name)
    config = cls.config_class.model_validate(
        {"name": name, "train_on": "normal"}
        | ({"n_neighbors": 5, "max_train_rows": 0} if name in NEIGHBOUR_FAMILIES else {})
        | ({"method": "largest"} if name == "knn" else {})
    )
    rng = np.random.default_rng(0)
    needed: set[str] = set()
    for n_features in (4, 30):
        x = rng.normal(size=(300, n_features)).astype(np.float32)
        rows = Rows(x=x, y=np.zeros(300, dtype=np.int64), time=np.arange(300.0), segment=np.zeros(300, dtype=np.int64))
        detector = cls.build(config, 0, _TRAINER)
        detector.fit(rows, rows)
        detector.save(tmp_path)
        needed |= set(skops.io.get_untrusted_types(file=tmp_path / "estimator.skops"))
    assert needed == set(cls.trusted_types)


@pytest.mark.parametrize("name", ["ecod", "copod"])
def test_ecdf_families_find_a_shift_in_the_marginals(name):
    # What per-feature tail detectors are for (the default data's precursor, a broken correlation
    # within the normal range, is not: test_default_data_floor.py holds them to chance there only).
    rng = np.random.default_rng(0)

    def rows(x: np.ndarray, y: np.ndarray) -> Rows:
        return Rows(x=x, y=y, time=np.arange(len(y), dtype=np.float64), segment=np.zeros(len(y), dtype=np.int64))

    normal = rng.normal(size=(3000, 10)).astype(np.float32)
    x = rng.normal(size=(1000, 10)).astype(np.float32)
    y = (rng.random(1000) < 0.05).astype(np.int64)
    x[y == 1, :3] += 2.5
    cls = family(name)
    detector = cls.build(cls.config_class(name=name, train_on="normal"), 0, _TRAINER)
    detector.fit(rows(normal, np.zeros(3000, dtype=np.int64)), rows(x, y))
    assert roc_auc_score(y, detector.score(rows(x, y))) > 0.85
