"""CLI commands ``logdomain ep gradcheck`` and ``logdomain ep train``: EP through energy-based analog blocks.

``ep gradcheck --seed S`` draws ``--circuits`` random SPICE blocks (sky130) and compares the EP gradient
(free and ±β nudged operating points through sweep workers) with central finite differences through
SPICE, for the conductances and the block inputs. ``ep train --data digits|wine`` trains a ff-EBM
(digital layers + ``--blocks`` energy-based blocks + readout) with EP and, from the same start, with
exact gradients (implicit differentiation of the behavioural block), and reports both test accuracies
and learning curves (``--out DIR``: report.md, learning_curves.png, summary.json).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._limits import add_timeout_options

__all__ = ["register", "cmd_gradcheck", "cmd_train"]

#: largest number of training samples with ``--backend spice`` (3 operating points per sample and epoch)
MAX_SPICE_SAMPLES = 400
#: largest number of SPICE operating points one ``ep train --backend spice`` may ask for (about 1-3 ms each on
#: a 2-core machine: minutes)
MAX_SPICE_POINTS = 100_000


def _integer(lo: int, hi: int, option: str):
    from ..errors import UsageError

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise UsageError(f"{option} must be an integer in [{lo}, {hi}], got {text!r}") from None
        if not lo <= value <= hi:
            raise UsageError(f"{option} must be an integer in [{lo}, {hi}], got {text!r}")
        return value

    return parse


def _real(lo: float, hi: float, option: str):
    import math

    from ..errors import UsageError

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{option} must be a number in [{lo:g}, {hi:g}], got {text!r}") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise UsageError(f"{option} must be a number in [{lo:g}, {hi:g}], got {text!r}")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ep gradcheck`` and ``ep train`` to the ``logdomain`` parser."""
    ep = subparsers.add_parser("ep", help="equilibrium propagation through energy-based analog blocks (ff-EBM)")
    sub = ep.add_subparsers(dest="ep_command", required=True, parser_class=subparsers._parser_class)
    check = sub.add_parser("gradcheck", help="EP gradients vs finite differences, both through SPICE (sky130)")
    check.add_argument("--seed", type=_integer(0, 2**31 - 100, "--seed"), default=0, help="first circuit's seed (default 0)")
    check.add_argument("--circuits", type=_integer(1, 20, "--circuits"), default=3, help="random circuits, 1..20 (default 3)")
    check.add_argument("--workers", type=_integer(1, 64, "--workers"), default=min(2, os.cpu_count() or 1),
                       help="ngspice sweep workers, 1..64 (default min(2, CPUs))")
    check.add_argument("--json", action="store_true")
    add_timeout_options(check)
    # gradcheck always simulates: its mode (logdomain.cli._modes.APPLIES) is the SPICE backend
    check.set_defaults(handler=cmd_gradcheck, backend="spice")

    train = sub.add_parser("train", help="ff-EBM on digits or wine: EP vs exact-gradient baseline")
    train.add_argument("--data", required=True, choices=["digits", "wine"], help="scikit-learn's bundled data set")
    train.add_argument("--blocks", type=_integer(1, 2, "--blocks"), default=1, help="energy-based blocks, 1 or 2 (default 1)")
    train.add_argument("--backend", choices=["behavioural", "spice"], default="behavioural",
                       help="blocks for the EP run: fitted behavioural model (default) or SPICE (sky130)")
    train.add_argument("--subset", type=_integer(20, 1797, "--subset"), help="use this many samples (stratified), 20..1797")
    train.add_argument("--epochs", type=_integer(1, 200, "--epochs"), help="passes over the training set, 1..200 "
                       "(default 20 behavioural, 10 spice)")
    train.add_argument("--batch-size", type=_integer(1, 1024, "--batch-size"), default=32, help="samples per update (default 32)")
    train.add_argument("--lr", type=_real(1e-5, 1.0, "--lr"), default=0.01, help="Adam step size, 1e-05..1 (default 0.01)")
    train.add_argument("--hidden", type=_integer(1, 64, "--hidden"), help="inputs of each block (default 16 digits, 8 wine)")
    train.add_argument("--block-out", type=_integer(1, 32, "--block-out"), help="outputs of each block (default 12 digits, 6 wine)")
    train.add_argument("--seed", type=_integer(0, 2**31 - 1, "--seed"), default=0, help="initialisation, split and order (default 0)")
    train.add_argument("--workers", type=_integer(1, 64, "--workers"), default=min(2, os.cpu_count() or 1),
                       help="ngspice sweep workers with --backend spice, 1..64 (default min(2, CPUs))")
    train.add_argument("--out", metavar="DIR", help="write report.md, learning_curves.png, summary.json here")
    train.add_argument("--json", action="store_true")
    add_timeout_options(train)
    train.set_defaults(handler=cmd_train)


