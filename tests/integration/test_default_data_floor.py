"""Every model family learns the embedded default data in a few epochs (a behavioural floor).

The default synthetic process (conf/data/synthetic.yaml) and each family's own defaults
(conf/model/*.yaml), with training capped at a few epochs: test ROC-AUC must be clearly above
chance. Supervised gradient boosting and IsolationForest are left out: they are baselines, not
required to learn this data (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from rarewatch.composition import compose
from rarewatch.config import config_from_dict
from rarewatch.stages import train

FAST = ["trainer.progress_bar=false", "trainer.num_threads=1"]
# (family, epochs, floor). Measured after 5 epochs: dense_ae 0.800, denoising_ae 0.841, vae 0.801,
# lstm_ae 0.840, lstm_classifier 0.981; pca 0.831 (0.95-0.99 with the full epoch budgets). The floors
# leave room for run-to-run and platform noise while staying far above chance (0.5).
CASES = [
    ("dense_ae", 5, 0.7),
    ("denoising_ae", 5, 0.7),
    ("vae", 5, 0.7),
    ("lstm_ae", 5, 0.7),
    ("lstm_classifier", 5, 0.9),
    ("pca", None, 0.75),
]


@pytest.fixture(scope="module")
def default_splits(splits_of):
    return splits_of(config_from_dict(compose(FAST)))


@pytest.mark.parametrize(("family", "epochs", "floor"), CASES)
def test_family_learns_the_default_data(default_splits, family, epochs, floor):
    overrides = [*FAST, f"model={family}"] + ([f"model.max_epochs={epochs}"] if epochs else [])
    cfg = config_from_dict(compose(overrides))
    features, detector, _ = train.run(default_splits["train"], default_splits["val"], cfg)
    test = default_splits["test"]
    auc = roc_auc_score(test["label"], detector.score(train.to_rows(test, features)))
    assert auc > floor, f"{family}: test ROC-AUC {auc:.3f} after {epochs} epochs"
