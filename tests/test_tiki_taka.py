"""Tiki-Taka at transistor level (issue 15 item 5) against its behavioural twin.

The twin is the behavioural study's continuous-time Tiki-Taka on one stream (checked equal to
:func:`logdomain.asymmetry.run_tiki_taka`'s code path). SPICE: one short sky130 run by default (dim 1,
20 samples); ``slow`` has the acceptance run (dim 2, 400 samples, t/τ = 20, SPICE vs twin ≤ 2 %).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from logdomain.asymmetry import FloorProblem, LogDomainPair, TikiTaka, _Stream, run_tiki_taka, run_tiki_taka_stream
from logdomain.cli.app import main
from logdomain.ideal import sgdr_continuous_zoh
from logdomain.spice_learner import learner_task
from logdomain.tiki_taka_spice import compare_tiki_taka, run_twin, twin_settings
from netlists import ParameterError, SimParams, get_technology
from netlists.spice_learner_circuit import LearnerParams, state_nodes
from netlists.tiki_taka_circuit import TikiTakaParams, a_state_nodes, tiki_taka_learner
from netlists.values import parse_number

SIM = SimParams(reltol=1e-4, timeout_s=1800)


# -- parameters and netlist --------------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "field"), [({"lam_a": 0.0}, "lam_a"), ({"transfer": -1.0}, "transfer"),
                                           ({"c_speed": 1e3}, "c_speed"), ({"cm_gain_c": float("nan")}, "cm_gain_c"),
                                           ({"c_leak_ratio": "1x"}, "c_leak_ratio")])  # fmt: skip
def test_invalid_tiki_taka_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError, match=field):
        TikiTakaParams(**kw)


def test_currents_out_of_range_are_refused():
    with pytest.raises(ParameterError, match="outside"):
        TikiTakaParams(transfer=100.0, c_speed=0.1).check(LearnerParams(i_u_a=1e-8, i_cm_a=1e-8, i_w0_a=6e-9))


def _netlist(tt: TikiTakaParams | None = None, dim: int = 2):
    p = LearnerParams(dim=dim)
    x = np.array([[0.5, -0.3], [0.2, 0.1], [-0.4, 0.6]])[:, :dim]
    y = np.array([0.3, -0.1, 0.2])
    return p, tiki_taka_learner(get_technology("sky130"), p, tt or TikiTakaParams(), x, y,
                                {n: 0.5 for n in state_nodes(dim) + a_state_nodes(dim)})  # fmt: skip


def _value(netlist, name: str) -> float:
    line = next(e for e in netlist.elements if e.split()[0] == name)
    return parse_number(line.split()[-1], name)


def test_netlist_maps_the_tiki_taka_law_onto_bias_currents():
    tt = TikiTakaParams(lam_a=5.0, transfer=3.0, c_speed=2.0)
    p, nl = _netlist(tt)
    assert _value(nl, "iu0plam") == pytest.approx(5.0 * p.i_a_a, rel=1e-6)  # I_λ,A = λ_A·I_A/s_x²
    assert _value(nl, "iw0pa") == pytest.approx(2.0 * p.i_a_a, rel=1e-6)  # I_A,C = k_C·I_A
    assert _value(nl, "iw0plam") == pytest.approx(tt.c_leak(p.lam) * p.i_a_a, rel=1e-6)  # λ_cC·I_A,C = λ_C·I_A
    assert tt.c_leak(p.lam) == pytest.approx(p.lam * 3.0 / 5.0)
    r = _value(nl, "itrp") - _value(nl, "itrn")  # R = ρ·I_u/(s_x² k_C)
    assert r == pytest.approx(3.0 * p.i_u_a / 2.0, rel=1e-6)
    assert _value(nl, "iu0phold") == pytest.approx(5.0 * p.i_w0_a, rel=1e-6)  # holding drive λ_A·I_w0
    names = {d.name for d in nl.devices}
    assert {"u0pmw", "u1nmw", "mac0p", "mac1n", "w0pmap", "w0nman", "mtrp", "mtrn", "mgk0", "q1npm3"} <= names
    assert nl.text(SIM) == _netlist(tt)[1].text(SIM)  # deterministic


def test_chopper_drives_a_through_its_own_inputs_and_swaps_the_transfer_bias():
    tt = TikiTakaParams(chop_every=1)
    assert list(tt.chop_signs(5)) == [1.0, -1.0, 1.0, -1.0, 1.0]
    assert list(TikiTakaParams(chop_every=2).chop_signs(5)) == [1.0, 1.0, -1.0, -1.0, 1.0]
    _, nl = _netlist(tt)
    a_gates = {d.g for d in nl.devices if d.name.startswith("u0p")}
    assert {"gxa0p", "gxa0n"} <= a_gates and not {"gx0p", "gx0n"} & a_gates  # A sees c·x, not x
    text = nl.text(SIM)
    assert "itrp vdd gtp pwl(" in text.lower() and "ixa0p" in text.lower()
    _, plain = _netlist(TikiTakaParams())
    assert "gxa0p" not in plain.nodes


def test_class_ab_transfer_feeds_c_from_the_split_not_from_the_copies():
    _, nl = _netlist(TikiTakaParams(transfer_split="class-ab"))
    gates = {d.name: d.g for d in nl.devices}
    assert gates["w0pmap"] == "gp0" and gates["w0pman"] == "gq0"  # a⁺ + f₂, a⁻ + f₂
    assert gates["mtp0"] == "vbp" and gates["mtn0"] == "vbn"  # the error path's replica sets a⁺a⁻ = f_e²
    _, direct = _netlist(TikiTakaParams())
    assert {d.name: d.g for d in direct.devices}["w0pmap"] == "ad0p" and "sn0" not in direct.nodes
    with pytest.raises(ParameterError, match="transfer_split"):
        TikiTakaParams(transfer_split="class-b")


def test_netlist_refuses_bad_input():
    p = LearnerParams(dim=1)
    tech = get_technology("sky130")
    x, y = np.array([[0.5]]), np.array([0.2])
    with pytest.raises(ParameterError, match="lacks"):
        tiki_taka_learner(tech, p, TikiTakaParams(), x, y, {n: 0.5 for n in state_nodes(1)})
    ic = {n: 0.5 for n in state_nodes(1) + a_state_nodes(1)}
    with pytest.raises(ParameterError, match="finite"):
        tiki_taka_learner(tech, p, TikiTakaParams(), np.array([[math.nan]]), y, ic)
    with pytest.raises(ParameterError, match="TikiTakaParams"):
        tiki_taka_learner(tech, p, {"lam_a": 4.0}, x, y, ic)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="start"):
        tiki_taka_learner(tech, p.replace(start="uic"), TikiTakaParams(), x, y, ic)


# -- the behavioural twin ----------------------------------------------------------------------------


def test_twin_is_the_studys_continuous_tiki_taka_code_path():
    problem = FloorProblem(dim=3, seeds=1, steps=300, records=4, seed=7)
    device = LogDomainPair(lam=1e-3, cm_set=1.4, cm_gain=0.5)
    stream = _Stream(problem)
    xs, ys = zip(*[(x[0], y[0]) for x, y, _ in (stream.next() for _ in range(problem.steps))])
    for chop in (0, 7):
        tt = TikiTaka(gamma=0.3, transfer=0.2, a_leak=4.0, c_leak=1e-3, chop_every=chop)
        ref = run_tiki_taka(device, [0.0], problem, 0.05, tt, substeps=3)
        hist, _ = run_tiki_taka_stream(device, np.array(xs), np.array(ys), 0.05, tt, substeps=3)
        np.testing.assert_allclose(hist[-1], ref.weights[0, 0], rtol=1e-12, atol=1e-14)


def test_twin_with_equal_leak_and_transfer_learns_the_ridge_of_sgd():
    task = learner_task(2, 1600, seed=3)
    x, y = task.x_train, task.y_train
    p = LearnerParams(dim=2, eta=0.05, lam=1e-3)
    hist, a = run_twin(p, TikiTakaParams(lam_a=4.0, transfer=4.0), x, y, substeps=4)
    w_ideal = sgdr_continuous_zoh(x, y, p.t_hold_s / p.eta, p.t_hold_s, p.lam)
    # t/τ = 80: C has learnt; what is left is the gradient noise of the last few τ
    assert np.sum((hist[-1] - w_ideal) ** 2) / np.sum(w_ideal**2) < 0.01
    assert np.max(np.abs(a[-200:])) < 0.5 * np.max(np.abs(w_ideal))  # A stays small: it is the fast, leaky store


@pytest.mark.parametrize(("kw", "message"), [({"tt": "tt"}, "TikiTaka"), ({"eta": 0.0}, "eta"),
                                             ({"y": np.array([math.nan, 0.0])}, "finite")])  # fmt: skip
def test_twin_refuses_what_it_does_not_model(kw, message):
    args = {"device": LogDomainPair(), "x": np.ones((2, 1)), "y": np.zeros(2), "eta": 0.05, "tt": TikiTaka()} | kw
    with pytest.raises(ValueError, match=message):
        run_tiki_taka_stream(args.pop("device"), args.pop("x"), args.pop("y"), args.pop("eta"), args.pop("tt"))


def test_twin_settings_follow_the_circuit():
    p, tt = LearnerParams(eta=0.04, lam=2e-3), TikiTakaParams(lam_a=8.0, transfer=2.0, c_speed=1.0, cm_gain_c=0.5)
    device, s = twin_settings(p, tt, gain=1.1)
    assert s.transfer == pytest.approx(2.0 * 1.1 * 0.04) and s.a_leak == 8.0 and s.gamma == 0.0 and s.chop_every == tt.chop_every
    assert s.c_leak == pytest.approx(2e-3 * 2.0 / 8.0) and device.lam == pytest.approx(s.c_leak)
    assert device.cm_set == pytest.approx(p.w_scale * p.i_cm_a / p.i_u_a)
    with pytest.raises(ValueError, match="gain"):
        twin_settings(p, tt, gain=math.inf)


# -- command line ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "message"), [
    (["simulate", "nmos", "--algorithm", "tiki-taka"], "--algorithm does not apply to simulate nmos"),
    (["simulate", "learner", "--tech", "sky130", "--algorithm", "tiki-taka", "--mismatch"], "--mismatch does not apply"),
    (["simulate", "learner", "--algorithm", "adam"], "invalid choice"),
])  # fmt: skip
def test_cli_refuses_what_tiki_taka_does_not_do(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# -- SPICE ---------------------------------------------------------------------------------------------


@pytest.mark.spice
def test_short_spice_run_tracks_its_twin(simulator):
    task = learner_task(1, 20, seed=0)
    c = compare_tiki_taka(get_technology("sky130"), task, eta=0.05, lam=1e-3, t_hold_s=20e-3, samples=20, sim=SIM,
                          simulator=simulator)  # fmt: skip
    run = c.spice.run
    assert run.regions_ok, run.region_violations()
    a_cm = (c.spice.a_plus_a + c.spice.a_minus_a)[-1]
    assert np.all(a_cm > run.params.i_u_a * 0.3 * 2)  # the holding drive keeps both A halves in their law
    assert np.all(np.abs(c.spice.copy_gain - 1.0) < 0.2)  # the transfer copies: a drain-voltage gain, not more
    # A and C follow the twin hold by hold (A: the plain learner's cell with a leak; C: the transfer)
    scale = np.max(np.abs(c.twin_a_history))
    assert np.max(np.abs(c.spice.a_history - c.twin_a_history)) < 0.15 * scale
    assert c.spice_vs_twin_nmse < 0.02
    assert c.as_dict(history=False)["algorithm"] == "tiki-taka"


@pytest.mark.spice
@pytest.mark.slow
def test_acceptance_dim2_spice_vs_twin_within_2_percent_at_t_over_tau_20(simulator):
    task = learner_task(2, 400, seed=0)
    c = compare_tiki_taka(get_technology("sky130"), task, eta=0.05, lam=1e-3, t_hold_s=20e-3, samples=400, sim=SIM,
                          simulator=simulator)  # fmt: skip
    assert c.t_over_tau >= 20
    assert c.spice_vs_twin_nmse <= 0.02
    assert c.nmse_vs_ideal <= 0.02 and c.twin_nmse_vs_ideal <= 0.02  # both have learnt what SGDr learns
    # every device weak and saturated at the checked instants (measured: also at seed 1; with k_C = 1 the
    # products' m3 fell to V_DS 3.65 U_T — see TikiTakaParams.c_speed)
    assert c.spice.run.regions_ok, c.spice.run.region_violations()
