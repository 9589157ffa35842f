"""Analog vs ideal SGDr on one task: headline metrics, learning curves, sweeps and a closing error budget.

:func:`run_compare` trains the ideal discrete learner (:func:`logdomain.ideal.sgdr_discrete`) and the
behavioural model of the transistor-level learner (:func:`logdomain.learner_sim.sgdr_learner`, model
from the calibration) on the same ordered stream with the same programmed η and λ, for many dies at
once (each its own mismatch sample), and evaluates (DESIGN.md §6)

* ``nmse_vs_ideal = mean((ŷ_analog − ŷ_ideal)²)/var(ŷ_ideal)`` on the held-out rows (training rows
  when none are held out), per die; ``weight_nmse``; train and test MSE of both learners;
* whether the ideal learner has converged: ``ideal_gap`` = its test MSE over the test MSE of the
  ridge optimum with the same λ, minus 1 (negative when stopping early happens to generalise
  better); ``ideal_converged`` when |gap| is at most :data:`CONVERGED_GAP`. Only then is the analog learner compared with the published reference
  (:data:`REFERENCE_NMSE`, Tageldeen et al. 2025, whose normalisation is not published);
* learning curves, nmse_vs_ideal vs bits, over an η × λ grid, and an error budget that closes:
  each non-ideality alone (its excess over the continuous-time baseline), their sum, the
  interaction term (all together minus baseline minus the sum) and all together.

Die statistics are reported as mean, median and the 10–90 % range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .ideal import sgdr_discrete
from .learner_model import MISMATCH_GROUPS, NOMINAL_FIELDS, LearnerModel
from .learner_sim import sgdr_learner
from .metrics import mse, nmse_vs_ideal, weight_nmse
from .scaling import MaxAbsScaling, scaling_summary
from .tasks import Task

__all__ = ["CompareConfig", "CompareResult", "run_compare", "evaluate", "die_stats", "ridge_optimum", "convergence",
           "verdict", "budget_cases", "REFERENCE_NMSE", "CONVERGED_GAP"]

#: Tageldeen et al. 2025 ("Learning in Log-Domain", arXiv, Jan 2025): MSE below 0.87 % against ideal
#: behaviour; their normalisation and task are not published, so this is a reference, not our metric
REFERENCE_NMSE = 0.0087
REFERENCE_SOURCE = "Tageldeen et al. 2025, arXiv (normalisation not published)"
#: the ideal learner counts as converged when its test MSE is within this fraction of the ridge optimum
CONVERGED_GAP = 0.01


@dataclass(frozen=True, kw_only=True)
class CompareConfig:
    """Settings of a comparison (all dimensionless).

    Parameters
    ----------
    eta, lam : float
        Programmed η = T_s/τ (> 0) and λ (>= 0) of the headline run.
    epochs : int
        Passes over the training rows.
    bits : int or None
        Resolution of the analog learner's inputs, targets and read-out in the headline run.
    dies : int
        Dies simulated (mismatch samples).
    seed : int
        Seed of the dies.
    substeps : int
        Integration substeps per hold of the analog learner.
    bits_grid, eta_grid, lam_grid : tuple
        Sweeps for the bits plot and the η × λ heatmap.
    curve_points : int
        Points of the learning curves.
    """

    eta: float = 0.05
    lam: float = 1e-3
    epochs: int = 5
    bits: int | None = 8
    dies: int = 32
    seed: int = 0
    substeps: int = 4
    bits_grid: tuple[int, ...] = tuple(range(4, 13))
    eta_grid: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
    lam_grid: tuple[float, ...] = (0.0, 1e-3, 1e-2, 3e-2, 1e-1)
    curve_points: int = 60

    def __post_init__(self) -> None:
        def bad(name: str, rule: str) -> ValueError:
            return ValueError(f"{name} must be {rule}, got {getattr(self, name)!r}")

        def is_int(v: object, low: int) -> bool:
            return isinstance(v, Integral) and not isinstance(v, bool) and v >= low

        def is_num(v: object, positive: bool) -> bool:
            ok = isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)
            return ok and (v > 0 if positive else v >= 0)

        if not is_num(self.eta, True) or self.eta > 10:
            raise bad("eta", "a finite number in (0, 10]")
        if not is_num(self.lam, False) or self.lam > 100:
            raise bad("lam", "a finite number in [0, 100]")
        for name, low in (("epochs", 1), ("dies", 1), ("seed", 0), ("substeps", 1), ("curve_points", 2)):
            if not is_int(getattr(self, name), low):
                raise bad(name, f"an integer >= {low}")
        if self.bits is not None and not (is_int(self.bits, 1) and self.bits <= 32):
            raise bad("bits", "None or an integer in [1, 32]")
        if not self.bits_grid or not all(is_int(b, 1) and b <= 32 for b in self.bits_grid):
            raise bad("bits_grid", "a non-empty tuple of integers in [1, 32]")
        if not self.eta_grid or not all(is_num(e, True) and e <= 10 for e in self.eta_grid):
            raise bad("eta_grid", "a non-empty tuple of numbers in (0, 10]")
        if not self.lam_grid or not all(is_num(v, False) and v <= 100 for v in self.lam_grid):
            raise bad("lam_grid", "a non-empty tuple of numbers in [0, 100]")


@dataclass
class CompareResult:
    """Everything :mod:`logdomain.report` needs: ``summary`` (JSON-able) and the plot data."""

    summary: dict[str, Any]
    curves: dict[str, NDArray] = field(default_factory=dict)
    bits_sweep: dict[str, NDArray] = field(default_factory=dict)
    heatmap: dict[str, NDArray] = field(default_factory=dict)
    budget: list[dict[str, Any]] = field(default_factory=list)


def die_stats(values: NDArray) -> dict[str, float]:
    """Mean, median, 10th and 90th percentile over the last axis (the dies)."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(np.mean(v)), "median": float(np.median(v)),
            "p10": float(np.percentile(v, 10)), "p90": float(np.percentile(v, 90))}  # fmt: skip


