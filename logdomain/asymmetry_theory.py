"""The floor of analog SGD on an asymmetric device, predicted (:func:`theory_floor`).

See :mod:`logdomain.asymmetry` for the devices, the problem and the definition of the asymmetry.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from .asymmetry import FloorProblem, _asym

__all__ = ["abs_product_mean", "theory_floor", "theory_tiki_taka_pair_bias"]

FloatArray = NDArray[np.float64]


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


def _folded_normal_mean(mu: FloatArray, s: FloatArray) -> FloatArray:
    """E|X| for X ~ N(μ, s²)."""
    from scipy.special import erf

    mu, s = np.abs(np.asarray(mu, dtype=float)), np.maximum(np.asarray(s, dtype=float), 1e-300)
    return s * math.sqrt(2.0 / math.pi) * np.exp(-0.5 * (mu / s) ** 2) + mu * erf(mu / (s * math.sqrt(2.0)))


def theory_tiki_taka_pair_bias(asymmetry: Sequence[float], problem: FloorProblem, eta: float, *, a_leak: float,
                               a_rate: float, chop_every: int, iterations: int = 200) -> dict[str, FloatArray]:  # fmt: skip
    """Predicted asymmetry bias of chopped Tiki-Taka on log-domain pairs (A and C with half gains 1 ± a).

    C stops moving when its signal drive (the demodulated A, gain g) balances its own asymmetric drive
    a·|A|: ``a_rate·g·(−∇f)/λ_A = a·E|A|``, so every weight shifts by ``δ = a·λ_A·E|A|/(a_rate·g)``
    (one sign, like SGD's shift on the pair, but with E|A| in place of E|e·x|). A is a folded normal:
    its offset μ = a·a_rate·E|e·x|/λ_A (the constant G of A's pair, which the chopper keeps out of C's
    signal but not out of |A|), its spread s² = η·a_rate²·σ_e²(1 + a²)/(λ_A(2 − ηλ_A)) (per-sample
    steps η·a_rate·e·x, leak λ_A). g = 1 − 2(1 − e^{−λ_A T_c})/(λ_A T_c), T_c = chop_every·η: after
    each flip A re-settles with rate λ_A and C sees the wrong sign meanwhile. Bias² = D·δ² (the
    problem's σ_e solved with it); the noise floor of C's slow path is not in it. Assumes the chopper
    period ≫ 1/λ_A, C slow against the chopper, x ~ N(0, I). Returns ``bias`` (P,), ``shift`` (P,).
    """
    a = _asym(asymmetry)
    if not (a_leak > 0 and a_rate > 0 and chop_every >= 1):
        raise ValueError(f"theory_tiki_taka_pair_bias needs a_leak > 0, a_rate > 0, chop_every >= 1, got {a_leak}, {a_rate}, {chop_every}")
    d = problem.dim
    tc = chop_every * eta
    g = 1.0 - 2.0 * (1.0 - math.exp(-a_leak * tc)) / (a_leak * tc)
    if g <= 0:
        raise ValueError(f"the chopper period {tc:g} τ is too short for λ_A = {a_leak:g}: A never settles (gain {g:.3g})")
    shift = np.zeros(len(a))
    for _ in range(iterations):
        sig2 = problem.noise_std**2 + problem.read_noise_std**2 * d + d * shift**2
        m = abs_product_mean(np.sqrt(sig2), -shift)
        mu = a * a_rate * m / a_leak
        s = np.sqrt(eta * a_rate**2 * sig2 * (1 + a * a) / (a_leak * (2.0 - eta * a_leak)))
        new = a * a_leak * _folded_normal_mean(mu, s) / (a_rate * g)
        shift = 0.5 * (shift + new)
    return {"bias": d * shift**2, "shift": shift}
