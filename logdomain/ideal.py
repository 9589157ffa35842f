"""Ideal SGD-regression (SGDr) baselines: the discrete update and its continuous-time limit.

Both learners fit ``y ≈ wᵀx`` on a stream of samples ``(x_k, y_k)``, ``k = 0 … K−1``, taken in
order (no shuffling), starting from ``w_0 = 0`` unless told otherwise, for ``epochs`` passes
(DESIGN.md §2).

Discrete SGDr (one update per sample)::

    e_k     = y_k − w_kᵀ x_k
    w_{k+1} = (1 − ηλ) w_k + η e_k x_k

Continuous SGDr (what an analog integrator computes), each sample held for ``T_s`` seconds
(zero-order hold)::

    τ dw/dt = (y − wᵀx) x − λ w

Within one hold the system is linear, ``dw/dt = −A w + b`` with ``A = (x xᵀ + λI)/τ`` and
``b = y x/τ``, and it is solved exactly in closed form (see :func:`sgdr_continuous_zoh`). With
``η = T_s/τ`` one hold of the continuous learner equals one discrete step up to ``O(η²)``.

Every argument except the data may carry a leading batch axis of ``R`` independent runs (e.g. a
hyperparameter sweep); all runs advance together with numpy broadcasting, and the only Python
loop is over samples, which are inherently sequential. Many runs of :func:`sgdr_discrete` (no history,
no step cap) go to a compiled loop instead (:mod:`logdomain._ideal_kernel`, numba, runs in parallel).

All quantities are dimensionless except ``tau_s`` and ``t_hold_s`` (seconds).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _ideal_kernel

__all__ = ["sgdr_discrete", "sgdr_continuous_zoh"]

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- validation helpers


def _as_float_array(name: str, value: ArrayLike) -> FloatArray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {value!r} ({exc})") from None


def _check_rate(name: str, value: ArrayLike, *, allow_zero: bool, unit: str = "") -> FloatArray:
    """Return ``value`` as a float array of shape () or (R,), checking finite and > 0 (or >= 0)."""
    arr = _as_float_array(name, value)
    bound = ">= 0" if allow_zero else "> 0"
    what = f"a finite number {bound}{unit}"
    if arr.ndim > 1:
        raise ValueError(
            f"{name} must be {what} or a 1-D array (R,) of them, got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(
            f"{name} must be {what} or a non-empty 1-D array of them, got an empty array"
        )
    ok = np.isfinite(arr) & ((arr >= 0) if allow_zero else (arr > 0))
    if not np.all(ok):
        flat = arr.reshape(-1)
        i = int(np.flatnonzero(~ok.reshape(-1))[0])
        where = f" (at index {i})" if arr.ndim else ""
        raise ValueError(f"{name} must be {what}, got {float(flat[i])!r}{where}")
    return arr


def _check_epochs(epochs: object) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    return int(epochs)


def _check_finite(name: str, arr: FloatArray) -> None:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found nan or inf)")


def _prepare_stream(
    x: ArrayLike, y: ArrayLike, w0: ArrayLike | None, params: dict[str, FloatArray]
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[int, ...]]:
    """Validate the data and broadcast every batch axis to one common ``(R,)`` (or ``()``)."""
    xa = _as_float_array("x", x)
    if xa.ndim not in (2, 3):
        raise ValueError(f"x must have shape (K, D) or (R, K, D), got shape {xa.shape}")
    n_samples, n_features = xa.shape[-2:]
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"x must hold at least one sample (K >= 1) of at least one feature (D >= 1), "
            f"got shape {xa.shape}"
        )
    ya = _as_float_array("y", y)
    if ya.ndim not in (1, 2) or ya.shape[-1] != n_samples:
        raise ValueError(
            f"y must have shape (K,) or (R, K) with K={n_samples} samples as in x, "
            f"got shape {ya.shape}"
        )
    _check_finite("x", xa)
    _check_finite("y", ya)
    if w0 is None:
        wa = np.zeros(n_features)
    else:
        wa = _as_float_array("w0", w0)
        if wa.ndim not in (1, 2) or wa.shape[-1] != n_features:
            raise ValueError(
                f"w0 must have shape (D,) or (R, D) with D={n_features} features as in x, "
                f"got shape {wa.shape}"
            )
        _check_finite("w0", wa)

    batch_shapes = {name: arr.shape for name, arr in params.items()}
    batch_shapes.update(x=xa.shape[:-2], y=ya.shape[:-1], w0=wa.shape[:-1])
    try:
        batch = np.broadcast_shapes(*batch_shapes.values())
    except ValueError:
        sizes = ", ".join(f"{k}: {v[0]}" for k, v in batch_shapes.items() if v)
        raise ValueError(
            f"batched arguments must share one number of runs R (or 1); got {sizes}"
        ) from None
    return xa, ya, wa, batch


def _run_stream(
    x: FloatArray,
    y: FloatArray,
    w0: FloatArray,
    batch: tuple[int, ...],
    epochs: int,
    return_history: bool,
    step: Callable[[FloatArray, int], FloatArray],
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Apply ``w ← step(w, k)`` for every sample k of every epoch; the one loop over samples."""
    n_samples, n_features = x.shape[-2:]
    w = np.array(np.broadcast_to(w0, batch + (n_features,)), dtype=np.float64)
    history = None
    if return_history:
        history = np.empty((n_samples * epochs + 1,) + w.shape)
        history[0] = w
    t = 0
    for _ in range(epochs):
        for k in range(n_samples):
            w = step(w, k)
            t += 1
            if history is not None:
                history[t] = w
    if history is not None:
        return w, history
    return w


