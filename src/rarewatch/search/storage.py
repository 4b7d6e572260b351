"""Where a study lives: an Optuna journal file (JournalStorage + JournalFileBackend), checked first.

The journal is an append-only file of JSON records that Optuna replays on load, so a study survives its
process. Before Optuna touches the file it is checked here, because Optuna itself is lenient in ways
that would hurt: it creates a missing file, skips an unreadable last line (and appends after it, which
corrupts the file for good), and only fails on a read-only file at its first write, mid-study. So:

- a read-only file, or a directory where the file or its lock cannot be created, stops the command
  before anything runs (a file with no write bit counts as read-only, even for root, who could write it);
- a file that is not a journal, or has a torn or garbled line, stops it too;
- one process at a time: an exclusive flock on the journal for the whole run. The kernel drops it when
  the process dies, even under kill -9, so a trial found RUNNING at start-up belongs to a dead process.

Optuna's documented way to fail the trials of a dead process is the heartbeat of RDBStorage
(`heartbeat_interval`, `fail_stale_trials`); JournalStorage has none in Optuna 5, and a heartbeat would
wait out a grace period anyway. With the lock, `recover_interrupted` can mark them FAIL at once
(`Study.tell(number, state=FAIL)`) and queue the same parameters once more (`Study.enqueue_trial`), so a
killed and resumed study runs the same samples as one never killed.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rarewatch.errors import RarewatchError

MOVE_AWAY = "move it away (mv '{path}' '{path}.bad') to start the study afresh, or restore it from a copy"


class StorageError(RarewatchError):
    """A study storage that cannot be used: read-only, corrupt, or in use by another process."""


def _no_write(path: Path) -> bool:
    return not os.access(path, os.W_OK) or path.stat().st_mode & 0o222 == 0


def check_writable(path: Path) -> None:
    """The journal file, or the directory it will be created in, can be written; StorageError if not."""
    if path.exists() and not path.is_file():
        raise StorageError(f"search storage '{path}' is not a file; pass --storage PATH to a journal file")
    if path.is_file() and _no_write(path):
        raise StorageError(
            f"search storage '{path}' is read-only; make it writable (chmod u+w '{path}') to resume the study, "
            "or pass --storage NEW_PATH to start a new one"
        )
    # Optuna creates its lock file (<path>.lock) beside the journal: the directory must be writable too.
    directory = path.parent
    while not directory.exists():
        directory = directory.parent
    if not directory.is_dir() or _no_write(directory):
        raise StorageError(
            f"search storage '{path}' cannot be written: directory '{directory}' is read-only; make it writable "
            "or pass --storage PATH in a writable directory"
        )


def check_journal(path: Path) -> None:
    """Every line of an existing journal is a whole JSON record with an op_code; StorageError if not."""
    if not path.is_file():
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageError(f"search storage '{path}' cannot be read ({exc.strerror}); check its permissions") from None
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        problem = _record_problem(line)
        if problem is not None:
            raise StorageError(
                f"search storage '{path}' is corrupt: line {number} {problem}; " + MOVE_AWAY.format(path=path)
            )


def _record_problem(line: bytes) -> str | None:
    if not line.endswith(b"\n"):
        return "is cut short (no end of line: a write was interrupted)"
    try:
        record: Any = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "is not JSON (not an Optuna journal record)"
    if not isinstance(record, dict) or not isinstance(record.get("op_code"), int):
        return "has no op_code (not an Optuna journal record)"
    return None


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the journal for the block; StorageError if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(
                f"search storage '{path}' is in use by another rarewatch-search process (a study runs in one "
                "process at a time); wait for it to finish, or pass --name NAME for a separate study"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def open_storage(path: Path) -> Any:
    """An Optuna JournalStorage on `path`, replayed; StorageError if Optuna cannot replay it."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    try:
        return JournalStorage(JournalFileBackend(str(path)))
    except (ValueError, KeyError, TypeError, IndexError, AssertionError) as exc:
        # The lines are JSON records (check_journal) but their contents do not replay.
        raise StorageError(
            f"search storage '{path}' is corrupt: Optuna cannot replay it ({type(exc).__name__}: {exc}); "
            + MOVE_AWAY.format(path=path)
        ) from None


@contextmanager
def storage_errors(path: Path) -> Iterator[None]:
    """Around Optuna calls that write the journal: a failed write (disk full, file made read-only
    mid-study) becomes a StorageError, so the command stops before writing any experiment file."""
    try:
        yield
    except OSError as exc:
        raise StorageError(
            f"search storage '{path}' could not be written ({exc.strerror or exc}); the study stops here and no "
            "experiment file is written; free the disk or make the file writable, then rerun to resume"
        ) from None
