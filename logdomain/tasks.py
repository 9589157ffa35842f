"""Regression tasks for the learners: synthetic teacher data, CSV files and scikit-learn's diabetes.

Every task is returned as a frozen :class:`Task` whose inputs and target have been mapped onto
the circuit's signal range by a :class:`MaxAbsScaling` fitted on the training rows only: each
feature and the target are divided by their largest absolute training value, so training values
lie in [−1, 1] (held-out values may exceed it slightly). Signals are later represented as currents
``I = I_u · v`` (DESIGN.md §3), so [−1, 1] is the unit current range.

The train/test split is deterministic from ``seed``; training and test rows each keep their
original (file) order, because SGDr is order dependent and processes rows in order.
:func:`shuffle_training_rows` permutes the training rows once (seeded), for data stored in an
order that would bias an in-order learner (e.g. sorted by the target). The scaling and its inverse
(results back in the data's units) live in :mod:`logdomain.scaling`.
"""

from __future__ import annotations

import csv
import inspect
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .scaling import MaxAbsScaling, readonly_copy as _readonly

__all__ = ["TASK_NAMES", "MaxAbsScaling", "Task", "diabetes", "get_task", "load_csv",
           "shuffle_training_rows", "synthetic_regression"]  # fmt: skip


@dataclass(frozen=True, kw_only=True, eq=False)
class Task:
    """A regression task ready for a learner: ``y ≈ wᵀx`` in circuit units (arrays read-only).

    Parameters
    ----------
    name : str
        Task name (registry name, or the CSV file's stem).
    x_train, y_train : ndarray, shapes (N, D) and (N,)
        Training rows in file order, already scaled (dimensionless, about [−1, 1]).
    x_test, y_test : ndarray, shapes (M, D) and (M,)
        Held-out rows, scaled with the training scale factors; M may be 0.
    feature_names : tuple of str, length D
        Names of the columns of ``x`` (``"intercept"`` for a constant-1 column).
    target_name : str
        Name of the target.
    teacher_weights : ndarray, shape (D,), or None
        For synthetic tasks, the true weights expressed in the scaled units (what a perfect
        learner finds); ``None`` otherwise.
    scaling : MaxAbsScaling or None
        The scaling applied; ``None`` if the data are unscaled. Use ``scaling.inverse_y`` to turn
        predictions back into target units.
    """

    name: str
    x_train: NDArray[np.float64]
    y_train: NDArray[np.float64]
    x_test: NDArray[np.float64]
    y_test: NDArray[np.float64]
    feature_names: tuple[str, ...]
    target_name: str = "y"
    teacher_weights: NDArray[np.float64] | None = None
    scaling: MaxAbsScaling | None = None

    def __post_init__(self) -> None:
        for field in ("x_train", "y_train", "x_test", "y_test"):
            object.__setattr__(self, field, _readonly(getattr(self, field)))
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        if self.teacher_weights is not None:
            object.__setattr__(self, "teacher_weights", _readonly(self.teacher_weights))
        d = len(self.feature_names)
        for part, min_rows in (("train", 1), ("test", 0)):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x.ndim != 2 or x.shape[1] != d or y.shape != x.shape[:1] or len(y) < min_rows:
                raise ValueError(
                    f"x_{part} must have shape (N, {d}) with N >= {min_rows} and y_{part} shape "
                    f"(N,), got {x.shape} and {y.shape}"
                )
        if self.teacher_weights is not None and self.teacher_weights.shape != (d,):
            raise ValueError(
                f"teacher_weights must have shape ({d},), got {self.teacher_weights.shape}"
            )

    @property
    def n_features(self) -> int:
        """Number of features D."""
        return len(self.feature_names)


# ------------------------------------------------------------------------------------ helpers


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _check_test_fraction(test_fraction: object) -> float:
    ok = isinstance(test_fraction, Real) and not isinstance(test_fraction, bool)
    if not ok or not (0.0 <= float(test_fraction) < 1.0):
        raise ValueError(f"test_fraction must be a number in [0, 1), got {test_fraction!r}")
    return float(test_fraction)


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for data and split, both determined by ``seed``."""
    data_ss, split_ss = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(data_ss), np.random.default_rng(split_ss)


def _shuffle_rng(seed: int) -> np.random.Generator:
    """The generator of :func:`shuffle_training_rows`: a third child of ``seed``, independent of
    the data and split streams of :func:`_rngs` (so shuffling does not change the split)."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])


def shuffle_training_rows(task: Task, seed: int = 0) -> Task:
    """The task with its training rows in one fixed random order (held-out rows unchanged).

    The permutation depends only on ``seed`` and the number of training rows; a learner that makes
    several passes reuses this one order in every epoch (it is not reshuffled per epoch, unlike
    scikit-learn's ``SGDRegressor(shuffle=True)``).

    Parameters
    ----------
    task : Task
        Any task (scaled or not; the scaling is kept).
    seed : int, default 0
        Seed of the permutation, >= 0.

    Returns
    -------
    Task
        A new task; ``x_train[k] = task.x_train[p[k]]``, ``y_train[k] = task.y_train[p[k]]``.
    """
    order = _shuffle_rng(_check_seed(seed)).permutation(len(task.y_train))
    return replace(task, x_train=task.x_train[order], y_train=task.y_train[order])


