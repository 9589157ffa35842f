"""CLI command ``logdomain study asymmetry``: floors of analog SGD and Tiki-Taka against the update asymmetry.

Runs :func:`logdomain.asymmetry_study.run_asymmetry_study` (behavioural, numpy; no SPICE) on the
soft-bounds reference device and on the log-domain pair whose common mode and λ come from the
calibration (``--calibration``, default the shipped one), and adds the pair's asymmetry measured
from that calibration's mismatch (``measured``). ``--plots DIR`` writes ``asymmetry_floors.png``
(log scale). JSON keys: ``asymmetry``, ``reference`` and ``logdomain`` (each ``sgd``, ``tiki_taka``,
``sgd_theory`` … in the order of ``asymmetry``), ``settings``, ``measured``, ``runtime_s``; with
``--measured``, ``measured_response``: the same algorithms on the SPICE-measured pairs (nominal and four
mismatch pairs of sky130 tt) as table devices, at max|w*| = 0.4 (both halves in their law's band) and 1.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from typing import Any

from ._limits import add_timeout_options
from .train import _analog_model, _calibration, _integer, _number

__all__ = ["register", "cmd_study"]

STUDIES = ("asymmetry",)
#: most asymmetry points of one study
MAX_POINTS = 21
#: largest points × seeds × samples × weights (× substeps) of a study: the five runs take ~200 s per 10⁹
#: (measured: the default 5.4e7 in 11 s on 2 cores)
MAX_WORK = 2_000_000_000


def _asymmetries(text: str) -> tuple[float, ...]:
    parts = [p for p in text.split(",")]
    values = []
    for part in parts:
        try:
            v = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers in [0, 0.9], got {text!r}") from None
        if not math.isfinite(v) or not 0.0 <= v <= 0.9:
            raise argparse.ArgumentTypeError(f"every value must be in [0, 0.9], got {part!r}")
        values.append(v)
    if not 1 <= len(values) <= MAX_POINTS:
        raise argparse.ArgumentTypeError(f"expected 1..{MAX_POINTS} values, got {len(values)}")
    return tuple(values)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``study`` to the ``logdomain`` parser."""
    study = subparsers.add_parser("study", help="behavioural studies: SGD and Tiki-Taka floors vs update asymmetry")
    study.add_argument("study", choices=STUDIES, help="which study")
    study.add_argument("--asymmetry", type=_asymmetries, default=None, metavar="A1,A2,…",
                       help="asymmetry points |G/F| in [0, 0.9] (default 0,0.05,0.1,0.2,0.3,0.4,0.5)")
    study.add_argument("--eta", type=_number(0, closed=False, high=0.5), default=0.005,
                       help="SGD step (discrete) or hold T_s/τ (continuous), (0, 0.5] (default 0.005)")
    study.add_argument("--time", choices=("discrete", "continuous"), default="discrete", help="time model (default discrete)")
    study.add_argument("--substeps", type=_integer(1, 100), default=None,
                       help="Heun steps per hold, 1..100, with --time continuous (default 2)")
    study.add_argument("--dim", type=_integer(1, 64), default=4, help="weights, 1..64 (default 4)")
    study.add_argument("--noise", type=_number(0, closed=True, high=10), default=0.5, help="target noise σ, [0, 10] (default 0.5)")
    study.add_argument("--read-noise", type=_number(0, closed=True, high=10), default=0.0,
                       help="noise σ_r on every weight read, [0, 10] (default 0)")
    study.add_argument("--steps", type=_integer(100, 10_000_000), default=60_000, help="samples per run (default 60000)")
    study.add_argument("--seeds", type=_integer(1, 10_000), default=32, help="seeds (sample streams) per point (default 32)")
    study.add_argument("--seed", type=_integer(0), default=0, help="seed of the streams (default 0)")
    study.add_argument("--calibration", metavar="FILE", help="calibration JSON for the log-domain pair (default: the shipped one)")
    study.add_argument("--measured", action="store_true",
                       help="also run SGD and Tiki-Taka on the SPICE-measured sky130 pair responses "
                            "(calibration/data/cell_update_response_sky130_tt.json; about doubles the run time)")
    study.add_argument("--plots", metavar="DIR", help="write asymmetry_floors.png (log scale) to DIR")
    study.add_argument("--json", action="store_true", help="JSON on stdout")
    add_timeout_options(study, point=False)
    study.set_defaults(handler=cmd_study)


