"""Range checks for model configs: each failure names the key, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rarewatch.errors import ConfigError


def check(config: Any, key: str, ok: Callable[[Any], bool], allowed: str) -> None:
    value = getattr(config, key)
    if not ok(value):
        raise ConfigError(f"model.{key}={value!r} is out of range; allowed: {allowed}")


def at_least(config: Any, low: float, *keys: str) -> None:
    for key in keys:
        check(config, key, lambda v: v >= low, f">= {low}")


def positive(config: Any, *keys: str) -> None:
    for key in keys:
        check(config, key, lambda v: v > 0, "> 0")


def dropout(config: Any, key: str = "dropout") -> None:
    check(config, key, lambda v: 0 <= v < 1, "[0, 1)")


def hidden_dims(config: Any, key: str = "hidden_dims") -> None:
    check(config, key, lambda v: bool(v) and min(v) >= 1, "a non-empty list of layer widths, each >= 1")
