"""Single devices on all three technologies: exponential weak inversion, accurate options."""

from __future__ import annotations

import numpy as np
import pytest

from netlists import MosBenchParams, SimParams, blocks, check_regions, get_technology
from netlists.measure import fit_swing, fit_weak_inversion, iv_curve

# gate sweep wide enough to cover weak inversion on every technology (sky130's pfet has |V_T| ≈ 1 V)
BENCH = {
    "n": MosBenchParams(w_m=10e-6, l_m=2e-6, vds_v=0.5, vgs_start_v=-0.3, vgs_stop_v=1.0),
    "p": MosBenchParams(w_m=10e-6, l_m=2e-6, vds_v=0.5, vgs_start_v=-0.3, vgs_stop_v=1.4),
}


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_weak_inversion_is_exponential(tech, polarity, simulator):
    curve = iv_curve(tech, polarity, BENCH[polarity], simulator=simulator)
    above_floor = curve.id_a[curve.id_a > 1e-13]
    assert np.all(np.diff(above_floor) > 0), "drain current must rise with V_GS"
    i_spec = tech.specific_current_a(polarity, BENCH[polarity].w_m, BENCH[polarity].l_m, 27.0)
    fit = fit_weak_inversion(curve, i_spec)  # 30x the leakage floor .. IC = 1e-3
    assert fit.decades >= 3.0, fit
    assert 60.0 <= fit.swing_mv_per_decade <= 100.0, fit
    assert fit.r_squared > 0.999, fit


def test_ekv_swing_matches_card(simulator):
    """Golden model: swing = n·U_T·ln 10 exactly in deep weak inversion."""
    tech = get_technology("ekv")
    curve = iv_curve(tech, "n", MosBenchParams(vgs_stop_v=0.3), simulator=simulator)
    fit = fit_swing(curve, 1e-13, 1e-10)
    n = tech.slope_factor("n")
    expected = n * 0.025852 * np.log(10) * 1000
    assert fit.swing_mv_per_decade == pytest.approx(expected, rel=5e-3)


def test_gmin_tenfold_lower_changes_currents_below_one_percent(tech, simulator):
    params = MosBenchParams(w_m=2e-6, l_m=1e-6, vds_v=0.5, vgs_stop_v=0.6)
    base = iv_curve(tech, "n", params, sim=SimParams(gmin_s=1e-15), simulator=simulator)
    lower = iv_curve(tech, "n", params, sim=SimParams(gmin_s=1e-16), simulator=simulator)
    sel = base.id_a > 1e-13
    assert sel.sum() > 20
    assert np.max(np.abs(lower.id_a[sel] / base.id_a[sel] - 1)) < 0.01


def test_default_gmin_would_corrupt_subthreshold_currents(simulator):
    """Why the options matter: ngspice's default gmin (1e-12 S, across junctions) adds ~0.5 pA at 0.5 V."""
    tech = get_technology("sky130")
    params = MosBenchParams(vgs_stop_v=0.2, vds_v=0.5)
    good = iv_curve(tech, "n", params, sim=SimParams(gmin_s=1e-15), simulator=simulator)
    bad = iv_curve(tech, "n", params, sim=SimParams(gmin_s=1e-12), simulator=simulator)
    assert np.max(np.abs(bad.id_a[:5] / good.id_a[:5] - 1)) > 0.01


def test_temperature_changes_ut(simulator):
    tech = get_technology("ekv")
    params = MosBenchParams(vgs_stop_v=0.3)
    swings = [fit_swing(iv_curve(tech, "n", params, sim=SimParams(temp_c=t), simulator=simulator), 1e-13, 1e-10).swing_mv_per_decade for t in (-20.0, 85.0)]
    ratio = swings[1] / swings[0]
    assert ratio == pytest.approx((85 + 273.15) / (-20 + 273.15), rel=0.01)


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_mirror_and_diode(tech, polarity, simulator):
    from netlists import DiodeParams, MirrorParams

    # output held near the input diode's voltage (DIBL would otherwise add ~14 % on sky130 at 0.9 V)
    v_out = 0.25 if polarity == "n" else tech.vdd_v - 0.25
    netlist = blocks.mirror(tech, MirrorParams(polarity=polarity, w_m=20e-6, l_m=2e-6, i_in_a=1e-9, v_out_v=v_out))
    result = simulator.run(netlist)
    i_out = result.drain_current("m2", polarity)[0]
    assert i_out == pytest.approx(1e-9, rel=0.02)
    report = check_regions(netlist, result)
    assert report.ok, report.summary()
    d = simulator.run(blocks.diode(tech, DiodeParams(polarity=polarity, i_in_a=1e-9)))
    assert d.drain_current("m1", polarity)[0] == pytest.approx(1e-9, rel=1e-3)


