"""Run the transistor-level learner (:mod:`netlists.spice_learner_circuit`) and read it back.

:func:`run_spice_learner` simulates one die (nominal, or one mismatch sample of the technology);
:func:`run_spice_learner_dies` simulates N mismatch dies of the same netlist through
:func:`netlists.sweep.sweep` — one ``mc_seed`` per die, the circuit loaded once per worker and the
dies spread over any ``concurrent.futures.Executor`` (a local pool, or a Dask cluster's executor).
Both return :class:`SpiceLearnerRun`: hold-end states W⁺, W⁻ (A), the circuit's predictions on the
stream, the read-out probes and the effective weights, and the operating regions of every device at
a few instants of the stream.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from .cost import supply_power_w
from .errors import ParameterError, SimulationError
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import SimParams
from .regions import RegionReport, check_regions
from .runner import SimResult, Simulator, get_simulator
from .spice_learner_circuit import LearnerParams, LearnerStimulus, cell_names, check_supported, learner, state_nodes, stimulus
from .technologies.base import Technology, thermal_voltage_v
from .values import spice_number

__all__ = ["SpiceLearnerRun", "run_spice_learner", "run_spice_learner_dies", "output_device_curve", "prepare_learner"]


@dataclass
class SpiceLearnerRun:
    """One die of the transistor-level learner over a stream (SI units; weights in scaled units).

    Attributes
    ----------
    w_plus_a, w_minus_a : (K + 1, N) the halves' currents W⁺, W⁻ at t = 0 (end of settling) and
        at the end of every hold of the stream, A.
    state_history : (K + 1, N) the state's weights s_w·(W⁺ − W⁻)/I_u.
    stream_predictions : (K,) the circuit's prediction ŷ of sample k (read just before hold k
        ends, sign of the chopping undone).
    probe_outputs : (2N + 1,) ŷ at the read-out probes (x = 0, ±e_i), weights frozen.
    weights : (N,) effective weights ``[ŷ(+e_i) − ŷ(−e_i)]/2`` of the prediction path.
    offset : ŷ(x = 0). slopes_pos, slopes_neg : (N,) ŷ(+e_i) − ŷ(0) and ŷ(0) − ŷ(−e_i).
    regions : reports at ``region_times_s`` (instants of the stream). seed : mismatch seed (None:
    the technology as given). power_w : mean power of the supplies over the stream, W
    (:func:`netlists.cost.supply_power_w`).
    """

    params: LearnerParams
    time_s: np.ndarray = field(repr=False)
    w_plus_a: np.ndarray = field(repr=False)
    w_minus_a: np.ndarray = field(repr=False)
    stream_predictions: np.ndarray = field(repr=False)
    probe_outputs: np.ndarray
    regions: list[RegionReport] = field(repr=False)
    region_times_s: list[float]
    kappa: float
    runtime_s: float
    netlist: Netlist = field(repr=False)
    seed: int | None = None
    #: mean power the supplies deliver over the stream (settling and read-out left out), W, and per supply
    power_w: float = float("nan")
    power_by_supply_w: dict = field(default_factory=dict)

    @property
    def state_history(self) -> np.ndarray:
        return self.params.weights_from_currents(self.w_plus_a, self.w_minus_a)

    @property
    def common_mode_a(self) -> np.ndarray:
        """(K + 1, N) S = W⁺ + W⁻, A."""
        return self.w_plus_a + self.w_minus_a

    @property
    def offset(self) -> float:
        return float(self.probe_outputs[0])

    @property
    def slopes_pos(self) -> np.ndarray:
        return self.probe_outputs[1::2] - self.probe_outputs[0]

    @property
    def slopes_neg(self) -> np.ndarray:
        return self.probe_outputs[0] - self.probe_outputs[2::2]

    @property
    def weights(self) -> np.ndarray:
        return 0.5 * (self.probe_outputs[1::2] - self.probe_outputs[2::2])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The circuit's prediction of rows ``x`` (M, N) with the frozen weights: chopped read-out
        ``x·w`` (offset-free) when the learner chops, else ``b + Σ (w⁺ max(x, 0) + w⁻ min(x, 0))``."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if self.params.chop == "on":
            return x @ self.weights
        return self.offset + np.maximum(x, 0.0) @ self.slopes_pos + np.minimum(x, 0.0) @ self.slopes_neg

    @property
    def regions_ok(self) -> bool:
        return all(r.ok for r in self.regions)

    def region_violations(self) -> list[str]:
        """``"<device>: why (t = …)"`` for every device outside weak inversion/saturation."""
        out = []
        for t, report in zip(self.region_times_s, self.regions):
            if not report.ok:
                out.append(f"t={t:.4g}s: {report.summary()}")
        return out


def output_device_curve(tech: Technology, p: LearnerParams, sim: SimParams, simulator: Simulator) -> tuple[np.ndarray, np.ndarray]:
    """I_w(V_C) of the weight's output device (source V_ref, drain V_out, bulk 0): (V, A)."""
    nb = NetlistBuilder("output_device", tech)
    nb.vsource("vd", "d", "0", p.v_out_v)
    nb.vsource("vs", "s", "0", p.v_ref_v)
    nb.vsource("vg", "g", "0", 0.0)
    nb.mos("m1", "n", "d", "g", "s", "0", w_m=p.w_out_m, l_m=p.l_out_m)
    nb.analysis(Analysis("dc", "vg", 0.0, 1.0, 0.002))
    result = simulator.run(nb.build(), sim)
    gate = result["v(g)"] if "v(g)" in result.vectors else result["g"]
    return np.asarray(gate, dtype=float), np.asarray(result.drain_current("m1"), dtype=float)


