"""Cost figures (issue 14 C): supply power from branch currents, energy per update, area per weight."""

from __future__ import annotations

import numpy as np
import pytest

from netlists import SimParams, get_technology
from netlists.cost import device_area_m2, supply_power_w, weight_cost
from netlists.errors import NetlistError, ParameterError
from netlists.netlist import Analysis, NetlistBuilder
from netlists.spice_learner_circuit import LearnerParams, learner, state_nodes


def test_power_of_constant_currents_is_v_times_i():
    t = np.linspace(0.0, 1.0, 11)
    power, per = supply_power_w(t, {"vdd": np.full(11, -2e-9), "vref": np.full(11, 1e-9)}, {"vdd": 1.8, "vref": 0.1}, 0.2, 0.8)
    assert per == pytest.approx({"vdd": 3.6e-9, "vref": -1e-10})
    assert power == pytest.approx(3.5e-9)


def test_power_window_averages_a_step_exactly():
    t = np.array([0.0, 0.5, 0.5 + 1e-12, 1.0])
    i = np.array([-1.0, -1.0, -3.0, -3.0])
    assert supply_power_w(t, {"v": i}, {"v": 1.0}, 0.0, 1.0)[0] == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize("kwargs, match", [({"t0_s": 1.0, "t1_s": 1.0}, "t1 > t0"), ({"supplies_v": {"vx": 1.0}}, "vx")])
def test_power_rejects_bad_windows_and_unsaved_supplies(kwargs, match):
    args = {"time_s": np.array([0.0, 1.0]), "branch_currents_a": {"v": np.zeros(2)}, "supplies_v": {"v": 1.0},
            "t0_s": 0.0, "t1_s": 1.0, **kwargs}
    with pytest.raises(ParameterError, match=match):
        supply_power_w(**args)


def test_resistor_power_measured_in_ngspice(simulator):
    """V²/R of a resistor on a supply, from the saved branch current of a transient (real SPICE)."""
    nb = NetlistBuilder("power", get_technology("ekv"))
    nb.vsource("vdd", "vdd", "0", 1.5)
    nb.resistor("r1", "vdd", "0", 1e6)
    nb.capacitor("c1", "vdd", "0", 1e-12)
    nb.save(sources=("vdd",))
    nb.analysis(Analysis("tran", step=1e-3, stop=1e-2))
    netlist = nb.build()
    result = simulator.run(netlist, SimParams())
    power, _ = supply_power_w(result["time"], {"vdd": result["vdd#branch"]}, netlist.supplies, 2e-3, 9e-3)
    assert power == pytest.approx(1.5**2 / 1e6, rel=1e-6)


def test_save_refuses_unknown_sources():
    nb = NetlistBuilder("power", get_technology("ekv"))
    with pytest.raises(NetlistError, match="no such voltage source"):
        nb.save(sources=("vdd",))


def _learner_netlist(tech_name: str):
    p = LearnerParams.for_technology(tech_name, dim=2)
    x, y = np.zeros((3, 2)), np.zeros(3)
    return p, learner(get_technology(tech_name), p, x, y, {n: 0.3 for n in state_nodes(2)})


def test_learner_saves_its_supply_currents():
    _, netlist = _learner_netlist("sky130")
    text = netlist.text()
    for name in ("vdd", "vref", "vout"):
        assert name in netlist.supplies and f"i({name})" in text


def test_area_and_energy_per_weight_from_the_netlist():
    p, netlist = _learner_netlist("sky130")
    density = netlist.technology.mim_density_f_per_m2
    cost = weight_cost(netlist, weights=p.dim, c_f=p.c_f, t_hold_s=p.t_hold_s, power_w=4e-9, power_by_supply_w={"vdd": 4e-9})
    expected_devices = sum(d.w_m * d.l_m for d in netlist.devices) / p.dim
    assert cost.device_area_per_weight_m2 == pytest.approx(expected_devices) == pytest.approx(device_area_m2(netlist) / p.dim)
    assert cost.area_per_weight_m2 == pytest.approx(expected_devices + 2 * p.c_f / density)
    assert cost.energy_per_update_j == pytest.approx(4e-9 * p.t_hold_s / p.dim)
    out = cost.as_dict()
    assert out["area_per_weight_um2"] == pytest.approx(cost.area_per_weight_m2 * 1e12)


def test_technology_without_mim_density_reports_no_total_area():
    p, netlist = _learner_netlist("bsim")
    cost = weight_cost(netlist, weights=p.dim, c_f=p.c_f, t_hold_s=p.t_hold_s, power_w=1e-9, power_by_supply_w={})
    assert cost.area_per_weight_m2 is None and cost.device_area_per_weight_m2 > 0


def test_sky130_mim_density_is_read_from_the_pdk():
    """sw_cap_mim_ca of parameters_cap_nom.spice is in F/µm²; the card is c = sw_cap_mim_ca·w·l (µm)."""
    from netlists.technologies import find_sky130_root

    text = (find_sky130_root() / "continuous" / "parameters_cap_nom.spice").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith(".param sw_cap_mim_ca"))
    value = float(line.split("{")[1].split("+")[0])
    assert get_technology("sky130").mim_density_f_per_m2 == pytest.approx(value * 1e12)


def test_simulate_learner_reports_its_cost(capsys):
    """Real SPICE, the whole learner (dim 2, 8 samples): power ≥ V_DD × the bias currents its ideal
    sources draw from V_DD (a lower bound: the input copies and mirrors draw more); the energy and
    area follow from the power and the netlist."""
    import json

    from logdomain.cli import main

    assert main(["simulate", "learner", "--tech", "sky130", "--dim", "2", "--samples", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    p, netlist = _learner_netlist("sky130")
    bias = sum(float(line.split()[-1]) for line in netlist.elements
               if line.startswith("i") and line.split()[1] == "vdd" and line.split()[-2] == "dc")
    assert out["power_w"] > p.vdd_v * bias
    assert out["energy_per_update_j"] == pytest.approx(out["power_w"] * out["t_hold_s"] / out["dim"], rel=1e-12)
    assert out["area_per_weight_um2"] == pytest.approx(
        out["cost"]["device_area_per_weight_um2"] + out["cost"]["capacitor_area_per_weight_um2"], rel=1e-12)
