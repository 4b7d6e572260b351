"""rarewatch-search's pure parts: the space file, sampling, the objective, the storage checks, the
experiment file, and the command's refusals (read-only or corrupt storage, a changed space, a bug)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.trial import FixedTrial, TrialState

from rarewatch.composition import CONF_DIR
from rarewatch.errors import DataError
from rarewatch.search import checking, experiment
from rarewatch.search.cli import main
from rarewatch.search.composing import Composer, typed
from rarewatch.search.objective import aggregate, validation_figure
from rarewatch.search.sampling import render, sample
from rarewatch.search.space import SpaceError, load_space
from rarewatch.search.storage import StorageError, check_journal, check_writable, exclusive, open_storage
from rarewatch.search.study import counted, open_study, recover_interrupted, sampler_index
from rarewatch.search.study import load as load_study
from tests.search_spaces import TINY, conf_copy, space_dict, write_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def load(tmp_path: Path, **changes: Any):
    return load_space(write_space(tmp_path, space_dict(**changes)))


# ------------------------------------------------------------------------------------------ space file


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"objectiv": "val_pr_auc"}, r"unknown key 'objectiv' \(did you mean 'objective'\?\)"),
        (
            {"objective": "test_pr_auc"},
            r"key 'objective' is 'test_pr_auc'; allowed values: 'val_pr_lift', 'val_pr_auc' or 'val_cost'",
        ),
        ({"folds": []}, r"key 'folds' is \[\]; needs at least 1 item"),
        ({"folds": [0, 0]}, r"'folds' must be distinct"),
        ({"sampler": {"seed": -1, "startup_trials": 5}}, r"key 'sampler.seed' is -1; must be >= 0"),
        ({"name": "a-b"}, r"key 'name' is 'a-b'"),
        ({"base": ["split.fold=1"]}, r"'base' sets 'split.fold=1'; the folds come from 'folds'"),
        (
            {"dimensions": {"model": {"choises": ["pca"]}}},
            r"unknown key 'dimensions.model.choises' \(did you mean 'choices'\?\)",
        ),
        (
            {
                "dimensions": {
                    "model": {"branches": {"pca": {"model.variance": {"type": "float", "low": 0.9, "high": 0.5}}}}
                }
            },
            r"dimensions.model.branches.pca.model.variance: 'low' \(0.9\) must be below 'high' \(0.5\)",
        ),
        ({"dimensions": {"x.y": {"type": "int", "low": 1.5, "high": 3}}}, r"dimensions.x.y: 'type: int' needs integer"),
        (
            {"dimensions": {"x.y": {"type": "float", "low": 0, "high": 1, "log": True}}},
            r"dimensions.x.y: 'log: true' needs low > 0",
        ),
        (
            {"dimensions": {"x.y": {"type": "float", "low": "a", "high": 1}}},
            r"key 'dimensions.x.y.low' is 'a'; must be a number",
        ),
        ({"dimensions": {"x.y": {"choices": [1], "type": "int"}}}, r"dimensions.x.y: needs exactly one of"),
        ({"dimensions": {"x.y": {"choices": [{"a": 1}]}}}, r"dimensions.x.y: choices\[0\] is \{'a': 1\}"),
        (
            {"dimensions": {"split.fold": {"choices": [1]}}},
            r"dimensions.split.fold: 'split.fold' is set by the command",
        ),
        (
            {"dimensions": {"model": {"branches": {"pca": {"model": {"choices": ["pca"]}}}}}},
            r"dimensions.model.branches.pca.model: 'model' is already varied",
        ),
    ],
)
def test_space_file_errors_name_the_key(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    path = write_space(tmp_path, space_dict(**changes))
    with pytest.raises(SpaceError, match=message) as err:
        load_space(path)
    assert str(err.value).startswith(f"search space file '{path}': ")
    assert "\n" not in str(err.value)


def test_the_shipped_space_files_load() -> None:
    for path in sorted((CONF_DIR / "search").glob("*.yaml")):
        space = load_space(path)
        assert space.name == path.stem


def test_an_unknown_model_family_is_named_with_the_available_ones(tmp_path: Path) -> None:
    space = load(tmp_path, dimensions={"model": {"branches": {"pca": {}, "xgboost": {}}}})
    with pytest.raises(
        SpaceError, match=r"dimensions.model.branches lists 'xgboost', which is not a model family; available: "
    ):
        checking.check_groups(space, CONF_DIR, Path("s.yaml"))


def test_an_unknown_group_option_is_named(tmp_path: Path) -> None:
    space = load(tmp_path, dimensions={"features": {"choices": ["none", "fourier"]}})
    with pytest.raises(
        SpaceError, match=r"'fourier', which is not an option of config group 'features'; available: none"
    ):
        checking.check_groups(space, CONF_DIR, Path("s.yaml"))


def test_a_sample_that_does_not_validate_is_an_error_of_the_space_file(tmp_path: Path) -> None:
    # PCA's variance must be below 1: the top of this range makes an invalid config.
    dims = {"model": {"branches": {"pca": {"model.variance": {"type": "float", "low": 0.5, "high": 1.5}}}}}
    space = load(tmp_path, dimensions=dims)
    with Composer(CONF_DIR) as composer, pytest.raises(SpaceError) as err:
        checking.check_space(composer, space, Path("s.yaml"), tmp_path)
    assert "model.variance=1.5 does not make a valid config: config key 'model.variance' is 1.5" in str(err.value)
    assert str(err.value).endswith("fix the space file")


def test_a_key_that_is_not_in_the_config_is_an_error_of_the_space_file(tmp_path: Path) -> None:
    space = load(tmp_path, dimensions={"model.n_trees": {"choices": [10]}})
    with (
        Composer(CONF_DIR) as composer,
        pytest.raises(SpaceError, match=r"model.n_trees=10 does not make a valid config"),
    ):
        checking.check_space(composer, space, Path("s.yaml"), tmp_path)


def test_several_folds_need_rolling_splits(tmp_path: Path) -> None:
    space = load(tmp_path, base=[b for b in TINY["base"] if not b.startswith("split.")])
    with Composer(CONF_DIR) as composer, pytest.raises(SpaceError, match=r"folds \[0, 1\] are split.fold values of"):
        checking.check_space(composer, space, Path("s.yaml"), tmp_path)


def test_probes_try_every_option_and_both_ends_of_every_range(tmp_path: Path) -> None:
    probes = {o for p in checking.probes(load(tmp_path).dimensions) for o in p}
    assert {"features=none", "features=rolling", "features.windows=[5]", "features.windows=[5,15]"} <= probes
    assert {"model.variance=0.5", "model.variance=0.95", "model.n_estimators=10", "model.n_estimators=30"} <= probes
    assert {"smoothing.window=2", "smoothing.window=5", "model.max_samples=64", "model.max_samples=128"} <= probes


# -------------------------------------------------------------------------------------------- sampling


def test_conditional_dimensions_are_sampled_only_under_their_option(tmp_path: Path) -> None:
    space = load(tmp_path)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    seen_models = set()
    for _ in range(40):
        trial = study.ask()
        overrides = sample(trial, space.dimensions)
        keys = {o.split("=", 1)[0] for o in overrides}
        model = trial.params["model"]
        seen_models.add(model)
        assert ("model.variance" in keys) == (model == "pca")
        assert ("model.n_estimators" in keys) == (model == "isolation_forest")
        assert ("features.windows" in keys) == (trial.params["features"] == "rolling")
        assert ("smoothing.window" in keys) == (trial.params["smoothing.method"] == "max")
        assert all(" [" not in name or name.split(" [")[1].rstrip("]") in overrides for name in trial.params)
        study.tell(trial, 0.0)
    assert seen_models == {"pca", "isolation_forest"}


def test_a_fixed_trial_gives_its_overrides_in_order(tmp_path: Path) -> None:
    trial = FixedTrial(
        {
            "features": "rolling",
            "features.windows [features=rolling]": "[5,15]",
            "model": "isolation_forest",
            "model.n_estimators [model=isolation_forest]": 20,
            "model.max_samples [model=isolation_forest]": 100,
            "smoothing.method": "none",
        }
    )
    assert sample(trial, load(tmp_path).dimensions) == [
        "features=rolling",
        "features.windows=[5,15]",
        "model=isolation_forest",
        "model.n_estimators=20",
        "model.max_samples=100",
        "smoothing.method=none",
    ]


@pytest.mark.parametrize(
    "value", [None, True, False, 3, 0.001, 1e-05, "plain", "with space", "null", "it's", [5, 15], ["a", 1.5]]
)
def test_rendered_values_read_back_as_themselves(value: Any) -> None:
    parsed = OverridesParser.create().parse_override(f"key={render(value)}").value()
    assert parsed == value and type(parsed) is type(value)


# ------------------------------------------------------------------------------------------- objective


class GuardedMetrics(dict):
    """A metrics dict that fails the test if anything reads its test side."""

    def __getitem__(self, key: str) -> Any:
        if key.startswith("test"):
            raise AssertionError(f"the objective read '{key}'")
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            return default
        return self[key]


def metrics(val_pr_auc: float | None, val_cost: float, test_pr_auc: float, test_cost: float) -> tuple[dict, dict]:
    eval_m = {
        "val": {"pr_auc": val_pr_auc, "roc_auc": 0.9, "n_positive": 3 if val_pr_auc is not None else 0, "n_rows": 100},
        "test": {"pr_auc": test_pr_auc, "roc_auc": test_pr_auc},
    }
    cost_m = {"val_cost": val_cost, "test_cost": test_cost, "test_savings": -test_cost}
    return eval_m, cost_m


@pytest.mark.parametrize("objective", ["val_pr_auc", "val_cost"])
def test_the_objective_reads_validation_figures_only(objective: str) -> None:
    sane = metrics(0.25, 640.0, test_pr_auc=0.2, test_cost=700.0)
    absurd = metrics(0.25, 640.0, test_pr_auc=1e9, test_cost=-1e12)
    assert (
        validation_figure(objective, *sane)
        == validation_figure(objective, *absurd)
        == (0.25 if objective == "val_pr_auc" else 640.0)
    )
    guarded = (GuardedMetrics(sane[0]), GuardedMetrics(sane[1]))
    assert validation_figure(objective, *guarded) == validation_figure(objective, *sane)


def test_a_fold_without_validation_positives_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"validation PR-AUC is undefined: the validation split has 0 positive rows"):
        validation_figure("val_pr_auc", *metrics(None, 0.0, 0.5, 0.0))


def test_a_trial_is_the_mean_of_its_folds() -> None:
    assert aggregate([0.1, 0.2, 0.6]) == pytest.approx(0.3)


# --------------------------------------------------------------------------------------------- storage


def test_a_read_only_storage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    path.write_text("")
    path.chmod(0o444)
    with pytest.raises(StorageError, match=rf"search storage '{path}' is read-only; make it writable"):
        check_writable(path)


def test_a_storage_in_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        with pytest.raises(StorageError, match=rf"directory '{directory}' is read-only"):
            check_writable(directory / "new" / "s.log")
    finally:
        directory.chmod(0o755)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json at all\n", "line 1 is not JSON"),
        ('{"op_code": 0, "worker_id": "w"}\n{"op_code": 4\n', "line 2 is not JSON"),
        ('{"op_code": 0, "worker_id": "w"}\n{"op_code": 4}', "line 2 is cut short"),
        ('["a list"]\n', "line 1 has no op_code"),
        (b"\xff\xfe\n", "line 1 is not JSON"),
    ],
)
def test_a_corrupt_journal_is_refused(tmp_path: Path, text: str | bytes, problem: str) -> None:
    path = tmp_path / "s.log"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(StorageError, match=rf"search storage '{path}' is corrupt: {problem}.*; move it away"):
        check_journal(path)


def test_a_journal_that_does_not_replay_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    path.write_text('{"op_code": 4, "worker_id": "w"}\n')  # a trial of a study that was never created
    with pytest.raises(StorageError, match=r"is corrupt: Optuna cannot replay it"):
        open_storage(path)


def test_one_process_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    in_use = pytest.raises(StorageError, match=r"in use by another rarewatch-search process")
    with exclusive(path), in_use, exclusive(path):
        pass
    with exclusive(path):  # released
        pass


def test_an_interrupted_trial_is_failed_and_queued_once_more(tmp_path: Path) -> None:
    space = load(tmp_path)
    storage = open_storage(tmp_path / "s.log")
    study = open_study(storage, "tiny", space, "tiny.yaml")
    done = study.ask()
    sample(done, space.dimensions)
    study.tell(done, 0.5)
    killed = study.ask()  # a process that died here left it RUNNING
    sample(killed, space.dimensions)
    assert recover_interrupted(study) == [killed.number]
    retry = study.ask()
    sample(retry, space.dimensions)
    assert retry.params == study.trials[killed.number].params and retry.user_attrs["retry_of"] == killed.number
    assert recover_interrupted(study) == [retry.number]  # killed again: not queued a third time
    assert sampler_index(study.trials) == 2  # and the sampler moves on from the killed sample's seed (1)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL]
    assert [t.number for t in counted(study.trials)] == [0]
    assert study.user_attrs["interrupted_trials"] == [1, 2]


def run_fake_study(tmp_path: Path, file: str, kill_at: int | None, total: int = 6) -> list[dict[str, Any]]:
    """A study whose objective is a made-up function of the overrides; the process 'dies' (leaves the
    trial RUNNING) at trial `kill_at` and the study is resumed. Returns the counted trials' params."""
    space = load(tmp_path, sampler={"seed": 3, "startup_trials": 2})  # TPE from the third trial on
    storage = open_storage(tmp_path / file)
    open_study(storage, "tiny", space, "tiny.yaml")
    while len(counted(load_study(storage, "tiny", space).trials)) < total:
        study = load_study(storage, "tiny", space)
        trial = study.ask()
        overrides = sample(trial, space.dimensions)
        if trial.number == kill_at:
            recover_interrupted(load_study(storage, "tiny", space))  # what the next start-up does
            continue
        study.tell(trial, float(sum(map(ord, " ".join(overrides))) % 97))
    return [t.params for t in counted(load_study(storage, "tiny", space).trials)]


