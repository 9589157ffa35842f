"""Batched operating points of the SPICE energy-based block (one ``.dc`` sweep per batch).

Reference: the per-sample path (the kept circuit, ``alter`` + ``op`` per sample) of the same block.
Tolerances: states within 2e-8 V and EP gradients within 1e-4 relative (of their largest entry); measured
3e-9 V and 1.2e-6 on the 8×6 block (reltol 1e-7 of the batched sweep against 1e-8 per sample).
"""

from __future__ import annotations

import numpy as np
import pytest

import logdomain.ep.spice_block as spice_block
from netlists import NetlistError, ParameterError, SimulationError, get_technology
from netlists.ebm_block import (
    BATCH_SWEEP_SOURCE,
    EP_SIM,
    MAX_BATCH_POINTS,
    EbmBlockParams,
    EbmWeights,
    ebm_batch_block,
)
from netlists.sweep import sweep_executor
from logdomain.ep.gradcheck import random_circuit
from logdomain.ep.spice_block import SpiceEbmBlock, kcl_residual

pytestmark = pytest.mark.spice

SKY = get_technology("sky130")
V_ATOL = 2e-8
GRAD_RTOL = 1e-4


@pytest.fixture(scope="module")
def executor():
    with sweep_executor(2) as pool:
        yield pool


def _wine_block(seed: int, n: int) -> tuple[EbmBlockParams, EbmWeights, np.ndarray, np.ndarray]:
    params = EbmBlockParams(n_in=8, n_out=6)
    rng = np.random.default_rng(seed)
    weights = EbmWeights.random(params, rng, spread=0.5)
    return params, weights, rng.uniform(-0.35, 0.35, (n, params.n_in)), rng.normal(size=(n, params.n_out))


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


@pytest.mark.parametrize("batch_points", [7, 64])
def test_batched_path_equals_the_per_sample_path(executor, batch_points):
    """Free states, input currents and centred EP gradients agree; batches split over several runs too."""
    params, weights, u, c = _wine_block(0, 40)
    ref = SpiceEbmBlock(SKY, params, weights, executor=executor)
    fast = SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=batch_points)
    gw_ref, gu_ref, free_ref = ref.ep_gradients(u, c)
    gw, gu, free = fast.ep_gradients(u, c)
    assert fast.n_batch_runs == -(-40 // batch_points) + -(-80 // batch_points)
    assert fast.n_batch_fallback == 0
    np.testing.assert_allclose(free.v, free_ref.v, rtol=0, atol=V_ATOL)
    assert _rel(free_ref.i_plus, free.i_plus) < GRAD_RTOL
    assert _rel(gw_ref, gw) < GRAD_RTOL
    assert _rel(gu_ref, gu) < GRAD_RTOL


def test_batched_nudged_states_match_on_a_random_circuit(executor):
    """A different shape (random_circuit: the gradient-check circuits), with nudging currents."""
    params, weights, u, _ = random_circuit(5)
    nudge = np.tile(np.linspace(-2e-12, 2e-12, params.n_out), (u.shape[0], 1))
    ref = SpiceEbmBlock(SKY, params, weights, executor=executor).solve(u, nudge)
    fast = SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=16).solve(u, nudge)
    np.testing.assert_allclose(fast.v, ref.v, rtol=0, atol=V_ATOL)
    np.testing.assert_allclose(fast.i_minus, ref.i_minus, rtol=1e-5, atol=1e-17)


def test_kcl_residual_is_zero_at_operating_points_and_not_elsewhere(executor):
    params, weights, u, _ = _wine_block(1, 6)
    block = SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=8)
    text_vectors = executor.submit(spice_block.run_text_once, ebm_batch_block(SKY, params, weights, u).text(block.batch_sim),
                                   list(SKY.init_commands()), 60.0).result()["vectors"]
    v = np.stack([text_vectors[f"o_{k}"] for k in range(params.n_out)], axis=1)
    i_d = np.stack([text_vectors[f"vam_md_{k}#branch"] for k in range(params.n_out)], axis=1)
    nudge = np.zeros_like(v)
    assert np.max(np.abs(kcl_residual(params, weights, u, v, i_d, nudge))) < block.batch_sim.abstol_a
    # 1 µV off at one output: the check sees it (about g_node·1e-6 V ≈ 1e-15 A)
    v_off = v.copy()
    v_off[2, 3] += 1e-6
    res = np.max(np.abs(kcl_residual(params, weights, u, v_off, i_d, nudge)), axis=1)
    assert res[2] > 10 * block.batch_sim.abstol_a and np.all(np.delete(res, 2) < block.batch_sim.abstol_a)


