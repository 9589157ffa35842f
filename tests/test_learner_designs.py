"""Named learner designs (netlists.learner_designs) and the CLI options that pick them."""

from __future__ import annotations

import dataclasses
import math

import pytest

from netlists.errors import ParameterError
from netlists.learner_designs import (BIAS_SCHEDULE, DESIGN_T_HOLD_S, DESIGNS, REFERENCE_T_HOLD_S, WIDE_TEMPERATURE_CHANGES,
                                      WIDE_TEMPERATURE_T_HOLD_S, learner_design)
from netlists.spice_learner_circuit import LearnerParams


def test_default_design_is_the_field_defaults_at_every_temperature():
    for temp in (-20.0, 27.0, 85.0):
        d = learner_design("default", "sky130", temp, t_hold_s=20e-3)
        assert d.t_hold_s == pytest.approx(20e-3, rel=1e-12)
        assert d.params == LearnerParams.for_technology("sky130", temp_c=temp)


def test_each_design_runs_at_its_own_hold_time_unless_told():
    assert DESIGN_T_HOLD_S == {"default": REFERENCE_T_HOLD_S, "wide-temperature": WIDE_TEMPERATURE_T_HOLD_S}
    for name, hold in DESIGN_T_HOLD_S.items():
        d = learner_design(name, "sky130", 27.0)
        assert d.t_hold_s == pytest.approx(hold, rel=1e-12)
        assert d.params == learner_design(name, "sky130", 27.0, t_hold_s=hold).params


def test_wide_temperature_changes_only_what_it_lists():
    base = LearnerParams.for_technology("sky130", temp_c=-20.0)
    d = learner_design("wide-temperature", "sky130", -20.0, t_hold_s=20e-3)
    changed = {f.name for f in dataclasses.fields(base) if getattr(base, f.name) != getattr(d.params, f.name)}
    assert changed <= set(WIDE_TEMPERATURE_CHANGES), changed - set(WIDE_TEMPERATURE_CHANGES)
    for name, value in WIDE_TEMPERATURE_CHANGES.items():  # listed values are the design's (some equal the default)
        assert getattr(d.params, name) == value, name
    assert d.params.w_e_m * d.params.l_e_m == pytest.approx(base.w_e_m * base.l_e_m, rel=0.02)  # ~ the same Pelgrom area
    assert d.params.w_ec_m * d.params.l_ec_m == pytest.approx(2 * base.w_ec_m * base.l_ec_m, rel=1e-12)  # twice the W·L
    assert d.params.w_p_m * d.params.l_p_m < base.w_p_m * base.l_p_m  # the cells' mirror: less gate capacitance
    assert d.params.i_lambda_a == pytest.approx(base.i_lambda_a, rel=1e-12)


def test_wide_temperature_sets_its_biases_for_the_hold_time():
    """At T_s = 1 ms the scheduled biases are 20× the 20 ms ones, the transition time 1/20; the source-node
    biases (scaled, they made the term loops oscillate) and everything else stay; I_A follows τ = T_s/η by
    itself, so every scheduled bias keeps its ratio to I_A."""
    slow = learner_design("wide-temperature", "sky130", 85.0, t_hold_s=REFERENCE_T_HOLD_S).params
    d = learner_design("wide-temperature", "sky130", 85.0, t_hold_s=WIDE_TEMPERATURE_T_HOLD_S)
    k = REFERENCE_T_HOLD_S / WIDE_TEMPERATURE_T_HOLD_S
    assert k == pytest.approx(20.0)
    for f in BIAS_SCHEDULE:
        assert getattr(d.params, f) == pytest.approx(k * getattr(slow, f), rel=1e-12), f
    assert d.params.t_rise_s == pytest.approx(slow.t_rise_s / k, rel=1e-12)
    assert "i_s2_bias_a" not in BIAS_SCHEDULE and "i_q_bias_a" not in BIAS_SCHEDULE
    changed = {f.name for f in dataclasses.fields(slow) if getattr(slow, f.name) != getattr(d.params, f.name)}
    assert changed == set(BIAS_SCHEDULE) | {"t_rise_s"}
    fast_i_a = d.params.replace(t_hold_s=d.t_hold_s).i_a_a
    assert fast_i_a / d.params.i_u_a == pytest.approx(slow.replace(t_hold_s=REFERENCE_T_HOLD_S).i_a_a / slow.i_u_a, rel=1e-9)
    # the default design does not depend on the hold time
    assert learner_design("default", "sky130", 27.0, t_hold_s=1e-3).params == LearnerParams.for_technology("sky130")


