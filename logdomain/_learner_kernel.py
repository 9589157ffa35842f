"""Inner loop of :func:`logdomain.learner_sim.sgdr_learner`: the learner's W± dynamics over a stream.

:func:`run_numpy` and the compiled :func:`run_numba` do the same arithmetic (the equations of
:mod:`logdomain.learner_model`), one Heun (RK2) step per substep, W± kept ≥ ``W_MIN``:
numpy vectorises over dies, numba runs the dies in parallel threads. Arrays are float64;
``pars`` packs the scalars ``[fx, fe2, f2, s0, beta, rho, lam_c, x_scale, y_scale]``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run_numpy", "run_numba", "W_MIN", "numba_available"]

#: smallest W± (units of I_u): a log-domain state never reaches 0
W_MIN = 1e-6


def _inputs(x_row, y_val, sign, fx, x_scale, y_scale):
    xt = sign * x_row / x_scale
    yt = sign * y_val / y_scale
    return fx + np.maximum(xt, 0.0), fx + np.maximum(-xt, 0.0), fx + max(yt, 0.0), fx + max(-yt, 0.0)


def _rhs_numpy(W, Xp, Xm, Yp, Ym, g, pars):
    """dW/dt for all dies at once: W (dies, D, 2)."""
    fx, fe2, f2, s0, beta, rho, lam_c, _, _ = pars
    wp, wm = W[:, :, 0], W[:, :, 1]
    fwd = g["fwd"]
    P = np.sum(fwd[:, :, 0, 0] * wp * Xp + fwd[:, :, 1, 1] * wm * Xm, axis=1)
    Q = np.sum(fwd[:, :, 0, 1] * wp * Xm + fwd[:, :, 1, 0] * wm * Xp, axis=1)
    E = g["err"][:, 0] * (g["target"][:, 0] * Yp + Q) - g["err"][:, 1] * (g["target"][:, 1] * Ym + P)
    r = np.sqrt(0.25 * E * E + fe2 * g["floor2"])
    ep = g["e_gain"][:, 0] * (r + 0.5 * E + f2)
    em = g["e_gain"][:, 1] * (r - 0.5 * E + f2)
    S = g["sense"][:, :, 0] * wp + g["sense"][:, :, 1] * wm
    Z = beta * g["zeta"] * np.maximum(S - s0 * g["s0"], 0.0)
    ux = g["upd_x"]
    xu = np.stack([Xp * ux[:, :, 0], Xm * ux[:, :, 1]], axis=-1)  # update path's input halves
    term = g["term"]
    out = np.empty_like(W)
    for a in range(2):
        b = 1 - a
        drive = term[:, :, a, 0] * ep[:, None] * xu[:, :, a] + term[:, :, a, 1] * em[:, None] * xu[:, :, b]
        out[:, :, a] = rho * (g["cell"][:, :, a] * drive - g["loop"][:, :, a] * Z) - lam_c * W[:, :, a]
    return out


def run_numpy(W, x, y, signs, epochs, substeps, h, g, pars, every, history, readout):
    """Train in place: W (dies, D, 2); records ``readout(W)`` into ``history`` every ``every`` holds."""
    fx, x_scale, y_scale = pars[0], pars[7], pars[8]
    t = 0
    for _ in range(epochs):
        for k in range(x.shape[0]):
            Xp, Xm, Yp, Ym = _inputs(x[k], y[k], signs[k], fx, x_scale, y_scale)
            for _sub in range(substeps):
                k1 = _rhs_numpy(W, Xp, Xm, Yp, Ym, g, pars)
                trial = np.maximum(W + h * k1, W_MIN)
                k2 = _rhs_numpy(trial, Xp, Xm, Yp, Ym, g, pars)
                W += 0.5 * h * (k1 + k2)
                np.maximum(W, W_MIN, out=W)
            t += 1
            if every and t % every == 0:
                history[t // every] = readout(W)
    return W


try:  # pragma: no cover - exercised when numba is installed (the [dev] and [fast] extras)
    import numba as _nb

    @_nb.njit(cache=True, fastmath=False)
    def _rhs_die(W, out, Xp, Xm, Yp, Ym, fwd, upd_x, cell, loop, term, sense, s0v, zeta, target, err, e_gain, floor2, pars):
        fx, fe2, f2, s0, beta, rho, lam_c = pars[0], pars[1], pars[2], pars[3], pars[4], pars[5], pars[6]
        D = W.shape[0]
        P = 0.0
        Q = 0.0
        for i in range(D):
            P += fwd[i, 0, 0] * W[i, 0] * Xp[i] + fwd[i, 1, 1] * W[i, 1] * Xm[i]
            Q += fwd[i, 0, 1] * W[i, 0] * Xm[i] + fwd[i, 1, 0] * W[i, 1] * Xp[i]
        E = err[0] * (target[0] * Yp + Q) - err[1] * (target[1] * Ym + P)
        r = np.sqrt(0.25 * E * E + fe2 * floor2)
        ep = e_gain[0] * (r + 0.5 * E + f2)
        em = e_gain[1] * (r - 0.5 * E + f2)
        for i in range(D):
            S = sense[i, 0] * W[i, 0] + sense[i, 1] * W[i, 1]
            Z = beta * zeta[i] * max(S - s0 * s0v[i], 0.0)
            xp = Xp[i] * upd_x[i, 0]
            xm = Xm[i] * upd_x[i, 1]
            for a in range(2):
                xa = xp if a == 0 else xm
                xb = xm if a == 0 else xp
                drive = term[i, a, 0] * ep * xa + term[i, a, 1] * em * xb
                out[i, a] = rho * (cell[i, a] * drive - loop[i, a] * Z) - lam_c * W[i, a]

    @_nb.njit(parallel=True, cache=True)
    def _run_dies(W, x, y, signs, epochs, substeps, h, fwd, upd_x, cell, loop, term, sense, s0v, zeta, target, err,
                  e_gain, floor2, pars, every, hist_w):  # fmt: skip
        dies, D = W.shape[0], W.shape[1]
        fx, x_scale, y_scale = pars[0], pars[7], pars[8]
        K = x.shape[0]
        for d in _nb.prange(dies):
            Wd = W[d]
            k1 = np.empty((D, 2))
            k2 = np.empty((D, 2))
            trial = np.empty((D, 2))
            Xp = np.empty(D)
            Xm = np.empty(D)
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
                    for _s in range(substeps):
                        _rhs_die(Wd, k1, Xp, Xm, Yp, Ym, fwd[d], upd_x[d], cell[d], loop[d], term[d], sense[d], s0v[d],
                                 zeta[d], target[d], err[d], e_gain[d], floor2[d], pars)  # fmt: skip
                        for i in range(D):
                            for a in range(2):
                                trial[i, a] = max(Wd[i, a] + h * k1[i, a], W_MIN)
                        _rhs_die(trial, k2, Xp, Xm, Yp, Ym, fwd[d], upd_x[d], cell[d], loop[d], term[d], sense[d], s0v[d],
                                 zeta[d], target[d], err[d], e_gain[d], floor2[d], pars)  # fmt: skip
                        for i in range(D):
                            for a in range(2):
                                Wd[i, a] = max(Wd[i, a] + 0.5 * h * (k1[i, a] + k2[i, a]), W_MIN)
                    t += 1
                    if every > 0 and t % every == 0:
                        hist_w[t // every, d] = Wd

    def run_numba(W, x, y, signs, epochs, substeps, h, g, pars, every, hist_w):
        """Same as :func:`run_numpy`, compiled; records the raw states W into ``hist_w``."""
        _run_dies(W, x, y, signs, epochs, substeps, h, g["fwd"], g["upd_x"], g["cell"], g["loop"], g["term"],
                  g["sense"], g["s0"], g["zeta"], g["target"], g["err"], g["e_gain"], g["floor2"], pars, every, hist_w)  # fmt: skip
        return W

    numba_available = True
except ImportError:  # pragma: no cover - numba missing: the numpy loop does the same work
    run_numba = None  # type: ignore[assignment]
    numba_available = False
