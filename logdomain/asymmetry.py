"""Asymmetric weight updates: analog SGD's floor and Tiki-Taka, on two device models (behavioural).

Device model of Wu, Gokmen, Rasch & Chen (2024): a requested change Δ of a weight w becomes
``ΔW = α(Δ·F(w) − |Δ|·G(w))``, with F = (q₋ + q₊)/2 and G = (q₋ − q₊)/2 the symmetric and
asymmetric parts of the up and down response factors q₊(w), q₋(w). Two devices, in continuous time
(time in units of the device's τ; a sample is held for η, so "discrete" is one Euler step of η)::

    reference (soft bounds, bound 1/a):  dW/dt = r − a·|r|·W                 F = 1, G(w) = a·w
    log-domain pair (W = W⁺ − W⁻):       dW⁺/dt = (1 + a)·[r]₊ − λW⁺ − Z
                                         dW⁻/dt = (1 − a)·[−r]₊ − λW⁻ − Z    F = 1, G = −a (no w)
                                         Z = β·max(W⁺ + W⁻ − S₀, 0)  (common-mode feedback)

``r`` is the drive (the negative stochastic gradient e·x times a rate). **Asymmetry** ``a`` is on
one axis for both: ``a = |G(w)/F(w)| = |q₋ − q₊|/(q₋ + q₊)`` at |w| = 1, the teacher's largest
weight (Wu et al.'s response factors; for soft bounds a = 1/τ_bound in units of max|w*|, for the
pair a = (Δg/2)/ḡ, the half-gain difference). The soft-bounds device has a symmetric point
(G(0) = 0), the pair has none: its G is the same at every w. Half-gain states W± are currents of
log-domain cells (units of max|w*|), kept ≥ :data:`W_MIN`; β, S₀ come from the calibration
(``LogDomainPair.from_calibration``).

Problem: a teacher w* (D weights, max|w*| = 1), inputs x ~ N(0, I_D), targets y = w*ᵀx + σ·ξ (target
noise σ: the gradient noise that makes the floor; optional read noise σ_r on every forward read of
the weights). The **asymptotic error** of a run is the test MSE of its weights against the noise-free
teacher, E_x[((w − w*)ᵀx)²] = ‖w − w*‖² (exact for x ~ N(0, I)), averaged over the last half of the
records and over seeds (common random numbers: every asymmetry sees the same samples).

Algorithms (vectorised over asymmetries × seeds × weights, numpy):

* SGD: one device per weight, drive r = e·x, e = y − wᵀx.
* Tiki-Taka (Gokmen & Haensch 2020): devices A and C per weight, forward W = γ·c·A + C; A takes the
  gradient drive c·e·x; every ``transfer_every`` samples C takes the drive β_t·c·A (the read of A)
  — discrete as published (all weights transferred at once); in continuous time C is driven
  continuously at rate ρ = β_t/(transfer_every·η). ``c`` = ±1 is a chopper flipping every
  ``chop_every`` samples (0: off, c ≡ 1, the published algorithm): on the log-domain pair, whose G
  has no zero, the A cell (leak λ_A) needs it (see :func:`theory_floor`).

References: Y. Wu, T. Gokmen, M. J. Rasch, T. Chen, "Towards Exact Gradient-based Training on Analog
In-memory Computing", arXiv 2406.12774 (2024); T. Gokmen, W. Haensch, "Algorithm for Training Neural
Networks on Resistive Device Arrays", Front. Neurosci. 14:103 (2020); M. J. Rasch et al., "Fast
offset corrected in-memory training", arXiv 2303.04721 (2023) (chopped Tiki-Taka).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["W_MIN", "FloorProblem", "SoftBounds", "LogDomainPair", "TableDevice", "TikiTaka", "RunResult", "run_sgd", "run_tiki_taka",
           "teacher", "theory_floor", "abs_product_mean"]

FloatArray = NDArray[np.float64]

#: smallest half-cell state W± (units of max|w*|): a log-domain current never reaches 0
W_MIN = 1e-6


def _check(owner: str, name: str, value: Any, low: float, high: float, *, integer: bool = False) -> Any:
    """``value`` if it is a finite number (an int when ``integer``) in [low, high], else ValueError naming it."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value)) and low <= float(value) <= high
    if integer:
        ok = ok and float(value) == int(value)
    if not ok:
        kind = "an integer" if integer else "a finite number"
        raise ValueError(f"{owner}.{name} must be {kind} in [{low:g}, {high:g}], got {value!r}")
    return int(value) if integer else float(value)


