"""Checks of ``train`` and ``compare`` on their data and settings, before and after training.

Before: the work is bounded (:data:`MAX_UPDATES`, :data:`MAX_INTEGRATION_STEPS`,
:data:`MAX_DIE_WEIGHTS`, :data:`MAX_SPICE_SAMPLES`) and the data give the learner something to
learn (a target that varies; enough rows to evaluate on). After: the ideal discrete learner did
not diverge. Each failure is a :class:`~logdomain.errors.UsageError` (exit status 2) naming the
option to change, the limit and the value, because the cause is always the input: the data, or
hyperparameters outside the learner's stable range.

Stability (DESIGN.md §2): the discrete update ``w ← (1 − ηλ)w + η e x`` shrinks the error along
``x_k`` by ``1 − η(‖x_k‖² + λ)``; for ``η(‖x_k‖² + λ) > 2`` that factor exceeds 1 in magnitude
and the weights can grow without bound — past the float range they become inf and NaN.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..errors import UsageError
from ..tasks import Task

__all__ = ["MAX_UPDATES", "MAX_INTEGRATION_STEPS", "MAX_DIE_WEIGHTS", "MAX_SPICE_SAMPLES", "data_option",
           "check_learnable", "check_evaluation_rows", "check_work", "check_spice_samples",
           "check_ideal_converged", "check_predictions_vary", "check_model_range", "check_learner_technology",
           "SIGNAL_LIMIT", "check_signal_range"]  # fmt: skip

#: most updates of one training run, ``epochs × training rows`` (about 5 s of the ideal learner)
MAX_UPDATES = 1_000_000
#: most integration steps of one analog run, ``updates × substeps``
MAX_INTEGRATION_STEPS = 4_000_000
#: most analog weights held at once, ``dies × features`` (8 MB per copy of the state)
MAX_DIE_WEIGHTS = 1_000_000
#: the analog learners' signal range is [−SIGNAL_LIMIT, SIGNAL_LIMIT] (currents in units of I_u: the
#: converters saturate there, :func:`logdomain.learner_sim.quantize`); max-abs scaling maps the
#: training values onto it, ``--no-scale`` data must already lie in it
SIGNAL_LIMIT = 1.0
#: most samples streamed through the transistor-level learner (``simulate learner --samples``)
MAX_SPICE_SAMPLES = 5000


def data_option(args) -> str:
    """How the command line named the data: ``--data FILE`` or ``--task NAME``."""
    if getattr(args, "data", None) is not None:
        return f"--data {args.data}"
    return f"--task {getattr(args, 'task', None) or 'diabetes'}"


def check_learnable(task: Task, source: str) -> None:
    """The training target must vary: a constant target leaves nothing to learn and every
    normalised metric undefined."""
    y = task.y_train
    if np.ptp(y) == 0:
        raise UsageError(f"{source}: the target {task.target_name!r} is constant on the {len(y)} training "
                         f"row(s) ({float(y[0]):g}{' after scaling' if task.scaling else ''}); there is nothing to learn")  # fmt: skip


def check_evaluation_rows(task: Task, source: str, minimum: int = 2) -> None:
    """The rows a comparison is scored on (held-out rows, else the training rows) number at least
    ``minimum``: ``nmse_vs_ideal`` is normalised by the spread of the ideal predictions over them."""
    rows, where = (len(task.y_test), "held-out") if len(task.y_test) else (len(task.y_train), "training")
    if rows < minimum:
        raise UsageError(f"{source} with --test-fraction: {rows} {where} row(s) to compare the learners on; "
                         f"at least {minimum} are needed (more data rows or another --test-fraction)")  # fmt: skip


def check_work(task: Task, *, epochs: int, dies: int = 1, substeps: int = 1, analog: bool = False) -> None:
    """Bound the cost of a run: updates, integration steps and analog state (see module constants)."""
    rows = len(task.y_train)
    updates = epochs * rows
    if updates > MAX_UPDATES:
        raise UsageError(f"--epochs {epochs}: {epochs} epochs × {rows} training rows = {updates} updates; the limit "
                         f"is {MAX_UPDATES} (at most {max(MAX_UPDATES // rows, 1)} epochs here)")  # fmt: skip
    if not analog:
        return
    steps = updates * substeps
    if steps > MAX_INTEGRATION_STEPS:
        raise UsageError(f"--substeps {substeps}: {updates} updates × {substeps} substeps = {steps} integration "
                         f"steps; the limit is {MAX_INTEGRATION_STEPS}")  # fmt: skip
    weights = dies * task.n_features
    if weights > MAX_DIE_WEIGHTS:
        raise UsageError(f"--dies {dies}: {dies} dies × {task.n_features} weights = {weights} analog weights; "
                         f"the limit is {MAX_DIE_WEIGHTS} (at most {max(MAX_DIE_WEIGHTS // task.n_features, 1)} dies here)")  # fmt: skip


def check_spice_samples(epochs: int, rows: int) -> None:
    """``--model spice`` streams ``epochs × rows`` samples through a transient; bound them."""
    samples = epochs * rows
    if samples > MAX_SPICE_SAMPLES:
        raise UsageError(f"--epochs {epochs}: --model spice streams {epochs} × {rows} training rows = {samples} "
                         f"samples; the transistor-level learner takes at most {MAX_SPICE_SAMPLES}")  # fmt: skip


def _largest_step(x: NDArray, lam: float) -> float:
    return float(np.max(np.einsum("kd,kd->k", x, x)) + lam)


def check_ideal_converged(w: NDArray, task: Task, *, eta: float, lam: float) -> None:
    """The ideal discrete learner's weights ``w`` (any shape, last axis the features) and its
    training MSE are finite; else it diverged for this ``--eta``/``--lam`` (refused, named)."""
    weights = np.asarray(w, dtype=np.float64)
    finite = bool(np.all(np.isfinite(weights)))
    if finite:
        with np.errstate(all="ignore"):
            pred = task.x_train @ weights.reshape(-1, task.n_features).T  # (K, runs)
            finite = bool(np.all(np.isfinite(np.mean((pred - task.y_train[:, None]) ** 2, axis=0))))
    if finite:
        return
    step = _largest_step(task.x_train, lam)
    bound = 2.0 / step
    raise UsageError(f"--eta {eta:g} with --lam {lam:g}: the ideal discrete learner diverged (its weights "
                     f"overflowed); it is stable while η(‖x‖² + λ) < 2, here η(max‖x‖² + λ) = {eta * step:.3g}: "
                     f"use --eta < {bound:.3g}")  # fmt: skip


def check_predictions_vary(w_ideal: NDArray, task: Task, source: str) -> None:
    """The ideal learner's predictions on the evaluation rows must not all be equal (the
    normalisation of ``nmse_vs_ideal``); equal predictions mean the features carry nothing."""
    x = task.x_test if len(task.y_test) else task.x_train
    pred = x @ np.asarray(w_ideal, dtype=np.float64)
    if not math.isfinite(float(np.ptp(pred))) or np.ptp(pred) == 0:
        where = "held-out" if len(task.y_test) else "training"
        raise UsageError(f"{source}: the ideal learner predicts the same value ({float(pred[0]):g}) for every "
                         f"{where} row, so nmse_vs_ideal (normalised by their spread) is undefined; are the "
                         "features all zero or constant?")  # fmt: skip


def check_model_range(eta: float, lam: float) -> None:
    """``--eta`` and ``--lam`` within what the behavioural learner model integrates
    (:data:`logdomain.learner_sim.ETA_MAX`, :data:`~logdomain.learner_sim.LAM_MAX`)."""
    from ..learner_sim import ETA_MAX, LAM_MAX

    if not 0 < eta <= ETA_MAX:
        raise UsageError(f"--eta {eta:g}: the analog learner model takes η = T_s/τ in (0, {ETA_MAX:g}]")
    if not 0 <= lam <= LAM_MAX:
        raise UsageError(f"--lam {lam:g}: the analog learner model takes λ in [0, {LAM_MAX:g}]")


def check_learner_technology(tech) -> None:
    """The technology (a :class:`netlists.Technology` or a ``--tech`` name) is one the transistor-level
    learner runs on (refused with the measured reason:
    :attr:`netlists.spice_learner_circuit.LearnerParams.UNSUPPORTED`; a model file or a plugin runs
    with the defaults of its ``learner_family``)."""
    from netlists.spice_learner_circuit import LearnerParams

    family = tech if isinstance(tech, str) else tech.learner_family
    if family in LearnerParams.UNSUPPORTED:
        shown = tech if isinstance(tech, str) else tech.name
        raise UsageError(f"--tech {shown}: {LearnerParams.UNSUPPORTED[family]}")


def check_signal_range(task: Task, what: str) -> None:
    """With ``--no-scale``, every training input and target of an analog learner (``what``) lies in
    [−SIGNAL_LIMIT, SIGNAL_LIMIT]; else refused naming the option, the range and the worst column.

    Only the training rows are streamed through the learner; held-out rows enter predictions
    ``wᵀx`` only (as with max-abs scaling, where held-out values may exceed the range slightly).
    """
    columns = [*task.feature_names, task.target_name]
    peaks = np.max(np.abs(np.column_stack([task.x_train, task.y_train])), axis=0)
    worst = int(np.argmax(peaks))
    if peaks[worst] > SIGNAL_LIMIT:
        raise UsageError(f"--no-scale: {what} takes signals in [{-SIGNAL_LIMIT:g}, {SIGNAL_LIMIT:g}], but column "
                         f"{columns[worst]!r} reaches |{peaks[worst]:.6g}| on the training rows; scale the data "
                         "into that range or drop --no-scale")  # fmt: skip
