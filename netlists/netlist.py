"""Netlist assembly: elements built only from validated names and numbers.

A :class:`NetlistBuilder` collects element lines (through the technology for MOS
devices) and records every MOS so the operating-region checker can read it back.
:class:`Netlist` renders the final text, with simulator options and temperature,
to a string or any text stream.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from .errors import NetlistError
from .params import SimParams
from .values import check_identifier, spice_number

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from .technologies.base import Technology

__all__ = ["MosDevice", "Analysis", "Netlist", "NetlistBuilder", "ammeter_name", "probe_name"]

def ammeter_name(device: str) -> str:
    """Name of the 0 V source in series with ``device``'s drain (its current is I_D)."""
    return f"vam_{device}".lower()


def probe_name(node: str) -> str:
    """Name of the zero-current source written on ``node`` when the netlist samples it (its ``v`` is V(node))."""
    return f"iprb_{node}".lower()


def _node(name: str) -> str:
    return "0" if name == "0" else check_identifier(name, "node name")


@dataclass(frozen=True)
class MosDevice:
    """One transistor as generated: nodes, polarity (``"n"``/``"p"``), size in m.

    ``role`` is ``"signal"`` for devices whose current enters the block's law (they must be
    in weak inversion and saturated) or ``"feedback"`` for devices that only close a loop
    (their region is reported but not required).
    """

    name: str
    polarity: str
    d: str
    g: str
    s: str
    b: str
    w_m: float
    l_m: float
    role: str = "signal"


@dataclass(frozen=True)
class Analysis:
    """One analysis card.

    ``kind`` is ``"op"``, ``"dc"`` (``source``, ``start``, ``stop``, ``step`` in V or A),
    ``"tran"`` (``step``, ``stop``, ``max_step`` in s; ``uic`` starts from the capacitors'
    ``ic=`` values instead of a DC operating point) or ``"noise"`` (small-signal noise at
    V(``output``, ``reference``) from ``start`` to ``stop`` Hz, ``points`` per decade; ``source`` is the
    input source, which needs an AC value: ngspice returns the totals ``onoise_total`` in V rms and
    ``inoise_total`` referred to that source).
    """

    kind: str
    source: str = ""
    start: float = 0.0
    stop: float = 0.0
    step: float = 0.0
    max_step: float = 0.0
    uic: bool = False
    output: str = ""
    reference: str = "0"
    points: int = 10

    def card(self, max_step_scale: float = 1.0) -> str:
        if self.kind == "op":
            return ".op"
        if self.kind == "dc":
            src = check_identifier(self.source, "dc sweep source")
            return f".dc {src} {spice_number(self.start)} {spice_number(self.stop)} {spice_number(self.step)}"
        if self.kind == "tran":
            max_step = (self.max_step or self.step) * max_step_scale
            uic = " uic" if self.uic else ""
            return f".tran {spice_number(self.step)} {spice_number(self.stop)} 0 {spice_number(max_step)}{uic}"
        if self.kind == "noise":
            src = check_identifier(self.source, "noise input source")
            out = _node(self.output)
            ref = _node(self.reference)
            if isinstance(self.points, bool) or not isinstance(self.points, int) or not 1 <= self.points <= 1000:
                raise NetlistError(f"noise points per decade must be an integer in [1, 1000], got {self.points!r}")
            if not 0 < self.start < self.stop:
                raise NetlistError(f"noise band must have 0 < start < stop (Hz), got {self.start!r}, {self.stop!r}")
            return (f".noise v({out},{ref}) {src} dec {self.points} {spice_number(self.start)} "
                    f"{spice_number(self.stop)}")
        raise NetlistError(f"unknown analysis kind {self.kind!r}; allowed: op, dc, tran, noise")


