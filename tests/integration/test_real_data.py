"""The real data sets, read from the data directory (RAREWATCH_DATA; never copied into the repository),
through ingest -> preprocess -> label_shift -> split with each experiment's config, checked against the
facts their publishers give (docs/datasets.md). A data set that is not in the data directory is skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rarewatch.composition import compose
from rarewatch.config import Config, config_from_dict, data_dir, with_absolute_data_paths
from rarewatch.data.schema import GROUP, LABEL, TIME, feature_columns
from rarewatch.paths import Paths
from rarewatch.stages import features, ingest, label_shift, preprocess, split
from rarewatch.stages.runner import run_stage

REPO = Path(__file__).resolve().parents[2]


def experiment(name: str, *overrides: str) -> Config:
    cfg = config_from_dict(compose([f"+experiment={name}", *overrides]), source=f"+experiment={name}")
    return with_absolute_data_paths(cfg, REPO)  # relative data paths are relative to the project


def staged(cfg: Config) -> Config:
    missing = [
        p
        for p in (cfg.data.path, cfg.data.companion_path, cfg.data.test_path)
        if p is not None and not Path(p).is_file()
    ]
    if missing:
        pytest.skip(f"{cfg.data.name}: {missing[0]} is not in the data directory {data_dir(REPO)} (RAREWATCH_DATA)")
    return cfg


def run_stages(cfg: Config, root: Path) -> dict[str, pd.DataFrame]:
    paths = Paths(root)
    for stage in (ingest, preprocess, label_shift, features, split):
        run_stage(stage.__name__.rsplit(".", 1)[1], stage.execute, cfg, paths)
    frames = {"raw": paths.raw, "interim": paths.interim, "processed": paths.processed}
    out = {name: pd.read_parquet(path) for name, path in frames.items()}
    out.update({name: pd.read_parquet(paths.split(name)) for name in ("train", "val", "test")})
    out["report"] = json.loads((paths.interim.parent / "report.json").read_text())
    return out


def assert_time_split(d: dict[str, pd.DataFrame], gap: int) -> None:
    for name in ("train", "val", "test"):
        assert d[name][TIME].is_monotonic_increasing, name
    assert d["train"][TIME].max() <= d["val"][TIME].min() <= d["val"][TIME].max() <= d["test"][TIME].min()
    assert len(d["train"]) + len(d["val"]) + len(d["test"]) == len(d["processed"]) - 2 * gap


def test_paper_mill(tmp_path):
    cfg = staged(experiment("paper_mill_ae"))
    d = run_stages(cfg, tmp_path)
    raw, interim, processed = d["raw"], d["interim"], d["processed"]
    assert raw.shape == (18398, 63) and raw[LABEL].sum() == 124  # time, label, x1..x61
    assert raw[TIME].min() == pd.Timestamp("1999-05-01 00:00") and raw[TIME].max() == pd.Timestamp("1999-05-29 00:06")
    assert len(interim) == 18398 and d["report"]["columns_dropped"] == {}
    assert sorted(set(raw["x28"])) == sorted(["51", "82", "84", "93", "96", "112", "118", "139"])
    # H=2: the 124 single-row breaks are dropped and the 2 rows before each become positive.
    assert len(processed) == 18398 - 124
    # 2 x 124 - 1: two breaks are 2 rows apart, so one of the rows before the second is the first break.
    assert processed[LABEL].sum() == 247
    assert_time_split(d, cfg.split.gap_rows)
    assert all(d[s][LABEL].sum() > 0 for s in ("train", "val", "test"))


def test_secom(tmp_path):
    cfg = staged(experiment("secom_ae"))
    d = run_stages(cfg, tmp_path)
    raw = d["raw"]
    assert len(raw) == 1567 and raw[LABEL].sum() == 104  # -1 pass 1463 / 1 fail 104
    assert "is_fail" not in raw.columns  # the label as a bool: leakage
    assert len(feature_columns(d["interim"])) == 351 and d["report"]["duplicates_dropped"] == 0
    assert raw[TIME].min() == pd.Timestamp("2008-07-19 11:55") and raw[TIME].max() == pd.Timestamp("2008-10-17 06:07")
    assert len(d["processed"]) == 1567  # H=0: one row per wafer, nothing shifted
    assert_time_split(d, cfg.split.gap_rows)
    assert all(d[s][LABEL].sum() > 0 for s in ("train", "val", "test"))


def test_ton_iot_fridge(tmp_path):
    cfg = staged(experiment("fridge_dense_ae"))
    d = run_stages(cfg, tmp_path)
    raw, interim = d["raw"], d["interim"]
    assert len(raw) == 59944 and raw[LABEL].sum() == 24944
    assert feature_columns(raw) == ["fridge_temperature", "temp_condition"]  # no date/time/type leak
    assert sorted(set(raw["temp_condition"])) == ["high", "low"]
    assert (raw["temp_condition"] == "high").sum() == 33560
    assert d["report"]["duplicates_dropped"] == 8901 and len(interim) == 51043
    assert interim[TIME].is_monotonic_increasing
    assert interim[TIME].min() >= pd.Timestamp("2019-03-31") and interim[TIME].max() < pd.Timestamp("2019-04-30")
    assert set(interim[GROUP]) == {"normal", "ddos", "backdoor", "injection", "password", "ransomware", "xss"}
    assert_time_split(d, cfg.split.gap_rows)
    # Every normal row precedes every attack in this subset: see conf/experiment/fridge_dense_ae.yaml.
    assert d["train"][LABEL].sum() == 0
    assert set(d["val"][LABEL]) == {0, 1}
    assert d["test"][LABEL].all()


def test_kddcup99(tmp_path):  # 805k rows in, about 6 s
    cfg = staged(experiment("kdd_ae"))
    d = run_stages(cfg, tmp_path)
    raw, interim = d["raw"], d["interim"]
    assert len(raw) == 494021 + 311029 and raw[LABEL].sum() == (494021 - 97278) + (311029 - 60593)
    assert ((raw[GROUP] == "normal.") == (raw[LABEL] == 0)).all()
    assert len(feature_columns(raw)) == 41 and "label" not in raw.columns[2:]
    assert d["report"]["columns_dropped"] == {"num_outbound_cmds": "constant"}
    assert len(interim) == 145586 + 77291
    train, val, test = d["train"], d["val"], d["test"]
    # train + val: the deduplicated 10 % file (normal 87832, attack 57754), stratified at 3:1.
    assert len(train) + len(val) == 145586 and train[LABEL].sum() + val[LABEL].sum() == 57754
    assert abs(len(train) / 145586 - 0.75) < 0.001
    # test: the deduplicated corrected file (normal 47913, attack 29378), with attack types unseen in training.
    assert len(test) == 77291 and test[LABEL].sum() == 29378
    unseen = set(test[GROUP]) - set(train[GROUP]) - set(val[GROUP])
    assert {"mscan.", "apache2.", "snmpgetattack.", "mailbomb."} <= unseen


def test_secom_uci(tmp_path):
    cfg = staged(experiment("secom_ae", "data=secom_uci", "preprocess.max_missing_fraction=0.5"))
    d = run_stages(cfg, tmp_path)
    raw = d["raw"]
    assert len(raw) == 1567 and raw[LABEL].sum() == 104 and len(feature_columns(raw)) == 590
    clean = pd.read_parquet(data_dir(REPO) / "secom/secom_clean.parquet")
    assert (raw[TIME].to_numpy() == clean["timestamp"].to_numpy()).all()
    assert raw["sensor_0"].iloc[0] == pytest.approx(3030.93)
    assert_time_split(d, cfg.split.gap_rows)


def test_creditcard(tmp_path):
    cfg = config_from_dict(compose(["data=creditcard", "label_shift.horizon=0"]))
    cfg = staged(with_absolute_data_paths(cfg, REPO))
    d = run_stages(cfg, tmp_path)
    assert len(d["raw"]) == 284807 and d["raw"][LABEL].sum() == 492  # the publisher's description
    assert len(feature_columns(d["raw"])) == 29  # V1..V28, Amount; Time is the axis
    assert_time_split(d, cfg.split.gap_rows)
