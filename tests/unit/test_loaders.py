"""The real-data loaders (formats.py readers + conf/data/*.yaml) on small files written the way each
publisher writes them, through ingest -> preprocess -> label_shift -> split as the pipeline runs them."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rarewatch.composition import CONF_DIR, compose
from rarewatch.config import Config, config_from_dict
from rarewatch.data import formats
from rarewatch.data.encoding import Encoder
from rarewatch.data.schema import GROUP, LABEL, TIME, feature_columns
from rarewatch.errors import DataError
from rarewatch.stages import features, ingest, label_shift, preprocess, split

DATA_CONFIGS = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
REAL_DATA = ["paper_mill", "secom", "secom_uci", "ton_iot_fridge", "kddcup99", "creditcard"]


def config(overrides: list[str], **data: Any) -> Config:
    """conf/ composed as `rarewatch-sweep <overrides>` would, with data.<key> replaced (file paths)."""
    raw = compose(overrides)
    raw["data"].update({k: str(v) if isinstance(v, Path) else v for k, v in data.items()})
    return config_from_dict(raw, source=f"compose {' '.join(overrides)}")


def pipeline(cfg: Config, root: Path) -> tuple[pd.DataFrame, dict, pd.DataFrame, dict[str, pd.DataFrame]]:
    """(ingested frame, preprocess report, preprocessed frame, splits) via the stages' run()."""
    table, test_table, _ = ingest.load_source(cfg.data, root)
    raw, _ = ingest.run(table, cfg.data, test_table)
    clean, report = preprocess.run(raw, cfg)
    shifted, _, _ = label_shift.run(clean, cfg.label_shift.horizon)
    featured, _ = features.run(shifted, cfg)
    return raw, report, clean, split.run(featured, cfg)


def assert_time_ordered(parts: dict[str, pd.DataFrame]) -> None:
    for part in parts.values():
        assert part[TIME].is_monotonic_increasing
    assert parts["train"][TIME].max() <= parts["val"][TIME].min()
    assert parts["val"][TIME].max() <= parts["test"][TIME].min()


# ------------------------------------------------------------------------------------ every config file


