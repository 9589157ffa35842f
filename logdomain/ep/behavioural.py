"""Behavioural energy-based block: the SPICE block's nodal equations solved by Newton in numpy.

Same circuit as :mod:`netlists.ebm_block` with the diode-connected MOS replaced by its fitted law
``I_D(v)`` (:class:`calibration.diode_fit.DiodeLaw`). KCL at the outputs (A), for every sample::

    f(v) = A·v − b + I_D(v) = 0,    A = diag(Σ_j gp_kj + gn_kj + Σ_l gl_kl) − G_lat,
                                    b = (gp − gn)·[u; V_b] + I_nudge

(A in S, v and u in V). ``f = ∂E/∂v`` of the block's co-content E, so the Jacobian
``J = A + diag(I_D'(v))`` is symmetric positive definite (I_D increases): Newton converges from the
linear solution, and the solution is unique. Batched over samples (``numpy.linalg.solve`` on (B, n, n)).

Exact gradients by implicit differentiation (adjoint): with ``c = ∂L/∂v`` solve ``J·λ = c``; then
``dL/dθ = −λᵀ·∂f/∂θ``:  ``dL/dgp_kj = −λ_k (v_k − ub_j)``, ``dL/dgn_kj = −λ_k (v_k + ub_j)``,
``dL/dgl_kl = −(λ_k − λ_l)(v_k − v_l)``, ``dL/du_j = Σ_k λ_k (gp_kj − gn_kj)``.

EP on this block (free, ±β nudged solves; :meth:`BehaviouralEbmBlock.ep_gradients`) uses the same
estimate as the SPICE block (:mod:`logdomain.ep.spice_block`), so the two training modes differ only
in how the gradient is obtained.
"""

from __future__ import annotations

import numpy as np

from calibration.diode_fit import DiodeLaw
from netlists.ebm_block import EbmBlockParams, EbmWeights, check_inputs, check_weights
from netlists.errors import ParameterError, SimulationError

from .spice_block import energy_grad_weights

__all__ = ["BehaviouralEbmBlock"]


