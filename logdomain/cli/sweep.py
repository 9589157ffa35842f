"""``logdomain sweep``: a grid (and Monte Carlo) of single-transistor operating points.

Runs :func:`netlists.sweep.sweep` (load-once workers, on-disk cache, resume, progress on
stderr) and writes ``FILE.npz`` (one array per swept quantity plus ``id_a`` and ``ok``) and
``FILE.json`` (the summary, with per-point errors) — both or neither. Every value is checked
against the bounds the other commands apply (:data:`BOUNDS`: those of ``MosArrayParams`` and
``SimParams``) before anything runs; a sweep in which no point could be simulated is a failed
run (exit status 1, nothing written). Example::

    logdomain sweep nmos --tech sky130 --sweep vgs_v=0.1:0.5:0.05 --sweep w_m=1u,4u --out iv.npz
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from netlists import MosArrayParams, ParameterError, SimParams, parse_number
from netlists.params import Bound
from netlists.technologies import CORNERS

from .._io import StagedOutputs
from ._limits import add_timeout_options
from ._tech import add_tech_argument, tech_option_text, technology_from_args
from .._validate import check_output_file, dumps_strict
from ..errors import CommandError, UsageError

__all__ = ["register", "cmd_sweep", "parse_axis"]

#: CLI name → (point key in netlists.sweep, sign applied for a pMOS, default)
QUANTITIES = {
    "w_m": ("w_m", False, 2e-6),
    "l_m": ("l_m", False, 1e-6),
    "vgs_v": ("vg", True, 0.4),
    "vds_v": ("vd", True, 0.5),
    "temp_c": ("temp_c", False, 27.0),
}
MAX_POINTS = 100_000
#: allowed range of each quantity (magnitudes for a pMOS): the bounds of the parameter classes
BOUNDS: dict[str, Bound] = {
    "w_m": MosArrayParams._bounds["w_m"],
    "l_m": MosArrayParams._bounds["l_m"],
    "vgs_v": MosArrayParams._bounds["vgs_v"],
    "vds_v": MosArrayParams._bounds["vds_v"],
    "temp_c": SimParams._bounds["temp_c"],
}
#: most ngspice worker processes (a sweep is cut into ~32 chunks of at most 256 points; a worker beyond one per chunk is not started)
MAX_WORKERS = 64


def register(subparsers) -> None:
    parser = subparsers.add_parser("sweep", help="grid / Monte Carlo of transistor operating points (cached, parallel)")
    parser.add_argument("device", choices=["nmos", "pmos"])
    add_tech_argument(parser, default="sky130")
    parser.add_argument("--corner", default="tt", choices=CORNERS)
    parser.add_argument("--sweep", action="append", metavar="NAME=START:STOP:STEP|V1,V2,…",
                        help=f"axis of the grid, NAME one of {', '.join(QUANTITIES)} (repeatable)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="fixed value of a quantity")
    parser.add_argument("--mc", default="0", metavar="N", help="Monte Carlo samples per grid point (sky130 mismatch models)")
    parser.add_argument("--workers", default=None, metavar="N", help=f"worker processes, 1..{MAX_WORKERS} (default: CPU count)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the sweep cache")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--out", required=True, metavar="FILE.npz")
    parser.add_argument("--json", action="store_true")
    add_timeout_options(parser, what="one operating point")
    parser.set_defaults(handler=cmd_sweep)


def parse_axis(text: str) -> tuple[str, list[float]]:
    """``NAME=START:STOP:STEP`` (inclusive of STOP within STEP/1000) or ``NAME=V1,V2,…``."""
    name, sep, spec = text.partition("=")
    if not sep or name not in QUANTITIES:
        raise UsageError(f"--sweep expects NAME=START:STOP:STEP or NAME=V1,V2 with NAME in {', '.join(QUANTITIES)}; got {text!r}")
    try:
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise UsageError(f"--sweep {name}: expected START:STOP:STEP, got {spec!r}")
            start, stop, step = (parse_number(p, f"--sweep {name}") for p in parts)
            if step <= 0 or stop < start:
                raise UsageError(f"--sweep {name}: need STEP > 0 and STOP >= START, got {spec!r}")
            count = int(np.floor((stop - start) / step + 1e-3)) + 1
            if count > MAX_POINTS:
                raise UsageError(f"--sweep {name}: {count} values exceed the limit of {MAX_POINTS}")
            values = [start + k * step for k in range(count)]
        else:
            values = [parse_number(v, f"--sweep {name}") for v in spec.split(",")]
    except ParameterError as exc:
        raise UsageError(str(exc)) from exc
    bound = BOUNDS[name]
    for value in values:
        if not bound.lo <= value <= bound.hi:
            raise UsageError(f"--sweep {name}: {value:g} is outside {bound.describe()} (the range of {name} "
                             "in every command)")  # fmt: skip
    return name, values


def _integer(text: str, option: str, low: int) -> int:
    try:
        value = parse_number(text, option)
    except ParameterError as exc:
        raise UsageError(str(exc)) from exc
    if value != int(value) or value < low:
        raise UsageError(f"{option} must be a whole number >= {low}, got {text!r}")
    return int(value)


def cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    from netlists.sweep import grid, mos_op_circuit, sweep

    out = check_output_file(args.out, "--out", (".npz",))
    check_output_file(os.fspath(out.with_suffix(".json")), "--out (its .json summary)", (".json",))
    axes = dict(parse_axis(text) for text in args.sweep or [])
    if not axes:
        raise UsageError("--sweep: give at least one axis, e.g. --sweep vgs_v=0.1:0.5:0.05")
    fixed: dict[str, float] = {}
    for text in args.set or []:
        name, values = parse_axis(text)
        if len(values) != 1 or name in axes:
            raise UsageError(f"--set {name}: one value, for a quantity that is not swept")
        fixed[name] = values[0]
    mc = _integer(args.mc, "--mc", 0)
    workers = None if args.workers is None else _integer(args.workers, "--workers", 1)
    if workers is not None and workers > MAX_WORKERS:
        raise UsageError(f"--workers must be a whole number in [1, {MAX_WORKERS}], got {args.workers!r}")
    if mc and (args.tech != "sky130" or args.model_file):
        raise UsageError(f"--mc needs a technology with mismatch models (sky130), got {tech_option_text(args)}")
    n_points = int(np.prod([len(v) for v in axes.values()])) * max(mc, 1)
    if n_points > MAX_POINTS:
        raise UsageError(f"--sweep: {n_points} points exceed the limit of {MAX_POINTS}")

    sign = 1.0 if args.device == "nmos" else -1.0
    polarity = args.device[0]
    defaults = {name: fixed.get(name, default) for name, (_, _, default) in QUANTITIES.items()}
    tech = technology_from_args(args, mismatch=bool(mc))
    sim = SimParams(timeout_s=args.point_timeout)  # the temperature is set per point
    circuit = mos_op_circuit(tech, polarity, w_m=defaults["w_m"], l_m=defaults["l_m"], sim=sim)
    table = grid(**axes)
    if mc:
        table = [{**row, "mc_seed": seed} for row in table for seed in range(1, mc + 1)]
    points = []
    for row in table:
        full = {**defaults, **row}
        point = {key: (sign * full[name] if signed else full[name]) for name, (key, signed, _) in QUANTITIES.items()}
        if "mc_seed" in row:
            point["mc_seed"] = row["mc_seed"]
        points.append(point)
    result = sweep(circuit, points, workers=workers, use_cache=not args.no_cache, quiet=args.quiet)
    id_a = np.abs(result["vam_m1#branch"]).reshape(len(points))
    arrays = {name: np.array([{**defaults, **row}[name] for row in table]) for name in QUANTITIES}
    if mc:
        arrays["mc_seed"] = np.array([row["mc_seed"] for row in table])
    arrays.update(id_a=id_a, ok=result.ok)
    summary = {
        "file": os.fspath(out),
        "json": os.fspath(out.with_suffix(".json")),
        "device": args.device,
        "tech": tech.label,
        "points": len(points),
        "swept": list(axes),
        "fixed": {name: value for name, value in defaults.items() if name not in axes} | {"mc": mc},
        "n_ok": int(result.ok.sum()),
        "n_cached": result.n_cached,
        "n_computed": result.n_computed,
        "elapsed_s": result.elapsed_s,
        "errors": [{"index": e.index, "kind": e.kind, "message": e.message} for e in result.errors],
    }
    if not summary["n_ok"]:
        first = summary["errors"][0] if summary["errors"] else {"kind": "?", "message": ""}
        raise CommandError(f"no point of the sweep could be simulated ({len(points)} failed; the first: "
                           f"{first['kind']}: {first['message']}); nothing written")  # fmt: skip
    text = dumps_strict(summary) + "\n"
    with StagedOutputs() as staged:  # both files, or neither
        with open(staged.file(out), "wb") as stream:  # a file object: np.savez would append ".npz" to a name
            np.savez(stream, **arrays)
        Path(staged.file(out.with_suffix(".json"))).write_text(text)
    return summary
