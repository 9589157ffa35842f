"""The learner's block fits: each gain's definition pinned to the behavioural model, the fitters
recovering known gains, SPICE fits on ekv and sky130, and the calibration file's ``learner`` section.

The behavioural model (``logdomain``) is imported inside the tests that compare with it only:
calibration never imports logdomain.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from calibration import CalibrationError, default_calibration_path, load_calibration
from calibration.learner_benches import PAIR_OFFSET, CellStimulus, cell_steps, cell_stream
from calibration.learner_law import (CELL_FREE, ERROR_FREE, IDEAL, NOMINAL_KEYS, CellRun, cell_rate, cell_response,
                                     error_split, fit_cell_law, fit_error_gains, forward_gain)  # fmt: skip
from calibration.schema import LEARNER_NOMINAL_RANGES, Calibration
from netlists.spice_learner_circuit import LearnerParams

#: distinct, non-ideal gains: a gain used in the wrong place (or two swapped) changes a number below
DISTINCT = {"rate_scale": 1.07, "term_gain": 0.93, "z_gain": 1.12, "fwd_gain": 1.05, "target_gain": 0.96,
            "err_gain_a": 1.04, "err_gain_b": 0.91, "e_plus_gain": 1.06, "e_minus_gain": 0.95, "lam_offset": -0.02,
            "ab_floor_gain": 1.3}  # fmt: skip


# -- the calibration's definitions are the model's ---------------------------------------------------


def test_every_model_gain_is_fitted():
    from logdomain.learner_model import NOMINAL_FIELDS

    assert set(NOMINAL_FIELDS) <= set(NOMINAL_KEYS)
    assert set(NOMINAL_KEYS) - set(NOMINAL_FIELDS) <= {"ab_floor_gain"}  # fitted here, new to the model
    assert {k: IDEAL[k] for k in NOMINAL_FIELDS} == dict(NOMINAL_FIELDS)  # same ideal values


def _reference_holds(p: LearnerParams, gains: dict, x: np.ndarray, y: np.ndarray, eta: float, lam: float) -> np.ndarray:
    """W (D, 2) after the stream, from the calibration's block laws integrated to 1e-12 (chopped)."""
    iu = p.i_u_a
    fx, fe, f2, s0 = p.i_floor_a / iu, p.i_err_floor_a / iu, p.i_err_min_a / iu, p.i_cm_a / iu
    lam_c, dim = lam / p.x_scale**2, x.shape[1]
    w = np.full(2 * dim, p.i_w0_a / iu)
    for k in range(len(y)):
        s = -1.0 if k % 2 else 1.0
        xt, yt = s * x[k] / p.x_scale, s * y[k] / (p.x_scale * p.w_scale)
        xp, xm, yp, ym = fx + np.maximum(xt, 0), fx + np.maximum(-xt, 0), fx + max(yt, 0), fx + max(-yt, 0)

        def rhs(_t, flat):
            wp, wm = flat[:dim], flat[dim:]
            big_p = gains["fwd_gain"] * np.sum(wp * xp + wm * xm)
            big_q = gains["fwd_gain"] * np.sum(wp * xm + wm * xp)
            _, ep, em = error_split(gains["target_gain"] * yp + big_q, gains["target_gain"] * ym + big_p, gains, fe, f2)
            z = p.cm_gain * np.maximum(wp + wm - s0, 0.0)
            return np.concatenate([cell_rate(wp, ep * xp + em * xm, z, lam_c, gains),
                                   cell_rate(wm, ep * xm + em * xp, z, lam_c, gains)])  # fmt: skip

        w = solve_ivp(rhs, (0.0, eta * p.x_scale**2), w, method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1]
    return np.stack([w[:dim], w[dim:]], axis=1)


#: Heun with 1000 substeps per hold against the 1e-12 reference: measured 1e-9 (400 substeps: 6e-9), units of I_u
KERNEL_AGREEMENT = 1e-8


