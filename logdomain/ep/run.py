"""Training runs of :mod:`logdomain.ep.ffebm`: EP-trained vs exact-gradient baseline, same initialisation.

Gradient adapters give every block the interface ``free(u) → v``, ``grads(u, v, c) → (dL/dg, dL/du)``
and ``set_weights``:

- :class:`BehaviouralAdapter` — the numpy block; ``gradient="ep"`` (free + ±β nudged Newton solves)
  or ``"exact"`` (implicit differentiation, the baseline);
- :class:`SpiceAdapter` — the SPICE block on the sweep workers (EP only: the nudged operating points are
  simulated), batched: a minibatch's free phase is one ``.dc`` run and its ±β phases one more
  (:data:`TRAIN_BATCH_POINTS` samples per run; :mod:`logdomain.ep.spice_block`).

:func:`compare_training` trains the same architecture from the same initial parameters and the same
minibatch order twice — with EP and with exact gradients — and reports both learning curves.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from typing import Any, Callable

import numpy as np

from calibration.diode_fit import DiodeLaw, calibrate_diode
from netlists.ebm_block import EbmBlockParams
from netlists.errors import ParameterError
from netlists.technologies.base import Technology

from .behavioural import BehaviouralEbmBlock
from .ffebm import FfEbm, FfEbmConfig, train_ffebm
from .spice_block import SpiceEbmBlock

__all__ = ["BehaviouralAdapter", "SpiceAdapter", "compare_training", "block_law", "TRAIN_BATCH_POINTS"]

#: samples per batched ngspice run in SPICE-block training (a ±β phase of a 32-sample minibatch: 64)
TRAIN_BATCH_POINTS = 128


class BehaviouralAdapter:
    """Behavioural block with EP (``"ep"``) or implicit-differentiation (``"exact"``) gradients."""

    def __init__(self, block: BehaviouralEbmBlock, gradient: str) -> None:
        if gradient not in ("ep", "exact"):
            raise ParameterError(f"gradient must be one of ep, exact; got {gradient!r}")
        self.block, self.gradient = block, gradient

    def free(self, u: np.ndarray) -> np.ndarray:
        return self.block.solve(u)

    def grads(self, u: np.ndarray, v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.gradient == "exact":
            return self.block.exact_gradients(u, v, c)
        gw, gu, _ = self.block.ep_gradients(u, c, v)
        return gw, gu

    def set_weights(self, weights) -> None:
        self.block.set_weights(weights)


class SpiceAdapter:
    """SPICE block, EP gradients; the free operating points of the last batch are reused by :meth:`grads`."""

    def __init__(self, block: SpiceEbmBlock) -> None:
        self.block = block
        self._last: tuple[np.ndarray, Any] | None = None

    def free(self, u: np.ndarray) -> np.ndarray:
        op = self.block.solve(u)
        self._last = (u, op)
        return op.v

    def grads(self, u: np.ndarray, v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        free = self._last[1] if self._last is not None and self._last[0] is u else None
        gw, gu, _ = self.block.ep_gradients(u, c, free)
        return gw, gu

    def set_weights(self, weights) -> None:
        self.block.set_weights(weights)


def block_law(tech: Technology, params: EbmBlockParams) -> DiodeLaw:
    """The fitted law of the block's diode-connected device (one SPICE ``.dc`` sweep and a fit)."""
    return calibrate_diode(tech, w_m=params.diode_w_m, l_m=params.diode_l_m)


def compare_training(data: dict[str, np.ndarray], config: FfEbmConfig, *, tech: Technology, backend: str = "behavioural",
                     executor: Executor | None = None, block_params: EbmBlockParams | None = None,
                     progress: Callable[[str, int, dict], None] | None = None,
                     point_timeout_s: float | None = None) -> dict[str, Any]:
    """EP training (``backend`` ``"behavioural"`` or ``"spice"``) and the exact-gradient baseline (behavioural
    block, implicit differentiation) from the same initial parameters; JSON-able result."""
    if backend not in ("behavioural", "spice"):
        raise ParameterError(f"backend must be one of behavioural, spice; got {backend!r}")
    if backend == "spice" and executor is None:
        raise ParameterError("backend 'spice' needs an executor (netlists.sweep.sweep_executor)")
    base = block_params or EbmBlockParams()
    n_features = data["x_train"].shape[1]
    n_classes = int(data["n_classes"])
    law = block_law(tech, base)
    runs: dict[str, Any] = {}
    made: list = []
    for name, gradient in (("ep", "ep"), ("baseline", "exact")):
        net = FfEbm.init(n_features, n_classes, config, base)

        def make_blocks(model: FfEbm, gradient: str = gradient, name: str = name) -> list:
            out = []
            for i, p in enumerate(model.block_params):
                if name == "ep" and backend == "spice":
                    out.append(SpiceAdapter(SpiceEbmBlock(tech, p, model.block_weights(i), executor=executor,
                                                             point_timeout_s=point_timeout_s,
                                                             batch_points=TRAIN_BATCH_POINTS)))
                else:
                    out.append(BehaviouralAdapter(BehaviouralEbmBlock(p, law, model.block_weights(i)), gradient))
            made.extend(out)
            return out

        started = time.perf_counter()
        result = train_ffebm(net, make_blocks, data, config,
                             None if progress is None else (lambda e, row, name=name: progress(name, e, row)))
        result["elapsed_s"] = time.perf_counter() - started
        runs[name] = result
    blocks = [{"n_in": p.n_in, "n_out": p.n_out, "lateral": p.lateral, "n_conductances": 2 * p.n_out * (p.n_in + 1) + p.n_lateral,
               "diode_w_m": p.diode_w_m, "diode_l_m": p.diode_l_m} for p in net.block_params]
    return {
        "test_accuracy": runs["ep"]["test_accuracy"],
        "baseline_test_accuracy": runs["baseline"]["test_accuracy"],
        "accuracy_gap_points": 100.0 * (runs["baseline"]["test_accuracy"] - runs["ep"]["test_accuracy"]),
        "train_accuracy": runs["ep"]["train_accuracy"],
        "baseline_train_accuracy": runs["baseline"]["train_accuracy"],
        "blocks": blocks,
        "backend": backend,
        "curves": {"ep": runs["ep"]["curves"], "baseline": runs["baseline"]["curves"]},
        "elapsed_s": {"ep": runs["ep"]["elapsed_s"], "baseline": runs["baseline"]["elapsed_s"]},
        "n_train": int(len(data["y_train"])), "n_test": int(len(data["y_test"])),
        "config": config.as_dict(),
        "spice": {"operating_points": int(sum(a.block.n_points for a in made if isinstance(a, SpiceAdapter))),
                  "fallback_points": int(sum(a.block.n_fallback for a in made if isinstance(a, SpiceAdapter))),
                  "batched_runs": int(sum(a.block.n_batch_runs for a in made if isinstance(a, SpiceAdapter))),
                  "batch_samples_resolved": int(sum(a.block.n_batch_resolved for a in made if isinstance(a, SpiceAdapter))),
                  "batches_failed": int(sum(a.block.n_batch_fallback for a in made if isinstance(a, SpiceAdapter)))},
        "diode_law": {"rms_rel_error": law.rms_rel_error, "max_rel_error": law.max_rel_error},
    }
