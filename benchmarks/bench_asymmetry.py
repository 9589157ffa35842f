"""Run time of ``logdomain study asymmetry`` (issue 15: under a minute on 2 cores) and its acceptance, as JSON.

Runs the study with its defaults (7 asymmetries × 32 seeds × 60 000 samples, 4 weights, discrete
time; five runs: SGD and Tiki-Taka on both devices and the unchopped log-domain Tiki-Taka) in this
process, and reports the wall time of each run and of the whole study beside the acceptance checks on
the reference device (SGD's floor monotone in the asymmetry; Tiki-Taka ≥ 10× lower at asymmetry ≥ 0.3
and flat within 2×) and the log-domain ratios. ``--quick``: 8 seeds × 20 000 samples. ``--continuous``:
continuous time (2 Heun steps per hold). Usage: ``python benchmarks/bench_asymmetry.py [--quick] [--continuous]``.
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

from calibration.schema import load_default_calibration  # noqa: E402
from logdomain.asymmetry import FloorProblem, LogDomainPair  # noqa: E402
from logdomain.asymmetry_study import StudyConfig, run_asymmetry_study  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--continuous", action="store_true")
    args = parser.parse_args()
    problem = FloorProblem(steps=20_000, seeds=8, records=100) if args.quick else FloorProblem(steps=60_000, seeds=32, records=200)
    config = StudyConfig(problem=problem, substeps=2 if args.continuous else 0,
                         pair=LogDomainPair.from_calibration(load_default_calibration()))  # fmt: skip
    clock = time.perf_counter()
    r = run_asymmetry_study(config)
    wall = time.perf_counter() - clock
    a = np.asarray(r["asymmetry"])
    ref_sgd, ref_tt = np.asarray(r["reference"]["sgd"]), np.asarray(r["reference"]["tiki_taka"])
    ld_sgd, ld_tt = np.asarray(r["logdomain"]["sgd"]), np.asarray(r["logdomain"]["tiki_taka"])
    print(json.dumps({
        "wall_s": wall, "runs_s": r["runtime_s"], "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
        "settings": r["settings"]["time"], "seeds": problem.seeds, "steps": problem.steps, "asymmetry": a.tolist(),
        "accept": {"reference_sgd_monotone": bool(np.all(np.diff(ref_sgd) > 0)),
                   "reference_tt_10x_at_0.3_and_above": bool(np.all((ref_sgd / ref_tt)[a >= 0.3] >= 10)),
                   "reference_tt_flat_within_2x": bool(ref_tt.max() / ref_tt.min() <= 2),
                   "under_a_minute": wall < 60},
        "reference_ratio_sgd_over_tt": (ref_sgd / ref_tt).tolist(), "logdomain_ratio_sgd_over_tt": (ld_sgd / ld_tt).tolist(),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