@pytest.fixture(scope="module")
def kernel_case():
    from logdomain.learner_model import NOMINAL_FIELDS, LearnerModel
    from logdomain.learner_sim import sgdr_learner

    p = LearnerParams.for_technology("sky130")
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, 4)
    eta, lam = 0.2, 1e-3
    fields = {k: v for k, v in DISTINCT.items() if k in NOMINAL_FIELDS}
    model = LearnerModel.from_learner_params(p, nominal=fields)
    state = sgdr_learner(x, y, model, eta, lam, substeps=1000, backend="numpy").state[0]
    base = {**IDEAL, **fields}  # a gain the model does not have yet stays ideal in the reference
    return p, x, y, eta, lam, base, state


def test_model_kernel_follows_the_calibration_laws(kernel_case):
    p, x, y, eta, lam, gains, state = kernel_case
    np.testing.assert_allclose(state, _reference_holds(p, gains, x, y, eta, lam), rtol=0, atol=KERNEL_AGREEMENT)


def _moved(gains: dict, key: str) -> dict:
    """``gains`` with ``key`` moved (and err_gain_a/err_gain_b swapped when key is one of them)."""
    out = dict(gains)
    if key in ("err_gain_a", "err_gain_b"):
        out["err_gain_a"], out["err_gain_b"] = gains["err_gain_b"], gains["err_gain_a"]
    else:
        out[key] = gains[key] + (0.02 if key == "lam_offset" else 0.05)
    return out


@pytest.mark.parametrize("key", [k for k in NOMINAL_KEYS if k != "ab_floor_gain"])
def test_each_gain_is_pinned_to_its_place(kernel_case, key):
    """The reference with one gain moved (or err_gain_a/err_gain_b swapped) no longer matches the
    model: the agreement above holds for each gain in its own place only."""
    p, x, y, eta, lam, gains, state = kernel_case
    moved = _reference_holds(p, _moved(gains, key), x, y, eta, lam)
    assert np.max(np.abs(moved - state)) > 100 * KERNEL_AGREEMENT, key


def test_ab_floor_gain_place_in_the_model():
    """φ multiplies f_e² inside the square root (the model's ``floor2``): e⁺e⁻ = c⁺c⁻·φ·f_e² at f₂ = 0."""
    from logdomain.learner_model import NOMINAL_FIELDS

    e_a, e_b = np.linspace(0.5, 1.5, 7), np.full(7, 1.0)
    g = {**IDEAL, "ab_floor_gain": 1.3, "e_plus_gain": 1.06, "e_minus_gain": 0.95}
    _, ep, em = error_split(e_a, e_b, g, 0.02, 0.0)
    np.testing.assert_allclose(ep * em, 1.06 * 0.95 * 1.3 * 0.02**2, rtol=1e-12)
    if "ab_floor_gain" in NOMINAL_FIELDS:  # once the model takes it, it must sit where the kernel's floor2 is
        from logdomain.learner_model import LearnerModel

        dies = LearnerModel(nominal={"ab_floor_gain": 1.3}).sample_dies(1, 1, 0)
        assert dies.floor2[0] == pytest.approx(1.3)


# -- the fitters recover known gains -------------------------------------------------------------------


def test_forward_gain_recovers_a_known_gain():
    rng = np.random.default_rng(1)
    w, x = rng.uniform(0.2, 0.8, 50), rng.uniform(0.1, 1.1, 50)
    assert forward_gain(w, x, 1.043 * w * x) == pytest.approx((1.043, 0.0), rel=1e-12, abs=1e-12)
    g, spread = forward_gain(w, x, 1.043 * w * x * (1 + 0.01 * np.sign(x - 0.6)))
    assert spread == pytest.approx(0.01, rel=0.05)


def test_error_fit_recovers_known_gains_and_tells_a_from_b():
    e_b = np.repeat([0.8, 1.2, 1.7], 13)
    e_a = e_b + np.tile(np.linspace(-0.6, 0.6, 13), 3)
    truth = {**IDEAL, **{k: DISTINCT[k] for k in ERROR_FREE}, "err_gain_a": 1.0}
    _, ep, em = error_split(e_a, e_b, truth, 0.02, 0.04)
    gains, rms = fit_error_gains(np.stack([e_a, e_b, ep, em], axis=1), 0.02, 0.04)
    assert rms < 1e-10
    for key in ERROR_FREE:
        assert gains[key] == pytest.approx(truth[key], rel=1e-7), key
    assert gains["err_gain_b"] == pytest.approx(0.91, rel=1e-7)  # not 1/0.91: E = E_a − g_b·E_b


