"""Transistor-level learner parts measured against their ideal laws: the weight cell.

:func:`weight_cell_response` simulates :func:`netlists.weight_cell.weight_cell` (a step of the
input product up and back) and returns the simulated ``I_w(t)`` next to the solution of the
ideal law ``τ dI_w/dt = P(t) − λ·I_w`` (P = I_e·I_x/I_u), the τ and λ fitted to the simulated
response, the DC steady state and the operating regions at a few instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import TYPE_CHECKING
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

if TYPE_CHECKING:  # imported lazily at run time (spice_learner_circuit imports this module)
    from .spice_learner_circuit import LearnerParams

__all__ = [
    "WeightCellResponse", "weight_cell_response", "rest_operating_point", "solve_law", "fit_law", "KAPPA_SOURCES",
    "SpiceLearnerRun", "run_spice_learner", "output_device_curve",
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


# -- the N-input learner (netlists.spice_learner_circuit) -------------------------------------------
@dataclass
class SpiceLearnerRun:
    """Transient of the transistor-level learner (SI units; weights in the scaled units of x, y).

    ``weights_history`` has shape (K + 1, N): w at t = 0 and at the end of every hold;
    ``predictions`` (K,) is the circuit's ŷ read at the end of each hold (before the update
    of the next sample), ``errors_a`` the matching E current. ``regions`` are checked at
    ``region_times_s``; ``kappa`` is the κ used to set I_A (measured on the output device).
    """

    params: "LearnerParams"
    time_s: np.ndarray
    weights_history: np.ndarray
    w_plus_a: np.ndarray
    w_minus_a: np.ndarray
    predictions: np.ndarray
    runtime_s: float
    regions: list[RegionReport]
    region_times_s: list[float]
    kappa: float
    netlist: Netlist = field(repr=False)
    result: SimResult = field(repr=False)

    @property
    def final_weights(self) -> np.ndarray:
        return self.weights_history[-1]

    @property
    def regions_ok(self) -> bool:
        return all(r.ok for r in self.regions)


def output_device_curve(tech: Technology, p: "LearnerParams", sim: SimParams, simulator: Simulator) -> tuple[np.ndarray, np.ndarray]:
    """I_w(V_C) of the weight's output device (source V_ref, drain V_out, bulk 0): (V, A)."""
    from .netlist import Analysis, NetlistBuilder

    nb = NetlistBuilder("output_device", tech)
    nb.vsource("vd", "d", "0", p.v_out_v)
    nb.vsource("vs", "s", "0", p.v_ref_v)
    nb.vsource("vg", "g", "0", 0.0)
    nb.mos("m1", "n", "d", "g", "s", "0", w_m=p.w_out_m, l_m=p.l_out_m)
    nb.analysis(Analysis("dc", "vg", 0.0, 1.0, 0.002))
    result = simulator.run(nb.build(), sim)
    return np.asarray(result["v(g)"] if "v(g)" in result.vectors else result["g"], dtype=float), np.asarray(result.drain_current("m1"), dtype=float)


def run_spice_learner(
    tech: Technology,
    x: np.ndarray,
    y: np.ndarray,
    eta: float,
    lam: float,
    t_hold_s: float,
    *,
    params: "LearnerParams | None" = None,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
    region_samples: tuple[float, ...] = (0.0, 0.5, 1.0),
) -> SpiceLearnerRun:
    """Simulate continuous SGDr on the transistor-level learner over the stream (x, y).

    Parameters
    ----------
    tech : technology. x : inputs, shape (K, N) (scaled, |x| ≲ x_scale). y : targets, shape (K,).
    eta : η = T_s/τ. lam : λ. t_hold_s : T_s, s. params : other learner settings (``dim``,
        ``eta``, ``lam``, ``t_hold_s`` and ``kappa`` are overridden; default
        ``LearnerParams.for_technology(tech.name)``). sim, simulator : ngspice.
    region_samples : where regions are checked, as fractions of the stream: the end of hold
        ``max(1, round(f·K))`` for each f.

    κ is measured on the output device at the weights' initial current (U_T·d ln I/dV_G), so
    that τ = C·U_T/(κ·I_A) holds on every technology. The initial state voltages V_C come from
    the same I_w(V_C) curve and are imposed with ``.ic``.
    """
    from .spice_learner_circuit import LearnerParams, cell_names, learner, state_nodes

    x = np.atleast_2d(np.asarray(x, dtype=float))
    sim = sim or (simulator.sim if simulator else SimParams())
    simulator = simulator or get_simulator()
    base = params or LearnerParams.for_technology(tech.name, dim=x.shape[1])
    p = base.replace(dim=x.shape[1], eta=eta, lam=lam, t_hold_s=t_hold_s, temp_c=sim.temp_c)
    v_g, i_d = output_device_curve(tech, p, sim, simulator)
    ln_i = np.log(np.maximum(i_d, 1e-30))
    v_c0 = float(np.interp(np.log(p.i_w0_a), ln_i, v_g))
    sel = np.abs(ln_i - np.log(p.i_w0_a)) < np.log(30.0)
    kappa = float(np.polyfit(v_g[sel], ln_i[sel], 1)[0] * thermal_voltage_v(sim.temp_c))
    p = p.replace(kappa=kappa)
    netlist = learner(tech, p, x, y, {node: v_c0 for node in state_nodes(p.dim)})
    result = simulator.run(netlist, sim)
    time_s = np.asarray(result["time"], dtype=float)
    names = cell_names(p.dim)
    currents = {n: np.asarray(result.drain_current(f"{n}mw"), dtype=float) for n in names}
    k = x.shape[0]
    ends = (p.settle_holds + np.arange(k + 1)) * p.t_hold_s
    w_plus = np.stack([np.interp(ends, time_s, currents[f"w{i}p"]) for i in range(p.dim)], axis=1)
    w_minus = np.stack([np.interp(ends, time_s, currents[f"w{i}n"]) for i in range(p.dim)], axis=1)
    # ŷ-current = P − Q = (I_mdb − Y⁻) − (I_mda − Y⁺); read just before each hold ends
    from .spice_learner_circuit import split_currents

    y_p, y_n = split_currents(np.asarray(y, dtype=float), p.y_scale, p.i_u_a, p.i_floor_a)
    t_read = ends[1:] - 0.02 * p.t_hold_s
    i_a = np.interp(t_read, time_s, np.asarray(result.drain_current("mda", "p"), dtype=float))
    i_b = np.interp(t_read, time_s, np.asarray(result.drain_current("mdb", "p"), dtype=float))
    predictions = p.y_scale * ((i_b - y_n) - (i_a - y_p)) / p.i_u_a
    checks = [(p.settle_holds + max(1, round(f * k)) - 0.001) * p.t_hold_s for f in region_samples]
    regions = [
        check_regions(netlist, result, sim, index=min(int(np.searchsorted(time_s, t)), len(time_s) - 1)) for t in checks
    ]
    return SpiceLearnerRun(
        p, time_s, p.weights_from_currents(w_plus, w_minus), w_plus, w_minus, predictions, result.elapsed_s,
        regions, checks, kappa, netlist, result,
    )
