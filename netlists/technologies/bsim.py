"""A BSIM4 card written for subthreshold work (``netlists/data/bsim4_subvt.lib``).

The card is documented line by line in the file: V_T0 = ±0.55 V, swing ≈ 80–90 mV/dec,
mild DIBL. It is a generic 1.8 V process, useful to see how a real compact model
(body effect, DIBL, channel-length modulation, junctions) departs from the EKV ideal.

Junctions: every instance gets the single-finger geometry of sky130's layout convention
(``AD = AS = W·0.29 µm``, ``PD = PS = 2·(W + 0.29 µm)``, see :mod:`.sky130`), so the card's
junction diodes (``jss``, ``jsws``: documented in the card) carry their leakage; the card is a
generic process with no layout rules of its own, and the same geometry keeps the two comparable.
"""

from __future__ import annotations

from pathlib import Path

from ..values import spice_number
from .base import Technology, specific_current_from

__all__ = ["BsimTechnology", "BSIM_CARD_PATH"]

BSIM_CARD_PATH = Path(__file__).resolve().parents[1] / "data" / "bsim4_subvt.lib"
_COX_F_PER_M2 = 3.9 * 8.8541878128e-12 / 4.1e-9
_MOBILITY = {"n": 0.035, "p": 0.010}
_SLOPE = {"n": 1.4, "p": 1.4}


class BsimTechnology(Technology):
    """BSIM4 (level 14) transistors ``ld_bsim_n`` / ``ld_bsim_p``."""

    name = "bsim"
    vdd_v = 1.8
    #: sky130's diffusion extension (module docstring), m
    diffusion_extension_m = 0.29e-6

    def preamble(self, temp_c: float) -> list[str]:
        return [line for line in BSIM_CARD_PATH.read_text().splitlines() if line and not line.startswith("*")]

    def model_files(self) -> list[Path]:
        return [BSIM_CARD_PATH]

    def instance_line(self, name, polarity, d, g, s, b, w_m, l_m) -> str:
        return f"m{name} {d} {g} {s} {b} ld_bsim_{polarity} w={spice_number(w_m)} l={spice_number(l_m)}"

    def specific_current_a(self, polarity, w_m, l_m, temp_c) -> float:
        return specific_current_from(_SLOPE[polarity], _MOBILITY[polarity], _COX_F_PER_M2, w_m, l_m, temp_c)

    def slope_factor(self, polarity: str) -> float:
        return _SLOPE[polarity]
