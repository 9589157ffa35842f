"""Options that do not apply to the chosen mode are errors, not silently ignored (DESIGN.md §7).

:data:`APPLIES` lists, per command, the options that only some modes use (by argparse ``dest``)
and the modes that use them; options not listed apply to every mode of their command. An option
counts as given when it is on the command line (:func:`explicit_options`), whatever its value —
``--bits 8`` with ``--model ideal`` is refused although 8 is the default.

Whoever adds an option to a command with modes adds it here when some modes ignore it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from ..errors import UsageError

__all__ = ["APPLIES", "explicit_options", "check_applicable"]

_SIMULATE_LEARNER = ("dim", "samples", "seed", "eta", "lam", "t_hold_s", "mismatch", "dies", "workers", "algorithm", "vdd_v")
_DATA = ("data", "target", "task", "intercept", "test_fraction", "shuffle", "no_scale")

#: command → (the mode's dest, {option dest: modes it applies to})
APPLIES: dict[str, tuple[str, dict[str, frozenset[str]]]] = {
    "simulate": ("block", {
        "set": frozenset({"nmos", "pmos", "multiplier"}),
        **{name: frozenset({"learner"}) for name in _SIMULATE_LEARNER},
        "design": frozenset({"learner", "retention", "noise"}),
        "t_hold_s": frozenset({"learner", "retention", "noise"}),  # the design's biases depend on it
    }),
    "train": ("model", {
        **{name: frozenset({"analog"}) for name in ("calibration", "bits", "dies", "substeps", "temp_c")},
        **{name: frozenset({"spice"}) for name in ("tech", "corner", "point_timeout", "model_file", "nmos", "pmos")},
    }),
    "compare": ("against", {
        **{name: frozenset({"ideal"}) for name in (*_DATA, "bits", "substeps", "epochs", "out", "quick")},
        **{name: frozenset({"spice"}) for name in ("tech", "corner", "dim", "samples", "point_timeout", "mismatch",
                                                   "workers", "model_file", "nmos", "pmos")},
    }),
    "ep": ("backend", {name: frozenset({"spice"}) for name in ("workers", "point_timeout")}),
}  # fmt: skip


def _flag(parser: argparse.ArgumentParser, dest: str) -> str:
    """The option string a user types for ``dest`` (for messages)."""
    for action in _all_actions(parser):
        if action.dest == dest and action.option_strings:
            return max(action.option_strings, key=len)
    return dest


def _all_actions(parser: argparse.ArgumentParser):
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


def explicit_options(build_parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str]) -> set[str]:
    """The dests given on the command line ``argv`` (parsed again with every default suppressed).

    ``argv`` must already have parsed without error with a parser from ``build_parser``.
    """
    probe = build_parser()
    parsers = [probe]
    while parsers:
        parser = parsers.pop()
        parser._defaults.clear()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            elif action.dest != argparse.SUPPRESS:
                action.default = argparse.SUPPRESS
    return set(vars(probe.parse_args(list(argv))))


def check_applicable(parser: argparse.ArgumentParser, args: argparse.Namespace, given: set[str]) -> None:
    """Raise :class:`UsageError` for an option given in a mode that does not use it, and for
    ``--corner`` with a technology other than sky130, and the combinations of ``--tech`` and
    ``--model-file`` that :func:`logdomain.cli._tech.check_tech_options` refuses."""
    from ._tech import check_tech_options

    command = getattr(args, "command", None)
    if command in APPLIES:
        mode_dest, table = APPLIES[command]
        mode = getattr(args, mode_dest)
        for dest in sorted(given & set(table)):
            if mode not in table[dest]:
                form = {"block": "simulate {}", "model": "--model {}", "against": "--against {}",
                        "backend": "--backend {}"}[mode_dest]
                modes = " or ".join(form.format(m) for m in sorted(table[dest]))
                raise UsageError(f"{_flag(parser, dest)} does not apply to {form.format(mode)} (only to {modes})")
    check_tech_options(args, given)
    if "corner" in given and getattr(args, "tech", "sky130") != "sky130":
        raise UsageError(f"--corner applies to --tech sky130 only, got --tech {args.tech}")
