"""Train the behavioural learner (:mod:`logdomain.learner_model`) on an ordered stream, many dies at once.

:func:`sgdr_learner` is the fast counterpart of the SPICE learner: same stimulus (quantized inputs and
targets, chopping signs, holds of η·s_x² cell time constants), same read-out (the prediction path's
effective weights with the weights frozen), and for every die its own mismatch sample. With all
gains ideal it is the exact zero-order-hold SGDr flow (:func:`logdomain.ideal.sgdr_continuous_zoh`)
up to the Heun integration error (global, O(h²); measured ≤ 1e-4 of max|w| for η ≤ 0.3, 3e-6 once
converged at η = 0.05 with one step per hold).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _learner_kernel as kernel
from .cell_noise import noise_keys, sigma_w
from .learner_model import LearnerDies, LearnerModel

__all__ = ["LearnerRun", "sgdr_learner", "readout", "quantize", "KERNEL_MIN_WORK", "ETA_MAX", "LAM_MAX", "AnalogRangeWarning",
           "SATURATION_FRACTION"]

#: largest η = T_s/τ the model integrates (a hold of 10 τ: the cells have long settled)
ETA_MAX = 10.0
#: largest λ the model takes (the weight decays in τ/100: nothing is learned beyond)
LAM_MAX = 100.0

FloatArray = NDArray[np.float64]


class AnalogRangeWarning(UserWarning):
    """A run went where the analog learner does not do what ideal SGDr does: clipped inputs or targets,
    a signal below the converters' resolution, a weight at the edge of its range, a non-finite state."""


#: a half of a weight below this fraction of the common-mode set point S₀ counts as at its floor
SATURATION_FRACTION = 0.01

#: dies × weights × holds above which backend="auto" runs the compiled loop (numba)
KERNEL_MIN_WORK = 20_000
#: largest Heun step, in the cells' time constants × ‖x‖² (accuracy ~1e-6 of the ZOH flow; stability)
MAX_STEP = 0.25


@dataclass(frozen=True)
class LearnerRun:
    """Result of :func:`sgdr_learner` (weights in the scaled units of x and y).

    Attributes
    ----------
    weights : (dies, D) effective weights read through the prediction path (quantized to ``bits``).
    slopes_pos, slopes_neg : (dies, D) the prediction path's slopes for x_i > 0 and x_i < 0.
    offset : (dies,) the prediction at x = 0 (0 when chopping: the read-out cancels it).
    state : (dies, D, 2) W⁺, W⁻ after training (units of I_u).
    history : (n_records, dies, D) or None, effective weights every ``record_every`` holds (and t = 0).
    record_index : (n_records,) holds completed at each record.
    chop : whether predictions use the chopped read-out.
    """

    weights: FloatArray
    slopes_pos: FloatArray
    slopes_neg: FloatArray
    offset: FloatArray
    state: FloatArray
    history: FloatArray | None
    record_index: NDArray[np.int64]
    chop: bool

    def predict(self, x: ArrayLike) -> FloatArray:
        """Predictions (dies, M) of rows ``x`` (M, D) with the frozen weights."""
        xa = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if self.chop:
            return self.weights @ xa.T
        return (self.offset[:, None] + self.slopes_pos @ np.maximum(xa, 0.0).T
                + self.slopes_neg @ np.minimum(xa, 0.0).T)  # fmt: skip



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

