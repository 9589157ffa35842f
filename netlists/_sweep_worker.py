"""Worker side of :func:`netlists.sweep.sweep`: runs inside any executor worker process.

Each worker thread keeps one ngspice child (:class:`~netlists.runner.Simulator`) with the
sweep's circuit loaded (in the default :class:`~netlists._engine_pool.EnginePool` the threads are
the caller's own; in a process pool or on Dask, those of the executor's workers), runs chunks of points with ``alter``/``alterparam``, and turns replies
into records. A chunk that times out or crashes the child is rerun point by point so that only
the culprit becomes an error record.
"""

from __future__ import annotations

import threading

from .errors import SimulationError, SimulationTimeout
from .runner import Simulator

__all__ = ["run_chunk", "run_text_once", "SweepStopped"]

_LOCAL = threading.local()


class SweepStopped(RuntimeError):
    """The sweep was abandoned (:meth:`netlists._engine_pool.EnginePool.terminate`): no more runs."""


class _Client:
    """One ngspice child per executor worker thread, with the sweep's circuit kept loaded."""

    def __init__(self) -> None:
        self.sim = Simulator()
        self.loaded: tuple[str, int | None] | None = None
        self.stopped = False

    def start(self) -> None:
        """Start the ngspice child now (otherwise the first chunk starts it)."""
        if not self.stopped:
            self.sim.ngspice_version  # noqa: B018 - starts the worker process

    def stop(self) -> None:
        """From any thread: refuse further runs and kill the ngspice child (a running chunk fails)."""
        self.stopped = True
        self.sim.abort()

    def close(self) -> None:
        """End the ngspice child (from the thread that uses this client)."""
        self.sim.close()

    def _ensure(self, spec: dict) -> dict | None:
        if self.loaded is not None and self.loaded == (spec["key"], self.sim.worker_pid) and self.sim.alive:
            return None
        self.loaded = None
        reply = self.sim.request({"op": "load", "text": spec["text"], "init": spec["init"]}, spec["timeout"] + 60)
        if reply.get("status") != "ok":
            kind = "netlist" if reply.get("status") == "netlist_error" else "simulation"
            return {"status": "error", "kind": kind, "message": reply.get("message", ""), "log": reply.get("log", "")[-4000:]}
        self.loaded = (spec["key"], self.sim.worker_pid)
        return None

    def run(self, spec: dict, requests: list[dict]) -> list[dict]:
        if self.stopped:
            raise SweepStopped("the sweep was stopped")
        failure = self._ensure(spec)
        if failure is not None:
            return [failure] * len(requests)
        pid = self.sim.worker_pid
        reply = self.sim.request({"op": "points", "points": requests}, spec["timeout"] * len(requests))
        if self.sim.worker_pid != pid or reply.get("status") != "ok":
            raise SimulationError(f"ngspice worker restarted or failed during the chunk: {reply.get('message')}")
        return [_record(r) for r in reply["results"]]


def _record(reply: dict) -> dict:
    if reply.get("status") == "ok":
        record = {"status": "ok", "vectors": reply["vectors"]}
        if reply.get("samples"):
            record["samples"] = reply["samples"]
        return record
    kind = {"netlist_error": "netlist", "sim_error": "simulation"}.get(reply.get("status"), "crash")
    return {"status": "error", "kind": kind, "message": reply.get("message", ""), "log": reply.get("log", "")[-4000:]}


def run_chunk(spec: dict, requests: list[dict]) -> list[dict]:
    """Simulate a chunk of points; a timeout or crash isolates the culprit point by point."""
    client = getattr(_LOCAL, "client", None)
    if client is None:
        client = _LOCAL.client = _Client()
    try:
        return client.run(spec, requests)
    except SimulationError:
        pass
    out = []
    for request in requests:
        for attempt in range(2):
            try:
                out.append(client.run(spec, [request])[0])
                break
            except SimulationTimeout as exc:
                out.append({"status": "error", "kind": "timeout", "message": str(exc).splitlines()[0]})
                break
            except SimulationError as exc:
                if attempt:
                    out.append({"status": "error", "kind": "crash", "message": str(exc).splitlines()[0]})
    return out


def run_text_once(text: str, init_commands: list[str], timeout_s: float) -> dict:
    """Run one complete netlist text once on this worker thread's ngspice (``Simulator.run_text``).

    The worker's kept sweep circuit is forgotten (the next chunk loads it again). The run uses the
    worker's state family of the kept sweep circuits (``Simulator.request``: "plain"), so alternating
    between the two does not restart the ngspice worker. Returns the
    result's vectors ``{"vectors": {name: array}, "log": str}``; a failure raises the runner's typed
    errors (:class:`~netlists.errors.NetlistError`, :class:`SimulationError` with the ngspice log,
    :class:`SimulationTimeout`), which reach the caller through the future.
    """
    client = getattr(_LOCAL, "client", None)
    if client is None:
        client = _LOCAL.client = _Client()
    if client.stopped:
        raise SweepStopped("the sweep was stopped")
    client.loaded = None
    result = client.sim.run_text(text, init_commands=list(init_commands), timeout_s=timeout_s, state_key="plain")
    return {"vectors": dict(result.vectors), "log": result.log}
