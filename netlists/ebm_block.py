"""Energy-based analog block: a resistive network with diode-connected sky130 nMOS (Kendall et al. 2020).

Topology (``n_in`` inputs, ``n_out`` output nodes ``o0 … o{n_out-1}``)::

    input j:  vxp_j  node xp_j at +u_j      vxn_j  node xn_j at −u_j       (V, voltage sources)
    bias:     vbp    node bp   at +V_b      vbn    node bn   at −V_b
    rp_k_j : xp_j – o_k, conductance gp[k, j]      rn_k_j : xn_j – o_k, conductance gn[k, j]
    (column j = n_in is the bias pair)
    rl_k_l : o_k – o_l (k < l), lateral conductance gl[k, l]            (``lateral="all"``)
    md_k   : diode-connected nMOS, gate = drain = o_k, source = bulk = 0  (the nonlinearity)
    inud_k : current source 0 → o_k (the nudging current I_k, A; 0 in the free phase)

Energy. Every element is a two-terminal (one-port) element, so KCL at the outputs is the
stationarity condition of the co-content (Kendall et al. 2020; Millar 1951)::

    E(v) = Σ_kj ½·gp_kj·(v_k − u_j)² + Σ_kj ½·gn_kj·(v_k + u_j)² + Σ_k<l ½·gl_kl·(v_k − v_l)²
           + Σ_k ∫₀^{v_k} I_D(s) ds − Σ_k I_k·v_k            (J = V·A)

``∂E/∂v_k = 0`` is KCL at ``o_k`` (current leaving through resistors and diode = injected I_k).
The diode current ``I_D`` depends on ``v_k`` only (its source and bulk are grounded), so the
integral is well defined whatever the device's law; it increases with ``v_k`` (measured on sky130,
about e^{v/(n·U_T)} above 0 V, a weaker reverse branch below), so E is strictly convex and the
operating point is unique. Hence, for a weight conductance, ``∂E/∂g = ½·ΔV²`` across it; for an
input, ``∂E/∂u_j = Σ_k gp_kj (u_j − v_k) + gn_kj (u_j + v_k) = −i(vxp_j) + i(vxn_j)`` with ngspice's
branch current ``i(V)`` positive from the + node through the source to the − node (here ground).

Equilibrium propagation: nudging with ``I_k = −β·∂C/∂v_k`` and the centred estimate
``dL/dθ ≈ [∂E/∂θ(+β) − ∂E/∂θ(−β)]/(2β)`` (Scellier & Bengio 2017) is done by
:mod:`logdomain.ep.spice_block`; this module only generates the circuit — for one operating point
(:func:`ebm_block`), as a circuit kept loaded and altered per point (:func:`ebm_sweep_circuit`), or for a batch
of N operating points solved by one ``.dc`` sweep of a sample index (:func:`ebm_batch_block`).

Weights are not :class:`~netlists.params.Params` fields (they are arrays): :func:`check_weights`
validates them (shape, finite, in ``[g_min_s, g_max_s]``) before they reach netlist text, and the
sweepable circuit (:func:`ebm_sweep_circuit`) carries each conductance as a ``.param`` ``gp_k_j``
(S) with the resistor written ``{1/gp_k_j}`` Ω, changed with ``alterparam`` by the sweep workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import Bound, Params, SimParams
from .technologies.base import Technology
from .values import spice_number

__all__ = ["EbmBlockParams", "EbmWeights", "check_inputs", "check_weights", "ebm_block", "ebm_sweep_circuit", "EP_SIM", "EP_SIM_FALLBACK",
           "input_source_names", "nudge_source_names", "output_nodes", "conductance_names", "region_devices",
           "ebm_batch_block", "BATCH_SWEEP_SOURCE", "MAX_BATCH_POINTS", "EP_BATCH_SIM"]

#: tolerances for EP and finite differences through SPICE (node voltages to ~1e-11 V; gmin far below the
#: 1e-12…1e-8 S weights). reltol=1e-9 with gmin=1e-18 failed to converge at some operating points (measured)
EP_SIM = SimParams(reltol=1e-8, vntol_v=1e-11, abstol_a=1e-17, gmin_s=1e-18)
#: fallback for the rare point that EP_SIM does not solve (same solution to ~1e-8 V, measured)
EP_SIM_FALLBACK = SimParams(reltol=1e-7, vntol_v=1e-10, abstol_a=1e-16, gmin_s=1e-15)
#: tolerances of the batched ``.dc`` sweep (:func:`ebm_batch_block`): EP_SIM with reltol 1e-7. With reltol 1e-8 the
#: sweep's Newton from the previous sample failed on ~3 % of samples (ngspice then fell back to gmin/source stepping
#: and a "transient op", 10× slower and off by up to 1.5e-7 V); with 1e-7 none failed on 384 samples and the states
#: agreed with the per-sample EP_SIM path to 3e-9 V (measured, 8×6 block)
EP_BATCH_SIM = EP_SIM.replace(reltol=1e-7)


@dataclass(frozen=True, kw_only=True)
class EbmBlockParams(Params):
    """Shape and devices of an energy-based block (see module docstring).

    Attributes
    ----------
    n_in : number of signed inputs (each a pair of sources at ±u_j).
    n_out : number of output nodes (each with a diode-connected nMOS to ground).
    lateral : ``"all"`` — a conductance between every pair of outputs; ``"none"``.
    diode_w_m, diode_l_m : size of the diode-connected nMOS, m.
    v_bias_v : magnitude of the bias pair (+V_b, −V_b), V.
    v_in_max_v : largest input magnitude |u_j| accepted, V (keeps the diodes in weak inversion).
    g_min_s, g_max_s : allowed conductance range of every weight, S.
    g_init_s : conductance of every weight in the default circuit, S.
    """

    n_in: int = 4
    n_out: int = 3
    lateral: str = "all"
    diode_w_m: float = 20e-6
    diode_l_m: float = 0.5e-6
    v_bias_v: float = 0.2
    v_in_max_v: float = 0.4
    g_min_s: float = 1e-12
    g_max_s: float = 1e-8
    g_init_s: float = 1e-10
    _bounds: ClassVar[dict[str, Bound]] = {
        "n_in": Bound(1, 64, "", integer=True),
        "n_out": Bound(1, 32, "", integer=True),
        "diode_w_m": Bound(1e-7, 1e-3, "m"),
        "diode_l_m": Bound(1.5e-7, 1e-3, "m"),
        "v_bias_v": Bound(0.0, 0.5, "V"),
        "v_in_max_v": Bound(0.01, 0.5, "V"),
        "g_min_s": Bound(1e-13, 1e-5, "S"),
        "g_max_s": Bound(1e-13, 1e-5, "S"),
        "g_init_s": Bound(1e-13, 1e-5, "S"),
    }
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"lateral": ("all", "none")}

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.g_min_s < self.g_max_s:
            raise ParameterError(f"EbmBlockParams.g_max_s must be > g_min_s ({self.g_min_s:g} S), got {self.g_max_s:g}")
        if not self.g_min_s <= self.g_init_s <= self.g_max_s:
            raise ParameterError(f"EbmBlockParams.g_init_s must be in [{self.g_min_s:g}, {self.g_max_s:g}] S, "
                                 f"got {self.g_init_s:g}")

    @property
    def n_lateral(self) -> int:
        """Number of lateral conductances."""
        return self.n_out * (self.n_out - 1) // 2 if self.lateral == "all" else 0

    def lateral_pairs(self) -> list[tuple[int, int]]:
        """(k, l), k < l, of the lateral conductances, in a fixed order."""
        if self.lateral == "none":
            return []
        return [(k, l) for k in range(self.n_out) for l in range(k + 1, self.n_out)]


@dataclass(frozen=True)
class EbmWeights:
    """Conductances of a block, S: ``gp``, ``gn`` of shape (n_out, n_in + 1) (last column: bias pair),
    ``gl`` of shape (n_lateral,) in the order of :meth:`EbmBlockParams.lateral_pairs`."""

    gp: np.ndarray
    gn: np.ndarray
    gl: np.ndarray

    def flat(self) -> np.ndarray:
        """All conductances as one vector (gp, gn, gl), S."""
        return np.concatenate([self.gp.ravel(), self.gn.ravel(), self.gl.ravel()])

    @classmethod
    def from_flat(cls, params: EbmBlockParams, flat: np.ndarray) -> "EbmWeights":
        """Inverse of :meth:`flat`."""
        m = params.n_out * (params.n_in + 1)
        flat = np.asarray(flat, dtype=float)
        if flat.shape != (2 * m + params.n_lateral,):
            raise ParameterError(f"flat weights must have shape ({2 * m + params.n_lateral},), got {flat.shape}")
        shape = (params.n_out, params.n_in + 1)
        return cls(flat[:m].reshape(shape).copy(), flat[m:2 * m].reshape(shape).copy(), flat[2 * m:].copy())

    @classmethod
    def uniform(cls, params: EbmBlockParams, g_s: float | None = None) -> "EbmWeights":
        """Every conductance equal to ``g_s`` (default ``params.g_init_s``)."""
        g = params.g_init_s if g_s is None else g_s
        shape = (params.n_out, params.n_in + 1)
        return cls(np.full(shape, g), np.full(shape, g), np.full(params.n_lateral, g))

    @classmethod
    def random(cls, params: EbmBlockParams, rng: np.random.Generator, *, spread: float = 1.0) -> "EbmWeights":
        """Log-uniform conductances in ``g_init_s · [e^{−spread}, e^{spread}]``, clipped to the range."""
        m = params.n_out * (params.n_in + 1)
        flat = params.g_init_s * np.exp(rng.uniform(-spread, spread, 2 * m + params.n_lateral))
        return cls.from_flat(params, np.clip(flat, params.g_min_s, params.g_max_s))


def check_weights(params: EbmBlockParams, weights: EbmWeights) -> EbmWeights:
    """Validate shapes, finiteness and range ``[g_min_s, g_max_s]`` S; return float copies."""
    shape = (params.n_out, params.n_in + 1)
    out = {}
    for name, want in (("gp", shape), ("gn", shape), ("gl", (params.n_lateral,))):
        value = np.asarray(getattr(weights, name), dtype=float)
        if value.shape != want:
            raise ParameterError(f"EbmWeights.{name} must have shape {want}, got {value.shape}")
        if not np.all(np.isfinite(value)):
            raise ParameterError(f"EbmWeights.{name} must be finite")
        bad = (value < params.g_min_s) | (value > params.g_max_s)
        if np.any(bad):
            raise ParameterError(f"EbmWeights.{name} must be in [{params.g_min_s:g}, {params.g_max_s:g}] S, "
                                 f"got {value[bad].ravel()[0]:g}")
        out[name] = value.copy()
    return EbmWeights(**out)


def check_inputs(params: EbmBlockParams, u) -> np.ndarray:
    """A batch of block inputs as a float array of shape (B, n_in), V: finite and within ±``v_in_max_v``."""
    u = np.atleast_2d(np.asarray(u, dtype=float))
    if u.ndim != 2 or u.shape[1] != params.n_in or not np.all(np.isfinite(u)) or np.any(np.abs(u) > params.v_in_max_v):
        raise ParameterError(f"block inputs must be finite, shape (B, {params.n_in}), within ±{params.v_in_max_v:g} V; "
                             f"got shape {u.shape}")
    return u


def conductance_names(params: EbmBlockParams) -> list[str]:
    """``.param`` names of the conductances, in the order of :meth:`EbmWeights.flat`."""
    names = [f"gp_{k}_{j}" for k in range(params.n_out) for j in range(params.n_in + 1)]
    names += [f"gn_{k}_{j}" for k in range(params.n_out) for j in range(params.n_in + 1)]
    names += [f"gl_{k}_{l}" for k, l in params.lateral_pairs()]
    return names


def input_source_names(params: EbmBlockParams) -> tuple[list[str], list[str]]:
    """(``vxp_j``, ``vxn_j``) names of the input sources."""
    return [f"vxp_{j}" for j in range(params.n_in)], [f"vxn_{j}" for j in range(params.n_in)]


def nudge_source_names(params: EbmBlockParams) -> list[str]:
    """Names of the nudging current sources ``inud_k`` (current 0 → o_k, A)."""
    return [f"inud_{k}" for k in range(params.n_out)]


def output_nodes(params: EbmBlockParams) -> list[str]:
    """Output node names ``o_k``."""
    return [f"o_{k}" for k in range(params.n_out)]


def _build(tech: Technology, p: EbmBlockParams, resistor_value, x_v: np.ndarray, title: str) -> Netlist:
    """The netlist; ``resistor_value(kind, a, b)`` gives the value text of resistor ``r{kind[1]}_a_b``
    (a number written by :func:`spice_number`, or a ``{1/g…}`` expression of validated names)."""
    nb = NetlistBuilder(title, tech)
    plus, minus = input_source_names(p)
    for j in range(p.n_in):
        nb.vsource(plus[j], f"xp_{j}", "0", float(x_v[j]))
        nb.vsource(minus[j], f"xn_{j}", "0", -float(x_v[j]))
    nb.vsource("vbp", "bp", "0", p.v_bias_v)
    nb.vsource("vbn", "bn", "0", -p.v_bias_v)
    outs = output_nodes(p)
    for k in range(p.n_out):
        for j in range(p.n_in + 1):
            pos, neg = (f"xp_{j}", f"xn_{j}") if j < p.n_in else ("bp", "bn")
            nb._add(f"rp_{k}_{j}", (pos, outs[k]), resistor_value("gp", k, j))
            nb._add(f"rn_{k}_{j}", (neg, outs[k]), resistor_value("gn", k, j))
    for k, l in p.lateral_pairs():
        nb._add(f"rl_{k}_{l}", (outs[k], outs[l]), resistor_value("gl", k, l))
    for k in range(p.n_out):
        nb.isource(f"inud_{k}", "0", outs[k], 0.0)
        nb.mos(f"md_{k}", "n", outs[k], outs[k], "0", "0", w_m=p.diode_w_m, l_m=p.diode_l_m)
    nb.analysis(Analysis("op"))
    netlist = nb.build()
    netlist.fixed_sizes = True
    return netlist


def _check_inputs(p: EbmBlockParams, x_v) -> np.ndarray:
    x = np.zeros(p.n_in) if x_v is None else np.asarray(x_v, dtype=float)
    if x.shape != (p.n_in,) or not np.all(np.isfinite(x)) or np.any(np.abs(x) > p.v_in_max_v):
        raise ParameterError(f"ebm_block inputs must be {p.n_in} finite voltages in [-{p.v_in_max_v:g}, "
                             f"{p.v_in_max_v:g}] V, got {x!r}")
    return x


def ebm_block(tech: Technology, params: EbmBlockParams | None = None, weights: EbmWeights | None = None,
              x_v=None) -> Netlist:
    """The block with fixed conductances ``weights`` (S; default all ``g_init_s``) and inputs ``x_v``
    (V, shape (n_in,); default 0), one ``.op``. Output voltages: nodes ``o_k``."""
    p = params or EbmBlockParams()
    w = check_weights(p, weights or EbmWeights.uniform(p))
    x = _check_inputs(p, x_v)
    table = {"gp": w.gp, "gn": w.gn}
    lateral = {pair: w.gl[i] for i, pair in enumerate(p.lateral_pairs())}

    def value(kind: str, a: int, b: int) -> float:
        g = lateral[(a, b)] if kind == "gl" else table[kind][a, b]
        return spice_number(1.0 / g)

    return _build(tech, p, value, x, f"ebm_{p.n_in}x{p.n_out}")


def ebm_sweep_circuit(tech: Technology, params: EbmBlockParams | None = None, weights: EbmWeights | None = None,
                      sim: SimParams | None = None):
    """The block as a :class:`~netlists.sweep.SweepCircuit`: conductances as ``.param`` ``gp_k_j`` … (S,
    resistors ``{1/gp_k_j}``), sources ``vxp_j``, ``vxn_j`` (V) and ``inud_k`` (A) set per point; keeps the
    output voltages and the input sources' branch currents."""
    from .sweep import SweepCircuit

    p = params or EbmBlockParams()
    w = check_weights(p, weights or EbmWeights.uniform(p))
    sim = sim or EP_SIM

    def value(kind: str, a: int, b: int) -> str:
        return f"{{1/{kind}_{a}_{b}}}"

    netlist = _build(tech, p, value, np.zeros(p.n_in), f"ebm_{p.n_in}x{p.n_out}")
    params_map = dict(zip(conductance_names(p), (float(spice_number(g)) for g in w.flat())))
    plus, minus = input_source_names(p)
    sources = {**{n: 0.0 for n in plus}, **{n: 0.0 for n in minus}, **{n: 0.0 for n in nudge_source_names(p)}}
    keep = [*output_nodes(p), *[f"{n}#branch" for n in plus], *[f"{n}#branch" for n in minus]]
    return SweepCircuit(netlist.text(sim), params_map, sources, tuple(tech.init_commands()),
                        tuple(netlist.model_files()), sim.temp_c, tuple(keep), sim.timeout_s)


