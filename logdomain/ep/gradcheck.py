"""Gradient check of EP through SPICE blocks against finite differences through SPICE.

For each random circuit (sizes, conductances, inputs and targets drawn from the seed) the loss is
``L = Σ_b Σ_k ½·(v_bk − y_bk)²/V₀²`` over a small batch of inputs (V₀ = :data:`LOSS_SCALE_V`), so
``c = ∂L/∂v = (v − y)/V₀²``. The "exact" gradient is the central finite difference of L, each
term an operating point of the same loaded circuit (conductance steps ``±rel_step·g`` through
``alterparam``, input steps ``±input_step_v`` through ``alter``). Figures per circuit: cosine
similarity and relative error ``‖g_EP − g_FD‖/‖g_FD‖`` for the weights (summed over the batch) and
for the block inputs (all samples), plus the diodes' operating regions at the free state.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

import numpy as np

from netlists import Simulator, check_regions
from netlists.ebm_block import EP_SIM, EbmBlockParams, EbmWeights, conductance_names, ebm_block
from netlists.errors import ParameterError
from netlists.technologies.base import Technology

from .spice_block import SpiceEbmBlock

__all__ = ["LOSS_SCALE_V", "cosine", "relative_error", "check_circuit", "random_circuit", "spice_gradcheck"]

#: voltage scale of the gradient-check loss, V
LOSS_SCALE_V = 0.1


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two flattened arrays (1 for identical directions)."""
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def relative_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    """‖estimate − exact‖ / ‖exact‖ (magnitude and direction together)."""
    return float(np.linalg.norm(np.ravel(estimate) - np.ravel(exact)) / np.linalg.norm(np.ravel(exact)))


