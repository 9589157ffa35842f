"""The storage node's leakage against temperature: measured, fitted, and kept in the calibration file.

:func:`measure_leakage` holds one half-weight cell of the calibrated learner (its ``learner.design``)
with its inputs off at each temperature of a grid (:func:`netlists.retention.measure_retention`) and
records the net current into the storage node, ``i_leak_a`` (A, positive into V_C), and the cells'
I_A(T) = C·U_T(T)/(κ·τ) (A) the circuit sets at that temperature. A temperature at which no V_C
holds the weight (or the bench fails) is recorded with its reason, not dropped.

Fit (:class:`ArrheniusFit`), over the held temperatures where the leakage flows into V_C::

    I_leak(T) = I_ref·exp(−(E_a/k)·(1/T − 1/T_cal))        (T in K, I in A, E_a in eV)

least squares on ln I_leak (:func:`netlists.retention.fit_arrhenius`); ``rms_ln_residual`` is the rms
of ln I_meas − ln I_fit over the fitted points. The model's temperature range
[``temp_min_c``, ``temp_max_c``] is the run of consecutive grid temperatures around T_cal at which the
weight was held; ``max_lam_error`` = max |I_meas − I_fit|/I_A(T) over every held temperature in it
(the fit's error as a λ, dimensionless; it covers the points left out of the fit, e.g. a net leakage
out of V_C when cold, which an Arrhenius law cannot follow).

How the behavioural model uses it: :meth:`logdomain.learner_model.LearnerModel.at_temperature`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ._schema_checks import CalibrationError, _check_number, _Validated

__all__ = ["LeakagePoint", "NotHeldPoint", "ArrheniusFit", "LeakageFit", "leakage_temps", "measure_leakage",
           "FULL_TEMPS_C", "QUICK_OFFSETS_C"]  # fmt: skip

#: the full grid, °C (the calibration temperature is added)
FULL_TEMPS_C = (-20.0, 0.0, 27.0, 50.0, 85.0, 125.0)
#: the quick grid: the calibration temperature and these offsets from it, °C
QUICK_OFFSETS_C = (0.0, 30.0)


@dataclass(frozen=True, kw_only=True)
class LeakagePoint(_Validated):
    """One held temperature: net leakage into V_C (A, + into V_C) and the cells' I_A there (A)."""

    temp_c: float
    i_leak_a: float
    i_a_a: float


@dataclass(frozen=True, kw_only=True)
class NotHeldPoint(_Validated):
    """A temperature of the grid at which the bench could not hold the weight, and why."""

    temp_c: float
    reason: str


@dataclass(frozen=True, kw_only=True)
class ArrheniusFit(_Validated):
    """I_leak(T) = i_ref_a·exp(−(e_a_ev/k)·(1/T − 1/T_ref)), T_ref = ``t_ref_c`` (module docstring).

    ``temps_c``: the temperatures fitted; ``rms_ln_residual``: rms of ln I_meas − ln I_fit there;
    ``temp_min_c``/``temp_max_c``: the range the model accepts; ``max_lam_error``: the largest
    |I_meas − I_fit|/I_A over the held temperatures in that range (dimensionless, a λ).
    """

    i_ref_a: float
    e_a_ev: float
    t_ref_c: float
    rms_ln_residual: float
    temps_c: list = field(default_factory=list)
    temp_min_c: float
    temp_max_c: float
    max_lam_error: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "temps_c", _temps("ArrheniusFit", "temps_c", self.temps_c, minimum=2))
        if not self.temp_min_c <= self.t_ref_c <= self.temp_max_c:
            raise CalibrationError(f"ArrheniusFit: need temp_min_c <= t_ref_c <= temp_max_c, got "
                                   f"{self.temp_min_c:g}, {self.t_ref_c:g}, {self.temp_max_c:g}")  # fmt: skip

    def i_leak_a(self, temp_c: float) -> float:
        """The fitted leakage at ``temp_c`` (°C), A."""
        from netlists.technologies.base import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C

        k_ev = BOLTZMANN_J_PER_K / ELEMENTARY_CHARGE_C
        return self.i_ref_a * math.exp(-self.e_a_ev / k_ev * (1.0 / (temp_c + 273.15) - 1.0 / (self.t_ref_c + 273.15)))


@dataclass(frozen=True, kw_only=True)
class LeakageFit(_Validated):
    """The calibration file's ``leakage`` section (module docstring).

    Provenance: ``function`` (what measured each point), ``command`` (the command that ran it),
    ``technology``, ``corner``, ``temps_c`` (the grid), ``i_w_a`` (the held half-weight's I_w, A) and
    ``c_f`` (its capacitor, F); the learner design is the file's ``learner.design``.
    """

    function: str
    command: str
    technology: str
    corner: str
    temp_cal_c: float
    i_w_a: float
    c_f: float
    temps_c: list
    points: list
    not_held: list = field(default_factory=list)
    arrhenius: ArrheniusFit | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "LeakageFit"
        object.__setattr__(self, "temps_c", _temps(owner, "temps_c", self.temps_c, minimum=1))
        points = [p if isinstance(p, LeakagePoint) else LeakagePoint.from_dict(p, f"{owner}.points[{k}]")
                  for k, p in enumerate(_list(owner, "points", self.points))]  # fmt: skip
        not_held = [p if isinstance(p, NotHeldPoint) else NotHeldPoint.from_dict(p, f"{owner}.not_held[{k}]")
                    for k, p in enumerate(_list(owner, "not_held", self.not_held))]  # fmt: skip
        measured = sorted([p.temp_c for p in points] + [p.temp_c for p in not_held])
        if measured != sorted(self.temps_c):
            raise CalibrationError(f"{owner}: points and not_held must cover temps_c exactly once each, got "
                                   f"{measured} for {sorted(self.temps_c)}")  # fmt: skip
        fit = self.arrhenius
        if fit is not None and not isinstance(fit, ArrheniusFit):
            fit = ArrheniusFit.from_dict(fit, f"{owner}.arrhenius")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "not_held", not_held)
        object.__setattr__(self, "arrhenius", fit)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _list(owner: str, name: str, value: Any) -> list:
    if not isinstance(value, list):
        raise CalibrationError(f"{owner}.{name} must be a list, got {type(value).__name__}")
    return value


