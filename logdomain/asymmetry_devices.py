"""Devices of :mod:`logdomain.asymmetry`: their update laws dW/dt(state, drive r, asymmetry a) in
units of the device's τ, vectorised over (asymmetries, seeds, weights).

Each device has ``init(a, shape)`` (its state: a list of arrays), ``read(state)`` (the weight),
``rate(state, r, a)`` (d state/dt), ``clamp(state)`` (keeps a log-domain current above
:data:`W_MIN`) and ``response(w, …)`` (q₊(w), q₋(w), Wu et al.'s response factors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["W_MIN", "SoftBounds", "LogDomainPair", "TableDevice"]

FloatArray = NDArray[np.float64]

#: smallest half-cell state W± (units of max|w*|): a log-domain current never reaches 0
W_MIN = 1e-6


def _check(owner: str, name: str, value: Any, low: float, high: float, *, integer: bool = False) -> Any:
    """``value`` if it is a finite number (an int when ``integer``) in [low, high], else ValueError naming it."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value)) and low <= float(value) <= high
    if integer:
        ok = ok and float(value) == int(value)
    if not ok:
        kind = "an integer" if integer else "a finite number"
        raise ValueError(f"{owner}.{name} must be {kind} in [{low:g}, {high:g}], got {value!r}")
    return int(value) if integer else float(value)


@dataclass(frozen=True, kw_only=True)
class SoftBounds:
    """The reference device of Wu et al.: soft bounds ±1/a, dW/dt = r − a·|r|·W (no parameters
    but the asymmetry, which the runs take as an array)."""

    name: str = "reference"

    def init(self, a: FloatArray, shape: tuple[int, ...]) -> list[FloatArray]:
        return [np.zeros(shape)]

    @staticmethod
    def read(state: list[FloatArray]) -> FloatArray:
        return state[0]

    @staticmethod
    def rate(state: list[FloatArray], r: FloatArray, a: FloatArray) -> list[FloatArray]:
        return [r - a * np.abs(r) * state[0]]

    @staticmethod
    def clamp(state: list[FloatArray]) -> list[FloatArray]:
        return state

    def response(self, w: FloatArray, a: float) -> tuple[FloatArray, FloatArray]:
        """(q₊(w), q₋(w)): the up and down step per unit request at weight w."""
        w = np.asarray(w, dtype=float)
        return 1.0 - a * w, 1.0 + a * w


@dataclass(frozen=True, kw_only=True)
class LogDomainPair:
    """Pseudo-differential pair of log-domain cells (W = W⁺ − W⁻) with a half-gain difference.

    Parameters
    ----------
    lam : float
        λ of each half (the cells' decay, units of 1/τ), 0 … 1000.
    cm_set : float
        S₀, common-mode set point of W⁺ + W⁻ (units of max|w*|), 0.1 … 100.
    cm_gain : float
        β of the common-mode sink Z = β·max(S − S₀, 0) (1/τ), 0 … 100.
    lam_mismatch : float
        Relative λ difference of the halves, λ± = λ(1 ± lam_mismatch), −1 … 1 (couples the
        common mode into w: dw/dt ∋ −λ·lam_mismatch·S).
    """

    lam: float = 1e-3
    cm_set: float = 1.4
    cm_gain: float = 1.0
    lam_mismatch: float = 0.0
    name: str = "logdomain"

    def __post_init__(self) -> None:
        o = "LogDomainPair"
        object.__setattr__(self, "lam", _check(o, "lam", self.lam, 0.0, 1000.0))
        object.__setattr__(self, "cm_set", _check(o, "cm_set", self.cm_set, 0.1, 100.0))
        object.__setattr__(self, "cm_gain", _check(o, "cm_gain", self.cm_gain, 0.0, 100.0))
        object.__setattr__(self, "lam_mismatch", _check(o, "lam_mismatch", self.lam_mismatch, -1.0, 1.0))

    @classmethod
    def from_calibration(cls, calibration: Any, **kw: Any) -> "LogDomainPair":
        """The pair of the calibrated learner in units of its weights (w = s_w·(W⁺ − W⁻)): S₀ = s_w·i_cm/i_u
        × the realised ``cm_set_ratio``, β = cm_gain × ``cm_gain_ratio``, λ = the design λ."""
        fit = getattr(calibration, "learner", None)
        if fit is None:
            raise ValueError("this calibration has no learner section (schema version 1): regenerate it with `logdomain calibrate`")
        d, diag = fit.design, fit.diagnostics or {}
        s0 = d["w_scale"] * d["i_cm_a"] / d["i_u_a"] * float(diag.get("cm_set_ratio", 1.0))
        beta = d["cm_gain"] * float(diag.get("cm_gain_ratio", 1.0))
        return cls(**{"lam": float(d["lam"]), "cm_set": s0, "cm_gain": beta, **kw})

    def init(self, a: FloatArray, shape: tuple[int, ...]) -> list[FloatArray]:
        return [np.full(shape, 0.5 * self.cm_set), np.full(shape, 0.5 * self.cm_set)]

    @staticmethod
    def read(state: list[FloatArray]) -> FloatArray:
        return state[0] - state[1]

    def rate(self, state: list[FloatArray], r: FloatArray, a: FloatArray) -> list[FloatArray]:
        wp, wm = state
        z = self.cm_gain * np.maximum(wp + wm - self.cm_set, 0.0)
        lp, lm = self.lam * (1.0 + self.lam_mismatch), self.lam * (1.0 - self.lam_mismatch)
        return [(1.0 + a) * np.maximum(r, 0.0) - lp * wp - z, (1.0 - a) * np.maximum(-r, 0.0) - lm * wm - z]

    @staticmethod
    def clamp(state: list[FloatArray]) -> list[FloatArray]:
        return [np.maximum(s, W_MIN) for s in state]

    def response(self, w: FloatArray, a: float) -> tuple[FloatArray, FloatArray]:
        """(q₊(w), q₋(w)) of the pair's law: 1 ± a wherever both halves are above their floor."""
        w = np.asarray(w, dtype=float)
        return np.full(w.shape, 1.0 + a), np.full(w.shape, 1.0 - a)


