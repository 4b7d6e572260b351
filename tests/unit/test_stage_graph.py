"""dvc.yaml is generated from the stage graph and cannot drift from the code.

- the committed dvc.yaml is what the spec generates;
- every file a stage's module can import is one of its deps (the closure, checked on a fake package);
- outs are the paths in rarewatch.paths;
- a stage that reads a config key its spec does not declare fails (ConfigView);
- the sweep's cache keys hash the declared params, not a copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rarewatch.config import load_config
from rarewatch.paths import Paths
from rarewatch.pipeline import closure, dvcfile, inprocess, spec

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO / "src" / "rarewatch"


def test_committed_dvc_yaml_is_generated_from_the_spec():
    # Fails after a change to the spec or to any stage's imports without `make dvc.yaml`.
    assert (REPO / "dvc.yaml").read_text() == dvcfile.render()


def test_every_stage_of_the_spec_is_in_dvc_yaml_with_its_module():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert list(stages) == [s.name for s in spec.STAGES]
    for s in spec.STAGES:
        assert stages[s.name]["cmd"] == f"PYTHONPATH=src python -m rarewatch.stages.{s.name}"
        assert (PACKAGE_DIR / "stages" / f"{s.name}.py").is_file()


def test_deps_cover_the_import_closure_of_each_stage():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for s in spec.STAGES:
        deps = set(stages[s.name]["deps"])
        needed = {f.relative_to(REPO).as_posix() for f in closure.closure([s.module])}
        assert needed - deps == set(), f"{s.name} misses deps"
    # Spot checks of what the closure must find (the misses the hand-written dvc.yaml once had).
    evaluate = set(stages["evaluate"]["deps"])
    for rel in (
        "models/encoded.py",
        "data/encoding.py",
        "data/windows.py",
        "data/schema.py",
        "models/sequence.py",
        "models/families/lstm_ae.py",
        "models/lightning_modules.py",
    ):
        assert f"src/rarewatch/{rel}" in evaluate, rel
    # Scoring reads a saved model without the train stage and its MLflow recording.
    assert not {"src/rarewatch/stages/train.py", "src/rarewatch/tracking.py"} & evaluate
    assert "src/rarewatch/evaluation/metrics.py" in stages["cost"]["deps"]
    # ...and what it must not: stages that never read the model do not depend on any family.
    for name in ("ingest", "preprocess", "label_shift", "split", "cost"):
        assert not any("models/families/" in d and not d.endswith("__init__.py") for d in stages[name]["deps"]), name


def test_outs_are_the_paths_of_rarewatch_paths():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    p = Paths(Path(""))
    outs = {name: set(entry.get("outs", [])) for name, entry in stages.items()}
    metrics = {name: {next(iter(m)) for m in entry.get("metrics", [])} for name, entry in stages.items()}
    assert outs["validate"] == {p.validated.as_posix()}
    assert outs["ingest"] == {p.raw.parent.as_posix()}
    assert outs["split"] == {p.split("train").parent.as_posix()}
    assert outs["train"] == {p.model_dir.as_posix(), p.train_metrics.as_posix(), p.timings.as_posix()}
    assert outs["evaluate"] == {p.scores("val").parent.as_posix(), p.eval_plots.as_posix(), p.eval_metrics.as_posix()}
    assert outs["cost"] == {p.cost_plots.as_posix(), p.cost_metrics.as_posix()}
    # The one file DVC compares across experiments: small, git-tracked (cache: false).
    assert [name for name, m in metrics.items() if m] == ["summary"] and metrics["summary"] == {p.summary.as_posix()}
    # Each stage's data deps are outputs of stages before it.
    produced: set[str] = set()
    for s in spec.STAGES:
        data_deps = {d for d in stages[s.name]["deps"] if not d.startswith("src/")}
        assert data_deps <= produced, f"{s.name} reads {data_deps - produced} before any stage writes it"
        produced |= outs[s.name] | metrics[s.name]


def test_no_module_imports_by_name_without_declaring_it():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if closure.uses_importlib(path):
            assert closure.declares_dynamic_imports(path), f"{path} uses importlib without __dynamic_imports__"


def _write(root: Path, rel: str, text: str = "") -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def test_closure_follows_every_kind_of_import(tmp_path, monkeypatch):
    monkeypatch.setattr(closure, "PACKAGE", "pkg")
    _write(tmp_path, "pkg/__init__.py")
    _write(tmp_path, "pkg/sub/__init__.py", "from . import helper\n")
    _write(tmp_path, "pkg/sub/helper.py")
    _write(tmp_path, "pkg/lazy.py")
    _write(tmp_path, "pkg/typing_only.py")
    _write(tmp_path, "pkg/plugins/__init__.py")
    _write(tmp_path, "pkg/plugins/one.py", "from pkg import deep\n")
    _write(tmp_path, "pkg/deep.py")
    _write(tmp_path, "pkg/unused.py")
    _write(tmp_path, "pkg/registry.py", '__dynamic_imports__ = ("pkg.plugins",)\nimport importlib\n')
    _write(
        tmp_path,
        "pkg/main.py",
        "import os\nfrom typing import TYPE_CHECKING\nfrom pkg.sub import helper\nfrom .registry import x\n"
        "if TYPE_CHECKING:\n    import pkg.typing_only\n"
        "def f():\n    from pkg import lazy\n",
    )
    found = {p.relative_to(tmp_path).as_posix() for p in closure.closure(["pkg.main"], root=tmp_path)}
    assert found == {
        "pkg/__init__.py", "pkg/main.py", "pkg/sub/__init__.py", "pkg/sub/helper.py", "pkg/registry.py",
        "pkg/typing_only.py", "pkg/lazy.py", "pkg/plugins/__init__.py", "pkg/plugins/one.py", "pkg/deep.py",
    }  # fmt: skip


def test_a_stage_reading_an_undeclared_key_fails(small_config):
    cfg = small_config()
    seen = spec.view(cfg, spec.stage("cost"))
    assert seen.cost.fp == cfg.cost.fp  # a declared section: the real object
    with pytest.raises(spec.UndeclaredParamError, match=r"stage 'cost' reads config key 'model'.*make dvc.yaml"):
        _ = seen.model
    partial = spec.view(cfg, spec.stage("split")).data  # only data.time_unit is declared
    assert partial.time_unit == cfg.data.time_unit
    with pytest.raises(spec.UndeclaredParamError, match="'data.path'"):
        _ = partial.path


def test_sweep_cache_keys_follow_the_declared_params(small_config):
    cfg = small_config()
    inputs = {"files": []}
    base = (inprocess.data_key(cfg, "code", inputs), inprocess.model_key(cfg, "code", "model code", inputs))

    def keys(**changes):
        c = small_config(**changes)
        return inprocess.data_key(c, "code", inputs), inprocess.model_key(c, "code", "model code", inputs)

    assert keys(cost__fp=99.0) == base  # evaluate/cost params: neither key moves
    assert keys(trainer__progress_bar=True) == base  # untracked: cannot change a result
    data, model = keys(trainer__num_threads=2)  # a train param the hand-kept list once missed
    assert data == base[0] and model != base[1]
    data, model = keys(label_shift__horizon=3)
    assert data != base[0] and model != base[1]
    assert inprocess.data_key(cfg, "code", {"files": [{"sha256": "x"}]}) != base[0]  # new file contents
    assert inprocess.model_key(cfg, "code", "edited model code", inputs) != base[1]


def test_cache_keys_hash_only_the_code_a_stage_can_import():
    data_code = inprocess.code_digest(spec.DATA_STAGES)
    assert data_code == inprocess.code_digest(spec.DATA_STAGES)
    assert data_code != inprocess.code_digest((spec.MODEL_STAGE,))
    # the sweep and the search are not imported by any stage: editing them keeps every cached model
    files = closure.closure([spec.stage(name).module for name in (*spec.DATA_STAGES, spec.MODEL_STAGE)])
    assert not any(f.name in ("sweep.py", "cli.py") for f in files)
    declared = set(spec.stage("train").params)
    assert "trainer.num_threads" in declared and "trainer.progress_bar" not in declared


def test_every_declared_param_exists_in_the_config():
    c = load_config(REPO / "params.yaml").model_dump()
    for s in spec.STAGES:
        spec.param_values(c, s.params + s.untracked)  # KeyError on a typo


def _md5(path: Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes()).hexdigest()


def test_committed_dvc_lock_matches_the_code():
    """dvc.lock was written by a `dvc repro` of this very code: every source dep's hash is current.

    (The full check, that a fresh `dvc repro` reproduces every output hash, is `make reproduce`, run
    by CI, and the dvc integration test.)
    """
    lock = yaml.safe_load((REPO / "dvc.lock").read_text())["stages"]
    declared = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert set(lock) == set(declared), "dvc.lock has other stages than dvc.yaml: run `dvc repro`"
    stale = []
    for name, entry in lock.items():
        assert {d["path"] for d in entry["deps"]} == set(declared[name]["deps"]), f"{name}: deps changed"
        stale += [f"{name}: {d['path']}" for d in entry["deps"] if d["path"].startswith("src/")
                  and _md5(REPO / d["path"]) != d["md5"]]  # fmt: skip
    assert stale == [], "dvc.lock predates these code changes; run `dvc repro` and commit dvc.lock"
