"""Netlist text that runs on another machine: no absolute path of the user's cache or checkout.

The runner includes model files by absolute path (sky130's cut of the PDK sits in the user's
cache). A netlist written out for a person or another tool gets, instead, either the included
files' text inline (one self-contained file) or ``.include "NAME"`` relative to the netlist's own
folder, with the files to copy there (ngspice resolves a relative ``.include`` against the folder of
the file that holds it). For sky130 only the size bins the netlist's transistors select are kept
(:meth:`~netlists.technologies.sky130.Sky130Technology.pruned_model_file`). Technologies that write
their cards inline (``ekv``, ``bsim``, a model file) have nothing to replace.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from .errors import NetlistError
from .netlist import Netlist
from .params import SimParams
from .runner import guard_netlist_text

__all__ = ["portable_text"]

_INCLUDE = re.compile(r'^\.include\s+"(?P<path>[^"]+)"\s*$', re.IGNORECASE)
_END = re.compile(r"^\s*\.end\s*$", re.IGNORECASE)
#: an absolute path in a comment of an inlined file (sky130's cut names the PDK folder it came from)
_ABSOLUTE = re.compile(r"(?<![\w.:/])/[^\s,;)]+")


def portable_text(netlist: Netlist, sim: SimParams | None = None, *, inline: bool = True) -> tuple[str, dict[str, Path]]:
    """The text of ``netlist`` with every ``.include`` made portable; returns (text, files).

    ``inline=True``: each included file's text replaces its ``.include`` line (between comment
    lines naming it; a ``.end`` line of the file is dropped, an absolute path in one of its comment
    lines becomes ``<folder>``) and ``files`` is empty.
    ``inline=False``: ``.include "NAME"`` (the file's name, no folder) and ``files`` maps each NAME
    to the file to copy beside the netlist. The sizes of ``netlist``'s transistors are taken as
    fixed (the generated blocks write them as numbers), so sky130 includes only their bins.
    Commands the technology sends before loading (sky130: ``set ngbehavior=hsa``) are listed in
    comment lines after the title. The result passes :func:`netlists.runner.guard_netlist_text`.
    """
    text = dataclasses.replace(netlist, fixed_sizes=True).text(sim)
    files: dict[str, Path] = {}
    lines: list[str] = []
    for line in text.splitlines():
        match = _INCLUDE.match(line)
        if match is None:
            lines.append(line)
            continue
        path = Path(match["path"])
        if path.name in files and files[path.name] != path:
            raise NetlistError(f"two included files share the name {path.name!r}: {files[path.name]} and {path}")
        if inline:
            body = [_ABSOLUTE.sub("<folder>", part) if part.lstrip().startswith("*") else part
                    for part in path.read_text(encoding="ascii").splitlines() if _END.match(part) is None]  # fmt: skip
            lines += [f"* ---- begin of {path.name} (inlined) ----", *body, f"* ---- end of {path.name} ----"]
        else:
            files[path.name] = path
            lines.append(f'.include "{path.name}"')
    init = netlist.technology.init_commands()
    if init:  # ngspice reads these before the netlist (the runner sends them; by hand: .spiceinit)
        lines[1:1] = ["* needs these ngspice commands before loading (e.g. in .spiceinit):",
                      *(f"*   {command}" for command in init)]  # fmt: skip
    result = "\n".join(lines) + "\n"
    guard_netlist_text(result)
    return result, files
