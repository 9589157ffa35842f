"""``logdomain calibrate``: fit behavioural models from SPICE and write a calibration file."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path
from typing import Any

from netlists import ParameterError, SimParams
from netlists.technologies import CORNERS, TECHNOLOGY_NAMES

__all__ = ["register", "cmd_calibrate"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("calibrate", help="fit EKV devices, blocks and mismatch from SPICE; write a calibration JSON")
    parser.add_argument("--tech", default="sky130", choices=TECHNOLOGY_NAMES)
    parser.add_argument("--corner", default="tt", choices=CORNERS, help="sky130 process corner")
    parser.add_argument("--temp-c", default="27", help="temperature in °C, -55..150 (default 27)")
    parser.add_argument("--quick", action="store_true", help="coarse fit in well under a minute")
    parser.add_argument("--out", required=True, metavar="FILE.json")
    parser.add_argument("--plots", metavar="DIR", help="also write residual plots (PNG) to DIR")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> dict[str, Any]:
    from logdomain.errors import UsageError

    from calibration.pipeline import calibrate, reference_parameters

    try:
        temp_c = SimParams(temp_c=args.temp_c).temp_c
    except ParameterError as exc:
        raise UsageError(f"--temp-c: {exc}") from exc
    out = Path(args.out)
    if out.suffix.lower() != ".json":
        raise UsageError(f"--out must name a .json file, got {args.out!r}")
    if not out.parent.exists():
        raise UsageError(f"--out: folder {str(out.parent)!r} does not exist")
    if args.plots and not Path(args.plots).is_dir():
        raise UsageError(f"--plots: {args.plots!r} is not a folder")
    command = "logdomain calibrate " + " ".join(
        shlex.quote(part)
        for part in [f"--tech={args.tech}", f"--corner={args.corner}", f"--temp-c={temp_c:g}", *(["--quick"] if args.quick else []), f"--out={out.name}"]
    )
    run = calibrate(args.tech, corner=args.corner, temp_c=temp_c, quick=args.quick, command=command)
    path = run.calibration.save(out)
    if args.plots:
        from calibration.plots import residual_plots

        result_plots = residual_plots(run, Path(args.plots))
    data = run.calibration.to_dict()
    result: dict[str, Any] = {
        "file": os.fspath(path),
        "parameters": {"devices": data["devices"], "blocks": data["blocks"], "mismatch": data["mismatch"]},
        "provenance": data["provenance"],
    }
    if args.plots:
        result["plots"] = [os.fspath(p) for p in result_plots]
    reference = reference_parameters(args.tech)
    if reference is not None:
        result["reference"] = reference
    return result