def test_a_killed_and_resumed_study_samples_what_an_unkilled_one_does(tmp_path: Path) -> None:
    unkilled = run_fake_study(tmp_path, "a.log", kill_at=None)
    assert run_fake_study(tmp_path, "b.log", kill_at=3) == unkilled
    assert run_fake_study(tmp_path, "c.log", kill_at=None) == unkilled  # and the same command repeats


# ------------------------------------------------------------------------------------- experiment file


def best_of(tmp_path: Path, overrides: list[str]) -> experiment.Best:
    return experiment.Best(
        study="tiny", space_file="tiny.yaml", objective="val_pr_auc", direction="maximize", value=0.3, trial=4,
        fold_values={"0": 0.2, "1": 0.4}, base=list(TINY["base"]), overrides=overrides, command="rarewatch-search x",
        counted=5,
    )  # fmt: skip


def test_the_experiment_file_composes_to_the_best_trials_config(tmp_path: Path) -> None:
    conf = conf_copy(tmp_path)
    overrides = ["features=rolling", "features.windows=[5,15]", "model=isolation_forest", "model.n_estimators=20"]
    best = best_of(tmp_path, [*overrides, "smoothing.method=max", "smoothing.window=4"])
    with Composer(conf) as composer:
        path = experiment.write(composer, best, "tiny_best", [0, 1])
        written = composer.compose(["+experiment=tiny_best"]).params
        expected = composer.compose([*best.base, *best.overrides, "split.fold=0"]).params
    assert written == expected
    assert typed(written, "tiny_best").model.n_estimators == 20
    text = path.read_text()
    assert text.startswith("# @package _global_\n")
    assert "  - override /model: isolation_forest\n  - override /features: rolling\n" in text
    assert "# Objective val_pr_auc (maximized): 0.3, the mean over split.fold 0, 1 (0.2, 0.4)." in text
    assert "dvc exp run -S '+experiment=tiny_best'" in text
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


