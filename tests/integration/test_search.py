"""rarewatch-search end to end on the small synthetic data: resume, kill -9 and resume, and the written
experiment reproducing the best trial's validation figure through run_pipeline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rarewatch.pipeline.inprocess import run_pipeline
from rarewatch.search.cli import main
from rarewatch.search.composing import Composer, typed
from rarewatch.search.objective import aggregate, validation_figure
from rarewatch.search.storage import open_storage
from rarewatch.search.study import counted
from tests.integration.conftest import REPO, command_env
from tests.search_spaces import conf_copy, space_dict, write_space

pytestmark = pytest.mark.slow

# Only PCA: the fastest family, so each trial is a few seconds (two folds of the small data).
PCA_ONLY = {
    "features": {"branches": {"none": {}, "rolling": {"features.windows": {"choices": [[5], [5, 15]]}}}},
    "model": {"branches": {"pca": {"model.variance": {"type": "float", "low": 0.5, "high": 0.95}}}},
    "smoothing.method": {"branches": {"none": {}, "max": {"smoothing.window": {"type": "int", "low": 2, "high": 5}}}},
}
# The trial attributes a study may record: validation figures and bookkeeping, never a test figure.
ALLOWED_ATTRS = {"overrides", "fold_values", "val_positives", "models_reused", "seconds", "retry_of"}


def load_study(storage: Path, name: str = "tiny") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(storage))


def test_resume_runs_only_the_missing_trials_and_the_best_reproduces(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    space, conf = write_space(tmp_path, space_dict(dimensions=PCA_ONLY)), conf_copy(tmp_path)
    args = [str(space), "--conf-dir", str(conf)]
    main([*args, "--trials", "2"])
    storage = tmp_path / ".rarewatch" / "search" / "tiny.log"
    assert len(load_study(storage).trials) == 2
    capsys.readouterr()

    main([*args, "--trials", "4"])
    out = capsys.readouterr().out
    assert "2 finished trials, running 2 more" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("trial ")] == ["2", "3"]
    study = load_study(storage)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    assert all(set(t.user_attrs) <= ALLOWED_ATTRS for t in study.trials)

    # The experiment file composes to the best trial's config and, run fold by fold through the
    # pipeline with a fresh cache (so the model is trained again), gives the best trial's value.
    best = study.best_trial
    with Composer(conf) as composer:
        written = composer.compose(["+experiment=tiny_best"]).params
        assert (
            written == composer.compose([*space_dict()["base"], *best.user_attrs["overrides"], "split.fold=0"]).params
        )
        values = []
        for fold in (0, 1):
            cfg = typed(composer.compose(["+experiment=tiny_best", f"split.fold={fold}"]).params, "tiny_best")
            run = run_pipeline(cfg, tmp_path / f"repro{fold}", tmp_path / "fresh-cache")
            assert not run.model_reused
            eval_m, cost_m = (json.loads(p.read_text()) for p in (run.paths.eval_metrics, run.paths.cost_metrics))
            values.append(validation_figure("val_pr_auc", eval_m, cost_m))
    assert aggregate(values) == pytest.approx(best.value, abs=1e-12)
    assert values == pytest.approx(list(best.user_attrs["fold_values"].values()), abs=1e-12)


def test_a_study_killed_mid_trial_resumes_without_counting_the_killed_trial(tmp_path) -> None:
    space = write_space(tmp_path, space_dict(dimensions=PCA_ONLY))
    conf = conf_copy(tmp_path)
    storage = tmp_path / "study.log"
    command = [sys.executable, "-m", "rarewatch.search", str(space), "--trials", "2"]
    command += ["--storage", str(storage), "--conf-dir", str(conf)]
    env = {**command_env(), "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        running = _wait_for_a_running_trial_after_one_complete(storage, deadline=time.monotonic() + 300)
        time.sleep(1.0)  # well inside the trial (each takes seconds)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert load_study(storage).trials[running].state == TrialState.RUNNING

    rerun = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"trial(s) {running} were interrupted" in rerun.stdout
    trials = load_study(storage).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert [t.number for t in counted(trials)] == [0, 2]
    assert trials[2].user_attrs["retry_of"] == running and trials[2].params == trials[running].params
    assert (conf / "experiment" / "tiny_best.yaml").is_file()


def _wait_for_a_running_trial_after_one_complete(storage: Path, deadline: float) -> int:
    while time.monotonic() < deadline:
        if storage.is_file() and storage.stat().st_size:
            try:
                trials = load_study(storage).trials
            except KeyError:  # the study itself is not written yet
                trials = []
            done = [t for t in trials if t.state == TrialState.COMPLETE]
            running = [t.number for t in trials if t.state == TrialState.RUNNING]
            if done and running:
                return running[0]
        time.sleep(0.2)
    raise AssertionError("no trial started within the deadline")


def test_trials_that_fail_on_the_data_count_and_the_study_goes_on(tmp_path, monkeypatch, capsys) -> None:
    # A gap longer than a fold's blocks: the split stage refuses it (a DataError), in every trial.
    monkeypatch.chdir(tmp_path)
    dims = {"model": {"choices": ["pca"]}, "split.gap_rows": {"choices": [5000]}}
    space, conf = write_space(tmp_path, space_dict(dimensions=dims)), conf_copy(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([str(space), "--trials", "2", "--conf-dir", str(conf)])
    assert exit_.value.code == 1  # nothing with a value: no experiment file
    out = capsys.readouterr().out
    assert out.count("FAILED on the data: fold 0: ") == 2 and "too few for 2 folds after an initial 60% with gap_rows=5000" in out
    study = load_study(tmp_path / ".rarewatch" / "search" / "tiny.log")
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
    assert len(counted(study.trials)) == 2
    assert not (conf / "experiment" / "tiny_best.yaml").exists()
