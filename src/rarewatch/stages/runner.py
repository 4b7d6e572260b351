"""What every stage's main() shares: arguments, config loading, logging, and one-line errors.

The stage's `execute(cfg, paths)` sees the config through a ConfigView of the keys its StageSpec
declares (rarewatch.pipeline.spec), so reading an undeclared key fails instead of going unwatched.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rarewatch.config import load_config
from rarewatch.errors import RarewatchError
from rarewatch.paths import Paths
from rarewatch.pipeline import spec


def run_stage(name: str, execute: Callable[[Any, Paths], None], cfg: Any, paths: Paths) -> None:
    """`execute` on the view of `cfg` that stage `name` declares (what DVC and the sweep both call)."""
    execute(spec.view(cfg, spec.stage(name)), paths)


def setup_logging(name: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    for logger_name in ("rarewatch", "py.warnings"):
        logging.getLogger(logger_name).addHandler(handler)
        logging.getLogger(logger_name).setLevel(logging.INFO)
    # Lightning's start-up banner (GPU/TPU availability, tips) is noise in a pipeline log.
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    logging.captureWarnings(True)


def stage_main(name: str, execute: Callable[[Any, Paths], None], argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m rarewatch.stages.{name}")
    parser.add_argument("--params", default="params.yaml", help="config file (default: params.yaml)")
    parser.add_argument("--root", default=".", help="project directory holding data/, models/, metrics/")
    args = parser.parse_args(argv)
    setup_logging(name)
    try:
        cfg = load_config(args.params)
        run_stage(name, execute, cfg, Paths(Path(args.root).resolve()))
    except (RarewatchError, FileNotFoundError) as exc:
        # Bad input is the user's to fix: one readable line and a failing exit code, no traceback.
        print(f"rarewatch.{name}: error: {exc}{recovery_hint()}", file=sys.stderr)
        sys.exit(2)


# DVC deletes a stage's outputs before running it and records each stage that succeeded in dvc.lock, so
# a failed `dvc repro` / `dvc exp run` leaves a mixed workspace; the last committed results are in the
# DVC cache, and this brings them back (README, "Reliability").
RECOVER_COMMAND = "git checkout HEAD -- params.yaml dvc.lock metrics/summary.json && dvc checkout --force"


def recovery_hint() -> str:
    """Under DVC (which sets DVC_STAGE for a stage's command), how to get the last good outputs back."""
    if not os.environ.get("DVC_STAGE"):
        return ""
    return f"; the last committed results come back with: {RECOVER_COMMAND}"
