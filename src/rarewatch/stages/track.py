"""Stage track: record this pipeline execution as one MLflow run (see rarewatch.tracking)."""

from __future__ import annotations

import logging

from rarewatch.artifacts import write_json
from rarewatch.config import Config
from rarewatch.paths import Paths
from rarewatch.serving.logged_model import log_served_model
from rarewatch.tracking import log_pipeline_run

log = logging.getLogger("rarewatch.track")


def execute(cfg: Config, paths: Paths) -> None:
    info = log_pipeline_run(cfg, paths, tracking_root=paths.root)
    if cfg.tracking.log_model:  # the chosen detector as an MLflow model (docs/serving.md)
        info["model_uri"] = log_served_model(info["tracking_uri"], info["run_id"], cfg, paths, info["experiment_id"])
    write_json(info, paths.run_info)
    log.info("MLflow run %s in %s", info["run_id"], info["tracking_uri"])


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("track", execute, argv)


if __name__ == "__main__":
    main()
