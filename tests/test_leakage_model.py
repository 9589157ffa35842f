"""The working cell's λ_o(T) law in the calibration and the model's temperature shift from it.

Checks the shift against an independent computation (the circuit's own I_A from
``LearnerParams.i_a_a`` at T, the law written out), the law against the cell-fitted points it came
from (residuals, leave-one-out predictions: tolerances, never exact float compares), the identity at
the calibration's temperature, the range checks, old files, the schema, and the CLI's ``--temp-c``.
The inputs-off retention bench's figures stay in the file for reference and are checked as such.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from calibration import CalibrationError, load_default_calibration
from calibration.leakage import fit_cell_law, law_lam
from calibration.schema import Calibration, default_calibration_path
from logdomain.leakage_shift import LeakageShift
from logdomain.learner_model import LearnerModel
from logdomain.learner_sim import sgdr_learner
from netlists.technologies.base import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C

#: relative tolerance of the shift against the independent computation: the two differ only in the
#: order of floating-point operations (a few ulp of λ_o's terms)
REL = 1e-12


def _shipped() -> dict:
    return json.loads(default_calibration_path().read_text())


@pytest.fixture(scope="module")
def cal():
    c = load_default_calibration()
    assert c.leakage is not None and c.leakage.cell is not None and c.leakage.cell.law is not None, \
        "the shipped calibration has the working cell's lam_offset(T) law"
    return c


@pytest.fixture(scope="module")
def model(cal):
    return LearnerModel.from_calibration(cal)


def _expected_lam(cal, temp_c: float) -> float:
    """λ_o(T) from the calibration's own numbers, written out independently of logdomain.leakage_shift."""
    fit = cal.leakage.cell.law
    k_ev = BOLTZMANN_J_PER_K / ELEMENTARY_CHARGE_C
    t, t_cal = temp_c + 273.15, fit.t_ref_c + 273.15
    i_leak = fit.i_ref_a * math.exp(-fit.e_a_ev / k_ev * (1 / t - 1 / t_cal))
    i_a = cal.learner.params.replace(temp_c=temp_c).i_a_a  # I_A as the circuit sets it at T
    return cal.learner.nominal["lam_offset"] - (i_leak - fit.i_ref_a) / i_a


def _inside(cal) -> list[float]:
    """Temperatures inside the fit's range where the shifted λ_o stays in the model's [-1, 1]."""
    fit = cal.leakage.cell.law
    grid = np.linspace(fit.temp_min_c, fit.temp_max_c, 9)
    return [float(t) for t in grid if abs(_expected_lam(cal, float(t))) <= 1.0]


def test_shift_matches_independent_computation(cal, model):
    temps = _inside(cal)
    assert len(temps) >= 3
    for t in temps:
        at = model.at_temperature(t)
        assert math.isclose(at.nominal["lam_offset"], _expected_lam(cal, t), rel_tol=REL, abs_tol=0.0), t
        assert at.temp_c == pytest.approx(t)
        # nothing else of the nominal gains moves
        assert {k: v for k, v in at.nominal.items() if k != "lam_offset"} == {k: v for k, v in model.nominal.items() if k != "lam_offset"}


def test_shift_sign_follows_the_leakage(cal, model):
    """More junction current into V_C when warmer (E_a > 0, I_ref > 0) lowers λ_o; less when colder raises it."""
    fit = cal.leakage.cell.law
    assert fit.e_a_ev > 0 and fit.i_ref_a > 0
    lam_cal = model.nominal["lam_offset"]
    hot, cold = min(fit.t_ref_c + 10.0, fit.temp_max_c), max(fit.t_ref_c - 10.0, fit.temp_min_c)
    assert model.at_temperature(hot).nominal["lam_offset"] < lam_cal < model.at_temperature(cold).nominal["lam_offset"]


