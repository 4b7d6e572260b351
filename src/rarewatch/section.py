"""The base of every config section (rarewatch.config, the synthetic generator's, each model family's)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Strict types (no 1 for true, no '5' for 5), no unknown keys, no NaN or inf, immutable.

    Rules between fields raise ConfigError (a ValueError) naming the keys; rarewatch.config turns
    every other pydantic error into a message naming the key and the allowed values.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)
