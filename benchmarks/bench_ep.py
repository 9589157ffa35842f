"""Operating points per second of an energy-based SPICE block: alter reuse vs a fresh circuit per point.

The block is the one ``logdomain ep train --data wine`` uses (8 inputs, 6 outputs, all lateral
conductances: 123 resistors, 6 sky130 diode-connected nfet_01v8; :mod:`netlists.ebm_block`), with random
conductances and random inputs. Measured in one process, JSON on stdout (notes on stderr):

(a) ``fresh``: a fresh circuit per operating point — the netlist generated for the point's inputs and
    run with :meth:`netlists.Simulator.run` (load the text and the cut sky130 models, ``.op``, destroy),
    one warm ngspice worker process (with the runner's convergence ladder, unused when the first try converges);
(b) ``reuse``: :class:`logdomain.ep.spice_block.SpiceEbmBlock` — the circuit loaded once per sweep
    worker, each point only ``alter``s the 16 input sources and 6 nudging sources (weights unchanged:
    no ``reset``), through a kept :func:`netlists.sweep.sweep_executor` (warmed by one small batch),
    with 1 worker (same resources as (a): the headline) and 2 workers;
(c) ``reuse_new_weights``: as (b) with 1 worker, but new conductances before every batch of 32 points
    (``alterparam`` of 123 params + ``reset`` once per batch and worker, as in training).

(e) ``batch``: the same class with ``batch_points=256`` — no circuit per point: up to 256 samples are written
    into one netlist as ``pwl`` tables of a swept index source and solved by one ``.dc`` sweep (each sample
    from the previous one's solution; :func:`netlists.ebm_block.ebm_batch_block`), every sample checked by
    KCL; 1 worker (the headline) and 2 workers;
(f) ``batch_training``: as training runs it (``TRAIN_BATCH_POINTS``): new conductances and one EP gradient
    per minibatch of 32 samples (free phase: one run of 32; ±β phases: one run of 64), 1 worker; points/s
    counts the 3 operating points per sample.

(d) ``fresh_full_library``: as (a) but the fresh circuit loads the whole sky130 library
    (``.lib sky130.lib.spice tt``), as a netlist written by hand would — measured on 1 point (``--quick``)
    or 2 (each ~20 s).

``speedup_vs_fresh_circuit`` = points/s of the best reuse path with 1 worker ((b) or (e)) / points/s of (a): the
fair comparison (same cut model file, same worker count); ``speedup_alter_vs_fresh_circuit`` and
``speedup_batch_vs_fresh_circuit`` give each path. ``speedup_vs_fresh_circuit_full_library`` divides the best by (d)
instead. ``ep_samples_per_s``: EP gradients (3 operating points each) per second with 2 workers. The 1-minute load average before and
after is reported: other processes share the 2 cores, so figures vary from run to run.

Usage: ``python benchmarks/bench_ep.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netlists import Simulator, get_technology  # noqa: E402
from netlists.ebm_block import EP_SIM_FALLBACK, EbmBlockParams, EbmWeights, ebm_block  # noqa: E402
from netlists.sweep import sweep_executor  # noqa: E402
from netlists.technologies.sky130 import find_sky130_root  # noqa: E402
from logdomain.ep.run import TRAIN_BATCH_POINTS  # noqa: E402
from logdomain.ep.spice_block import SpiceEbmBlock  # noqa: E402


#: the same tolerances in every mode: the SPICE block's fallback set (reltol 1e-7, vntol 1e-10 V, abstol 1e-16 A,
#: gmin 1e-15 S). With the tighter EP_SIM a fresh solve from 0 V (no previous solution to start from) failed to
#: converge on some points even after the runner's ladder (measured); reused circuits start from the last point.
#: The batched path (e, f) runs with its own default, EP_BATCH_SIM (reltol 1e-7 as here, but vntol 1e-11 V, abstol
#: 1e-17 A, gmin 1e-18 S: tighter, so not favoured), and every sample is KCL-checked.
SIM = EP_SIM_FALLBACK


def _note(text: str) -> None:
    print(f"bench_ep: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points")
    args = parser.parse_args(argv)
    n_fresh, n_reuse, n_batch = (10, 300, 512) if args.quick else (40, 1500, 4096)
    tech = get_technology("sky130")
    params = EbmBlockParams(n_in=8, n_out=6)
    rng = np.random.default_rng(0)
    weights = EbmWeights.random(params, rng, spread=0.5)
    u = rng.uniform(-0.35, 0.35, (max(n_fresh, n_reuse, n_batch), params.n_in))
    load_before = os.getloadavg()[0]

    _note(f"(a) fresh circuit per point, {n_fresh} points")
    with Simulator(SIM) as sim:
        sim.run(ebm_block(tech, params, weights, u[0]))  # worker started, model cut cached
        started = time.perf_counter()
        fresh_v = []
        for i in range(n_fresh):
            result = sim.run(ebm_block(tech, params, weights, u[i]))
            fresh_v.append([result[f"o_{k}"][0] for k in range(params.n_out)])
        fresh_s = time.perf_counter() - started
    fresh_rate = n_fresh / fresh_s

    n_full = 1 if args.quick else 2
    _note(f"(d) fresh circuit with the whole sky130 library, {n_full} point(s), ~20 s each")
    library = find_sky130_root() / "sky130.lib.spice"
    with Simulator(SIM) as sim:
        started = time.perf_counter()
        for i in range(n_full):
            text = ebm_block(tech, params, weights, u[i]).text(SIM)
            lines = [f'.lib "{library}" tt' if line.startswith(".include") else line for line in text.splitlines()]
            result = sim.run_text("\n".join(lines) + "\n", init_commands=tech.init_commands(), timeout_s=600,
                                  state_key=tech.state_key)
            full_diff = max(abs(result[f"o_{k}"][0] - fresh_v[i][k]) for k in range(params.n_out))
            if full_diff > 1e-6:
                raise SystemExit(f"bench_ep: whole library and cut models disagree by {full_diff:.3g} V")
        full_rate = n_full / (time.perf_counter() - started)

    rates = {}
    for workers in (1, 2):
        _note(f"(b) alter reuse, {workers} worker(s), {n_reuse} points")
        with sweep_executor(workers) as pool:
            block = SpiceEbmBlock(tech, params, weights, executor=pool, sim=SIM)
            block.solve(u[:32])  # warm: workers started, circuit loaded
            started = time.perf_counter()
            op = block.solve(u[:n_reuse])
            rates[workers] = n_reuse / (time.perf_counter() - started)
            agree = float(np.max(np.abs(op.v[:n_fresh] - np.array(fresh_v))))
            if workers == 2:
                c = rng.normal(size=(64, params.n_out))
                started = time.perf_counter()
                block.ep_gradients(u[:64], c)
                ep_rate = 64 / (time.perf_counter() - started)
        if agree > 1e-6:
            raise SystemExit(f"bench_ep: reused and fresh circuits disagree by {agree:.3g} V")

    _note("(c) alter reuse with new weights every 32 points, 1 worker")
    with sweep_executor(1) as pool:
        block = SpiceEbmBlock(tech, params, weights, executor=pool, sim=SIM)
        block.solve(u[:32])
        n_batches = n_reuse // 32
        started = time.perf_counter()
        for b in range(n_batches):
            block.set_weights(EbmWeights.random(params, rng, spread=0.5))
            block.solve(u[32 * b:32 * (b + 1)])
        new_weights_rate = 32 * n_batches / (time.perf_counter() - started)

    batch_rates, batch_counts = {}, {}
    for workers in (1, 2):
        _note(f"(e) batched .dc sweeps, 256 samples per run, {workers} worker(s), {n_batch} points")
        with sweep_executor(workers) as pool:
            block = SpiceEbmBlock(tech, params, weights, executor=pool, batch_points=256)
            block.solve(u[:8])  # warm
            started = time.perf_counter()
            op = block.solve(u[:n_batch])
            batch_rates[workers] = n_batch / (time.perf_counter() - started)
            batch_counts[workers] = {"runs": block.n_batch_runs, "samples_resolved": block.n_batch_resolved,
                                     "batches_failed": block.n_batch_fallback}
            batch_agree = float(np.max(np.abs(op.v[:n_fresh] - np.array(fresh_v))))
            if workers == 2:
                c = rng.normal(size=(256, params.n_out))
                started = time.perf_counter()
                block.ep_gradients(u[:256], c)
                batch_ep_rate = 256 / (time.perf_counter() - started)
        if batch_agree > 1e-6:
            raise SystemExit(f"bench_ep: batched and fresh circuits disagree by {batch_agree:.3g} V")

    n_steps = (n_batch // 32) // 2
    _note(f"(f) training-like: new weights + EP gradient per minibatch of 32, {n_steps} minibatches, 1 worker")
    with sweep_executor(1) as pool:
        block = SpiceEbmBlock(tech, params, weights, executor=pool, batch_points=TRAIN_BATCH_POINTS)
        block.solve(u[:8])
        c = rng.normal(size=(32, params.n_out))
        started = time.perf_counter()
        for b in range(n_steps):
            block.set_weights(EbmWeights.random(params, rng, spread=0.5))
            block.ep_gradients(u[32 * b:32 * (b + 1)], c)
        training_rate = 3 * 32 * n_steps / (time.perf_counter() - started)
        training_counts = {"runs": block.n_batch_runs, "samples_resolved": block.n_batch_resolved,
                           "batches_failed": block.n_batch_fallback}

    best = max(rates[1], batch_rates[1])
    out = {
        "block": {"n_in": params.n_in, "n_out": params.n_out, "resistors": 2 * params.n_out * (params.n_in + 1) + params.n_lateral,
                  "diodes": params.n_out, "technology": tech.label},
        "fresh_points_per_s": fresh_rate,
        "reuse_points_per_s_1_worker": rates[1],
        "reuse_points_per_s_2_workers": rates[2],
        "reuse_new_weights_points_per_s_1_worker": new_weights_rate,
        "batch_points_per_s_1_worker": batch_rates[1],
        "batch_points_per_s_2_workers": batch_rates[2],
        "batch_training_points_per_s_1_worker": training_rate,
        "speedup_vs_fresh_circuit": best / fresh_rate,
        "speedup_alter_vs_fresh_circuit": rates[1] / fresh_rate,
        "speedup_batch_vs_fresh_circuit": batch_rates[1] / fresh_rate,
        "speedup_batch_training_vs_fresh_circuit": training_rate / fresh_rate,
        "speedup_vs_fresh_circuit_2_workers": max(rates[2], batch_rates[2]) / fresh_rate,
        "speedup_alter_vs_fresh_circuit_2_workers": rates[2] / fresh_rate,
        "fresh_full_library_points_per_s": full_rate,
        "speedup_vs_fresh_circuit_full_library": best / full_rate,
        "speedup_new_weights_vs_fresh_circuit": new_weights_rate / fresh_rate,
        "ep_samples_per_s_2_workers": ep_rate,
        "batch_ep_samples_per_s_2_workers": batch_ep_rate,
        "batch_counts": {"1_worker": batch_counts[1], "2_workers": batch_counts[2], "training": training_counts},
        "max_abs_difference_batch_vs_fresh_v": batch_agree,
        "max_abs_difference_reuse_vs_fresh_v": agree,
        "points": {"fresh": n_fresh, "reuse": n_reuse, "batch": n_batch, "batch_training": 3 * 32 * n_steps,
                   "fresh_full_library": n_full},
        "load_average_1min": [load_before, os.getloadavg()[0]],
    }
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
