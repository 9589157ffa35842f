"""Generators for the primitives: pure functions ``(technology, params) → Netlist``.

Node and device names are fixed and deterministic; every value comes from a
validated parameter object. Each generator documents the law it is checked against.
"""

from __future__ import annotations

from .ebm_block import EbmBlockParams, ebm_block
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import DiodeParams, MirrorParams, MosArrayParams, MosBenchParams, MultiplierParams
from .technologies.base import Technology

__all__ = ["mos_iv", "nmos_iv", "pmos_iv", "mos_array", "diode", "mirror", "multiplier", "BLOCKS"]


def mos_iv(tech: Technology, polarity: str, params: MosBenchParams | None = None) -> Netlist:
    """I_D–V_GS test bench: device ``m1``, source and bulk at 0 V, drain at ±``vds_v``.

    The gate source ``vg`` is swept (``.dc``); for a pMOS all voltages are negative.
    Read the drain current with ``result.drain_current("m1", polarity)``.
    """
    p = params or MosBenchParams()
    sign = 1.0 if polarity == "n" else -1.0
    nb = NetlistBuilder(f"{polarity}mos_iv", tech)
    nb.vsource("vd", "d", "0", sign * p.vds_v)
    nb.vsource("vg", "g", "0", sign * p.vgs_start_v)
    nb.mos("m1", polarity, "d", "g", "0", "0", w_m=p.w_m, l_m=p.l_m)
    nb.analysis(Analysis("dc", "vg", sign * p.vgs_start_v, sign * p.vgs_stop_v, sign * p.vgs_step_v))
    return nb.build()


def nmos_iv(tech: Technology, params: MosBenchParams | None = None) -> Netlist:
    """nMOS I_D–V_GS bench (see :func:`mos_iv`)."""
    return mos_iv(tech, "n", params)


def pmos_iv(tech: Technology, params: MosBenchParams | None = None) -> Netlist:
    """pMOS I_D–V_GS bench (see :func:`mos_iv`)."""
    return mos_iv(tech, "p", params)


def mos_array(tech: Technology, polarity: str, params: MosArrayParams | None = None) -> Netlist:
    """``count`` devices ``m0 … m{count-1}`` sharing gate and drain sources (``.op``).

    On a mismatch technology (sky130 ``mismatch=True``) each instance draws its own V_T, so
    one run gives ``count`` Monte Carlo samples of I_D at the same bias.
    """
    p = params or MosArrayParams()
    sign = 1.0 if polarity == "n" else -1.0
    nb = NetlistBuilder(f"{polarity}mos_array", tech)
    nb.vsource("vd", "d", "0", sign * p.vds_v)
    nb.vsource("vg", "g", "0", sign * p.vgs_v)
    for k in range(p.count):
        nb.mos(f"m{k}", polarity, "d", "g", "0", "0", w_m=p.w_m, l_m=p.l_m)
    nb.analysis(Analysis("op"))
    return nb.build()


def _rails(nb: NetlistBuilder, polarity: str, vdd_v: float) -> tuple[str, str]:
    """(source rail, supply for the input current) for a polarity."""
    nb.vsource("vdd", "vdd", "0", vdd_v)
    return ("0", "vdd") if polarity == "n" else ("vdd", "0")


def diode(tech: Technology, params: DiodeParams | None = None) -> Netlist:
    """Diode-connected device ``m1`` fed by ``i_in_a`` (``.op``); node ``a`` is gate = drain.

    Law: weak inversion, V_GS = n·U_T·ln(I_in/I_0) — the current-to-voltage log compressor.
    """
    p = params or DiodeParams()
    nb = NetlistBuilder(f"diode_{p.polarity}", tech)
    rail, supply = _rails(nb, p.polarity, p.vdd_v)
    if p.polarity == "n":
        nb.isource("iin", supply, "a", p.i_in_a)
    else:
        nb.isource("iin", "a", supply, p.i_in_a)
    nb.mos("m1", p.polarity, "a", "a", rail, rail, w_m=p.w_m, l_m=p.l_m)
    nb.analysis(Analysis("op"))
    return nb.build()


