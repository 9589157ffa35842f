"""Issue 13, part 1: `train` in the data's units, `--no-scale`, `--shuffle`.

The acceptance check is against scikit-learn's SGDRegressor, an independent implementation of the
same update. Its order was read in ``sklearn/linear_model/_sgd_fast.pyx.tp`` (``_plain_sgd``, 1.9):
the prediction ``p = wᵀx`` is taken with the old weights, then ``w.scale(1 − η·α)`` (the l2 decay),
then ``w.add(x, −η·(p − y))``; i.e. ``w ← (1 − ηα)w + η(y − w_oldᵀx)x``, the update of
:func:`logdomain.ideal.sgdr_discrete` with λ = α. ``test_sklearn_update_order_is_ours`` pins that
order on one step from non-zero weights, where the other order (gradient at the decayed weights)
would differ by η²α(wᵀx)x.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from logdomain.cli import main
from logdomain.ideal import sgdr_discrete
from logdomain.scaling import MaxAbsScaling
from logdomain.tasks import load_csv, shuffle_training_rows

import sklearn.linear_model as sklearn_linear  # a dependency: never skipped


def _write_csv(path, header: list[str], columns: list[np.ndarray]) -> None:
    rows = zip(*(c.tolist() for c in columns))
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(repr(v) for v in r) for r in rows) + "\n")


def _sgd_sklearn(x: np.ndarray, y: np.ndarray, eta: float, lam: float, epochs: int, coef_init=None) -> np.ndarray:
    reg = sklearn_linear.SGDRegressor(loss="squared_error", penalty="l2", alpha=lam, learning_rate="constant",
                                      eta0=eta, fit_intercept=False, shuffle=False, max_iter=epochs, tol=None)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, by design here
        reg.fit(x, y, coef_init=None if coef_init is None else np.array(coef_init))  # fit writes into coef_init
    return reg.coef_


def _train(capsys, *argv: str) -> dict:
    assert main(["train", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def scaled_csv(tmp_path_factory):
    """Already-scaled data: every value in [−1, 1], no column reaching 1 (so max-abs would rescale)."""
    rng = np.random.default_rng(13)
    x = rng.uniform(-0.9, 0.9, (120, 3))
    y = np.clip(x @ [0.6, -0.4, 0.25] + 0.05 * rng.standard_normal(120), -0.95, 0.95)
    path = tmp_path_factory.mktemp("units") / "scaled.csv"
    _write_csv(path, ["a", "b", "c", "y"], [x[:, 0], x[:, 1], x[:, 2], y])
    return path, x, y


def test_sklearn_update_order_is_ours():
    x = np.array([[0.7, -0.4, 0.2]])
    y = np.array([0.3])
    w0 = np.array([0.5, 0.8, -0.6])
    eta, lam = 0.3, 0.5
    ours = (1 - eta * lam) * w0 + eta * (y[0] - w0 @ x[0]) * x[0]
    other = (1 - eta * lam) * w0 + eta * (y[0] - (1 - eta * lam) * w0 @ x[0]) * x[0]
    assert np.max(np.abs(ours - other)) > 1e-3  # the two orders are distinguishable here
    np.testing.assert_allclose(_sgd_sklearn(x, y, eta, lam, 1, coef_init=w0), ours, rtol=1e-12)
    np.testing.assert_allclose(sgdr_discrete(x, y, eta, lam, epochs=1, w0=w0), ours, rtol=1e-12)


@pytest.mark.parametrize("eta, lam, epochs", [(0.05, 1e-3, 5), (0.2, 0.0, 3), (0.1, 0.05, 10)])
def test_train_no_scale_equals_sklearn_sgdregressor(capsys, scaled_csv, eta, lam, epochs):
    """Acceptance: `train --model ideal --no-scale` on already-scaled data is scikit-learn's SGD."""
    path, x, y = scaled_csv
    out = _train(capsys, "--model", "ideal", "--data", str(path), "--target", "y", "--no-scale", "--test-fraction", "0",
                 "--eta", str(eta), "--lam", str(lam), "--epochs", str(epochs))  # fmt: skip
    ref = _sgd_sklearn(x, y, eta, lam, epochs)
    np.testing.assert_allclose(out["weights"], ref, rtol=1e-9, atol=0)
    assert out["weights_scaled"] == out["weights"] and out["scaling"]["method"] == "none"
    assert out["train_mse"] == pytest.approx(np.mean((x @ ref - y) ** 2), rel=1e-9) and out["test_mse"] is None


def test_default_scaling_is_what_issue_13_reported(capsys, scaled_csv):
    """Without --no-scale the same run is SGD on x/x_scale, y/y_scale: `weights_scaled` are not
    scikit-learn's on the raw data, `weights` are the inverse-scaled ones (the bug was reporting
    the former as if they were the latter)."""
    path, x, y = scaled_csv
    out = _train(capsys, "--data", str(path), "--target", "y", "--test-fraction", "0")
    s = MaxAbsScaling.fit(x, y)
    w_scaled = sgdr_discrete(s.transform_x(x), s.transform_y(y), 0.05, 1e-3, epochs=5)
    np.testing.assert_allclose(out["weights_scaled"], w_scaled, rtol=1e-12)
    np.testing.assert_allclose(out["weights"], w_scaled * s.y_scale / s.x_scale, rtol=1e-12)
    assert not np.allclose(out["weights_scaled"], _sgd_sklearn(x, y, 0.05, 1e-3, 5), rtol=1e-3)


