"""Update response of the learner's weight cell measured in SPICE: q₊(w), q₋(w), F and G (Wu et al. 2024).

Wu, Gokmen, Rasch & Chen write a device's update as ``ΔW = α(Δ·F(W) − |Δ|·G(W))`` with
F = (q₋ + q₊)/2 and G = (q₋ − q₊)/2, q₊/q₋ the response to a unit up/down request at W. This
module measures the responses of one half of the learner's pseudo-differential weight (the cell of
:func:`calibration.learner_benches.cell_bench`: the learner's devices, sizes, currents, C) and
composes the pair's.

**One half** at state level W (units of I_u), three transients from the same start (the cell's
output device at W, V_C from the nominal I_w(V_C) curve): a baseline whose drive D = e⁺X^a + e⁻X^b
is balanced by the sink (Z = D − λ_c·W, so the ideal law holds W still), and the same with the
drive stepped up or down by δ after ``lead`` holds (through X^a). Over the next ``holds`` holds::

    q_up(W) = [Δ_up(end) − Δ_up(lead + settle)] / (+δ·t),   Δ_up = W_up − W_base   (q_down alike, −δ)

over the last t = holds − settle holds: the first ``settle`` holds after the step are left out because
the drive reaches the state through a lag (≈ 1.3 holds on sky130, the calibration's
``drive_lag_holds``), which would bias a chord from the step itself low. t in units of the design τ = C·U_T/(κ·I_A): q = 1 is the ideal law's gain (the fitted ρ·T of the
learner's calibration is its mean). The baseline removes the drift the cell has at that level
(its λ offset, the gain of the drive against the sink), so q is the local gain of the drive alone;
δ·t is kept small (W moves by ≈ δ·t) so q is a derivative, not a chord. A half is one-sided: in the
pair it only ever takes *up* drives; ``q_down`` (its response to a drive decrease) is reported as the
half's own asymmetry (its law's curvature), not as the pair's down response.

**The pair** (w = s_w·(W⁺ − W⁻), common mode S = W⁺ + W⁻): an up request raises W⁺'s drive and a
down request W⁻'s, so ``q₊(w) = q_up⁺(W⁺)``, ``q₋(w) = q_up⁻(W⁻)`` with W± = (S ± w/s_w)/2, each
half's own curve (nominal: the same curve twice; under mismatch: two independent halves, two
mismatch seeds of the technology). Then F = (q₋ + q₊)/2, G = (q₋ − q₊)/2 and the asymmetry on the
study's axis a(w) = G/F (:mod:`logdomain.asymmetry`). Nominally G(0) = 0 (the halves are one design)
and G(w) follows the slope of q_up(W); a gain difference between the halves adds a constant to G —
the ``Δw = ḡΔ + (Δg/2)|Δ|`` of the reviewer, with no symmetric point once it exceeds the slope term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netlists import SimParams, Simulator, get_simulator
from netlists.technologies.base import Technology

from .learner_benches import CELL, CellStimulus, LearnerBenchSetup, run_cell_bench, setup_benches

__all__ = ["ResponsePlan", "HalfResponse", "PairResponse", "half_response", "pair_response"]


@dataclass(frozen=True, kw_only=True)
class ResponsePlan:
    """Levels and stimulus of :func:`half_response` (currents in units of I_u, time in holds).

    ``levels``: state levels W; ``delta``: drive step δ (> 0); ``holds``: holds after the step;
    ``lead``: holds before it; ``settle``: holds after the step left out of the slope; ``e_plus``, ``e_minus``, ``x_a``: the drive's operating point (X^b at
    the input floor f_x)."""

    levels: tuple[float, ...] = (0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    delta: float = 0.02
    holds: int = 20
    lead: int = 5
    settle: int = 4
    e_plus: float = 0.3
    e_minus: float = 0.05
    x_a: float = 0.5

    def __post_init__(self) -> None:
        lv = np.asarray(self.levels, dtype=float)
        if lv.ndim != 1 or lv.size < 2 or not np.all(np.isfinite(lv)) or np.any(lv <= 0) or np.any(np.diff(lv) <= 0):
            raise ValueError(f"ResponsePlan.levels must be >= 2 increasing positive numbers (units of I_u), got {self.levels!r}")
        for name, low, high in (("delta", 1e-4, 0.5), ("e_plus", 0.01, 2.0), ("e_minus", 0.01, 2.0), ("x_a", 0.01, 2.0)):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and low <= v <= high):
                raise ValueError(f"ResponsePlan.{name} must be a finite number in [{low:g}, {high:g}], got {v!r}")
        for name, low in (("holds", 2), ("lead", 1), ("settle", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= 10_000:
                raise ValueError(f"ResponsePlan.{name} must be an integer in [{low}, 10000], got {v!r}")
        if self.holds < self.settle + 2:
            raise ValueError(f"ResponsePlan.holds must be >= settle + 2 = {self.settle + 2}, got {self.holds}")
        if self.delta >= self.x_a * self.e_plus:
            raise ValueError(f"ResponsePlan.delta must be below the drive e_plus·x_a = {self.x_a * self.e_plus:g}, got {self.delta!r}")


@dataclass(frozen=True)
class HalfResponse:
    """Responses of one half (arrays over ``levels``; units of I_u and of the design τ).

    ``w_start``: W measured at the step; ``q_up``, ``q_down``: response factors; ``drift``: the
    baseline's dW/dt (1/τ × I_u); ``tech``: the technology label; ``seed``: its mismatch seed (None:
    nominal)."""

    levels: np.ndarray
    w_start: np.ndarray
    q_up: np.ndarray
    q_down: np.ndarray
    drift: np.ndarray
    tech: str
    seed: int | None

    def to_dict(self) -> dict:
        return {"levels": self.levels.tolist(), "w_start": self.w_start.tolist(), "q_up": self.q_up.tolist(),
                "q_down": self.q_down.tolist(), "drift": self.drift.tolist(), "tech": self.tech, "seed": self.seed}  # fmt: skip


def half_response(tech: Technology, plan: ResponsePlan = ResponsePlan(), *, setup: LearnerBenchSetup | None = None,
                  sim: SimParams | None = None, simulator: Simulator | None = None, seed: int | None = None) -> HalfResponse:  # fmt: skip
    """q_up(W), q_down(W) of one half of the learner's weight on ``tech`` (see the module docstring).

    ``setup``: the learner's parameters and nominal I_w(V_C) curve (:func:`setup_benches` on the
    nominal technology; made here when None); ``seed`` is only recorded (the mismatch sample is
    ``tech``'s)."""
    sim = sim or SimParams()
    simulator = simulator or get_simulator()
    st = setup or setup_benches(tech, sim, simulator)
    p = st.params
    h, lam = p.t_hold_s / p.tau_circuit_s, p.lam_circuit
    fx = p.i_floor_a / p.i_u_a
    n = plan.lead + plan.holds
    t = (plan.holds - plan.settle) * h
    marks = np.array([plan.lead, plan.lead + plan.settle, n]) * p.t_hold_s
    ones = np.ones(n)
    w_start, q_up, q_down, drift = [], [], [], []
    for level in plan.levels:
        drive = plan.e_plus * plan.x_a + plan.e_minus * fx
        z = max(drive - lam * level, 1e-3)
        ends = {}
        for name, step in (("base", 0.0), ("up", plan.delta), ("down", -plan.delta)):
            x_a = plan.x_a * ones
            x_a[plan.lead:] += step / plan.e_plus
            stim = CellStimulus(e_plus=plan.e_plus * ones, e_minus=plan.e_minus * ones, x_a=x_a, x_b=fx * ones, z=z * ones)
            _, res = run_cell_bench(tech, p, stim, st.v_c_for(level), sim, simulator)
            times = np.asarray(res["time"])
            ends[name] = np.interp(marks, times, np.asarray(res.drain_current(f"{CELL}mw"))) / p.i_u_a
        moved = {k: ends[k][2] - ends[k][1] for k in ends}  # W's change over the slope's window
        w_start.append(ends["base"][0])
        q_up.append((moved["up"] - moved["base"]) / (plan.delta * t))
        q_down.append((moved["down"] - moved["base"]) / (-plan.delta * t))
        drift.append(moved["base"] / t)
    arr = lambda v: np.asarray(v, dtype=float)  # noqa: E731
    return HalfResponse(arr(plan.levels), arr(w_start), arr(q_up), arr(q_down), arr(drift), tech.label, seed)


@dataclass(frozen=True)
class PairResponse:
    """q₊(w), q₋(w), F, G and a = G/F of a pair over ``w`` (the weight in the learner's units,
    w = s_w·(W⁺ − W⁻)) at common mode ``s`` (units of I_u)."""

    w: np.ndarray
    q_plus: np.ndarray
    q_minus: np.ndarray
    s: float
    w_scale: float
    F: np.ndarray = field(init=False)
    G: np.ndarray = field(init=False)
    asymmetry: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "F", 0.5 * (self.q_minus + self.q_plus))
        object.__setattr__(self, "G", 0.5 * (self.q_minus - self.q_plus))
        object.__setattr__(self, "asymmetry", self.G / self.F)

    def symmetric_point(self) -> float | None:
        """The zero of G nearest w = 0 (linear interpolation between the points where G changes
        sign), or None when G keeps one sign over ``w``."""
        g, w = self.G, self.w
        zeros = []
        for i in np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) <= 0):
            zeros.append(float(w[i]) if g[i] == g[i + 1] else float(w[i] - g[i] * (w[i + 1] - w[i]) / (g[i + 1] - g[i])))
        return min(zeros, key=abs) if zeros else None

    def to_dict(self) -> dict:
        sp = self.symmetric_point()
        return {"w": self.w.tolist(), "q_plus": self.q_plus.tolist(), "q_minus": self.q_minus.tolist(), "F": self.F.tolist(),
                "G": self.G.tolist(), "asymmetry": self.asymmetry.tolist(), "s": self.s, "w_scale": self.w_scale,
                "symmetric_point": sp}  # fmt: skip


