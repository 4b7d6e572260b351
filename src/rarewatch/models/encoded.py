"""A split as a model sees it, and a saved model directory read back: what training and scoring share.

Kept apart from the train stage, so that the stages that only score (evaluate) do not import the
train stage's MLflow recording.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rarewatch.config import TrainerConfig
from rarewatch.data.encoding import Encoder
from rarewatch.data.schema import LABEL, TIME, series_codes
from rarewatch.data.windows import segments
from rarewatch.models.base import Detector, Rows
from rarewatch.models.registry import load_detector


def to_rows(df: pd.DataFrame, encoder: Encoder, max_gap: float) -> Rows:
    """A split as a model sees it; `max_gap` (data.max_gap) cuts the segments windows stay inside."""
    return Rows(
        x=encoder.transform(df),
        y=df[LABEL].to_numpy(),
        time=df[TIME].to_numpy(),
        segment=segments(df[TIME].to_numpy(), max_gap, series_codes(df)),
    )


def load(directory: Path, trainer: TrainerConfig) -> tuple[Encoder, Detector]:
    """The encoder and detector saved in `directory`, rebuilt from their own files."""
    return Encoder.load(directory), load_detector(directory, trainer)
