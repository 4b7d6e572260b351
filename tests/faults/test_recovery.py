"""A failed `dvc exp run` leaves a mixed workspace (DVC deletes a stage's outputs before running it);
the command the README and the error line name brings back the last committed results, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from rarewatch.stages.runner import RECOVER_COMMAND
from tests.conftest import SMALL_DATA
from tests.integration.conftest import REPO, sh

pytestmark = pytest.mark.slow

OUTPUTS = ("data", "models", "metrics")


def tree(repo: Path) -> dict[str, bytes]:
    """Every file under data/, models/ and metrics/: relative path -> contents."""
    return {
        str(f.relative_to(repo)): f.read_bytes()
        for top in OUTPUTS
        for f in sorted((repo / top).rglob("*"))
        if f.is_file()
    }


def make_small(repo: Path) -> None:
    """The copy's defaults made small (conf/, which `dvc exp run` recomposes params.yaml from)."""
    data_conf = repo / "conf/data/synthetic.yaml"
    data = yaml.safe_load(data_conf.read_text())
    for override in SMALL_DATA:
        key, value = override.split("=")
        data["data"]["synthetic"][key.rsplit(".", 1)[1]] = yaml.safe_load(value)
    data_conf.write_text("# @package _global_\n" + yaml.safe_dump(data, sort_keys=False))
    model_conf = repo / "conf/model/dense_ae.yaml"
    model = yaml.safe_load(model_conf.read_text())
    model.update(hidden_dims=[8, 4, 8], max_epochs=2)
    model_conf.write_text(yaml.safe_dump(model, sort_keys=False))


def test_a_failed_exp_run_is_one_command_from_the_last_committed_results(repo_copy: Path) -> None:
    make_small(repo_copy)
    sh(["python", "-m", "rarewatch.composition"], repo_copy)
    sh(["dvc", "repro"], repo_copy)
    sh(["git", "add", "-A"], repo_copy)
    sh(["git", "commit", "-qm", "a good run"], repo_copy)
    good = tree(repo_copy)
    assert {"data/raw/data.parquet", "models/encoder.json", "metrics/eval.json"} <= set(good)

    # New data (ingest .. split run and are recorded) and a model setting that fails at fit time.
    failed = sh(
        [
            "dvc", "exp", "run",
            "-S", "data.synthetic.n_rows=2500",
            "-S", "model=knn", "-S", "model.n_neighbors=100000", "-S", "model.max_train_rows=0",
        ],
        repo_copy,
        check=False,
    )  # fmt: skip
    assert failed.returncode == 255  # DVC's code for a failed reproduction
    error = [line for line in failed.stderr.splitlines() if line.startswith("rarewatch.train: error: ")]
    assert len(error) == 1, failed.stderr
    assert "knn: model.n_neighbors=100000 needs more than 100000 training rows" in error[0]
    assert error[0].endswith(f"; the last committed results come back with: {RECOVER_COMMAND}")
    # The workspace is mixed, as users found it: new data, no model, the old metrics.
    mixed = tree(repo_copy)
    assert mixed["data/raw/data.parquet"] != good["data/raw/data.parquet"]
    assert not any(name.startswith("models/") for name in mixed)
    assert mixed["metrics/eval.json"] == good["metrics/eval.json"]

    sh(["bash", "-c", RECOVER_COMMAND], repo_copy)
    assert tree(repo_copy) == good
    assert sh(["git", "status", "--porcelain"], repo_copy).stdout == ""


def test_the_readme_names_the_recovery_command() -> None:
    readme = (REPO / "README.md").read_text()
    section = re.search(r"^## Reliability\n(.*?)^## ", readme, re.S | re.M)
    assert section is not None, "README has no Reliability section"
    assert RECOVER_COMMAND in section.group(1)
