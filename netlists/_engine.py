"""The ngspice engine inside a worker process (PySpice shared mode).

Runs in its own process only: ngspice is not thread-safe, keeps global state, and
a run that hangs must be killable without taking the caller down. It fixes the
PySpice 1.5 + ngspice 39 pitfalls listed in shared/SPICE-NOTES.md:

- messages are kept as a log and classified here; only real errors fail a run
  (PySpice turns every stderr line not starting with "Warning:" into an error);
- ``set num_threads=1`` (Debian's libngspice uses OpenMP) and ``nomoremode``;
- every run ends with ``destroy all`` and ``remcirc`` and the command history is
  freed periodically, so memory stays flat over thousands of runs;
- vectors are copied out as numpy arrays (``float(waveform)`` fails on numpy 2).
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import numpy as np

ERROR_PATTERNS = re.compile(
    r"(error|singular matrix|timestep too small|no convergence|aborted|failed|too many iterations|"
    r"could not find|unknown subckt|unknown model|undefined|not found|cannot|can't find)",
    re.IGNORECASE,
)
# Lines that match ERROR_PATTERNS but are harmless notes
BENIGN_PATTERNS = re.compile(
    r"(^warning|^note|gmin stepping completed|source stepping completed|"
    r"can't find init file|no compatibility mode|using spice|supplies reduced|"
    r"trying gmin|starting source stepping|starting true gmin|^reference value)",
    re.IGNORECASE,
)
PARSE_ERROR_PATTERNS = re.compile(
    r"(error on line|unknown subckt|unknown model|could not find|undefined parameter|"
    r"expression err|formula\(\) error|circuit not parsed|syntax error|unknown device|no such|"
    r"fatal error|is not a valid)",
    re.IGNORECASE,
)
HISTORY_FLUSH_EVERY = 100
#: a value read at a halt: a device's ``@name[param]`` (zero-current probe voltage ``v``, source current ``i``)
SPECIAL_VECTOR = re.compile(r"@[a-z][a-z0-9_]{0,80}\[(v|i)\]")
_CONDITION_MET = re.compile(r"^\s*(\d+)\s*:\s*condition met", re.IGNORECASE)
#: no node voltage (V), branch current (A) or time (s) of a circuit here exceeds this
UNPHYSICAL_LIMIT = 1e4


class Engine:
    """One ngspice instance; :meth:`run` loads a netlist, runs it and cleans up."""

    def __init__(self) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        logging.getLogger("PySpice").setLevel(logging.CRITICAL)
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

        self._ffi = ffi
        self.ng = NgSpiceShared.new_instance()
        self.lib = self.ng._ngspice_shared
        self._commands = 0
        self.command("set nomoremode")
        self.command("set num_threads=1")
        self.version = self._read_version()

    # -- low level -------------------------------------------------------------------------------
    def _output(self) -> list[str]:
        return list(self.ng._stdout) + list(self.ng._stderr)

    def _clear(self) -> None:
        self.ng.clear_output()

    def command(self, text: str) -> list[str]:
        """Send one interactive command; return what ngspice printed."""
        if len(text) > 1000 or "\n" in text:
            raise ValueError("ngspice command too long or multi-line")
        self._commands += 1
        if self._commands % HISTORY_FLUSH_EVERY == 0:
            self.lib.ngSpice_Command(self._ffi.NULL)  # frees the control-structure history
        self._clear()
        self.lib.ngSpice_Command(text.encode("ascii"))
        return self._output()

    def _read_version(self) -> str:
        lines = self.command("version -s")
        for line in lines:
            match = re.search(r"ngspice-?\s*(\d+(?:\.\d+)*)", line, re.IGNORECASE)
            if match:
                return match.group(1)
        return "unknown"

    def _load(self, text: str) -> list[str]:
        ffi = self._ffi
        lines = [line for line in text.splitlines() if line] + [""]
        keep = [ffi.new("char[]", line.encode("ascii")) for line in lines] + [ffi.NULL]
        array = ffi.new("char *[]", keep)
        self._clear()
        self.lib.ngSpice_Circ(array)
        return self._output()

    def _plot_names(self) -> list[str]:
        names = self.lib.ngSpice_AllPlots()
        out, i = [], 0
        while names[i] != self._ffi.NULL:
            out.append(self._ffi.string(names[i]).decode())
            i += 1
        return out

    def _vectors(self, plot: str) -> dict[str, np.ndarray]:
        ffi = self._ffi
        vectors: dict[str, np.ndarray] = {}
        names = self.lib.ngSpice_AllVecs(plot.encode())
        i = 0
        while names[i] != ffi.NULL:
            name = ffi.string(names[i]).decode()
            i += 1
            info = self.lib.ngGet_Vec_Info(f"{plot}.{name}".encode())
            if info == ffi.NULL or info.v_length <= 0:
                continue
            if info.v_realdata != ffi.NULL:
                data = np.frombuffer(ffi.buffer(info.v_realdata, info.v_length * 8), dtype=np.float64).copy()
            elif info.v_compdata != ffi.NULL:
                raw = np.frombuffer(ffi.buffer(info.v_compdata, info.v_length * 16), dtype=np.float64)
                data = (raw[0::2] + 1j * raw[1::2]).copy()
            else:
                continue
            vectors[name.lower()] = data
        return vectors

    def _value_now(self, name: str) -> float:
        """Present value of a vector or special vector (last element), e.g. ``time`` or ``@vam_m1[i]``."""
        info = self.lib.ngGet_Vec_Info(name.encode("ascii"))
        if info == self._ffi.NULL or info.v_length < 1 or info.v_realdata == self._ffi.NULL:
            raise KeyError(f"ngspice has no value for {name!r}")
        return float(info.v_realdata[info.v_length - 1])

    def _run_halting(self, halts: list[float], probes: list[str]) -> tuple[list[str], dict[str, np.ndarray]]:
        """``run`` the transient, halting (``stop when time ge t``) at the first accepted time point at or
        after each time of ``halts`` (s) to read ``probes`` (special vectors) there, then ``resume``; the
        values come back in the order of the sorted times. A time past the end reads the last point.

        ngspice makes each ``t`` a breakpoint of the transient: at a time that already is one (a PWL
        corner) halting changes nothing — the same time points, the values of ``searchsorted(time, t)``
        of an uninterrupted run (measured on the learner: bit-identical); elsewhere it adds a time point
        at ``t`` and the later steps move slightly (weights 1e-5 relative, measured). A clock source
        compared instead of ``time`` avoids the breakpoint but its extra node moved the steps as well.
        """
        for name in probes:
            if not SPECIAL_VECTOR.fullmatch(name):
                raise ValueError(f"probe {name!r} is not a special vector @name[v|i]")
        times = sorted(float(t) for t in halts)
        if not all(np.isfinite(times)):
            raise ValueError("halt times must be finite")
        samples: dict[str, list[float]] = {name: [] for name in probes}
        out: list[str] = []
        started = finished = False
        for t in times:
            if not finished and (not started or t > self._value_now("time")):
                step = self.command(f"stop when time ge {t!r}")
                step += self.command("resume" if started else "run")
                started = True
                out += step
                met = [m for m in map(_CONDITION_MET.match, step) if m]
                if met:  # the breakpoint would stop every later point: remove it
                    self.command(f"delete {met[-1].group(1)}")
                else:
                    finished = True
            for name in probes:
                samples[name].append(self._value_now(name))
        if not finished:
            out += self.command("resume" if started else "run")
        return out, {name: np.asarray(v, dtype=float) for name, v in samples.items()}

    def cleanup(self) -> None:
        self.command("destroy all")
        self.command("remcirc")

    # -- shared steps of a run -------------------------------------------------------------------
    def _load_checked(self, text: str, init_commands: list[str], log: list[str]) -> dict[str, Any] | None:
        """Send init commands and load ``text``; a parse failure is returned as a reply."""
        for command in init_commands:
            log += self.command(command)
        load_out = self._load(text)
        log += load_out
        parse_errors = [l for l in load_out if PARSE_ERROR_PATTERNS.search(l) and not BENIGN_PATTERNS.search(l)]
        if parse_errors or "circuit not parsed" in " ".join(load_out).lower():
            message = parse_errors[0] if parse_errors else "circuit not parsed"
            return {"status": "netlist_error", "message": message, "log": "\n".join(log)}
        return None

    def _run_and_collect(self, log: list[str], keep: list[str] | None = None, destroy: bool = False,
                         halts: list[float] | None = None, probes: list[str] | None = None) -> dict[str, Any]:
        """``run`` the loaded circuit and classify the outcome (vectors, or why there are none).

        A result is refused when ngspice reports an abort, a vector is non-finite, or a value
        is unphysical (a "solution" at ngspice's limits, e.g. 1e15 V, is garbage, not a result).
        """
        before = set(self._plot_names())
        samples: dict[str, np.ndarray] = {}
        if halts or probes:
            run_out, samples = self._run_halting(list(halts or []), list(probes or []))
        else:
            run_out = self.command("run")
        log += run_out
        new_plots = [p for p in self._plot_names() if p not in before and p != "const"]
        errors = [l for l in run_out if ERROR_PATTERNS.search(l) and not BENIGN_PATTERNS.search(l)]

        def fail(message: str) -> dict[str, Any]:
            return {"status": "sim_error", "message": message, "log": "\n".join(log)}

        if not new_plots:
            return fail(errors[0] if errors else "ngspice produced no results")
        try:
            vectors = self._vectors(new_plots[0])
        finally:
            if destroy:
                self.command(f"destroy {new_plots[0]}")
        if keep is not None:
            missing = [k for k in keep if k not in vectors]
            if missing and vectors:
                return fail(f"no vector(s) {missing[:3]}; have {sorted(vectors)[:20]}")
            vectors = {k: vectors[k] for k in keep if k in vectors}
        aborted = [l for l in errors if re.search(r"aborted|timestep too small|singular|no convergence|failed", l, re.I)]
        if aborted or not vectors:
            return fail((aborted or ["empty result"])[0])
        bad = [k for k, v in vectors.items() if not np.all(np.isfinite(v))]
        if bad:
            return fail(f"non-finite values in {bad[:3]}")
        huge = [k for k, v in vectors.items() if not np.iscomplexobj(v) and np.max(np.abs(v)) > UNPHYSICAL_LIMIT]
        if huge:
            return fail(f"unphysical values (|x| > {UNPHYSICAL_LIMIT:g}) in {huge[:3]}")
        bad = [k for k, v in samples.items() if not np.all(np.isfinite(v))]
        if bad:
            return fail(f"non-finite values in {bad[:3]}")
        return {"status": "ok", "vectors": vectors, "samples": samples, "plot": new_plots[0], "log": "\n".join(log)}

    # -- one run ---------------------------------------------------------------------------------
    def run(self, text: str, init_commands: list[str], halts: list[float] | None = None,
            probes: list[str] | None = None) -> dict[str, Any]:
        """Load ``text``, run its analyses, return vectors or a classified failure (``halts``, ``probes``:
        see :meth:`_run_halting`; their values come back as ``samples``)."""
        started = time.perf_counter()
        log: list[str] = []
        try:
            failed = self._load_checked(text, init_commands, log)
            if failed:
                return failed
            reply = self._run_and_collect(log, halts=halts, probes=probes)
            reply["elapsed_s"] = time.perf_counter() - started
            return reply
        finally:
            self.cleanup()

    # -- sweeps: load once, change values, run many times ------------------------------------------
    def load(self, text: str, init_commands: list[str]) -> dict[str, Any]:
        """Load ``text`` and keep it loaded for :meth:`point` (replaces any loaded circuit)."""
        self.cleanup()
        self._sweep_state: tuple | None = None
        self._sweep_source = (text, list(init_commands))
        log: list[str] = []
        failed = self._load_checked(text, init_commands, log)
        if failed:
            self.cleanup()
            return failed
        return {"status": "ok", "log": "\n".join(log)}

    def point(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run the loaded circuit at one point (sweep op ``point``).

        ``params`` (every ``.param`` of the sweep, by name) are changed with ``alterparam``
        followed by ``setseed <seed>`` and ``reset`` — only when they or ``seed`` differ from
        the last point, since ``reset`` costs milliseconds. ``reset`` restores source values
        and options, so ``temp`` (``option temp``) and ``sources`` (``alter NAME dc=V``) are
        applied after it, on every point. ``keep`` lists the vectors to return (None: all).
        """
        started = time.perf_counter()
        log: list[str] = []
        if request.get("fresh"):  # the circuit as just loaded: nothing the worker ran before carries over
            self.cleanup()
            self._sweep_state = None
            failed = self._load_checked(*self._sweep_source, log)
            if failed:
                return failed
        state = (tuple(sorted(request["params"].items())), int(request.get("seed") or 0))
        if getattr(self, "_sweep_state", None) != state:
            for name, value in state[0]:
                log += self.command(f"alterparam {name}={value!r}")
            log += self.command(f"setseed {state[1]}")
            log += self.command("reset")
            self._sweep_state = state
        if request.get("temp") is not None:
            log += self.command(f"option temp={float(request['temp'])!r}")
        for name, value in request["sources"].items():
            log += self.command(f"alter {name} dc={float(value)!r}")
        setup_errors = [l for l in log if ERROR_PATTERNS.search(l) and not BENIGN_PATTERNS.search(l)]
        if setup_errors:
            self._sweep_state = None
            return {"status": "sim_error", "message": setup_errors[0], "log": "\n".join(log)}
        reply = self._run_and_collect(log, keep=request.get("keep"), destroy=True, halts=request.get("halts"),
                                      probes=request.get("probes"))
        reply.pop("plot", None)
        reply["elapsed_s"] = time.perf_counter() - started
        return reply


def worker_main(reader, writer) -> None:  # pragma: no cover - runs in a child process
    """Serve requests from the parent until the pipe closes."""
    try:
        engine = Engine()
        writer.send({"status": "ready", "version": engine.version, "pid": os.getpid()})
    except Exception as exc:  # noqa: BLE001 - report any start-up failure to the parent
        writer.send({"status": "start_error", "message": f"{type(exc).__name__}: {exc}"})
        return
    while True:
        try:
            request = reader.recv()
        except (EOFError, OSError):
            return
        try:
            if request["op"] == "run":
                reply = engine.run(request["text"], request["init"], request.get("halts"), request.get("probes"))
            elif request["op"] == "load":
                reply = engine.load(request["text"], request["init"])
            elif request["op"] == "points":
                reply = {"status": "ok", "results": [engine.point(p) for p in request["points"]]}
            elif request["op"] == "ping":
                reply = {"status": "ok", "version": engine.version, "pid": os.getpid()}
            else:
                reply = {"status": "internal_error", "message": f"unknown op {request['op']!r}", "log": ""}
        except Exception as exc:  # noqa: BLE001
            reply = {"status": "internal_error", "message": f"{type(exc).__name__}: {exc}", "log": ""}
        writer.send(reply)


if __name__ == "__main__":  # pragma: no cover
    import sys
    from multiprocessing.connection import Connection

    # started by netlists.runner._ENGINE_BOOT, which already watches the Simulator's pid (argv[3])
    worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
