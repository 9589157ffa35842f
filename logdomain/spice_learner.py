"""SPICE learner against the ideal continuous SGDr (exact zero-order-hold flow), one die or many.

:func:`compare_spice_learner` streams a task's training rows through the transistor-level learner
(:func:`netlists.learner_run.run_spice_learner`) and through
:func:`logdomain.ideal.sgdr_continuous_zoh` with the same η = T_s/τ and λ, then scores the circuit's
own predictions of the held-out rows (its prediction path read with the weights frozen, see
:mod:`netlists.spice_learner_circuit`) against the ideal ones (DESIGN.md §6): ``nmse_vs_ideal =
mean((ŷ_spice − ŷ_ideal)²)/var(ŷ_ideal)``. :func:`compare_spice_dies` does the same for N mismatch
dies of the PDK, spread over the sweep executor's workers (:func:`netlists.learner_run.run_spice_learner_dies`).
Training length is reported as ``t_over_tau = η·samples`` (time constants of the ideal law).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netlists import SimParams, Simulator, Technology
from netlists.cost import weight_cost
from netlists.learner_run import SpiceLearnerRun, run_spice_learner, run_spice_learner_dies
from netlists.spice_learner_circuit import LearnerParams

from .ideal import sgdr_continuous_zoh
from .metrics import mse, nmse_vs_ideal, weight_nmse
from .tasks import Task, synthetic_regression

__all__ = [
    "SpiceLearnerComparison", "compare_spice_learner", "compare_spice_dies", "learner_task", "wrong_signs",
    "DEFAULT_ETA", "DEFAULT_LAM", "DEFAULT_T_HOLD_S", "DEFAULT_SAMPLES",
]

DEFAULT_ETA = 0.05
DEFAULT_LAM = 1e-3
DEFAULT_T_HOLD_S = 20e-3
#: default stream length: t/τ = η·samples = 20, the regime the headline reports
DEFAULT_SAMPLES = 400


def wrong_signs(weights: np.ndarray, ideal: np.ndarray, threshold: float = 0.1) -> list[int]:
    """Indices i with |ideal_i| > threshold·max|ideal| whose learned weight has the other sign."""
    w, wi = np.asarray(weights, dtype=float), np.asarray(ideal, dtype=float)
    big = np.abs(wi) > threshold * np.max(np.abs(wi))
    return [int(i) for i in np.flatnonzero(big & (np.sign(w) != np.sign(wi)))]


@dataclass
class SpiceLearnerComparison:
    """SPICE and ideal learners on one stream, one die (weights in the task's scaled units).

    ``weights`` are the circuit's effective weights (its prediction path, frozen); ``state_history``
    (K + 1, N) the state s_w·(W⁺ − W⁻)/I_u at every hold end, ``ideal_history`` the ideal flow's.
    """

    run: SpiceLearnerRun = field(repr=False)
    weights: np.ndarray
    ideal_weights: np.ndarray
    state_history: np.ndarray
    ideal_history: np.ndarray
    predictions_test: np.ndarray
    ideal_predictions_test: np.ndarray
    nmse_vs_ideal: float
    weight_nmse: float
    test_mse: float
    ideal_test_mse: float
    t_over_tau: float

    def as_dict(self, *, history: bool = True) -> dict[str, Any]:
        """JSON-able summary (CLI keys of DESIGN.md §7 plus details)."""
        p, r = self.run.params, self.run
        out = {
            "weights": self.weights.tolist(),
            "ideal_weights": self.ideal_weights.tolist(),
            "state_weights": self.state_history[-1].tolist(),
            "nmse_vs_ideal": self.nmse_vs_ideal,
            "weight_nmse": self.weight_nmse,
            "wrong_signs": wrong_signs(self.weights, self.ideal_weights),
            "test_mse": self.test_mse,
            "ideal_test_mse": self.ideal_test_mse,
            "t_over_tau": self.t_over_tau,
            "seed": r.seed,
            "runtime_s": r.runtime_s,
            "tech": r.netlist.technology.label,
            "dim": p.dim,
            "samples": int(self.state_history.shape[0] - 1),
            "eta": p.eta,
            "lam": p.lam,
            "t_hold_s": p.t_hold_s,
            "tau_ideal_s": p.tau_ideal_s,
            "chop": p.chop,
            "circuit": {"c_f": p.c_f, "i_a_a": p.i_a_a, "i_lambda_a": p.i_lambda_a, "i_u_a": p.i_u_a, "kappa": p.kappa,
                        "devices": len(r.netlist.devices)},
            "common_mode_end_a": r.common_mode_a[-1].tolist(),
            "regions_ok": r.regions_ok,
            "region_violations": r.region_violations(),
            "regions": [{"t_s": t, "ok": rep.ok, "summary": rep.summary(), "devices": len(rep.devices)}
                        for t, rep in zip(r.region_times_s, r.regions)],
        }  # fmt: skip
        cost = weight_cost(r.netlist, weights=p.dim, c_f=p.c_f, t_hold_s=p.t_hold_s, power_w=r.power_w,
                           power_by_supply_w=r.power_by_supply_w).as_dict()
        out.update({key: cost.pop(key) for key in ("power_w", "energy_per_update_j", "area_per_weight_um2")})
        out["cost"] = cost
        if history:
            out.update(state_history=self.state_history.tolist(), ideal_history=self.ideal_history.tolist())
        return out


def learner_task(dim: int, samples: int, seed: int = 0, noise_std: float = 0.05) -> Task:
    """Synthetic linear-regression task with ``samples`` training rows and max(samples//4, 8) held out."""
    n_test = max(samples // 4, 8)
    total = samples + n_test
    return synthetic_regression(dim=dim, samples=total, noise_std=noise_std, seed=seed, test_fraction=n_test / total)


def _score(run: SpiceLearnerRun, task: Task, x: np.ndarray, w_ideal: np.ndarray, hist: np.ndarray, eta: float) -> SpiceLearnerComparison:
    pred, pred_ideal = run.predict(task.x_test), task.x_test @ w_ideal
    return SpiceLearnerComparison(
        run=run, weights=run.weights, ideal_weights=np.asarray(w_ideal), state_history=run.state_history,
        ideal_history=np.asarray(hist), predictions_test=pred, ideal_predictions_test=pred_ideal,
        nmse_vs_ideal=float(nmse_vs_ideal(pred, pred_ideal)), weight_nmse=float(weight_nmse(run.weights, w_ideal)),
        test_mse=float(mse(task.y_test, pred)), ideal_test_mse=float(mse(task.y_test, pred_ideal)),
        t_over_tau=float(eta * x.shape[0]),
    )  # fmt: skip


def _stream(task: Task, samples: int | None) -> tuple[np.ndarray, np.ndarray]:
    x, y = task.x_train, task.y_train
    return (x, y) if samples is None else (x[:samples], y[:samples])


def compare_spice_learner(
    tech: Technology, task: Task, *, eta: float = DEFAULT_ETA, lam: float = DEFAULT_LAM, t_hold_s: float = DEFAULT_T_HOLD_S,
    samples: int | None = None, params: LearnerParams | None = None, sim: SimParams | None = None,
    simulator: Simulator | None = None,
) -> SpiceLearnerComparison:  # fmt: skip
    """Run the SPICE learner (one die of ``tech``) on the first ``samples`` training rows of ``task``.

    Parameters
    ----------
    tech : technology. task : scaled task (x, y in about [−1, 1]).
    eta : η = T_s/τ. lam : λ. t_hold_s : hold time T_s, s (sets τ = T_s/η).
    samples : training rows streamed (default: all). params, sim, simulator : passed on
        (params default to ``LearnerParams.for_technology(tech.learner_family)``).

    The ideal flow uses the same η and λ (only T_s/τ matters) and starts from w = 0.
    """
    x, y = _stream(task, samples)
    run = run_spice_learner(tech, x, y, eta, lam, t_hold_s, params=params, sim=sim, simulator=simulator)
    w_ideal, hist = sgdr_continuous_zoh(x, y, t_hold_s / eta, t_hold_s, lam, return_history=True)
    return _score(run, task, x, w_ideal, hist, eta)


def compare_spice_dies(
    tech: Technology, task: Task, seeds: list[int], *, eta: float = DEFAULT_ETA, lam: float = DEFAULT_LAM,
    t_hold_s: float = DEFAULT_T_HOLD_S, samples: int | None = None, params: LearnerParams | None = None,
    sim: SimParams | None = None, simulator: Simulator | None = None, executor: Executor | None = None,
    workers: int | None = None, quiet: bool = False,
) -> list[SpiceLearnerComparison]:  # fmt: skip
    """:func:`compare_spice_learner` for the mismatch dies ``seeds`` of ``tech`` (mismatch on), in order."""
    x, y = _stream(task, samples)
    runs = run_spice_learner_dies(tech, x, y, eta, lam, t_hold_s, list(seeds), params=params, sim=sim, simulator=simulator,
                                  executor=executor, workers=workers, quiet=quiet)  # fmt: skip
    w_ideal, hist = sgdr_continuous_zoh(x, y, t_hold_s / eta, t_hold_s, lam, return_history=True)
    return [_score(run, task, x, w_ideal, hist, eta) for run in runs]