@pytest.mark.parametrize("bad", [0.0, -1e-3, math.inf, math.nan, 20.0, 0.4, 2e-5, 1e-5])
def test_hold_time_outside_its_range_is_refused(bad):
    """Non-finite or outside [1 µs, 10 s], or where a scheduled bias would leave its bounds (f_e = 2 pA·k
    ≥ 0.1 pA, I_u = 100 pA·k ≤ 100 nA: T_s strictly between 20 µs and 0.4 s) — the message names t_hold_s."""
    with pytest.raises(ParameterError, match="t_hold_s"):
        learner_design("wide-temperature", "sky130", 27.0, t_hold_s=bad)
    for good in (2.1e-5, 0.39):
        learner_design("wide-temperature", "sky130", 27.0, t_hold_s=good)


def test_overrides_apply_last():
    d = learner_design("wide-temperature", "sky130", 27.0, t_hold_s=20e-3, vdd_v=1.62)
    assert d.params.vdd_v == 1.62


@pytest.mark.parametrize("bad", ["fast", "", "DEFAULT"])
def test_unknown_design_is_refused_with_the_choices(bad):
    with pytest.raises(ParameterError, match="default, wide-temperature"):
        learner_design(bad, "sky130", 27.0, t_hold_s=20e-3)
    assert set(DESIGNS) == {"default", "wide-temperature"}


def test_non_finite_temperature_is_refused():
    with pytest.raises(ParameterError, match="temp_c"):
        learner_design("wide-temperature", "sky130", math.nan, t_hold_s=20e-3)


def test_lam_trim_adds_to_the_cells_decay_current():
    p = LearnerParams.for_technology("sky130")
    q = p.replace(lam_trim=0.25)
    assert q.i_lambda_a == pytest.approx((p.lam_circuit + 0.25) * p.i_a_a, rel=1e-12)
    with pytest.raises(ParameterError, match="lam_trim"):
        p.replace(lam_trim=-0.1)


def test_error_stack_bulk_reaches_the_netlist():
    """The wide-temperature error path puts the stacks' and copies' lower devices in their own well
    (bulk = their source node); the default keeps the shared well at vdd and its netlist unchanged."""
    import re

    lines = {}
    for bulk in ("vdd", "source"):
        text = _netlist_text(error_stack_bulk=bulk)
        lines[bulk] = {m.group(1).lower(): m.group(0).split()[1:5] for m in re.finditer(r"^x?(m(?:da|db|ca|cb)2)\s.*$", text, re.M | re.I)}
    assert set(lines["vdd"]) == {"mda2", "mdb2", "mca2", "mcb2"}
    for name, nodes in lines["vdd"].items():
        assert nodes[3] == "vdd", (name, nodes)
    for name, nodes in lines["source"].items():
        assert nodes[3] == nodes[2] != "vdd", (name, nodes)  # bulk = source
    with pytest.raises(ParameterError, match="error_stack_bulk"):
        LearnerParams.for_technology("sky130", error_stack_bulk="well")


def test_hp_stack_bulk_reaches_the_netlist():
    """``hp_stack_bulk="source"`` puts the upper devices of the e⁺ stack, its copy and the window replica
    in an isolated p-well (bulk = their source); their lower devices, and the default's, stay on ground."""
    import re

    for bulk in ("ground", "source"):
        text = _netlist_text(hp_stack_bulk=bulk, en_bias="window")
        nodes = {m.group(1).lower(): m.group(0).split()[1:5] for m in re.finditer(r"^x?(m(?:hp|qp|rhp)2?)\s.*$", text, re.M | re.I)}
        assert set(nodes) == {"mhp", "mhp2", "mqp", "mqp2", "mrhp", "mrhp2"}, sorted(nodes)
        for name, (_d, _g, source, body) in nodes.items():
            if name.endswith("2") and bulk == "source":
                assert body == source != "0", (name, nodes[name])
            else:
                assert body == "0", (name, nodes[name])
    with pytest.raises(ParameterError, match="hp_stack_bulk"):
        LearnerParams.for_technology("sky130", hp_stack_bulk="well")