def _eval_rows(task: Task) -> tuple[NDArray, NDArray, str]:
    """Held-out rows, or the training rows when nothing is held out."""
    if len(task.y_test):
        return task.x_test, task.y_test, "test"
    return task.x_train, task.y_train, "train"


def ridge_optimum(x: NDArray, y: NDArray, lam: float) -> NDArray:
    """The fixed point of SGDr with weight decay λ: ``(XᵀX/K + λI) w = Xᵀy/K``."""
    k, d = x.shape
    return np.linalg.solve(x.T @ x / k + lam * np.eye(d), x.T @ y / k)


def convergence(task: Task, w_ideal: NDArray, lam: float) -> tuple[float, bool]:
    """(ideal_gap, ideal_converged): the ideal learner's test MSE against the ridge optimum's."""
    x_eval, y_eval, _ = _eval_rows(task)
    best = mse(y_eval, x_eval @ ridge_optimum(task.x_train, task.y_train, lam))
    gap = float(mse(y_eval, x_eval @ w_ideal) / best - 1.0) if best > 0 else 0.0
    return gap, bool(abs(gap) <= CONVERGED_GAP)


def verdict(nmse: float, gap: float, converged: bool) -> str:
    """One sentence: the analog learner against the reference, only if the ideal learner converged."""
    if not converged:
        return (f"the ideal learner has not converged (its test MSE differs from the ridge optimum's with the same λ by "
                f"{100 * gap:+.3g} %; limit ±{100 * CONVERGED_GAP:g} %): no verdict against the {100 * REFERENCE_NMSE:g} % "
                f"reference — train longer (more epochs, larger η) to compare")  # fmt: skip
    side = "within" if nmse <= REFERENCE_NMSE else "above"
    return (f"the analog learner lands {100 * nmse:.3g} % from ideal SGDr (variance-normalised), {side} the "
            f"{100 * REFERENCE_NMSE:g} % of {REFERENCE_SOURCE}")  # fmt: skip


def evaluate(task: Task, predictions: NDArray, w_ideal: NDArray, w_analog: NDArray | None = None) -> dict[str, Any]:
    """Metrics of analog predictions on the evaluation rows (dies, N) against the ideal weights (D,)."""
    x_eval, y_eval, where = _eval_rows(task)
    pred = np.atleast_2d(predictions)
    ideal_pred = x_eval @ w_ideal
    out: dict[str, Any] = {"nmse_vs_ideal": nmse_vs_ideal(pred, np.broadcast_to(ideal_pred, pred.shape)), "evaluated_on": where,
                           "ideal_test_mse": mse(y_eval, ideal_pred), "analog_test_mse": mse(np.broadcast_to(y_eval, pred.shape), pred)}
    if w_analog is not None:
        out["weight_nmse"] = weight_nmse(w_analog, np.broadcast_to(w_ideal, w_analog.shape))
    return out


def budget_cases(model: LearnerModel) -> list[tuple[str, LearnerModel]]:
    """(name, model) of the error budget: the continuous-time baseline, each non-ideality alone, all.

    The cell's noise (``model.noise_rel``, measured by the calibration) is a row of its own, "noise
    (cell, measured)", when it is > 0; the baseline and every other row are noise-free.
    """
    ideal = model.replace(nominal=dict(NOMINAL_FIELDS), mismatch_groups=(), bits=None, noise_rel=0.0)
    cases = [("continuous time (no non-ideality)", ideal), ("nominal block gains", ideal.replace(nominal=model.nominal))]
    if model.mismatch_on:
        groups = MISMATCH_GROUPS if model.mismatch_groups is None else model.mismatch_groups
        cases += [(f"mismatch: {g}", ideal.replace(mismatch_groups=(g,))) for g in groups]
    if model.bits is not None:
        cases.append((f"resolution ({model.bits} bits)", ideal.replace(bits=model.bits)))
    if model.noise_rel > 0:
        cases.append(("noise (cell, measured)", ideal.replace(noise_rel=model.noise_rel)))
    cases.append(("all", model))
    return cases