def teacher(dim: int) -> FloatArray:
    """The teacher w* (dim,): evenly spread magnitudes 1 … 1/dim, alternating sign (max|w*| = 1)."""
    mags = np.linspace(1.0, 1.0 / dim, dim)
    return mags * np.where(np.arange(dim) % 2 == 0, 1.0, -1.0)


@dataclass(frozen=True, kw_only=True)
class FloorProblem:
    """Teacher-student regression whose noise makes the floor.

    Parameters
    ----------
    dim : int
        Weights D, 1 … 64.
    noise_std : float
        σ of the target noise (units of y; y = w*ᵀx + σξ, x ~ N(0, I)), 0 … 10.
    read_noise_std : float
        σ_r of Gaussian noise added to every weight at every forward read (units of max|w*|), 0 … 10.
    steps : int
        Samples per run (each one update), 100 … 10⁷.
    seeds : int
        Independent runs (sample streams) per setting, 1 … 10⁴.
    records : int
        Test-MSE records per run, evenly spaced; the floor is the mean of the last half, 4 … 10⁴.
    seed : int
        Seed of the streams (≥ 0).
    teacher_scale : float
        max|w*| (units of the devices' weight), 0.01 … 10; the asymmetry axis is defined at |w| = 1.
    """

    dim: int = 4
    noise_std: float = 0.5
    read_noise_std: float = 0.0
    steps: int = 20_000
    seeds: int = 64
    records: int = 200
    seed: int = 0
    teacher_scale: float = 1.0

    def __post_init__(self) -> None:
        o = "FloorProblem"
        object.__setattr__(self, "teacher_scale", _check(o, "teacher_scale", self.teacher_scale, 0.01, 10.0))
        object.__setattr__(self, "dim", _check(o, "dim", self.dim, 1, 64, integer=True))
        object.__setattr__(self, "noise_std", _check(o, "noise_std", self.noise_std, 0.0, 10.0))
        object.__setattr__(self, "read_noise_std", _check(o, "read_noise_std", self.read_noise_std, 0.0, 10.0))
        object.__setattr__(self, "steps", _check(o, "steps", self.steps, 100, 10_000_000, integer=True))
        object.__setattr__(self, "seeds", _check(o, "seeds", self.seeds, 1, 10_000, integer=True))
        object.__setattr__(self, "records", _check(o, "records", self.records, 4, 10_000, integer=True))
        object.__setattr__(self, "seed", _check(o, "seed", self.seed, 0, 2**63 - 1, integer=True))
        if self.records > self.steps:
            raise ValueError(f"FloorProblem.records must be <= steps ({self.steps}), got {self.records}")

    @property
    def w_star(self) -> FloatArray:
        return self.teacher_scale * teacher(self.dim)


@dataclass(frozen=True, kw_only=True)
class SoftBounds:
    """The reference device of Wu et al.: soft bounds ±1/a, dW/dt = r − a·|r|·W (no parameters
    but the asymmetry, which the runs take as an array)."""

    name: str = "reference"

    def init(self, a: FloatArray, shape: tuple[int, ...]) -> list[FloatArray]:
        return [np.zeros(shape)]

    @staticmethod
    def read(state: list[FloatArray]) -> FloatArray:
        return state[0]

    @staticmethod
    def rate(state: list[FloatArray], r: FloatArray, a: FloatArray) -> list[FloatArray]:
        return [r - a * np.abs(r) * state[0]]

    @staticmethod
    def clamp(state: list[FloatArray]) -> list[FloatArray]:
        return state

    def response(self, w: FloatArray, a: float) -> tuple[FloatArray, FloatArray]:
        """(q₊(w), q₋(w)): the up and down step per unit request at weight w."""
        w = np.asarray(w, dtype=float)
        return 1.0 - a * w, 1.0 + a * w


