"""Weight cell (log-domain integrator) at transistor level against ``τ dI_w/dt = I_e·I_x/I_u − λ·I_w``.

Tolerances: 3 % on the behavioural EKV card (exact exponential up to √IC ≈ 1 %), 8 % on
sky130 (BSIM4: DIBL, body effect and a κ that varies with bias).
"""

from __future__ import annotations

import numpy as np
import pytest

from netlists import ParameterError, SimParams, Simulator, check_regions, get_technology, thermal_voltage_v
from netlists.learner import fit_law, solve_law, weight_cell_response
from netlists.weight_cell import WeightCellParams, product_waveform, weight_cell

pytestmark = pytest.mark.spice


@pytest.fixture(scope="module")
def simulator():
    with Simulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def ekv_response(simulator):
    # on the EKV card κ = 1/n exactly, so the nominal slope factor is the right κ
    return weight_cell_response(get_technology("ekv"), WeightCellParams(), kappa="nominal", simulator=simulator)


@pytest.fixture(scope="module")
def sky130_response(simulator):
    # κ measured on the output device itself (U_T·d ln I_w/dV_C along the simulated trajectory)
    return weight_cell_response(get_technology("sky130"), WeightCellParams(), kappa="measured", simulator=simulator)


# -- the ideal law and the fit, without SPICE ------------------------------------------------------
def test_solve_law_matches_closed_form_step():
    t = np.linspace(0.0, 5e-3, 2001)
    product = np.where(t >= 1e-3, 3e-10, 1e-10)
    product[np.searchsorted(t, 1e-3)] = 3e-10
    tau, lam = 1e-3, 2.0
    got = solve_law(t, product, tau, lam, 0.5e-10)
    after = t > 1e-3 + 1e-5
    expect = 1.5e-10 + (0.5e-10 - 1.5e-10) * np.exp(-(t[after] - 1e-3) * lam / tau)
    assert np.allclose(got[after], expect, rtol=2e-3)


def test_fit_law_recovers_tau_and_lambda():
    p = WeightCellParams()
    t = np.linspace(0.0, p.t_stop_s, 1500)
    product = product_waveform(p, t)
    data = solve_law(t, product, 12e-3, 0.8, product[0] / 0.8)
    tau, lam, rms = fit_law(t, product, data, 20e-3, 1.0)
    assert tau == pytest.approx(12e-3, rel=1e-4)
    assert lam == pytest.approx(0.8, rel=1e-4)
    assert rms < 1e-6


# -- the circuit on the golden EKV card -------------------------------------------------------------
def test_ekv_tau_lambda_and_steady_state_within_3_percent(ekv_response):
    r = ekv_response
    err = r.errors
    report = {k: f"{100 * v:+.2f} %" for k, v in err.items()}
    assert abs(err["tau"]) < 0.03, report
    assert abs(err["lam"]) < 0.03, report
    assert abs(err["rest"]) < 0.03, report  # DC operating point: I_e·I_x/(λ·I_u)
    assert abs(err["step"]) < 0.03, report  # value the up-step settles to
    assert abs(err["relax"]) < 0.03, report  # relaxation time τ/λ
    assert r.fit_rms < 0.02, report
    assert r.tau_ideal_s == pytest.approx(50e-12 * 0.025852 * 1.35 / 100e-12, rel=1e-3)


def test_ekv_response_follows_the_ideal_waveform(ekv_response):
    r = ekv_response
    err = np.abs(r.i_w_a / r.i_w_ideal_a - 1.0)
    # a few % just after the steps (the mirror and input diode take ~0.3 ms to follow), <2 % elsewhere
    assert err.max() < 0.05
    settled = np.abs(r.time_s - r.params.t_step_s) > 5e-3
    settled &= np.abs(r.time_s - r.params.t_back_s) > 5e-3
    assert err[settled].max() < 0.02


# -- the circuit on sky130 --------------------------------------------------------------------------
def test_sky130_tau_lambda_and_steady_state_within_8_percent(sky130_response):
    r = sky130_response
    err = r.errors
    report = {k: f"{100 * v:+.2f} %" for k, v in err.items()} | {"kappa_measured": r.kappa_measured}
    for key in ("tau", "lam", "rest", "step", "relax"):
        assert abs(err[key]) < 0.08, report
    # the measured κ is close to the technology's nominal 1/n
    assert r.kappa_measured == pytest.approx(r.kappa_nominal, rel=0.08)