def mirror(tech: Technology, params: MirrorParams | None = None) -> Netlist:
    """Two-device current mirror: ``m1`` diode on ``i_in_a``, ``m2`` output held at ``v_out_v``.

    Law: I_out = I_in (equal sizes, both saturated). Output current: ``drain_current("m2")``.
    """
    p = params or MirrorParams()
    nb = NetlistBuilder(f"mirror_{p.polarity}", tech)
    rail, supply = _rails(nb, p.polarity, p.vdd_v)
    if p.polarity == "n":
        nb.isource("iin", supply, "a", p.i_in_a)
    else:
        nb.isource("iin", "a", supply, p.i_in_a)
    nb.vsource("vout", "out", "0", p.v_out_v)
    nb.mos("m1", p.polarity, "a", "a", rail, rail, w_m=p.w_m, l_m=p.l_m)
    nb.mos("m2", p.polarity, "out", "a", rail, rail, w_m=p.w_m, l_m=p.l_m)
    nb.analysis(Analysis("op"))
    return nb.build()


def multiplier(tech: Technology, params: MultiplierParams | None = None) -> Netlist:
    """Five-nMOS translinear multiplier/divider, ``I_out = I_y·I_z/I_x``.

    Devices (bulk of all at 0 V)::

        m1: diode on I_y, gate/drain ``a``, source ``ref``      I_y  = I_0 e^{(κV_a − V_ref)/U_T}
        m2: diode on I_x, gate/drain ``b``, source ``ref``      I_x  = I_0 e^{(κV_b − V_ref)/U_T}
        m3: gate ``a``, source ``s``, drain ``out``               I_out = I_0 e^{(κV_a − V_s)/U_T}
        m4: gate ``b``, source ``s``, drain ``c`` (fed by I_z)    I_z  = I_0 e^{(κV_b − V_s)/U_T}
        m5: gate ``c``, drain ``s``, source ``0``: negative feedback that sinks I_z + I_out
            (if ``c`` rises, m5 pulls ``s`` down until m4 carries exactly I_z)

    Dividing the pairs that share a source, I_out/I_z = e^{κ(V_a−V_b)/U_T} = I_y/I_x, so
    ``I_out = I_y·I_z/I_x`` independent of κ, I_0 and temperature (translinear principle).
    The diodes sit on ``v_ref_v`` so that V_s = V_ref + U_T·ln(I_x/I_z) stays above ground
    over ±2 decades. Output current: ``drain_current("m3")``.
    """
    p = params or MultiplierParams()
    nb = NetlistBuilder("multiplier", tech)
    nb.vsource("vdd", "vdd", "0", p.vdd_v)
    nb.vsource("vref", "ref", "0", p.v_ref_v)
    nb.vsource("vout", "out", "0", p.v_out_v)
    nb.isource("iy", "vdd", "a", p.i_y_a)
    nb.isource("ix", "vdd", "b", p.i_x_a)
    nb.isource("iz", "vdd", "c", p.i_z_a)
    size = {"w_m": p.w_m, "l_m": p.l_m}
    nb.mos("m1", "n", "a", "a", "ref", "0", **size)
    nb.mos("m2", "n", "b", "b", "ref", "0", **size)
    nb.mos("m3", "n", "out", "a", "s", "0", **size)
    nb.mos("m4", "n", "c", "b", "s", "0", **size)
    nb.mos("m5", "n", "s", "c", "0", "0", w_m=p.w5_m, l_m=p.l5_m, role="feedback")
    nb.analysis(Analysis("op"))
    return nb.build()


#: block name → (generator, parameter class); ``nmos``/``pmos`` are the I–V benches
BLOCKS = {
    "nmos": (nmos_iv, MosBenchParams),
    "pmos": (pmos_iv, MosBenchParams),
    "diode": (diode, DiodeParams),
    "mirror": (mirror, MirrorParams),
    "multiplier": (multiplier, MultiplierParams),
    # energy-based block (netlists.ebm_block): every conductance at g_init_s, inputs at 0 V
    "ebm": (ebm_block, EbmBlockParams),
}