# --------------------------------------------------------------------------------- public API


def sgdr_discrete(
    x: ArrayLike,
    y: ArrayLike,
    eta: ArrayLike,
    lam: ArrayLike,
    epochs: int = 1,
    w0: ArrayLike | None = None,
    return_history: bool = False,
    *,
    step_cap: float | None = None,
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Discrete SGD regression with weight decay over an ordered stream.

    For every sample in file order (no shuffling) and every epoch::

        e_k     = y_k − w_kᵀ x_k
        w_{k+1} = (1 − ηλ) w_k + η e_k x_k

    This is stochastic gradient descent on ``½(y − wᵀx)² + ½λ‖w‖²`` (DESIGN.md §2). It is stable
    for a sample when ``0 < η(‖x_k‖² + λ) < 2``; outside that range the weights grow without bound
    (numpy then returns ``inf``/``nan``; nothing is clipped unless ``step_cap`` is given).

    Optional stability guard (off by default): with ``step_cap = c`` a row uses the step
    ``η_k = min(η, c/(‖x_k‖² + λ))``, so the error along ``x_k`` never shrinks by more than the
    factor ``1 − c`` (``c = 1``: the row is fitted exactly, as in normalized LMS / Kaczmarz). Rows
    with ``η(‖x_k‖² + λ) <= c`` are unaffected. The continuous learner behaves like ``c = 1`` by
    itself for long holds, since its decay factor ``exp(−η(s+λ))`` tends to 0, never below.

    Parameters
    ----------
    x : array_like, shape (K, D) or (R, K, D)
        Inputs of the K samples (dimensionless, circuit range is about [−1, 1]). A 2-D array is
        shared by all R runs.
    y : array_like, shape (K,) or (R, K)
        Targets (dimensionless).
    eta : float or array_like, shape (R,)
        Learning rate η > 0 (dimensionless).
    lam : float or array_like, shape (R,)
        Weight decay λ >= 0 (dimensionless, same units as ``‖x‖²``).
    epochs : int, default 1
        Number of passes over the stream, >= 1.
    w0 : array_like, shape (D,) or (R, D), optional
        Initial weights; zeros when omitted.
    return_history : bool, default False
        Also return the weights before the first and after every update.
    step_cap : float, optional
        Stability guard ``c`` in (0, 2), see above; ``None`` (default) runs plain SGDr.

    Returns
    -------
    w : ndarray, shape (D,) or (R, D)
        Final weights; shape (R, D) as soon as any argument carries a batch axis.
    history : ndarray, shape (K*epochs + 1, D) or (K*epochs + 1, R, D)
        Only when ``return_history``; ``history[0]`` is ``w0`` and ``history[-1]`` is ``w``.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range, shapes disagree, or data are not finite.

    References
    ----------
    B. Widrow and M. E. Hoff, "Adaptive switching circuits", IRE WESCON Convention Record, 1960
    (the LMS rule, here with weight decay).
    """
    eta_a = _check_rate("eta", eta, allow_zero=False)
    lam_a = _check_rate("lam", lam, allow_zero=True)
    n_epochs = _check_epochs(epochs)
    if step_cap is not None and not (
        isinstance(step_cap, Real) and math.isfinite(step_cap) and 0 < step_cap < 2
    ):
        raise ValueError(f"step_cap must be None or a number in (0, 2), got {step_cap!r}")
    xa, ya, wa, batch = _prepare_stream(x, y, w0, {"eta": eta_a, "lam": lam_a})

    eta_col = eta_a[..., None]  # broadcast against the feature axis
    decay_col = (1.0 - eta_a * lam_a)[..., None]

    def step(w: FloatArray, k: int) -> FloatArray:
        x_k = xa[..., k, :]
        e_k = ya[..., k] - np.sum(w * x_k, axis=-1)
        return decay_col * w + eta_col * e_k[..., None] * x_k

    def capped_step(w: FloatArray, k: int) -> FloatArray:
        x_k = xa[..., k, :]
        denom = np.sum(x_k * x_k, axis=-1) + lam_a
        limit = np.divide(step_cap, denom, out=np.full(np.shape(denom), np.inf), where=denom > 0)
        eta_k = np.minimum(eta_a, limit)
        e_k = ya[..., k] - np.sum(w * x_k, axis=-1)
        return (1.0 - eta_k * lam_a)[..., None] * w + (eta_k * e_k)[..., None] * x_k

    runs = batch[0] if len(batch) == 1 else 0
    if (_ideal_kernel.numba_available and step_cap is None and not return_history and runs
            and runs * xa.shape[-2] * xa.shape[-1] * n_epochs >= _ideal_kernel.MIN_WORK):
        # many runs: the compiled loop, runs in parallel threads (same arithmetic)
        w = np.array(np.broadcast_to(wa, batch + (xa.shape[-1],)), dtype=np.float64)
        out = _ideal_kernel.run_discrete(w, xa, ya, np.broadcast_to(eta_a, (runs,)), np.broadcast_to(decay_col[..., 0], (runs,)),
                                         n_epochs)  # fmt: skip
    else:
        out = _run_stream(xa, ya, wa, batch, n_epochs, return_history, step if step_cap is None else capped_step)
    if not np.all(np.isfinite(out[0] if return_history else out)):
        warnings.warn("SGDr diverged (non-finite weights): η(‖x‖² + λ) must stay below 2 on every row — lower η or "
                      "scale the inputs", RuntimeWarning, stacklevel=2)  # fmt: skip
    return out


def _phi1(z: FloatArray) -> FloatArray:
    """``(1 − e^{−z})/z`` for ``z >= 0`` (limit 1 at 0); ``expm1`` keeps it exact for tiny z."""
    positive = z > 0
    z_safe = np.where(positive, z, 1.0)
    return np.where(positive, -np.expm1(-z_safe) / z_safe, 1.0)


def sgdr_continuous_zoh(
    x: ArrayLike,
    y: ArrayLike,
    tau_s: ArrayLike,
    t_hold_s: ArrayLike,
    lam: ArrayLike,
    epochs: int = 1,
    w0: ArrayLike | None = None,
    return_history: bool = False,
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Exact solution of continuous SGD regression with each sample held for ``t_hold_s``.

    Solves ``τ dw/dt = (y − wᵀx) x − λ w`` where ``(x, y)`` is sample k during the k-th hold of
    length ``T_s`` (zero-order hold), samples in order, for ``epochs`` passes. Only the ratio
    ``η = T_s/τ`` matters; as ``η → 0`` one hold approaches one :func:`sgdr_discrete` step with the
    same η (the difference is ``½η² (x xᵀ + λI) f(w) + O(η³)`` per hold, with ``f(w)`` the
    right-hand side above).

    Closed form of one hold (DESIGN.md §2). With ``s = ‖x‖²``, ``e_λ = exp(−λη)`` and
    ``e_s = exp(−sη)``, the matrix exponential of the rank-one-plus-identity
    ``A T_s = η (x xᵀ + λI)`` is ``exp(−A T_s) = e_λ [I − (1 − e_s) x xᵀ/s]``: the component of
    ``w − w*`` along ``x̂`` decays by ``exp(−(s+λ)η)``, the orthogonal part by ``exp(−λη)``.
    The fixed point is ``w* = y x/(s + λ)``; written without ``w*`` (to avoid cancellation when
    ``s + λ`` is tiny)::

        w(T_s) = e_λ w + (1 − e_λ) y x/(s + λ) − e_λ φ (xᵀw − y s/(s + λ)) x,
        φ = (1 − e_s)/s   (→ η as s → 0)

    Edge cases follow from the same formula: for λ = 0 the orthogonal part stays constant and
    ``w(T_s) = w + φ (y − xᵀw) x``; for ``x = 0`` the weights decay by ``e_λ``; when
    ``s + λ = 0`` nothing changes.

    Parameters
    ----------
    x : array_like, shape (K, D) or (R, K, D)
        Inputs of the K samples (dimensionless).
    y : array_like, shape (K,) or (R, K)
        Targets (dimensionless).
    tau_s : float or array_like, shape (R,)
        Integrator time constant τ > 0, in seconds.
    t_hold_s : float or array_like, shape (R,)
        Hold time T_s > 0 of each sample, in seconds.
    lam : float or array_like, shape (R,)
        Weight decay λ >= 0 (dimensionless).
    epochs : int, default 1
        Number of passes over the stream, >= 1.
    w0 : array_like, shape (D,) or (R, D), optional
        Weights at t = 0; zeros when omitted.
    return_history : bool, default False
        Also return the weights at t = 0 and at the end of every hold.

    Returns
    -------
    w : ndarray, shape (D,) or (R, D)
        Weights at ``t = K · epochs · T_s``.
    history : ndarray, shape (K*epochs + 1, D) or (K*epochs + 1, R, D)
        Only when ``return_history``; entry j is the weights at ``t = j · T_s``.

    Raises
    ------
    ValueError
        If a parameter is out of range, shapes disagree, or data are not finite.
    """
    # Derivation of the fixed point. Within a hold, 0 = −A w* + b with A = (x xᵀ + λI)/τ, b = y x/τ.
    # Sherman–Morrison for λ > 0: (λI + x xᵀ)⁻¹ = I/λ − x xᵀ/(λ(λ + s)), so
    #   w* = (λI + x xᵀ)⁻¹ y x = y x/λ − y x s/(λ(λ + s)) = y x/(λ + s).
    # For λ = 0, A is singular, but only the component along x moves and its fixed point is the
    # same expression y x/s; for s + λ = 0 (x = 0, λ = 0) nothing moves and 1/(s + λ) is never used.
    tau_a = _check_rate("tau_s", tau_s, allow_zero=False, unit=" (seconds)")
    hold_a = _check_rate("t_hold_s", t_hold_s, allow_zero=False, unit=" (seconds)")
    lam_a = _check_rate("lam", lam, allow_zero=True)
    n_epochs = _check_epochs(epochs)
    xa, ya, wa, batch = _prepare_stream(
        x, y, w0, {"tau_s": tau_a, "t_hold_s": hold_a, "lam": lam_a}
    )

    eta = hold_a / tau_a  # η = T_s/τ, shape () or (R,)
    decay = np.exp(-lam_a * eta)  # e_λ
    one_minus_decay = -np.expm1(-lam_a * eta)  # 1 − e_λ, accurate for small λη

    def step(w: FloatArray, k: int) -> FloatArray:
        x_k = xa[..., k, :]
        y_k = ya[..., k]
        s = np.sum(x_k * x_k, axis=-1)
        denom = s + lam_a
        inv = np.divide(1.0, denom, out=np.zeros(np.shape(denom)), where=denom > 0)
        phi = eta * _phi1(s * eta)
        along = decay * phi * (np.sum(x_k * w, axis=-1) - y_k * s * inv)
        toward = one_minus_decay * y_k * inv
        return decay[..., None] * w + (toward - along)[..., None] * x_k

    return _run_stream(xa, ya, wa, batch, n_epochs, return_history, step)
