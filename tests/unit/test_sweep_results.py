"""The sweep's job records, ranking and table, on hand-made records (no sweep is run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rarewatch.sweep_results import (
    Flag,
    JobResult,
    StrategyFigures,
    build_table,
    degenerate_flags,
    finished_figures,
    override_columns,
    parse_override,
    rank,
    read_results,
    short_names,
    shorten,
    shorten_column,
    table_text,
    write_result,
)

LONG_PATH = "/srv/plant/exports/2024/line-3/sheet_breaks_cleaned.csv"


def job(num: int, overrides: list[str], **fields: Any) -> JobResult:
    """A finished job with plain figures; `fields` override any of them."""
    base: dict[str, Any] = {
        "sweep_id": "s1",
        "num": num,
        "overrides": overrides,
        "status": "finished",
        "val_cost": 1000.0 + num,
        "test_cost": 1500.0,
        "test_roc_auc": 0.9,
        "test_pr_auc": 0.25,
        "strategies": {
            "percentile": StrategyFigures(threshold=0.1, f1=0.2, recall=0.9),
            "max_f1": StrategyFigures(threshold=0.3, f1=0.5, recall=0.4),
            "min_cost": StrategyFigures(threshold=0.2, f1=0.4, recall=0.6),
        },
        "model_reused": False,
        "train_seconds": 12.3,
    }
    return JobResult(**{**base, **fields})


# ------------------------------------------------------------------------------------------ overrides


def test_parse_override_drops_hydra_prefixes():
    assert parse_override("model.hidden_dims=[8,4,8]") == ("model.hidden_dims", "[8,4,8]")
    assert parse_override("+experiment=kdd_ae") == ("experiment", "kdd_ae")
    assert parse_override("++seed=3") == ("seed", "3")
    assert parse_override("~data.path") == ("data.path", "(deleted)")
    assert parse_override("data.path=a=b.csv") == ("data.path", "a=b.csv")  # only the first '=' splits


def test_only_overrides_that_differ_are_columns():
    jobs = [
        job(0, ["model.hidden_dims=[8,4,8]", "threshold.percentile=90", f"data.path={LONG_PATH}"]),
        job(1, ["model.hidden_dims=[8,4,8]", "threshold.percentile=99", f"data.path={LONG_PATH}"]),
        job(2, ["model.hidden_dims=[16,8,16]", "threshold.percentile=90", f"data.path={LONG_PATH}", "seed=3"]),
    ]
    differing, common = override_columns(jobs)
    assert differing == ["model.hidden_dims", "threshold.percentile", "seed"]  # seed: set by one job only
    assert common == {"data.path": LONG_PATH}


def test_short_names_are_the_last_key_part_unless_ambiguous():
    assert short_names(["model.hidden_dims", "threshold.percentile"]) == {
        "model.hidden_dims": "hidden_dims",
        "threshold.percentile": "percentile",
    }
    assert short_names(["seed", "data.synthetic.seed", "model.seed"]) == {
        "seed": "seed",
        "data.synthetic.seed": "synthetic.seed",
        "model.seed": "model.seed",
    }


def test_shorten_values():
    assert shorten(LONG_PATH) == "sheet_breaks_cleaned.csv"  # a path: its file name
    assert shorten(LONG_PATH, path_parts=2) == "line-3/sheet_breaks_cleaned.csv"
    assert shorten("[8,4,8]") == "[8,4,8]"  # short: as it is
    assert shorten("[512,256,128,64,32,16,32,64,128,256,512]") == "[512,256,…,512]"
    long_text = "a_very_long_value_without_any_structure_at_all"
    short = shorten(long_text)
    assert len(short) <= 24 and short.startswith("a_very") and short.endswith("at_all") and "…" in short


def test_shortened_column_values_stay_distinct():
    a, b = "/data/site_a/plant.csv", "/data/site_b/plant.csv"
    assert shorten_column([a, b, a]) == ["site_a/plant.csv", "site_b/plant.csv", "site_a/plant.csv"]
    assert shorten_column([LONG_PATH, None]) == ["sheet_breaks_cleaned.csv", "(default)"]
    # Two long values that would elide to the same text are shown in full.
    x, y = "x" * 20 + "1" + "z" * 20, "x" * 20 + "2" + "z" * 20
    assert shorten_column([x, y]) == [x, y]


# -------------------------------------------------------------------------------------------- ranking


def test_rank_puts_degenerate_results_after_the_others_and_unfinished_jobs_last():
    flag = [Flag(code="no_positives_val", message="val has no positives")]
    jobs = [
        job(0, [], val_cost=500.0, degenerate=flag),  # the cheapest, but degenerate
        job(1, [], val_cost=900.0),
        job(2, [], status="failed", val_cost=None, error="boom"),
        job(3, [], val_cost=700.0),
        job(4, [], val_cost=600.0, degenerate=flag),
        job(5, [], val_cost=700.0),  # a tie with job 3: the lower job number first
    ]
    assert [r.num for r in rank(jobs)] == [3, 5, 1, 0, 4, 2]


# -------------------------------------------------------------------------------------------- the table


def test_table_shows_differing_overrides_per_strategy_figures_and_reuse():
    jobs = [
        job(0, ["model.hidden_dims=[8,4,8]", "threshold.percentile=90", f"data.path={LONG_PATH}"], val_cost=1200.0),
        job(
            1,
            ["model.hidden_dims=[8,4,8]", "threshold.percentile=99", f"data.path={LONG_PATH}"],
            val_cost=1100.0,
            model_reused=True,
            train_seconds=None,
            strategies={"percentile": StrategyFigures(threshold=0.5, f1=0.31, recall=0.25)},
        ),
    ]
    table = build_table(jobs, "Sweep multirun/x")
    assert table.headers == [
        "job",
        "percentile",
        "val cost",
        "test cost",
        "ROC-AUC",
        "PR-AUC",
        "percentile\nF1",
        "percentile\nrecall",
        "max_f1\nF1",
        "max_f1\nrecall",
        "min_cost\nF1",
        "min_cost\nrecall",
        "model",
        "train s",
        "degenerate",
    ]
    reused, trained = table.rows  # ranked by validation cost
    assert reused[:8] == ["1", "99", "1,100", "1,500", "0.900", "0.250", "0.310", "0.250"]
    assert reused[8:10] == ["", ""]  # a strategy this job did not use
    assert reused[-3:] == ["reused", "", ""]  # reused: no training time of its own
    assert trained[6:8] == ["0.200", "0.900"] and trained[-3:] == ["trained", "12", ""]
    assert "every job: model.hidden_dims=[8,4,8] data.path=sheet_breaks_cleaned.csv" in table.notes
    assert table.title == "Sweep multirun/x: 2 jobs, 2 finished; ranked by validation cost"

    text = table_text(table)
    assert LONG_PATH not in text
    body = [line for line in text.splitlines() if line.lstrip().startswith(("0 ", "1 "))]
    assert len(body) == 2  # one line per job


def test_table_lists_failed_jobs_with_their_error_and_marks_degenerate_ones():
    jobs = [
        job(0, ["split.gap_rows=10", "seed=1"], val_cost=800.0),
        job(1, ["split.gap_rows=3000", "seed=1"], status="failed", val_cost=None, error="3926 rows are too few"),
        job(
            2,
            ["split.gap_rows=20", "seed=2"],
            val_cost=100.0,
            degenerate=[Flag(code="constant_scores", message="every score is the same")],
        ),
    ]
    table = build_table(jobs, "Sweep s")
    assert [row[0] for row in table.rows] == ["0", "2", "1"]
    assert table.rows[1][-1] == "constant_scores"
    assert table.rows[2][1:3] == ["3000", "1"] and table.rows[2][-3:] == ["failed", "", ""]
    assert table.title == "Sweep s: 3 jobs, 2 finished, 1 failed; ranked by validation cost, degenerate results last"
    assert "job 1 failed: 3926 rows are too few" in table.notes
    assert "degenerate constant_scores: every score is the same" in table.notes
    assert "job 1 failed: 3926 rows are too few" in table_text(table)


def test_a_single_run_has_no_override_columns():
    table = build_table([job(0, ["model.max_epochs=2"])], "Run outputs/x")
    assert table.title == "Run outputs/x: 1 job, 1 finished"
    assert table.headers[:2] == ["job", "val cost"]
    assert "every job: model.max_epochs=2" in table.notes


# ------------------------------------------------------------------------------------------ the records


def eval_metrics(**extra: Any) -> dict[str, Any]:
    return {
        "val": {"roc_auc": 0.8, "pr_auc": 0.2},
        "test": {"roc_auc": 0.85, "pr_auc": 0.3},
        "thresholds": {
            "percentile": {"value": 0.4, "test": {"f1": 0.1, "recall": 0.8, "precision": 0.05}},
            "min_cost": {
                "value": 0.6,
                "test": {"f1": 0.3, "recall": 0.5, "precision": 0.2, "early_warning": {"event_recall": 0.75}},
            },
            "max_f1": {"value": None, "val": None, "test": None},  # skipped: no positives
        },
        **extra,
    }


COST = {"val_cost": 100.0, "test_cost": 120.0, "test_savings": 30.0, "best_threshold": 0.6}


def test_finished_figures_read_every_strategy_and_no_train_time_for_a_reused_model():
    figures = finished_figures(eval_metrics(), COST, {"train_seconds": 4.2}, data_reused=True, model_reused=True)
    assert figures["strategies"]["percentile"] == StrategyFigures(threshold=0.4, f1=0.1, recall=0.8, precision=0.05)
    assert figures["strategies"]["min_cost"].event_recall == 0.75
    assert figures["strategies"]["max_f1"] == StrategyFigures(threshold=None)
    assert figures["train_seconds"] is None and figures["degenerate"] == []
    trained = finished_figures(eval_metrics(), COST, {"train_seconds": 4.2}, data_reused=True, model_reused=False)
    assert trained["train_seconds"] == 4.2


def test_degenerate_flags_from_either_file_missing_means_none():
    flag = {"code": "no_positives_test", "message": "test has no positives"}
    other = {"code": "no_alarm_cheapest", "message": "raising no alarm is cheapest"}
    assert degenerate_flags(eval_metrics(), COST) == []  # today's files: no key
    assert degenerate_flags(eval_metrics(degenerate=[]), {**COST, "degenerate": []}) == []
    flags = degenerate_flags(eval_metrics(degenerate=[flag]), {**COST, "degenerate": [other, flag]})
    assert [f.code for f in flags] == ["no_positives_test", "no_alarm_cheapest"]


def test_a_malformed_degenerate_entry_names_the_file():
    with pytest.raises(ValueError, match=r"metrics/cost.json: 'degenerate' must be a list of"):
        degenerate_flags(eval_metrics(), {**COST, "degenerate": ["no_positives"]})


def test_records_round_trip_and_a_sweep_reads_only_its_own(tmp_path: Path):
    mine = job(0, ["seed=1"])
    write_result(tmp_path / "0", mine)
    write_result(tmp_path / "1", job(1, ["seed=2"], sweep_id="another sweep"))
    write_result(tmp_path / "2", job(2, ["seed=3"], status="running", val_cost=None))
    found = read_results(tmp_path, "s1")
    assert list(found) == [tmp_path / "0", tmp_path / "2"]
    assert found[tmp_path / "0"] == mine
    assert not list(tmp_path.glob("*/.result.json.*"))  # no temporary file left behind


def test_folds_are_aggregated_per_configuration():
    from rarewatch.sweep_results import aggregate_table

    results = [
        job(0, ["model=pca", "split.fold=0"], test_roc_auc=0.6, test_pr_auc=0.02, test_pr_auc_no_skill=0.01,
            test_cost=100.0, test_savings=5.0),
        job(1, ["model=pca", "split.fold=1"], test_roc_auc=0.8, test_pr_auc=0.04, test_pr_auc_no_skill=0.01,
            test_cost=300.0, test_savings=-5.0),
        job(2, ["model=ecod", "split.fold=0"], test_roc_auc=0.5, test_pr_auc=0.01, test_pr_auc_no_skill=0.01,
            test_cost=200.0, test_savings=0.0),
    ]  # fmt: skip
    table = aggregate_table(results, "Sweep x")
    assert table is not None and table.headers[0] == "model"
    pca = next(row for row in table.rows if row[0] == "pca")
    # ROC-AUC 0.6 and 0.8: mean 0.7, sample std sqrt(((0.1)^2 + (0.1)^2) / 1) = 0.141
    assert pca[1:] == ["2", "0.700 ± 0.141", "0.0300 ± 0.0141", "3.00 ± 1.41", "200 ± 141", "1/2"]
    assert table.rows[0][0] == "pca"  # best mean ROC-AUC first
    assert aggregate_table([job(4, ["model=pca"]), job(5, ["model=ecod"])], "Sweep y") is None  # nothing repeated