def cmd_study(args: argparse.Namespace) -> dict[str, Any]:
    """Run the study named by ``args.study``; returns its JSON-able result."""
    from pathlib import Path

    from .._io import StagedOutputs
    from .._validate import check_output_folder
    from ..asymmetry import FloorProblem, LogDomainPair
    from ..asymmetry_study import ASYMMETRIES, StudyConfig, asymmetry_figure, measured_pair_asymmetry, run_asymmetry_study
    from ..errors import UsageError

    given = getattr(args, "given", set())
    if args.time == "discrete" and "substeps" in given:
        raise UsageError("--substeps applies to --time continuous only")
    plots = check_output_folder(args.plots, "--plots") if args.plots else None
    asym = args.asymmetry or ASYMMETRIES
    work = len(asym) * args.seeds * args.steps * args.dim * (args.substeps or 2 if args.time == "continuous" else 1)
    if work > MAX_WORK:
        raise UsageError(f"--steps × --seeds × --dim × points (× --substeps) is {work:.3g}; the limit is {MAX_WORK:.3g}")
    if args.eta * (args.dim + 2) >= 2:
        raise UsageError(f"--eta × (--dim + 2) must be < 2 (SGD is unstable beyond), got {args.eta:g} × {args.dim + 2}")
    calibration = _calibration(args)
    _analog_model(calibration)  # a calibration the learner model refuses is bad input (exit 2, named)
    try:
        pair = LogDomainPair.from_calibration(calibration)
    except (ValueError, KeyError) as exc:
        raise UsageError(f"--calibration: {exc}") from None
    problem = FloorProblem(dim=args.dim, noise_std=args.noise, read_noise_std=args.read_noise, steps=args.steps,
                           seeds=args.seeds, records=min(200, args.steps), seed=args.seed)  # fmt: skip
    substeps = 0 if args.time == "discrete" else (args.substeps or 2)
    measured = None
    if args.measured:
        from ..asymmetry_study import load_measured_response

        measured = load_measured_response()
    config = StudyConfig(asymmetry=tuple(asym), eta=args.eta, substeps=substeps, problem=problem, pair=pair, measured=measured)
    quiet = not sys.stderr.isatty()
    result = run_asymmetry_study(config, progress=None if quiet else (lambda m: print(f"logdomain study: {m}", file=sys.stderr)))
    from ..asymmetry_study import DRIFT_LIMIT

    for device in ("reference", "logdomain"):
        late = [algo for algo, ok in result[device]["converged"].items() if not ok]
        if late:
            warnings.warn(f"{device} {', '.join(late)}: the floor still drifts by more than {DRIFT_LIMIT:.0%} between the "
                          "last two quarters of the run (not asymptotic); use more --steps", RuntimeWarning, stacklevel=1)
    result["measured"] = {"logdomain_pair_mismatch": measured_pair_asymmetry(calibration, dim=args.dim, seed=args.seed),
                          "note": "|a| of the calibrated learner's weight pairs under the PDK's mismatch (update gains of "
                                  "the halves); cell_update_asymmetry: one cell's up/down relaxation rates (calibration blocks)"}  # fmt: skip
    if plots is not None:
        fig = asymmetry_figure(result)
        with StagedOutputs() as staged:
            folder = staged.folder(plots)
            fig.savefig(Path(folder) / "asymmetry_floors.png", dpi=120, format="png")
        result["plots"] = [os.fspath(Path(plots) / "asymmetry_floors.png")]
    return result
