"""atomic_dir: a crash at any point of the swap leaves the old or the new directory complete.

A crash is simulated in a forked child that dies with os._exit (no `finally`, no cleanup) at one step
of the swap; the parent then checks what is on disk, and that the next write or a restore recovers.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rarewatch import artifacts
from rarewatch.artifacts import ASIDE, atomic_dir

OLD = {"a.txt": "old a\n", "b.txt": "old b\n"}
NEW = {"a.txt": "new a\n", "c.txt": "new c\n"}


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)


def contents(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture
def old_output(tmp_path: Path) -> Path:
    target = tmp_path / "out"
    target.mkdir()
    write(target, OLD)
    return target


def test_swap_replaces_the_old_directory_and_leaves_nothing_else(old_output: Path) -> None:
    with atomic_dir(old_output) as tmp:
        write(tmp, NEW)
    assert contents(old_output) == NEW
    assert hidden(old_output.parent) == []


def test_an_error_in_the_block_keeps_the_old_directory(old_output: Path) -> None:
    with pytest.raises(RuntimeError, match="stage failed"), atomic_dir(old_output) as tmp:
        write(tmp, NEW)
        raise RuntimeError("stage failed")
    assert contents(old_output) == OLD
    assert hidden(old_output.parent) == []


def test_a_failed_rename_in_puts_the_old_directory_back(old_output: Path, monkeypatch) -> None:
    real = os.replace
    calls: list[tuple[Any, Any]] = []

    def failing_second_rename(src: Any, dst: Any) -> None:
        calls.append((src, dst))
        if len(calls) == 2:  # 1: old aside, 2: new in
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(artifacts.os, "replace", failing_second_rename)
    with pytest.raises(OSError, match="No space left"), atomic_dir(old_output) as tmp:
        write(tmp, NEW)
    assert contents(old_output) == OLD
    assert hidden(old_output.parent) == []


def _crash_at(step: str, target: Path) -> None:
    """Child process: write NEW into target and die (os._exit, no cleanup) at `step`."""
    real_replace, real_rmtree = os.replace, shutil.rmtree
    replaces = {"before old aside": 1, "between the renames": 2}
    count = {"replace": 0}

    def replace(src: Any, dst: Any) -> None:
        count["replace"] += 1
        if replaces.get(step) == count["replace"]:
            os._exit(9)
        real_replace(src, dst)

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        if step == "after the new one is in" and ASIDE in Path(path).name:
            os._exit(9)
        if step == "while deleting the old one" and ASIDE in Path(path).name:
            (Path(path) / "a.txt").unlink()  # half-deleted when the process dies
            os._exit(9)
        real_rmtree(path, *args, **kwargs)

    os.replace = replace  # type: ignore[assignment]
    shutil.rmtree = rmtree  # type: ignore[assignment]
    with atomic_dir(target) as tmp:
        write(tmp, NEW)
    os._exit(0)


CRASHES: dict[str, Callable[[Path], dict[str, str] | None]] = {
    # step of the crash: what the target holds right after it (None: it is aside, restored next time)
    "before old aside": lambda t: OLD,
    "between the renames": lambda t: None,
    "after the new one is in": lambda t: NEW,
    "while deleting the old one": lambda t: NEW,
}


@pytest.mark.parametrize("step", list(CRASHES))
def test_a_crash_at_any_step_leaves_one_complete_directory(old_output: Path, step: str) -> None:
    child = multiprocessing.get_context("fork").Process(target=_crash_at, args=(step, old_output))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 9

    expected = CRASHES[step](old_output)
    aside = [p for p in old_output.parent.iterdir() if ASIDE in p.name]
    if expected is None:
        # The target is missing for an instant; the old directory is complete under its aside name.
        assert not old_output.exists()
        assert len(aside) == 1 and contents(aside[0]) == OLD
        final = OLD
    else:
        assert contents(old_output) == expected
        final = expected

    # The next write starts from the last complete output and cleans up after the crash.
    artifacts._restore_aside(old_output)
    assert contents(old_output) == final
    assert [p for p in old_output.parent.iterdir() if ASIDE in p.name] == []
    with atomic_dir(old_output) as tmp:
        write(tmp, {"d.txt": "next\n"})
    assert contents(old_output) == {"d.txt": "next\n"}
    # Only the crashed child's half-filled temporary directory may remain (it holds no output).
    assert all(not (old_output.parent / name).is_dir() or ASIDE not in name for name in hidden(old_output.parent))
