"""Compiled inner loop of :func:`logdomain.ideal.sgdr_discrete` for many runs at once.

The runs (hyperparameter copies, or runs with their own data) are independent, so numba runs them in
parallel threads; each run's weights stay in cache for the whole stream. Same arithmetic as the numpy
loop: ``e = y_k − wᵀx_k``, ``w ← (1 − ηλ)w + η e x_k``; the dot product is reassociated (fastmath),
so results agree with numpy to rounding (~1e-15 relative per step), not bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numba_available", "run_discrete", "MIN_WORK"]

#: runs per SIMD block when the runs share one stream (two AVX-512 float64 vectors)
LANES = 16
#: runs × samples × weights × epochs above which sgdr_discrete uses this loop (when numba is installed)
MIN_WORK = 200_000

try:  # pragma: no cover - exercised when numba is installed (the [dev] and [fast] extras)
    import numba as _nb

    @_nb.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
    def _discrete(w, x, y, eta, decay, epochs, x_step, y_step):
        """w (R, D) in place; x (R or 1, K, D); y (R or 1, K); eta, decay (R,); run r reads
        x[r·x_step], y[r·y_step] (step 0: data shared by all runs)."""
        R, D = w.shape
        K = x.shape[1]
        for r in _nb.prange(R):
            xr = x[r * x_step]
            yr = y[r * y_step]
            wr = w[r]
            a = decay[r]
            g = eta[r]
            for _e in range(epochs):
                for k in range(K):
                    xk = xr[k]
                    s = 0.0
                    for i in range(D):
                        s += wr[i] * xk[i]
                    step = g * (yr[k] - s)
                    for i in range(D):
                        wr[i] = a * wr[i] + step * xk[i]

    @_nb.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
    def _discrete_lanes(w, x, y, eta, decay, epochs):
        """Runs sharing one stream, LANES at a time in SIMD lanes: w (blocks, D, LANES) in place,
        x (K, D), y (K,), eta/decay (blocks, LANES). No horizontal sums: each lane is one run."""
        nb, D, B = w.shape
        K = x.shape[0]
        for b in _nb.prange(nb):
            wb = w[b]
            a = decay[b]
            g = eta[b]
            s = np.empty(B)
            for _e in range(epochs):
                for k in range(K):
                    xk = x[k]
                    for j in range(B):
                        s[j] = 0.0
                    for i in range(D):
                        xi = xk[i]
                        for j in range(B):
                            s[j] += wb[i, j] * xi
                    yk = y[k]
                    for j in range(B):
                        s[j] = g[j] * (yk - s[j])
                    for i in range(D):
                        xi = xk[i]
                        for j in range(B):
                            wb[i, j] = a[j] * wb[i, j] + s[j] * xi

    def run_discrete(w: np.ndarray, x: np.ndarray, y: np.ndarray, eta: np.ndarray, decay: np.ndarray, epochs: int) -> np.ndarray:
        """Train the runs' weights ``w`` (R, D) in place; x (K, D) or (R, K, D), y (K,) or (R, K)."""
        if x.ndim == 2 and y.ndim == 1:  # one stream for every run: runs in SIMD lanes
            R, D = w.shape
            nb = -(-R // LANES)
            pad = nb * LANES - R
            lanes = lambda a: np.ascontiguousarray(np.concatenate([a, a[:1].repeat(pad, 0)]).reshape((nb, LANES) + a.shape[1:]))  # noqa: E731
            wb = np.ascontiguousarray(lanes(w).transpose(0, 2, 1))
            _discrete_lanes(wb, np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
                            lanes(np.asarray(eta, dtype=np.float64)), lanes(np.asarray(decay, dtype=np.float64)), epochs)  # fmt: skip
            w[...] = wb.transpose(0, 2, 1).reshape(nb * LANES, D)[:R]
            return w
        x3 = np.ascontiguousarray(x if x.ndim == 3 else x[None], dtype=np.float64)
        y2 = np.ascontiguousarray(y if y.ndim == 2 else y[None], dtype=np.float64)
        _discrete(w, x3, y2, np.ascontiguousarray(eta, dtype=np.float64), np.ascontiguousarray(decay, dtype=np.float64),
                  epochs, int(x3.shape[0] > 1), int(y2.shape[0] > 1))  # fmt: skip
        return w

    numba_available = True
except ImportError:  # pragma: no cover - numba missing: the numpy loop does the same work
    run_discrete = None  # type: ignore[assignment]
    numba_available = False