@pytest.mark.parametrize("name", REAL_DATA)
def test_data_config_is_complete_and_documented(name):
    assert name in DATA_CONFIGS
    text = (CONF_DIR / "data" / f"{name}.yaml").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Run:" in line for line in header), f"{name}.yaml: no one-line run command in its header"
    assert any("Caveat" in line for line in header), f"{name}.yaml: no caveats in its header"
    cfg = config([f"data={name}"])  # strict: every DataConfig key present, no extra one
    assert cfg.data.name == name


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_and_validates(name):
    text = (CONF_DIR / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    cfg = config([f"+experiment={name}"])
    if cfg.data.time_column is None:
        assert cfg.split.method == "random"
    else:  # docs/protocol.md, "Split by time": time-ordered data is split by time, in any of the time modes
        assert cfg.split.method in ("time", "rolling", "head", "series")


# ------------------------------------------------------------------------------------------- paper mill


def paper_mill_csv(path: Path, n: int = 120, breaks: tuple[int, ...] = (30, 80, 105)) -> pd.DataFrame:
    """ProcessMiner's layout: `time` as m/d/yy H:MM (no zero padding), y, x1..x61; x28 grade codes."""
    rng = np.random.default_rng(0)
    # Starts late on 5/12/99: rows on 5/13/99 would not parse as d/m/yy (there is no month 13).
    stamps = pd.date_range("1999-05-12 22:00", periods=n, freq="2min")
    df = pd.DataFrame({"time": [f"{t.month}/{t.day}/{t.year % 100:02d} {t.hour}:{t.minute:02d}" for t in stamps]})
    df["y"] = 0
    df.loc[list(breaks), "y"] = 1
    for i in range(1, 62):
        df[f"x{i}"] = np.round(rng.normal(size=n), 6)
    df["x28"] = rng.choice([51, 82, 96, 139], size=n)
    df["x61"] = rng.integers(0, 2, size=n)
    df.to_csv(path, index=False)
    return df


def test_paper_mill(tmp_path):
    source = paper_mill_csv(tmp_path / "processminer-rare-event-mts-data.csv")
    cfg = config(
        ["+experiment=paper_mill_ae", "split.gap_rows=2"], path=tmp_path / "processminer-rare-event-mts-data.csv"
    )
    raw, report, clean, parts = pipeline(cfg, tmp_path)

    assert raw[TIME].iloc[0] == pd.Timestamp("1999-05-12 22:00")
    assert raw[TIME].iloc[-1] == pd.Timestamp("1999-05-13 01:58")
    assert raw[LABEL].tolist() == source["y"].tolist()
    assert feature_columns(raw) == [f"x{i}" for i in range(1, 62)]
    assert raw["x28"].iloc[0] == str(source["x28"].iloc[0])  # categorical: text codes, one-hot later
    assert raw["x61"].dtype == np.float64  # binary stays numeric
    assert report["rows_out"] == 120 and report["columns_dropped"] == {}
    # H=2: each single-row break is dropped and the 2 rows before it become positive.
    assert sum(len(p) for p in parts.values()) == 120 - 3 - 2 * cfg.split.gap_rows
    assert [int(p[LABEL].sum()) for p in parts.values()] == [2, 2, 2]
    assert_time_ordered(parts)


def test_paper_mill_config_on_the_fridge_file(tmp_path):
    fridge_csv(tmp_path / "fridge.csv")
    cfg = config(["data=paper_mill"], path=tmp_path / "fridge.csv")
    with pytest.raises(
        DataError,
        match=r"data\.label_column: column 'y' not found; columns are: ts, date, time, "
        r"fridge_temperature, temp_condition, label, type",
    ):
        pipeline(cfg, tmp_path)


# ------------------------------------------------------------------------------ SECOM, cleaned Parquet


def secom_parquet(path: Path, n: int = 60, fails: tuple[int, ...] = (5, 20, 40, 55)) -> None:
    """The cleaned SECOM table as distributed: timestamp, label (-1/1), is_fail (bool), sensor_<i> with gaps."""
    rng = np.random.default_rng(1)
    label = np.full(n, -1)
    label[list(fails)] = 1
    df = pd.DataFrame(
        {
            "timestamp": pd.date_range("2008-07-19 11:55", periods=n, freq="37min"),
            "label": label,
            "is_fail": label == 1,
        }
    )
    for i in (0, 1, 2, 3, 6, 589):
        df[f"sensor_{i}"] = rng.normal(size=n)
    df.to_parquet(path, index=False)


def test_secom_parquet_drops_is_fail(tmp_path):
    secom_parquet(tmp_path / "secom_clean.parquet")
    cfg = config(["+experiment=secom_ae", "split.gap_rows=2"], path=tmp_path / "secom_clean.parquet")
    raw, _, clean, parts = pipeline(cfg, tmp_path)

    assert "is_fail" not in raw.columns  # the label again: it must never be a feature
    assert feature_columns(clean) == ["sensor_0", "sensor_1", "sensor_2", "sensor_3", "sensor_6", "sensor_589"]
    assert raw[LABEL].sum() == 4 and raw[LABEL].iloc[5] == 1  # 1 = fail is the event; -1 = pass
    assert sum(len(p) for p in parts.values()) == 60 - 4  # H=0: every wafer kept, 2 gaps of 2
    assert_time_ordered(parts)


def test_secom_config_on_a_table_without_is_fail(tmp_path):
    pd.DataFrame(
        {
            "timestamp": pd.date_range("2008-07-19", periods=4, freq="h"),
            "label": [-1, 1, -1, -1],
            "sensor_0": [1.0, 2.0, 3.0, 4.0],
        }
    ).to_parquet(tmp_path / "other.parquet")
    cfg = config(["data=secom"], path=tmp_path / "other.parquet")
    with pytest.raises(
        DataError,
        match=r"data\.drop_columns: column 'is_fail' not found; "
        r"columns are: timestamp, label, sensor_0",
    ):
        pipeline(cfg, tmp_path)


# ---------------------------------------------------------------------------------- SECOM, raw UCI files


def secom_uci_files(
    directory: Path, n: int = 60, fails: tuple[int, ...] = (5, 20, 40, 55), label_lines: int | None = None
) -> tuple[Path, Path]:
    """secom.data: 590 space-separated readings, `NaN` for missing, no header; secom_labels.data: CRLF lines
    `-1 "19/07/2008 11:55:00"` (dd/mm/yyyy)."""
    rng = np.random.default_rng(2)
    values = np.round(rng.normal(100, 5, size=(n, formats.SECOM_SENSORS)), 4)
    values[rng.random((n, formats.SECOM_SENSORS)) < 0.03] = np.nan
    values[:, 5] = 7.0  # a constant sensor (the raw file has many)
    values[: int(n * 0.8), 9] = np.nan  # a sensor missing in most rows
    lines = [" ".join("NaN" if np.isnan(v) else repr(float(v)) for v in row) for row in values]
    data = directory / "secom.data"
    data.write_text("\n".join(lines) + "\n")
    stamps = pd.date_range("2008-07-19 11:55", periods=n, freq="37min")
    labels = ["1" if i in fails else "-1" for i in range(n)]
    rows = [f'{y} "{t:%d/%m/%Y %H:%M:%S}"' for y, t in zip(labels, stamps, strict=True)]
    companion = directory / "secom_labels.data"
    companion.write_bytes(("\r\n".join(rows[:label_lines]) + "\r\n").encode())
    return data, companion


def test_secom_uci_reader(tmp_path):
    data, labels = secom_uci_files(tmp_path)
    df = formats.read(data, "secom_uci", labels)
    assert list(df.columns[:4]) == ["label", "timestamp", "sensor_0", "sensor_1"]
    assert df.columns[-1] == "sensor_589" and df.shape == (60, 592)
    assert df["timestamp"].iloc[0] == pd.Timestamp("2008-07-19 11:55:00")  # 19/07: day first
    assert df["timestamp"].iloc[20] == pd.Timestamp("2008-07-20 00:15:00")
    assert df["label"].tolist().count("1") == 4
    assert df["sensor_9"].isna().sum() >= 48  # `NaN` strings are missing values, not text


def test_secom_uci_through_the_pipeline(tmp_path):
    data, labels = secom_uci_files(tmp_path)
    cfg = config(
        ["+experiment=secom_ae", "data=secom_uci", "preprocess.max_missing_fraction=0.5", "split.gap_rows=2"],
        path=data,
        companion_path=labels,
    )
    raw, report, clean, parts = pipeline(cfg, tmp_path)

    assert raw[LABEL].sum() == 4
    assert report["columns_dropped"]["sensor_5"] == "constant"
    assert report["nan_counts"]["sensor_9"] >= 48  # kept by preprocess for the fitted filter and imputer
    assert_time_ordered(parts)
    features = Encoder([], impute=True, max_missing_fraction=cfg.preprocess.max_missing_fraction)
    features.fit(parts["train"])
    assert "sensor_9" in features.dropped_missing  # judged on training rows only
    x = features.transform(parts["test"])
    assert x.shape == (len(parts["test"]), len(feature_columns(clean)) - len(features.dropped_missing))
    assert np.isfinite(x).all()


def test_secom_uci_labels_that_do_not_match_the_data(tmp_path):
    data, labels = secom_uci_files(tmp_path, label_lines=59)
    with pytest.raises(
        DataError,
        match=r"secom\.data' has 60 rows but its labels file '.*secom_labels\.data' "
        r"has 59",
    ):
        formats.read(data, "secom_uci", labels)


def test_secom_uci_config_given_the_labels_file_as_data(tmp_path):
    _, labels = secom_uci_files(tmp_path)
    cfg = config(["data=secom_uci"], path=labels, companion_path=labels)
    with pytest.raises(
        DataError,
        match=r"secom_labels\.data' has 2 space-separated columns but the UCI "
        r"secom\.data layout has 590",
    ):
        pipeline(cfg, tmp_path)


def test_secom_uci_needs_its_labels_file(tmp_path):
    data, _ = secom_uci_files(tmp_path)
    with pytest.raises(DataError, match=r"data\.format=secom_uci needs data\.companion_path"):
        formats.read(data, "secom_uci", None)


# --------------------------------------------------------------------------------------- TON_IoT fridge


def fridge_csv(path: Path) -> pd.DataFrame:
    """Train_Test_IoT_Fridge.csv's quirks: BOM, CRLF, padded `time` and `temp_condition` values, rows out of
    time order, exact duplicates. Stray spaces around header names too (the reader strips them)."""
    rows = []
    t0 = 1554060000  # 2019-03-31 19:20:00 UTC
    for i in range(30):  # normal, one reading every 5 s
        rows.append((t0 + 5 * i, 21.0 + (i % 7) * 0.5, "high" if i % 3 else "low  ", 0, "normal"))
    for i, kind in enumerate(["injection"] * 12 + ["ddos"] * 12 + ["password"] * 6):
        rows.append((t0 + 200 + 5 * i, 4.0 + (i % 5), "high " if i % 2 else "low", 1, kind))
    df = pd.DataFrame(rows, columns=["ts", "fridge_temperature", "temp_condition", "label", "type"])
    stamp = pd.to_datetime(df["ts"], unit="s")
    df.insert(1, "date", stamp.dt.strftime("%d-%b-%y"))
    df.insert(2, "time", " " + stamp.dt.strftime("%H:%M:%S") + " ")
    df = pd.concat([df, df.iloc[[3, 17, 45, 45]]], ignore_index=True)  # 4 exact duplicates
    df = df.iloc[np.random.default_rng(3).permutation(len(df))]  # not in time order
    lines = [" ts,date, time ,fridge_temperature, temp_condition ,label,type"]
    lines += [",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in row) for row in df.itertuples(index=False)]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return df


def test_fridge(tmp_path):
    fridge_csv(tmp_path / "Train_Test_IoT_Fridge.csv")
    cfg = config(["+experiment=fridge_dense_ae", "split.gap_rows=2"], path=tmp_path / "Train_Test_IoT_Fridge.csv")
    raw, report, clean, parts = pipeline(cfg, tmp_path)

    assert len(raw) == 64 and raw[LABEL].sum() == 30 + 2  # rows 3, 17 (normal) and 45 (attack) repeat
    assert feature_columns(raw) == ["fridge_temperature", "temp_condition"]  # no ts/date/time, no type
    assert set(raw["temp_condition"]) == {"high", "low"}
    assert report["duplicates_dropped"] == 4 and len(clean) == 60
    assert clean[TIME].is_monotonic_increasing
    assert clean[TIME].iloc[0] == pd.Timestamp("2019-03-31 19:20:00")  # ts as unix seconds
    assert clean[GROUP].value_counts().to_dict() == {"normal": 30, "injection": 12, "ddos": 12, "password": 6}
    assert_time_ordered(parts)
    # As in the real subset, every normal row precedes every attack: train is normal, val mixed.
    assert parts["train"][LABEL].sum() == 0 and set(parts["val"][LABEL]) == {0, 1}
    assert set(parts["test"][GROUP]) <= {"injection", "ddos", "password"}
    assert all(GROUP in p and "date" not in p and "time" in p for p in parts.values())  # time = canonical ts


def test_fridge_config_on_the_paper_mill_file(tmp_path):
    paper_mill_csv(tmp_path / "paper.csv")
    cfg = config(["data=ton_iot_fridge"], path=tmp_path / "paper.csv")
    with pytest.raises(
        DataError,
        match=r"data\.label_column: column 'label' not found; "
        r"columns are: time, y, x1, x2, x3",
    ):
        pipeline(cfg, tmp_path)


# -------------------------------------------------------------------------------------------- KDD Cup 99

KDD_FEATURES = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
]
SYMBOLIC = {"protocol_type", "service", "flag", "land", "logged_in", "is_host_login", "is_guest_login"}


def kdd_names(path: Path) -> Path:
    lines = ["back,buffer_overflow,ftp_write,neptune,normal,smurf,teardrop.", ""]
    lines += [f"{n}: {'symbolic' if n in SYMBOLIC else 'continuous'}." for n in KDD_FEATURES]
    path.write_text("\n".join(lines) + "\n")
    return path


def kdd_rows(labels: list[str], seed: int) -> list[str]:
    """Headerless KDD lines: 41 features then the label with its dot."""
    rng = np.random.default_rng(seed)
    out = []
    for i, label in enumerate(labels):
        values = []
        for name in KDD_FEATURES:
            if name == "protocol_type":
                values.append(["tcp", "udp", "icmp"][i % 3])
            elif name == "service":
                values.append(["http", "smtp", "ecr_i", "private"][i % 4])
            elif name == "flag":
                values.append(["SF", "S0", "REJ"][i % 3])
            elif name == "num_outbound_cmds":
                values.append("0")  # constant in the real files
            elif name.endswith("_rate"):
                values.append(f"{rng.random():.2f}")
            else:
                values.append(str(int(rng.integers(0, 500))))
        out.append(",".join([*values, label]))
    return out


def kdd_files(directory: Path) -> tuple[Path, Path, Path]:
    names = kdd_names(directory / "kddcup.names")
    train = kdd_rows(["normal."] * 30 + ["smurf."] * 10 + ["neptune."] * 8 + ["back."] * 4, seed=4)
    train += [train[40]] * 3 + [train[0]]  # smurf repeats itself; 4 duplicate lines
    main = directory / "kddcup.data_10_percent.gz"
    main.write_bytes(gzip.compress(("\n".join(train) + "\n").encode()))
    test = kdd_rows(["normal."] * 12 + ["smurf."] * 4 + ["mscan."] * 3, seed=5)  # mscan.: new in the test file
    test += [test[12], train[1]]  # a duplicate within the test file; a line the training file also has
    corrected = directory / "corrected"  # gzip, without the .gz suffix: detected by content
    corrected.write_bytes(gzip.compress(("\n".join(test) + "\n").encode()))
    return main, corrected, names


def test_kddcup_reader_plain_and_gzip(tmp_path):
    main, _, names = kdd_files(tmp_path)
    zipped = formats.read(main, "kddcup", names)
    plain_path = tmp_path / "kddcup.data_10_percent"
    plain_path.write_bytes(gzip.decompress(main.read_bytes()))
    plain = formats.read(plain_path, "kddcup", names)
    pd.testing.assert_frame_equal(zipped, plain)
    assert list(plain.columns) == [*KDD_FEATURES, "label"]
    assert plain.shape == (56, 42)


def test_kddcup_through_the_pipeline(tmp_path):
    main, corrected, names = kdd_files(tmp_path)
    cfg = config(["+experiment=kdd_ae"], path=main, test_path=corrected, companion_path=names)
    raw, report, clean, parts = pipeline(cfg, tmp_path)

    assert len(raw) == 56 + 21 and raw[LABEL].sum() == 26 + 7
    assert set(raw[GROUP]) == {"normal.", "smurf.", "neptune.", "back.", "mscan."}
    assert ((raw[GROUP] == "normal.") == (raw[LABEL] == 0)).all()  # normal. is the only normal class
    assert "label" not in feature_columns(raw) and "protocol_type" in feature_columns(raw)
    # Duplicates go within each file; the line both files hold stays in both.
    assert report["duplicates_dropped"] == 4 + 1 and len(clean) == 52 + 20
    assert report["columns_dropped"] == {"num_outbound_cmds": "constant"}
    assert len(parts["test"]) == 20 and parts["test"][LABEL].sum() == 7  # exactly the corrected file's rows
    assert "mscan." in set(parts["test"][GROUP]) and "mscan." not in set(parts["train"][GROUP])
    assert len(parts["train"]) + len(parts["val"]) == 52  # every deduplicated 10 % row, none lost to rounding
    assert parts["train"][LABEL].sum() + parts["val"][LABEL].sum() == 22
    assert set(parts["train"][LABEL]) == {0, 1} and set(parts["val"][LABEL]) == {0, 1}  # stratified
    x = Encoder(cfg.data.categorical_columns, impute=True).fit(parts["train"]).transform(parts["test"])
    assert x.shape[0] == 20 and np.isfinite(x).all()


def test_kddcup_config_on_the_paper_mill_file(tmp_path):
    paper_mill_csv(tmp_path / "paper.csv")
    names = kdd_names(tmp_path / "kddcup.names")
    cfg = config(["data=kddcup99"], path=tmp_path / "paper.csv", companion_path=names, test_path=None)
    with pytest.raises(
        DataError,
        match=r"'.*paper\.csv' has 63 columns but '.*kddcup\.names' names 42 "
        r"\(41 features \+ label\)",
    ):
        pipeline(cfg, tmp_path)


def test_kddcup_names_file_that_is_not_one(tmp_path):
    main, _, _ = kdd_files(tmp_path)
    wrong = tmp_path / "names.txt"
    wrong.write_text("attacks\nduration continuous\n")
    with pytest.raises(DataError, match=r"line 2 is 'duration continuous'; kddcup\.names lines"):
        formats.read(main, "kddcup", wrong)


# ------------------------------------------------------------------------------------- credit-card fraud


def creditcard_csv(path: Path, n: int = 80, frauds: tuple[int, ...] = (10, 55, 56, 70)) -> pd.DataFrame:
    """Kaggle/ULB creditcard.csv: quoted header, Time = seconds since the first transaction (repeats),
    V1..V28, Amount, Class quoted as "0"/"1"."""
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"Time": np.sort(rng.integers(0, 400, size=n)).astype(float)})
    for i in range(1, 29):
        df[f"V{i}"] = rng.normal(size=n)
    df["Amount"] = np.round(rng.exponential(80, size=n), 2)
    df["Class"] = ["1" if i in frauds else "0" for i in range(n)]
    df = pd.concat([df, df.iloc[[5, 6]]], ignore_index=True).sort_values("Time", kind="stable")  # duplicates
    header = ",".join(f'"{c}"' for c in df.columns)
    body = [",".join([*(repr(float(v)) for v in row[:-1]), f'"{row[-1]}"']) for row in df.itertuples(index=False)]
    path.write_text("\n".join([header, *body]) + "\n")
    return df