@dataclass(frozen=True, kw_only=True)
class TableDevice:
    """A device whose response factors are measured tables: dW/dt = q₊(W)·[r]₊ − q₋(W)·[−r]₊ − λW.

    One table per asymmetry point (the runs' ``asymmetry`` only labels them): ``w`` (n,) increasing
    weight grid, ``q_plus``/``q_minus`` (P, n), interpolated linearly and held constant beyond the
    grid (e.g. the SPICE-measured pairs of :mod:`calibration.update_response`, normalised so F = 1 at
    w = 0 of the nominal pair). ``lam``: decay (1/τ), 0 … 1000.
    """

    w: tuple[float, ...]
    q_plus: tuple[tuple[float, ...], ...]
    q_minus: tuple[tuple[float, ...], ...]
    lam: float = 0.0
    name: str = "table"

    def __post_init__(self) -> None:
        w = np.asarray(self.w, dtype=float)
        qp, qm = np.asarray(self.q_plus, dtype=float), np.asarray(self.q_minus, dtype=float)
        if w.ndim != 1 or w.size < 2 or not np.all(np.isfinite(w)) or np.any(np.diff(w) <= 0):
            raise ValueError("TableDevice.w must be >= 2 increasing finite numbers")
        for name, q in (("q_plus", qp), ("q_minus", qm)):
            if q.ndim != 2 or q.shape[1] != w.size or not np.all(np.isfinite(q)) or np.any(q < 0):
                raise ValueError(f"TableDevice.{name} must be (tables, {w.size}) finite numbers >= 0, got shape {q.shape}")
        if qp.shape != qm.shape:
            raise ValueError(f"TableDevice.q_plus and q_minus must have one shape, got {qp.shape} and {qm.shape}")
        object.__setattr__(self, "lam", _check("TableDevice", "lam", self.lam, 0.0, 1000.0))

    def init(self, a: FloatArray, shape: tuple[int, ...]) -> list[FloatArray]:
        if shape[0] != len(self.q_plus):
            raise ValueError(f"TableDevice has {len(self.q_plus)} tables; the run has {shape[0]} asymmetry points")
        return [np.zeros(shape)]

    @staticmethod
    def read(state: list[FloatArray]) -> FloatArray:
        return state[0]

    def _interp(self, w: FloatArray) -> tuple[FloatArray, FloatArray]:
        """q₊, q₋ at states ``w`` (P, …), table p for row p: linear, constant beyond the grid."""
        grid = np.asarray(self.w)
        idx = np.clip(np.searchsorted(grid, w) - 1, 0, grid.size - 2)
        t = np.clip((w - grid[idx]) / (grid[idx + 1] - grid[idx]), 0.0, 1.0)
        rows = np.arange(w.shape[0]).reshape((-1,) + (1,) * (w.ndim - 1))
        qp, qm = np.asarray(self.q_plus), np.asarray(self.q_minus)
        return (qp[rows, idx] * (1 - t) + qp[rows, idx + 1] * t, qm[rows, idx] * (1 - t) + qm[rows, idx + 1] * t)

    def rate(self, state: list[FloatArray], r: FloatArray, a: FloatArray) -> list[FloatArray]:
        w = state[0]
        qp, qm = self._interp(w)
        return [qp * np.maximum(r, 0.0) - qm * np.maximum(-r, 0.0) - self.lam * w]

    @staticmethod
    def clamp(state: list[FloatArray]) -> list[FloatArray]:
        return state

    def response(self, w: FloatArray, p: int = 0) -> tuple[FloatArray, FloatArray]:
        """(q₊(w), q₋(w)) of table ``p``."""
        w = np.asarray(w, dtype=float)
        return np.interp(w, self.w, self.q_plus[p]), np.interp(w, self.w, self.q_minus[p])