def test_calibration_temperature_is_the_model_unchanged(cal, model):
    at = model.at_temperature(cal.provenance.temp_c)
    assert at is model
    x = np.random.default_rng(0).uniform(-1, 1, (60, 3))
    y = x @ np.array([0.3, -0.2, 0.1])
    a = sgdr_learner(x, y, model, 0.05, 1e-3, epochs=1, dies=2, seed=1).weights
    b = sgdr_learner(x, y, model.at_temperature(cal.provenance.temp_c), 0.05, 1e-3, epochs=1, dies=2, seed=1).weights
    assert np.array_equal(a, b)  # the same model object: the same run, bit for bit


def test_law_reproduces_its_points_within_its_residuals(cal):
    law, points = cal.leakage.cell.law, {p.temp_c: p for p in cal.leakage.cell.points}
    assert law.lam_offset_cal == pytest.approx(cal.learner.nominal["lam_offset"], rel=REL)
    assert points[law.t_ref_c].lam_offset == pytest.approx(law.lam_offset_cal, rel=REL)
    resid = [points[t].lam_offset - law_lam(law.i_ref_a, law.e_a_ev, law.t_ref_c, law.lam_offset_cal, t, points[t].i_a_a)
             for t in law.temps_c]  # fmt: skip
    assert resid == pytest.approx(law.residuals, abs=1e-12)
    others = [r for t, r in zip(law.temps_c, resid) if t != law.t_ref_c]
    assert math.sqrt(np.mean(np.square(others))) == pytest.approx(law.rms_lam_residual, rel=1e-9)
    assert max(map(abs, others)) == pytest.approx(law.max_lam_residual, rel=1e-9)
    # the law describes the cell-fitted λ_o: every residual within 0.002 (the cells' λ units) and within
    # 10 % of that point's shift from T_cal plus 5e-4
    for t, r in zip(law.temps_c, resid):
        shift = abs(points[t].lam_offset - law.lam_offset_cal)
        assert abs(r) <= min(0.002, 0.1 * shift + 5e-4), (t, r, shift)


def test_model_follows_the_cell_fitted_points(cal, model):
    """At each grid temperature the model's λ_o is the cell-fitted one to within the law's largest residual."""
    law = cal.leakage.cell.law
    for p in cal.leakage.cell.points:
        lam = model.at_temperature(p.temp_c).nominal["lam_offset"]
        assert lam == pytest.approx(p.lam_offset, abs=law.max_lam_residual * (1 + 1e-9) + 1e-15), p.temp_c


def test_held_out_temperatures_are_predicted(cal):
    """Leave-one-out: each point other than T_cal predicted by the law fitted without it; the stored
    predictions recompute, and inside the range (not its ends, which are extrapolations) the error is
    within 10 % of the point's shift from T_cal plus 5e-4 (a check that could fail: the retention bench's
    leakage missed by 8x)."""
    law, points = cal.leakage.cell.law, {p.temp_c: p for p in cal.leakage.cell.points}
    assert {h.temp_c for h in law.holdout} == {t for t in law.temps_c if t != law.t_ref_c}
    interior = 0
    for h in law.holdout:
        rest = [t for t in law.temps_c if t != h.temp_c]
        sub = fit_cell_law(rest, [points[t].lam_offset for t in rest], [points[t].i_a_a for t in rest],
                           t_ref_c=law.t_ref_c, lam_cal=law.lam_offset_cal)  # fmt: skip
        assert sub is not None
        again = law_lam(*sub, law.t_ref_c, law.lam_offset_cal, h.temp_c, points[h.temp_c].i_a_a)
        assert again == pytest.approx(h.lam_predicted, rel=1e-6, abs=1e-12)
        assert h.lam_fitted == pytest.approx(points[h.temp_c].lam_offset, rel=REL)
        if law.temp_min_c < h.temp_c < law.temp_max_c:
            interior += 1
            shift = abs(h.lam_fitted - law.lam_offset_cal)
            assert abs(h.lam_predicted - h.lam_fitted) <= 0.1 * shift + 5e-4, (h.temp_c, h.lam_predicted, h.lam_fitted)
    assert interior >= 1


