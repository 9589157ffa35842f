"""Error metrics comparing an analog learner with its ideal baseline (DESIGN.md §6).

All metrics reduce over the **last** axis and keep any leading batch axes, so a batch of R runs
gives R values. A 1-D input gives a Python ``float``. Every metric is a dimensionless fraction
(JSON stores the fraction; show it in % to people).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["nmse_vs_ideal", "weight_nmse", "mse"]


def _pair(name_a: str, a: ArrayLike, name_b: str, b: ArrayLike) -> tuple[NDArray, NDArray]:
    """Both arrays as float64, same non-empty shape, finite, at least 1-D."""
    arrays = []
    for name, value in ((name_a, a), (name_b, b)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric ({exc})") from None
        if arr.ndim == 0:
            raise ValueError(f"{name} must be at least 1-D, got a scalar")
        if arr.shape[-1] == 0:
            raise ValueError(f"{name} must not be empty along its last axis, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must contain only finite values (found nan or inf)")
        arrays.append(arr)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {arrays[0].shape} and {arrays[1].shape}"
        )
    return arrays[0], arrays[1]


def _out(value: NDArray) -> float | NDArray:
    return float(value) if np.ndim(value) == 0 else value


def nmse_vs_ideal(y_pred_analog: ArrayLike, y_pred_ideal: ArrayLike) -> float | NDArray:
    """Normalized mean squared error of analog predictions against ideal ones (DESIGN.md §6).

    ``NMSE = mean((ŷ_analog − ŷ_ideal)²) / var(ŷ_ideal)``, taken over the held-out inputs after
    training (the headline metric). Normalising by the *variance* of the ideal predictions, not
    their mean square, keeps a constant shift from hiding in a large mean (on all-positive
    targets the mean square made 2.1 % look like 0.35 %).

    Parameters
    ----------
    y_pred_analog : array_like, shape (N,) or (..., N)
        Predictions of the analog (or continuous, or SPICE) learner on N held-out inputs.
    y_pred_ideal : array_like, same shape
        Predictions of the ideal learner on the same inputs.

    Returns
    -------
    float or ndarray, shape (...)
        The NMSE as a fraction (0.01 means 1 %), per leading batch index.

    Raises
    ------
    ValueError
        If the shapes differ, an input is empty or not finite, or ``var(ŷ_ideal)`` is 0 (the ideal
        learner predicts a constant: there is nothing to compare against).
    """
    analog, ideal = _pair("y_pred_analog", y_pred_analog, "y_pred_ideal", y_pred_ideal)
    denom = np.var(ideal, axis=-1)
    if np.any(denom == 0):
        raise ValueError(
            "nmse_vs_ideal is undefined: var(y_pred_ideal) is 0 (the ideal predictions are all equal)"
        )
    return _out(np.mean((analog - ideal) ** 2, axis=-1) / denom)


def weight_nmse(w_analog: ArrayLike, w_ideal: ArrayLike) -> float | NDArray:
    """Normalized squared distance between weight vectors, ``‖w_a − w_i‖² / ‖w_i‖²``.

    Parameters
    ----------
    w_analog : array_like, shape (D,) or (..., D)
        Weights learned by the analog learner (dimensionless).
    w_ideal : array_like, same shape
        Weights learned by the ideal learner.

    Returns
    -------
    float or ndarray, shape (...)
        The weight NMSE as a fraction, per leading batch index.

    Raises
    ------
    ValueError
        If the shapes differ, an input is empty or not finite, or ``‖w_ideal‖ = 0``.
    """
    analog, ideal = _pair("w_analog", w_analog, "w_ideal", w_ideal)
    denom = np.sum(ideal**2, axis=-1)
    if np.any(denom == 0):
        raise ValueError(
            "weight_nmse is undefined: ||w_ideal||**2 is 0 (ideal weights are all zero)"
        )
    return _out(np.sum((analog - ideal) ** 2, axis=-1) / denom)


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float | NDArray:
    """Mean squared error ``mean((y_true − y_pred)²)`` (the task error of DESIGN.md §6).

    Parameters
    ----------
    y_true : array_like, shape (N,) or (..., N)
        Targets, in the units of the task (e.g. scaled to [−1, 1]).
    y_pred : array_like, same shape
        Predictions.

    Returns
    -------
    float or ndarray, shape (...)
        The MSE in squared target units, per leading batch index.

    Notes
    -----
    For one run this is :func:`sklearn.metrics.mean_squared_error` (tested equal); it is written
    here because the learners return a batch of runs (dies × samples) and this takes the mean over
    the last axis of any batch in one call, where scikit-learn's takes 1-D/2-D inputs only.

    Raises
    ------
    ValueError
        If the shapes differ or an input is empty or not finite.
    """
    true, pred = _pair("y_true", y_true, "y_pred", y_pred)
    return _out(np.mean((true - pred) ** 2, axis=-1))
