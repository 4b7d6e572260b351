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

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from rarewatch.errors import ConfigError
from rarewatch.section import Section

__all__ = ["DEFAULTS", "SyntheticConfig", "generate"]

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


class SyntheticConfig(Section):
    """Parameters of the synthetic process (`data.synthetic`); each field's range is checked on creation.

    No field has a default: a key missing from the config is an error, never a silent value.
    """

    n_rows: int = Field(ge=100)
    n_channels: int = Field(ge=2)
    n_latent: int = Field(ge=1)  # <= n_channels
    interval_seconds: int = Field(ge=1)
    start: str  # an ISO timestamp
    event_rate: float = Field(gt=0, lt=0.2)  # share of event rows; see _room_for_events
    event_length_max: int = Field(ge=1, le=1000)
    precursor_rows: int = Field(ge=1, le=1000)
    precursor_channels: int = Field(ge=1)  # <= n_channels
    precursor_strength: float = Field(ge=0)
    noise_std: float = Field(gt=0)
    drift_std: float = Field(ge=0)
    n_grades: int = Field(ge=1, le=len(string.ascii_uppercase))
    grade_block_rows: int = Field(ge=1)
    decoy_rate: float = Field(ge=0, le=0.2)
    seed: int = Field(ge=0)

    @field_validator("start")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        try:
            ok = pd.Timestamp(value) is not pd.NaT
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise ValueError("must be an ISO timestamp string such as '2024-01-01T00:00:00'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SyntheticConfig:
        for key in ("n_latent", "precursor_channels"):
            if getattr(self, key) > self.n_channels:
                raise ConfigError(
                    f"data.synthetic.{key}={getattr(self, key)} must be at most data.synthetic.n_channels="
                    f"{self.n_channels}"
                )
        # Events need a minimum spacing; a rate that cannot fit is rejected rather than silently capped.
        max_rate = _mean_event_length(self) / _min_event_spacing(self)
        if self.event_rate >= max_rate:
            raise ConfigError(
                f"data.synthetic.event_rate={self.event_rate} must be below {max_rate:.4g} given "
                f"data.synthetic.event_length_max={self.event_length_max} and data.synthetic.precursor_rows="
                f"{self.precursor_rows} (events need room for their precursors)"
            )
        return self


def _mean_event_length(cfg: SyntheticConfig) -> float:
    return (1 + cfg.event_length_max) / 2


def _min_event_spacing(cfg: SyntheticConfig) -> int:
    # Start-to-start distance: the longest break, a recovery period and a full precursor window,
    # so no precursor overlaps the previous break.
    return cfg.event_length_max + 2 * cfg.precursor_rows


# The values of conf/data/synthetic.yaml (a test checks that they agree).
DEFAULTS = SyntheticConfig(
    n_rows=20000,
    n_channels=40,
    n_latent=4,
    interval_seconds=120,
    start="2024-01-01T00:00:00",
    event_rate=0.007,
    event_length_max=3,
    precursor_rows=10,
    precursor_channels=6,
    precursor_strength=2.75,
    noise_std=0.3,
    drift_std=0.005,
    n_grades=3,
    grade_block_rows=1500,
    decoy_rate=0.004,
    seed=42,
)


def _latent_factors(rng: np.random.Generator, n_rows: int, n_latent: int) -> np.ndarray:
    phi = rng.uniform(*_PHI_RANGE, size=n_latent)
    # Innovation scaled so each factor has unit stationary variance; start from the stationary
    # distribution so there is no burn-in transient at row 0.
    innov = rng.standard_normal((n_rows, n_latent)) * np.sqrt(1.0 - phi**2)
    innov[0] = rng.standard_normal(n_latent)
    out = np.empty((n_rows, n_latent))
    from scipy.signal import lfilter  # here, not at the top: every stage imports this module via config

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
    from scipy.signal import lfilter

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
