"""CLI commands ``logdomain train`` and ``logdomain compare`` (DESIGN.md §7).

``train --model ideal|continuous|analog|spice`` runs one learner and reports its weights (in
feature order) and train/test MSE in the data's units (the learner runs on max-abs scaled data;
``weights_scaled``, ``*_mse_scaled`` and ``scaling`` give the scaled problem and the factors,
:mod:`logdomain.scaling`); ``compare`` runs ideal vs analog over many dies and writes a
report folder (``summary.json``, ``report.md``, PNGs). Bad input exits 2 with one line naming the
option; a missing default calibration or an unavailable learner exits 1 with a clear message.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
from typing import Any

import numpy as np

from ._limits import add_timeout_options
from ._temperature import add_temperature_option, model_at_temperature
from ._progress import progress_bar
from ._tech import add_tech_argument, tech_option_text, technology_from_args
from ._checks import (MAX_UPDATES, SIGNAL_LIMIT, check_evaluation_rows, check_ideal_converged, check_learnable,
                            check_learner_technology, check_model_range, check_predictions_vary, check_signal_range,
                            check_spice_samples, check_work, data_option)
from .._validate import MAX_CALIBRATION_BYTES, check_csv_file, check_input_file, check_output_folder
from ..scaling import MaxAbsScaling, scaling_summary
from ..tasks import TASK_NAMES, Task, get_task, load_csv, shuffle_training_rows

__all__ = ["register", "cmd_train", "cmd_compare"]

MODELS = ("ideal", "continuous", "analog", "spice")
DEFAULT_TASK = "diabetes"
#: default --point-timeout of the transistor-level learner's transient, s
SPICE_POINT_TIMEOUT_S = 1800.0


# ------------------------------------------------------------------------- argument types


def _number(low: float, *, closed: bool, high: float = math.inf, high_closed: bool = True):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = math.isfinite(value) and (value >= low if closed else value > low)
        ok = ok and (value <= high if high_closed else value < high)
        if not ok:
            lo, hi = "[" if closed else "(", "]" if high_closed else ")"
            raise argparse.ArgumentTypeError(f"must be in {lo}{low:g}, {high:g}{hi}, got {text!r}")
        return value

    return parse


def _integer(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            rule = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise argparse.ArgumentTypeError(f"must be an integer {rule}, got {text!r}")
        return value

    return parse


def _common(parser: argparse.ArgumentParser, *, epochs: int = 5) -> None:
    data = parser.add_argument_group("data (one of)")
    data.add_argument("--data", metavar="FILE.csv", help="CSV with a header row (needs --target)")
    data.add_argument("--target", metavar="COLUMN", help="target column of --data")
    data.add_argument("--task", choices=TASK_NAMES, help=f"built-in task (default {DEFAULT_TASK})")
    parser.add_argument("--intercept", action="store_true", help="append a constant-1 feature (CSV data)")
    parser.add_argument("--eta", type=_number(0, closed=False), default=0.05, help="η = T_s/τ > 0 (default 0.05)")
    parser.add_argument("--lam", type=_number(0, closed=True), default=1e-3, help="weight decay λ >= 0 (default 1e-3)")
    parser.add_argument("--epochs", type=_integer(1, MAX_UPDATES), default=epochs,
                        help=f"passes over the data, 1..{MAX_UPDATES} and epochs × rows <= {MAX_UPDATES} (default {epochs})")
    parser.add_argument("--bits", type=_integer(1, 32), default=8, help="analog resolution of inputs, targets, read-out (default 8)")
    parser.add_argument("--seed", type=_integer(0), default=0, help="seed of the split and the dies (default 0)")
    parser.add_argument("--calibration", metavar="FILE", help="calibration JSON (default: the shipped one)")
    parser.add_argument("--test-fraction", type=_number(0, closed=True, high=1, high_closed=False), default=0.25,
                        help="held-out fraction in [0, 1) (default 0.25)")  # fmt: skip
    parser.add_argument("--substeps", type=_integer(1, 1000), default=4, help="analog substeps per hold (default 4)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    add_temperature_option(parser)


def _row_options(parser: argparse.ArgumentParser, *, no_scale_note: str) -> None:
    """``--shuffle`` and ``--no-scale`` (train and compare; not montecarlo)."""
    limit = f"[{-SIGNAL_LIMIT:g}, {SIGNAL_LIMIT:g}]"
    parser.add_argument("--shuffle", action="store_true",
                        help="train on the training rows in one fixed random order drawn from --seed, the same "
                             "order in every epoch (default: file order)")
    parser.add_argument("--no-scale", action="store_true",
                        help="use the data as given, without dividing each column by its training max |value|; "
                             + no_scale_note.format(limit=limit))  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train`` and ``compare`` to the ``logdomain`` parser."""
    train = subparsers.add_parser("train", help="train one learner and report weights and MSE")
    train.add_argument("--model", choices=MODELS, default="ideal", help="learner (default ideal)")
    _common(train)
    _row_options(train, no_scale_note="then weights_scaled = weights; --model analog and spice need every training "
                                      "value in {limit}, ideal and continuous take any")
    train.add_argument("--dies", type=_integer(1, 100000), default=1, help="analog dies (default 1)")
    add_tech_argument(train, default="sky130", help="technology of --model spice (default sky130); or --model-file")
    train.add_argument("--corner", default="tt", choices=("tt", "ss", "ff", "sf", "fs"), help="sky130 corner for --model spice")
    add_timeout_options(train, point_default_s=SPICE_POINT_TIMEOUT_S, what="the transient of --model spice")
    train.set_defaults(handler=cmd_train)

    compare = subparsers.add_parser("compare", help="analog vs ideal over many dies; writes a report")
    _common(compare)
    _row_options(compare, no_scale_note="the analog learner needs every training value in {limit}")
    compare.add_argument("--dies", type=_integer(1, 100000), default=32, help="dies (default 32)")
    compare.add_argument("--out", metavar="DIR", default="report", help="report folder (default report/)")
    compare.add_argument("--quick", action="store_true", help="few dies and small sweeps (smoke test)")
    compare.add_argument("--against", choices=("ideal", "spice"), default="ideal",
                         help="ideal: analog vs ideal over dies (default); spice: behavioural vs transistor-level learner")
    spice = compare.add_argument_group("--against spice (logdomain.fidelity)")
    add_tech_argument(spice, default="sky130",
                      help="technology of the SPICE learner; must be the calibration's (default sky130); or --model-file")
    spice.add_argument("--corner", default=None, choices=("tt", "ss", "ff", "sf", "fs"),
                       help="sky130 corner; must be the calibration's (default: the calibration's)")
    spice.add_argument("--dim", type=_integer(1, 8), default=4, help="inputs of the synthetic stream, 1..8 (default 4)")
    spice.add_argument("--samples", type=_integer(1, 5000), default=400,
                       help="streamed samples, 1..5000 (default 400: t/τ = η·samples = 20 at η = 0.05)")
    spice.add_argument("--mismatch", action="store_true",
                       help="also N mismatch dies: SPICE (the PDK's, seeds seed+1…) beside the model's (needs --dies)")
    spice.add_argument("--workers", type=_integer(1, 64), default=None, help="ngspice workers for the dies (default: CPUs)")
    add_timeout_options(compare, point_default_s=SPICE_POINT_TIMEOUT_S, what="each transient of --against spice")
    compare.set_defaults(handler=cmd_compare)


