"""Technologies behind one interface: ``ekv`` (golden), ``bsim`` (BSIM4 card), ``sky130`` (PDK)."""

from __future__ import annotations

from ..errors import ParameterError
from .base import Technology, thermal_voltage_v
from .bsim import BsimTechnology
from .ekv import EkvCard, EkvTechnology
from .sky130 import CORNERS, Sky130Technology, find_sky130_root

__all__ = [
    "Technology",
    "EkvTechnology",
    "EkvCard",
    "BsimTechnology",
    "Sky130Technology",
    "TECHNOLOGY_NAMES",
    "CORNERS",
    "get_technology",
    "find_sky130_root",
    "thermal_voltage_v",
]

TECHNOLOGY_NAMES = ("ekv", "bsim", "sky130")


def get_technology(name: str, *, corner: str = "tt", mismatch: bool = False, seed: int | None = None) -> Technology:
    """Return a technology by name (``ekv``, ``bsim``, ``sky130``); corner/mismatch apply to sky130."""
    if name == "ekv":
        return EkvTechnology()
    if name == "bsim":
        return BsimTechnology()
    if name == "sky130":
        return Sky130Technology(corner, mismatch=mismatch, seed=seed)
    raise ParameterError(f"technology must be one of {', '.join(TECHNOLOGY_NAMES)}, got {name!r}")
