"""The weight cell at transistor level measured against its ideal law.

:func:`weight_cell_response` simulates :func:`netlists.weight_cell.weight_cell` (a step of the
input product up and back) and returns the simulated ``I_w(t)`` next to the solution of the
ideal law ``τ dI_w/dt = P(t) − λ·I_w`` (P = I_e·I_x/I_u), the τ and λ fitted to the simulated
response, the DC steady state and the operating regions at a few instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from . import blocks
from .errors import ParameterError, SimulationError
from .netlist import Netlist
from .params import DiodeParams, SimParams
from .regions import RegionReport, check_regions
from .runner import SimResult, Simulator, get_simulator
from .technologies.base import Technology, thermal_voltage_v
from .weight_cell import WeightCellParams, product_waveform, weight_cell

__all__ = [
    "WeightCellResponse", "weight_cell_response", "rest_operating_point", "solve_law", "fit_law", "KAPPA_SOURCES",
]

KAPPA_SOURCES = ("measured", "nominal")


def solve_law(time_s: np.ndarray, product_a: np.ndarray, tau_s: float, lam: float, i0_a: float) -> np.ndarray:
    """Exact solution of ``τ dI/dt = P(t) − λ·I`` for P linear between the points of ``time_s``.

    Parameters
    ----------
    time_s : increasing times, s. product_a : P at those times, A. tau_s : τ, s.
    lam : λ (> 0). i0_a : I at ``time_s[0]``, A.

    Returns I (A) at ``time_s``. Over a step h with a = λ/τ and P = p0 + s·u:
    I(h) = e^{−ah}·I0 + [p0·φ + s·(h − φ)/a]/τ, φ = (1 − e^{−ah})/a.
    """
    a = lam / tau_s
    h = np.diff(time_s)
    decay = np.exp(-a * h)
    phi = -np.expm1(-a * h) / a
    slope = np.diff(product_a) / np.where(h > 0, h, 1.0)
    drive = (product_a[:-1] * phi + slope * (h - phi) / a) / tau_s
    out = np.empty(len(time_s))
    out[0] = i0_a
    for k in range(len(h)):
        out[k + 1] = decay[k] * out[k] + drive[k]
    return out


def fit_law(time_s: np.ndarray, product_a: np.ndarray, i_w_a: np.ndarray, tau0_s: float, lam0: float) -> tuple[float, float, float]:
    """Fit τ (s) and λ of the ideal law to a simulated ``I_w(t)``; returns (τ, λ, rms log error).

    The law starts from the simulated I_w(0); the residual is ln(I_model/I_sim). λ is fixed
    mostly by the levels I_w settles to (λ = P/I_∞), τ by how fast it gets there (τ/λ), so a
    gain error of the product shows up as a λ (and τ) error of the same size.
    """

    def residual(x: np.ndarray) -> np.ndarray:
        model = solve_law(time_s, product_a, float(np.exp(x[0])), float(np.exp(x[1])), float(i_w_a[0]))
        return np.log(model / i_w_a)

    fit = least_squares(residual, np.log([tau0_s, lam0]), x_scale=1.0, xtol=1e-10, ftol=1e-12)
    return float(np.exp(fit.x[0])), float(np.exp(fit.x[1])), float(np.sqrt(np.mean(fit.fun**2)))


def _relaxation(time_s: np.ndarray, i_w_a: np.ndarray, start_s: float, stop_s: float) -> tuple[float, float]:
    """Fit I = I_∞ − A·e^{−(t − start)/T} over [start, stop]; returns (T in s, I_∞ in A)."""
    sel = (time_s >= start_s) & (time_s <= stop_s)
    t, y = time_s[sel] - start_s, i_w_a[sel]
    guess = [max(t[-1] / 3.0, 1e-15), y[-1], y[-1] - y[0]]
    fit = least_squares(
        lambda x: (x[1] - x[2] * np.exp(-t / x[0])) / y - 1.0,
        guess,
        x_scale=[guess[0], abs(guess[1]), abs(guess[2]) or abs(guess[1])],
        bounds=([guess[0] * 1e-3, -np.inf, -np.inf], [guess[0] * 1e3, np.inf, np.inf]),
    )
    return float(fit.x[0]), float(fit.x[1])


@dataclass
class WeightCellResponse:
    """Simulated step response of one weight cell next to its ideal law (SI units).

    ``kappa`` is the κ used in τ = C·U_T/(κ·I_A): either ``kappa_measured`` (slope
    U_T·d ln I_w/dV_C of the output device over the simulated trajectory — a gate sweep of
    mw at its own operating points) or ``kappa_nominal`` = 1/``tech.slope_factor("n")``.
    """

    params: WeightCellParams
    time_s: np.ndarray
    i_w_a: np.ndarray
    i_w_ideal_a: np.ndarray
    v_c_v: np.ndarray
    product_a: np.ndarray
    kappa: float
    kappa_source: str
    kappa_nominal: float
    kappa_measured: float
    tau_ideal_s: float
    lam_ideal: float
    tau_fit_s: float
    lam_fit: float
    fit_rms: float
    relax_fit_s: float
    i_step_fit_a: float
    elapsed_s: float
    regions: list[RegionReport]
    region_times_s: list[float]
    netlist: Netlist = field(repr=False)
    result: SimResult = field(repr=False)

    @property
    def i_rest_a(self) -> float:
        """Simulated DC steady state before the step (the operating point at t = 0), A."""
        return float(self.i_w_a[0])

    @property
    def i_rest_ideal_a(self) -> float:
        return self.params.steady_state_a()

    @property
    def i_step_ideal_a(self) -> float:
        return self.params.steady_state_a(self.params.i_x_step_a)

    @property
    def errors(self) -> dict[str, float]:
        """Relative errors (fractions) of the fitted and steady-state values against the law."""
        return {
            "tau": self.tau_fit_s / self.tau_ideal_s - 1.0,
            "lam": self.lam_fit / self.lam_ideal - 1.0,
            "rest": self.i_rest_a / self.i_rest_ideal_a - 1.0,
            "step": self.i_step_fit_a / self.i_step_ideal_a - 1.0,
            "relax": self.relax_fit_s / (self.tau_ideal_s / self.lam_ideal) - 1.0,
            "max_waveform": float(np.max(np.abs(self.i_w_a / self.i_w_ideal_a - 1.0))),
        }

    @property
    def regions_ok(self) -> bool:
        return all(r.ok for r in self.regions)


def _check_operating_point(result: SimResult, p: WeightCellParams, netlist: Netlist) -> None:
    """Reject a run whose DC operating point is not the cell's rest state (charging current ≈ I_λ)."""
    i_c = float(result.drain_current("mpd", "p")[0])
    i_w = float(result.drain_current("mw")[0])
    if not (i_w > 0 and abs(i_c / p.i_lambda_a - 1.0) < 0.25):
        raise SimulationError(
            f"weight cell operating point is not at rest: charging current {i_c:.3g} A vs I_lambda "
            f"{p.i_lambda_a:.3g} A, I_w {i_w:.3g} A",
            log=result.log,
            netlist=result.netlist,
            attempts=result.attempts,
        )


