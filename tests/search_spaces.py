"""Search space files for the rarewatch-search tests: the small synthetic data of conftest.py, fast models."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

from rarewatch.composition import CONF_DIR
from tests.conftest import SMALL_DATA

TINY: dict[str, Any] = {
    "name": "tiny",
    "objective": "val_pr_auc",
    "base": [*SMALL_DATA, "split.method=rolling", "split.folds=2", "trainer.progress_bar=false"],
    "folds": [0, 1],
    "sampler": {"seed": 0, "startup_trials": 10},
    "dimensions": {
        "features": {"branches": {"none": {}, "rolling": {"features.windows": {"choices": [[5], [5, 15]]}}}},
        "model": {
            "branches": {
                "pca": {"model.variance": {"type": "float", "low": 0.5, "high": 0.95}},
                "isolation_forest": {
                    "model.n_estimators": {"type": "int", "low": 10, "high": 30, "log": True},
                    "model.max_samples": {"type": "int", "low": 64, "high": 128},
                },
            }
        },
        "smoothing.method": {
            "branches": {"none": {}, "max": {"smoothing.window": {"type": "int", "low": 2, "high": 5}}}
        },
    },
}


def space_dict(**changes: Any) -> dict[str, Any]:
    space = copy.deepcopy(TINY)
    space.update(copy.deepcopy(changes))
    return space


def write_space(directory: Path, space: dict[str, Any] | None = None, name: str = "tiny.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(space if space is not None else TINY, sort_keys=False))
    return path


def conf_copy(directory: Path) -> Path:
    """conf/ copied, so a test's experiment files never land in the repository's conf/experiment."""
    target = directory / "conf"
    shutil.copytree(CONF_DIR, target)
    return target
