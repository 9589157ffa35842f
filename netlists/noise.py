"""Noise of the weight cell's charging current, measured with ngspice's ``.noise`` (issue 14 D, first part).

Bench: one weight cell of the learner (:meth:`LearnerParams.cell_params`, the learner's sizes, C,
I_A and I_λ) driven by one update term at the unit drive, I_e = I_x = I_u (ideal sources into the
m4 drain and into the x diode mx0), the other term and the common-mode sink term off (their
zero-current states, as in :mod:`netlists.retention`). The storage node is held at the V_C of
I_w = ``i_w0_a`` by the source ``vhold`` through a noiseless sense resistor R_s (``noisy=0``); the
cell's transistor noise (channel thermal/shot and flicker, as the models give it) flows through R_s,
whose voltage is the ``.noise`` output (units: A, V, Hz, s, F)::

    σ_I = onoise_total / R_s                  (rms noise current into the storage node over [f_lo, f_hi])
    f_hi = 1/(2·T_s)                           (noise bandwidth of integrating over one hold T_s)
    f_lo = 1/(samples·T_s)                     (slower noise is a drift over the whole training run)
    I_drive = I_A·I_e·I_x/(I_u·I_w) = I_A·I_u/I_w   (the charging current of the unit update, A)
    noise_rel = σ_I / I_drive                  (relative noise of one update: the charge of a hold is
                                                I_drive·T_s ± σ_I·T_s for noise band-limited to f_hi)
    σ_w per hold = s_w·(κ·I_w/U_T)·(σ_I·T_s/C)/I_u   (scaled weight units)

R_s (1 MΩ) is far below the node's impedance at f_hi (the 50 pF capacitor: 130 MΩ at 25 Hz; the
mirror output: TΩ), so the noise current flows through it. Ideal sources are noiseless in ngspice:
the noise of the circuits that would make I_A, I_u, I_e and I_x (the learner's pMOS copies, the
error path) is not in this figure — it is the cell's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import SimParams
from .runner import Simulator, get_simulator
from .spice_learner_circuit import LearnerParams
from .technologies.base import Technology, thermal_voltage_v
from .weight_cell import add_cell_rails, add_weight_cell

__all__ = ["CellNoise", "cell_noise_bench", "measure_cell_noise", "R_SENSE_OHM"]

#: sense resistor between the storage node and its holding source, Ω (noiseless)
R_SENSE_OHM = 1e6


def cell_noise_bench(tech: Technology, p: LearnerParams, v_c_v: float, *, f_lo_hz: float, f_hi_hz: float,
                     points: int = 10) -> Netlist:  # fmt: skip
    """The cell at the unit drive with V_C held through R_s; ``.noise`` of V(vc, vh) over [f_lo, f_hi] Hz."""
    if not math.isfinite(v_c_v) or not 0.0 <= v_c_v <= p.vdd_v:
        raise ParameterError(f"v_c_v must be in [0, {p.vdd_v:g}] V, got {v_c_v!r}")
    if not (math.isfinite(f_lo_hz) and math.isfinite(f_hi_hz) and 0.0 < f_lo_hz < f_hi_hz <= 1e9):
        raise ParameterError(f"need 0 < f_lo_hz < f_hi_hz <= 1e9 Hz, got {f_lo_hz!r}, {f_hi_hz!r}")
    nb = NetlistBuilder("cell_noise", tech)
    nb.netlist.fixed_sizes = True
    cp = p.cell_params()
    nb.vsource("vdd", "vdd", "0", p.vdd_v)
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)
    add_cell_rails(nb, cp)
    nb.isource("ie0", "vdd", "ie0", p.i_u_a)  # I_e = I_u
    nb.isource("ix0", "vdd", "gx0", p.i_u_a)  # I_x = I_u into the x diode
    nb.mos("mgx0", "n", "gx0", "gx0", "ref", "0", w_m=p.w_x_m, l_m=p.l_x_m)
    nb.isource("iuz", "vdd", "iez", p.i_u_a)  # the sink term's I_e (a bias); its x gate at ref: Z = 0
    add_weight_cell(nb, cp, "w", vc="vc", terms=[("ie0", "gx0"), ("ws21", "ref")], sink_terms=[("iez", "ref")])
    nb.vsource("vhold", "vh", "0", v_c_v, ac_v=1.0)
    nb.resistor("rsense", "vh", "vc", R_SENSE_OHM, noisy=False)
    nb.analysis(Analysis("noise", source="vhold", output="vc", reference="vh", start=f_lo_hz, stop=f_hi_hz, points=points))
    return nb.build()


@dataclass(frozen=True)
class CellNoise:
    """The cell's charging-current noise at the unit drive (module docstring; SI units)."""

    tech: str
    temp_c: float
    f_lo_hz: float
    f_hi_hz: float
    sigma_i_a: float
    i_drive_a: float
    noise_rel: float
    sigma_w_per_hold: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def measure_cell_noise(tech: Technology, *, params: LearnerParams | None = None, samples: int = 400,
                       sim: SimParams | None = None, simulator: Simulator | None = None) -> CellNoise:  # fmt: skip
    """``noise_rel`` of one update of the learner's cell (module docstring) at ``sim.temp_c``.

    ``samples``: training length in holds (sets f_lo = 1/(samples·T_s)).
    """
    from .retention import _v_c_at

    if isinstance(samples, bool) or not isinstance(samples, int) or not 2 <= samples <= 10**7:
        raise ParameterError(f"samples must be an integer in [2, 1e7], got {samples!r}")
    sim = sim or SimParams()
    simulator = simulator or get_simulator()
    p = (params or LearnerParams.for_technology(tech.learner_family)).replace(temp_c=sim.temp_c)
    i_w = p.i_w0_a
    v_c = _v_c_at(tech, p, i_w, sim, simulator)
    f_lo, f_hi = 1.0 / (samples * p.t_hold_s), 1.0 / (2.0 * p.t_hold_s)
    result = simulator.run(cell_noise_bench(tech, p, v_c, f_lo_hz=f_lo, f_hi_hz=f_hi), sim)
    sigma_i = float(np.asarray(result["onoise_total"], dtype=float)[0]) / R_SENSE_OHM
    i_drive = p.i_a_a * p.i_u_a / i_w
    kappa = p.kappa
    sigma_w = p.w_scale * (kappa * i_w / thermal_voltage_v(sim.temp_c)) * (sigma_i * p.t_hold_s / p.c_f) / p.i_u_a
    return CellNoise(tech.label, sim.temp_c, f_lo, f_hi, sigma_i, i_drive, sigma_i / i_drive, sigma_w)
