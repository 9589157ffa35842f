"""Compiled inner loop of :func:`logdomain.analog.sgdr_analog` (numba), for noise-free runs.

The numpy loop in :mod:`logdomain.analog` is the reference: it is vectorized over
hyperparameter sets × dies × weights, so its cost per sample is a few dozen numpy calls —
fine for thousands of dies, but ~15 µs per sample for a single small learner. This kernel runs
the *same* arithmetic (same constants, same order of operations per element) compiled, so a
single learner costs well under a microsecond per sample. ``tests/test_analog.py`` checks
that both paths agree to 1e-12. Noise needs numpy's random generator: noisy runs stay on the
numpy path. Import fails cleanly when numba is not installed (then the numpy path is used).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["run_loop"]


@numba.njit(cache=True, fastmath=False)
def _signed_power(p: float, nu: float) -> float:
    a = abs(p)
    if a < 2.2250738585072014e-308:
        a = 2.2250738585072014e-308
    return p * math.exp(nu * math.log(a))


@numba.njit(cache=True, fastmath=False)
def run_loop(w, xq, yq, n_epochs, n_sub, decay, phi_lam, along, toward, corr, lam_r,
             use_dev, g_fwd, g_upd, rate, use_rate, nu, offset_sum, offset, leak, asym,
             lam_cancels, w_max, every, history):  # pragma: no cover - compiled
    """Integrate in place. Shapes: w (H, dies, D); xq (K, D); yq (K,); decay, phi_lam, lam_r (H,);
    along, toward, corr (K, H); g_fwd, g_upd, rate (dies, D); history (n_rec, H, dies, D)."""
    n_h, n_dies, n_d = w.shape
    n_samples = xq.shape[0]
    w_new = np.empty(n_d)
    g = np.empty(n_d)
    t = 0
    for _epoch in range(n_epochs):
        for k in range(n_samples):
            y = yq[k]
            for h in range(n_h):
                for d in range(n_dies):
                    for _sub in range(n_sub):
                        wx = 0.0
                        for i in range(n_d):
                            wx += w[h, d, i] * xq[k, i]
                        c = toward[k, h] - along[k, h] * wx
                        for i in range(n_d):
                            w_new[i] = w[h, d, i] * decay[h] + c * xq[k, i]
                        if use_dev:
                            fwd = 0.0
                            if nu != 0.0:
                                for i in range(n_d):
                                    fwd += _signed_power(w[h, d, i] * xq[k, i], nu) * g_fwd[d, i]
                            else:
                                for i in range(n_d):
                                    fwd += w[h, d, i] * (g_fwd[d, i] * xq[k, i])
                            e = (y - offset_sum) - fwd
                            e_id = y - wx
                            for i in range(n_d):
                                if nu != 0.0:
                                    gi = _signed_power(e * xq[k, i], nu) * g_upd[d, i]
                                else:
                                    gi = e * (g_upd[d, i] * xq[k, i])
                                if offset != 0.0:
                                    gi += offset
                                if leak != 0.0:
                                    gi -= math.copysign(leak, w[h, d, i])
                                if lam_cancels:
                                    gi -= e_id * xq[k, i]
                                else:
                                    lam_w = lam_r[h] * w[h, d, i]
                                    gi -= lam_w
                                    if asym != 0.0:
                                        gi += asym * abs(gi)
                                    if use_rate:
                                        gi *= rate[d, i]
                                    gi -= e_id * xq[k, i]
                                    gi += lam_w
                                g[i] = gi
                            rx = 0.0
                            for i in range(n_d):
                                rx += g[i] * xq[k, i]
                            for i in range(n_d):
                                w_new[i] += g[i] * phi_lam[h]
                                w_new[i] += (corr[k, h] * rx) * xq[k, i]
                        for i in range(n_d):
                            v = w_new[i]
                            if v > w_max:
                                v = w_max
                            elif v < -w_max:
                                v = -w_max
                            w[h, d, i] = v
            t += 1
            if every > 0 and t % every == 0:
                history[t // every] = w
