"""Print the MLflow UI's address of the runs table of rarewatch's experiment (`make ui` prints it first).

MLflow 3's UI opens in its GenAI view; `workflowType=machine_learning` selects the model-training view,
whose Runs tab is the table where runs compare column by column.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rarewatch.config import load_config


def runs_table_url(base: str, experiment_id: str | None) -> str:
    if experiment_id is None:
        return f"{base}/#/experiments?workflowType=machine_learning"
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rarewatch.ui", description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args(argv)
    from mlflow import MlflowClient

    from rarewatch.tracking import resolve_uri

    cfg = load_config(args.params)
    uri = resolve_uri(cfg.tracking.uri, Path.cwd())
    experiment = None
    if not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).is_file():
        found = MlflowClient(uri).get_experiment_by_name(cfg.tracking.experiment)
        experiment = found.experiment_id if found is not None else None
    print(f"MLflow UI, runs table of experiment '{cfg.tracking.experiment}': {runs_table_url(args.base, experiment)}")


if __name__ == "__main__":
    main()
