"""Progress on stderr for long commands (``calibrate``, ``compare``): a tqdm bar, never on stdout."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = ["DELAY_S", "progress_bar"]

#: a bar appears once the run has lasted this long, s (short runs print nothing)
DELAY_S = 1.0


@contextmanager
def progress_bar(desc: str, unit: str = "step") -> Iterator[Callable[[int, int, str], None]]:
    """A ``progress(done, total, what)`` callback drawing a tqdm bar on stderr.

    Shown only when stderr is a terminal and the run has lasted :data:`DELAY_S` (as ``sweep`` and
    ``montecarlo`` do); ``what`` (the step under way) is shown after the bar.
    """
    from tqdm import tqdm

    with tqdm(total=None, unit=unit, file=sys.stderr, desc=desc, delay=DELAY_S, disable=not sys.stderr.isatty()) as bar:

        def progress(done: int, total: int, what: str) -> None:
            bar.total = total
            bar.set_postfix_str(what, refresh=False)
            bar.update(done - bar.n)

        yield progress
