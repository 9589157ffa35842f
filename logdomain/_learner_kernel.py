"""Inner loop of :func:`logdomain.learner_sim.sgdr_learner`: the learner's W± dynamics over a stream.

:func:`run_numpy` and the compiled :func:`run_numba` do the same arithmetic (the equations of
:mod:`logdomain.learner_model`), one Heun (RK2) step per substep, W± kept ≥ ``W_MIN``: numpy
vectorises over dies, numba runs the dies in parallel threads. The per-die gains are packed once
(:func:`pack`) into ``coef`` (dies, D, NCOEF): the four prediction products, the four update terms
(cell × term × update-path input gain × rate), the two sink gains (loop × ζ × β × rate), the two
sense gains and the common-mode set point; and ``die`` (dies, 7): target gains, error gains,
e± gains and the class-AB floor factor. ``pars`` = ``[fx, fe², f₂, λ_total, x_scale, y_scale]``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pack", "run_numpy", "run_numba", "W_MIN", "numba_available", "NCOEF"]

#: smallest W± (units of I_u): a log-domain state never reaches 0
W_MIN = 1e-6
NCOEF = 13
# coef columns
F_PP, F_NN, F_PN, F_NP, A_PP, A_PN, A_NP, A_NN, L_P, L_N, S_P, S_N, S_0 = range(NCOEF)


def pack(g: dict[str, np.ndarray], rho: float, beta: float, s0: float, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """(coef (dies, D, NCOEF), die (dies, 7)) from the gains of :class:`logdomain.learner_model.LearnerDies`."""
    fwd, ux, cell, loop, term = g["fwd"], g["upd_x"], g["cell"], g["loop"], g["term"]
    dies, d = fwd.shape[:2]
    c = np.empty((dies, d, NCOEF))
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


def _halves(x_row, y_val, sign, fx, x_scale, y_scale):
    xt = sign * x_row / x_scale
    yt = sign * y_val / y_scale
    return fx + np.maximum(xt, 0.0), fx + np.maximum(-xt, 0.0), fx + max(yt, 0.0), fx + max(-yt, 0.0)


def run_numpy(W, x, y, signs, epochs, subs, h, c, die, pars, every, hist_w):
    """Train in place: W (dies, D, 2); ``subs[k]`` Heun steps of ``h[k]`` on hold k; records W every
    ``every`` holds into ``hist_w``."""
    fx, x_scale, y_scale = pars[0], pars[4], pars[5]
    t = 0
    for _ in range(epochs):
        for k in range(x.shape[0]):
            Xp, Xm, Yp, Ym = _halves(x[k], y[k], signs[k], fx, x_scale, y_scale)
            for _sub in range(subs[k]):
                k1 = _rhs_numpy(W, Xp, Xm, Yp, Ym, c, die, pars)
                k2 = _rhs_numpy(np.maximum(W + h[k] * k1, W_MIN), Xp, Xm, Yp, Ym, c, die, pars)
                W += 0.5 * h[k] * (k1 + k2)
                np.maximum(W, W_MIN, out=W)
            t += 1
            if every and t % every == 0:
                hist_w[t // every] = W
    return W


try:  # pragma: no cover - exercised when numba is installed (the [dev] and [fast] extras)
    import numba as _nb

    @_nb.njit(cache=True, fastmath=True, inline="always")
    def _rhs_die(W, out, Xp, Xm, Yp, Ym, c, dv, fe2, f2, lam):
        """One die; W, out (2, D); c (NCOEF, D): every coefficient contiguous over the weights."""
        D = W.shape[1]
        P = 0.0
        Q = 0.0
        for i in range(D):
            P += c[0, i] * W[0, i] * Xp[i] + c[1, i] * W[1, i] * Xm[i]
            Q += c[2, i] * W[0, i] * Xm[i] + c[3, i] * W[1, i] * Xp[i]
        E = dv[2] * (dv[0] * Yp + Q) - dv[3] * (dv[1] * Ym + P)
        r = np.sqrt(0.25 * E * E + fe2 * dv[6])
        ep = dv[4] * (r + 0.5 * E + f2)
        em = dv[5] * (r - 0.5 * E + f2)
        for i in range(D):
            z = max(c[10, i] * W[0, i] + c[11, i] * W[1, i] - c[12, i], 0.0)
            out[0, i] = c[4, i] * ep * Xp[i] + c[5, i] * em * Xm[i] - c[8, i] * z - lam * W[0, i]
            out[1, i] = c[6, i] * ep * Xm[i] + c[7, i] * em * Xp[i] - c[9, i] * z - lam * W[1, i]

    @_nb.njit(parallel=True, cache=True, fastmath=True)
    def _run_dies(W, x, y, signs, epochs, subs, h, c, die, pars, every, hist_w):
        """W (dies, 2, D), c (dies, NCOEF, D), hist_w (n_records, dies, 2, D)."""
        dies, D = W.shape[0], W.shape[2]
        fx, fe2, f2, lam, x_scale, y_scale = pars[0], pars[1], pars[2], pars[3], pars[4], pars[5]
        K = x.shape[0]
        for d in _nb.prange(dies):
            Wd = W[d]
            cd = c[d]
            dv = die[d]
            k1 = np.empty((2, D), W.dtype)
            k2 = np.empty((2, D), W.dtype)
            trial = np.empty((2, D), W.dtype)
            Xp = np.empty(D, W.dtype)
            Xm = np.empty(D, W.dtype)
            t = 0
            for _e in range(epochs):
                for k in range(K):
                    s = signs[k]
                    for i in range(D):
                        xt = s * x[k, i] / x_scale
                        Xp[i] = fx + max(xt, 0.0)
                        Xm[i] = fx + max(-xt, 0.0)
                    yt = s * y[k] / y_scale
                    Yp = fx + max(yt, 0.0)
                    Ym = fx + max(-yt, 0.0)
                    hk = h[k]
                    for _s in range(subs[k]):
                        _rhs_die(Wd, k1, Xp, Xm, Yp, Ym, cd, dv, fe2, f2, lam)
                        for a in range(2):
                            for i in range(D):
                                trial[a, i] = max(Wd[a, i] + hk * k1[a, i], W_MIN)
                        _rhs_die(trial, k2, Xp, Xm, Yp, Ym, cd, dv, fe2, f2, lam)
                        for a in range(2):
                            for i in range(D):
                                Wd[a, i] = max(Wd[a, i] + 0.5 * hk * (k1[a, i] + k2[a, i]), W_MIN)
                    t += 1
                    if every > 0 and t % every == 0:
                        hist_w[t // every, d] = Wd

    def run_numba(W, x, y, signs, epochs, subs, h, c, die, pars, every, hist_w):
        """Same as :func:`run_numpy`, compiled (the dies in parallel threads; sums reassociated, so
        it agrees with numpy to rounding, ~1e-15 relative, not bit for bit)."""
        Ws = np.ascontiguousarray(W.transpose(0, 2, 1))
        cs = np.ascontiguousarray(c.transpose(0, 2, 1))
        hs = np.ascontiguousarray(hist_w.transpose(0, 1, 3, 2))
        _run_dies(Ws, x, y, signs, epochs, subs, h, cs, die, pars, every, hs)
        W[...] = Ws.transpose(0, 2, 1)
        hist_w[...] = hs.transpose(0, 1, 3, 2)
        return W

    numba_available = True
except ImportError:  # pragma: no cover - numba missing: the numpy loop does the same work
    run_numba = None  # type: ignore[assignment]
    numba_available = False
