"""Installable anywhere: the built wheel carries conf/, and its `rarewatch-sweep` runs outside the repository.

The wheel goes into a new virtualenv with --no-deps; the dependencies come from this environment's
site-packages through a .pth line (appended to sys.path, so the wheel's own rarewatch comes first,
and this environment's editable install of rarewatch is never read: a .pth listed there is not processed).
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.integration.conftest import BIN, TINY, sh

pytestmark = pytest.mark.slow


def test_wheel_ships_conf_and_runs_a_sweep_job_outside_the_repo(repo_copy: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # --no-build-isolation: the build backend (setuptools, in requirements.lock) is already installed,
    # so the build needs no index.
    sh(
        [str(BIN / "python"), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), "."],
        repo_copy,
    )
    (wheel,) = dist.glob("rarewatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rarewatch/conf/config.yaml" in names and "rarewatch/conf/sweep.yaml" in names
    assert "rarewatch/conf/model/dense_ae.yaml" in names and "rarewatch/conf/trainer/cpu.yaml" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv_site,) = venv.glob("lib/python*/site-packages")
    (venv_site / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    env.update(DVC_NO_ANALYTICS="1", MLFLOW_DISABLE_TELEMETRY="true", PATH=f"{venv / 'bin'}:{env['PATH']}")
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, env=env)

    scratch = tmp_path / "elsewhere"
    scratch.mkdir()
    where = subprocess.run(
        [python, "-c", "import rarewatch.composition as c; print(c.__file__); print(c.CONF_DIR)"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0].startswith(str(venv_site)) and where[1] == str(venv_site / "rarewatch" / "conf")

    proc = subprocess.run(
        [str(venv / "bin" / "rarewatch-sweep"), "-m", "threshold.percentile=95", *TINY],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 jobs, 1 finished" in proc.stdout or "1 job, 1 finished" in proc.stdout, proc.stdout
    (result,) = [json.loads(p.read_text()) for p in scratch.glob("multirun/*/*/result.json")]
    assert result["status"] == "finished" and result["val_cost"] is not None
    assert (scratch / "mlflow.db").is_file()
