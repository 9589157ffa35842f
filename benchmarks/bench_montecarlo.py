"""Monte Carlo at scale: the diabetes comparison's headline over 10⁵ dies, in-process and on Dask.

Prints one JSON object: ``seconds`` and ``dies_per_s`` of :func:`logdomain.montecarlo.run_monte_carlo`
for ``dies`` dies (default 100 000; ``--quick`` 16 384) of the comparison ``make demo`` runs
(diabetes, η 0.05, λ 1e-3, 5 epochs, 8 bits, 4 substeps, the shipped calibration), in this process
(the compiled loop on every core); then the same code on a Dask ``LocalCluster`` (2 worker processes,
one thread each, numba single-threaded in them) for ``dask_dies`` dies, with ``dask_same_numbers``
(every die's nmse_vs_ideal equal to the in-process run's, to 1e-12) and its time beside the
in-process time of the same dies. Also the percentiles of nmse_vs_ideal over all dies.

Usage: ``python benchmarks/bench_montecarlo.py [--quick] [--dies N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.schema import load_default_calibration  # noqa: E402
from logdomain.compare import CompareConfig  # noqa: E402
from logdomain.learner_model import LearnerModel  # noqa: E402
from logdomain.montecarlo import run_monte_carlo  # noqa: E402
from logdomain.tasks import get_task  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="16 384 dies, 4096 on Dask (< 1 min)")
    ap.add_argument("--dies", type=int, default=None, help="dies in-process (default 100000; --quick 16384)")
    args = ap.parse_args()
    dies = args.dies or (16_384 if args.quick else 100_000)
    dask_dies = 4096 if args.quick else 16_384
    model = LearnerModel.from_calibration(load_default_calibration())
    task = get_task("diabetes", test_fraction=0.25, seed=0)
    cfg = CompareConfig()
    run_monte_carlo(task, model, cfg, dies=64, chunk_dies=64)  # compile / load the loop once
    here = run_monte_carlo(task, model, cfg, dies=dies)
    out = {"task": "diabetes", "config": {"eta": cfg.eta, "lam": cfg.lam, "epochs": cfg.epochs, "bits": cfg.bits,
                                          "substeps": cfg.substeps}, **here.summary()}  # fmt: skip
    out["target_seconds_for_1e5_dies"] = 60
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:  # fmt: skip
        started = time.perf_counter() - t0
        ex = client.get_executor()
        run_monte_carlo(task, model, cfg, dies=128, chunk_dies=64, executor=ex)  # workers load the loop
        there = run_monte_carlo(task, model, cfg, dies=dask_dies, chunk_dies=1024, executor=ex)
    same = run_monte_carlo(task, model, cfg, dies=dask_dies, chunk_dies=1024)
    out["dask"] = {"dies": dask_dies, "workers": 2, "seconds": round(there.seconds, 3), "cluster_start_s": round(started, 2),
                   "in_process_seconds_same_dies": round(same.seconds, 3),
                   "dask_same_numbers": bool(np.allclose(there.nmse_vs_ideal, same.nmse_vs_ideal, rtol=1e-12, atol=0))}  # fmt: skip
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
