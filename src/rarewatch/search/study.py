"""The Optuna study behind a search: created or resumed, its sampler, and which trials count.

A trial counts towards `--trials` when it finished with a value (COMPLETE) or failed on the data
(FAIL with an `error` attribute: a fold without positives is an answer about that sample). A trial that
was interrupted (kill, Ctrl-C) or stopped by a bug does not count, so a resumed study runs until the
requested number of samples have really been evaluated.

Repeatability: each trial's sampler is a TPESampler seeded from (space seed, n), n the trial's number
less the trials that were queued again after an interruption (kill -9, Ctrl-C). The same command on a new storage
therefore gives the same samples, and a study killed and resumed gives the same samples as one never
killed (the retry reruns the killed sample, then n carries on where it would have). A retry that dies
too is not queued again, and n moves on, so a sample that kills its process is not tried for ever.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from rarewatch.search.space import SearchSpace
from rarewatch.search.storage import StorageError

ERROR_ATTR = "error"  # a data failure: the message (the trial counts)
RETRY_ATTR = "retry_of"  # set on a trial queued again after an interruption


def sampler_for(space: SearchSpace, index: int) -> optuna.samplers.BaseSampler:
    seed = int(np.random.SeedSequence([space.sampler.seed, index]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=space.sampler.startup_trials)


def counted(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    return [
        t
        for t in trials
        if t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and ERROR_ATTR in t.user_attrs)
    ]


def open_study(storage: Any, name: str, space: SearchSpace, source: str) -> optuna.Study:
    """Create the study, or load it if the storage has it; StorageError if it was made from another space."""
    if name in optuna.get_all_study_names(storage):
        # Loaded, not created with load_if_exists: that would append a record to the journal on every resume.
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler_for(space, 0))
    else:
        study = optuna.create_study(
            storage=storage, study_name=name, direction=space.direction, sampler=sampler_for(space, 0)
        )
    recorded = study.user_attrs.get("space_fingerprint")
    if recorded is None:
        study.set_user_attr("space_fingerprint", space.fingerprint())
        study.set_user_attr("space_file", source)
        study.set_user_attr("space", space.model_dump(mode="json"))
    elif recorded != space.fingerprint() or study.direction.name.lower() != space.direction:
        raise StorageError(
            f"study '{name}' was made from a different search space (recorded from "
            f"{study.user_attrs.get('space_file')}; its objective, base, folds, sampler or dimensions have changed "
            "since), so its trials do not compare; "
            "pass --name NEW_NAME for a new study, or restore the space file to resume this one"
        )
    return study


def sampler_index(trials: list[FrozenTrial]) -> int:
    """n of the module docstring, for the next trial asked."""
    retried = {t.user_attrs[RETRY_ATTR] for t in trials if RETRY_ATTR in t.user_attrs}
    return len(trials) - len(retried)


def load(storage: Any, name: str, space: SearchSpace) -> optuna.Study:
    """The study with the sampler for its next trial."""
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    return optuna.load_study(study_name=name, storage=storage, sampler=sampler_for(space, sampler_index(trials)))


def recover_interrupted(study: optuna.Study) -> list[int]:
    """Trials left RUNNING by a dead process (the caller holds the storage lock): FAIL them, and queue
    each one's parameters once more, unless it was itself such a retry (a sample that kills its process,
    by running out of memory say, is not retried for ever). Returns their numbers."""
    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study.tell(trial.number, state=TrialState.FAIL)
        queue_again(study, trial.number, trial.params, trial.user_attrs)
    if stale:
        before = study.user_attrs.get("interrupted_trials", [])
        study.set_user_attr("interrupted_trials", [*before, *(t.number for t in stale)])
    return [t.number for t in stale]


def queue_again(study: optuna.Study, number: int, params: dict[str, Any], user_attrs: dict[str, Any]) -> None:
    """Queue an interrupted trial's parameters for the next ask, unless it was itself a retry."""
    if params and RETRY_ATTR not in user_attrs:
        study.enqueue_trial(params, user_attrs={RETRY_ATTR: number})
