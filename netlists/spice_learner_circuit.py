"""N-input log-domain learner at transistor level: continuous-time SGDr on chip, built to survive mismatch.

Signals are currents. A value v becomes two positive halves (one-sided, class-B split from the
bench, floor f): ``V⁺ = f + I_u·max(v, 0)/s``, ``V⁻ = f + I_u·max(−v, 0)/s``, so ``V⁺ − V⁻ =
I_u·v/s``. Scales: s_x for x, s_w for w, s_y = s_w·s_x for y and e. Each sample is held for T_s.

Learning rule (all currents in A; derivation)::

    weight cells (netlists.weight_cell: a log-domain integrator per half, three terms each):
      τ dW_i⁺/dt = (e⁺X_i⁺ + e⁻X_i⁻)/I_u − Z_i − λ_c W_i⁺
      τ dW_i⁻/dt = (e⁺X_i⁻ + e⁻X_i⁺)/I_u − Z_i − λ_c W_i⁻
    class-AB error split (netlists.learner_blocks.add_error_path):  e⁺ − e⁻ = E,  e⁺e⁻ = f_e²
    ⇒ τ d(W⁺ − W⁻)/dt = E·(X⁺ − X⁻)/I_u − λ_c (W⁺ − W⁻)          (Z_i cancels)
    with W⁺ − W⁻ = I_u w/s_w, X⁺ − X⁻ = I_u x/s_x, E = I_u e/(s_w s_x):
      τ s_x² dw/dt = e·x − λ_c s_x²·w
    ⇒ ideal τ_i = τ·s_x², λ = λ_c·s_x²; η = T_s/τ_i.   Bias: τ = C·U_T/(κ·I_A), λ_c = I_λ/I_A.

Error by KCL (products by translinear multipliers, sums by wiring)::

    P = Σ_i (W_i⁺X_i⁺ + W_i⁻X_i⁻)/I_u,  Q = Σ_i (W_i⁺X_i⁻ + W_i⁻X_i⁺)/I_u,  ŷ-current = P − Q
    E = Y − (P − Q) = (Y⁺ + Q) − (Y⁻ + P) = E_a − E_b

Why this architecture (mismatch). Every half of every term has its own devices, so each carries
its own gain (Pelgrom: σ(ΔV_T) = A_VT/√(W·L), a weak-inversion gain error e^{ΔV_T/(n U_T)}: 5 %
per 5/1 µm sky130 nFET). A pseudo-differential learner subtracts two large drives to get a small
one; any gain difference between them turns their common part into drift of w. Three common
parts matter, and each gets its own remedy:

1. *The error's common mode.* A fixed split e± = I_ce ± E drives both halves with 2·I_ce·x̄ all the
   time; with 5–15 % mismatch that swamped the gradient (sky130 mismatch dies learned wrong-sign
   weights, nmse_vs_ideal 137–1190 %). The class-AB split makes e⁺ + e⁻ = √(E² + 4f_e²): the
   common drive shrinks with the error, and what a gain mismatch leaves is ∝ |e·x| (an update
   asymmetry, zero at e = 0) plus f_e·|x| (small f_e = ``i_err_floor_a``).
2. *The weights' common mode S = W⁺ + W⁻.* The drive above is positive in both halves, so S grows
   (and the L2 term alone lets it grow to (e⁺+e⁻)(X⁺+X⁻)/(λ_c I_u)); the prediction products then
   convert S·(mismatch) into a drifting output. Common-mode feedback holds it:
   ``Z_i = β·(S_i − S₀)`` (``cm_gain``, ``i_cm_a``) is removed from *both* halves through a sink
   term of each cell — additive, so it cancels in W⁺ − W⁻, and it passes through the same
   translinear loop as the drive, so the loop's own gain error multiplies (drive − Z) and does not
   convert the (cancelled) common mode. S settles at S₀ + (common drive)/(2β); S₀ ≥ the largest
   |W⁺ − W⁻| keeps both halves positive.
3. *Offsets of the prediction path.* x floors × product mismatch × S give an output offset, and
   the halves give different slopes for x > 0 and x < 0. The bench chops: sample k is applied as
   (−1)^k·(x_k, y_k). Ideal SGDr is unchanged by (x, y) → (−x, −y) (e·x and w·x keep their value),
   but offsets enter the gradient with alternating sign and cancel; the read-out takes
   ``ŷ(x) = [ŷ_c(x) − ŷ_c(−x)]/2`` so the circuit's predictions carry no offset either.

Read-out. After the stream the switches ``s…fz`` of every cell open (control node ``fz``), holding
the weights, and the bench applies 2N + 1 probes: x = 0 and x = ±1 on each input alone (y = 0).
The effective weights are ``w_i = [ŷ(+e_i) − ŷ(−e_i)]/2`` — what the circuit's own prediction path
computes, the weights inference uses (the read-out of the W⁺ − W⁻ currents differs from them by the
prediction products' gains, which the learning loop compensates).

Circuit (nMOS bulk at 0, pMOS bulk at vdd; ``i`` in 0…N−1, ``a``/``b``/``s`` in {p, n}; stacks
and cascoded copies as in :mod:`netlists.learner_blocks`, which generates the blocks)::

    vdd : supply (``start="op"``: the transient starts from the operating point with the states held
        by ``.ic``; ``"uic"``: a PWL ramp from 0 V)
    vref (ref = v_ref_v), vout (out = v_out_v: drain of every cell's mw), vfb1/vfb2 (rails)
    vfz : freeze control fz, 1 V during the stream, 0 V for the read-out probes
    iu0, mu0 : I_u into the nMOS diode gu0 (source ref) — the prediction products' I_u diode
    input half X_i^s (add_input_half): PWL sink ix{i}{s} on the pMOS diode mxi{i}{s}; copies to
        the diode mx{i}{s} (gate gx{i}{s}) and to the products q{i}p{s}, q{i}n{s}
    product q{i}{a}{b} = W_i^a·X_i^b/I_u (add_product): into nb (P, a = b) or na (Q, a ≠ b)
    weight cell w{i}{a} (netlists.weight_cell.add_weight_cell, state vc{i}{a}, charge node
        w{i}{a}q behind switch sw{i}{a}fz): term e⁺ (node w{i}{a}iep, x gate gx{i}{a}), term e⁻
        (w{i}{a}ien, gx{i}{b}), sink term Z (I_u from iw{i}{a}uz into w{i}{a}iez, x gate gz{i});
        pMOS copies w{i}{a}mc{s} (gates gep/gen) feed e± into iep/ien
    common mode (add_common_mode): sense msp{i}/msn{i}, S₀ copy mso{i}, stack mz{i}, copy mzc{i}
        into the Z diode mgz{i} (gate gz{i})
    target half Y^s (add_target_half): PWL sink iy{s} on the pMOS diode myi{s}, copy into the
        product qy{s} whose weight device sits on vcy (iuy, mwy: a diode on I_u) — Y⁺ sunk from na,
        Y⁻ from nb, with the same delay as the predictions (a cascode holding mwy's drain at the weights'
        drain voltage was tried: the learned weights' +3 % bias stayed, measured, so it is not built);
        error path and split (add_error_path)

Nodes: ``vc{i}p``, ``vc{i}n`` states; read-outs: ``drain_current("w{i}pmw")`` = W_i⁺,
``drain_current("mda","p")`` = Y⁺ + Q, ``drain_current("mdb","p")`` = Y⁻ + P.

Sizes (sky130 field defaults; per technology see :meth:`LearnerParams.for_technology`). Devices
that carry the smallest currents (the e± path down to f_e, the x diodes down to the floor f_x)
are long, so that a diode's V_GS stays ≥ 4 U_T (saturated) in weak inversion; devices whose
mismatch enters a gain are as large as their node's settling time allows (gate capacitance ×
U_T / current ≲ T_s/10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .learner_blocks import (HALVES, add_common_mode, add_error_path, add_input_half, add_product, add_product_unit,
                             add_s0_stack, add_target_half, add_target_unit, size)  # fmt: skip
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import Bound, Params
from .technologies.base import Technology, thermal_voltage_v
from .values import spice_number
from .weight_cell import WeightCellParams, add_cell_rails, add_weight_cell

__all__ = [
    "MAX_DIM", "LearnerParams", "LearnerStimulus", "learner", "stimulus", "split_currents", "state_nodes",
    "cell_names", "probe_inputs", "read_devices", "add_learner_frame",
]

_I = Bound(1e-13, 1e-7, "A")
_WB = Bound(1e-7, 1e-3, "m")
_LB = Bound(1.5e-7, 1e-3, "m")

#: largest number of inputs (weights) of a generated learner
MAX_DIM = 8
#: device groups with a ``w_<group>_m`` / ``l_<group>_m`` pair of fields
SIZE_GROUPS = ("m", "x", "out", "p", "fb", "q", "xp", "yp", "qy", "e", "en", "ec", "hn", "hnu", "abn", "abp", "zc", "lt", "cas")


@dataclass(frozen=True, kw_only=True)
class LearnerParams(Params):
    """The N-input learner: scaling, hyperparameters (mapped to bias currents), biases and sizes.

    Attributes
    ----------
    dim : number of inputs N (1…8).
    eta : learning rate η = T_s/τ_i (dimensionless).
    lam : weight decay λ of the ideal law (dimensionless).
    t_hold_s : hold time T_s of each sample, s.
    c_f : integrating capacitor of each weight cell, F (I_A follows from τ).
    i_u_a : unit current I_u, A.
    i_floor_a : floor f of the one-sided split of x and y, A.
    i_err_floor_a : f_e of the class-AB error split (e⁺·e⁻ = f_e² before f₂ is added), A.
    i_err_min_a : f₂ added to both e± (their minimum for large |E|), A; at E = 0, e± = f_e + f₂.
    i_w0_a : W⁺ = W⁻ at t = 0 (w = 0), A (2·i_w0_a should exceed i_cm_a).
    i_cm_a : common-mode set point S₀ of W⁺ + W⁻, A.
    cm_gain : common-mode feedback gain β (Z = β·(S − S₀)).
    x_scale, w_scale : s_x, s_w (a value v ↦ I_u·v/s); targets and errors use s_w·s_x.
    kappa : κ used for τ = C·U_T/(κ·I_A) (measured on the output device by the runner).
    temp_c : temperature for U_T, °C.
    t_rise_s : transition time between samples, s.
    chop : ``"on"`` (default) applies sample k as (−1)^k·(x_k, y_k) and reads predictions as
        [ŷ(x) − ŷ(−x)]/2; ``"off"`` streams the samples as they are.
    start : ``"op"`` (default): the transient starts from the DC operating point solved with the
        states held at their initial values (``.ic``); ``"uic"``: from an all-off state, the supply
        ramping up over t_rise_s and the states at their ``ic=`` values (for technologies whose
        operating point does not converge; give it more ``settle_holds``: the cells' mirrors start
        overdriven and recover at their own, small, currents).
    w_<g>_m, l_<g>_m : width and length of device group g, m —
        m: cell loop devices m3, m4*, the products' I_u diode mu0 pair is ``q``;
        x: the x diodes mx*, the cells' m5*, the sink-term diode muz;
        out: the output devices mw, m1, the products' m3 copies, the common-mode sense devices;
        p: the cells' pMOS output mirror; fb: feedback devices (cells and products);
        q: the products' m4 and their I_u diode mu0; xp: the x inputs' pMOS diodes and copies;
        yp: the targets' pMOS diodes and copies; qy: the target products' m3 and their unit-weight
        diode mwy (large: a gain error of the target path scales every weight);
        e: pMOS of E_a/E_b (stacks md*, copies mca/mcb); en: nMOS of E_b (mnb, mkb);
        ec: pMOS e± diodes and the cells' e± copies; hn: nMOS e⁺ stack and copy (their lower devices);
        hnu: their upper devices (the stack's top diode, the copy's cascode);
        abn/abp: the class-AB pair and its replica; zc: common-mode pMOS (S₀ copy, Z copies;
        the Z stack is w_zc/β wide); lt/cas: tracking diodes and cascodes of the cells' m5.
    v_fb1_v, v_fb2_v : the cells' feedback rails, V.
    i_s2_bias_a : plain bias into every term's source node s2 (lifts the m4 drains), A; see
        :class:`netlists.weight_cell.WeightCellParams`. (The cells' m5 have no tracking cascode:
        its gate followed s2 every hold and the mirror node pb rectified the coupled charge into a
        negative weight decay ∝ 1/I_A — weights +5 % at η = 0.05, +20 % with C = 12.5 pF.)
    i_q_bias_a : the same for the prediction and target products' source nodes, A.
    v_ref_v, v_out_v, vdd_v : reference, read-out drain and supply voltages, V.
    v_en_v : the class-AB replica's source node enr, V (the split node en sits there at E = 0), with
        ``en_bias="fixed"``.
    en_bias : ``"fixed"`` (default): enr held at ``v_en_v`` by a source; ``"window"``: at
        ``en_window_fraction`` of the class-AB pair's headroom window, from replicas of its two ends (the wide-temperature design; see
        :func:`netlists.learner_blocks.add_error_path`).
    en_window_fraction : with ``en_bias="window"``, where enr sits in the window, as a fraction of it up from
        the e⁺ stack's top hp (0.5: the middle).
    points_per_hold : output points per sample (also bounds the time step).
    settle_holds : holds with x = 0, y = 0 before the stream (start-up of the loops).
    error_stack_bulk : ``"vdd"`` (default): the error path's pMOS stacks and the cells' pMOS mirror
        cascodes share the n-well at V_DD; ``"source"``: their lower devices sit in their own n-well
        tied to the source (no body effect; see :func:`netlists.learner_blocks.add_error_path` and
        ``cascode_bulk`` of :class:`netlists.weight_cell.WeightCellParams`) — the wide-temperature design.
    hp_stack_bulk : ``"ground"`` (default): the error path's e⁺ nMOS stack (mhp, its copy mqp, the window
        replica mrhp) in the p-substrate; ``"source"``: their upper devices in an isolated p-well (sky130's
        deep n-well) tied to their source — no body effect (the wide-temperature design, see
        :mod:`netlists.learner_designs`).
    lam_trim : added to λ_c in every cell's I_λ = (λ_c + λ_trim)·I_A (dimensionless; default 0): a
        trim against the storage nodes' leakage, which acts on each half as a negative decay λ_o(T)
        (tried against the 85 °C leakage at T_s = 20 ms and not adopted, see :mod:`netlists.learner_designs`).
    save : ``"read"`` (default): the transient stores only the currents the run reads (W±, the
        error path's mda/mdb, the target products) and every device terminal gets a zero-current
        probe, read at halts for the region checks; ``"all"``: ngspice's default (every node,
        internal nodes included, at every time point — about 3 vectors per device more).
    """

    dim: int = 4
    eta: float = 0.05
    lam: float = 1e-3
    t_hold_s: float = 20e-3
    c_f: float = 50e-12
    i_u_a: float = 100e-12
    i_floor_a: float = 10e-12
    i_err_floor_a: float = 2e-12
    i_err_min_a: float = 4e-12
    i_w0_a: float = 40e-12
    i_cm_a: float = 70e-12
    cm_gain: float = 0.5
    x_scale: float = 1.0
    w_scale: float = 2.0
    kappa: float = 0.7
    temp_c: float = 27.0
    t_rise_s: float = 100e-6
    chop: str = "on"
    start: str = "op"
    w_m_m: float = 8e-6
    l_m_m: float = 8e-6
    w_x_m: float = 4e-6
    l_x_m: float = 8e-6
    w_out_m: float = 8e-6
    l_out_m: float = 8e-6
    w_p_m: float = 8e-6
    l_p_m: float = 8e-6
    w_fb_m: float = 0.42e-6
    l_fb_m: float = 16e-6
    w_q_m: float = 8e-6
    l_q_m: float = 8e-6
    w_xp_m: float = 4e-6
    l_xp_m: float = 4e-6
    w_yp_m: float = 6e-6
    l_yp_m: float = 6e-6
    w_qy_m: float = 16e-6
    l_qy_m: float = 8e-6
    w_e_m: float = 20e-6
    l_e_m: float = 8e-6
    w_en_m: float = 8e-6
    l_en_m: float = 8e-6
    w_ec_m: float = 4e-6
    l_ec_m: float = 8e-6
    w_hn_m: float = 1e-6
    l_hn_m: float = 4e-6
    w_hnu_m: float = 1e-6
    l_hnu_m: float = 4e-6
    w_abn_m: float = 1e-6
    l_abn_m: float = 4e-6
    w_abp_m: float = 2e-6
    l_abp_m: float = 2e-6
    w_zc_m: float = 2e-6
    l_zc_m: float = 4e-6
    w_lt_m: float = 0.42e-6
    l_lt_m: float = 6e-6
    w_cas_m: float = 5e-6
    l_cas_m: float = 1e-6
    v_fb1_v: float = 0.15
    v_fb2_v: float = 0.12
    i_s2_bias_a: float = 5e-12
    i_q_bias_a: float = 10e-12
    v_ref_v: float = 0.1
    v_out_v: float = 0.35
    v_en_v: float = 0.7
    vdd_v: float = 1.8
    points_per_hold: int = 2
    settle_holds: int = 4
    error_stack_bulk: str = "vdd"
    hp_stack_bulk: str = "ground"
    en_bias: str = "fixed"
    en_window_fraction: float = 0.5
    lam_trim: float = 0.0
    save: str = "read"
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"chop": ("on", "off"), "start": ("op", "uic"), "save": ("read", "all"),
                                                      "error_stack_bulk": ("vdd", "source"), "hp_stack_bulk": ("ground", "source"), "en_bias": ("fixed", "window")}
    #: fields that decide how a run is recorded, not the circuit (left out of a calibration's design)
    RUN_SETTINGS: ClassVar[tuple[str, ...]] = ("save",)
    #: departures from the field defaults per technology name (see :meth:`for_technology`)
    TECH_DEFAULTS: ClassVar[dict[str, dict[str, float | int | str]]] = {"sky130": {}, "bsim": {}, "ekv": {}}
    #: technologies whose whole learner (start="op") is refused by :func:`learner`, and what was measured
    #: there (its blocks characterise fine: the calibration benches run on every technology)
    UNSUPPORTED: ClassVar[dict[str, str]] = {
        "ekv": ("the learner is sized for sky130 (it also runs on bsim); with the ekv golden model (V_T0 = 0.5 V "
                "for both polarities) its operating point does not converge (Newton iterates overflow the "
                "B-source exponentials), and from an all-off start (start='uic') with long, narrow pMOS it "
                "learned a quarter of the weights (nmse_vs_ideal 61 %, dim 2, t/τ 20, every device in "
                "region) — to experiment, pass start='uic' and your own sizes"),
    }
    _bounds: ClassVar[dict[str, Bound]] = {
        "dim": Bound(1, MAX_DIM, "", integer=True),
        "eta": Bound(1e-6, 1.0, ""),
        "lam": Bound(0.0, 10.0, ""),
        "t_hold_s": Bound(1e-6, 10.0, "s"),
        "c_f": Bound(1e-15, 1e-6, "F"),
        "i_u_a": _I, "i_floor_a": _I, "i_err_floor_a": _I, "i_err_min_a": _I, "i_w0_a": _I, "i_cm_a": _I,
        "cm_gain": Bound(0.01, 10.0, ""),
        "x_scale": Bound(0.1, 100.0, ""),
        "w_scale": Bound(0.1, 100.0, ""),
        "kappa": Bound(0.3, 1.0, ""),
        "temp_c": Bound(-55.0, 150.0, "degC"),
        "t_rise_s": Bound(1e-9, 1.0, "s"),
        **{f"w_{g}_m": _WB for g in SIZE_GROUPS},
        **{f"l_{g}_m": _LB for g in SIZE_GROUPS},
        "v_fb1_v": Bound(0.0, 1.0, "V"),
        "v_fb2_v": Bound(0.0, 1.0, "V"),
        "i_s2_bias_a": Bound(0.0, 1e-6, "A"),
        "i_q_bias_a": Bound(0.0, 1e-6, "A"),
        "v_ref_v": Bound(0.0, 1.0, "V"),
        "v_out_v": Bound(0.0, 3.3, "V"),
        "v_en_v": Bound(0.0, 3.3, "V"),
        "vdd_v": Bound(0.5, 3.3, "V"),
        "points_per_hold": Bound(1, 1000, "", integer=True),
        "settle_holds": Bound(0, 100, "", integer=True),
        "lam_trim": Bound(0.0, 10.0, ""),
        "en_window_fraction": Bound(0.1, 0.9, ""),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        name = type(self).__name__
        if not self.t_rise_s < 0.5 * self.t_hold_s:
            raise ParameterError(f"{name}.t_rise_s must be < t_hold_s/2 ({0.5 * self.t_hold_s:g} s), got {self.t_rise_s!r}")
        if self.i_a_a > 1e-6:
            raise ParameterError(f"{name}: eta={self.eta!r}, t_hold_s={self.t_hold_s!r}, c_f={self.c_f!r} give I_A={self.i_a_a:.3g} A > 1 uA")
        if not self.v_ref_v < self.v_out_v < self.vdd_v or not self.v_en_v < self.vdd_v:
            raise ParameterError(f"{name}: need v_ref_v < v_out_v < vdd_v and v_en_v < vdd_v, got {self.v_ref_v!r}, {self.v_out_v!r}, {self.v_en_v!r}, {self.vdd_v!r}")
        w_range = self.i_u_a / self.w_scale
        if not self.i_cm_a > w_range:
            raise ParameterError(f"{name}.i_cm_a must exceed I_u/s_w = {w_range:.3g} A (|W⁺ − W⁻| at |w| = 1), got {self.i_cm_a!r}")

    @classmethod
    def for_technology(cls, name: str, **overrides: object) -> "LearnerParams":
        """The defaults for technology ``name`` (``"ekv"``, ``"bsim"``, ``"sky130"``; a corner suffix such
        as ``"sky130:tt"`` is ignored), with ``overrides`` applied on top. The whole learner is sized for
        sky130 and bsim: :func:`check_supported` (called by the runs) refuses the others' default start
        (:attr:`UNSUPPORTED`)."""
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
        """τ of the weight cells, τ_i/s_x², s."""
        return self.tau_ideal_s / self.x_scale**2

    @property
    def lam_circuit(self) -> float:
        """λ_c = λ/s_x² of the weight cells."""
        return self.lam / self.x_scale**2

    @property
    def i_a_a(self) -> float:
        """I_A = C·U_T/(κ·τ), A."""
        return self.c_f * thermal_voltage_v(self.temp_c) / (self.kappa * self.tau_circuit_s)

    @property
    def i_lambda_a(self) -> float:
        """I_λ = (λ_c + λ_trim)·I_A, A (no floor: the value in the netlist is this value)."""
        return (self.lam_circuit + self.lam_trim) * self.i_a_a

    @property
    def y_scale(self) -> float:
        return self.w_scale * self.x_scale

    def cell_params(self) -> WeightCellParams:
        """The weight cells' parameters (their own step-bench fields are unused here)."""
        return WeightCellParams(
            c_f=self.c_f, i_a_a=self.i_a_a, i_lambda_a=self.i_lambda_a, i_u_a=self.i_u_a,
            w_m=self.w_m_m, l_m=self.l_m_m, w_x_m=self.w_x_m, l_x_m=self.l_x_m, w_p_m=self.w_p_m,
            l_p_m=self.l_p_m, w_out_m=self.w_out_m, l_out_m=self.l_out_m, w_fb_m=self.w_fb_m,
            l_fb_m=self.l_fb_m, v_ref_v=self.v_ref_v, v_out_v=self.v_out_v, vdd_v=self.vdd_v,
            v_fb1_v=self.v_fb1_v, v_fb2_v=self.v_fb2_v, i_s2_bias_a=self.i_s2_bias_a, w_lt_m=self.w_lt_m,
            l_lt_m=self.l_lt_m, w_cas_m=self.w_cas_m, l_cas_m=self.l_cas_m, cascode_bulk=self.error_stack_bulk,
        )  # fmt: skip

    def weights_from_currents(self, w_plus_a: np.ndarray, w_minus_a: np.ndarray) -> np.ndarray:
        """w = s_w·(W⁺ − W⁻)/I_u (the state's weights, before the prediction path)."""
        return self.w_scale * (np.asarray(w_plus_a) - np.asarray(w_minus_a)) / self.i_u_a


