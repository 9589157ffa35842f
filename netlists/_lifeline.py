"""Child processes that end with the process that started them (no orphans).

A sweep's children form a tree: the caller (e.g. ``logdomain sweep``) → one ngspice worker
(:mod:`netlists._engine`) per sweep worker, each driven by a thread of the caller
(:mod:`netlists._engine_pool`). With a process pool passed as the executor the tree is deeper:
caller → ``forkserver`` → pool workers → their ngspice workers. When the caller is killed
(SIGKILL cannot be caught, so nothing can clean up after it), its children are re-parented and
would run on for as long as their work lasts — a pool worker blocked on its task queue, forever.
Every child therefore watches its parent itself:

* :func:`die_with_parent` (ngspice workers): a daemon thread polls ``os.getppid()`` every
  :data:`POLL_S` seconds and ends the process once the parent is gone (the kernel re-parents a
  child at once, even while the dead parent is an unreaped zombie). No ``PR_SET_PDEATHSIG``
  here: Linux sends it when the *thread* that forked the child ends, and a
  :class:`~netlists.runner.Simulator` may be started from a short-lived thread.
* :func:`pool_worker_lifeline` (initializer for a process pool one builds to pass to
  :func:`netlists.sweep.sweep`): ``PR_SET_PDEATHSIG`` = SIGKILL (the
  pool's processes are forked by the forkserver's or the caller's main thread), plus the same
  polling of the parent and of the *owner*, the process that created the pool: a forkserver
  worker's parent is the forkserver, which only notices the owner's death on its next select.

The ``multiprocessing`` resource tracker exits by itself once every process holding its pipe
(the owner, the forkserver and the workers) is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["POLL_S", "die_with_parent", "pool_worker_lifeline", "set_parent_death_signal"]

#: seconds between two looks at the parent (the delay between its death and the child's)
POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when the thread that forked it ends.

    Returns False where ``prctl`` is unavailable (not Linux); the polling thread still works.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a killed, not yet reaped process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel (a zombie then still counts as alive)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _end_now() -> None:
    os._exit(1)  # from any thread, without cleanup: the work has no one left to report to


def _watch(parent: int, owner: int | None, poll_s: float) -> None:
    while True:
        if os.getppid() != parent or (owner is not None and not _alive(owner)):
            _end_now()
        time.sleep(poll_s)


def die_with_parent(parent: int | None = None, *, owner: int | None = None, poll_s: float = POLL_S) -> None:
    """End this process (exit status 1) once its parent ``parent`` — default: the current one —
    or the process ``owner`` is gone; checked now and then every ``poll_s`` seconds.

    Parameters
    ----------
    parent : int, optional
        PID the parent had when it started this process (a mismatch now means it already died).
    owner : int, optional
        A further ancestor whose death also ends this process (e.g. the creator of a pool).
    poll_s : float
        Polling period, s.
    """
    expected = os.getppid() if parent is None else int(parent)
    if os.getppid() != expected or (owner is not None and not _alive(owner)):
        _end_now()
    threading.Thread(target=_watch, args=(expected, owner, poll_s), name="lifeline", daemon=True).start()


def pool_worker_lifeline(owner: int) -> None:
    """Process-pool ``initializer``: this worker ends with its parent and with ``owner``."""
    set_parent_death_signal(signal.SIGKILL)
    die_with_parent(owner=owner)
