"""The calibration file: fitted behavioural parameters with provenance (versioned JSON).

A :class:`Calibration` is what ``logdomain calibrate`` writes and what the fast numpy
learner reads. Loading validates everything and names the field that is wrong:
unknown schema versions, missing or unknown fields, non-numbers, NaN/inf and values
outside their physical range are rejected with :class:`CalibrationError`. The ranges of the
block fields are those the behavioural model accepts (``logdomain.analog.AnalogModel``), so a
file that loads also maps onto the model. Only regular files of at most
:data:`MAX_FILE_BYTES` of UTF-8 JSON are read (no folders, FIFOs or devices; no binary data).

Layout (``schema_version`` 1)::

    {
      "schema_version": 1,
      "provenance": {technology, corner, temp_c, ngspice_version, netlist_hashes, command, created},
      "devices": {"n": DeviceFit, "p": DeviceFit},
      "blocks": BlockFit,
      "mismatch": MismatchFit,
    }

All values are SI: A, V, s, V·m (Pelgrom), dimensionless ratios otherwise.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "SCHEMA_VERSION",
    "CalibrationError",
    "Provenance",
    "DeviceFit",
    "BlockFit",
    "MismatchFit",
    "Calibration",
    "load_calibration",
    "default_calibration_path",
    "load_default_calibration",
]

SCHEMA_VERSION = 1
#: largest calibration file read, bytes (a real one is about 3 kB)
MAX_FILE_BYTES = 2**20


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
    "MismatchFit": {
        "a_vt_n_v_m": (0.0, 1e-6),
        "a_vt_p_v_m": (0.0, 1e-6),
        "device_w_m": (1e-7, 1e-3),
        "device_l_m": (1e-7, 1e-3),
        "gain_sigma": (0.0, 2.0),
        "samples": (0, 1e7),
    },
}


#: ends of a range in _RANGES that are excluded: (low excluded, high excluded)
_OPEN_ENDS: dict[str, dict[str, tuple[bool, bool]]] = {
    "BlockFit": {"multiplier_nonlinearity": (True, True), "tau_rel_error": (True, False)},
}


def _check_number(owner: str, name: str, value: Any) -> float:
    label = f"{owner}.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CalibrationError(f"{label} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        raise CalibrationError(f"{label} must be finite, got an integer of {len(str(abs(value)))} digits") from None
    if not math.isfinite(number):
        raise CalibrationError(f"{label} must be finite, got {value!r}")
    lo, hi = _RANGES.get(owner, {}).get(name, (-math.inf, math.inf))
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
    from dataclasses import MISSING

    f = next(f for f in fields(cls) if f.name == name)
    return f.default is not MISSING or f.default_factory is not MISSING  # type: ignore[misc]


@dataclass(frozen=True, kw_only=True)
class Provenance(_Validated):
    """Where a calibration came from."""

    technology: str
    corner: str
    temp_c: float
    ngspice_version: str
    command: str
    created: str
    netlist_hashes: dict = field(default_factory=dict)
    package_version: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.netlist_hashes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.netlist_hashes.items()
        ):
            raise CalibrationError("Provenance.netlist_hashes must map names to hash strings")


@dataclass(frozen=True, kw_only=True)
class DeviceFit(_Validated):
    """EKV parameters of one polarity fitted to SPICE I–V sweeps.

    ``I_D = i_spec_sq_a·(W/L)·[F((v_p−V_S)/U_T) − F((v_p−V_D)/U_T)]``,
    ``v_p = (V_G − V_T0 + σ·(V_D+V_S))/n``, F(u) = ln²(1+e^{u/2}); V_T0(T) = vt0_v − tcv·(T−T_nom),
    I_spec□(T) ∝ (T/T_nom)^(bex+2) (mobility ∝ T^bex, U_T² ∝ T²).
    """

    i_spec_sq_a: float
    n: float
    vt0_v: float
    sigma_dibl: float
    tcv_v_per_k: float
    bex: float
    rms_log_error: float
    temp_nom_c: float = 27.0


@dataclass(frozen=True, kw_only=True)
class BlockFit(_Validated):
    """Behavioural parameters of the learner's blocks fitted to SPICE.

    Multiplier: ``I_out = gain·P·(P/multiplier_i_unit_a)^nonlinearity + offset``, P = I_y I_z/I_x
    (``nonlinearity`` is the log-log slope error, ``offset`` in A at the multiplier's unit current).
    Weight cell (unit current ``i_unit_a`` = its I_u): ``τ dI_w/dt = I_e I_x/I_u − λ_eff I_w − leak``,
    measured with the cell programmed for ``lam_design`` = I_λ/I_A (so the realised/programmed
    ratio is ``lam_eff/lam_design``); ``tau_rel_error`` = τ_fit/τ_design − 1; up/down relaxation
    rates differ by ``update_asymmetry`` = (r_up − r_down)/(r_up + r_down); I_w obeys the law within
    5 % over [i_w_min_a, i_w_max_a]; ``noise_rel`` relative noise per update (0: not measured);
    ``*_rms_error`` are validation errors on responses not used in the fits.
    """

    multiplier_gain: float
    multiplier_offset_a: float
    multiplier_nonlinearity: float
    multiplier_rms_error: float
    multiplier_i_unit_a: float
    i_unit_a: float
    tau_s: float
    tau_rel_error: float
    lam_eff: float
    lam_design: float
    leak_a: float
    update_asymmetry: float
    i_w_min_a: float
    i_w_max_a: float
    noise_rel: float
    cell_rms_error: float

    def __post_init__(self) -> None:
        super().__post_init__()
        # relations the behavioural model relies on: offset/I_u in [−1, 1], a range that is one
        if abs(self.multiplier_offset_a) > self.multiplier_i_unit_a:
            raise CalibrationError(f"BlockFit.multiplier_offset_a must be within ±multiplier_i_unit_a "
                                   f"({self.multiplier_i_unit_a:g} A), got {self.multiplier_offset_a:g}")  # fmt: skip
        if self.i_w_min_a > self.i_w_max_a:
            raise CalibrationError(f"BlockFit.i_w_min_a must not exceed i_w_max_a ({self.i_w_max_a:g} A), "
                                   f"got {self.i_w_min_a:g}")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class MismatchFit(_Validated):
    """Pelgrom mismatch: σ(ΔV_T) = A_VT/√(W·L); gain spread of one device e^{ΔV_T/(n U_T)}."""

    a_vt_n_v_m: float
    a_vt_p_v_m: float
    device_w_m: float
    device_l_m: float
    gain_sigma: float
    samples: int


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """A validated calibration (see module docstring)."""

    provenance: Provenance
    devices: dict[str, DeviceFit]
    blocks: BlockFit
    mismatch: MismatchFit
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "provenance": asdict(self.provenance),
            "devices": {k: asdict(v) for k, v in sorted(self.devices.items())},
            "blocks": asdict(self.blocks),
            "mismatch": asdict(self.mismatch),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (a temporary file renamed into place)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".json.tmp")
        try:
            with os.fdopen(fd, "w") as stream:
                stream.write(self.to_json())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target

    @classmethod
    def from_dict(cls, data: Any) -> "Calibration":
        if not isinstance(data, dict):
            raise CalibrationError(f"calibration must be a JSON object, got {type(data).__name__}")
        version = data.get("schema_version")
        if version is None:
            raise CalibrationError("calibration is missing field(s): schema_version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise CalibrationError(f"schema_version must be an integer, got {version!r}")
        if version != SCHEMA_VERSION:
            raise CalibrationError(
                f"schema_version {version} is not supported (this logdomain reads version {SCHEMA_VERSION})"
            )
        expected = {"schema_version", "provenance", "devices", "blocks", "mismatch"}
        missing = sorted(expected - set(data))
        if missing:
            raise CalibrationError(f"calibration is missing field(s): {', '.join(missing)}")
        unknown = sorted(set(data) - expected)
        if unknown:
            raise CalibrationError(f"calibration has unknown field(s): {', '.join(unknown)}")
        devices = data["devices"]
        if not isinstance(devices, dict) or sorted(devices) != ["n", "p"]:
            raise CalibrationError("devices must be an object with exactly the keys 'n' and 'p'")
        return cls(
            provenance=Provenance.from_dict(data["provenance"], "provenance"),
            devices={k: DeviceFit.from_dict(v, f"devices.{k}") for k, v in devices.items()},
            blocks=BlockFit.from_dict(data["blocks"], "blocks"),
            mismatch=MismatchFit.from_dict(data["mismatch"], "mismatch"),
        )


def _read_text(target: Path) -> str:
    """A regular file of at most MAX_FILE_BYTES, as UTF-8 text (opened without blocking on a FIFO)."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise CalibrationError(f"cannot read calibration file {str(target)!r}: {exc.strerror}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CalibrationError(f"calibration file {str(target)!r} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise CalibrationError(f"{target.name}: larger than {MAX_FILE_BYTES} bytes; not a calibration file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalibrationError(f"{target.name}: not UTF-8 text (binary?) at byte {exc.start}") from exc


def load_calibration(path: str | os.PathLike) -> Calibration:
    """Read and validate a calibration file; errors name the file and the field."""
    target = Path(path)
    text = _read_text(target)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalibrationError(f"{target.name}: not valid JSON (truncated or corrupt?) at line {exc.lineno}: {exc.msg}") from exc
    except RecursionError:
        raise CalibrationError(f"{target.name}: JSON nested too deeply; not a calibration file") from None
    except ValueError as exc:  # e.g. an integer literal with more digits than Python converts
        raise CalibrationError(f"{target.name}: not a usable JSON file: {exc}") from None
    try:
        return Calibration.from_dict(data)
    except CalibrationError as exc:
        raise CalibrationError(f"{target.name}: {exc}") from exc


def default_calibration_path() -> Path:
    """The shipped calibration (sky130 tt, 27 °C)."""
    return Path(str(resources.files("calibration") / "data" / "default_calibration.json"))


def load_default_calibration() -> Calibration:
    return load_calibration(default_calibration_path())