def _kappa_from_trajectory(v_c_v: np.ndarray, i_w_a: np.ndarray, temp_c: float) -> float:
    slope = np.polyfit(v_c_v, np.log(i_w_a), 1)[0]
    return float(slope * thermal_voltage_v(temp_c))


def rest_operating_point(
    tech: Technology, p: WeightCellParams, sim: SimParams, simulator: Simulator, iterations: int = 3
) -> dict[str, float]:
    """Node voltages (V) of the cell at rest, found with the loop opened at the state node.

    Start from a diode-connected output device carrying the rest current I_e·I_x/(λ·I_u)
    (source at 0: V_G0; at V_ref the gate sits ≈ V_ref/κ higher), hold V_C there, read the
    charging current I_c and correct V_C += (U_T/κ)·ln(I_c/I_λ) (I_c ∝ e^{−κV_C/U_T}).
    The result is used as ``.nodeset`` for the closed-loop run.
    """
    bench = DiodeParams(w_m=p.w_out_m, l_m=p.l_out_m, i_in_a=p.steady_state_a(), vdd_v=p.vdd_v)
    n = tech.slope_factor("n")
    v_c = float(np.atleast_1d(simulator.run(blocks.diode(tech, bench), sim)["a"])[0]) + p.v_ref_v * n
    ut = thermal_voltage_v(sim.temp_c)
    for _ in range(iterations):
        netlist = weight_cell(tech, p, hold_v_c_v=v_c)
        result = simulator.run(netlist, sim)
        i_c = float(np.atleast_1d(result.drain_current("mpd", "p"))[0])
        if i_c <= 0:
            raise SimulationError(f"weight cell: no charging current at V_C = {v_c:.4g} V", log=result.log)
        v_c += n * ut * np.log(i_c / p.i_lambda_a)
    return {node: float(np.atleast_1d(result[node])[0]) for node in sorted(netlist.nodes) if node != "vc"} | {"vc": v_c}


