"""A BSIM4 card written for subthreshold work (``netlists/data/bsim4_subvt.lib``).

The card is documented line by line in the file: V_T0 = ±0.55 V, swing ≈ 80–90 mV/dec,
mild DIBL. It is a generic 1.8 V process, useful to see how a real compact model
(body effect, DIBL, channel-length modulation, junctions) departs from the EKV ideal.

The technology is a :class:`~netlists.technologies.model_file.ModelFileTechnology` over the shipped
file (the path a user's own card takes, with the same checks), registered as ``bsim``.

Junctions: every instance gets the single-finger geometry of sky130's layout convention
(``AD = AS = W·0.29 µm``, ``PD = PS = 2·(W + 0.29 µm)``, see :mod:`.sky130`), so the card's
junction diodes (``jss``, ``jsws``: documented in the card) carry their leakage; the card is a
generic process with no layout rules of its own, and the same geometry keeps the two comparable.
"""

from __future__ import annotations

from pathlib import Path

from .model_file import ModelFileTechnology

__all__ = ["BsimTechnology", "BSIM_CARD_PATH"]

BSIM_CARD_PATH = Path(__file__).resolve().parents[1] / "data" / "bsim4_subvt.lib"


class BsimTechnology(ModelFileTechnology):
    """BSIM4 (level 14) transistors ``ld_bsim_n`` / ``ld_bsim_p`` from the shipped card."""

    name = "bsim"
    #: sky130's diffusion extension (module docstring), m
    diffusion_extension_m = 0.29e-6

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
