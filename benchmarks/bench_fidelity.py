"""Issue 7 fidelity check: behavioural vs transistor-level learner, in one run.

Prints one JSON object: ``spice_vs_behavioural_nmse`` (held-out prediction NMSE of the SPICE
learner against the behavioural one, fraction), ``speedup`` (SPICE learner wall time / one
behavioural run), ``nmse_vs_ideal`` of each, runtimes and the fitted cell model. Acceptance
(dim 4, 200 samples, sky130 tt): ≤ 1 % apart and ≥ 1e4× faster; ``accept`` reports both.

Usage: ``PYTHONPATH=. python benchmarks/bench_fidelity.py [--tech sky130] [--corner tt] [--dim 4] [--samples 200]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logdomain.fidelity import compare_against_spice  # noqa: E402
from logdomain.spice_learner import learner_task  # noqa: E402
from netlists import SimParams, Simulator, get_technology  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tech", default="sky130")
    ap.add_argument("--corner", default="tt")
    ap.add_argument("--dim", type=int, default=4)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="dim 2 x 40 samples (a few seconds)")
    args = ap.parse_args()
    if args.quick:
        args.dim, args.samples = 2, 40
    tech = get_technology(args.tech, corner=args.corner) if args.tech == "sky130" else get_technology(args.tech)
    sim = SimParams(reltol=1e-4, timeout_s=1800)
    with Simulator(sim) as simulator:
        r = compare_against_spice(tech, learner_task(args.dim, args.samples, seed=args.seed), samples=args.samples,
                                  sim=sim, simulator=simulator)  # fmt: skip
    out = r.as_dict()
    out["accept"] = {"nmse_apart_le_1pct": out["spice_vs_behavioural_nmse"] <= 0.01, "speedup_ge_1e4": out["speedup"] >= 1e4}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
