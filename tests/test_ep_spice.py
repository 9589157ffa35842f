"""Energy-based SPICE block (netlists.ebm_block) and EP through sweep workers (logdomain.ep.spice_block).

Reference for EP: central finite differences of the loss through the same SPICE circuit.
"""

from __future__ import annotations

import numpy as np
import pytest

from netlists import ParameterError, Simulator, get_technology
from netlists.ebm_block import EP_SIM, EbmBlockParams, EbmWeights, check_weights, ebm_block, ebm_sweep_circuit
from netlists.sweep import sweep_executor
from logdomain.ep.gradcheck import random_circuit, spice_gradcheck
from logdomain.ep.spice_block import SpiceEbmBlock, energy_grad_weights

pytestmark = pytest.mark.spice

SKY = get_technology("sky130")


@pytest.fixture(scope="module")
def executor():
    with sweep_executor(2) as pool:
        yield pool


@pytest.mark.parametrize(("changes", "message"), [
    ({"n_in": 0}, r"EbmBlockParams.n_in must be in \[1, 64\]"),
    ({"n_out": 2.5}, r"EbmBlockParams.n_out must be a whole number"),
    ({"lateral": "some"}, r"EbmBlockParams.lateral must be one of all, none"),
    ({"g_min_s": 1e-9, "g_max_s": 1e-10}, r"g_max_s must be > g_min_s"),
    ({"g_init_s": 1e-6}, r"g_init_s must be in"),
    ({"v_in_max_v": "1x"}, r"v_in_max_v must be a finite number"),
])
def test_params_are_validated(changes, message):
    with pytest.raises(ParameterError, match=message):
        EbmBlockParams(**changes)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("gp", np.nan, r"EbmWeights.gp must be finite"),
    ("gn", 1.0, r"EbmWeights.gn must be in \[1e-12, 1e-08\] S, got 1"),
    ("gl", 0.0, r"EbmWeights.gl must be in"),
])
def test_weights_are_validated(field, value, message):
    params = EbmBlockParams(n_in=2, n_out=2)
    weights = EbmWeights.uniform(params)
    bad = getattr(weights, field).copy()
    bad.ravel()[0] = value
    with pytest.raises(ParameterError, match=message):
        check_weights(params, EbmWeights(**{**weights.__dict__, field: bad}))


def test_inputs_out_of_range_are_refused():
    params = EbmBlockParams(n_in=2, n_out=2, v_in_max_v=0.3)
    with pytest.raises(ParameterError, match=r"inputs must be 2 finite voltages in \[-0.3, 0.3\] V"):
        ebm_block(SKY, params, x_v=[0.1, 0.31])


def test_generator_is_deterministic_and_names_every_element():
    params = EbmBlockParams(n_in=3, n_out=3)
    weights = EbmWeights.random(params, np.random.default_rng(1))
    text = ebm_block(SKY, params, weights, [0.1, 0.2, -0.1]).text(EP_SIM)
    assert text == ebm_block(SKY, params, weights, [0.1, 0.2, -0.1]).text(EP_SIM)
    names = [line.split()[0] for line in text.splitlines() if line and line[0] in "rvix"]
    assert sum(n.startswith("rp_") for n in names) == params.n_out * (params.n_in + 1)
    assert sum(n.startswith("rl_") for n in names) == params.n_lateral == 3
    assert sum(n.startswith("xmd_") for n in names) == params.n_out


def test_altered_circuit_matches_a_fresh_one(executor):
    """alterparam/alter on the loaded circuit gives the operating point of a freshly generated netlist."""
    params, weights, u, _ = random_circuit(7)
    block = SpiceEbmBlock(SKY, params, EbmWeights.uniform(params), executor=executor)
    block.solve(u)  # the workers now hold other values
    block.set_weights(weights)
    reused = block.solve(u)
    with Simulator(EP_SIM) as sim:
        for s in range(u.shape[0]):
            fresh = sim.run(ebm_block(SKY, params, weights, u[s]))
            v = np.array([fresh[f"o_{k}"][0] for k in range(params.n_out)])
            np.testing.assert_allclose(reused.v[s], v, rtol=0, atol=1e-9)


def test_input_source_currents_are_the_energy_gradient(executor):
    """−i(vxp_j) + i(vxn_j) (ngspice's branch-current sign) equals ∂E/∂u_j from Ohm's law."""
    params, weights, u, _ = random_circuit(3)
    op = SpiceEbmBlock(SKY, params, weights, executor=executor).solve(u)
    v = op.v
    expected = (weights.gp[:, :-1][None] * (u[:, None, :] - v[:, :, None])
                + weights.gn[:, :-1][None] * (u[:, None, :] + v[:, :, None])).sum(axis=1)
    np.testing.assert_allclose(op.energy_grad_inputs(), expected, rtol=1e-5, atol=1e-16)
    # and ½ΔV² is what energy_grad_weights returns for the first resistor rp_0_0
    assert energy_grad_weights(params, u, v, params.v_bias_v)[0, 0] == pytest.approx(0.5 * (v[0, 0] - u[0, 0]) ** 2)


def test_ep_gradients_match_finite_differences_in_spice(executor):
    """Acceptance: ≥ 3 random circuits, cosine ≥ 0.99 and magnitude within 5 % for weights and inputs."""
    result = spice_gradcheck(SKY, 0, n_circuits=3, executor=executor)
    assert len(result["circuits"]) == 3
    for circuit in result["circuits"]:
        assert circuit["cosine_weights"] >= 0.99
        assert circuit["cosine_inputs"] >= 0.99
        assert circuit["magnitude_rel_error"] <= 0.05
        assert circuit["diodes_weak_inversion"]
        # the check is made where the diodes matter (not on a near-linear network)
        assert circuit["diode_current_share_max"] > 0.05 or circuit["v_out_range_v"][1] > 0.1


def test_sweep_circuit_keeps_text_fixed_across_weights():
    params = EbmBlockParams(n_in=2, n_out=2)
    a = ebm_sweep_circuit(SKY, params, EbmWeights.uniform(params))
    assert "{1/gp_0_0}" in a.text and set(a.params) >= {"gp_0_0", "gn_1_2", "gl_0_1"}
