"""SPICE benches of the transistor-level learner's own blocks, for :mod:`calibration.learner_fit`.

Every bench is built from the learner's generator functions (:mod:`netlists.learner_blocks`,
:func:`netlists.weight_cell.add_weight_cell`) with the learner's parameters
(:meth:`netlists.spice_learner_circuit.LearnerParams.for_technology`, κ measured on the output
device as :func:`netlists.learner_run.prepare_learner` does), so its devices, sizes, currents,
supply and C are the learner's; ideal sources stand in for the neighbouring blocks. Some devices
are written here because :func:`netlists.spice_learner_circuit.learner` adds them inline rather
than through a generator: the cells' e± copies ``…mc±``, the x/Z diodes of the cell bench and
the loads on its state node, the S₀ bias stack ``ms0`` (sized as in the learner: ``ec``,
``x``, ``out``, ``zc``). Currents in A, voltages in V, time in s.

* :func:`forward_bench` — both input halves of input 0 (:func:`add_input_half`), its four
  prediction products (:func:`add_product`) on weight gates held at V_C, copies of the output
  device mw on those gates (W is their current), both target halves (:func:`add_target_half`),
  the nodes na/nb loaded by the error path's pMOS stacks ``mda``/``mdb`` (:func:`add_pstack`).
* :func:`error_bench` — :func:`add_error_path` with ideal sinks E_a (na) and E_b (nb); e± read
  from plain pMOS copies (the cells' ``mc`` devices) into nodes held at the cells' ie voltages.
* :func:`common_mode_bench` — :func:`add_common_mode` of weight 0 with its S₀ bias stack, the two
  weight gates held: Z against S = W⁺ + W⁻ (a diagnostic: the model takes β and S₀ as designed).
* :func:`cell_bench` — one weight cell exactly as in the learner (two terms and the sink term,
  freeze switch closed), fed hold by hold: e± into its ie nodes, X^a/X^b into nMOS x diodes,
  I_u into the sink term and Z into the Z diode; the other gates on its state node as copies of mw
  (:data:`STATE_LOADS`); the state starts from ``.ic`` like the learner's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netlists import Analysis, Netlist, NetlistBuilder, SimParams, Simulator
from netlists.learner_blocks import (HALVES, add_common_mode, add_error_path, add_input_half, add_product, add_product_unit,
                                     add_pstack, add_s0_stack, add_target_half, add_target_unit, size)  # fmt: skip
from netlists.learner_run import output_device_curve, prepare_learner
from netlists.spice_learner_circuit import LearnerParams
from netlists.spice_learner_circuit import _pwl as learner_pwl  # the learner's own hold-by-hold stimulus writer
from netlists.technologies.base import Technology
from netlists.weight_cell import add_cell_rails, add_weight_cell

__all__ = ["LearnerBenchSetup", "setup_benches", "forward_bench", "error_bench", "common_mode_bench", "CellStimulus", "cell_bench",
           "run_cell_bench", "cell_steps", "CellStream", "cell_stream", "CELL", "PAIR_OFFSET"]

#: prefix of the cell in :func:`cell_bench` (weight 0, half p: terms e⁺·X⁺ and e⁻·X⁻)
CELL = "w0p"
#: gates on the learner's state node vc0p besides the cell's own mw and m1 — the prediction products
#: q0pp, q0pn (their m3) and the common-mode sense device msp0, all of size ``out``; the cell bench
#: carries them as copies of mw (``mload_*``), so their gate capacitance adds to C as in the learner
#: (without them rate_scale came out 0.9 % higher on sky130, 3 % on ekv)
STATE_LOADS = ("q0ppm3", "q0pnm3", "msp0")


@dataclass(frozen=True)
class LearnerBenchSetup:
    """The learner's parameters (κ measured) and its output device's I_w(V_C) curve (V, A)."""

    params: LearnerParams
    v_gate_v: np.ndarray
    i_w_a: np.ndarray

    def v_c_for(self, w: float) -> float:
        """V_C (V) at which the output device carries ``w``·I_u (log-interpolated on the curve)."""
        ln_i = np.log(np.maximum(self.i_w_a, 1e-30))
        return float(np.interp(np.log(w * self.params.i_u_a), ln_i, self.v_gate_v))


def setup_benches(tech: Technology, sim: SimParams, simulator: Simulator, params: LearnerParams | None = None) -> LearnerBenchSetup:
    """Parameters as the learner runs them: ``for_technology`` defaults (or ``params``) with κ measured
    on the output device (:func:`netlists.learner_run.prepare_learner` on a one-sample stream)."""
    base = params or LearnerParams.for_technology(tech.learner_family)
    p, _ = prepare_learner(tech, np.zeros((1, 1)), np.zeros(1), base.eta, base.lam, base.t_hold_s, params=base.replace(dim=1),
                           sim=sim, simulator=simulator)  # fmt: skip
    p = p.replace(dim=base.dim)  # the benches build weight 0 only; the design keeps its dimension
    v_g, i_d = output_device_curve(tech, p, sim, simulator)
    return LearnerBenchSetup(p, v_g, i_d)


def _rails(nb: NetlistBuilder, p: LearnerParams) -> None:
    nb.vsource("vdd", "vdd", "0", p.vdd_v)
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)


def forward_bench(tech: Technology, p: LearnerParams, v_c_v: dict[str, float], x_a: dict[str, float], y_a: dict[str, float],
                  sweep: tuple[str, float, float, float]) -> Netlist:  # fmt: skip
    """Input 0's halves, its four products, the two target halves; ``.dc`` over ``sweep``.

    Parameters
    ----------
    v_c_v : gate voltage of each weight half (``"p"``, ``"n"``), V.
    x_a, y_a : the sources X^s (``ix0p``/``ix0n``) and Y^s (``iyp``/``iyn``) per half, A.
    sweep : (source name, start, stop, step) of the ``.dc`` analysis, A.

    Read-outs: W^a = ``drain_current("w0{a}mw")``; product W^a·X^b/I_u = ``drain_current("q0{a}{b}m3")``;
    target Y^s = ``drain_current("qy{s}m3")``; the update path's copy of X^s = ``drain_current("mx0{s}")``.
    """
    nb = NetlistBuilder("learner_forward", tech)
    _rails(nb, p)
    add_product_unit(nb, p)
    for s in HALVES:
        add_input_half(nb, p, 0, s, lambda name, a, b, v=x_a[s]: nb.isource(name, a, b, v))
    for a in HALVES:
        nb.vsource(f"vc0{a}hold", f"vc0{a}", "0", v_c_v[a])
        nb.mos(f"w0{a}mw", "n", "out", f"vc0{a}", "ref", "0", **size(p, "out"))
        for b in HALVES:
            add_product(nb, p, 0, a, b)
    add_target_unit(nb, p)
    for s in HALVES:
        add_target_half(nb, p, s, lambda name, a, b, v=y_a[s]: nb.isource(name, a, b, v))
    for half in ("a", "b"):
        add_pstack(nb, f"md{half}", f"d{half}", f"n{half}", size(p, "e"))
    nb.analysis(Analysis("dc", sweep[0], sweep[1], sweep[2], sweep[3]))
    return nb.build()


def error_bench(tech: Technology, p: LearnerParams, e_a_a: float, e_b_a: float, v_ie_v: dict[str, float],
                sweep: tuple[str, float, float, float]) -> Netlist:  # fmt: skip
    """The error path with ideal sinks ``iea`` (E_a from na) and ``ieb`` (E_b from nb); ``.dc`` over
    ``sweep`` (source, start, stop, step in A). e± = ``drain_current("w0pmc{p,n}", "p")``: the
    cells' plain pMOS copies (size ``ec``) on gep/gen, drains held at ``v_ie_v[sign]`` (V)."""
    nb = NetlistBuilder("learner_error", tech)
    _rails(nb, p)
    add_error_path(nb, p)
    nb.isource("iea", "na", "0", e_a_a)
    nb.isource("ieb", "nb", "0", e_b_a)
    for sign in HALVES:
        node = f"{CELL}ie{sign}"
        nb.vsource(f"vie{sign}", node, "0", v_ie_v[sign])
        nb.mos(f"{CELL}mc{sign}", "p", node, f"ge{sign}", "vdd", "vdd", **size(p, "ec"))
    nb.analysis(Analysis("dc", sweep[0], sweep[1], sweep[2], sweep[3]))
    return nb.build()


