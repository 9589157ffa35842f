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

__all__ = ["parse_number", "spice_number", "check_identifier", "SI_SUFFIXES", "UNIT_WORDS"]

#: SPICE scale factors (case-insensitive), as the ngspice manual (§2.3.1 "Syntax of numbers") lists
#: them: note ``m``/``M`` is milli, ``meg`` is mega and ``mil`` is a thousandth of an inch.
SI_SUFFIXES: dict[str, float] = {
    "f": 1e-15,
    "p": 1e-12,
    "n": 1e-9,
    "u": 1e-6,
    "mil": 25.4e-6,
    "m": 1e-3,
    "k": 1e3,
    "meg": 1e6,
    "g": 1e9,
    "t": 1e12,
}

#: unit words accepted after a number or its scale factor (case-insensitive). ngspice ignores any
#: letters there; we accept only these, so a typo such as ``1x`` or ``2uu`` is refused rather than
#: silently read as ``1`` or ``2e-6``. ``m`` (metre) counts as a unit only after a scale factor:
#: a bare ``2m`` is milli, as in SPICE.
UNIT_WORDS: tuple[str, ...] = (
    "v", "volt", "volts", "a", "amp", "amps", "s", "sec", "hz", "f", "h", "ohm", "ohms", "w", "m",
)  # fmt: skip

_SCALE = "|".join(sorted(SI_SUFFIXES, key=len, reverse=True))  # longest first: meg, mil before m
_UNIT = "|".join(sorted(UNIT_WORDS, key=len, reverse=True))
_NUMBER_RE = re.compile(
    rf"(?P<mant>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{{1,3}})?)(?P<suffix>{_SCALE})?(?P<unit>{_UNIT})?",
    re.IGNORECASE,
)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def parse_number(value: object, name: str = "value") -> float:
    """Return ``value`` as a finite float, reading text as ngspice reads a number.

    Accepts ints, floats and strings of the form ``NUMBER[SCALE][UNIT]`` (ASCII, no spaces):
    ``NUMBER`` a decimal number with an optional exponent (``3e-9``); ``SCALE`` one of the SPICE
    scale factors of :data:`SI_SUFFIXES`, case-insensitive (``T G Meg K mil m u n p f``; ``M`` is
    milli); ``UNIT`` one of :data:`UNIT_WORDS` (``V A s Hz F H ohm W m``…), ignored as ngspice
    ignores it. So ``"2um"`` is 2e-6, ``"10nA"`` 10e-9, ``"1meg"`` 1e6, ``"1M"`` 1e-3,
    ``"1mil"`` 25.4e-6, ``"2V"`` 2 and — as in SPICE — ``"2F"`` is 2e-15 (femto), not 2 farads.
    Other letters (``"1x"``) are refused, though ngspice would ignore them.

    Raises
    ------
    ParameterError
        If the value is not a finite number in that form; the message names ``name``.
    """
    if type(value) is float and math.isfinite(value):  # fast path (sweeps parse 1e5+ plain floats)
        return value
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if isinstance(value, Real):
        number = float(value)
    elif isinstance(value, str):
        match = _NUMBER_RE.fullmatch(value) if value.isascii() else None
        if match is None:
            raise ParameterError(
                f"{name} must be a finite number, optionally with a SPICE scale factor "
                f"({'/'.join(SI_SUFFIXES)}; m is milli) and a unit ({'/'.join(UNIT_WORDS)}), got {value!r}"
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
