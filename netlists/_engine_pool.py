"""The default executor of :func:`netlists.sweep.sweep`: threads of the caller driving ngspice workers.

Each of the ``workers`` threads owns one ngspice worker process (a
:class:`~netlists.runner.Simulator`, i.e. ``python -m netlists._engine``) and starts it the moment
the pool is made, so the workers' start-up (interpreter, PySpice, ngspice) runs in parallel with
each other and with the caller's own preparation of the sweep. A thread takes the next chunk from
one shared queue only once its ngspice is ready, so a worker that starts late never holds work
another one could do.

Why threads and not a process pool: the simulation already runs in a separate process per thread
(killable on a timeout, isolated from the caller: ngspice is not thread-safe and must not be forked
after it ran), so pool worker processes in between only added a start-up chain (forkserver →
pool worker → its imports → its ngspice worker) and one more pickling of every point and result.
The threads only wait on pipes, which releases the GIL.

No orphans: each ngspice worker polls its parent (this process) and ends once it is gone
(:func:`netlists._lifeline.die_with_parent`); :meth:`EnginePool.shutdown` and
:meth:`EnginePool.terminate` end them at once.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Executor, Future
from typing import Any, Callable

from .errors import ParameterError
from ._sweep_worker import _LOCAL, _Client

__all__ = ["EnginePool"]

_STOP = None


class EnginePool(Executor):
    """``workers`` threads, each with its own ngspice worker process, started at once.

    Parameters
    ----------
    workers : int, optional
        Number of threads and ngspice worker processes (default: CPU count).

    Tasks are run by whichever thread is free first (one FIFO queue). Any callable may be
    submitted; :func:`netlists._sweep_worker.run_chunk` finds its thread's ngspice worker through a
    thread-local, so a sweep's chunks run on warm workers with the circuit kept loaded.
    """

    def __init__(self, workers: int | None = None) -> None:
        n = (os.cpu_count() or 1) if workers is None else workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ParameterError(f"EnginePool workers must be a positive integer, got {workers!r}")
        self.workers = n
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._shutdown = False
        self._lock = threading.Lock()
        self._clients = [_Client() for _ in range(n)]
        self._threads = [threading.Thread(target=self._serve, args=(client,), name=f"ngspice-sweep-{i}", daemon=True)
                         for i, client in enumerate(self._clients)]  # fmt: skip
        for thread in self._threads:
            thread.start()

    def _serve(self, client: _Client) -> None:
        _LOCAL.client = client
        try:
            try:
                client.start()  # a failure here is reported by the first chunk (which retries the start)
            except Exception:  # noqa: BLE001
                pass
            while True:
                item = self._tasks.get()
                if item is _STOP:
                    return
                future, fn, args, kwargs = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            client.close()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Queue ``fn(*args, **kwargs)`` for the first free thread."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to an EnginePool after shutdown")
            future: Future = Future()
            self._tasks.put((future, fn, args, kwargs))
            return future

    def _cancel_queued(self) -> None:
        while True:
            try:
                item = self._tasks.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                item[0].cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the threads finish the queued tasks (or cancel them), then end the ngspice workers."""
        with self._lock:
            first = not self._shutdown
            self._shutdown = True
            if cancel_futures:
                self._cancel_queued()
            if first:
                for _ in self._threads:
                    self._tasks.put(_STOP)
        if wait:
            for thread in self._threads:
                thread.join()

    def terminate(self) -> None:
        """Abandon the work: cancel queued tasks and kill every ngspice worker now, without waiting.

        A chunk that was running ends with an error in its future; no new ngspice worker is started.
        """
        for client in self._clients:
            client.stop()
        self.shutdown(wait=False, cancel_futures=True)

    @property
    def engine_pids(self) -> list[int]:
        """PIDs of the ngspice worker processes running now."""
        return [c.sim.worker_pid for c in self._clients if c.sim.alive and c.sim.worker_pid is not None]
