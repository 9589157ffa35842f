"""The command line's human-readable output: one renderer for every command's result.

A command returns a JSON-able dict (``--json`` prints it as strict JSON, unchanged). Without
``--json`` :func:`render_human` prints the same data for a person:

* scalars as aligned ``key: value`` lines; numbers to :data:`SIGNIFICANT` significant digits, with
  the unit the key's suffix names (``_s`` s, ``_a`` A, ``_v`` V, ``_m`` m, ``_c`` °C, ``_mb`` MB …,
  see :data:`UNITS`) and an SI prefix where one reads naturally (``4.5e-07`` A → ``450 nA``);
* nested dicts as indented blocks; a dict of records sharing their fields (devices ``n``/``p``,
  technologies) as a small table; percentiles (``p5``, ``p50`` …) as one row under their names;
* ``weights`` beside ``features`` of the same length as a feature/weight table;
* long lists summarised (count, least and greatest; ``--json`` prints them whole).

Nothing here computes a result; it only formats one.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["render_human", "format_value", "unit_of", "SIGNIFICANT", "UNITS", "MAX_INLINE"]

#: significant digits of a printed number
SIGNIFICANT = 4
#: longest list printed inline; longer ones are summarised
MAX_INLINE = 8
#: widest table printed (columns of a record table; records beyond it are shown as blocks)
MAX_TABLE_COLUMNS = 8
#: key suffix → (unit, whether an SI prefix may scale it); the longest matching suffix wins
UNITS: dict[str, tuple[str, bool]] = {
    "_mv_per_decade": ("mV/dec", False),
    "_v_per_k": ("V/K", True),
    "_v_m": ("V·m", False),
    "_per_s": ("/s", False),
    "_mb": ("MB", False),
    "_hz": ("Hz", True),
    "_s": ("s", True),
    "_a": ("A", True),
    "_v": ("V", True),
    "_m": ("m", True),
    "_c": ("°C", False),
}
#: whole keys that carry a unit without a suffix
_KEY_UNITS: dict[str, tuple[str, bool]] = {"seconds": ("s", True)}
_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
_PERCENTILE = re.compile(r"p\d+(\.\d+)?")
_INDENT = "  "


def unit_of(key: str) -> tuple[str, bool] | None:
    """The unit a result key names (and whether an SI prefix may scale it), or None."""
    key = key.lower()
    if key in _KEY_UNITS:
        return _KEY_UNITS[key]
    for suffix in sorted(UNITS, key=len, reverse=True):
        if key.endswith(suffix) and len(key) > len(suffix):
            return UNITS[suffix]
    return None


def _plain(number: float) -> str:
    """``number`` to SIGNIFICANT digits, without an exponent between 1e-3 and 1e12."""
    if number == 0 or not math.isfinite(number):
        return f"{number:g}"
    magnitude = math.floor(math.log10(abs(number)))
    if -3 <= magnitude < 12:
        digits = max(SIGNIFICANT - 1 - magnitude, 0)
        return f"{round(number, digits):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{round(number, digits):.0f}"
    return f"{number:.{SIGNIFICANT}g}"


def format_value(value: Any, unit: tuple[str, bool] | None = None) -> str:
    """One scalar for a person: yes/no, integers whole, floats to SIGNIFICANT digits with ``unit``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value} {unit[0]}" if unit and not unit[0].startswith("/") else f"{value}{unit[0] if unit else ''}"
    if isinstance(value, float):
        if unit is None:
            return _plain(value)
        symbol, scalable = unit
        if scalable and value != 0 and math.isfinite(value):
            exponent = min(max(3 * math.floor(math.log10(abs(value)) / 3), -15), 12)
            scaled = value / 10.0**exponent
            if round(abs(scaled), SIGNIFICANT - 1 - math.floor(math.log10(abs(scaled)))) >= 1000 and exponent < 12:
                exponent, scaled = exponent + 3, scaled / 1000  # 999.99 rounds up to the next prefix
            return f"{_plain(scaled)} {_PREFIXES[exponent]}{symbol}"
        return f"{_plain(value)}{symbol}" if symbol.startswith("/") else f"{_plain(value)} {symbol}"
    return " ".join(str(value).split())  # one line: newlines and runs of blanks become one space


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _summary(values: list, unit: tuple[str, bool] | None) -> str:
    """A list on one line: whole when short, else its size and range."""
    if not values:
        return "none"
    if all(_is_scalar(v) for v in values):
        if len(values) <= MAX_INLINE:
            return ", ".join(format_value(v, unit) for v in values)
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numbers) == len(values):
            return f"{len(values)} values, {format_value(min(numbers), unit)} … {format_value(max(numbers), unit)} (--json lists them)"
        shown = ", ".join(format_value(v) for v in values[:MAX_INLINE])
        return f"{shown}, … ({len(values)} in all)"
    if all(isinstance(v, list) for v in values):
        widths = sorted({len(v) for v in values})
        inner = f"{widths[0]}" if len(widths) == 1 else f"{widths[0]}–{widths[-1]}"
        return f"{len(values)} × {inner} values (--json lists them)"
    return f"{len(values)} entries (--json lists them)"


