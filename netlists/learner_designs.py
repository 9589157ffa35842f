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

``wide-temperature`` holds −20 and 27 °C at every sky130 corner (README, "A design for −20…27 °C").
It gives the devices their drain voltage back at −20 °C: the error path's lower stack devices, and
the cells' pMOS mirror cascodes (mpb, mpd), sit in their own n-well tied to their source
(``error_stack_bulk="source"``: no body effect, ~0.1 V more for na/nb and for pb); the error stacks are
40/4 µm instead of 20/8 µm (same W·L, so the same Pelgrom mismatch; V_SG lower by n·U_T·ln 8). Three
further changes hold 27 °C on the fast and skewed corners:

* the e⁺ nMOS stack and its copy (``hn``) 2/4 µm instead of 1/4 µm: its lower diode, whose V_DS is its
  own V_GS at e⁺ + f₂ ≈ 4 pA, stays above 4 U_T on ff and sf (4/1 µm put it at 3.7 U_T on ff, 3/2 µm
  at 3.6 U_T on sf, both at the stream's first instant);
* the class-AB replica's source node ``v_en`` at 0.82 V instead of 0.7 V, so that the pair's pMOS
  ``mabp`` keeps its V_SD above that taller stack at −20 °C (fs is the tightest corner);
* the rails ref, fb1, fb2 and out 30 mV lower (0.07/0.12/0.09/0.32 V): every node of the cells moves
  with them, but the prediction and target products' feedback devices have their source at ground, so
  their m4 gain 30 mV of drain voltage (on sf at 27 °C they had 3.4–3.5 U_T at every checked instant).

Everything else is the default. At 85 °C it fails on every corner (README): the junction leakage at
the storage node outruns I_A, and the cells' and products' m4 lose their drain voltage.

Tried and not adopted (measured on sky130 tt, dim 4 × 400 samples unless said, t/τ 20):

* a bias schedule — every bias current ×k and the hold time /k, so that a fixed leakage shrinks
  k-fold against the signals (η, τ/T_s and the energy per update unchanged): with k = 10 at 27 °C
  (dim 2 × 40, η 0.5) the cells' m4 lose their drain voltage (V_DS −0.4…0.3 U_T) and the transient
  runs 35× slower; 85 °C runs at k = 10 and 30 had not finished after 15 min;
* a single pMOS diode instead of the stack (na, nb at V_DD − V_SG): the target products' drains sit
  0.6 V above their unit diode's and the target path's DIBL lifts every weight by 13 %
  (nmse_vs_ideal 1.8 % at 27 °C, 1.4 % at −20 °C);
* a trim of the cells' I_λ against the leakage's negative decay (``lam_trim``) at 85 °C (first
  version of this design, without the cell cascode and e⁺ stack changes): 0 → weights 12× the
  ideal, 0.4 → 0.5×, and in both runs the x diodes at the 10 pA floor (V_DS = V_GS = 2.6 U_T)
  and the cells' m4 (V_DS ≈ 0) are out of saturation: at 85 °C the design still fails (README);
* the bias schedule at 85 °C with k = 20 and the source-node biases and the x/y floor raised on top
  (``i_s2_bias_a`` 0.6 nA, ``i_q_bias_a`` 1 nA, ``i_floor_a`` 0.5 nA; an interim version of this design,
  e⁺ stack 3/2 µm, v_en 0.76 V; dim 2 × 100 samples): the transient had not finished after 30 min
  (``benchmarks/probe_bias_schedule.py``; the timeout stopped it).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .errors import ParameterError
from .spice_learner_circuit import LearnerParams

__all__ = ["DESIGNS", "WIDE_TEMPERATURE_CHANGES", "LearnerDesign", "learner_design"]

#: the designs :func:`learner_design` knows
DESIGNS = ("default", "wide-temperature")
#: the wide-temperature design's departures from the default sizes and rails
WIDE_TEMPERATURE_CHANGES: dict[str, float | str] = {"error_stack_bulk": "source", "w_e_m": 40e-6, "l_e_m": 4e-6, "v_en_v": 0.82,
                                                     "w_hn_m": 2e-6, "v_ref_v": 0.07, "v_fb1_v": 0.12,
                                                     "v_fb2_v": 0.09, "v_out_v": 0.32}


@dataclass(frozen=True)
class LearnerDesign:
    """A design at one temperature: its name, the circuit's parameters and the hold time T_s (s)."""

    name: str
    params: LearnerParams
    t_hold_s: float


def learner_design(name: str, tech_name: str, temp_c: float, *, t_hold_s: float, **overrides: object) -> LearnerDesign:
    """The learner ``name`` on technology ``tech_name`` at ``temp_c`` (°C) with hold time ``t_hold_s``
    (s); ``overrides`` (fields of :class:`LearnerParams`, e.g. ``vdd_v``) are applied last."""
    if name not in DESIGNS:
        raise ParameterError(f"learner design must be one of {', '.join(DESIGNS)}, got {name!r}")
    if not math.isfinite(temp_c):
        raise ParameterError(f"temp_c must be finite, got {temp_c!r}")
    base = LearnerParams.for_technology(tech_name, temp_c=temp_c)
    changes: dict[str, object] = dict(WIDE_TEMPERATURE_CHANGES) if name == "wide-temperature" else {}
    changes.update(overrides)
    return LearnerDesign(name, dataclasses.replace(base, **changes), t_hold_s)
