"""Monte Carlo of the headline comparison over many dies, in chunks, in-process or on any executor.

:func:`run_monte_carlo` trains ``dies`` behavioural learners (:func:`logdomain.learner_sim.sgdr_learner`,
each die its own mismatch sample) on a task's training stream with the comparison's η, λ, epochs,
bits and substeps, and evaluates each against the ideal discrete learner on the held-out rows —
the headline of :func:`logdomain.compare.run_compare` (``nmse_vs_ideal`` = MSE/var(ideal), analog
test MSE), for 10⁵ dies or more.

The dies are cut into chunks of ``chunk_dies``. A die's gains depend only on (seed, its index)
(:meth:`logdomain.learner_model.LearnerModel.sample_dies`), so each chunk is a pure function of
(task, model, config, first die, dies) and the chunks may run anywhere: in this process (default;
the compiled loop uses every core), or on any ``concurrent.futures.Executor`` — a process pool, or a
Dask cluster through ``dask.distributed.Client(...).get_executor()`` — with the same numbers (the
per-die arithmetic does not depend on where or with how many threads it runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .compare import CompareConfig, _eval_rows, convergence, evaluate
from .ideal import sgdr_discrete
from .learner_model import DIE_BLOCK, LearnerModel
from .learner_sim import sgdr_learner
from .metrics import mse
from .tasks import Task

__all__ = ["MonteCarloResult", "run_monte_carlo", "run_chunk", "chunks", "MAX_DIES", "PERCENTILES"]

#: most dies of one Monte Carlo run
MAX_DIES = 10_000_000
#: percentiles of nmse_vs_ideal over the dies in :meth:`MonteCarloResult.summary`
PERCENTILES = (1, 10, 50, 90, 99)


@dataclass(frozen=True)
class MonteCarloResult:
    """Per-die results (arrays over the dies, in die order) and the ideal learner they are measured against.

    Attributes
    ----------
    nmse_vs_ideal : (dies,) MSE(analog − ideal predictions)/var(ideal predictions) on the evaluation rows.
    analog_test_mse : (dies,) test MSE of each die (scaled units of the task).
    weights : (dies, D) effective weights read out after training.
    ideal_test_mse, ideal_gap, ideal_converged : the ideal learner (see :func:`logdomain.compare.convergence`).
    seconds : wall time of the training and evaluation of all dies, s. chunks : chunks run.
    """

    nmse_vs_ideal: NDArray[np.float64]
    analog_test_mse: NDArray[np.float64]
    weights: NDArray[np.float64]
    ideal_test_mse: float
    ideal_gap: float
    ideal_converged: bool
    seconds: float
    chunks: int

    def summary(self) -> dict[str, Any]:
        """JSON-able: dies, percentiles and mean of nmse_vs_ideal, the ideal learner's state, timing."""
        v = self.nmse_vs_ideal
        return {"dies": int(v.size), "nmse_vs_ideal_median": float(np.median(v)), "nmse_vs_ideal_mean": float(np.mean(v)),
                "nmse_vs_ideal_percentiles": {f"p{p}": float(np.percentile(v, p)) for p in PERCENTILES},
                "nmse_vs_ideal_max": float(np.max(v)), "analog_test_mse_median": float(np.median(self.analog_test_mse)),
                "ideal_test_mse": self.ideal_test_mse, "ideal_gap": self.ideal_gap, "ideal_converged": self.ideal_converged,
                "seconds": round(self.seconds, 3), "dies_per_s": round(v.size / max(self.seconds, 1e-9), 1),
                "chunks": self.chunks}  # fmt: skip


def chunks(dies: int, chunk_dies: int) -> list[tuple[int, int]]:
    """(first die, dies) of each chunk; every chunk but the last holds ``chunk_dies`` dies."""
    return [(a, min(chunk_dies, dies - a)) for a in range(0, dies, chunk_dies)]


