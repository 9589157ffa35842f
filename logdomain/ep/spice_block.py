"""Equilibrium propagation through a SPICE energy-based block (:mod:`netlists.ebm_block`).

The block is loaded once per sweep worker (:func:`netlists.sweep.sweep` on a kept executor); every
operating point changes only values: conductances with ``alterparam`` (``.param gp_k_j``, S; one
``reset`` per weight update per worker), input sources and nudging currents with ``alter``.

EP estimate (Scellier & Bengio 2017, centred form; Kendall et al. 2020 for the circuit). With the
loss ``L = C(v)`` of the output voltages v (V), nudge output k with the current
``I_k = −β·c_k``, ``c = ∂C/∂v`` at the free operating point (1/V·[L]); then for any parameter θ
of the energy E (the co-content, J)::

    dL/dθ ≈ [∂E/∂θ(+β) − ∂E/∂θ(−β)] / (2β)

with ``∂E/∂g = ½·ΔV²`` (V²) for a conductance and ``∂E/∂u_j = −i(vxp_j) + i(vxn_j)`` (A) for an input
pair. The nudge uses ``c`` of the free state (fixed currents): the nudged state then minimises
``E + β·cᵀv``, whose β-derivative at 0 gives the same gradient as nudging with C itself (both are
``−cᵀ·H⁻¹·∂²E/∂v∂θ``, H the symmetric Hessian of E); the centred estimate is exact to O(β²).
β is chosen per sample so that the largest nudging current is ``i_nudge_a``.

Two ways to solve a batch of operating points (``batch_points``):

- per sample (``batch_points=None``, the reference, used by the gradient check): the kept circuit,
  ``alter`` of every input and nudging source and one ``op`` per sample;
- batched (``batch_points=N``, used by training): :func:`netlists.ebm_block.ebm_batch_block` writes the
  block once per batch of up to N samples with the inputs and nudges as ``pwl`` tables of a swept index
  source, and one ``.dc`` sweep solves them all (sample k at index k; each solve starts from the previous
  sample's solution). A minibatch of B ≤ N/2 samples costs two ngspice runs (the free phase; the +β and −β
  phases together), not 3·B ``op``s. The values are the same DC operating points (agree with the per-sample path to
  the solver tolerance, tested). Every sample of a batch is checked: KCL at each output
  (:func:`kcl_residual`, from the voltages, the weights and the diode's ammeter current) must hold within
  the solver's ``abstol``. A sample that ngspice reached only through its fallbacks inside the sweep
  (gmin/source stepping failed, "transient op": measured 3 of 100 samples off by up to 1.5e-7 V with a
  residual of 1e-16 A, against ~1e-22 A for the others) fails the check and is solved again per sample
  (counted in ``n_batch_resolved``); a batch ngspice does not finish is solved per sample
  (``n_batch_fallback``).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from netlists.ebm_block import (
    EP_BATCH_SIM,
    EP_SIM,
    EP_SIM_FALLBACK,
    MAX_BATCH_POINTS,
    EbmBlockParams,
    EbmWeights,
    check_inputs,
    check_weights,
    conductance_names,
    ebm_batch_block,
    ebm_sweep_circuit,
    input_source_names,
    nudge_source_names,
    output_nodes,
    region_devices,
)
from netlists._sweep_worker import run_text_once
from netlists.errors import ParameterError, SimulationError
from netlists.params import SimParams
from netlists.sweep import SweepCircuit, sweep
from netlists.technologies.base import Technology

__all__ = ["SpiceEbmBlock", "OperatingPoints", "energy_grad_weights", "kcl_residual"]


@dataclass
class OperatingPoints:
    """Operating points of a batch: output voltages ``v`` (B, n_out) in V, input-source branch
    currents ``i_plus``, ``i_minus`` (B, n_in) in A (ngspice's sign: + node → source → ground)."""

    v: np.ndarray
    i_plus: np.ndarray
    i_minus: np.ndarray

    def energy_grad_inputs(self) -> np.ndarray:
        """∂E/∂u_j = −i(vxp_j) + i(vxn_j), A, shape (B, n_in)."""
        return -self.i_plus + self.i_minus


def energy_grad_weights(params: EbmBlockParams, u: np.ndarray, v: np.ndarray, v_bias_v: float) -> np.ndarray:
    """∂E/∂g = ½·ΔV² across every conductance (V²), shape (B, n_weights) in the order of
    :meth:`EbmWeights.flat`; ``u`` (B, n_in) inputs in V, ``v`` (B, n_out) outputs in V."""
    ub = np.concatenate([u, np.full((u.shape[0], 1), v_bias_v)], axis=1)
    dp = v[:, :, None] - ub[:, None, :]
    dn = v[:, :, None] + ub[:, None, :]
    pairs = params.lateral_pairs()
    if pairs:
        k, l = np.array(pairs).T
        dl = v[:, k] - v[:, l]
    else:
        dl = np.zeros((u.shape[0], 0))
    b = u.shape[0]
    return 0.5 * np.concatenate([dp.reshape(b, -1) ** 2, dn.reshape(b, -1) ** 2, dl ** 2], axis=1)


def kcl_residual(params: EbmBlockParams, weights: EbmWeights, u: np.ndarray, v: np.ndarray, i_diode: np.ndarray,
                 nudge_a: np.ndarray) -> np.ndarray:
    """Current leaving each output node, A, shape (B, n_out): zero at a DC operating point.

    ``Σ_j gp_kj·(v_k − u_j) + gn_kj·(v_k + u_j) + Σ_l gl_kl·(v_k − v_l) + i_d,k − I_k`` with the bias pair as
    column ``n_in`` (±V_b), ``u`` (B, n_in) V, ``v`` (B, n_out) V, ``i_diode`` the ammeter current into
    each diode (A) and ``nudge_a`` the injected currents I_k (A).
    """
    ub = np.concatenate([u, np.full((u.shape[0], 1), params.v_bias_v)], axis=1)
    res = (weights.gp[None] * (v[:, :, None] - ub[:, None, :])).sum(2)
    res += (weights.gn[None] * (v[:, :, None] + ub[:, None, :])).sum(2)
    for i, (k, l) in enumerate(params.lateral_pairs()):
        flow = weights.gl[i] * (v[:, k] - v[:, l])
        res[:, k] += flow
        res[:, l] -= flow
    return res + i_diode - nudge_a


class SpiceEbmBlock:
    """One energy-based block simulated in ngspice through sweep workers that keep it loaded.

    Parameters
    ----------
    tech : Technology (sky130 for the PDK's diode-connected nfet_01v8).
    params : EbmBlockParams.
    weights : EbmWeights, S (validated; change with :meth:`set_weights`).
    executor : a kept :func:`netlists.sweep.sweep_executor` (warm workers with the circuit loaded).
    sim : SimParams; tight tolerances by default (:data:`netlists.ebm_block.EP_SIM`).
    i_nudge_a : largest nudging current of a sample, A.
    point_timeout_s : wall-clock limit of one operating point, s (default: ``sim.timeout_s``); a batched
        run gets this limit times its number of samples.
    batch_points : None — one ``alter`` + ``op`` per sample (the reference); an integer in
        [1, :data:`~netlists.ebm_block.MAX_BATCH_POINTS`] — samples per batched ``.dc`` run (module docstring).
    batch_sim : SimParams of the batched runs (default :data:`netlists.ebm_block.EP_BATCH_SIM`); the KCL check of
        every sample uses its ``abstol_a``.
    """

    def __init__(self, tech: Technology, params: EbmBlockParams, weights: EbmWeights, *, executor: Executor,
                 sim: SimParams | None = None, i_nudge_a: float = 2e-12, point_timeout_s: float | None = None,
                 batch_points: int | None = None, batch_sim: SimParams | None = None) -> None:
        if batch_points is not None and (isinstance(batch_points, bool) or not isinstance(batch_points, int)
                                         or not 1 <= batch_points <= MAX_BATCH_POINTS):
            raise ParameterError(f"SpiceEbmBlock.batch_points must be None or an integer in [1, {MAX_BATCH_POINTS}], "
                                 f"got {batch_points!r}")
        if not (np.isfinite(i_nudge_a) and 1e-16 <= i_nudge_a <= 1e-8):
            raise ParameterError(f"SpiceEbmBlock.i_nudge_a must be in [1e-16, 1e-08] A, got {i_nudge_a!r}")
        self.tech = tech
        self.params = params
        self.sim = sim or EP_SIM
        fallback = EP_SIM_FALLBACK
        self.batch_sim = batch_sim or EP_BATCH_SIM
        if point_timeout_s is not None:
            self.sim = self.sim.replace(timeout_s=point_timeout_s)
            self.batch_sim = self.batch_sim.replace(timeout_s=point_timeout_s)
            fallback = fallback.replace(timeout_s=point_timeout_s)
        self.executor = executor
        self.batch_points = batch_points
        self.i_nudge_a = float(i_nudge_a)
        # the text (and so the workers' loaded circuit) never changes: weights travel as point params
        self.circuit: SweepCircuit = ebm_sweep_circuit(tech, params, EbmWeights.uniform(params), self.sim)
        #: looser tolerances for the points the first circuit does not solve (counted in ``n_fallback``)
        self.fallback: SweepCircuit = ebm_sweep_circuit(tech, params, EbmWeights.uniform(params), fallback)
        self.n_fallback = 0
        #: batches that ngspice's sweep did not solve (solved again per sample)
        self.n_batch_fallback = 0
        #: ngspice runs of the batched path
        self.n_batch_runs = 0
        #: samples of a batch that failed the KCL check (solved again per sample)
        self.n_batch_resolved = 0
        self._names = conductance_names(params)
        self._plus, self._minus = input_source_names(params)
        self._nudge = nudge_source_names(params)
        self._outs = output_nodes(params)
        self.set_weights(weights)
        self.n_points = 0

    def set_weights(self, weights: EbmWeights) -> None:
        """Validate and store the conductances (S) used by the next operating points."""
        self.weights = check_weights(self.params, weights)
        self._gparams = dict(zip(self._names, (float(g) for g in self.weights.flat())))

    def solve(self, u: np.ndarray, nudge_a: np.ndarray | None = None, *, gparams: list[dict] | None = None
              ) -> OperatingPoints:
        """Operating points for inputs ``u`` (B, n_in) V and nudging currents ``nudge_a`` (B, n_out) A
        (default 0); ``gparams`` (one conductance mapping per point) overrides the weights."""
        u = check_inputs(self.params, u)
        b = u.shape[0]
        nudge = np.zeros((b, self.params.n_out)) if nudge_a is None else np.asarray(nudge_a, dtype=float)
        if nudge.shape != (b, self.params.n_out) or not np.all(np.isfinite(nudge)):
            raise ParameterError(f"nudging currents must be finite, shape ({b}, {self.params.n_out})")
        if gparams is None and self.batch_points is not None:
            return self._solve_batched(u, nudge)
        return self._solve_points(u, nudge, gparams)

    def _solve_points(self, u: np.ndarray, nudge: np.ndarray, gparams: list[dict] | None) -> OperatingPoints:
        """The per-sample path: the kept circuit, ``alter`` + ``op`` per sample."""
        b = u.shape[0]
        points = []
        for i in range(b):
            point = dict(self._gparams if gparams is None else gparams[i])
            point.update({n: float(x) for n, x in zip(self._plus, u[i])})
            point.update({n: -float(x) for n, x in zip(self._minus, u[i])})
            point.update({n: float(x) for n, x in zip(self._nudge, nudge[i])})
            points.append(point)
        result = sweep(self.circuit, points, executor=self.executor, use_cache=False, quiet=True)
        self.n_points += b
        names = [*self._outs, *(f"{n}#branch" for n in self._plus), *(f"{n}#branch" for n in self._minus)]
        table = np.stack([result[n] for n in names], axis=1)
        failed = [e.index for e in result.errors]
        if failed:  # rerun with looser tolerances; a point that fails again is an error
            again = sweep(self.fallback, [points[i] for i in failed], executor=self.executor, use_cache=False,
                          quiet=True).raise_errors()
            table[failed] = np.stack([again[n] for n in names], axis=1)
            self.n_fallback += len(failed)
        n_out, n_in = self.params.n_out, self.params.n_in
        return OperatingPoints(table[:, :n_out], table[:, n_out:n_out + n_in], table[:, n_out + n_in:])

    def _solve_batched(self, u: np.ndarray, nudge: np.ndarray) -> OperatingPoints:
        """The batched path: chunks of ``batch_points`` samples, one ``.dc`` run each, spread over the executor."""
        b, size = u.shape[0], int(self.batch_points)
        spans = [(s, min(s + size, b)) for s in range(0, b, size)]
        init = list(self.tech.init_commands())
        futures = []
        for s, e in spans:
            text = ebm_batch_block(self.tech, self.params, self.weights, u[s:e], nudge[s:e]).text(self.batch_sim)
            futures.append(self.executor.submit(run_text_once, text, init, float(self.batch_sim.timeout_s) * (e - s)))
        names = [*self._outs, *(f"{n}#branch" for n in self._plus), *(f"{n}#branch" for n in self._minus)]
        diodes = [f"vam_{d}#branch" for d in region_devices(self.params)]
        table = np.empty((b, len(names)))
        for (s, e), future in zip(spans, futures):
            try:
                vectors = future.result()["vectors"]
                rows = np.stack([np.asarray(vectors[n], dtype=float) for n in names], axis=1)
                i_d = np.stack([np.asarray(vectors[n], dtype=float) for n in diodes], axis=1)
                if rows.shape[0] != e - s or i_d.shape[0] != e - s:
                    raise SimulationError(f"batched sweep returned {rows.shape[0]} of {e - s} points")
            except (SimulationError, KeyError):  # the per-sample path, with its own fallback
                self.n_batch_fallback += 1
                op = self._solve_points(u[s:e], nudge[s:e], None)
                rows = np.concatenate([op.v, op.i_plus, op.i_minus], axis=1)
            else:
                self.n_points += e - s
                res = kcl_residual(self.params, self.weights, u[s:e], rows[:, :self.params.n_out], i_d, nudge[s:e])
                bad = np.flatnonzero(np.max(np.abs(res), axis=1) > self.batch_sim.abstol_a)
                if bad.size:
                    again = self._solve_points(u[s:e][bad], nudge[s:e][bad], None)
                    rows[bad] = np.concatenate([again.v, again.i_plus, again.i_minus], axis=1)
                    self.n_batch_resolved += int(bad.size)
            self.n_batch_runs += 1
            table[s:e] = rows
        n_out, n_in = self.params.n_out, self.params.n_in
        return OperatingPoints(table[:, :n_out], table[:, n_out:n_out + n_in], table[:, n_out + n_in:])

    def ep_gradients(self, u: np.ndarray, c: np.ndarray, free: OperatingPoints | None = None
                     ) -> tuple[np.ndarray, np.ndarray, OperatingPoints]:
        """Centred EP: (dL/dg per sample (B, n_weights) in 1/S·[L], dL/du (B, n_in) in 1/V·[L], free state).

        ``c`` (B, n_out): ∂L/∂v at the free state, 1/V. Two nudged solves per sample (±β).
        """
        u = check_inputs(self.params, u)
        free = free if free is not None else self.solve(u)
        c = np.asarray(c, dtype=float)
        scale = np.max(np.abs(c), axis=1)
        beta = np.where(scale > 0, self.i_nudge_a / np.where(scale > 0, scale, 1.0), 0.0)  # A·V per unit of L
        nudges = -beta[:, None] * c
        both = self.solve(np.concatenate([u, u]), np.concatenate([nudges, -nudges]))
        b = u.shape[0]
        plus = OperatingPoints(both.v[:b], both.i_plus[:b], both.i_minus[:b])
        minus = OperatingPoints(both.v[b:], both.i_plus[b:], both.i_minus[b:])
        safe = np.where(beta > 0, 2.0 * beta, 1.0)[:, None]
        vb = self.params.v_bias_v
        gw = (energy_grad_weights(self.params, u, plus.v, vb) - energy_grad_weights(self.params, u, minus.v, vb)) / safe
        gu = (plus.energy_grad_inputs() - minus.energy_grad_inputs()) / safe
        return gw, gu, free