def common_mode_bench(tech: Technology, p: LearnerParams, v_c_v: dict[str, float], sweep: tuple[str, float, float, float]) -> Netlist:
    """Common-mode feedback of weight 0 (:func:`add_common_mode`) with both weight gates held
    (sources ``vc0phold``/``vc0nhold`` at ``v_c_v``, V) and the S₀ bias stack as in the learner;
    ``.dc`` over ``sweep`` (a gate source, V). S = ``msp0`` + ``msn0``, Z = ``drain_current("mgz0")``."""
    nb = NetlistBuilder("learner_common_mode", tech)
    _rails(nb, p)
    add_s0_stack(nb, p)
    for a in HALVES:
        nb.vsource(f"vc0{a}hold", f"vc0{a}", "0", v_c_v[a])
    add_common_mode(nb, p, 0)
    nb.analysis(Analysis("dc", sweep[0], sweep[1], sweep[2], sweep[3]))
    return nb.build()


@dataclass(frozen=True)
class CellStimulus:
    """Hold-by-hold inputs of :func:`cell_bench` in units of I_u, each of shape (H,):
    ``e_plus``, ``e_minus`` (into the terms' ie nodes), ``x_a``, ``x_b`` (the x diodes of the
    e⁺ and e⁻ terms), ``z`` (the Z diode; the sink term's I_e is I_u)."""

    e_plus: np.ndarray
    e_minus: np.ndarray
    x_a: np.ndarray
    x_b: np.ndarray
    z: np.ndarray

    def __post_init__(self) -> None:
        arrays = [np.asarray(getattr(self, f), dtype=float) for f in ("e_plus", "e_minus", "x_a", "x_b", "z")]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1 or arrays[0].size < 1:
            raise ValueError("CellStimulus: all inputs must be 1-D arrays of one length >= 1")
        if not all(np.all(np.isfinite(a)) and np.all(a > 0) for a in arrays):
            raise ValueError("CellStimulus: inputs must be finite and > 0 (units of I_u)")

    @property
    def holds(self) -> int:
        return int(np.asarray(self.e_plus).size)

    @property
    def drive(self) -> np.ndarray:
        """e⁺X^a + e⁻X^b per hold (units of I_u), the cell's product terms."""
        return np.asarray(self.e_plus) * self.x_a + np.asarray(self.e_minus) * self.x_b


