"""`rarewatch-register`: register the best run of an experiment, by validation cost, as `<name>@champion`.

The best run is the FINISHED run with the lowest `cost.val_cost` (the cost stage's total cost at its
threshold on the validation rows) that has a logged MLflow model `model`; ties go to the newest run.
The test figures are never looked at: choosing by test cost would make the test split part of
training, and its figures an optimistic guess.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rarewatch.errors import ConfigError, RarewatchError
from rarewatch.serving.logged_model import MODEL_NAME
from rarewatch.tracking import resolve_uri

if TYPE_CHECKING:
    from mlflow import MlflowClient

VAL_COST = "cost.val_cost"  # the metric rarewatch.tracking logs from metrics/cost.json
ALIAS = "champion"


@dataclass(frozen=True)
class Choice:
    run_id: str
    run_name: str
    model_id: str
    val_cost: float


def best_run(client: MlflowClient, experiment: str) -> Choice:
    """The run of `experiment` with the lowest validation cost among those with a logged model."""
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        names = [e.name for e in client.search_experiments()]
        raise ConfigError(f"no MLflow experiment '{experiment}' in this store; experiments: {', '.join(names[:20])}")
    models: dict[str, str] = {}  # run id -> its logged model (the newest, if it logged several)
    page = None
    while True:
        found = client.search_logged_models(
            [exp.experiment_id], filter_string=f"name = '{MODEL_NAME}'", page_token=page, max_results=1000
        )
        for m in sorted(found, key=lambda m: m.creation_timestamp):
            if m.source_run_id and str(m.status) in ("READY", "LoggedModelStatus.READY"):
                models[m.source_run_id] = m.model_id
        page = found.token
        if not page:
            break
    runs = client.search_runs([exp.experiment_id], filter_string="attributes.status = 'FINISHED'", max_results=50_000)
    candidates = [r for r in runs if VAL_COST in r.data.metrics and r.info.run_id in models]
    if not candidates:
        raise ConfigError(
            f"experiment '{experiment}' has no finished run with a logged model and a '{VAL_COST}' metric; run the "
            "pipeline with tracking.log_model=true (make run)"
        )
    best = min(candidates, key=lambda r: (r.data.metrics[VAL_COST], -r.info.start_time))
    return Choice(best.info.run_id, best.info.run_name, models[best.info.run_id], best.data.metrics[VAL_COST])


def register(uri: str, choice: Choice, name: str, alias: str = ALIAS) -> str:
    """A new version of registered model `name` (in store `uri`) from the chosen run's model, with `alias`;
    returns the version."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    # The registry resolves the version's source (models:/<model id>) through the global tracking URI.
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri, registry_uri=uri)

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="rarewatch detector; alias champion = best validation cost")
    version = client.create_model_version(
        name,
        source=f"models:/{choice.model_id}",
        run_id=choice.run_id,
        model_id=choice.model_id,
        tags={"rarewatch.val_cost": str(choice.val_cost), "rarewatch.chosen_by": f"lowest {VAL_COST}"},
    )
    client.set_registered_model_alias(name, alias, version.version)
    return str(version.version)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="rarewatch-register",
        description="Register the run with the lowest validation cost of an experiment, with alias 'champion'.",
    )
    parser.add_argument("--experiment", default="rarewatch", help="MLflow experiment (tracking.experiment)")
    parser.add_argument("--name", required=True, help="registered model name, e.g. plant-detector")
    parser.add_argument("--alias", default=ALIAS, help=f"alias to point at the new version (default {ALIAS})")
    parser.add_argument("--tracking-uri", help="default: $MLFLOW_TRACKING_URI, else sqlite:///<cwd>/mlflow.db")
    args = parser.parse_args(argv)
    from mlflow import MlflowClient

    uri = resolve_uri(args.tracking_uri, Path.cwd())
    try:
        client = MlflowClient(uri, registry_uri=uri)
        choice = best_run(client, args.experiment)
        version = register(uri, choice, args.name, args.alias)
    except RarewatchError as exc:
        print(f"rarewatch-register: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(
        f"registered '{args.name}' version {version} from run {choice.run_id} ({choice.run_name}), "
        f"validation cost {choice.val_cost:g}; alias '{args.alias}' -> version {version}\n"
        f"  score with: rarewatch score --model models:/{args.name}@{args.alias} --input plant.csv --output alarms.csv"
    )


if __name__ == "__main__":
    main()
