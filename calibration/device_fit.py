"""Device-level calibration: fit EKV parameters to SPICE I–V sweeps.

Sweeps cover W, L, V_GS and V_DS (and temperature); the fit is
``scipy.optimize.least_squares`` on the log of the drain current over the
weak-to-moderate inversion window the learner uses (default IC ≤ 0.1), so every decade
weighs the same. Temperature dependence (V_T0 slope ``tcv`` and mobility exponent
``bex``) comes from repeating the fit at several temperatures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from netlists import MosBenchParams, SimParams, Simulator, get_simulator
from netlists.measure import iv_curve
from netlists.technologies.base import Technology

from .ekv_model import ekv_current_a
from .schema import DeviceFit

__all__ = ["IVData", "collect_iv", "fit_ekv", "fit_ekv_temperature", "EkvParams"]


@dataclass(frozen=True)
class IVData:
    """Flattened I–V points of one polarity: voltages polarity-normalized, source = bulk = 0."""

    vgs_v: np.ndarray
    vds_v: np.ndarray
    w_m: np.ndarray
    l_m: np.ndarray
    id_a: np.ndarray
    temp_c: float
    polarity: str

    def select(self, mask: np.ndarray) -> "IVData":
        return IVData(self.vgs_v[mask], self.vds_v[mask], self.w_m[mask], self.l_m[mask], self.id_a[mask], self.temp_c, self.polarity)


@dataclass(frozen=True)
class EkvParams:
    """EKV parameters at one temperature (A, V)."""

    i_spec_sq_a: float
    n: float
    vt0_v: float
    sigma_dibl: float
    rms_log_error: float
    n_points: int
    #: the fit window: points with I_D <= ic_max · I_spec□ · W/L (inversion coefficient, dimensionless)
    ic_max: float = 0.1


def collect_iv(
    tech: Technology,
    polarity: str,
    *,
    sizes_m: list[tuple[float, float]],
    vds_values_v: list[float],
    temp_c: float = 27.0,
    vgs_start_v: float = 0.0,
    vgs_stop_v: float = 0.7,
    vgs_step_v: float = 0.01,
    simulator: Simulator | None = None,
) -> IVData:
    """Run I_D–V_GS sweeps for every (W, L) × V_DS and flatten them."""
    simulator = simulator or get_simulator()
    sim = SimParams(temp_c=temp_c)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("vgs", "vds", "w", "l", "id")}
    for w_m, l_m in sizes_m:
        for vds in vds_values_v:
            params = MosBenchParams(w_m=w_m, l_m=l_m, vds_v=vds, vgs_start_v=vgs_start_v, vgs_stop_v=vgs_stop_v, vgs_step_v=vgs_step_v)
            curve = iv_curve(tech, polarity, params, sim=sim, simulator=simulator)
            cols["vgs"].append(curve.vgs_v)
            cols["vds"].append(np.full_like(curve.vgs_v, vds))
            cols["w"].append(np.full_like(curve.vgs_v, w_m))
            cols["l"].append(np.full_like(curve.vgs_v, l_m))
            cols["id"].append(curve.id_a)
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    return IVData(cat["vgs"], cat["vds"], cat["w"], cat["l"], cat["id"], temp_c, polarity)


def _model(theta: np.ndarray, data: IVData) -> np.ndarray:
    log_is, n, vt0, sigma = theta
    return ekv_current_a(
        data.vgs_v, 0.0, data.vds_v, i_spec_sq_a=np.exp(log_is), n=n, vt0_v=vt0, sigma_dibl=sigma,
        w_over_l=data.w_m / data.l_m, temp_c=data.temp_c,
    )


def fit_ekv(
    data: IVData,
    *,
    i_floor_a: float = 1e-13,
    ic_max: float = 0.1,
    initial: EkvParams | None = None,
    fixed_i_spec_sq_a: float | None = None,
) -> EkvParams:
    """Least-squares fit of (I_spec□, n, V_T0, σ) on ln I_D.

    Points below ``i_floor_a`` (leakage, abstol) are dropped; after a first fit, points above
    ``ic_max`` (strong inversion, outside the learner's range) are dropped and the fit repeated.
    With ``fixed_i_spec_sq_a`` the specific current is held (weak-inversion data alone cannot
    separate I_spec from V_T0: only I_spec·e^{−V_T0/(nU_T)} is seen).
    """
    keep = data.id_a > i_floor_a
    work = data.select(keep)
    theta0 = np.array([np.log(5e-7), 1.4, 0.5, 0.0]) if initial is None else np.array(
        [np.log(initial.i_spec_sq_a), initial.n, initial.vt0_v, initial.sigma_dibl]
    )
    lower, upper = [np.log(1e-10), 1.0, -0.2, -0.2], [np.log(1e-3), 3.0, 1.5, 0.2]
    free = np.ones(4, dtype=bool)
    if fixed_i_spec_sq_a is not None:
        theta0[0] = np.log(fixed_i_spec_sq_a)
        free[0] = False
    bounds = (np.array(lower)[free], np.array(upper)[free])
    scale = np.array([1.0, 0.1, 0.1, 0.01])[free]

    def full(x: np.ndarray) -> np.ndarray:
        theta = theta0.copy()
        theta[free] = x
        return theta

    def residual(x: np.ndarray, subset: IVData) -> np.ndarray:
        return np.log(_model(full(x), subset)) - np.log(subset.id_a)

    fit = least_squares(residual, theta0[free], args=(work,), bounds=bounds, x_scale=scale)
    window = np.ones(len(work.id_a), dtype=bool)
    for _ in range(2):  # restrict to the weak/moderate inversion window of the fitted model
        i_spec = np.exp(full(fit.x)[0]) * work.w_m / work.l_m
        window = work.id_a <= ic_max * i_spec
        fit = least_squares(residual, fit.x, args=(work.select(window),), bounds=bounds, x_scale=scale)
    final = work.select(window)
    theta = full(fit.x)
    rms = float(np.sqrt(np.mean(residual(fit.x, final) ** 2)))
    return EkvParams(float(np.exp(theta[0])), float(theta[1]), float(theta[2]), float(theta[3]), rms, int(window.sum()), float(ic_max))


def fit_ekv_temperature(fits: dict[float, EkvParams], temp_nom_c: float = 27.0, *, bex_fixed: float | None = None) -> tuple[float, float]:
    """(tcv_v_per_k, bex) from fits at several temperatures.

    V_T0(T) = V_T0(T_nom) − tcv·(T − T_nom);  I_spec□(T) ∝ n·μ(T)·U_T² ∝ (T/T_nom)^(bex + 2).
    With ``bex_fixed`` (I_spec held in the fits) only tcv is fitted.
    """
    temps = np.array(sorted(fits))
    if len(temps) < 2:
        return 0.0, -1.5
    if bex_fixed is not None:
        vt0 = np.array([fits[t].vt0_v for t in temps])
        return -float(np.polyfit(temps, vt0, 1)[0]), bex_fixed
    vt0 = np.array([fits[t].vt0_v for t in temps])
    tcv = -float(np.polyfit(temps, vt0, 1)[0])
    kelvin = (temps + 273.15) / (temp_nom_c + 273.15)
    log_is = np.log([fits[t].i_spec_sq_a / fits[t].n for t in temps])
    slope = float(np.polyfit(np.log(kelvin), log_is, 1)[0])
    return tcv, slope - 2.0


def device_fit(params_by_temp: dict[float, EkvParams], temp_nom_c: float, *, bex_fixed: float | None = None) -> DeviceFit:
    """Bundle the nominal-temperature fit and its temperature coefficients."""
    nominal = params_by_temp[temp_nom_c]
    tcv, bex = fit_ekv_temperature(params_by_temp, temp_nom_c, bex_fixed=bex_fixed)
    return DeviceFit(
        i_spec_sq_a=nominal.i_spec_sq_a, n=nominal.n, vt0_v=nominal.vt0_v, sigma_dibl=nominal.sigma_dibl,
        tcv_v_per_k=tcv, bex=bex, rms_log_error=nominal.rms_log_error, temp_nom_c=temp_nom_c,
    )