def _temps(owner: str, name: str, value: Any, *, minimum: int) -> list[float]:
    temps = [_check_number(owner, f"{name}[{k}]", t, (-55.0, 150.0)) for k, t in enumerate(_list(owner, name, value))]
    if len(temps) < minimum or len(set(temps)) != len(temps):
        raise CalibrationError(f"{owner}.{name} must hold at least {minimum} distinct temperatures, got {temps}")
    return temps


# ------------------------------------------------------------------------------------- measurement


def leakage_temps(quick: bool, temp_c: float) -> tuple[float, ...]:
    """The grid, °C: full :data:`FULL_TEMPS_C` plus ``temp_c``; quick ``temp_c`` + :data:`QUICK_OFFSETS_C`."""
    grid = {temp_c + d for d in QUICK_OFFSETS_C} if quick else {*FULL_TEMPS_C, temp_c}
    return tuple(sorted(t for t in grid if -55.0 <= t <= 150.0))


def measure_leakage(tech, params, *, temps_c: tuple[float, ...], temp_cal_c: float, corner: str, command: str,
                    simulator=None) -> LeakageFit:  # fmt: skip
    """Measure and fit the storage node's leakage of the learner ``params`` on ``tech`` (module docstring).

    Parameters
    ----------
    tech : :class:`netlists.Technology` (nominal); params : the learner's
        :class:`~netlists.spice_learner_circuit.LearnerParams` (the calibration's ``learner.design``);
    temps_c : the grid, °C; temp_cal_c : the calibration's temperature (T_ref of the fit), °C;
    corner, command : provenance; simulator : ngspice worker.
    """
    import numpy as np

    from netlists import SimParams, get_simulator
    from netlists.errors import SimulationError
    from netlists.retention import fit_arrhenius, measure_retention

    simulator = simulator or get_simulator()
    points: list[LeakagePoint] = []
    not_held: list[NotHeldPoint] = []
    for t in temps_c:
        try:
            r = measure_retention(tech, params=params, sim=SimParams(temp_c=t), simulator=simulator)
        except SimulationError as exc:
            not_held.append(NotHeldPoint(temp_c=t, reason=str(exc).splitlines()[0][:300]))
            continue
        points.append(LeakagePoint(temp_c=t, i_leak_a=r.i_leak_a, i_a_a=r.i_a_a))
    held = {p.temp_c: p for p in points}
    # the run of consecutive held grid temperatures around T_cal
    grid = sorted(temps_c)
    span: list[float] = []
    if temp_cal_c in held:
        k = grid.index(temp_cal_c)
        lo, hi = k, k
        while lo > 0 and grid[lo - 1] in held:
            lo -= 1
        while hi < len(grid) - 1 and grid[hi + 1] in held:
            hi += 1
        span = grid[lo:hi + 1]
    fitted = [t for t in span if held[t].i_leak_a > 0]
    fit = None
    notes = ("measured by netlists.retention.measure_retention with the calibration's learner.design (kappa as measured "
             "at the calibration temperature; `logdomain simulate retention` uses LearnerParams.for_technology, kappa 0.7): "
             "one half-weight at i_w0_a, inputs off, I_lambda off, V_C held; i_leak_a > 0 flows into V_C")  # fmt: skip
    if len(fitted) >= 2 and temp_cal_c in fitted:
        i_ref, e_a = fit_arrhenius(np.array(fitted), np.array([held[t].i_leak_a for t in fitted]), t_ref_c=temp_cal_c)
        probe = ArrheniusFit(i_ref_a=i_ref, e_a_ev=e_a, t_ref_c=temp_cal_c, rms_ln_residual=0.0, temps_c=fitted,
                             temp_min_c=span[0], temp_max_c=span[-1], max_lam_error=0.0)  # fmt: skip
        resid = [math.log(held[t].i_leak_a) - math.log(probe.i_leak_a(t)) for t in fitted]
        lam_err = max(abs(held[t].i_leak_a - probe.i_leak_a(t)) / held[t].i_a_a for t in span)
        fit = ArrheniusFit(i_ref_a=i_ref, e_a_ev=e_a, t_ref_c=temp_cal_c, rms_ln_residual=float(np.sqrt(np.mean(np.square(resid)))),
                           temps_c=fitted, temp_min_c=span[0], temp_max_c=span[-1], max_lam_error=lam_err)  # fmt: skip
        left = [t for t in span if t not in fitted]
        if left:
            notes += f"; not fitted (leakage out of V_C, no Arrhenius law): {', '.join(f'{t:g}' for t in left)} degC"
    else:
        notes += (f"; no Arrhenius fit: fewer than two held temperatures with leakage into V_C around {temp_cal_c:g} degC "
                  "(the model then applies no temperature shift)")  # fmt: skip
    return LeakageFit(function="netlists.retention.measure_retention", command=command, technology=tech.identity,
                      corner=corner, temp_cal_c=temp_cal_c, i_w_a=params.i_w0_a, c_f=params.c_f, temps_c=list(temps_c),
                      points=points, not_held=not_held, arrhenius=fit, notes=notes)  # fmt: skip
