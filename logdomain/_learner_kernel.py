"""Inner loop of :func:`logdomain.learner_sim.sgdr_learner`: the learner's W± dynamics over a stream.

:func:`run_numpy` and the compiled :func:`run_numba` do the same arithmetic (the equations of
:mod:`logdomain.learner_model`), one Heun (RK2) step per substep, W± kept ≥ ``W_MIN``: numpy
vectorises over dies, numba runs the dies in parallel threads. The per-die gains are packed once
(:func:`pack`) into ``coef`` (dies, D, NCOEF): the four prediction products, the four update terms
(cell × term × update-path input gain × rate), the two sink gains (loop × ζ × β × rate), the two
sense gains and the common-mode set point; and ``die`` (dies, 7): target gains, error gains,
e± gains and the class-AB floor factor. ``pars`` = ``[fx, fe², f₂, λ_total, x_scale, y_scale]``.

Cell noise (``noise`` = (σ_W, keys, first counter), or None). After the last substep of hold t each
half of each weight gets ``W_i^a += σ_W·ξ`` (then the floor ``W_MIN``), ξ a standard normal that is a
pure function of the die's two key words and the counter ``c = (first + t)·D + i`` (:func:`noise_pairs`:
a counter-based generator: two 64-bit words mix(mix(key₀ + (2c + j)·γ) ⊕ key₁), j = 0, 1, mix the
splitmix64 finaliser, γ its Weyl increment; each word's top 52 bits m the uniform (2m + 1)·2⁻⁵³ in (0, 1), mapped by
the normal quantile Φ⁻¹ (Acklam's rational approximation, relative error < 1.2e-9: no trigonometry;
a logarithm, an erfc and a Halley step only in the 4.9 % tails) — word 0 for W⁺, word 1 for W⁻, so the halves are independent).
Nothing is stored: each hold's normals are formed where they are used. σ_W is derived in
:mod:`logdomain.cell_noise` (``LearnerModel.noise_rel``): σ_W = noise_rel · T_s/τ (units of I_u).
With ``noise`` None nothing is drawn and the loop is the noise-free one, unchanged.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["pack", "run_numpy", "run_numba", "W_MIN", "numba_available", "NCOEF", "noise_pairs", "normal_quantile"]

#: smallest W± (units of I_u): a log-domain state never reaches 0
W_MIN = 1e-6
NCOEF = 13
# coef columns
F_PP, F_NN, F_PN, F_NP, A_PP, A_PN, A_NP, A_NN, L_P, L_N, S_P, S_N, S_0 = range(NCOEF)


def pack(g: dict[str, np.ndarray], rho: float, beta: float, s0: float, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """(coef (dies, D, NCOEF), die (dies, 7)) from the gains of :class:`logdomain.learner_model.LearnerDies`."""
    fwd, ux, cell, loop, term = g["fwd"], g["upd_x"], g["cell"], g["loop"], g["term"]
    dies, d = fwd.shape[:2]
    c = np.empty((dies, d, NCOEF), dtype)
    c[..., F_PP], c[..., F_NN], c[..., F_PN], c[..., F_NP] = fwd[:, :, 0, 0], fwd[:, :, 1, 1], fwd[:, :, 0, 1], fwd[:, :, 1, 0]
    # W⁺ ← e⁺X⁺ (A_PP) and e⁻X⁻ (A_PN); W⁻ ← e⁺X⁻ (A_NP) and e⁻X⁺ (A_NN)
    c[..., A_PP] = rho * cell[:, :, 0] * term[:, :, 0, 0] * ux[:, :, 0]
    c[..., A_PN] = rho * cell[:, :, 0] * term[:, :, 0, 1] * ux[:, :, 1]
    c[..., A_NP] = rho * cell[:, :, 1] * term[:, :, 1, 0] * ux[:, :, 1]
    c[..., A_NN] = rho * cell[:, :, 1] * term[:, :, 1, 1] * ux[:, :, 0]
    c[..., L_P] = rho * beta * loop[:, :, 0] * g["zeta"]
    c[..., L_N] = rho * beta * loop[:, :, 1] * g["zeta"]
    c[..., S_P], c[..., S_N] = g["sense"][:, :, 0], g["sense"][:, :, 1]
    c[..., S_0] = s0 * g["s0"]
    die = np.column_stack([g["target"][:, 0], g["target"][:, 1], g["err"][:, 0], g["err"][:, 1],
                           g["e_gain"][:, 0], g["e_gain"][:, 1], g["floor2"]])  # fmt: skip
    return np.ascontiguousarray(c, dtype=dtype), np.ascontiguousarray(die, dtype=dtype)


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S12 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(12)
_ONE_BITS = np.uint64(0x3FF0000000000000)  # the exponent bits of 1.0
_TWO_M52, _TWO_M53 = 2.0**-52, 2.0**-53


def _mix_numpy(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (uint64 in, uint64 out; wraps mod 2⁶⁴)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


#: Acklam's rational approximation of the standard normal quantile Φ⁻¹: central region
#: |p − ½| ≤ ½ − P_LOW in q = p − ½ (relative error < 1.2e-9), tails in √(−2 ln p) with one Halley step
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01,
      2.506628277459239e00)  # fmt: skip
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549671010429638e00, 4.374664141464968e00,
      2.938163982698783e00)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425
_Q_EDGE = 0.5 - _P_LOW - 2.0**-52  # |u − ½| beyond this may be a tail (the exact test is in the quantile)
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _quantile_central(q):
    """Φ⁻¹(½ + q) for |q| ≤ ½ − P_LOW (scalar or array)."""
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
    return num / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)


def _quantile_tail(p: float) -> float:
    """Φ⁻¹(p) for 0 < p < P_LOW (the upper tail is −Φ⁻¹(1 − p)), scalar: the rational approximation,
    then one Halley step on Φ(x) − p (Acklam's refinement: full double precision)."""
    t = math.sqrt(-2.0 * math.log(p))
    num = ((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C[5]
    x = num / ((((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1.0)
    e = 0.5 * math.erfc(-x * _SQRT_HALF) - p
    u = e * _SQRT_2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


_tail_array = np.vectorize(_quantile_tail, otypes=[np.float64])


def _uniform(h: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1) from the top 52 bits m of uint64 words: (2m + 1)·2⁻⁵³ (exact in float64;
    the numba loop forms the same number as (1 + m·2⁻⁵²) − 1 + 2⁻⁵³ from the bits of a double)."""
    return (h >> _S12).astype(np.float64) * _TWO_M52 + _TWO_M53


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p) for p in (0, 1), dimensionless (Acklam's approximation; the inverse CDF the noise uses)."""
    p = np.asarray(p, dtype=np.float64)
    out = _quantile_central(p - 0.5)
    lo, hi = p < _P_LOW, p > 1.0 - _P_LOW
    if lo.any():
        out[lo] = _tail_array(p[lo])
    if hi.any():
        out[hi] = -_tail_array(1.0 - p[hi])
    return out


def noise_pairs(keys: np.ndarray, counter: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard normals (ξ⁺, ξ⁻) for each die's keys (dies, 2) uint64 and counters (D,) uint64: arrays
    (dies, D), a pure function of (key, counter) (the numba loop forms the same values in place)."""
    with np.errstate(over="ignore"):
        base = keys[:, 0, None] + counter[None, :] * (np.uint64(2) * _GAMMA)
        h1 = _mix_numpy(_mix_numpy(base) ^ keys[:, 1, None])
        h2 = _mix_numpy(_mix_numpy(base + _GAMMA) ^ keys[:, 1, None])
    return normal_quantile(_uniform(h1)), normal_quantile(_uniform(h2))


def _rhs_numpy(W, Xp, Xm, Yp, Ym, c, die, pars):
    """dW/dt for all dies at once: W (dies, D, 2), Xp/Xm (D,), Yp/Ym scalars."""
    fx, fe2, f2, lam = pars[0], pars[1], pars[2], pars[3]
    wp, wm = W[:, :, 0], W[:, :, 1]
    P = np.sum(c[..., F_PP] * wp * Xp + c[..., F_NN] * wm * Xm, axis=1)
    Q = np.sum(c[..., F_PN] * wp * Xm + c[..., F_NP] * wm * Xp, axis=1)
    E = die[:, 2] * (die[:, 0] * Yp + Q) - die[:, 3] * (die[:, 1] * Ym + P)
    r = np.sqrt(0.25 * E * E + fe2 * die[:, 6])
    ep = (die[:, 4] * (r + 0.5 * E + f2))[:, None]
    em = (die[:, 5] * (r - 0.5 * E + f2))[:, None]
    Z = np.maximum(c[..., S_P] * wp + c[..., S_N] * wm - c[..., S_0], 0.0)
    out = np.empty_like(W)
    out[:, :, 0] = c[..., A_PP] * ep * Xp + c[..., A_PN] * em * Xm - c[..., L_P] * Z - lam * wp
    out[:, :, 1] = c[..., A_NP] * ep * Xm + c[..., A_NN] * em * Xp - c[..., L_N] * Z - lam * wm
    return out


def stream_halves(x, y, signs, pars, dtype) -> list[np.ndarray]:
    """(X⁺, X⁻) of shape (K, D) and (Y⁺, Y⁻) of shape (K,), contiguous in ``dtype``: the one-sided halves
    ``f_x + max(±s_k·v/scale, 0)`` of every hold's chopped input and target (``pars`` as in :func:`run_numpy`)."""
    fx, x_scale, y_scale = float(pars[0]), float(pars[4]), float(pars[5])
    signs = np.asarray(signs, dtype=np.float64)
    xt = signs[:, None] * np.asarray(x, dtype=np.float64) / x_scale
    yt = signs * np.asarray(y, dtype=np.float64) / y_scale
    return [np.ascontiguousarray(fx + np.maximum(v, 0.0), dtype=dtype) for v in (xt, -xt, yt, -yt)]


def run_numpy(W, x, y, signs, epochs, subs, h, c, die, pars, every, hist_w, noise=None):
    """Train in place: W (dies, D, 2); ``subs[k]`` Heun steps of ``h[k]`` on hold k; records W every
    ``every`` holds into ``hist_w``; ``noise`` = (σ_W, keys (dies, 2) uint64, first hold counter) or
    None (module docstring)."""
    XP, XM, YP, YM = stream_halves(x, y, signs, pars, W.dtype)
    D = W.shape[1]
    if noise is not None:
        sig_w, keys, first = float(noise[0]), np.asarray(noise[1], dtype=np.uint64), int(noise[2])
        lanes = np.arange(D, dtype=np.uint64)
    t = 0
    for _ in range(epochs):
        for k in range(x.shape[0]):
            Xp, Xm, Yp, Ym = XP[k], XM[k], YP[k], YM[k]
            for _sub in range(subs[k]):
                k1 = _rhs_numpy(W, Xp, Xm, Yp, Ym, c, die, pars)
                k2 = _rhs_numpy(np.maximum(W + h[k] * k1, W_MIN), Xp, Xm, Yp, Ym, c, die, pars)
                W += 0.5 * h[k] * (k1 + k2)
                np.maximum(W, W_MIN, out=W)
            if noise is not None:
                n_p, n_m = noise_pairs(keys, np.uint64((first + t) * D) + lanes)
                W[:, :, 0] += sig_w * n_p
                W[:, :, 1] += sig_w * n_m
                np.maximum(W, W_MIN, out=W)
            t += 1
            if every and t % every == 0:
                hist_w[t // every] = W
    return W


try:  # pragma: no cover - exercised when numba is installed (the [dev] and [fast] extras)
    import numba as _nb

    @_nb.njit(cache=True, fastmath=True, error_model="numpy", inline="always")
    def _sums(W0, W1, Xp, Xm, c):
        """P = Σ (F⁺⁺ W⁺ X⁺ + F⁻⁻ W⁻ X⁻), Q = Σ (F⁺⁻ W⁺ X⁻ + F⁻⁺ W⁻ X⁺) over the weights of one die."""
        P = W0[0] * 0
        Q = W0[0] * 0
        for i in range(W0.shape[0]):
            P += c[0, i] * W0[i] * Xp[i] + c[1, i] * W1[i] * Xm[i]
            Q += c[2, i] * W0[i] * Xm[i] + c[3, i] * W1[i] * Xp[i]
        return P, Q

    @_nb.njit(cache=True, fastmath=True, error_model="numpy", inline="always")
    def _error(P, Q, Yp, Ym, dv, fe2, f2, half, quarter):
        """(e⁺, e⁻) of the class-AB error split for one die."""
        E = dv[2] * (dv[0] * Yp + Q) - dv[3] * (dv[1] * Ym + P)
        r = np.sqrt(quarter * E * E + fe2 * dv[6])
        return dv[4] * (r + half * E + f2), dv[5] * (r - half * E + f2)

    @_nb.njit(cache=True, inline="always")
    def _mix(z):
        """splitmix64's finaliser on a uint64 (wraps mod 2⁶⁴)."""
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)

    _q_central = _nb.njit(cache=True, inline="always")(_quantile_central)
    _q_tail = _nb.njit(cache=True, inline="always")(_quantile_tail)

    @_nb.njit(cache=True, inline="always")
    def _quantile(p):
        """Φ⁻¹(p), scalar: :func:`normal_quantile`."""
        if p < _P_LOW:
            return _q_tail(p)
        if p > 1.0 - _P_LOW:
            return -_q_tail(1.0 - p)
        return _q_central(p - 0.5)

    @_nb.njit(cache=True, inline="always")
    def _words(k0, k1, ctr):
        """The two 64-bit words of counter ``ctr`` under keys (k0, k1)."""
        base = k0 + ctr * (_GAMMA + _GAMMA)
        return _mix(_mix(base) ^ k1), _mix(_mix(base + _GAMMA) ^ k1)

    @_nb.njit(cache=True)
    def _normal_pair(k0, k1, ctr):
        """(ξ⁺, ξ⁻) of counter ``ctr`` under keys (k0, k1): the arithmetic of :func:`noise_pairs`."""
        h1, h2 = _words(k0, k1, ctr)
        return (_quantile(np.float64(h1 >> _S12) * _TWO_M52 + _TWO_M53),
                _quantile(np.float64(h2 >> _S12) * _TWO_M52 + _TWO_M53))

    @_nb.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
    def _run_dies(W, XP, XM, YP, YM, epochs, subs, h, c, die, pars, every, hist_w, noisy, sig_w, keys, first):
        """W (dies, 2, D), c (dies, NCOEF, D), XP/XM (K, D) and YP/YM (K,) the inputs' halves,
        hist_w (n_records, dies, 2, D); ``pars`` = [fe², f₂, λ, W_MIN, ½, ¼, 0] in W's dtype; when
        ``noisy``, σ_W ``sig_w`` (float64), ``keys`` (dies, 2) uint64 and the first hold counter ``first``
        (module docstring; the noise pass reuses k₁'s scratch arrays to stay in W's dtype).

        One Heun step is two passes over the weights: the first forms k₁, the trial state and the
        trial's sums P, Q; the second forms k₂, the new state and its sums P, Q for the next step. Every constant comes from
        ``pars`` so float32 runs stay float32 (a float64 literal would widen the SIMD lanes)."""
        dies, D = W.shape[0], W.shape[2]
        fe2, f2, lam, wmin, half, quarter, zero = pars[0], pars[1], pars[2], pars[3], pars[4], pars[5], pars[6]
        K = XP.shape[0]
        for d in _nb.prange(dies):
            W0 = W[d, 0]
            W1 = W[d, 1]
            cd = c[d]
            dv = die[d]
            k10 = np.empty(D, W.dtype)
            k11 = np.empty(D, W.dtype)
            T0 = np.empty(D, W.dtype)
            T1 = np.empty(D, W.dtype)
            B0 = np.empty(D if noisy else 0, np.uint64)
            B1 = np.empty(D if noisy else 0, np.uint64)
            U0 = B0.view(np.float64)
            U1 = B1.view(np.float64)
            t = 0
            P, Q = _sums(W0, W1, XP[0], XM[0], cd)
            for _e in range(epochs):
                for k in range(K):
                    Xp = XP[k]
                    Xm = XM[k]
                    Yp = YP[k]
                    Ym = YM[k]
                    hk = h[k]
                    hh = half * hk
                    nsub = subs[k]
                    for _s in range(nsub):
                        # the last pass of a hold forms the sums with the next hold's inputs (the state
                        # does not change in between), which saves a pass over the weights per hold
                        nk = k if _s < nsub - 1 else (k + 1 if k + 1 < K else 0)
                        Xp2 = XP[nk]
                        Xm2 = XM[nk]
                        ep, em = _error(P, Q, Yp, Ym, dv, fe2, f2, half, quarter)
                        P2 = zero
                        Q2 = zero
                        for i in range(D):
                            z = max(cd[10, i] * W0[i] + cd[11, i] * W1[i] - cd[12, i], zero)
                            a0 = cd[4, i] * ep * Xp[i] + cd[5, i] * em * Xm[i] - cd[8, i] * z - lam * W0[i]
                            a1 = cd[6, i] * ep * Xm[i] + cd[7, i] * em * Xp[i] - cd[9, i] * z - lam * W1[i]
                            k10[i] = a0
                            k11[i] = a1
                            t0 = max(W0[i] + hk * a0, wmin)
                            t1 = max(W1[i] + hk * a1, wmin)
                            T0[i] = t0
                            T1[i] = t1
                            P2 += cd[0, i] * t0 * Xp[i] + cd[1, i] * t1 * Xm[i]
                            Q2 += cd[2, i] * t0 * Xm[i] + cd[3, i] * t1 * Xp[i]
                        ep, em = _error(P2, Q2, Yp, Ym, dv, fe2, f2, half, quarter)
                        P = zero
                        Q = zero
                        for i in range(D):
                            t0 = T0[i]
                            t1 = T1[i]
                            z = max(cd[10, i] * t0 + cd[11, i] * t1 - cd[12, i], zero)
                            b0 = cd[4, i] * ep * Xp[i] + cd[5, i] * em * Xm[i] - cd[8, i] * z - lam * t0
                            b1 = cd[6, i] * ep * Xm[i] + cd[7, i] * em * Xp[i] - cd[9, i] * z - lam * t1
                            w0 = max(W0[i] + hh * (k10[i] + b0), wmin)
                            w1 = max(W1[i] + hh * (k11[i] + b1), wmin)
                            W0[i] = w0
                            W1[i] = w1
                            P += cd[0, i] * w0 * Xp2[i] + cd[1, i] * w1 * Xm2[i]
                            Q += cd[2, i] * w0 * Xm2[i] + cd[3, i] * w1 * Xp2[i]
                    if noisy:
                        # the hold's noise, then the sums of the new state with the next hold's inputs
                        ctr0 = np.uint64((first + t) * D)
                        nk = k + 1 if k + 1 < K else 0
                        Xp2 = XP[nk]
                        Xm2 = XM[nk]
                        # three passes so that the first two vectorise: the words as doubles 1 + u in
                        # [1, 2) (bits), the central quantile for all, then the rare tails fixed
                        k0 = keys[d, 0]
                        k1 = keys[d, 1]
                        for i in range(D):
                            b0, b1 = _words(k0, k1, ctr0 + np.uint64(i))
                            B0[i] = (b0 >> _S12) | _ONE_BITS
                            B1[i] = (b1 >> _S12) | _ONE_BITS
                        for i in range(D):
                            k10[i] = sig_w * _q_central((U0[i] - 1.5) + _TWO_M53)
                            k11[i] = sig_w * _q_central((U1[i] - 1.5) + _TWO_M53)
                        for i in range(D):
                            if abs(U0[i] - 1.5) > _Q_EDGE:
                                k10[i] = sig_w * _quantile((U0[i] - 1.0) + _TWO_M53)
                            if abs(U1[i] - 1.5) > _Q_EDGE:
                                k11[i] = sig_w * _quantile((U1[i] - 1.0) + _TWO_M53)
                        P = zero
                        Q = zero
                        for i in range(D):
                            w0 = max(W0[i] + k10[i], wmin)
                            w1 = max(W1[i] + k11[i], wmin)
                            W0[i] = w0
                            W1[i] = w1
                            P += cd[0, i] * w0 * Xp2[i] + cd[1, i] * w1 * Xm2[i]
                            Q += cd[2, i] * w0 * Xm2[i] + cd[3, i] * w1 * Xp2[i]
                    t += 1
                    if every > 0 and t % every == 0:
                        hist_w[t // every, d] = W[d]

    def run_numba(W, x, y, signs, epochs, subs, h, c, die, pars, every, hist_w, noise=None):
        """Same as :func:`run_numpy`, compiled (the dies in parallel threads; sums reassociated, so
        it agrees with numpy to rounding, ~1e-15 relative in float64, not bit for bit)."""
        if noise is None:
            noisy, sig_w, keys, first = False, 0.0, np.zeros((W.shape[0], 2), np.uint64), 0
        else:
            noisy, sig_w, keys, first = True, float(noise[0]), np.ascontiguousarray(noise[1], dtype=np.uint64), int(noise[2])
        dt = W.dtype
        halves = stream_halves(x, y, signs, pars, dt)
        consts = np.array([pars[1], pars[2], pars[3], W_MIN, 0.5, 0.25, 0.0], dtype=dt)
        Ws = np.ascontiguousarray(W.transpose(0, 2, 1))
        cs = np.ascontiguousarray(c.transpose(0, 2, 1))
        hs = np.ascontiguousarray(hist_w.transpose(0, 1, 3, 2))
        _run_dies(Ws, *halves, epochs, subs, h, cs, die, consts, every, hs, noisy, sig_w, keys, first)
        W[...] = Ws.transpose(0, 2, 1)
        hist_w[...] = hs.transpose(0, 1, 3, 2)
        return W

    numba_available = True
except ImportError:  # pragma: no cover - numba missing: the numpy loop does the same work
    run_numba = None  # type: ignore[assignment]
    numba_available = False
