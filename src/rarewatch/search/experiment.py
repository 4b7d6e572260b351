"""The best trial written as conf/experiment/<name>_best.yaml: an ordinary experiment, nothing search-specific.

The file states the config the best trial ran (its first fold), flattened against conf/'s defaults: a
`defaults` entry `override /<group>: <option>` for every config group whose option differs from
conf/config.yaml's, and plain keys for every value that differs from what those options give. It does
not include the base experiment by name, so it keeps meaning the same config if that file changes.

Before the file is written, it is composed from a temporary directory and compared with the trial's own
composition, key by key; only an exact match is written, atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rarewatch.artifacts import atomic_path
from rarewatch.search.composing import Composer

_MISSING = object()
_CHECK_NAME = "_rarewatch_search_check"  # never a real experiment: the name the check composes under


@dataclass(frozen=True)
class Best:
    """What the header says about the trial the file reproduces."""

    study: str
    space_file: str
    objective: str
    direction: str
    value: float
    trial: int
    fold_values: dict[str, float]
    base: list[str]
    overrides: list[str]
    command: str
    counted: int


def document(composer: Composer, overrides: list[str]) -> dict[str, Any]:
    """The experiment's body: group overrides, then the plain keys that differ (see the module doc)."""
    target = composer.compose(overrides)
    root = composer.compose([])
    groups = {
        group: option
        for group, option in target.choices.items()
        if group != "experiment" and option is not None and option != root.choices.get(group)
    }
    skeleton = composer.compose([f"{group}={option}" for group, option in groups.items()])
    body: dict[str, Any] = {}
    if groups:
        body["defaults"] = [{f"override /{group}": option} for group, option in groups.items()]
    body.update(_differences(target.params, skeleton.params, ""))
    return body


def _differences(target: dict[str, Any], base: dict[str, Any], where: str) -> dict[str, Any]:
    removed = [k for k in base if k not in target]
    if removed:
        # An experiment file can add and change keys, not delete them.
        raise ValueError(f"the best trial's config has no key(s) {[where + k for k in removed]}; cannot write it")
    out: dict[str, Any] = {}
    for key, value in target.items():
        old = base.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(old, dict):
            inner = _differences(value, old, f"{where}{key}.")
            if inner:
                out[key] = inner
        elif type(value) is not type(old) or value != old:
            out[key] = value
    return out


def header(best: Best, name: str, folds: list[int]) -> str:
    per_fold = ", ".join(f"{v:.6g}" for v in best.fold_values.values())
    others = [f for f in folds if f != folds[0]]
    lines = [
        "# @package _global_",
        f"# The best trial of rarewatch-search study '{best.study}' (search space {best.space_file}), written by",
        f"#   {best.command}",
        f"# Objective {best.objective} ({best.direction}d): {best.value:.6g}, the mean over split.fold "
        f"{', '.join(best.fold_values)} ({per_fold}).",
        f"# Trial {best.trial}, best of {best.counted} counted trials. Chosen on validation figures only: no test",
        "# figure was read by the search.",
        f"# Base: {' '.join(best.base)}",
        f"# Sampled: {' '.join(best.overrides)}",
        f"# Run: dvc exp run -S '+experiment={name}'   (or: make real DATA={name})",
    ]
    if others:
        rest = ", ".join(map(str, others))
        lines.append(f"# This file runs fold {folds[0]}; the other folds: add -S split.fold=K for K in {rest}.")
    return "\n".join(lines) + "\n"


class _Dumper(yaml.SafeDumper):
    """Mappings as blocks (like conf/), lists inline (`windows: [5, 15]`)."""


_Dumper.add_representer(list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def render(best: Best, name: str, folds: list[int], body: dict[str, Any]) -> str:
    defaults = body.get("defaults", [])
    rest = {k: v for k, v in body.items() if k != "defaults"}
    text = header(best, name, folds)
    if defaults:
        text += "defaults:\n" + "".join(f"  - {_scalar(k)}: {_scalar(v)}\n" for d in defaults for k, v in d.items())
    if rest:
        text += yaml.dump(rest, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return text


def _scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_style=None).removesuffix("\n...\n").strip()


def check(composer: Composer, text: str, expected: dict[str, Any]) -> None:
    """The file composes to exactly `expected` (a RuntimeError names the keys that differ: a bug here)."""
    with tempfile.TemporaryDirectory(prefix="rarewatch-search-") as tmp:
        path = Path(tmp) / "experiment" / f"{_CHECK_NAME}.yaml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        got = composer.compose([f"+experiment={_CHECK_NAME}", f"hydra.searchpath=[file://{tmp}]"]).params
    if got != expected:
        keys = sorted(set(_flat(got).items()) ^ set(_flat(expected).items()))
        raise RuntimeError(f"the experiment file does not compose to the best trial's config; differing: {keys[:10]}")


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = repr(value)
    return out


def write(composer: Composer, best: Best, name: str, folds: list[int]) -> Path:
    """conf/experiment/<name>.yaml for the best trial's first fold, checked, written atomically."""
    overrides = [*best.base, *best.overrides, f"split.fold={folds[0]}"]
    body = document(composer, overrides)
    text = render(best, name, folds, body)
    check(composer, text, composer.compose(overrides).params)
    target = composer.conf_dir / "experiment" / f"{name}.yaml"
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
