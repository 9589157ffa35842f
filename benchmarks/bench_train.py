"""Throughput of the behavioural learner: weight updates per second and how cost scales.

Prints one JSON object on stdout: ``updates_per_s`` (dies × weights × samples / s for 1000 dies × 64
weights, the model of the shipped calibration's learner with its mismatch and 8 bits, float32 and
float64, numba backend), the ideal discrete loop's rate on the same layout beside it, and
``scaling_slope`` (largest log-log slope of run time vs dies, weights and samples; 1 = linear).

Usage: ``python benchmarks/bench_train.py [--quick]``
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
from logdomain.ideal import sgdr_discrete  # noqa: E402
from logdomain.learner_model import LearnerModel  # noqa: E402
from logdomain.learner_sim import sgdr_learner  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (< 1 min)")
    args = parser.parse_args()
    samples = 100 if args.quick else 400
    model = LearnerModel.from_calibration(load_default_calibration(), bits=8)
    x, y = stream(64, samples)
    out: dict = {"dies": 1000, "weights": 64, "samples": samples, "model": "learner model of the shipped calibration, mismatch on, 8 bits"}
    rates = {}
    for dtype in (np.float32, np.float64):
        t = timed(lambda: sgdr_learner(x, y, model, 0.05, 1e-3, dies=1000, backend="numba", dtype=dtype))
        rates[f"learner_{dtype.__name__}"] = 1000 * 64 * samples / t
    xb = np.broadcast_to(x, (1000,) + x.shape)  # the ideal loop over 1000 hyperparameter copies
    t = timed(lambda: sgdr_discrete(x, y, np.full(1000, 0.05), np.full(1000, 1e-3)))
    rates["ideal_discrete_float64"] = 1000 * 64 * samples / t
    del xb
    out["updates_per_s_by_case"] = {k: float(f"{v:.4g}") for k, v in rates.items()}
    out["updates_per_s"] = float(f"{rates['learner_float32']:.4g}")
    out["target_updates_per_s"] = 1e8
    out["learner_vs_ideal"] = float(f"{rates['learner_float32'] / rates['ideal_discrete_float64']:.3g}")
    base = dict(dies=256, weights=32, samples=50 if args.quick else 100)
    slopes = {}
    for key in ("dies", "weights", "samples"):
        sizes, times = [], []
        for f in (1, 2, 4):
            cfg = dict(base, **{key: base[key] * f})
            xs, ys = stream(cfg["weights"], cfg["samples"])
            sizes.append(cfg[key])
            times.append(timed(lambda: sgdr_learner(xs, ys, model, 0.05, 1e-3, dies=cfg["dies"], backend="numba")))
        slopes[key] = round(float(np.polyfit(np.log(sizes), np.log(times), 1)[0]), 3)
    out["scaling_slopes"] = slopes
    out["scaling_slope"] = max(slopes.values())
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
