"""Stage track: record this pipeline execution as one complete MLflow run (see rarewatch.recording)."""

from __future__ import annotations

import logging

from rarewatch.artifacts import write_json
from rarewatch.config import Config
from rarewatch.paths import Paths
from rarewatch.recording import complete_run
from rarewatch.serving.logged_model import log_served_model

log = logging.getLogger("rarewatch.track")


def execute(cfg: Config, paths: Paths) -> None:
    def served_model(uri: str, run_id: str, experiment_id: str) -> dict[str, str]:
        if not cfg.tracking.log_model:
            return {}
        # the chosen detector as an MLflow model (docs/serving.md)
        return {"model_uri": log_served_model(uri, run_id, cfg, paths, experiment_id)}

    info = complete_run(cfg, paths, also=served_model)
    write_json(info, paths.run_info)
    trained_by = f" (model trained in run {info['training_run_id']})" if "training_run_id" in info else ""
    log.info("MLflow run %s in %s%s", info["run_id"], info["tracking_uri"], trained_by)


def main(argv: list[str] | None = None) -> None:
    from rarewatch.stages.runner import stage_main

    stage_main("track", execute, argv)


if __name__ == "__main__":
    main()
