"""Where the shared Lightning loop sends its per-epoch curves: a logger its caller installs, or none.

The train stage installs an MLflow logger for the run it records into (rarewatch.recording), so the
curves appear in that run while the model trains. This module holds only the hook, so the models
never import MLflow themselves and a fit without a run (tests, benchmarks) logs nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_FACTORY: ContextVar[Callable[[], Any] | None] = ContextVar("rarewatch_curves", default=None)


@contextmanager
def streaming_to(factory: Callable[[], Any]) -> Iterator[None]:
    """Fits inside the block log their curves to `factory()` (a new Lightning logger per fit)."""
    token = _FACTORY.set(factory)
    try:
        yield
    finally:
        _FACTORY.reset(token)


def logger() -> Any:
    """The Lightning logger for the fit starting now, or False (Lightning's "no logger")."""
    factory = _FACTORY.get()
    return factory() if factory is not None else False
