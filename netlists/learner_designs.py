"""Named designs of the transistor-level learner: ``default`` and ``wide-temperature`` (issue 14).

``default`` is :class:`netlists.spice_learner_circuit.LearnerParams` as it stands: pA bias
currents (I_u = 100 pA, I_A ≈ 4.6 pA at T_s = 20 ms and C = 50 pF), sized and calibrated at 27 °C.
It fails at both ends of −20…85 °C (measured, README "Leakage, retention and cost"):

* cold: the error path's two stacked pMOS diodes (the lower one with its bulk at V_DD, so its V_SG
  carries the body effect of V_SB ≈ V_SG) leave the prediction products' m3 no drain voltage —
  at −20 °C their V_DS falls to −0.9…2.3 U_T and the weights come out at 40 %;
* hot: junction leakage (14.5 pA at the storage node at 85 °C, more at the loops' internal nodes)
  rivals the pA signals: it acts on each half as a *negative* weight decay and the weights grow
  10–15×.

``wide-temperature`` is meant to run at T_s = 1 ms (``--t-hold-s 1e-3``, :data:`WIDE_TEMPERATURE_T_HOLD_S`);
the README table ("A design for −20…85 °C") has what it measures on every sky130 corner at −20, 27 and 85 °C.
What it changes, and why:

* **Bias currents ∝ 1/T_s** (:data:`BIAS_SCHEDULE`: I_u, the x/y floor, f_e, f₂, W₀, S₀ × k, the transition
  time / k, k = 20 ms/T_s = 20 at 1 ms). η and τ/T_s and the energy per update stay; I_A = C·U_T/(κ·τ) with
  τ = T_s/η grows k-fold, to ≈ 110 pA at 85 °C, against the storage node's 10–15 pA of junction leakage
  (at T_s = 20 ms, I_A ≈ 5.5 pA: the leakage's negative decay outruns it, and the leakage at the loops' own
  nodes — s2, the products' sources — starves their feedback devices, so m4 loses its drain voltage). The
  source-node biases ``i_s2_bias_a``/``i_q_bias_a`` are *not* scaled: scaled with the rest, they made the
  cells' term loops (k ≥ 5) and the products' loops (k ≈ 10) oscillate — a relaxation oscillation of s2 and
  q…s within each hold, visible from the settling holds on (waveforms at 27 °C, tt; the reason the bias
  schedule once "ran 35× slower" and left m4 out of saturation).
* **Headroom at −20 °C for 20× the currents**: every V_GS grows by n·U_T·ln 20 ≈ 0.09 V, which the cold
  corners do not have. The pMOS stacks and diodes carry the same currents at a higher W/L: the error stacks
  180/0.9 µm (80× the default's W/L at about its W·L, so about its Pelgrom mismatch), the e± diodes and the
  cells' e± copies 32/2 µm (32×, twice the W·L), the common-mode stacks 9/1 µm (18×), the cells' pMOS mirror
  24/2 µm (12×, ¾ of the gate area); the stacks' and copies' lower devices — the error path's, the cells'
  mirror cascodes mpb/mpd and the common-mode S₀ and Z stacks — sit in their own n-well tied to their source
  (``error_stack_bulk="source"``: no body effect; with the bias currents × 20 the Z stacks' node fell to
  0.1–0.16 V on ss/sf at −20 °C, measured). The mirror at 16/2 µm left the cells' x devices m5 at 3.5 U_T on
  sf at −20 °C at a full-scale first sample (dim 4 × 8 samples); at 32/2 µm the learner had no DC operating
  point at 85 °C on sf and fs (ngspice's transient-op fallback only); 24/2 µm gives m5 4.4 U_T there.
* **The class-AB split node where the window is** (``en_bias="window"``): the pair needs V_SD(mabp) = en − hp
  and V_DS(mabn) = gen − en ≥ 4 U_T; at −20 °C the window gen − hp is ~12 U_T and its middle moves by ~0.1 V
  between fs and sf, so a fixed v_en failed one of them whatever its value (0.82…0.9 V tried). The replica's
  node sits at 0.44 of the window up from a replica of hp, from replicas of both ends
  (:func:`netlists.learner_blocks.add_error_path`). The fraction trades the two signs of a full-scale first
  error: on ss at −20 °C a positive one (dim 4 × 8 samples) needs mabp's margin, a negative one (dim 2 × 8,
  η 0.5) mabn's; with the e± diodes at 16/2 µm 0.5 gave mabn 3.5 U_T on the second and 0.45 mabp 3.96 U_T on
  the first, and twice their W/L (gen ≈ 1 U_T higher) with 0.44 gives mabp 4.2 and mabn 4.9 U_T (the E_a
  copy's cascode mca2 4.5 U_T: the window's upper end moves with en).
* **The e⁺ nMOS stack's upper device in an isolated p-well, and the two devices sized apart**
  (``hp_stack_bulk="source"``: sky130's deep n-well, the p-well tied to the upper device's source; ``hn`` lower
  1.5/2 µm, ``hnu`` upper 1.5/3 µm — mhp, its copy mqp and the replica mrhp, one each per learner). Each of the
  stack's diodes has V_DS = its own V_GS at f_e + f₂ (120 pA at E = 0), which must stay ≥ 4 U_T on ff and sf at
  85 °C, while the stack's top hp is the window's lower end at −20 °C. With the upper device's bulk at ground
  its body effect adds ≈ (1/κ − 1)·V_GS(lower): large where V_GS is large (cold), small where it is small
  (hot) — the wrong way round for both ends; and for E > 0 hp climbs ≈ (1/κ² + 1/κ)·U_T per e-fold of e⁺
  against the split node's U_T, so the first samples' large errors took mabp out of saturation (2.7–3.9 U_T on
  tt/ss/fs at −20 °C, measured with the bulk at ground, window fraction 0.4 and hnu 3/1.5 µm). Without the
  body effect a narrower upper device (W/L 0.5, adding ≈ n·U_T·ln 4 at every temperature) keeps its V_DS at
  4.5 U_T on sf at 85 °C while the cold window grows by ≈ 3 U_T (``benchmarks/probe_bias_schedule.py``).
  Widening the upper device with its bulk at ground (12/1.5 µm) fixed the cold end but left it at 2.2 U_T on
  sf at 85 °C; a shorter one (3/0.5 µm) did not lower hp; a self-cascode (both gates on hp, so hp is one V_GS:
  mabp 10 U_T on ss at −20 °C) needs hp ≥ 8 U_T at 85 °C for both its devices' V_DS, which sky130's weakest
  single nMOS (0.42–0.6/20 µm) does not give on sf (hp ≈ 7.9 U_T: lower or upper device at 2.9–3.7 U_T) — all
  measured. The p-well's junction to the deep n-well is the PDK's ``diode_pw2dn``, whose model leaks < 1e-18 A
  in ngspice even for 1 mm² at 125 °C, so the netlist carries none; a silicon junction that leaks like the
  devices' own (≈ 15 pA for such a well at 85 °C, scaled from a 2/2 µm pfet's drain) is probed with
  ``--well-leak-a``: into all three wells it moved nmse_vs_ideal 0.2847 → 0.2846 % (ff, 85 °C, dim 4 × 40
  samples; the stack and its copy see the same leak, which cancels in the mirror), into the stack's well alone
  to 0.360 %.
* **Rails**: ref, fb1 and out 30 mV below the default (0.07/0.12/0.32 V; the products' feedback devices have
  their source at ground, so their m4 gain the 30 mV) and fb2 0.125 V, 5 mV above fb1: V_DS(m4) = V_GS(mf2) −
  V_DS(mf2) with V_DS(mf2) = s2 − fb2, so a higher fb2 gives m4 the difference (with fb2 at 0.11 V the cells'
  m4 sat at 3.8–4.0 U_T on sf at 85 °C).

At T_s = 20 ms (k = 1) the same sizes are a different circuit, not checked over the table: at 85 °C on tt its
DC operating point is only reached by ngspice's transient-op fallback, which the runner refuses (measured).

Tried and not adopted (sky130 tt unless said): a level-shifting source follower (ideal 200 pA sink) between
each m4's drain and its feedback device's gate, at 85 °C — the loops settled into a state with the follower's
output below ground and mf2 off (m4 at 0–0.3 U_T); a reverse substrate bias (nMOS bulk −0.3 V) at 85 °C and
T_s = 20 ms — the leakage at s2 still starved the loops; a single pMOS diode instead of the error stacks (na,
nb at V_DD − V_SG) — the target products' drains sit 0.6 V above their unit diode's and every weight comes out
13 % high (nmse_vs_ideal 1.8 % at 27 °C); a trim of the cells' I_λ against the leakage (``lam_trim``) at 85 °C
and T_s = 20 ms — 0 gives weights 12× the ideal, 0.4 gives 0.5×, with the x diodes and the cells' m4 out of
saturation (``benchmarks/probe_bias_schedule.py`` probes other schedules and overrides).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .errors import ParameterError
from .spice_learner_circuit import LearnerParams

__all__ = ["BIAS_SCHEDULE", "DESIGNS", "DESIGN_T_HOLD_S", "REFERENCE_T_HOLD_S", "WIDE_TEMPERATURE_CHANGES", "WIDE_TEMPERATURE_T_HOLD_S",
           "LearnerDesign", "learner_design"]

#: the hold time (s) the field defaults' bias currents are set for
REFERENCE_T_HOLD_S = 20e-3
#: the hold time (s) the wide-temperature design is meant to run at (``--t-hold-s 1e-3``): 20× the default's
#: bias currents, I_A ≈ 92 pA at 27 °C, ≫ the storage node's 10–15 pA junction leakage at 85 °C
WIDE_TEMPERATURE_T_HOLD_S = 1e-3
#: the hold time (s) each design is meant to run at: :func:`learner_design`'s default
DESIGN_T_HOLD_S = {"default": REFERENCE_T_HOLD_S, "wide-temperature": WIDE_TEMPERATURE_T_HOLD_S}
#: the designs :func:`learner_design` knows
DESIGNS = tuple(DESIGN_T_HOLD_S)
#: the wide-temperature design's bias currents that scale as REFERENCE_T_HOLD_S/T_s (with I_A = C·U_T/(κ·τ),
#: τ = T_s/η, every ratio to I_A stays the default's); the source-node biases i_s2_bias_a and i_q_bias_a
#: do not (scaled with the rest, k = 5 made the cells' term loops oscillate, k = 10 the products' too)
BIAS_SCHEDULE = ("i_u_a", "i_floor_a", "i_err_floor_a", "i_err_min_a", "i_w0_a", "i_cm_a")
#: the wide-temperature design's departures from the default sizes, rails and bias options
WIDE_TEMPERATURE_CHANGES: dict[str, float | str] = {
    "error_stack_bulk": "source", "hp_stack_bulk": "source", "en_bias": "window", "en_window_fraction": 0.44,
    "w_e_m": 180e-6, "l_e_m": 0.9e-6, "w_ec_m": 32e-6, "l_ec_m": 2e-6, "w_zc_m": 9e-6, "l_zc_m": 1e-6,
    "w_p_m": 24e-6, "l_p_m": 2e-6, "w_hn_m": 1.5e-6, "l_hn_m": 2e-6, "w_hnu_m": 1.5e-6, "l_hnu_m": 3e-6,
    "v_ref_v": 0.07, "v_fb1_v": 0.12, "v_fb2_v": 0.125, "v_out_v": 0.32,
}


@dataclass(frozen=True)
class LearnerDesign:
    """A design at one temperature: its name, the circuit's parameters and the hold time T_s (s)."""

    name: str
    params: LearnerParams
    t_hold_s: float


