"""scikit-learn estimators: ideal SGDr (:mod:`logdomain.ideal`) and the analog learner (:mod:`logdomain.analog`)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6 (pyproject allows >= 1.4)

    def validate_data(estimator, *args, **kwargs):  # type: ignore[no-redef]
        return estimator._validate_data(*args, **kwargs)


from .ideal import sgdr_continuous_zoh, sgdr_discrete

__all__ = ["SGDrRegressor", "AnalogSGDRegressor"]


class _StreamRegressor(RegressorMixin, BaseEstimator):
    """Shared estimator contract of the SGDr learners.

    Rows are learned in the order given; ``fit`` starts from ``w = 0`` for ``epochs`` passes,
    ``partial_fit`` continues with one pass (consecutive chunks equal one pass over the stream),
    ``predict`` returns ``wᵀx + b``. Subclasses implement :meth:`_train`, which returns the
    (intercept-augmented) weights after the passes.
    """

    def _train(self, X: NDArray, y: NDArray, *, reset: bool, epochs: int) -> NDArray:  # pragma: no cover
        raise NotImplementedError

    def _learn(self, X: ArrayLike, y: ArrayLike, *, reset: bool, epochs: int):
        """The one training loop shared by :meth:`fit` and :meth:`partial_fit`."""
        X, y = validate_data(self, X, y, reset=reset, y_numeric=True, dtype=np.float64)
        if self.fit_intercept:
            X = np.column_stack([X, np.ones(X.shape[0])])
        w = self._train(X, y, reset=reset, epochs=epochs)
        if self.fit_intercept:
            self.coef_, self.intercept_ = w[:-1], float(w[-1])
        else:
            self.coef_, self.intercept_ = w, 0.0
        self.n_iter_ = epochs
        self.t_ = (0 if reset else self.t_) + epochs * X.shape[0]
        return self

    def _initial_weights(self) -> NDArray:
        """Current weights with the intercept appended when it is learned."""
        return np.append(self.coef_, self.intercept_) if self.fit_intercept else self.coef_

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike):
        """Learn from ``w = 0`` with ``epochs`` in-order passes over ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (dimensionless, circuit units), one row per sample, processed in order.
        y : array-like of shape (n_samples,)
            Targets.

        Returns
        -------
        self
            The fitted estimator.
        """
        return self._learn(X, y, reset=True, epochs=self.epochs)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: ArrayLike, y: ArrayLike):
        """One in-order pass over ``(X, y)``, continuing from the current weights.

        The first call starts from ``w = 0``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the same features as in earlier calls.
        y : array-like of shape (n_samples,)
            Targets.

        Returns
        -------
        self
            The updated estimator.
        """
        return self._learn(X, y, reset=not hasattr(self, "coef_"), epochs=1)

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predict ``wᵀx + b`` for each row of ``X`` (shape (n_samples,))."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_


class SGDrRegressor(_StreamRegressor):
    """Linear regression ``y = wᵀx`` learned by (ideal) SGD regression with weight decay.

    Rows are processed in the order given (no shuffling), starting from ``w = 0``, for ``epochs``
    passes (DESIGN.md §2). ``mode="discrete"`` applies ::

        w ← (1 − ηλ) w + η (y − wᵀx) x

    once per row (:func:`logdomain.ideal.sgdr_discrete`); ``mode="continuous"`` integrates
    ``τ dw/dt = (y − wᵀx) x − λ w`` exactly with each row held for ``T_s = η τ`` seconds
    (:func:`logdomain.ideal.sgdr_continuous_zoh`), i.e. what an ideal analog integrator learns.

    Parameters
    ----------
    eta : float, default 0.01
        Learning rate η > 0 (dimensionless). In continuous mode ``η = T_s/τ``. The discrete
        update is stable only while ``η (‖x‖² + λ) < 2`` for every row; scale inputs to about
        [−1, 1] (e.g. :class:`logdomain.tasks.MaxAbsScaling`) or standardize them.
    lam : float, default 1e-3
        Weight decay λ >= 0 (dimensionless). It decays every weight, including the intercept
        weight when ``fit_intercept=True`` (as a circuit's leak does).
    epochs : int, default 1
        Passes over the data in :meth:`fit` (>= 1); :meth:`partial_fit` always makes one pass.
    mode : {"discrete", "continuous"}, default "discrete"
        Which ideal learner to run.
    tau_s : float, default 1.0
        Integrator time constant τ > 0 in seconds (continuous mode). The learned weights depend
        only on η; τ sets the time scale, reported as ``t_hold_s_ = η τ``.
    fit_intercept : bool, default False
        Learn a bias as the weight of an extra constant-1 input (``y = wᵀx + b``).
    step_cap : float in (0, 2) or None, default 1.0
        Stability guard of the discrete mode (see :func:`logdomain.ideal.sgdr_discrete`): a row
        with ``η (‖x‖² + λ) > step_cap`` is applied with the reduced step
        ``step_cap/(‖x‖² + λ)`` instead of η, and a ``UserWarning`` reports how many rows were
        affected. Plain SGDr diverges on such rows once the product exceeds 2, which happens on
        unscaled data (e.g. inputs around 100). Rows within range are untouched, so on inputs in
        [−1, 1] with fewer than ``step_cap/η − λ`` features the result is exactly plain SGDr.
        ``None`` disables the guard. The continuous mode is stable for any input and ignores it.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Learned weights.
    intercept_ : float
        Learned bias; 0.0 when ``fit_intercept=False``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, only when ``X`` had string column names.
    n_iter_ : int
        Passes over the data made by the last call to ``fit`` or ``partial_fit``.
    t_ : int
        Total number of row updates since the last ``fit`` (``partial_fit`` accumulates).
    t_hold_s_ : float
        Hold time per row in seconds, ``η τ`` (continuous mode meaning; reported in both modes).
    n_step_capped_ : int
        Row updates of the last call whose step the ``step_cap`` guard reduced (0 = plain SGDr).

    See Also
    --------
    sklearn.linear_model.SGDRegressor : shuffled, scheduled SGD with the same loss.

    Examples
    --------
    >>> import numpy as np
    >>> from logdomain.estimators import SGDrRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(500, 3))
    >>> y = X @ np.array([0.5, -0.2, 0.1])
    >>> SGDrRegressor(eta=0.1, lam=0.0, epochs=5).fit(X, y).coef_.round(3)
    array([ 0.5, -0.2,  0.1])
    """

    _parameter_constraints: dict = {
        "eta": [Interval(Real, 0, None, closed="neither")],
        "lam": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"discrete", "continuous"})],
        "tau_s": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "step_cap": [Interval(Real, 0, 2, closed="neither"), None],
    }

    def __init__(
        self,
        eta: float = 0.01,
        lam: float = 1e-3,
        epochs: int = 1,
        mode: str = "discrete",
        tau_s: float = 1.0,
        fit_intercept: bool = False,
        step_cap: float | None = 1.0,
    ) -> None:
        self.eta = eta
        self.lam = lam
        self.epochs = epochs
        self.mode = mode
        self.tau_s = tau_s
        self.fit_intercept = fit_intercept
        self.step_cap = step_cap

    def _train(self, X: NDArray, y: NDArray, *, reset: bool, epochs: int) -> NDArray:
        w0 = None if reset else self._initial_weights()
        n_capped = 0
        if self.mode == "discrete":
            if self.step_cap is not None:
                gain = self.eta * (np.einsum("ij,ij->i", X, X) + self.lam)
                n_capped = epochs * int(np.count_nonzero(gain > self.step_cap))
            if n_capped:
                warnings.warn(
                    f"{type(self).__name__}: eta*(||x||^2 + lam) exceeded step_cap="
                    f"{self.step_cap} on {n_capped} of {epochs * X.shape[0]} row updates; their "
                    "step was reduced (plain SGDr would overshoot or diverge). Scale the inputs "
                    "to about [-1, 1] or lower eta to run plain SGDr.",
                    UserWarning,
                    stacklevel=5,
                )
            w = sgdr_discrete(X, y, self.eta, self.lam, epochs=epochs, w0=w0, step_cap=self.step_cap)
        else:
            t_hold_s = self.eta * self.tau_s
            w = sgdr_continuous_zoh(X, y, self.tau_s, t_hold_s, self.lam, epochs=epochs, w0=w0)
        self.t_hold_s_ = float(self.eta * self.tau_s)
        self.n_step_capped_ = n_capped
        return w


class AnalogSGDRegressor(_StreamRegressor):
    """Linear regression learned by the behavioural model of the transistor-level learner.

    Integrates the learner's W⁺/W⁻ dynamics (:mod:`logdomain.learner_model`: class-AB error split,
    common-mode feedback, chopping, per-device mismatch, the nominal block gains of a calibration),
    each row held for ``T_s = η τ``, rows in order. Weights are read as the circuit reads them,
    through its prediction path. Inputs and targets are expected in circuit units (about [−1, 1]);
    with ``bits`` set they are quantized and saturate at ±1. ``partial_fit`` continues from the
    analog state and the chopping phase: consecutive chunks give exactly one pass over the stream.

    Parameters
    ----------
    eta : float, default 0.01
        Programmed ``η = T_s/τ`` > 0 (dimensionless).
    lam : float, default 1e-3
        Programmed weight decay λ >= 0 (dimensionless).
    epochs : int, default 1
        Passes over the data in :meth:`fit`; :meth:`partial_fit` makes one.
    calibration : Calibration or None, default None
        The calibration of the learner (:class:`calibration.schema.Calibration`); None means the
        default sky130 design with ideal blocks and no mismatch, i.e. the exact continuous learner.
    bits : int or None, default None
        Resolution of inputs, targets and weight read-out over [−1, 1]; None = unquantized.
    dies : int, default 1
        Dies simulated at once (independent mismatch); ``coef_`` is their median.
    substeps : int, default 4
        Heun integration steps per row.
    seed : int, default 0
        Seed of the mismatch samples (the same dies in every call).
    fit_intercept : bool, default False
        Learn a bias as the weight of an extra constant-1 input.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Effective weights, median over dies.
    intercept_ : float
        Effective bias, median over dies (0.0 without ``fit_intercept``).
    coef_dies_ : ndarray of shape (dies, n_features_in_ [+ 1])
        Effective weights of every die (bias last with ``fit_intercept``).
    model_ : LearnerModel
        The model used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, only when ``X`` had string column names.
    n_iter_ : int
        Passes made by the last call.
    t_ : int
        Row updates since the last ``fit``.
    """

    _parameter_constraints: dict = {
        "eta": [Interval(Real, 0, None, closed="neither")],
        "lam": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "calibration": "no_validation",  # checked in _model (a Calibration or None)
        "bits": [Interval(Integral, 1, 32, closed="both"), None],
        "dies": [Interval(Integral, 1, None, closed="left")],
        "substeps": [Interval(Integral, 1, None, closed="left")],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, eta: float = 0.01, lam: float = 1e-3, epochs: int = 1, calibration=None,
                 bits: int | None = None, dies: int = 1, substeps: int = 4, seed: int = 0,
                 fit_intercept: bool = False) -> None:  # fmt: skip
        self.eta = eta
        self.lam = lam
        self.epochs = epochs
        self.calibration = calibration
        self.bits = bits
        self.dies = dies
        self.substeps = substeps
        self.seed = seed
        self.fit_intercept = fit_intercept

    def _model(self):
        from calibration.schema import Calibration
        from netlists.spice_learner_circuit import LearnerParams

        from .learner_model import LearnerModel

        if self.calibration is None:
            return LearnerModel.from_learner_params(LearnerParams.for_technology("sky130"), bits=self.bits)
        if not isinstance(self.calibration, Calibration):
            raise TypeError(
                f"The 'calibration' parameter of {type(self).__name__} must be a "
                f"calibration.schema.Calibration or None. Got {self.calibration!r} instead."
            )
        return LearnerModel.from_calibration(self.calibration, bits=self.bits)

    def _train(self, X: NDArray, y: NDArray, *, reset: bool, epochs: int) -> NDArray:
        from .learner_sim import sgdr_learner

        model = self._model()
        state0, first = (None, 0) if reset else (self.state_, self.t_)
        run = sgdr_learner(X, y, model, self.eta, self.lam, epochs=epochs, dies=self.dies, seed=self.seed,
                           substeps=self.substeps, state0=state0, first_hold=first)  # fmt: skip
        self.model_, self.state_, self.coef_dies_ = model, run.state, run.weights
        return np.median(run.weights, axis=0)