# ----------------------------------------------------------------------------------------- the command


def prepared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A space, a conf/ copy and a storage holding one finished trial: `--trials 1` runs none, only writes."""
    monkeypatch.chdir(tmp_path)
    space_path = write_space(tmp_path)
    conf = conf_copy(tmp_path)
    storage_path = tmp_path / "study.log"
    space = load_space(space_path)
    study = open_study(open_storage(storage_path), "tiny", space, str(space_path))
    trial = study.ask()
    trial.set_user_attr("overrides", sample(trial, space.dimensions))
    trial.set_user_attr("fold_values", {"0": 0.2, "1": 0.4})
    study.tell(trial, 0.3)
    return space_path, conf, storage_path


def run_main(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(args)
        raise SystemExit(0)
    return int(exit_.value.code or 0)


def test_a_finished_study_writes_its_best(tmp_path, monkeypatch, capsys) -> None:
    space, conf, storage = prepared(tmp_path, monkeypatch)
    assert run_main([str(space), "--trials", "1", "--storage", str(storage), "--conf-dir", str(conf)]) == 0
    assert (conf / "experiment" / "tiny_best.yaml").is_file()
    out = capsys.readouterr().out
    assert "already has 1 finished trials" in out and "reproduce: dvc exp run -S '+experiment=tiny_best'" in out


@pytest.mark.parametrize("damage", ["read_only", "corrupt"])
def test_a_read_only_or_corrupt_storage_stops_with_one_line_and_writes_nothing(
    tmp_path, monkeypatch, capsys, damage: str
) -> None:
    space, conf, storage = prepared(tmp_path, monkeypatch)
    if damage == "read_only":
        storage.chmod(0o444)
    else:
        with storage.open("a") as f:
            f.write("}{ half a record\n")
    before = storage.read_bytes()
    assert run_main([str(space), "--trials", "3", "--storage", str(storage), "--conf-dir", str(conf)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rarewatch-search: error: search storage '{storage}' is ") and err.count("\n") == 1
    assert ("chmod u+w" in err) if damage == "read_only" else ("move it away" in err)
    assert not (conf / "experiment" / "tiny_best.yaml").exists()
    assert storage.read_bytes() == before


def test_a_changed_space_does_not_resume_the_study(tmp_path, monkeypatch, capsys) -> None:
    space, conf, storage = prepared(tmp_path, monkeypatch)
    write_space(tmp_path, space_dict(objective="val_cost"))
    before = storage.read_bytes()
    assert run_main([str(space), "--trials", "1", "--storage", str(storage), "--conf-dir", str(conf)]) == 2
    assert storage.read_bytes() == before
    assert "study 'tiny' was made from a different search space" in capsys.readouterr().err
    assert not (conf / "experiment" / "tiny_best.yaml").exists()


def test_a_bug_in_a_trial_stops_the_command_with_its_traceback(tmp_path, monkeypatch) -> None:
    space, conf, storage = prepared(tmp_path, monkeypatch)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug, not the data")

    monkeypatch.setattr("rarewatch.pipeline.inprocess.run_pipeline", broken)
    with pytest.raises(KeyError, match="a bug, not the data"):
        main([str(space), "--trials", "2", "--storage", str(storage), "--conf-dir", str(conf)])
    study = optuna.load_study(study_name="tiny", storage=open_storage(storage))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert "KeyError" in study.trials[1].user_attrs["stopped_by"] and len(counted(study.trials)) == 1
    assert not (conf / "experiment" / "tiny_best.yaml").exists()


def test_ctrl_c_records_the_trial_and_queues_its_sample_for_the_resumed_study(tmp_path, monkeypatch, capsys) -> None:
    space, conf, storage = prepared(tmp_path, monkeypatch)

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rarewatch.pipeline.inprocess.run_pipeline", interrupted)
    assert run_main([str(space), "--trials", "2", "--storage", str(storage), "--conf-dir", str(conf)]) == 130
    assert "interrupted; rerun the same command to resume the study" in capsys.readouterr().err
    study = optuna.load_study(study_name="tiny", storage=open_storage(storage))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    retry = study.ask()  # what the resumed study asks first
    sample(retry, load_space(space).dimensions)
    assert retry.number == 2 and retry.user_attrs == {"retry_of": 1} and retry.params == study.trials[1].params
    assert not (conf / "experiment" / "tiny_best.yaml").exists()


def test_a_data_failure_is_recorded_and_the_study_goes_on(tmp_path, monkeypatch, capsys) -> None:
    space, conf, storage = prepared(tmp_path, monkeypatch)

    def no_positives(*args: Any, **kwargs: Any) -> None:
        raise DataError("the training split has no positive rows")

    monkeypatch.setattr("rarewatch.pipeline.inprocess.run_pipeline", no_positives)
    assert run_main([str(space), "--trials", "3", "--storage", str(storage), "--conf-dir", str(conf)]) == 0
    study = optuna.load_study(study_name="tiny", storage=open_storage(storage))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL]
    assert study.trials[1].user_attrs["error"] == "fold 0: the training split has no positive rows"
    assert "FAILED on the data: fold 0: the training split has no positive rows" in capsys.readouterr().out
    assert (conf / "experiment" / "tiny_best.yaml").is_file()  # the one trial with a value


def test_the_lift_objective_divides_by_the_validation_no_skill_rate():
    from rarewatch.search.objective import validation_figure

    eval_m = {"val": {"pr_auc": 0.06, "pr_auc_no_skill": 0.015, "n_positive": 30, "n_rows": 2000},
              "test": {"pr_auc": 0.99, "pr_auc_no_skill": 0.5}}  # fmt: skip
    assert validation_figure("val_pr_lift", eval_m, {"val_cost": 1.0, "test_cost": -1e9}) == pytest.approx(4.0)