@dataclass(frozen=True, kw_only=True)
class LogDomainPair:
    """Pseudo-differential pair of log-domain cells (W = W⁺ − W⁻) with a half-gain difference.

    Parameters
    ----------
    lam : float
        λ of each half (the cells' decay, units of 1/τ), 0 … 1000.
    cm_set : float
        S₀, common-mode set point of W⁺ + W⁻ (units of max|w*|), 0.1 … 100.
    cm_gain : float
        β of the common-mode sink Z = β·max(S − S₀, 0) (1/τ), 0 … 100.
    lam_mismatch : float
        Relative λ difference of the halves, λ± = λ(1 ± lam_mismatch), −1 … 1 (couples the
        common mode into w: dw/dt ∋ −λ·lam_mismatch·S).
    """

    lam: float = 1e-3
    cm_set: float = 1.4
    cm_gain: float = 1.0
    lam_mismatch: float = 0.0
    name: str = "logdomain"

    def __post_init__(self) -> None:
        o = "LogDomainPair"
        object.__setattr__(self, "lam", _check(o, "lam", self.lam, 0.0, 1000.0))
        object.__setattr__(self, "cm_set", _check(o, "cm_set", self.cm_set, 0.1, 100.0))
        object.__setattr__(self, "cm_gain", _check(o, "cm_gain", self.cm_gain, 0.0, 100.0))
        object.__setattr__(self, "lam_mismatch", _check(o, "lam_mismatch", self.lam_mismatch, -1.0, 1.0))

    @classmethod
    def from_calibration(cls, calibration: Any, **kw: Any) -> "LogDomainPair":
        """The pair of the calibrated learner in units of its weights (w = s_w·(W⁺ − W⁻)): S₀ = s_w·i_cm/i_u
        × the realised ``cm_set_ratio``, β = cm_gain × ``cm_gain_ratio``, λ = the design λ."""
        fit = calibration.learner
        d, diag = fit.design, fit.diagnostics or {}
        s0 = d["w_scale"] * d["i_cm_a"] / d["i_u_a"] * float(diag.get("cm_set_ratio", 1.0))
        beta = d["cm_gain"] * float(diag.get("cm_gain_ratio", 1.0))
        return cls(**{"lam": float(d["lam"]), "cm_set": s0, "cm_gain": beta, **kw})

    def init(self, a: FloatArray, shape: tuple[int, ...]) -> list[FloatArray]:
        return [np.full(shape, 0.5 * self.cm_set), np.full(shape, 0.5 * self.cm_set)]

    @staticmethod
    def read(state: list[FloatArray]) -> FloatArray:
        return state[0] - state[1]

    def rate(self, state: list[FloatArray], r: FloatArray, a: FloatArray) -> list[FloatArray]:
        wp, wm = state
        z = self.cm_gain * np.maximum(wp + wm - self.cm_set, 0.0)
        lp, lm = self.lam * (1.0 + self.lam_mismatch), self.lam * (1.0 - self.lam_mismatch)
        return [(1.0 + a) * np.maximum(r, 0.0) - lp * wp - z, (1.0 - a) * np.maximum(-r, 0.0) - lm * wm - z]

    @staticmethod
    def clamp(state: list[FloatArray]) -> list[FloatArray]:
        return [np.maximum(s, W_MIN) for s in state]

    def response(self, w: FloatArray, a: float) -> tuple[FloatArray, FloatArray]:
        """(q₊(w), q₋(w)) of the pair's law: 1 ± a wherever both halves are above their floor."""
        w = np.asarray(w, dtype=float)
        return np.full(w.shape, 1.0 + a), np.full(w.shape, 1.0 - a)


