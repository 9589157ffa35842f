"""Mismatch: Monte Carlo with the PDK's mismatch models and a Pelgrom fit.

Each run simulates ``count`` identical devices at one weak-inversion bias on a mismatch
technology (sky130 ``mismatch=True``: every instance draws its own ΔV_T). In weak inversion
``I ∝ e^{(V_G − V_T)/(n U_T)}``, so a device's threshold offset is
``ΔV_T = −n·U_T·ln(I_k / I_geo)`` (I_geo: geometric mean over the devices). Pelgrom's law
``σ(ΔV_T) = A_VT/√(W·L)`` is fitted through the origin over several sizes; the per-device
current-gain spread at a size is ``σ(ln gain) = σ(ΔV_T)/(n·U_T)``.
Reference: M. J. M. Pelgrom et al., IEEE J. Solid-State Circuits 24, 1433 (1989).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netlists import MosArrayParams, SimParams, Simulator, blocks, get_simulator
from netlists.technologies.base import Technology, thermal_voltage_v

__all__ = ["MismatchSample", "sample_mismatch", "fit_pelgrom"]


@dataclass(frozen=True)
class MismatchSample:
    """ΔV_T samples (V) of one device size (m)."""

    w_m: float
    l_m: float
    dvt_v: np.ndarray
    log_gain: np.ndarray

    @property
    def sigma_vt_v(self) -> float:
        return float(np.std(self.dvt_v, ddof=1))


def sample_mismatch(
    tech: Technology,
    polarity: str,
    *,
    w_m: float,
    l_m: float,
    count: int,
    slope_factor: float,
    vgs_v: float,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> MismatchSample:
    """Monte Carlo of ``count`` devices in one run (``tech`` must have mismatch on)."""
    simulator = simulator or get_simulator()
    sim = sim or SimParams()
    netlist = blocks.mos_array(tech, polarity, MosArrayParams(count=count, w_m=w_m, l_m=l_m, vgs_v=vgs_v, vds_v=0.5))
    result = simulator.run(netlist, sim)
    currents = np.array([result.drain_current(f"m{k}", polarity)[0] for k in range(count)])
    log_gain = np.log(currents) - np.mean(np.log(currents))
    dvt = -slope_factor * thermal_voltage_v(sim.temp_c) * log_gain
    return MismatchSample(w_m, l_m, dvt, log_gain)


def fit_pelgrom(samples: list[MismatchSample]) -> float:
    """A_VT (V·m) minimizing Σ(σ_k − A/√(W_k L_k))², i.e. a fit through the origin."""
    x = np.array([1.0 / np.sqrt(s.w_m * s.l_m) for s in samples])
    y = np.array([s.sigma_vt_v for s in samples])
    return float(np.dot(x, y) / np.dot(x, x))
