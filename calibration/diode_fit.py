"""Calibration of the diode-connected MOS of the energy-based block (:mod:`netlists.ebm_block`).

The device (gate = drain = node, source = bulk = 0) is a one-port: its current depends on the node
voltage v only. In weak inversion the EKV law of a diode-connected device is
``I = I_0·e^{v/(n·U_T)}·(1 − e^{−v/U_T})`` (Enz, Krummenacher & Vittoz 1995): the factor
``(1 − e^{−v/U_T})`` is the reverse current of a device whose V_DS equals V_GS. Measured on sky130 the
slope 1/(n·U_T) is not constant (n grows with v: DIBL, the approach to moderate inversion) and below
0 V the device conducts backwards (the node becomes its source, the grounded bulk is forward biased),
which EKV does not describe. The fitted law keeps the EKV factor and lets the exponent be a polynomial
on each side, with a shared value at 0::

    I(v) =  e^{q(v)}·(1 − e^{−v/U_T})      v ≥ 0,   q(v) = c₀ + Σ_{m=1..M} p_m·v^m
    I(v) = −e^{r(v)}·(1 − e^{+v/U_T})      v < 0,   r(v) = c₀ + Σ_{m=1..M} s_m·v^m        (A; v in V)

I(0) = 0 and I is C¹ at 0 (both sides have slope e^{c₀}/U_T). ``ln|I| − ln(1 − e^{−|v|/U_T})`` is linear
in the coefficients, so the fit is one linear least-squares solve on the log of the current of a
``.dc`` sweep in SPICE (default −0.45 … 0.45 V, 5 mV steps; points within ``v_exclude_v`` of 0, where
the current is at the solver's floor, are left out). Outside the fitted range q and r continue
linearly (tangent at the end). The fit reports its relative error on the sweep; monotonicity (the
block's energy is then strictly convex) is checked on a fine grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from netlists import Analysis, NetlistBuilder, SimParams, Simulator
from netlists.errors import ParameterError
from netlists.technologies.base import Technology, thermal_voltage_v

__all__ = ["DiodeLaw", "collect_diode_iv", "fit_diode_law", "calibrate_diode"]


@dataclass(frozen=True)
class DiodeLaw:
    """The fitted one-port law (module docstring): ``c0`` (ln A), ``p`` and ``s`` (coefficients of v^1…v^M
    in 1/V^m), fitted on ``[v_min_v, v_max_v]``; ``rms_rel_error``/``max_rel_error`` on the sweep."""

    c0: float
    p: tuple[float, ...]
    s: tuple[float, ...]
    v_min_v: float
    v_max_v: float
    temp_c: float
    rms_rel_error: float
    max_rel_error: float
    w_m: float = 0.0
    l_m: float = 0.0
    technology: str = ""

    def _exponent(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(exponent, its derivative) with linear continuation outside the fitted range."""
        out = np.zeros_like(v)
        slope = np.zeros_like(v)
        for coeffs, side, edge in ((self.p, v >= 0, self.v_max_v), (self.s, v < 0, self.v_min_v)):
            x = v[side]
            clip = np.clip(x, self.v_min_v, self.v_max_v)
            value = np.full_like(x, self.c0)
            deriv = np.zeros_like(x)
            for m, a in enumerate(coeffs, start=1):
                value += a * clip**m
                deriv += m * a * clip ** (m - 1)
            out[side] = value + deriv * (x - clip)
            slope[side] = deriv
        return out, slope

    def current_a(self, v) -> np.ndarray:
        """Diode current, A, at node voltages ``v`` (V), any shape."""
        v = np.asarray(v, dtype=float)
        ut = thermal_voltage_v(self.temp_c)
        e, _ = self._exponent(v.ravel())
        vr = v.ravel()
        factor = np.where(vr >= 0, -np.expm1(-vr / ut), np.expm1(vr / ut))
        return (np.exp(e) * factor).reshape(v.shape)

    def conductance_s(self, v) -> np.ndarray:
        """dI/dv, S."""
        v = np.asarray(v, dtype=float)
        ut = thermal_voltage_v(self.temp_c)
        vr = v.ravel()
        e, de = self._exponent(vr)
        pos = vr >= 0
        factor = np.where(pos, -np.expm1(-vr / ut), np.expm1(vr / ut))
        dfactor = np.where(pos, np.exp(-np.abs(vr) / ut), np.exp(-np.abs(vr) / ut)) / ut
        return (np.exp(e) * (de * factor + dfactor)).reshape(v.shape)

    def as_dict(self) -> dict:
        return asdict(self)


