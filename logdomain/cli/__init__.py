"""The command-line layer of ``logdomain`` (contract: shared/DESIGN.md §7): parsing, checks of the
user's input, rendering and files written — nothing else; the work is done by the library modules.

:mod:`.app` holds the parser, ``doctor``/``netlist``/``simulate`` and :func:`main` (the console
script); each other command lives in its own module with a ``register(subparsers)``.
"""

from .app import CommandError, UsageError, build_parser, main

__all__ = ["main", "build_parser", "UsageError", "CommandError"]
