"""Measurements on simulated primitives: subthreshold swing, multiplier law error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import blocks
from .params import MosBenchParams, MultiplierParams, SimParams
from .regions import RegionReport, check_regions
from .runner import Simulator, get_simulator
from .technologies.base import Technology

__all__ = ["IVCurve", "SwingFit", "fit_swing", "fit_weak_inversion", "iv_curve", "MultiplierSweep", "multiplier_sweep"]


@dataclass(frozen=True)
class IVCurve:
    """Drain current magnitude (A) against gate–source voltage (V), both polarity-normalized
    (for a pMOS: V_SG and I_SD), so weak inversion rises to the right for both polarities."""

    vgs_v: np.ndarray
    id_a: np.ndarray
    polarity: str


@dataclass(frozen=True)
class SwingFit:
    """Log-linear fit of log10(I_D) against V_GS over the weak-inversion window."""

    swing_mv_per_decade: float
    r_squared: float
    decades: float
    n_points: int
    i_min_a: float
    i_max_a: float


def iv_curve(
    tech: Technology,
    polarity: str = "n",
    params: MosBenchParams | None = None,
    *,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> IVCurve:
    """Simulate the I_D–V_GS bench; V_GS and I_D are polarity-normalized (a pMOS's −V_GS, −I_D)."""
    simulator = simulator or get_simulator()
    result = simulator.run(blocks.mos_iv(tech, polarity, params), sim)
    sign = 1.0 if polarity == "n" else -1.0
    return IVCurve(sign * result["v-sweep"], np.abs(result.drain_current("m1", polarity)), polarity)


def fit_swing(curve: IVCurve, i_min_a: float, i_max_a: float) -> SwingFit:
    """Fit ``log10 I_D = a + V_GS / S`` for I_D in [i_min_a, i_max_a]; S in mV/decade.

    Raises ValueError if fewer than 5 points fall in the window.
    """
    sel = (curve.id_a >= i_min_a) & (curve.id_a <= i_max_a)
    if sel.sum() < 5:
        raise ValueError(f"only {int(sel.sum())} points between {i_min_a:g} A and {i_max_a:g} A; widen the sweep")
    x, y = curve.vgs_v[sel], np.log10(curve.id_a[sel])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    r2 = 1.0 - float(np.sum(residual**2) / np.sum((y - y.mean()) ** 2))
    return SwingFit(1000.0 / slope, r2, float(y.max() - y.min()), int(sel.sum()), float(curve.id_a[sel].min()), float(curve.id_a[sel].max()))


def fit_weak_inversion(curve: IVCurve, i_spec_a: float) -> SwingFit:
    """Swing fit over the weak-inversion window of ``curve``.

    Window: from 30× the sweep's floor (junction leakage, abstol; at least 0.1 pA) up to
    IC = 1e-3 (``1e-3·i_spec_a``), where the EKV interpolation is within ~3 % of the exponential.
    """
    return fit_swing(curve, max(30.0 * float(curve.id_a.min()), 1e-13), 1e-3 * i_spec_a)


@dataclass(frozen=True)
class MultiplierSweep:
    """Measured vs ideal ``I_y·I_z/I_x`` over one-at-a-time sweeps of each input."""

    inputs_a: np.ndarray  # (P, 3): I_x, I_y, I_z
    measured_a: np.ndarray  # (P,)
    ideal_a: np.ndarray  # (P,)
    swept: list[str]  # which input was swept at each point
    regions: list[RegionReport]

    @property
    def rel_error(self) -> np.ndarray:
        return self.measured_a / self.ideal_a - 1.0

    @property
    def max_rel_error(self) -> float:
        return float(np.max(np.abs(self.rel_error)))

    @property
    def regions_ok(self) -> bool:
        return all(r.ok for r in self.regions)


def multiplier_sweep(
    tech: Technology,
    params: MultiplierParams | None = None,
    *,
    decades: float = 2.0,
    points: int = 5,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> MultiplierSweep:
    """Sweep each input over ``decades`` (centred on its value in ``params``), others fixed."""
    base = params or MultiplierParams()
    simulator = simulator or get_simulator()
    factors = np.logspace(-decades / 2, decades / 2, points)
    inputs, measured, swept, regions = [], [], [], []
    for name in ("i_x_a", "i_y_a", "i_z_a"):
        for factor in factors:
            p = base.replace(**{name: getattr(base, name) * factor})
            netlist = blocks.multiplier(tech, p)
            result = simulator.run(netlist, sim)
            inputs.append((p.i_x_a, p.i_y_a, p.i_z_a))
            measured.append(float(result.drain_current("m3")[0]))
            swept.append(name)
            regions.append(check_regions(netlist, result, sim))
    arr = np.array(inputs)
    return MultiplierSweep(arr, np.array(measured), arr[:, 1] * arr[:, 2] / arr[:, 0], swept, regions)