def test_creditcard(tmp_path):
    creditcard_csv(tmp_path / "creditcard.csv")
    # The README's own line, with nothing added: fraud detection (H=0) on seconds since the first transaction.
    cfg = config(["data=creditcard", "split.gap_rows=2"], path=tmp_path / "creditcard.csv")
    assert cfg.label_shift.horizon == 0 and cfg.data.time_unit == "seconds"
    raw, report, clean, parts = pipeline(cfg, tmp_path)
    shifted, _, shift = label_shift.run(clean, cfg.label_shift.horizon)
    assert shift["rows_dropped"] == 0 and shifted[LABEL].tolist() == clean[LABEL].tolist()  # frauds stay frauds

    assert feature_columns(raw) == [f"V{i}" for i in range(1, 29)] + ["Amount"]  # Time is the axis, not a feature
    assert pd.api.types.is_numeric_dtype(raw[TIME])  # seconds since the first transaction stay numbers
    assert raw[LABEL].sum() == 4
    assert report["duplicates_dropped"] == 2 and len(clean) == 80
    assert_time_ordered(parts)


def test_creditcard_config_on_the_fridge_file(tmp_path):
    fridge_csv(tmp_path / "fridge.csv")
    cfg = config(["data=creditcard"], path=tmp_path / "fridge.csv")
    with pytest.raises(DataError, match=r"data\.label_column: column 'Class' not found; columns are: ts, date"):
        pipeline(cfg, tmp_path)
