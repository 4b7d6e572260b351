"""Every file error names the config key, the path and the fix, from validate (which runs first) and
from ingest (which sweep jobs run without validate), and leaves the earlier outputs untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rarewatch.errors import DataError
from rarewatch.paths import Paths
from rarewatch.stages import ingest, validate
from tests.stage_faults import assert_one_line_error, leftovers, one_line, plant_frame, run_stage, snapshot

MISSING = {
    # id: (data overrides, key, value, resolved path below root or the data directory)
    "data.path": ({"path": "plant/missing.csv"}, "data.path", "plant/missing.csv", "plant/missing.csv"),
    "data.companion_path": (
        {"format": "kddcup", "companion_path": "kdd.names"},
        "data.companion_path",
        "kdd.names",
        "kdd.names",
    ),
    "data.test_path": ({"test_path": "test.csv"}, "data.test_path", "test.csv", "test.csv"),
    "data_dir root": ({"root": "data_dir", "path": "plant/x.csv"}, "data.path", "plant/x.csv", "DATA/plant/x.csv"),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAREWATCH_DATA", str(tmp_path / "datasets"))
    plant_frame().to_csv(tmp_path / "source.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("case", list(MISSING))
def test_a_missing_file_names_its_key_path_and_fix(project: Path, small_config, csv_data, case: str) -> None:
    overrides, key, value, rel = MISSING[case]
    cfg = small_config(data=csv_data(**overrides))
    path = str(project / "datasets" / rel.removeprefix("DATA/")) if rel.startswith("DATA/") else str(project / rel)
    where = "the data directory" if rel.startswith("DATA/") else "the project directory"
    for stage in (validate, ingest):
        with pytest.raises(DataError) as exc:
            stage.execute(cfg, Paths(project))
        message = one_line(exc)
        assert message.startswith(f"{key}='{value}' not found: no file '{path}'"), message
        assert f"(relative paths are taken from {where}" in message
        assert f"set {key} to the file, see docs/datasets.md" in message
    assert not (project / "data").exists()


def test_a_folder_given_as_the_data_file(project: Path, small_config, csv_data) -> None:
    (project / "plant").mkdir()
    with pytest.raises(DataError, match=r"data\.path='plant' is a folder, not a file: no file '.*plant'"):
        validate.execute(small_config(data=csv_data(path="plant")), Paths(project))


def test_the_origin_is_named_when_the_config_gives_it(project: Path, small_config, csv_data) -> None:
    cfg = small_config(data=csv_data(path="gone.csv", origin="https://example.org/plant (docs/datasets.md#plant)"))
    with pytest.raises(DataError, match=r"get it from https://example\.org/plant \(docs/datasets\.md#plant\)"):
        ingest.execute(cfg, Paths(project))


def test_main_ingest_missing_test_file(project: Path, small_params, csv_data, write_params) -> None:
    params = write_params(small_params(data=csv_data(test_path="held_out.csv")))
    proc = run_stage("ingest", project, params)
    assert_one_line_error(proc, "ingest", "data.test_path='held_out.csv' not found", "set data.test_path to the file")


# ------------------------------------------------------------------------------------------- corrupt files


def truncated_parquet(path: Path) -> None:
    plant_frame(n=200).to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def binary_garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())


CORRUPT = {
    "truncated parquet": ("source.parquet", truncated_parquet, "parquet"),
    "binary garbage as csv": ("source.csv", binary_garbage, "csv"),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_file_is_refused_by_validate_and_ingest(
    project: Path, small_config, small_params, csv_data, write_params, case: str
) -> None:
    name, corrupt, fmt = CORRUPT[case]
    paths = Paths(project)
    plant_frame().to_csv(project / "good.csv", index=False)
    ingest.execute(small_config(data=csv_data(path="good.csv")), paths)  # a good earlier run
    before = snapshot(project)
    corrupt(project / name)
    cfg = small_config(data=csv_data(path=name))
    expected = f"data.path: cannot read '{project / name}' as {fmt} ("
    fix = f"the file is damaged or not {fmt}: download or export it again, or set data.format to its real format"
    for stage in (validate, ingest):
        with pytest.raises(DataError) as exc:
            stage.execute(cfg, paths)
        assert one_line(exc).startswith(expected) and fix in one_line(exc), one_line(exc)
    proc = run_stage("validate", project, write_params(small_params(data=csv_data(path=name))))
    assert_one_line_error(proc, "validate", expected, fix)
    proc = run_stage("ingest", project, write_params(small_params(data=csv_data(path=name))))
    assert_one_line_error(proc, "ingest", expected, fix)
    assert snapshot(project) == before and leftovers(project) == []


# ------------------------------------------------------------------------------------------------ separator


def test_a_one_column_read_suggests_the_separator(project: Path, small_config, csv_data) -> None:
    plant_frame().to_csv(project / "source.csv", index=False, sep=";")
    cfg = small_config(data=csv_data(separator=","))  # stated, and wrong for this file
    hint = "(the header was read as one column: it is semicolon-separated, so set data.separator=';')"
    for stage in (validate, ingest):
        with pytest.raises(DataError, match=r"data\.label_column: column 'y' not found") as exc:
            stage.execute(cfg, Paths(project))
        assert one_line(exc).endswith(hint)
    # Left null, the header's separator is found and used.
    ingest.execute(small_config(data=csv_data()), Paths(project))
    assert Paths(project).raw.is_file()


def test_a_tab_separated_file_suggests_a_tab(project: Path, small_config, csv_data) -> None:
    plant_frame().to_csv(project / "source.csv", index=False, sep="\t")
    with pytest.raises(DataError, match=r"it is tab-separated, so set data.separator='\\t'\)$"):
        ingest.execute(small_config(data=csv_data(separator="|")), Paths(project))
