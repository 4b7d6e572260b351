"""`rarewatch score`: run a logged or registered rarewatch model on a CSV file, or on rows streamed to stdin.

    rarewatch score --model models:/plant-detector@champion --input plant.csv --output alarms.csv
    tail -f plant.csv | rarewatch score --model models:/plant-detector@champion --input -

--model takes any MLflow model URI of a rarewatch model: models:/<name>@<alias>, models:/<name>/<version>,
runs:/<run id>/model, models:/<model id>, or a local directory. The model is loaded with
mlflow.pyfunc.load_model and scored through its predict (the signature enforced); the rows are checked
first, so a bad input is named by its column and row, not by a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rarewatch.errors import DataError, RarewatchError
from rarewatch.serving import inputs

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel


def load(model_uri: str, tracking_uri: str | None) -> tuple[PyFuncModel, dict[str, Any]]:
    """The pyfunc model at `model_uri` and its serving spec (serving.json)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow
    from mlflow.exceptions import MlflowException

    from rarewatch.tracking import resolve_uri

    uri = resolve_uri(tracking_uri, Path.cwd())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        raise DataError(f"cannot load model '{model_uri}' (tracking store {uri}): {str(exc).splitlines()[0]}") from exc
    scorer = getattr(model.unwrap_python_model(), "scorer", None)
    if scorer is None:
        raise DataError(f"'{model_uri}' is not a rarewatch model (no rarewatch.serving model inside)")
    return model, scorer.spec


def text_columns(spec: dict[str, Any]) -> list[str]:
    """Columns read as text from CSV: times, series names and categories (never guessed as numbers)."""
    time = [spec["time_column"]] if spec["time_column"] and spec["time_format"] not in inputs.UNIX_FORMATS else []
    series = [spec["series_column"]] if spec["series_column"] else []
    return time + series + list(spec["categorical_columns"])


def read_csv(path: str, spec: dict[str, Any]) -> pd.DataFrame:
    if not Path(path).is_file():
        raise DataError(f"--input '{path}' not found; give a CSV file of rows to score, or - for stdin")
    try:
        return pd.read_csv(path, dtype=dict.fromkeys(text_columns(spec), str), keep_default_na=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"--input '{path}' is not a readable CSV file: {exc}") from exc


def model_input(raw: pd.DataFrame, spec: dict[str, Any], offset: int = 0) -> pd.DataFrame:
    """The rows checked (errors name the column and row), with the signature's types, in input order."""
    inputs.canonical(raw, spec, offset)
    text = set(text_columns(spec))
    columns = {
        col: raw[col].astype(object).where(raw[col].notna(), None) if col in text else inputs.numeric(raw[col], col)
        for col in inputs.required_columns(spec)
    }
    return pd.DataFrame(columns).reset_index(drop=True)


def with_keys(raw: pd.DataFrame, scored: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    keys = [c for c in (spec["time_column"], spec["series_column"]) if c is not None]
    return pd.concat([raw[keys].reset_index(drop=True), scored.reset_index(drop=True)], axis=1)


def score_file(model: PyFuncModel, spec: dict[str, Any], source: str, output: str) -> pd.DataFrame:
    raw = read_csv(source, spec)
    out = with_keys(raw, model.predict(model_input(raw, spec)), spec)
    out.to_csv(sys.stdout if output == "-" else output, index=False)
    alarms = int(out["alarm"].sum())
    incomplete = int((~out["complete"]).sum())
    print(
        f"rarewatch score: {len(out)} rows, {alarms} alarms (threshold {spec['threshold']:.6g} on the "
        f"{spec['smoothing']['method']}-smoothed score, alarm policy {spec['alarm_policy']})"
        + (f", {incomplete} rows with partial lookback (complete=False)" if incomplete else "")
        + ("" if output == "-" else f" -> {output}"),
        file=sys.stderr,
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rarewatch", description="Score rows with a rarewatch MLflow model.")
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a CSV file, or a stream of CSV rows on stdin (--input -)")
    score.add_argument("--model", required=True, help="models:/<name>@champion, runs:/<run id>/model or a path")
    score.add_argument("--input", required=True, help="CSV file in the training data's columns, or - for stdin")
    score.add_argument("--output", default="-", help="CSV of every row's outputs (default -: stdout)")
    score.add_argument("--tracking-uri", help="default: $MLFLOW_TRACKING_URI, else sqlite:///<cwd>/mlflow.db")
    score.add_argument(
        "--context-rows",
        type=int,
        default=None,
        help="stdin: rows of each series kept as context (default: max(64, 4 x the model's memory_rows + 1))",
    )
    args = parser.parse_args(argv)
    try:
        model, spec = load(args.model, args.tracking_uri)
        if args.input == "-":
            from rarewatch.serving.stream import stream

            context = args.context_rows or max(64, 4 * int(spec["memory_rows"]) + 1)
            if context <= int(spec["memory_rows"]):
                raise DataError(f"--context-rows {context} must exceed the model's memory_rows {spec['memory_rows']}")
            out = sys.stdout if args.output == "-" else open(args.output, "w")  # noqa: SIM115 (closed below)
            try:
                stream(model, spec, sys.stdin, out, context)
            finally:
                if out is not sys.stdout:
                    out.close()
        else:
            score_file(model, spec, args.input, args.output)
    except RarewatchError as exc:
        print(f"rarewatch score: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # `rarewatch score ... | head`: the reader left
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()
