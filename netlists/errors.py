"""Typed errors raised by :mod:`netlists`.

Every error a user can provoke names what is wrong. Simulation errors carry
the netlist and the full ngspice log so a failure can be reproduced.
"""

from __future__ import annotations

__all__ = [
    "ParameterError",
    "NetlistError",
    "SimulationError",
    "SimulationTimeout",
]


class ParameterError(ValueError):
    """A parameter value is invalid (wrong type, non-finite, out of range).

    The message names the owner, the field, the allowed range and the value.
    """


class NetlistError(ValueError):
    """A netlist could not be built or was rejected by ngspice while parsing."""

    def __init__(self, message: str, *, log: str = "", netlist: str = "") -> None:
        super().__init__(message)
        self.log = log
        self.netlist = netlist


class SimulationError(RuntimeError):
    """ngspice failed to produce a result (no convergence, singular matrix, ...).

    Attributes
    ----------
    log : str
        Everything ngspice printed during all attempts of the convergence ladder.
    netlist : str
        The netlist text that was simulated.
    attempts : list of str
        The option sets tried, in order.
    """

    def __init__(
        self, message: str, *, log: str = "", netlist: str = "", attempts: list[str] | None = None
    ) -> None:
        super().__init__(message + ("\n--- ngspice log (tail) ---\n" + log[-4000:] if log else ""))
        self.log = log
        self.netlist = netlist
        self.attempts = list(attempts or [])


class SimulationTimeout(SimulationError):
    """A run exceeded its wall-clock timeout; the worker running it was killed."""
