"""Analog vs ideal SGDr on one task: headline metrics, learning curves and sweeps (DESIGN.md §6).

:func:`run_compare` trains the ideal discrete learner (:func:`logdomain.ideal.sgdr_discrete`)
and the analog learner (:func:`logdomain.analog.sgdr_analog`) on the same ordered stream with
the same programmed η and λ, for many dies at once, and evaluates

* ``nmse_vs_ideal = mean((ŷ_analog − ŷ_ideal)²)/mean(ŷ_ideal²)`` on the held-out rows (on the
  training rows when the task has none), per die;
* ``weight_nmse = ‖w_a − w_i‖²/‖w_i‖²`` per die; train and test MSE of both learners;
* learning curves (test MSE vs updates), ``nmse_vs_ideal`` vs bits, over an η × λ grid, and an
  error budget that switches the calibrated non-idealities on one at a time.

Die statistics are reported as mean, median and the 10–90 % range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .analog import NON_IDEALITIES, AnalogModel, sgdr_analog
from .ideal import sgdr_discrete
from .metrics import mse, nmse_vs_ideal, weight_nmse
from .tasks import Task

__all__ = ["CompareConfig", "CompareResult", "run_compare", "evaluate", "die_stats"]


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
        Dies simulated (mismatch and noise samples).
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

        if not is_num(self.eta, True):
            raise bad("eta", "a finite number > 0")
        if not is_num(self.lam, False):
            raise bad("lam", "a finite number >= 0")
        for name, low in (("epochs", 1), ("dies", 1), ("seed", 0), ("substeps", 1), ("curve_points", 2)):
            if not is_int(getattr(self, name), low):
                raise bad(name, f"an integer >= {low}")
        if self.bits is not None and not (is_int(self.bits, 1) and self.bits <= 32):
            raise bad("bits", "None or an integer in [1, 32]")
        if not self.bits_grid or not all(is_int(b, 1) and b <= 32 for b in self.bits_grid):
            raise bad("bits_grid", "a non-empty tuple of integers in [1, 32]")
        if not self.eta_grid or not all(is_num(e, True) for e in self.eta_grid):
            raise bad("eta_grid", "a non-empty tuple of numbers > 0")
        if not self.lam_grid or not all(is_num(v, False) for v in self.lam_grid):
            raise bad("lam_grid", "a non-empty tuple of numbers >= 0")


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


def evaluate(task: Task, w_analog: NDArray, w_ideal: NDArray) -> dict[str, Any]:
    """Metrics of analog weights (..., D) against ideal weights (D,) on a task.

    Returns
    -------
    dict
        ``nmse_vs_ideal`` and ``weight_nmse`` (arrays over the leading axes), ``train_mse`` and
        ``test_mse`` of both learners (``test_mse`` is None without held-out rows), and
        ``evaluated_on`` ("test" or "train").
    """
    x_eval, _, where = _eval_rows(task)
    wa = np.asarray(w_analog, dtype=np.float64)
    ideal_pred = x_eval @ w_ideal
    out: dict[str, Any] = {
        "nmse_vs_ideal": nmse_vs_ideal(wa @ x_eval.T, np.broadcast_to(ideal_pred, wa.shape[:-1] + ideal_pred.shape)),
        "weight_nmse": weight_nmse(wa, np.broadcast_to(w_ideal, wa.shape)),
        "evaluated_on": where,
    }
    for part in ("train", "test"):
        x, y = getattr(task, f"x_{part}"), getattr(task, f"y_{part}")
        if len(y) == 0:
            out[f"ideal_{part}_mse"] = out[f"analog_{part}_mse"] = None
            continue
        out[f"ideal_{part}_mse"] = mse(y, x @ w_ideal)
        out[f"analog_{part}_mse"] = mse(np.broadcast_to(y, wa.shape[:-1] + y.shape), wa @ x.T)
    return out


def _progress(callback: Callable[[str], None] | None, message: str) -> None:
    if callback is not None:
        callback(message)


def run_compare(task: Task, model: AnalogModel, config: CompareConfig = CompareConfig(), *,
                progress: Callable[[str], None] | None = None) -> CompareResult:  # fmt: skip
    """Compare the analog learner (``model``, with ``config.bits``) with the ideal one on ``task``.

    Parameters
    ----------
    task : Task
        Scaled task (circuit units).
    model : AnalogModel
        Calibrated block model; its ``bits`` is replaced by ``config.bits``.
    config : CompareConfig
        Hyperparameters, dies and sweeps.
    progress : callable, optional
        Called with a short message before each stage (e.g. to log on stderr).

    Returns
    -------
    CompareResult
    """
    cfg = config
    model = model.replace(bits=cfg.bits)
    x, y = task.x_train, task.y_train
    x_eval, y_eval, where = _eval_rows(task)
    common = dict(epochs=cfg.epochs, dies=cfg.dies, seed=cfg.seed, substeps=cfg.substeps)
    total = len(y) * cfg.epochs
    every = max(1, total // cfg.curve_points)

    _progress(progress, "headline run and learning curves")
    w_ideal, hist_ideal = sgdr_discrete(x, y, cfg.eta, cfg.lam, epochs=cfg.epochs, return_history=True)
    run = sgdr_analog(x, y, model, cfg.eta, cfg.lam, record_every=every, **common)
    head = evaluate(task, run.weights, w_ideal)
    idx = run.record_index
    curves = {
        "updates": idx,
        "ideal_mse": np.mean((hist_ideal[idx] @ x_eval.T - y_eval) ** 2, axis=-1),
        "analog_mse": np.mean((run.history @ x_eval.T - y_eval) ** 2, axis=-1),  # (n_rec, dies)
    }

    _progress(progress, f"resolution sweep over bits {cfg.bits_grid[0]}..{cfg.bits_grid[-1]}")
    bits_nmse = np.array([evaluate(task, sgdr_analog(x, y, model.replace(bits=b), cfg.eta, cfg.lam,
                                                     **common).weights, w_ideal)["nmse_vs_ideal"]
                          for b in cfg.bits_grid])  # fmt: skip

    _progress(progress, f"eta x lambda grid ({len(cfg.eta_grid)} x {len(cfg.lam_grid)})")
    eta_g, lam_g = np.meshgrid(np.array(cfg.eta_grid, float), np.array(cfg.lam_grid, float), indexing="ij")
    w_ideal_g = sgdr_discrete(x, y, eta_g.ravel(), lam_g.ravel(), epochs=cfg.epochs)
    w_analog_g = sgdr_analog(x, y, model, eta_g.ravel(), lam_g.ravel(), **common).weights
    ideal_pred_g = w_ideal_g @ x_eval.T  # (H, N)
    nmse_g = nmse_vs_ideal(w_analog_g @ x_eval.T, np.broadcast_to(ideal_pred_g[:, None], (len(ideal_pred_g), cfg.dies, len(y_eval))))
    heatmap = {"eta": np.array(cfg.eta_grid, float), "lam": np.array(cfg.lam_grid, float),
               "nmse_median": np.median(nmse_g, axis=-1).reshape(eta_g.shape),
               "ideal_test_mse": np.mean((ideal_pred_g - y_eval) ** 2, axis=-1).reshape(eta_g.shape)}  # fmt: skip

    _progress(progress, "error budget (one non-ideality at a time)")
    budget = []
    cases = [("none (continuous time)", AnalogModel())]
    cases += [(name, model.only(name)) for name in NON_IDEALITIES]
    cases.append(("all", model))
    for name, case in cases:
        active = case != AnalogModel()
        if name != "none (continuous time)" and name != "all" and not active:
            budget.append({"name": name, "active": False, **die_stats(np.zeros(1))})
            continue
        w = sgdr_analog(x, y, case, cfg.eta, cfg.lam, **common).weights
        budget.append({"name": name, "active": True, **die_stats(evaluate(task, w, w_ideal)["nmse_vs_ideal"])})

    nmse = np.atleast_1d(head["nmse_vs_ideal"])
    summary: dict[str, Any] = {
        "nmse_vs_ideal": float(np.mean(nmse)),
        "nmse_vs_ideal_dies": die_stats(nmse),
        "weight_nmse": float(np.mean(head["weight_nmse"])),
        "weight_nmse_dies": die_stats(np.atleast_1d(head["weight_nmse"])),
        "evaluated_on": where,
        "ideal": {"weights": w_ideal.tolist(), "train_mse": head["ideal_train_mse"],
                  "test_mse": head["ideal_test_mse"]},  # fmt: skip
        "analog": {"weights_mean": run.weights.mean(axis=0).tolist(),
                   "train_mse": _mean_or_none(head["analog_train_mse"]),
                   "test_mse": _mean_or_none(head["analog_test_mse"]),
                   "test_mse_dies": None if head["analog_test_mse"] is None
                   else die_stats(np.atleast_1d(head["analog_test_mse"]))},  # fmt: skip
        "task": {"name": task.name, "features": list(task.feature_names), "target": task.target_name,
                 "n_train": int(len(y)), "n_test": int(len(task.y_test))},  # fmt: skip
        "config": _jsonable(asdict(cfg)),
        "model": _jsonable(asdict(model)),
        "bits_sweep": {"bits": list(cfg.bits_grid),
                       "nmse_median": np.median(bits_nmse, axis=-1).tolist()},  # fmt: skip
        "error_budget": budget,
    }
    bits_sweep = {"bits": np.array(cfg.bits_grid), "nmse": bits_nmse}
    return CompareResult(summary=summary, curves=curves, bits_sweep=bits_sweep, heatmap=heatmap, budget=budget)


def _mean_or_none(value: Any) -> float | None:
    return None if value is None else float(np.mean(value))


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, float) and not np.isfinite(value):
            value = None  # e.g. w_max = inf (no range limit)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out