@dataclass(frozen=True, kw_only=True)
class TableDevice:
    """A device whose response factors are measured tables: dW/dt = q₊(W)·[r]₊ − q₋(W)·[−r]₊ − λW.

    One table per asymmetry point (the runs' ``asymmetry`` only labels them): ``w`` (n,) increasing
    weight grid, ``q_plus``/``q_minus`` (P, n), interpolated linearly and held constant beyond the
    grid (e.g. the SPICE-measured pairs of :mod:`calibration.update_response`, normalised so F = 1 at
    w = 0 of the nominal pair). ``lam``: decay (1/τ), 0 … 1000.
    """

    w: tuple[float, ...]
    q_plus: tuple[tuple[float, ...], ...]
    q_minus: tuple[tuple[float, ...], ...]
    lam: float = 0.0
    name: str = "table"

    def __post_init__(self) -> None:
        w = np.asarray(self.w, dtype=float)
        qp, qm = np.asarray(self.q_plus, dtype=float), np.asarray(self.q_minus, dtype=float)
        if w.ndim != 1 or w.size < 2 or not np.all(np.isfinite(w)) or np.any(np.diff(w) <= 0):
            raise ValueError("TableDevice.w must be >= 2 increasing finite numbers")
        for name, q in (("q_plus", qp), ("q_minus", qm)):
            if q.ndim != 2 or q.shape[1] != w.size or not np.all(np.isfinite(q)) or np.any(q < 0):
                raise ValueError(f"TableDevice.{name} must be (tables, {w.size}) finite numbers >= 0, got shape {q.shape}")
        if qp.shape != qm.shape:
            raise ValueError(f"TableDevice.q_plus and q_minus must have one shape, got {qp.shape} and {qm.shape}")
        object.__setattr__(self, "lam", _check("TableDevice", "lam", self.lam, 0.0, 1000.0))

    def init(self, a: FloatArray, shape: tuple[int, ...]) -> list[FloatArray]:
        if shape[0] != len(self.q_plus):
            raise ValueError(f"TableDevice has {len(self.q_plus)} tables; the run has {shape[0]} asymmetry points")
        return [np.zeros(shape)]

    @staticmethod
    def read(state: list[FloatArray]) -> FloatArray:
        return state[0]

    def _interp(self, w: FloatArray) -> tuple[FloatArray, FloatArray]:
        """q₊, q₋ at states ``w`` (P, …), table p for row p: linear, constant beyond the grid."""
        grid = np.asarray(self.w)
        idx = np.clip(np.searchsorted(grid, w) - 1, 0, grid.size - 2)
        t = np.clip((w - grid[idx]) / (grid[idx + 1] - grid[idx]), 0.0, 1.0)
        rows = np.arange(w.shape[0]).reshape((-1,) + (1,) * (w.ndim - 1))
        qp, qm = np.asarray(self.q_plus), np.asarray(self.q_minus)
        return (qp[rows, idx] * (1 - t) + qp[rows, idx + 1] * t, qm[rows, idx] * (1 - t) + qm[rows, idx + 1] * t)

    def rate(self, state: list[FloatArray], r: FloatArray, a: FloatArray) -> list[FloatArray]:
        w = state[0]
        qp, qm = self._interp(w)
        return [qp * np.maximum(r, 0.0) - qm * np.maximum(-r, 0.0) - self.lam * w]

    @staticmethod
    def clamp(state: list[FloatArray]) -> list[FloatArray]:
        return state

    def response(self, w: FloatArray, p: int = 0) -> tuple[FloatArray, FloatArray]:
        """(q₊(w), q₋(w)) of table ``p``."""
        w = np.asarray(w, dtype=float)
        return np.interp(w, self.w, self.q_plus[p]), np.interp(w, self.w, self.q_minus[p])


