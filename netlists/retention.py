"""Retention of a held weight: leakage at the storage node and the drift it causes, vs temperature.

The bench is one weight cell of the learner (:meth:`LearnerParams.cell_params`: the learner's sizes,
C and I_A; two drive terms and the common-mode sink term, as in
:mod:`netlists.spice_learner_circuit`) with its inputs off (I_e = 0, I_x = 0, Z = 0), no s2 bias,
and the leak I_λ off; the biases I_A, I_u (and the sink term's I_u) stay on. Inputs off are written
as the exact zero-current states of the devices they drive: m4 carries nothing, so its drain (the
error node) is its source s2 (V_DS = 0); a diode carrying nothing has V_GS = 0, so the x diodes'
and the Z diode's gates are ``ref`` (their source). Left to off-state currents of femtoamperes,
those nodes made ngspice's DC solve fall back to a transient op below 27 °C (measured), so they are
connections here, not floating nodes. Nothing is meant to charge the capacitor; what does is
leakage:

* the junction diodes of the devices whose drain is the storage node (the pMOS mirror output mpd:
  p⁺ drain in the n-well at V_DD, current *into* V_C; the sink term's nMOS m5z: n⁺ drain on the
  grounded substrate, current *out of* V_C), simulated because every instance carries drain/source
  area and perimeter (:class:`netlists.technologies.base.JunctionGeometry`);
* the off-state (subthreshold) channel currents of the same devices, and what the loop's m5/m5z
  pass at V_GS < 0 (mirrored into V_C by mpc/mpd, or sunk by m5z).

Measured on sky130 tt (I_w = 40 pA, C = 50 pF; ``simulate retention --json``: ``i_leak_a``,
``i_leak_junction_a``): at 27 °C and below the off-state currents of the loop's m5/m5z (V_GS ≈ 0
with the inputs off) dominate the net 4–44 fA, and the junction geometry lowers it (it moves the
off nodes); at 85 °C the junctions carry 98 % of 14.5 pA. At 125 °C the output device's own drain
junction leaks more than I_w into the read-out and no V_C ≥ 0 holds the weight (an error).

One transient, two measurements (currents in A, voltages in V, C in F, t in s)::

    hold    (0 … t_settle: V_C held by the source vhold through a closed switch, while the nodes that
            carry only off-state currents relax): I_leak = vhold's current over the hold's last tenth
            = net current the circuit pushes into the storage node;  predicted dV_C/dt = I_leak/C
    release (the switch opens at t_settle; V_C drifts for t_drift): dV_C/dt from a straight-line fit
            of V_C(t); d ln I_w/dt from ln I_w(t) of the output device mw

(The operating point of those off nodes is ill-conditioned — femtoampere currents, ngspice's DC
solve falls back to a pseudo-transient — so it is not trusted: the hold lets them settle in time,
``settle_change`` reports how still the held current was, and the release checks the hold.)

    dI_w/dt = I_w · d ln I_w/dt    (= κ·I_w/U_T · dV_C/dt in weak inversion)
    dw/dt   = s_w · dI_w/dt / I_u  (one half, weights in scaled units; w = s_w (W⁺ − W⁻)/I_u)
    retention_s = LSB / |dw/dt|,   LSB = 2^(1−bits) (the weight range [−1, 1] at ``bits`` bits)

The simulator's floor. ngspice puts gmin (``SimParams.gmin_s``, 1e-15 S) across every junction, so each
reverse-biased junction on the storage node carries ~1 fA of gmin current: the figures at −20 °C (4–5 fA
on sky130) are at that floor, not the devices'. Measured on the wide-temperature design's cell (sky130 tt):
at −20 °C gmin 1e-16 S gives −0.34 fA (retention ≈ 100 s) against 4.6 fA (3.3 s) at 1e-15 S; at 27 °C
32.2 fA (0.57 s) against 34.5 fA (0.48 s); at 85 °C 12.0 pA either way. So retention below room
temperature is a lower bound set by the simulator; from 27 °C up the devices dominate.

Per half, no cancellation: at w = 0 the two halves sit at one V_C and leak alike, so the drift of
w = W⁺ − W⁻ is the *difference* of two leakages, set by their mismatch, which the PDK does not model
for junctions; ``retention_s`` is the time for one half's drift to move w by one LSB (worst case).

Effect on learning. Leakage adds to the cell's KCL as a negative I_λ
(C dV_C/dt = I_c − I_λ + I_leak), so each half's decay becomes λ_c + Δλ_c with
``Δλ_c = −I_leak/I_A`` (:func:`leak_lam_offset`, in the cells' λ units, the behavioural model's
``lam_offset``). ``I_leak(T)`` is fitted as an Arrhenius law ``I_leak = I_ref·exp(−E_a/k·(1/T −
1/T_ref))`` by :func:`fit_arrhenius`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError, SimulationError
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import SimParams
from .runner import Simulator, get_simulator
from .spice_learner_circuit import LearnerParams
from .technologies.base import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C, Technology
from .weight_cell import add_cell_rails, add_weight_cell

__all__ = ["RELTOL_FALLBACK", "RetentionResult", "retention_bench", "measure_retention", "leak_lam_offset", "fit_arrhenius",
           "lsb"]

#: relative change of V_C the drift transient aims at (long enough to measure, short enough to stay linear)
_DRIFT_TARGET_V = 5e-3
_T_STOP_MIN_S, _T_STOP_MAX_S = 1e-5, 200.0
#: the hold counts as settled when its current changed by less than this between its last two tenths;
#: otherwise it is repeated 4× longer, up to _T_SETTLE_MAX_S
_SETTLED = 0.05
_T_SETTLE_MAX_S = 1280.0
#: the relative tolerance :func:`measure_retention` retries at when the requested one does not converge
RELTOL_FALLBACK = 1e-4


def lsb(bits: int) -> float:
    """One LSB of a weight over [−1, 1] at ``bits`` bits, 2^(1−bits) (as :func:`logdomain.learner_sim.quantize`)."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 32:
        raise ParameterError(f"bits must be an integer in [1, 32], got {bits!r}")
    return 2.0 ** (1 - bits)


