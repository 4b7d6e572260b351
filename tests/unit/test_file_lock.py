"""The inter-process lock and the sweep cache built on it: one builder per key, nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rarewatch.file_lock import exclusive_lock
from rarewatch.pipeline.inprocess import _cached

HOLD = """
import sys, time
from pathlib import Path
from rarewatch.file_lock import exclusive_lock
with exclusive_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_lock_dies_with_a_holder_killed_by_sigkill(tmp_path: Path):
    lock = tmp_path / "model-abc.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        waited = []
        blocked = threading.Thread(target=lambda: _take(lock, waited))
        blocked.start()
        blocked.join(0.5)
        assert blocked.is_alive() and waited == ["waiting"]  # held: the second taker waits
        os.kill(holder.pid, signal.SIGKILL)
        blocked.join(10)
        assert not blocked.is_alive()  # the kernel released the dead holder's lock
    finally:
        holder.kill()
        holder.wait()
    assert lock.exists()  # the file stays; it blocks nobody


def _take(lock: Path, waited: list[str]) -> None:
    with exclusive_lock(lock, on_wait=lambda: waited.append("waiting")):
        pass


def test_one_job_builds_an_entry_the_others_wait_and_reuse_it(tmp_path: Path):
    target = tmp_path / "model-abc"
    started, release = threading.Event(), threading.Event()
    builds: list[str] = []

    def build(root: Path) -> None:
        builds.append(root.name)
        started.set()
        assert release.wait(10)
        (root / "weights.pt").write_text("w")

    reused: dict[str, bool] = {}
    first = threading.Thread(target=lambda: reused.update(first=_cached(target, build)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: reused.update(second=_cached(target, build)))
    second.start()
    time.sleep(0.3)
    assert not target.exists() and second.is_alive()  # mid-build: nothing visible, the other job waits
    release.set()
    first.join(10)
    second.join(10)
    assert reused == {"first": False, "second": True} and len(builds) == 1
    assert (target / "weights.pt").read_text() == "w"


def test_a_failed_build_leaves_no_entry_and_no_temporary_directory(tmp_path: Path):
    target = tmp_path / "data-abc"

    def build(root: Path) -> None:
        (root / "half.parquet").write_text("half")
        raise RuntimeError("the build failed")

    with pytest.raises(RuntimeError, match="the build failed"):
        _cached(target, build)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data-abc.lock"]


def test_a_killed_builds_leftovers_are_removed_before_the_next_build(tmp_path: Path):
    target = tmp_path / "model-abc"
    leftover = tmp_path / ".model-abc.k1ll3d"  # what a build killed with kill -9 leaves
    (leftover / "models").mkdir(parents=True)
    (leftover / "models" / "weights.pt").write_text("half")
    other = tmp_path / ".model-abd.busy"  # another key's build, maybe still running: not ours to touch
    other.mkdir()

    assert _cached(target, lambda root: (root / "weights.pt").write_text("w")) is False
    assert not leftover.exists() and other.exists()
    assert (target / "weights.pt").read_text() == "w"
