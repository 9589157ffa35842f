"""Checks at the command line's boundary: input files, output paths, limits, strict JSON.

Everything here raises :class:`~logdomain.errors.UsageError` (exit status 2) with one line that
names the option, the value and what is allowed, before any work starts; or, for results that
cannot be printed as strict JSON, :class:`NonFiniteResult`.

Inputs (``--data``, ``--calibration``) must be regular files (not folders, FIFOs, devices or
sockets) of at most ``max_bytes``, UTF-8 text without NUL bytes. Output files must name a file of
the right suffix in an existing, writable folder and must not be a folder or a special file
themselves; output folders are created when missing (parents too) under a writable folder; the
files are written atomically beside their target (:mod:`logdomain._io`).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import stat
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ._io import nearest_existing
from .errors import UsageError

__all__ = [
    "MAX_CSV_BYTES", "MAX_CSV_ROWS", "MAX_CSV_COLUMNS", "MAX_CALIBRATION_BYTES", "MAX_TIMEOUT_S",
    "MIN_TIMEOUT_S", "NonFiniteResult", "check_input_file", "check_csv_file", "check_output_file",
    "check_output_folder", "seconds", "strict_json", "dumps_strict",
]  # fmt: skip

#: largest CSV file accepted by ``--data``, bytes
MAX_CSV_BYTES = 64 * 2**20
#: most data rows (lines) and columns of a ``--data`` file
MAX_CSV_ROWS = 1_000_000
MAX_CSV_COLUMNS = 1000
#: largest calibration file, bytes (a real one is about 3 kB)
MAX_CALIBRATION_BYTES = 2**20
#: range of ``--timeout`` and ``--point-timeout``, s (that of ``SimParams.timeout_s``)
MIN_TIMEOUT_S = 0.01
MAX_TIMEOUT_S = 86400.0

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_input_file(path: str, option: str, *, max_bytes: int) -> Path:
    """``path`` is an existing, readable regular file of at most ``max_bytes`` bytes (symlinks followed)."""
    target = Path(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        raise UsageError(f"{option}: file {path!r} does not exist") from None
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path!r}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{option}: {path!r} is {_kind(info.st_mode)}, not a regular file")
    if info.st_size > max_bytes:
        raise UsageError(f"{option}: {path!r} has {info.st_size} bytes; the limit is {max_bytes} bytes")
    if not os.access(target, os.R_OK):
        raise UsageError(f"{option}: {path!r} is not readable")
    return target


def _read_text(target: Path, option: str, max_bytes: int) -> str:
    """The file as text: opened without blocking (a FIFO swapped in after the check is refused)."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {str(target)!r}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{option}: {str(target)!r} is {_kind(info.st_mode)}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise UsageError(f"{option}: {str(target)!r} has more than {max_bytes} bytes")
    if b"\x00" in data:
        raise UsageError(f"{option}: {str(target)!r} is binary (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option}: {str(target)!r} is not UTF-8 text (byte {exc.start})") from None


def check_csv_file(path: str, option: str = "--data") -> Path:
    """A ``--data`` file: regular, at most :data:`MAX_CSV_BYTES`, UTF-8 text without NUL bytes, at
    most :data:`MAX_CSV_ROWS` data lines and a header of at most :data:`MAX_CSV_COLUMNS` columns
    (rows are checked against the header by :func:`logdomain.tasks.load_csv`)."""
    target = check_input_file(path, option, max_bytes=MAX_CSV_BYTES)
    text = _read_text(target, option, MAX_CSV_BYTES)
    lines = text.count("\n") + 1
    if lines > MAX_CSV_ROWS + 1:
        raise UsageError(f"{option}: {path!r} has {lines} lines; the limit is {MAX_CSV_ROWS} data rows and a header")
    try:
        header = next((row for row in csv.reader(text.splitlines()) if any(cell.strip() for cell in row)), [])
    except csv.Error as exc:
        raise UsageError(f"{option}: {path!r}: {exc}") from None
    if len(header) > MAX_CSV_COLUMNS:
        raise UsageError(f"{option}: {path!r} has {len(header)} columns; the limit is {MAX_CSV_COLUMNS}")
    return target


def check_output_file(path: str, option: str, suffixes: Iterable[str]) -> Path:
    """An output file: one of ``suffixes`` (lower case, with the dot), in an existing writable
    folder, and not itself a folder or a special file (an existing regular file is replaced)."""
    target = Path(path)
    allowed = tuple(suffixes)
    if target.suffix.lower() not in allowed:
        raise UsageError(f"{option} must name a {' or '.join(allowed)} file, got {path!r}")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"{option}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: folder {str(folder)!r} is not writable")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise UsageError(f"{option}: cannot use {path!r}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{option}: {path!r} exists and is {_kind(info.st_mode)}; give a file name")
    return target


def check_output_folder(path: str, option: str) -> Path:
    """An output folder: an existing writable folder, or a new name whose missing folders (parents
    too) can be created — its nearest existing ancestor is a writable folder. The caller creates
    the missing folders only when it writes its outputs (:meth:`logdomain._io.StagedOutputs.folder`)."""
    target = Path(path)
    if not path:
        raise UsageError(f"{option} must name a folder, got {path!r}")
    if target.exists():
        if not target.is_dir():
            raise UsageError(f"{option}: {path!r} exists and is not a folder")
        if not os.access(target, os.W_OK | os.X_OK):
            raise UsageError(f"{option}: folder {path!r} is not writable")
        parent = target.resolve().parent
    else:
        parent = nearest_existing(target.parent)
        if not parent.is_dir():
            raise UsageError(f"{option}: cannot create folder {path!r}: {str(parent)!r} exists and is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):  # the outputs are staged beside or above the target
        raise UsageError(f"{option}: folder {str(parent)!r} is not writable")
    return target


def seconds(option: str):
    """argparse type: a duration in s, finite, in [MIN_TIMEOUT_S, MAX_TIMEOUT_S]."""

    allowed = f"[{MIN_TIMEOUT_S:g}, {MAX_TIMEOUT_S:g}] s"

    def parse(text: str) -> float:  # argparse prefixes the message with "argument {option}: "
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds in {allowed}, got {text!r}") from None
        if not (math.isfinite(value) and MIN_TIMEOUT_S <= value <= MAX_TIMEOUT_S):
            raise argparse.ArgumentTypeError(f"must be in {allowed}, got {text!r}")
        return value

    return parse


class NonFiniteResult(ValueError):
    """A result holds NaN or ±inf, which strict JSON cannot carry; ``path`` names the field."""

    def __init__(self, path: str, value: float) -> None:
        super().__init__(f"result field {path} is {value!r}, not a finite number")
        self.path = path


def strict_json(value: Any, path: str = "") -> Any:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists, tuples into
    lists; raises :class:`NonFiniteResult` at the first NaN or ±inf."""
    if isinstance(value, dict):
        return {str(k): strict_json(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return strict_json(value.tolist(), path)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise NonFiniteResult(path or "(the result)", number)
        return number
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"result field {path} has a type JSON cannot hold: {type(value).__name__}")


def dumps_strict(value: Any, *, indent: int | None = 1) -> str:
    """Strict JSON text of ``value`` (see :func:`strict_json`; ``allow_nan=False`` as a second guard)."""
    import json

    return json.dumps(strict_json(value), indent=indent, allow_nan=False)
