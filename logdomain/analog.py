"""Behavioural analog SGDr learner driven by a fitted :class:`calibration.schema.Calibration`.

The learner integrates the continuous SGDr law of DESIGN.md §2–3 through models of its blocks::

    e      = y − Σ_i M_f,i(w_i x_i)                      (forward multipliers, KCL sum)
    τ_i dw_i/dt = A(M_u,i(e x_i) − λ w_i − ℓ sign(w_i))  (update multiplier, weight cell)
    M(p)   = g · g_die · sign(p)|p|^(1+ν) + o             (multiplier: gain, mismatch, nonlinearity, offset)
    A(f)   = (1 + a·sign(f)) f                           (up/down update asymmetry)
    w_i ∈ [−w_max, w_max]                                (range of the cell's output current)

All signals are dimensionless values ``v = I/I_u`` (I_u = ``blocks.i_unit_a``), so the
calibration's currents are divided by I_u: offset ``o = multiplier_offset_a/multiplier_i_unit_a``,
``w_max = i_w_max_a/I_u``. The calibrated cell leak ``leak_a`` is *not* mapped: in the
pseudo-differential learner both halves leak alike, ``τ dw±/dt = P± − λw± − ℓ``, and ℓ cancels
in ``w = w⁺ − w⁻`` (the SPICE learner confirms it: a model with the leak is further from SPICE
than one without). ``leak`` stays available for single-ended studies. ``η = T_s/τ`` is the programmed ratio; the realised
``τ = τ_design (1 + tau_rel_error)`` and each weight cell's τ scatters with its bias device.

Per die, every multiplier and every integrator bias device gets an independent gain
``e^{ΔV_T/(n U_T)}`` (lognormal, ``σ = mismatch.gain_sigma``, Pelgrom). Noise: each hold's update
``Δw`` is multiplied by ``1 + noise_rel·ξ``, ``ξ ~ N(0, 1)``. Resolution: inputs and targets are
quantized to ``bits`` (mid-tread, step ``2^(1−bits)``, saturating at ±1) before they reach the
learner, and the weights are quantized with the same step when read out.

Integration (per hold of length η, in units of τ, split into ``substeps``): the ideal part
``f_id(w) = (y − wᵀx)x − λw`` is solved exactly (closed form of :func:`logdomain.ideal.
sgdr_continuous_zoh`); the deviation ``r(w) = f(w) − f_id(w)`` is frozen over a substep and
integrated through the same linear propagator (exponential Euler, first order in the substep
for the non-ideal part only). With every non-ideality off ``r ≡ 0`` and the learner *is* the
exact ZOH solution (agreement to rounding, ~1e-13), independent of ``substeps``.

Everything is vectorized over hyperparameter sets × dies × weights; the only Python loops are
over samples and substeps.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibration.schema import Calibration

from ._analog_dynamics import Deviation, phi1, signed_power

__all__ = ["AnalogModel", "AnalogRun", "NON_IDEALITIES", "quantize", "sample_dies", "sgdr_analog", "signed_power"]

FloatArray = NDArray[np.float64]

#: name of each non-ideality → the :class:`AnalogModel` fields it switches on
NON_IDEALITIES: dict[str, tuple[str, ...]] = {
    "gain": ("multiplier_gain",),
    "offset": ("offset",),
    "nonlinearity": ("nonlinearity",),
    "tau": ("tau_scale",),
    "lambda": ("lam_scale",),
    "leak": ("leak",),
    "asymmetry": ("asymmetry",),
    "range": ("w_max",),
    "mismatch": ("gain_sigma",),
    "noise": ("noise_rel",),
    "bits": ("bits",),
}


@dataclass(frozen=True, kw_only=True)
class AnalogModel:
    """Dimensionless block parameters of the analog learner (defaults: an ideal learner).

    Parameters
    ----------
    multiplier_gain : float, default 1
        Gain g of every translinear multiplier (``blocks.multiplier_gain``).
    offset : float, default 0
        Output offset of a multiplier in units of I_u (``multiplier_offset_a / i_unit_a``).
    nonlinearity : float, default 0
        Log-log slope error ν of a multiplier, in (−1, 1).
    tau_scale : float, default 1
        Realised/programmed τ, ``1 + tau_rel_error``; the realised η is ``η/tau_scale``.
    lam_scale : float, default 1
        Realised/programmed λ (``lam_eff / lam_design``; 1 when the design λ is unknown).
    leak : float, default 0
        Constant leakage current of a cell in units of I_u (``leak_a / i_unit_a``), pulling |w| down.
    asymmetry : float, default 0
        Up/down update asymmetry a: increasing updates run at ``1 + a``, decreasing at ``1 − a``.
    w_max : float, default inf
        Weight range ``i_w_max_a / i_unit_a``; weights are confined to [−w_max, w_max].
    gain_sigma : float, default 0
        σ of ln(device gain) from the Pelgrom fit (``mismatch.gain_sigma``).
    noise_rel : float, default 0
        Relative noise of each hold's weight update (``blocks.noise_rel``).
    bits : int or None, default None
        Resolution of inputs, targets and weight read-out over [−1, 1]; None = unquantized.
    """

    multiplier_gain: float = 1.0
    offset: float = 0.0
    nonlinearity: float = 0.0
    tau_scale: float = 1.0
    lam_scale: float = 1.0
    leak: float = 0.0
    asymmetry: float = 0.0
    w_max: float = math.inf
    gain_sigma: float = 0.0
    noise_rel: float = 0.0
    bits: int | None = None

    def __post_init__(self) -> None:
        checks = {  # field: (low, high, low inclusive)
            "multiplier_gain": (0.0, math.inf, False), "offset": (-1.0, 1.0, True),
            "nonlinearity": (-1.0, 1.0, False), "tau_scale": (0.0, math.inf, False),
            "lam_scale": (0.0, math.inf, True), "leak": (0.0, math.inf, True),
            "asymmetry": (-1.0, 1.0, True), "w_max": (0.0, math.inf, False),
            "gain_sigma": (0.0, 2.0, True), "noise_rel": (0.0, 1.0, True),
        }  # fmt: skip
        for name, (lo, hi, closed) in checks.items():
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and not math.isnan(value) and (lo <= value if closed else lo < value)
            too_high = value >= hi if name == "nonlinearity" else value > hi
            if not ok or too_high or (math.isinf(value) and name != "w_max"):
                raise ValueError(f"AnalogModel.{name} must be in {'[' if closed else '('}{lo:g}, "
                                 f"{hi:g}], got {value!r}")  # fmt: skip
            object.__setattr__(self, name, float(value))
        if self.bits is not None and (isinstance(self.bits, bool) or not isinstance(
                self.bits, Integral) or not 1 <= self.bits <= 32):  # fmt: skip
            raise ValueError(f"AnalogModel.bits must be None or an integer in [1, 32], got {self.bits!r}")

    @classmethod
    def from_calibration(cls, calibration: Calibration, *, bits: int | None = None,
                         lam_design: float | None = None) -> AnalogModel:  # fmt: skip
        """Block model of a calibration (see module docstring for each mapping).

        Parameters
        ----------
        calibration : Calibration
            Fitted blocks and mismatch.
        bits : int or None
            Resolution of inputs, targets and weight read-out.
        lam_design : float, optional
            Overrides the calibration's ``lam_design`` (the λ the calibrated cell was programmed
            for); ``lam_scale = lam_eff/lam_design``.
        """
        b, m = calibration.blocks, calibration.mismatch
        lam_scale = b.lam_eff / (lam_design or b.lam_design)
        return cls(multiplier_gain=b.multiplier_gain, offset=b.multiplier_offset_a / b.multiplier_i_unit_a,
                   nonlinearity=b.multiplier_nonlinearity, tau_scale=1.0 + b.tau_rel_error,
                   lam_scale=lam_scale, leak=0.0,  # cancels in w = w⁺ − w⁻ (module docstring)
                   asymmetry=b.update_asymmetry, w_max=b.i_w_max_a / b.i_unit_a,
                   gain_sigma=m.gain_sigma, noise_rel=b.noise_rel, bits=bits)  # fmt: skip

    def only(self, *names: str) -> AnalogModel:
        """An ideal model with just the named non-idealities (keys of :data:`NON_IDEALITIES`) of self."""
        unknown = sorted(set(names) - set(NON_IDEALITIES))
        if unknown:
            raise ValueError(f"unknown non-ideality {unknown}; allowed: {', '.join(NON_IDEALITIES)}")
        keep = {f: getattr(self, f) for n in names for f in NON_IDEALITIES[n]}
        return AnalogModel(**keep)

    def replace(self, **changes: object) -> AnalogModel:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def is_ideal_dynamics(self) -> bool:
        """True when the in-hold dynamics are the exact continuous law (bits and range may be set)."""
        return self.only("gain", "offset", "nonlinearity", "tau", "lambda", "leak", "asymmetry",
                         "mismatch", "noise") == AnalogModel()  # fmt: skip


@dataclass(frozen=True)
class AnalogRun:
    """Result of :func:`sgdr_analog`.

    Attributes
    ----------
    weights : ndarray, shape (dies, D) or (H, dies, D)
        Weights read out after training (quantized when ``bits`` is set).
    history : ndarray or None, shape (n_records, [H,] dies, D)
        Read-out weights at t = 0 and after every ``record_every`` holds, when requested.
    record_index : ndarray of int, shape (n_records,)
        Number of holds (updates) completed at each history entry.
    state : ndarray, same shape as ``weights``
        The analog weights before read-out quantization (to continue training from).
    """

    weights: FloatArray
    history: FloatArray | None
    record_index: NDArray[np.int64]
    state: FloatArray


def quantize(value: ArrayLike, bits: int | None, *, clip: bool = True) -> FloatArray:
    """Mid-tread quantizer over [−1, 1] with step ``2^(1−bits)`` (None: no change).

    Parameters
    ----------
    value : array_like
        Dimensionless signal values (currents in units of I_u).
    bits : int or None
        Resolution in bits.
    clip : bool, default True
        Saturate at ±1 (converters do; weight read-out uses ``clip=False``).
    """
    arr = np.asarray(value, dtype=np.float64)
    if bits is None:
        return arr.copy()
    step = 2.0 ** (1 - bits)
    out = np.round(arr / step) * step
    return np.clip(out, -1.0, 1.0) if clip else out


def sample_dies(model: AnalogModel, dies: int, n_features: int,
                rng: np.random.Generator) -> tuple[FloatArray, FloatArray, FloatArray]:  # fmt: skip
    """Per-die device gains ``(g_forward, g_update, g_tau)``, each shape (dies, n_features).

    ``g = e^{ΔV_T/(n U_T)}`` with ``ΔV_T/(n U_T) ~ N(0, gain_sigma²)`` (lognormal), independent
    for the forward multiplier, the update multiplier and the integrator bias device of every
    weight. A larger bias current shortens τ, so the cell's rate scales with ``g_tau``.
    """
    shape = (3, dies, n_features)
    if model.gain_sigma == 0:
        gains = np.ones(shape)
    else:
        gains = np.exp(model.gain_sigma * rng.standard_normal(shape))
    return gains[0], gains[1], gains[2]


#: largest H·dies·D for which backend="auto" picks the compiled loop (measured crossover ~2–6k)
KERNEL_MAX_ELEMENTS = 2048


def _kernel():
    """The compiled loop, or None when numba is not installed."""
    try:
        from ._analog_kernel import run_loop
    except ImportError:  # numba missing: the numpy loop does the same work
        return None
    return run_loop


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def sgdr_analog(x: ArrayLike, y: ArrayLike, model: AnalogModel, eta: ArrayLike, lam: ArrayLike, *,
                epochs: int = 1, dies: int = 1, seed: int = 0, substeps: int = 4,
                w0: ArrayLike | None = None, record_every: int | None = None,
                dtype: type = np.float64, backend: str = "auto") -> AnalogRun:  # fmt: skip
    """Train the analog learner on an ordered stream, for many dies and hyperparameter sets at once.

    Parameters
    ----------
    x : array_like, shape (K, D)
        Inputs in circuit units (about [−1, 1]; a current is ``I_u·x``), processed in order.
    y : array_like, shape (K,)
        Targets in circuit units.
    model : AnalogModel
        Block parameters (e.g. :meth:`AnalogModel.from_calibration`).
    eta : float or array_like, shape (H,)
        Programmed ``η = T_s/τ`` > 0 (dimensionless).
    lam : float or array_like, shape (H,)
        Programmed weight decay λ >= 0 (dimensionless); broadcast against ``eta``.
    epochs : int, default 1
        Passes over the stream.
    dies : int, default 1
        Number of independent dies (mismatch and noise samples).
    seed : int, default 0
        Seed of the mismatch and noise samples.
    substeps : int, default 4
        Integration substeps per hold (only the non-ideal part depends on it; first order).
    w0 : array_like, broadcastable to ([H,] dies, D), optional
        Initial (analog) weights; zeros when omitted.
    record_every : int, optional
        Keep the read-out weights every this many holds (and at t = 0).
    dtype : {numpy.float64, numpy.float32}, default float64
        Precision of the state; float32 is about 2–3× faster (its rounding, ~1e-7, is far below
        the analog noise) but cannot show the 1e-12 agreement with the ideal learner.
    backend : {"auto", "numpy", "numba"}, default "auto"
        ``"numba"`` runs the same arithmetic compiled (:mod:`logdomain._analog_kernel`; needs
        numba, ``noise_rel = 0`` and float64) — 7–17× cheaper per sample for a few learners;
        ``"auto"`` uses it when it applies and H·dies·D ≤ ``KERNEL_MAX_ELEMENTS`` (beyond that
        the vectorized numpy loop is faster), else numpy.

    Returns
    -------
    AnalogRun
        Weights of shape (dies, D), or (H, dies, D) when eta or lam is an array.

    Notes
    -----
    Mismatch depends only on ``seed``, ``dies`` and D; noise draws also depend on H (the batch
    shape), so a batched run reproduces separate runs exactly only without noise. Noise variates are uniform with unit variance (``√3(2u − 1)``), four times cheaper than
    normal ones; summed over the many holds a weight integrates they are Gaussian (CLT).
    """
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xa.ndim != 2 or xa.shape[0] < 1 or xa.shape[1] < 1 or ya.shape != xa.shape[:1]:
        raise ValueError(f"x must have shape (K, D) and y shape (K,), got {xa.shape} and {ya.shape}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must contain only finite values (found nan or inf)")
    eta_a, lam_a = np.asarray(eta, dtype=np.float64), np.asarray(lam, dtype=np.float64)
    if eta_a.ndim > 1 or lam_a.ndim > 1:
        raise ValueError("eta and lam must be scalars or 1-D arrays (H,)")
    if not (np.all(np.isfinite(eta_a) & (eta_a > 0)) and np.all(np.isfinite(lam_a) & (lam_a >= 0))):
        raise ValueError(f"eta must be > 0 and lam >= 0 (finite), got eta={eta!r}, lam={lam!r}")
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    batched = eta_a.ndim == 1 or lam_a.ndim == 1
    eta_a, lam_a = np.broadcast_arrays(np.atleast_1d(eta_a), np.atleast_1d(lam_a))
    n_epochs, n_dies = _check_int("epochs", epochs, 1), _check_int("dies", dies, 1)
    n_sub = _check_int("substeps", substeps, 1)
    every = None if record_every is None else _check_int("record_every", record_every, 1)
    n_samples, n_features = xa.shape
    shape = (eta_a.shape[0], n_dies, n_features)

    mismatch_ss, noise_ss = np.random.SeedSequence(_check_int("seed", seed, 0)).spawn(2)
    gains = sample_dies(model, n_dies, n_features, np.random.default_rng(mismatch_ss))
    noise_rng = np.random.default_rng(noise_ss)
    xq, yq = quantize(xa, model.bits), quantize(ya, model.bits)

    # constants: (H, 1) per run, (K, H, 1) per sample; the loops below only index them
    h = (eta_a / model.tau_scale / n_sub)[:, None]  # substep in units of τ
    lam_r = (lam_a * model.lam_scale)[:, None]
    s_all = np.einsum("kd,kd->k", xq, xq)[:, None, None]
    denom = s_all + lam_r
    inv = np.divide(1.0, denom, out=np.zeros_like(denom), where=denom > 0)
    decay = np.exp(-lam_r * h)
    phi_lam = h * phi1(lam_r * h)
    along_k = decay * h * phi1(s_all * h)  # e_λ φ: the ideal step's factor along x
    toward_k = (1.0 - decay) * yq[:, None, None] * inv + along_k * yq[:, None, None] * s_all * inv
    s_safe = np.where(s_all > 0, s_all, 1.0)
    corr_k = np.where(s_all > 0, (h * phi1(denom * h) - phi_lam) / s_safe, 0.0)
    cast = lambda a: np.asarray(a, dtype=dtype)  # noqa: E731
    decay3, phi_lam3 = cast(decay[..., None]), cast(phi_lam[..., None])
    along_k, toward_k, corr_k, xq_d = cast(along_k), cast(toward_k), cast(corr_k), cast(xq)
    dev = None if model.is_ideal_dynamics else Deviation(model, gains, lam_r, shape, dtype)

    w = np.zeros(shape, dtype) if w0 is None else np.array(np.broadcast_to(w0, shape), dtype=dtype)
    n_rec = 0 if every is None else n_samples * n_epochs // every + 1
    history = np.empty((n_rec,) + shape) if every is not None else None
    rec_index = np.arange(n_rec, dtype=np.int64) * (every or 1)
    if history is not None:
        history[0] = quantize(w, model.bits, clip=False)
    noise_c = model.noise_rel * math.sqrt(3.0)
    small = eta_a.shape[0] * n_dies * n_features <= KERNEL_MAX_ELEMENTS  # where compiled wins
    wanted = backend == "numba" or (backend == "auto" and small)
    kernel = _kernel() if (wanted and not noise_c and dtype is np.float64) else None
    if backend not in ("auto", "numpy", "numba"):
        raise ValueError(f"backend must be one of auto, numpy, numba; got {backend!r}")
    if backend == "numba" and kernel is None:
        raise ValueError("backend='numba' needs numba installed, noise_rel = 0 and dtype float64")
    if kernel is not None:
        ones = np.ones((n_dies, n_features))
        has_dev = dev is not None
        kernel(w, xq_d, np.asarray(yq, dtype=np.float64), n_epochs, n_sub, decay3.reshape(-1), phi_lam3.reshape(-1),
               along_k[..., 0], toward_k[..., 0], corr_k[..., 0], lam_r.reshape(-1), has_dev,
               dev.g_fwd if has_dev and dev.g_fwd is not None else ones,
               dev.g_upd if has_dev and dev.g_upd is not None else ones,
               dev.rate if has_dev and dev.rate is not None else ones,
               bool(has_dev and dev.rate is not None), float(model.nonlinearity), float(has_dev and dev.offset_sum),
               float(model.offset), float(model.leak), float(model.asymmetry), bool(has_dev and dev.lam_cancels),
               float(model.w_max), every or 0, history if history is not None else np.empty((1,) + shape))
        if history is not None:
            history[1:] = quantize(history[1:], model.bits, clip=False)
    else:
        u = np.empty(shape, dtype)
        t = 0
        for _ in range(n_epochs):
            for k in range(n_samples):
                x_k, y_k = xq_d[k], float(yq[k])
                w_start = w.copy() if noise_c else w
                if dev is not None:
                    dev.set_sample(x_k)
                for _sub in range(n_sub):
                    wx = w @ x_k  # (H, dies)
                    c = toward_k[k] - along_k[k] * wx  # exact ideal step over h (DESIGN.md §2)
                    w_new = w * decay3
                    w_new += c[..., None] * x_k
                    if dev is not None:
                        r = dev(w, x_k, y_k, wx)
                        rx = r @ x_k
                        r *= phi_lam3
                        w_new += r
                        w_new += (corr_k[k] * rx)[..., None] * x_k
                    if model.w_max != math.inf:
                        np.clip(w_new, -model.w_max, model.w_max, out=w_new)
                    w = w_new
                if noise_c:  # Δw ← Δw (1 + noise_rel ξ), ξ uniform with unit variance
                    noise_rng.random(out=u, dtype=dtype)
                    u *= 2.0 * noise_c
                    u -= noise_c
                    u *= w - w_start
                    w += u
                    if model.w_max != math.inf:
                        np.clip(w, -model.w_max, model.w_max, out=w)
                t += 1
                if history is not None and t % every == 0:
                    history[t // every] = quantize(w, model.bits, clip=False)
    state = np.asarray(w, dtype=np.float64)
    out = quantize(state, model.bits, clip=False)
    if not batched:
        out, state = out[0], state[0]
        history = None if history is None else history[:, 0]
    return AnalogRun(weights=out, history=history, record_index=rec_index, state=state)
