"""The technology interface: how a generic MOS becomes netlist text."""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..values import check_identifier, spice_number

__all__ = ["Technology", "JunctionGeometry", "thermal_voltage_v", "BOLTZMANN_J_PER_K", "ELEMENTARY_CHARGE_C"]

BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19


def thermal_voltage_v(temp_c: float) -> float:
    """U_T = k·T/q in V at ``temp_c`` °C (25.85 mV at 27 °C)."""
    return BOLTZMANN_J_PER_K * (temp_c + 273.15) / ELEMENTARY_CHARGE_C


@dataclass(frozen=True)
class JunctionGeometry:
    """Drain and source junction geometry of one single-finger transistor (SI units).

    ``ad_m2``/``as_m2``: drain/source diffusion area, m²; ``pd_m``/``ps_m``: their perimeters, m.
    For one finger of width W with the diffusion extending E beyond the gate (gate edge to the end
    of the diffusion), ``AD = AS = W·E`` and ``PD = PS = 2·(W + E)`` — the layout convention of the
    open_pdks xschem symbols for sky130 (``ad = int((nf+1)/2)·W/nf·0.29``, ``pd = 2·int((nf+1)/2)·
    (W/nf + 0.29)``, nf = 1), see :attr:`Technology.diffusion_extension_m`.
    """

    ad_m2: float
    as_m2: float
    pd_m: float
    ps_m: float

    @classmethod
    def single_finger(cls, w_m: float, extension_m: float) -> "JunctionGeometry":
        """AD = AS = W·E (m²), PD = PS = 2·(W + E) (m) for width ``w_m`` and extension ``extension_m``, m."""
        area = w_m * extension_m
        perimeter = 2.0 * (w_m + extension_m)
        return cls(area, area, perimeter, perimeter)