def _nominal(tech: Technology) -> Technology:
    """``tech`` with its mismatch off: the design's κ and initial state voltages are those of the nominal
    device (measured on a mismatch technology without a seed they came from a clock-seeded die, so the
    same mismatch die repeated only to ~2e-3 between runs, measured)."""
    if getattr(tech, "mismatch", False):
        return type(tech)(corner=tech.corner)
    return tech


def prepare_learner(
    tech: Technology, x: np.ndarray, y: np.ndarray, eta: float, lam: float, t_hold_s: float, *,
    params: LearnerParams | None = None, sim: SimParams, simulator: Simulator,
) -> tuple[LearnerParams, Netlist]:
    """Parameters and netlist of the learner for this stream.

    κ is measured on the nominal output device (mismatch off) at the weights' initial current (U_T·d ln I/dV_G),
    so that τ = C·U_T/(κ·I_A) holds on every technology; the initial state voltages come from the
    same I_w(V_C) curve and are imposed with ``ic=``.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    base = params or LearnerParams.for_technology(tech.learner_family, dim=x.shape[1])
    p = base.replace(dim=x.shape[1], eta=eta, lam=lam, t_hold_s=t_hold_s, temp_c=sim.temp_c)
    v_g, i_d = output_device_curve(_nominal(tech), p, sim, simulator)
    ln_i = np.log(np.maximum(i_d, 1e-30))
    v_c0 = float(np.interp(np.log(p.i_w0_a), ln_i, v_g))
    sel = np.abs(ln_i - np.log(p.i_w0_a)) < np.log(30.0)
    kappa = float(np.polyfit(v_g[sel], ln_i[sel], 1)[0] * thermal_voltage_v(sim.temp_c))
    p = p.replace(kappa=kappa)
    return p, learner(tech, p, x, y, {node: v_c0 for node in state_nodes(p.dim)})


def region_check_times(p: LearnerParams, st: LearnerStimulus, region_samples: tuple[float, ...]) -> list[float]:
    """Instants of the region checks, s: the end of hold ``max(1, round(f·K))`` of the stream, the number the
    stimulus writes for it (a time point of the transient where a source changes: halting there adds none).

    The checks once read the first time point at or after 0.99 of the hold: the same point, the hold's
    end, in the runs checked (the time steps are large at the end of a hold)."""
    k = len(st.sign)
    return [float(spice_number((st.first_sample + max(1, round(f * k))) * p.t_hold_s)) for f in region_samples]


def _halts(p: LearnerParams, st: LearnerStimulus, netlist: Netlist, region_samples: tuple[float, ...]) -> dict[str, tuple]:
    """``halts_s`` and ``probes`` of a run whose netlist has region probes (else none: the checks read
    the saved vectors)."""
    if not netlist.probe_nodes:
        return {"halts_s": (), "probes": ()}
    return {"halts_s": tuple(region_check_times(p, st, region_samples)), "probes": tuple(netlist.region_probes())}


def _regions(netlist: Netlist, result: SimResult, sim: SimParams, checks: list[float], time_s: np.ndarray) -> list[RegionReport]:
    """Region reports at ``checks`` (s): from the probes read at the halts when the run sampled them
    (``SimResult.samples``, in the order of the sorted times), else from the saved vectors."""
    if not result.samples:
        return [check_regions(netlist, result, sim, index=min(int(np.searchsorted(time_s, t)), len(time_s) - 1)) for t in checks]
    probes = netlist.region_probes()
    sampled = SimResult({vector: np.asarray(result.samples[name]) for name, vector in probes.items()}, "halts", "", [], 0.0)
    order = np.argsort(checks, kind="stable")
    regions: list[RegionReport | None] = [None] * len(checks)
    for j, c in enumerate(order):
        regions[c] = check_regions(netlist, sampled, sim, index=j)
    return regions  # type: ignore[return-value]


def _read(p: LearnerParams, st: LearnerStimulus, netlist: Netlist, result: SimResult, sim: SimParams,
          region_samples: tuple[float, ...], seed: int | None, runtime_s: float) -> SpiceLearnerRun:  # fmt: skip
    time_s = np.asarray(result["time"], dtype=float)
    k = len(st.sign)
    ends = (st.first_sample + np.arange(k + 1)) * p.t_hold_s
    halves = {n: np.interp(ends, time_s, np.asarray(result.drain_current(f"{n}mw"), dtype=float)) for n in cell_names(p.dim)}
    w_plus = np.stack([halves[f"w{i}p"] for i in range(p.dim)], axis=1)
    w_minus = np.stack([halves[f"w{i}n"] for i in range(p.dim)], axis=1)
    # ŷ-current = P − Q = (I_mdb − Y⁻) − (I_mda − Y⁺), with Y± the target products' currents, read
    # just before each hold ends
    t_read = (np.arange(st.holds) + 0.98) * p.t_hold_s

    def at_read(device: str, polarity: str = "n") -> np.ndarray:
        return np.interp(t_read, time_s, np.asarray(result.drain_current(device, polarity), dtype=float))

    y_hat = p.y_scale * ((at_read("mdb", "p") - at_read("qynm3")) - (at_read("mda", "p") - at_read("qypm3"))) / p.i_u_a
    stream = y_hat[st.first_sample:st.first_sample + k] * st.sign
    probes = y_hat[st.first_probe:]
    checks = region_check_times(p, st, region_samples)
    regions = _regions(netlist, result, sim, checks, time_s)
    branches = {name: result[f"{name}#branch"] for name in netlist.supplies}
    power, per_supply = supply_power_w(time_s, branches, netlist.supplies, st.first_sample * p.t_hold_s, st.first_probe * p.t_hold_s)
    return SpiceLearnerRun(p, time_s, w_plus, w_minus, stream, probes, regions, checks, p.kappa, runtime_s, netlist, seed,
                           power, per_supply)  # fmt: skip


def run_spice_learner(
    tech: Technology, x: np.ndarray, y: np.ndarray, eta: float, lam: float, t_hold_s: float, *,
    params: LearnerParams | None = None, sim: SimParams | None = None, simulator: Simulator | None = None,
    region_samples: tuple[float, ...] = (0.0, 0.5, 1.0),
) -> SpiceLearnerRun:  # fmt: skip
    """Simulate continuous SGDr on the transistor-level learner over the stream (x, y), one die.

    Parameters
    ----------
    tech : technology (with its mismatch switched on, one sample of it). x : inputs, shape (K, N)
        (scaled, |x| ≲ x_scale). y : targets, shape (K,). eta : η = T_s/τ. lam : λ. t_hold_s : T_s, s.
    params : other learner settings (``dim``, ``eta``, ``lam``, ``t_hold_s``, ``kappa`` and
        ``temp_c`` are set here; default ``LearnerParams.for_technology(tech.learner_family)``).
    sim, simulator : ngspice settings and worker.
    region_samples : where regions are checked, as fractions of the stream: the end of hold
        ``max(1, round(f·K))`` for each f.
    """
    sim = sim or (simulator.sim if simulator else SimParams())
    simulator = simulator or get_simulator()
    check_supported(tech, params or LearnerParams.for_technology(tech.learner_family))
    p, netlist = prepare_learner(tech, x, y, eta, lam, t_hold_s, params=params, sim=sim, simulator=simulator)
    st = stimulus(p, x, y)
    result = simulator.run(netlist, sim, **_halts(p, st, netlist, region_samples))
    return _read(p, st, netlist, result, sim, region_samples, getattr(tech, "seed", None), result.elapsed_s)


def run_spice_learner_dies(
    tech: Technology, x: np.ndarray, y: np.ndarray, eta: float, lam: float, t_hold_s: float, seeds: list[int], *,
    params: LearnerParams | None = None, sim: SimParams | None = None, simulator: Simulator | None = None,
    executor: Executor | None = None, workers: int | None = None, region_samples: tuple[float, ...] = (0.0, 0.5, 1.0),
    quiet: bool = False,
) -> list[SpiceLearnerRun]:  # fmt: skip
    """N mismatch dies of the learner, one per seed, through :func:`netlists.sweep.sweep`.

    ``tech`` must have its per-instance mismatch on (sky130 ``mismatch=True``); each die reseeds
    ngspice's random numbers (``setseed`` + ``reset``), so die ``s`` is the same die whatever the
    executor. A die that fails raises :class:`SimulationError` naming its seed.
    """
    from .sweep import SweepCircuit, sweep

    if not getattr(tech, "mismatch", False):
        raise ParameterError(f"run_spice_learner_dies needs a technology with mismatch on, got {tech.label}")
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 < int(s) < 2**31 for s in seeds):
        raise ParameterError(f"seeds must be a non-empty list of integers in [1, 2^31), got {seeds!r}")
    sim = sim or (simulator.sim if simulator else SimParams())
    simulator = simulator or get_simulator()
    check_supported(tech, params or LearnerParams.for_technology(tech.learner_family))
    p, netlist = prepare_learner(tech, x, y, eta, lam, t_hold_s, params=params, sim=sim, simulator=simulator)
    st = stimulus(p, x, y)
    circuit = SweepCircuit(netlist.text(sim), init_commands=tuple(tech.init_commands()), model_files=tuple(netlist.model_files()),
                           temp_c=sim.temp_c, timeout_s=sim.timeout_s, fresh_per_point=True,
                           **_halts(p, st, netlist, region_samples))  # fmt: skip
    result = sweep(circuit, [{"mc_seed": int(s)} for s in seeds], executor=executor, workers=workers, use_cache=False, quiet=quiet)
    errors = result.errors
    if errors:
        e = errors[0]
        raise SimulationError(f"learner die seed {e.point['mc_seed']} failed ({e.kind}): {e.message}", log=e.log)
    runs = []
    for index, seed in enumerate(seeds):
        record = result.records[index]
        res = SimResult(record["vectors"], "tran", "", ["sweep"], float(record.get("elapsed_s", np.nan)),
                        samples=record.get("samples") or {})
        runs.append(_read(p, st, netlist, res, sim, region_samples, int(seed), result.elapsed_s / len(seeds)))
    return runs
