"""Deterministic synthetic industrial process with rare breaks (the embedded default data set).

The process mimics a paper machine: a few slow latent factors (speed, moisture, ...) drive many
correlated sensor channels; the product grade changes in blocks and shifts the channel operating
points; sensors drift slowly. Rare "breaks" (events) are preceded by a precursor that builds up in a
small subset of channels and breaks their correlation structure, which is what a reconstruction-based
detector can see. Decoy disturbances with the same shape but no following break keep detection
imperfect.

Everything is drawn from a single ``numpy.random.default_rng(cfg.seed)`` in a fixed order, so the same
config always gives the identical frame.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

__all__ = ["DEFAULTS", "SyntheticConfig", "generate", "validate"]

# Internal physics constants. They are deliberately not config fields: the config exposes the knobs
# that set the difficulty, these only shape a plausible process.
_PHI_RANGE = (0.95, 0.99)  # AR(1) coefficients of the latent factors (slow process dynamics)
_DRIFT_PHI = 0.999  # drift is a weakly mean-reverting walk so it stays bounded on long runs
_BASE_OFFSET_STD = 1.0  # spread of channel operating points
_GRADE_OFFSET_STD = 0.3  # how far a grade moves each channel's operating point
_BREAK_SHIFT_STD = 4.0  # size of the jump of every channel during a break
_BREAK_NOISE_FACTOR = 4.0  # breaks are also much noisier than normal operation
_DECOY_DECAY = (0.5, 0.2)  # a decoy fades out over a few rows instead of ending in a break
_DECOY_STRENGTH_RANGE = (0.6, 1.2)  # decoys are similar in size to real precursors, not identical


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of the synthetic process; see ``validate`` for the allowed ranges."""

    n_rows: int = 20000
    n_channels: int = 40
    n_latent: int = 4
    interval_seconds: int = 120
    start: str = "2024-01-01T00:00:00"
    event_rate: float = 0.007
    event_length_max: int = 3
    precursor_rows: int = 10
    precursor_channels: int = 6
    precursor_strength: float = 2.75
    noise_std: float = 0.3
    drift_std: float = 0.005
    n_grades: int = 3
    grade_block_rows: int = 1500
    decoy_rate: float = 0.004
    seed: int = 42


DEFAULTS = SyntheticConfig()


def _fail(field: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"synthetic.{field}={value!r} must be {allowed}")


def _check_int(cfg: SyntheticConfig, field: str, low: int, high: int | None = None, note: str = "") -> None:
    value = getattr(cfg, field)
    allowed = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
    allowed += note
    # bool is an int subclass; a YAML `true` in an int slot is a config mistake, not a 1.
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise _fail(field, value, allowed)
    if value < low or (high is not None and value > high):
        raise _fail(field, value, allowed)


def _check_float(
    cfg: SyntheticConfig, field: str, low: float, high: float | None, low_open: bool, high_open: bool = True
) -> None:
    value = getattr(cfg, field)
    lo_br, hi_br = ("(" if low_open else "["), (")" if high_open else "]")
    allowed = f"in {lo_br}{low}, {high if high is not None else 'inf'}{hi_br}"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _fail(field, value, allowed)
    v = float(value)
    if not np.isfinite(v):
        raise _fail(field, value, allowed)
    if v < low or (low_open and v == low):
        raise _fail(field, value, allowed)
    if high is not None and (v > high or (high_open and v == high)):
        raise _fail(field, value, allowed)


def _mean_event_length(cfg: SyntheticConfig) -> float:
    return (1 + cfg.event_length_max) / 2


def _min_event_spacing(cfg: SyntheticConfig) -> int:
    # Start-to-start distance: the longest break, a recovery period and a full precursor window,
    # so no precursor overlaps the previous break.
    return cfg.event_length_max + 2 * cfg.precursor_rows


