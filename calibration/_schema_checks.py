"""Validation primitives of the calibration schema: the ranges table and the checked-number helpers.

Every numeric field of :mod:`calibration.schema` is checked here against one table (:data:`_RANGES`,
with :data:`_OPEN_ENDS` for excluded ends); a failure raises :class:`CalibrationError` naming the
dataclass, the field and the allowed range.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, fields
from typing import Any

__all__ = ["CalibrationError"]


class CalibrationError(ValueError):
    """A calibration file is unreadable, of an unknown version, or has a bad field (named)."""


# (low, high) allowed for every numeric field, by dataclass name and field name
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "Provenance": {"temp_c": (-55.0, 150.0)},
    "DeviceFit": {
        "i_spec_sq_a": (1e-10, 1e-3),
        "n": (1.0, 3.0),
        "vt0_v": (0.0, 1.5),
        "sigma_dibl": (-0.2, 0.2),
        "tcv_v_per_k": (-0.01, 0.01),
        "bex": (-3.0, 0.5),
        "rms_log_error": (0.0, 10.0),
        "temp_nom_c": (-55.0, 150.0),
    },
    "BlockFit": {
        "multiplier_gain": (0.1, 10.0),
        "multiplier_offset_a": (-1e-6, 1e-6),
        "multiplier_nonlinearity": (-1.0, 1.0),  # open: ν = ±1 makes the output ∝ P^0 or P^2
        "multiplier_rms_error": (0.0, 1.0),
        "multiplier_i_unit_a": (1e-13, 1e-5),
        "i_unit_a": (1e-13, 1e-5),
        "tau_s": (1e-12, 1e3),
        "tau_rel_error": (-1.0, 1.0),  # open below: −1 is τ = 0
        "lam_eff": (0.0, 100.0),
        "lam_design": (1e-6, 100.0),
        "leak_a": (0.0, 1e-6),
        "update_asymmetry": (-1.0, 1.0),
        "i_w_min_a": (0.0, 1e-3),
        "i_w_max_a": (1e-15, 1e-3),
        "noise_rel": (0.0, 1.0),
        "cell_rms_error": (0.0, 1.0),
    },
    "LearnerFit": {"eta_design": (1e-6, 1.0)},  # LearnerParams' range of eta
    "MismatchFit": {
        "a_vt_n_v_m": (0.0, 1e-6),
        "a_vt_p_v_m": (0.0, 1e-6),
        "device_w_m": (1e-7, 1e-3),
        "device_l_m": (1e-7, 1e-3),
        "gain_sigma": (0.0, 2.0),
        "samples": (0, 1e7),
    },
    "LeakageFit": {"temp_cal_c": (-55.0, 150.0), "i_w_a": (1e-15, 1e-6), "c_f": (1e-15, 1e-6)},
    "LeakagePoint": {"temp_c": (-55.0, 150.0), "i_leak_a": (-1e-6, 1e-6), "i_a_a": (1e-15, 1e-6)},
    "NotHeldPoint": {"temp_c": (-55.0, 150.0)},
    "ArrheniusFit": {
        "i_ref_a": (1e-24, 1e-3),
        "e_a_ev": (-5.0, 5.0),
        "t_ref_c": (-55.0, 150.0),
        "rms_ln_residual": (0.0, 50.0),
        "temp_min_c": (-55.0, 150.0),
        "temp_max_c": (-55.0, 150.0),
        "max_lam_error": (0.0, 1e6),
    },
    "CellLamPoint": {"temp_c": (-55.0, 150.0), "lam_offset": (-1.0, 1.0), "i_a_a": (1e-15, 1e-6), "kappa": (0.3, 1.0),
                     "stream_validation_rms": (0.0, 1.0), "violations": (0, 1e6)},
    "HoldOut": {"temp_c": (-55.0, 150.0), "lam_fitted": (-1.0, 1.0), "lam_predicted": (-1e3, 1e3)},
    "CellLamLaw": {
        "i_ref_a": (1e-24, 1e-3),
        "e_a_ev": (0.0, 5.0),
        "t_ref_c": (-55.0, 150.0),
        "lam_offset_cal": (-1.0, 1.0),
        "rms_lam_residual": (0.0, 1.0),
        "max_lam_residual": (0.0, 1.0),
        "temp_min_c": (-55.0, 150.0),
        "temp_max_c": (-55.0, 150.0),
    },
}


#: ends of a range in _RANGES that are excluded: (low excluded, high excluded)
_OPEN_ENDS: dict[str, dict[str, tuple[bool, bool]]] = {
    "BlockFit": {"multiplier_nonlinearity": (True, True), "tau_rel_error": (True, False)},
}


def _check_number(owner: str, name: str, value: Any, bounds: tuple[float, float] | None = None) -> float:
    """``value`` as a finite float within ``bounds`` (default: the range of ``_RANGES[owner][name]``)."""
    label = f"{owner}.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CalibrationError(f"{label} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        raise CalibrationError(f"{label} must be finite, got an integer of {len(str(abs(value)))} digits") from None
    if not math.isfinite(number):
        raise CalibrationError(f"{label} must be finite, got {value!r}")
    lo, hi = bounds or _RANGES.get(owner, {}).get(name, (-math.inf, math.inf))
    lo_open, hi_open = _OPEN_ENDS.get(owner, {}).get(name, (False, False))
    if not ((lo < number if lo_open else lo <= number) and (number < hi if hi_open else number <= hi)):
        raise CalibrationError(f"{label} must be in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}, "
                               f"got {number:g}")  # fmt: skip
    return number


class _Validated:
    """Dataclass mix-in: numeric fields checked against ``_RANGES`` on construction."""

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.type in ("float", float):
                object.__setattr__(self, f.name, _check_number(owner, f.name, value))
            elif f.type in ("int", int):
                number = _check_number(owner, f.name, value)
                if number != int(number):
                    raise CalibrationError(f"{owner}.{f.name} must be a whole number, got {value!r}")
                object.__setattr__(self, f.name, int(number))
            elif f.type in ("str", str) and not isinstance(value, str):
                raise CalibrationError(f"{owner}.{f.name} must be a string, got {value!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str):
        if not isinstance(data, dict):
            raise CalibrationError(f"{where} must be an object, got {type(data).__name__}")
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        missing = [n for n in names if n not in data and not _has_default(cls, n)]
        if missing:
            raise CalibrationError(f"{where} is missing field(s): {', '.join(missing)}")
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise CalibrationError(f"{where} has unknown field(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise CalibrationError(f"{where}: {exc}") from exc


def _has_default(cls, name: str) -> bool:
    f = next(f for f in fields(cls) if f.name == name)
    return f.default is not MISSING or f.default_factory is not MISSING  # type: ignore[misc]


def _number_map(owner: str, name: str, value: Any, ranges: dict[str, tuple[float, float]] | None = None,
                default: tuple[float, float] = (-math.inf, math.inf)) -> dict[str, float]:  # fmt: skip
    """A JSON object of named finite numbers, each within ``ranges[key]`` (or ``default``)."""
    if not isinstance(value, dict):
        raise CalibrationError(f"{owner}.{name} must be an object of numbers, got {type(value).__name__}")
    out = {}
    for key, number in value.items():
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 64:
            raise CalibrationError(f"{owner}.{name} has a bad key {str(key)[:64]!r} (identifiers of at most 64 characters)")
        out[key] = _check_number(owner, f"{name}[{key!r}]", number, (ranges or {}).get(key, default))
    return out