class Technology(ABC):
    """A transistor technology behind one interface.

    Generators call :meth:`instance` for every transistor and never name a model
    card; the runner sends :meth:`init_commands` before loading and the netlist
    starts with :meth:`preamble`.
    """

    #: registry name (``ekv``, ``bsim``, ``sky130``, ``model_file`` or a plugin's entry-point name)
    name: str = ""
    #: nominal supply, V
    vdd_v: float = 1.8
    #: diffusion extension E beyond the gate of a single-finger device, m; when set, :meth:`instance`
    #: gives every transistor drain/source area and perimeter (:class:`JunctionGeometry`), so that the
    #: model's junction diodes (leakage, capacitance) are simulated. None: no geometry is written (the
    #: model has no junctions, or the technology does not say how its layouts are drawn).
    diffusion_extension_m: float | None = None
    #: length unit of instance geometry in the netlist, m (1e-6 when the models set ``.option scale=1u``)
    geometry_unit_m: float = 1.0
    #: capacitor density of the technology's MIM (metal-insulator-metal) capacitor, F/m² (None: unknown);
    #: sets the area of the weights' storage capacitors in the cost figures
    mim_density_f_per_m2: float | None = None

    @property
    def state_key(self) -> str:
        """Family of global ngspice settings this technology leaves behind (workers are not shared across families)."""
        return "plain"

    @property
    def label(self) -> str:
        """Human-readable ``name`` plus corner (identifier characters only)."""
        return self.name

    @property
    def identity(self) -> str:
        """What a calibration records as its ``technology`` (the registry name; technologies built
        from a file add the file's name and content hash)."""
        return self.name

    @property
    def learner_family(self) -> str:
        """Which built-in technology's learner defaults apply (``LearnerParams.for_technology``):
        the name for ``ekv``/``bsim``/``sky130``, else ``"bsim"`` (the learner's field defaults, sized
        for a BSIM-family 1.8 V card). A plugin may override it."""
        return self.name if self.name in ("ekv", "bsim", "sky130") else "bsim"

    @abstractmethod
    def preamble(self, temp_c: float) -> list[str]:
        """Model cards / includes / subcircuits for a run at ``temp_c`` °C."""

    @abstractmethod
    def instance_line(self, name: str, polarity: str, d: str, g: str, s: str, b: str, w_m: float, l_m: float) -> str:
        """One netlist line for a transistor (all arguments already validated)."""

    def instance(self, name: str, polarity: str, d: str, g: str, s: str, b: str, *, w_m: float, l_m: float) -> list[str]:
        for node in (d, g, s, b):
            if node != "0":
                check_identifier(node, "node name")
        check_identifier(name, "device name")
        spice_number(w_m), spice_number(l_m)  # finite check
        return [self.instance_line(name, polarity, d, g, s, b, float(w_m), float(l_m)) + self.junction_text(float(w_m))]

    def without_junctions(self) -> "Technology":
        """A copy of this technology that writes no junction geometry (channel currents only, for fits of the
        channel law; the copy shares everything else, including a sky130 corner and mismatch settings)."""
        bare = copy.copy(self)
        bare.diffusion_extension_m = None
        return bare

    def junction_geometry(self, w_m: float) -> JunctionGeometry | None:
        """Drain/source geometry of a single-finger device of width ``w_m`` (m), or None when
        :attr:`diffusion_extension_m` is None."""
        if self.diffusion_extension_m is None:
            return None
        return JunctionGeometry.single_finger(w_m, self.diffusion_extension_m)

    def junction_text(self, w_m: float) -> str:
        """`` ad=… as=… pd=… ps=…`` appended to an instance line (in :attr:`geometry_unit_m`; area in
        its square), or ``""`` without junction geometry."""
        geom = self.junction_geometry(w_m)
        if geom is None:
            return ""
        u = self.geometry_unit_m
        ad, as_ = spice_number(geom.ad_m2 / (u * u)), spice_number(geom.as_m2 / (u * u))
        pd, ps = spice_number(geom.pd_m / u), spice_number(geom.ps_m / u)
        return f" ad={ad} as={as_} pd={pd} ps={ps}"

    def init_commands(self) -> list[str]:
        """ngspice interactive commands to send before loading a netlist."""
        return []

    def model_files(self) -> list[Path]:
        """Files the preamble includes (hashed into cache keys)."""
        return []

    def preamble_for(self, temp_c: float, sizes: Iterable[tuple[str, float, float]] | None) -> list[str]:
        """The preamble of a netlist whose transistors have exactly the (polarity, W in m, L in m) of
        ``sizes`` (None: any size). A technology may leave out model cards no such device uses
        (sky130: the other size bins); by default the same as :meth:`preamble`."""
        return self.preamble(temp_c)

    def model_files_for(self, sizes: Iterable[tuple[str, float, float]] | None) -> list[Path]:
        """Files :meth:`preamble_for` includes (hashed into cache keys)."""
        return self.model_files()

    @abstractmethod
    def specific_current_a(self, polarity: str, w_m: float, l_m: float, temp_c: float) -> float:
        """Specific current I_spec = 2·n·μ·C_ox·U_T²·W/L in A (the weak/strong boundary, IC = 1)."""

    def slope_factor(self, polarity: str) -> float:
        """Nominal subthreshold slope factor n = 1/κ."""
        return 1.4

    def available(self) -> tuple[bool, str]:
        """(usable, reason) — e.g. the PDK files were found."""
        return True, "built in"

    def describe(self) -> dict:
        ok, why = self.available()
        return {"name": self.name, "label": self.label, "available": ok, "detail": why}


def specific_current_from(n: float, mobility_m2_per_vs: float, cox_f_per_m2: float, w_m: float, l_m: float, temp_c: float) -> float:
    """I_spec = 2·n·μ·C_ox·U_T²·W/L (A)."""
    ut = thermal_voltage_v(temp_c)
    return 2.0 * n * mobility_m2_per_vs * cox_f_per_m2 * ut * ut * w_m / l_m


def mobility_at(mu_nom: float, temp_c: float, exponent: float = -1.5, tnom_c: float = 27.0) -> float:
    """Phonon-limited mobility scaling μ(T) = μ(T_nom)·(T/T_nom)^exponent."""
    return mu_nom * math.pow((temp_c + 273.15) / (tnom_c + 273.15), exponent)