def test_samples_failing_the_kcl_check_are_solved_again(executor, monkeypatch):
    params, weights, u, _ = _wine_block(2, 10)
    ref = SpiceEbmBlock(SKY, params, weights, executor=executor).solve(u)
    real = spice_block.kcl_residual

    def flag_sample_3(*args):
        res = real(*args)
        res[3] = 1.0
        return res

    monkeypatch.setattr(spice_block, "kcl_residual", flag_sample_3)
    block = SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=32)
    op = block.solve(u)
    assert block.n_batch_resolved == 1 and block.n_batch_fallback == 0
    np.testing.assert_allclose(op.v, ref.v, rtol=0, atol=V_ATOL)


def test_a_failed_batch_is_solved_per_sample(executor, monkeypatch):
    params, weights, u, _ = _wine_block(3, 5)
    ref = SpiceEbmBlock(SKY, params, weights, executor=executor).solve(u)

    def fail(*args, **kwargs):
        raise SimulationError("no convergence (test)", log="ngspice log")

    monkeypatch.setattr(spice_block, "run_text_once", fail)
    block = SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=32)
    op = block.solve(u)
    assert block.n_batch_fallback == 1
    np.testing.assert_allclose(op.v, ref.v, rtol=0, atol=1e-12)


def test_gparams_use_the_per_sample_path(executor):
    params, weights, u, _ = random_circuit(2)
    block = SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=8)
    g = dict(zip(spice_block.conductance_names(params), (float(x) for x in weights.flat())))
    block.solve(u, gparams=[g] * u.shape[0])
    assert block.n_batch_runs == 0


def test_batch_netlist_sweeps_the_index_and_is_deterministic():
    params, weights, u, _ = random_circuit(4)
    text = ebm_batch_block(SKY, params, weights, u).text(EP_SIM)
    assert text == ebm_batch_block(SKY, params, weights, u).text(EP_SIM)
    assert f".dc {BATCH_SWEEP_SOURCE} 0 {u.shape[0] - 1} 1" in text
    assert "\n.op\n" not in text and "pwl(v(sidx)" in text
    names = [line.split()[0] for line in text.splitlines() if line and line[0] in "bvi"]
    assert {f"bxp_{j}" for j in range(params.n_in)} <= set(names)
    assert {f"binud_{k}" for k in range(params.n_out)} <= set(names)


@pytest.mark.parametrize(("u_shape", "nudge", "message"), [
    ((0, 3), None, r"inputs must have shape \(N, 3\)"),
    ((MAX_BATCH_POINTS + 1, 3), None, r"inputs must have shape \(N, 3\)"),
    ((2, 4), None, r"inputs must have shape \(N, 3\)"),
    ((2, 3), np.full((2, 2), np.nan), r"nudging currents must be finite"),
    ((2, 3), np.full((2, 2), 1e-3), r"nudging currents must be finite"),
    ((2, 3), np.zeros((3, 2)), r"nudging currents must be finite, shape \(2, 2\)"),
])
def test_batch_netlist_inputs_are_validated(u_shape, nudge, message):
    params = EbmBlockParams(n_in=3, n_out=2)
    with pytest.raises(ParameterError, match=message):
        ebm_batch_block(SKY, params, EbmWeights.uniform(params), np.zeros(u_shape), nudge)


def test_batch_netlist_refuses_out_of_range_inputs():
    params = EbmBlockParams(n_in=3, n_out=2)
    with pytest.raises(ParameterError, match=r"ebm_batch_block inputs must be finite voltages in \[-0.4, 0.4\] V; sample 1 is"):
        ebm_batch_block(SKY, params, EbmWeights.uniform(params), np.array([[0.1, 0.2, 0.1], [0.1, np.inf, 0.0]]))


@pytest.mark.parametrize("batch_points", [0, MAX_BATCH_POINTS + 1, 2.0, True, "8"])
def test_batch_points_is_validated(executor, batch_points):
    params = EbmBlockParams(n_in=2, n_out=2)
    with pytest.raises(ParameterError, match=r"SpiceEbmBlock.batch_points must be None or an integer in \[1, 256\]"):
        SpiceEbmBlock(SKY, params, EbmWeights.uniform(params), executor=executor, batch_points=batch_points)


def test_netlist_errors_of_a_batch_are_not_hidden(executor, monkeypatch):
    """A rejected netlist is a bug, not a convergence problem: it reaches the caller."""
    params, weights, u, _ = random_circuit(1)

    def reject(*args, **kwargs):
        raise NetlistError("ngspice rejected the netlist: test", log="")

    monkeypatch.setattr(spice_block, "run_text_once", reject)
    with pytest.raises(NetlistError, match="rejected"):
        SpiceEbmBlock(SKY, params, weights, executor=executor, batch_points=4).solve(u)