def readout(model: LearnerModel, gains: LearnerDies, W: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(effective weights, slopes for x > 0, slopes for x < 0, offset) of states W (..., dies, D, 2)."""
    h = gains.fwd
    wp, wm = W[..., 0], W[..., 1]
    pos = model.w_scale * (h[:, :, 0, 0] * wp - h[:, :, 1, 0] * wm)
    neg = model.w_scale * (h[:, :, 0, 1] * wp - h[:, :, 1, 1] * wm)
    y_scale = model.w_scale * model.x_scale
    off = y_scale * model.x_floor * np.sum(h[:, :, 0, 0] * wp + h[:, :, 1, 1] * wm - h[:, :, 0, 1] * wp - h[:, :, 1, 0] * wm, axis=-1)
    eff = 0.5 * (pos + neg)
    return eff, pos, neg, (np.zeros_like(off) if model.chop else off)


def _range_warnings(x: FloatArray, y: FloatArray, xq: FloatArray, yq: FloatArray, model: LearnerModel, W: FloatArray) -> None:
    """Warn (:class:`AnalogRangeWarning`) about what the learner did not learn as ideal SGDr would; the
    messages name the cause and the data, not the run, so that many runs on one stream warn once."""
    def warn(message: str) -> None:
        warnings.warn(message, AnalogRangeWarning, stacklevel=4)  # the caller of sgdr_learner

    for name, raw, scale in (("x", x, model.x_scale), ("y", y, 1.0)):
        over = np.abs(raw) > scale
        if np.any(over):
            warn(f"{name} exceeds the analog range [-{scale:g}, {scale:g}] in {int(over.sum())} of {raw.size} values "
                 f"(largest |{name}| {float(np.max(np.abs(raw))):.3g}): the converters clip them; scale the data "
                 f"(e.g. MaxAbsScaler) to train the learner on what it can represent")  # fmt: skip
    if model.bits is not None:
        lsb = 2.0 ** (1 - model.bits)
        dead = [i for i in range(x.shape[1]) if np.any(x[:, i] != 0) and not np.any(xq[:, i] != 0)]
        if dead:
            warn(f"features {dead} are below half a step of the {model.bits}-bit converters ({lsb / 2:.3g}) on every row: "
                 f"quantised to 0, the learner never sees them")  # fmt: skip
        if np.any(y != 0) and not np.any(yq != 0):
            warn(f"every target is below half a step of the {model.bits}-bit converters ({lsb / 2:.3g}): quantised to 0")
    if not np.all(np.isfinite(W)):
        warn("the learner's state is not finite (training diverged): its weights are meaningless")
        return
    floor = SATURATION_FRACTION * model.cm_set
    if np.any(np.min(W, axis=-1) < floor):
        warn(f"some weights reached the edge of their range: one half of the pair at its floor (< {floor:.3g} I_u), so "
             f"|w| cannot grow further (the pair's common mode S₀ = {model.cm_set:.3g} I_u bounds it); scale the targets "
             f"down or the inputs up")  # fmt: skip


def _int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def sgdr_learner(x: ArrayLike, y: ArrayLike, model: LearnerModel, eta: float, lam: float, *, epochs: int = 1,
                 dies: int = 1, seed: int = 0, substeps: int = 1, record_every: int | None = None,
                 backend: str = "auto", state0: ArrayLike | None = None, first_hold: int = 0,
                 dtype: type = np.float64, first_die: int = 0) -> LearnerRun:  # fmt: skip
    """Train ``dies`` behavioural learners on the stream (x, y), rows in order, ``epochs`` passes.

    Parameters
    ----------
    x : (K, D) inputs in the scaled units (|x| ≲ x_scale). y : (K,) targets.
    model : the learner's model (design, nominal gains, mismatch, bits).
    eta : η = T_s/τ (> 0). lam : λ (>= 0) of the ideal law.
    epochs, dies, seed : passes over the stream, dies (mismatch samples), seed of the dies.
    first_die : index of the first die: the call trains dies first_die … first_die + dies − 1 of the
        seed (a die's gains depend only on seed and index, so chunks of dies run anywhere reproduce
        one large run).
    substeps : least Heun steps per hold; a hold gets more when needed to keep its step h·(‖x_k‖²/s_x² +
        λ) ≤ :data:`MAX_STEP` (see the module docstring for the resulting accuracy).
    record_every : keep the effective weights every this many holds.
    backend : "auto" (numba above :data:`KERNEL_MIN_WORK` units of work when installed), "numpy" or "numba".
    state0 : (dies, D, 2) W⁺, W⁻ to start from (e.g. ``run.state`` of an earlier call: the same dies
        with the same ``seed``); default W± = ``model.w_init``.
    first_hold : index of the stream's first hold (its parity continues the chopping signs; the cell
        noise of hold t of this call is that of hold first_hold + t, so chained calls continue it).
    dtype : numpy.float64 (default) or numpy.float32 (state and coefficients; ~2× faster, rounding
        ~1e-7 relative — far below the mismatch it is used to study; numba backend only).

    Returns
    -------
    LearnerRun

    Notes
    -----
    With ``model.noise_rel`` > 0 each half of each weight gets σ_W·ξ per hold, σ_W = noise_rel·η·s_x²
    (units of I_u; derived in :mod:`logdomain.cell_noise`), ξ from the die's own noise stream.
    """
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xa.ndim != 2 or xa.shape[0] < 1 or xa.shape[1] < 1 or ya.shape != xa.shape[:1]:
        raise ValueError(f"x must have shape (K, D) and y shape (K,), got {xa.shape} and {ya.shape}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must contain only finite values (found nan or inf)")
    for name, value, ok in (("eta", eta, lambda v: 0 < v <= ETA_MAX), ("lam", lam, lambda v: 0 <= v <= LAM_MAX)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value) or not ok(value):
            raise ValueError(f"{name} must be a finite number in {f'(0, {ETA_MAX:g}]' if name == 'eta' else f'[0, {LAM_MAX:g}]'}, got {value!r}")
    n_epochs, n_dies, n_sub = _int("epochs", epochs, 1), _int("dies", dies, 1), _int("substeps", substeps, 1)
    every = None if record_every is None else _int("record_every", record_every, 1)
    if backend not in ("auto", "numpy", "numba"):
        raise ValueError(f"backend must be one of auto, numpy, numba; got {backend!r}")
    if backend == "numba" and not kernel.numba_available:
        raise ValueError("backend='numba' needs numba installed (pip install -e .[fast])")
    k, d = xa.shape
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    gains = model.sample_dies(n_dies, d, _int("seed", seed, 0), _int("first_die", first_die, 0), dtype)
    xq, yq = quantize(xa, model.bits), quantize(ya, model.bits)
    signs = np.where((np.arange(k) + _int("first_hold", first_hold, 0)) % 2 == 1, -1.0, 1.0) if model.chop else np.ones(k)
    nom = model.nominal
    s2 = model.x_scale**2
    hold = float(eta) * s2  # one hold in the cells' time constants
    lam_c = float(lam) / s2
    stiff = np.einsum("kd,kd->k", xq, xq) / s2 + lam_c + 1e-12
    subs = np.maximum(n_sub, np.ceil(hold * stiff / MAX_STEP)).astype(np.int64)
    h = hold / subs
    pars = np.array([model.x_floor, model.err_floor**2, model.err_min, nom["rate_scale"] * (lam_c + nom["lam_offset"]),
                     model.x_scale, model.w_scale * model.x_scale])  # fmt: skip
    if state0 is None:
        W = np.full((n_dies, d, 2), model.w_init)
    else:
        W = np.array(np.asarray(state0, dtype=np.float64), copy=True)
        if W.shape != (n_dies, d, 2) or not np.all(np.isfinite(W)) or np.any(W <= 0):
            raise ValueError(f"state0 must be finite, > 0 and of shape ({n_dies}, {d}, 2), got shape {W.shape}")
    n_rec = 0 if every is None else k * n_epochs // every + 1
    noise = None
    if model.noise_rel > 0:  # σ_W = noise_rel·T_s/τ per half per hold; the keys are tiny (dies, 2)
        noise = (sigma_w(model.noise_rel, hold), noise_keys(int(seed), int(first_die), n_dies), int(first_hold))
    g = {f: getattr(gains, f) for f in LearnerDies.__dataclass_fields__}
    use_numba = backend == "numba" or (backend == "auto" and kernel.numba_available and n_dies * d * k * n_epochs >= KERNEL_MIN_WORK)
    if dtype is np.float32 and not use_numba:
        raise ValueError("dtype=numpy.float32 needs the numba backend")
    coef, die = kernel.pack(g, nom["rate_scale"], model.cm_gain, model.cm_set, dtype)
    W = W.astype(dtype)
    hist_w = np.empty((max(n_rec, 1), n_dies, d, 2), dtype)
    hist_w[0] = W
    args = (xq.astype(dtype), yq.astype(dtype), signs.astype(dtype), n_epochs, subs, h.astype(dtype), coef, die,
            pars.astype(dtype), every or 0, hist_w)  # fmt: skip
    if use_numba:
        kernel.run_numba(W, *args, noise=noise)
    else:
        kernel.run_numpy(W, *args, noise=noise)
    W = W.astype(np.float64)
    hist_w = hist_w.astype(np.float64)
    _range_warnings(xa, ya, xq, yq, model, W)
    eff, pos, neg, off = readout(model, gains, W)
    history = None
    if every is not None:
        history = quantize(readout(model, gains, hist_w[:n_rec])[0], model.bits, clip=False)
    q = lambda a: quantize(a, model.bits, clip=False)  # noqa: E731
    return LearnerRun(q(eff), q(pos), q(neg), off, W, history, np.arange(n_rec, dtype=np.int64) * (every or 1), model.chop)