# ------------------------------------------------------------------------------ helpers


def _task(args: argparse.Namespace) -> Task:
    """The data of ``--data``/``--task``: split, max-abs scaled unless ``--no-scale``, training rows
    permuted once with ``--shuffle``."""
    from ..errors import UsageError

    scale = not getattr(args, "no_scale", False)

    if args.data is not None and args.task is not None:
        raise UsageError("--data and --task are mutually exclusive; give one")
    if args.target is not None and args.data is None:
        raise UsageError("--target needs --data FILE.csv")
    if args.data is not None:
        if args.target is None:
            raise UsageError("--data needs --target COLUMN")
        check_csv_file(args.data, "--data")
        try:
            task = load_csv(args.data, args.target, intercept=args.intercept,
                            test_fraction=args.test_fraction, seed=args.seed, scale=scale)  # fmt: skip
        except FileNotFoundError:
            raise UsageError(f"--data: file {args.data!r} does not exist") from None
        except (ValueError, OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UsageError(f"--data: {exc}") from None
    else:
        name = args.task or DEFAULT_TASK
        kw: dict[str, Any] = {"test_fraction": args.test_fraction, "seed": args.seed, "scale": scale}
        if args.intercept:
            if name != "diabetes":  # diabetes appends its intercept already
                raise UsageError(f"--intercept: task {name!r} has no intercept option")
        try:
            task = get_task(name, **kw)
        except ValueError as exc:
            raise UsageError(f"--task {name}: {exc}") from None
    return shuffle_training_rows(task, args.seed) if getattr(args, "shuffle", False) else task


def _calibration(args: argparse.Namespace):
    from calibration.schema import CalibrationError, default_calibration_path, load_calibration

    from ..errors import CommandError, UsageError

    if args.calibration is not None:
        check_input_file(args.calibration, "--calibration", max_bytes=MAX_CALIBRATION_BYTES)
        try:
            return load_calibration(args.calibration)
        except CalibrationError as exc:
            raise UsageError(f"--calibration: {exc}") from None
    path = default_calibration_path()
    if not path.exists():
        raise CommandError(f"the default calibration {path} does not exist yet (it is made by "
                      "`logdomain calibrate`); pass --calibration FILE")  # fmt: skip
    try:
        return load_calibration(path)
    except CalibrationError as exc:
        raise CommandError(f"the default calibration is invalid: {exc}") from None


def _mse(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float | None:
    return float(np.mean((x @ w - y) ** 2)) if len(y) else None


def _results(task: Task, w: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """Weights and MSEs of the scaled-problem weights ``w`` (D,), in the data's units and scaled.

    ``weights = weights_scaled · y_scale / x_scale`` (target units per feature unit) and
    ``*_mse = *_mse_scaled · y_scale²`` (target units squared), :mod:`logdomain.scaling`; with
    ``--no-scale`` every factor is 1 and both agree.
    """
    scaling = task.scaling or MaxAbsScaling.identity(task.n_features)
    train, test = _mse(task.x_train, task.y_train, w), _mse(task.x_test, task.y_test, w)
    return {"weights": scaling.weights_to_data(w).tolist(), "train_mse": scaling.mse_to_data(train),
            "test_mse": scaling.mse_to_data(test), "weights_scaled": [float(v) for v in w], "train_mse_scaled": train,
            "test_mse_scaled": test, "scaling": scaling_summary(task.scaling, task.feature_names),
            "shuffle": bool(args.shuffle)}  # fmt: skip


# ----------------------------------------------------------------------------- handlers


def _train_spice(args: argparse.Namespace, task) -> dict[str, Any]:
    """The transistor-level learner (one pass, rows in order) on the task's training rows."""
    from netlists import Simulator
    from netlists.spice_learner_circuit import MAX_DIM

    from ..errors import UsageError
    from ..spice_learner import compare_spice_learner

    tech = technology_from_args(args)
    check_learner_technology(tech)
    if args.no_scale:
        check_signal_range(task, "--model spice")
    if task.n_features > MAX_DIM:
        raise UsageError(f"--model spice: the learner has at most {MAX_DIM} inputs; task {task.name!r} has {task.n_features}")
    if not len(task.y_test):
        raise UsageError("--test-fraction: --model spice needs held-out rows (> 0) to compare predictions")
    check_evaluation_rows(task, data_option(args))
    check_spice_samples(args.epochs, len(task.y_train))
    x, y = task.x_train, task.y_train
    # `epochs` passes in order = the rows streamed `epochs` times, one hold each
    stream = dataclasses.replace(task, x_train=np.tile(x, (args.epochs, 1)), y_train=np.tile(y, args.epochs))
    with Simulator(timeout_s=args.point_timeout) as simulator:
        r = compare_spice_learner(tech, stream, eta=args.eta, lam=args.lam,
                                  simulator=simulator)  # fmt: skip
    return {
        "model": "spice", "task": task.name, "features": list(task.feature_names), "eta": args.eta, "lam": args.lam,
        "epochs": args.epochs, "n_train": int(len(y)), "n_test": int(len(task.y_test)),
        **_results(task, np.asarray(r.weights, dtype=np.float64), args), "nmse_vs_ideal": r.nmse_vs_ideal, "weight_nmse": r.weight_nmse, "runtime_s": r.run.runtime_s,
        "tech": r.run.netlist.technology.label, "regions_ok": r.run.regions_ok,
    }  # fmt: skip


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """One learner on one task; returns weights, train/test MSE (data units and scaled, see
    :func:`_results`), the scaling and the settings. ``nmse_vs_ideal`` is scale-free;
    ``weight_nmse`` compares the scaled weights (each feature weighted by its signal range)."""
    from ..compare import evaluate
    from ..learner_sim import sgdr_learner
    from ..errors import CommandError
    from ..ideal import sgdr_continuous_zoh, sgdr_discrete

    task = _task(args)
    source = data_option(args)
    check_learnable(task, source)
    if args.model == "spice":
        return _train_spice(args, task)
    analog = args.model == "analog"
    check_work(task, epochs=args.epochs, dies=args.dies, substeps=args.substeps, analog=analog)
    if analog:
        check_model_range(args.eta, args.lam)
        if args.no_scale:
            check_signal_range(task, "--model analog")
    if args.model != "ideal":  # these report nmse_vs_ideal
        check_evaluation_rows(task, source)
    cal = _calibration(args) if analog else None
    x, y = task.x_train, task.y_train
    out: dict[str, Any] = {"model": args.model, "task": task.name, "features": list(task.feature_names),
                           "eta": args.eta, "lam": args.lam, "epochs": args.epochs,
                           "n_train": int(len(y)), "n_test": int(len(task.y_test))}  # fmt: skip
    with np.errstate(over="ignore", invalid="ignore"):  # a divergent run is detected and named below
        w_ideal = sgdr_discrete(x, y, args.eta, args.lam, epochs=args.epochs)
    check_ideal_converged(w_ideal, task, eta=args.eta, lam=args.lam)
    if args.model != "ideal":
        check_predictions_vary(w_ideal, task, source)
    if args.model == "ideal":
        w = w_ideal
    elif args.model == "continuous":
        w = sgdr_continuous_zoh(x, y, 1.0, args.eta, args.lam, epochs=args.epochs)
    else:
        model, temperature = model_at_temperature(_analog_model(cal, bits=args.bits), args.temp_c)
        out["temperature"] = temperature
        run = sgdr_learner(x, y, model, args.eta, args.lam, epochs=args.epochs, dies=args.dies,
                           seed=args.seed, substeps=args.substeps)  # fmt: skip
        w = np.median(run.weights, axis=0)  # effective weights read through the prediction path
        out.update(bits=args.bits, dies=args.dies, calibration=cal.provenance.command or "given")
        if args.dies > 1:
            out["weights_dies"] = (task.scaling.weights_to_data(run.weights) if task.scaling else run.weights).tolist()
            out["weights_dies_scaled"] = run.weights.tolist()
    out.update(_results(task, w, args))
    if args.model != "ideal" and np.any(w_ideal != 0):
        try:
            x_eval = task.x_test if len(task.y_test) else task.x_train
            metrics = evaluate(task, (x_eval @ w)[None, :], w_ideal, w[None, :])
        except ValueError as exc:  # e.g. non-finite analog weights
            raise CommandError(f"--model {args.model}: the comparison with the ideal learner failed: {exc}") from None
        out.update(nmse_vs_ideal=float(np.squeeze(metrics["nmse_vs_ideal"])), weight_nmse=float(np.squeeze(metrics["weight_nmse"])))
    return out


def _analog_model(cal, **kw: Any):
    """The behavioural model of a calibration's learner; a calibration the model refuses is bad input."""
    from ..errors import UsageError
    from ..learner_model import LearnerModel

    try:
        return LearnerModel.from_calibration(cal, **kw)
    except ValueError as exc:
        raise UsageError(f"--calibration: {exc}") from None


def cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    """Ideal vs analog with the calibration; writes the report folder and returns its summary.

    With ``--against spice``: the behavioural learner against the transistor-level one
    (:func:`logdomain.fidelity.compare_against_spice`) on a synthetic stream of ``--dim`` inputs,
    ``--samples`` rows, ``--seed``; returns ``spice_vs_behavioural_nmse``, ``speedup`` and the
    ``nmse_vs_ideal`` of each (no report folder).
    """
    from dataclasses import asdict

    if getattr(args, "against", "ideal") == "spice":
        return _compare_spice(args)

    from .._validate import NonFiniteResult
    from ..compare import CompareConfig, run_compare
    from ..errors import CommandError
    from ..ideal import sgdr_discrete
    from ..report import write_report

    out_dir = check_output_folder(args.out, "--out")
    task = _task(args)
    source = data_option(args)
    check_learnable(task, source)
    check_evaluation_rows(task, source)
    cal = _calibration(args)
    settings: dict[str, Any] = dict(eta=args.eta, lam=args.lam, epochs=args.epochs, bits=args.bits,
                                    dies=args.dies, seed=args.seed, substeps=args.substeps)  # fmt: skip
    if args.quick:
        settings.update(dies=min(args.dies, 4), epochs=min(args.epochs, 2), substeps=min(args.substeps, 2),
                        bits_grid=(4, 8, 12), eta_grid=(0.02, 0.1), lam_grid=(0.0, 1e-2), curve_points=20)  # fmt: skip
    check_work(task, epochs=settings["epochs"], dies=settings["dies"], substeps=settings["substeps"], analog=True)
    check_model_range(args.eta, args.lam)
    if args.no_scale:
        check_signal_range(task, "compare (the analog learner)")
    config = CompareConfig(**settings)
    model, temperature = model_at_temperature(_analog_model(cal), args.temp_c)
    with np.errstate(over="ignore", invalid="ignore"):  # a divergent run is detected and named below
        w_ideal = sgdr_discrete(task.x_train, task.y_train, config.eta, config.lam, epochs=config.epochs)
    check_ideal_converged(w_ideal, task, eta=config.eta, lam=config.lam)
    check_predictions_vary(w_ideal, task, source)
    try:
        with progress_bar("logdomain compare", unit="run") as progress:
            result = run_compare(task, model, config, progress=progress)
    except ValueError as exc:  # a metric of a run that failed (e.g. non-finite analog weights)
        raise CommandError(f"compare: the comparison failed: {exc}") from None
    result.summary["calibration"] = asdict(cal.provenance)
    result.summary["temperature"] = temperature
    try:
        write_report(result, out_dir)
    except NonFiniteResult as exc:
        raise CommandError(f"compare: the run failed, nothing written: {exc}") from None
    except OSError as exc:
        raise CommandError(f"--out: cannot write the report to {str(out_dir)!r}: {exc.strerror or exc}") from None
    return result.summary


def _compare_spice(args: argparse.Namespace) -> dict[str, Any]:
    """The behavioural model of the calibration's learner against that learner in SPICE (issue 11).

    The SPICE learner is the calibration's ``learner.design`` (the circuit the model was fitted to),
    so ``--tech``/``--corner`` must name the calibration's technology; ``--mismatch --dies N`` adds N
    SPICE dies (seeds seed+1 … seed+N) beside N dies of the model.
    """
    from netlists import SimParams, Simulator, get_technology
    from netlists.spice_learner_circuit import LearnerParams

    from ..errors import UsageError
    from ..fidelity import compare_against_spice
    from ..spice_learner import learner_task

    dies = args.dies if "dies" in getattr(args, "given", ()) else None
    if args.mismatch and not dies:
        raise UsageError("--mismatch needs --dies N (the number of dies to simulate in SPICE and in the model)")
    if dies and not args.mismatch:
        raise UsageError("--dies with --against spice needs --mismatch (dies are mismatch samples)")
    cal = _calibration(args)
    prov = cal.provenance
    corner = args.corner or (prov.corner if prov.technology == "sky130" else "tt")
    if args.mismatch and (args.tech != "sky130" or args.model_file):
        raise UsageError(f"--mismatch needs --tech sky130 (the only technology with mismatch models), got {tech_option_text(args)}")
    tech = technology_from_args(args, corner=corner)
    # a model file is the calibration's when its name, model names and content hash are (Technology.identity)
    if tech.identity != prov.technology or (tech.name == "sky130" and corner != prov.corner):
        where = f"{prov.technology}" + (f" {prov.corner}" if prov.technology == "sky130" else "")
        chosen = tech_option_text(args) + (f" --corner {corner}" if tech.name == "sky130" else "")
        again = (f"--model-file {args.model_file} --nmos {args.nmos} --pmos {args.pmos}" if args.model_file
                 else f"--tech {args.tech}")  # fmt: skip
        raise UsageError(f"{chosen}: the calibration is for {where}, this is {tech.identity}; calibrate that learner "
                         f"first (logdomain calibrate {again} --out F.json) and pass --calibration F.json")  # fmt: skip
    check_learner_technology(tech)
    # --temp-c: the SPICE learner runs at that temperature, the model follows its λ_o(T) law (exit 2 outside it)
    model, temperature = model_at_temperature(_analog_model(cal), args.temp_c)
    params = LearnerParams(**cal.learner.design).replace(dim=args.dim)
    sim = SimParams(reltol=1e-4, timeout_s=args.point_timeout, temp_c=temperature["temp_c"])
    mm = get_technology("sky130", corner=corner, mismatch=True) if args.mismatch else None
    task = learner_task(args.dim, args.samples, seed=args.seed)
    print(f"logdomain compare: SPICE learner ({tech.label}, dim {args.dim}, {args.samples} samples"
          f"{f', {dies} mismatch dies' if dies else ''}) vs its behavioural model ...", file=sys.stderr)  # fmt: skip
    with Simulator(sim) as simulator:
        result = compare_against_spice(tech, task, model, params, samples=args.samples, eta=args.eta, lam=args.lam,
                                       dies=dies or 0, seed=args.seed, mismatch_tech=mm, sim=sim, simulator=simulator,
                                       workers=args.workers)  # fmt: skip
    out = result.as_dict()
    out["temperature"] = temperature
    out["calibration"] = {"technology": prov.technology, "corner": prov.corner, "created": prov.created,
                          "eta_design": getattr(cal.learner, "eta_design", None)}
    return out
