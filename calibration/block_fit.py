"""Block-level calibration: the translinear multiplier's gain, offset and nonlinearity.

Model (A): ``I_out = gain · P · (P / i_unit)^nonlinearity + offset`` with ``P = I_y·I_z/I_x``:
``gain`` is the ratio at the unit current, ``nonlinearity`` the log–log slope error
(DIBL, moderate inversion) and ``offset`` a leakage-like additive current. Fitted with
``scipy.optimize.least_squares`` on relative error over SPICE sweeps; the fit is checked on
points not used in it (a log-uniform random set of all three inputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from netlists import MultiplierParams, SimParams, Simulator, blocks, get_simulator
from netlists.technologies.base import Technology

__all__ = ["MultiplierData", "MultiplierFit", "simulate_multiplier_points", "fit_multiplier", "multiplier_model_a"]


@dataclass(frozen=True)
class MultiplierData:
    inputs_a: np.ndarray  # (P, 3): I_x, I_y, I_z
    i_out_a: np.ndarray

    @property
    def product_a(self) -> np.ndarray:
        return self.inputs_a[:, 1] * self.inputs_a[:, 2] / self.inputs_a[:, 0]


@dataclass(frozen=True)
class MultiplierFit:
    gain: float
    offset_a: float
    nonlinearity: float
    i_unit_a: float
    rms_rel_error_fit: float
    rms_rel_error_validation: float
    rms_rel_error_ideal_validation: float


def multiplier_model_a(product_a, gain: float, offset_a: float, nonlinearity: float, i_unit_a: float):
    product = np.asarray(product_a, dtype=float)
    return gain * product * (product / i_unit_a) ** nonlinearity + offset_a


def simulate_multiplier_points(
    tech: Technology,
    inputs_a: np.ndarray,
    *,
    base: MultiplierParams | None = None,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> MultiplierData:
    simulator = simulator or get_simulator()
    base = base or MultiplierParams()
    out = []
    for i_x, i_y, i_z in inputs_a:
        netlist = blocks.multiplier(tech, base.replace(i_x_a=float(i_x), i_y_a=float(i_y), i_z_a=float(i_z)))
        out.append(float(simulator.run(netlist, sim).drain_current("m3")[0]))
    return MultiplierData(np.asarray(inputs_a, dtype=float), np.array(out))


def design_points(i_unit_a: float, decades: float, count: int, seed: int) -> np.ndarray:
    """Log-uniform random (I_x, I_y, I_z) within ±decades/2 of the unit current."""
    rng = np.random.default_rng(seed)
    return i_unit_a * 10 ** rng.uniform(-decades / 2, decades / 2, size=(count, 3))


def fit_multiplier(train: MultiplierData, validation: MultiplierData, i_unit_a: float) -> MultiplierFit:
    def residual(theta, data: MultiplierData):
        gain, offset_na, nl = theta
        model = multiplier_model_a(data.product_a, gain, offset_na * 1e-9, nl, i_unit_a)
        return model / data.i_out_a - 1.0

    fit = least_squares(residual, [1.0, 0.0, 0.0], args=(train,), bounds=([0.1, -1e3, -1.0], [10.0, 1e3, 1.0]))
    gain, offset_na, nl = fit.x
    rms = lambda r: float(np.sqrt(np.mean(r**2)))  # noqa: E731
    return MultiplierFit(
        gain=float(gain),
        offset_a=float(offset_na * 1e-9),
        nonlinearity=float(nl),
        i_unit_a=i_unit_a,
        rms_rel_error_fit=rms(residual(fit.x, train)),
        rms_rel_error_validation=rms(residual(fit.x, validation)),
        rms_rel_error_ideal_validation=rms(validation.product_a / validation.i_out_a - 1.0),
    )