def run_chunk(task: Task, model: LearnerModel, config: CompareConfig, w_ideal: NDArray, first_die: int, dies: int,
              dtype: type = np.float64) -> tuple[NDArray, NDArray, NDArray]:  # fmt: skip
    """(nmse_vs_ideal, analog test MSE, weights) of dies ``first_die …`` (a pure function: runs anywhere)."""
    run = sgdr_learner(task.x_train, task.y_train, model, config.eta, config.lam, epochs=config.epochs, dies=dies,
                       seed=config.seed, substeps=config.substeps, first_die=first_die, dtype=dtype,
                       backend="numba" if dtype is np.float32 else "auto")  # fmt: skip
    ev = evaluate(task, run.predict(_eval_rows(task)[0]), w_ideal)
    return (np.atleast_1d(ev["nmse_vs_ideal"]).astype(np.float64), np.atleast_1d(ev["analog_test_mse"]).astype(np.float64),
            run.weights)  # fmt: skip


def run_monte_carlo(task: Task, model: LearnerModel, config: CompareConfig = CompareConfig(), *, dies: int,
                    chunk_dies: int = 8192, executor: Executor | None = None, dtype: type = np.float64,
                    progress: Callable[[int, int], None] | None = None) -> MonteCarloResult:  # fmt: skip
    """Train and evaluate ``dies`` dies of the comparison ``config`` (its ``dies`` field is ignored).

    Parameters
    ----------
    task : training stream and held-out rows. model : the learner's model; ``config.bits`` applies.
    config : η, λ, epochs, bits, seed (of the dies) and substeps.
    dies : dies in all, 1 … :data:`MAX_DIES`.
    chunk_dies : dies per chunk, a multiple of :data:`logdomain.learner_model.DIE_BLOCK` (memory and
        scheduling granularity; results do not depend on it).
    executor : ``concurrent.futures.Executor`` to run the chunks on (e.g. a Dask client's
        ``get_executor()``); None runs them here, one after another, each on every core.
    dtype : numpy.float64 (default) or numpy.float32 (compiled loop only). At diabetes' 11 weights
        float64 is the faster of the two here (2.0 s against 3.2 s of CPU per 4096 dies: 11 weights
        fill a float64 SIMD vector better than a float32 one); float32 pays off from ~64 weights.
    progress : called with (dies done, dies) after each chunk.
    """
    for name, value, low, high in (("dies", dies, 1, MAX_DIES), ("chunk_dies", chunk_dies, DIE_BLOCK, MAX_DIES)):
        if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if chunk_dies % DIE_BLOCK:
        raise ValueError(f"chunk_dies must be a multiple of {DIE_BLOCK} (the dies of one random stream), got {chunk_dies}")
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    model = model.replace(bits=config.bits)
    w_ideal = sgdr_discrete(task.x_train, task.y_train, config.eta, config.lam, epochs=config.epochs)
    x_eval, y_eval, _ = _eval_rows(task)
    ideal_mse = float(mse(y_eval, x_eval @ w_ideal))
    gap, converged = convergence(task, w_ideal, config.lam)
    parts = chunks(int(dies), int(chunk_dies))
    t0 = time.perf_counter()
    if executor is None:  # one chunk after another, each on every core
        outcomes = (run_chunk(task, model, config, w_ideal, first, n, dtype) for first, n in parts)
    else:
        futures = [executor.submit(run_chunk, task, model, config, w_ideal, first, n, dtype) for first, n in parts]
        outcomes = (fut.result() for fut in futures)
    results: list[tuple[NDArray, NDArray, NDArray]] = []
    for (first, n), outcome in zip(parts, outcomes):
        results.append(outcome)
        if progress is not None:
            progress(first + n, dies)
    seconds = time.perf_counter() - t0
    nmse, test_mse, weights = (np.concatenate([r[i] for r in results]) for i in range(3))
    return MonteCarloResult(nmse, test_mse, weights, ideal_mse, gap, converged, seconds, len(parts))