@dataclass
class Netlist:
    """A complete circuit: technology preamble, elements, devices, analyses."""

    title: str
    technology: "Technology"
    elements: list[str] = field(default_factory=list)
    devices: list[MosDevice] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    nodes: set[str] = field(default_factory=set)
    #: the device sizes are final (no ``.param`` sweep of W/L): the technology may include only the
    #: model cards these sizes use (:meth:`Technology.preamble_for`)
    fixed_sizes: bool = False
    #: vectors the transient stores (``.save``, from :meth:`NetlistBuilder.save`: ``v(node)``,
    #: ``i(vam_m1)``); empty: ngspice's default, every node voltage, source current and internal node
    saves: tuple[str, ...] = ()
    #: nodes that get a zero-current source ``iprb_<node>`` (``0 → node``, 0 A: it changes no solution)
    #: whose ``@iprb_<node>[v]`` reads V(node) at a halt of the transient without saving the node
    probe_nodes: tuple[str, ...] = ()
    #: independent DC voltage sources → their voltage (V): the circuit's supplies and rails, whose
    #: currents give the power it draws (:mod:`netlists.cost`); filled by :meth:`NetlistBuilder.vsource`
    supplies: dict[str, float] = field(default_factory=dict)

    def region_probes(self) -> dict[str, str]:
        """Special vectors to read at a halt for the region checker → the vector names it reads
        (``node`` for V(node), ``vam_<device>#branch`` for I_D); needs :meth:`NetlistBuilder.probe_regions`."""
        out = {f"@{probe_name(n)}[v]": n for n in self.probe_nodes}
        out.update({f"@{ammeter_name(d.name)}[i]": f"{ammeter_name(d.name)}#branch" for d in self.devices})
        return out

    def device_sizes(self) -> list[tuple[str, float, float]] | None:
        """Sorted distinct (polarity, W in m, L in m) of the devices when :attr:`fixed_sizes`, else None."""
        if not self.fixed_sizes:
            return None
        return sorted({(d.polarity, d.w_m, d.l_m) for d in self.devices})

    def model_files(self) -> list["Path"]:
        """Files the written preamble includes (for cache keys)."""
        return self.technology.model_files_for(self.device_sizes())

    def options_card(self, sim: SimParams, extra: dict[str, float | str] | None = None) -> str:
        opts: dict[str, float | str] = {
            "gmin": sim.gmin_s,
            "abstol": sim.abstol_a,
            "reltol": sim.reltol,
            "vntol": sim.vntol_v,
            "chgtol": sim.chgtol_c,
            "method": "gear",
        }
        opts.update(extra or {})
        parts = []
        for key, value in opts.items():
            check_identifier(key, "option name")
            text = check_identifier(value, f"option {key}") if isinstance(value, str) else spice_number(value)
            parts.append(f"{key}={text}")
        return ".options " + " ".join(parts)

    def write(
        self,
        stream: TextIO,
        sim: SimParams | None = None,
        *,
        extra_options: dict[str, float | str] | None = None,
        max_step_scale: float = 1.0,
    ) -> None:
        """Write the netlist text to ``stream``."""
        sim = sim or SimParams()
        check_identifier(self.title, "title")
        stream.write(f"* {self.title} ({self.technology.label})\n")
        for line in self.technology.preamble_for(sim.temp_c, self.device_sizes()):
            stream.write(line + "\n")
        stream.write(self.options_card(sim, extra_options) + "\n")
        stream.write(f".temp {spice_number(sim.temp_c)}\n")
        for line in self.elements:
            stream.write(line + "\n")
        for node in self.probe_nodes:
            stream.write(f"{probe_name(node)} 0 {node} dc 0\n")
        for j in range(0, len(self.saves), 8):
            stream.write(".save " + " ".join(self.saves[j:j + 8]) + "\n")
        for analysis in self.analyses:
            stream.write(analysis.card(max_step_scale) + "\n")
        stream.write(".end\n")

    def text(self, sim: SimParams | None = None, **kw) -> str:
        buffer = io.StringIO()
        self.write(buffer, sim, **kw)
        return buffer.getvalue()


