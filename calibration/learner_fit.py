"""Nominal block gains of the behavioural learner (:mod:`logdomain.learner_model`) fitted to SPICE.

Each gain is fitted under the model's own definition (:mod:`calibration.learner_law` states the
equations) on benches of the learner's own blocks (:mod:`calibration.learner_benches`), nominal
technology (no mismatch), units of I_u, time in units of the cells' design τ:

* ``fwd_gain`` — ``.dc`` sweeps of each input half's source X over [f_x, f_x + 1] with the weight
  gates held at W ∈ [0.2, 0.8] (both weight halves, all four products):
  I_m3 = fwd_gain·W·X, W the current of a copy of mw at the same V_C. The rms of the relative
  residual (the ratio's spread over X and W) is kept as ``fit_rms["fwd_gain"]``.
* ``target_gain`` — sweeps of each target half's source Y over the same range: Y_out = target_gain·Y.
* ``err_gain_b``, ``e_plus_gain``, ``e_minus_gain``, ``ab_floor_gain`` (``err_gain_a`` ≡ 1) — the error
  path with ideal sinks E_a, E_b on a grid |E_a − E_b| ≤ 0.6, (E_a + E_b)/2 ∈ [0.5, 2] (``.dc`` over
  E_a at each E_b), e± read from a cell's pMOS copies into nodes at the cells' ie voltages; least
  squares of e±'s relative errors; validated on E_b levels between the fitted ones.
* ``rate_scale``, ``term_gain``, ``z_gain``, ``lam_offset`` — one weight cell (the other gates on its
  state node included). (a) λ_c = 1 (I_λ = I_A): a step of X^a up gives rate_scale = τ_design/τ
  (with the step's own level gain, ``diagnostics["step_term_gain"]``); a step of e⁺ down validates
  it. (b) The learner's λ_c, rate_scale from (a): stream pairs — a stream like the learner's (new
  errors and inputs every hold, chopped, Z near its steady value) run from W0 and from W0 + 0.25;
  their difference decays as e^{−ρ(λ_c + λ_o)t} whatever the drive, which pins λ_o apart from
  term_gain and z_gain — fitted to W at every hold end of seed 1's pair, seed 2's pair held out.
  The model's drive is term_gain·e·X with X the input half's *source*; the update path's copy of X
  (mxd over mxi) has no factor of its own in the model, so its gain (``x_copy_gain``, forward bench)
  is folded into term_gain (the cell's own value is ``diagnostics["cell_term_gain"]``).
* Diagnostics: the common-mode feedback's realised β and S₀ (``cm_gain_ratio``, ``cm_set_ratio``: Z
  against S from :func:`~calibration.learner_benches.common_mode_bench`), which
  ``LearnerModel.from_calibration`` applies to the drawn β and S₀; and, not taken by the model, the
  drive lag (the same stream fit with dq/dt = (D − q)/τ_d) and the spread of the forward ratio.

Every bench's devices are checked for weak inversion and saturation; violations are reported by
name in :attr:`LearnerFitResult.violations`, not hidden.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from netlists import Netlist, SimParams, Simulator, get_simulator
from netlists.regions import check_regions
from netlists.technologies.base import Technology

from .learner_benches import (CELL, PAIR_OFFSET, LearnerBenchSetup, cell_steps, cell_stream, common_mode_bench, error_bench,
                              forward_bench, run_cell_bench, setup_benches)  # fmt: skip
from .learner_law import (CELL_FREE, IDEAL, NOMINAL_KEYS, STEP_FREE, STREAM_FREE, CellRun, cell_rms, error_rms, fit_cell_law,
                          fit_error_gains, forward_gain)  # fmt: skip

__all__ = ["LearnerFitPlan", "plan_learner_fit", "LearnerFitResult", "fit_learner", "fit_cell_lam_offset"]


@dataclass(frozen=True)
class LearnerFitPlan:
    """Grids (units of I_u) and stream lengths (holds) of :func:`fit_learner`."""

    w_levels: tuple[float, ...]
    x_steps: int
    e_b_levels: tuple[float, ...]
    e_b_validation: tuple[float, ...]
    e_steps: int
    step_holds: int
    stream_holds: int


def plan_learner_fit(quick: bool) -> LearnerFitPlan:
    """Full: 4 W levels × 21 X points, 4 + 3 E_b levels × 25 E_a points, 100-hold steps, 400-hold
    streams (t/τ = 20 at η = 0.05). Quick: 2 × 6, 2 + 1 × 7, 60 and 120 holds."""
    if quick:
        return LearnerFitPlan((0.2, 0.8), 5, (0.8, 1.7), (1.25,), 6, 60, 120)
    return LearnerFitPlan((0.2, 0.4, 0.6, 0.8), 20, (0.8, 1.1, 1.4, 1.7), (0.95, 1.25, 1.55), 24, 100, 400)


@dataclass
class LearnerFitResult:
    """Fitted nominal gains with their errors, diagnostics and the benches that produced them.

    ``nominal``: every key of :data:`calibration.learner_law.NOMINAL_KEYS`. ``fit_rms`` /
    ``validation_rms``: rms residuals on the fitted data / held-out responses (relative for currents,
    units of I_u for the cell's W). ``diagnostics``: measured values the model does not take.
    ``violations``: per bench, devices found outside weak inversion/saturation. ``netlists``: one
    netlist per bench kind (for provenance hashes). ``data``: the raw bench responses.
    """

    params: object
    nominal: dict[str, float] = field(default_factory=dict)
    fit_rms: dict[str, float] = field(default_factory=dict)
    validation_rms: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, float] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=dict)
    runtimes_s: dict[str, float] = field(default_factory=dict)
    netlists: dict[str, Netlist] = field(default_factory=dict, repr=False)
    data: dict[str, object] = field(default_factory=dict, repr=False)


def _check(out: LearnerFitResult, bench: str, netlist: Netlist, result, sim: SimParams, indices) -> None:
    """Record the devices of ``bench`` outside weak inversion/saturation at the points ``indices``."""
    bad = out.violations.setdefault(bench, [])
    for i in indices:
        bad.extend(d.name for d in check_regions(netlist, result, sim, index=int(i)).violations if d.name not in bad)


def _fit_forward(tech, st: LearnerBenchSetup, plan: LearnerFitPlan, sim, simulator, out: LearnerFitResult) -> None:
    p, iu = st.params, st.params.i_u_a
    f, step = p.i_floor_a, iu / plan.x_steps
    floor = {"p": f, "n": f}
    w, x, m3, y, y_out, x_copy = [], [], [], [], [], []
    for w_p, w_n in zip(plan.w_levels, reversed(plan.w_levels)):  # each level on both halves
        v_c = {"p": st.v_c_for(w_p), "n": st.v_c_for(w_n)}
        for s, other in (("p", "n"), ("n", "p")):
            nl = forward_bench(tech, p, v_c, floor, floor, (f"ix0{s}", f, f + iu + 0.5 * step, step))
            res = simulator.run(nl, sim)
            swept = np.asarray(res["i-sweep"])
            xs = {s: swept, other: np.full(len(swept), f)}
            for a in ("p", "n"):
                for b in ("p", "n"):
                    w.append(np.asarray(res.drain_current(f"w0{a}mw")))
                    x.append(xs[b])
                    m3.append(np.asarray(res.drain_current(f"q0{a}{b}m3")))
            x_copy.append(np.asarray(res.drain_current(f"mx0{s}")) / swept)
            _check(out, "forward", nl, res, sim, (0, len(swept) - 1))
    out.netlists["learner_forward"] = nl
    for s in ("p", "n"):
        nl = forward_bench(tech, p, v_c, floor, floor, (f"iy{s}", f, f + iu + 0.5 * step, step))
        res = simulator.run(nl, sim)
        y.append(np.asarray(res["i-sweep"]))
        y_out.append(np.asarray(res.drain_current(f"qy{s}m3")))
        _check(out, "forward", nl, res, sim, (0, len(y[-1]) - 1))
    out.nominal["fwd_gain"], out.fit_rms["fwd_gain"] = forward_gain(np.concatenate(w), np.concatenate(x) / iu, np.concatenate(m3))
    y_all = np.concatenate(y)
    out.nominal["target_gain"], out.fit_rms["target_gain"] = forward_gain(y_all, np.ones_like(y_all), np.concatenate(y_out))
    xc = np.concatenate(x_copy)
    out.diagnostics.update(x_copy_gain=float(np.mean(xc)), x_copy_spread=float(np.std(xc) / np.mean(xc)))


def _fit_common_mode(tech, st: LearnerBenchSetup, sim, simulator, out: LearnerFitResult) -> None:
    """Z = β'·(S − S₀') fitted where Z > 0.05 (diagnostics ``cm_gain_ratio`` = β'/β, ``cm_set_ratio`` = S₀'/S₀)."""
    p, iu = st.params, st.params.i_u_a
    v_lo, v_hi = st.v_c_for(0.2), st.v_c_for(0.9)
    nl = common_mode_bench(tech, p, {"p": v_lo, "n": st.v_c_for(0.4)}, ("vc0phold", v_lo, v_hi, (v_hi - v_lo) / 40))
    res = simulator.run(nl, sim)
    s_sum = (np.asarray(res.drain_current("msp0")) + np.asarray(res.drain_current("msn0"))) / iu
    z = np.asarray(res.drain_current("mgz0")) / iu
    on = z > 0.05
    slope, intercept = np.polyfit(s_sum[on], z[on], 1)
    out.diagnostics.update(cm_gain_ratio=float(slope / p.cm_gain), cm_set_ratio=float(-intercept / slope / (p.i_cm_a / iu)))
    _check(out, "common_mode", nl, res, sim, np.flatnonzero(on)[[0, -1]])
    out.netlists["learner_common_mode"] = nl


def _error_grid(tech, st, plan, levels, v_ie, sim, simulator, out) -> np.ndarray:
    """Rows (E_a, E_b, e⁺, e⁻) in units of I_u: at each E_b, E_a swept over E_b ± 0.6."""
    p, iu = st.params, st.params.i_u_a
    rows = []
    for e_b in levels:
        lo, hi, step = (e_b - 0.6) * iu, (e_b + 0.6) * iu, 1.2 * iu / plan.e_steps
        nl = error_bench(tech, p, lo, e_b * iu, v_ie, ("iea", lo, hi + 0.5 * step, step))
        res = simulator.run(nl, sim)
        e_a = np.asarray(res["i-sweep"])
        e_plus, e_minus = (np.asarray(res.drain_current(f"{CELL}mc{s}", "p")) for s in ("p", "n"))
        rows.append(np.stack([e_a, np.full_like(e_a, e_b * iu), e_plus, e_minus], axis=1) / iu)
        _check(out, "error_path", nl, res, sim, (0, len(e_a) // 2, len(e_a) - 1))
        out.netlists.setdefault("learner_error", nl)
    return np.concatenate(rows)


def _fit_error_path(tech, st, plan, v_ie, sim, simulator, out: LearnerFitResult) -> None:
    p = st.params
    f_e, f_2 = p.i_err_floor_a / p.i_u_a, p.i_err_min_a / p.i_u_a
    train = _error_grid(tech, st, plan, plan.e_b_levels, v_ie, sim, simulator, out)
    held = _error_grid(tech, st, plan, plan.e_b_validation, v_ie, sim, simulator, out)
    gains, out.fit_rms["error_path"] = fit_error_gains(train, f_e, f_2)
    out.nominal.update(gains)
    out.validation_rms["error_path"] = error_rms(held, {**IDEAL, **gains}, f_e, f_2)
    out.diagnostics["error_path_rms_ideal_gains"] = error_rms(held, IDEAL, f_e, f_2)
    phi_1, rms_phi_1 = fit_error_gains(train, f_e, f_2, fixed={"ab_floor_gain": 1.0})
    out.diagnostics["error_path_validation_rms_without_ab_floor_gain"] = error_rms(held, {**IDEAL, **phi_1}, f_e, f_2)
    out.data["error_grid"] = (train, held)


def _cell_run(tech, st, stim, w0, lam_c, sim, simulator, out: LearnerFitResult, name: str) -> CellRun:
    p = st.params
    nl, res = run_cell_bench(tech, p, stim, st.v_c_for(w0), sim, simulator, lam_c=lam_c)
    t = np.asarray(res["time"])
    w = np.interp(np.arange(stim.holds + 1) * p.t_hold_s, t, np.asarray(res.drain_current(f"{CELL}mw"))) / p.i_u_a
    # regions at the middle of up to 50 holds, found by time (settled points: not the few steps of an input
    # transition, and not wherever the solver happened to put its 50th-point samples)
    mids = (np.linspace(0, stim.holds - 1, min(50, stim.holds)).round() + 0.5) * p.t_hold_s
    _check(out, "cell", nl, res, sim, np.unique(np.minimum(np.searchsorted(t, mids), len(t) - 1)))
    out.netlists.setdefault(name, nl)
    if name == "learner_cell_stream":  # the error bench holds e±'s copies at the stream's median ie voltages
        out.data.setdefault("v_ie", {s: float(np.median(res[f"{CELL}ie{s}"])) for s in ("p", "n")})
    return CellRun(stim, lam_c, w)


def _fit_cell(tech, st, plan, sim, simulator, out: LearnerFitResult) -> None:
    p = st.params
    h, lam = p.t_hold_s / p.tau_circuit_s, p.lam_circuit
    run = lambda stim, w0, lam_c, name: _cell_run(tech, st, stim, w0, lam_c, sim, simulator, out, name)  # noqa: E731
    steps = [run(s, float(s.drive[0] - s.z[0]), 1.0, "learner_cell_step") for s in cell_steps(p, plan.step_holds)]
    streams = [cell_stream(p, plan.stream_holds, seed) for seed in (1, 2)]
    pairs = [[run(s.stim, s.w0 + dw, lam, "learner_cell_stream") for dw in (0.0, PAIR_OFFSET)] for s in streams]
    step_fit, out.fit_rms["cell_step"] = fit_cell_law(steps[:1], h, STEP_FREE)
    rate = {"rate_scale": step_fit["rate_scale"]}
    stream_fit, out.fit_rms["cell_stream"] = fit_cell_law(pairs[0], h, STREAM_FREE, rate)
    gains = {**IDEAL, **rate, **stream_fit}
    out.nominal.update({k: gains[k] for k in CELL_FREE})
    # the model's drive is term_gain·e·X with X the input half's source: the update path's copy of X
    # (mxd over mxi, measured in the forward bench) has no factor of its own there, so it goes here
    out.diagnostics["cell_term_gain"] = gains["term_gain"]
    out.nominal["term_gain"] = gains["term_gain"] * out.diagnostics["x_copy_gain"]
    out.validation_rms["cell_step"] = cell_rms(steps[1:], h, {**IDEAL, **step_fit})
    out.validation_rms["cell_stream"] = cell_rms(pairs[1], h, gains)
    lagged, rms_lag = fit_cell_law(pairs[0], h, STREAM_FREE + ("lag",), rate)
    pair_rate = [-np.polyfit(np.arange(len(a.w)) * h, np.log(b.w - a.w), 1)[0] for a, b in pairs]
    w_all = np.concatenate([r.w for pair in pairs for r in pair])
    out.diagnostics.update(
        step_term_gain=step_fit["term_gain"], cell_stream_rms_ideal_gains=cell_rms(pairs[1], h, IDEAL),
        drive_lag_holds=lagged["lag"] / h, **{f"lag_fit_{k}": v for k, v in lagged.items() if k != "lag"},
        lag_fit_rms=rms_lag, lag_validation_rms=cell_rms(pairs[1], h, {**gains, **lagged}, lagged["lag"]),
        lam_offset_from_pairs=float(np.mean(pair_rate)) / gains["rate_scale"] - lam,
        stream_w_min=float(w_all.min()), stream_w_max=float(w_all.max()),
    )
    out.data.update(cell_steps=steps, cell_pairs=pairs, h=h, lam_c=lam)


def fit_learner(tech: Technology, *, quick: bool = False, sim: SimParams | None = None, simulator: Simulator | None = None,
                params=None) -> LearnerFitResult:  # fmt: skip
    """Fit every nominal gain of the behavioural learner on ``tech`` (see the module docstring).

    Parameters
    ----------
    tech : technology (nominal). quick : coarser grids and shorter streams (:func:`plan_learner_fit`).
    sim, simulator : ngspice settings (temperature) and worker.
    params : the learner's :class:`~netlists.spice_learner_circuit.LearnerParams` (default: its
        ``for_technology`` defaults); κ is measured on the output device as the learner's runner does.
    """
    out = _run_benches(tech, ("forward", "common_mode", "cell", "error_path"), quick=quick, sim=sim, simulator=simulator,
                       params=params)  # fmt: skip
    out.nominal = {k: float(out.nominal[k]) for k in NOMINAL_KEYS}
    return out


def fit_cell_lam_offset(tech: Technology, *, quick: bool = False, sim: SimParams | None = None,
                        simulator: Simulator | None = None, params=None) -> LearnerFitResult:  # fmt: skip
    """The cell part of :func:`fit_learner` alone (its λ_o, rate_scale, z_gain, cell term gain) at ``sim``'s
    temperature: the benches as :func:`fit_learner` sets them up (κ measured again at that temperature on
    the output device), no forward, common-mode or error-path benches. ``nominal`` holds only the
    cell's gains; ``term_gain`` is the cell's own (no x_copy_gain folded in). Used by
    :mod:`calibration.leakage` for λ_o(T)."""
    # x_copy_gain is not measured here: term_gain stays the cell's own
    return _run_benches(tech, ("cell",), quick=quick, sim=sim, simulator=simulator, params=params,
                        diagnostics={"x_copy_gain": 1.0})  # fmt: skip


def _run_benches(tech: Technology, names: tuple[str, ...], *, quick: bool, sim: SimParams | None,
                 simulator: Simulator | None, params, diagnostics: dict[str, float] | None = None) -> LearnerFitResult:  # fmt: skip
    """Set the benches up and run the fits ``names`` in order (``forward``, ``common_mode``, ``cell``,
    ``error_path``; the error path needs the cell's ``v_ie``), timing each (the first includes the
    set-up, s); ``diagnostics`` seeds the result's diagnostics before the first fit."""
    sim = sim or SimParams()
    simulator = simulator or get_simulator()
    plan = plan_learner_fit(quick)
    clock = time.perf_counter()
    st = setup_benches(tech, sim, simulator, params)
    out = LearnerFitResult(params=st.params)
    out.diagnostics.update(diagnostics or {})
    steps = {"forward": lambda: _fit_forward(tech, st, plan, sim, simulator, out),
             "common_mode": lambda: _fit_common_mode(tech, st, sim, simulator, out),
             "cell": lambda: _fit_cell(tech, st, plan, sim, simulator, out),
             "error_path": lambda: _fit_error_path(tech, st, plan, out.data["v_ie"], sim, simulator, out)}  # fmt: skip
    for name in names:
        steps[name]()
        out.runtimes_s[name] = time.perf_counter() - clock
        clock = time.perf_counter()
    return out
