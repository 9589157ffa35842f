"""nmse_vs_ideal of the analog learner per sky130 corner and temperature (prints JSON).

For each (corner, temperature) it runs the full calibration in SPICE (as `logdomain calibrate`
would) and then the headline comparison on the default task (diabetes, η = 0.05, λ = 1e-3,
5 epochs, 8 bits, 32 dies). Usage::

    python benchmarks/study_corners.py [--quick] [--out-dir DIR]

--quick uses the quick calibration plan (coarser fits) — for a smoke run, not for figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from calibration.pipeline import calibrate
from logdomain.analog import AnalogModel
from logdomain.compare import CompareConfig, run_compare
from logdomain.tasks import get_task
from netlists import SimulationError

CASES = [("tt", 27.0), ("ss", 27.0), ("ff", 27.0), ("sf", 27.0), ("fs", 27.0), ("tt", -20.0), ("tt", 85.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out-dir", type=Path, help="also write each calibration JSON here")
    args = parser.parse_args()
    task = get_task("diabetes")
    config = CompareConfig(bits_grid=(8,), eta_grid=(0.05,), lam_grid=(1e-3,), curve_points=5)
    rows = []
    for corner, temp_c in CASES:
        started = time.perf_counter()
        try:
            run = calibrate("sky130", corner=corner, temp_c=temp_c, quick=args.quick)
        except SimulationError as exc:  # e.g. the weight cell does not work at this corner: say so
            rows.append({"corner": corner, "temp_c": temp_c, "nmse_vs_ideal": None, "error": str(exc).splitlines()[0]})
            print(f"{corner} {temp_c:g} C: calibration failed: {rows[-1]['error']}", file=sys.stderr)
            continue
        if args.out_dir:
            args.out_dir.mkdir(parents=True, exist_ok=True)
            run.calibration.save(args.out_dir / f"sky130_{corner}_{temp_c:g}C.json")
        result = run_compare(task, AnalogModel.from_calibration(run.calibration), config)
        blocks = run.calibration.blocks
        rows.append({
            "corner": corner,
            "temp_c": temp_c,
            "nmse_vs_ideal": result.summary["nmse_vs_ideal"],
            "multiplier_gain": blocks.multiplier_gain,
            "multiplier_nonlinearity": blocks.multiplier_nonlinearity,
            "tau_rel_error": blocks.tau_rel_error,
            "lam_eff": blocks.lam_eff,
            "leak_a": blocks.leak_a,
            "update_asymmetry": blocks.update_asymmetry,
            "gain_sigma": run.calibration.mismatch.gain_sigma,
            "seconds": round(time.perf_counter() - started, 1),
        })
        print(f"{corner} {temp_c:g} C: nmse_vs_ideal {100 * rows[-1]['nmse_vs_ideal']:.3f} %", file=sys.stderr)
    json.dump({"task": "diabetes", "bits": 8, "target_nmse_vs_ideal": 0.0087, "cases": rows}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