def cell_bench(tech: Technology, p: LearnerParams, stim: CellStimulus, v_c0_v: float, *, lam_c: float | None = None,
               hold_v_c_v: float | None = None, nodeset_v: dict[str, float] | None = None) -> Netlist:  # fmt: skip
    """One weight cell as in the learner, driven hold by hold; ``.tran`` over the holds at the
    learner's step (T_s/points_per_hold), the state started from ``.ic`` at ``v_c0_v`` (V).

    ``lam_c`` sets I_λ = λ_c·I_A (default: the learner's λ_c). With ``hold_v_c_v`` the state node
    is held by a source and the analysis is ``.op`` at hold 0's inputs (open loop: used for
    ``.nodeset`` guesses). Read-out: W = ``drain_current("w0pmw")``; node voltages ``w0pie{p,n}``.
    """
    cp = p.cell_params()
    if lam_c is not None:
        cp = cp.replace(i_lambda_a=lam_c * cp.i_a_a)
    nb = NetlistBuilder("learner_cell", tech)
    _rails(nb, p)
    add_cell_rails(nb, cp)
    nb.vsource("vfz", "fz", "0", 1.0)  # freeze switch closed: the cell integrates
    iu, args = p.i_u_a, (p.t_hold_s, p.t_rise_s)
    drives = ((f"i{CELL}ep", "vdd", f"{CELL}iep", stim.e_plus), (f"i{CELL}en", "vdd", f"{CELL}ien", stim.e_minus),
              ("ix0p", "vdd", "gx0p", stim.x_a), ("ix0n", "vdd", "gx0n", stim.x_b), ("iz0", "vdd", "gz0", stim.z))  # fmt: skip
    for name, a, b, values in drives:
        values = iu * np.asarray(values, dtype=float)
        if hold_v_c_v is None:
            learner_pwl(nb, name, a, b, values, *args)
        else:
            nb.isource(name, a, b, float(values[0]))
    for s in HALVES:
        nb.mos(f"mx0{s}", "n", f"gx0{s}", f"gx0{s}", "ref", "0", **size(p, "x"))
    nb.mos("mgz0", "n", "gz0", "gz0", "ref", "0", **size(p, "x"))
    nb.isource(f"i{CELL}uz", "vdd", f"{CELL}iez", iu)
    add_weight_cell(nb, cp, CELL, vc="vc0p", terms=[(f"{CELL}iep", "gx0p"), (f"{CELL}ien", "gx0n")],
                    sink_terms=[(f"{CELL}iez", "gz0")], freeze="fz")  # fmt: skip
    for load in STATE_LOADS:  # the other gates on the learner's state node, as copies of mw
        nb.mos(f"mload_{load}", "n", "out", "vc0p", "ref", "0", **size(p, "out"))
    if hold_v_c_v is not None:
        nb.vsource("vhold", "vc0p", "0", hold_v_c_v)
        nb.analysis(Analysis("op"))
        return nb.build()
    nb.nodeset(nodeset_v or {})
    nb.initial_conditions({"vc0p": v_c0_v})
    step = p.t_hold_s / p.points_per_hold
    nb.analysis(Analysis("tran", step=step, stop=stim.holds * p.t_hold_s, max_step=step))
    return nb.build()


