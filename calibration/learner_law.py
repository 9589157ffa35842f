"""The behavioural learner's block laws, as :mod:`logdomain.learner_model` defines them, and their fits.

Pure numpy/scipy (no SPICE): :mod:`calibration.learner_fit` feeds these functions with bench data.
All currents in units of I_u; time in units of the cells' design τ = C·U_T/(κ·I_A), so a hold lasts
h = T_s/τ = η·s_x². With the nominal gains g (:data:`IDEAL` are their ideal values)::

    forward product   I_m3 = g_fwd·W·X                      target   Y_out = g_y·Y
    error path        E = g_a·E_a − g_b·E_b,   r = √(E²/4 + φ·f_e²)
                      e⁺ = c⁺·(r + E/2 + f₂),  e⁻ = c⁻·(r − E/2 + f₂)
    weight cell       dW/dt = ρ·[T·D − z·Z] − ρ·(λ_c + λ_o)·W,   D = e⁺X^a + e⁻X^b

(g_fwd = ``fwd_gain``, g_y = ``target_gain``, g_a/g_b = ``err_gain_a``/``err_gain_b``, φ =
``ab_floor_gain``, c± = ``e_plus_gain``/``e_minus_gain``, ρ = ``rate_scale``, T = ``term_gain``, z =
``z_gain``, λ_o = ``lam_offset``). In the learner E_a = Y⁺ + Q and E_b = Y⁻ + P (the model's
``logdomain._learner_kernel._rhs_numpy``), Z is the common-mode feedback and D of the cell of half
a is e⁺X^a + e⁻X^b (b the other half). Only ρ·T, ρ·z and ρ·(λ_c + λ_o) enter the learner's
dynamics; ρ itself is the λ_c = 1 step's rate. Not in the model (a diagnostic): the drive reaching
the cell through a first-order lag dq/dt = (D − q)/τ_d.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.optimize import least_squares

__all__ = ["IDEAL", "NOMINAL_KEYS", "forward_gain", "error_split", "fit_error_gains", "error_rms", "cell_rate",
           "cell_response", "CellRun", "fit_cell_law", "cell_rms", "ERROR_FREE", "CELL_FREE", "STEP_FREE", "STREAM_FREE"]

#: the fitted nominal gains and their ideal values (the model's ``NOMINAL_FIELDS`` plus ``ab_floor_gain``)
IDEAL: dict[str, float] = {"rate_scale": 1.0, "term_gain": 1.0, "z_gain": 1.0, "fwd_gain": 1.0, "target_gain": 1.0,
                           "err_gain_a": 1.0, "err_gain_b": 1.0, "e_plus_gain": 1.0, "e_minus_gain": 1.0,
                           "lam_offset": 0.0, "ab_floor_gain": 1.0}  # fmt: skip
NOMINAL_KEYS = tuple(IDEAL)
#: gains fitted to the error path (err_gain_a ≡ 1: a common gain of E_a and E_b trades against c±,
#: only f₂ tells them apart) and to the weight cell
ERROR_FREE = ("err_gain_b", "e_plus_gain", "e_minus_gain", "ab_floor_gain")
CELL_FREE = ("rate_scale", "term_gain", "z_gain", "lam_offset")
#: (a) the λ_c = 1 step gives the rate (and its own level gain); (b) the streams the rest, at that rate
STEP_FREE, STREAM_FREE = ("rate_scale", "term_gain"), ("term_gain", "z_gain", "lam_offset")
_BOUNDS = {**{k: (0.1, 10.0) for k in IDEAL}, "lam_offset": (-1.0, 1.0), "lag": (0.0, 1.0)}


def _rms(r: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(r))))


def forward_gain(w: np.ndarray, x: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    """Gain g of ``out = g·w·x`` by least squares of the relative residual (closed form), and the rms
    of that residual (the spread of the ratio around g)."""
    m = np.asarray(w, dtype=float) * np.asarray(x, dtype=float) / np.asarray(out, dtype=float)
    g = float(np.sum(m) / np.sum(m * m))
    return g, _rms(g * m - 1.0)


def error_split(e_a, e_b, gains: dict[str, float], f_e: float, f_2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E, e⁺, e⁻) of the class-AB error path for the sinks E_a, E_b (units of I_u)."""
    e = gains["err_gain_a"] * np.asarray(e_a, dtype=float) - gains["err_gain_b"] * np.asarray(e_b, dtype=float)
    r = np.sqrt(0.25 * e * e + gains["ab_floor_gain"] * f_e * f_e)
    return e, gains["e_plus_gain"] * (r + 0.5 * e + f_2), gains["e_minus_gain"] * (r - 0.5 * e + f_2)


def _error_residual(grid: np.ndarray, gains: dict[str, float], f_e: float, f_2: float) -> np.ndarray:
    _, ep, em = error_split(grid[:, 0], grid[:, 1], gains, f_e, f_2)
    return np.concatenate([ep / grid[:, 2] - 1.0, em / grid[:, 3] - 1.0])


