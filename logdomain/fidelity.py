"""Fidelity of the behavioural learner against the transistor-level learner (issue 7).

:func:`compare_against_spice` streams the same rows through

* the SPICE learner (:func:`netlists.learner.run_spice_learner`, via
  :func:`logdomain.spice_learner.compare_spice_learner`), and
* the behavioural learner :func:`logdomain.analog.sgdr_analog` with an :class:`AnalogModel`
  fitted to the SAME weight-cell design the SPICE learner uses (:func:`learner_cell_model`),

and reports how far apart their held-out predictions are (``spice_vs_behavioural_nmse`` =
``mean((ŷ_spice − ŷ_beh)²)/mean(ŷ_beh²)``, a fraction), each one's ``nmse_vs_ideal`` and the
wall-clock ``speedup`` (SPICE learner run / one behavioural run).

The cell model comes from a step-response fit (:func:`calibration.cell_fit.fit_weight_cell`)
of the learner's own cell (:meth:`LearnerParams.cell_params`: sizes, rails, cascodes, C, I_A)
on a step bench with I_λ = I_A (λ = 1, so that τ and λ are both identifiable; the learner's own
λ_c = 2λ/s_x² is far too small to relax within a bench run). The fitted τ/τ_ideal = 1/G
measures the loop gain G of the cell's translinear loop; λ_eff/λ = 1/G too (I_λ is an exact
sink), so ``tau_scale = τ_fit/τ_ideal``, ``lam_scale = λ_fit/λ``, ``asymmetry`` from the up-
and down-going relaxation rates. The multiplier and error-path blocks of the learner are not
part of the cell and are taken as ideal (their measured gains on sky130 tt are within 2.5 %).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.cell_fit import CellFit, fit_weight_cell
from netlists import SimParams, Simulator, Technology, get_simulator
from netlists.spice_learner_circuit import LearnerParams
from netlists.weight_cell import WeightCellParams

from .analog import AnalogModel, sgdr_analog
from .metrics import nmse_vs_ideal
from .spice_learner import DEFAULT_ETA, DEFAULT_LAM, DEFAULT_T_HOLD_S, SpiceLearnerComparison, compare_spice_learner
from .tasks import Task

__all__ = ["FidelityResult", "learner_cell_bench", "learner_cell_model", "compare_against_spice"]


def learner_cell_bench(params: LearnerParams) -> WeightCellParams:
    """The learner's weight cell on its step bench (:meth:`LearnerParams.cell_bench`)."""
    return params.cell_bench()


def learner_cell_model(
    tech: Technology, params: LearnerParams, *, sim: SimParams | None = None, simulator: Simulator | None = None
) -> tuple[AnalogModel, CellFit]:
    """AnalogModel of the learner's own weight cell (see module docstring) and the fit behind it."""
    fit = fit_weight_cell(tech, learner_cell_bench(params), sim=sim, simulator=simulator)
    model = AnalogModel(tau_scale=fit.tau_s / fit.tau_ideal_s, lam_scale=fit.lam_eff / 1.0,
                        asymmetry=fit.update_asymmetry)  # fmt: skip
    return model, fit


