"""dvc.yaml, generated from the stage graph (spec.py) and each stage's import closure (closure.py).

    python -m rarewatch.pipeline.dvcfile          # rewrite dvc.yaml
    python -m rarewatch.pipeline.dvcfile --check  # exit 1 if dvc.yaml is out of date (CI, tests)

Code deps are listed file by file (never as folders, whose hash would include __pycache__), so a stage
reruns when any module it can import changes, and only then.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

import yaml

from rarewatch.pipeline.closure import SOURCE_ROOT, closure
from rarewatch.pipeline.spec import STAGES, StageSpec

PROJECT_ROOT = SOURCE_ROOT.parent  # <project>/src -> <project>
HEADER = (
    "# Generated from src/rarewatch/pipeline/spec.py by `make dvc.yaml` (python -m rarewatch.pipeline.dvcfile):\n"
    "# edit the spec, not this file. A test fails when the two disagree.\n"
    "# validate -> ingest -> preprocess -> label_shift -> features -> split -> train -> evaluate -> cost -> summary\n"
    "# -> track\n"
)

PLOTS: list[Any] = [
    {
        "ROC": {
            "template": "simple",
            "x": "fpr",
            "x_label": "false positive rate",
            "y_label": "true positive rate",
            "y": {"metrics/plots/evaluate/roc_val.csv": "tpr", "metrics/plots/evaluate/roc_test.csv": "tpr"},
        }
    },
    {
        "Precision-recall": {
            "template": "simple",
            "x": "recall",
            "x_label": "recall",
            "y_label": "precision",
            "y": {"metrics/plots/evaluate/pr_val.csv": "precision", "metrics/plots/evaluate/pr_test.csv": "precision"},
        }
    },
    {
        "Cost on validation vs threshold": {
            "template": "simple",
            "x": "threshold",
            "x_label": "threshold (anomaly score)",
            "y_label": "total cost",
            "y": {"metrics/plots/cost/cost_curve.csv": "cost"},
        }
    },
    "metrics/plots/evaluate/roc_pr.png",
    "metrics/plots/evaluate/confusion.png",
    "metrics/plots/evaluate/scores.png",
    "metrics/plots/evaluate/timeline.png",
    "metrics/plots/cost/cost_curve.png",
]


def code_deps(spec: StageSpec) -> list[str]:
    files = closure([spec.module])
    return sorted(f.relative_to(PROJECT_ROOT).as_posix() for f in files)


def stage_entry(spec: StageSpec) -> dict[str, Any]:
    # PYTHONPATH=src: the stage runs this checkout's code, also in the temporary copy a queued
    # `dvc exp run --queue` runs in, not the editable install of the workspace it was queued from.
    entry: dict[str, Any] = {
        "cmd": f"PYTHONPATH=src python -m {spec.module}",
        "deps": [*code_deps(spec), *(p.as_posix() for p in spec.deps)],
    }
    if spec.params:
        entry["params"] = list(spec.params)
    if spec.outs:
        entry["outs"] = [p.as_posix() for p in spec.outs]
    if spec.always_changed:
        entry["always_changed"] = True
    if spec.metrics:
        entry["metrics"] = [{p.as_posix(): {"cache": False}} for p in spec.metrics]
    return entry


def render() -> str:
    body = {"stages": {s.name: stage_entry(s) for s in STAGES}, "plots": PLOTS}
    return HEADER + yaml.safe_dump(body, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rarewatch.pipeline.dvcfile", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml differs from the generated one")
    parser.add_argument("--path", default=str(PROJECT_ROOT / "dvc.yaml"))
    args = parser.parse_args(argv)
    target = Path(args.path)
    text = render()
    if args.check:
        current = target.read_text() if target.is_file() else ""
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "dvc.yaml", "generated", lineterm="")
            print("\n".join(list(diff)[:40]), file=sys.stderr)
            print("dvc.yaml is out of date with src/rarewatch/pipeline/spec.py: run `make dvc.yaml`", file=sys.stderr)
            sys.exit(1)
        return
    target.write_text(text)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
