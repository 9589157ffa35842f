"""Ideal SGDr baselines against independent references, and the metrics that compare to them.

References: a plain-Python loop (discrete), scipy's ODE solver and matrix exponential
(continuous). Tolerances are stated where they are used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from logdomain.ideal import sgdr_continuous_zoh, sgdr_discrete
from logdomain.metrics import mse, nmse_vs_ideal, weight_nmse


def _stream(seed: int = 0, k: int = 25, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (k, d)), rng.uniform(-1, 1, k)


def _reference_discrete(x, y, eta, lam, epochs=1, w0=None, step_cap=None):
    """Plain-Python SGDr, written independently of the implementation (lists, no numpy)."""
    x = [[float(v) for v in row] for row in x]
    w = [0.0] * len(x[0]) if w0 is None else [float(v) for v in w0]
    history = [list(w)]
    for _ in range(epochs):
        for row, target in zip(x, y):
            step = eta
            if step_cap is not None:
                step = min(eta, step_cap / (sum(v * v for v in row) + lam))
            err = float(target) - sum(wi * xi for wi, xi in zip(w, row))
            w = [(1.0 - step * lam) * wi + step * err * xi for wi, xi in zip(w, row)]
            history.append(list(w))
    return np.array(w), np.array(history)


def _expm_hold(w, x, y, eta, lam):
    """One hold by the matrix exponential of the augmented system d[w; 1]/dt = [[−A, b], [0, 0]]."""
    d = len(w)
    m = np.zeros((d + 1, d + 1))
    m[:d, :d] = -(np.outer(x, x) + lam * np.eye(d)) * eta  # τ = 1, T = η
    m[:d, d] = y * x * eta
    return (expm(m) @ np.append(w, 1.0))[:d]


# ------------------------------------------------------------------------------------ discrete


@pytest.mark.parametrize(
    ("eta", "lam", "epochs"),
    [(0.1, 0.0, 1), (0.05, 0.01, 3), (0.5, 0.2, 2), (0.01, 1.0, 5), (1.2, 0.0, 1)],
)
def test_discrete_matches_plain_python_loop(eta, lam, epochs):
    x, y = _stream()
    w, hist = sgdr_discrete(x, y, eta, lam, epochs=epochs, return_history=True)
    w_ref, hist_ref = _reference_discrete(x, y, eta, lam, epochs)
    assert w.shape == (3,)
    assert hist.shape == (len(y) * epochs + 1, 3)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hist, hist_ref, rtol=0, atol=1e-12)


def test_discrete_starts_from_w0_and_history_ends_at_w():
    x, y = _stream(1)
    w0 = np.array([0.3, -0.2, 0.1])
    w, hist = sgdr_discrete(x, y, 0.1, 0.01, epochs=2, w0=w0, return_history=True)
    np.testing.assert_array_equal(hist[0], w0)
    np.testing.assert_array_equal(hist[-1], w)
    np.testing.assert_allclose(w, _reference_discrete(x, y, 0.1, 0.01, 2, w0)[0], atol=1e-12)


def test_discrete_batched_runs_equal_individual_runs():
    x, y = _stream(2)
    etas, lams = np.array([0.02, 0.1, 0.3]), np.array([0.0, 0.05, 0.5])
    w, hist = sgdr_discrete(x, y, etas, lams, epochs=2, return_history=True)
    assert w.shape == (3, 3) and hist.shape == (2 * len(y) + 1, 3, 3)
    for r in range(3):
        w_ref, hist_ref = _reference_discrete(x, y, etas[r], lams[r], 2)
        np.testing.assert_allclose(w[r], w_ref, rtol=0, atol=1e-12)
        np.testing.assert_allclose(hist[:, r], hist_ref, rtol=0, atol=1e-12)


def test_discrete_batched_data_and_scalar_params():
    xs = np.stack([_stream(s)[0] for s in range(4)])
    ys = np.stack([_stream(s)[1] for s in range(4)])
    w0 = np.linspace(-1, 1, 12).reshape(4, 3)
    w = sgdr_discrete(xs, ys, 0.1, 0.01, epochs=3, w0=w0)
    for r in range(4):
        w_ref = _reference_discrete(xs[r], ys[r], 0.1, 0.01, 3, w0[r])[0]
        np.testing.assert_allclose(w[r], w_ref, rtol=0, atol=1e-12)


def test_discrete_converges_to_teacher():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (400, 4))
    teacher = np.array([0.5, -0.3, 0.2, 0.1])
    w = sgdr_discrete(x, x @ teacher, 0.2, 0.0, epochs=5)
    np.testing.assert_allclose(w, teacher, atol=1e-6)


def test_step_cap_leaves_in_range_rows_alone_and_tames_large_inputs():
    x, y = _stream(4)
    plain = sgdr_discrete(x, y, 0.1, 0.01, epochs=2)
    # η(‖x‖² + λ) <= 0.1·(3 + 0.01) < 1, so the cap is inactive.
    np.testing.assert_array_equal(sgdr_discrete(x, y, 0.1, 0.01, epochs=2, step_cap=1.0), plain)
    big = 100.0 + x
    capped = sgdr_discrete(big, y, 0.1, 0.01, epochs=2, step_cap=1.0)
    ref = _reference_discrete(big, y, 0.1, 0.01, 2, step_cap=1.0)[0]
    np.testing.assert_allclose(capped, ref, rtol=1e-12, atol=1e-14)
    assert np.all(np.isfinite(capped))


# ---------------------------------------------------------------------------------- continuous


def _integrate_zoh(x, y, tau_s, t_hold_s, lam, epochs=1, w0=None):
    """Numerical reference: solve_ivp hold by hold (rtol 1e-10)."""
    w = np.zeros(x.shape[1]) if w0 is None else np.asarray(w0, float)
    for _ in range(epochs):
        for xk, yk in zip(x, y):
            def rhs(_t, w, xk=xk, yk=yk):
                return ((yk - w @ xk) * xk - lam * w) / tau_s

            sol = solve_ivp(rhs, (0.0, t_hold_s), w, method="DOP853", rtol=1e-10, atol=1e-13)
            w = sol.y[:, -1]
    return w


@pytest.mark.parametrize(
    ("tau_s", "t_hold_s", "lam"),
    [(1e-6, 1e-7, 0.0), (1e-3, 5e-4, 0.05), (2.0, 3.0, 0.5), (1.0, 0.01, 1e-3)],
)
def test_continuous_matches_numerical_integration(tau_s, t_hold_s, lam):
    x, y = _stream(5, k=12)
    w0 = np.array([0.2, -0.4, 0.3])
    w = sgdr_continuous_zoh(x, y, tau_s, t_hold_s, lam, epochs=2, w0=w0)
    w_ref = _integrate_zoh(x, y, tau_s, t_hold_s, lam, epochs=2, w0=w0)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-8)


@pytest.mark.parametrize("lam", [0.0, 1e-9, 0.3])
@pytest.mark.parametrize("scale", [1.0, 1e-6, 30.0])
def test_continuous_one_hold_matches_matrix_exponential(lam, scale):
    rng = np.random.default_rng(6)
    x, w0 = scale * rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4)
    for eta in (1e-4, 0.1, 2.0):
        w = sgdr_continuous_zoh(x[None], [0.7], 1.0, eta, lam, w0=w0)
        np.testing.assert_allclose(w, _expm_hold(w0, x, 0.7, eta, lam), rtol=1e-11, atol=1e-12)


def test_continuous_edge_cases_zero_input_and_zero_decay():
    w0 = np.array([1.0, -2.0])
    zero = np.zeros((3, 2))
    # x = 0, λ = 0: s + λ = 0, nothing moves.
    np.testing.assert_array_equal(sgdr_continuous_zoh(zero, [1, 2, 3], 1.0, 0.5, 0.0, w0=w0), w0)
    # x = 0, λ > 0: pure decay by exp(−λη) per hold.
    w = sgdr_continuous_zoh(zero, [1, 2, 3], 1.0, 0.5, 0.2, w0=w0)
    np.testing.assert_allclose(w, w0 * math.exp(-3 * 0.2 * 0.5), rtol=1e-14)
    # λ = 0: the component orthogonal to x is constant, the one along x moves toward y/‖x‖.
    x = np.array([[3.0, 4.0]])
    w = sgdr_continuous_zoh(x, [1.0], 1.0, 0.3, 0.0, w0=w0)
    ortho = np.array([-4.0, 3.0]) / 5.0
    assert w @ ortho == pytest.approx(w0 @ ortho, abs=1e-14)
    along = (w0 @ x[0]) / 25.0 * math.exp(-25 * 0.3) + (1 / 25.0) * (1 - math.exp(-25 * 0.3))
    np.testing.assert_allclose(w @ x[0] / 25.0, along, rtol=1e-13)


def test_continuous_long_hold_reaches_fixed_point():
    x = np.array([[0.6, -0.8, 0.0]])
    lam = 0.25
    w = sgdr_continuous_zoh(x, [0.5], 1.0, 200.0, lam, w0=[1.0, 1.0, 1.0])
    np.testing.assert_allclose(w, 0.5 * x[0] / (1.0 + lam), atol=1e-15)  # w* = y x/(s + λ)


def test_continuous_batched_runs_equal_individual_runs():
    x, y = _stream(7)
    taus, holds = np.array([1.0, 2e-3, 5.0]), np.array([0.1, 1e-4, 0.5])
    lams = np.array([0.0, 0.1, 1.0])
    w, hist = sgdr_continuous_zoh(x, y, taus, holds, lams, epochs=2, return_history=True)
    assert w.shape == (3, 3) and hist.shape == (2 * len(y) + 1, 3, 3)
    for r in range(3):
        w_r, hist_r = sgdr_continuous_zoh(x, y, taus[r], holds[r], lams[r], 2, return_history=True)
        np.testing.assert_allclose(w[r], w_r, rtol=0, atol=1e-15)
        np.testing.assert_allclose(hist[:, r], hist_r, rtol=0, atol=1e-15)


def test_continuous_depends_only_on_hold_over_tau():
    x, y = _stream(8)
    a = sgdr_continuous_zoh(x, y, 1.0, 0.05, 0.1)
    b = sgdr_continuous_zoh(x, y, 2e-6, 1e-7, 0.1)
    np.testing.assert_allclose(a, b, rtol=1e-12)


# ---------------------------------------------------------------- continuous vs discrete: O(η²)


def _halving_ratios(errors):
    return [errors[i] / errors[i + 1] for i in range(len(errors) - 1)]


def test_one_hold_differs_from_one_step_by_eta_squared():
    # From the same state, hold − step = ½η² (x xᵀ + λI) f(w) + O(η³), f = (y − wᵀx)x − λw:
    # the local error is second order, so halving η divides it by 4.
    rng = np.random.default_rng(9)
    x, w0, y, lam = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3), 0.8, 0.1
    etas = [0.02, 0.01, 0.005, 0.0025]
    errors = []
    for eta in etas:
        cont = sgdr_continuous_zoh(x[None], [y], 1.0, eta, lam, w0=w0)
        disc = sgdr_discrete(x[None], [y], eta, lam, w0=w0)
        errors.append(np.linalg.norm(cont - disc))
    assert all(3.5 <= r <= 4.5 for r in _halving_ratios(errors)), errors
    f = (y - w0 @ x) * x - lam * w0
    leading = 0.5 * np.linalg.norm((np.outer(x, x) + lam * np.eye(3)) @ f)
    assert errors[-1] / etas[-1] ** 2 == pytest.approx(leading, rel=0.01)


def test_fixed_stream_final_weights_differ_by_eta_squared():
    # Same K samples, η → 0: K local errors of O(η²) add up to O(K η²), still second order.
    x, y = _stream(10, k=20)
    errors = [
        np.linalg.norm(sgdr_continuous_zoh(x, y, 1.0, eta, 0.1) - sgdr_discrete(x, y, eta, 0.1))
        for eta in (0.004, 0.002, 0.001, 0.0005)
    ]
    assert all(3.5 <= r <= 4.5 for r in _halving_ratios(errors)), errors


def test_fixed_training_time_difference_is_only_first_order():
    # Halving η and doubling epochs keeps the time K·epochs·η fixed: 2× as many O(η²) local
    # errors, so the global difference is O(η). This is why the tests above fix K, not time.
    x, y = _stream(10, k=20)
    errors = []
    for i, eta in enumerate((0.04, 0.02, 0.01, 0.005)):
        epochs = 5 * 2**i
        cont = sgdr_continuous_zoh(x, y, 1.0, eta, 0.1, epochs=epochs)
        errors.append(np.linalg.norm(cont - sgdr_discrete(x, y, eta, 0.1, epochs=epochs)))
    assert all(1.7 <= r <= 2.3 for r in _halving_ratios(errors)), errors


# ----------------------------------------------------------------------------- invalid inputs

X3, Y3 = np.ones((3, 2)), np.ones(3)
BASE = {
    sgdr_discrete: dict(x=X3, y=Y3, eta=0.1, lam=0.0),
    sgdr_continuous_zoh: dict(x=X3, y=Y3, tau_s=1.0, t_hold_s=0.1, lam=0.0),
}
DISC, CONT = sgdr_discrete, sgdr_continuous_zoh


@pytest.mark.parametrize(
    ("func", "override", "match"),
    [
        (DISC, {"eta": float("nan")}, r"eta must be a finite number > 0, got nan"),
        (DISC, {"eta": -0.1}, r"eta must be a finite number > 0, got -0.1"),
        (DISC, {"eta": 0}, r"eta must be a finite number > 0, got 0.0"),
        (DISC, {"eta": [0.1, np.inf]}, r"eta .* got inf \(at index 1\)"),
        (DISC, {"eta": np.ones((2, 2))}, r"eta .* 1-D array \(R,\)"),
        (DISC, {"eta": "fast"}, r"eta must be numeric"),
        (DISC, {"lam": -1e-3}, r"lam must be a finite number >= 0, got -0.001"),
        (DISC, {"epochs": 0}, r"epochs must be an integer >= 1, got 0"),
        (DISC, {"epochs": 1.5}, r"epochs must be an integer >= 1, got 1.5"),
        (DISC, {"epochs": True}, r"epochs must be an integer >= 1, got True"),
        (DISC, {"step_cap": 2.0}, r"step_cap must be None or a number in \(0, 2\)"),
        (DISC, {"x": np.ones(3)}, r"x must have shape \(K, D\) or \(R, K, D\)"),
        (DISC, {"x": np.ones((0, 2)), "y": []}, r"at least one sample"),
        (DISC, {"y": np.ones(4)}, r"y must have shape .* K=3 .* got shape \(4,\)"),
        (DISC, {"x": [[1, np.nan]] * 3}, r"x must contain only finite values"),
        (DISC, {"y": [1, 2, np.inf]}, r"y must contain only finite values"),
        (DISC, {"w0": [1, 2, 3]}, r"w0 must have shape .* D=2"),
        (DISC, {"eta": [0.1, 0.2], "lam": [0, 0, 0]}, r"eta: 2, lam: 3"),
        (CONT, {"tau_s": 0.0}, r"tau_s must be a finite number > 0 \(seconds\), got 0.0"),
        (CONT, {"t_hold_s": np.nan}, r"t_hold_s must be a finite number > 0 \(seconds\), got nan"),
        (CONT, {"lam": -1}, r"lam must be a finite number >= 0, got -1.0"),
        (CONT, {"epochs": -2}, r"epochs must be an integer >= 1"),
        (CONT, {"y": np.ones((2, 2))}, r"y must have shape"),
    ],
)
def test_invalid_input_is_rejected_with_named_parameter(func, override, match):
    with pytest.raises(ValueError, match=match):
        func(**{**BASE[func], **override})


# ------------------------------------------------------------------------------------ metrics


def test_metrics_values_and_batching():
    ideal = np.array([1.0, -1.0, 2.0, 0.0])
    analog = ideal + np.array([0.1, 0.0, -0.1, 0.2])
    # variance of ideal = mean 0.5, mean square 1.5 → 1.5 − 0.25 = 1.25 (DESIGN.md §6: not the mean square)
    assert nmse_vs_ideal(analog, ideal) == pytest.approx((0.01 + 0.01 + 0.04) / 4 / 1.25)
    # a constant shift is not hidden by a large mean: same error, ideal moved by +10
    assert nmse_vs_ideal(analog + 10, ideal + 10) == pytest.approx(nmse_vs_ideal(analog, ideal))
    assert mse(ideal, analog) == pytest.approx(0.06 / 4)
    assert weight_nmse([1.0, 2.0], [1.0, 1.0]) == pytest.approx(0.5)
    assert isinstance(nmse_vs_ideal(analog, ideal), float)
    batch = nmse_vs_ideal(np.stack([analog, ideal]), np.stack([ideal, ideal]))
    np.testing.assert_allclose(batch, [nmse_vs_ideal(analog, ideal), 0.0])
    np.testing.assert_allclose(weight_nmse([[1, 2], [2, 2]], [[1, 1], [1, 1]]), [0.5, 1.0])


@pytest.mark.parametrize(
    ("func", "a", "b", "match"),
    [
        (nmse_vs_ideal, [1.0, 2.0], [3.0, 3.0], r"var\(y_pred_ideal\) is 0"),
        (weight_nmse, [1.0], [0.0], r"\|\|w_ideal\|\|\*\*2 is 0"),
        (nmse_vs_ideal, [1.0, 2.0], [1.0, 2.0, 3.0], r"same shape, got \(2,\) and \(3,\)"),
        (mse, [1.0], [np.nan], r"y_pred must contain only finite values"),
        (mse, [], [], r"y_true must not be empty"),
        (weight_nmse, 1.0, 1.0, r"w_analog must be at least 1-D"),
    ],
)
def test_metrics_reject_bad_input(func, a, b, match):
    with pytest.raises(ValueError, match=match):
        func(a, b)
