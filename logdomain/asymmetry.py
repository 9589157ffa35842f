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
  has no zero, the A cell (leak λ_A) needs it (README, *Asymmetric updates*).

References: Y. Wu, T. Gokmen, M. J. Rasch, T. Chen, "Towards Exact Gradient-based Training on Analog
In-memory Computing", arXiv 2406.12774 (2024); T. Gokmen, W. Haensch, "Algorithm for Training Neural
Networks on Resistive Device Arrays", Front. Neurosci. 14:103 (2020); M. J. Rasch et al., "Fast
offset corrected in-memory training", arXiv 2303.04721 (2023) (chopped Tiki-Taka).

The devices live in :mod:`logdomain.asymmetry_devices`, the SGD floor's theory in
:mod:`logdomain.asymmetry_theory`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from .asymmetry_devices import W_MIN, LogDomainPair, SoftBounds, TableDevice, _check

__all__ = ["W_MIN", "FloorProblem", "SoftBounds", "LogDomainPair", "TableDevice", "TikiTaka", "RunResult", "run_sgd", "run_tiki_taka",
           "run_tiki_taka_stream", "teacher"]

FloatArray = NDArray[np.float64]


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


def run_tiki_taka_stream(device: LogDomainPair, x: FloatArray, y: FloatArray, eta: float, tt: TikiTaka, *, substeps: int = 8,
                         asymmetry: float = 0.0) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Continuous-time Tiki-Taka of :func:`run_tiki_taka` on one given stream (one run, no teacher).

    The same rates (:func:`_tt_rate`) and Heun steps, sample k held for η (time in units of τ), the
    chopper c flipping before samples chop_every, 2·chop_every, … (0-based; as in run_tiki_taka); the
    stream ``x`` (K, D), ``y`` (K,) replaces the problem's random one, no read noise. A is
    ``replace(device, lam=tt.a_leak)``, C is ``device`` with ``tt.c_leak`` if given. Returns
    (forward weights (K + 1, D) at the start and after every hold, A's read (K + 1, D)).
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    if x.shape[0] != y.shape[0] or x.shape[0] < 1 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"x must be finite (K, D) and y finite (K,), got shapes {x.shape} and {y.shape}")
    if not isinstance(device, LogDomainPair) or not isinstance(tt, TikiTaka):
        raise ValueError("run_tiki_taka_stream needs a LogDomainPair and a TikiTaka")
    eta = _check("run", "eta", eta, 1e-6, 0.5)
    substeps = _check("run", "substeps", substeps, 1, 1000, integer=True)
    a = np.full((1, 1, 1), float(_asym([asymmetry])[0]))
    shape = (1, 1, x.shape[1])
    dev_a = replace(device, lam=tt.a_leak)
    dev_c = device if tt.c_leak is None else replace(device, lam=tt.c_leak)
    n_a = len(dev_a.init(a, shape))
    state = dev_a.init(a, shape) + dev_c.init(a, shape)
    rho = tt.transfer / (tt.transfer_every * eta)
    hist, hist_a = [dev_c.read(state[n_a:])[0, 0].copy()], [dev_a.read(state[:n_a])[0, 0].copy()]
    dt = eta / substeps
    c = 1.0
    for k in range(x.shape[0]):
        if tt.chop_every and k % tt.chop_every == 0 and k > 0:
            c = -c
        xk, yk = x[k][None, :], np.array([y[k]])

        def e_of(st, xk=xk, yk=yk, c=c):
            w = tt.gamma * c * dev_a.read(st[:n_a]) + dev_c.read(st[n_a:])
            return yk - np.einsum("psd,sd->ps", w, xk)

        for _ in range(substeps):
            k1 = _tt_rate(dev_a, dev_c, n_a, state, e_of, xk, a, tt, c, rho)
            trial = _tt_clamp(dev_a, dev_c, n_a, [s + dt * r for s, r in zip(state, k1)])
            k2 = _tt_rate(dev_a, dev_c, n_a, trial, e_of, xk, a, tt, c, rho)
            state = _tt_clamp(dev_a, dev_c, n_a, [s + 0.5 * dt * (p + q) for s, p, q in zip(state, k1, k2)])
        read_a = dev_a.read(state[:n_a])[0, 0]
        hist.append(tt.gamma * c * read_a + dev_c.read(state[n_a:])[0, 0])
        hist_a.append(read_a.copy())
    return np.array(hist), np.array(hist_a)