def _netlist_text(**fields) -> str:
    import numpy as np

    from netlists.spice_learner_circuit import learner, state_nodes
    from netlists.technologies import get_technology

    p = LearnerParams.for_technology("sky130", dim=2, **fields)
    return learner(get_technology("sky130"), p, np.zeros((2, 2)), np.zeros(2), {n: 0.3 for n in state_nodes(2)}).text()


def _instance(text: str, name: str) -> list[str]:
    """The node list and value of element ``name`` (an ``x`` subcircuit prefix allowed) in ``text``."""
    import re

    m = re.search(rf"^x?{name}\s+(.*)$", text, re.M | re.I)
    assert m, f"{name} not in the netlist"
    return m.group(1).split()


def test_common_mode_stacks_follow_the_error_stack_bulk():
    """With error_stack_bulk="source" the S₀ stack's, the Z stack's and their copies' lower devices sit in
    their own well (bulk = source); with "vdd" they share it."""
    for bulk in ("vdd", "source"):
        text = _netlist_text(error_stack_bulk=bulk)
        for name in ("ms02", "mz02", "mso02", "mzc02"):
            d, g, src, b = _instance(text, name)[:4]
            assert (b == src) if bulk == "source" else (b == "vdd"), (bulk, name, (d, g, src, b))


def test_window_en_bias_replaces_the_fixed_source_by_replicas_and_a_divider():
    fixed = _netlist_text()
    assert _instance(fixed, "ven")[:2] == ["enr", "0"]
    for name in ("ren1", "ren2", "mrem", "mrhp"):
        assert name not in fixed.lower().split()
    text = _netlist_text(en_bias="window", en_window_fraction=0.4)
    assert not any(line.lower().startswith("ven ") for line in text.splitlines())
    p = LearnerParams.for_technology("sky130")
    r_total = 5.0 / (p.i_err_floor_a + p.i_err_min_a)
    r1, r2 = _instance(text, "ren1"), _instance(text, "ren2")
    assert r1[:2] == ["genr", "enr"] and r2[:2] == ["enr", "hpr"]
    assert float(r1[2]) == pytest.approx(0.6 * r_total, rel=1e-6)
    assert float(r2[2]) == pytest.approx(0.4 * r_total, rel=1e-6)
    assert _instance(text, "mrem")[1:4] == ["genr", "vdd", "vdd"]  # a pMOS diode (gate genr; the drain through its ammeter)
    for bad in ({"en_bias": "middle"}, {"en_window_fraction": 0.95}, {"en_window_fraction": math.nan}):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            LearnerParams.for_technology("sky130", **bad)


def _cli(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "logdomain.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args, word", [
    (["--vdd-v", "2.5"], "--vdd-v"),
    (["--vdd-v", "nan"], "--vdd-v"),
    (["--design", "hot"], "--design"),
    (["--design", "wide-temperature", "--algorithm", "tiki-taka"], "--design"),
])
def test_cli_refuses_bad_design_options(args, word):
    r = _cli("simulate", "learner", "--tech", "sky130", *args, "--json")
    assert r.returncode == 2, r.stderr
    assert word in r.stderr
    assert r.stdout == ""


def test_wide_temperature_gives_the_products_drain_voltage_at_minus_20c():
    """sky130 tt −20 °C, dim 2 × 40 samples: the default design's prediction products (q…m3) leave
    saturation (measured: V_DS −0.45…2.1 U_T); the wide-temperature design's do not."""
    import json

    found = {}
    for design in ("default", "wide-temperature"):
        r = _cli("simulate", "learner", "--tech", "sky130", "--design", design, "--dim", "2", "--samples", "40",
                 "--eta", "0.5", "--temp-c", "-20", "--json")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["design"] == design and out["vdd_v"] == pytest.approx(1.8)
        found[design] = " ".join(out["region_violations"])
    assert "m3: V_DS" in found["default"]
    assert "m3: V_DS" not in found["wide-temperature"]