def weight_cell_response(
    tech: Technology,
    params: WeightCellParams | None = None,
    *,
    kappa: str = "measured",
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> WeightCellResponse:
    """Simulate the weight cell's step response and compare it with ``τ dI_w/dt = P − λ·I_w``.

    Parameters
    ----------
    tech : technology. params : the cell and its input step (defaults: WeightCellParams()).
    kappa : ``"measured"`` (from the output device's I_w–V_C trajectory) or ``"nominal"``
        (1/``tech.slope_factor("n")``) — the κ in τ = C·U_T/(κ·I_A).
    sim : simulator settings (temperature, tolerances). simulator : the ngspice worker.

    The ideal solution starts from the ideal rest value I_e·I_x/(λ·I_u) with the ideal τ, λ;
    the fit (:func:`fit_law`) starts from the simulated I_w(0). Regions are checked at rest,
    a quarter into the up-step, just before the step back and at the end.
    """
    if kappa not in KAPPA_SOURCES:
        raise ParameterError(f"kappa must be one of {', '.join(KAPPA_SOURCES)}, got {kappa!r}")
    p = params or WeightCellParams()
    sim = sim or (simulator.sim if simulator else SimParams())
    simulator = simulator or get_simulator()
    netlist = weight_cell(tech, p, nodeset_v=rest_operating_point(tech, p, sim, simulator))
    result = simulator.run(netlist, sim)
    _check_operating_point(result, p, netlist)
    time_s = np.asarray(result["time"], dtype=float)
    i_w = np.asarray(result.drain_current("mw"), dtype=float)
    v_c = np.asarray(result["vc"], dtype=float)
    product = product_waveform(p, time_s)
    k_nominal = 1.0 / tech.slope_factor("n")
    k_measured = _kappa_from_trajectory(v_c, i_w, sim.temp_c)
    k = k_measured if kappa == "measured" else k_nominal
    tau, lam = p.tau_s(k, sim.temp_c), p.lam
    ideal = solve_law(time_s, product, tau, lam, p.steady_state_a())
    tau_fit, lam_fit, rms = fit_law(time_s, product, i_w, tau, lam)
    relax, i_step = _relaxation(time_s, i_w, p.t_step_s + p.t_rise_s, p.t_back_s)
    checks = [0.0, p.t_step_s + 0.25 * (p.t_back_s - p.t_step_s), 0.999 * p.t_back_s, p.t_stop_s]
    regions = [
        check_regions(netlist, result, sim, index=min(int(np.searchsorted(time_s, t)), len(time_s) - 1))
        for t in checks
    ]
    return WeightCellResponse(
        p, time_s, i_w, ideal, v_c, product, k, kappa, k_nominal, k_measured, tau, lam, tau_fit, lam_fit, rms,
        relax, i_step, result.elapsed_s, regions, checks, netlist, result,
    )
