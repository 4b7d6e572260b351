"""Tests for the synthetic process generator (rarewatch.data.synthetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from rarewatch.config import validated
from rarewatch.data.synthetic import DEFAULTS, SyntheticConfig, generate
from rarewatch.errors import ConfigError


# Small but not tiny: enough rows for a handful of events, fast enough for every test.
def replace(cfg: SyntheticConfig, **changes: object) -> SyntheticConfig:
    """A checked copy of `cfg` with `changes` (model_copy would skip the checks)."""
    return SyntheticConfig(**{**cfg.model_dump(), **changes})


SMALL = replace(DEFAULTS, n_rows=3000, n_channels=12, n_latent=3, precursor_channels=3, seed=7)


def _sensors(df: pd.DataFrame) -> np.ndarray:
    return df.filter(regex=r"^s\d+$").to_numpy()


def _runs(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of consecutive 1s."""
    padded = np.concatenate([[0], y, [0]])
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts, ends - starts


def _pca_proxy_auc(df: pd.DataFrame, n_latent: int, horizon: int = 2) -> float:
    """The difficulty proxy: PCA reconstruction error, H rows before each event are positives."""
    x, y = _sensors(df), df["y"].to_numpy()
    n = len(df)
    label = np.zeros(n, dtype=int)
    for s in _runs(y)[0]:
        label[max(0, s - horizon) : s] = 1
    idx = np.arange(n)
    train = (idx < int(0.6 * n)) & (y == 0)
    test = (idx >= int(0.6 * n)) & (y == 0)
    scaler = StandardScaler().fit(x[train])
    pca = PCA(n_components=n_latent).fit(scaler.transform(x[train]))
    z = scaler.transform(x[test])
    err = ((z - pca.inverse_transform(pca.transform(z))) ** 2).mean(axis=1)
    return float(roc_auc_score(label[test], err))


@pytest.fixture(scope="module")
def default_frame() -> pd.DataFrame:
    return generate(DEFAULTS)


# --- shape and schema ---------------------------------------------------------------------------------


def test_columns_order_and_dtypes() -> None:
    df = generate(SMALL)
    assert df.shape == (3000, 1 + 1 + 12 + 1)
    assert list(df.columns) == ["time", "grade"] + [f"s{i:02d}" for i in range(12)] + ["y"]
    assert pd.api.types.is_datetime64_dtype(df["time"])
    assert pd.api.types.is_string_dtype(df["grade"])
    assert set(df["grade"].unique()) <= {"A", "B", "C"}
    assert all(df[f"s{i:02d}"].dtype == np.float64 for i in range(12))
    assert df["y"].dtype == np.int64
    assert set(df["y"].unique()) <= {0, 1}
    assert np.isfinite(_sensors(df)).all()


def test_channel_names_widen_past_100_channels() -> None:
    df = generate(replace(SMALL, n_rows=200, n_channels=120))
    sensor_cols = [c for c in df.columns if c.startswith("s")]
    # 120 channels need three digits: s000..s119.
    assert sensor_cols[0] == "s000" and sensor_cols[-1] == "s119" and len(sensor_cols) == 120


def test_time_axis_is_fixed_interval_from_start() -> None:
    df = generate(SMALL)
    assert df["time"].iloc[0] == pd.Timestamp("2024-01-01T00:00:00")
    steps = df["time"].diff().iloc[1:]
    assert (steps == pd.Timedelta(seconds=120)).all()
    # 3000 rows at 2 minutes: the last row is 2999 * 120 s = 99.97 h after the start.
    assert df["time"].iloc[-1] == pd.Timestamp("2024-01-01") + pd.Timedelta(seconds=2999 * 120)


def test_grades_come_in_blocks(default_frame: pd.DataFrame) -> None:
    grade = default_frame["grade"].to_numpy()
    n_changes = int((grade[1:] != grade[:-1]).sum())
    # Blocks of 0.5x..1.5x grade_block_rows=1500 over 20000 rows: roughly 9..27 changes, never per row.
    assert 5 <= n_changes <= 40
    assert set(np.unique(grade)) == {"A", "B", "C"}


# --- events ------------------------------------------------------------------------------------------


def test_event_share_on_default_frame(default_frame: pd.DataFrame) -> None:
    # 20000 rows at event_rate 0.007 -> ~140 event rows; ~70 runs, so +-2 sd of the run count is
    # roughly +-30%; the band below is wider than that but still excludes "no events" and "10x too many".
    share = default_frame["y"].mean()
    assert 0.004 <= share <= 0.011


