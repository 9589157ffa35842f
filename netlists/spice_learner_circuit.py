"""N-input log-domain learner at transistor level: continuous-time SGDr on chip.

Signals are currents, ``I = I_u·v/v_scale`` (A), pseudo-differential: a value v is carried by
two positive currents with ``I⁺ − I⁻ = I_u·v/v_scale``. The bench drives inputs and targets as
PWL current sources (one-sided split with a floor I_f: ``I⁺ = I_f + I_u·max(v, 0)/s``, ``I⁻ =
I_f + I_u·max(−v, 0)/s``), each sample held for T_s. Scales: ``s_x`` for x, ``s_w`` for w and
``s_y = s_w·s_x`` for y and e (so that the products need no extra gain).

Learning rule (derivation; all currents in A)::

    weight cells (netlists.weight_cell, two product terms each):
      τ dW_i⁺/dt = (e⁺X_i⁺ + e⁻X_i⁻)/I_u − λ_c W_i⁺,  τ dW_i⁻/dt = (e⁺X_i⁻ + e⁻X_i⁺)/I_u − λ_c W_i⁻
    error split:  e⁺ = I_ce + E,  e⁻ = I_ce − E            (so e⁺ − e⁻ = 2E, e⁺ + e⁻ = 2I_ce)
    ⇒ τ d(W⁺ − W⁻)/dt = 2E·(X⁺ − X⁻)/I_u − λ_c (W⁺ − W⁻)
    with W⁺ − W⁻ = I_u w/s_w, X⁺ − X⁻ = I_u x/s_x, E = I_u e/(s_w s_x):
      (τ s_x²/2) dw/dt = e·x − (λ_c s_x²/2)·w
    ⇒ ideal τ_i = τ·s_x²/2, λ = λ_c·s_x²/2; η = T_s/τ_i.  Bias: τ = C·U_T/(κ·I_A), λ_c = I_λ/I_A.

The common mode W⁺ + W⁻ obeys ``τ d(W⁺+W⁻)/dt = 2I_ce(X⁺+X⁻)/I_u − λ_c(W⁺+W⁻)``: it grows
slowly (bounded by the L2 term) and leaves w unchanged; the fixed I_ce removes the positive
feedback a raw (unnormalised) split would have.

Error by KCL (products by translinear multipliers, sums by wiring)::

    P = Σ_i (W_i⁺X_i⁺ + W_i⁻X_i⁻)/I_u,   Q = Σ_i (W_i⁺X_i⁻ + W_i⁻X_i⁺)/I_u,   ŷ-current = P − Q
    E = Y − (P − Q) = (Y⁺ + Q) − (Y⁻ + P) = E_a − E_b

Circuit (nMOS bulk at 0, pMOS bulk at vdd; currents in A, voltages in V, sizes in m; ``i`` in
0…N−1, ``a``/``b``/``s`` in {p, n}; :func:`learner` generates)::

    vdd : supply, PWL 0 → vdd_v over t_rise_s (``uic`` start from an all-off state)
    vref (ref = v_ref_v), vout (out = v_out_v: drain of every cell's mw)
    vfb1, vfb2 : rails fb1 = v_fb1_v, fb2 = v_fb2_v (sources of the cells' feedback devices)
    iu0, mu0 : I_u into the nMOS diode gu0 (source ref) — the products' shared I_u diode
    ix{i}{s}, mx{i}{s} : PWL input half X_i^s into the diode gx{i}{s} (source ref) — the x gate
        of the weight cells' product terms
    weight cell w{i}{a} (netlists.weight_cell.add_weight_cell, prefix ``w{i}{a}``, state vc{i}{a},
        capacitor ``cw{i}{a}w`` with ``ic=`` the initial state): term e⁺ (I_e into node
        w{i}{a}iep, x gate gx{i}{a}) and term e⁻ (node w{i}{a}ien, x gate gx{i}{b}, b ≠ a)
    e± copies into the cells, per cell and sign s:
        cascode: w{i}{a}mc{s} (gate gt{s}, source vdd, drain w{i}{a}ic{s}) under
                 w{i}{a}mcc{s} (gate ge{s}, drain w{i}{a}ie{s})
        plain:   w{i}{a}mc{s} (gate ge{s}, source vdd, drain w{i}{a}ie{s})
    product q{i}{a}{b} = W_i^a·X_i^b/I_u (3-device multiplier): iq{i}{a}{b} (PWL copy of X_i^b
        into q{i}{a}{b}c); q…m4 (drain q…c, gate gu0, source q…s); q…mf (feedback: drain q…s,
        gate q…c, source 0 — ground, not the fb rail); q…m3 (w_out_m/l_out_m, gate vc{i}{a},
        source q…s, drain nb if a = b (P) or na if a ≠ b (Q))
    iyp, iyn : PWL target halves Y⁺/Y⁻ sunk from na / nb

m3 is a copy of the weight's output device (gate on vc, like mw) and m4 of the I_u diode mu0
(gate gu0), and the feedback device mf forces m4 to carry X; since mw/m3 and mu0/m4 are the
translinear pairs, ``I_m3 = X·W/I_u``. Outputs sink from node ``na`` (Q) or ``nb`` (P), where
pMOS diodes supply E_a = Y⁺ + Q and E_b = Y⁻ + P (Y± are sinks there). pMOS copies of them
feed nMOS diodes; the split nodes ge± are pMOS diodes::

    gep: mep carries I_ce + E_a (nMOS copy, sink) − E_b (pMOS copy, source) = I_ce + E
    gen: men carries I_ce + E_b − E_a = I_ce − E

and pMOS copies of mep/men deliver e⁺/e⁻ into each product term of the weight cells. Copies
of the input currents for the multipliers come from the bench (ideal copies of the stimulus).

Error path, ``error_mirror="cascode"`` (default; :func:`_error_path_cascoded`). Every diode is
a stack of two, top device on the rail, and every copy is a device on the top diode's gate
under a cascode on the bottom diode's gate, so each copy's rail device has its diode's V_DS::

    md{h} (diode d{h}, source vdd) over md{h}2 (diode n{h}, source d{h}), h ∈ {a, b}
        — supplies E_a into na / E_b into nb
    mc{h} (gate d{h}, drain c{h}) under mc{h}2 (gate n{h}, drain m{h})
        — pMOS copy of E_h into the stacked nMOS diode
    mn{h}2 (diode m{h}, source m{h}1) over mn{h} (diode m{h}1, source 0)
    per split side s ∈ {p, n} (sink half a for p / b for n; source half the other):
    ice{s} : I_ce sunk from ge{s}
    mk{s} (gate m{sink}1, source 0, drain k{s}) under mk{s}2 (gate m{sink}, drain ge{s})
        — nMOS copy of E_sink out of ge{s}
    ms{s} (gate d{src}, source vdd, drain s{s}) under ms{s}2 (gate n{src}, drain ge{s})
        — pMOS copy of E_src into ge{s}
    me{s} (diode gt{s}, source vdd) over me{s}2 (diode ge{s}, source gt{s})
        — carries I_ce ± E; gt{s}/ge{s} are the gates of the cells' w…mc{s}/w…mcc{s}

``error_mirror="plain"``: single diodes mda/mdb (na/nb), copies mca/mcb into the nMOS diodes
mna/mnb (ma/mb), per side ice{s}, mk{s} (gate ma for p, mb for n, drain ge{s}), ms{s} (gate nb
for p, na for n) and the diode me{s} on ge{s}. pMOS of the error path are sized w_e_m/l_e_m
(20/1 µm by default), its nMOS w_m/l_m.

Why the cascodes, rails and tracking cascodes. sky130's drain-voltage dependence (DIBL) made the
loop, error-path and product gains each 8–19 % off when mirror copies and loop partners sat at
different V_DS (the learning rate came out × 1.24; sky130 tt dim 4 × 200 nmse_vs_ideal 2.65 %).
The defaults match the drain voltages: the stacked-diode (cascode) error mirrors, the cells'
feedback rails (v_fb1_v = 0.15 V, v_fb2_v = 0.05 V: m1's and m4's drains at their partners' V_DS)
and a tracking cascode on every m5 (i_track_a = 100 pA: V_DS(m5) follows s2 and matches the
diode mx) — nmse_vs_ideal 0.15 % (see :mod:`netlists.weight_cell` for the cell's measures). At
dim 4 the learner has 257 MOS devices.

Nodes: ``vc{i}p``, ``vc{i}n`` states; read-outs: ``drain_current("w{i}pmw")`` = W_i⁺,
``drain_current("mda","p")`` = Y⁺ + Q, ``drain_current("mdb","p")`` = Y⁻ + P (in both error
mirrors: with the cascode, mda/mdb are the top devices of the stacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import Bound, Params
from .technologies.base import Technology, thermal_voltage_v
from .values import spice_number
from .weight_cell import WeightCellParams, add_cell_rails, add_weight_cell

__all__ = ["MAX_DIM", "LearnerParams", "learner", "split_currents", "state_nodes", "cell_names"]

_I = Bound(1e-13, 1e-7, "A")


#: largest number of inputs (weights) of a generated learner
MAX_DIM = 8


@dataclass(frozen=True, kw_only=True)
class LearnerParams(Params):
    """The N-input learner: scaling, hyperparameters (mapped to bias currents) and sizes.

    Attributes
    ----------
    dim : number of inputs N (1…8).
    eta : learning rate η = T_s/τ_i (dimensionless).
    lam : weight decay λ of the ideal law (dimensionless).
    t_hold_s : hold time T_s of each sample, s.
    c_f : integrating capacitor of each weight cell, F (I_A follows from τ).
    i_u_a : unit current I_u, A.
    i_ce_a : error common mode I_ce, A (must exceed |E| = I_u·|e|/(s_w s_x) at all times).
    i_floor_a : floor I_f of the one-sided input/target split, A.
    i_w0_a : W⁺ = W⁻ at t = 0 (w = 0), A.
    x_scale, w_scale : s_x, s_w (a value v ↦ I_u·v/s); targets and errors use s_w·s_x.
    kappa : κ used for τ = C·U_T/(κ·I_A) (from the technology or measured on the output device).
    temp_c : temperature for U_T, °C.
    t_rise_s : transition time between samples, s.
    w_m, l_m, w_out_m, l_out_m, w_p_m, l_p_m, w_fb_m, l_fb_m : device sizes as in
        :class:`netlists.weight_cell.WeightCellParams`, m (w_m/l_m also size the I_u diode mu0,
        the input diodes mx*, the products' m4, and the nMOS of the error path; w_out_m/l_out_m
        the products' m3, copies of mw; w_fb_m/l_fb_m the products' feedback devices too).
    w_e_m, l_e_m : size of every pMOS of the error path (diodes md*, copies mc*/ms*, split
        diodes me*, and the e± copies w*mc*/w*mcc* into the cells), m; 20/1 µm by default.
    v_fb1_v, v_fb2_v : the cells' feedback rails fb1/fb2 (sources of mf1 / mf2), V; lift m1's and
        m4's drains so they sit at their loop partners' V_DS (0 = ground, no rail).
    i_track_a : bias of the tracking cascode on every m5 (mt2/mk5), A; V_DS(m5) follows s2 and
        matches the diode mx (0 = none). i_track1_a : the same on m1 (mt1/mk1), A (0 = none, the
        default).
    w_lt_m, l_lt_m : size of the tracking diodes mt*, m. w_cas_m, l_cas_m : of the tracking
        cascodes mk*, m. (All passed on to the cells, see WeightCellParams.)
    error_mirror : ``"cascode"`` (default: stacked-diode pMOS/nMOS mirrors in the error path and
        cascoded e± copies, so every copy sees its diode's V_DS) or ``"plain"`` (single diodes and
        copies; sky130's DIBL then puts the error-path gains up to ~20 % off).
    v_ref_v, v_out_v, vdd_v : reference, read-out drain and supply voltages, V.
    points_per_hold : output points per sample (also bounds the time step).
    settle_holds : holds with x = 0, y = 0 before the stream (start-up of the loops; w stays 0
        since every product term is then common mode), so sample k ends at (settle_holds + k + 1)·T_s.

    Per technology (:meth:`for_technology`; the learner picks its defaults that way). The field
    defaults above were tuned on sky130 and are used unchanged for sky130 and bsim. The ``ekv``
    golden model (V_T0 = 0.5 V for both polarities, n = 1.35/1.40, no DIBL) needs other sizes:
    with a low threshold a weak-inversion diode at these currents sits only a few U_T above
    zero (V_GS = V_T0 + n·U_T·ln IC), so the mirrors were not saturated. Measured on ekv with
    the sky130 defaults (dim 4 × 200, reltol 1e-4): nmse_vs_ideal 0.326 %, η factor 0.904, and

    * the cells' pMOS output mirror (mpa/mpb/mpc, 2/2 µm at I_c ≈ 0.2–3 pA) at V_DS = 1.1–3.8
      U_T: the copy's (1 − e^{−V_DS/U_T}) no longer matches the diode's (cell bench: λ −2.5 %);
    * the pMOS of the error path (20/1 µm at ~100 pA) at 4.3–5 U_T and its nMOS at 5.3–6 U_T:
      e⁺ − e⁻ came out 0.957·2E (dim 2 × 40);
    * a lag: ~30 % of a sample's update landed in the next hold (the EKV model's gate
      capacitances, ½C_ox·W·L to source and to drain, charged by the pA currents of I_c);
    * a slow start: with ``uic`` s1 overshoots to ≈ 1.1 V and comes back only at the rate the
      tiny I_A can recharge mf1's gate–drain capacitance (≈ 60 ms), so at the end of the first
      sample m1, m4 and the mirror were at V_DS = 0.02–1.4 U_T.

    The ekv values (:attr:`TECH_DEFAULTS`) make those diodes' V_GS larger and their gates
    smaller: pMOS mirror w_p/l_p = 0.25/6 µm (W/L 1/24), error-path pMOS w_e/l_e = 2/2 µm,
    loop and error-path nMOS w_m/l_m = 2/2 µm, tracking cascodes w_cas/l_cas = 1/1 µm, and
    settle_holds = 3 (start-up done before the first sample). Rails, tracking currents and all
    bias currents are unchanged. Measured (dim 4 × 200): nmse_vs_ideal 0.0005 %, η factor 0.995,
    every signal device weak (IC ≤ 0.007) and saturated at the checked instants; over every 8th
    output point of the stream the lowest V_DS is 4.2 U_T (mpa/mpc in the first sample), ≥ 5 U_T
    after it.
    """

    dim: int = 4
    eta: float = 0.01
    lam: float = 1e-3
    t_hold_s: float = 20e-3
    c_f: float = 50e-12
    i_u_a: float = 100e-12
    i_ce_a: float = 100e-12
    i_floor_a: float = 30e-12
    i_w0_a: float = 25e-12
    x_scale: float = 1.0
    w_scale: float = 2.0
    kappa: float = 0.7
    temp_c: float = 27.0
    t_rise_s: float = 100e-6
    w_m: float = 5e-6
    l_m: float = 1e-6
    w_out_m: float = 5e-6
    l_out_m: float = 1e-6
    w_p_m: float = 2e-6
    l_p_m: float = 2e-6
    w_fb_m: float = 0.42e-6
    l_fb_m: float = 16e-6
    w_e_m: float = 20e-6
    l_e_m: float = 1e-6
    v_fb1_v: float = 0.15
    v_fb2_v: float = 0.05
    i_track_a: float = 100e-12
    i_track1_a: float = 0.0
    w_lt_m: float = 0.42e-6
    l_lt_m: float = 6e-6
    w_cas_m: float = 5e-6
    l_cas_m: float = 1e-6
    error_mirror: str = "cascode"
    v_ref_v: float = 0.1
    v_out_v: float = 0.35
    vdd_v: float = 1.8
    points_per_hold: int = 2
    settle_holds: int = 1
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"error_mirror": ("plain", "cascode")}
    #: departures from the field defaults per technology name (see :meth:`for_technology`)
    TECH_DEFAULTS: ClassVar[dict[str, dict[str, float | int]]] = {
        "sky130": {},
        "bsim": {},
        "ekv": {
            "w_p_m": 0.25e-6, "l_p_m": 6e-6, "w_e_m": 2e-6, "l_e_m": 2e-6, "w_m": 2e-6, "l_m": 2e-6,
            "w_cas_m": 1e-6, "l_cas_m": 1e-6, "settle_holds": 3,
        },
    }
    _bounds: ClassVar[dict[str, Bound]] = {
        "dim": Bound(1, MAX_DIM, "", integer=True),
        "eta": Bound(1e-6, 1.0, ""),
        "lam": Bound(0.0, 10.0, ""),
        "t_hold_s": Bound(1e-6, 10.0, "s"),
        "c_f": Bound(1e-15, 1e-6, "F"),
        "i_u_a": _I, "i_ce_a": _I, "i_floor_a": _I, "i_w0_a": _I,
        "x_scale": Bound(0.1, 100.0, ""),
        "w_scale": Bound(0.1, 100.0, ""),
        "kappa": Bound(0.3, 1.0, ""),
        "temp_c": Bound(-55.0, 150.0, "degC"),
        "t_rise_s": Bound(1e-9, 1.0, "s"),
        **{k: Bound(1e-7, 1e-3, "m") for k in ("w_m", "w_out_m", "w_p_m", "w_fb_m", "w_e_m")},
        **{k: Bound(1.5e-7, 1e-3, "m") for k in ("l_m", "l_out_m", "l_p_m", "l_fb_m", "l_e_m")},
        "v_fb1_v": Bound(0.0, 1.0, "V"),
        "v_fb2_v": Bound(0.0, 1.0, "V"),
        "i_track_a": Bound(0.0, 1e-6, "A"),
        "i_track1_a": Bound(0.0, 1e-6, "A"),
        "w_lt_m": Bound(1e-7, 1e-3, "m"),
        "l_lt_m": Bound(1.5e-7, 1e-3, "m"),
        "w_cas_m": Bound(1e-7, 1e-3, "m"),
        "l_cas_m": Bound(1.5e-7, 1e-3, "m"),
        "v_ref_v": Bound(0.0, 1.0, "V"),
        "v_out_v": Bound(0.0, 3.3, "V"),
        "vdd_v": Bound(0.5, 3.3, "V"),
        "points_per_hold": Bound(1, 1000, "", integer=True),
        "settle_holds": Bound(0, 100, "", integer=True),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.t_rise_s < 0.5 * self.t_hold_s:
            raise ParameterError(f"LearnerParams.t_rise_s must be < t_hold_s/2 ({0.5 * self.t_hold_s:g} s), got {self.t_rise_s!r}")
        if self.i_a_a > 1e-6:
            raise ParameterError(f"LearnerParams: eta={self.eta!r}, t_hold_s={self.t_hold_s!r}, c_f={self.c_f!r} give I_A={self.i_a_a:.3g} A > 1 uA")

    @classmethod
    def for_technology(cls, name: str, **overrides: object) -> "LearnerParams":
        """The defaults for technology ``name`` (``"ekv"``, ``"bsim"``, ``"sky130"``; a corner
        suffix such as ``"sky130:tt"`` is ignored), with ``overrides`` applied on top.

        sky130 and bsim get the field defaults; ekv gets :attr:`TECH_DEFAULTS` ``["ekv"]`` (sizes
        for its lower thresholds, see the class docstring).
        """
        tech = str(name).partition(":")[0]
        if tech not in cls.TECH_DEFAULTS:
            raise ParameterError(f"LearnerParams.for_technology: technology must be one of {', '.join(cls.TECH_DEFAULTS)}, got {name!r}")
        return cls(**{**cls.TECH_DEFAULTS[tech], **overrides})

    # -- mapping of the ideal law onto the circuit ---------------------------------------------------
    @property
    def tau_ideal_s(self) -> float:
        """τ_i = T_s/η of the ideal law, s."""
        return self.t_hold_s / self.eta

    @property
    def tau_circuit_s(self) -> float:
        """τ of the weight cells, 2τ_i/s_x², s."""
        return 2.0 * self.tau_ideal_s / self.x_scale**2

    @property
    def lam_circuit(self) -> float:
        """λ_c = 2λ/s_x² of the weight cells."""
        return 2.0 * self.lam / self.x_scale**2

    @property
    def i_a_a(self) -> float:
        """I_A = C·U_T/(κ·τ), A."""
        return self.c_f * thermal_voltage_v(self.temp_c) / (self.kappa * self.tau_circuit_s)

    @property
    def i_lambda_a(self) -> float:
        """I_λ = λ_c·I_A, A."""
        return self.lam_circuit * self.i_a_a

    @property
    def y_scale(self) -> float:
        return self.w_scale * self.x_scale

    def cell_params(self) -> WeightCellParams:
        """The weight cells' parameters (their own step-bench fields are unused here)."""
        return WeightCellParams(
            c_f=self.c_f, i_a_a=self.i_a_a, i_lambda_a=max(self.i_lambda_a, 1e-15), i_u_a=self.i_u_a,
            w_m=self.w_m, l_m=self.l_m, w_p_m=self.w_p_m, l_p_m=self.l_p_m, w_out_m=self.w_out_m,
            l_out_m=self.l_out_m, w_fb_m=self.w_fb_m, l_fb_m=self.l_fb_m, v_ref_v=self.v_ref_v,
            v_out_v=self.v_out_v, vdd_v=self.vdd_v, v_fb1_v=self.v_fb1_v, v_fb2_v=self.v_fb2_v,
            i_track_a=self.i_track_a, i_track1_a=self.i_track1_a, w_lt_m=self.w_lt_m, l_lt_m=self.l_lt_m, w_cas_m=self.w_cas_m, l_cas_m=self.l_cas_m,
        )

    def cell_bench(self) -> WeightCellParams:
        """The learner's weight cell on a step bench: I_λ = I_A (λ = 1), I_x I_u → 3 I_u → I_u.

        Times scale with the cell's τ = C·U_T/(κ·I_A): step at 0.05τ, back at τ, end at 2τ.
        Calibrating this bench describes the cells the learner is built from.
        """
        tau = self.tau_circuit_s
        return self.cell_params().replace(
            i_lambda_a=self.i_a_a, i_e_a=self.i_u_a, i_x_a=self.i_u_a, i_x_step_a=3.0 * self.i_u_a,
            t_step_s=0.05 * tau, t_back_s=tau, t_stop_s=2.0 * tau, t_rise_s=1e-4 * tau, points=800,
        )

    def weights_from_currents(self, w_plus_a: np.ndarray, w_minus_a: np.ndarray) -> np.ndarray:
        """w = s_w·(W⁺ − W⁻)/I_u."""
        return self.w_scale * (np.asarray(w_plus_a) - np.asarray(w_minus_a)) / self.i_u_a