def _split(n_rows: int, test_fraction: float, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """Sorted train and test row indices; ``ceil(test_fraction · n)`` rows are held out.

    Not :func:`sklearn.model_selection.train_test_split`: its ``random_state`` takes only an int or a
    legacy ``RandomState``, while the split here draws from its own ``Generator`` spawned from the
    task's ``SeedSequence`` (independent of the data and shuffle streams, :func:`_rngs`); the held-out
    count is the same ``ceil(test_fraction · n)``.
    """
    n_test = math.ceil(test_fraction * n_rows) if test_fraction > 0 else 0
    if n_test >= n_rows:
        raise ValueError(
            f"test_fraction={test_fraction} leaves no training rows out of {n_rows}; "
            "use a smaller test_fraction"
        )
    test = np.sort(rng.permutation(n_rows)[:n_test])
    train = np.setdiff1d(np.arange(n_rows), test)
    return train, test


def _make_task(name: str, x: NDArray, y: NDArray, names: Sequence[str], target_name: str, *,
               test_fraction: float, seed: int, scale: bool, intercept: bool = False,
               teacher: NDArray | None = None, source: str = "") -> Task:  # fmt: skip
    """Append the intercept column, split, fit the scaling on the training rows, apply it."""
    source = source or name  # how error messages name the data
    fraction, (_, split_rng) = _check_test_fraction(test_fraction), _rngs(_check_seed(seed))
    if intercept:
        if "intercept" in names:
            raise ValueError(f"{source} already has a column named 'intercept'; cannot add another")
        x, names = np.column_stack([x, np.ones(len(x))]), [*names, "intercept"]
    if not names:
        raise ValueError(f"{source}: no feature columns besides the target {target_name!r}; add "
                         "features or use intercept=True")  # fmt: skip
    train, test = _split(len(y), fraction, split_rng)
    x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]
    scaling = None
    if scale:
        scaling = MaxAbsScaling.fit(x_train, y_train)
        x_train, x_test = scaling.transform_x(x_train), scaling.transform_x(x_test)
        y_train, y_test = scaling.transform_y(y_train), scaling.transform_y(y_test)
        if teacher is not None:  # y/sy = Σ (w_i sx_i/sy)(x_i/sx_i)
            teacher = teacher * scaling.x_scale / scaling.y_scale
    return Task(name=name, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                feature_names=tuple(names), target_name=target_name, teacher_weights=teacher,
                scaling=scaling)  # fmt: skip


# -------------------------------------------------------------------------------------- tasks