def test_events_are_short_runs_clear_of_the_start(default_frame: pd.DataFrame) -> None:
    y = default_frame["y"].to_numpy()
    starts, lengths = _runs(y)
    assert starts.size > 20
    assert lengths.min() >= 1 and lengths.max() <= DEFAULTS.event_length_max
    # All lengths 1..3 should occur among ~70 runs drawn uniformly.
    assert set(lengths.tolist()) == {1, 2, 3}
    assert not y[: DEFAULTS.precursor_rows].any()
    # A full precursor window fits between the end of one break and the start of the next.
    gaps = starts[1:] - (starts[:-1] + lengths[:-1])
    assert gaps.min() >= DEFAULTS.precursor_rows


def test_breaks_are_large_deviations(default_frame: pd.DataFrame) -> None:
    x, y = _sensors(default_frame), default_frame["y"].to_numpy()
    # Mean absolute row-to-row change: tiny in normal operation (AR(1) + noise), huge at a break.
    jump = np.abs(np.diff(x, axis=0)).mean(axis=1)
    into_break = (y[1:] == 1) & (y[:-1] == 0)
    normal = (y[1:] == 0) & (y[:-1] == 0)
    assert jump[into_break].mean() > 5 * jump[normal].mean()


# --- determinism -------------------------------------------------------------------------------------


def test_same_seed_gives_identical_frame() -> None:
    pd.testing.assert_frame_equal(generate(SMALL), generate(SMALL))


def test_other_seed_gives_different_frame() -> None:
    a = generate(SMALL)
    b = generate(replace(SMALL, seed=SMALL.seed + 1))
    assert not np.allclose(_sensors(a), _sensors(b))
    assert not np.array_equal(a["y"].to_numpy(), b["y"].to_numpy())


# --- precursor and decoys ----------------------------------------------------------------------------


def test_precursor_ramp_is_exact_in_counterfactual() -> None:
    # Strength only scales the precursor, so a strength-0 twin with the same seed is the same process
    # without the precursor; with decoys off their difference is exactly the injected ramp.
    cfg = replace(SMALL, decoy_rate=0.0)
    with_p = generate(cfg)
    without = generate(replace(cfg, precursor_strength=0.0))
    diff = _sensors(with_p) - _sensors(without)
    starts, _ = _runs(with_p["y"].to_numpy())
    assert starts.size >= 3
    peak = cfg.precursor_strength * cfg.noise_std  # 2.75 * 0.3 = 0.825
    in_window = np.zeros(len(diff), dtype=bool)
    touched: set[int] = set()
    for s in starts:
        in_window[s - cfg.precursor_rows : s] = True
        last = np.flatnonzero(np.abs(diff[s - 1]) > 1e-9)
        assert last.size == cfg.precursor_channels
        np.testing.assert_allclose(np.abs(diff[s - 1, last]), peak)
        # Quadratic ramp: the second-to-last row is at (9/10)^2 = 0.81 of the peak.
        np.testing.assert_allclose(np.abs(diff[s - 2, last]), 0.81 * peak)
        touched.update(last.tolist())
    assert np.abs(diff[~in_window]).max() < 1e-9
    # Channels come from a fixed susceptible pool of 2 * precursor_channels.
    assert len(touched) <= 2 * cfg.precursor_channels


def test_precursor_raises_residual_in_its_channels(default_frame: pd.DataFrame) -> None:
    cfg = DEFAULTS
    counterfactual = generate(replace(cfg, precursor_strength=0.0))
    x, y = _sensors(default_frame), default_frame["y"].to_numpy()
    starts, lengths = _runs(y)
    # Normal rows far from events: more than 3 precursor windows away from any break.
    far = np.ones(len(y), dtype=bool)
    for s, n in zip(starts, lengths, strict=True):
        far[max(0, s - 3 * cfg.precursor_rows) : s + n + 3 * cfg.precursor_rows] = False
    # "Deviation" = how far a channel is from what the other channels predict for it.
    scaler = StandardScaler().fit(x[far])
    pca = PCA(n_components=cfg.n_latent).fit(scaler.transform(x[far]))
    z = scaler.transform(x)
    resid = np.abs(z - pca.inverse_transform(pca.transform(z)))
    cf_diff = np.abs(x - _sensors(counterfactual)) > 1e-9
    before, baseline = [], []
    for s in starts:
        chans = np.flatnonzero(cf_diff[s - 1])  # this event's precursor channels
        before.append(resid[s - 2 : s, chans].mean())
        baseline.append(resid[far][:, chans].mean())
    assert np.mean(before) > 1.5 * np.mean(baseline)


