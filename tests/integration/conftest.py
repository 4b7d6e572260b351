"""Helpers for tests that run the real commands (dvc, rarewatch-sweep) in a throwaway copy of the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# A sweep job in seconds: tiny synthetic data, a tiny net, one epoch.
TINY = [
    "data.synthetic.n_rows=2000",
    "data.synthetic.n_channels=6",
    "data.synthetic.precursor_channels=2",
    "data.synthetic.event_rate=0.03",
    "data.synthetic.grade_block_rows=500",
    "model.hidden_dims=[8,4,8]",
    "model.max_epochs=1",
    "trainer.progress_bar=false",
]


def command_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DVC_NO_ANALYTICS="1", MLFLOW_DISABLE_TELEMETRY="true", PATH=f"{BIN}:{env['PATH']}")
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def sh(
    args: list[str], cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        args, cwd=cwd, env={**command_env(), **(env or {})}, capture_output=True, text=True, timeout=900
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The files git would ship (tracked + untracked-not-ignored), as a fresh git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    dest = tmp_path / "repo"
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    sh(["git", "init", "-q"], dest)
    # `dvc exp run` commits experiment refs: the copy needs an identity even on a bare CI machine.
    sh(["git", "config", "user.name", "rarewatch tests"], dest)
    sh(["git", "config", "user.email", "tests@rarewatch.invalid"], dest)
    sh(["git", "add", "-A"], dest)
    sh(["git", "commit", "-qm", "copy"], dest)
    return dest
