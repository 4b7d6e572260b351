"""Comparing experiments the way DVC users do: exp show, metrics diff and plots diff between experiments,
and a temporary-copy experiment running its own snapshot of the code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import BIN, REPO, sh

pytestmark = pytest.mark.slow

SMALL = ["-S", "data.synthetic.n_rows=4000"]
FAST = [*SMALL, "-S", "model.max_epochs=3"]


def _exp_metrics(repo: Path) -> dict[str, dict]:
    """Experiment name -> its metrics/summary.json, from `dvc exp show --json`."""
    rows = json.loads(sh(["dvc", "exp", "show", "--json"], repo).stdout)
    out = {}
    for row in rows:
        for exp in row.get("experiments") or []:
            for rev in exp.get("revs") or []:
                data = rev.get("data") or {}
                out[data.get("name") or rev.get("name")] = (data.get("metrics") or {}).get("metrics/summary.json", {})
    return out


def test_two_experiments_compare_in_exp_show_metrics_diff_and_plots_diff(repo_copy: Path, tmp_path: Path) -> None:
    # The baseline itself small, so that the experiments differ from it only where a user's would.
    data_conf = repo_copy / "conf/data/synthetic.yaml"
    data_conf.write_text(data_conf.read_text().replace("n_rows: 20000", "n_rows: 4000"))
    sh([str(BIN / "python"), "-m", "rarewatch.composition"], repo_copy, env={"PYTHONPATH": "src"})  # the copy's conf/
    sh(["git", "commit", "-qam", "small data"], repo_copy)
    env_uri = f"sqlite:///{repo_copy / 'mlflow.db'}"
    sh(
        ["dvc", "exp", "run", "-n", "p99", "-S", "model.max_epochs=3", "-S", "threshold.percentile=99"],
        repo_copy,
        env={"MLFLOW_TRACKING_URI": env_uri},
    )
    sh(["dvc", "exp", "run", "-n", "pca", "-S", "model=pca"], repo_copy, env={"MLFLOW_TRACKING_URI": env_uri})
    metrics = _exp_metrics(repo_copy)
    for name in ("p99", "pca"):
        assert {"roc_auc", "pr_auc", "cost", "savings", "event_recall"} <= set(metrics[name].get("data", {})), name
    assert metrics["p99"]["data"]["roc_auc"] != metrics["pca"]["data"]["roc_auc"]

    # The README's comparison: the headline figures and what differs, in 120 columns, nothing collapsed.
    shown = sh(["make", "-s", "exps", f"BIN={BIN}"], repo_copy, env={"COLUMNS": "120"})
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120 and "…" not in shown.stdout, shown.stdout
    assert lines[1].split()[1:7] == ["roc_auc", "pr_auc", "val_cost", "cost", "false_alarms_day", "model.name"]
    assert any("[pca]" in line and " pca " in line for line in lines), shown.stdout

    diff = sh(["dvc", "metrics", "diff", "p99", "pca", "--json"], repo_copy)
    assert "metrics/summary.json" in json.loads(diff.stdout)
    # The offline HTML template (make setup builds it; git ignores it) so the page needs no CDN.
    template = REPO / ".dvc/plots/offline_template.html"
    (repo_copy / ".dvc/plots").mkdir(parents=True, exist_ok=True)
    shutil.copy(template, repo_copy / ".dvc/plots/offline_template.html")
    plots = sh(["dvc", "plots", "diff", "p99", "pca", "-o", str(tmp_path / "plots")], repo_copy)
    assert (tmp_path / "plots" / "index.html").is_file(), plots.stdout


def test_a_queued_experiment_runs_its_own_snapshot_and_logs_to_the_workspace_store(repo_copy: Path) -> None:
    """`dvc exp run --queue` (and --temp) run in a copy of the repository: the stages must import the code
    queued with the experiment, not the workspace's (nor the editable install), and the MLflow run must
    land in the workspace's mlflow.db (DVC_ROOT), not in the copy DVC deletes afterwards."""
    from mlflow import MlflowClient

    summary = repo_copy / "src/rarewatch/stages/summary.py"
    original = summary.read_text()
    summary.write_text(
        original.replace('"degenerate": len(flags),', '"degenerate": len(flags),\n        "snapshot": 1,')
    )
    sh(["dvc", "exp", "run", "--queue", "-n", "snap", *FAST], repo_copy)
    summary.write_text(original)  # the workspace moves on before the queued experiment runs
    sh(["dvc", "exp", "run", "--run-all"], repo_copy)
    assert _exp_metrics(repo_copy)["snap"]["data"].get("snapshot") == 1
    client = MlflowClient(f"sqlite:///{repo_copy / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("rarewatch").experiment_id])
    assert [r.info.run_name for r in runs] == ["dense_ae · synthetic · snap"]
    assert runs[0].data.tags["rarewatch.record"] == "complete"