def error_rms(grid: np.ndarray, gains: dict[str, float], f_e: float, f_2: float) -> float:
    """Rms relative error of e± predicted by ``gains`` on ``grid`` rows (E_a, E_b, e⁺, e⁻)."""
    return _rms(_error_residual(np.asarray(grid, dtype=float), gains, f_e, f_2))


def fit_error_gains(grid: np.ndarray, f_e: float, f_2: float, fixed: dict[str, float] | None = None) -> tuple[dict[str, float], float]:
    """:data:`ERROR_FREE` (but those in ``fixed``) by least squares of e±'s relative errors over
    ``grid`` rows (E_a, E_b, e⁺, e⁻); returns (gains with err_gain_a = 1 and ``fixed``, rms)."""
    grid = np.asarray(grid, dtype=float)
    fixed = dict(fixed or {})
    free = [k for k in ERROR_FREE if k not in fixed]

    def residual(theta):
        return _error_residual(grid, {**IDEAL, **fixed, **dict(zip(free, theta))}, f_e, f_2)

    lo, hi = zip(*(_BOUNDS[k] for k in free))
    fit = least_squares(residual, [IDEAL[k] for k in free], bounds=(lo, hi), xtol=1e-12, ftol=1e-12)
    return {"err_gain_a": 1.0, **fixed, **dict(zip(free, map(float, fit.x)))}, _rms(fit.fun)


def cell_rate(w, drive, z, lam_c: float, gains: dict[str, float]):
    """dW/dt of the cell law (units of I_u per τ) at state ``w`` with drive D and sink Z."""
    rho = gains["rate_scale"]
    return rho * (gains["term_gain"] * np.asarray(drive) - gains["z_gain"] * np.asarray(z)) - rho * (lam_c + gains["lam_offset"]) * np.asarray(w)


class _Stimulus(Protocol):
    holds: int
    drive: np.ndarray
    z: np.ndarray


def cell_response(stim: _Stimulus, w0: float, h: float, lam_c: float, gains: dict[str, float], lag: float = 0.0) -> np.ndarray:
    """W at the end of every hold (H + 1 values, W[0] = w0) of the cell law, exact for inputs constant
    over each hold (hold length ``h`` in units of τ). ``lag`` > 0 (units of τ): the drive reaches the
    cell through dq/dt = (D − q)/lag, q starting at hold 0's drive (the operating point) — not in the model."""
    rho = gains["rate_scale"]
    a, b = rho * (lam_c + gains["lam_offset"]), rho * gains["term_gain"]
    drive, sink = np.asarray(stim.drive, dtype=float), rho * gains["z_gain"] * np.asarray(stim.z, dtype=float)
    decay = np.exp(-a * h)
    phi = -np.expm1(-a * h) / a if abs(a) > 1e-12 else h
    out = np.empty(stim.holds + 1)
    out[0] = w = w0
    q = drive[0]
    for k in range(stim.holds):
        w_next = w * decay + (b * drive[k] - sink[k]) * phi
        if lag > 0:  # the particular solution of the lagged drive: q − D decays as e^{−t/lag}
            e_q = np.exp(-h / lag)
            w_next += b * (q - drive[k]) * (e_q - decay) / (a - 1.0 / lag)
            q = drive[k] + (q - drive[k]) * e_q
        out[k + 1] = w = w_next
    return out


@dataclass(frozen=True)
class CellRun:
    """One cell response: its stimulus, λ_c and W at the hold ends (units of I_u)."""

    stim: _Stimulus
    lam_c: float
    w: np.ndarray


def cell_rms(runs: list[CellRun], h: float, gains: dict[str, float], lag: float = 0.0) -> float:
    """Rms of W (units of I_u) predicted by the cell law with ``gains`` against ``runs``."""
    return _rms(np.concatenate([cell_response(r.stim, r.w[0], h, r.lam_c, gains, lag) - r.w for r in runs]))


def fit_cell_law(runs: list[CellRun], h: float, free: tuple[str, ...] = CELL_FREE,
                 fixed: dict[str, float] | None = None) -> tuple[dict[str, float], float]:  # fmt: skip
    """The gains named in ``free`` (keys of :data:`IDEAL`, or ``"lag"``: the drive lag in units of τ)
    by least squares of W over all ``runs`` at once, the others at ``fixed`` (or ideal); returns
    (the fitted values, rms in units of I_u)."""
    base = {**IDEAL, "lag": 0.0, **(fixed or {})}

    def residual(theta):
        g = {**base, **dict(zip(free, theta))}
        return np.concatenate([cell_response(r.stim, r.w[0], h, r.lam_c, g, g["lag"]) - r.w for r in runs])

    lo, hi = zip(*(_BOUNDS[n] for n in free))
    start = [base[n] if n != "lag" else 0.02 for n in free]
    fit = least_squares(residual, start, bounds=(lo, hi), xtol=1e-12, ftol=1e-12)
    return dict(zip(free, map(float, fit.x))), _rms(fit.fun)