def cmd_gradcheck(args: argparse.Namespace) -> dict[str, Any]:
    """Gradient check on ``--circuits`` random SPICE blocks; JSON with ``circuits`` (each with ``cosine_weights``,
    ``cosine_inputs``, ``magnitude_rel_error``)."""
    from netlists import get_technology
    from netlists.sweep import sweep_executor

    from ..errors import CommandError
    from ..ep.gradcheck import spice_gradcheck

    tech = get_technology("sky130")
    ok, detail = tech.available()
    if not ok:
        raise CommandError(f"sky130 models unavailable: {detail}")
    with sweep_executor(args.workers) as pool:
        result = spice_gradcheck(tech, args.seed, n_circuits=args.circuits, executor=pool,
                                 point_timeout_s=args.point_timeout)
    worst = result["circuits"]
    result["min_cosine_weights"] = min(c["cosine_weights"] for c in worst)
    result["min_cosine_inputs"] = min(c["cosine_inputs"] for c in worst)
    result["max_magnitude_rel_error"] = max(c["magnitude_rel_error"] for c in worst)
    return result


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """EP-trained ff-EBM vs the exact-gradient baseline; JSON with ``test_accuracy``, ``baseline_test_accuracy``,
    ``blocks`` and the learning curves."""
    from contextlib import ExitStack

    from netlists import get_technology
    from netlists.ebm_block import EbmBlockParams
    from netlists.sweep import sweep_executor

    from .._validate import check_output_folder
    from ..errors import CommandError, UsageError
    from ..ep.ffebm import FfEbmConfig, load_dataset
    from ..ep.report import write_ep_report
    from ..ep.run import compare_training

    out = check_output_folder(args.out, "--out") if args.out is not None else None
    spice = args.backend == "spice"
    digits = args.data == "digits"
    if args.subset is not None and not digits and args.subset > 178:
        raise UsageError(f"--subset must be at most 178 for --data wine (its size), got {args.subset}")
    epochs = args.epochs if args.epochs is not None else (10 if spice else 20)
    config = FfEbmConfig(n_blocks=args.blocks, hidden=args.hidden or (16 if digits else 8),
                         block_out=args.block_out or (12 if digits else 6), epochs=epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    data = load_dataset(args.data, seed=args.seed, subset=args.subset)
    n_train = len(data["y_train"])
    if spice and n_train > MAX_SPICE_SAMPLES:
        raise UsageError(f"--backend spice trains on at most {MAX_SPICE_SAMPLES} samples (3 operating points per sample "
                         f"and epoch per block); {n_train} training samples: use --subset {int(MAX_SPICE_SAMPLES / 0.75)} or less")
    points = epochs * config.n_blocks * (3 * n_train + n_train + len(data["y_test"]))
    if spice and points > MAX_SPICE_POINTS:
        raise UsageError(f"--backend spice would simulate about {points} operating points (limit {MAX_SPICE_POINTS}); "
                         "use fewer --epochs or a smaller --subset")
    tech = get_technology("sky130")
    ok, detail = tech.available()
    if not ok:
        raise CommandError(f"sky130 models unavailable: {detail}")
    block = EbmBlockParams()
    def progress(run: str, epoch: int, row: dict) -> None:  # on a terminal only (logs go to stderr)
        print(f"logdomain ep train: {run} epoch {epoch}/{epochs}: train loss {row['train_loss']:.4f}, "
              f"test accuracy {100 * row['test_accuracy']:.1f} %", file=sys.stderr, flush=True)

    with ExitStack() as stack:
        pool = stack.enter_context(sweep_executor(args.workers)) if spice else None
        result = compare_training(data, config, tech=tech, backend=args.backend, executor=pool, block_params=block,
                                  point_timeout_s=args.point_timeout if spice else None,
                                  progress=progress if sys.stderr.isatty() else None)
    result["data"] = args.data
    if out is not None:
        result["report"] = str(write_ep_report(result, out))
    return result
