"""Transistor-level learner, dim 4 × 400 samples (t/τ = 20, default hyperparameters), against ideal SGDr.

Prints one JSON object per technology/corner on stdout: ``nmse_vs_ideal`` (held-out prediction
NMSE, fraction), ``weight_nmse``, ``t_over_tau``, ``runtime_s`` (ngspice transient, one core), the
region summary, and ``eta_gain_fit`` — the factor g such that the ideal flow with η·g fits the SPICE
state trajectory best (a pure learning-rate error shows as g ≠ 1 with a small residual).

It also measures (each part can be skipped with an empty list / 0):

- ``--memory 8x250 8x500 8x1000``: peak RSS of the ngspice worker process (``VmHWM`` of its
  ``/proc/<pid>/status``, MB = 2^20 bytes) over one nominal sky130 run of the learner (κ curve and the
  transient), ``peak_rss_mb`` per dim × samples, with the transient's time points and runtime;
- ``--dies 8``: that many sky130 mismatch dies (dim 2 × 40 samples) through the sweep executor with
  1 worker, then 2 workers, twice, in this run: ``dies_parallel_speedup`` = shortest wall time with
  1 worker / shortest with 2 (the machine's load average is reported with it);
- ``--ekv-points`` (default; ``--no-ekv-points`` skips): ``ekv_vs_bsim_time_per_point``, the transient
  wall time per accepted time point of one circuit on ekv over the same on bsim (see :func:`ekv_vs_bsim`).

Usage: ``python benchmarks/bench_learner.py [--quick] [--techs sky130:tt bsim ...] [--memory 8x1000 ...]
[--dies 8] [--no-ekv-points]`` (``--quick``: dim 2 × 100 samples at η = 0.2, also t/τ = 20; memory at 2 × 40
and 2 × 80; 4 dies).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logdomain.ideal import sgdr_continuous_zoh  # noqa: E402
from logdomain.spice_learner import DEFAULT_ETA, DEFAULT_LAM, DEFAULT_SAMPLES, DEFAULT_T_HOLD_S, compare_spice_learner, learner_task  # noqa: E402
from netlists import SimParams, Simulator, get_technology  # noqa: E402


def eta_gain_fit(r, x, y) -> tuple[float, float]:
    p = r.run.params
    hist = r.state_history

    def loss(g: float) -> float:
        _, h = sgdr_continuous_zoh(x, y, p.tau_ideal_s / g, p.t_hold_s, DEFAULT_LAM, return_history=True)
        return float(np.sum((h - hist) ** 2) / np.sum(hist**2))

    fit = minimize_scalar(loss, bounds=(0.5, 2.0), method="bounded")
    return float(fit.x), float(fit.fun)


def worker_peak_rss_mb(pid: int) -> float:
    """Peak resident set size of process ``pid`` (``VmHWM``, Linux), MB (2^20 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmHWM for process {pid}")


def memory_run(dim: int, samples: int, sim: SimParams) -> dict:
    """One nominal sky130 learner run in a fresh ngspice worker; that worker's peak RSS."""
    from netlists.learner_run import run_spice_learner

    task = learner_task(dim, samples, seed=0)
    with Simulator(sim) as simulator:
        started = time.perf_counter()
        run = run_spice_learner(get_technology("sky130"), task.x_train[:samples], task.y_train[:samples], DEFAULT_ETA,
                                DEFAULT_LAM, DEFAULT_T_HOLD_S, sim=sim, simulator=simulator)  # fmt: skip
        wall = time.perf_counter() - started
        peak = worker_peak_rss_mb(simulator.worker_pid)
    return {"measure": "memory", "tech": "sky130:tt", "dim": dim, "samples": samples, "peak_rss_mb": round(peak, 1),
            "time_points": int(len(run.time_s)), "runtime_s": round(wall, 2), "regions_ok": run.regions_ok}


def dies_speedup(n_dies: int, sim: SimParams, dim: int = 2, samples: int = 40, repeats: int = 2) -> dict:
    """``n_dies`` sky130 mismatch dies with 1 worker and with 2 (same run, same dies), alternating
    ``repeats`` times; the speedup uses the shortest wall time of each (other jobs on the machine only
    lengthen a run). Each wall time covers the whole call: κ curve, pool start, per-die reload, dies."""
    from logdomain.spice_learner import compare_spice_dies

    task = learner_task(dim, samples, seed=0)
    tech = get_technology("sky130", mismatch=True)
    seeds = list(range(1, n_dies + 1))
    walls: dict[int, list[float]] = {1: [], 2: []}
    weights: dict[int, np.ndarray] = {}
    load_before = os.getloadavg()[0]
    for _ in range(repeats):
        for workers in (1, 2):
            with Simulator(sim) as simulator:
                started = time.perf_counter()
                dies = compare_spice_dies(tech, task, seeds, eta=DEFAULT_ETA, samples=samples, sim=sim, simulator=simulator,
                                          workers=workers, quiet=True)  # fmt: skip
                walls[workers].append(time.perf_counter() - started)
            weights[workers] = np.array([d.weights for d in dies])
    same = float(np.max(np.abs(weights[1] - weights[2]) / np.maximum(np.abs(weights[1]), 1e-12)))
    best = {w: min(v) for w, v in walls.items()}
    return {"measure": "dies", "tech": "sky130:tt mismatch", "dim": dim, "samples": samples, "dies": n_dies,
            "wall_1_worker_s": [round(x, 2) for x in walls[1]], "wall_2_workers_s": [round(x, 2) for x in walls[2]],
            "dies_parallel_speedup": round(best[1] / best[2], 3), "max_rel_weight_difference_1_vs_2_workers": same,
            "load_average_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def ekv_vs_bsim(sim: SimParams, dim: int = 2, samples: int = 20) -> dict:
    """Transient wall time per accepted time point of the same learner netlist on ekv and on bsim.

    The circuit is the whole learner (dim × samples, η = 0.2) started with ``start="uic"`` (supply ramp,
    10 settling holds): its operating point does not converge on ekv, which is why the default start is
    refused there (``LearnerParams.UNSUPPORTED``); the uic start runs on both. Time = ngspice run wall time
    (load and transient, as the runner measures it) / number of time points of the result.
    """
    from netlists.learner_run import prepare_learner
    from netlists.spice_learner_circuit import LearnerParams

    task = learner_task(dim, samples, seed=0)
    out: dict = {"measure": "ekv_speed", "circuit": f"learner dim {dim} x {samples} samples, start=uic, settle_holds=10"}
    for name in ("ekv", "bsim"):
        tech = get_technology(name)
        params = LearnerParams.for_technology(name, dim=dim, start="uic", settle_holds=10)
        with Simulator(sim) as simulator:
            _, netlist = prepare_learner(tech, task.x_train[:samples], task.y_train[:samples], 0.2, DEFAULT_LAM,
                                         DEFAULT_T_HOLD_S, params=params, sim=sim, simulator=simulator)  # fmt: skip
            result = simulator.run(netlist, sim)
        points = len(result["time"])
        out[f"{name}_time_points"] = points
        out[f"{name}_runtime_s"] = round(result.elapsed_s, 3)
        out[f"{name}_s_per_point"] = result.elapsed_s / points
    out["ekv_vs_bsim_time_per_point"] = round(out["ekv_s_per_point"] / out["bsim_s_per_point"], 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--techs", nargs="*", default=["sky130:tt", "sky130:ss", "sky130:ff", "sky130:sf", "sky130:fs", "bsim"],
                    help="technologies (the whole learner is not supported on ekv: LearnerParams.UNSUPPORTED)")
    ap.add_argument("--memory", nargs="*", default=None, help="dim x samples sizes for peak_rss_mb (default 8x250 8x500 8x1000)")
    ap.add_argument("--dies", type=int, default=None, help="mismatch dies for dies_parallel_speedup (default 8; 0 skips)")
    ap.add_argument("--ekv-points", action=argparse.BooleanOptionalAction, default=True,
                    help="measure ekv_vs_bsim_time_per_point (default on; a few seconds)")
    args = ap.parse_args()
    dim, k, eta = (2, 100, 0.2) if args.quick else (4, DEFAULT_SAMPLES, DEFAULT_ETA)
    sizes = args.memory if args.memory is not None else (["2x40", "2x80"] if args.quick else ["8x250", "8x500", "8x1000"])
    for size in sizes:
        d, _, n = size.partition("x")
        print(json.dumps(memory_run(int(d), int(n), SimParams(reltol=1e-4, timeout_s=3600))), flush=True)
    n_dies = args.dies if args.dies is not None else (4 if args.quick else 8)
    if n_dies:
        print(json.dumps(dies_speedup(n_dies, SimParams(reltol=1e-4, timeout_s=1800))), flush=True)
    if args.ekv_points:
        print(json.dumps(ekv_vs_bsim(SimParams(reltol=1e-4, timeout_s=1800))), flush=True)
    task = learner_task(dim, k, seed=0)
    sim = SimParams(reltol=1e-4, timeout_s=1800)
    for spec in args.techs:
        name, _, corner = spec.partition(":")
        tech = get_technology(name, corner=corner) if corner else get_technology(name)
        with Simulator(sim) as simulator:
            try:
                r = compare_spice_learner(tech, task, eta=eta, samples=k, t_hold_s=DEFAULT_T_HOLD_S, sim=sim, simulator=simulator)
            except Exception as exc:  # report and go on with the next technology
                print(json.dumps({"tech": spec, "error": str(exc).splitlines()[0]}), flush=True)
                continue
        g, resid = eta_gain_fit(r, task.x_train[:k], task.y_train[:k])
        d = r.as_dict(history=False)
        out = {key: d[key] for key in ("tech", "dim", "samples", "eta", "lam", "t_over_tau", "nmse_vs_ideal", "weight_nmse",
                                       "runtime_s", "weights", "ideal_weights", "regions_ok", "region_violations", "circuit")}  # fmt: skip
        out["regions"] = [f"t={x['t_s']:.3g}s: {x['summary'][:300]}" for x in d["regions"]]
        out.update(eta_gain_fit=g, weight_nmse_after_eta_fit=resid)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
