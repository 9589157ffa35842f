"""Probe the wide-temperature learner with a bias schedule and other overrides at one corner and temperature
(prints one JSON object; issue 14, the 85 °C end).

The schedule is the design's own (:func:`netlists.learner_designs.learner_design` at T_s = 20 ms/``--k``): the
bias currents of ``BIAS_SCHEDULE`` (I_u, the x/y floor, f_e, f₂, W₀, S₀) × k and the transition time / k, the
source-node biases unchanged. η, τ/T_s and the energy per update stay as they are; I_A = C·U_T/(κ·τ) grows
k-fold, so a fixed junction leakage at the storage node shrinks k-fold against it. (Before the design carried
the schedule, this probe also scaled the source-node biases; at k = 20 that made the loops oscillate.)
``--set field=value`` overrides any :class:`netlists.spice_learner_circuit.LearnerParams` field
afterwards (SI units). The row carries the learner's nmse_vs_ideal against the exact ideal flow, its region
check (and the devices that fail it, per checked instant) and the wall time.

Usage: ``python benchmarks/probe_bias_schedule.py --corner tt --temp-c 85 --k 20 [--dim 2 --samples 100
--eta 0.05] [--set i_s2_bias_a=1e-10 …]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logdomain.spice_learner import compare_spice_learner, learner_task  # noqa: E402
from netlists.learner_designs import REFERENCE_T_HOLD_S as T_HOLD_S, learner_design  # noqa: E402
from netlists.params import SimParams  # noqa: E402
from netlists.runner import get_simulator  # noqa: E402
from netlists.technologies import get_technology  # noqa: E402


def _override(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected field=value, got {text!r}")
    return key, float(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corner", default="tt", choices=["tt", "ss", "ff", "sf", "fs"])
    ap.add_argument("--temp-c", type=float, default=85.0)
    ap.add_argument("--k", type=float, default=20.0, help="bias currents × k, hold time / k")
    ap.add_argument("--dim", type=int, default=2)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--eta", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", type=_override, action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--timeout-s", type=float, default=1800.0)
    args = ap.parse_args()
    design = learner_design("wide-temperature", "sky130", args.temp_c, t_hold_s=T_HOLD_S / args.k)
    p = dataclasses.replace(design.params, **dict(args.set))
    sim = SimParams(temp_c=args.temp_c, reltol=1e-4, timeout_s=args.timeout_s)
    task = learner_task(args.dim, args.samples, seed=args.seed)
    t0 = time.perf_counter()
    r = compare_spice_learner(get_technology("sky130", corner=args.corner), task, eta=args.eta, lam=1e-3,
                              t_hold_s=T_HOLD_S / args.k, samples=args.samples, params=p, sim=sim,
                              simulator=get_simulator())  # fmt: skip
    out = r.as_dict(history=False)
    row = {"corner": args.corner, "temp_c": args.temp_c, "k": args.k, "set": dict(args.set), "dim": args.dim,
           "samples": args.samples, "eta": args.eta, "t_hold_s": T_HOLD_S / args.k, "i_a_a": out["circuit"]["i_a_a"],
           "wall_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
    row.update({key: out[key] for key in ("nmse_vs_ideal", "weights", "ideal_weights", "t_over_tau", "regions_ok",
                                          "region_violations", "power_w")})  # fmt: skip
    print(json.dumps(row))


if __name__ == "__main__":
    main()