def split_currents(values: np.ndarray, scale: float, i_u_a: float, i_floor_a: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided pseudo-differential split (A): I⁺ − I⁻ = I_u·v/scale, both ≥ I_f."""
    v = np.asarray(values, dtype=float) * (i_u_a / scale)
    return i_floor_a + np.maximum(v, 0.0), i_floor_a + np.maximum(-v, 0.0)


def cell_names(dim: int) -> list[str]:
    """Prefixes of the weight cells, ``w0p, w0n, w1p, …``."""
    return [f"w{i}{s}" for i in range(dim) for s in HALVES]


def state_nodes(dim: int) -> list[str]:
    return [f"vc{name[1:]}" for name in cell_names(dim)]


def probe_inputs(dim: int) -> np.ndarray:
    """The read-out probes, shape (2N + 1, N): x = 0, then +e_i and −e_i for each input."""
    eye = np.eye(dim)
    return np.vstack([np.zeros((1, dim)), *[np.stack([eye[i], -eye[i]]) for i in range(dim)]])


@dataclass(frozen=True)
class LearnerStimulus:
    """What the bench applies, hold by hold (values in the scaled units of x and y).

    ``x`` (H, N) and ``y`` (H,) are the applied values of every hold (settling, the stream with its
    chopping signs, the probes); ``sign`` (K,) the chopping sign of each stream sample; hold
    ``first_sample + k`` carries sample k, ``first_probe + j`` probe j; the switches open at
    ``freeze_s``.
    """

    x: np.ndarray
    y: np.ndarray
    sign: np.ndarray
    first_sample: int
    first_probe: int
    freeze_s: float

    @property
    def holds(self) -> int:
        return int(self.x.shape[0])


def stimulus(p: LearnerParams, x: np.ndarray, y: np.ndarray) -> LearnerStimulus:
    """Settling holds, the (chopped) stream, then the read-out probes (see the module docstring)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    k = x.shape[0]
    sign = np.where(np.arange(k) % 2 == 1, -1.0, 1.0) if p.chop == "on" else np.ones(k)
    probes = probe_inputs(p.dim)
    xs = np.vstack([np.zeros((p.settle_holds, p.dim)), sign[:, None] * x, probes])
    ys = np.concatenate([np.zeros(p.settle_holds), sign * y, np.zeros(len(probes))])
    first_probe = p.settle_holds + k
    return LearnerStimulus(xs, ys, sign, p.settle_holds, first_probe, first_probe * p.t_hold_s)


def _pwl(nb: NetlistBuilder, name: str, p: str, n: str, values: np.ndarray, t_hold_s: float, t_rise_s: float) -> None:
    """PWL source ``p → n`` holding ``values[k]`` over hold k (A or V); continuation lines."""
    nb._add(name, (p, n), "pwl(")  # noqa: SLF001 - the builder validates the name and nodes
    pts = [(0.0, values[0])]
    for k in range(1, len(values)):
        if values[k] != values[k - 1]:
            pts += [(k * t_hold_s, values[k - 1]), (k * t_hold_s + t_rise_s, values[k])]
    body = [f"{spice_number(t)} {spice_number(v)}" for t, v in pts]
    for j in range(0, len(body), 8):
        nb.netlist.elements.append("+ " + " ".join(body[j:j + 8]))
    nb.netlist.elements.append("+ )")


def read_devices(dim: int) -> list[str]:
    """Devices whose drain currents the run reads: each cell's output ``w…mw`` (W±), the error path's
    ``mda``/``mdb`` and the target products ``qypm3``/``qynm3`` (:func:`netlists.learner_run._read`)."""
    return [f"{n}mw" for n in cell_names(dim)] + ["mda", "mdb", "qypm3", "qynm3"]


def check_supported(tech: Technology, params: LearnerParams) -> None:
    """Raise :class:`ParameterError` when the whole learner is not supported on ``tech`` with this start
    (:attr:`LearnerParams.UNSUPPORTED`); the blocks' benches are not concerned."""
    tech_name = tech.learner_family
    if tech_name in LearnerParams.UNSUPPORTED and params.start == "op":
        raise ParameterError(f"the learner is not supported on {tech_name}: {LearnerParams.UNSUPPORTED[tech_name]}")


def add_learner_frame(nb: NetlistBuilder, p: LearnerParams, st: LearnerStimulus, cp: WeightCellParams) -> None:
    """What every learner netlist shares before its weights: fixed sizes (the technology includes
    only the model bins used), the supplies (V_DD as a source, or ramped over ``t_rise_s`` with
    ``start="uic"``), the reference and output rails, the cells' rails, the freeze signal (1 during
    the stream, 0 from the read-out probes on), the products' unit and the common-mode bias stack
    carrying S₀ (``p.i_cm_a``)."""
    nb.netlist.fixed_sizes = True
    if p.start == "op":
        nb.vsource("vdd", "vdd", "0", p.vdd_v)
    else:
        nb._add("vdd", ("vdd", "0"), f"pwl(0 0 {spice_number(p.t_rise_s)} {spice_number(p.vdd_v)})")  # noqa: SLF001
        nb.netlist.supplies["vdd"] = p.vdd_v  # after its ramp (the cost window starts later)
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)
    add_cell_rails(nb, cp)
    freeze = np.ones(st.holds)
    freeze[st.first_probe:] = 0.0
    _pwl(nb, "vfz", "fz", "0", freeze, p.t_hold_s, p.t_rise_s)
    add_product_unit(nb, p)
    add_s0_stack(nb, p)