def leak_lam_offset(i_leak_a: float, i_a_a: float) -> float:
    """Δλ_c = −I_leak/I_A: the leakage into the storage node (A, positive into V_C) as a change of the
    cell's λ (dimensionless; negative: the leakage opposes the decay)."""
    if not i_a_a > 0:
        raise ParameterError(f"i_a_a must be > 0 A, got {i_a_a!r}")
    return -float(i_leak_a) / float(i_a_a)


def fit_arrhenius(temp_c: np.ndarray, i_a: np.ndarray, t_ref_c: float = 27.0) -> tuple[float, float]:
    """Fit |I| = I_ref·exp(−(E_a/k)·(1/T − 1/T_ref)) to currents (A) at temperatures (°C).

    Returns (I_ref in A at ``t_ref_c``, E_a in eV). Least squares on ln|I| (needs ≥ 2 temperatures
    and non-zero currents)."""
    t = np.asarray(temp_c, dtype=float) + 273.15
    i = np.abs(np.asarray(i_a, dtype=float))
    if t.size < 2 or t.size != i.size or not np.all(i > 0) or np.unique(t).size < 2:
        raise ParameterError("fit_arrhenius needs ≥ 2 distinct temperatures and non-zero currents")
    x = 1.0 / t - 1.0 / (t_ref_c + 273.15)
    slope, intercept = np.polyfit(x, np.log(i), 1)
    return float(np.exp(intercept)), float(-slope * BOLTZMANN_J_PER_K / ELEMENTARY_CHARGE_C)


