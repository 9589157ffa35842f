"""Time limits of a command: ``--timeout`` (the whole run) and ``--point-timeout`` (each simulation).

``--timeout S`` ends the command after ``S`` seconds of wall-clock time wherever it is: a
``SIGALRM`` raises :class:`RunTimeout` in the main thread; simulators and sweeps that are
interrupted kill their ngspice workers and pools, and nothing half-written stays behind
(outputs are staged, :mod:`logdomain._io`). ``--point-timeout S`` limits each ngspice run — one
sweep point, one I–V sweep, one learner transient — and a run past it fails with
:class:`netlists.SimulationTimeout` (a sweep records it as that point's error).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator

from .._validate import MAX_TIMEOUT_S, MIN_TIMEOUT_S, seconds

__all__ = ["RunTimeout", "run_deadline", "add_timeout_options", "DEFAULT_POINT_TIMEOUT_S"]

#: default limit of one ngspice run (``SimParams.timeout_s``), s
DEFAULT_POINT_TIMEOUT_S = 120.0


class RunTimeout(Exception):
    """The command ran past its ``--timeout``."""


def add_timeout_options(parser: argparse.ArgumentParser, *, point: bool = True,
                        point_default_s: float | None = DEFAULT_POINT_TIMEOUT_S,
                        what: str = "each ngspice run") -> None:  # fmt: skip
    """Add ``--timeout`` and, with ``point``, ``--point-timeout`` (default ``point_default_s``;
    None lets the command pick per mode, which ``what`` then states) to ``parser``."""
    bounds = f"{MIN_TIMEOUT_S:g}..{MAX_TIMEOUT_S:g} s"
    parser.add_argument("--timeout", type=seconds("--timeout"), metavar="SECONDS",
                        help=f"wall-clock limit of the whole command, {bounds} (default: none); "
                             "past it the command stops, exit status 1, no output written")  # fmt: skip
    if point:
        default = "" if point_default_s is None else f" (default {point_default_s:g})"
        parser.add_argument("--point-timeout", type=seconds("--point-timeout"), default=point_default_s,
                            metavar="SECONDS", help=f"wall-clock limit of {what}, {bounds}{default}")  # fmt: skip


@contextlib.contextmanager
def run_deadline(limit_s: float | None) -> Iterator[None]:
    """Raise :class:`RunTimeout` in the main thread once ``limit_s`` seconds have passed (None: no limit)."""
    if limit_s is None:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("--timeout works in the main thread only (it uses SIGALRM)")

    def expired(signum, frame) -> None:
        raise RunTimeout(f"--timeout: the command did not finish within {limit_s:g} s; stopped, nothing written")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