class _Steps:
    """Counts the learner runs of :func:`run_compare` for a ``progress(done, total, what)`` callback."""

    def __init__(self, callback: Callable[[int, int, str], None] | None, total: int) -> None:
        self.callback, self.total, self.done = callback, total, 0

    def step(self, what: str) -> None:
        """Report that the next run (``what``) starts; then count it."""
        if self.callback is not None:
            self.callback(self.done, self.total, what)
        self.done += 1

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(self.total, self.total, "done")


def run_compare(task: Task, model: LearnerModel, config: CompareConfig = CompareConfig(), *,
                progress: Callable[[int, int, str], None] | None = None) -> CompareResult:  # fmt: skip
    """Compare the analog learner (``model``, with ``config.bits``) with the ideal one on ``task``.

    ``progress(done, total, what)``, if given, is called before each of the ``total`` learner runs
    (the headline, the resolution sweep, the η × λ grid, the error budget) and once at the end with
    ``done == total``.
    """
    cfg = config
    model = model.replace(bits=cfg.bits)
    x, y = task.x_train, task.y_train
    x_eval, y_eval, where = _eval_rows(task)
    common = dict(epochs=cfg.epochs, dies=cfg.dies, seed=cfg.seed, substeps=cfg.substeps)
    total = len(y) * cfg.epochs
    every = max(1, total // cfg.curve_points)

    def analog(m: LearnerModel, eta: float, lam: float, **kw: Any):
        return sgdr_learner(x, y, m, eta, lam, **{**common, **kw})

    cases = budget_cases(model)
    steps = _Steps(progress, 1 + len(cfg.bits_grid) + 1 + len(cfg.eta_grid) * len(cfg.lam_grid) + len(cases))
    steps.step("headline run")
    w_ideal, hist_ideal = sgdr_discrete(x, y, cfg.eta, cfg.lam, epochs=cfg.epochs, return_history=True)
    run = analog(model, cfg.eta, cfg.lam, record_every=every)
    head = evaluate(task, run.predict(x_eval), w_ideal, run.weights)
    gap, converged = convergence(task, w_ideal, cfg.lam)
    idx = run.record_index
    # the analog curve uses the effective weights (the chopped read-out; without chopping its mean slopes)
    curves = {"updates": idx, "ideal_mse": np.mean((hist_ideal[idx] @ x_eval.T - y_eval) ** 2, axis=-1),
              "analog_mse": np.mean((run.history @ x_eval.T - y_eval) ** 2, axis=-1)}  # fmt: skip

    def bits_run(b: int) -> NDArray:
        steps.step(f"{b} bits")
        return evaluate(task, analog(model.replace(bits=b), cfg.eta, cfg.lam).predict(x_eval), w_ideal)["nmse_vs_ideal"]

    bits_nmse = np.array([bits_run(b) for b in cfg.bits_grid])
    # the plateau the sweep tends to: every non-ideality but quantisation (bits=None)
    steps.step("unquantised")
    unquantised = np.atleast_1d(evaluate(task, analog(model.replace(bits=None), cfg.eta, cfg.lam).predict(x_eval), w_ideal)["nmse_vs_ideal"])

    nmse_g = np.empty((len(cfg.eta_grid), len(cfg.lam_grid)))
    test_g = np.empty_like(nmse_g)
    ideal_test_g = np.empty_like(nmse_g)
    for a, eta in enumerate(cfg.eta_grid):
        for b, lam in enumerate(cfg.lam_grid):
            steps.step(f"grid eta={eta:g} lam={lam:g}")
            wi = sgdr_discrete(x, y, eta, lam, epochs=cfg.epochs)
            ev = evaluate(task, analog(model, eta, lam).predict(x_eval), wi)
            nmse_g[a, b] = float(np.median(ev["nmse_vs_ideal"]))
            test_g[a, b] = float(np.median(ev["analog_test_mse"]))
            ideal_test_g[a, b] = float(ev["ideal_test_mse"])
    heatmap = {"eta": np.array(cfg.eta_grid, float), "lam": np.array(cfg.lam_grid, float), "nmse_median": nmse_g,
               "analog_test_mse": test_g, "ideal_test_mse": ideal_test_g}  # fmt: skip

    budget = []
    for name, case in cases:
        steps.step(f"budget: {name}")
        nm = evaluate(task, analog(case, cfg.eta, cfg.lam).predict(x_eval), w_ideal)["nmse_vs_ideal"]
        budget.append({"name": name, "kind": "row", **die_stats(np.atleast_1d(nm))})
    base, rows, everything = budget[0]["median"], budget[1:-1], budget[-1]
    for row in rows + [everything]:
        row["excess"] = row["median"] - base
    total_alone = sum(r["excess"] for r in rows)
    budget.insert(-1, {"name": "sum of the rows above (each alone)", "kind": "sum", "median": base + total_alone, "excess": total_alone})
    budget.insert(-1, {"name": "interaction (all − baseline − sum)", "kind": "interaction", "median": None,
                       "excess": everything["excess"] - total_alone})  # fmt: skip

    nmse = np.atleast_1d(head["nmse_vs_ideal"])
    summary: dict[str, Any] = {
        "nmse_vs_ideal": float(np.median(nmse)),
        "nmse_vs_ideal_dies": die_stats(nmse),
        "weight_nmse": float(np.median(head["weight_nmse"])),
        "ideal_converged": converged,
        "ideal_gap": gap,
        "t_over_tau": float(cfg.eta * total),
        "verdict": verdict(float(np.median(nmse)), gap, converged),
        "reference": {"nmse": REFERENCE_NMSE, "source": REFERENCE_SOURCE},
        "evaluated_on": where,
        "ideal": {"weights": w_ideal.tolist(), "train_mse": mse(y, x @ w_ideal), "test_mse": head["ideal_test_mse"]},
        "analog": {"weights_median": np.median(run.weights, axis=0).tolist(),
                   "test_mse": float(np.median(head["analog_test_mse"])),
                   "test_mse_dies": die_stats(np.atleast_1d(head["analog_test_mse"]))},  # fmt: skip
        "task": {"name": task.name, "features": list(task.feature_names), "target": task.target_name,
                 "n_train": int(len(y)), "n_test": int(len(task.y_test))},  # fmt: skip
        "config": _jsonable(asdict(cfg)),
        "model": _model_summary(model),
        "bits_sweep": {"bits": list(cfg.bits_grid), "nmse_median": np.median(bits_nmse, axis=-1).tolist(),
                       "nmse_unquantised_median": float(np.median(unquantised))},
        "error_budget": budget,
    }
    summary.update(_data_units(task, summary))
    steps.finish()
    bits_sweep = {"bits": np.array(cfg.bits_grid), "nmse": bits_nmse, "nmse_unquantised": unquantised}
    return CompareResult(summary=summary, curves=curves, bits_sweep=bits_sweep, heatmap=heatmap, budget=budget)


def _data_units(task: Task, summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's ``units`` note, its ``scaling`` and the data-unit copies of its weights and MSEs.

    The summary's weights and MSEs (``ideal``, ``analog``, curves, heat map, report) are those of the
    scaled problem the learners ran on; ``ideal.weights_data`` etc. are them in the data's units
    (``w · y_scale / x_scale``, ``MSE · y_scale²``, :mod:`logdomain.scaling`).
    """
    scaling = task.scaling or MaxAbsScaling.identity(task.n_features)
    ideal, analog = summary["ideal"], summary["analog"]
    ideal.update(weights_data=scaling.weights_to_data(ideal["weights"]).tolist(),
                 train_mse_data=scaling.mse_to_data(ideal["train_mse"]), test_mse_data=scaling.mse_to_data(ideal["test_mse"]))
    analog.update(weights_median_data=scaling.weights_to_data(analog["weights_median"]).tolist(),
                  test_mse_data=scaling.mse_to_data(analog["test_mse"]))  # fmt: skip
    return {"units": "weights and MSEs are of the scaled problem (x/x_scale, y/y_scale; see scaling), except the "
                     "*_data keys, in the data's units; nmse_vs_ideal is scale-free, weight_nmse compares the "
                     "scaled weights",
            "scaling": scaling_summary(task.scaling, task.feature_names)}  # fmt: skip


def _model_summary(model: LearnerModel) -> dict[str, Any]:
    out = {k: getattr(model, k) for k in ("x_floor", "err_floor", "err_min", "cm_set", "cm_gain", "w_init", "x_scale",
                                          "w_scale", "chop", "temp_c", "bits", "noise_rel")}  # fmt: skip
    out["nominal"] = dict(model.nominal)
    out["mismatch"] = {"a_vt_v_m": dict(model.a_vt_v_m), "slope_factor": dict(model.slope_factor),
                       "groups": list(MISMATCH_GROUPS if model.mismatch_groups is None else model.mismatch_groups)}
    return out


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out