def test_wide_temperature_at_its_hold_time_stays_in_region_at_85c():
    """sky130 tt 85 °C, dim 1 × 8 samples, η 0.5, at the design's own T_s = 1 ms (biases × 20, I_A ≈ 110 pA
    against the storage node's ~12 pA of leakage): every device in region at every checked instant. (At
    T_s = 20 ms the same sizes on pA currents do not even reach a DC operating point there, measured:
    ngspice only gets one by its transient-op fallback, which the runner refuses.)"""
    import json

    r = _cli("simulate", "learner", "--tech", "sky130", "--design", "wide-temperature", "--t-hold-s", "0.001",
             "--dim", "1", "--samples", "8", "--eta", "0.5", "--temp-c", "85", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["t_hold_s"] == pytest.approx(1e-3) and out["design"] == "wide-temperature"
    assert out["regions_ok"], out["region_violations"]


@pytest.mark.parametrize("corner, before, device", [
    # the class-AB pair's pMOS with the e⁺ stack's upper devices in the substrate, hnu 3/1.5 µm, the e± diodes
    # 16/2 µm and the window fraction 0.4 (ss: the narrowest cold window)
    ("ss", {"hp_stack_bulk": "ground", "w_hnu_m": 3e-6, "l_hnu_m": 1.5e-6, "w_ec_m": 16e-6, "en_window_fraction": 0.4}, "mabp"),
    # the cells' x devices m5 under the pMOS mirror at 16/2 µm
    ("sf", {"w_p_m": 16e-6}, "m5"),
])
def test_wide_temperature_keeps_its_drain_voltages_at_minus_20c_at_full_scale(corner, before, device):
    """sky130 at −20 °C, dim 4 × 8 samples, η 0.05, T_s = 1 ms: the first sample (weights 0, so |E| is largest,
    with a full-scale x) is the cold end's hardest instant. With the sizes before (``before``) ``device`` leaves
    saturation there (measured: mabp 2.2 U_T on ss, the cells' m5 3.5 U_T on sf); the design keeps every device
    in region."""
    from logdomain.spice_learner import compare_spice_learner, learner_task
    from netlists.params import SimParams
    from netlists.runner import get_simulator
    from netlists.technologies import get_technology

    design = learner_design("wide-temperature", "sky130", -20.0)
    task = learner_task(4, 8, seed=0)
    found = {}
    for name, params in (("design", design.params), ("before", design.params.replace(**before))):
        r = compare_spice_learner(get_technology("sky130", corner=corner), task, eta=0.05, lam=1e-3, t_hold_s=design.t_hold_s,
                                  samples=8, params=params, sim=SimParams(temp_c=-20.0, reltol=1e-4, timeout_s=600),
                                  simulator=get_simulator())  # fmt: skip
        found[name] = r.as_dict(history=False)["region_violations"]
    assert found["design"] == []
    assert any(device in v and "V_DS" in v for v in found["before"]), found["before"]


def test_retention_and_noise_take_the_designs_hold_time():
    """``simulate retention``/``noise`` build the design's cell for ``--t-hold-s`` (its biases depend on it): the
    wide-temperature cell at 1 ms has 20× the I_A of the same design at 20 ms (I_A = C·U_T/(κ·τ), τ = T_s/η)."""
    import json

    i_a = {}
    for t_hold in ("0.02", "0.001", None):  # None: no --t-hold-s, the design's own 1 ms
        hold = () if t_hold is None else ("--t-hold-s", t_hold)
        r = _cli("simulate", "retention", "--tech", "sky130", "--design", "wide-temperature", *hold, "--json")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["t_hold_s"] == pytest.approx(float(t_hold or WIDE_TEMPERATURE_T_HOLD_S))
        i_a[t_hold] = out["i_a_a"]
    assert i_a["0.001"] / i_a["0.02"] == pytest.approx(20.0, rel=0.05)
    assert i_a[None] == pytest.approx(i_a["0.001"], rel=1e-6)
