"""Block-level calibration: the translinear multiplier's gain, offset and nonlinearity.

Model (A): ``I_out = gain · P · (P / i_unit)^nonlinearity + offset`` with ``P = I_y·I_z/I_x``:
``gain`` is the ratio at the unit current, ``nonlinearity`` the log–log slope error
(DIBL, moderate inversion) and ``offset`` a leakage-like additive current (held at 0 unless
asked for: see :func:`fit_multiplier`). Fitted with
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
    """Log-uniform random (I_x, I_y, I_z) within ±decades/2 of the unit current, keeping only
    points whose product I_y·I_z/I_x also lies in that range (the block's operating range)."""
    rng = np.random.default_rng(seed)
    points: list[np.ndarray] = []
    half = decades / 2
    while len(points) < count:
        cand = 10 ** rng.uniform(-half, half, size=3)
        if abs(np.log10(cand[1] * cand[2] / cand[0])) <= half:
            points.append(i_unit_a * cand)
    return np.array(points)


def fit_multiplier(train: MultiplierData, validation: MultiplierData, i_unit_a: float, *, fit_offset: bool = False) -> MultiplierFit:
    """Fit gain and nonlinearity (and, with ``fit_offset``, an additive offset) on ``train``.

    The offset is held at 0 by default: junction leakage at these currents is femtoamperes,
    and a free offset only trades against the nonlinearity (it came out negative while the
    measured error at small products is positive).
    """

    def unpack(theta):
        return (theta[0], theta[1], theta[2]) if fit_offset else (theta[0], 0.0, theta[1])

    def residual(theta, data: MultiplierData):
        gain, offset_na, nl = unpack(theta)
        model = multiplier_model_a(data.product_a, gain, offset_na * 1e-9, nl, i_unit_a)
        return model / data.i_out_a - 1.0

    if fit_offset:
        start, bounds = [1.0, 0.0, 0.0], ([0.1, -1e3, -1.0], [10.0, 1e3, 1.0])
    else:
        start, bounds = [1.0, 0.0], ([0.1, -1.0], [10.0, 1.0])
    fit = least_squares(residual, start, args=(train,), bounds=bounds)
    gain, offset_na, nl = unpack(fit.x)
    rms = lambda r: float(np.sqrt(np.mean(r**2)))  # noqa: E731
    return MultiplierFit(
        gain=float(gain),
        offset_a=float(offset_na * 1e-9),
        nonlinearity=float(nl),
        i_unit_a=i_unit_a,
        rms_rel_error_fit=rms(residual(fit.x, train)),  # noqa: E501
        rms_rel_error_validation=rms(residual(fit.x, validation)),
        rms_rel_error_ideal_validation=rms(validation.product_a / validation.i_out_a - 1.0),
    )
