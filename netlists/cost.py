"""Cost of a simulated circuit: supply power, energy per weight update, area per weight.

Power (W) is what the independent DC voltage sources deliver (:attr:`Netlist.supplies`), averaged
over a window of a transient::

    P(t) = Σ_s −V_s·i_s(t)        (ngspice's branch current i_s flows into the source's + node)
    P̄    = (1/(t1 − t0))·∫_{t0}^{t1} P(t) dt                       (trapezoid over the time points)

By energy conservation this is the power the circuit dissipates, ideal current sources included
(each stands for a transistor current source fed from the supply it hangs on). The stimulus
sources (PWL currents of the bench's inputs and targets) are not supplies: the current they sink
comes from V_DD through the circuit's own input devices and is counted there; the DACs that would
make them are not.

Energy per weight update: a learner with N weights holds each sample for T_s and updates all N
weights continuously during it, so ``E_update = P̄·T_s/N`` (J per weight per sample).

Area per weight: the gate area Σ W·L of every transistor of the netlist, shared blocks (error
path, targets, bias stacks) divided among the N weights, plus the weight's two storage capacitors
(one per half) at the technology's MIM density: ``A = Σ W·L/N + 2·C/ρ_MIM`` (m²; the MIM card's
edge widening and the routing, wells and spacing of a layout are not counted — a lower bound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError
from .netlist import Netlist

__all__ = ["supply_power_w", "device_area_m2", "WeightCost", "weight_cost"]


def supply_power_w(time_s: np.ndarray, branch_currents_a: dict[str, np.ndarray], supplies_v: dict[str, float],
                   t0_s: float, t1_s: float) -> tuple[float, dict[str, float]]:  # fmt: skip
    """Mean power delivered by the supplies over [t0, t1] (W), and per supply (W).

    ``branch_currents_a``: supply name → its ngspice branch current at ``time_s`` (A);
    ``supplies_v``: supply name → its voltage (V).
    """
    t = np.asarray(time_s, dtype=float)
    if not t1_s > t0_s:
        raise ParameterError(f"power window must have t1 > t0, got [{t0_s!r}, {t1_s!r}] s")
    missing = sorted(set(supplies_v) - set(branch_currents_a))
    if missing:
        raise ParameterError(f"no branch current for supplies {missing} (save them: NetlistBuilder.save(sources=...))")
    grid = np.concatenate([[t0_s], t[(t > t0_s) & (t < t1_s)], [t1_s]])
    per = {}
    for name, volts in supplies_v.items():
        i = np.interp(grid, t, np.asarray(branch_currents_a[name], dtype=float))
        per[name] = float(np.trapezoid(-volts * i, grid) / (t1_s - t0_s))
    return float(sum(per.values())), per


def device_area_m2(netlist: Netlist) -> float:
    """Σ W·L of the netlist's transistors, m²."""
    return float(sum(d.w_m * d.l_m for d in netlist.devices))


@dataclass(frozen=True)
class WeightCost:
    """Cost figures of a learner with ``weights`` weights (SI units; see module docstring).

    ``area_per_weight_m2`` is None when the technology states no MIM density.
    """

    power_w: float
    power_by_supply_w: dict
    energy_per_update_j: float
    device_area_per_weight_m2: float
    capacitor_area_per_weight_m2: float | None
    area_per_weight_m2: float | None
    mim_density_f_per_m2: float | None

    def as_dict(self) -> dict:
        um2 = 1e12
        return {
            "power_w": self.power_w,
            "power_by_supply_w": dict(self.power_by_supply_w),
            "energy_per_update_j": self.energy_per_update_j,
            "area_per_weight_um2": None if self.area_per_weight_m2 is None else self.area_per_weight_m2 * um2,
            "device_area_per_weight_um2": self.device_area_per_weight_m2 * um2,
            "capacitor_area_per_weight_um2": None if self.capacitor_area_per_weight_m2 is None else self.capacitor_area_per_weight_m2 * um2,
            "mim_density_f_per_um2": None if self.mim_density_f_per_m2 is None else self.mim_density_f_per_m2 / um2,
        }


def weight_cost(netlist: Netlist, *, weights: int, c_f: float, t_hold_s: float, power_w: float,
                power_by_supply_w: dict[str, float], capacitors_per_weight: int = 2) -> WeightCost:  # fmt: skip
    """Energy per update and area per weight of a learner (``weights`` N, storage capacitor ``c_f`` in F
    per half, hold ``t_hold_s`` in s) whose mean supply power is ``power_w`` (W)."""
    if isinstance(weights, bool) or not isinstance(weights, int) or weights < 1:
        raise ParameterError(f"weights must be a positive integer, got {weights!r}")
    if not (c_f > 0 and t_hold_s > 0):
        raise ParameterError(f"c_f and t_hold_s must be > 0, got {c_f!r} F, {t_hold_s!r} s")
    density = netlist.technology.mim_density_f_per_m2
    devices = device_area_m2(netlist) / weights
    caps = None if density is None else capacitors_per_weight * c_f / density
    total = None if caps is None else devices + caps
    return WeightCost(power_w, dict(power_by_supply_w), power_w * t_hold_s / weights, devices, caps, total, density)
