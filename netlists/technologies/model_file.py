"""A technology from the user's own SPICE model file (BSIM-family ``.model`` cards).

``ModelFileTechnology("my.lib", nmos="n1", pmos="p1")`` reads a plain model file — comment lines
(``*``), blank lines, ``.model`` cards with ``+`` continuation lines, an optional ``.end`` — and
uses the two named cards for every transistor. Nothing but those two cards reaches ngspice: they
are copied into each netlist (no ``.include``, so the file's path never reaches ngspice and a
netlist written out runs on another machine). The file is checked strictly before any use
(:func:`parse_model_file`):

* a regular, readable file of at most :data:`MAX_MODEL_FILE_BYTES`, ASCII text, no control
  characters but tab and line ends;
* no ``.control``/``.endc``/``.exec`` or ``shell`` anywhere (comments too): ngspice executes
  them, and a model file has no use for them;
* only comments, ``.model`` cards and ``.end`` (``.include``, ``.lib``, ``.param``, ``.subckt`` and
  element lines are refused: they would reach files or expressions this check has not seen);
* the two names are identifiers, each names exactly one card in the file, of type ``nmos`` and
  ``pmos``, with a literal ``level`` ngspice runs as BSIM (:data:`BSIM_LEVELS`: 8/49 BSIM3, 14/54
  BSIM4), and every parameter of the two cards is ``name=number`` (SPICE scale factors allowed).

Weak-inversion quantities: :meth:`specific_current_a` is the estimate I_spec = 2·n·μ·C_ox·U_T²·W/L
with μ = the card's ``u0`` (BSIM's default if absent; a value above 1 is read in cm²/V·s, as BSIM
does), C_ox = ε_ox/``toxe`` (``tox`` for BSIM3; ε_ox = ``epsrox``·ε_0) and n = :data:`DEFAULT_SLOPE`.
These are estimates for the region checker and the starting point of the calibration;
``logdomain calibrate`` measures I_spec, n, V_T0 and the rest by fitting simulated I–V sweeps
(:mod:`calibration.device_fit`), and the learner measures κ on its own output device.

Identity: :attr:`label` and :attr:`identity` carry the file's name and the first 16 hex digits of
its SHA-256, never its folder, so a calibration records which card it came from without naming
the user's directories.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError
from ..values import check_identifier, parse_number, spice_number
from .base import Technology, specific_current_from

__all__ = ["ModelFileTechnology", "ModelCard", "parse_model_file", "MAX_MODEL_FILE_BYTES", "BSIM_LEVELS", "DEFAULT_SLOPE"]

#: largest model file read, bytes (a BSIM4 card is a few kB; a binned foundry set a few hundred)
MAX_MODEL_FILE_BYTES = 4 * 2**20
#: ``level`` values ngspice runs as a BSIM model → the model's name
BSIM_LEVELS: dict[int, str] = {8: "BSIM3", 49: "BSIM3", 14: "BSIM4", 54: "BSIM4"}
#: nominal subthreshold slope factor n = 1/κ used before a calibration measures it
DEFAULT_SLOPE = 1.4
#: BSIM defaults when a card leaves the value out: u0 (m²/V·s) per type, oxide thickness (m)
_BSIM_U0_DEFAULT = {"n": 0.067, "p": 0.025}
_TOX_DEFAULT_M = 3.0e-9
_EPS0_F_PER_M = 8.8541878128e-12
_FORBIDDEN = re.compile(r"(\.control|\.endc|\.exec|\bshell\b)", re.IGNORECASE)
_CARD_HEAD = re.compile(r"\.model\s+(?P<name>\S+)\s+(?P<type>[A-Za-z][A-Za-z0-9]*)(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
_PAIR = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>[^\s=()]+)")
_VERSION = re.compile(r"\d+(?:\.\d+){0,2}")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class ModelCard:
    """One ``.model`` card as read: ``name``, ``polarity`` (``"n"``/``"p"``), ``level``, its
    ``params`` (lower-case name → value in SI units, the ``version`` as written) and ``lines``,
    the physical lines of the card exactly as in the file (what goes into a netlist)."""

    name: str
    polarity: str
    level: int
    params: dict[str, float | str]
    lines: tuple[str, ...]
    line_number: int


def _read_checked(path: Path, option: str) -> bytes:
    """The bytes of ``path`` after the file checks (regular, readable, size); errors name ``option``."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ParameterError(f"{option}: file {os.fspath(path)!r} does not exist") from None
    except OSError as exc:
        raise ParameterError(f"{option}: cannot read {os.fspath(path)!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ParameterError(f"{option}: {os.fspath(path)!r} is not a regular file")
    if info.st_size > MAX_MODEL_FILE_BYTES:
        raise ParameterError(f"{option}: {os.fspath(path)!r} has {info.st_size} bytes; at most {MAX_MODEL_FILE_BYTES} are read")
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_MODEL_FILE_BYTES + 1)
    except OSError as exc:
        raise ParameterError(f"{option}: cannot read {os.fspath(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_MODEL_FILE_BYTES:
        raise ParameterError(f"{option}: {os.fspath(path)!r} has more than {MAX_MODEL_FILE_BYTES} bytes")
    return data


def _statements(text: str, where: str) -> list[tuple[int, list[str]]]:
    """Logical statements (first line number, physical lines) of model-file text; comments and
    blank lines dropped, ``+`` lines joined to the statement before them."""
    statements: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if any(ord(c) < 32 and c != "\t" for c in line):
            raise ParameterError(f"{where} line {number}: control character (only tab and line ends are allowed)")
        stripped = line.strip()
        if not stripped or stripped.startswith("*"):
            continue
        if stripped.startswith("+"):
            if not statements:
                raise ParameterError(f"{where} line {number}: a '+' continuation line with no statement before it")
            statements[-1][1].append(line.rstrip())
        else:
            statements.append((number, [line.rstrip()]))
    return statements


def _card(number: int, lines: list[str], where: str) -> ModelCard | None:
    """The card of one ``.model`` statement (None for a card of another type, e.g. a diode)."""
    joined = " ".join(part.strip().lstrip("+") for part in lines)
    head = _CARD_HEAD.fullmatch(joined.strip())
    if head is None:
        raise ParameterError(f"{where} line {number}: expected '.model NAME TYPE (name=value ...)', got {lines[0].strip()[:60]!r}")
    kind = head["type"].lower()
    if kind not in ("nmos", "pmos"):
        return None
    rest = head["rest"].strip()
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    leftover = _PAIR.sub(" ", rest)
    if leftover.strip():
        raise ParameterError(f"{where} line {number}: card {head['name']!r} holds text that is not name=value: "
                             f"{leftover.strip()[:40]!r}")  # fmt: skip
    params: dict[str, float | str] = {}
    for pair in _PAIR.finditer(rest):
        key, value = pair["key"].lower(), pair["value"]
        if key == "version":
            if _VERSION.fullmatch(value) is None:
                raise ParameterError(f"{where} line {number}: card {head['name']!r}: version must be like 4.8, got {value!r}")
            params[key] = value
            continue
        params[key] = parse_number(value, f"{where} line {number}: card {head['name']!r} parameter {key}")
    level = params.get("level")
    if level is None or float(level) != int(float(level)) or int(float(level)) not in BSIM_LEVELS:
        levels = ", ".join(f"{k} ({v})" for k, v in BSIM_LEVELS.items())
        raise ParameterError(f"{where} line {number}: card {head['name']!r} must have level one of {levels}; got {level!r}")
    return ModelCard(head["name"], kind[0], int(float(level)), params, tuple(lines), number)


def parse_model_file(path: str | os.PathLike, option: str = "--model-file") -> tuple[bytes, dict[str, ModelCard]]:
    """Read and check a model file (module docstring); returns its bytes and its MOS cards by
    lower-case name. Errors are :class:`ParameterError` naming ``option``, the line and the rule."""
    path = Path(path)
    data = _read_checked(path, option)
    where = f"{option} {path.name}"
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{where}: must be ASCII text; byte {exc.start} is 0x{data[exc.start]:02x}") from None
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        number = text.count("\n", 0, bad.start()) + 1
        raise ParameterError(f"{where} line {number}: {bad.group(0)!r} is refused in a model file (ngspice would execute it)")
    cards: dict[str, ModelCard] = {}
    for number, lines in _statements(text, where):
        word = lines[0].strip().split()[0].lower()
        if word == ".end":
            break
        if word != ".model":
            raise ParameterError(f"{where} line {number}: only comments, .model cards and .end are allowed in a "
                                 f"model file, got {lines[0].strip()[:40]!r}")  # fmt: skip
        card = _card(number, lines, where)
        if card is None:
            continue
        key = card.name.lower()
        if key in cards:
            raise ParameterError(f"{where} line {number}: model {card.name!r} is defined twice (also line {cards[key].line_number})")
        cards[key] = card
    return data, cards


class ModelFileTechnology(Technology):
    """Transistors from two BSIM-family cards of a user's model file (see module docstring).

    Parameters
    ----------
    path : the model file. nmos, pmos : names of its nMOS and pMOS cards (identifiers).
    vdd_v : nominal supply, V (default 1.8).
    """

    name = "model_file"

    def __init__(self, path: str | os.PathLike, *, nmos: str, pmos: str, vdd_v: float = 1.8, option: str = "--model-file") -> None:
        check_identifier(nmos, "--nmos (the nMOS model name)")
        check_identifier(pmos, "--pmos (the pMOS model name)")
        self.path = Path(path)
        data, cards = parse_model_file(self.path, option)
        where = f"{option} {self.path.name}"
        self.cards: dict[str, ModelCard] = {}
        for polarity, model, flag in (("n", nmos, "--nmos"), ("p", pmos, "--pmos")):
            card = cards.get(model.lower())
            if card is None:
                have = ", ".join(f"{c.name} ({c.polarity}mos)" for c in cards.values()) or "none"
                raise ParameterError(f"{flag}: no model {model!r} in {where}; its MOS models: {have}")
            if card.polarity != polarity:
                raise ParameterError(f"{flag}: model {model!r} in {where} is {card.polarity}mos, expected {polarity}mos")
            self.cards[polarity] = card
        self.digest = hashlib.sha256(data).hexdigest()[:16]
        self.vdd_v = float(parse_number(vdd_v, "vdd_v"))

    @property
    def file_name(self) -> str:
        """The file's name with characters outside ``[A-Za-z0-9_.-]`` replaced by ``_`` (no folder)."""
        return _NAME_CHARS.sub("_", self.path.name)

    @property
    def label(self) -> str:
        stem = re.sub(r"[^A-Za-z0-9_]", "_", self.path.stem)[:32]
        return f"model_file_{stem}_{self.digest}"

    @property
    def identity(self) -> str:
        return f"model_file:{self.file_name}:{self.cards['n'].name},{self.cards['p'].name}:sha256={self.digest}"

    @property
    def learner_family(self) -> str:
        return "bsim"

    def preamble(self, temp_c: float) -> list[str]:
        first, second = sorted(self.cards.values(), key=lambda c: c.line_number)
        return [*first.lines, *second.lines]

    def instance_line(self, name, polarity, d, g, s, b, w_m, l_m) -> str:
        return f"m{name} {d} {g} {s} {b} {self.cards[polarity].name} w={spice_number(w_m)} l={spice_number(l_m)}"

    def mobility_m2_per_vs(self, polarity: str) -> float:
        """Low-field mobility ``u0`` of the card, m²/V·s (BSIM reads a value above 1 as cm²/V·s)."""
        u0 = float(self.cards[polarity].params.get("u0", _BSIM_U0_DEFAULT[polarity]))
        return u0 * 1e-4 if u0 > 1.0 else u0

    def cox_f_per_m2(self, polarity: str) -> float:
        """Gate capacitance per area ε_ox/t_ox, F/m² (``toxe``, else ``tox``, else BSIM's 3 nm)."""
        params = self.cards[polarity].params
        tox = float(params.get("toxe", params.get("tox", _TOX_DEFAULT_M)))
        if not tox > 0:
            raise ParameterError(f"model {self.cards[polarity].name!r}: oxide thickness must be > 0 m, got {tox!r}")
        return float(params.get("epsrox", 3.9)) * _EPS0_F_PER_M / tox

    def specific_current_a(self, polarity, w_m, l_m, temp_c) -> float:
        return specific_current_from(DEFAULT_SLOPE, self.mobility_m2_per_vs(polarity), self.cox_f_per_m2(polarity), w_m, l_m, temp_c)

    def slope_factor(self, polarity: str) -> float:
        return DEFAULT_SLOPE

    def available(self) -> tuple[bool, str]:
        return True, f"{self.file_name} (sha256 {self.digest}): {self.cards['n'].name}, {self.cards['p'].name}"