def collect_diode_iv(tech: Technology, *, w_m: float, l_m: float, v_min_v: float = -0.45, v_max_v: float = 0.45,
                     step_v: float = 0.005, sim: SimParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(v in V, I in A) of the diode-connected nMOS (gate = drain = node, source = bulk = 0), one ``.dc``."""
    if not (np.isfinite(v_min_v) and np.isfinite(v_max_v) and -1.0 <= v_min_v < v_max_v <= 1.0):
        raise ParameterError(f"diode sweep needs -1 <= v_min_v < v_max_v <= 1 V, got {v_min_v!r}, {v_max_v!r}")
    nb = NetlistBuilder("diode_iv", tech)
    nb.vsource("va", "a", "0", 0.0)
    nb.mos("m1", "n", "a", "a", "0", "0", w_m=w_m, l_m=l_m)
    nb.analysis(Analysis("dc", "va", v_min_v, v_max_v, step_v))
    netlist = nb.build()
    netlist.fixed_sizes = True
    sim = sim or SimParams(reltol=1e-9, vntol_v=1e-12, abstol_a=1e-18, gmin_s=1e-18)
    with Simulator(sim) as simulator:
        result = simulator.run(netlist)
    v = np.asarray(result["v(a)"] if "v(a)" in result.vectors else result["a"], dtype=float)
    return v, np.asarray(result.drain_current("m1"), dtype=float)


def fit_diode_law(v: np.ndarray, i: np.ndarray, *, temp_c: float = 27.0, degree: int = 5, v_exclude_v: float = 0.01,
                  meta: dict | None = None) -> DiodeLaw:
    """Linear least squares of the exponents q, r (degree ``degree`` each, shared c₀) on the sweep (V, A)."""
    if isinstance(degree, bool) or not isinstance(degree, int) or not 1 <= degree <= 8:
        raise ParameterError(f"fit_diode_law degree must be an integer in [1, 8], got {degree!r}")
    v, i = np.asarray(v, dtype=float), np.asarray(i, dtype=float)
    ut = thermal_voltage_v(temp_c)
    keep = (np.abs(v) > v_exclude_v) & (np.sign(i) == np.sign(v))
    if keep.sum() < 2 * degree + 2:
        raise ParameterError(f"fit_diode_law needs at least {2 * degree + 2} points away from 0 V with I of the sign of v")
    vv, ii = v[keep], i[keep]
    target = np.log(np.abs(ii)) - np.log(-np.expm1(-np.abs(vv) / ut))
    pos, neg = np.maximum(vv, 0.0), np.minimum(vv, 0.0)
    columns = [np.ones_like(vv)] + [pos**m for m in range(1, degree + 1)] + [neg**m for m in range(1, degree + 1)]
    design = np.stack(columns, axis=1)
    scale = np.max(np.abs(design), axis=0)
    coef = np.linalg.lstsq(design / scale, target, rcond=None)[0] / scale
    meta = meta or {}
    law = DiodeLaw(float(coef[0]), tuple(map(float, coef[1:degree + 1])), tuple(map(float, coef[degree + 1:])),
                   float(v.min()), float(v.max()), float(temp_c), 0.0, 0.0, float(meta.get("w_m", 0.0)),
                   float(meta.get("l_m", 0.0)), str(meta.get("technology", "")))
    rel = (law.current_a(vv) - ii) / np.abs(ii)
    grid = np.linspace(v.min(), v.max(), 2001)
    if not np.all(law.conductance_s(grid) > 0):
        raise ParameterError("fitted diode law is not monotone on the sweep range; lower the degree")
    return DiodeLaw(**{**law.as_dict(), "rms_rel_error": float(np.sqrt(np.mean(rel**2))),
                       "max_rel_error": float(np.max(np.abs(rel)))})


def calibrate_diode(tech: Technology, *, w_m: float, l_m: float, temp_c: float = 27.0, v_min_v: float = -0.45,
                    v_max_v: float = 0.45) -> DiodeLaw:
    """Sweep the diode-connected nMOS in SPICE and fit :class:`DiodeLaw`."""
    sim = SimParams(reltol=1e-9, vntol_v=1e-12, abstol_a=1e-18, gmin_s=1e-18, temp_c=temp_c)
    v, i = collect_diode_iv(tech, w_m=w_m, l_m=l_m, v_min_v=v_min_v, v_max_v=v_max_v, sim=sim)
    return fit_diode_law(v, i, temp_c=temp_c, meta={"w_m": w_m, "l_m": l_m, "technology": tech.label})