def test_sky130_corners_order(simulator):
    """ff conducts more than tt, tt more than ss (nfet, weak inversion)."""
    params = MosBenchParams(vgs_stop_v=0.4)
    at = {c: iv_curve(get_technology("sky130", corner=c), "n", params, simulator=simulator).id_a[-1] for c in ("ss", "tt", "ff")}
    assert at["ff"] > at["tt"] > at["ss"]


def test_sky130_mismatch_variant_varies_with_seed(simulator):
    params = MosBenchParams(w_m=1e-6, l_m=0.5e-6, vgs_stop_v=0.3)
    currents = {iv_curve(get_technology("sky130", mismatch=True, seed=s), "n", params, simulator=simulator).id_a[-1] for s in (1, 2, 3)}
    nominal = iv_curve(get_technology("sky130"), "n", params, simulator=simulator).id_a[-1]
    assert len(currents) == 3
    assert all(abs(i / nominal - 1) < 1.0 for i in currents)


def test_sky130_bin_pruning_keeps_the_cards_a_size_can_select():
    from netlists.technologies.sky130 import prune_bins

    def card(name: str, pol: str, lmin: float, lmax: float) -> str:
        return f".model {name} {pol}mos\n+ level = 54 lmin = {lmin} lmax = {lmax} wmin = 1E-6\n+ wmax = 1E-4 vth0 = 0.5\n"

    text = ".subckt x d g s b\n" + card("n.1", "n", 8e-6, 2e-5) + card("n.2", "n", 4e-6, 8e-6) + card("n.3", "n", 1e-6, 4e-6) \
        + card("p.1", "p", 8e-6, 2e-5) + ".ends x\n"
    pruned, kept, dropped = prune_bins(text, [("n", 2e-6, 5e-6)])
    assert (kept, dropped) == (1, 3) and "n.2 " in pruned and "n.1 " not in pruned and "p.1" not in pruned
    assert pruned.startswith(".subckt x") and pruned.rstrip().endswith(".ends x")
    edge, kept, _ = prune_bins(text, [("n", 2e-6, 8e-6), ("p", 2e-6, 1e-5)])  # on an edge: both neighbours stay
    assert kept == 3 and "n.1 " in edge and "n.2 " in edge and "p.1" in edge


def test_sky130_pruned_bins_give_the_same_currents(simulator):
    tech = get_technology("sky130")
    full = blocks.nmos_iv(tech)
    pruned = blocks.nmos_iv(tech)
    pruned.fixed_sizes = True
    assert "_bins_" in pruned.text() and "_bins_" not in full.text()
    a, b = simulator.run(full), simulator.run(pruned)
    np.testing.assert_array_equal(a.drain_current("m1"), b.drain_current("m1"))


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_ekv_subcircuit_is_the_ekv_equation(polarity, simulator):
    """The B-source (x on linear internal nodes, one ternary softplus per side) against EKV 2.6 in numpy:
    I_D = I_spec·[F((v_p − V_S)/U_T) − F((v_p − V_D)/U_T)], F(u) = ln²(1 + e^{u/2}), from weak to strong inversion."""
    from netlists.netlist import Analysis, NetlistBuilder
    from netlists.technologies.base import thermal_voltage_v

    tech = get_technology("ekv")
    card, sign = tech.card(polarity), 1.0 if polarity == "n" else -1.0
    w_m, l_m, v_s, v_d = 2e-6, 1e-6, 0.1, 0.6
    nb = NetlistBuilder("ekv_eq", tech)
    nb.vsource("vd", "d", "0", sign * v_d)
    nb.vsource("vs", "s", "0", sign * v_s)
    nb.vsource("vg", "g", "0", 0.0)
    nb.mos("m1", polarity, "d", "g", "s", "0", w_m=w_m, l_m=l_m)
    nb.analysis(Analysis("dc", "vg", 0.0, sign * 1.8, sign * 0.02))
    result = simulator.run(nb.build(), SimParams(reltol=1e-8))  # Newton stops within reltol of the current
    v_g = sign * np.asarray(result["v(g)"] if "v(g)" in result.vectors else result["g"])
    got = np.asarray(result.drain_current("m1", polarity))
    ut = thermal_voltage_v(27.0)
    v_p = (v_g - card.vt0_at(27.0)) / card.n
    f = lambda u: np.log1p(np.exp(u / 2)) ** 2  # noqa: E731
    want = card.specific_current_a(w_m, l_m, 27.0) * (f((v_p - v_s) / ut) - f((v_p - v_d) / ut))
    assert want.min() < 1e-13 and want.max() > 1e-5  # weak to strong inversion
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=2e-15)  # atol: ngspice abstol (1e-15 A)
