"""The technology options every SPICE command shares: ``--tech NAME`` (a built-in or a plugin's
entry-point name, :func:`netlists.technologies.technology_names`) or ``--model-file F --nmos NAME
--pmos NAME`` (a user's BSIM-family card, :class:`netlists.ModelFileTechnology`).

``--model-file`` and an explicit ``--tech`` are mutually exclusive; ``--nmos``/``--pmos`` go with
``--model-file`` only, and both are needed; ``--corner`` applies to sky130 only
(:func:`check_tech_options`, called for every command by :mod:`logdomain.cli._modes`).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

from netlists import ModelFileTechnology, Technology, get_technology, technology_names

from ..errors import UsageError

__all__ = ["add_tech_argument", "add_model_file_options", "check_tech_options", "technology_from_args", "tech_option_text"]

#: dests of the model-file options
MODEL_FILE_DESTS = ("model_file", "nmos", "pmos")


@functools.lru_cache(maxsize=4)
def _names(path: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`technology_names` for the import path ``path`` (reading the installed distributions'
    metadata costs milliseconds, and a command line builds its parser more than once)."""
    return technology_names()


def add_tech_argument(parser, *, default: str, help: str | None = None) -> None:
    """``--tech`` (choices: the built-ins and the installed plugins) and the model-file options."""
    parser.add_argument("--tech", default=default, choices=_names(tuple(sys.path)),
                        help=help or f"technology (default {default}); or --model-file")  # fmt: skip
    add_model_file_options(parser)


def add_model_file_options(parser) -> None:
    """``--model-file F --nmos NAME --pmos NAME`` on ``parser`` (or an argument group)."""
    parser.add_argument("--model-file", metavar="FILE", help="SPICE file of BSIM-family .model cards (instead of --tech)")
    parser.add_argument("--nmos", metavar="NAME", help="nMOS model name in --model-file")
    parser.add_argument("--pmos", metavar="NAME", help="pMOS model name in --model-file")


def check_tech_options(args: argparse.Namespace, given: set[str]) -> None:
    """Refuse the combinations the module docstring lists (one line naming the options)."""
    if not hasattr(args, "model_file"):
        return
    if "model_file" in given:
        if "tech" in given:
            raise UsageError("--model-file and --tech are mutually exclusive; give one")
        missing = [f"--{d}" for d in ("nmos", "pmos") if d not in given]
        if missing:
            raise UsageError(f"--model-file needs {' and '.join(missing)} (the model names in the file)")
        if "corner" in given:
            raise UsageError("--corner applies to --tech sky130 only, not to --model-file")
    else:
        extra = [f"--{d}" for d in ("nmos", "pmos") if d in given]
        if extra:
            raise UsageError(f"{' and '.join(extra)} need{'s' if len(extra) == 1 else ''} --model-file FILE")


def tech_option_text(args: argparse.Namespace) -> str:
    """How the user chose the technology, for messages: ``--tech NAME`` or ``--model-file NAME``."""
    if getattr(args, "model_file", None):
        return f"--model-file {os.path.basename(args.model_file)}"
    return f"--tech {args.tech}"


def technology_from_args(args: argparse.Namespace, *, corner: str | None = None, mismatch: bool = False) -> Technology:
    """The technology of ``--tech``/``--corner`` or of ``--model-file``/``--nmos``/``--pmos``; a bad file or
    name raises :class:`netlists.ParameterError` naming the option (exit 2)."""
    if getattr(args, "model_file", None):
        if mismatch:
            raise UsageError(f"mismatch needs --tech sky130 (the only technology with mismatch models), got {tech_option_text(args)}")
        return ModelFileTechnology(args.model_file, nmos=args.nmos, pmos=args.pmos)
    return get_technology(args.tech, corner=corner or getattr(args, "corner", None) or "tt", mismatch=mismatch)