@dataclass(frozen=True, kw_only=True)
class TikiTaka:
    """Settings of Tiki-Taka (:func:`run_tiki_taka`).

    Parameters
    ----------
    gamma : float
        γ of the forward read W = γ·A + C, 0 … 10.
    transfer : float
        β_t, the drive of C per transfer, in units of A's read (dimensionless), 0 … 10.
    transfer_every : int
        Samples between transfers (discrete time), 1 … 10⁶.
    a_rate : float
        A's drive per unit gradient relative to SGD's η, 0 … 100.
    a_leak : float
        λ_A of a log-domain A pair (1/τ; ignored by the soft-bounds device), 0 … 1000.
    chop_every : int
        Samples between chopper sign flips (0: no chopper), 0 … 10⁶.
    c_leak : float or None
        λ_C of a log-domain C pair (1/τ; None: the device's λ). C integrates the gradient at the
        effective rate ρ·a_rate/λ_A (per τ) instead of 1, so the same ridge needs λ_C = λ·ρ·a_rate/λ_A.
    """

    gamma: float = 0.0
    transfer: float = 0.01
    transfer_every: int = 1
    a_rate: float = 1.0
    a_leak: float = 0.0
    chop_every: int = 0
    c_leak: float | None = None

    def __post_init__(self) -> None:
        o = "TikiTaka"
        if self.c_leak is not None:
            object.__setattr__(self, "c_leak", _check(o, "c_leak", self.c_leak, 0.0, 1000.0))
        object.__setattr__(self, "gamma", _check(o, "gamma", self.gamma, 0.0, 10.0))
        object.__setattr__(self, "transfer", _check(o, "transfer", self.transfer, 0.0, 10.0))
        object.__setattr__(self, "transfer_every", _check(o, "transfer_every", self.transfer_every, 1, 10**6, integer=True))
        object.__setattr__(self, "a_rate", _check(o, "a_rate", self.a_rate, 0.0, 100.0))
        object.__setattr__(self, "a_leak", _check(o, "a_leak", self.a_leak, 0.0, 1000.0))
        object.__setattr__(self, "chop_every", _check(o, "chop_every", self.chop_every, 0, 10**6, integer=True))


@dataclass(frozen=True)
class RunResult:
    """Test MSE against the noise-free teacher of runs over asymmetries × seeds.

    ``mse`` (records, P, S) at samples ``record_step`` (records,); ``weights`` (P, S, D) at the end
    (for Tiki-Taka the forward weights γ·c·A + C, chopper sign of the last sample).
    """

    asymmetry: FloatArray
    record_step: NDArray[np.int64]
    mse: FloatArray
    weights: FloatArray

    def floor(self) -> FloatArray:
        """(P,) mean test MSE over the last half of the records and over seeds."""
        half = self.mse.shape[0] // 2
        return self.mse[half:].mean(axis=(0, 2))

    def floor_sem(self) -> FloatArray:
        """(P,) standard error over seeds of the per-seed last-half means."""
        half = self.mse.shape[0] // 2
        per_seed = self.mse[half:].mean(axis=0)
        return per_seed.std(axis=1, ddof=1) / math.sqrt(per_seed.shape[1]) if per_seed.shape[1] > 1 else np.zeros(len(per_seed))

    def drift(self) -> FloatArray:
        """(P,) convergence check: mean MSE of the last quarter of the records over that of the third
        quarter, minus 1 (near 0 once the floor is reached; seed noise is its scale)."""
        n = self.mse.shape[0]
        q3 = self.mse[n // 2:(3 * n) // 4].mean(axis=(0, 2))
        q4 = self.mse[(3 * n) // 4:].mean(axis=(0, 2))
        return q4 / q3 - 1.0


def _asym(asymmetry: Sequence[float] | FloatArray) -> FloatArray:
    a = np.atleast_1d(np.asarray(asymmetry, dtype=float))
    if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a > 0.9):
        raise ValueError(f"asymmetry must be a non-empty list of numbers in [0, 0.9], got {asymmetry!r}")
    return a


def _check_eta(eta: float, substeps: int) -> tuple[float, int]:
    eta = _check("run", "eta", eta, 1e-6, 0.5)
    substeps = _check("run", "substeps", substeps, 0, 1000, integer=True)
    return eta, substeps


class _Stream:
    """Samples of all seeds in chunks (x (S, D), y (S,) per sample; one generator per seed stream)."""

    CHUNK = 2048

    def __init__(self, problem: FloorProblem) -> None:
        self.p = problem
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(problem.seed)))
        self.w_star = problem.w_star
        self.k = self.CHUNK

    def next(self) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        if self.k == self.CHUNK:
            p = self.p
            self.x = self.rng.standard_normal((self.CHUNK, p.seeds, p.dim))
            self.y = self.x @ self.w_star + p.noise_std * self.rng.standard_normal((self.CHUNK, p.seeds))
            self.rn = p.read_noise_std * self.rng.standard_normal((self.CHUNK, p.seeds, p.dim)) if p.read_noise_std else None
            self.k = 0
        k = self.k
        self.k += 1
        return self.x[k], self.y[k], None if self.rn is None else self.rn[k]


