"""At run time, every stage loads only rarewatch modules that its dvc.yaml deps list.

The unit test (test_stage_graph.py) derives the deps from the source; this one runs each stage's
main() on a small config, in its own process, and compares with what Python actually imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rarewatch.pipeline import spec

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

PROBE = """
import runpy, sys
sys.argv = ["stage", "--params", {params!r}, "--root", {root!r}]
try:
    runpy.run_module("rarewatch.stages.{stage}", run_name="__main__")
finally:
    files = sorted({{m.__file__ for m in list(sys.modules.values())
                    if (getattr(m, "__name__", "") or "").startswith("rarewatch") and getattr(m, "__file__", None)}})
    print("\\n".join(files))
"""


def test_stages_import_only_their_deps(tmp_path, write_params, small_params):
    params = write_params(small_params())
    env_root = tmp_path / "project"
    env_root.mkdir()
    declared = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for s in spec.STAGES:
        code = PROBE.format(params=str(params), root=str(env_root), stage=s.name)
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
            env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )  # fmt: skip
        assert proc.returncode == 0, f"{s.name} failed:\n{proc.stderr[-3000:]}"
        loaded = {Path(f).resolve().relative_to(REPO).as_posix() for f in proc.stdout.split()}
        missing = loaded - set(declared[s.name]["deps"])
        assert missing == set(), f"stage {s.name} imported {sorted(missing)}, which dvc.yaml does not list"