def _synthetic_cell_runs(p: LearnerParams, gains: dict, lag: float = 0.0) -> tuple[list[CellRun], float]:
    h, lam = p.t_hold_s / p.tau_circuit_s, p.lam_circuit
    up, _ = cell_steps(p, 60)
    stream = cell_stream(p, 200, 1)
    runs = [(up, float(up.drive[0] - up.z[0]), 1.0), (stream.stim, stream.w0, lam), (stream.stim, stream.w0 + PAIR_OFFSET, lam)]
    return [CellRun(s, lc, cell_response(s, w0, h, lc, gains, lag)) for s, w0, lc in runs], h


def test_cell_fit_recovers_known_gains():
    p = LearnerParams.for_technology("sky130")
    truth = {**IDEAL, **{k: DISTINCT[k] for k in CELL_FREE}}
    runs, h = _synthetic_cell_runs(p, truth)
    fitted, rms = fit_cell_law(runs, h)
    assert rms < 1e-10
    for key in CELL_FREE:
        assert fitted[key] == pytest.approx(truth[key], rel=1e-6, abs=1e-8), key


def test_cell_fit_with_lag_recovers_the_lag():
    p = LearnerParams.for_technology("sky130")
    truth = {**IDEAL, **{k: DISTINCT[k] for k in CELL_FREE}}
    runs, h = _synthetic_cell_runs(p, truth, lag=0.06)
    fitted, rms = fit_cell_law(runs, h, CELL_FREE + ("lag",))
    assert rms < 1e-9 and fitted["lag"] == pytest.approx(0.06, rel=1e-5)
    assert fitted["term_gain"] == pytest.approx(truth["term_gain"], rel=1e-6)


def test_cell_response_is_the_exact_solution_of_the_cell_rate():
    stim = CellStimulus(e_plus=np.array([0.3, 0.5]), e_minus=np.array([0.06, 0.1]), x_a=np.array([0.6, 0.2]),
                        x_b=np.array([0.1, 0.9]), z=np.array([0.15, 0.2]))  # fmt: skip
    g, h, lam = {**IDEAL, **DISTINCT}, 0.05, 1e-3
    w = [0.5]
    for k in range(2):
        sol = solve_ivp(lambda _t, v: cell_rate(v, stim.drive[k], stim.z[k], lam, g), (0, h), [w[-1]], rtol=1e-12, atol=1e-14)
        w.append(float(sol.y[0, -1]))
    np.testing.assert_allclose(cell_response(stim, 0.5, h, lam, g), w, rtol=0, atol=1e-12)


# -- the calibration file's learner section -------------------------------------------------------------


def _shipped() -> dict:
    return json.loads(default_calibration_path().read_text())


def test_shipped_file_has_a_learner_section_that_round_trips(tmp_path):
    cal = load_calibration(default_calibration_path())
    assert cal.schema_version == 2 and cal.learner is not None
    assert sorted(cal.learner.nominal) == sorted(LEARNER_NOMINAL_RANGES) == sorted(NOMINAL_KEYS)
    assert cal.learner.params == LearnerParams(**cal.learner.design)
    again = load_calibration(cal.save(tmp_path / "again.json"))
    assert again.to_dict() == cal.to_dict()
    assert json.loads((tmp_path / "again.json").read_text()) == _shipped()


def test_version_1_file_is_refused_with_the_command_that_regenerates_it(tmp_path):
    data = _shipped()
    data["schema_version"] = 1
    data.pop("learner")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match=r"old\.json: schema_version 1 is an older calibration format") as info:
        load_calibration(path)
    assert f"regenerate the file with `{data['provenance']['command']}`" in str(info.value)
    data["provenance"]["command"] = "rm -rf / ; logdomain calibrate"  # an odd command is not repeated
    path.write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match=r"`logdomain calibrate --tech TECH \[--corner C\] \[--temp-c X\] --out FILE.json`"):
        load_calibration(path)