def random_circuit(seed: int) -> tuple[EbmBlockParams, EbmWeights, np.ndarray, np.ndarray]:
    """(params, weights in S, inputs (B, n_in) in V, targets (B, n_out) in V) drawn from ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**31:
        raise ParameterError(f"seed must be an integer in [0, 2^31), got {seed!r}")
    rng = np.random.default_rng(seed)
    params = EbmBlockParams(n_in=int(rng.integers(2, 6)), n_out=int(rng.integers(2, 5)))
    # inputs mostly positive and gp > gn on average: the outputs sit at 0.1-0.35 V, where the diodes
    # carry a large share of the current (a strongly nonlinear circuit, not a near-linear one)
    m = params.n_out * (params.n_in + 1)
    gp = params.g_init_s * np.exp(rng.uniform(0.0, 1.5, m))
    gn = params.g_init_s * np.exp(rng.uniform(-1.5, 0.0, m))
    gl = params.g_init_s * np.exp(rng.uniform(-1.5, 1.5, params.n_lateral))
    flat = np.clip(np.concatenate([gp, gn, gl]), params.g_min_s, params.g_max_s)
    weights = EbmWeights.from_flat(params, flat)
    batch = 2
    u = rng.uniform(-0.1, 0.4, (batch, params.n_in))
    y = rng.uniform(0.0, 0.3, (batch, params.n_out))
    return params, weights, u, y


def check_circuit(tech: Technology, params: EbmBlockParams, weights: EbmWeights, u: np.ndarray, y: np.ndarray, *,
                  executor: Executor, rel_step: float = 1e-3, input_step_v: float = 1e-4,
                  i_nudge_a: float = 2e-12, point_timeout_s: float | None = None) -> dict[str, Any]:
    """EP vs central finite differences for one circuit; returns the figures (see module docstring)."""
    block = SpiceEbmBlock(tech, params, weights, executor=executor, i_nudge_a=i_nudge_a, point_timeout_s=point_timeout_s)
    b = u.shape[0]
    free = block.solve(u)
    c = (free.v - y) / LOSS_SCALE_V**2
    gw, gu, _ = block.ep_gradients(u, c, free)
    ep_w = gw.sum(axis=0)

    def loss(v: np.ndarray) -> np.ndarray:  # per sample
        return 0.5 * np.sum((v - y) ** 2, axis=-1) / LOSS_SCALE_V**2

    names = conductance_names(params)
    flat = weights.flat()
    gparams = []
    for i, g in enumerate(flat):
        for sign in (1.0, -1.0):
            changed = dict(block._gparams)
            changed[names[i]] = float(g * (1.0 + sign * rel_step))
            gparams += [changed] * b
    ops = block.solve(np.tile(u, (2 * len(flat), 1)), gparams=gparams)
    lw = loss(ops.v.reshape(len(flat), 2, b, -1)).sum(axis=2)  # (n_w, 2): total loss at +h, −h
    fd_w = (lw[:, 0] - lw[:, 1]) / (2.0 * rel_step * flat)
    shifted = []
    for s in range(b):
        for j in range(params.n_in):
            for sign in (1.0, -1.0):
                row = u[s].copy()
                row[j] += sign * input_step_v
                shifted.append(row)
    opu = block.solve(np.array(shifted))
    # sample s changes only its own loss term (targets of sample s)
    vv = opu.v.reshape(b, params.n_in, 2, params.n_out)
    lu = 0.5 * np.sum((vv - y[:, None, None, :]) ** 2, axis=-1) / LOSS_SCALE_V**2
    fd_u = (lu[:, :, 0] - lu[:, :, 1]) / (2.0 * input_step_v)
    with Simulator(EP_SIM, timeout_s=point_timeout_s) as sim:
        netlist = ebm_block(tech, params, weights, u[0])
        report = check_regions(netlist, sim.run(netlist), EP_SIM)
    regions = [{"device": d.name, "v_v": d.vgs_v, "id_a": d.id_a, "ic": d.ic, "weak_inversion": bool(d.weak_inversion)}
               for d in report.devices]
    # share of each output's conductance current that the diode carries (how nonlinear the point is)
    g_total = weights.gp.sum(axis=1) + weights.gn.sum(axis=1)
    diode_share = [abs(r["id_a"]) / (abs(r["id_a"]) + g_total[k] * abs(r["v_v"])) for k, r in enumerate(regions)]
    return {
        "n_in": params.n_in, "n_out": params.n_out, "n_weights": int(flat.size), "batch": int(b),
        "cosine_weights": cosine(ep_w, fd_w), "cosine_inputs": cosine(gu, fd_u),
        "magnitude_rel_error": max(relative_error(ep_w, fd_w), relative_error(gu, fd_u)),
        "magnitude_rel_error_weights": relative_error(ep_w, fd_w),
        "magnitude_rel_error_inputs": relative_error(gu, fd_u),
        "norm_ratio_weights": float(np.linalg.norm(ep_w) / np.linalg.norm(fd_w)),
        "norm_ratio_inputs": float(np.linalg.norm(gu) / np.linalg.norm(fd_u)),
        "v_out_range_v": [float(free.v.min()), float(free.v.max())],
        "diode_current_share_max": float(max(diode_share)),
        "diodes_weak_inversion": bool(all(r["weak_inversion"] for r in regions)),
        "diodes": regions,
        "operating_points": int(block.n_points + 1),
        "ep_weights": ep_w.tolist(), "fd_weights": fd_w.tolist(),
        "ep_inputs": gu.tolist(), "fd_inputs": fd_u.tolist(),
    }


def spice_gradcheck(tech: Technology, seed: int, *, n_circuits: int = 3, executor: Executor,
                    point_timeout_s: float | None = None) -> dict[str, Any]:
    """Check ``n_circuits`` random circuits (seeds ``seed, seed+1, …``); JSON-able result with ``circuits``."""
    if isinstance(n_circuits, bool) or not isinstance(n_circuits, int) or not 1 <= n_circuits <= 50:
        raise ParameterError(f"n_circuits must be an integer in [1, 50], got {n_circuits!r}")
    circuits = []
    for k in range(n_circuits):
        params, weights, u, y = random_circuit(seed + k)
        out = check_circuit(tech, params, weights, u, y, executor=executor, point_timeout_s=point_timeout_s)
        out["seed"] = seed + k
        circuits.append(out)
    return {"circuits": circuits, "technology": tech.label, "loss_scale_v": LOSS_SCALE_V}
