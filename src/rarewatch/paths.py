"""Where every stage output lives: the one place that names the files between stages.

dvc.yaml is generated from these paths (rarewatch.pipeline.spec); a test checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def validated(self) -> Path:
        return self.root / "data" / "validated" / "input.json"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw" / "data.parquet"

    @property
    def interim(self) -> Path:
        return self.root / "data" / "interim" / "data.parquet"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed" / "data.parquet"

    @property
    def shift_report(self) -> Path:
        """What the label shift did: horizon, rows dropped, rows made positive."""
        return self.root / "data" / "processed" / "shift.json"

    @property
    def events(self) -> Path:
        return self.root / "data" / "processed" / "events.parquet"

    @property
    def features(self) -> Path:
        """The processed rows with their temporal features (the processed rows as they are for features=none)."""
        return self.root / "data" / "features" / "data.parquet"

    def split(self, name: str) -> Path:
        return self.root / "data" / "split" / f"{name}.parquet"

    @property
    def model_dir(self) -> Path:
        return self.root / "models"

    def scores(self, name: str) -> Path:
        return self.root / "data" / "scores" / f"{name}.parquet"

    @property
    def eval_metrics(self) -> Path:
        return self.root / "metrics" / "eval.json"

    @property
    def eval_plots(self) -> Path:
        return self.root / "metrics" / "plots" / "evaluate"

    @property
    def cost_metrics(self) -> Path:
        return self.root / "metrics" / "cost.json"

    @property
    def cost_plots(self) -> Path:
        return self.root / "metrics" / "plots" / "cost"

    @property
    def train_metrics(self) -> Path:
        return self.root / "metrics" / "train.json"

    @property
    def summary(self) -> Path:
        """A dozen headline figures: the one metrics file git tracks and `dvc exp show` compares."""
        return self.root / "metrics" / "summary.json"

    @property
    def timings(self) -> Path:
        """Wall-clock figures (training seconds, samples/s): the one output that differs run to run."""
        return self.root / "metrics" / "timings.json"

    @property
    def run_info(self) -> Path:
        """The MLflow run the track stage logged (not a DVC output: its ids are new every run)."""
        return self.root / "metrics" / "run.json"

    @property
    def training_run(self) -> Path:
        """The MLflow run the train stage opened for the model in models/ (rarewatch.recording; not a DVC
        output either, so the outputs stay byte for byte the same)."""
        return self.root / "metrics" / "training_run.json"
