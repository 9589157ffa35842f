"""Validated parameter objects.

Every generator takes one frozen parameter object. Each field has a unit in its
name (``w_m``, ``i_x_a``, ``temp_c``) and an allowed range in the class's
``_bounds`` table; :class:`Params` checks all of them on construction and raises a
:class:`~netlists.errors.ParameterError` naming class, field, range and value.
Numbers may be given as strings with SPICE suffixes (``"10n"``, ``"2u"``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping

from .errors import ParameterError
from .values import check_identifier, parse_number

__all__ = [
    "Bound",
    "Params",
    "SimParams",
    "MosBenchParams",
    "MosArrayParams",
    "MirrorParams",
    "DiodeParams",
    "MultiplierParams",
]


@dataclass(frozen=True)
class Bound:
    """Closed interval ``[lo, hi]`` in SI ``unit``; ``integer`` requires whole numbers."""

    lo: float
    hi: float
    unit: str
    integer: bool = False

    def describe(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}] {self.unit}".rstrip()


class Params:
    """Base class: subclasses are ``@dataclass(frozen=True, kw_only=True)``.

    Numeric fields are listed in ``_bounds``; string fields with a fixed set of
    values in ``_choices``; other string fields must be identifiers.
    """

    _bounds: ClassVar[dict[str, Bound]] = {}
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for field in fields(self):  # type: ignore[arg-type]
            name = field.name
            value = getattr(self, name)
            label = f"{owner}.{name}"
            if name in self._choices:
                allowed = self._choices[name]
                if not isinstance(value, str) or value not in allowed:
                    raise ParameterError(f"{label} must be one of {', '.join(allowed)}; got {value!r}")
            elif name in self._bounds:
                bound = self._bounds[name]
                number = parse_number(value, label)
                if bound.integer and number != int(number):
                    raise ParameterError(f"{label} must be a whole number in {bound.describe()}, got {value!r}")
                if not bound.lo <= number <= bound.hi:
                    raise ParameterError(f"{label} must be in {bound.describe()}, got {value!r}")
                object.__setattr__(self, name, int(number) if bound.integer else number)
            else:
                check_identifier(value, label)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_assignments(cls, assignments: Mapping[str, Any], **defaults: Any):
        """Build from ``{"w_m": "2u", ...}`` (e.g. CLI ``--set`` pairs); unknown keys are errors."""
        allowed = cls.field_names()
        for key in assignments:
            if key not in allowed:
                raise ParameterError(
                    f"{cls.__name__} has no parameter {key!r}; allowed: {', '.join(allowed)}"
                )
        return cls(**{**defaults, **assignments})

    def replace(self, **changes: Any):
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def describe(cls) -> str:
        """One line per field: name, range and unit (for help texts)."""
        lines = []
        for name in cls.field_names():
            if name in cls._bounds:
                lines.append(f"{name}: {cls._bounds[name].describe()}")
            elif name in cls._choices:
                lines.append(f"{name}: one of {', '.join(cls._choices[name])}")
            else:
                lines.append(f"{name}: identifier")
        return "\n".join(lines)


_W = Bound(1e-7, 1e-3, "m")
_L = Bound(1.5e-7, 1e-3, "m")
_I = Bound(1e-15, 1e-3, "A")
_V = Bound(-5.0, 5.0, "V")
_TEMP = Bound(-55.0, 150.0, "degC")


@dataclass(frozen=True, kw_only=True)
class SimParams(Params):
    """Simulator settings shared by all runs.

    Attributes
    ----------
    temp_c : circuit temperature, °C.
    gmin_s : minimum conductance added by ngspice, S (default 1e-15: the 1e-12 default
        adds ~0.5 pA to subthreshold currents).
    abstol_a, reltol, vntol_v, chgtol_c : ngspice tolerances.
    timeout_s : wall-clock limit of one run, s.
    """

    temp_c: float = 27.0
    gmin_s: float = 1e-15
    abstol_a: float = 1e-15
    reltol: float = 1e-5
    vntol_v: float = 1e-7
    chgtol_c: float = 1e-17
    timeout_s: float = 120.0
    _bounds: ClassVar[dict[str, Bound]] = {
        "temp_c": _TEMP,
        "gmin_s": Bound(1e-20, 1e-9, "S"),
        "abstol_a": Bound(1e-20, 1e-9, "A"),
        "reltol": Bound(1e-9, 1e-2, ""),
        "vntol_v": Bound(1e-12, 1e-3, "V"),
        "chgtol_c": Bound(1e-22, 1e-12, "C"),
        "timeout_s": Bound(0.01, 86400.0, "s"),
    }


@dataclass(frozen=True, kw_only=True)
class MosBenchParams(Params):
    """Single-transistor I_D–V_GS test bench (magnitudes; source and bulk at 0 V).

    For a pMOS the bench applies ``−vgs`` and ``−vds``; results are reported as magnitudes.

    Attributes
    ----------
    w_m, l_m : channel width and length, m.
    vds_v : drain–source voltage magnitude, V.
    vgs_start_v, vgs_stop_v, vgs_step_v : gate sweep (magnitudes), V.
    """

    w_m: float = 2e-6
    l_m: float = 1e-6
    vds_v: float = 0.5
    vgs_start_v: float = 0.0
    vgs_stop_v: float = 0.8
    vgs_step_v: float = 0.005
    _bounds: ClassVar[dict[str, Bound]] = {
        "w_m": _W,
        "l_m": _L,
        "vds_v": Bound(0.0, 3.3, "V"),
        "vgs_start_v": Bound(-1.0, 3.3, "V"),
        "vgs_stop_v": Bound(0.0, 3.3, "V"),
        "vgs_step_v": Bound(1e-4, 0.5, "V"),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.vgs_stop_v <= self.vgs_start_v:
            raise ParameterError(
                f"MosBenchParams.vgs_stop_v must be > vgs_start_v ({self.vgs_start_v:g} V), got {self.vgs_stop_v:g}"
            )
        if (self.vgs_stop_v - self.vgs_start_v) / self.vgs_step_v > 10000:
            raise ParameterError("MosBenchParams.vgs_step_v gives more than 10000 points; use a larger step")


@dataclass(frozen=True, kw_only=True)
class MosArrayParams(Params):
    """``count`` identical transistors biased alike (``.op``) — Monte Carlo mismatch in one run.

    Attributes
    ----------
    count : number of devices (each gets its own random V_T draw on a mismatch technology).
    w_m, l_m : size, m.  vgs_v, vds_v : bias magnitudes, V (source and bulk at 0 V).
    """

    count: int = 50
    w_m: float = 10e-6
    l_m: float = 2e-6
    vgs_v: float = 0.3
    vds_v: float = 0.5
    _bounds: ClassVar[dict[str, Bound]] = {
        "count": Bound(1, 2000, "", integer=True),
        "w_m": _W,
        "l_m": _L,
        "vgs_v": Bound(-1.0, 3.3, "V"),
        "vds_v": Bound(0.0, 3.3, "V"),
    }


@dataclass(frozen=True, kw_only=True)
class DiodeParams(Params):
    """Diode-connected transistor fed by ``i_in_a`` (nMOS: source at 0 V)."""

    polarity: str = "n"
    w_m: float = 5e-6
    l_m: float = 1e-6
    i_in_a: float = 10e-9
    vdd_v: float = 1.8
    _bounds: ClassVar[dict[str, Bound]] = {"w_m": _W, "l_m": _L, "i_in_a": _I, "vdd_v": Bound(0.3, 3.3, "V")}
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"polarity": ("n", "p")}


@dataclass(frozen=True, kw_only=True)
class MirrorParams(Params):
    """Simple two-transistor current mirror: input ``i_in_a``, output held at ``v_out_v``."""

    polarity: str = "n"
    w_m: float = 5e-6
    l_m: float = 1e-6
    i_in_a: float = 10e-9
    v_out_v: float = 0.9
    vdd_v: float = 1.8
    _bounds: ClassVar[dict[str, Bound]] = {
        "w_m": _W,
        "l_m": _L,
        "i_in_a": _I,
        "v_out_v": Bound(0.0, 3.3, "V"),
        "vdd_v": Bound(0.3, 3.3, "V"),
    }
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"polarity": ("n", "p")}


@dataclass(frozen=True, kw_only=True)
class MultiplierParams(Params):
    """Five-nMOS translinear multiplier/divider, ``I_out = I_y · I_z / I_x``.

    Attributes
    ----------
    i_x_a, i_y_a, i_z_a : input currents, A. The EKV interpolation departs from the
        exponential by about √IC, so for a few % accuracy keep IC ≲ 1e-3 (hence the wide
        devices: W/L = 50 puts 10 nA at IC ≈ 4e-4).
    w_m, l_m : size of the four translinear devices m1–m4, m (L = 2 µm keeps DIBL small).
    w5_m, l5_m : size of the feedback device m5, m (narrow and long so that its gate sits
        high enough above the shared source to keep m4 saturated; its own region does not
        enter the law, so the region checker reports it without requiring it).
    v_ref_v : common source voltage of the two diode-connected devices, V (keeps the
        shared source node of the output pair above ground over ±2 decades of I_z/I_x).
    v_out_v : voltage at which the output current is measured, V.
    vdd_v : supply, V.
    """

    i_x_a: float = 1e-9
    i_y_a: float = 1e-9
    i_z_a: float = 1e-9
    w_m: float = 100e-6
    l_m: float = 2e-6
    w5_m: float = 0.5e-6
    l5_m: float = 8e-6
    v_ref_v: float = 0.12
    v_out_v: float = 0.6
    vdd_v: float = 1.8
    _bounds: ClassVar[dict[str, Bound]] = {
        "i_x_a": _I,
        "i_y_a": _I,
        "i_z_a": _I,
        "w_m": _W,
        "l_m": _L,
        "w5_m": _W,
        "l5_m": _L,
        "v_ref_v": Bound(0.0, 1.0, "V"),
        "v_out_v": Bound(0.0, 3.3, "V"),
        "vdd_v": Bound(0.3, 3.3, "V"),
    }
