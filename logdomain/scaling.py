"""Scale factors between the data's units and the circuit's signal range, and back (issue 13).

The learners see dimensionless signals in about [−1, 1] (signals are currents ``I = I_u · v``,
DESIGN.md §3). :class:`MaxAbsScaling` divides each feature and the target by its largest absolute
training value (no centring, so ``y = wᵀx`` keeps its form and zero stays zero). What a learner
finds on the scaled problem is reported back in the data's units by inverting the scaling:

    y/s_y ≈ Σ_i w_i · x_i/s_i   ⇔   y ≈ Σ_i (w_i · s_y/s_i) · x_i

so ``w_data_i = w_i · s_y / s_i`` and a mean squared error of the scaled targets times ``s_y²`` is
the mean squared error in target units. Note that SGD itself is not scale invariant: with the same
η, λ the scaled and unscaled problems give different trajectories (the step depends on ‖x‖²), so
the reported data-unit weights are those of SGD run on the scaled data, not of SGD on the raw data.

The factors are scikit-learn's :class:`~sklearn.preprocessing.MaxAbsScaler` (``scale_``), applied to
the features and, as one more column, to the target; this class only keeps them together, checks them
and maps weights and errors back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["METHOD", "MaxAbsScaling", "readonly_copy", "scaling_summary"]

#: name of the scaling method in reports
METHOD = "max-abs"


def readonly_copy(value: ArrayLike) -> NDArray[np.float64]:
    """A private read-only float64 copy of ``value``."""
    arr = np.array(value, dtype=np.float64)  # always a private copy
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, kw_only=True, eq=False)
class MaxAbsScaling:
    """Per-feature and target scale factors mapping training values onto [−1, 1].

    ``x_scaled = x / x_scale`` and ``y_scaled = y / y_scale``. A column that is all zero on the
    training rows gets the scale 1 (it stays zero).

    Parameters
    ----------
    x_scale : ndarray, shape (D,)
        Largest absolute training value of each feature, in the feature's own units (> 0).
    y_scale : float
        Largest absolute training value of the target, in the target's units (> 0).
    """

    x_scale: NDArray[np.float64]
    y_scale: float

    def __post_init__(self) -> None:
        x_scale = readonly_copy(self.x_scale)
        if x_scale.ndim != 1 or not np.all(np.isfinite(x_scale) & (x_scale > 0)):
            raise ValueError(f"x_scale must be a 1-D array of finite numbers > 0, got {x_scale!r}")
        if not (math.isfinite(self.y_scale) and self.y_scale > 0):
            raise ValueError(f"y_scale must be a finite number > 0, got {self.y_scale!r}")
        object.__setattr__(self, "x_scale", x_scale)
        object.__setattr__(self, "y_scale", float(self.y_scale))

    @classmethod
    def fit(cls, x: ArrayLike, y: ArrayLike) -> MaxAbsScaling:
        """Scale factors from training inputs ``x`` (N, D) and targets ``y`` (N,)."""
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        if xa.ndim != 2 or ya.ndim != 1 or xa.shape[0] != ya.shape[0] or xa.shape[0] == 0:
            raise ValueError(
                f"MaxAbsScaling.fit needs x of shape (N, D) and y of shape (N,) with N >= 1, "
                f"got {xa.shape} and {ya.shape}"
            )
        from sklearn.preprocessing import MaxAbsScaler  # its scale_: max |value|, 1 for an all-zero column

        x_scale = MaxAbsScaler().fit(xa).scale_
        y_scale = float(MaxAbsScaler().fit(ya[:, None]).scale_[0])
        return cls(x_scale=x_scale, y_scale=y_scale)

    def transform_x(self, x: ArrayLike) -> NDArray[np.float64]:
        """Inputs (N, D) in feature units → circuit units."""
        return np.asarray(x, dtype=np.float64) / self.x_scale

    def inverse_x(self, x_scaled: ArrayLike) -> NDArray[np.float64]:
        """Inputs in circuit units → feature units."""
        return np.asarray(x_scaled, dtype=np.float64) * self.x_scale

    def transform_y(self, y: ArrayLike) -> NDArray[np.float64]:
        """Targets in target units → circuit units."""
        return np.asarray(y, dtype=np.float64) / self.y_scale

    def inverse_y(self, y_scaled: ArrayLike) -> NDArray[np.float64]:
        """Targets or predictions in circuit units → target units."""
        return np.asarray(y_scaled, dtype=np.float64) * self.y_scale

    def weights_to_data(self, w_scaled: ArrayLike) -> NDArray[np.float64]:
        """Weights of the scaled problem → weights in the data's units.

        ``y/y_scale ≈ Σ w_i x_i/x_scale_i`` is ``y ≈ Σ (w_i · y_scale/x_scale_i) x_i``, so
        ``w_data_i = w_i · y_scale / x_scale_i`` (target units per feature unit). ``w_scaled`` has
        the features on its last axis (shape (D,) or (…, D), e.g. one row per die).
        """
        return np.asarray(w_scaled, dtype=np.float64) * (self.y_scale / self.x_scale)

    def mse_to_data(self, mse_scaled: float | None) -> float | None:
        """A mean squared error of the scaled problem → target units squared (``× y_scale²``);
        ``None`` (no rows to score) stays ``None``."""
        return None if mse_scaled is None else float(mse_scaled) * self.y_scale**2

    def as_dict(self, feature_names: Sequence[str]) -> dict[str, Any]:
        """JSON-able description: ``method``, ``x_scale`` by feature name, ``y_scale``."""
        if len(feature_names) != len(self.x_scale):
            raise ValueError(f"{len(feature_names)} feature names for {len(self.x_scale)} scale factors")
        return {"method": METHOD, "x_scale": {n: float(v) for n, v in zip(feature_names, self.x_scale)},
                "y_scale": self.y_scale}  # fmt: skip

    @classmethod
    def identity(cls, n_features: int) -> MaxAbsScaling:
        """Every scale factor 1: the data are used as given (``--no-scale``)."""
        return cls(x_scale=np.ones(n_features), y_scale=1.0)


def scaling_summary(scaling: MaxAbsScaling | None, feature_names: Sequence[str]) -> dict[str, Any]:
    """The ``scaling`` object of a report: :meth:`MaxAbsScaling.as_dict`, or every factor 1 with
    ``method: "none"`` when the data were used as given."""
    if scaling is None:
        out = MaxAbsScaling.identity(len(feature_names)).as_dict(feature_names)
        out["method"] = "none"
        return out
    return scaling.as_dict(feature_names)
