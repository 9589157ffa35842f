"""A BSIM4 card written for subthreshold work (``netlists/data/bsim4_subvt.lib``).

The card is documented line by line in the file: V_T0 = ±0.55 V, swing ≈ 80–90 mV/dec,
mild DIBL. It is a generic 1.8 V process, useful to see how a real compact model
(body effect, DIBL, channel-length modulation, junctions) departs from the EKV ideal.

The technology is a :class:`~netlists.technologies.model_file.ModelFileTechnology` over the shipped
file (the path a user's own card takes, with the same checks), registered as ``bsim``.

Junctions: no geometry is written (``diffusion_extension_m = None``), so the card's junction diodes
carry no area and no leakage. With sky130's single-finger geometry (``AD = AS = W·0.29 µm``,
``PD = PS = 2·(W + 0.29 µm)``) one of the quick calibration's multiplier points (I_x, I_y, I_z =
4.52, 0.658, 1.26 nA) has no operating point in the shared ngspice library (every rung of the
ladder ends at |V| > 10⁴ on the diode node), although batch ``ngspice -b`` solves the same text;
until that is understood the generic card stays junction-free. Leakage is studied on sky130, whose
PDK defines the layout convention (:mod:`.sky130`, :mod:`netlists.retention`).
"""

from __future__ import annotations

from pathlib import Path

from .model_file import ModelFileTechnology

__all__ = ["BsimTechnology", "BSIM_CARD_PATH"]

BSIM_CARD_PATH = Path(__file__).resolve().parents[1] / "data" / "bsim4_subvt.lib"


class BsimTechnology(ModelFileTechnology):
    """BSIM4 (level 14) transistors ``ld_bsim_n`` / ``ld_bsim_p`` from the shipped card."""

    name = "bsim"
    #: no junction geometry (module docstring)
    diffusion_extension_m = None

    def __init__(self) -> None:
        super().__init__(BSIM_CARD_PATH, nmos="ld_bsim_n", pmos="ld_bsim_p", vdd_v=1.8, option="bsim card")

    @property
    def label(self) -> str:
        return self.name

    @property
    def identity(self) -> str:
        return self.name

    def model_files(self) -> list[Path]:
        return [BSIM_CARD_PATH]

    def available(self) -> tuple[bool, str]:
        return True, "built in"
