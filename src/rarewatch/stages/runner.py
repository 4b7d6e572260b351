"""What every stage's main() shares: arguments, config loading, and one-line errors."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from rarewatch.config import Config, load_config
from rarewatch.errors import RarewatchError
from rarewatch.paths import Paths


def stage_main(name: str, execute: Callable[[Config, Paths], None], argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m rarewatch.stages.{name}")
    parser.add_argument("--params", default="params.yaml", help="config file (default: params.yaml)")
    parser.add_argument("--root", default=".", help="project directory holding data/, models/, metrics/")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"rarewatch.{name}: %(message)s"))
    for logger_name in ("rarewatch", "py.warnings"):
        logging.getLogger(logger_name).addHandler(handler)
        logging.getLogger(logger_name).setLevel(logging.INFO)
    # Lightning's start-up banner (GPU/TPU availability, tips) is noise in a pipeline log.
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    try:
        cfg = load_config(args.params)
        execute(cfg, Paths(Path(args.root).resolve()))
    except (RarewatchError, FileNotFoundError) as exc:
        # Bad input is the user's to fix: one readable line and a failing exit code, no traceback.
        print(f"rarewatch.{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
