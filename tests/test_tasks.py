"""Built-in tasks, CSV loading and the max-abs scaling onto the circuit range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from logdomain.tasks import (
    TASK_NAMES,
    MaxAbsScaling,
    Task,
    diabetes,
    get_task,
    load_csv,
    synthetic_regression,
)

# ----------------------------------------------------------------------------------- synthetic


def test_synthetic_shapes_split_and_range():
    task = synthetic_regression(dim=5, samples=101, seed=3, test_fraction=0.25)
    n_test = math.ceil(0.25 * 101)
    assert task.x_train.shape == (101 - n_test, 5) and task.y_train.shape == (101 - n_test,)
    assert task.x_test.shape == (n_test, 5) and task.y_test.shape == (n_test,)
    assert task.feature_names == ("x0", "x1", "x2", "x3", "x4") and task.n_features == 5
    # Scaled on the training rows: every training value lies in [−1, 1] and each column reaches 1.
    np.testing.assert_allclose(np.max(np.abs(task.x_train), axis=0), 1.0)
    assert np.max(np.abs(task.y_train)) == pytest.approx(1.0)
    assert np.max(np.abs(task.x_test)) < 1.1


def test_synthetic_is_deterministic_from_seed():
    a, b, c = (synthetic_regression(seed=s) for s in (1, 1, 2))
    for field in ("x_train", "y_train", "x_test", "y_test", "teacher_weights"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


def test_synthetic_teacher_is_expressed_in_scaled_units():
    task = synthetic_regression(dim=3, samples=80, noise_std=0.0, seed=4)
    np.testing.assert_allclose(task.x_train @ task.teacher_weights, task.y_train, atol=1e-12)
    np.testing.assert_allclose(task.x_test @ task.teacher_weights, task.y_test, atol=1e-12)
    raw = synthetic_regression(dim=3, samples=80, noise_std=0.0, seed=4, scale=False)
    assert raw.scaling is None
    np.testing.assert_allclose(raw.x_train @ raw.teacher_weights, raw.y_train, atol=1e-12)
    assert np.all(np.abs(raw.teacher_weights) <= 1.0)
    np.testing.assert_allclose(task.scaling.inverse_y(task.y_train), raw.y_train, atol=1e-12)


def test_synthetic_noise_matches_noise_std():
    task = synthetic_regression(dim=2, samples=20000, noise_std=0.1, seed=5, scale=False)
    residual = task.y_train - task.x_train @ task.teacher_weights
    assert np.std(residual) == pytest.approx(0.1, rel=0.03)


def test_test_fraction_zero_trains_on_every_row_in_order():
    task = synthetic_regression(samples=30, test_fraction=0.0, scale=False)
    assert task.x_train.shape == (30, 4) and task.x_test.shape == (0, 4)
    assert task.y_test.shape == (0,)
    again = synthetic_regression(samples=30, test_fraction=0.5, scale=False)
    rows = {tuple(r) for r in task.x_train}
    assert {tuple(r) for r in again.x_train} | {tuple(r) for r in again.x_test} == rows


def test_task_arrays_are_read_only():
    task = synthetic_regression()
    with pytest.raises(ValueError, match="read-only"):
        task.x_train[0, 0] = 5.0
    with pytest.raises(AttributeError):
        task.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dim": 0}, r"dim must be an integer >= 1, got 0"),
        ({"samples": 1}, r"samples must be an integer >= 2, got 1"),
        ({"samples": 10.0}, r"samples must be an integer >= 2, got 10.0"),
        ({"noise_std": -0.1}, r"noise_std must be a finite number >= 0, got -0.1"),
        ({"noise_std": float("nan")}, r"noise_std must be a finite number >= 0, got nan"),
        ({"test_fraction": 1.0}, r"test_fraction must be a number in \[0, 1\), got 1.0"),
        ({"test_fraction": -0.1}, r"test_fraction must be a number in \[0, 1\), got -0.1"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
        ({"samples": 2, "test_fraction": 0.9}, r"test_fraction=0.9 leaves no training rows out of"),
    ],
)
def test_synthetic_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic_regression(**kwargs)


# ------------------------------------------------------------------------------------ scaling


def test_max_abs_scaling_round_trip_and_zero_column():
    x = np.array([[2.0, 0.0, -4.0], [-1.0, 0.0, 1.0]])
    y = np.array([10.0, -20.0])
    s = MaxAbsScaling.fit(x, y)
    np.testing.assert_array_equal(s.x_scale, [2.0, 1.0, 4.0])  # the all-zero column keeps scale 1
    assert s.y_scale == 20.0
    np.testing.assert_allclose(s.transform_x(x), [[1, 0, -1], [-0.5, 0, 0.25]])
    np.testing.assert_allclose(s.inverse_y(s.transform_y(y)), y)
    np.testing.assert_allclose(s.inverse_x(s.transform_x(x)), x)


def test_scaling_is_fitted_on_training_rows_only(tmp_path):
    path = tmp_path / "d.csv"
    rows = "\n".join(f"{i},{2 * i}" for i in range(1, 11))
    path.write_text("a,y\n" + rows + "\n")
    task = load_csv(path, "y", test_fraction=0.3, seed=0)
    train_raw = task.scaling.inverse_x(task.x_train)
    assert task.scaling.x_scale[0] == np.max(np.abs(train_raw))
    assert task.scaling.y_scale == np.max(np.abs(task.scaling.inverse_y(task.y_train)))


# ---------------------------------------------------------------------------------------- CSV


def test_load_csv_reads_features_in_header_order(tmp_path):
    path = tmp_path / "plant.csv"
    path.write_text(" a , target ,b\n1,10,-2\n\n2, 20 ,4\n3,30,-8\n")
    task = load_csv(path, "target", test_fraction=0.0, scale=False)
    assert task.name == "plant" and task.target_name == "target"
    assert task.feature_names == ("a", "b") and task.scaling is None
    np.testing.assert_array_equal(task.x_train, [[1, -2], [2, 4], [3, -8]])
    np.testing.assert_array_equal(task.y_train, [10, 20, 30])
    assert task.teacher_weights is None


def test_load_csv_intercept_and_scaling(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("u,v,y\n1,-4,2\n-2,2,-8\n0.5,1,4\n")
    task = load_csv(path, "y", intercept=True, test_fraction=0.0)
    assert task.feature_names == ("u", "v", "intercept")
    np.testing.assert_allclose(task.x_train, [[0.5, -1, 1], [-1, 0.5, 1], [0.25, 0.25, 1]])
    np.testing.assert_allclose(task.y_train, [0.25, -1, 0.5])
    np.testing.assert_array_equal(task.scaling.x_scale, [2, 4, 1])


def test_load_csv_split_is_deterministic(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "\n".join(f"{i},{i}" for i in range(40)) + "\n")
    a = load_csv(path, "y", seed=7, scale=False)
    b = load_csv(path, "y", seed=7, scale=False)
    c = load_csv(path, "y", seed=8, scale=False)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert len(a.y_test) == 10 and np.all(np.diff(a.y_train) > 0)  # file order kept


@pytest.mark.parametrize(
    ("text", "target", "kwargs", "match"),
    [
        ("", "y", {}, r"d\.csv is empty"),
        ("\n\n", "y", {}, r"d\.csv is empty"),
        ("a,y\n", "y", {}, r"d\.csv has a header but no data rows"),
        ("a,b\n1,2\n", "y", {}, r"d\.csv: target column 'y' not found; columns are: a, b"),
        ("a,y\n1,2\nx,3\n", "y", {}, r"d\.csv line 3, column 'a': value 'x' is not a number"),
        ("a,y\n1,\n", "y", {}, r"line 2, column 'y': value '' is not a number"),
        ("a,y\n1,nan\n", "y", {}, r"line 2, column 'y': value 'nan' is not finite"),
        ("a,y\n1,2,3\n", "y", {}, r"d\.csv line 2: expected 2 values .* got 3"),
        ("a,a,y\n1,2,3\n", "y", {}, r"duplicate column name\(s\) in header: a"),
        ("a,,y\n1,2,3\n", "y", {}, r"header column 2 has an empty name"),
        ("y\n1\n2\n", "y", {}, r"no feature columns besides the target 'y'"),
        ("intercept,y\n1,2\n", "y", {"intercept": True}, r"already has a column named 'intercept'"),
        ("a,y\n1,2\n", "", {}, r"target must be a non-empty column name"),
        ("a,y\n1,2\n", "y", {"test_fraction": 0.5}, r"leaves no training rows out of 1"),
    ],
)
def test_load_csv_errors_name_file_line_and_column(tmp_path, text, target, kwargs, match):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_csv(path, target, **kwargs)


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "nope.csv", "y")


# ------------------------------------------------------------------------- diabetes, registry


def test_diabetes_task():
    task = diabetes()
    assert task.name == "diabetes" and task.n_features == 11
    assert task.feature_names[-1] == "intercept" and task.feature_names[0] == "age"
    assert task.x_train.shape[0] + task.x_test.shape[0] == 442
    assert task.x_test.shape[0] == math.ceil(0.25 * 442)
    assert np.max(np.abs(task.x_train)) == pytest.approx(1.0)
    assert 0 < np.min(task.y_train) and np.max(task.y_train) == pytest.approx(1.0)
    # A least-squares fit on the scaled data explains about half the variance (a known result).
    w = np.linalg.lstsq(task.x_train, task.y_train, rcond=None)[0]
    r2 = 1 - np.mean((task.x_test @ w - task.y_test) ** 2) / np.var(task.y_test)
    assert 0.35 < r2 < 0.65
    assert diabetes(intercept=False).n_features == 10


def test_get_task_registry():
    assert TASK_NAMES == ("diabetes", "synthetic")
    task = get_task("synthetic", dim=2, seed=1)
    assert isinstance(task, Task) and task.n_features == 2
    np.testing.assert_array_equal(task.x_train, synthetic_regression(dim=2, seed=1).x_train)
    assert get_task("diabetes", test_fraction=0.0).x_test.shape == (0, 11)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("boston", {}, r"unknown task 'boston'; allowed names: diabetes, synthetic"),
        (None, {}, r"unknown task None; allowed names: diabetes, synthetic"),
        ("synthetic", {"dims": 3}, r"task 'synthetic' does not accept option\(s\) dims; accepted:"),
    ],
)
def test_get_task_rejects_unknown_names_and_options(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        get_task(name, **kwargs)
