"""The λ offset of the learner's cells against temperature, from the working cell's fitted λ_o(T).

Derivation (one weight half; SI units: C in F, V in V, I in A, t in s). The cell integrates on C
with its output device in weak inversion, I_w = I_0·e^{κV_C/U_T}, so dI_w/dt = (κ I_w/U_T)·dV_C/dt.
KCL at the storage node with a leakage I_leak (A, positive into V_C)::

    C dV_C/dt = I_c − I_λ + I_leak
    ⇒ τ dI_w/dt = I_w·(I_c − I_λ + I_leak)/I_A,     τ = C·U_T/(κ·I_A),  λ_c = I_λ/I_A

The loop makes I_w·I_c/I_A the drive, and the rest is a decay −(λ_c − I_leak/I_A)·I_w: a leakage
acts as the change Δλ = −I_leak/I_A of each half's λ, in the cells' λ units (dimensionless),
whatever I_w (a current into a log-domain integrator's capacitor is a relative rate).

The calibration's fitted ``lam_offset`` λ_o(T_cal) already holds the leakage at T_cal; at an
operating temperature T only the change of a junction current I_j is added::

    λ_o(T) = λ_o(T_cal) − [I_j(T) − I_j(T_cal)] / I_A(T)
    I_j(T) = I_ref·exp(−(E_a/k)·(1/T − 1/T_cal))               (Arrhenius, I_ref = I_j(T_cal))
    I_A(T) = C·U_T(T)/(κ·τ),  U_T = kT/q                       (κ of the design at T_cal)

I_ref and E_a are not a bench's current: they are fitted (:func:`calibration.leakage.fit_cell_law`, least
squares in λ) to λ_o(T) fitted by the learner's own cell benches at each temperature of a grid — the
working cell's leakage, whatever nodes it flows from (the calibration's ``leakage.cell``). At T = T_cal
the bracket is exactly 0 and λ_o is the fitted value, unchanged.

What this leaves out: the same shift for both halves (no mismatch of the leakage), and for T outside the
range over which the cell fit was valid the model refuses (:meth:`LeakageShift.check`). The inputs-off
retention bench's leakage (``leakage.arrhenius``) is not used: it overstates a working cell's ~8× when warm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LeakageShift"]

#: Boltzmann constant, J/K, and the elementary charge, C (as netlists.technologies.base)
_K_J, _Q_C = 1.380649e-23, 1.602176634e-19
#: k/q, V/K (eV/K)
_K_EV = _K_J / _Q_C


@dataclass(frozen=True, kw_only=True)
class LeakageShift:
    """The data of the temperature shift of λ_o (module docstring); SI units.

    Parameters
    ----------
    temp_cal_c : T_cal, °C. lam_offset_cal : λ_o(T_cal), the calibration's fitted value (cells' λ units).
    i_ref_a : I_j(T_cal) of the fitted law, A. e_a_ev : its activation energy, eV.
    c_f : the cells' capacitor, F. kappa : κ of the design. tau_s : the cells' τ (τ_i/s_x²), s.
    temp_min_c, temp_max_c : the range over which the working cell's λ_o was fitted and valid, °C.
    not_held : (temperature °C, reason) of grid temperatures where the cell fit failed or was not valid.
    validation : the law's residuals and leave-one-out predictions, as text (for the CLI's note).
    """

    temp_cal_c: float
    lam_offset_cal: float
    i_ref_a: float
    e_a_ev: float
    c_f: float
    kappa: float
    tau_s: float
    temp_min_c: float
    temp_max_c: float
    not_held: tuple[tuple[float, str], ...] = field(default_factory=tuple)
    validation: str = ""

    def check(self, temp_c: float) -> None:
        """Raise ValueError naming the range when ``temp_c`` (°C) is outside the measured range."""
        if isinstance(temp_c, bool) or not isinstance(temp_c, (int, float)) or not math.isfinite(temp_c):
            raise ValueError(f"temp_c must be a finite number of °C, got {temp_c!r}")
        if self.temp_min_c <= temp_c <= self.temp_max_c:
            return
        why = "".join(f"; at {t:g} °C {reason}" for t, reason in self.not_held
                      if (t > self.temp_max_c and temp_c > self.temp_max_c) or (t < self.temp_min_c and temp_c < self.temp_min_c))  # fmt: skip
        raise ValueError(f"temp_c must be in [{self.temp_min_c:g}, {self.temp_max_c:g}] °C (the range over which the "
                         f"calibration fitted the working cell's λ offset and its temperature law), got {temp_c:g}{why}")  # fmt: skip

    def i_leak_a(self, temp_c: float) -> float:
        """I_j(T) of the fitted law, A."""
        t, t_cal = temp_c + 273.15, self.temp_cal_c + 273.15
        return self.i_ref_a * math.exp(-self.e_a_ev / _K_EV * (1.0 / t - 1.0 / t_cal))

    def i_a_a(self, temp_c: float) -> float:
        """I_A(T) = C·U_T(T)/(κ·τ), A."""
        u_t = _K_J * (temp_c + 273.15) / _Q_C  # U_T as netlists.technologies.base.thermal_voltage_v
        return self.c_f * u_t / (self.kappa * self.tau_s)

    def lam_offset(self, temp_c: float) -> float:
        """λ_o(T) = λ_o(T_cal) − [I_j(T) − I_j(T_cal)]/I_A(T) (cells' λ units); exactly
        λ_o(T_cal) at T_cal. Checks the range first."""
        self.check(temp_c)
        if temp_c == self.temp_cal_c:
            return self.lam_offset_cal
        return self.lam_offset_cal - (self.i_leak_a(temp_c) - self.i_ref_a) / self.i_a_a(temp_c)

    @classmethod
    def from_calibration(cls, calibration: Any, params: Any, lam_offset_cal: float) -> "LeakageShift | None":
        """From a calibration's ``leakage.cell`` (the working cell's λ_o(T) law) and its learner design
        ``params`` (a :class:`netlists.spice_learner_circuit.LearnerParams`); None without that law (a file
        without a leakage section, or one with only the retention bench's leakage)."""
        cell = getattr(getattr(calibration, "leakage", None), "cell", None)
        law = getattr(cell, "law", None)
        if law is None:
            return None
        return cls(temp_cal_c=law.t_ref_c, lam_offset_cal=lam_offset_cal, i_ref_a=law.i_ref_a, e_a_ev=law.e_a_ev,
                   c_f=params.c_f, kappa=params.kappa, tau_s=params.tau_circuit_s, temp_min_c=law.temp_min_c,
                   temp_max_c=law.temp_max_c, not_held=tuple((p.temp_c, p.reason) for p in cell.not_valid),
                   validation=_validation_text(law))  # fmt: skip

    @staticmethod
    def lam_offset_of(shift: "LeakageShift | None", model_temp_c: float, lam_offset: float, temp_c: float) -> float:
        """The λ offset a model (at ``model_temp_c`` with ``lam_offset``) has at ``temp_c``: the model's own
        at its temperature; else the shift's, range-checked (ValueError naming ``temp_c``)."""
        if shift is None:
            if temp_c == model_temp_c:
                return lam_offset
            raise ValueError(f"temp_c: this model has no leakage data (a calibration without the working cell's "
                             f"λ offset law leakage.cell.law), so "
                             f"it runs at its calibration's temperature {model_temp_c:g} °C only, got {temp_c!r}")  # fmt: skip
        lam = shift.lam_offset(temp_c)  # checks the range
        if not -1.0 <= lam <= 1.0:
            raise ValueError(f"temp_c: at {temp_c:g} °C the junction current's change ({shift.i_leak_a(temp_c) - shift.i_ref_a:.3g} A against "
                             f"I_A = {shift.i_a_a(temp_c):.3g} A) makes the λ offset {lam:.3g}, outside the model's range "
                             f"[-1, 1] (a leakage that large outruns the cells' decay)")  # fmt: skip
        return lam


def _validation_text(law: Any) -> str:
    """The law's fit residuals and its leave-one-out predictions (cells' λ units), one line."""
    held = ", ".join(f"{h.temp_c:g} °C {h.lam_predicted:.3g} vs {h.lam_fitted:.3g}" for h in law.holdout)
    return (f"fitted on {', '.join(f'{t:g}' for t in law.temps_c)} °C: rms residual {law.rms_lam_residual:.2g}, "
            f"max {law.max_lam_residual:.2g}; each point predicted with the law fitted without it (predicted vs "
            f"cell-fitted λ_o): {held or 'none (too few points)'}")
