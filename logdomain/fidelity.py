"""Fidelity of the behavioural learner against the transistor-level learner it models (issue 11).

:func:`compare_against_spice` streams the same rows through

* the SPICE learner (:func:`logdomain.spice_learner.compare_spice_learner`): the circuit of the
  calibration's ``learner.design``, its predictions read through its own prediction path, and
* the behavioural model of that same circuit (:class:`logdomain.learner_model.LearnerModel` from the
  same calibration: design, nominal block gains fitted to SPICE, Pelgrom mismatch per device),

and reports, on the nominal die, ``spice_vs_behavioural_nmse = mean((ŷ_beh − ŷ_spice)²)/var(ŷ_spice)``
(held-out rows) and each learner's ``nmse_vs_ideal``; with ``dies = N``, nmse_vs_ideal of N SPICE dies
(the PDK's per-instance mismatch, one seed each, spread over the sweep executor's workers) beside N
behavioural dies (the model's own mismatch samples), with medians and 90th percentiles — and, for
a precise reference of the model's distribution, the same statistics over :data:`MANY_DIES` dies.
Times are wall-clock seconds; fractions stay fractions.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netlists import SimParams, Simulator, Technology, get_simulator
from netlists.spice_learner_circuit import LearnerParams

from .learner_model import LearnerModel
from .learner_sim import sgdr_learner
from .metrics import nmse_vs_ideal
from .spice_learner import (DEFAULT_ETA, DEFAULT_LAM, DEFAULT_T_HOLD_S, SpiceLearnerComparison, compare_spice_dies,
                            compare_spice_learner, wrong_signs)
from .tasks import Task

__all__ = ["FidelityResult", "compare_against_spice", "MANY_DIES", "within_factor"]

#: behavioural dies for the precise reference of the model's distribution
MANY_DIES = 1000


def within_factor(a: float, b: float, factor: float) -> bool:
    """True when a and b (> 0) agree within ``factor`` (a/b and b/a both ≤ factor)."""
    return a > 0 and b > 0 and max(a / b, b / a) <= factor


def _stats(values: list[float] | np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "p90": float(np.percentile(v, 90)), "max": float(np.max(v))}


@dataclass
class FidelityResult:
    """SPICE learner against its behavioural model on one stream (fractions; times in s)."""

    spice: SpiceLearnerComparison = field(repr=False)
    behavioural_weights: np.ndarray
    spice_vs_behavioural_nmse: float
    behavioural_nmse_vs_ideal: float
    spice_runtime_s: float
    behavioural_runtime_s: float
    spice_dies: list[SpiceLearnerComparison] = field(default_factory=list, repr=False)
    behavioural_dies: np.ndarray | None = None
    behavioural_many: np.ndarray | None = None
    dies_runtime_s: float = 0.0

    @property
    def speedup(self) -> float:
        """SPICE wall time over one behavioural run's wall time (same stream, one die)."""
        return self.spice_runtime_s / self.behavioural_runtime_s

    def as_dict(self) -> dict[str, Any]:
        s = self.spice.as_dict(history=False)
        out: dict[str, Any] = {
            "spice_vs_behavioural_nmse": self.spice_vs_behavioural_nmse,
            "t_over_tau": s["t_over_tau"],
            "nmse_vs_ideal": {"spice": s["nmse_vs_ideal"], "behavioural": self.behavioural_nmse_vs_ideal},
            "weights": {"spice": s["weights"], "behavioural": self.behavioural_weights.tolist(), "ideal": s["ideal_weights"]},
            "spice_runtime_s": self.spice_runtime_s, "behavioural_runtime_s": self.behavioural_runtime_s,
            "speedup": self.speedup, "regions_ok": s["regions_ok"], "region_violations": s["region_violations"],
            "tech": s["tech"], "dim": s["dim"], "samples": s["samples"], "eta": s["eta"], "lam": s["lam"],
        }  # fmt: skip
        if self.spice_dies:
            sd = [d.nmse_vs_ideal for d in self.spice_dies]
            bd = self.behavioural_dies.tolist()
            out.update(
                spice_dies=sd, behavioural_dies=bd,
                spice_median=_stats(sd)["median"], spice_p90=_stats(sd)["p90"],
                behavioural_median=_stats(bd)["median"], behavioural_p90=_stats(bd)["p90"],
                behavioural_many={"dies": int(len(self.behavioural_many)), **_stats(self.behavioural_many)},
                spice_die_details=[{"seed": d.run.seed, "nmse_vs_ideal": d.nmse_vs_ideal, "weights": d.weights.tolist(),
                                    "wrong_signs": wrong_signs(d.weights, d.ideal_weights), "regions_ok": d.run.regions_ok,
                                    "region_violations": d.run.region_violations()} for d in self.spice_dies],
                dies_runtime_s=self.dies_runtime_s,
            )  # fmt: skip
            out["median_within_1_5x"] = within_factor(out["spice_median"], out["behavioural_median"], 1.5)
            out["p90_within_1_5x"] = within_factor(out["spice_p90"], out["behavioural_p90"], 1.5)
        return out