def test_fit_cell_law_recovers_a_synthetic_law():
    """λ_o made from a known I_ref, E_a (I_A from a hand formula) is fitted back to 1e-4."""
    i_a = lambda t: 50e-12 * BOLTZMANN_J_PER_K * (t + 273.15) / ELEMENTARY_CHARGE_C / (0.7 * 0.4)  # noqa: E731
    temps = [0.0, 27.0, 40.0, 55.0, 70.0]
    lams = [law_lam(3e-15, 1.05, 27.0, -0.0015, t, i_a(t)) for t in temps]
    i_ref, e_a = fit_cell_law(temps, lams, [i_a(t) for t in temps], t_ref_c=27.0, lam_cal=-0.0015)
    assert i_ref == pytest.approx(3e-15, rel=1e-4) and e_a == pytest.approx(1.05, rel=1e-4)
    # no positive junction current (λ_o rising when warm): no law
    assert fit_cell_law(temps, [-0.0015 - (l + 0.0015) for l in lams], [i_a(t) for t in temps], t_ref_c=27.0,
                        lam_cal=-0.0015) is None  # fmt: skip


def test_retention_figures_are_kept_and_labelled(cal):
    """The inputs-off retention bench's leakage stays in the file, labelled as not the model's input."""
    leak = cal.leakage
    assert leak.function == "netlists.retention.measure_retention" and leak.arrhenius is not None
    assert "NOT the model's input" in leak.notes
    fit, points = leak.arrhenius, {p.temp_c: p for p in leak.points}
    resid = [math.log(points[t].i_leak_a) - math.log(fit.i_leak_a(t)) for t in fit.temps_c]
    assert math.sqrt(np.mean(np.square(resid))) == pytest.approx(fit.rms_ln_residual, rel=1e-9)
    # and the model does not use it: its shift at the warm end is several times smaller than the bench's
    law = leak.cell.law
    t = law.temp_max_c
    bench = (fit.i_leak_a(t) - fit.i_ref_a) / points[law.t_ref_c].i_a_a
    cell = (law.i_junction_a(t) - law.i_ref_a) / points[law.t_ref_c].i_a_a
    assert bench > 3 * cell > 0


def test_out_of_range_is_refused(cal, model):
    fit = cal.leakage.cell.law
    for t in (fit.temp_max_c + 1.0, fit.temp_min_c - 1.0):
        with pytest.raises(ValueError, match=r"temp_c must be in \["):
            model.at_temperature(t)
    assert cal.leakage.cell.not_valid, "the shipped grid records where the cell fit breaks down"
    for p in cal.leakage.cell.not_valid:
        with pytest.raises(ValueError, match="breaks down|failed"):
            model.at_temperature(p.temp_c)


def test_synthetic_shift():
    """A hand-made LeakageShift: I_leak(T_cal) = I_ref, and a leakage equal to I_A(T) above I_ref moves λ_o by −1."""
    s = LeakageShift(temp_cal_c=27.0, lam_offset_cal=-0.002, i_ref_a=1e-13, e_a_ev=0.9, c_f=50e-12, kappa=0.7,
                     tau_s=0.4, temp_min_c=-20.0, temp_max_c=85.0)  # fmt: skip
    assert s.lam_offset(27.0) == -0.002
    assert s.i_leak_a(27.0) == pytest.approx(1e-13, rel=REL)
    for t in (-20.0, 0.0, 50.0, 85.0):
        expect = -0.002 - (s.i_leak_a(t) - 1e-13) / s.i_a_a(t)
        assert s.lam_offset(t) == pytest.approx(expect, rel=REL)
    u_t = BOLTZMANN_J_PER_K * (50.0 + 273.15) / ELEMENTARY_CHARGE_C
    assert s.i_a_a(50.0) == pytest.approx(50e-12 * u_t / (0.7 * 0.4), rel=REL)