def synthetic_regression(dim: int = 4, samples: int = 200, noise_std: float = 0.05, seed: int = 0,
                         test_fraction: float = 0.25, scale: bool = True) -> Task:  # fmt: skip
    """Linear teacher task: ``y = w*ᵀx + ε`` with ``w*, x ~ U(−1, 1)`` and ``ε ~ N(0, noise_std²)``.

    Parameters
    ----------
    dim : int, default 4
        Number of features D >= 1.
    samples : int, default 200
        Number of rows (train + test) >= 2.
    noise_std : float, default 0.05
        Standard deviation of the additive target noise, >= 0 (in unscaled target units).
    seed : int, default 0
        Seed of the teacher, the data and the split.
    test_fraction : float, default 0.25
        Fraction of rows held out, in [0, 1).
    scale : bool, default True
        Apply :class:`MaxAbsScaling` (the target spans up to ±D before scaling).

    Returns
    -------
    Task
        With ``teacher_weights = w* · x_scale / y_scale`` (the teacher in scaled units).
    """
    for name, value, low in (("dim", dim, 1), ("samples", samples, 2)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not (isinstance(noise_std, Real) and math.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    _check_test_fraction(test_fraction)
    data_rng, _ = _rngs(_check_seed(seed))
    teacher = data_rng.uniform(-1.0, 1.0, size=dim)
    x = data_rng.uniform(-1.0, 1.0, size=(samples, dim))
    y = x @ teacher + float(noise_std) * data_rng.standard_normal(samples)
    return _make_task("synthetic", x, y, [f"x{i}" for i in range(dim)], "y", teacher=teacher,
                      test_fraction=test_fraction, seed=seed, scale=scale)  # fmt: skip


def _check_header(path: Path, header: list[str], target: str) -> None:
    for i, col in enumerate(header):
        if not col:
            raise ValueError(f"{path}: header column {i + 1} has an empty name")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise ValueError(f"{path}: duplicate column name(s) in header: {', '.join(dupes)}")
    if target not in header:
        raise ValueError(
            f"{path}: target column {target!r} not found; columns are: {', '.join(header)}"
        )


def _parse_cell(path: Path, line: int, col: str, cell: str) -> float:
    where = f"{path} line {line}, column {col!r}: value {cell!r}"
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where} is not finite")
    return value


def _read_csv(path: Path, target: str) -> tuple[list[str], NDArray, NDArray]:
    """Parse a CSV with a header row into (feature names, x (N, D), y (N,))."""
    header: list[str] | None = None
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for raw in reader:
            cells = [cell.strip() for cell in raw]
            if not any(cells):
                continue  # blank line
            if header is None:
                header = cells
                _check_header(path, header, target)
                continue
            line = reader.line_num
            if len(cells) != len(header):
                raise ValueError(
                    f"{path} line {line}: expected {len(header)} values (one per header column), "
                    f"got {len(cells)}"
                )
            rows.append([_parse_cell(path, line, c, v) for c, v in zip(header, cells)])
    if header is None:
        raise ValueError(f"{path} is empty: expected a header row naming the columns")
    if not rows:
        raise ValueError(f"{path} has a header but no data rows")
    data = np.array(rows, dtype=np.float64)
    j = header.index(target)
    features = [c for c in header if c != target]
    return features, np.delete(data, j, axis=1), data[:, j]


def load_csv(path: str | os.PathLike[str], target: str, intercept: bool = False,
             test_fraction: float = 0.25, seed: int = 0, scale: bool = True) -> Task:  # fmt: skip
    """Load a regression task from a CSV file with a header row.

    The ``target`` column is y; every other column is a (float) feature, in header order.

    Parameters
    ----------
    path : str or path-like
        The CSV file (comma separated, UTF-8, header row first; blank lines are skipped).
    target : str
        Name of the target column.
    intercept : bool, default False
        Append a constant-1 feature named ``"intercept"`` (y = wᵀx has no bias otherwise).
    test_fraction : float, default 0.25
        Fraction of rows held out, in [0, 1); 0 trains on every row in file order.
    seed : int, default 0
        Seed of the split.
    scale : bool, default True
        Apply :class:`MaxAbsScaling` fitted on the training rows.

    Returns
    -------
    Task
        Named after the file's stem, ``teacher_weights=None``.

    Raises
    ------
    ValueError
        Naming the file (and line and column) if the file is empty, the target column is missing,
        a row has the wrong number of values, or a value is not a finite number.
    FileNotFoundError
        If the file does not exist.
    """
    if not isinstance(target, str) or not target.strip():
        raise ValueError(f"target must be a non-empty column name, got {target!r}")
    _check_test_fraction(test_fraction)
    _check_seed(seed)
    file = Path(path)
    names, x, y = _read_csv(file, target.strip())
    return _make_task(file.stem, x, y, names, target.strip(), source=str(file),
                      intercept=intercept, test_fraction=test_fraction, seed=seed,
                      scale=scale)  # fmt: skip


def diabetes(test_fraction: float = 0.25, seed: int = 0, intercept: bool = True,
             scale: bool = True) -> Task:  # fmt: skip
    """scikit-learn's diabetes data (442 patients, 10 features, disease progression after 1 year).

    Loaded with :func:`sklearn.datasets.load_diabetes` (shipped with scikit-learn, no network).
    Its features come mean-centred and scaled by scikit-learn; the target (25–346) is not
    centred, so an ``"intercept"`` feature is appended by default — without it ``y = wᵀx``
    cannot fit the target's mean.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Fraction of rows held out, in [0, 1).
    seed : int, default 0
        Seed of the split.
    intercept : bool, default True
        Append a constant-1 feature named ``"intercept"``.
    scale : bool, default True
        Apply :class:`MaxAbsScaling` fitted on the training rows.

    Returns
    -------
    Task
        Named ``"diabetes"``.

    References
    ----------
    B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, "Least Angle Regression", Annals of
    Statistics 32(2), 407–499, 2004.
    """
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    return _make_task("diabetes", np.asarray(bunch.data, dtype=np.float64),
                      np.asarray(bunch.target, dtype=np.float64), list(bunch.feature_names),
                      "progression", intercept=intercept, test_fraction=test_fraction, seed=seed,
                      scale=scale)  # fmt: skip


_REGISTRY: dict[str, Callable[..., Task]] = {
    "diabetes": diabetes,
    "synthetic": synthetic_regression,
}
TASK_NAMES: tuple[str, ...] = tuple(sorted(_REGISTRY))
"""Names accepted by :func:`get_task`."""


def get_task(name: str, **kw: object) -> Task:
    """Build a built-in task by name.

    Parameters
    ----------
    name : str
        One of :data:`TASK_NAMES` (``"diabetes"``, ``"synthetic"``).
    **kw
        Keyword arguments of the task's function (e.g. ``seed``, ``test_fraction``).

    Raises
    ------
    ValueError
        If the name is unknown (the message lists the allowed names) or an option is not accepted.
    """
    try:
        factory = _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown task {name!r}; allowed names: {', '.join(TASK_NAMES)}") from None
    sig = inspect.signature(factory)
    unknown = sorted(set(kw) - set(sig.parameters))
    if unknown:
        raise ValueError(
            f"task {name!r} does not accept option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sig.parameters)}"
        )
    return factory(**kw)
