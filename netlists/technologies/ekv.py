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
    """F = ln²(1 + e^x) with ``x`` written twice (ngspice does not share common
    sub-expressions: every copy costs an evaluation and a derivative, so the square is a
    ``pow`` rather than a product).

    Above x = 30, ln(1 + e^x) = x to 1e-13; switching there keeps e^x finite for the wild
    iterates of gmin/source stepping while value and slope stay continuous.
    """
    return f"pow(ln(1+exp(min({x},30)))+max({x}-30,0),2)"


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
        # bulk-referenced terminal voltages, sign-flipped for pMOS
        sign = "" if polarity == "n" else "-"
        vg, vs, vd = (f"({sign}v({t},b))" for t in ("g", "s", "d"))
        vp = f"(({vg}-{spice_number(card.vt0_at(temp_c))}+{spice_number(card.sigma_dibl)}*({vd}+{vs}))/{spice_number(card.n)})"
        two_ut = spice_number(2 * ut)
        f_fwd = _softplus_sq(f"({vp}-{vs})/{two_ut}")
        f_rev = _softplus_sq(f"({vp}-{vd})/{two_ut}")
        current = f"{spice_number(isq)}*w/l*({f_fwd}-{f_rev})"
        terminals = "d s" if polarity == "n" else "s d"
        return [
            f".subckt {name} d g s b w=1e-6 l=1e-6",
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
