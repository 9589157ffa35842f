"""Operating-region checker: is every transistor in weak inversion and saturated?

For each MOS of a generated netlist it reads back, at one point of a simulation,
the drain current (through the device's series ammeter) and terminal voltages, and
reports

- the inversion coefficient ``IC = I_D / I_spec`` (I_spec = 2·n·μ·C_ox·U_T²·W/L from the
  technology; IC ≲ 0.1 is weak inversion, IC ≳ 10 strong inversion), and
- ``V_DS / U_T`` with the polarity's sign convention applied (``V_D − V_S`` for an nMOS,
  ``V_S − V_D`` for a pMOS), at the simulation's temperature (``U_T = kT/q`` at ``sim.temp_c``).
  A weak-inversion device is saturated for V_DS ≳ 4 U_T, where the reverse current
  e^{−V_DS/U_T} is below 2 %. The sign matters: a device biased backwards (V_DS < 0) conducts
  from its source terminal to its drain terminal, the opposite of what the block's law assumes,
  so it counts as not saturated however large |V_DS| is.

Devices with ``role="feedback"`` (they only close a loop, their current is not part of the
block's law) are reported with the same numbers but are not required to meet the limits.

``check_regions`` never hides a device: the report lists all of them and
``report.violations`` those outside the limits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .netlist import Netlist
from .params import SimParams
from .runner import SimResult
from .technologies.base import thermal_voltage_v

__all__ = ["DeviceRegion", "RegionReport", "check_regions", "IC_WEAK_MAX", "VDS_SAT_MIN_UT"]

IC_WEAK_MAX = 0.1
VDS_SAT_MIN_UT = 4.0


@dataclass(frozen=True)
class DeviceRegion:
    """Operating point of one transistor (V, A; pMOS voltages sign-flipped: V_GS means V_SG, V_DS
    means V_SD, so a conducting, forward-biased device of either polarity has V_GS, V_DS > 0)."""

    name: str
    polarity: str
    id_a: float
    vgs_v: float
    vds_v: float
    vsb_v: float
    ic: float
    vds_over_ut: float
    weak_inversion: bool
    saturated: bool
    role: str = "signal"

    @property
    def ok(self) -> bool:
        """Signal devices must be weak and saturated; feedback devices are only reported."""
        return self.role == "feedback" or (self.weak_inversion and self.saturated)


@dataclass
class RegionReport:
    """All devices' regions and the limits they were checked against."""

    devices: list[DeviceRegion]
    ic_max: float
    vds_min_ut: float
    temp_c: float
    violations: list[DeviceRegion] = field(init=False)

    def __post_init__(self) -> None:
        self.violations = [d for d in self.devices if not d.ok]

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.ok:
            return f"all {len(self.devices)} devices as required: in weak inversion (IC <= {self.ic_max:g}) and saturated (V_DS >= {self.vds_min_ut:g} U_T)"
        parts = []
        for d in self.violations:
            why = []
            if not d.weak_inversion:
                why.append(f"IC={d.ic:.3g} > {self.ic_max:g}")
            if not d.saturated:
                why.append(f"V_DS={d.vds_over_ut:.2f} U_T < {self.vds_min_ut:g} U_T")
            parts.append(f"{d.name}: {', '.join(why)}")
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "ic_max": self.ic_max,
            "vds_min_ut": self.vds_min_ut,
            "devices": [asdict(d) | {"ok": d.ok} for d in self.devices],
            "summary": self.summary(),
        }


def check_regions(
    netlist: Netlist,
    result: SimResult,
    sim: SimParams | None = None,
    *,
    index: int = 0,
    ic_max: float = IC_WEAK_MAX,
    vds_min_ut: float = VDS_SAT_MIN_UT,
) -> RegionReport:
    """Report each device's inversion coefficient and V_DS/U_T (signed, see module docstring) at point ``index``.

    Parameters
    ----------
    netlist, result : the generated netlist and its simulation (``.op``, ``.dc`` or ``.tran``).
    sim : the settings used: ``sim.temp_c`` (°C) sets U_T and I_spec (default 27 °C).
    index : which point of a sweep or transient to check.
    ic_max : largest inversion coefficient counted as weak inversion (dimensionless).
    vds_min_ut : smallest V_DS (forward, sign convention applied) in units of U_T counted as saturated.
    """
    sim = sim or SimParams()
    ut = thermal_voltage_v(sim.temp_c)
    tech = netlist.technology

    def v(node: str) -> float:
        return 0.0 if node == "0" else float(np.atleast_1d(result[node])[index])

    devices = []
    for dev in netlist.devices:
        sign = 1.0 if dev.polarity == "n" else -1.0
        i_d = float(np.atleast_1d(result.drain_current(dev.name, dev.polarity))[index])
        vgs = sign * (v(dev.g) - v(dev.s))
        vds = sign * (v(dev.d) - v(dev.s))
        vsb = sign * (v(dev.s) - v(dev.b))
        i_spec = tech.specific_current_a(dev.polarity, dev.w_m, dev.l_m, sim.temp_c)
        ic = abs(i_d) / i_spec
        devices.append(
            DeviceRegion(
                name=dev.name,
                polarity=dev.polarity,
                id_a=i_d,
                vgs_v=vgs,
                vds_v=vds,
                vsb_v=vsb,
                ic=ic,
                vds_over_ut=vds / ut,
                weak_inversion=ic <= ic_max,
                saturated=vds / ut >= vds_min_ut,
                role=dev.role,
            )
        )
    return RegionReport(devices, ic_max, vds_min_ut, sim.temp_c)
