"""CLI command ``logdomain montecarlo``: the headline comparison over 10⁵ dies and more.

Runs :func:`logdomain.montecarlo.run_monte_carlo` with the options of ``compare`` (task or CSV, η, λ,
epochs, bits, seed, substeps, calibration): in this process by default, on a local Dask cluster
with ``--dask-local N`` (N worker processes), or on a running Dask scheduler with ``--dask ADDRESS``.
The numbers do not depend on where the chunks run. Prints the percentiles of nmse_vs_ideal over the
dies (JSON with ``--json``); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

from .train import _analog_model, _calibration, _common, _integer, _task
from ._checks import check_evaluation_rows, check_learnable, check_model_range, check_work, data_option

__all__ = ["register", "cmd_montecarlo"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``montecarlo`` to the ``logdomain`` parser."""
    from ..learner_model import DIE_BLOCK
    from ..montecarlo import MAX_DIES

    mc = subparsers.add_parser("montecarlo", help="analog vs ideal over 1e5+ dies (headline only), in-process or on Dask")
    _common(mc)
    mc.add_argument("--dies", type=_integer(1, MAX_DIES), default=100_000, help=f"dies, 1..{MAX_DIES} (default 100000)")
    mc.add_argument("--chunk-dies", type=_integer(DIE_BLOCK, MAX_DIES), default=8192,
                    help=f"dies per chunk, a multiple of {DIE_BLOCK} (default 8192; results do not depend on it)")
    where = mc.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="ADDRESS", help="run the chunks on this Dask scheduler (e.g. tcp://host:8786)")
    where.add_argument("--dask-local", type=_integer(1, 256), metavar="N", help="start a local Dask cluster of N worker processes")
    mc.set_defaults(handler=cmd_montecarlo)


def cmd_montecarlo(args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate ``--dies`` dies; returns the summary (percentiles, ideal learner, timing)."""
    from tqdm import tqdm

    from ..compare import CompareConfig
    from ..errors import CommandError, UsageError
    from ..learner_model import DIE_BLOCK
    from ..montecarlo import run_monte_carlo

    if args.chunk_dies % DIE_BLOCK:
        raise UsageError(f"--chunk-dies must be a multiple of {DIE_BLOCK} (the dies of one random stream), got {args.chunk_dies}")
    task = _task(args)
    source = data_option(args)
    check_learnable(task, source)
    check_evaluation_rows(task, source)
    check_work(task, epochs=args.epochs, dies=min(args.dies, args.chunk_dies), substeps=args.substeps, analog=True)
    check_model_range(args.eta, args.lam)
    model = _analog_model(_calibration(args))
    config = CompareConfig(eta=args.eta, lam=args.lam, epochs=args.epochs, bits=args.bits, seed=args.seed, substeps=args.substeps)
    with ExitStack() as stack:
        executor = None
        if args.dask or args.dask_local:
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError as exc:
                raise CommandError(f"--dask needs dask.distributed ({exc}); pip install -e .[dask]") from None
            try:
                if args.dask_local:
                    cluster = stack.enter_context(LocalCluster(n_workers=args.dask_local, threads_per_worker=1,
                                                               processes=True, dashboard_address=None))  # fmt: skip
                    client = stack.enter_context(Client(cluster))
                else:
                    client = stack.enter_context(Client(args.dask, timeout="30s"))
            except (OSError, TimeoutError, ValueError) as exc:
                raise CommandError(f"--dask: cannot reach the Dask scheduler: {exc}") from None
            executor = client.get_executor()
        bar = stack.enter_context(tqdm(total=args.dies, unit="die", file=sys.stderr, desc="logdomain montecarlo",
                                       disable=not sys.stderr.isatty()))  # fmt: skip

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        result = run_monte_carlo(task, model, config, dies=args.dies, chunk_dies=args.chunk_dies, executor=executor,
                                 progress=progress)  # fmt: skip
    out = result.summary()
    out["where"] = f"dask {args.dask}" if args.dask else (f"local dask cluster, {args.dask_local} workers" if args.dask_local else "in-process")
    out["config"] = {"eta": args.eta, "lam": args.lam, "epochs": args.epochs, "bits": args.bits, "seed": args.seed,
                     "substeps": args.substeps, "task": args.task or ("csv" if args.data else "diabetes")}  # fmt: skip
    return out
