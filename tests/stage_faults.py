"""Helpers for tests of failing stages: what a stage leaves on disk, and running it as DVC does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rarewatch.config import load_config
from rarewatch.paths import Paths

OUTPUT_DIRS = ("data", "models", "metrics")


def plant_frame(n: int = 20, positives: tuple[int, ...] = (5, 15)) -> pd.DataFrame:
    """A source table as a user would export it: text timestamps, a 0/1 label, two float sensors."""
    i = np.arange(n)
    y = np.zeros(n, dtype=np.int64)
    y[list(positives)] = 1
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=n, freq="min").strftime("%Y-%m-%d %H:%M"),
            "y": y,
            "a": np.round(np.sin(i * 0.7) * 3 + 0.25, 3),
            "b": np.round(np.cos(i * 0.3) * 2 + 10.5, 3),
        }
    )


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every stage output under root: relative path -> (contents, mtime in ns)."""
    files = {}
    for top in OUTPUT_DIRS:
        for f in sorted((root / top).rglob("*")):
            if f.is_file():
                files[str(f.relative_to(root))] = (f.read_bytes(), f.stat().st_mtime_ns)
    return files


def leftovers(root: Path) -> list[str]:
    """Temporary names that atomic writes use (.name.xxxx); a failed stage must leave none behind."""
    return [str(f.relative_to(root)) for top in OUTPUT_DIRS for f in (root / top).rglob(".*")]


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    return message


def run_stage(stage: str, root: Path, params: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m rarewatch.stages.<stage>` in `root`, as dvc.yaml runs it."""
    environ = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "DVC_STAGE", "DVC_ROOT")}
    environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return subprocess.run(
        [sys.executable, "-m", f"rarewatch.stages.{stage}", "--root", str(root), "--params", str(params)],
        cwd=root,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, stage: str, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"rarewatch.{stage}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def run_in_process(stages: list[Callable], params: Path, root: Path) -> None:
    cfg = load_config(params)
    for execute in stages:
        execute(cfg, Paths(root))
