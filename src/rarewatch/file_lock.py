"""An exclusive lock between processes on one machine, held on a lock file with flock(2).

Used where parallel sweeps or jobs must take turns: creating the MLflow sqlite store
(rarewatch.tracking.ensure_store) and building one cache entry (rarewatch.pipeline.inprocess).

flock locks belong to the open file, so the kernel releases them when the holder exits for any
reason, kill -9 included: a crashed holder never leaves a lock that blocks the next run. The lock
file itself stays (empty) and is reused; its existence means nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing) for the block; wait while another holds it.

    `on_wait` is called once, before blocking, when another process holds the lock (to say why a
    job is idle).
    """
    # "a": never truncates, and works whether or not the file exists.
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