@dataclass
class FidelityResult:
    """SPICE learner against the behavioural learner on one stream (fractions; times in s)."""

    spice: SpiceLearnerComparison = field(repr=False)
    model: AnalogModel
    cell_fit: CellFit
    behavioural_weights: np.ndarray
    spice_vs_behavioural_nmse: float
    behavioural_nmse_vs_ideal: float
    spice_runtime_s: float
    behavioural_runtime_s: float
    fit_runtime_s: float
    behavioural_batched_runtime_per_run_s: float = float("nan")
    batched_runs: int = 0

    @property
    def speedup(self) -> float:
        """SPICE wall time over one behavioural run's wall time (same stream, one die)."""
        return self.spice_runtime_s / self.behavioural_runtime_s

    @property
    def speedup_batched(self) -> float:
        """SPICE wall time over the per-run cost when ``batched_runs`` learners run in one call
        (how the behavioural model is used: dies × hyperparameters at once)."""
        return self.spice_runtime_s / self.behavioural_batched_runtime_per_run_s

    def as_dict(self) -> dict[str, Any]:
        s = self.spice.as_dict()
        return {
            "spice_vs_behavioural_nmse": self.spice_vs_behavioural_nmse,
            "speedup": self.speedup,
            "speedup_batched": self.speedup_batched,
            "batched_runs": self.batched_runs,
            "behavioural_batched_runtime_per_run_s": self.behavioural_batched_runtime_per_run_s,
            "nmse_vs_ideal": {"spice": self.spice.nmse_vs_ideal, "behavioural": self.behavioural_nmse_vs_ideal},
            "spice_runtime_s": self.spice_runtime_s,
            "spice_transient_s": self.spice.runtime_s,
            "behavioural_runtime_s": self.behavioural_runtime_s,
            "cell_fit_runtime_s": self.fit_runtime_s,
            "weights": {"spice": s["weights"], "behavioural": self.behavioural_weights.tolist(), "ideal": s["ideal_weights"]},
            "model": {"tau_scale": self.model.tau_scale, "lam_scale": self.model.lam_scale, "asymmetry": self.model.asymmetry},
            "cell_fit": {"tau_s": self.cell_fit.tau_s, "tau_ideal_s": self.cell_fit.tau_ideal_s, "lam_eff": self.cell_fit.lam_eff,
                         "rms_rel_error_fit": self.cell_fit.rms_rel_error_fit,
                         "rms_rel_error_validation": self.cell_fit.rms_rel_error_validation},
            "tech": s["tech"], "dim": s["dim"], "samples": s["samples"], "eta": s["eta"], "lam": s["lam"],
            "regions_ok": s["regions_ok"],
        }  # fmt: skip


BATCHED_RUNS = 1000  # learners (dies) per call for the batched speed figure

def _time_behavioural(x, y, model, eta, lam, repeats: int, dies: int = 1) -> tuple[np.ndarray, float]:
    """(weights of die 0, best wall time of one call running ``dies`` learners at once)."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = sgdr_analog(x, y, model, eta, lam, substeps=1, dies=dies)
        best = min(best, time.perf_counter() - t0)
    return np.asarray(run.weights)[0], float(best)


def compare_against_spice(
    tech: Technology,
    task: Task,
    *,
    samples: int | None = None,
    eta: float = DEFAULT_ETA,
    lam: float = DEFAULT_LAM,
    t_hold_s: float = DEFAULT_T_HOLD_S,
    params: LearnerParams | None = None,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
    repeats: int = 5,
) -> FidelityResult:
    """Run the SPICE and the behavioural learner on the first ``samples`` training rows of ``task``.

    ``speedup`` divides the SPICE learner's wall time (κ measurement, netlist, transient,
    read-back) by the best of ``repeats`` wall times of one behavioural run (``substeps=1``);
    ``speedup_batched`` by the per-run cost of ``BATCHED_RUNS`` learners in one call.
    The one-off cell fit is reported separately (``cell_fit_runtime_s``), not in either time.
    """
    simulator = simulator or get_simulator()
    sim = sim or simulator.sim
    x, y = task.x_train, task.y_train
    if samples is not None:
        x, y = x[:samples], y[:samples]
    t0 = time.perf_counter()
    spice = compare_spice_learner(tech, task, eta=eta, lam=lam, t_hold_s=t_hold_s, samples=samples, params=params,
                                  sim=sim, simulator=simulator)  # fmt: skip
    spice_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model, fit = learner_cell_model(tech, spice.run.params, sim=sim, simulator=simulator)
    fit_s = time.perf_counter() - t0
    w_beh, beh_s = _time_behavioural(x, y, model, eta, lam, repeats)
    _, batch_s = _time_behavioural(x, y, model, eta, lam, max(1, repeats // 2), dies=BATCHED_RUNS)
    pred_beh = task.x_test @ w_beh
    return FidelityResult(
        spice=spice, model=model, cell_fit=fit, behavioural_weights=w_beh,
        spice_vs_behavioural_nmse=float(nmse_vs_ideal(spice.predictions_test, pred_beh)),
        behavioural_nmse_vs_ideal=float(nmse_vs_ideal(pred_beh, spice.ideal_predictions_test)),
        spice_runtime_s=spice_s, behavioural_runtime_s=beh_s, fit_runtime_s=fit_s,
        behavioural_batched_runtime_per_run_s=batch_s / BATCHED_RUNS, batched_runs=BATCHED_RUNS,
    )  # fmt: skip
