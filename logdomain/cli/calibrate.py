"""``logdomain calibrate``: fit behavioural models from SPICE and write a calibration file.

The calibration file and the ``--plots`` PNGs are written together at the end, or not at all
(the ``--plots`` folder, parents too, is created then if missing). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path
from typing import Any

from netlists import ParameterError, SimParams, Simulator
from netlists.technologies import CORNERS

from .._io import StagedOutputs
from ._limits import add_timeout_options
from ._progress import progress_bar
from ._tech import add_tech_argument, technology_from_args
from .._validate import check_output_file, check_output_folder
from ..errors import CommandError, UsageError

__all__ = ["register", "cmd_calibrate"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("calibrate", help="fit EKV devices, blocks and mismatch from SPICE; write a calibration JSON")
    add_tech_argument(parser, default="sky130")
    parser.add_argument("--corner", default="tt", choices=CORNERS, help="sky130 process corner")
    parser.add_argument("--temp-c", default="27", help="temperature in °C, -55..150 (default 27)")
    parser.add_argument("--quick", action="store_true", help="coarse fit in well under a minute")
    parser.add_argument("--out", required=True, metavar="FILE.json")
    parser.add_argument("--plots", metavar="DIR", help="also write residual plots (PNG) to DIR")
    parser.add_argument("--json", action="store_true")
    add_timeout_options(parser, what="each ngspice run of the characterization")
    parser.set_defaults(handler=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> dict[str, Any]:
    from calibration.pipeline import calibrate, reference_parameters
    from calibration.schema import CalibrationError

    try:
        temp_c = SimParams(temp_c=args.temp_c).temp_c
    except ParameterError as exc:
        raise UsageError(f"--temp-c: {exc}") from exc
    out = check_output_file(args.out, "--out", (".json",))
    if args.plots:
        plots = check_output_folder(args.plots, "--plots")  # created at the end if missing
    tech = technology_from_args(args)  # a bad --model-file/--nmos/--pmos is refused before any run
    if args.model_file:  # the file's name, not its folder (the calibration may travel)
        chosen = [f"--model-file={Path(args.model_file).name}", f"--nmos={args.nmos}", f"--pmos={args.pmos}"]
    else:
        chosen = [f"--tech={args.tech}", *([f"--corner={args.corner}"] if args.tech == "sky130" else [])]  # others have no corner
    command = "logdomain calibrate " + " ".join(
        shlex.quote(part)
        for part in [*chosen, f"--temp-c={temp_c:g}", *(["--quick"] if args.quick else []), f"--out={out.name}"]
    )
    with Simulator(timeout_s=args.point_timeout) as simulator, progress_bar("logdomain calibrate") as progress:
        try:
            run = calibrate(tech, corner=args.corner, temp_c=temp_c, quick=args.quick, command=command,
                            simulator=simulator, progress=progress)  # fmt: skip
        except (CalibrationError, ValueError, ArithmeticError) as exc:  # a fit that failed or left the schema
            raise CommandError(f"calibration of {tech.label} at {temp_c:g} °C failed: {exc}") from exc
    with StagedOutputs() as staged:  # the file and its plots together, or nothing
        path = out
        Path(staged.file(out)).write_text(run.calibration.to_json())
        if args.plots:
            from calibration.plots import residual_plots

            folder = staged.folder(plots)
            result_plots = [plots / p.name for p in residual_plots(run, folder)]
    data = run.calibration.to_dict()
    result: dict[str, Any] = {
        "file": os.fspath(path),
        "parameters": {"devices": data["devices"], "blocks": data["blocks"], "mismatch": data["mismatch"]},
        "provenance": data["provenance"],
    }
    if args.plots:
        result["plots"] = [os.fspath(p) for p in result_plots]
    reference = reference_parameters(tech.identity)
    if reference is not None:
        result["reference"] = reference
    return result
