"""Analog SGDr learner: reduction to the exact continuous baseline, effect of each non-ideality,
vectorization over dies and hyperparameters, and the AnalogSGDRegressor contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from calibration.schema import BlockFit, Calibration, DeviceFit, MismatchFit, Provenance
from logdomain.analog import AnalogModel, quantize, sgdr_analog
from logdomain.estimators import AnalogSGDRegressor, SGDrRegressor
from logdomain.ideal import sgdr_continuous_zoh
from logdomain.tasks import synthetic_regression


def plausible_calibration(**blocks) -> Calibration:
    """A hand-made calibration with plausible sky130-like values (until the fitted one ships)."""
    dev = DeviceFit(i_spec_sq_a=2e-7, n=1.3, vt0_v=0.45, sigma_dibl=0.02, tcv_v_per_k=1e-3, bex=-1.5,
                    rms_log_error=0.02)  # fmt: skip
    fit = dict(multiplier_gain=1.04, multiplier_offset_a=2e-12, multiplier_nonlinearity=0.02,
               multiplier_rms_error=0.01, multiplier_i_unit_a=1e-9, i_unit_a=1e-9, tau_s=1e-6,
               tau_rel_error=0.05, lam_eff=0.01, lam_design=0.01,
               leak_a=1e-12, update_asymmetry=0.03, i_w_min_a=1e-12, i_w_max_a=2e-9, noise_rel=0.01,
               cell_rms_error=0.01)  # fmt: skip
    fit.update(blocks)
    return Calibration(
        provenance=Provenance(technology="sky130", corner="tt", temp_c=27.0, ngspice_version="42",
                              command="test fixture", created="2024-01-01"),  # fmt: skip
        devices={"n": dev, "p": dev}, blocks=BlockFit(**fit),
        mismatch=MismatchFit(a_vt_n_v_m=5e-9, a_vt_p_v_m=5e-9, device_w_m=2e-6, device_l_m=2e-6,
                             gain_sigma=0.05, samples=200))  # fmt: skip


@pytest.fixture(scope="module")
def task():
    return synthetic_regression(dim=5, samples=240, noise_std=0.05, seed=3)


def _run(task, model, eta=0.1, lam=1e-3, **kw):
    kw.setdefault("epochs", 3)
    return sgdr_analog(task.x_train, task.y_train, model, eta, lam, **kw).weights


# ---------------------------------------------------------------- reduction to the ideal learner


@pytest.mark.parametrize("substeps", [1, 4])
def test_ideal_model_equals_continuous_zoh_exactly(task, substeps):
    w = _run(task, AnalogModel(), eta=0.2, lam=0.01, dies=3, substeps=substeps)
    ref = sgdr_continuous_zoh(task.x_train, task.y_train, 1.0, 0.2, 0.01, epochs=3)
    # r ≡ 0: the learner is the closed-form ZOH solution for any substeps (rounding only)
    np.testing.assert_allclose(w, np.broadcast_to(ref, w.shape), rtol=0, atol=1e-12)


def test_ideal_calibration_equals_continuous_zoh(task):
    cal = plausible_calibration(multiplier_gain=1.0, multiplier_offset_a=0.0, multiplier_nonlinearity=0.0,
                                tau_rel_error=0.0, leak_a=0.0, update_asymmetry=0.0, noise_rel=0.0,
                                i_w_max_a=1e-3)  # fmt: skip
    cal = Calibration(provenance=cal.provenance, devices=cal.devices, blocks=cal.blocks,
                      mismatch=MismatchFit(**{**cal.mismatch.__dict__, "gain_sigma": 0.0}))  # fmt: skip
    model = AnalogModel.from_calibration(cal, bits=None)
    assert model.is_ideal_dynamics
    ref = sgdr_continuous_zoh(task.x_train, task.y_train, 1.0, 0.1, 1e-3, epochs=3)
    np.testing.assert_allclose(_run(task, model, dies=2), np.broadcast_to(ref, (2, 5)), atol=1e-12)
    # 24 bits: quantization step 1.2e-7 → agreement ~1e-6
    w24 = _run(task, model.replace(bits=24))
    assert np.max(np.abs(w24 - ref)) < 1e-6


def test_batched_hyperparameters_equal_separate_runs(task):
    model = AnalogModel.from_calibration(plausible_calibration(noise_rel=0.0))  # noise draws depend on H
    eta, lam = np.array([0.05, 0.2]), np.array([0.0, 0.01])
    both = _run(task, model, eta=eta, lam=lam, dies=4)
    assert both.shape == (2, 4, 5)
    for h in range(2):
        np.testing.assert_allclose(both[h], _run(task, model, eta=eta[h], lam=lam[h], dies=4), atol=1e-12)


def test_substeps_converge_first_order(task):
    model = AnalogModel(multiplier_gain=1.1, nonlinearity=0.1, asymmetry=0.2, leak=0.01)
    ws = {n: _run(task, model, eta=0.3, substeps=n) for n in (2, 4, 8, 64)}
    e2, e4, e8 = (np.abs(ws[n] - ws[64]).max() for n in (2, 4, 8))
    assert e8 < e4 < e2 and e4 / e8 > 1.5


# ------------------------------------------------------------ each non-ideality, expected direction


def test_gain_scales_equilibrium_weights_down():
    # e = y − g·wᵀx: the forward gain g makes the learner settle at w_ideal/g (noise-free teacher)
    clean = synthetic_regression(dim=5, samples=200, noise_std=0.0, seed=3)
    ref = _run(clean, AnalogModel(), eta=0.3, lam=0.0, epochs=30)
    w = _run(clean, AnalogModel(multiplier_gain=1.25), eta=0.3, lam=0.0, epochs=30)
    np.testing.assert_allclose(w * 1.25, ref, atol=1e-6)
    np.testing.assert_allclose(ref[0], clean.teacher_weights, atol=1e-6)


@pytest.mark.parametrize("change", [dict(leak=0.02), dict(lam_scale=5.0)])
def test_leak_and_lambda_shrink_weights(task, change):
    ref, w = _run(task, AnalogModel(), lam=0.05), _run(task, AnalogModel(**change), lam=0.05)
    assert np.linalg.norm(w) < 0.97 * np.linalg.norm(ref)


def test_slower_tau_learns_slower(task):
    kw = dict(eta=0.02, epochs=1)  # early in training, weights still growing from 0
    assert np.linalg.norm(_run(task, AnalogModel(tau_scale=1.5), **kw)) < np.linalg.norm(_run(task, AnalogModel(), **kw))


@pytest.mark.parametrize("a", [0.3, -0.3])
def test_asymmetry_biases_weights_in_its_direction(task, a):
    ref, w = _run(task, AnalogModel()), _run(task, AnalogModel(asymmetry=a))
    assert np.sign(np.mean(w - ref)) == np.sign(a)


def test_offset_changes_result_and_grows(task):
    ref = _run(task, AnalogModel())
    d = [np.linalg.norm(_run(task, AnalogModel(offset=o)) - ref) for o in (0.001, 0.01)]
    assert 0 < d[0] < d[1]


def test_nonlinearity_error_grows_with_nu(task):
    ref = _run(task, AnalogModel())
    d = [np.linalg.norm(_run(task, AnalogModel(nonlinearity=n)) - ref) for n in (0.02, 0.1)]
    assert 0 < d[0] < d[1]


def test_range_limit_confines_weights(task):
    ref = _run(task, AnalogModel())
    w_max = 0.5 * np.abs(ref).max()
    w = _run(task, AnalogModel(w_max=w_max))
    assert np.abs(w).max() <= w_max + 1e-15 and not np.allclose(w, ref)


@pytest.mark.parametrize("field, values", [("gain_sigma", (0.02, 0.2)), ("noise_rel", (0.05, 0.5))])
def test_mismatch_and_noise_spread_dies(task, field, values):
    spread = [np.std(_run(task, AnalogModel(**{field: v}), dies=16), axis=0).mean() for v in values]
    assert 0 < spread[0] < spread[1]
    w = _run(task, AnalogModel(**{field: values[0]}), dies=3, seed=7)
    np.testing.assert_array_equal(w, _run(task, AnalogModel(**{field: values[0]}), dies=3, seed=7))


def test_bits_error_falls_with_resolution(task):
    ref = _run(task, AnalogModel())
    err = [np.abs(_run(task, AnalogModel(bits=b)) - ref).max() for b in (4, 8, 12)]
    assert err[0] > err[1] > err[2]


def test_quantize_midtread_saturating():
    np.testing.assert_array_equal(quantize([0.0, 0.26, -2.0, 1.5], 3), [0.0, 0.25, -1.0, 1.0])
    assert quantize([3.3], 3, clip=False)[0] == 3.25 and quantize([0.3], None)[0] == 0.3


def test_from_calibration_maps_fields():
    m = AnalogModel.from_calibration(plausible_calibration(), bits=10)
    # the cell leak is common to w⁺ and w⁻ and cancels in w: not mapped (see logdomain.analog)
    assert m.offset == pytest.approx(2e-3) and m.w_max == pytest.approx(2.0) and m.leak == 0.0
    assert m.tau_scale == pytest.approx(1.05) and m.gain_sigma == 0.05 and m.bits == 10
    assert AnalogModel.from_calibration(plausible_calibration(), lam_design=0.005).lam_scale == pytest.approx(2.0)


@pytest.mark.parametrize("kw, match", [
    (dict(nonlinearity=1.0), "nonlinearity"), (dict(asymmetry=2.0), "asymmetry"),
    (dict(bits=0), "bits"), (dict(multiplier_gain=math.nan), "multiplier_gain"),
])  # fmt: skip
def test_model_rejects_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        AnalogModel(**kw)


@pytest.mark.parametrize("kw, match", [
    (dict(eta=0.0), "eta"), (dict(lam=-1.0), "lam"), (dict(dies=0), "dies"), (dict(substeps=0), "substeps"),
])  # fmt: skip
def test_sgdr_analog_rejects_bad_arguments(task, kw, match):
    args = dict(eta=0.1, lam=0.0)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        sgdr_analog(task.x_train, task.y_train, AnalogModel(), args.pop("eta"), args.pop("lam"), **args)


def test_float32_close_to_float64(task):
    # noise off: with noise on, the two precisions draw different random numbers and differ by
    # the noise itself (1e-4 here), which says nothing about rounding
    model = AnalogModel.from_calibration(plausible_calibration(noise_rel=0.0))
    w64 = _run(task, model, dies=2)
    w32 = sgdr_analog(task.x_train, task.y_train, model, 0.1, 1e-3, epochs=3, dies=2, dtype=np.float32).weights
    # float32 (used for throughput) accumulates at most ~(updates)·eps ≈ 2000·6e-8 ≈ 1e-4 of rounding
    # (measured 2e-6); it must stay below half an LSB at the finest resolution the toolkit studies
    # (12 bits: 2^-12)
    assert np.abs(w32 - w64).max() < 2.0**-12


# -------------------------------------------------------------------------- estimator contract


@parametrize_with_checks([
    AnalogSGDRegressor(),
    AnalogSGDRegressor(calibration=plausible_calibration(), dies=3, fit_intercept=True),
])  # fmt: skip
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_estimator_without_calibration_equals_continuous_sgdr(task):
    kw = dict(eta=0.2, lam=0.01, epochs=2)
    a = AnalogSGDRegressor(**kw).fit(task.x_train, task.y_train)
    c = SGDrRegressor(mode="continuous", **kw).fit(task.x_train, task.y_train)
    np.testing.assert_allclose(a.coef_, c.coef_, atol=1e-12)
    assert a.score(task.x_test, task.y_test) > 0.9


def test_partial_fit_chunks_equal_one_pass(task):
    est = AnalogSGDRegressor(calibration=plausible_calibration(noise_rel=0.0), dies=2, bits=None)
    whole = est.fit(task.x_train, task.y_train).coef_dies_
    part = AnalogSGDRegressor(**est.get_params())
    for chunk in np.array_split(np.arange(len(task.y_train)), 3):
        part.partial_fit(task.x_train[chunk], task.y_train[chunk])
    np.testing.assert_allclose(part.coef_dies_, whole, atol=1e-12)
    assert part.t_ == len(task.y_train)


def test_estimator_rejects_non_calibration():
    with pytest.raises(TypeError, match="calibration"):
        AnalogSGDRegressor(calibration="sky130").fit(np.ones((3, 1)), np.ones(3))


# ------------------------------------------------------------------- compiled loop = numpy loop


@pytest.mark.parametrize("changes", [{}, {"leak": 1e-3, "offset": 2e-3}, {"asymmetry": 0.0, "gain_sigma": 0.0}, {"w_max": 0.2}])
@pytest.mark.parametrize("batched", [False, True])
def test_numba_kernel_equals_numpy_loop(task, changes, batched):
    model = AnalogModel.from_calibration(plausible_calibration(noise_rel=0.0), bits=8).replace(**changes)
    eta, lam = (np.array([0.05, 0.2]), np.array([0.0, 1e-2])) if batched else (0.1, 1e-3)
    runs = [sgdr_analog(task.x_train, task.y_train, model, eta, lam, epochs=2, dies=3, record_every=7, backend=b)
            for b in ("numpy", "numba")]
    np.testing.assert_allclose(runs[1].state, runs[0].state, rtol=0, atol=1e-12)
    np.testing.assert_allclose(runs[1].history, runs[0].history, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(runs[1].weights, runs[0].weights)


def test_numba_backend_refuses_noise(task):
    with pytest.raises(ValueError, match="noise_rel = 0"):
        sgdr_analog(task.x_train, task.y_train, AnalogModel(noise_rel=0.01), 0.1, 1e-3, backend="numba")
    with pytest.raises(ValueError, match="backend"):
        sgdr_analog(task.x_train, task.y_train, AnalogModel(), 0.1, 1e-3, backend="fortran")
