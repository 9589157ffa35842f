"""Parsing and formatting of values that may reach netlist text.

This is the only place where numbers are turned into SPICE text
(:func:`spice_number`) and where names are accepted (:func:`check_identifier`).
Anything that is neither a finite number nor an identifier never reaches a netlist.
"""

from __future__ import annotations

import math
import re
from numbers import Real

from .errors import ParameterError

__all__ = ["parse_number", "spice_number", "check_identifier", "SI_SUFFIXES"]

#: SPICE scale suffixes (case-insensitive; note ``m`` is milli and ``meg`` is mega, as in SPICE).
SI_SUFFIXES: dict[str, float] = {
    "f": 1e-15,
    "p": 1e-12,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "meg": 1e6,
    "g": 1e9,
    "t": 1e12,
}

_NUMBER_RE = re.compile(
    r"(?P<mant>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?)(?P<suffix>meg|[fpnumkgt])?",
    re.IGNORECASE,
)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def parse_number(value: object, name: str = "value") -> float:
    """Return ``value`` as a finite float.

    Accepts ints, floats and strings such as ``"10n"``, ``"2.5u"``, ``"1meg"``,
    ``"3e-9"`` (ASCII only, no spaces, no unit letters after the suffix).

    Raises
    ------
    ParameterError
        If the value is not a finite number; the message names ``name``.
    """
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if isinstance(value, Real):
        number = float(value)
    elif isinstance(value, str):
        match = _NUMBER_RE.fullmatch(value) if value.isascii() else None
        if match is None:
            raise ParameterError(
                f"{name} must be a finite number, optionally with an SI suffix "
                f"({'/'.join(SI_SUFFIXES)}), got {value!r}"
            )
        number = float(match["mant"]) * SI_SUFFIXES.get((match["suffix"] or "").lower(), 1.0)
    else:
        raise ParameterError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(number):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return number


def spice_number(value: float) -> str:
    """Format a finite float for netlist text (12 significant digits, no suffix)."""
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(f"refusing to write non-finite number {value!r} into a netlist")
    return f"{number:.12g}"


def check_identifier(value: object, name: str = "name") -> str:
    """Return ``value`` if it is a plain identifier (``[A-Za-z_][A-Za-z0-9_]*``, ≤ 64 chars)."""
    if not isinstance(value, str) or _IDENT_RE.fullmatch(value) is None:
        raise ParameterError(
            f"{name} must be an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters), got {value!r}"
        )
    return value
