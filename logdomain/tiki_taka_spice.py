"""Tiki-Taka at transistor level against its behavioural twin and against ideal SGDr.

The circuit is :mod:`netlists.tiki_taka_circuit` (run by :func:`netlists.tiki_taka_run.run_spice_tiki_taka`);
the twin is the behavioural study's continuous-time Tiki-Taka on log-domain pairs,
:func:`logdomain.asymmetry.run_tiki_taka_stream` (the code path of :func:`logdomain.asymmetry.run_tiki_taka`
on the same stream), with the circuit's parameters mapped to the study's units (time in τ_i = T_s/η,
weights in the learner's scaled units)::

    A pair: a_leak = λ_A, a_rate = 1 (A's terms are the plain learner's e·x terms), γ = 0
    C pair: ρ = transfer × g (g: the transfer copies' gain, read back from the run, or 1 with
            ``twin_gain="nominal"``), transfer = ρ·η per sample (transfer_every = 1), c_leak = λ_C
    common mode: S₀ = s_w·I_cm/I_u, β_A = β·s_x², β_C = β_C·k_C·s_x² (they act on W⁺ + W⁻ only)

Both see the same stream (dim N, K samples, seed) and start from w = 0, A = 0. The figures, as the plain
learner's comparison (:mod:`logdomain.fidelity`) computes them on the held-out rows:
``nmse_vs_ideal`` of each against ideal continuous SGDr with the same η, λ (variance of the ideal's
predictions), and ``spice_vs_twin_nmse = mean((ŷ_twin − ŷ_spice)²)/var(ŷ_spice)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netlists import SimParams, Simulator, Technology
from netlists.spice_learner_circuit import LearnerParams
from netlists.tiki_taka_circuit import TikiTakaParams
from netlists.tiki_taka_run import TikiTakaSpiceRun, run_spice_tiki_taka

from .asymmetry import LogDomainPair, TikiTaka, run_tiki_taka_stream
from .ideal import sgdr_continuous_zoh
from .metrics import mse, nmse_vs_ideal, weight_nmse
from .tasks import Task

__all__ = ["TWIN_GAINS", "TikiTakaComparison", "twin_settings", "run_twin", "compare_tiki_taka"]

#: where the twin's transfer gain comes from
TWIN_GAINS = ("measured", "nominal")


def twin_settings(p: LearnerParams, tt: TikiTakaParams, gain: float = 1.0) -> tuple[LogDomainPair, TikiTaka]:
    """The twin's C device and Tiki-Taka settings for the circuit ``p``, ``tt`` (see the module docstring).

    ``gain`` multiplies the nominal transfer rate ρ (the transfer copies' measured gain, > 0).
    """
    if not (np.isfinite(gain) and 0.1 < gain < 10.0):
        raise ValueError(f"gain must be a finite number in (0.1, 10), got {gain!r}")
    s0 = p.w_scale * p.i_cm_a / p.i_u_a
    device = LogDomainPair(lam=tt.c_leak(p.lam), cm_set=s0, cm_gain=min(tt.cm_gain_c * tt.c_speed * p.x_scale**2, 100.0))
    settings = TikiTaka(gamma=0.0, transfer=tt.transfer * gain * p.eta, transfer_every=1, a_rate=1.0, a_leak=tt.lam_a,
                        chop_every=tt.chop_every, c_leak=tt.c_leak(p.lam))  # fmt: skip
    return device, settings


def run_twin(p: LearnerParams, tt: TikiTakaParams, x: np.ndarray, y: np.ndarray, *, gain: float = 1.0,
             substeps: int = 8) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The behavioural twin over the stream: (forward weights (K + 1, N), A (K + 1, N)) in scaled units."""
    device, settings = twin_settings(p, tt, gain)
    return run_tiki_taka_stream(device, x, y, p.eta, settings, substeps=substeps)


@dataclass
class TikiTakaComparison:
    """SPICE Tiki-Taka, its twin and ideal SGDr on one stream (weights in scaled units, times in s)."""

    spice: TikiTakaSpiceRun = field(repr=False)
    twin_gain: str
    transfer_gain: float
    weights: np.ndarray
    twin_weights: np.ndarray
    ideal_weights: np.ndarray
    spice_history: np.ndarray = field(repr=False)
    twin_history: np.ndarray = field(repr=False)
    twin_a_history: np.ndarray = field(repr=False)
    ideal_history: np.ndarray = field(repr=False)
    nmse_vs_ideal: float
    twin_nmse_vs_ideal: float
    spice_vs_twin_nmse: float
    state_vs_twin_weight_nmse: float
    test_mse: float
    twin_test_mse: float
    ideal_test_mse: float
    t_over_tau: float
    twin_runtime_s: float
    wall_s: float

    def as_dict(self, *, history: bool = True) -> dict[str, Any]:
        """JSON-able summary (the ``simulate learner --algorithm tiki-taka`` keys)."""
        r, p, tt = self.spice.run, self.spice.run.params, self.spice.tt
        out = {
            "algorithm": "tiki-taka", "weights": self.weights.tolist(), "twin_weights": self.twin_weights.tolist(),
            "ideal_weights": self.ideal_weights.tolist(), "state_weights": r.state_history[-1].tolist(),
            "nmse_vs_ideal": self.nmse_vs_ideal, "twin_nmse_vs_ideal": self.twin_nmse_vs_ideal,
            "spice_vs_twin_nmse": self.spice_vs_twin_nmse, "state_vs_twin_weight_nmse": self.state_vs_twin_weight_nmse,
            "weight_nmse": float(weight_nmse(self.weights, self.ideal_weights)),
            "test_mse": self.test_mse, "twin_test_mse": self.twin_test_mse, "ideal_test_mse": self.ideal_test_mse,
            "t_over_tau": self.t_over_tau, "runtime_s": r.runtime_s, "twin_runtime_s": self.twin_runtime_s,
            "wall_s": self.wall_s, "tech": r.netlist.technology.label, "dim": p.dim,
            "samples": int(r.state_history.shape[0] - 1), "eta": p.eta, "lam": p.lam, "t_hold_s": p.t_hold_s,
            "tau_ideal_s": p.tau_ideal_s, "chop": p.chop, "twin_gain": self.twin_gain,
            "transfer_gain": self.transfer_gain, "copy_gain": self.spice.copy_gain.tolist(),
            "tiki_taka": {**tt.as_dict(), "c_leak": tt.c_leak(p.lam), "gamma": 0.0, "r_transfer_a": tt.r_transfer_a(p)},
            "circuit": {"c_f": p.c_f, "i_a_a": p.i_a_a, "i_u_a": p.i_u_a, "kappa": p.kappa, "devices": len(r.netlist.devices)},
            "common_mode_end_a": r.common_mode_a[-1].tolist(),
            "a_common_mode_end_a": (self.spice.a_plus_a + self.spice.a_minus_a)[-1].tolist(),
            "regions_ok": r.regions_ok, "region_violations": r.region_violations(),
        }  # fmt: skip
        if history:
            out.update(state_history=r.state_history.tolist(), twin_history=self.twin_history.tolist(),
                       a_history=self.spice.a_history.tolist(), twin_a_history=self.twin_a_history.tolist(),
                       ideal_history=self.ideal_history.tolist())  # fmt: skip
        return out


def compare_tiki_taka(
    tech: Technology, task: Task, *, eta: float, lam: float, t_hold_s: float, samples: int | None = None,
    tt: TikiTakaParams | None = None, params: LearnerParams | None = None, twin_gain: str = "measured",
    substeps: int = 8, sim: SimParams | None = None, simulator: Simulator | None = None,
) -> TikiTakaComparison:  # fmt: skip
    """Run the transistor-level Tiki-Taka learner (one nominal die of ``tech``) and its twin on the first
    ``samples`` training rows of ``task``; score both on the held-out rows.

    Parameters
    ----------
    tech : technology. task : scaled task. eta : η = T_s/τ_i. lam : λ. t_hold_s : T_s, s.
    samples : rows streamed (default all). tt : Tiki-Taka settings (default :class:`TikiTakaParams`).
    params : the plain learner's settings. twin_gain : ``"measured"`` (the twin's ρ times the run's
        transfer-copy gain) or ``"nominal"`` (the design's ρ). substeps : Heun steps per hold of the twin.
    sim, simulator : ngspice settings and worker.
    """
    if twin_gain not in TWIN_GAINS:
        raise ValueError(f"twin_gain must be one of {', '.join(TWIN_GAINS)}, got {twin_gain!r}")
    x, y = task.x_train, task.y_train
    if samples is not None:
        x, y = x[:samples], y[:samples]
    start = time.perf_counter()
    spice = run_spice_tiki_taka(tech, x, y, eta, lam, t_hold_s, tt=tt, params=params, sim=sim, simulator=simulator)
    wall = time.perf_counter() - start
    p, tt = spice.run.params, spice.tt
    gain = float(np.mean(spice.copy_gain)) if twin_gain == "measured" else 1.0
    t0 = time.perf_counter()
    twin_hist, twin_a = run_twin(p, tt, x, y, gain=gain, substeps=substeps)
    twin_time = time.perf_counter() - t0
    w_ideal, hist = sgdr_continuous_zoh(x, y, t_hold_s / eta, t_hold_s, lam, return_history=True)
    pred, pred_twin, pred_ideal = spice.run.predict(task.x_test), task.x_test @ twin_hist[-1], task.x_test @ w_ideal
    return TikiTakaComparison(
        spice=spice, twin_gain=twin_gain, transfer_gain=gain, weights=spice.run.weights, twin_weights=twin_hist[-1],
        ideal_weights=np.asarray(w_ideal), spice_history=spice.run.state_history, twin_history=twin_hist,
        twin_a_history=twin_a, ideal_history=np.asarray(hist), nmse_vs_ideal=float(nmse_vs_ideal(pred, pred_ideal)),
        twin_nmse_vs_ideal=float(nmse_vs_ideal(pred_twin, pred_ideal)),
        spice_vs_twin_nmse=float(nmse_vs_ideal(pred_twin, pred)),
        state_vs_twin_weight_nmse=float(weight_nmse(spice.run.state_history[-1], twin_hist[-1])),
        test_mse=float(mse(task.y_test, pred)), twin_test_mse=float(mse(task.y_test, pred_twin)),
        ideal_test_mse=float(mse(task.y_test, pred_ideal)), t_over_tau=float(eta * x.shape[0]),
        twin_runtime_s=twin_time, wall_s=wall,
    )  # fmt: skip
