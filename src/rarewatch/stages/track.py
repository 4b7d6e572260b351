"""Stage track: record this pipeline execution as one complete MLflow run (see rarewatch.recording)."""

from __future__ import annotations

import logging

from rarewatch.artifacts import write_json
from rarewatch.config import Config
from rarewatch.paths import Paths
from rarewatch.recording import complete_run

log = logging.getLogger("rarewatch.track")


def execute(cfg: Config, paths: Paths) -> None:
    info = complete_run(cfg, paths)
    write_json(info, paths.run_info)
    trained_by = f" (model trained in run {info['training_run_id']})" if "training_run_id" in info else ""
    log.info("MLflow run %s in %s%s", info["run_id"], info["tracking_uri"], trained_by)


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("track", execute, argv)


if __name__ == "__main__":
    main()
