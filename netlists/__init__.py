"""netlists — validated subthreshold MOS netlists and a robust ngspice runner.

Data flows netlists → calibration → logdomain; this package imports neither of the others.
"""

from . import blocks
from .errors import NetlistError, ParameterError, SimulationError, SimulationTimeout
from .netlist import Analysis, MosDevice, Netlist, NetlistBuilder
from .params import DiodeParams, MirrorParams, MosArrayParams, MosBenchParams, MultiplierParams, Params, SimParams
from .regions import RegionReport, check_regions
from .runner import SimResult, Simulator, get_simulator
from .technologies import TECHNOLOGY_NAMES, ModelFileTechnology, Technology, get_technology, technology_names, thermal_voltage_v
from .values import check_identifier, parse_number, spice_number

__version__ = "0.1.0"

__all__ = [
    "blocks",
    "NetlistError",
    "ParameterError",
    "SimulationError",
    "SimulationTimeout",
    "Analysis",
    "MosDevice",
    "Netlist",
    "NetlistBuilder",
    "DiodeParams",
    "MirrorParams",
    "MosBenchParams",
    "MosArrayParams",
    "MultiplierParams",
    "Params",
    "SimParams",
    "RegionReport",
    "check_regions",
    "SimResult",
    "Simulator",
    "get_simulator",
    "TECHNOLOGY_NAMES",
    "Technology",
    "get_technology",
    "technology_names",
    "ModelFileTechnology",
    "thermal_voltage_v",
    "check_identifier",
    "parse_number",
    "spice_number",
]
