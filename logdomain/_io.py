"""Atomic file writes for the command line: nothing half-written if a write fails.

Each output is first written to a temporary file *beside* its target (same folder, so the same
filesystem: ``os.replace`` is then an atomic rename — a temporary file in ``/tmp`` could sit on
another filesystem and could not be renamed into place). :class:`StagedOutputs` groups several
outputs: none is renamed into place before all of them were written, so a failed or interrupted
command leaves no output at all (an earlier file of the same name stays as it was).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["StagedOutputs", "write_atomic"]

#: signals held back while the staged files are renamed into place (the commit is not split)
_HELD = {signal.SIGINT, signal.SIGALRM, signal.SIGTERM}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self._files.append((tmp, path))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would carry over to the output
        return tmp

    def folder(self, target: str | os.PathLike) -> Path:
        """A temporary folder inside the existing folder ``target``; at commit every file written
        into it is moved into ``target`` (replacing files of the same name)."""
        path = Path(target)
        tmp = Path(tempfile.mkdtemp(dir=path, prefix=".staged-"))
        self._folders.append((tmp, path))
        return tmp

    def commit(self) -> None:
        """Rename every staged output into place (signals held meanwhile), then forget them."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            for tmp, path in self._files:
                os.replace(tmp, path)
            for tmp, path in self._folders:
                for item in sorted(tmp.iterdir()):
                    os.replace(item, path / item.name)
            # the outputs are in place: a run deadline (SIGALRM, logdomain._limits) that expires
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
