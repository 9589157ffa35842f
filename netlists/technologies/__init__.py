"""Technologies behind one interface: ``ekv`` (golden), ``bsim`` (BSIM4 card), ``sky130`` (PDK),
a user's model file (:class:`ModelFileTechnology`) and third-party plugins.

Plugins: a distribution registers a :class:`Technology` subclass (or a callable returning a
Technology instance, called with no arguments) under the entry-point group
:data:`ENTRY_POINT_GROUP`, e.g. in its ``pyproject.toml``::

    [project.entry-points."logdomain.technologies"]
    mytech = "mypackage.tech:MyTechnology"

``get_technology("mytech")`` then loads it; :func:`technology_names` lists the built-ins first,
then the plugins. A plugin whose name is a built-in's, or that two distributions register, is
refused (:func:`plugin_problems` says why); one that fails to import or does not give a Technology
named like its entry point raises :class:`ParameterError` naming it.
"""

from __future__ import annotations

from importlib import metadata

from ..errors import ParameterError
from .base import Technology, thermal_voltage_v
from .bsim import BsimTechnology
from .ekv import EkvCard, EkvTechnology
from .model_file import ModelFileTechnology
from .sky130 import CORNERS, Sky130Technology, find_sky130_root

__all__ = [
    "Technology",
    "EkvTechnology",
    "EkvCard",
    "BsimTechnology",
    "Sky130Technology",
    "ModelFileTechnology",
    "TECHNOLOGY_NAMES",
    "ENTRY_POINT_GROUP",
    "CORNERS",
    "get_technology",
    "technology_names",
    "plugin_problems",
    "find_sky130_root",
    "thermal_voltage_v",
]

#: the built-in technologies, in the order they are listed
TECHNOLOGY_NAMES = ("ekv", "bsim", "sky130")
#: entry-point group of third-party technologies
ENTRY_POINT_GROUP = "logdomain.technologies"


def _plugin_entry_points() -> tuple[dict[str, metadata.EntryPoint], dict[str, str]]:
    """(usable plugins by name, refused names → why), read from the installed distributions' metadata
    (nothing is imported)."""
    found: dict[str, list[metadata.EntryPoint]] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, []).append(entry)
    usable: dict[str, metadata.EntryPoint] = {}
    refused: dict[str, str] = {}
    for name, entries in sorted(found.items()):
        targets = sorted({e.value for e in entries})
        if name in TECHNOLOGY_NAMES or name == ModelFileTechnology.name:
            refused[name] = f"technology plugin {name!r} ({', '.join(targets)}) is refused: {name!r} is a built-in technology"
        elif len(targets) > 1:
            refused[name] = f"technology plugin {name!r} is refused: registered more than once ({', '.join(targets)})"
        else:
            usable[name] = entries[0]
    return usable, refused


def technology_names() -> tuple[str, ...]:
    """Names ``get_technology`` accepts: the built-ins, then the usable plugins (sorted)."""
    return TECHNOLOGY_NAMES + tuple(_plugin_entry_points()[0])


def plugin_problems() -> dict[str, str]:
    """Plugin names that are refused (a built-in's name, registered twice) → the reason."""
    return _plugin_entry_points()[1]


def _load_plugin(name: str, entry: metadata.EntryPoint) -> Technology:
    try:
        factory = entry.load()
        tech = factory()
    except Exception as exc:  # noqa: BLE001 - any failure of third-party code is named, not hidden
        raise ParameterError(f"technology plugin {name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}") from exc
    if not isinstance(tech, Technology):
        raise ParameterError(f"technology plugin {name!r} ({entry.value}) gave a {type(tech).__name__}, "
                             "not a netlists.technologies.Technology")  # fmt: skip
    if tech.name != name:
        raise ParameterError(f"technology plugin {name!r} ({entry.value}): its Technology.name is {tech.name!r}; "
                             "it must equal the entry-point name")  # fmt: skip
    return tech


def get_technology(name: str, *, corner: str = "tt", mismatch: bool = False, seed: int | None = None) -> Technology:
    """Return a technology by name: ``ekv``, ``bsim``, ``sky130`` or a plugin's entry-point name
    (corner/mismatch/seed apply to sky130 only). A model file is :class:`ModelFileTechnology`."""
    if name == "ekv":
        return EkvTechnology()
    if name == "bsim":
        return BsimTechnology()
    if name == "sky130":
        return Sky130Technology(corner, mismatch=mismatch, seed=seed)
    usable, refused = _plugin_entry_points()
    if name in refused:
        raise ParameterError(refused[name])
    if name in usable:
        if mismatch or seed is not None or corner != "tt":
            raise ParameterError(f"technology plugin {name!r}: corner, mismatch and seed apply to sky130 only")
        return _load_plugin(name, usable[name])
    raise ParameterError(f"technology must be one of {', '.join(TECHNOLOGY_NAMES + tuple(usable))}, got {name!r}")
