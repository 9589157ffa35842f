"""Throughput of the behavioural learner and of the ideal loop, with the roofline they sit under.

Prints one JSON object on stdout (all measured side by side in this run, best of 3 after a warm-up):

- ``updates_per_s``: dies × weights × samples / s of one whole :func:`logdomain.learner_sim.sgdr_learner`
  call — 1000 dies × 64 weights × 400 samples, the shipped calibration's learner model with its
  mismatch and 8 bits, float32 — including drawing the dies' gains, packing and read-out.
  ``updates_per_s_by_case`` has float64 too, ``loop_updates_per_s`` the compiled loop alone (no
  per-die set-up) and ``die_setup_ms`` the set-up of the 1000 dies (sampling their gains). These run
  with the cell noise off (``noise_rel`` = 0, the loop as before issue 14); ``noise_on`` has the same
  float32 run with the calibration's measured ``noise_rel`` (one counter-based normal pair per weight
  per hold, drawn in the loop) and its cost relative to noise off.
- ``float32_vs_float64``: the two precisions on the same dies: largest |Δw| over the largest |w|.
- ``ideal_updates_per_s``: the ideal discrete SGDr loop (:func:`logdomain.ideal.sgdr_discrete`) on
  the same layout (1000 runs × 64 weights × 400 samples, float64).
- ``scaling_slopes`` / ``scaling_slope``: log-log slope of run time vs dies, weights and samples
  (each ×1, ×2, ×4 from 256 dies × 32 weights × 400 samples; 1 = linear) and the largest of them.
- ``roofline``: operations and bytes per weight update of the learner's loop (counted in the kernel
  source: one Heun step is two passes over the weights, 84 arithmetic operations — multiply, add,
  max — and 38 loads + 6 stores of the state, coefficients and inputs, all from the die's
  cache-resident working set: 13 coefficients + 2 states per weight, 3.3 kB per die at 64 weights in
  float32; main memory sees only the shared input stream), the machine's measured peaks (float32 and
  float64 matrix product through numpy's BLAS on every core, and a 256 MB copy for main-memory
  bandwidth), and ``fraction_of_peak`` = the loop's operations per second / the float32 peak.

Usage: ``python benchmarks/bench_train.py [--quick]`` (``--quick``: one repeat of the scaling fits).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.schema import load_default_calibration  # noqa: E402
from logdomain import _learner_kernel as kernel  # noqa: E402
from logdomain.ideal import sgdr_discrete  # noqa: E402
from logdomain.learner_model import LearnerModel  # noqa: E402
from logdomain.learner_sim import sgdr_learner  # noqa: E402

DIES, WEIGHTS, SAMPLES = 1000, 64, 400
#: arithmetic operations and bytes (per precision byte) of one weight update in the compiled loop
OPS_PER_UPDATE = 84
ACCESSES_PER_UPDATE = 38 + 6


def stream(weights: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (samples, weights)) / np.sqrt(weights)
    return x, x @ rng.uniform(-1, 1, weights) / 2


def timed(run, repeat: int = 3) -> float:
    run()  # compile / warm up
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def loop_time(run) -> float:
    """Best time of the compiled loop alone inside ``run`` (kernel.run_numba wrapped)."""
    inner = kernel.run_numba
    seen: list[float] = []

    def clocked(*args, **kw):
        t0 = time.perf_counter()
        out = inner(*args, **kw)
        seen.append(time.perf_counter() - t0)
        return out

    kernel.run_numba = clocked
    try:
        timed(run)
    finally:
        kernel.run_numba = inner
    return min(seen[1:])


def peaks() -> dict:
    """Measured machine peaks: BLAS matrix products (all cores) and a main-memory copy."""
    out = {}
    for dt in (np.float32, np.float64):
        a = np.random.default_rng(1).standard_normal((2048, 2048)).astype(dt)
        t = timed(lambda: a @ a)
        out[f"peak_flops_{dt.__name__}"] = float(f"{2 * 2048**3 / t:.4g}")
    big = np.ones(32 * 2**20)  # 256 MB
    dst = np.empty_like(big)
    t = timed(lambda: np.copyto(dst, big))
    out["memory_bandwidth_bytes_per_s"] = float(f"{2 * big.nbytes / t:.4g}")  # read + write
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat of the scaling fits (< 1 min)")
    args = parser.parse_args()
    noisy_model = LearnerModel.from_calibration(load_default_calibration(), bits=8)
    model = noisy_model.replace(noise_rel=0.0)
    x, y = stream(WEIGHTS, SAMPLES)
    work = DIES * WEIGHTS * SAMPLES
    out: dict = {"dies": DIES, "weights": WEIGHTS, "samples": SAMPLES,
                 "model": "learner model of the shipped calibration, mismatch on, 8 bits, cell noise off"}  # fmt: skip
    rates, loops, runs = {}, {}, {}
    for dtype in (np.float32, np.float64):
        call = lambda: sgdr_learner(x, y, model, 0.05, 1e-3, dies=DIES, backend="numba", dtype=dtype)  # noqa: E731
        rates[f"learner_{dtype.__name__}"] = work / timed(call)
        loops[dtype.__name__] = work / loop_time(call)
        runs[dtype.__name__] = call().weights
    noisy = lambda: sgdr_learner(x, y, noisy_model, 0.05, 1e-3, dies=DIES, backend="numba", dtype=np.float32)  # noqa: E731
    rate_noise, loop_noise = work / timed(noisy), work / loop_time(noisy)
    out["noise_on"] = {"noise_rel": noisy_model.noise_rel, "updates_per_s_float32": float(f"{rate_noise:.4g}"),
                       "loop_updates_per_s_float32": float(f"{loop_noise:.4g}"),
                       "time_vs_noise_off": round(rates["learner_float32"] / rate_noise, 3)}  # fmt: skip
    setup = timed(lambda: model.sample_dies(DIES, WEIGHTS, 0, 0, np.float32))
    t_ideal = timed(lambda: sgdr_discrete(x, y, np.full(DIES, 0.05), np.full(DIES, 1e-3)))
    rates["ideal_discrete_float64"] = work / t_ideal
    out["updates_per_s_by_case"] = {k: float(f"{v:.4g}") for k, v in rates.items()}
    out["updates_per_s"] = out["updates_per_s_by_case"]["learner_float32"]
    out["loop_updates_per_s"] = {k: float(f"{v:.4g}") for k, v in loops.items()}
    out["die_setup_ms"] = round(1e3 * setup, 2)
    out["ideal_updates_per_s"] = out["updates_per_s_by_case"]["ideal_discrete_float64"]
    out["targets"] = {"updates_per_s": 5e8, "ideal_updates_per_s": 1e9, "scaling_slope": 1.1}
    dw = np.max(np.abs(runs["float32"] - runs["float64"])) / np.max(np.abs(runs["float64"]))
    out["float32_vs_float64"] = {"max_abs_dw_over_max_w": float(f"{dw:.3g}"),
                                 "weights_differing_fraction": float(np.mean(runs["float32"] != runs["float64"]))}  # fmt: skip
    base = dict(dies=256, weights=32, samples=SAMPLES)
    slopes = {}
    for key in ("dies", "weights", "samples"):
        sizes, times = [], []
        for f in (1, 2, 4):
            cfg = dict(base, **{key: base[key] * f})
            xs, ys = stream(cfg["weights"], cfg["samples"])
            sizes.append(cfg[key])
            times.append(timed(lambda: sgdr_learner(xs, ys, model, 0.05, 1e-3, dies=cfg["dies"], backend="numba",
                                                    dtype=np.float32), repeat=1 if args.quick else 3))  # fmt: skip
        slopes[key] = round(float(np.polyfit(np.log(sizes), np.log(times), 1)[0]), 3)
    out["scaling_slopes"] = slopes
    out["scaling_slope"] = max(slopes.values())
    pk = peaks()
    ops = OPS_PER_UPDATE * loops["float32"]
    out["roofline"] = {"ops_per_update": OPS_PER_UPDATE, "bytes_per_update_from_cache_float32": 4 * ACCESSES_PER_UPDATE,
                       "bytes_per_update_from_memory": "≈ 0 (per-die working set stays in cache; the stream is shared)",
                       "loop_ops_per_s_float32": float(f"{ops:.4g}"), **pk,
                       "fraction_of_peak": round(ops / pk["peak_flops_float32"], 3)}  # fmt: skip
    out["fraction_of_peak"] = out["roofline"]["fraction_of_peak"]
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