def validate(cfg: SyntheticConfig) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range for nonsensical configs."""
    _check_int(cfg, "n_rows", 100)
    _check_int(cfg, "n_channels", 2)
    _check_int(cfg, "n_latent", 1, cfg.n_channels, f" (n_channels={cfg.n_channels})")
    _check_int(cfg, "interval_seconds", 1)
    if not isinstance(cfg.start, str):
        raise _fail("start", cfg.start, "an ISO timestamp string such as '2024-01-01T00:00:00'")
    try:
        ts = pd.Timestamp(cfg.start)
    except (ValueError, TypeError) as exc:
        raise _fail("start", cfg.start, "an ISO timestamp string such as '2024-01-01T00:00:00'") from exc
    if ts is pd.NaT:
        raise _fail("start", cfg.start, "an ISO timestamp string such as '2024-01-01T00:00:00'")
    _check_int(cfg, "event_length_max", 1, 1000)
    _check_int(cfg, "precursor_rows", 1, 1000)
    _check_int(cfg, "precursor_channels", 1, cfg.n_channels, f" (n_channels={cfg.n_channels})")
    _check_float(cfg, "event_rate", 0.0, 0.2, low_open=True)
    # Events need a minimum spacing; a rate that cannot fit is rejected rather than silently capped.
    max_rate = _mean_event_length(cfg) / _min_event_spacing(cfg)
    if cfg.event_rate >= max_rate:
        raise _fail(
            "event_rate",
            cfg.event_rate,
            f"in (0, {max_rate:.4g}) given event_length_max={cfg.event_length_max} "
            f"and precursor_rows={cfg.precursor_rows}",
        )
    _check_float(cfg, "precursor_strength", 0.0, None, low_open=False)
    _check_float(cfg, "noise_std", 0.0, None, low_open=True)
    _check_float(cfg, "drift_std", 0.0, None, low_open=False)
    _check_int(cfg, "n_grades", 1, len(string.ascii_uppercase))
    _check_int(cfg, "grade_block_rows", 1)
    _check_float(cfg, "decoy_rate", 0.0, 0.2, low_open=False)
    _check_int(cfg, "seed", 0)


def _latent_factors(rng: np.random.Generator, n_rows: int, n_latent: int) -> np.ndarray:
    phi = rng.uniform(*_PHI_RANGE, size=n_latent)
    # Innovation scaled so each factor has unit stationary variance; start from the stationary
    # distribution so there is no burn-in transient at row 0.
    innov = rng.standard_normal((n_rows, n_latent)) * np.sqrt(1.0 - phi**2)
    innov[0] = rng.standard_normal(n_latent)
    out = np.empty((n_rows, n_latent))
    for j in range(n_latent):  # loop over factors only; lfilter runs the recursion in C
        out[:, j] = lfilter([1.0], [1.0, -phi[j]], innov[:, j])
    return out


def _grades(rng: np.random.Generator, n_rows: int, n_grades: int, block_rows: int) -> np.ndarray:
    n_blocks = n_rows // max(1, block_rows // 2) + 2  # enough blocks even if all are short
    lengths = np.maximum(1, np.rint(block_rows * rng.uniform(0.5, 1.5, size=n_blocks))).astype(np.int64)
    first = rng.integers(n_grades)
    # Each block switches to a different grade: a nonzero step modulo n_grades.
    steps = rng.integers(1, n_grades, size=n_blocks - 1) if n_grades > 1 else np.zeros(n_blocks - 1, int)
    block_grade = (first + np.concatenate([[0], np.cumsum(steps)])) % n_grades
    return np.repeat(block_grade, lengths)[:n_rows]


def _event_starts(rng: np.random.Generator, cfg: SyntheticConfig) -> tuple[np.ndarray, np.ndarray]:
    min_gap = _min_event_spacing(cfg)
    mean_gap = _mean_event_length(cfg) / cfg.event_rate
    # Gap = minimum spacing + geometric extra, so the expected share of event rows is event_rate.
    p = 1.0 / (mean_gap - min_gap + 1.0)
    n_max = cfg.n_rows // min_gap + 2
    extra = rng.geometric(p, size=n_max) - 1
    gaps = min_gap + extra
    # The first event needs a full precursor window before it.
    gaps[0] = cfg.precursor_rows + extra[0]
    starts = np.cumsum(gaps)
    lengths = rng.integers(1, cfg.event_length_max + 1, size=n_max)
    keep = starts < cfg.n_rows
    return starts[keep], lengths[keep]


def _choose_channels(rng: np.random.Generator, pool: np.ndarray, n_draws: int, k: int) -> np.ndarray:
    """Per draw, k distinct channels out of ``pool`` (vectorised sampling without replacement)."""
    order = np.argsort(rng.random((n_draws, pool.size)), axis=1)[:, :k]
    return pool[order]


def _disturbance_amplitudes(
    rng: np.random.Generator,
    n_draws: int,
    n_channels: int,
    pool: np.ndarray,
    k: int,
    size: np.ndarray,
    signature: np.ndarray | None = None,
) -> np.ndarray:
    """(n_draws, n_channels) peak deviations: ``size`` on k pool channels.

    With a ``signature`` (one sign per pool channel) every draw deviates its channels the same way,
    like a fault with a recognisable fingerprint; without one, signs are random (decoys). Signs on
    a few channels are almost orthogonal to the low-rank loading subspace, so the disturbance shows
    up as reconstruction error rather than as a plausible change in the latent factors.
    """
    chans = _choose_channels(rng, pool, n_draws, k)
    if signature is None:
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_draws, k))
    else:
        signs = _signs_for(pool, signature, chans)
    amp = np.zeros((n_draws, n_channels))
    np.put_along_axis(amp, chans, signs * size[:, None], axis=1)
    return amp


def _signs_for(pool: np.ndarray, signature: np.ndarray, chans: np.ndarray) -> np.ndarray:
    lookup = np.zeros(int(pool.max()) + 1)
    lookup[pool] = signature
    return lookup[chans]


def _add_profiles(
    target: np.ndarray, peak_rows: np.ndarray, amp: np.ndarray, offsets: np.ndarray, weights: np.ndarray
) -> None:
    """Add ``weights[j] * amp[e]`` at row ``peak_rows[e] + offsets[j]`` (rows outside range dropped)."""
    if peak_rows.size == 0:
        return
    rows = peak_rows[:, None] + offsets[None, :]
    contrib = weights[None, :, None] * amp[:, None, :]
    ok = (rows >= 0) & (rows < target.shape[0])
    np.add.at(target, rows[ok], contrib[ok])


def generate(cfg: SyntheticConfig) -> pd.DataFrame:
    """Generate the synthetic frame: ``time``, ``grade``, ``s00..`` sensor channels, ``y`` event flag."""
    validate(cfg)
    rng = np.random.default_rng(cfg.seed)
    n, c, p_rows = cfg.n_rows, cfg.n_channels, cfg.precursor_rows

    # --- normal operation -------------------------------------------------------------------------
    latent = _latent_factors(rng, n, cfg.n_latent)
    # Row-normalised loadings give every channel unit signal variance, so noise_std is comparable
    # across channels and precursor_strength means the same thing everywhere.
    loadings = rng.standard_normal((c, cfg.n_latent))
    loadings /= np.linalg.norm(loadings, axis=1, keepdims=True)
    base_offset = rng.normal(0.0, _BASE_OFFSET_STD, size=c)
    grade_offsets = rng.normal(0.0, _GRADE_OFFSET_STD, size=(cfg.n_grades, c))
    grade_idx = _grades(rng, n, cfg.n_grades, cfg.grade_block_rows)
    drift_steps = rng.normal(0.0, cfg.drift_std, size=(n, c))
    drift = lfilter([1.0], [1.0, -_DRIFT_PHI], drift_steps, axis=0)
    noise = rng.normal(0.0, cfg.noise_std, size=(n, c))
    x = latent @ loadings.T + base_offset + grade_offsets[grade_idx] + drift + noise

    # --- events (breaks) and their precursors -----------------------------------------------------
    starts, lengths = _event_starts(rng, cfg)
    y = np.zeros(n, dtype=np.int64)
    if starts.size:
        run_rows = starts[:, None] + np.arange(cfg.event_length_max)[None, :]
        in_run = (np.arange(cfg.event_length_max)[None, :] < lengths[:, None]) & (run_rows < n)
        y[run_rows[in_run]] = 1

    # A fixed susceptible pool: the same part of the machine tends to show trouble before breaks.
    pool = rng.choice(c, size=min(c, 2 * cfg.precursor_channels), replace=False)
    peak = cfg.precursor_strength * cfg.noise_std
    # Quadratic ramp: barely visible early, reaching full strength on the row just before the break.
    ramp = (np.arange(1, p_rows + 1) / p_rows) ** 2
    ramp_offsets = np.arange(-p_rows, 0)
    # Real precursors share a fingerprint (each pool channel always moves the same way), which a
    # supervised model can learn; decoys move the same channels with random signs.
    signature = rng.choice(np.array([-1.0, 1.0]), size=pool.size)
    ev_amp = _disturbance_amplitudes(
        rng, starts.size, c, pool, cfg.precursor_channels, np.full(starts.size, peak), signature
    )
    precursor = np.zeros((n, c))
    _add_profiles(precursor, starts, ev_amp, ramp_offsets, ramp)

    # --- decoys: same build-up, then fade out without a break -------------------------------------
    decoy_peak = np.flatnonzero(rng.random(n) < cfg.decoy_rate)
    # Keep decoys clear of real precursor windows and breaks, so every decoy is a genuine false alarm
    # and never just reinforces a real precursor.
    blocked = np.zeros(n + 1, dtype=np.int64)
    lo = np.clip(starts - 2 * p_rows, 0, n)
    hi = np.clip(starts + lengths + p_rows, 0, n)
    np.add.at(blocked, lo, 1)
    np.add.at(blocked, hi, -1)
    blocked_mask = np.cumsum(blocked[:n]) > 0
    decoy_peak = decoy_peak[(decoy_peak >= p_rows - 1) & ~blocked_mask[decoy_peak]]
    decoy_size = peak * rng.uniform(*_DECOY_STRENGTH_RANGE, size=decoy_peak.size)
    dec_amp = _disturbance_amplitudes(rng, decoy_peak.size, c, pool, cfg.precursor_channels, decoy_size)
    decoy_weights = np.concatenate([ramp, np.asarray(_DECOY_DECAY)])
    decoy_offsets = np.arange(-p_rows + 1, len(_DECOY_DECAY) + 1)
    _add_profiles(precursor, decoy_peak, dec_amp, decoy_offsets, decoy_weights)
    x += precursor

    # Breaks: every channel jumps to a far-off, noisy state.
    event_rows = np.flatnonzero(y)
    break_shift = rng.normal(0.0, _BREAK_SHIFT_STD, size=(starts.size, c))
    run_id = np.repeat(np.arange(starts.size), lengths)[: event_rows.size]
    x[event_rows] += break_shift[run_id] + rng.normal(
        0.0, _BREAK_NOISE_FACTOR * cfg.noise_std, size=(event_rows.size, c)
    )

    # --- assemble -------------------------------------------------------------------------------------
    width = max(2, len(str(c - 1)))
    labels = np.array(list(string.ascii_uppercase[: cfg.n_grades]))
    frame = pd.DataFrame(
        {
            "time": pd.date_range(cfg.start, periods=n, freq=pd.Timedelta(seconds=cfg.interval_seconds)),
            "grade": pd.array(labels[grade_idx], dtype="str"),
        }
    )
    sensors = pd.DataFrame(x.astype(np.float64), columns=[f"s{i:0{width}d}" for i in range(c)])
    frame = pd.concat([frame, sensors], axis=1)
    frame["y"] = y
    return frame