_NUMERIC = re.compile(r"[-+]?(\d|\.\d)")


def _table(header: list[str], rows: list[list[str]], indent: str) -> list[str]:
    """Columns padded to their widest cell: columns of numbers right-aligned, text left."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = [all(_NUMERIC.match(row[i]) for row in rows if row[i]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _records(value: dict) -> list[str] | None:
    """The fields shared by a dict of records (dicts of scalars), or None if it is not one."""
    if len(value) < 2 or not all(isinstance(v, dict) and v and all(_is_scalar(x) for x in v.values()) for v in value.values()):
        return None
    fields: list[str] = []
    for record in value.values():
        fields += [f for f in record if f not in fields]
    return fields


def _record_table(value: dict, fields: list[str], indent: str) -> list[str]:
    """Records as a table: one row per record, or — for records with many fields — one row per field."""
    names = [str(k) for k in value]
    if len(fields) > MAX_TABLE_COLUMNS // 2 and len(names) <= MAX_TABLE_COLUMNS:  # many fields: transpose
        rows = [[f, *(format_value(r.get(f), unit_of(f)) if f in r else "" for r in value.values())] for f in fields]
        return _table(["", *names], rows, indent)
    rows = [[n, *(format_value(r.get(f), unit_of(f)) if f in r else "" for f in fields)] for n, r in zip(names, value.values())]
    return _table(["", *fields], rows, indent)


def _block(data: dict, indent: str, unit: tuple[str, bool] | None = None) -> list[str]:
    """Lines of one dict at ``indent``: scalars and short lists aligned, nested parts below them."""
    if data and all(_PERCENTILE.fullmatch(str(k)) and isinstance(v, (int, float)) for k, v in data.items()):
        return _table([str(k) for k in data], [[format_value(v, unit) for v in data.values()]], indent)
    features = data.get("features")
    lines: list[tuple[str, str | None, list[str]]] = []  # key, inline text, lines below
    for key, value in data.items():
        key = str(key)
        key_unit = unit_of(key)
        if key == "features" and isinstance(data.get("weights"), list) and len(data["weights"]) == len(features or []):
            continue  # shown as the first column of the weights table
        if key.startswith("weights") and isinstance(features, list) and isinstance(value, list) and value:
            if all(isinstance(v, (int, float)) for v in value) and len(value) == len(features):
                rows = [[str(f), format_value(w, key_unit)] for f, w in zip(features, value)]
                lines.append((key, None, _table(["feature", "weight"], rows, indent + _INDENT)))
                continue
            if all(isinstance(v, list) and len(v) == len(features) for v in value) and len(value) <= MAX_INLINE:
                rows = [[f"die {i}", *(format_value(w, key_unit) for w in v)] for i, v in enumerate(value)]
                lines.append((key, None, _table(["", *map(str, features)], rows, indent + _INDENT)))
                continue
        if isinstance(value, dict):
            fields = _records(value)
            if not value:
                lines.append((key, "none", []))
            elif fields is not None and len(fields) <= 2 * MAX_TABLE_COLUMNS:
                lines.append((key, None, _record_table(value, fields, indent + _INDENT)))
            else:
                lines.append((key, None, _block(value, indent + _INDENT, key_unit)))
        elif isinstance(value, list):
            lines.append((key, _summary(value, key_unit), []))
        else:
            lines.append((key, format_value(value, key_unit or (unit if key.startswith("p") and _PERCENTILE.fullmatch(key) else None)), []))
    width = max((len(k) for k, text, _ in lines if text is not None), default=0)
    out: list[str] = []
    for key, text, below in lines:
        out.append(f"{indent}{key + ':':<{width + 1}} {text}".rstrip() if text is not None else f"{indent}{key}:")
        out.extend(below)
    return out


def render_human(data: dict[str, Any]) -> str:
    """The text a person reads for a command's result ``data`` (already strict JSON: see
    :func:`logdomain._validate.strict_json`); ends with a newline."""
    return "\n".join(_block(data, "")) + "\n"
