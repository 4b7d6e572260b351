"""A space file checked against conf/ before any trial runs: a bad sample is the file's error, found early.

Every value a dimension can take is tried once (each option and choice, both ends of each range), with
its enclosing branch options set and every other dimension at its first value, then composed with the
base overrides and validated like a stage would (rarewatch.config, then the family's own config). Ranges
are checked at their ends because every rarewatch bound is an interval. The folds are checked the same
way, and the base config's input files by the validate stage, so a missing data file stops the command
instead of failing every trial.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rarewatch.config import Config, with_absolute_data_paths
from rarewatch.errors import RarewatchError
from rarewatch.models import families
from rarewatch.search.composing import Composer, group_options, is_group, typed
from rarewatch.search.sampling import int_bounds, param_name, render, walk
from rarewatch.search.space import Dimension, SearchSpace, SpaceError


@dataclass(frozen=True)
class Node:
    name: str  # the Optuna parameter name
    key: str
    dim: Dimension
    where: str  # its place in the space file, for messages
    plan: dict[str, Any]  # the branch options that make it active


def nodes(dimensions: dict[str, Dimension], context: tuple[str, ...] = (), where: str = "dimensions") -> list[Node]:
    out: list[Node] = []
    for key, dim in dimensions.items():
        name = param_name(key, context)
        out.append(Node(name, key, dim, f"{where}.{key}", {}))
        for option, children in (dim.branches or {}).items():
            for child in nodes(children, (*context, f"{key}={option}"), f"{where}.{key}.branches.{option}"):
                out.append(Node(child.name, child.key, child.dim, child.where, {name: option, **child.plan}))
    return out


def values(dim: Dimension) -> list[Any]:
    """The values of a dimension a probe tries, as the sampler would hand them to `walk`."""
    if dim.branches is not None:
        return list(dim.branches)
    if dim.choices is not None:
        return [render(v) for v in dim.choices]
    assert dim.low is not None and dim.high is not None
    if dim.type == "int":
        return list(int_bounds(dim))
    return [render(dim.low), render(dim.high)]


def probes(dimensions: dict[str, Dimension]) -> list[list[str]]:
    """Samples that between them give every dimension each of its probed values (the first: all firsts)."""
    plans: list[dict[str, Any]] = [{}]
    for node in nodes(dimensions):
        plans += [{**node.plan, node.name: value} for value in values(node.dim)]
    seen: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    for plan in plans:
        overrides = walk(dimensions, lambda name, dim, plan=plan: plan.get(name, values(dim)[0]))
        if tuple(overrides) not in seen:
            seen.add(tuple(overrides))
            out.append(overrides)
    return out


def check_groups(space: SearchSpace, conf_dir: Path, source: Path) -> None:
    """Options of config groups exist: a model family module, or a conf/<group>/<option>.yaml."""
    for node in nodes(space.dimensions):
        if not is_group(conf_dir, node.key):
            continue
        options = list(node.dim.branches or node.dim.choices or [])
        if node.dim.type is not None:
            raise SpaceError(f"search space file '{source}': {node.where} is a config group; give its options")
        known = families.names() if node.key == "model" else group_options(conf_dir, node.key)
        for option in options:
            if option not in known:
                what = "a model family" if node.key == "model" else f"an option of config group '{node.key}'"
                raise SpaceError(
                    f"search space file '{source}': {node.where}.{'branches' if node.dim.branches else 'choices'} "
                    f"lists '{option}', which is not {what}; "
                    f"available: {', '.join(known)}; remove it from the space file"
                    + (" (families are the modules in rarewatch/models/families/)" if node.key == "model" else "")
                )


def check_space(composer: Composer, space: SearchSpace, source: Path, project: Path) -> Config:
    """Every probe composes and validates; returns the first probe's config (fold folds[0])."""
    check_groups(space, composer.conf_dir, source)
    _compose_checked(composer, space.base, source, "the 'base' overrides")
    samples = probes(space.dimensions)
    first: Config | None = None
    for overrides in samples:
        cfg = _compose_checked(
            composer,
            [*space.base, *overrides, f"split.fold={space.folds[0]}"],
            source,
            "the sample " + " ".join(overrides),
        )
        first = first or cfg
    assert first is not None  # probes() always yields the all-firsts sample
    for fold in space.folds[1:]:
        _compose_checked(composer, [*space.base, *samples[0], f"split.fold={fold}"], source, f"fold {fold}")
    if len(space.folds) > 1 and first.split.method != "rolling":
        raise SpaceError(
            f"search space file '{source}': folds {space.folds} are split.fold values of split.method=rolling, "
            f"but the base config splits with split.method={first.split.method}; add split.method=rolling to "
            "'base', or use one fold (folds: [0])"
        )
    return with_absolute_data_paths(first, project)


def _compose_checked(composer: Composer, overrides: list[str], source: Path, what: str) -> Config:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return typed(composer.compose(overrides).params, source=what)
    except (HydraException, OmegaConfBaseException, RarewatchError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpaceError(
            f"search space file '{source}': {what} does not make a valid config: {first_line}; fix the space file"
        ) from None


def preflight(cfg: Config, work_dir: Path) -> None:
    """The validate stage on the base config: input files exist and have the configured columns."""
    from rarewatch.paths import Paths
    from rarewatch.stages import validate
    from rarewatch.stages.runner import run_stage

    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="preflight-") as job:
        try:
            run_stage("validate", validate.execute, cfg, Paths(Path(job)))
        except (RarewatchError, FileNotFoundError) as exc:
            raise RarewatchError(f"the search's base config cannot run: {exc}") from None
