"""Throughput of the analog learner: weight updates per second and how cost scales.

Prints one JSON object on stdout: ``updates_per_s`` (dies × weights × samples / s for 1000 dies ×
64 weights, the shipped sky130 calibration, float32 and float64) and ``scaling_slope`` (largest
log-log slope of run time vs dies, weights and samples; 1 = linear).

Usage: ``python benchmarks/bench_train.py [--quick] [--substeps N]``
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
from logdomain.analog import AnalogModel, sgdr_analog  # noqa: E402


def shipped_model(bits: int = 8) -> AnalogModel:
    """The block model of the shipped sky130 tt calibration (all its non-idealities on)."""
    return AnalogModel.from_calibration(load_default_calibration(), bits=bits)


def timed(model: AnalogModel, dies: int, weights: int, samples: int, substeps: int, dtype, repeat: int = 2) -> float:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (samples, weights)) / np.sqrt(weights)
    y = x @ rng.uniform(-1, 1, weights) / 2
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        sgdr_analog(x, y, model, 0.05, 1e-3, dies=dies, substeps=substeps, dtype=dtype)
        best = min(best, time.perf_counter() - t0)
    return best


def slope(sizes: list[int], times: list[float]) -> float:
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (< 1 min)")
    parser.add_argument("--substeps", type=int, default=1, help="substeps per hold (default 1)")
    args = parser.parse_args()
    samples = 100 if args.quick else 400
    full = shipped_model()
    out: dict = {"dies": 1000, "weights": 64, "samples": samples, "substeps": args.substeps, "model": "shipped sky130 tt calibration, 8 bits"}
    rates = {}
    for label, model in (("full", full), ("full_linear_multiplier", full.replace(nonlinearity=0.0)), ("ideal", AnalogModel())):
        for dtype in (np.float32, np.float64):
            t = timed(model, 1000, 64, samples, args.substeps, dtype)
            rates[f"{label}_{dtype.__name__}"] = 1000 * 64 * samples / t
    out["updates_per_s_by_case"] = {k: float(f"{v:.4g}") for k, v in rates.items()}
    out["updates_per_s"] = float(f"{rates['full_float32']:.4g}")
    out["target_updates_per_s"] = 1e8
    base = dict(dies=256, weights=32, samples=50 if args.quick else 100)
    slopes = {}
    for key, factors in (("dies", (1, 2, 4)), ("weights", (1, 2, 4)), ("samples", (1, 2, 4))):
        sizes, times = [], []
        for f in factors:
            cfg = dict(base, **{key: base[key] * f})
            sizes.append(cfg[key])
            times.append(timed(full, cfg["dies"], cfg["weights"], cfg["samples"], args.substeps, np.float64))
        slopes[key] = round(slope(sizes, times), 3)
    out["scaling_slopes"] = slopes
    out["scaling_slope"] = max(slopes.values())
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
