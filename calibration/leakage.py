"""The learner cell's leakage against temperature: measured, fitted, and kept in the calibration file.

**The model's input** — ``leakage.cell`` (:class:`CellLeakage`, :func:`measure_cell_leakage`): λ_o fitted
by the learner's own cell benches (:func:`calibration.learner_fit.fit_cell_lam_offset`, the cell part of
``fit_learner``) at each temperature of a grid (:data:`CELL_TEMPS_C`), a point not valid when the cell fit
breaks down (held-out stream rms ≥ :data:`CELL_VALID_RMS` I_u, or |λ_o| ≥ 1), and the law
(:class:`CellLamLaw`, :func:`fit_cell_law`) over the run of valid temperatures around T_cal::

    λ_o(T) = λ_o(T_cal) − [I_j(T) − I_j(T_cal)]/I_A(T),  I_j(T) = I_ref·exp(−(E_a/k)·(1/T − 1/T_cal))

(T in K, I in A, E_a in eV, I_A(T) = C·U_T(T)/(κ_cal·τ)), least squares in λ with λ_o(T_cal) held; its
residuals, its leave-one-out predictions and its valid range are stored with it.

**For reference, not the model's input** — the rest of the section: :func:`measure_leakage` holds one
half-weight cell of the calibrated learner (its ``learner.design``) with its inputs off at each
temperature of a grid (:func:`netlists.retention.measure_retention`) and records the net current into the
storage node, ``i_leak_a`` (A, positive into V_C), and I_A(T) (A). A temperature at which no V_C holds the
weight (or the bench fails) is recorded with its reason. Fit (:class:`ArrheniusFit`), over the held
temperatures where the leakage flows into V_C: I_leak(T) = I_ref·exp(−(E_a/k)·(1/T − 1/T_cal)), least
squares on ln I_leak (:func:`netlists.retention.fit_arrhenius`); ``rms_ln_residual`` is the rms of
ln I_meas − ln I_fit over the fitted points; [``temp_min_c``, ``temp_max_c``] the run of consecutive grid
temperatures around T_cal at which the weight was held; ``max_lam_error`` = max |I_meas − I_fit|/I_A(T)
there. This bench's current (inputs off: the loop's off-state channels, junctions at other voltages)
overstates a working cell's ~8× when warm and has the wrong sign when cold (README).

How the behavioural model uses ``cell.law``: :meth:`logdomain.learner_model.LearnerModel.at_temperature`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ._schema_checks import CalibrationError, _check_number, _Validated

__all__ = ["LeakagePoint", "NotHeldPoint", "ArrheniusFit", "LeakageFit", "leakage_temps", "measure_leakage",
           "FULL_TEMPS_C", "QUICK_OFFSETS_C", "CellLamPoint", "HoldOut", "CellLamLaw", "CellLeakage", "cell_temps",
           "fit_cell_law", "law_lam", "measure_cell_leakage", "CELL_TEMPS_C", "QUICK_CELL_OFFSETS_C", "CELL_VALID_RMS"]  # fmt: skip

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
    cell: "CellLeakage | None" = None

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "LeakageFit"
        object.__setattr__(self, "temps_c", _temps(owner, "temps_c", self.temps_c, minimum=1))
        points = _records(owner, "points", self.points, LeakagePoint)
        not_held = _records(owner, "not_held", self.not_held, NotHeldPoint)
        _check_cover(owner, self.temps_c, points, not_held, "not_held")
        fit = self.arrhenius
        if fit is not None and not isinstance(fit, ArrheniusFit):
            fit = ArrheniusFit.from_dict(fit, f"{owner}.arrhenius")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "not_held", not_held)
        object.__setattr__(self, "arrhenius", fit)
        cell = self.cell
        if cell is not None and not isinstance(cell, CellLeakage):
            cell = CellLeakage.from_dict(cell, f"{owner}.cell")
        object.__setattr__(self, "cell", cell)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _list(owner: str, name: str, value: Any) -> list:
    if not isinstance(value, list):
        raise CalibrationError(f"{owner}.{name} must be a list, got {type(value).__name__}")
    return value


def _records(owner: str, name: str, value: Any, cls: type) -> list:
    """The list ``owner.name`` with every entry a ``cls`` (dicts read by ``cls.from_dict``)."""
    return [v if isinstance(v, cls) else cls.from_dict(v, f"{owner}.{name}[{k}]") for k, v in enumerate(_list(owner, name, value))]


def _check_cover(owner: str, temps_c: list[float], points: list, others: list, others_name: str) -> None:
    """``points`` and ``others`` (records with ``temp_c``) must hold each of ``temps_c`` exactly once between them."""
    measured = sorted([p.temp_c for p in points] + [p.temp_c for p in others])
    if measured != sorted(temps_c):
        raise CalibrationError(f"{owner}: points and {others_name} must cover temps_c exactly once each, got "
                               f"{measured} for {sorted(temps_c)}")  # fmt: skip


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
                    simulator=None, cell: "CellLeakage | None" = None) -> LeakageFit:  # fmt: skip
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
    notes = ("points, not_held, arrhenius: the inputs-off retention measurement, kept for reference and NOT the model's "
             "input (it overstates a working cell's leakage ~8x when warm and has the wrong sign when cold; the model "
             "uses the cell entry): measured by netlists.retention.measure_retention with the calibration's learner.design (kappa as measured "
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
                      points=points, not_held=not_held, arrhenius=fit, notes=notes, cell=cell)  # fmt: skip


# ------------------------------------------------------------------ the working cell's λ_o(T): the model's input

#: the working cell's grid, °C (full; the calibration temperature is added, its λ_o is the learner fit's own; 85 °C
#: is where the cell fit breaks down on sky130 tt, recorded as not valid)
CELL_TEMPS_C = (0.0, 27.0, 40.0, 55.0, 70.0, 85.0)
#: the quick grid: offsets from the calibration temperature, °C (three points for a two-parameter law: no residual)
QUICK_CELL_OFFSETS_C = (-27.0, 0.0, 28.0)
#: a cell fit counts as valid when its held-out stream's rms (units of I_u) is below this and |λ_o| < 1
#: (27 °C: 0.0046, 70 °C: 0.020; at 85 °C the fit breaks down, rms 31)
CELL_VALID_RMS = 0.05
_E_A_BOUNDS_EV = (0.05, 3.0)


@dataclass(frozen=True, kw_only=True)
class CellLamPoint(_Validated):
    """λ_o fitted by the learner's cell benches at ``temp_c`` (cells' λ units); ``i_a_a``: I_A(T) as the
    model sets it (C·U_T(T)/(κ_cal·τ), A); ``kappa``: κ measured at T by the benches' setup;
    ``stream_validation_rms``: the held-out stream's rms (units of I_u); ``violations``: bench devices
    flagged outside weak inversion/saturation."""

    temp_c: float
    lam_offset: float
    i_a_a: float
    kappa: float
    stream_validation_rms: float
    violations: int


@dataclass(frozen=True, kw_only=True)
class HoldOut(_Validated):
    """λ_o at ``temp_c`` as fitted by the cell benches and as predicted by the law fitted without it."""

    temp_c: float
    lam_fitted: float
    lam_predicted: float


@dataclass(frozen=True, kw_only=True)
class CellLamLaw(_Validated):
    """λ_o(T) = lam_offset_cal − i_ref_a·(exp(−(e_a_ev/k)(1/T − 1/T_ref)) − 1)/I_A(T), T_ref = ``t_ref_c``.

    The change of a junction current I_j(T) = i_ref_a·exp(−(E_a/k)(1/T − 1/T_ref)) from its value at
    T_ref, as a λ (module :mod:`logdomain.leakage_shift`); least squares in λ over ``temps_c`` with the
    calibration temperature's value held exactly. ``residuals``: λ_fitted − λ_law at each of ``temps_c``;
    ``rms_lam_residual``/``max_lam_residual`` over the points other than T_ref; ``holdout``: each
    point other than T_ref predicted by the law fitted without it; [``temp_min_c``, ``temp_max_c``]:
    the range the model accepts. ``lam_offset_cal`` records the λ_o(T_cal) the fit held; the model takes
    λ_o(T_cal) from ``learner.nominal`` (the same number in a file ``logdomain calibrate`` wrote).
    """

    i_ref_a: float
    e_a_ev: float
    t_ref_c: float
    lam_offset_cal: float
    temps_c: list = field(default_factory=list)
    residuals: list = field(default_factory=list)
    rms_lam_residual: float
    max_lam_residual: float
    temp_min_c: float
    temp_max_c: float
    holdout: list = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "CellLamLaw"
        object.__setattr__(self, "temps_c", _temps(owner, "temps_c", self.temps_c, minimum=2))
        res = [_check_number(owner, f"residuals[{k}]", r, (-1.0, 1.0)) for k, r in enumerate(_list(owner, "residuals", self.residuals))]
        if len(res) != len(self.temps_c):
            raise CalibrationError(f"{owner}.residuals must have one entry per temps_c ({len(self.temps_c)}), got {len(res)}")
        hold = _records(owner, "holdout", self.holdout, HoldOut)
        object.__setattr__(self, "residuals", res)
        object.__setattr__(self, "holdout", hold)
        if not self.temp_min_c <= self.t_ref_c <= self.temp_max_c:
            raise CalibrationError(f"{owner}: need temp_min_c <= t_ref_c <= temp_max_c, got "
                                   f"{self.temp_min_c:g}, {self.t_ref_c:g}, {self.temp_max_c:g}")  # fmt: skip

    def i_junction_a(self, temp_c: float) -> float:
        """I_j(T) of the law, A."""
        return _arrhenius(self.i_ref_a, self.e_a_ev, self.t_ref_c, temp_c)


@dataclass(frozen=True, kw_only=True)
class CellLeakage(_Validated):
    """The working cell's λ_o over temperature: the model's input (module docstring).

    ``function``: what fitted each point; ``temps_c``: the grid; ``points``: the valid fits;
    ``not_valid``: temperatures whose cell fit failed or is not valid (``reason``); ``law``: the fit
    (None when fewer than two valid points besides T_cal bracket it, or the data give no positive
    junction current); ``notes``.
    """

    function: str
    temps_c: list
    points: list
    not_valid: list = field(default_factory=list)
    law: CellLamLaw | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "CellLeakage"
        object.__setattr__(self, "temps_c", _temps(owner, "temps_c", self.temps_c, minimum=1))
        points = _records(owner, "points", self.points, CellLamPoint)
        bad = _records(owner, "not_valid", self.not_valid, NotHeldPoint)
        _check_cover(owner, self.temps_c, points, bad, "not_valid")
        law = self.law
        if law is not None and not isinstance(law, CellLamLaw):
            law = CellLamLaw.from_dict(law, f"{owner}.law")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "not_valid", bad)
        object.__setattr__(self, "law", law)


def _arrhenius(i_ref_a: float, e_a_ev: float, t_ref_c: float, temp_c: float) -> float:
    from netlists.technologies.base import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C

    k_ev = BOLTZMANN_J_PER_K / ELEMENTARY_CHARGE_C
    return i_ref_a * math.exp(-e_a_ev / k_ev * (1.0 / (temp_c + 273.15) - 1.0 / (t_ref_c + 273.15)))


def cell_temps(quick: bool, temp_c: float) -> tuple[float, ...]:
    """The working cell's grid, °C: :data:`CELL_TEMPS_C` plus ``temp_c``; quick ``temp_c`` + :data:`QUICK_CELL_OFFSETS_C`."""
    grid = {temp_c + d for d in QUICK_CELL_OFFSETS_C} if quick else {*CELL_TEMPS_C, temp_c}
    return tuple(sorted(t for t in grid if -55.0 <= t <= 150.0))