def retention_bench(tech: Technology, p: LearnerParams, v_c_v: float, *, t_settle_s: float, t_drift_s: float = 0.0,
                    points: int = 400, nodeset_v: dict[str, float] | None = None,
                    ic_v: dict[str, float] | None = None, save_nodes: bool = False) -> Netlist:  # fmt: skip
    """One learner weight cell with its inputs and I_λ off (module docstring), state node ``vc``.

    ``vc`` is held at ``v_c_v`` (V) by the source ``vhold`` through the switch ``shold`` (closed, 1 Ω)
    for ``t_settle_s`` (s): the nodes that carry only off-state currents relax to their state, and
    vhold's current is then the leakage into vc. The switch opens at ``t_settle_s`` (open: 1e16 Ω,
    0.03 fA at 0.3 V) and vc drifts for ``t_drift_s`` (s; 0: no release). The time step is at most
    the shorter of ``t_settle_s/points`` and ``t_drift_s/points``. ``nodeset_v`` (node → V): guesses
    for the operating point; ``ic_v`` (node → V): ``.ic`` values (a state to start from, e.g. the end of
    a settled hold; nodes driven by sources are left out); ``save_nodes``: store every node's voltage
    (else vc only).
    """
    if not math.isfinite(v_c_v) or not 0.0 <= v_c_v <= p.vdd_v:
        raise ParameterError(f"v_c_v must be in [0, {p.vdd_v:g}] V, got {v_c_v!r}")
    if not math.isfinite(t_settle_s) or not 1e-7 <= t_settle_s <= 1e4:
        raise ParameterError(f"t_settle_s must be in [1e-7, 1e4] s, got {t_settle_s!r}")
    if not math.isfinite(t_drift_s) or not 0.0 <= t_drift_s <= 1e4:
        raise ParameterError(f"t_drift_s must be in [0, 1e4] s, got {t_drift_s!r}")
    if isinstance(points, bool) or not isinstance(points, int) or not 10 <= points <= 100000:
        raise ParameterError(f"points must be an integer in [10, 100000], got {points!r}")
    cp = p.cell_params().replace(i_lambda_a=0.0, i_s2_bias_a=0.0)
    nb = NetlistBuilder("retention", tech)
    nb.netlist.fixed_sizes = True
    nb.vsource("vdd", "vdd", "0", p.vdd_v)
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)
    add_cell_rails(nb, cp)
    # inputs off, written as the exact zero-current states (module docstring): each term's error node is
    # its s2 (m4 at V_DS = 0), every x diode and the Z diode sit at V_GS = 0 (their gates on ref)
    terms = [("ws20", "ref"), ("ws21", "ref")]
    nb.isource("iuz", "vdd", "iez", p.i_u_a)  # the sink term's I_e is I_u in the learner (a bias)
    add_weight_cell(nb, cp, "w", vc="vc", terms=terms, sink_terms=[("iez", "ref")])
    nb.vsource("vhold", "vh", "0", v_c_v)
    stop = t_settle_s + t_drift_s
    edge = min(1e-6, 1e-3 * t_settle_s)
    nb.pwl_isource("ictl", "0", "ctl", [0.0, t_settle_s, t_settle_s + edge], [1.0, 1.0, 0.0])
    nb.resistor("rctl", "ctl", "0", 1.0)  # V(ctl) = 1 V while held, 0 V after
    nb.switch("shold", "vh", "vc", "ctl", "0", r_on_ohm=1.0, r_off_ohm=1e16)
    driven = {"vc", "vh", "ctl", "vdd", "ref", "out", "fb1", "fb2"}
    if nodeset_v:
        nb.nodeset({node: v for node, v in nodeset_v.items() if node in nb.netlist.nodes and node not in driven})
    if ic_v:
        nb.initial_conditions({node: v for node, v in ic_v.items() if node in nb.netlist.nodes and node not in driven})
    nodes = tuple(sorted(nb.netlist.nodes)) if save_nodes else ("vc",)
    nb.save(nodes=nodes, devices=("wmw",), sources=("vhold",))
    step = min(t_settle_s / points, (t_drift_s / points) if t_drift_s > 0 else math.inf)
    nb.analysis(Analysis("tran", step=step, stop=stop, max_step=step))
    return nb.build()


