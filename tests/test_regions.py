"""The region checker's limits, one sharp test each (netlists/regions.py).

No simulation: a one-transistor netlist and a hand-made operating point put a device just inside
and just outside each limit — the IC limit, the signed V_DS of either polarity, and the temperature
that sets U_T and I_spec — so moving a limit, dropping the sign convention or checking at the
wrong temperature fails a test here.
"""

from __future__ import annotations

import numpy as np
import pytest

from netlists import SimParams, check_regions, get_technology, thermal_voltage_v
from netlists.netlist import Analysis, NetlistBuilder
from netlists.regions import IC_WEAK_MAX, VDS_SAT_MIN_UT
from netlists.runner import SimResult

W_M, L_M = 4e-6, 2e-6
VDD_V = 1.8


def _check(polarity: str, *, vds_v: float, ic: float, temp_c: float = 27.0, i_spec_temp_c: float | None = None, **limits):
    """Region report of one device at forward V_DS ``vds_v`` (sign convention applied) and
    inversion coefficient ``ic`` (I_D = ic·I_spec at ``i_spec_temp_c``, default ``temp_c``)."""
    tech = get_technology("ekv")
    nb = NetlistBuilder("one_device", tech)
    nb.mos("m1", polarity, "d", "g", "s", "b", w_m=W_M, l_m=L_M)
    nb.analysis(Analysis("op"))
    netlist = nb.build()
    i_spec = tech.specific_current_a(polarity, W_M, L_M, temp_c if i_spec_temp_c is None else i_spec_temp_c)
    i_d = ic * i_spec
    if polarity == "n":  # source and bulk at 0 V
        volts = {"s": 0.0, "b": 0.0, "g": 0.3, "d": vds_v}
        branch = i_d  # into the drain
    else:  # source and bulk at VDD; V_SD = vds_v
        volts = {"s": VDD_V, "b": VDD_V, "g": VDD_V - 0.3, "d": VDD_V - vds_v}
        branch = -i_d  # out of the drain
    vectors = {k: np.array([v]) for k, v in volts.items()} | {"vam_m1#branch": np.array([branch])}
    result = SimResult(vectors=vectors, plot="op1", log="", attempts=["default"], elapsed_s=0.0)
    return check_regions(netlist, result, SimParams(temp_c=temp_c), **limits)


def test_limits_are_the_design_rules():
    # DESIGN.md §3: weak inversion IC ≲ 0.1; saturated V_DS ≥ 4–5 U_T
    assert IC_WEAK_MAX == 0.1 and VDS_SAT_MIN_UT == 4.0


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_ic_limit(polarity):
    inside = _check(polarity, vds_v=0.5, ic=0.099)
    outside = _check(polarity, vds_v=0.5, ic=0.101)
    assert inside.ok and inside.devices[0].weak_inversion
    assert inside.devices[0].ic == pytest.approx(0.099, rel=1e-9)
    assert not outside.ok and not outside.devices[0].weak_inversion and outside.devices[0].saturated
    assert "IC=0.101 > 0.1" in outside.summary()
    assert _check(polarity, vds_v=0.5, ic=0.3, ic_max=0.5).ok  # a caller's own limit is honoured


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_vds_limit_at_four_thermal_voltages(polarity):
    ut = thermal_voltage_v(27.0)
    assert _check(polarity, vds_v=4.02 * ut, ic=0.01).ok
    below = _check(polarity, vds_v=3.98 * ut, ic=0.01)
    assert not below.ok and below.devices[0].weak_inversion and not below.devices[0].saturated
    assert below.devices[0].vds_over_ut == pytest.approx(3.98, rel=1e-9)


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_vds_sign_convention(polarity):
    """Forward bias (V_DS > 0 in the polarity's convention) is saturated; the same |V_DS| backwards is not."""
    forward = _check(polarity, vds_v=0.5, ic=0.01)
    backward = _check(polarity, vds_v=-0.5, ic=0.01)
    assert forward.ok and forward.devices[0].vds_v == pytest.approx(0.5)
    assert not backward.ok and not backward.devices[0].saturated
    assert backward.devices[0].vds_v == pytest.approx(-0.5)
    assert backward.devices[0].vds_over_ut == pytest.approx(-0.5 / thermal_voltage_v(27.0), rel=1e-9)


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_thermal_voltage_is_taken_at_the_simulation_temperature(polarity):
    vds = 0.110  # 4.25 U_T at 27 °C, 3.57 U_T at 85 °C
    assert _check(polarity, vds_v=vds, ic=0.01, temp_c=27.0).ok
    hot = _check(polarity, vds_v=vds, ic=0.01, temp_c=85.0)
    assert not hot.ok and not hot.devices[0].saturated
    assert hot.temp_c == 85.0
    assert hot.devices[0].vds_over_ut == pytest.approx(vds / thermal_voltage_v(85.0), rel=1e-9)


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_specific_current_is_taken_at_the_simulation_temperature(polarity):
    # I_spec ∝ μ(T)·U_T² grows with T: 0.095 of I_spec(85 °C) is more than 0.1 of I_spec(27 °C)
    tech = get_technology("ekv")
    ratio = tech.specific_current_a(polarity, W_M, L_M, 85.0) / tech.specific_current_a(polarity, W_M, L_M, 27.0)
    assert 0.095 * ratio > IC_WEAK_MAX
    hot = _check(polarity, vds_v=0.5, ic=0.095, temp_c=85.0)
    assert hot.ok and hot.devices[0].ic == pytest.approx(0.095, rel=1e-9)


def test_feedback_devices_are_reported_not_required():
    report = _check("n", vds_v=-0.5, ic=0.5)
    assert not report.ok
    tech = get_technology("ekv")
    nb = NetlistBuilder("one_device", tech)
    nb.mos("m1", "n", "d", "g", "0", "0", w_m=W_M, l_m=L_M, role="feedback")
    nb.analysis(Analysis("op"))
    i_d = 0.5 * tech.specific_current_a("n", W_M, L_M, 27.0)
    vectors = {"d": np.array([-0.5]), "g": np.array([0.3]), "vam_m1#branch": np.array([i_d])}
    feedback = check_regions(nb.build(), SimResult(vectors, "op1", "", ["default"], 0.0))
    assert feedback.ok and not feedback.devices[0].saturated and not feedback.devices[0].weak_inversion