def _behavioural(x, y, task: Task, model: LearnerModel, eta: float, lam: float, w_ideal: np.ndarray, dies: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray, float]:  # fmt: skip
    """(weights (dies, D), nmse_vs_ideal (dies,), wall time of the call)."""
    t0 = time.perf_counter()
    run = sgdr_learner(x, y, model, eta, lam, dies=dies, seed=seed)
    elapsed = time.perf_counter() - t0
    ideal = task.x_test @ w_ideal
    pred = run.predict(task.x_test)
    return run.weights, np.atleast_1d(nmse_vs_ideal(pred, np.broadcast_to(ideal, pred.shape))), elapsed


def compare_against_spice(
    tech: Technology, task: Task, model: LearnerModel, params: LearnerParams, *, samples: int | None = None,
    eta: float = DEFAULT_ETA, lam: float = DEFAULT_LAM, t_hold_s: float = DEFAULT_T_HOLD_S, dies: int = 0,
    seed: int = 0, mismatch_tech: Technology | None = None, sim: SimParams | None = None,
    simulator: Simulator | None = None, executor: Executor | None = None, workers: int | None = None, quiet: bool = False,
) -> FidelityResult:  # fmt: skip
    """Run the SPICE learner ``params`` on ``tech`` and its behavioural ``model`` on the same stream.

    ``dies > 0`` adds ``dies`` SPICE mismatch dies of ``mismatch_tech`` (seeds ``seed + 1 …``) and as many
    behavioural dies (model seed ``seed``), plus :data:`MANY_DIES` behavioural dies.
    """
    simulator = simulator or get_simulator()
    sim = sim or simulator.sim
    x, y = (task.x_train, task.y_train) if samples is None else (task.x_train[:samples], task.y_train[:samples])
    t0 = time.perf_counter()
    spice = compare_spice_learner(tech, task, eta=eta, lam=lam, t_hold_s=t_hold_s, samples=samples, params=params,
                                  sim=sim, simulator=simulator)  # fmt: skip
    spice_s = time.perf_counter() - t0
    nominal = model.replace(mismatch_groups=())
    sgdr_learner(x, y, nominal, eta, lam)  # compile / warm the loop once, outside the timing
    w_beh, nm_beh, beh_s = _behavioural(x, y, task, nominal, eta, lam, spice.ideal_weights, 1, seed)
    pred_beh = task.x_test @ w_beh[0] if model.chop else None
    if pred_beh is None:
        pred_beh = sgdr_learner(x, y, nominal, eta, lam).predict(task.x_test)[0]
    result = FidelityResult(
        spice=spice, behavioural_weights=w_beh[0],
        spice_vs_behavioural_nmse=float(nmse_vs_ideal(pred_beh, spice.predictions_test)),
        behavioural_nmse_vs_ideal=float(nm_beh[0]), spice_runtime_s=spice_s, behavioural_runtime_s=beh_s,
    )  # fmt: skip
    if dies:
        t0 = time.perf_counter()
        result.spice_dies = compare_spice_dies(mismatch_tech, task, [seed + 1 + k for k in range(dies)], eta=eta, lam=lam,
                                               t_hold_s=t_hold_s, samples=samples, params=params, sim=sim,
                                               simulator=simulator, executor=executor, workers=workers, quiet=quiet)  # fmt: skip
        result.dies_runtime_s = time.perf_counter() - t0
        _, result.behavioural_dies, _ = _behavioural(x, y, task, model, eta, lam, spice.ideal_weights, dies, seed)
        _, result.behavioural_many, _ = _behavioural(x, y, task, model, eta, lam, spice.ideal_weights, MANY_DIES, seed + 1)
    return result
