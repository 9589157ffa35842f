"""Atomic file writes for the command line: nothing half-written if a write fails.

Each output is first written to a temporary file *beside* its target (same folder, so the same
filesystem: ``os.replace`` is then an atomic rename — a temporary file in ``/tmp`` could sit on
another filesystem and could not be renamed into place). :class:`StagedOutputs` groups several
outputs: none is renamed into place before all of them were written, so a failed or interrupted
command leaves no output at all (an earlier file of the same name stays as it was).

Files are created with mode ``0o666 & ~umask`` (0644 under the usual umask 022), as ``open()`` and
ordinary tools create them — not the 0600 of :func:`tempfile.mkstemp`. An output folder that does
not exist yet (parents too) is created at the commit, so a failed run leaves no empty folders.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["StagedOutputs", "write_atomic", "create_file", "nearest_existing"]

#: signals held back while the staged files are renamed into place (the commit is not split)
_HELD = {signal.SIGINT, signal.SIGALRM, signal.SIGTERM}


#: attempts at a fresh temporary name before giving up (each name has 64 random bits)
_NAME_ATTEMPTS = 100


def create_file(folder: str | os.PathLike, prefix: str, suffix: str = ".tmp") -> str:
    """Create a new empty file ``folder/prefix<random>suffix`` and return its path.

    Created as ``open(..., "x")`` would (``O_CREAT | O_EXCL``, mode ``0o666`` less the umask), so
    the finished output gets the permissions of any new file rather than :func:`tempfile.mkstemp`'s
    0600; the umask is never changed (it is process-wide).
    """
    for _ in range(_NAME_ATTEMPTS):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(8)}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(f"no free temporary name in {os.fspath(folder)!r}")


def nearest_existing(path: str | os.PathLike) -> Path:
    """``path`` itself if it exists, else its nearest existing ancestor (``.`` for a relative path)."""
    current = Path(path)
    while not os.path.lexists(current) and current != current.parent:
        current = current.parent
    return current


class StagedOutputs:
    """Outputs written to temporary names beside their targets, renamed into place together.

    >>> with StagedOutputs() as out:                              # doctest: +SKIP
    ...     np.save(out.file(Path("a.npy")), a)
    ...     Path(out.file(Path("a.json"))).write_text(text)
    ...     # both appear at the end of the block, or neither (an exception discards both)
    """

    def __init__(self) -> None:
        self._files: list[tuple[str, Path]] = []
        self._folders: list[tuple[Path, Path]] = []

    def file(self, target: str | os.PathLike) -> str:
        """A temporary file name beside ``target`` to write to; becomes ``target`` at commit."""
        path = Path(target)
        tmp = create_file(path.parent, f".{path.name}.")
        self._files.append((tmp, path))
        return tmp

    def folder(self, target: str | os.PathLike) -> Path:
        """A temporary folder for the files of folder ``target``; at commit ``target`` is created if
        missing (parents too, mode ``0o777`` less the umask) and every file written into the
        temporary folder is moved into it (replacing files of the same name).

        The temporary folder sits in ``target`` or, while that does not exist, in its nearest
        existing ancestor — the same filesystem, so the moves are renames."""
        path = Path(target)
        tmp = Path(tempfile.mkdtemp(dir=nearest_existing(path), prefix=".staged-"))
        self._folders.append((tmp, path))
        return tmp

    def commit(self) -> None:
        """Rename every staged output into place (signals held meanwhile), then forget them."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            for _, path in self._folders:  # new folders first: nothing is in place if one fails
                path.mkdir(parents=True, exist_ok=True)
            for tmp, path in self._files:
                os.replace(tmp, path)
            for tmp, path in self._folders:
                for item in sorted(tmp.iterdir()):
                    os.replace(item, path / item.name)
            # the outputs are in place: a run deadline (SIGALRM, logdomain.cli._limits) that expires
            # now must not fail a command whose work is done
            signal.setitimer(signal.ITIMER_REAL, 0)
            if signal.SIGALRM in signal.sigpending():
                signal.sigtimedwait({signal.SIGALRM}, 0)
        finally:
            self._files.clear()
            self.discard()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def discard(self) -> None:
        """Remove every staged output that was not committed."""
        for tmp, _ in self._files:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        for tmp, _ in self._folders:
            shutil.rmtree(tmp, ignore_errors=True)
        self._files.clear()
        self._folders.clear()

    def __enter__(self) -> "StagedOutputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``."""
    with StagedOutputs() as out:
        write(out.file(path))