#: the index source of :func:`ebm_batch_block` (V; its ``.dc`` sweep visits sample k at k V)
BATCH_SWEEP_SOURCE = "vsidx"
#: most samples in one batched netlist (line length and the cost of one failed sweep stay bounded)
MAX_BATCH_POINTS = 256
_PAIRS_PER_LINE = 8


def _pwl_of_index(values: np.ndarray) -> str:
    """``pwl(v(sidx), 0, y0, 1, y1, …)`` over the sample index, continued on ``+`` lines; a last pair
    repeats the last value one step on (so one sample still has two corners)."""
    ys = [*values, values[-1]]
    pairs = [f"{k}, {spice_number(y)}" for k, y in enumerate(ys)]
    lines = [", ".join(pairs[i:i + _PAIRS_PER_LINE]) for i in range(0, len(pairs), _PAIRS_PER_LINE)]
    return "pwl(v(sidx), " + ",\n+ ".join(lines) + ")"


def ebm_batch_block(tech: Technology, params: EbmBlockParams, weights: EbmWeights, u_v: np.ndarray,
                    nudge_a: np.ndarray | None = None) -> Netlist:
    """The block solved at N operating points by one ``.dc`` sweep (no fresh circuit per sample).

    A source ``vsidx`` (node ``sidx``) is swept 0, 1, …, N−1 V; every input side is a behavioural
    source ``bxp_j`` = ``pwl(v(sidx), k, u_kj …)`` (V) in series with the zero-volt ammeter ``vxp_j``
    (node ``xp_j``, so ``i(vxp_j)`` has the sign of the single-point block), ``bxn_j`` likewise at
    −u_kj, and every nudging source is ``binud_k`` = ``pwl(v(sidx), k, I_k …)`` (A, 0 → o_k). At the
    integer sweep value k each pwl returns its k-th corner exactly, so point k of the sweep is the
    DC operating point of sample k (each solve starts from the previous sample's solution, which is
    why it costs a fraction of an ``op``). Conductances are written as numbers (S → Ω).

    Parameters
    ----------
    u_v : (N, n_in) inputs, V, finite, |u| ≤ ``v_in_max_v``; 1 ≤ N ≤ :data:`MAX_BATCH_POINTS`.
    nudge_a : (N, n_out) nudging currents, A, finite (default 0).
    """
    p = params
    w = check_weights(p, weights)
    u = np.asarray(u_v, dtype=float)
    if u.ndim != 2 or u.shape[1] != p.n_in or not 1 <= u.shape[0] <= MAX_BATCH_POINTS:
        raise ParameterError(f"ebm_batch_block inputs must have shape (N, {p.n_in}) with 1 <= N <= "
                             f"{MAX_BATCH_POINTS}, got {u.shape}")
    bad = ~np.isfinite(u) | (np.abs(np.nan_to_num(u, nan=np.inf)) > p.v_in_max_v)
    if np.any(bad):
        k = int(np.argwhere(bad)[0][0])
        raise ParameterError(f"ebm_batch_block inputs must be finite voltages in [-{p.v_in_max_v:g}, {p.v_in_max_v:g}] V; "
                             f"sample {k} is {u[k]!r}")
    n = u.shape[0]
    nudge = np.zeros((n, p.n_out)) if nudge_a is None else np.asarray(nudge_a, dtype=float)
    if nudge.shape != (n, p.n_out) or not np.all(np.isfinite(nudge)) or np.any(np.abs(nudge) > 1e-6):
        raise ParameterError(f"ebm_batch_block nudging currents must be finite, shape ({n}, {p.n_out}), "
                             f"within ±1e-06 A; got shape {nudge.shape}")
    table = {"gp": w.gp, "gn": w.gn}
    lateral = {pair: w.gl[i] for i, pair in enumerate(p.lateral_pairs())}

    def value(kind: str, a: int, b: int) -> str:
        g = lateral[(a, b)] if kind == "gl" else table[kind][a, b]
        return spice_number(1.0 / g)

    base = _build(tech, p, value, np.zeros(p.n_in), f"ebm_{p.n_in}x{p.n_out}_batch{n}")
    plus, minus = input_source_names(p)
    swap: dict[str, list[str]] = {}
    for j in range(p.n_in):
        swap[plus[j]] = [f"{plus[j]} xp_{j} bxp_{j} dc 0", f"bxp_{j} bxp_{j} 0 v = " + _pwl_of_index(u[:, j])]
        swap[minus[j]] = [f"{minus[j]} xn_{j} bxn_{j} dc 0", f"bxn_{j} bxn_{j} 0 v = " + _pwl_of_index(-u[:, j])]
    for k, name in enumerate(nudge_source_names(p)):
        swap[name] = [f"b{name} 0 o_{k} i = " + _pwl_of_index(nudge[:, k])]
    elements = []
    for line in base.elements:
        elements += swap.get(line.split()[0], [line])
    elements.append(f"{BATCH_SWEEP_SOURCE} sidx 0 dc 0")
    base.elements = elements
    base.nodes |= {"sidx", *(f"bxp_{j}" for j in range(p.n_in)), *(f"bxn_{j}" for j in range(p.n_in))}
    base.analyses = [Analysis("dc", source=BATCH_SWEEP_SOURCE, start=0.0, stop=float(n - 1), step=1.0)]
    for name in [*plus, *minus, *nudge_source_names(p)]:
        base.supplies.pop(name, None)
    return base


def region_devices(params: EbmBlockParams) -> list[str]:
    """Names of the diode devices (for the region checker)."""
    return [f"md_{k}" for k in range(params.n_out)]

