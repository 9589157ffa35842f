"""Translinear multiplier/divider I_out = I_y·I_z/I_x over two decades of each input."""

from __future__ import annotations

import numpy as np
import pytest

from netlists import MultiplierParams, blocks, check_regions, get_technology
from netlists.measure import multiplier_sweep

TOLERANCE = {"ekv": 0.03, "sky130": 0.08}


@pytest.mark.parametrize("name", ["ekv", "sky130"])
def test_multiplier_follows_law(name, simulator):
    sweep = multiplier_sweep(get_technology(name), decades=2.0, points=5, simulator=simulator)
    for column in range(3):  # each input spans two decades
        span = np.log10(sweep.inputs_a[:, column].max() / sweep.inputs_a[:, column].min())
        assert span >= 2.0 - 1e-9
    assert sweep.max_rel_error < TOLERANCE[name], np.round(sweep.rel_error, 4)
    for report in sweep.regions:
        assert report.ok, report.summary()
        signal = [d for d in report.devices if d.role == "signal"]
        assert len(signal) == 4 and all(d.weak_inversion and d.saturated for d in signal)


def test_bsim_multiplier(simulator):
    """The BSIM4 card (body effect, DIBL) lands within the sky130 tolerance too."""
    sweep = multiplier_sweep(get_technology("bsim"), decades=2.0, points=5, simulator=simulator)
    assert sweep.max_rel_error < 0.08, np.round(sweep.rel_error, 4)
    assert sweep.regions_ok


@pytest.mark.parametrize("name", ["ekv", "sky130"])
def test_bad_bias_is_reported(name, simulator):
    """Strong inversion (µA in small devices) and a starved output both show up."""
    tech = get_technology(name)
    strong = MultiplierParams(i_x_a=20e-6, i_y_a=20e-6, i_z_a=20e-6, w_m=1e-6, l_m=1e-6)
    netlist = blocks.multiplier(tech, strong)
    report = check_regions(netlist, simulator.run(netlist))
    assert not report.ok
    assert any(not d.weak_inversion for d in report.violations)
    assert "IC=" in report.summary()

    starved = MultiplierParams(v_out_v=0.0)  # output device with V_DS < 0: not saturated
    netlist = blocks.multiplier(tech, starved)
    report = check_regions(netlist, simulator.run(netlist))
    assert "m3" in [d.name for d in report.violations]
    assert all(not d.saturated for d in report.violations)
    assert "U_T" in report.summary()