def _learner_mutations():
    yield "missing section", lambda d: d.pop("learner"), "missing field.*learner"
    yield "section not object", lambda d: d.update(learner=[1]), "learner must be an object"
    yield "missing nominal", lambda d: d["learner"].pop("nominal"), "learner is missing field.*nominal"
    yield "unknown field", lambda d: d["learner"].update(extra=1), "learner has unknown field.*extra"
    yield "nominal key missing", lambda d: d["learner"]["nominal"].pop("term_gain"), "missing term_gain"
    yield "nominal key unknown", lambda d: d["learner"]["nominal"].update(gain_x=1.0), "unknown gain_x"
    yield "gain too small", lambda d: d["learner"]["nominal"].update(fwd_gain=0.05), r"nominal\['fwd_gain'\] must be in \[0.1, 10\]"
    yield "offset too large", lambda d: d["learner"]["nominal"].update(lam_offset=1.5), r"nominal\['lam_offset'\] must be in \[-1, 1\]"
    yield "gain not a number", lambda d: d["learner"]["nominal"].update(z_gain="1"), r"nominal\['z_gain'\] must be a number"
    yield "gain nan", lambda d: d["learner"]["nominal"].update(z_gain=float("nan")), "must be finite"
    yield "bad design field", lambda d: d["learner"]["design"].update(w_q_m=-1.0), "design is not a valid LearnerParams.*w_q_m"
    yield "unknown design field", lambda d: d["learner"]["design"].update(w_zz_m=1e-6), "design is not a valid LearnerParams"
    yield "eta mismatch", lambda d: d["learner"].update(eta_design=0.1), r"eta_design must equal design\['eta'\]"
    yield "negative rms", lambda d: d["learner"]["validation_rms"].update(cell_stream=-0.1), r"validation_rms\['cell_stream'\]"
    yield "bad diagnostic key", lambda d: d["learner"]["diagnostics"].update({"a b": 1.0}), "bad key"
    yield "notes not text", lambda d: d["learner"].update(notes=3), "notes must be a string"


@pytest.mark.parametrize("label,mutate,message", list(_learner_mutations()), ids=[m[0] for m in _learner_mutations()])
def test_bad_learner_sections_name_what_is_wrong(tmp_path, label, mutate, message):
    data = _shipped()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match=message):
        load_calibration(path)


def _nominal_edges():
    for key, (lo, hi) in LEARNER_NOMINAL_RANGES.items():
        yield key, lo, True
        yield key, hi, True
        yield key, math.nextafter(lo, -math.inf), False
        yield key, math.nextafter(hi, math.inf), False


@pytest.mark.parametrize("key, value, accepted", list(_nominal_edges()))
def test_nominal_ranges_agree_with_the_model(key, value, accepted):
    """What the schema accepts the model accepts (its checks: gains in [0.1, 10], λ_o in [−1, 1])."""
    from logdomain.learner_model import NOMINAL_FIELDS, LearnerModel

    data = _shipped()
    data["learner"]["nominal"][key] = value
    if not accepted:
        with pytest.raises(CalibrationError, match=key):
            Calibration.from_dict(data)
        return
    learner = Calibration.from_dict(data).learner
    if key in NOMINAL_FIELDS:
        LearnerModel.from_learner_params(learner.params, nominal={k: v for k, v in learner.nominal.items() if k in NOMINAL_FIELDS})


# -- SPICE: the golden ekv technology --------------------------------------------------------------------

#: the learner's cell mirror at sizes that keep it saturated on ekv (V_T0 = 0.5 V): the pre-v2 ekv
#: defaults. With the sky130 sizes (8/8 µm) mpa–mpc sit at V_DS ≈ 2.5 U_T on ekv and the benches say so.
EKV_MIRROR = {"w_p_m": 0.25e-6, "l_p_m": 6e-6}
#: the ekv card with C_ox/10 and μ×10: the same currents, a tenth of the device capacitances
EKV_LOW_CAP = 10.0


def _ekv(cap_factor: float = 1.0):
    import dataclasses

    from netlists.technologies.ekv import NMOS_CARD, PMOS_CARD, EkvTechnology

    cards = [dataclasses.replace(c, cox_f_per_m2=c.cox_f_per_m2 / cap_factor, mobility_m2_per_vs=c.mobility_m2_per_vs * cap_factor)
             for c in (NMOS_CARD, PMOS_CARD)]  # fmt: skip
    return EkvTechnology(*cards)


