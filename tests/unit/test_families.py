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
from rarewatch.models.registry import resolve
from rarewatch.stages import train

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


def test_family_modules_do_not_import_torch():
    # The validate stage imports every family module; torch must wait until fit/score/load.
    import subprocess
    import sys

    from rarewatch.models import families

    imports = ", ".join(f"rarewatch.models.families.{name}" for name in families.names())
    code = f"import sys; import {imports}; print([m for m in ('torch', 'lightning') if m in sys.modules])"
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