def test_old_file_without_leakage_loads_with_no_shift(tmp_path):
    data = _shipped()
    data.pop("leakage", None)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    from calibration import load_calibration

    cal = load_calibration(path)
    assert cal.leakage is None
    model = LearnerModel.from_calibration(cal)
    assert model.leakage is None
    assert model.at_temperature(cal.provenance.temp_c) is model
    with pytest.raises(ValueError, match="no leakage data"):
        model.at_temperature(cal.provenance.temp_c + 10.0)


def test_file_with_only_the_retention_leakage_has_no_shift(tmp_path):
    """A leakage section without the working cell's law (the branch's first format) gives no shift."""
    data = _shipped()
    data["leakage"].pop("cell")
    path = tmp_path / "retention_only.json"
    path.write_text(json.dumps(data))
    from calibration import load_calibration

    model = LearnerModel.from_calibration(load_calibration(path))
    assert model.leakage is None
    with pytest.raises(ValueError, match="no leakage data"):
        model.at_temperature(model.temp_c + 10.0)


def _mutations():
    yield "nan e_a", lambda d: d["leakage"]["arrhenius"].update(e_a_ev=float("nan")), "ArrheniusFit.e_a_ev must be finite"
    yield "negative I_A", lambda d: d["leakage"]["points"][0].update(i_a_a=-1e-12), "LeakagePoint.i_a_a"
    yield "missing point", lambda d: d["leakage"]["points"].pop(0), "cover temps_c"
    yield "t_ref", lambda d: d["leakage"]["arrhenius"].update(t_ref_c=d["leakage"]["arrhenius"]["t_ref_c"] + 1), "t_ref_c"
    yield "cal temp", lambda d: d["leakage"].update(temp_cal_c=d["leakage"]["temp_cal_c"] + 1), "temp_cal_c"
    yield "unknown", lambda d: d["leakage"].update(extra=1), "unknown field"
    yield "points not list", lambda d: d["leakage"].update(points={}), "LeakageFit.points must be a list"
    yield "cell t_ref", lambda d: d["leakage"]["cell"]["law"].update(t_ref_c=d["leakage"]["cell"]["law"]["t_ref_c"] + 1), "t_ref_c"
    yield "cell point missing", lambda d: d["leakage"]["cell"]["points"].pop(0), "cover temps_c"
    yield "cell residuals", lambda d: d["leakage"]["cell"]["law"]["residuals"].pop(), "residuals"
    yield "cell nan e_a", lambda d: d["leakage"]["cell"]["law"].update(e_a_ev=float("nan")), "CellLamLaw.e_a_ev must be finite"
    yield "cell unknown", lambda d: d["leakage"]["cell"].update(extra=1), "unknown field"


@pytest.mark.parametrize("label,mutate,message", list(_mutations()), ids=[m[0] for m in _mutations()])
def test_bad_leakage_section_names_the_field(label, mutate, message):
    data = _shipped()
    mutate(data)
    with pytest.raises(CalibrationError, match=message):
        Calibration.from_dict(data)


# -- the command line ---------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logdomain.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_temp_c_changes_the_lam_offset(cal):
    base = ("train", "--model", "analog", "--task", "diabetes", "--epochs", "1", "--json")
    t = max(_inside(cal))
    default, warm = (_cli(*base, *extra) for extra in ((), ("--temp-c", f"{t:g}")))
    assert default.returncode == 0, default.stderr
    assert warm.returncode == 0, warm.stderr
    d, w = json.loads(default.stdout)["temperature"], json.loads(warm.stdout)["temperature"]
    assert d["temp_c"] == pytest.approx(cal.provenance.temp_c) and w["temp_c"] == pytest.approx(t)
    assert d["lam_offset"] == pytest.approx(cal.learner.nominal["lam_offset"], rel=REL)
    assert w["lam_offset"] == pytest.approx(_expected_lam(cal, t), rel=REL)
    assert w["lam_offset"] != pytest.approx(d["lam_offset"], rel=1e-3)
    assert "working cell" in w["leakage_model"] and "validation" in w["leakage_model"]


