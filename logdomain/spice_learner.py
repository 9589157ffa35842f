"""SPICE learner against the ideal continuous SGDr (exact zero-order-hold flow).

:func:`compare_spice_learner` streams a task's training rows through the transistor-level
learner (:func:`netlists.learner.run_spice_learner`) and through
:func:`logdomain.ideal.sgdr_continuous_zoh` with the same η = T_s/τ and λ, then scores the
SPICE weights against the ideal ones (DESIGN.md §6): ``nmse_vs_ideal`` is the prediction NMSE
on the held-out rows after training, ``weight_nmse`` the weight NMSE; both are fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netlists import SimParams, Simulator, Technology
from netlists.learner import SpiceLearnerRun, run_spice_learner
from netlists.spice_learner_circuit import LearnerParams

from .ideal import sgdr_continuous_zoh
from .metrics import mse, nmse_vs_ideal, weight_nmse
from .tasks import Task, synthetic_regression

__all__ = ["SpiceLearnerComparison", "compare_spice_learner", "learner_task", "DEFAULT_ETA", "DEFAULT_LAM", "DEFAULT_T_HOLD_S"]

DEFAULT_ETA = 0.01
DEFAULT_LAM = 1e-3
DEFAULT_T_HOLD_S = 20e-3


@dataclass
class SpiceLearnerComparison:
    """SPICE and ideal learners on one stream (weights dimensionless, in the task's scaled units).

    ``weights_history`` / ``ideal_history`` have shape (K + 1, N) (t = 0 and every hold end).
    """

    run: SpiceLearnerRun = field(repr=False)
    weights: np.ndarray
    ideal_weights: np.ndarray
    weights_history: np.ndarray
    ideal_history: np.ndarray
    predictions_test: np.ndarray
    ideal_predictions_test: np.ndarray
    stream_predictions: np.ndarray
    ideal_stream_predictions: np.ndarray
    nmse_vs_ideal: float
    weight_nmse: float
    test_mse: float
    ideal_test_mse: float
    runtime_s: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (CLI keys of DESIGN.md §7 plus details)."""
        p = self.run.params
        return {
            "weights": self.weights.tolist(),
            "ideal_weights": self.ideal_weights.tolist(),
            "nmse_vs_ideal": self.nmse_vs_ideal,
            "weight_nmse": self.weight_nmse,
            "test_mse": self.test_mse,
            "ideal_test_mse": self.ideal_test_mse,
            "stream_prediction_nmse": float(nmse_vs_ideal(self.stream_predictions, self.ideal_stream_predictions)),
            "runtime_s": self.runtime_s,
            "tech": self.run.netlist.technology.label,
            "dim": p.dim,
            "samples": int(self.weights_history.shape[0] - 1),
            "eta": p.eta,
            "lam": p.lam,
            "t_hold_s": p.t_hold_s,
            "tau_ideal_s": p.tau_ideal_s,
            "circuit": {"c_f": p.c_f, "i_a_a": p.i_a_a, "i_lambda_a": p.i_lambda_a, "i_u_a": p.i_u_a, "kappa": p.kappa},
            "regions_ok": self.run.regions_ok,
            "regions": [
                {"t_s": t, "ok": r.ok, "summary": r.summary(), "devices": len(r.devices)}
                for t, r in zip(self.run.region_times_s, self.run.regions)
            ],
            "weights_history": self.weights_history.tolist(),
            "ideal_history": self.ideal_history.tolist(),
        }


def learner_task(dim: int, samples: int, seed: int = 0, noise_std: float = 0.05) -> Task:
    """Synthetic linear-regression task with ``samples`` training rows and max(samples//4, 8) held out."""
    n_test = max(samples // 4, 8)
    total = samples + n_test
    task = synthetic_regression(dim=dim, samples=total, noise_std=noise_std, seed=seed, test_fraction=n_test / total)
    return task


def compare_spice_learner(
    tech: Technology,
    task: Task,
    *,
    eta: float = DEFAULT_ETA,
    lam: float = DEFAULT_LAM,
    t_hold_s: float = DEFAULT_T_HOLD_S,
    samples: int | None = None,
    params: LearnerParams | None = None,
    sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> SpiceLearnerComparison:
    """Run the SPICE learner on the first ``samples`` training rows of ``task`` and compare.

    Parameters
    ----------
    tech : technology. task : scaled task (x, y in about [−1, 1]).
    eta : η = T_s/τ. lam : λ. t_hold_s : hold time T_s, s (sets τ = T_s/η).
    samples : training rows streamed (default: all). params, sim, simulator : passed on
        (params default to ``LearnerParams.for_technology(tech.name)``: per-technology sizes).

    The ideal flow uses the same η and λ (only T_s/τ matters) and starts from w = 0 as the
    circuit does (W⁺ = W⁻ at t = 0).
    """
    x, y = task.x_train, task.y_train
    if samples is not None:
        x, y = x[:samples], y[:samples]
    run = run_spice_learner(tech, x, y, eta, lam, t_hold_s, params=params, sim=sim, simulator=simulator)
    tau = t_hold_s / eta
    w_ideal, hist = sgdr_continuous_zoh(x, y, tau, t_hold_s, lam, return_history=True)
    w_spice = run.final_weights
    pred, pred_ideal = task.x_test @ w_spice, task.x_test @ w_ideal
    stream_ideal = np.einsum("kd,kd->k", hist[1:], x)
    return SpiceLearnerComparison(
        run=run,
        weights=w_spice,
        ideal_weights=np.asarray(w_ideal),
        weights_history=run.weights_history,
        ideal_history=np.asarray(hist),
        predictions_test=pred,
        ideal_predictions_test=pred_ideal,
        stream_predictions=run.predictions,
        ideal_stream_predictions=stream_ideal,
        nmse_vs_ideal=float(nmse_vs_ideal(pred, pred_ideal)),
        weight_nmse=float(weight_nmse(w_spice, w_ideal)),
        test_mse=float(mse(task.y_test, pred)),
        ideal_test_mse=float(mse(task.y_test, pred_ideal)),
        runtime_s=run.runtime_s,
    )
