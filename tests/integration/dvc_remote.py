"""Data and models on a DVC remote: `dvc push` from a reproduced clone, `dvc pull` into a fresh one.

Called by tests/integration/test_dvc_pipeline.py right after its `dvc repro`, so the round trip costs
no second pipeline run. The remote is a local directory here; an S3 or GCS remote is the same commands
with another URL (README, "Scaling out").
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from tests.integration.conftest import sh

# The DVC-tracked outputs a user pulls instead of recomputing.
PULLED = ("data", "models")


def digests(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under data/ and models/."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for top in PULLED
        for p in sorted((root / top).rglob("*"))
        if p.is_file()
    }


def assert_push_pull_round_trip(repo: Path, tmp_path: Path) -> None:
    """Commit the reproduced `repo` with a local remote, push, clone it afresh, pull: same files, nothing to run."""
    produced = digests(repo)
    assert "models/card.json" in produced and "data/raw/data.parquet" in produced

    remote = tmp_path / "dvc-remote"
    sh(["dvc", "remote", "add", "-d", "storage", str(remote)], repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-qm", "reproduced, with a remote"], repo)
    pushed = sh(["dvc", "push"], repo)
    assert re.search(r"\d+ files? pushed", pushed.stdout), pushed.stdout

    clone = tmp_path / "fresh-clone"
    sh(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert not (clone / "data").exists() and not (clone / "models").exists()
    sh(["dvc", "pull"], clone)
    assert digests(clone) == produced

    # Only the input check is pending (always_changed by design), and it changes nothing downstream.
    assert set(json.loads(sh(["dvc", "status", "--json"], clone).stdout)) == {"validate"}
    rerun = sh(["dvc", "repro"], clone)
    assert re.findall(r"Running stage '(\w+)'", rerun.stdout) == ["validate"], rerun.stdout
    assert digests(clone) == produced