@pytest.fixture(scope="module")
def ekv_fits(simulator):
    from calibration.learner_fit import fit_learner

    params = LearnerParams.for_technology("ekv", **EKV_MIRROR)
    return {label: fit_learner(_ekv(factor), quick=True, simulator=simulator, params=params)
            for label, factor in (("ekv", 1.0), ("low_cap", EKV_LOW_CAP))}  # fmt: skip


@pytest.mark.parametrize("label", ["ekv", "low_cap"])
def test_ekv_static_gains_are_ideal(ekv_fits, label):
    """Products, targets and the error path on the ideal EKV card: within 0.5 % of 1 (measured ≤ 0.35 %:
    no DIBL; what is left is the EKV interpolation's moderate-inversion term, ~√IC ≈ 1 % of the log
    slope at IC ~ 1e-4, and reverse currents e^{−V_DS/U_T} of devices at 5–6 U_T), φ within 1 %
    (measured 0.7 %); every bench device weak and saturated."""
    fit = ekv_fits[label]
    assert all(not names for names in fit.violations.values()), fit.violations
    for key in ("fwd_gain", "target_gain", "err_gain_b", "e_plus_gain", "e_minus_gain"):
        assert fit.nominal[key] == pytest.approx(1.0, abs=0.005), key
    assert fit.nominal["ab_floor_gain"] == pytest.approx(1.0, abs=0.01)
    assert fit.nominal["err_gain_a"] == 1.0 and fit.diagnostics["x_copy_gain"] == pytest.approx(1.0, abs=0.005)
    assert fit.diagnostics["cm_gain_ratio"] == pytest.approx(1.0, abs=0.005)  # equal-width devices: β as designed
    assert fit.validation_rms["error_path"] < 0.002  # measured 0.0011


def test_ekv_cell_is_ideal_without_device_capacitance(ekv_fits):
    """With a tenth of the device capacitances the cell law holds: rate, term and sink gains within
    1.5 % of 1 and λ_o within ±1e-3 (measured 0.9998, 0.998, 0.991, 1.3e-4), the held-out stream
    within 0.002 I_u (measured 0.001). The fitters recover the ideal cell from SPICE."""
    fit = ekv_fits["low_cap"]
    for key in ("rate_scale", "term_gain", "z_gain"):
        assert fit.nominal[key] == pytest.approx(1.0, abs=0.015), key
    assert abs(fit.nominal["lam_offset"]) < 1e-3
    assert fit.validation_rms["cell_stream"] < 0.002 and fit.validation_rms["cell_step"] < 0.001


def test_ekv_cell_departs_from_ideal_by_its_device_capacitance(ekv_fits):
    """On the EKV card itself (C_gs = C_gd = ½C_ox·W·L, constant) the five gates on the state node
    (mw, m1 and the three loads) add up to 5·C_ox·W·L to C, so τ is longer: rate_scale lies between
    C/(C + 5·C_ox·W·L) and 1 (measured 0.963, bound 0.950); the pA-level mirror's capacitance delays
    and rectifies the drive (measured lag 1.7 holds): term and sink gains within 5 % of 1 (measured
    −1 % in quick, −4 % in full mode), λ_o within ±2e-3 (measured −1.1e-3). The model with these
    gains still reproduces the held-out stream within 0.01 I_u (measured 0.0075)."""
    fit = ekv_fits["ekv"]
    p = fit.params
    c_gates = 5 * _ekv().card("n").cox_f_per_m2 * p.w_out_m * p.l_out_m
    assert p.c_f / (p.c_f + c_gates) < fit.nominal["rate_scale"] < 1.0
    for key in ("term_gain", "z_gain"):
        assert fit.nominal[key] == pytest.approx(1.0, abs=0.05), key
    assert abs(fit.nominal["lam_offset"]) < 2e-3
    assert fit.validation_rms["cell_stream"] < 0.01 and fit.validation_rms["cell_step"] < 0.005