def learner(tech: Technology, params: LearnerParams, x: np.ndarray, y: np.ndarray, v_c0_v: dict[str, float]) -> Netlist:
    """Transistor-level learner driven by the stream (x_k, y_k); ``.tran`` over all holds.

    Parameters
    ----------
    tech : technology. params : the learner (``dim`` must equal x.shape[1]).
    x : inputs, shape (K, N), values scaled by ``x_scale``. y : targets, shape (K,).
    v_c0_v : initial state voltages (node → V) for every node of :func:`state_nodes`: with
        ``start="op"`` applied with ``.ic`` (the transient starts from the DC operating point solved
        with the states held, every loop at rest, then releases them); with ``"uic"`` as the
        capacitors' ``ic=``.

    The holds are those of :func:`stimulus`: settling, the stream, the read-out probes.
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
    st = stimulus(p, x, y)
    cp = p.cell_params()
    nb = NetlistBuilder(f"learner_{p.dim}", tech)
    args = (p.t_hold_s, p.t_rise_s)
    add_learner_frame(nb, p, st, cp)
    for i in range(p.dim):
        halves = dict(zip(HALVES, split_currents(st.x[:, i], p.x_scale, p.i_u_a, p.i_floor_a)))
        for s in HALVES:
            add_input_half(nb, p, i, s, lambda name, a, b, v=halves[s]: _pwl(nb, name, a, b, v, *args))
    for i in range(p.dim):
        for a, b in (("p", "n"), ("n", "p")):
            pre = f"w{i}{a}"
            for sign in HALVES:
                nb.mos(f"{pre}mc{sign}", "p", f"{pre}ie{sign}", f"ge{sign}", "vdd", "vdd", **size(p, "ec"))
            nb.isource(f"i{pre}uz", "vdd", f"{pre}iez", p.i_u_a)
            terms = [(f"{pre}iep", f"gx{i}{a}"), (f"{pre}ien", f"gx{i}{b}")]
            add_weight_cell(nb, cp, pre, vc=f"vc{i}{a}", terms=terms, sink_terms=[(f"{pre}iez", f"gz{i}")],
                            freeze="fz", ic_v=v_c0_v[f"vc{i}{a}"] if p.start == "uic" else None)
        add_common_mode(nb, p, i)
        for a in HALVES:
            for b in HALVES:
                add_product(nb, p, i, a, b)
    add_target_unit(nb, p)
    for half, values in zip(HALVES, split_currents(st.y, p.y_scale, p.i_u_a, p.i_floor_a)):
        add_target_half(nb, p, half, lambda name, a, b, v=values: _pwl(nb, name, a, b, v, *args))
    add_error_path(nb, p)
    if p.start == "op":
        nb.initial_conditions({node: v_c0_v[node] for node in state_nodes(p.dim)})
    if p.save == "read":
        nb.save(devices=tuple(read_devices(p.dim)), sources=tuple(nb.netlist.supplies))
        nb.probe_regions()
    step = p.t_hold_s / p.points_per_hold
    nb.analysis(Analysis("tran", step=step, stop=st.holds * p.t_hold_s, max_step=step, uic=p.start == "uic"))
    return nb.build()
