"""The weight cell's update response (issue 15 item 1): the pair's composition, and SPICE on sky130 tt.

The composition is checked on synthetic halves against closed forms; the SPICE measurement of a
half against the calibration's fitted cell gain (ρ·T, the mean of the same response over a stream)
within a stated tolerance, and a pair of mismatch halves against the definition a = G/F.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibration.update_response import HalfResponse, PairResponse, ResponsePlan, half_response, pair_response

#: |q_up − ρ·T| allowed, relative: ρ·T comes from a stream fit (a mean over the levels the stream
#: visits, other drive levels), q_up from local steps
CAL_TOL = 0.05


def _half(levels, q):
    lv = np.asarray(levels, dtype=float)
    return HalfResponse(lv, lv, np.asarray(q, dtype=float), np.asarray(q, dtype=float), np.zeros_like(lv), "synthetic", None)


def test_a_gain_difference_between_halves_is_a_constant_asymmetry_without_symmetric_point():
    levels = np.linspace(0.2, 1.2, 11)
    pr = pair_response(_half(levels, 1.1 * np.ones(11)), _half(levels, 0.9 * np.ones(11)), s=1.4, w_scale=2.0)
    np.testing.assert_allclose(pr.asymmetry, (0.9 - 1.1) / (0.9 + 1.1))
    assert pr.symmetric_point() is None


def test_a_level_dependent_gain_gives_a_symmetric_point_at_zero_for_matched_halves():
    levels = np.linspace(0.2, 1.2, 11)
    half = _half(levels, 1.0 - 0.1 * levels)  # q falls with W: the larger half responds less
    pr = pair_response(half, half, s=1.4, w_scale=2.0)
    # q₊ = 1 − 0.1 W⁺, q₋ = 1 − 0.1 W⁻, W± = (s ± w/s_w)/2 ⇒ G = 0.1 (W⁺ − W⁻)/2 = 0.025 w
    np.testing.assert_allclose(pr.G, 0.025 * pr.w, atol=1e-12)
    assert pr.symmetric_point() == pytest.approx(0.0, abs=1e-12)


def test_pair_response_refuses_a_common_mode_outside_the_levels():
    levels = np.linspace(0.2, 1.2, 11)
    with pytest.raises(ValueError, match="outside the measured levels"):
        pair_response(_half(levels, np.ones(11)), _half(levels, np.ones(11)), s=3.0, w_scale=2.0)


@pytest.mark.parametrize(("kw", "message"), [
    ({"levels": (0.5,)}, "ResponsePlan.levels must be >= 2 increasing"),
    ({"levels": (0.5, 0.3)}, "ResponsePlan.levels must be >= 2 increasing"),
    ({"delta": 0.0}, r"ResponsePlan.delta must be a finite number in \[0.0001, 0.5\]"),
    ({"delta": 0.2}, "ResponsePlan.delta must be below the drive"),
    ({"holds": 1}, r"ResponsePlan.holds must be an integer in \[2, 10000\]"),
    ({"holds": 5}, r"ResponsePlan.holds must be >= settle \+ 2"),
])  # fmt: skip
def test_plan_checks(kw, message):
    with pytest.raises(ValueError, match=message):
        ResponsePlan(**kw)


@pytest.mark.spice
def test_sky130_half_response_matches_the_calibrated_cell_gain_and_mismatch_breaks_the_symmetry(simulator):
    from calibration.learner_benches import setup_benches
    from calibration.schema import load_default_calibration
    from netlists import SimParams, get_technology

    sim = SimParams()
    tech = get_technology("sky130", corner="tt")
    setup = setup_benches(tech, sim, simulator)
    plan = ResponsePlan(levels=(0.35, 0.5, 0.7), holds=12)
    nominal = half_response(tech, plan, setup=setup, sim=sim, simulator=simulator)
    nominal_gain = load_default_calibration().learner
    rho_t = nominal_gain.nominal["rate_scale"] * nominal_gain.diagnostics["cell_term_gain"]
    assert np.all(np.abs(nominal.q_up / rho_t - 1.0) < CAL_TOL), (nominal.q_up, rho_t)
    np.testing.assert_allclose(nominal.w_start, plan.levels, rtol=0.02)  # the bench starts where asked
    pr = pair_response(nominal, nominal, s=1.0, w_scale=2.0, points=5)
    assert np.all(np.abs(pr.asymmetry) < 0.01) and pr.symmetric_point() == pytest.approx(0.0, abs=1e-9)
    halves = [half_response(get_technology("sky130", corner="tt", mismatch=True, seed=k), plan, setup=setup, sim=sim,
                            simulator=simulator, seed=k) for k in (1, 2)]  # fmt: skip
    mm = pair_response(*halves, s=1.0, w_scale=2.0, points=5)
    expected = (halves[1].q_up.mean() - halves[0].q_up.mean()) / (halves[1].q_up.mean() + halves[0].q_up.mean())
    assert abs(expected) > 0.005  # the PDK's mismatch makes the halves' gains differ
    np.testing.assert_allclose(mm.asymmetry, expected, atol=0.01)
    assert isinstance(mm, PairResponse)