def run_cell_bench(tech: Technology, p: LearnerParams, stim: CellStimulus, v_c0_v: float, sim: SimParams, simulator: Simulator,
                   *, lam_c: float | None = None) -> tuple[Netlist, object]:  # fmt: skip
    """Simulate :func:`cell_bench`; returns (netlist, result).

    Newton needs a start near the cell's rest state (with the sky130-tuned feedback rails the
    ``ekv`` operating point does not converge from scratch), so the same bench is first solved
    open loop (state held at ``v_c0_v``) with the feedback rails at 0 V — the feedback devices'
    sources at ground, every other node where it will be — and those node voltages are given as
    ``.nodeset`` guesses. A nodeset only seeds the solver: the circuit and its solution are unchanged.
    """
    probe = cell_bench(tech, p.replace(v_fb1_v=0.0, v_fb2_v=0.0), stim, v_c0_v, lam_c=lam_c, hold_v_c_v=v_c0_v)
    op = simulator.run(probe, sim)
    skip = {"vc0p", "fb1", "fb2", "vdd", "ref", "out", "fz"}
    guesses = {n: float(np.atleast_1d(op[n])[0]) for n in sorted(probe.nodes) if not n.startswith("dm_") and n not in skip}
    netlist = cell_bench(tech, p, stim, v_c0_v, lam_c=lam_c, nodeset_v=guesses)
    return netlist, simulator.run(netlist, sim)


#: levels of the λ_c = 1 step benches (units of I_u): e⁺, e⁻ (the class-AB floor f_e + f₂ of a large
#: error), X^a before/after the up-step, e⁺ after the down-step, Z; W moves 0.38 → 0.62 and 0.62 → 0.40
#: (the cells keep their log-domain law only above W_min = I_A·e^{(V_fb1 − V_ref)/U_T}, ≈ 0.28 on sky130)
STEP_LEVELS = {"e_plus": 0.6, "e_minus": 0.06, "x_low": 0.7, "x_high": 1.1, "e_plus_low": 0.4, "z": 0.05}
#: holds at the first level before a step (the loops settle from the operating point)
STEP_LEAD = 3


