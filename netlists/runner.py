"""Run netlists under ngspice (PySpice shared mode) in a killable worker process.

>>> from netlists import Simulator, get_technology, blocks
>>> with Simulator() as sim:                                    # doctest: +SKIP
...     result = sim.run(blocks.nmos_iv(get_technology("ekv")))

Every run has a wall-clock timeout: past it the worker is killed, a
:class:`SimulationTimeout` is raised and the next run starts a fresh worker.
A run that does not converge climbs a ladder (default → gmin stepping → source
stepping → smaller time steps) and then raises :class:`SimulationError` carrying the
ngspice log. Netlist text is checked for control statements before it is loaded.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from multiprocessing.connection import Connection
from .errors import NetlistError, SimulationError, SimulationTimeout
from .netlist import Netlist, ammeter_name
from .params import SimParams

__all__ = ["Simulator", "SimResult", "LADDER", "get_simulator", "guard_netlist_text"]

#: (name, extra .options, factor on the transient max step)
LADDER: tuple[tuple[str, dict[str, float], float], ...] = (
    ("default", {}, 1.0),
    ("gmin stepping", {"gminsteps": 200, "itl1": 1000, "itl2": 500}, 1.0),
    ("source stepping", {"srcsteps": 200, "itl1": 1000, "itl2": 500}, 1.0),
    ("smaller steps", {"itl1": 1000, "itl4": 200}, 0.1),
)
START_TIMEOUT_S = 60.0
#: ``python -c`` program that runs ``netlists/_engine.py`` as ``__main__`` under a bare ``netlists``
#: package: the package's ``__init__`` (blocks, technologies, regions… — none of which the engine
#: uses) is not run, which takes ~0.05 s (more without cached bytecode) off every worker start.
#: The command line still names ``netlists._engine``.
#: the worker's first lines: a bare ``netlists`` package (its __init__ is not needed), then the watch
#: on the caller's pid (argv[3]) before any slow import (numpy, PySpice) — a caller killed during the
#: worker's start-up must not leave it running — then the engine
_ENGINE_BOOT = (
    "import runpy, sys, types; package = types.ModuleType('netlists'); package.__path__ = [{folder!r}]; "
    "sys.modules['netlists'] = package; from netlists._lifeline import die_with_parent; "
    "len(sys.argv) > 3 and die_with_parent(int(sys.argv[3])); "
    "runpy.run_module('netlists._engine', run_name='__main__', alter_sys=True)"
)
_TRANSIENT_OP = re.compile(r"transient op started", re.IGNORECASE)
_FORBIDDEN_RE = re.compile(r"(^|\s)(\.control|\.endc|\.exec|shell)(\s|$)")


def guard_netlist_text(text: str) -> None:
    """Reject text that could make ngspice do more than simulate (defence in depth).

    Generators only write validated numbers and identifiers; this check also stops
    hand-written text with control blocks, shell escapes or non-ASCII characters.
    """
    if not text.isascii():
        raise NetlistError("netlist text must be ASCII")
    for number, line in enumerate(text.splitlines(), 1):
        if any(ord(c) < 32 and c != "\t" for c in line):
            raise NetlistError(f"control character in netlist line {number}")
        lowered = line.strip().lower()
        if lowered.startswith("*"):
            continue
        if _FORBIDDEN_RE.search(lowered):
            raise NetlistError(f"forbidden statement in netlist line {number}: {line.strip()[:60]!r}")


@dataclass
class SimResult:
    """Vectors of one analysis (lower-case ngspice names → numpy arrays) and its log."""

    vectors: dict[str, np.ndarray]
    plot: str
    log: str
    attempts: list[str]
    elapsed_s: float
    netlist: str = field(repr=False, default="")
    #: special vector (``@iprb_n[v]``, ``@vam_m1[i]``) → its values at the halts of the run, in the
    #: order of the sorted halt times (see :meth:`Simulator.run`)
    samples: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.vectors[name.lower()]
        except KeyError:
            raise KeyError(f"no vector {name!r}; have {sorted(self.vectors)[:20]}") from None

    def drain_current(self, device: str, polarity: str = "n") -> np.ndarray:
        """Current into the drain terminal of ``device`` in A (positive for a conducting nMOS;
        for a pMOS the magnitude flowing out of its drain is returned as positive)."""
        current = self[f"{ammeter_name(device)}#branch"]
        return current if polarity == "n" else -current

    def voltage(self, node: str) -> np.ndarray:
        return np.zeros(1) if node == "0" else self[node]


class Simulator:
    """One ngspice worker process, reused across runs.

    Parameters
    ----------
    sim : SimParams
        Default temperature, tolerances and timeout for :meth:`run`.
    timeout_s : float, optional
        Wall-clock limit of every :meth:`run` and :meth:`run_text` of this simulator, s, in place
        of the ``timeout_s`` they are given (e.g. a command line's ``--point-timeout``); same
        range as ``SimParams.timeout_s``. Raw :meth:`request` calls keep their own limit.
    """

    def __init__(self, sim: SimParams | None = None, *, timeout_s: float | None = None) -> None:
        self.sim = sim or SimParams()
        self.timeout_s = None if timeout_s is None else SimParams(timeout_s=timeout_s).timeout_s
        self._proc: subprocess.Popen | None = None
        self._reader: Connection | None = None
        self._writer: Connection | None = None
        self._version = None
        self._pid = None
        self._lock = threading.Lock()
        self._state_key = "plain"

    # -- worker management -----------------------------------------------------------------------
    def _start(self) -> None:
        # A fresh interpreter (not fork: ngspice + OpenMP deadlock after fork; not
        # multiprocessing spawn: that needs a __main__ guard in the user's script).
        parent_r, child_w = os.pipe()
        child_r, parent_w = os.pipe()
        # the worker ends itself once this process is gone (netlists._lifeline)
        boot = _ENGINE_BOOT.format(folder=os.path.dirname(os.path.abspath(__file__)))
        command = [sys.executable, "-c", boot, str(child_r), str(child_w), str(os.getpid())]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.Popen(
            command,
            pass_fds=(child_r, child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        os.close(child_r)
        os.close(child_w)
        reader, writer = Connection(parent_r, writable=False), Connection(parent_w, readable=False)
        if not reader.poll(START_TIMEOUT_S):
            proc.kill()
            raise SimulationError(f"ngspice worker did not start within {START_TIMEOUT_S:g} s")
        try:
            hello = reader.recv()
        except (EOFError, OSError) as exc:
            proc.kill()
            raise SimulationError(f"ngspice worker failed to start ({exc!r}); is PySpice installed?") from exc
        if hello.get("status") != "ready":
            proc.kill()
            raise SimulationError(f"ngspice worker failed to start: {hello.get('message')}")
        self._proc, self._reader, self._writer = proc, reader, writer
        self._version, self._pid = hello["version"], hello["pid"]

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._proc = self._reader = self._writer = None

    def abort(self) -> None:
        """Kill the worker process now, from any thread, without waiting for a run in progress
        (that run then fails with :class:`SimulationError`; the next run starts a fresh worker)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def close(self) -> None:
        """Stop the worker (it is restarted on the next run)."""
        with self._lock:
            self._kill()

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def ngspice_version(self) -> str:
        with self._lock:
            if self._proc is None:
                self._start()
        return str(self._version)

    @property
    def alive(self) -> bool:
        """True while the worker process is running."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def worker_pid(self) -> int | None:
        return self._pid

    def _request(self, payload: dict, timeout_s: float, state_key: str = "plain") -> dict:
        # Some settings persist inside one ngspice (``ngbehavior=hsa``, sky130's
        # ``.option scale=1u``): a worker serves one technology family only.
        if self._proc is not None and state_key != self._state_key:
            self._kill()
        self._state_key = state_key
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.send(payload)
            if not self._reader.poll(timeout_s):
                self._kill()
                raise SimulationTimeout(f"ngspice run exceeded its timeout of {timeout_s:g} s; worker killed")
            return self._reader.recv()
        except (EOFError, OSError) as exc:
            self._kill()
            raise SimulationError(f"ngspice worker died during the run ({exc!r})") from exc
        except BaseException:
            # interrupted while the worker still runs the request (Ctrl-C, a command's run
            # deadline): its reply would answer the next request, so the worker goes
            self._kill()
            raise

    def request(self, payload: dict, timeout_s: float) -> dict:
        """Send one raw request to the worker (ops of :mod:`netlists._engine`) and return its reply.

        Used by :mod:`netlists.sweep` for the ``load``/``points`` ops. Past ``timeout_s`` the
        worker is killed and :class:`SimulationTimeout` is raised; a dead worker raises
        :class:`SimulationError` (the next request starts a fresh one).
        """
        with self._lock:
            return self._request(payload, timeout_s)

    # -- running ---------------------------------------------------------------------------------
    def run_text(
        self, text: str, *, init_commands: list[str] | None = None, timeout_s: float | None = None, state_key: str = "raw"
    ) -> SimResult:
        """Run netlist text written by hand (or by another tool) once, without the convergence ladder.

        The text is checked first by :func:`guard_netlist_text`: it must be ASCII without control
        characters, and a line (outside ``*`` comments) holding ``.control``, ``.endc``, ``.exec`` or
        ``shell`` is refused with :class:`NetlistError` before ngspice sees anything — ngspice would
        execute them. ``.include``/``.lib`` lines are passed on: ngspice reads those files as they
        are, unchecked, so include only files you trust (a :class:`~netlists.ModelFileTechnology`
        copies its checked cards into the text instead). Analyses, options and ``.temp`` are the
        text's own (nothing is added); the result holds the vectors of the last analysis.

        Parameters
        ----------
        text : the netlist, title line first, ``.end`` last.
        init_commands : ngspice commands sent before loading (e.g. ``Technology.init_commands()``;
            sky130 needs ``set ngbehavior=hsa``).
        timeout_s : limit of the run, s (default: the simulator's).
        state_key : the family of global ngspice settings the text needs (``Technology.state_key``);
            a worker that served another family is replaced first.

        Examples
        --------
        >>> text = "\n".join([                                            # doctest: +SKIP
        ...     "* hand-written nMOS bench",
        ...     ".model n1 nmos level=14 version=4.8 vth0=0.5 toxe=4.1e-9 u0=0.035",
        ...     "vd d 0 dc 0.5", "vg g 0 dc 0", "m1 d g 0 0 n1 w=10u l=2u",
        ...     ".options gmin=1e-15 abstol=1e-15", ".temp 27", ".dc vg 0 0.8 0.01", ".end"])
        >>> with Simulator() as sim:
        ...     i_d = -sim.run_text(text)["vd#branch"]                      # A, into the drain
        """
        guard_netlist_text(text)
        timeout = self.sim.timeout_s if timeout_s is None else timeout_s
        timeout = timeout if self.timeout_s is None else self.timeout_s
        started = time.perf_counter()
        with self._lock:
            reply = self._request({"op": "run", "text": text, "init": list(init_commands or [])}, timeout, state_key)
        return self._result(reply, text, ["raw"], started)

    def _result(self, reply: dict, text: str, attempts: list[str], started: float) -> SimResult:
        status = reply.get("status")
        if status == "ok":
            return SimResult(reply["vectors"], reply["plot"], reply["log"], attempts, time.perf_counter() - started, text,
                             reply.get("samples") or {})
        if status == "netlist_error":
            raise NetlistError(f"ngspice rejected the netlist: {reply['message']}", log=reply.get("log", ""), netlist=text)
        raise SimulationError(f"simulation failed: {reply.get('message')}", log=reply.get("log", ""), netlist=text, attempts=attempts)

    def run(self, netlist: Netlist, sim: SimParams | None = None, *, halts_s: tuple[float, ...] = (),
            probes: tuple[str, ...] = (), allow_transient_op: bool = False) -> SimResult:
        """Simulate ``netlist``; climb the convergence ladder on failure.

        ``halts_s`` (s, finite) and ``probes`` (special vectors ``@name[v]``/``@name[i]``, e.g. the keys of
        :meth:`Netlist.region_probes`): the transient halts at the first accepted time point at or after
        each time and reads the probes there (``SimResult.samples``, in the order of the sorted times),
        the values an uninterrupted run saving them would have at ``searchsorted(time, t)``.

        ``allow_transient_op``: accept an operating point ngspice reached only by its transient-op
        fallback (refused by default: in a multi-stable circuit it can be a false solution). For
        benches whose nodes carry only off-state currents (femtoamperes), where the Newton solve
        has nothing to grip and the caller checks the result another way (e.g. retention: the held
        leakage against the released drift).

        Raises
        ------
        NetlistError
            ngspice could not parse the netlist.
        SimulationError
            No rung of the ladder converged (the log of every attempt is attached).
        SimulationTimeout
            The run took longer than ``sim.timeout_s`` (or the simulator's own ``timeout_s``; the
            whole ladder shares the budget).
        """
        sim = sim or self.sim
        limit_s = sim.timeout_s if self.timeout_s is None else self.timeout_s
        init = netlist.technology.init_commands()
        deadline = time.perf_counter() + limit_s
        started = time.perf_counter()
        logs: list[str] = []
        attempts: list[str] = []
        last_message = ""
        text = ""
        halts = [float(t) for t in halts_s]
        if not all(np.isfinite(halts)):
            raise SimulationError(f"halt times must be finite, got {halts_s!r}")
        extra_request = {"halts": halts, "probes": list(probes)} if (halts or probes) else {}
        for rung, extra, step_scale in LADDER:
            text = netlist.text(sim, extra_options=extra, max_step_scale=step_scale)
            guard_netlist_text(text)
            attempts.append(rung)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise SimulationTimeout(f"ngspice run exceeded its timeout of {limit_s:g} s", log="\n".join(logs), netlist=text, attempts=attempts)
            with self._lock:
                reply = self._request({"op": "run", "text": text, "init": init, **extra_request}, remaining,
                                      netlist.technology.state_key)
            if reply.get("status") == "ok" and not allow_transient_op and _TRANSIENT_OP.search(reply.get("log", "")):
                # ngspice fell back to a "transient op" after the DC solve failed; that state
                # can be a false solution of a multi-stable circuit: climb the ladder instead
                reply = {"status": "sim_error", "message": "DC operating point only reached by ngspice's transient-op fallback", "log": reply.get("log", "")}
            if reply.get("status") == "ok":
                return self._result(reply, text, attempts, started)
            if reply.get("status") in ("netlist_error", "internal_error"):
                return self._result(reply, text, attempts, started)
            last_message = reply.get("message", "")
            logs.append(f"--- attempt: {rung} ---\n{reply.get('log', '')}")
        raise SimulationError(
            f"simulation did not converge after {len(attempts)} attempts ({', '.join(attempts)}): {last_message}",
            log="\n".join(logs),
            netlist=text,
            attempts=attempts,
        )


_DEFAULT: Simulator | None = None


def get_simulator() -> Simulator:
    """The process-wide default :class:`Simulator` (started lazily, closed at exit)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Simulator()
        atexit.register(_DEFAULT.close)
    return _DEFAULT
