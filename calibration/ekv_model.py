"""The EKV drain-current law in numpy (same equations as the ``ekv`` technology's B-source).

``I_D = I_spec□·(W/L)·[F((v_p − V_S)/U_T) − F((v_p − V_D)/U_T)]``,
``v_p = (V_G − V_T0 + σ·(V_D + V_S))/n``, ``F(u) = ln²(1 + e^{u/2})``;
all voltages bulk-referenced and polarity-normalized (pMOS: negated), currents in A.
Reference: Enz, Krummenacher, Vittoz, Analog Integr. Circ. Sig. Process. 8, 83 (1995).
"""

from __future__ import annotations

import numpy as np

from netlists.technologies.base import thermal_voltage_v

__all__ = ["ekv_current_a", "log_softplus_sq"]


def log_softplus_sq(u: np.ndarray) -> np.ndarray:
    """ln F(u) = 2·ln(ln(1 + e^{u/2})), accurate for very negative u (deep weak inversion)."""
    half = np.asarray(u, dtype=float) / 2.0
    softplus = np.logaddexp(0.0, half)
    return 2.0 * np.log(softplus)


def ekv_current_a(
    vg_v, vs_v, vd_v, *, i_spec_sq_a: float, n: float, vt0_v: float, sigma_dibl: float, w_over_l, temp_c: float
) -> np.ndarray:
    """Drain current (A) for arrays of terminal voltages (V) at ``temp_c`` °C."""
    ut = thermal_voltage_v(temp_c)
    vg, vs, vd = (np.asarray(v, dtype=float) for v in (vg_v, vs_v, vd_v))
    vp = (vg - vt0_v + sigma_dibl * (vd + vs)) / n
    forward = np.exp(log_softplus_sq((vp - vs) / ut))
    reverse = np.exp(log_softplus_sq((vp - vd) / ut))
    return i_spec_sq_a * np.asarray(w_over_l, dtype=float) * (forward - reverse)
