"""Noise of the weight cell (issue 14 D, measurement): the .noise sense method against a resistor's
thermal noise (4kT/R), and the cell's noise against the shot-noise floor of its own drive current."""

from __future__ import annotations

import json
import math

import pytest

from logdomain.cli import main
from netlists import SimParams, get_technology
from netlists.netlist import Analysis, NetlistBuilder
from netlists.noise import R_SENSE_OHM, measure_cell_noise
from netlists.technologies.base import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C

F_LO, F_HI = 0.125, 25.0


def test_sense_resistor_reads_a_known_current_noise(simulator):
    """A 1 GΩ resistor on the held node: its 4kT/R current noise, read through the noiseless R_s."""
    r_n = 1e9
    nb = NetlistBuilder("sense", get_technology("ekv"))
    nb.vsource("vhold", "vh", "0", 0.3, ac_v=1.0)
    nb.resistor("rsense", "vh", "vc", R_SENSE_OHM, noisy=False)
    nb.vsource("vb", "b", "0", 0.3)
    nb.resistor("rn", "vc", "b", r_n)
    nb.analysis(Analysis("noise", source="vhold", output="vc", reference="vh", start=F_LO, stop=F_HI, points=10))
    result = simulator.run(nb.build(), SimParams(temp_c=27.0))
    sigma_i = float(result["onoise_total"][0]) / R_SENSE_OHM
    expected = math.sqrt(4 * BOLTZMANN_J_PER_K * 300.15 / r_n * (F_HI - F_LO))
    # the noise current splits between R_s and R_n: R_n/(R_n + R_s) of it through R_s
    assert sigma_i == pytest.approx(expected * r_n / (r_n + R_SENSE_OHM), rel=0.01)


def test_noisy_flag_removes_a_resistors_noise():
    nb = NetlistBuilder("flags", get_technology("ekv"))
    nb.resistor("ra", "a", "0", 1e3, noisy=False)
    nb.resistor("rb", "a", "0", 1e3)
    assert "ra a 0 1000 noisy=0" in nb.build().elements and "rb a 0 1000" in nb.build().elements


@pytest.mark.parametrize("kw, match", [({"start": 0.0}, "0 < start < stop"), ({"points": 0}, "points")])
def test_noise_analysis_card_validates(kw, match):
    from netlists.errors import NetlistError

    args = {"kind": "noise", "source": "vhold", "output": "vc", "reference": "vh", "start": 1.0, "stop": 10.0, **kw}
    with pytest.raises(NetlistError, match=match):
        Analysis(**args).card()


@pytest.fixture(scope="module")
def sky130_noise(simulator):
    return measure_cell_noise(get_technology("sky130"), sim=SimParams(temp_c=27.0), simulator=simulator)


def test_cell_noise_is_above_the_shot_noise_of_its_drive(sky130_noise):
    """The mirror output that delivers I_drive carries at least its shot noise √(2q·I·Δf)."""
    n = sky130_noise
    floor = math.sqrt(2 * ELEMENTARY_CHARGE_C * n.i_drive_a * (n.f_hi_hz - n.f_lo_hz))
    assert n.sigma_i_a > floor
    assert 0.0 < n.noise_rel == pytest.approx(n.sigma_i_a / n.i_drive_a, rel=1e-12)


def test_behavioural_ekv_devices_are_noiseless(simulator):
    """The ekv B-source devices have no noise model: its cell noise is the numerical floor, far below sky130's."""
    ekv = measure_cell_noise(get_technology("ekv"), sim=SimParams(temp_c=27.0), simulator=simulator)
    sky = measure_cell_noise(get_technology("sky130"), sim=SimParams(temp_c=27.0), simulator=simulator)
    assert ekv.sigma_i_a < 1e-3 * sky.sigma_i_a


def test_cli_noise_json(capsys):
    assert main(["simulate", "noise", "--tech", "bsim", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["block"] == "noise" and out["noise_rel"] > 0 and out["f_hi_hz"] > out["f_lo_hz"]


@pytest.mark.parametrize("extra, message", [(["--plot", "n.png"], "--plot does not apply to simulate noise"),
                                            (["--dim", "2"], "does not apply"), (["--temp-c", "200"], "--temp-c")])
def test_cli_noise_refuses_what_does_not_apply(extra, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "noise", "--tech", "bsim", *extra]) == 2
    assert message in capsys.readouterr().err