@dataclass(frozen=True)
class RetentionResult:
    """Leakage and drift of one held half-weight at one temperature (SI units; see module docstring).

    ``i_leak_a``: net current into the storage node with V_C held (A, + raises V_C);
    ``i_leak_junction_a``: the part of it the junction geometry adds (``i_leak_a`` minus the same hold
    with no drain/source area or perimeter on any device), A;
    ``dvc_dt_v_per_s``: measured drift of the released V_C; ``dvc_dt_hold_v_per_s``: I_leak/C;
    ``di_w_dt_a_per_s``, ``dw_dt_per_s`` (scaled weight units per s), ``retention_s`` (time to one LSB
    at ``bits``), ``lam_offset`` = −I_leak/I_A (:func:`leak_lam_offset`); ``t_settle_s``, ``t_drift_s``:
    the hold and the release of the transient; ``settle_change``: relative change of the held current
    between the last two tenths of the hold (small: the internal nodes had settled); ``c_eff_f`` =
    I_leak/(dV_C/dt): the capacitance the leakage actually charges — C plus the gates on the storage
    node (mw, m1; about 2 % of 50 pF, comparable to C below 1 pF), F; ``reltol``: the relative tolerance the
    measurement ran at (:func:`measure_retention` retries at :data:`RELTOL_FALLBACK` when the requested one
    does not converge).
    """

    tech: str
    temp_c: float
    v_c_v: float
    i_w_a: float
    c_f: float
    i_a_a: float
    i_lambda_design_a: float
    i_leak_a: float
    i_leak_junction_a: float
    dvc_dt_hold_v_per_s: float
    dvc_dt_v_per_s: float
    di_w_dt_a_per_s: float
    dw_dt_per_s: float
    bits: int
    lsb: float
    retention_s: float
    t_settle_s: float
    t_drift_s: float
    settle_change: float
    c_eff_f: float
    lam_offset: float
    reltol: float = 1e-5

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        # strict JSON: an infinite retention (no measurable drift) is written as null
        out["retention_s"] = self.retention_s if math.isfinite(self.retention_s) else None
        out["c_eff_f"] = self.c_eff_f if math.isfinite(self.c_eff_f) else None
        return out


def _v_c_at(tech: Technology, p: LearnerParams, i_w_a: float, sim: SimParams, simulator: Simulator) -> float:
    """V_C (V) at which the output device carries ``i_w_a`` (from its I_w(V_C) sweep)."""
    from .learner_run import _nominal, output_device_curve

    v_g, i_d = output_device_curve(_nominal(tech), p, sim, simulator)
    ln_i = np.log(np.maximum(i_d, 1e-30))
    if not ln_i.min() < math.log(i_w_a) < ln_i.max():
        raise SimulationError(f"the output device does not reach I_w = {i_w_a:g} A on {tech.label} at {sim.temp_c:g} °C")
    return float(np.interp(math.log(i_w_a), ln_i, v_g))


def measure_retention(
    tech: Technology, *, params: LearnerParams | None = None, bits: int = 8, i_w_a: float | None = None,
    sim: SimParams | None = None, simulator: Simulator | None = None, t_settle_s: float = 20.0,
    t_drift_s: float | None = None,
) -> RetentionResult:  # fmt: skip
    """Hold one half-weight of the learner at I_w (default ``i_w0_a``, the halves' current at w = 0)
    and measure its leakage (held) and drift (released) at ``sim.temp_c`` (module docstring).

    When a run does not converge at ``sim.reltol``, the whole measurement is repeated once at
    :data:`RELTOL_FALLBACK` (the result's ``reltol`` says which; the first error is raised if that fails too):
    the wide-temperature design's cell (pMOS mirror 24/2 µm) has no DC operating point at −20 °C on tt, sf and fs
    at reltol 1e-5 with its inputs off, and at 1e-4 gives 3.31 s on tt against 3.37 s for the mirror at 16/2 µm
    at 1e-5 (measured). The figures at −20 °C sit at the level of ngspice's gmin: see the module docstring.
    """
    sim = sim or SimParams()
    try:
        return _measure_retention(tech, params, bits, i_w_a, sim, simulator, t_settle_s, t_drift_s)
    except SimulationError as first:
        if sim.reltol >= RELTOL_FALLBACK:
            raise
        try:
            return _measure_retention(tech, params, bits, i_w_a, sim.replace(reltol=RELTOL_FALLBACK), simulator, t_settle_s,
                                      t_drift_s)  # fmt: skip
        except SimulationError:
            raise first from None