class NetlistBuilder:
    """Collects elements for a :class:`Netlist`; every value is validated here."""

    def __init__(self, title: str, technology: "Technology") -> None:
        self.netlist = Netlist(check_identifier(title, "title"), technology)
        self._names: set[str] = set()

    def _claim(self, name: str) -> str:
        check_identifier(name, "element name")
        key = name.lower()
        if key in self._names:
            raise NetlistError(f"duplicate element name {name!r}")
        self._names.add(key)
        return name

    def _nodes(self, *names: str) -> list[str]:
        out = [_node(n) for n in names]
        self.netlist.nodes.update(n for n in out if n != "0")
        return out

    def mos(
        self, name: str, polarity: str, d: str, g: str, s: str, b: str, *, w_m: float, l_m: float, role: str = "signal"
    ) -> MosDevice:
        """Add a transistor with a 0 V ammeter in series with its drain."""
        check_identifier(name, "device name")
        if polarity not in ("n", "p"):
            raise NetlistError(f"polarity must be 'n' or 'p', got {polarity!r}")
        if role not in ("signal", "feedback"):
            raise NetlistError(f"role must be 'signal' or 'feedback', got {role!r}")
        d, g, s, b = self._nodes(d, g, s, b)
        self._claim(name)
        inner = f"dm_{name}".lower()
        self._nodes(inner)
        meter = self._claim(ammeter_name(name))
        self.netlist.elements.append(f"{meter} {d} {inner} 0")
        self.netlist.elements.extend(
            self.netlist.technology.instance(name, polarity, inner, g, s, b, w_m=w_m, l_m=l_m)
        )
        device = MosDevice(name, polarity, d, g, s, b, float(w_m), float(l_m), role)
        self.netlist.devices.append(device)
        return device

    def _add(self, name: str, nodes: tuple[str, ...], value: str) -> None:
        """Validate nodes, then claim the name, then append (nothing is added on error)."""
        check_identifier(name, "element name")
        checked = self._nodes(*nodes)
        self._claim(name)
        self.netlist.elements.append(" ".join([name, *checked, value]))

    def vsource(self, name: str, p: str, n: str, dc_v: float, *, ac_v: float = 0.0) -> None:
        """DC voltage source ``p`` − ``n`` = ``dc_v`` (V), with an AC magnitude ``ac_v`` (V) when non-zero
        (the input of a ``.noise`` analysis); recorded in :attr:`Netlist.supplies` when ``n`` is ground."""
        ac = f" ac {spice_number(ac_v)}" if ac_v else ""
        self._add(name, (p, n), f"dc {spice_number(dc_v)}{ac}")
        if n == "0":
            self.netlist.supplies[name] = float(dc_v)

    def isource(self, name: str, p: str, n: str, dc_a: float) -> None:
        """Current ``dc_a`` flows from ``p`` through the source into ``n``."""
        self._add(name, (p, n), f"dc {spice_number(dc_a)}")

    def pwl_isource(self, name: str, p: str, n: str, times_s, values_a) -> None:
        """Piecewise-linear current source (times in s, values in A)."""
        if len(times_s) != len(values_a) or len(times_s) < 1:
            raise NetlistError("pwl source needs equal, non-empty time and value lists")
        pairs = " ".join(f"{spice_number(t)} {spice_number(v)}" for t, v in zip(times_s, values_a))
        self._add(name, (p, n), f"pwl({pairs})")

    def capacitor(self, name: str, p: str, n: str, c_f: float, ic_v: float | None = None) -> None:
        ic = "" if ic_v is None else f" ic={spice_number(ic_v)}"
        self._add(name, (p, n), f"{spice_number(c_f)}{ic}")

    def resistor(self, name: str, p: str, n: str, r_ohm: float, *, noisy: bool = True) -> None:
        """Resistor of ``r_ohm`` Ω; ``noisy=False`` leaves out its thermal noise (ngspice ``noisy=0``:
        a sense resistor that must not add to a ``.noise`` analysis)."""
        self._add(name, (p, n), spice_number(r_ohm) + ("" if noisy else " noisy=0"))

    def switch(self, name: str, p: str, n: str, ctrl_p: str, ctrl_n: str, *, r_on_ohm: float = 1.0,
               r_off_ohm: float = 1e16, v_threshold_v: float = 0.5) -> None:
        """Voltage-controlled switch ``p``–``n``: closed (``r_on_ohm``) while V(ctrl_p, ctrl_n) >
        ``v_threshold_v``, open (``r_off_ohm``) below; a bench element (an ideal sample-and-hold
        switch), not a transistor. Each switch gets its own ``.model`` card ``<name>_sw``."""
        for value, label in ((r_on_ohm, "r_on_ohm"), (r_off_ohm, "r_off_ohm")):
            if not float(value) > 0:
                raise NetlistError(f"switch {label} must be > 0 ohm, got {value!r}")
        model = check_identifier(f"{name}_sw", "switch model name")
        self._add(name, (p, n, ctrl_p, ctrl_n), model)
        self.netlist.elements.append(
            f".model {model} sw(vt={spice_number(v_threshold_v)} vh=0 ron={spice_number(r_on_ohm)} roff={spice_number(r_off_ohm)})"
        )

    def initial_conditions(self, volts: dict[str, float]) -> None:
        """``.ic`` node voltages (V): a transient without ``uic`` solves its starting operating point
        with these nodes held, then releases them."""
        if not volts:
            return
        parts = [f"v({_node(node)})={spice_number(v)}" for node, v in sorted(volts.items())]
        for j in range(0, len(parts), 6):
            self.netlist.elements.append(".ic " + " ".join(parts[j:j + 6]))

    def nodeset(self, volts: dict[str, float]) -> None:
        """Initial guesses for the DC operating point (V), e.g. from an open-loop solve."""
        if not volts:
            return
        parts = [f"v({_node(node)})={spice_number(v)}" for node, v in sorted(volts.items())]
        self.netlist.elements.append(".nodeset " + " ".join(parts))

    def save(self, *, nodes: tuple[str, ...] = (), devices: tuple[str, ...] = (), sources: tuple[str, ...] = ()) -> None:
        """Store only these vectors over the analyses (``.save``, besides the time or sweep axis): the
        voltages of ``nodes`` (vectors ``node``) and the drain currents of ``devices`` (vectors
        ``vam_<device>#branch``, see :func:`ammeter_name`). ngspice keeps every accepted time point of
        every saved vector; by default it saves all nodes, including each device's internal ones.
        ``sources``: voltage sources whose branch currents are saved too (vectors ``<name>#branch``)."""
        known = {d.name for d in self.netlist.devices}
        for src in sources:
            if check_identifier(src, "saved source").lower() not in self._names or not src.lower().startswith("v"):
                raise NetlistError(f"cannot save the current of {src!r}: no such voltage source (add it first)")
        for dev in devices:
            if check_identifier(dev, "saved device") not in known:
                raise NetlistError(f"cannot save the current of {dev!r}: no such device (add it first)")
        for node in nodes:
            if _node(node) not in self.netlist.nodes:
                raise NetlistError(f"cannot save node {node!r}: no element uses it")
        saves = [f"v({n})" for n in nodes] + [f"i({ammeter_name(d)})" for d in devices] + [f"i({v.lower()})" for v in sources]
        self.netlist.saves = tuple(dict.fromkeys([*self.netlist.saves, *saves]))

    def probe_regions(self) -> None:
        """Give every device terminal node a zero-current probe (:attr:`Netlist.probe_nodes`), so that
        the region checker can read the devices at halts of a transient that saves only a few vectors."""
        nodes = sorted({n for d in self.netlist.devices for n in (d.d, d.g, d.s, d.b) if n != "0"})
        for node in nodes:
            self._claim(probe_name(node))
        self.netlist.probe_nodes = tuple(nodes)

    def analysis(self, analysis: Analysis) -> None:
        self.netlist.analyses.append(analysis)

    def build(self) -> Netlist:
        return self.netlist