def learner_design(name: str, tech_name: str, temp_c: float, *, t_hold_s: float | None = None,
                   **overrides: object) -> LearnerDesign:
    """The learner ``name`` on technology ``tech_name`` at ``temp_c`` (°C) with hold time ``t_hold_s``
    (s; default: the design's own, :data:`DESIGN_T_HOLD_S`); ``overrides`` (fields of :class:`LearnerParams`,
    e.g. ``vdd_v``) are applied last.

    ``wide-temperature`` sets its bias currents for ``t_hold_s``: those of :data:`BIAS_SCHEDULE` and the
    transition time scale as k = :data:`REFERENCE_T_HOLD_S`/``t_hold_s`` (k = 1 at 20 ms, 20 at its own
    :data:`WIDE_TEMPERATURE_T_HOLD_S`)."""
    if name not in DESIGNS:
        raise ParameterError(f"learner design must be one of {', '.join(DESIGNS)}, got {name!r}")
    if not math.isfinite(temp_c):
        raise ParameterError(f"temp_c must be finite, got {temp_c!r}")
    if t_hold_s is None:
        t_hold_s = DESIGN_T_HOLD_S[name]
    bounds = LearnerParams._bounds  # noqa: SLF001 - the fields' own ranges
    hold = bounds["t_hold_s"]
    if not (math.isfinite(t_hold_s) and hold.lo <= t_hold_s <= hold.hi):
        raise ParameterError(f"t_hold_s must be in {hold.describe()}, got {t_hold_s!r}")
    base = LearnerParams.for_technology(tech_name, temp_c=temp_c)
    changes: dict[str, object] = {}
    if name == "wide-temperature":
        k = REFERENCE_T_HOLD_S / t_hold_s
        k_lo = max(bounds[f].lo / getattr(base, f) for f in BIAS_SCHEDULE)
        k_hi = min(bounds[f].hi / getattr(base, f) for f in BIAS_SCHEDULE)
        if not k_lo * (1 + 1e-9) < k < k_hi * (1 - 1e-9):
            raise ParameterError(f"the wide-temperature design's bias currents scale as {REFERENCE_T_HOLD_S:g} s/t_hold_s and stay "
                                 f"in their bounds for t_hold_s strictly between {REFERENCE_T_HOLD_S / k_hi:.3g} and {REFERENCE_T_HOLD_S / k_lo:.3g} s, "
                                 f"got {t_hold_s!r}")
        changes = {f: getattr(base, f) * k for f in BIAS_SCHEDULE} | {"t_rise_s": base.t_rise_s / k} | WIDE_TEMPERATURE_CHANGES
    changes.update(overrides)
    return LearnerDesign(name, dataclasses.replace(base, **changes), t_hold_s)
