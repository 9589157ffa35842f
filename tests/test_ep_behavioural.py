"""Behavioural energy-based block (logdomain.ep.behavioural) and the diode fit (calibration.diode_fit).

References: the SPICE block (netlists.ebm_block through sweep workers) for the outputs, the SPICE
sweep of the device for the fitted law, central finite differences for the implicit gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibration.diode_fit import calibrate_diode, collect_diode_iv, fit_diode_law
from netlists import ParameterError, get_technology
from netlists.ebm_block import EbmBlockParams, EbmWeights
from netlists.sweep import sweep_executor
from logdomain.ep.behavioural import BehaviouralEbmBlock
from logdomain.ep.gradcheck import cosine, random_circuit, relative_error
from logdomain.ep.spice_block import SpiceEbmBlock

pytestmark = pytest.mark.spice

SKY = get_technology("sky130")
PARAMS = EbmBlockParams()


@pytest.fixture(scope="module")
def law():
    return calibrate_diode(SKY, w_m=PARAMS.diode_w_m, l_m=PARAMS.diode_l_m)


def test_diode_law_fits_the_spice_sweep(law):
    v, i = collect_diode_iv(SKY, w_m=PARAMS.diode_w_m, l_m=PARAMS.diode_l_m)
    away = np.abs(v) > 0.01
    rel = (law.current_a(v[away]) - i[away]) / np.abs(i[away])
    assert np.sqrt(np.mean(rel**2)) < 0.01
    assert np.max(np.abs(rel)) < 0.05
    assert law.current_a(np.array([0.0]))[0] == 0.0
    grid = np.linspace(-0.6, 0.6, 1201)  # also beyond the fitted range (linear continuation)
    assert np.all(law.conductance_s(grid) > 0)
    h = 1e-7
    np.testing.assert_allclose(law.conductance_s(grid[::50]),
                               (law.current_a(grid[::50] + h) - law.current_a(grid[::50] - h)) / (2 * h), rtol=1e-5)


def test_diode_fit_degree_is_validated():
    with pytest.raises(ParameterError, match=r"degree must be an integer in \[1, 8\]"):
        fit_diode_law(np.linspace(-0.4, 0.4, 50), np.linspace(-1e-9, 1e-9, 50), degree=9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_behavioural_outputs_match_spice(law, seed):
    """Acceptance: behavioural vs SPICE block outputs ≤ 1 % apart (of the largest output magnitude)."""
    params, weights, _, _ = random_circuit(seed)
    u = np.random.default_rng(seed).uniform(-params.v_in_max_v, params.v_in_max_v, (40, params.n_in))
    with sweep_executor(1) as pool:
        v_spice = SpiceEbmBlock(SKY, params, weights, executor=pool).solve(u).v
    v_model = BehaviouralEbmBlock(params, law, weights).solve(u)
    assert np.max(np.abs(v_model - v_spice)) <= 0.01 * np.max(np.abs(v_spice))


@pytest.mark.parametrize("seed", [0, 5])
def test_implicit_gradients_match_finite_differences(law, seed):
    params, weights, u, y = random_circuit(seed)
    block = BehaviouralEbmBlock(params, law, weights)

    def loss() -> float:
        return 0.5 * float(np.sum((block.solve(u) - y) ** 2))

    v = block.solve(u)
    gw, gu = block.exact_gradients(u, v, v - y)
    flat = weights.flat()
    fd = np.empty_like(flat)
    for i, g in enumerate(flat):
        values = []
        for sign in (1.0, -1.0):
            changed = flat.copy()
            changed[i] = g * (1 + sign * 1e-5)
            block.set_weights(EbmWeights.from_flat(params, changed))
            values.append(loss())
        fd[i] = (values[0] - values[1]) / (2e-5 * g)
    block.set_weights(weights)
    assert relative_error(gw.sum(axis=0), fd) < 1e-6
    h = 1e-6
    fd_u = np.empty_like(u)
    for s in range(u.shape[0]):
        for j in range(u.shape[1]):
            values = []
            for sign in (1.0, -1.0):
                shifted = u.copy()
                shifted[s, j] += sign * h
                values.append(0.5 * float(np.sum((block.solve(shifted) - y) ** 2)))
            fd_u[s, j] = (values[0] - values[1]) / (2 * h)
    assert relative_error(gu, fd_u) < 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_ep_matches_implicit_differentiation(law, seed):
    params, weights, u, y = random_circuit(seed)
    block = BehaviouralEbmBlock(params, law, weights)
    v = block.solve(u)
    gw, gu = block.exact_gradients(u, v, v - y)
    ew, eu, _ = block.ep_gradients(u, v - y, v)
    assert cosine(ew.sum(axis=0), gw.sum(axis=0)) >= 0.99 and relative_error(ew.sum(axis=0), gw.sum(axis=0)) < 0.01
    assert cosine(eu, gu) >= 0.99 and relative_error(eu, gu) < 0.01


def test_input_currents_are_consistent_with_kcl(law):
    """Σ of the inputs' currents + bias currents = current into the outputs' diodes (+ nudges)."""
    params, weights, u, _ = random_circuit(4)
    block = BehaviouralEbmBlock(params, law, weights)
    v = block.solve(u)
    ub = np.concatenate([u, np.full((u.shape[0], 1), params.v_bias_v)], axis=1)
    into = (weights.gp[None] * (ub[:, None, :] - v[:, :, None]) + weights.gn[None] * (-ub[:, None, :] - v[:, :, None])).sum(axis=(1, 2))
    np.testing.assert_allclose(into, law.current_a(v).sum(axis=1), rtol=1e-8, atol=1e-20)


def test_inputs_outside_the_range_are_refused(law):
    block = BehaviouralEbmBlock(PARAMS, law, EbmWeights.uniform(PARAMS))
    with pytest.raises(ParameterError, match=r"block inputs must be finite, shape \(B, 4\), within ±0.4 V"):
        block.solve(np.full((1, 4), 0.5))
