"""Behavioural EKV MOSFET as a B-source subcircuit — the golden reference.

The drain current follows the EKV 2.6 charge-sheet interpolation (Enz, Krummenacher,
Vittoz, 1995), bulk-referenced and valid from weak to strong inversion:

    v_p  = (V_G − V_T0 + σ·(V_D + V_S)) / n                    (pinch-off voltage, V)
    I_D  = I_spec · [F((v_p − V_S)/U_T) − F((v_p − V_D)/U_T)]    (A)
    F(u) = ln²(1 + e^{u/2}),  I_spec = 2·n·μ·C_ox·U_T²·W/L

In weak inversion F(u) → e^u, so I_D = I_spec·e^{(V_G−V_T0)/(n U_T)}·(e^{−V_S/U_T} − e^{−V_D/U_T}):
the law ``I_0 (W/L) e^{(κV_G − V_S)/U_T}`` with κ = 1/n. Temperature enters through
U_T = kT/q, V_T0(T) = V_T0 − tcv·(T − T_nom) and μ(T) = μ·(T/T_nom)^bex, all evaluated
when the netlist is written (``temp_c``). σ is a DIBL coefficient (0 by default: ideal).
Junctions: none. The behavioural device is the ideal channel law (the golden reference of the
fitters), with no drain/source diodes, so no junction geometry is written
(:attr:`~.base.Technology.diffusion_extension_m` is None) and leakage at a storage node is zero on
``ekv``: retention figures come from ``bsim`` and ``sky130``.

References: C. C. Enz, F. Krummenacher, E. A. Vittoz, Analog Integr. Circ. Sig. Process. 8, 83 (1995).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..values import spice_number
from .base import Technology, mobility_at, specific_current_from, thermal_voltage_v

__all__ = ["EkvCard", "EkvTechnology"]


@dataclass(frozen=True, kw_only=True)
class EkvCard:
    """EKV parameters of one polarity (SI units)."""

    vt0_v: float = 0.5
    n: float = 1.35
    mobility_m2_per_vs: float = 0.03
    cox_f_per_m2: float = 8.3e-3
    sigma_dibl: float = 0.0
    tcv_v_per_k: float = 1.0e-3
    bex: float = -1.5
    tnom_c: float = 27.0

    def specific_current_a(self, w_m: float, l_m: float, temp_c: float) -> float:
        mu = mobility_at(self.mobility_m2_per_vs, temp_c, self.bex, self.tnom_c)
        return specific_current_from(self.n, mu, self.cox_f_per_m2, w_m, l_m, temp_c)

    def vt0_at(self, temp_c: float) -> float:
        return self.vt0_v - self.tcv_v_per_k * (temp_c - self.tnom_c)


NMOS_CARD = EkvCard(vt0_v=0.5, n=1.35, mobility_m2_per_vs=0.030)
PMOS_CARD = EkvCard(vt0_v=0.5, n=1.40, mobility_m2_per_vs=0.008)


def _softplus_sq(x: str) -> str:
    """F = ln²(1 + e^x) of the node voltage ``x`` (one variable: one derivative tree).

    At and above x = 30, ln(1 + e^x) = x to 1e-13 (value and slope continuous to that level); the
    ternary evaluates only the branch it takes, so e^x stays finite for the wild iterates of gmin/source
    stepping. A ternary inside one ``pow`` was the cheapest form measured (``min``/``max`` clamps cost
    about 1.5× more: ngspice differentiates every copy of the argument).
    """
    return f"pow({x}<30 ? ln(1+exp({x})) : {x},2)"


def _linear_sources(node: str, terms: list[tuple[float, str, str]], constant: float) -> list[str]:
    """Lines setting V(node) = Σ c·V(p, n) + constant (V) exactly: linear VCCS into a 1 Ω resistor (their
    stamps are constant, nothing is evaluated per iteration); zero coefficients are left out."""
    lines = [f"g{node}{p}{k} 0 {node} {p} {n} {spice_number(c)}" for k, (c, p, n) in enumerate(terms) if c != 0.0]
    if constant != 0.0:
        lines.append(f"i{node} {node} 0 dc {spice_number(-constant)}")
    return lines + [f"r{node} {node} 0 1"]


class EkvTechnology(Technology):
    """Behavioural EKV transistors ``ld_ekv_n`` / ``ld_ekv_p`` (see module docstring)."""

    name = "ekv"
    vdd_v = 1.8

    def __init__(self, nmos: EkvCard = NMOS_CARD, pmos: EkvCard = PMOS_CARD) -> None:
        self.cards = {"n": nmos, "p": pmos}

    def card(self, polarity: str) -> EkvCard:
        return self.cards[polarity]

    def _subckt(self, polarity: str, temp_c: float) -> list[str]:
        card = self.cards[polarity]
        ut = thermal_voltage_v(temp_c)
        mu = mobility_at(card.mobility_m2_per_vs, temp_c, card.bex, card.tnom_c)
        isq = 2.0 * card.n * mu * card.cox_f_per_m2 * ut * ut
        name = f"ld_ekv_{polarity}"
        # x_f = (v_p − V_S)/(2U_T), x_r = (v_p − V_D)/(2U_T) are linear in the bulk-referenced terminal
        # voltages (sign-flipped for pMOS): A·V_G + σA·V_D + (σA − B)·V_S − C with A = 1/(2nU_T),
        # B = 1/(2U_T), C = V_T0·A. They sit on internal nodes (V = the number) set by linear sources, so
        # the drain current's B-source depends on two nodes instead of four: ngspice evaluates a B-source's
        # tree and one derivative tree per controlling node, without sharing sub-expressions, and the
        # one-expression form cost several BSIM4 loads per iteration (measured). Being linear, the x
        # nodes are exact at every Newton iterate: the iterates are those of the one-expression form.
        sign = 1.0 if polarity == "n" else -1.0
        a = 1.0 / (2.0 * card.n * ut)
        b_ = 1.0 / (2.0 * ut)
        c = card.vt0_at(temp_c) * a
        sa = card.sigma_dibl * a
        helpers = [
            *_linear_sources("xf", [(sign * a, "g", "b"), (sign * sa, "d", "b"), (sign * (sa - b_), "s", "b")], -c),
            *_linear_sources("xr", [(sign * a, "g", "b"), (sign * (sa - b_), "d", "b"), (sign * sa, "s", "b")], -c),
        ]
        current = f"{{{spice_number(isq)}*w/l}}*({_softplus_sq('v(xf)')}-{_softplus_sq('v(xr)')})"
        terminals = "d s" if polarity == "n" else "s d"
        return [
            f".subckt {name} d g s b w=1e-6 l=1e-6",
            *helpers,
            f"bch {terminals} i={current}",
            f"cgs g s {{{spice_number(0.5 * card.cox_f_per_m2)}*w*l}}",
            f"cgd g d {{{spice_number(0.5 * card.cox_f_per_m2)}*w*l}}",
            f".ends {name}",
        ]

    def preamble(self, temp_c: float) -> list[str]:
        return [*self._subckt("n", temp_c), *self._subckt("p", temp_c)]

    def instance_line(self, name, polarity, d, g, s, b, w_m, l_m) -> str:
        return f"x{name} {d} {g} {s} {b} ld_ekv_{polarity} w={spice_number(w_m)} l={spice_number(l_m)}"

    def specific_current_a(self, polarity, w_m, l_m, temp_c) -> float:
        return self.cards[polarity].specific_current_a(w_m, l_m, temp_c)

    def slope_factor(self, polarity: str) -> float:
        return self.cards[polarity].n