@pytest.mark.parametrize("factor, rtol", [(8.0, 0.0), (10.0, 1e-12)])  # a power of 2 scales exactly
def test_reported_weights_follow_the_units_of_the_csv(capsys, tmp_path, scaled_csv, factor, rtol):
    """Feature `a` in units c× smaller (values ×c): its weight ×1/c, the others and the MSEs equal;
    target ×c: every weight ×c, MSEs ×c². Max-abs scaling makes the learner's problem the same."""
    _, x, y = scaled_csv
    common = ["--target", "y", "--test-fraction", "0.25", "--intercept", "--epochs", "4"]
    base_csv, a_csv, y_csv = tmp_path / "base.csv", tmp_path / "a.csv", tmp_path / "y.csv"
    _write_csv(base_csv, ["a", "b", "y"], [x[:, 0], x[:, 1], y])
    _write_csv(a_csv, ["a", "b", "y"], [factor * x[:, 0], x[:, 1], y])
    _write_csv(y_csv, ["a", "b", "y"], [x[:, 0], x[:, 1], factor * y])
    base = _train(capsys, "--data", str(base_csv), *common)
    a = _train(capsys, "--data", str(a_csv), *common)
    t = _train(capsys, "--data", str(y_csv), *common)
    w = np.array(base["weights"])
    np.testing.assert_allclose(a["weights"], w * [1 / factor, 1, 1], rtol=rtol, atol=0)
    np.testing.assert_allclose([a["train_mse"], a["test_mse"]], [base["train_mse"], base["test_mse"]], rtol=rtol)
    np.testing.assert_allclose(t["weights"], w * factor, rtol=rtol, atol=0)
    np.testing.assert_allclose([t["train_mse"], t["test_mse"]], np.array([base["train_mse"], base["test_mse"]]) * factor**2,
                               rtol=max(rtol, 1e-15))  # fmt: skip
    np.testing.assert_allclose(a["weights_scaled"], base["weights_scaled"], rtol=rtol, atol=0)
    assert a["scaling"]["x_scale"]["a"] == pytest.approx(factor * base["scaling"]["x_scale"]["a"], rel=1e-15)


def test_shuffle_is_one_seeded_permutation_of_the_training_rows(scaled_csv):
    path, _, _ = scaled_csv
    task = load_csv(path, "y", seed=4)
    a, b, c = shuffle_training_rows(task, 4), shuffle_training_rows(task, 4), shuffle_training_rows(task, 5)
    np.testing.assert_array_equal(a.x_train, b.x_train)  # reproducible
    assert not np.array_equal(a.y_train, task.y_train) and not np.array_equal(a.y_train, c.y_train)
    order = np.array([np.flatnonzero(task.y_train == v)[0] for v in a.y_train])
    assert sorted(order) == list(range(len(task.y_train)))  # a permutation, rows kept whole
    np.testing.assert_array_equal(a.x_train, task.x_train[order])
    np.testing.assert_array_equal(a.x_test, task.x_test)  # the split and held-out rows are untouched
    assert a.scaling is task.scaling


def test_train_shuffle_uses_the_same_order_every_epoch(capsys, tmp_path):
    """On a CSV sorted by y, --shuffle trains on one permutation (the same in each of 3 epochs),
    reproducibly; in file order one pass gives a far worse test MSE."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (200, 2))
    y = x @ [0.8, -0.5] + 0.3 + 0.05 * rng.standard_normal(200)
    order = np.argsort(y)
    path = tmp_path / "sorted.csv"
    _write_csv(path, ["a", "b", "y"], [x[order, 0], x[order, 1], y[order]])
    common = ["--data", str(path), "--target", "y", "--intercept", "--seed", "7", "--epochs", "3", "--eta", "0.05"]
    shuffled, again, in_order = _train(capsys, *common, "--shuffle"), _train(capsys, *common, "--shuffle"), _train(capsys, *common)
    assert shuffled == again and shuffled["shuffle"] is True and in_order["shuffle"] is False
    task = shuffle_training_rows(load_csv(path, "y", intercept=True, seed=7), 7)
    np.testing.assert_allclose(shuffled["weights_scaled"], sgdr_discrete(task.x_train, task.y_train, 0.05, 1e-3, epochs=3),
                               rtol=1e-12)  # fmt: skip
    # one pass in y order ends fitted to the largest targets; one pass shuffled does not (measured 52×)
    one = [*common, "--epochs", "1"]
    assert 10 * _train(capsys, *one, "--shuffle")["test_mse"] < _train(capsys, *one)["test_mse"]
    assert in_order["weights"] != shuffled["weights"]


def test_no_scale_refuses_data_outside_the_analog_range(capsys, tmp_path):
    path = tmp_path / "wide.csv"
    _write_csv(path, ["a", "y"], [np.linspace(-1, 1, 20), np.linspace(-1.5, 1.5, 20)])
    for argv in (["train", "--model", "analog"], ["train", "--model", "spice"], ["compare", "--out", str(tmp_path / "r")]):
        assert main([*argv, "--data", str(path), "--target", "y", "--no-scale"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--no-scale" in err[0] and "[-1, 1]" in err[0] and "'y' reaches |1.5|" in err[0], err
    assert not (tmp_path / "r").exists()
    # the ideal and continuous learners are software: any values (their stability is still checked)
    for model in ("ideal", "continuous"):
        out = _train(capsys, "--model", model, "--data", str(path), "--target", "y", "--no-scale", "--eta", "0.1")
        assert out["scaling"]["method"] == "none" and out["weights"] == out["weights_scaled"]


@pytest.mark.parametrize("argv, message", [
    (["montecarlo", "--shuffle"], "unrecognized arguments: --shuffle"),
    (["compare", "--against", "spice", "--no-scale"], "--no-scale does not apply to --against spice"),
    (["compare", "--against", "spice", "--shuffle"], "--shuffle does not apply to --against spice"),
])  # fmt: skip
def test_row_options_are_refused_where_they_do_not_apply(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
