"""Probe the wide-temperature learner with a bias schedule and other overrides at one corner and temperature
(prints one JSON object; issue 14, the 85 °C end).

The schedule is the design's own (:func:`netlists.learner_designs.learner_design` at T_s = 20 ms/``--k``): the
bias currents of ``BIAS_SCHEDULE`` (I_u, the x/y floor, f_e, f₂, W₀, S₀) × k and the transition time / k, the
source-node biases unchanged. η, τ/T_s and the energy per update stay as they are; I_A = C·U_T/(κ·τ) grows
k-fold, so a fixed junction leakage at the storage node shrinks k-fold against it. (Before the design carried
the schedule, this probe also scaled the source-node biases; at k = 20 that made the loops oscillate.)
``--set field=value`` overrides any :class:`netlists.spice_learner_circuit.LearnerParams` field
afterwards (SI units). The row carries the learner's nmse_vs_ideal against the exact ideal flow, its region
check (and the devices that fail it, per checked instant), the smallest V_DS of the ``--watch`` devices and the
wall time.

``--well-leak-a`` adds an ideal current from vdd into the isolated p-wells of the e⁺ stack (``hp_stack_bulk="source"``):
the PDK's p-well/deep-n-well diode (``sky130_fd_pr__model__parasitic__diode_pw2dn``) leaks < 1e-18 A in ngspice
even for 1 mm² at 125 °C, so this stands in for a silicon junction that does.

Usage: ``python benchmarks/probe_bias_schedule.py --corner tt --temp-c 85 --k 20 [--dim 2 --samples 100
--eta 0.05] [--set i_s2_bias_a=1e-10 …] [--well-leak-a 15e-12 [--well-nodes hp1]]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logdomain.spice_learner import compare_spice_learner, learner_task  # noqa: E402
from netlists.learner_designs import REFERENCE_T_HOLD_S as T_HOLD_S, learner_design  # noqa: E402
from netlists.params import SimParams  # noqa: E402
from netlists.runner import get_simulator  # noqa: E402
from netlists.technologies import get_technology  # noqa: E402


def _override(text: str) -> tuple[str, float | str]:
    """``field=value``: a number (SI units) or, for the choice fields (``hp_stack_bulk=ground``), a word."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected field=value, got {text!r}")
    try:
        return key, float(value)
    except ValueError:
        if not value.isidentifier():
            raise argparse.ArgumentTypeError(f"{key}: expected a number or a word, got {value!r}") from None
        return key, value


def _leak_into_wells(leak_a: float, nodes: list[str]) -> None:
    """Make the learner's generator add an ideal source of ``leak_a`` (A) from vdd into each of ``nodes``
    after its error path (a probe only: the library's netlists carry no such sources)."""
    import netlists.spice_learner_circuit as circuit

    add_error_path = circuit.add_error_path

    def with_leaks(nb, p) -> None:
        add_error_path(nb, p)
        for node in nodes:
            nb.isource(f"iwell_{node}", "vdd", node, leak_a)

    circuit.add_error_path = with_leaks


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
    ap.add_argument("--well-leak-a", type=float, default=0.0,
                    help="an ideal current (A) from vdd into each of --well-nodes: a stand-in for the isolated p-wells' "
                         "junction to the deep n-well, which the PDK's pw2dn diode model does not make leak (default 0)")
    ap.add_argument("--well-nodes", default="hp1,mqpc,hpr1",
                    help="comma-separated nodes the --well-leak-a sources feed (default: the e⁺ stack's, its copy's and "
                         "the window replica's p-wells)")
    ap.add_argument("--watch", default="mabp,mabn,mca2",
                    help="comma-separated devices whose smallest V_DS (in U_T, over the checked instants) the row carries "
                         "as vds_min_ut (default: the class-AB pair and the E_a copy's cascode, the cold window's edges)")
    args = ap.parse_args()
    if args.well_leak_a:
        _leak_into_wells(args.well_leak_a, args.well_nodes.split(","))
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
           "well_leak_a": args.well_leak_a, "well_nodes": args.well_nodes if args.well_leak_a else "",
           "samples": args.samples, "eta": args.eta, "t_hold_s": T_HOLD_S / args.k, "i_a_a": out["circuit"]["i_a_a"],
           "wall_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
    row.update({key: out[key] for key in ("nmse_vs_ideal", "weights", "ideal_weights", "t_over_tau", "regions_ok",
                                          "region_violations", "power_w")})  # fmt: skip
    watch = {name.strip().lower() for name in args.watch.split(",") if name.strip()}
    vds_min: dict[str, float] = {}
    for report in r.run.regions:
        for d in report.devices:
            if d.name.lower() in watch:
                vds_min[d.name.lower()] = min(vds_min.get(d.name.lower(), math.inf), d.vds_over_ut)
    row["vds_min_ut"] = {name: round(v, 2) for name, v in vds_min.items()}
    print(json.dumps(row))


if __name__ == "__main__":
    main()
