"""Log-domain weight cell: a subthreshold translinear integrator, ``τ dI_w/dt = I_e·I_x/I_u − λ·I_w``.

The cell stores a weight as the gate voltage V_C of an output device on a capacitor C;
the weight is that device's drain current ``I_w = I_0·e^{κV_C/U_T}`` (log-domain state).
A translinear loop closed through the output device's own gate delivers the charging
current ``I_c = I_A·I_e·I_x/(I_u·I_w)`` into C and an ideal sink removes ``I_λ``.

Derivation (units: I in A, V in V, C in F, t in s, U_T = kT/q in V, κ = 1/n dimensionless)::

    C·dV_C/dt = I_c − I_λ                                        (KCL at the capacitor)
    dI_w/dt   = (κ·I_w/U_T)·dV_C/dt                              (I_w = I_0' e^{κV_C/U_T})
              = (κ/(C·U_T))·(I_A·I_e·I_x/I_u − I_λ·I_w)          (I_w cancels the 1/I_w of I_c)
    ⇒  τ·dI_w/dt = I_e·I_x/I_u − λ·I_w,   τ = C·U_T/(κ·I_A) [s],  λ = I_λ/I_A [1]

The steady state is ``I_w = I_e·I_x/(λ·I_u)`` and a step of the product relaxes with the
time constant ``τ/λ = C·U_T/(κ·I_λ)``. This is the log-domain (companding) integrator of
Seevinck (1990) and Frey (1993) in MOS subthreshold form; the differential-pair integrator
(DPI) of Bartolozzi & Indiveri (2007), ``τ dI_out/dt + I_out = (I_gain/I_τ)·I_in``, is the
same cell with the product ``I_e·I_x/I_u`` replaced by one input (and I_gain/I_τ by 1/λ).

Circuit (nMOS bulk at 0, pMOS bulk at vdd; I = I_0 e^{(κV_G − V_S)/U_T}; every "forced"
current is held by a feedback device that moves the shared source, as in
:func:`netlists.blocks.multiplier`). :func:`add_weight_cell` generates the list below;
MOS names and the local nodes c1, s1, gu, pa, pb, pc, t1, d1, s2*, t2*, d5* get ``prefix`` in
front (``m1`` → ``<prefix>m1``), sources and the capacitor after their first letter (``ia`` →
``i<prefix>a``, ``cw`` → ``c<prefix>w``); vc, ie, ix are the caller's nodes and vdd, ref, out,
fb1, fb2, 0 shared rails. Currents in A, voltages in V, C in F::

    ia   : I_A from vdd into c1                             — loop bias (sets τ)
    iu   : I_u from vdd into gu                             — unit current (divides the product)
    ilam : I_λ from vc to 0                                 — leak (λ = I_λ/I_A)
    cw   : C from vc to 0                                   — the state capacitor
    mw : gate vc, source ref, drain out (held at v_out_v)   — output, I_w
    m1 : gate vc, source s1, drain c1 ← I_A                 — pair 1, shares vc with mw
         (with i_track1_a > 0 its drain is d1, under the cascode mk1 below)
    mf1: gate c1, drain s1, source fb1 (0 if v_fb1_v = 0)   — feedback: sinks s1 until m1 carries I_A
    m3 : diode on I_u (gate = drain gu), source s1          — pair 1, shares s1 with m1
    per product term k (``*`` = k on names and nodes, omitted when there is one term; the caller
    feeds I_e into ie and provides the I_x diode's gate ix; the terms' I_c add up in pb):
    m4*: gate gu, source s2*, drain ie ← I_e                — pair 2, shares gu with m3
    mf2*: gate ie, drain s2*, source fb2 (0 if v_fb2_v = 0) — feedback: m4 carries I_e
    m5*: gate ix, source s2*, drain pb                      — output of the loop, I_c
         (with i_track_a > 0 its drain is d5*, under the cascode mk5 below)
    it2*, mt2*, mk5* (only if i_track_a > 0): it2 I_t from vdd into t2*; mt2 diode
         on t2* with source s2*; mk5 gate t2*, source d5*, drain pb — tracking cascode of m5
    it1, mt1, mk1 (only if i_track1_a > 0): it1 I_t1 from vdd into t1; mt1 diode on t1 with
         source s1; mk1 gate t1, source d1, drain c1        — tracking cascode of m1
    mpa: diode pa, source vdd;  mpb: diode pb, source pa    — stacked pMOS diodes on I_c (from pb)
    mpc: gate pa, source vdd, drain pc;  mpd: gate pb, source pc, drain vc
                                                            — cascoded pMOS copy: I_c into vc
    mx : diode on I_x (gate = drain ix), source ref         — outside the cell (the caller's)

Going round the loop (shared gates: mw–m1, m3–m4, m5–mx; shared sources: m1–m3, m4–m5,
mx–mw) gives ``I_w·I_u·I_c = I_A·I_e·I_x``, independent of I_0, κ and temperature. The
output and the diode mx sit on ``v_ref_v`` so that s1 = V_ref + U_T ln(I_w/I_A) stays above
ground; mw and m1 have one size, the other four loop devices another (the loop needs
S_w·S_3·S_5 = S_1·S_4·S_x), so mw and m1 can be small to keep their gate capacitance, which
adds to C, below 1 %.

Drain-voltage matching. The loop law holds only if the drain-voltage dependence (DIBL) of
the devices on one side of the loop (mw, m3, m5) cancels that of their partners (m1, m4, mx).
On sky130 it does not by itself: the learner's loop, error-path and product gains were each
8–19 % off, and matching the drain voltages took the sky130 tt learner's nmse_vs_ideal from
2.65 % to 0.15 % (see :mod:`netlists.spice_learner_circuit`). The rails and the tracking
cascodes are optional and off in the defaults of :class:`WeightCellParams`;
:class:`~netlists.spice_learner_circuit.LearnerParams` turns on both rails and the m5 cascodes
(v_fb1 = 0.15 V, v_fb2 = 0.05 V, I_t = 100 pA; no m1 cascode, I_t1 = 0):

* feedback rails ``fb1``/``fb2`` (sources ``vfb1``/``vfb2`` from :func:`add_cell_rails`, V):
  the drain of m1 (c1) and of m4 (ie) is the gate of its feedback device, V_fb + V_GS(mf); lifting
  mf1's/mf2's source lifts those drains by V_fb, so V_DS(m1) ≈ V_DS(mw) = v_out − v_ref and
  V_DS(m4) moves towards V_DS(m3) (a diode: its V_GS) instead of sitting at ≈ 0.1 V.
* tracking cascode on each m5 (``i_track_a``): the diode mt2 on s2 biases mk5 so m5's drain d5
  follows s2, ``V_DS(m5) = U_T·ln(I_t·S_cas/(I_c·S_lt))`` in the ideal weak-inversion law
  (S = W/L; mt2 sized w_lt_m/l_lt_m, mk5 w_cas_m/l_cas_m), instead of sitting at the mirror node
  pb ≈ vdd − 2V_SG (≈ 0.8 V); this brings V_DS(m5) to that of its partner mx, a diode.
  ``i_track1_a`` does the same for m1 (mt1/mk1).
* the pMOS output mirror is always cascoded (mpb/mpd) so the copy mpc sees the V_DS of the diode
  mpa (a plain mirror into vc would give a gain error of several %).

Measured on sky130 tt at rest (learner cell on its bench, V_ref = 0.1 V, v_out = 0.35 V):
V_DS of mw/m1, m3/m4, m5/mx = 0.25/0.29, 0.28/0.19, 0.24/0.24 V with the rails and the m5
cascode, against 0.25/0.10, 0.28/0.10, 0.53/0.24 V without.

The step bench :func:`weight_cell` adds ``vdd`` (vdd_v), ``vref`` (ref, v_ref_v), ``vout``
(out, v_out_v), the rails, ``ie`` (I_e into c4, the drain of m4), ``ix`` (PWL I_x into gx) and
the diode ``mx`` (sized w_m/l_m), with ``.nodeset`` guesses for s1 and s2.

References: E. Seevinck, Electron. Lett. 26, 2046 (1990); D. R. Frey, IEE Proc. G 140, 406
(1993); C. Bartolozzi, G. Indiveri, Neural Comput. 19, 2581 (2007).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import Bound, Params
from .technologies.base import Technology, thermal_voltage_v
from .values import check_identifier, spice_number

__all__ = ["WeightCellParams", "weight_cell", "add_weight_cell", "add_cell_rails", "product_waveform", "pwl_values"]

_W = Bound(1e-7, 1e-3, "m")
_L = Bound(1.5e-7, 1e-3, "m")
_I = Bound(1e-15, 1e-6, "A")
_T = Bound(0.0, 100.0, "s")


@dataclass(frozen=True, kw_only=True)
class WeightCellParams(Params):
    """Weight cell (log-domain integrator) with a step of its input product.

    Attributes
    ----------
    c_f : integrating capacitor C, F.
    i_a_a : loop bias I_A, A (sets τ = C·U_T/(κ·I_A)).
    i_lambda_a : leak I_λ, A (λ = I_λ/I_A).
    i_u_a : unit current I_u, A (the product is I_e·I_x/I_u).
    i_e_a : error input I_e, A.
    i_x_a : input I_x before the step and after ``t_back_s``, A.
    i_x_step_a : input I_x between ``t_step_s`` and ``t_back_s``, A.
    w_m, l_m : size of the loop devices m3 and m4*, m.
    w_x_m, l_x_m : size of m5* and of its loop partner, the I_x diode mx (the bench's own, or the
        caller's), m; None (default) = w_m, l_m.
    w_p_m, l_p_m : size of the four pMOS of the cascode mirror mpa–mpd, m (small: their gate
        capacitance delays the charging current after a step of the input).
    w_out_m, l_out_m : size of the output device mw and its loop partner m1, m.
    w_fb_m, l_fb_m : size of the feedback devices mf1, mf2*, m (narrow and long so their
        gates sit high enough to keep m1 and m4 saturated; their region is not required).
    v_fb1_v, v_fb2_v : source voltage of mf1 / mf2* (rails ``fb1``/``fb2``, sources ``vfb1``/
        ``vfb2`` of :func:`add_cell_rails`; 0 = no rail, the source is at ground), V. Raising it
        lifts the feedback device's gate, i.e. the drain of m1 / m4 (c1 / ie), by the same amount,
        so that V_DS(m1) matches V_DS(mw) and V_DS(m4) approaches V_DS(m3) (DIBL matching).
    i_track_a : bias I_t of the tracking cascodes on each m5, A (0 = none). With it, each term
        gets ``it2`` (I_t from vdd into t2), the diode ``mt2`` (source on s2) and the cascode
        ``mk5`` (gate t2, between m5's drain d5 and pb), so m5's drain follows s2 and V_DS(m5) =
        U_T·ln(I_t·S_cas/(I_c·S_lt)) (ideal weak-inversion, bulk-referenced law; S = W/L)
        instead of pb − s2 — close to the V_DS of its partner, the diode mx, so that sky130's
        drain-voltage dependence cancels round the loop.
    i_s2_bias_a : a plain bias current into each term's s2 (source ``ib2*`` from vdd), A (0 = none):
        it raises the current of the feedback device mf2* and so its gate, the drain of m4*, which
        keeps m4 saturated at the smallest I_e; it does not enter the loop's law (m4 and m5 keep
        their currents). Unlike the tracking cascode it leaves m5's drain on the mirror node.
    i_track1_a : the same for m1, A (0 = none): ``it1``, diode ``mt1`` on s1, cascode ``mk1``
        between m1's drain d1 and c1; V_DS(m1) = U_T·ln(I_t1·S_cas/(I_A·S_lt)).
    w_lt_m, l_lt_m : size of the tracking diodes mt1, mt2*, m (narrow and long, so S_cas/S_lt ≫ 1
        and the V_DS it sets keeps m5 / m1 saturated).
    w_cas_m, l_cas_m : size of the tracking cascodes mk1, mk5*, m.
    v_ref_v : source voltage of mw and mx, V.
    v_out_v : drain voltage of mw (where I_w is measured), V; near the loop devices' drain
        voltages so that DIBL affects mw as it does its partners.
    vdd_v : supply, V.
    t_step_s, t_back_s, t_stop_s : I_x steps up at t_step, back at t_back; run ends at t_stop, s.
    t_rise_s : rise and fall time of the steps, s.
    points : number of output time points (``.tran`` step = t_stop/points; also the max step).
    cascode_bulk : ``"vdd"`` (default): the pMOS mirror's cascode devices mpb, mpd share the n-well at
        V_DD; ``"source"``: each in its own n-well tied to its source (no body effect: pb sits
        ~0.1 V higher, the drain voltage the loop's m5 need at −20 °C on slow corners).
    """

    c_f: float = 50e-12
    i_a_a: float = 100e-12
    i_lambda_a: float = 100e-12
    i_u_a: float = 100e-12
    i_e_a: float = 100e-12
    i_x_a: float = 100e-12
    i_x_step_a: float = 300e-12
    w_m: float = 10e-6
    l_m: float = 2e-6
    w_x_m: float | None = None
    l_x_m: float | None = None
    w_p_m: float = 2e-6
    l_p_m: float = 2e-6
    w_out_m: float = 10e-6
    l_out_m: float = 2e-6
    w_fb_m: float = 0.5e-6
    l_fb_m: float = 8e-6
    v_fb1_v: float = 0.0
    v_fb2_v: float = 0.0
    i_track_a: float = 0.0
    i_s2_bias_a: float = 0.0
    i_track1_a: float = 0.0
    w_lt_m: float = 0.42e-6
    l_lt_m: float = 6e-6
    w_cas_m: float = 5e-6
    l_cas_m: float = 1e-6
    v_ref_v: float = 0.15
    v_out_v: float = 0.35
    vdd_v: float = 1.8
    t_step_s: float = 5e-3
    t_back_s: float = 80e-3
    t_stop_s: float = 160e-3
    t_rise_s: float = 10e-6
    points: int = 1600
    cascode_bulk: str = "vdd"
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"cascode_bulk": ("vdd", "source")}
    _bounds: ClassVar[dict[str, Bound]] = {
        "c_f": Bound(1e-15, 1e-6, "F"),
        "i_a_a": _I,
        "i_lambda_a": Bound(0.0, 1e-6, "A"),
        "i_u_a": _I,
        "i_e_a": _I,
        "i_x_a": _I,
        "i_x_step_a": _I,
        "w_m": _W,
        "l_m": _L,
        "w_x_m": _W,
        "l_x_m": _L,
        "w_p_m": _W,
        "l_p_m": _L,
        "w_out_m": _W,
        "l_out_m": _L,
        "w_fb_m": _W,
        "l_fb_m": _L,
        "v_fb1_v": Bound(0.0, 1.0, "V"),
        "v_fb2_v": Bound(0.0, 1.0, "V"),
        "i_track_a": Bound(0.0, 1e-6, "A"),
        "i_s2_bias_a": Bound(0.0, 1e-6, "A"),
        "i_track1_a": Bound(0.0, 1e-6, "A"),
        "w_lt_m": _W,
        "l_lt_m": _L,
        "w_cas_m": _W,
        "l_cas_m": _L,
        "v_ref_v": Bound(0.0, 1.0, "V"),
        "v_out_v": Bound(0.0, 3.3, "V"),
        "vdd_v": Bound(0.5, 3.3, "V"),
        "t_step_s": _T,
        "t_back_s": _T,
        "t_stop_s": Bound(1e-9, 100.0, "s"),
        "t_rise_s": Bound(1e-12, 1.0, "s"),
        "points": Bound(10, 100000, "", integer=True),
    }

    def __post_init__(self) -> None:
        for size, loop in (("w_x_m", "w_m"), ("l_x_m", "l_m")):
            if getattr(self, size) is None:  # m5 and mx default to the loop devices' size
                object.__setattr__(self, size, getattr(self, loop))
        super().__post_init__()
        name = type(self).__name__
        if not self.t_step_s + self.t_rise_s < self.t_back_s:
            raise ParameterError(
                f"{name}.t_back_s must be > t_step_s + t_rise_s ({self.t_step_s + self.t_rise_s:g} s), got {self.t_back_s!r}"
            )
        if not self.t_back_s + self.t_rise_s < self.t_stop_s:
            raise ParameterError(
                f"{name}.t_stop_s must be > t_back_s + t_rise_s ({self.t_back_s + self.t_rise_s:g} s), got {self.t_stop_s!r}"
            )
        if self.v_out_v <= self.v_ref_v:
            raise ParameterError(f"{name}.v_out_v must be > v_ref_v ({self.v_ref_v:g} V), got {self.v_out_v!r}")
        if self.vdd_v <= self.v_out_v:
            raise ParameterError(f"{name}.vdd_v must be > v_out_v ({self.v_out_v:g} V), got {self.vdd_v!r}")

    # -- the ideal law's constants ------------------------------------------------------------------
    @property
    def lam(self) -> float:
        """λ = I_λ/I_A (dimensionless)."""
        return self.i_lambda_a / self.i_a_a

    def tau_s(self, kappa: float, temp_c: float = 27.0) -> float:
        """τ = C·U_T/(κ·I_A) in s."""
        return self.c_f * thermal_voltage_v(temp_c) / (kappa * self.i_a_a)

    def steady_state_a(self, i_x_a: float | None = None) -> float:
        """I_w at rest, I_e·I_x/(λ·I_u) in A (``i_x_a`` defaults to the value before the step)."""
        i_x = self.i_x_a if i_x_a is None else i_x_a
        return self.i_e_a * i_x / (self.lam * self.i_u_a)


def pwl_values(p: WeightCellParams) -> tuple[list[float], list[float]]:
    """Breakpoints (s, A) of the input I_x: up at ``t_step_s``, back at ``t_back_s``."""
    lo, hi = p.i_x_a, p.i_x_step_a
    times = [0.0, p.t_step_s, p.t_step_s + p.t_rise_s, p.t_back_s, p.t_back_s + p.t_rise_s]
    return times, [lo, lo, hi, hi, lo]


def product_waveform(p: WeightCellParams, time_s: np.ndarray) -> np.ndarray:
    """The input product ``I_e·I_x(t)/I_u`` (A) at ``time_s``."""
    times, values = pwl_values(p)
    return p.i_e_a * np.interp(time_s, times, values) / p.i_u_a


def add_weight_cell(
    nb: NetlistBuilder,
    p: WeightCellParams,
    prefix: str,
    *,
    vc: str,
    terms: list[tuple[str, str]],
    sink_terms: list[tuple[str, str]] = (),
    freeze: str | None = None,
    ic_v: float | None = None,
) -> None:
    """Add one cell (devices, C, I_A, I_u and I_λ sources) to ``nb``; names start with ``prefix``.

    Expects rails ``vdd`` and ``ref``, ``out``. Each term ``(ie, ix)`` adds a pair m4/m5 (with
    its feedback device) whose output ``I_A·I_e·I_x/(I_u·I_w)`` joins the charging current: the
    caller feeds I_e into node ``ie`` (drain of m4) and provides ``ix``, the gate of a diode on
    I_x with source at ``ref`` (sized like the loop devices). ``vc`` is the state node.

    Each of ``sink_terms`` ``(ie, ix)`` adds m4z*/mf2z*/m5z* (same loop, same sizes) whose m5z
    drain is the charge node itself: it *removes* ``I_A·I_e·I_x/(I_u·I_w)`` from C, so that
    ``τ dI_w/dt = Σ I_e I_x/I_u − Σ_sink I_e I_x/I_u − λ I_w`` — an additive (not
    multiplicative) negative drive, used by the learner's common-mode feedback.

    With ``freeze`` (the name of a control node, V), the mirror output mpd and the sink terms
    feed a charge node ``<prefix>q`` joined to ``vc`` through a switch ``s<prefix>fz`` that is
    closed while V(freeze) > 0.5 V: opening it holds V_C (the weights) for a read-out, as a
    sample-and-hold switch would. I_λ stays on ``vc`` (over a read-out of a few holds it moves
    I_w by < 1e-3). ``ic_v`` is the capacitor's initial voltage (``ic=``, used with ``uic``).
    """
    n = {"w_m": p.w_m, "l_m": p.l_m}
    xd = {"w_m": p.w_x_m, "l_m": p.l_x_m}
    a = {"w_m": p.w_out_m, "l_m": p.l_out_m}
    pm = {"w_m": p.w_p_m, "l_m": p.l_p_m}
    fb = {"w_m": p.w_fb_m, "l_m": p.l_fb_m, "role": "feedback"}
    lt = {"w_m": p.w_lt_m, "l_m": p.l_lt_m}
    cas = {"w_m": p.w_cas_m, "l_m": p.l_cas_m}
    fb1 = "fb1" if p.v_fb1_v > 0 else "0"
    fb2 = "fb2" if p.v_fb2_v > 0 else "0"
    track = p.i_track_a > 0
    c1, s1, gu, pa, pb, pc = (f"{prefix}{x}" for x in ("c1", "s1", "gu", "pa", "pb", "pc"))
    charge = vc if freeze is None else f"{prefix}q"
    nb.isource(f"i{prefix}a", "vdd", c1, p.i_a_a)
    nb.isource(f"i{prefix}u", "vdd", gu, p.i_u_a)
    nb.isource(f"i{prefix}lam", vc, "0", p.i_lambda_a)
    nb.capacitor(f"c{prefix}w", vc, "0", p.c_f, ic_v)
    if freeze is not None:
        nb.switch(f"s{prefix}fz", charge, vc, freeze, "0")
    nb.mos(f"{prefix}mw", "n", "out", vc, "ref", "0", **a)
    if p.i_track1_a > 0:
        t1, d1 = f"{prefix}t1", f"{prefix}d1"
        nb.isource(f"i{prefix}t1", "vdd", t1, p.i_track1_a)
        nb.mos(f"{prefix}mt1", "n", t1, t1, s1, "0", **lt)
        nb.mos(f"{prefix}mk1", "n", c1, t1, d1, "0", **cas)
        nb.mos(f"{prefix}m1", "n", d1, vc, s1, "0", **a)
    else:
        nb.mos(f"{prefix}m1", "n", c1, vc, s1, "0", **a)
    nb.mos(f"{prefix}mf1", "n", s1, c1, fb1, "0", **fb)
    nb.mos(f"{prefix}m3", "n", gu, gu, s1, "0", **n)
    for k, (ie, ix) in enumerate(terms):
        tag = "" if len(terms) == 1 else str(k)
        s2 = f"{prefix}s2{tag}"
        nb.mos(f"{prefix}m4{tag}", "n", ie, gu, s2, "0", **n)
        nb.mos(f"{prefix}mf2{tag}", "n", s2, ie, fb2, "0", **fb)
        if p.i_s2_bias_a > 0:
            nb.isource(f"i{prefix}b2{tag}", "vdd", s2, p.i_s2_bias_a)
        if track:
            t2, d5 = f"{prefix}t2{tag}", f"{prefix}d5{tag}"
            nb.isource(f"i{prefix}t2{tag}", "vdd", t2, p.i_track_a)
            nb.mos(f"{prefix}mt2{tag}", "n", t2, t2, s2, "0", **lt)
            nb.mos(f"{prefix}mk5{tag}", "n", pb, t2, d5, "0", **cas)
            nb.mos(f"{prefix}m5{tag}", "n", d5, ix, s2, "0", **xd)
        else:
            nb.mos(f"{prefix}m5{tag}", "n", pb, ix, s2, "0", **xd)
    nb.mos(f"{prefix}mpa", "p", pa, pa, "vdd", "vdd", **pm)
    own_well = p.cascode_bulk == "source"
    nb.mos(f"{prefix}mpb", "p", pb, pb, pa, pa if own_well else "vdd", **pm)
    nb.mos(f"{prefix}mpc", "p", pc, pa, "vdd", "vdd", **pm)
    nb.mos(f"{prefix}mpd", "p", charge, pb, pc, pc if own_well else "vdd", **pm)
    for k, (ie, ix) in enumerate(sink_terms):
        tag = f"z{k if len(sink_terms) > 1 else ''}"
        s2 = f"{prefix}s2{tag}"
        nb.mos(f"{prefix}m4{tag}", "n", ie, gu, s2, "0", **n)
        nb.mos(f"{prefix}mf2{tag}", "n", s2, ie, fb2, "0", **fb)
        nb.mos(f"{prefix}m5{tag}", "n", charge, ix, s2, "0", **xd)


def add_cell_rails(nb: NetlistBuilder, p: WeightCellParams) -> None:
    """The bias rails ``fb1``/``fb2`` (sources of the feedback devices) that ``p`` needs, if any."""
    if p.v_fb1_v > 0:
        nb.vsource("vfb1", "fb1", "0", p.v_fb1_v)
    if p.v_fb2_v > 0:
        nb.vsource("vfb2", "fb2", "0", p.v_fb2_v)


def _nodeset(nb: NetlistBuilder, volts: dict[str, float]) -> None:
    """Initial guesses for the DC operating point (``.nodeset``), V."""
    pairs = " ".join(f"v({check_identifier(node, 'node name')})={spice_number(v)}" for node, v in volts.items())
    nb.netlist.elements.append(f".nodeset {pairs}")


def weight_cell(
    tech: Technology,
    params: WeightCellParams | None = None,
    *,
    nodeset_v: dict[str, float] | None = None,
    hold_v_c_v: float | None = None,
) -> Netlist:
    """One weight cell with a step of I_x (``.tran``); see the module docstring for the law.

    ``nodeset_v`` (node → V) are ``.nodeset`` guesses: the loop has a high DC gain and
    ngspice's operating point may not converge without them. With ``hold_v_c_v`` the state
    node is held by a source ``vhold`` (open loop) and the analysis is ``.op`` — used to find
    those guesses (see :func:`netlists.learner.rest_operating_point`).

    Nodes: ``vc`` (state, V), ``out`` (mw's drain); I_w is ``drain_current("mw")``, the
    charging current ``drain_current("mpd", "p")``.
    """
    p = params or WeightCellParams()
    nb = NetlistBuilder("weight_cell", tech)
    nb.vsource("vdd", "vdd", "0", p.vdd_v)
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)
    add_cell_rails(nb, p)
    nb.isource("ie", "vdd", "c4", p.i_e_a)
    times, values = pwl_values(p)
    nb.pwl_isource("ix", "vdd", "gx", times, values)
    add_weight_cell(nb, p, "", vc="vc", terms=[("c4", "gx")])
    nb.mos("mx", "n", "gx", "gx", "ref", "0", w_m=p.w_x_m, l_m=p.l_x_m)
    # The loop's shared sources at rest do not depend on the technology; telling ngspice
    # where they are makes the DC operating point converge to the physical solution.
    ut = thermal_voltage_v(27.0)
    v_s1 = p.v_ref_v + ut * np.log(p.steady_state_a() / p.i_a_a)
    guesses = {"s1": v_s1, "s2": v_s1 + ut * np.log(p.i_u_a / p.i_e_a)}
    _nodeset(nb, {**guesses, **(nodeset_v or {})})
    if hold_v_c_v is not None:
        nb.vsource("vhold", "vc", "0", hold_v_c_v)
        nb.analysis(Analysis("op"))
        return nb.build()
    step = p.t_stop_s / p.points
    nb.analysis(Analysis("tran", step=step, stop=p.t_stop_s, max_step=step))
    return nb.build()
