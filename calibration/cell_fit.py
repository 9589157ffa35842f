"""Block-level calibration of the log-domain weight cell from SPICE step responses.

Fitted law (currents in A, time in s)::

    τ·dI_w/dt = P − λ_eff·I_w − leak,     P = I_e·I_x/I_u

with the up- and down-going relaxation rates compared to give the update asymmetry
``(r_up − r_down)/(r_up + r_down)``, and the output range found by moving the rest current
over decades until the cell leaves its law (> 5 % off) or a signal device leaves weak
inversion/saturation. The fit uses one step response (up ×3 and back); it is validated on a
different one (down ×1/3 and back) that the fit never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from netlists import SimParams, Simulator, SimulationError, get_simulator
from netlists.learner import solve_law, weight_cell_response
from netlists.technologies.base import Technology
from netlists.weight_cell import WeightCellParams

__all__ = ["CellFit", "fit_weight_cell", "cell_range"]


@dataclass(frozen=True)
class CellFit:
    tau_s: float
    tau_ideal_s: float
    lam_eff: float
    leak_a: float
    update_asymmetry: float
    rms_rel_error_fit: float
    rms_rel_error_validation: float
    kappa: float


def _model(time_s, product_a, tau_s, lam, leak_a, i0_a):
    return solve_law(time_s, product_a - leak_a, tau_s, lam, i0_a)


def _fit(time_s, product_a, i_w_a, tau0_s, lam0):
    scale = float(np.median(product_a))

    def residual(theta):
        tau, lam, leak = np.exp(theta[0]), np.exp(theta[1]), theta[2] * scale
        return _model(time_s, product_a, tau, lam, leak, i_w_a[0]) / i_w_a - 1.0

    fit = least_squares(residual, [np.log(tau0_s), np.log(lam0), 0.0], x_scale=[0.1, 0.1, 0.01])
    return float(np.exp(fit.x[0])), float(np.exp(fit.x[1])), float(fit.x[2] * scale), float(np.sqrt(np.mean(fit.fun**2)))


def _segment_rate(time_s, i_w_a, start_s, stop_s) -> float:
    """Relaxation rate (1/s) of I = I_∞ − A·e^{−r(t − start)} over [start, stop]."""
    sel = (time_s >= start_s) & (time_s <= stop_s)
    t, i = time_s[sel] - start_s, i_w_a[sel]

    def residual(theta):
        inf, amp, log_rate = theta
        return (inf - amp * np.exp(-np.exp(log_rate) * t)) / i - 1.0

    fit = least_squares(residual, [i[-1], i[-1] - i[0], np.log(5.0 / max(t[-1], 1e-12))])
    return float(np.exp(fit.x[2]))


def fit_weight_cell(
    tech: Technology,
    params: WeightCellParams | None = None,
    *,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> CellFit:
    """Fit τ, λ_eff, leak and asymmetry on an up-step; validate on a down-step."""
    simulator = simulator or get_simulator()
    p = params or WeightCellParams()
    train = weight_cell_response(tech, p, kappa="measured", sim=sim, simulator=simulator)
    tau, lam, leak, rms_fit = _fit(train.time_s, train.product_a, train.i_w_a, train.tau_ideal_s, train.lam_ideal)
    r_up = _segment_rate(train.time_s, train.i_w_a, p.t_step_s + p.t_rise_s, p.t_back_s)
    r_down = _segment_rate(train.time_s, train.i_w_a, p.t_back_s + p.t_rise_s, p.t_stop_s)
    asymmetry = (r_up - r_down) / (r_up + r_down)
    held_out = p.replace(i_x_step_a=p.i_x_a / 3.0)
    val = weight_cell_response(tech, held_out, kappa="measured", sim=sim, simulator=simulator)
    predicted = _model(val.time_s, val.product_a, tau, lam, leak, val.i_w_a[0])
    rms_val = float(np.sqrt(np.mean((predicted / val.i_w_a - 1.0) ** 2)))
    return CellFit(tau, train.tau_ideal_s, lam, leak, float(asymmetry), rms_fit, rms_val, train.kappa)


def cell_range(
    tech: Technology,
    params: WeightCellParams | None = None,
    *,
    factors: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0),
    tolerance: float = 0.05,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> tuple[float, float, list[dict]]:
    """(i_w_min_a, i_w_max_a, per-point records): rest currents where the cell obeys its law.

    The rest current P/λ is moved by scaling I_x (and its step) by each factor; a point is good
    when all signal devices are in weak inversion and saturated and its DC rest value keeps the
    gain the cell has at the nominal point (factor 1, where τ and λ_eff are fitted) within
    ``tolerance`` — a constant gain error is part of the calibrated law, leaving it is not.
    """
    simulator = simulator or get_simulator()
    p = params or WeightCellParams()
    if 1.0 not in factors:
        raise ValueError("cell_range needs the nominal point: factors must contain 1.0")
    records: dict[float, dict] = {}
    for factor in sorted(factors, key=lambda f: f != 1.0):  # the nominal point first
        q = p.replace(i_x_a=p.i_x_a * factor, i_x_step_a=p.i_x_step_a * factor, points=200)
        try:
            r = weight_cell_response(tech, q, sim=sim, simulator=simulator)
            err = r.i_rest_a / r.i_rest_ideal_a - 1.0
            records[factor] = {"i_rest_ideal_a": r.i_rest_ideal_a, "rest_error": err, "regions_ok": r.regions_ok}
        except SimulationError as exc:
            records[factor] = {"i_rest_ideal_a": q.steady_state_a(), "error": str(exc).splitlines()[0], "regions_ok": False}
    nominal = records[1.0].get("rest_error")
    good = []
    for factor in factors:
        rec = records[factor]
        rec["ok"] = bool(
            nominal is not None and "rest_error" in rec and rec["regions_ok"]
            and abs((1.0 + rec["rest_error"]) / (1.0 + nominal) - 1.0) <= tolerance
        )
        if rec["ok"]:
            good.append(rec["i_rest_ideal_a"])
    if not good:
        raise SimulationError("weight cell obeys its law at none of the tested rest currents")
    records = [records[f] for f in factors]  # type: ignore[assignment]
    return float(min(good)), float(max(good)), records
