"""Run the transistor-level Tiki-Taka learner (:mod:`netlists.tiki_taka_circuit`) and read it back.

The read-out is the plain learner's (:func:`netlists.learner_run._read`: C's halves, the prediction
path, the frozen probes, the region checks); this module adds the A pair's halves and the transfer
path's measured gain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import SimulationError
from .learner_run import SpiceLearnerRun, _halts, _nominal, _read, output_device_curve
from .params import SimParams
from .runner import Simulator, get_simulator
from .spice_learner_circuit import LearnerParams, check_supported, state_nodes, stimulus
from .technologies.base import Technology, thermal_voltage_v
from .tiki_taka_circuit import TikiTakaParams, a_cell_names, a_state_nodes, tiki_taka_learner

__all__ = ["TikiTakaSpiceRun", "run_spice_tiki_taka", "transfer_gain"]


@dataclass
class TikiTakaSpiceRun:
    """One nominal run of the Tiki-Taka learner (SI units; weights in scaled units).

    Attributes
    ----------
    run : the plain learner's read-out on the C pairs and the prediction path (``run.weights`` are the
        effective weights read through the circuit's products, ``run.state_history`` C's states).
    tt : the Tiki-Taka settings. a_plus_a, a_minus_a : (K + 1, N) A⁺, A⁻ at t = 0 and each hold end, A.
    copy_gain : (N, 2) the transfer copies' current over their A output device's (A⁺, A⁻ columns),
        averaged over the stream — the factor by which the transfer rate differs from ρ.
    """

    run: SpiceLearnerRun
    tt: TikiTakaParams
    a_plus_a: np.ndarray = field(repr=False)
    a_minus_a: np.ndarray = field(repr=False)
    copy_gain: np.ndarray

    @property
    def a_history(self) -> np.ndarray:
        """(K + 1, N) A = s_w(A⁺ − A⁻)/I_u."""
        return self.run.params.weights_from_currents(self.a_plus_a, self.a_minus_a)


def transfer_gain(result, dim: int, t_from_s: float, t_to_s: float) -> np.ndarray:
    """(N, 2) mean over [t_from_s, t_to_s] of I(mac{i}s)/I(u{i}s mw): the A copies' gain."""
    time_s = np.asarray(result["time"], dtype=float)
    sel = (time_s >= t_from_s) & (time_s <= t_to_s)
    out = np.empty((dim, 2))
    for i in range(dim):
        for j, s in enumerate(("p", "n")):
            copy = np.asarray(result.drain_current(f"mac{i}{s}"), dtype=float)[sel]
            main = np.asarray(result.drain_current(f"u{i}{s}mw"), dtype=float)[sel]
            if not np.all(main > 0):
                raise SimulationError(f"Tiki-Taka run: A output u{i}{s}mw carries no current", log=getattr(result, "log", ""))
            out[i, j] = float(np.mean(copy / main))
    return out


def run_spice_tiki_taka(
    tech: Technology, x: np.ndarray, y: np.ndarray, eta: float, lam: float, t_hold_s: float, *,
    tt: TikiTakaParams | None = None, params: LearnerParams | None = None, sim: SimParams | None = None,
    simulator: Simulator | None = None, region_samples: tuple[float, ...] = (0.0, 0.5, 1.0),
) -> TikiTakaSpiceRun:  # fmt: skip
    """Simulate continuous-time Tiki-Taka on the transistor-level learner over the stream (x, y), one die.

    Parameters as :func:`netlists.learner_run.run_spice_learner` (x (K, N) scaled, y (K,), η, λ, T_s in
    s), plus ``tt`` (default :class:`TikiTakaParams`). κ is measured on the nominal output device at
    the halves' initial current, and every state (A and C) starts there (w = 0, A = 0).
    """
    sim = sim or (simulator.sim if simulator else SimParams())
    simulator = simulator or get_simulator()
    tt = tt or TikiTakaParams()
    x = np.atleast_2d(np.asarray(x, dtype=float))
    base = params or LearnerParams.for_technology(tech.learner_family, dim=x.shape[1])
    check_supported(tech, base)
    p = base.replace(dim=x.shape[1], eta=eta, lam=lam, t_hold_s=t_hold_s, temp_c=sim.temp_c)
    v_g, i_d = output_device_curve(_nominal(tech), p, sim, simulator)
    ln_i = np.log(np.maximum(i_d, 1e-30))
    v_c0 = float(np.interp(np.log(p.i_w0_a), ln_i, v_g))
    sel = np.abs(ln_i - np.log(p.i_w0_a)) < np.log(30.0)
    p = p.replace(kappa=float(np.polyfit(v_g[sel], ln_i[sel], 1)[0] * thermal_voltage_v(sim.temp_c)))
    netlist = tiki_taka_learner(tech, p, tt, x, y, {n: v_c0 for n in state_nodes(p.dim) + a_state_nodes(p.dim)})
    st = stimulus(p, x, y)
    result = simulator.run(netlist, sim, **_halts(p, st, netlist, region_samples))
    run = _read(p, st, netlist, result, sim, region_samples, getattr(tech, "seed", None), result.elapsed_s)
    time_s = np.asarray(result["time"], dtype=float)
    ends = (st.first_sample + np.arange(len(st.sign) + 1)) * p.t_hold_s
    halves = {n: np.interp(ends, time_s, np.asarray(result.drain_current(f"{n}mw"), dtype=float)) for n in a_cell_names(p.dim)}
    a_plus = np.stack([halves[f"u{i}p"] for i in range(p.dim)], axis=1)
    a_minus = np.stack([halves[f"u{i}n"] for i in range(p.dim)], axis=1)
    gain = transfer_gain(result, p.dim, st.first_sample * p.t_hold_s, st.freeze_s)
    return TikiTakaSpiceRun(run, tt, a_plus, a_minus, gain)
