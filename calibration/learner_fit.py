"""Nominal block gains of the behavioural learner (:mod:`logdomain.learner_model`) fitted to SPICE.

Each gain is fitted under the model's own definition, on benches of the learner's own blocks
(:mod:`calibration.learner_benches`); all currents in units of I_u, time in units of the cells'
design τ = C·U_T/(κ·I_A) (a hold lasts h = T_s/τ = η·s_x²). Nominal technology (no mismatch).

Forward path (``.dc`` sweeps of the sources, W held)::

    I_m3 = fwd_gain · W·X             W: a copy of mw at the product's V_C; X: the input half's source
    Y_out = target_gain · Y           Y: the target half's source; Y_out: its product's m3

each fitted by least squares of the relative residual over X, Y ∈ [f_x, f_x + 1] and W ∈ [0.2, 0.8];
the rms residual is their spread (the model takes the gain only).

Error path (E_a, E_b ideal sinks at na, nb; e± read from a cell's pMOS copies)::

    E = err_gain_a·E_a − err_gain_b·E_b,   r = √(E²/4 + ab_floor_gain·f_e²)
    e⁺ = e_plus_gain·(r + E/2 + f₂),       e⁻ = e_minus_gain·(r − E/2 + f₂)

with err_gain_a ≡ 1 (a common gain of E_a and E_b trades against e±'s gains and only f₂ tells
them apart), fitted on a grid |E| ≤ 0.6, (E_a + E_b)/2 ≈ 0.5…2, validated on a shifted grid.

Weight cell (one cell, terms e⁺·X^a and e⁻·X^b, sink term I_u·Z)::

    dW/dt = rate_scale·[term_gain·(e⁺X^a + e⁻X^b) − z_gain·Z] − rate_scale·(λ_c + lam_offset)·W

(a) λ_c = 1 (I_λ = I_A): a step of X^a gives rate_scale (and a first term_gain, z_gain); validated
on a step of e⁺ down. (b) the learner's λ_c, a stream that changes every hold (errors through the
class-AB law, one-sided chopped x, Z near its steady value): term_gain, z_gain, lam_offset by
least squares of the ODE (solved exactly hold by hold) to W at the hold ends, rate_scale from (a);
(a) and (b) alternate until they agree. Validated on another seed of the stream. Diagnostic (not in
the model): the same ODE with the drive through a first-order lag τ_d (the cells' pMOS mirror).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from netlists import Netlist, SimParams, Simulator, get_simulator
from netlists.regions import check_regions
from netlists.technologies.base import Technology

from .learner_benches import (CELL, PAIR_OFFSET, CellStimulus, LearnerBenchSetup, cell_stream, cell_steps, error_bench,
                              forward_bench, run_cell_bench, setup_benches)  # fmt: skip

__all__ = ["NOMINAL_KEYS", "IDEAL", "LearnerFitPlan", "plan_learner_fit", "LearnerFitResult", "fit_learner", "error_split",
           "cell_response", "forward_gain"]

#: the fitted nominal gains and their ideal values (the model's ``NOMINAL_FIELDS`` plus ``ab_floor_gain``)
IDEAL: dict[str, float] = {"rate_scale": 1.0, "term_gain": 1.0, "z_gain": 1.0, "fwd_gain": 1.0, "target_gain": 1.0,
                           "err_gain_a": 1.0, "err_gain_b": 1.0, "e_plus_gain": 1.0, "e_minus_gain": 1.0,
                           "lam_offset": 0.0, "ab_floor_gain": 1.0}  # fmt: skip
NOMINAL_KEYS = tuple(IDEAL)


@dataclass(frozen=True)
class LearnerFitPlan:
    """Grids and stream lengths (units of I_u; holds)."""

    w_levels: tuple[float, ...]
    x_steps: int
    e_b_levels: tuple[float, ...]
    e_b_validation: tuple[float, ...]
    e_steps: int
    step_holds: int
    stream_holds: int


def plan_learner_fit(quick: bool) -> LearnerFitPlan:
    if quick:
        return LearnerFitPlan((0.2, 0.8), 5, (0.8, 1.7), (1.25,), 6, 60, 120)
    return LearnerFitPlan((0.2, 0.4, 0.6, 0.8), 20, (0.8, 1.1, 1.4, 1.7), (0.95, 1.25, 1.55), 24, 100, 400)


# -- the model's equations (units of I_u) ------------------------------------------------------------
def forward_gain(w: np.ndarray, x: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    """Least-squares gain g of ``out = g·w·x`` on the relative residual, and the rms of that residual."""
    m = np.asarray(w) * np.asarray(x) / np.asarray(out)
    g = float(np.sum(m) / np.sum(m * m))
    return g, float(np.sqrt(np.mean((g * m - 1.0) ** 2)))


def error_split(e_a, e_b, gains: dict[str, float], f_e: float, f_2: float):
    """(E, e⁺, e⁻) of the class-AB error path for sinks E_a, E_b (see the module docstring)."""
    e = gains["err_gain_a"] * np.asarray(e_a) - gains["err_gain_b"] * np.asarray(e_b)
    r = np.sqrt(0.25 * e * e + gains.get("ab_floor_gain", 1.0) * f_e * f_e)
    return e, gains["e_plus_gain"] * (r + 0.5 * e + f_2), gains["e_minus_gain"] * (r - 0.5 * e + f_2)


def cell_response(stim: CellStimulus, w0: float, h: float, lam_c: float, gains: dict[str, float], lag: float = 0.0) -> np.ndarray:
    """W at the end of every hold (H + 1 values, W[0] = w0) of the cell law, solved exactly per hold
    (inputs constant over a hold). ``lag`` > 0: the drive reaches the cell through dq/dt = (D − q)/lag
    (q starts at hold 0's drive, as at the operating point), lag in units of τ."""
    rho = gains["rate_scale"]
    a = rho * (lam_c + gains["lam_offset"])
    b = rho * gains["term_gain"]
    drive, sink = stim.drive, rho * gains["z_gain"] * np.asarray(stim.z)
    decay = np.exp(-a * h)
    phi = -np.expm1(-a * h) / a if abs(a) > 1e-12 else h
    out = np.empty(stim.holds + 1)
    out[0] = w = w0
    q = drive[0]
    for k in range(stim.holds):
        w_next = w * decay + (b * drive[k] - sink[k]) * phi
        if lag > 0:
            eq = np.exp(-h / lag)
            w_next += b * (q - drive[k]) * (eq - decay) / (a - 1.0 / lag)
            q = drive[k] + (q - drive[k]) * eq
        out[k + 1] = w = w_next
    return out


# -- results ---------------------------------------------------------------------------------------
@dataclass
class LearnerFitResult:
    """Fitted nominal gains with their errors, diagnostics and the benches that produced them.

    ``fit_rms``/``validation_rms``: rms residuals (relative for gains of currents; W in units of I_u
    for the cell). ``diagnostics``: values the model does not take (spreads, the x copy's gain, the
    mirror lag, the step fit's own term/z gains, whether every device was weak and saturated).
    """

    params: object
    nominal: dict[str, float]
    fit_rms: dict[str, float] = field(default_factory=dict)
    validation_rms: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, float] = field(default_factory=dict)
    runtimes_s: dict[str, float] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=dict)
    netlists: dict[str, Netlist] = field(default_factory=dict, repr=False)
    data: dict[str, object] = field(default_factory=dict, repr=False)