def cell_steps(p: LearnerParams, holds: int) -> tuple[CellStimulus, CellStimulus]:
    """Two step stimuli for λ_c = 1: X^a up (fit) and e⁺ down (validation), each ``STEP_LEAD`` holds at
    the first level, then ``holds`` holds at the second (X^b at the floor f_x)."""
    lv, n = STEP_LEVELS, STEP_LEAD + holds
    first = np.arange(n) < STEP_LEAD
    const = lambda v: np.full(n, v)  # noqa: E731
    fx = p.i_floor_a / p.i_u_a
    up = CellStimulus(e_plus=const(lv["e_plus"]), e_minus=const(lv["e_minus"]), x_a=np.where(first, lv["x_low"], lv["x_high"]),
                      x_b=const(fx), z=const(lv["z"]))  # fmt: skip
    down = CellStimulus(e_plus=np.where(first, lv["e_plus"], lv["e_plus_low"]), e_minus=const(lv["e_minus"]),
                        x_a=const(lv["x_high"]), x_b=const(fx), z=const(lv["z"]))  # fmt: skip
    return up, down


#: W difference (units of I_u) between the two runs of a stream pair: the same inputs from W0 and
#: W0 + PAIR_OFFSET; their difference decays as e^{−ρ(λ_c + λ_o)t} whatever the drive, so it pins λ_o
PAIR_OFFSET = 0.25


@dataclass(frozen=True)
class CellStream:
    """A stream for the cell bench (``stim``) and the W (units of I_u) it starts from."""

    stim: CellStimulus
    w0: float


def cell_stream(p: LearnerParams, holds: int, seed: int) -> CellStream:
    """A stream like the learner's for cell w0p (units of I_u), new inputs every hold.

    Per hold k: an error E_k ~ N(0, σ_k²) clipped to |E| ≤ 0.6 with σ_k = 0.1 + 0.3·sin²(1.5πk/K)
    (errors large and small, the drive level changing slowly), x_k ~ U(−1, 1); both applied with the
    chopping sign (−1)^k; e± = √(E²/4 + f_e²) ± E/2 + f₂ (the class-AB law), X^a/X^b = f_x +
    max(±x, 0)/s_x. Z plays the common-mode feedback on the design law: Z_k = D̄_k + 2β·(W_k −
    W_ref,k) (≥ f₂), D̄ the drive averaged over ±10 holds, W_k the ideal cell law's state, W_ref =
    0.475 − 0.075·cos(2πk/K): W goes 0.4 → 0.55 → 0.4, and Z stays near its steady value, moving
    slowly and not in step with the drive, so that term_gain and z_gain are told apart.
    """
    rng = np.random.default_rng(seed)
    iu, k = p.i_u_a, np.arange(holds)
    sign = np.where(k % 2 == 1, -1.0, 1.0)
    sigma = 0.1 + 0.3 * np.sin(1.5 * np.pi * k / holds) ** 2
    err = sign * np.clip(sigma * rng.standard_normal(holds), -0.6, 0.6)
    x = sign * rng.uniform(-1.0, 1.0, holds)
    f_e, f_2, f_x = p.i_err_floor_a / iu, p.i_err_min_a / iu, p.i_floor_a / iu
    r = np.sqrt(0.25 * err**2 + f_e**2)
    e_plus, e_minus = r + 0.5 * err + f_2, r - 0.5 * err + f_2
    x_a, x_b = f_x + np.maximum(x, 0.0) / p.x_scale, f_x + np.maximum(-x, 0.0) / p.x_scale
    drive = e_plus * x_a + e_minus * x_b
    mean = np.convolve(np.pad(drive, 10, mode="edge"), np.ones(21) / 21, mode="valid")
    w_ref = 0.475 - 0.075 * np.cos(2 * np.pi * k / holds)
    h, lam = p.t_hold_s / p.tau_circuit_s, p.lam_circuit
    phi = -np.expm1(-lam * h) / lam if lam > 0 else h  # ∫ e^{−λt} over a hold
    z, w = np.empty(holds), w_ref[0]
    for j in range(holds):
        z[j] = max(f_2, mean[j] + 2 * p.cm_gain * (w - w_ref[j]))
        w = w * np.exp(-lam * h) + (drive[j] - z[j]) * phi
    return CellStream(CellStimulus(e_plus=e_plus, e_minus=e_minus, x_a=x_a, x_b=x_b, z=z), float(w_ref[0]))
