"""Integration details of :func:`logdomain.analog.sgdr_analog` (numpy path).

``Deviation`` is the non-ideal minus ideal right-hand side of the weight dynamics; ``phi1``
the exponential-integrator weight; ``signed_power`` the multiplier's power law.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    from .analog import AnalogModel

__all__ = ["Deviation", "phi1", "signed_power"]

FloatArray = NDArray[np.floating]


def phi1(z: FloatArray) -> FloatArray:
    """``(1 − e^{−z})/z``, 1 at z = 0."""
    z = np.asarray(z, dtype=np.float64)
    safe = np.where(z > 0, z, 1.0)
    return np.where(z > 0, -np.expm1(-safe) / safe, 1.0)


def signed_power(p: FloatArray, nu: float) -> FloatArray:
    """``sign(p)·|p|^(1+ν)`` as ``p·e^{ν ln|p|}`` — 2–3× faster than ``np.power`` (0 stays 0)."""
    tiny = np.finfo(p.dtype).tiny if np.issubdtype(np.asarray(p).dtype, np.floating) else 1e-300
    return p * np.exp(nu * np.log(np.maximum(np.abs(p), tiny)))



class Deviation:
    """``r(w) = f(w) − f_id(w)``: non-ideal minus ideal right-hand side (time in units of τ).

    ``f = T ⊙ A(M_u(e x) − λw − ℓ sign w)`` with ``e = y − Σ M_f(w x)``, ``T`` the per-cell rate
    factor (mismatch of the integrator bias), ``A(g) = g + a|g|``; ``f_id = (y − wᵀx) x − λw``.
    Terms whose parameters are ideal cost no array operation.
    """

    def __init__(self, model: AnalogModel, gains: tuple[FloatArray, FloatArray, FloatArray],
                 lam_r: FloatArray, shape: tuple[int, int, int], dtype: type) -> None:  # fmt: skip
        m = self.m = model
        mismatch = model.gain_sigma > 0
        g_fwd, g_upd, g_tau = gains
        self.g_fwd = model.multiplier_gain * g_fwd if mismatch or m.multiplier_gain != 1 else None
        self.g_upd = model.multiplier_gain * g_upd if mismatch or m.multiplier_gain != 1 else None
        self.g_fwd = None if self.g_fwd is None else self.g_fwd.astype(dtype)
        self.g_upd = None if self.g_upd is None else self.g_upd.astype(dtype)
        self.rate = g_tau.astype(dtype) if mismatch else None
        self.lam3 = np.asarray(lam_r[..., None], dtype=dtype)
        self.lam_cancels = self.rate is None and m.asymmetry == 0  # −λw drops out of f − f_id
        self.nu = m.nonlinearity
        self.offset_sum = m.offset * shape[-1]

    def set_sample(self, x_k: FloatArray) -> None:
        """Per-sample products of the die gains with the input (linear multipliers only)."""
        if self.nu == 0:
            self.gx_fwd = x_k if self.g_fwd is None else self.g_fwd * x_k
            self.gx_upd = x_k if self.g_upd is None else self.g_upd * x_k

    def _power(self, p: FloatArray) -> FloatArray:
        return signed_power(p, self.nu)

    def __call__(self, w: FloatArray, x_k: FloatArray, y_k: float, wx: FloatArray) -> FloatArray:
        m = self.m
        if self.nu != 0:
            p = self._power(w * x_k)
            fwd = (p if self.g_fwd is None else p * self.g_fwd).sum(axis=-1)
        elif self.g_fwd is None:
            fwd = wx
        else:
            fwd = np.einsum("hdi,di->hd", w, self.gx_fwd)
        e = (y_k - self.offset_sum) - fwd
        e_id = y_k - wx
        if self.nu != 0:
            g = self._power(e[..., None] * x_k)
            if self.g_upd is not None:
                g *= self.g_upd
        else:
            g = e[..., None] * self.gx_upd
        if m.offset != 0:
            g += m.offset
        if m.leak != 0:
            g -= np.copysign(m.leak, w)
        if self.lam_cancels:
            g -= e_id[..., None] * x_k
            return g
        lam_w = self.lam3 * w
        g -= lam_w
        if m.asymmetry != 0:
            g += m.asymmetry * np.abs(g)
        if self.rate is not None:
            g *= self.rate
        g -= e_id[..., None] * x_k
        g += lam_w
        return g