def _record_regions(out: "LearnerFitResult", bench: str, netlist: Netlist, result, sim: SimParams, indices) -> None:
    """Names of the devices of ``bench`` found outside weak inversion/saturation at ``indices``."""
    bad = out.violations.setdefault(bench, [])
    for i in indices:
        bad.extend(d.name for d in check_regions(netlist, result, sim, index=int(i)).violations if d.name not in bad)


def _fit_forward(tech, st: LearnerBenchSetup, plan: LearnerFitPlan, sim, simulator, out: LearnerFitResult) -> None:
    p, iu = st.params, st.params.i_u_a
    f, step = p.i_floor_a, iu / plan.x_steps
    floor = {"p": f, "n": f}
    w, x, m3, xcopy, ycopy, y = [], [], [], [], [], []
    for wp, wn in zip(plan.w_levels, reversed(plan.w_levels)):
        v_c = {"p": st.v_c_for(wp), "n": st.v_c_for(wn)}
        for s in ("p", "n"):
            nl = forward_bench(tech, p, v_c, floor, floor, (f"ix0{s}", f, f + iu + 0.5 * step, step))
            res = simulator.run(nl, sim)
            xs = {s: np.asarray(res["i-sweep"]), ("n" if s == "p" else "p"): np.full(len(res["i-sweep"]), f)}
            for a in ("p", "n"):
                for b in ("p", "n"):
                    w.append(np.asarray(res.drain_current(f"w0{a}mw")))
                    x.append(xs[b])
                    m3.append(np.asarray(res.drain_current(f"q0{a}{b}m3")))
            xcopy.append(np.asarray(res.drain_current(f"mx0{s}")) / xs[s])
            _record_regions(out, "forward", nl, res, sim, (0, len(xs[s]) - 1))
    out.netlists["learner_forward"] = nl
    for s in ("p", "n"):
        nl = forward_bench(tech, p, v_c, floor, floor, (f"iy{s}", f, f + iu + 0.5 * step, step))
        res = simulator.run(nl, sim)
        y.append(np.asarray(res["i-sweep"]))
        ycopy.append(np.asarray(res.drain_current(f"qy{s}m3")))
        _record_regions(out, "forward", nl, res, sim, (0, len(y[-1]) - 1))
    g, rms = forward_gain(np.concatenate(w), np.concatenate(x) / iu, np.concatenate(m3))
    out.nominal["fwd_gain"], out.fit_rms["fwd_gain"] = g, rms
    g, rms = forward_gain(np.concatenate(y), np.ones(sum(len(v) for v in y)), np.concatenate(ycopy))
    out.nominal["target_gain"], out.fit_rms["target_gain"] = g, rms
    xc = np.concatenate(xcopy)
    out.diagnostics.update(x_copy_gain=float(np.mean(xc)), x_copy_spread=float(np.std(xc) / np.mean(xc)))


