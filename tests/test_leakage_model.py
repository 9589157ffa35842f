"""The storage node's leakage in the calibration and its temperature shift of the model's λ offset.

Checks the shift against an independent computation (the circuit's own I_A from
``LearnerParams.i_a_a`` at T, the Arrhenius law written out), the identity at the calibration's
temperature, the range checks, old files without the section, the schema, and the CLI's ``--temp-c``.
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
    assert c.leakage is not None and c.leakage.arrhenius is not None, "the shipped calibration has a leakage fit"
    return c


@pytest.fixture(scope="module")
def model(cal):
    return LearnerModel.from_calibration(cal)


def _expected_lam(cal, temp_c: float) -> float:
    """λ_o(T) from the calibration's own numbers, written out independently of logdomain.leakage_shift."""
    fit = cal.leakage.arrhenius
    k_ev = BOLTZMANN_J_PER_K / ELEMENTARY_CHARGE_C
    t, t_cal = temp_c + 273.15, fit.t_ref_c + 273.15
    i_leak = fit.i_ref_a * math.exp(-fit.e_a_ev / k_ev * (1 / t - 1 / t_cal))
    i_a = cal.learner.params.replace(temp_c=temp_c).i_a_a  # I_A as the circuit sets it at T
    return cal.learner.nominal["lam_offset"] - (i_leak - fit.i_ref_a) / i_a


def _inside(cal) -> list[float]:
    """Temperatures inside the fit's range where the shifted λ_o stays in the model's [-1, 1]."""
    fit = cal.leakage.arrhenius
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
    """More leakage into V_C when warmer (E_a > 0) lowers λ_o; less when colder raises it."""
    fit = cal.leakage.arrhenius
    assert fit.e_a_ev > 0
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


def test_fit_reproduces_its_points_within_its_residual(cal):
    fit, points = cal.leakage.arrhenius, {p.temp_c: p for p in cal.leakage.points}
    resid = [math.log(points[t].i_leak_a) - math.log(fit.i_leak_a(t)) for t in fit.temps_c]
    assert math.sqrt(np.mean(np.square(resid))) == pytest.approx(fit.rms_ln_residual, rel=1e-9)
    assert fit.i_ref_a == pytest.approx(fit.i_leak_a(fit.t_ref_c), rel=REL)
    worst = max(abs(p.i_leak_a - fit.i_leak_a(p.temp_c)) / p.i_a_a for p in points.values()
                if fit.temp_min_c <= p.temp_c <= fit.temp_max_c)  # fmt: skip
    assert worst == pytest.approx(fit.max_lam_error, rel=1e-9)


def test_out_of_range_is_refused(cal, model):
    fit = cal.leakage.arrhenius
    for t in (fit.temp_max_c + 1.0, fit.temp_min_c - 1.0):
        with pytest.raises(ValueError, match=r"temp_c must be in \["):
            model.at_temperature(t)
    for p in cal.leakage.not_held:
        with pytest.raises(ValueError, match="cannot hold a weight"):
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


def _mutations():
    yield "nan e_a", lambda d: d["leakage"]["arrhenius"].update(e_a_ev=float("nan")), "ArrheniusFit.e_a_ev must be finite"
    yield "negative I_A", lambda d: d["leakage"]["points"][0].update(i_a_a=-1e-12), "LeakagePoint.i_a_a"
    yield "missing point", lambda d: d["leakage"]["points"].pop(0), "cover temps_c"
    yield "t_ref", lambda d: d["leakage"]["arrhenius"].update(t_ref_c=d["leakage"]["arrhenius"]["t_ref_c"] + 1), "t_ref_c"
    yield "cal temp", lambda d: d["leakage"].update(temp_cal_c=d["leakage"]["temp_cal_c"] + 1), "temp_cal_c"
    yield "unknown", lambda d: d["leakage"].update(extra=1), "unknown field"
    yield "points not list", lambda d: d["leakage"].update(points={}), "LeakageFit.points must be a list"


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


def test_cli_compare_reports_the_temperature(cal, tmp_path):
    t = min(_inside(cal))
    proc = _cli("compare", "--quick", "--temp-c", f"{t:g}", "--out", str(tmp_path / "r"), "--json")
    assert proc.returncode == 0, proc.stderr
    temp = json.loads(proc.stdout)["temperature"]
    assert temp["temp_c"] == pytest.approx(t) and temp["lam_offset"] == pytest.approx(_expected_lam(cal, t), rel=REL)
    report = (tmp_path / "r" / "report.md").read_text()
    assert f"Operating temperature {t:g} °C" in report and f"{temp['lam_offset']:.4g}" in report


def _bad_temps(cal) -> list[tuple[str, str]]:
    fit = cal.leakage.arrhenius
    out = [(f"{fit.temp_max_c + 1:g}", r"--temp-c must be in \["), (f"{fit.temp_min_c - 1:g}", r"--temp-c must be in \["),
           ("200", r"--temp-c.*must be in \[-55, 150\]"), ("nan", "--temp-c"), ("warm", "--temp-c")]  # fmt: skip
    out += [(f"{p.temp_c:g}", "cannot hold a weight") for p in cal.leakage.not_held]
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


@pytest.mark.parametrize("args", [("train", "--model", "ideal"), ("train", "--model", "continuous"),
                                  ("compare", "--against", "spice")])  # fmt: skip
def test_cli_temp_c_does_not_apply(args):
    proc = _cli(*args, "--temp-c", "27")
    assert proc.returncode == 2 and "--temp-c does not apply" in proc.stderr