def pair_response(plus: HalfResponse, minus: HalfResponse, s: float, w_scale: float, points: int = 21) -> PairResponse:
    """The pair of halves ``plus`` (W⁺) and ``minus`` (W⁻) at common mode ``s``: q₊(w) = q_up⁺(W⁺),
    q₋(w) = q_up⁻(W⁻), W± = (s ± w/w_scale)/2, over the w for which both halves lie inside their
    measured levels (``points`` values, evenly spaced)."""
    if not (np.isfinite(s) and s > 0 and np.isfinite(w_scale) and w_scale > 0):
        raise ValueError(f"pair_response needs s > 0 and w_scale > 0 (finite), got s={s!r}, w_scale={w_scale!r}")
    lo = max(plus.w_start.min(), minus.w_start.min())
    hi = min(plus.w_start.max(), minus.w_start.max())
    half_span = min(s / 2 - lo, hi - s / 2)  # W± = s/2 ± w/(2 w_scale) must stay in [lo, hi]
    if half_span <= 0:
        raise ValueError(f"common mode s={s:g}: s/2 lies outside the measured levels [{lo:.3g}, {hi:.3g}] of the halves")
    w = np.linspace(-2 * w_scale * half_span, 2 * w_scale * half_span, points)
    wp, wm = 0.5 * (s + w / w_scale), 0.5 * (s - w / w_scale)
    q_plus = np.interp(wp, plus.w_start, plus.q_up)
    q_minus = np.interp(wm, minus.w_start, minus.q_up)
    return PairResponse(w, q_plus, q_minus, float(s), float(w_scale))