def _record_steps(problem: FloorProblem) -> NDArray[np.int64]:
    return np.unique(np.linspace(problem.steps / problem.records, problem.steps, problem.records).round().astype(np.int64))


def _heun(device, state, drive_of, a, h: float, substeps: int):
    """Integrate ``d state/dt = device.rate(state, drive_of(state))`` over h: one Euler step when
    ``substeps`` is 0 (the discrete update), else ``substeps`` Heun (RK2) steps."""
    if substeps == 0:
        k1 = device.rate(state, drive_of(state), a)
        return device.clamp([s + h * k for s, k in zip(state, k1)])
    dt = h / substeps
    for _ in range(substeps):
        k1 = device.rate(state, drive_of(state), a)
        trial = device.clamp([s + dt * k for s, k in zip(state, k1)])
        k2 = device.rate(trial, drive_of(trial), a)
        state = device.clamp([s + 0.5 * dt * (p + q) for s, p, q in zip(state, k1, k2)])
    return state


def run_sgd(device: SoftBounds | LogDomainPair | TableDevice, asymmetry: Sequence[float], problem: FloorProblem, eta: float, *,
            substeps: int = 0) -> RunResult:  # fmt: skip
    """Analog SGD on ``device`` for every asymmetry × seed.

    ``eta`` (0 < η ≤ 0.5): the step (discrete) or the hold T_s/τ (continuous); ``substeps`` 0: discrete
    (w ← w + η·rate, one Euler step per sample); ≥ 1: continuous time, the sample held for η and
    integrated with that many Heun steps (drive recomputed from the state at every stage).
    """
    a_list = _asym(asymmetry)
    eta, substeps = _check_eta(eta, substeps)
    a = a_list[:, None, None]
    shape = (len(a_list), problem.seeds, problem.dim)
    state = device.init(a, shape)
    stream, w_star = _Stream(problem), problem.w_star
    rec = _record_steps(problem)
    mse = np.empty((len(rec), len(a_list), problem.seeds))
    j = 0
    for k in range(1, problem.steps + 1):
        x, y, rn = stream.next()

        def drive(st, x=x, y=y, rn=rn):
            w = device.read(st) if rn is None else device.read(st) + rn
            e = y - np.einsum("psd,sd->ps", w, x)
            return e[..., None] * x

        state = _heun(device, state, drive, a, eta, substeps)
        if k == rec[j]:
            mse[j] = np.sum((device.read(state) - w_star) ** 2, axis=-1)
            j += 1
    return RunResult(a_list, rec, mse, device.read(state).copy())