def test_decoys_are_not_followed_by_events() -> None:
    cfg = replace(SMALL, decoy_rate=0.01)
    df = generate(cfg)
    diff = np.abs(_sensors(df) - _sensors(generate(replace(cfg, precursor_strength=0.0))))
    disturbed = (diff > 1e-9).any(axis=1)
    starts, _ = _runs(df["y"].to_numpy())
    near_event = np.zeros(len(df), dtype=bool)
    for s in starts:
        near_event[max(0, s - 2 * cfg.precursor_rows) : s] = True
    decoy_rows = disturbed & ~near_event
    # ~0.01 * 3000 = 30 decoy peaks, each touching ~12 rows: plenty of disturbed rows far from events...
    assert decoy_rows.sum() > 50
    # ...and none of them leads into a break within a precursor window.
    for r in np.flatnonzero(decoy_rows):
        assert not df["y"].to_numpy()[r : r + cfg.precursor_rows + 1].any()


# --- difficulty ---------------------------------------------------------------------------------------


def test_pca_proxy_beats_chance_but_is_not_perfect(default_frame: pd.DataFrame) -> None:
    auc = _pca_proxy_auc(default_frame, DEFAULTS.n_latent)
    assert 0.65 < auc < 0.99


def test_generation_is_fast_enough() -> None:
    import time

    t0 = time.perf_counter()
    generate(DEFAULTS)
    # Measured ~0.07 s; the generous bound only guards against a regression to per-row Python loops.
    assert time.perf_counter() - t0 < 2.0


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"n_rows": 50}, r"'data\.synthetic\.n_rows' is 50; must be >= 100"),
        ({"n_rows": 1000.0}, r"'data\.synthetic\.n_rows' is 1000\.0; must be an integer"),
        ({"n_rows": True}, r"'data\.synthetic\.n_rows' is True; must be an integer"),
        ({"n_channels": 4}, r"data\.synthetic\.precursor_channels=6 must be at most data\.synthetic\.n_channels=4"),
        ({"n_latent": 0}, r"'data\.synthetic\.n_latent' is 0; must be >= 1"),
        ({"n_latent": 41}, r"data\.synthetic\.n_latent=41 must be at most data\.synthetic\.n_channels=40"),
        ({"event_rate": 1.5}, r"'data\.synthetic\.event_rate' is 1\.5; must be < 0\.2"),
        ({"event_rate": 0.0}, r"'data\.synthetic\.event_rate' is 0\.0; must be > 0"),
        # Mean run length 2, minimum start-to-start spacing 3 + 2*10 = 23 -> max rate 2/23 = 0.08696.
        ({"event_rate": 0.15}, r"data\.synthetic\.event_rate=0\.15 must be below 0\.08696"),
        ({"noise_std": -0.1}, r"'data\.synthetic\.noise_std' is -0\.1; must be > 0"),
        ({"noise_std": 0.0}, r"'data\.synthetic\.noise_std' is 0\.0; must be > 0"),
        ({"drift_std": -1.0}, r"'data\.synthetic\.drift_std' is -1\.0; must be >= 0"),
        ({"precursor_strength": float("nan")}, r"'data\.synthetic\.precursor_strength' is nan; must be a finite"),
        ({"decoy_rate": 0.5}, r"'data\.synthetic\.decoy_rate' is 0\.5; must be <= 0\.2"),
        ({"n_grades": 0}, r"'data\.synthetic\.n_grades' is 0; must be >= 1"),
        ({"event_length_max": 0}, r"'data\.synthetic\.event_length_max' is 0; must be >= 1"),
        ({"interval_seconds": 0}, r"'data\.synthetic\.interval_seconds' is 0; must be >= 1"),
        ({"start": "not a date"}, r"'data\.synthetic\.start' is 'not a date'; must be an ISO timestamp"),
        ({"seed": -1}, r"'data\.synthetic\.seed' is -1; must be >= 0"),
    ],
)
def test_validation_errors(changes: dict[str, object], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        validated(SyntheticConfig, {**DEFAULTS.model_dump(), **changes}, prefix="data.synthetic.")


def test_defaults_are_the_embedded_data_config() -> None:
    from rarewatch.composition import compose

    assert SyntheticConfig(**compose()["data"]["synthetic"]) == DEFAULTS
    assert isinstance(DEFAULTS, SyntheticConfig)
    assert (DEFAULTS.n_rows, DEFAULTS.n_channels, DEFAULTS.n_latent) == (20000, 40, 4)
    assert DEFAULTS.event_rate == 0.007 and DEFAULTS.precursor_rows == 10