class BehaviouralEbmBlock:
    """Numpy model of an energy-based block (see module docstring).

    Parameters
    ----------
    params : EbmBlockParams (shape, bias voltage, conductance range).
    law : DiodeLaw fitted on the block's diode-connected device.
    weights : EbmWeights, S.
    i_nudge_a : largest nudging current per sample for :meth:`ep_gradients`, A.
    tol_v : Newton stops when no node moves by more than this, V.
    """

    def __init__(self, params: EbmBlockParams, law: DiodeLaw, weights: EbmWeights, *, i_nudge_a: float = 2e-12,
                 tol_v: float = 1e-13) -> None:
        if not (np.isfinite(i_nudge_a) and 1e-16 <= i_nudge_a <= 1e-8):
            raise ParameterError(f"BehaviouralEbmBlock.i_nudge_a must be in [1e-16, 1e-08] A, got {i_nudge_a!r}")
        self.params = params
        self.law = law
        self.i_nudge_a = float(i_nudge_a)
        self.tol_v = float(tol_v)
        self.pairs = np.array(params.lateral_pairs(), dtype=int).reshape(-1, 2)
        self.set_weights(weights)

    def set_weights(self, weights: EbmWeights) -> None:
        """Validate and store the conductances (S)."""
        self.weights = check_weights(self.params, weights)
        w = self.weights
        n = self.params.n_out
        lat = np.zeros((n, n))
        if len(self.pairs):
            lat[self.pairs[:, 0], self.pairs[:, 1]] = w.gl
            lat[self.pairs[:, 1], self.pairs[:, 0]] = w.gl
        self._a = np.diag(w.gp.sum(axis=1) + w.gn.sum(axis=1) + lat.sum(axis=1)) - lat

    def _ub(self, u: np.ndarray) -> np.ndarray:
        return np.concatenate([u, np.full((u.shape[0], 1), self.params.v_bias_v)], axis=1)

    def solve(self, u, nudge_a: np.ndarray | None = None, *, max_iter: int = 100) -> np.ndarray:
        """Output voltages (B, n_out), V, for inputs ``u`` (B, n_in) V and nudging currents (B, n_out) A."""
        u = check_inputs(self.params, u)
        w = self.weights
        b = self._ub(u) @ (w.gp - w.gn).T
        if nudge_a is not None:
            b = b + nudge_a
        v = np.linalg.solve(self._a, b.T).T  # the linear network (no diode current)
        v = np.clip(v, -self.params.v_in_max_v - 0.1, self.params.v_in_max_v + 0.1)
        eye = np.eye(self.params.n_out)
        for _ in range(max_iter):
            f = v @ self._a.T - b + self.law.current_a(v)
            jac = self._a[None] + eye[None] * self.law.conductance_s(v)[:, None, :]
            step = np.linalg.solve(jac, -f[..., None])[..., 0]
            step = np.clip(step, -0.05, 0.05)
            v = v + step
            if np.max(np.abs(step)) < self.tol_v:
                return v
        raise SimulationError(f"behavioural block: Newton did not converge in {max_iter} iterations "
                              f"(last step {np.max(np.abs(step)):.3g} V)")

    def input_currents(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """∂E/∂u_j = Σ_k gp_kj (u_j − v_k) + gn_kj (u_j + v_k), A (what the SPICE sources measure)."""
        w = self.weights
        gp, gn = w.gp[:, :-1], w.gn[:, :-1]
        return u * (gp.sum(axis=0) + gn.sum(axis=0))[None] - v @ gp + v @ gn

    def exact_gradients(self, u, v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Implicit differentiation: (dL/dg (B, n_weights) in 1/S·[L], dL/du (B, n_in) in 1/V·[L]) at the free
        state ``v`` for ``c = ∂L/∂v`` (B, n_out) in 1/V·[L]."""
        u = check_inputs(self.params, u)
        jac = self._a[None] + np.eye(self.params.n_out)[None] * self.law.conductance_s(v)[:, None, :]
        lam = np.linalg.solve(jac, np.asarray(c, dtype=float)[..., None])[..., 0]
        ub = self._ub(u)
        bsz = u.shape[0]
        dgp = -lam[:, :, None] * (v[:, :, None] - ub[:, None, :])
        dgn = -lam[:, :, None] * (v[:, :, None] + ub[:, None, :])
        if len(self.pairs):
            k, l = self.pairs.T
            dgl = -(lam[:, k] - lam[:, l]) * (v[:, k] - v[:, l])
        else:
            dgl = np.zeros((bsz, 0))
        w = self.weights
        du = lam @ (w.gp[:, :-1] - w.gn[:, :-1])
        return np.concatenate([dgp.reshape(bsz, -1), dgn.reshape(bsz, -1), dgl], axis=1), du

    def ep_gradients(self, u, c: np.ndarray, v_free: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centred EP (as :meth:`logdomain.ep.spice_block.SpiceEbmBlock.ep_gradients`): (dL/dg, dL/du, v_free)."""
        u = check_inputs(self.params, u)
        v_free = self.solve(u) if v_free is None else v_free
        c = np.asarray(c, dtype=float)
        scale = np.max(np.abs(c), axis=1)
        beta = np.where(scale > 0, self.i_nudge_a / np.where(scale > 0, scale, 1.0), 0.0)
        nudge = -beta[:, None] * c
        vp, vm = self.solve(u, nudge), self.solve(u, -nudge)
        safe = np.where(beta > 0, 2.0 * beta, 1.0)[:, None]
        vb = self.params.v_bias_v
        gw = (energy_grad_weights(self.params, u, vp, vb) - energy_grad_weights(self.params, u, vm, vb)) / safe
        gu = (self.input_currents(u, vp) - self.input_currents(u, vm)) / safe
        return gw, gu, v_free
