"""The calibration file: fitted behavioural parameters with provenance (versioned JSON).

A :class:`Calibration` is what ``logdomain calibrate`` writes and what the fast numpy
learners read. Loading validates everything and names the field that is wrong:
unknown schema versions, missing or unknown fields, non-numbers, NaN/inf and values
outside their physical range are rejected with :class:`CalibrationError`. The ranges of the
learner's nominal gains are those the behavioural model accepts (``logdomain.learner_model.
LearnerModel``), so a file that loads also maps onto the model; ``blocks`` characterises the
stand-alone primitives (multiplier, weight cell) for reports and does not feed the model. Files of an older schema version are refused with the command that regenerates them. Only regular files of at most
:data:`MAX_FILE_BYTES` of UTF-8 JSON are read (no folders, FIFOs or devices; no binary data).

Layout (``schema_version`` 2)::

    {
      "schema_version": 2,
      "provenance": {technology, corner, temp_c, ngspice_version, netlist_hashes, command, created},
      "devices": {"n": DeviceFit, "p": DeviceFit},
      "blocks": BlockFit,
      "mismatch": MismatchFit,
      "learner": LearnerFit or null,
      "leakage": LeakageFit or null,         (optional: absent in files made before it)
    }

``learner`` (new in version 2) holds the nominal block gains of the transistor-level learner
fitted by :mod:`calibration.learner_fit`; ``null`` marks a hand-made calibration without them
(``logdomain calibrate`` always writes them). ``leakage`` (:mod:`calibration.leakage`): its ``cell``
entry is the working cell's λ_o fitted over a temperature grid and the law fitted to it, which the
behavioural model uses to shift its λ offset with temperature; the rest is the inputs-off retention
bench's leakage, kept for reference. A file without ``leakage.cell.law`` loads (the model then has no
temperature shift).

All values are SI: A, V, s, V·m (Pelgrom), dimensionless ratios otherwise.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .leakage import LeakageFit
from ._schema_checks import _OPEN_ENDS, _RANGES, CalibrationError, _number_map, _Validated  # noqa: F401 (re-exported)

__all__ = [
    "SCHEMA_VERSION",
    "CalibrationError",
    "Provenance",
    "DeviceFit",
    "BlockFit",
    "MismatchFit",
    "LearnerFit",
    "LeakageFit",
    "LEARNER_NOMINAL_RANGES",
    "Calibration",
    "load_calibration",
    "default_calibration_path",
    "load_default_calibration",
]

SCHEMA_VERSION = 2
#: largest calibration file read, bytes (a real one is about 3 kB)
MAX_FILE_BYTES = 2**20


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
    5 % over [i_w_min_a, i_w_max_a]; ``noise_rel`` relative noise per update (rms noise current into
    the learner cell's storage node over [1/(400 T_s), 1/(2 T_s)] over the unit update's drive,
    :func:`netlists.noise.measure_cell_noise`; 0 in files made before issue 14: not measured);
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


#: the learner's nominal gains and their allowed ranges (those of ``LearnerModel``'s checks)
LEARNER_NOMINAL_RANGES: dict[str, tuple[float, float]] = {
    **{k: (0.1, 10.0) for k in ("rate_scale", "term_gain", "z_gain", "fwd_gain", "target_gain", "err_gain_a",
                                "err_gain_b", "e_plus_gain", "e_minus_gain", "ab_floor_gain")},
    "lam_offset": (-1.0, 1.0),
}  # fmt: skip
#: largest rms residual accepted in ``LearnerFit.fit_rms`` / ``validation_rms`` (fractions or units of I_u)
_RMS_MAX = 1.0


@dataclass(frozen=True, kw_only=True)
class LearnerFit(_Validated):
    """Nominal block gains of the transistor-level learner (:mod:`calibration.learner_fit`).

    ``design``: the :class:`netlists.spice_learner_circuit.LearnerParams` field values the benches
    used (κ as measured on the output device), checked by constructing ``LearnerParams(**design)``;
    ``nominal``: the fitted gains, exactly the keys of :data:`LEARNER_NOMINAL_RANGES` (units of I_u;
    ``lam_offset`` in the cells' λ units; definitions in :mod:`calibration.learner_fit`);
    ``eta_design``: the η the weight-cell bench ran at (its I_A, hence τ; equals ``design["eta"]``);
    ``fit_rms`` / ``validation_rms``: rms residuals of each fit on its own data and on held-out
    responses (relative for currents, units of I_u for the cell's W); ``diagnostics``: measured
    values beside the fits (the common-mode loop's realised β and S₀, which the model applies; spreads, lags,
    checks, which it does not); ``notes``: what is not modelled and why.
    """

    design: dict
    nominal: dict
    eta_design: float
    fit_rms: dict
    validation_rms: dict
    diagnostics: dict = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self) -> None:
        from netlists import ParameterError
        from netlists.spice_learner_circuit import LearnerParams

        super().__post_init__()
        owner = "LearnerFit"
        if not isinstance(self.design, dict):
            raise CalibrationError(f"{owner}.design must be an object, got {type(self.design).__name__}")
        try:
            params = LearnerParams(**self.design)
        except (ParameterError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{owner}.design is not a valid LearnerParams: {exc}") from None
        nominal = _number_map(owner, "nominal", self.nominal, LEARNER_NOMINAL_RANGES)
        missing = sorted(set(LEARNER_NOMINAL_RANGES) - set(nominal))
        unknown = sorted(set(nominal) - set(LEARNER_NOMINAL_RANGES))
        if missing or unknown:
            raise CalibrationError(f"{owner}.nominal must have exactly the keys {', '.join(LEARNER_NOMINAL_RANGES)}"
                                   + (f"; missing {', '.join(missing)}" if missing else "")
                                   + (f"; unknown {', '.join(unknown)}" if unknown else ""))  # fmt: skip
        if self.eta_design != params.eta:
            raise CalibrationError(f"{owner}.eta_design must equal design['eta'] ({params.eta:g}), got {self.eta_design:g}")
        object.__setattr__(self, "nominal", {k: nominal[k] for k in LEARNER_NOMINAL_RANGES})
        object.__setattr__(self, "fit_rms", _number_map(owner, "fit_rms", self.fit_rms, default=(0.0, _RMS_MAX)))
        object.__setattr__(self, "validation_rms", _number_map(owner, "validation_rms", self.validation_rms, default=(0.0, _RMS_MAX)))
        object.__setattr__(self, "diagnostics", _number_map(owner, "diagnostics", self.diagnostics))
        if not isinstance(self.notes, str):
            raise CalibrationError(f"{owner}.notes must be a string, got {self.notes!r}")

    @property
    def params(self):
        """The design as :class:`netlists.spice_learner_circuit.LearnerParams`."""
        from netlists.spice_learner_circuit import LearnerParams

        return LearnerParams(**self.design)



@dataclass(frozen=True, kw_only=True)
class Calibration:
    """A validated calibration (see module docstring)."""

    provenance: Provenance
    devices: dict[str, DeviceFit]
    blocks: BlockFit
    mismatch: MismatchFit
    learner: LearnerFit | None = None
    leakage: LeakageFit | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        leak = self.leakage
        if leak is not None and leak.temp_cal_c != self.provenance.temp_c:
            raise CalibrationError(f"leakage.temp_cal_c must equal provenance.temp_c ({self.provenance.temp_c:g}), "
                                   f"got {leak.temp_cal_c:g}")  # fmt: skip
        if leak is not None and leak.arrhenius is not None and leak.arrhenius.t_ref_c != leak.temp_cal_c:
            raise CalibrationError(f"leakage.arrhenius.t_ref_c must equal leakage.temp_cal_c ({leak.temp_cal_c:g}), "
                                   f"got {leak.arrhenius.t_ref_c:g}")  # fmt: skip
        law = leak.cell.law if leak is not None and leak.cell is not None else None
        if law is not None and law.t_ref_c != leak.temp_cal_c:
            raise CalibrationError(f"leakage.cell.law.t_ref_c must equal leakage.temp_cal_c ({leak.temp_cal_c:g}), "
                                   f"got {law.t_ref_c:g}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "provenance": asdict(self.provenance),
            "devices": {k: asdict(v) for k, v in sorted(self.devices.items())},
            "blocks": asdict(self.blocks),
            "mismatch": asdict(self.mismatch),
            "learner": None if self.learner is None else asdict(self.learner),
            "leakage": None if self.leakage is None else self.leakage.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (a temporary file renamed into place), with the mode of a new file
        (``0o666`` less the umask)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # created as open(..., "x") would: mode 0o666 less the umask (0644 under umask 022), not mkstemp's 0600
        tmp = os.fspath(target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
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
        if version in _OLD_VERSIONS:
            raise CalibrationError(f"schema_version {version} is an older calibration format ({_OLD_VERSIONS[version]}); "
                                   f"this logdomain reads version {SCHEMA_VERSION}: regenerate the file with "
                                   f"`{_regeneration_command(data)}`")  # fmt: skip
        if version != SCHEMA_VERSION:
            raise CalibrationError(
                f"schema_version {version} is not supported (this logdomain reads version {SCHEMA_VERSION})"
            )
        expected = {"schema_version", "provenance", "devices", "blocks", "mismatch", "learner"}
        missing = sorted(expected - set(data))
        expected.add("leakage")  # optional: files made before it have no leakage section
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
            learner=None if data["learner"] is None else LearnerFit.from_dict(data["learner"], "learner"),
            leakage=None if data.get("leakage") is None else LeakageFit.from_dict(data["leakage"], "leakage"),
        )


#: schema versions this logdomain recognises but no longer reads, and what they lack
_OLD_VERSIONS = {1: "no block gains of the transistor-level learner"}
_COMMAND = re.compile(r"logdomain calibrate( --?[a-z][a-z-]*(=[A-Za-z0-9_.:+-]+)?)+")


def _regeneration_command(data: dict) -> str:
    """The file's own ``logdomain calibrate …`` command if it records a plain one, else the generic form."""
    provenance = data.get("provenance")
    command = provenance.get("command") if isinstance(provenance, dict) else None
    if isinstance(command, str) and len(command) <= 200 and _COMMAND.fullmatch(command):
        return command
    return "logdomain calibrate --tech TECH [--corner C] [--temp-c X] --out FILE.json"


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