def test_cli_compare_reports_the_temperature(cal, tmp_path):
    t = min(_inside(cal))
    proc = _cli("compare", "--quick", "--temp-c", f"{t:g}", "--out", str(tmp_path / "r"), "--json")
    assert proc.returncode == 0, proc.stderr
    temp = json.loads(proc.stdout)["temperature"]
    assert temp["temp_c"] == pytest.approx(t) and temp["lam_offset"] == pytest.approx(_expected_lam(cal, t), rel=REL)
    report = (tmp_path / "r" / "report.md").read_text()
    assert f"Operating temperature {t:g} °C" in report and f"{temp['lam_offset']:.4g}" in report


def _bad_temps(cal) -> list[tuple[str, str]]:
    fit = cal.leakage.cell.law
    out = [(f"{fit.temp_max_c + 1:g}", r"--temp-c must be in \["), (f"{fit.temp_min_c - 1:g}", r"--temp-c must be in \["),
           ("200", r"--temp-c.*must be in \[-55, 150\]"), ("nan", "--temp-c"), ("warm", "--temp-c")]  # fmt: skip
    out += [(f"{p.temp_c:g}", r"--temp-c must be in \[.*breaks down") for p in cal.leakage.cell.not_valid]
    if abs(_expected_lam(cal, fit.temp_max_c)) > 1.0:  # a leakage that outruns the decay inside the range
        out.append((f"{fit.temp_max_c:g}", r"--temp-c: at .* outside the model's range"))
    return out


def test_cli_temp_c_out_of_range_exits_2(cal, tmp_path):
    bad = _bad_temps(cal)
    for k, (value, message) in enumerate(bad):
        runs = [("train", "--model", "analog")] + ([("compare", "--quick", "--out", str(tmp_path / "r"))] if k in (0, len(bad) - 1) else [])
        for args in runs:
            proc = _cli(*args, "--temp-c", value, "--json")
            assert proc.returncode == 2, (value, args, proc.stderr)
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            assert re.search(message, proc.stderr), (value, proc.stderr)


def test_cli_compare_against_spice_runs_both_at_the_temperature(cal):
    """--temp-c with --against spice: the model's λ_o follows the law and the SPICE learner runs at T
    (its weights move against the calibration's temperature); outside the law: exit 2 before any run."""
    t = max(_inside(cal))
    base = ("compare", "--against", "spice", "--tech", "sky130", "--dim", "2", "--samples", "20", "--eta", "0.05", "--json")
    runs = {temp: _cli(*base, *(("--temp-c", f"{temp:g}") if temp != cal.provenance.temp_c else ()))
            for temp in (cal.provenance.temp_c, t)}  # fmt: skip
    for temp, proc in runs.items():
        assert proc.returncode == 0, proc.stderr
    out = {temp: json.loads(proc.stdout) for temp, proc in runs.items()}
    warm = out[t]["temperature"]
    assert warm["temp_c"] == pytest.approx(t) and warm["lam_offset"] == pytest.approx(_expected_lam(cal, t), rel=REL)
    w_cal, w_warm = (np.asarray(out[temp]["weights"]["spice"]) for temp in (cal.provenance.temp_c, t))
    assert not np.allclose(w_cal, w_warm, rtol=1e-3, atol=0), "the SPICE learner did not see the temperature"
    value, message = _bad_temps(cal)[0]
    proc = _cli(*base, "--temp-c", value)
    assert proc.returncode == 2 and re.search(message, proc.stderr), proc.stderr


@pytest.mark.parametrize("args", [("train", "--model", "ideal"), ("train", "--model", "continuous")])
def test_cli_temp_c_does_not_apply(args):
    proc = _cli(*args, "--temp-c", "27")
    assert proc.returncode == 2 and "--temp-c does not apply" in proc.stderr