def run_tiki_taka(device: SoftBounds | LogDomainPair | TableDevice, asymmetry: Sequence[float], problem: FloorProblem, eta: float,
                  tt: TikiTaka = TikiTaka(), *, substeps: int = 0) -> RunResult:  # fmt: skip
    """Tiki-Taka on two ``device`` instances per weight (A and C) for every asymmetry × seed.

    Discrete (``substeps`` 0): per sample, A ← A + η·rate_A(c·a_rate·e·x) (A's device law, plus leak
    λ_A on a log-domain A); every ``transfer_every`` samples C ← C + h_t·rate_C(β_t·c·A/h_t), one Euler step of C's law over the time since the last
    transfer, h_t = transfer_every·η (β_t: the fraction of A's read moved into C per transfer; C's
    leak and common-mode feedback act over h_t). Continuous
    (``substeps`` ≥ 1): both integrated together over each hold η, C driven at ρ = β_t/(transfer_every·η).
    Forward W = γ·c·A + C (the gradient's e uses it, read noise added to each read).
    """
    a_list = _asym(asymmetry)
    eta, substeps = _check_eta(eta, substeps)
    if not isinstance(tt, TikiTaka):
        raise ValueError(f"tt must be a TikiTaka, got {type(tt).__name__}")
    a = a_list[:, None, None]
    shape = (len(a_list), problem.seeds, problem.dim)
    leaky = isinstance(device, (LogDomainPair, TableDevice))
    dev_a = replace(device, lam=tt.a_leak) if leaky else device
    if leaky and tt.c_leak is not None:
        device = replace(device, lam=tt.c_leak)
    n_a = len(dev_a.init(a, shape))
    state = dev_a.init(a, shape) + device.init(a, shape)
    stream, w_star = _Stream(problem), problem.w_star
    rec = _record_steps(problem)
    mse = np.empty((len(rec), len(a_list), problem.seeds))
    rho = tt.transfer / (tt.transfer_every * eta)
    j = 0
    c = 1.0

    def forward(st, c):
        return tt.gamma * c * dev_a.read(st[:n_a]) + device.read(st[n_a:])

    for k in range(1, problem.steps + 1):
        x, y, rn = stream.next()
        if tt.chop_every and (k - 1) % tt.chop_every == 0 and k > 1:
            c = -c

        def e_of(st, x=x, y=y, rn=rn, c=c):
            w = forward(st, c) if rn is None else forward(st, c) + rn
            return y - np.einsum("psd,sd->ps", w, x)

        if substeps == 0:
            drive_a = (c * tt.a_rate * e_of(state))[..., None] * x
            new_a = dev_a.clamp([s + eta * r for s, r in zip(state[:n_a], dev_a.rate(state[:n_a], drive_a, a))])
            state = new_a + state[n_a:]
            if k % tt.transfer_every == 0:
                read_a = dev_a.read(state[:n_a]) if rn is None else dev_a.read(state[:n_a]) + rn
                cs, h_t = state[n_a:], tt.transfer_every * eta
                drive_c = (tt.transfer / h_t) * c * read_a
                state = state[:n_a] + device.clamp([s + h_t * r for s, r in zip(cs, device.rate(cs, drive_c, a))])
        else:
            dt = eta / substeps
            for _ in range(substeps):
                k1 = _tt_rate(dev_a, device, n_a, state, e_of, x, a, tt, c, rho)
                trial = _tt_clamp(dev_a, device, n_a, [s + dt * r for s, r in zip(state, k1)])
                k2 = _tt_rate(dev_a, device, n_a, trial, e_of, x, a, tt, c, rho)
                state = _tt_clamp(dev_a, device, n_a, [s + 0.5 * dt * (p + q) for s, p, q in zip(state, k1, k2)])
        if k == rec[j]:
            mse[j] = np.sum((forward(state, c) - w_star) ** 2, axis=-1)
            j += 1
    return RunResult(a_list, rec, mse, forward(state, c).copy())


def _tt_rate(dev_a, dev_c, n_a, st, e_of, x, a, tt: TikiTaka, c: float, rho: float) -> list[FloatArray]:
    drive_a = (c * tt.a_rate * e_of(st))[..., None] * x
    return dev_a.rate(st[:n_a], drive_a, a) + dev_c.rate(st[n_a:], rho * c * dev_a.read(st[:n_a]), a)


def _tt_clamp(dev_a, dev_c, n_a, st) -> list[FloatArray]:
    return dev_a.clamp(st[:n_a]) + dev_c.clamp(st[n_a:])


# ------------------------------------------------------------------------------------- theory