def split_currents(values: np.ndarray, scale: float, i_u_a: float, i_floor_a: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided pseudo-differential split (A): I⁺ − I⁻ = I_u·v/scale, both ≥ I_f."""
    v = np.asarray(values, dtype=float) * (i_u_a / scale)
    return i_floor_a + np.maximum(v, 0.0), i_floor_a + np.maximum(-v, 0.0)


def cell_names(dim: int) -> list[str]:
    """Prefixes of the weight cells, ``w0p, w0n, w1p, …``."""
    return [f"w{i}{s}" for i in range(dim) for s in ("p", "n")]


def state_nodes(dim: int) -> list[str]:
    return [f"vc{name[1:]}" for name in cell_names(dim)]


def _pwl(nb: NetlistBuilder, name: str, p: str, n: str, values_a: np.ndarray, t_hold_s: float, t_rise_s: float) -> None:
    """PWL current source ``p → n`` holding ``values_a[k]`` over sample k; continuation lines."""
    nb._add(name, (p, n), "pwl(")  # noqa: SLF001 - the builder validates the name and nodes
    pts = [(0.0, values_a[0])]
    for k in range(1, len(values_a)):
        if values_a[k] != values_a[k - 1]:
            pts += [(k * t_hold_s, values_a[k - 1]), (k * t_hold_s + t_rise_s, values_a[k])]
    body = [f"{spice_number(t)} {spice_number(v)}" for t, v in pts]
    for j in range(0, len(body), 8):
        nb.netlist.elements.append("+ " + " ".join(body[j:j + 8]))
    nb.netlist.elements.append("+ )")


def _error_path_cascoded(nb: NetlistBuilder, p: LearnerParams, pe: dict, loop: dict) -> None:
    """Error formation and split with stacked-diode cascode mirrors (every copy sees its diode's V_DS).

    Diodes are pairs stacked from the rail (top ``*`` / bottom ``*2``); a copy is a device on the
    top diode's gate with a cascode on the bottom diode's gate, so the copy's V_DS equals the
    diode's and sky130's drain-voltage dependence cancels (it gave the plain mirrors up to 20 %).
    """
    for half in ("a", "b"):
        # pMOS diodes supplying E_a (node na) / E_b (nb); ``md{half}`` carries the read-out current
        nb.mos(f"md{half}", "p", f"d{half}", f"d{half}", "vdd", "vdd", **pe)
        nb.mos(f"md{half}2", "p", f"n{half}", f"n{half}", f"d{half}", "vdd", **pe)
        # pMOS copy into stacked nMOS diodes (gates m{half}1 bottom, m{half} top)
        nb.mos(f"mc{half}", "p", f"c{half}", f"d{half}", "vdd", "vdd", **pe)
        nb.mos(f"mc{half}2", "p", f"m{half}", f"n{half}", f"c{half}", "vdd", **pe)
        nb.mos(f"mn{half}", "n", f"m{half}1", f"m{half}1", "0", "0", **loop)
        nb.mos(f"mn{half}2", "n", f"m{half}", f"m{half}", f"m{half}1", "0", **loop)
    for side, sink, source in (("p", "a", "b"), ("n", "b", "a")):
        node, top = f"ge{side}", f"gt{side}"
        nb.isource(f"ice{side}", node, "0", p.i_ce_a)
        nb.mos(f"mk{side}", "n", f"k{side}", f"m{sink}1", "0", "0", **loop)
        nb.mos(f"mk{side}2", "n", node, f"m{sink}", f"k{side}", "0", **loop)
        nb.mos(f"ms{side}", "p", f"s{side}", f"d{source}", "vdd", "vdd", **pe)
        nb.mos(f"ms{side}2", "p", node, f"n{source}", f"s{side}", "vdd", **pe)
        nb.mos(f"me{side}", "p", top, top, "vdd", "vdd", **pe)
        nb.mos(f"me{side}2", "p", node, node, top, "vdd", **pe)


def learner(tech: Technology, params: LearnerParams, x: np.ndarray, y: np.ndarray, v_c0_v: dict[str, float]) -> Netlist:
    """Transistor-level learner driven by the stream (x_k, y_k); ``.tran`` over K holds.

    Parameters
    ----------
    tech : technology. params : the learner (``dim`` must equal x.shape[1]).
    x : inputs, shape (K, N), values scaled by ``x_scale``. y : targets, shape (K,).
    v_c0_v : initial state voltages (node → V) for every node of :func:`state_nodes`; passed as
        ``.ic`` (the DC operating point is solved with the states held, then released).
    """
    p = params
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    if x.shape[1] != p.dim or x.shape[0] != y.shape[0] or x.shape[0] < 1:
        raise ParameterError(f"learner: x must have shape (K, {p.dim}) and y shape (K,), got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ParameterError("learner: x and y must be finite")
    missing = set(state_nodes(p.dim)) - set(v_c0_v)
    if missing:
        raise ParameterError(f"learner: v_c0_v lacks {sorted(missing)}")
    pad = np.zeros((p.settle_holds, p.dim))
    x, y = np.vstack([pad, x]), np.concatenate([np.zeros(p.settle_holds), y])
    cp = p.cell_params()
    nb = NetlistBuilder(f"learner_{p.dim}", tech)
    # ``uic`` start: every node but the states at 0 V; the supply ramps up over t_rise so that
    # the first Newton solve starts from a consistent (all-off) state
    nb._add("vdd", ("vdd", "0"), f"pwl(0 0 {spice_number(p.t_rise_s)} {spice_number(p.vdd_v)})")  # noqa: SLF001
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)
    add_cell_rails(nb, cp)
    loop = {"w_m": p.w_m, "l_m": p.l_m}
    outd = {"w_m": p.w_out_m, "l_m": p.l_out_m}
    pe = {"w_m": p.w_e_m, "l_m": p.l_e_m}
    fb = {"w_m": p.w_fb_m, "l_m": p.l_fb_m, "role": "feedback"}
    args = (p.t_hold_s, p.t_rise_s)
    # shared I_u diode for the prediction multipliers
    nb.isource("iu0", "vdd", "gu0", p.i_u_a)
    nb.mos("mu0", "n", "gu0", "gu0", "ref", "0", **loop)
    # inputs: a diode per half (gates for the weight cells) and two forced copies for the products
    xs = {}
    for i in range(p.dim):
        xs[i, "p"], xs[i, "n"] = split_currents(x[:, i], p.x_scale, p.i_u_a, p.i_floor_a)
        for s in ("p", "n"):
            _pwl(nb, f"ix{i}{s}", "vdd", f"gx{i}{s}", xs[i, s], *args)
            nb.mos(f"mx{i}{s}", "n", f"gx{i}{s}", f"gx{i}{s}", "ref", "0", **loop)
    # weight cells: W⁺ ← (e⁺, x⁺), (e⁻, x⁻);  W⁻ ← (e⁺, x⁻), (e⁻, x⁺)
    for i in range(p.dim):
        for a, b in (("p", "n"), ("n", "p")):
            pre = f"w{i}{a}"
            terms = []
            for e_gate, xs_half in (("gep", a), ("gen", b)):
                node = f"{pre}ie{e_gate[-1]}"
                if p.error_mirror == "cascode":
                    mid = f"{pre}ic{e_gate[-1]}"
                    nb.mos(f"{pre}mc{e_gate[-1]}", "p", mid, f"gt{e_gate[-1]}", "vdd", "vdd", **pe)
                    nb.mos(f"{pre}mcc{e_gate[-1]}", "p", node, e_gate, mid, "vdd", **pe)
                else:
                    nb.mos(f"{pre}mc{e_gate[-1]}", "p", node, e_gate, "vdd", "vdd", **pe)
                terms.append((node, f"gx{i}{xs_half}"))
            add_weight_cell(nb, cp, pre, vc=f"vc{i}{a}", terms=terms)
            nb.netlist.elements[-1 - next(j for j, e in enumerate(reversed(nb.netlist.elements)) if e.startswith(f"c{pre}w "))] += f" ic={spice_number(v_c0_v[f'vc{i}{a}'])}"
    # products: W_i^a·X_i^b/I_u into P (a == b, node nb) or Q (a != b, node na)
    for i in range(p.dim):
        for a in ("p", "n"):
            for b in ("p", "n"):
                q = f"q{i}{a}{b}"
                _pwl(nb, f"i{q}", "vdd", f"{q}c", xs[i, b], *args)
                nb.mos(f"{q}m4", "n", f"{q}c", "gu0", f"{q}s", "0", **loop)
                nb.mos(f"{q}mf", "n", f"{q}s", f"{q}c", "0", "0", **fb)
                nb.mos(f"{q}m3", "n", "nb" if a == b else "na", f"vc{i}{a}", f"{q}s", "0", **outd)
    # error formation and split
    y_p, y_n = split_currents(y, p.y_scale, p.i_u_a, p.i_floor_a)
    _pwl(nb, "iyp", "na", "0", y_p, *args)
    _pwl(nb, "iyn", "nb", "0", y_n, *args)
    if p.error_mirror == "cascode":
        _error_path_cascoded(nb, p, pe, loop)
    else:
        nb.mos("mda", "p", "na", "na", "vdd", "vdd", **pe)
        nb.mos("mdb", "p", "nb", "nb", "vdd", "vdd", **pe)
        nb.mos("mca", "p", "ma", "na", "vdd", "vdd", **pe)
        nb.mos("mcb", "p", "mb", "nb", "vdd", "vdd", **pe)
        nb.mos("mna", "n", "ma", "ma", "0", "0", **loop)
        nb.mos("mnb", "n", "mb", "mb", "0", "0", **loop)
        for side, sink, source in (("p", "ma", "nb"), ("n", "mb", "na")):
            node = f"ge{side}"
            nb.isource(f"ice{side}", node, "0", p.i_ce_a)
            nb.mos(f"mk{side}", "n", node, sink, "0", "0", **loop)
            nb.mos(f"ms{side}", "p", node, source, "vdd", "vdd", **pe)
            nb.mos(f"me{side}", "p", node, node, "vdd", "vdd", **pe)
    k = x.shape[0]
    step = p.t_hold_s / p.points_per_hold
    nb.analysis(Analysis("tran", step=step, stop=k * p.t_hold_s, max_step=step, uic=True))
    return nb.build()
