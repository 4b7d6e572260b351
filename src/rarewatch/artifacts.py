"""Atomic writes of stage outputs: a stage that fails leaves no half-written file behind."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it onto `target` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


ASIDE = ".old-"  # infix of the name an old directory is renamed to while the new one moves in


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Like atomic_path for a directory: fill the yielded directory, then swap it in whole.

    POSIX cannot rename a directory onto a non-empty one, so the swap is three renames: the old
    directory aside (`.<name>.old-xxxx`), the new one in, then the old one deleted. A crash (even
    kill -9) at any point leaves one complete directory: the old one at `target` or aside, or the new
    one at `target`. An old directory found aside while `target` is missing is renamed back first, so
    the next write (or reader) starts from the last complete output. One writer per target at a time
    (DVC runs stages one by one; sweep jobs write their own directories).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    _restore_aside(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        _swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _swap_in(new: Path, target: Path) -> None:
    """Rename `new` onto `target`, keeping the old `target` complete until `new` is in place."""
    if not target.exists():
        os.replace(new, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}{ASIDE}", dir=target.parent))
    os.replace(target, aside)  # an empty directory can be replaced by a rename
    try:
        os.replace(new, target)
    except BaseException:
        # The new one could not move in: put the old one back, so the target is never left missing.
        os.replace(aside, target)
        raise
    shutil.rmtree(aside)


def _restore_aside(target: Path) -> None:
    """After a crash between the renames: the old directory aside goes back to `target`; once the
    target exists again, old directories aside are leftovers of a finished swap and are deleted."""
    asides = sorted(target.parent.glob(f".{target.name}{ASIDE}*"), key=lambda p: p.stat().st_mtime_ns)
    if not target.exists() and asides:
        os.replace(asides.pop(), target)
    for leftover in asides:
        shutil.rmtree(leftover)


def read_parquet(path: Path, produced_by: str) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"'{path}' not found; run the '{produced_by}' stage first (dvc repro {produced_by})")
    return pd.read_parquet(path)


def write_json(obj: Any, target: Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n")


def jsonable(obj: Any) -> Any:
    """Numpy scalars to Python, NaN/inf to null: strict JSON that DVC and MLflow both read."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