def abs_product_mean(sigma_e: FloatArray, cov: FloatArray) -> FloatArray:
    """E|e·x| for jointly Gaussian e (std σ_e) and x (std 1) with covariance ``cov``:
    (2/π)·σ_e·(√(1 − ρ²) + ρ·arcsin ρ), ρ = cov/σ_e."""
    sigma_e = np.asarray(sigma_e, dtype=float)
    rho = np.clip(np.asarray(cov, dtype=float) / np.maximum(sigma_e, 1e-300), -1.0, 1.0)
    return (2.0 / math.pi) * sigma_e * (np.sqrt(1.0 - rho * rho) + rho * np.arcsin(rho))


def theory_floor(device: str, asymmetry: Sequence[float], problem: FloorProblem, eta: float, lam: float = 0.0,
                 iterations: int = 200) -> dict[str, FloatArray]:  # fmt: skip
    """Predicted SGD floor (test MSE vs the noise-free teacher) = bias² + variance, per asymmetry.

    Stationarity of E[Δw] with x ~ N(0, I), δ = w − w*, σ_e² = σ² + σ_r²·D + E‖δ‖² (read noise n on
    every weight adds −nᵀx to e; in the variance term its power is σ_r²(D + 2), E[(nᵀx)²x_i²]) and
    m_i = E|e·x_i| (:func:`abs_product_mean`, jointly Gaussian e and x_i, cov(e, x_i) = −δ_i):

    * reference (soft bounds): −δ_i − a·m_i·w_i = 0  ⇒  w_i = w*_i/(1 + a·m_i) (shrinks toward the
      symmetric point 0; Wu et al.'s G(w) = a·w);
    * log-domain pair: −δ_i − λw_i + a·m_i = 0  ⇒  w_i = (w*_i + a·m_i)/(1 + λ) (a shift, the same
      sign on every weight: G = −a has no zero).

    Variance (fluctuation about the biased point, small-η SGD on isotropic Gaussian inputs, the
    asymmetry's effect on it to first order neglected but the pair's (1 + a²) on the step's power):
    E‖w − w̄‖² = η·σ_e²·D·k/(2 − η(D + 2)), k = 1 (reference) or 1 + a² (pair). Floor = ‖w̄ − w*‖² +
    variance, σ_e solved self-consistently. Assumptions: η small (η(D + 2) < 2), weights inside
    the device's range (|w| < 1/a, the pair's halves above their floor), no common-mode coupling.

    Tiki-Taka (Wu et al. 2024): on a device with a symmetric point (soft bounds, G(0) = 0), the
    bias vanishes: the asymmetric floor is zero and what is left is the noise floor of the slow C
    path — independent of the asymmetry. Returns ``bias``, ``variance``, ``floor`` (P,) each.
    """
    a = _asym(asymmetry)
    if device not in ("reference", "logdomain"):
        raise ValueError(f"device must be 'reference' or 'logdomain', got {device!r}")
    ws = problem.w_star[None, :]
    d = problem.dim
    if eta * (d + 2) >= 2:
        raise ValueError(f"theory_floor needs eta*(dim + 2) < 2 (stable SGD variance), got eta {eta:g}, dim {d}")
    k = np.ones_like(a) if device == "reference" else 1.0 + a * a
    w = ws.repeat(len(a), 0)
    var = np.zeros(len(a))
    for _ in range(iterations):
        delta = w - ws
        base = problem.noise_std**2 + np.sum(delta**2, axis=1) + var
        sig = np.sqrt(base + problem.read_noise_std**2 * d)[:, None]
        m = abs_product_mean(sig, -delta)
        w_new = ws / (1.0 + a[:, None] * m) if device == "reference" else (ws + a[:, None] * m) / (1.0 + lam)
        var = eta * (base + problem.read_noise_std**2 * (d + 2)) * d * k / (2.0 - eta * (d + 2))
        w = 0.5 * (w + w_new)
    bias = np.sum((w - ws) ** 2, axis=1)
    return {"bias": bias, "variance": var, "floor": bias + var}