def _error_data(tech, st, plan, levels, v_ie, sim, simulator, out):
    p, iu = st.params, st.params.i_u_a
    rows = []
    for e_b in levels:
        lo, hi, step = (e_b - 0.6) * iu, (e_b + 0.6) * iu, 1.2 * iu / plan.e_steps
        nl = error_bench(tech, p, lo, e_b * iu, v_ie, ("iea", lo, hi + 0.5 * step, step))
        res = simulator.run(nl, sim)
        e_a = np.asarray(res["i-sweep"])
        ep, em = (np.asarray(res.drain_current(f"{CELL}mc{s}", "p")) for s in ("p", "n"))
        rows.append(np.stack([e_a, np.full_like(e_a, e_b * iu), ep, em], axis=1) / iu)
        _record_regions(out, "error_path", nl, res, sim, (0, len(e_a) // 2, len(e_a) - 1))
    return np.concatenate(rows), nl


def _fit_error_path(tech, st, plan, v_ie, sim, simulator, out: LearnerFitResult) -> None:
    p = st.params
    f_e, f_2 = p.i_err_floor_a / p.i_u_a, p.i_err_min_a / p.i_u_a
    train, nl = _error_data(tech, st, plan, plan.e_b_levels, v_ie, sim, simulator, out)
    valid, _ = _error_data(tech, st, plan, plan.e_b_validation, v_ie, sim, simulator, out)
    keys = ("err_gain_b", "e_plus_gain", "e_minus_gain", "ab_floor_gain")

    def residual(theta, d):
        gains = {"err_gain_a": 1.0, **dict(zip(keys, theta))}
        _, ep, em = error_split(d[:, 0], d[:, 1], gains, f_e, f_2)
        return np.concatenate([ep / d[:, 2] - 1.0, em / d[:, 3] - 1.0])

    fit = least_squares(residual, np.ones(4), args=(train,), bounds=([0.1] * 4, [10.0] * 4), xtol=1e-12, ftol=1e-12)
    out.nominal.update(err_gain_a=1.0, **{k: float(v) for k, v in zip(keys, fit.x)})
    rms = lambda r: float(np.sqrt(np.mean(r * r)))  # noqa: E731
    out.fit_rms["error_path"] = rms(fit.fun)
    out.validation_rms["error_path"] = rms(residual(fit.x, valid))
    ideal = residual(np.ones(4), valid)
    out.diagnostics["error_path_rms_ideal_gains"] = rms(ideal)
    out.netlists["learner_error"] = nl
    out.data["error_grid"] = train


@dataclass(frozen=True)
class CellRun:
    """One simulated cell response: its stimulus, λ_c and W at the hold ends (units of I_u)."""

    stim: CellStimulus
    lam_c: float
    w: np.ndarray


def _cell_run(tech, st, stim, w0, lam_c, sim, simulator, out: LearnerFitResult, name: str) -> CellRun:
    p = st.params
    nl, res = run_cell_bench(tech, p, stim, st.v_c_for(w0), sim, simulator, lam_c=lam_c)
    t = np.asarray(res["time"])
    w = np.interp(np.arange(stim.holds + 1) * p.t_hold_s, t, np.asarray(res.drain_current(f"{CELL}mw"))) / p.i_u_a
    _record_regions(out, "cell", nl, res, sim, range(0, len(t), max(1, len(t) // 50)))
    out.netlists.setdefault(name, nl)
    out.data.setdefault("v_ie", {s: float(np.asarray(res[f"{CELL}ie{s}"])[0]) for s in ("p", "n")})
    return CellRun(stim, lam_c, w)


_CELL_BOUNDS = {"rate_scale": (0.1, 10.0), "term_gain": (0.1, 10.0), "z_gain": (0.1, 10.0), "lam_offset": (-1.0, 1.0), "lag": (0.0, 1.0)}


def _cell_rms(runs: list[CellRun], h: float, gains: dict[str, float], lag: float = 0.0) -> float:
    r = np.concatenate([cell_response(run.stim, run.w[0], h, run.lam_c, gains, lag) - run.w for run in runs])
    return float(np.sqrt(np.mean(r * r)))


def _fit_cell_law(runs: list[CellRun], h: float, with_lag: bool) -> tuple[dict[str, float], float]:
    """Least squares of the cell law (plus, ``with_lag``, the drive lag τ_d in units of τ) over ``runs``."""
    names = ("rate_scale", "term_gain", "z_gain", "lam_offset") + (("lag",) if with_lag else ())

    def residual(theta):
        g = {**IDEAL, **dict(zip(names, theta))}
        return np.concatenate([cell_response(r.stim, r.w[0], h, r.lam_c, g, g.get("lag", 0.0)) - r.w for r in runs])

    start = [IDEAL.get(n, 0.02) for n in names]
    bounds = ([_CELL_BOUNDS[n][0] for n in names], [_CELL_BOUNDS[n][1] for n in names])
    fit = least_squares(residual, start, bounds=bounds, xtol=1e-12, ftol=1e-12)
    return dict(zip(names, map(float, fit.x))), float(np.sqrt(np.mean(fit.fun**2)))


def _fit_cell(tech, st, plan, sim, simulator, out: LearnerFitResult) -> None:
    """Steps at λ_c = 1 and stream pairs at the learner's λ_c, fitted jointly (see the module docstring)."""
    p = st.params
    h, lam = p.t_hold_s / p.tau_circuit_s, p.lam_circuit
    up, down = cell_steps(p, plan.step_holds)
    run = lambda stim, w0, lam_c, name: _cell_run(tech, st, stim, w0, lam_c, sim, simulator, out, name)  # noqa: E731
    steps = [run(s, s.drive[0] - s.z[0], 1.0, "learner_cell_step") for s in (up, down)]
    streams = [cell_stream(p, plan.stream_holds, seed, IDEAL) for seed in (1, 2)]
    pairs = [[run(s.stim, s.w0 + dw, lam, "learner_cell_stream") for dw in (0.0, PAIR_OFFSET)] for s in streams]
    train, held = [steps[0], *pairs[0]], [steps[1], *pairs[1]]
    plain, rms_plain = _fit_cell_law(train, h, with_lag=False)
    with_lag, rms_lag = _fit_cell_law(train, h, with_lag=True)
    gains = {**IDEAL, **plain}
    out.nominal.update(plain)
    out.fit_rms["cell"] = rms_plain
    out.validation_rms["cell_step"] = _cell_rms(held[:1], h, gains)
    out.validation_rms["cell_stream"] = _cell_rms(held[1:], h, gains)
    pair_rate = [-np.polyfit(np.arange(len(a.w)) * h, np.log(b.w - a.w), 1)[0] for a, b in pairs]
    w_all = np.concatenate([r.w for pair in pairs for r in pair])
    lagged = {**IDEAL, **with_lag}
    out.diagnostics.update(
        cell_stream_rms_ideal_gains=_cell_rms(held[1:], h, IDEAL),
        drive_lag_holds=with_lag["lag"] / h, **{f"lag_fit_{k}": v for k, v in with_lag.items() if k != "lag"},
        lag_fit_rms=rms_lag, lag_validation_rms=_cell_rms(held[1:], h, lagged, with_lag["lag"]),
        lam_offset_from_pairs=float(np.mean(pair_rate)) / gains["rate_scale"] - lam,
        stream_w_min=float(w_all.min()), stream_w_max=float(w_all.max()),
    )
    out.data.update(cell_train=train, cell_held=held, h=h, lam_c=lam)


def fit_learner(tech: Technology, *, quick: bool = False, sim: SimParams | None = None, simulator: Simulator | None = None,
                params=None) -> LearnerFitResult:  # fmt: skip
    """Fit every nominal gain of the behavioural learner on ``tech`` (see the module docstring).

    ``params``: the learner's :class:`~netlists.spice_learner_circuit.LearnerParams` (default: its
    ``for_technology`` defaults); κ is measured as the learner's runner does.
    """
    sim = sim or SimParams()
    simulator = simulator or get_simulator()
    plan = plan_learner_fit(quick)
    clock = time.perf_counter()
    st = setup_benches(tech, sim, simulator, params)
    out = LearnerFitResult(params=st.params, nominal={})
    _fit_forward(tech, st, plan, sim, simulator, out)
    out.runtimes_s["forward"] = time.perf_counter() - clock
    clock = time.perf_counter()
    _fit_cell(tech, st, plan, sim, simulator, out)
    out.runtimes_s["cell"] = time.perf_counter() - clock
    clock = time.perf_counter()
    _fit_error_path(tech, st, plan, out.data["v_ie"], sim, simulator, out)
    out.runtimes_s["error_path"] = time.perf_counter() - clock
    out.nominal = {k: float(out.nominal[k]) for k in NOMINAL_KEYS}
    return out
