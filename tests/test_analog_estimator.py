"""AnalogSGDRegressor (the behavioural learner behind a scikit-learn estimator) and the quantizer:
the scikit-learn contract, reduction to the exact continuous learner, state continuation, bits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from calibration.schema import default_calibration_path, load_calibration
from logdomain.estimators import AnalogSGDRegressor, SGDrRegressor
from logdomain.learner_sim import quantize
from logdomain.tasks import synthetic_regression

SHIPPED = load_calibration(default_calibration_path())


@pytest.fixture(scope="module")
def task():
    return synthetic_regression(dim=4, samples=240, noise_std=0.05, seed=3)


@parametrize_with_checks([
    AnalogSGDRegressor(),
    AnalogSGDRegressor(calibration=SHIPPED, dies=3, fit_intercept=True),
])  # fmt: skip
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_estimator_without_calibration_follows_continuous_sgdr(task):
    """No calibration: ideal blocks, no mismatch — the exact ZOH flow up to the integration error of
    the W± dynamics (Heun substeps) and chopping, which cancels."""
    kw = dict(eta=0.2, lam=0.01, epochs=2)
    a = AnalogSGDRegressor(substeps=8, **kw).fit(task.x_train, task.y_train)
    c = SGDrRegressor(mode="continuous", **kw).fit(task.x_train, task.y_train)
    np.testing.assert_allclose(a.coef_, c.coef_, rtol=0, atol=2e-3 * np.max(np.abs(c.coef_)))
    assert a.score(task.x_test, task.y_test) > 0.9


def test_shipped_calibration_moves_the_weights_but_still_learns(task):
    kw = dict(eta=0.05, lam=1e-3, epochs=3)
    ideal = AnalogSGDRegressor(**kw).fit(task.x_train, task.y_train)
    analog = AnalogSGDRegressor(calibration=SHIPPED, dies=4, **kw).fit(task.x_train, task.y_train)
    assert analog.coef_dies_.shape == (4, 4)
    assert np.ptp(analog.coef_dies_, axis=0).max() > 1e-3  # dies differ: mismatch is on
    assert not np.allclose(analog.coef_, ideal.coef_, atol=1e-4)
    assert analog.score(task.x_test, task.y_test) > 0.8


def test_partial_fit_chunks_equal_one_pass(task):
    est = AnalogSGDRegressor(calibration=SHIPPED, dies=2)
    whole = est.fit(task.x_train, task.y_train).coef_dies_
    part = AnalogSGDRegressor(**est.get_params())
    for chunk in np.array_split(np.arange(len(task.y_train)), 3):
        part.partial_fit(task.x_train[chunk], task.y_train[chunk])
    np.testing.assert_allclose(part.coef_dies_, whole, rtol=1e-9, atol=1e-9)
    assert part.t_ == len(task.y_train)


def test_resolution_error_falls_with_bits(task):
    kw = dict(eta=0.05, lam=1e-3, epochs=2)
    ref = AnalogSGDRegressor(**kw).fit(task.x_train, task.y_train).coef_
    errors = [np.abs(AnalogSGDRegressor(bits=b, **kw).fit(task.x_train, task.y_train).coef_ - ref).max() for b in (3, 6, 10)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 2e-3


def test_estimator_rejects_non_calibration():
    with pytest.raises(TypeError, match="calibration"):
        AnalogSGDRegressor(calibration="sky130").fit(np.ones((3, 1)), np.ones(3))


def test_quantize_midtread_saturating():
    np.testing.assert_array_equal(quantize([0.0, 0.26, -2.0, 1.5], 3), [0.0, 0.25, -1.0, 1.0])
    assert quantize([3.3], 3, clip=False)[0] == 3.25 and quantize([0.3], None)[0] == 0.3