def test_sky130_rest_value_does_not_depend_on_gmin(simulator):
    tech = get_technology("sky130")
    p = WeightCellParams(t_step_s=1e-3, t_back_s=2e-3, t_stop_s=3e-3, points=30)
    base = simulator.run(weight_cell(tech, p), SimParams())
    low = simulator.run(weight_cell(tech, p), SimParams(gmin_s=1e-16))
    assert base.drain_current("mw")[0] == pytest.approx(low.drain_current("mw")[0], rel=1e-3)


# -- operating regions ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["ekv_response", "sky130_response"])
def test_signal_devices_weak_and_saturated(which, request):
    r = request.getfixturevalue(which)
    assert r.regions_ok, [rep.summary() for rep in r.regions]
    for t in (0.5 * r.params.t_step_s, r.params.t_step_s + 2e-3, 0.5 * (r.params.t_back_s + r.params.t_stop_s)):
        k = int(np.searchsorted(r.time_s, t))
        report = check_regions(r.netlist, r.result, SimParams(), index=k)
        assert report.ok, f"t = {r.time_s[k]:.4g} s: {report.summary()}"
        assert len(report.devices) == 12
        signal = [d for d in report.devices if d.role == "signal"]
        assert len(signal) == 10
        assert all(d.ic < 0.01 and d.vds_over_ut >= 4.0 for d in signal)


# -- netlist and parameters -------------------------------------------------------------------------
def test_netlist_is_deterministic_and_names_no_model_card():
    tech = get_technology("ekv")
    a, b = weight_cell(tech).text(), weight_cell(tech).text()
    assert a == b
    assert ".tran" in a and "pwl(" in a
    roles = {d.name: d.role for d in weight_cell(tech).devices}
    assert roles == {**{n: "signal" for n in ("mw", "m1", "m3", "m4", "mx", "m5", "mpa", "mpb", "mpc", "mpd")},
                     "mf1": "feedback", "mf2": "feedback"}


def test_law_constants():
    p = WeightCellParams(c_f=10e-12, i_a_a=2e-9, i_lambda_a=1e-9, i_e_a=2e-9, i_x_a=3e-9, i_u_a=1e-9)
    assert p.lam == pytest.approx(0.5)
    assert p.tau_s(0.7, 27.0) == pytest.approx(10e-12 * thermal_voltage_v(27.0) / (0.7 * 2e-9), rel=1e-12)
    assert p.steady_state_a() == pytest.approx(12e-9)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"c_f": -1e-12}, r"WeightCellParams\.c_f must be in \[1e-15, 1e-06\] F"),
        ({"i_a_a": 0.0}, r"WeightCellParams\.i_a_a must be in"),
        ({"i_lambda_a": "nan"}, r"WeightCellParams\.i_lambda_a must be a finite number"),
        ({"i_x_step_a": 1.0}, r"WeightCellParams\.i_x_step_a must be in \[1e-15, 1e-06\] A"),
        ({"points": 10.5}, r"WeightCellParams\.points must be a whole number"),
        ({"w_m": "1 u"}, r"WeightCellParams\.w_m must be a finite number"),
        ({"t_back_s": 1e-3}, r"WeightCellParams\.t_back_s must be > t_step_s \+ t_rise_s"),
        ({"t_stop_s": 50e-3}, r"WeightCellParams\.t_stop_s must be > t_back_s \+ t_rise_s"),
        ({"v_out_v": 0.1}, r"WeightCellParams\.v_out_v must be > v_ref_v"),
        ({"vdd_v": 0.6, "v_out_v": 0.7}, r"WeightCellParams\.vdd_v must be > v_out_v"),
    ],
)
def test_invalid_parameters_are_named(changes, message):
    with pytest.raises(ParameterError, match=message):
        WeightCellParams(**changes)


def test_unknown_kappa_source_is_rejected(simulator):
    with pytest.raises(ParameterError, match="kappa must be one of measured, nominal"):
        weight_cell_response(get_technology("ekv"), kappa="guess", simulator=simulator)