def _measure_retention(tech: Technology, params: LearnerParams | None, bits: int, i_w_a: float | None, sim: SimParams,
                       simulator: Simulator | None, t_settle_s: float, t_drift_s: float | None) -> RetentionResult:
    """:func:`measure_retention` at the tolerances of ``sim``.

    ``t_settle_s`` (s): the hold before the release (the off nodes relax; the held current is averaged
    over its last tenth); repeated 4× longer while the held current still moves by more than 5 %
    between the hold's last two tenths, up to 1280 s (``settle_change`` reports the last).
    ``t_drift_s`` (s): the release; default: the time the held leakage needs to move V_C by 5 mV, clipped to [1e-5, 200] s; the release is a second transient that holds as long
    as the settled hold (at most 100·t_drift), then lets go.
    """
    simulator = simulator or get_simulator()
    p = (params or LearnerParams.for_technology(tech.learner_family)).replace(temp_c=sim.temp_c)
    step = lsb(bits)
    i_w = p.i_w0_a if i_w_a is None else float(i_w_a)
    if not math.isfinite(i_w) or not 1e-13 <= i_w <= 1e-7:
        raise ParameterError(f"i_w_a must be in [1e-13, 1e-7] A, got {i_w_a!r}")
    v_c = _v_c_at(tech, p, i_w, sim, simulator)

    def hold(technology: Technology):
        """Hold for t_settle: (run, held current over the last tenth, over the tenth before)."""
        bench = retention_bench(technology, p, v_c, t_settle_s=t_settle_s, save_nodes=True)
        run = simulator.run(bench, sim, allow_transient_op=True)
        t = np.asarray(run["time"], dtype=float)
        i_hold = np.asarray(run["vhold#branch"], dtype=float)
        windows = [(t > a * t_settle_s) & (t <= b * t_settle_s) for a, b in ((0.8, 0.9), (0.9, 1.0))]
        if min(w.sum() for w in windows) < 3:
            raise SimulationError(f"retention hold on {technology.label} at {sim.temp_c:g} °C gave too few points")
        before, last = (float(np.mean(i_hold[w])) for w in windows)
        return run, last, before

    while True:  # hold longer until the held current is still (the off nodes relax slowly when cold)
        settled, i_leak, i_before = hold(tech)
        if abs(i_leak - i_before) <= _SETTLED * abs(i_leak) or t_settle_s * 4 > _T_SETTLE_MAX_S:
            break
        t_settle_s *= 4
    i_junction = i_leak - hold(tech.without_junctions())[1]  # the same hold with no drain/source geometry
    dv_hold = i_leak / p.c_f
    if t_drift_s is None:
        t_drift_s = float(np.clip(_DRIFT_TARGET_V / max(abs(dv_hold), 1e-30), _T_STOP_MIN_S, _T_STOP_MAX_S))
    # the release: the same hold (as long as the settled one, at most 100 drift lengths: the step is
    # t_drift/400 throughout), then the switch opens for t_drift
    t_hold2 = min(t_settle_s, 100.0 * t_drift_s)
    release = retention_bench(tech, p, v_c, t_settle_s=t_hold2, t_drift_s=t_drift_s, points=400)
    run = simulator.run(release, sim, allow_transient_op=True)
    t = np.asarray(run["time"], dtype=float)
    vc = np.asarray(run["vc"], dtype=float)
    i_w_t = np.asarray(run.drain_current("wmw"), dtype=float)
    i_w_held = float(np.interp(t_hold2, t, i_w_t))
    late = t >= t_hold2 + 0.1 * t_drift_s  # past the switch's edge
    if late.sum() < 5 or not np.all(i_w_t[late] > 0):
        raise SimulationError(f"retention transient on {tech.label} at {sim.temp_c:g} °C gave too few points or I_w ≤ 0")
    dvc_dt = float(np.polyfit(t[late], vc[late], 1)[0])
    dln_dt = float(np.polyfit(t[late], np.log(i_w_t[late]), 1)[0])
    di_w_dt = i_w_held * dln_dt
    dw_dt = p.w_scale * di_w_dt / p.i_u_a
    retention = step / abs(dw_dt) if dw_dt != 0.0 else math.inf
    settle_change = abs(i_leak - i_before) / max(abs(i_leak), 1e-30)
    return RetentionResult(
        tech=tech.label, temp_c=sim.temp_c, v_c_v=v_c, i_w_a=i_w_held, c_f=p.c_f, i_a_a=p.i_a_a,
        i_lambda_design_a=p.i_lambda_a, i_leak_a=i_leak, i_leak_junction_a=i_junction, dvc_dt_hold_v_per_s=dv_hold, dvc_dt_v_per_s=dvc_dt,
        di_w_dt_a_per_s=di_w_dt, dw_dt_per_s=dw_dt, bits=bits, lsb=step, retention_s=retention, t_settle_s=t_settle_s,
        t_drift_s=t_drift_s, settle_change=settle_change,
        c_eff_f=i_leak / dvc_dt if dvc_dt != 0.0 else math.inf,
        lam_offset=leak_lam_offset(i_leak, p.i_a_a), reltol=sim.reltol,
    )  # fmt: skip

