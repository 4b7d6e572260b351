"""`rarewatch-search SPACE --trials N [--storage PATH] [--name NAME]`: run or resume a study, write the best.

Order matters for "nothing half-written": the space file, the storage and the base config are all
checked before the first trial, and the experiment file is written only after the study loop ended
normally. User errors (the space file, the storage, the data behind the base config) are one line on
stderr and exit code 2; a trial that fails on the data is recorded and the study goes on; anything else
is a bug and stops the command with its traceback (its trial recorded as failed, not counted).
"""

from __future__ import annotations

import argparse
import logging
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from rarewatch.composition import CONF_DIR
from rarewatch.errors import RarewatchError
from rarewatch.search import checking, experiment
from rarewatch.search.composing import Composer
from rarewatch.search.progress import Progress
from rarewatch.search.sampling import sample
from rarewatch.search.space import NAME_PATTERN, SearchSpace, SpaceError, load_space
from rarewatch.search.storage import check_journal, check_writable, exclusive, open_storage, storage_errors
from rarewatch.search.study import ERROR_ATTR, counted, load, open_study, queue_again, recover_interrupted
from rarewatch.search.trials import run_trial

STORAGE_DIR = Path(".rarewatch/search")
CACHE_DIR = Path(".rarewatch/cache")  # shared with rarewatch-sweep (rarewatch.sweep.CACHE_DIR)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="rarewatch-search",
        description="Optuna search over a space file (conf/search/*.yaml), scored on validation folds; "
        "resumable; writes the best as conf/experiment/<name>_best.yaml.",
    )
    parser.add_argument("space", type=Path, help="the search space file, e.g. conf/search/paper_mill.yaml")
    parser.add_argument("--trials", type=int, required=True, help="finished trials the study should have in all")
    parser.add_argument("--storage", type=Path, help="journal file (default: .rarewatch/search/<name>.log)")
    parser.add_argument("--name", help="study name (default: the space file's name); names the experiment file")
    parser.add_argument("--conf-dir", type=Path, default=CONF_DIR, help="the Hydra config directory (default: conf/)")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f"--trials is {args.trials}; must be >= 1")
    if args.name is not None and not re.match(NAME_PATTERN, args.name):
        parser.error(f"--name {args.name!r}: use letters, digits and _ (it names conf/experiment/<name>_best.yaml)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    command = shlex.join(["rarewatch-search", *(sys.argv[1:] if argv is None else argv)])
    quiet_libraries()
    try:
        search(args, command)
    except RarewatchError as exc:
        print(f"rarewatch-search: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("rarewatch-search: interrupted; rerun the same command to resume the study", file=sys.stderr)
        sys.exit(130)


def quiet_libraries() -> None:
    # The command prints one line per trial; Optuna's own per-trial log and Lightning's banner repeat it.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)


def search(args: argparse.Namespace, command: str) -> None:
    space = load_space(args.space)
    name: str = args.name or space.name
    storage_path: Path = args.storage or STORAGE_DIR / f"{name}.log"
    project = Path.cwd()
    check_writable(storage_path)
    check_journal(storage_path)
    with Composer(args.conf_dir) as composer:
        base = checking.check_space(composer, space, args.space, project)
        checking.preflight(base, project / STORAGE_DIR / "jobs")
        with exclusive(storage_path):
            storage = open_storage(storage_path)
            with storage_errors(storage_path):
                study = open_study(storage, name, space, str(args.space))
                interrupted = recover_interrupted(study)
            if interrupted:
                print(f"resuming: trial(s) {', '.join(map(str, interrupted))} were interrupted; not counted, run again")
            run_trials(composer, space, storage, storage_path, name, args.trials, project)
            finish(composer, space, storage, name, storage_path, command, args.space)


def run_trials(
    composer: Composer, space: SearchSpace, storage: Any, path: Path, name: str, target: int, project: Path
) -> None:
    with storage_errors(path):
        done = len(counted(load(storage, name, space).get_trials(deepcopy=False)))
    if done >= target:
        print(f"study '{name}' already has {done} finished trials (asked for {target}); none to run")
        return
    print(
        f"study '{name}' ({path}): {done} finished trials, running {target - done} more; "
        f"{space.objective} on folds {space.folds}"
    )
    with Progress(total=target, done=done) as progress:
        while done < target:
            run_one(composer, space, storage, path, name, project, progress)
            with storage_errors(path):
                done = len(counted(load(storage, name, space).get_trials(deepcopy=False)))
            progress.advance_to(done)


def run_one(
    composer: Composer, space: SearchSpace, storage: Any, path: Path, name: str, project: Path, progress: Progress
) -> None:
    with storage_errors(path):
        study = load(storage, name, space)
        trial = study.ask()
        overrides = sample(trial, space.dimensions)
        trial.set_user_attr("overrides", overrides)
    started = time.perf_counter()
    progress.start_trial(trial.number, overrides)
    try:
        result = run_trial(
            composer,
            space,
            overrides,
            project,
            project / STORAGE_DIR / "jobs",
            project / CACHE_DIR,
            on_fold=lambda fold: progress.fold(trial.number, fold, space.folds),
        )
    except SpaceError as exc:
        _fail(study, trial, path, "space_error", str(exc))
        raise
    except RarewatchError as exc:
        # The data's fault (a fold without positives, a family that needs them): recorded, and it counts.
        _fail(study, trial, path, ERROR_ATTR, str(exc))
        progress.failed(trial.number, str(exc), overrides, _best(study))
        return
    except BaseException as exc:
        # A bug or an interruption: recorded as failed (not counted), then the command stops with it.
        _fail(study, trial, path, "stopped_by", f"{type(exc).__name__}: {exc}")
        if isinstance(exc, KeyboardInterrupt):
            with storage_errors(path):  # Ctrl-C, like a kill: the resumed study runs this sample first
                queue_again(study, trial.number, trial.params, trial.user_attrs)
        raise
    with storage_errors(path):
        for key, value in result.user_attrs().items():
            trial.set_user_attr(key, value)
        study.tell(trial, result.value)
    progress.finished(trial.number, result, overrides, _best(study), time.perf_counter() - started)


def _fail(study: optuna.Study, trial: optuna.Trial, path: Path, attr: str, message: str) -> None:
    with storage_errors(path):
        trial.set_user_attr(attr, message)
        study.tell(trial, state=TrialState.FAIL)


def _best(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return study.best_trial if complete else None


def finish(
    composer: Composer, space: SearchSpace, storage: Any, name: str, path: Path, command: str, space_file: Path
) -> None:
    with storage_errors(path):
        study = load(storage, name, space)
    trials = study.get_trials(deepcopy=False)
    done = counted(trials)
    best = _best(study)
    failed = [t for t in done if t.state == TrialState.FAIL]
    print(
        f"study '{name}': {len(done)} finished trials ({len(done) - len(failed)} with a value, {len(failed)} failed on "
        f"the data), {len(trials) - len(done)} not counted (interrupted or stopped); storage {path}"
    )
    if best is None:
        first = failed[0].user_attrs[ERROR_ATTR] if failed else "none ran"
        print(f"no trial finished with a value, so no experiment file was written; first failure: {first}")
        sys.exit(1)
    exp_name = f"{name}_best"
    info = experiment.Best(
        study=name,
        space_file=str(space_file),
        objective=space.objective,
        direction=space.direction,
        value=float(best.value),
        trial=best.number,
        fold_values=dict(best.user_attrs["fold_values"]),
        base=list(space.base),
        overrides=list(best.user_attrs["overrides"]),
        command=command,
        counted=len(done),
    )
    written = experiment.write(composer, info, exp_name, space.folds)
    folds = " ".join(f"{k}={v:.4g}" for k, v in info.fold_values.items())
    print(f"best: trial {best.number}, {space.objective} {best.value:.4g} (folds {folds}): {' '.join(info.overrides)}")
    print(f"wrote {_shown(written)} (chosen on validation only)")
    print(f"reproduce: dvc exp run -S '+experiment={exp_name}'   (or: make real DATA={exp_name})")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()
