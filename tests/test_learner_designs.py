"""Named learner designs (netlists.learner_designs) and the CLI options that pick them."""

from __future__ import annotations

import dataclasses
import math

import pytest

from netlists.errors import ParameterError
from netlists.learner_designs import DESIGNS, WIDE_TEMPERATURE_CHANGES, learner_design
from netlists.spice_learner_circuit import LearnerParams


def test_default_design_is_the_field_defaults_at_every_temperature():
    for temp in (-20.0, 27.0, 85.0):
        d = learner_design("default", "sky130", temp, t_hold_s=20e-3)
        assert d.t_hold_s == pytest.approx(20e-3, rel=1e-12)
        assert d.params == LearnerParams.for_technology("sky130", temp_c=temp)


def test_wide_temperature_changes_only_what_it_lists():
    base = LearnerParams.for_technology("sky130", temp_c=-20.0)
    d = learner_design("wide-temperature", "sky130", -20.0, t_hold_s=20e-3)
    changed = {f.name for f in dataclasses.fields(base) if getattr(base, f.name) != getattr(d.params, f.name)}
    assert changed == set(WIDE_TEMPERATURE_CHANGES)
    assert d.params.w_e_m * d.params.l_e_m == pytest.approx(base.w_e_m * base.l_e_m, rel=1e-12)  # same Pelgrom area
    assert d.params.i_lambda_a == pytest.approx(base.i_lambda_a, rel=1e-12)


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

    import numpy as np

    from netlists.spice_learner_circuit import learner, state_nodes
    from netlists.technologies import get_technology

    tech = get_technology("sky130")
    x, y = np.zeros((2, 2)), np.zeros(2)
    lines = {}
    for bulk in ("vdd", "source"):
        p = LearnerParams.for_technology("sky130", dim=2, error_stack_bulk=bulk)
        text = learner(tech, p, x, y, {n: 0.3 for n in state_nodes(2)}).text()
        lines[bulk] = {m.group(1).lower(): m.group(0).split()[1:5] for m in re.finditer(r"^x?(m(?:da|db|ca|cb)2)\s.*$", text, re.M | re.I)}
    assert set(lines["vdd"]) == {"mda2", "mdb2", "mca2", "mcb2"}
    for name, nodes in lines["vdd"].items():
        assert nodes[3] == "vdd", (name, nodes)
    for name, nodes in lines["source"].items():
        assert nodes[3] == nodes[2] != "vdd", (name, nodes)  # bulk = source
    with pytest.raises(ParameterError, match="error_stack_bulk"):
        LearnerParams.for_technology("sky130", error_stack_bulk="well")


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
