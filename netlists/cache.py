"""On-disk cache of sweep results (one SQLite file, one row per simulated point).

A row is keyed by ``(circuit_key, point_key)``: :func:`circuit_key` hashes the netlist
text, the init commands, the bytes of every model file, the kept vectors and the
ngspice identity (version plus library file); the point key hashes the point's
normalized values. A row holds the point's vectors as an ``.npz`` blob (no pickle)
and the SHA-256 of that blob: a row whose blob no longer matches its digest, or does
not decode, is reported corrupt, deleted and recomputed. Rows are committed chunk by
chunk, so an interrupted sweep resumes where it stopped. A database file that SQLite
cannot read at all is moved aside (``*.corrupt-<time>``) and a fresh one started.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

__all__ = ["SweepCache", "default_cache_dir", "circuit_key", "point_key", "ngspice_identity"]

#: bump when the engine's sweep protocol or the stored format changes
FORMAT_VERSION = 1
_DB_NAME = "sweeps.sqlite"


def default_cache_dir() -> Path:
    """``$LOGDOMAIN_CACHE_DIR/sweeps`` or ``~/.cache/logdomain/sweeps``."""
    base = os.environ.get("LOGDOMAIN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "logdomain"
    )
    return Path(base) / "sweeps"


def _library_path() -> Path | None:
    """The libngspice file PySpice loads (``$NGSPICE_LIBRARY_PATH`` or ``ldconfig``)."""
    explicit = os.environ.get("NGSPICE_LIBRARY_PATH")
    if explicit and Path(explicit).is_file():
        return Path(explicit).resolve()
    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    for line in listing.splitlines():
        match = re.match(r"\s*libngspice\.so\S*\s.*=>\s*(\S+)", line)
        if match and Path(match.group(1)).is_file():
            return Path(match.group(1)).resolve()
    return None


_IDENTITY: str | None = None


def ngspice_identity(memo_dir: Path | None = None) -> str:
    """``"<version>|<library path>|<size>|<mtime>"`` of the ngspice the workers will load.

    The version is read once from a worker and remembered in ``memo_dir`` keyed by the
    library file's path, size and modification time (starting a worker costs ~0.3 s).
    """
    global _IDENTITY
    if _IDENTITY is not None:
        return _IDENTITY
    lib = _library_path()
    stamp = f"{lib}|{lib.stat().st_size}|{lib.stat().st_mtime_ns}" if lib else "unknown-library"
    memo = (memo_dir or default_cache_dir()) / "ngspice_version.json"
    try:
        known = json.loads(memo.read_text())
        if known.get("stamp") == stamp and lib is not None:
            _IDENTITY = f"{known['version']}|{stamp}"
            return _IDENTITY
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    from .runner import Simulator

    with Simulator() as sim:
        version = sim.ngspice_version
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"stamp": stamp, "version": version}))
        os.replace(tmp, memo)
    except OSError:
        pass
    _IDENTITY = f"{version}|{stamp}"
    return _IDENTITY


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def circuit_key(text: str, init_commands: Iterable[str], model_files: Iterable[Path], keep: Iterable[str] | None, identity: str,
                samples: tuple[Iterable[float], Iterable[str]] = ((), ())) -> str:
    """Hash of everything that decides a circuit's results except the point values (``samples``: the
    halt times, s, and probes of the run, see :meth:`netlists.runner.Simulator.run`)."""
    models = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in model_files]
    meta = {"format": FORMAT_VERSION, "init": list(init_commands), "models": models,
            "keep": None if keep is None else list(keep), "ngspice": identity}
    halts, probes = (list(x) for x in samples)
    if halts or probes:  # absent from the older keys, which stay valid
        meta["samples"] = [[repr(float(t)) for t in halts], probes]
    meta = json.dumps(meta, sort_keys=True)
    return _digest(text.encode(), meta.encode())


def point_key(circuit: str, point: dict[str, Any]) -> str:
    """Hash of a normalized point (floats written with ``repr``: exact round trip)."""
    canonical = json.dumps({k: repr(v) for k, v in sorted(point.items())}, sort_keys=True)
    return _digest(circuit.encode(), canonical.encode())


def encode(record: dict[str, Any]) -> bytes:
    """``{"status": "ok", "vectors": {...}}`` or an error record → npz bytes (no pickle)."""
    buffer = io.BytesIO()
    meta = {k: v for k, v in record.items() if k != "vectors"}
    arrays = {f"v_{name}": np.asarray(value) for name, value in (record.get("vectors") or {}).items()}
    np.savez(buffer, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def decode(blob: bytes) -> dict[str, Any]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        record = json.loads(bytes(data["__meta__"]).decode())
        record["vectors"] = {name[2:]: data[name] for name in data.files if name.startswith("v_")}
    return record


class SweepCache:
    """Results of simulated points in ``<directory>/sweeps.sqlite``.

    Parameters
    ----------
    directory : path
        Folder of the database (created if missing).
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / _DB_NAME
        self.corrupt = 0
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        for attempt in range(2):
            try:
                db = sqlite3.connect(self.path, timeout=60)
                db.execute("CREATE TABLE IF NOT EXISTS points (circuit TEXT, point TEXT, digest TEXT, blob BLOB, "
                           "PRIMARY KEY (circuit, point))")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("SELECT count(*) FROM points").fetchone()
                return db
            except sqlite3.DatabaseError:
                if attempt:
                    raise
                self.corrupt += 1
                aside = self.path.with_name(f"{_DB_NAME}.corrupt-{time.time_ns()}")
                os.replace(self.path, aside)
                for suffix in ("-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def get_many(self, circuit: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Decoded records of the keys present and intact; corrupt rows are deleted."""
        found: dict[str, dict[str, Any]] = {}
        bad: list[str] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            batch = unique[start:start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT point, digest, blob FROM points WHERE circuit = ? AND point IN ({marks})", (circuit, *batch)
            ).fetchall()
            for point, digest, blob in rows:
                try:
                    if blob is None or _digest(bytes(blob)) != digest:
                        raise ValueError("digest mismatch")
                    found[point] = decode(bytes(blob))
                except Exception:  # noqa: BLE001 - any decoding failure means a corrupt entry
                    bad.append(point)
        if bad:
            self.corrupt += len(bad)
            with self._db:
                self._db.executemany("DELETE FROM points WHERE circuit = ? AND point = ?", [(circuit, p) for p in bad])
        return found

    def put_many(self, circuit: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Store records (one transaction)."""
        rows = []
        for key, record in items:
            blob = encode(record)
            rows.append((circuit, key, _digest(blob), blob))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "SweepCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
