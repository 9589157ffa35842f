"""SGDrRegressor: the scikit-learn contract, and agreement with the ideal learners it wraps."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from logdomain.estimators import SGDrRegressor
from logdomain.ideal import sgdr_continuous_zoh, sgdr_discrete
from logdomain.tasks import synthetic_regression


@parametrize_with_checks(
    [
        SGDrRegressor(),
        SGDrRegressor(mode="continuous", tau_s=1e-6),
        SGDrRegressor(fit_intercept=True, lam=0.0),
        SGDrRegressor(step_cap=None),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    # The checks feed unscaled inputs (e.g. around 100) on which plain discrete SGDr diverges;
    # the default step_cap guard then reduces those rows' steps and says so in a UserWarning.
    # SGDrRegressor(step_cap=None) passes too: diverging weights stay finite on those short runs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def _data(seed=0, n=60, d=3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, d))
    return x, x @ np.array([0.4, -0.3, 0.2])[:d] + 0.01 * rng.standard_normal(n)


# ------------------------------------------------------------------------ agreement with ideal


def test_discrete_fit_equals_ideal_function():
    x, y = _data()
    est = SGDrRegressor(eta=0.2, lam=0.01, epochs=3).fit(x, y)
    np.testing.assert_array_equal(est.coef_, sgdr_discrete(x, y, 0.2, 0.01, epochs=3))
    assert est.intercept_ == 0.0 and est.n_step_capped_ == 0
    np.testing.assert_allclose(est.predict(x), x @ est.coef_, rtol=1e-15)


def test_continuous_fit_equals_ideal_function_with_hold_eta_tau():
    x, y = _data(1)
    est = SGDrRegressor(eta=0.2, lam=0.01, epochs=2, mode="continuous", tau_s=1e-6).fit(x, y)
    expected = sgdr_continuous_zoh(x, y, 1e-6, 0.2e-6, 0.01, epochs=2)
    np.testing.assert_allclose(est.coef_, expected, rtol=1e-12)
    assert est.t_hold_s_ == pytest.approx(0.2e-6)
    # Only η = T_s/τ matters for the learned weights.
    other = clone(est).set_params(tau_s=3.0).fit(x, y)
    np.testing.assert_allclose(other.coef_, est.coef_, rtol=1e-12)


def test_fit_intercept_learns_a_bias():
    x, y = _data(2, n=400)
    est = SGDrRegressor(eta=0.1, lam=0.0, epochs=20, fit_intercept=True).fit(x, y + 0.5)
    assert est.intercept_ == pytest.approx(0.5, abs=0.01)
    np.testing.assert_allclose(est.coef_, [0.4, -0.3, 0.2], atol=0.01)
    design = np.column_stack([x, np.ones(len(x))])
    w = sgdr_discrete(design, y + 0.5, 0.1, 0.0, epochs=20)
    np.testing.assert_array_equal(np.append(est.coef_, est.intercept_), w)


def test_score_on_synthetic_task():
    task = synthetic_regression(dim=4, samples=400, seed=0)
    est = SGDrRegressor(eta=0.1, lam=1e-4, epochs=10).fit(task.x_train, task.y_train)
    assert est.score(task.x_test, task.y_test) > 0.98
    np.testing.assert_allclose(est.coef_, task.teacher_weights, atol=0.02)


# ----------------------------------------------------------------------- fit / partial_fit


@pytest.mark.parametrize("mode", ["discrete", "continuous"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_partial_fit_passes_equal_fit_epochs(mode, fit_intercept):
    x, y = _data(3)
    params = dict(eta=0.1, lam=0.01, mode=mode, fit_intercept=fit_intercept)
    fitted = SGDrRegressor(epochs=3, **params).fit(x, y)
    streamed = SGDrRegressor(**params)
    for _ in range(3):
        streamed.partial_fit(x, y)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=0, atol=1e-15)
    assert streamed.intercept_ == pytest.approx(fitted.intercept_, abs=1e-15)
    assert (fitted.n_iter_, streamed.n_iter_) == (3, 1)
    assert fitted.t_ == streamed.t_ == 3 * len(y)


def test_partial_fit_on_chunks_equals_one_pass():
    x, y = _data(4, n=90)
    one = SGDrRegressor(eta=0.1).fit(x, y)
    chunked = SGDrRegressor(eta=0.1)
    for start in range(0, 90, 25):
        chunked.partial_fit(x[start : start + 25], y[start : start + 25])
    np.testing.assert_allclose(chunked.coef_, one.coef_, rtol=0, atol=1e-15)


def test_fit_restarts_from_zero_after_partial_fit():
    x, y = _data(5)
    est = SGDrRegressor(eta=0.1)
    est.partial_fit(x, y).partial_fit(x, y)
    np.testing.assert_array_equal(est.fit(x, y).coef_, SGDrRegressor(eta=0.1).fit(x, y).coef_)
    assert est.t_ == len(y)


def test_predict_checks_fitted_and_feature_count():
    x, y = _data(6)
    with pytest.raises(NotFittedError):
        SGDrRegressor().predict(x)
    est = SGDrRegressor().fit(x, y)
    with pytest.raises(ValueError, match="X has 2 features, but SGDrRegressor is expecting 3"):
        est.predict(x[:, :2])
    with pytest.raises(ValueError, match="X has 2 features, but SGDrRegressor is expecting 3"):
        est.partial_fit(x[:, :2], y)


# ------------------------------------------------------------------------------ stability guard


def test_step_cap_guard_warns_and_stays_finite_on_unscaled_inputs():
    rng = np.random.default_rng(7)
    x, y = rng.normal(loc=100, size=(50, 2)), rng.normal(size=50)
    with pytest.warns(UserWarning, match=r"exceeded step_cap=1.0 on 50 of 50 row updates"):
        guarded = SGDrRegressor().fit(x, y)
    assert guarded.n_step_capped_ == 50 and np.all(np.isfinite(guarded.predict(x)))
    # Plain SGDr on the same rows: η‖x‖² ≈ 200 > 2, so every step multiplies the error by ~200.
    with np.errstate(over="ignore", invalid="ignore"):
        plain = SGDrRegressor(step_cap=None).fit(x, y)
    assert not np.all(np.abs(plain.coef_) < 1e100)


def test_step_cap_is_silent_and_inactive_in_range():
    x, y = _data(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        guarded = SGDrRegressor(eta=0.3).fit(x, y)
    plain = SGDrRegressor(eta=0.3, step_cap=None).fit(x, y)
    np.testing.assert_array_equal(guarded.coef_, plain.coef_)


# ------------------------------------------------------------------------------ invalid params


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"eta": 0.0}, r"'eta' parameter .* float in the range \(0.0, inf\)"),
        ({"eta": -1}, r"'eta' parameter of SGDrRegressor must be"),
        ({"eta": float("inf")}, r"'eta' parameter .* range \(0.0, inf\)\. Got inf instead"),
        ({"lam": float("inf")}, r"'lam' parameter .* range \[0.0, inf\)\. Got inf instead"),
        ({"lam": -0.1}, r"'lam' parameter .* float in the range \[0.0, inf\)"),
        ({"epochs": 0}, r"'epochs' parameter .* an int in the range \[1, inf\)"),
        ({"epochs": 2.5}, r"'epochs' parameter of SGDrRegressor must be an int"),
        ({"mode": "analog"}, r"'mode' parameter of SGDrRegressor must be a str among"),
        ({"tau_s": 0}, r"'tau_s' parameter .* float in the range \(0.0, inf\)"),
        ({"fit_intercept": "yes"}, r"'fit_intercept' parameter of SGDrRegressor must be"),
        ({"step_cap": 2.0}, r"'step_cap' parameter .* range \(0.0, 2.0\) or None"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_parameters_are_rejected_in_fit(params, match, method):
    x, y = _data(9)
    est = SGDrRegressor(**params)  # __init__ stores, never validates
    assert est.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ValueError, match="The " + match):
        getattr(est, method)(x, y)


def test_invalid_data_is_rejected():
    x, y = _data(10)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        SGDrRegressor().fit(np.where(x > 0.9, np.nan, x), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SGDrRegressor().fit(x, y[:-1])