def fit_cell_law(temps_c, lams, i_a_a, *, t_ref_c: float, lam_cal: float) -> tuple[float, float] | None:
    """(I_ref in A, E_a in eV) of :class:`CellLamLaw` by least squares in λ over the points (T_ref excluded:
    the law holds it exactly); None when the best fit has no positive junction current. For each E_a
    the best I_ref is linear least squares; E_a is searched over :data:`_E_A_BOUNDS_EV` (bounded Brent)."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    pts = [(t, l, a) for t, l, a in zip(temps_c, lams, i_a_a) if t != t_ref_c]
    if len(pts) < 2:
        return None
    d = np.array([l - lam_cal for _, l, _ in pts])

    def best(e_a: float) -> tuple[float, float]:
        g = np.array([(_arrhenius(1.0, e_a, t_ref_c, t) - 1.0) / a for t, _, a in pts])
        i_ref = -float(g @ d) / float(g @ g)
        return i_ref, float(np.sum((d + i_ref * g) ** 2))

    res = minimize_scalar(lambda e: best(e)[1], bounds=_E_A_BOUNDS_EV, method="bounded", options={"xatol": 1e-9})
    e_a = float(res.x)
    i_ref = best(e_a)[0]
    return (i_ref, e_a) if i_ref > 0 else None


def law_lam(i_ref_a: float, e_a_ev: float, t_ref_c: float, lam_cal: float, temp_c: float, i_a_a: float) -> float:
    """λ_o(T) of :class:`CellLamLaw` with I_A(T) = ``i_a_a``."""
    return lam_cal - (_arrhenius(i_ref_a, e_a_ev, t_ref_c, temp_c) - i_ref_a) / i_a_a


def measure_cell_leakage(tech, learner, *, temps_c: tuple[float, ...], temp_cal_c: float, quick: bool, sim,
                         simulator=None) -> CellLeakage:  # fmt: skip
    """λ_o(T) of the working cell at each of ``temps_c`` (:func:`calibration.learner_fit.fit_cell_lam_offset`,
    the cell part of :func:`~calibration.learner_fit.fit_learner` with the same plan) and its law.

    ``learner``: the calibration temperature's :class:`~calibration.learner_fit.LearnerFitResult` (its
    λ_o is the point at T_cal, its ``params`` — κ measured at T_cal — set I_A(T) as the model does).
    """
    import dataclasses

    import numpy as np

    from netlists.errors import SimulationError

    from .learner_fit import fit_cell_lam_offset

    base = learner.params
    points: list[CellLamPoint] = []
    bad: list[NotHeldPoint] = []
    for t in temps_c:
        i_a = base.replace(temp_c=t).i_a_a
        if t == temp_cal_c:
            r = learner
        else:
            try:
                r = fit_cell_lam_offset(tech, quick=quick, sim=dataclasses.replace(sim, temp_c=t), simulator=simulator)
            except SimulationError as exc:
                bad.append(NotHeldPoint(temp_c=t, reason=f"the cell benches failed: {str(exc).splitlines()[0][:300]}"))
                continue
        lam, rms = r.nominal["lam_offset"], r.validation_rms["cell_stream"]
        if not (math.isfinite(lam) and math.isfinite(rms) and abs(lam) < 1.0 and rms < CELL_VALID_RMS):
            bad.append(NotHeldPoint(temp_c=t, reason=f"the working cell's fit breaks down (lam_offset {lam:.3g}, held-out "
                                                     f"stream rms {rms:.3g} I_u, limit {CELL_VALID_RMS:g})"))  # fmt: skip
            continue
        points.append(CellLamPoint(temp_c=t, lam_offset=lam, i_a_a=i_a, kappa=r.params.kappa, stream_validation_rms=rms,
                                   violations=sum(len(v) for v in r.violations.values())))  # fmt: skip
    valid = {p.temp_c: p for p in points}
    grid = sorted(temps_c)
    span: list[float] = []
    if temp_cal_c in valid:
        k = grid.index(temp_cal_c)
        lo, hi = k, k
        while lo > 0 and grid[lo - 1] in valid:
            lo -= 1
        while hi < len(grid) - 1 and grid[hi + 1] in valid:
            hi += 1
        span = grid[lo:hi + 1]
    notes = ("lam_offset fitted by calibration.learner_fit.fit_cell_lam_offset (the cell part of fit_learner, "
             f"{'quick' if quick else 'full'} plan, kappa measured again at each T) at each temperature; the calibration "
             "temperature's is the learner section's; i_a_a = C*U_T(T)/(kappa_cal*tau) as the model sets it")  # fmt: skip
    law = None
    fit = fit_cell_law(span, [valid[t].lam_offset for t in span], [valid[t].i_a_a for t in span], t_ref_c=temp_cal_c,
                       lam_cal=valid[temp_cal_c].lam_offset) if span else None  # fmt: skip
    if fit is not None:
        i_ref, e_a = fit
        lam_cal = valid[temp_cal_c].lam_offset
        resid = [valid[t].lam_offset - law_lam(i_ref, e_a, temp_cal_c, lam_cal, t, valid[t].i_a_a) for t in span]
        others = [r for t, r in zip(span, resid) if t != temp_cal_c]
        holdout = []
        for t in span:
            if t == temp_cal_c:
                continue
            rest = [u for u in span if u != t]
            sub = fit_cell_law(rest, [valid[u].lam_offset for u in rest], [valid[u].i_a_a for u in rest],
                               t_ref_c=temp_cal_c, lam_cal=lam_cal)  # fmt: skip
            if sub is not None:
                holdout.append(HoldOut(temp_c=t, lam_fitted=valid[t].lam_offset,
                                       lam_predicted=law_lam(*sub, temp_cal_c, lam_cal, t, valid[t].i_a_a)))  # fmt: skip
        law = CellLamLaw(i_ref_a=i_ref, e_a_ev=e_a, t_ref_c=temp_cal_c, lam_offset_cal=lam_cal, temps_c=span,
                         residuals=resid, rms_lam_residual=float(np.sqrt(np.mean(np.square(others)))),
                         max_lam_residual=float(np.max(np.abs(others))), temp_min_c=span[0], temp_max_c=span[-1],
                         holdout=holdout)  # fmt: skip
    else:
        notes += (f"; no law: fewer than two valid temperatures besides {temp_cal_c:g} degC around it, or no positive "
                  "junction current fits them (the model then runs at the calibration temperature only)")  # fmt: skip
    return CellLeakage(function="calibration.learner_fit.fit_cell_lam_offset", temps_c=list(temps_c), points=points,
                       not_valid=bad, law=law, notes=notes)  # fmt: skip
