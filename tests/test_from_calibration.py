"""``LearnerModel.from_calibration``: every model field pinned to the calibration field it comes from.

The shipped calibration is edited so that each source value is distinct (and the design departs from
the defaults), so a swapped field, a dropped division by I_u or a missed key changes a number here.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from calibration.schema import Calibration, default_calibration_path
from logdomain.learner_model import NOMINAL_FIELDS, LearnerModel
from netlists.spice_learner_circuit import SIZE_GROUPS

I_U = 1.2e-10
DESIGN = dict(i_u_a=I_U, i_floor_a=1.3e-11, i_err_floor_a=2.5e-12, i_err_min_a=5.5e-12, i_cm_a=8.5e-11, cm_gain=0.45,
              i_w0_a=4.5e-11, x_scale=0.9, w_scale=2.5, chop="off", temp_c=31.0, w_e_m=18e-6, l_e_m=7e-6,
              w_zc_m=3e-6, l_zc_m=5e-6)  # fmt: skip
NOMINAL = {key: 1.0 + 0.01 * (k + 1) for k, key in enumerate(sorted(NOMINAL_FIELDS)) if key != "lam_offset"} | {"lam_offset": -0.004}
A_VT = {"n": 4.1e-9, "p": 5.7e-9}
CM_GAIN_RATIO, CM_SET_RATIO = 1.7, 0.93  # the common-mode loop as its bench measured it
SLOPE = {"n": 1.41, "p": 1.29}
NOISE_REL = 0.0042  # the cell's measured noise per update (blocks.noise_rel)
#: the leakage section's law of the working cell's λ_o(T) (calibration.leakage, ``leakage.cell.law``), distinct values
LEAK_FIT = dict(i_ref_a=5.5e-14, e_a_ev=0.81, temp_min_c=-10.0, temp_max_c=70.0)


def _calibration() -> Calibration:
    data = json.loads(default_calibration_path().read_text())
    data["learner"]["design"].update(DESIGN)
    data["learner"]["nominal"].update(NOMINAL)
    data["learner"]["diagnostics"].update(cm_gain_ratio=CM_GAIN_RATIO, cm_set_ratio=CM_SET_RATIO)
    data["mismatch"].update(a_vt_n_v_m=A_VT["n"], a_vt_p_v_m=A_VT["p"])
    for pol in ("n", "p"):
        data["devices"][pol]["n"] = SLOPE[pol]
    data["blocks"]["noise_rel"] = NOISE_REL
    data["leakage"]["cell"]["law"].update(LEAK_FIT)  # the model's λ_o(T_cal) is learner.nominal's (pinned below)
    return Calibration.from_dict(data)


#: model field → the value it must take from the edited calibration
EXPECTED = {
    "x_floor": 1.3e-11 / I_U,
    "err_floor": 2.5e-12 / I_U,
    "err_min": 5.5e-12 / I_U,
    "cm_set": 8.5e-11 / I_U * CM_SET_RATIO,  # realised S₀ and β, not the drawn ones
    "cm_gain": 0.45 * CM_GAIN_RATIO,
    "w_init": 4.5e-11 / I_U,
    "x_scale": 0.9,
    "w_scale": 2.5,
    "chop": False,
    "temp_c": 31.0,
    "bits": 9,
    "noise_rel": NOISE_REL,
}


@pytest.fixture(scope="module")
def model() -> LearnerModel:
    return LearnerModel.from_calibration(_calibration(), bits=9)


def test_every_field_of_the_model_is_pinned():
    pinned = set(EXPECTED) | {"nominal", "sizes_m", "a_vt_v_m", "slope_factor", "mismatch_groups", "leakage"}
    assert pinned == {f.name for f in dataclasses.fields(LearnerModel)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_design_field_mapping(model, name):
    assert getattr(model, name) == pytest.approx(EXPECTED[name], rel=1e-12, abs=0), name


@pytest.mark.parametrize("key", sorted(NOMINAL))
def test_every_fitted_gain_reaches_the_model(model, key):
    assert model.nominal[key] == pytest.approx(NOMINAL[key], rel=1e-12), key


def test_leakage_reaches_the_model(model):
    """The temperature shift's data: the working cell's λ_o(T) law and the design's C, κ, τ (logdomain.leakage_shift)."""
    from netlists.spice_learner_circuit import LearnerParams

    cal = _calibration()
    p = LearnerParams(**cal.learner.design)
    s = model.leakage
    assert s.temp_cal_c == pytest.approx(cal.leakage.temp_cal_c) and s.lam_offset_cal == pytest.approx(NOMINAL["lam_offset"], rel=1e-12)
    for key, value in LEAK_FIT.items():
        assert getattr(s, key) == pytest.approx(value, rel=1e-12), key
    assert (s.c_f, s.kappa, s.tau_s) == pytest.approx((p.c_f, p.kappa, p.tau_circuit_s), rel=1e-12)
    assert s.not_held == tuple((q.temp_c, q.reason) for q in cal.leakage.cell.not_valid)


def test_mismatch_and_slope_factor_per_polarity(model):
    assert dict(model.a_vt_v_m) == pytest.approx(A_VT, rel=1e-12)
    assert dict(model.slope_factor) == pytest.approx(SLOPE, rel=1e-12)
    assert model.mismatch_groups is None and model.mismatch_on  # every group, as the PDK has it


def test_sizes_come_from_the_design(model):
    assert set(SIZE_GROUPS) <= set(model.sizes_m)
    assert model.sizes_m["e"] == pytest.approx((18e-6, 7e-6))
    # the CM copy scales by β: its device is (W_zc/β, L_zc)
    assert model.sizes_m["zcd"] == pytest.approx((3e-6 / 0.45, 5e-6))


def test_default_bits_and_schema_one_refused():
    assert LearnerModel.from_calibration(_calibration()).bits is None
    old = dataclasses.replace(_calibration(), learner=None)
    with pytest.raises(ValueError, match="no learner section.*logdomain calibrate"):
        LearnerModel.from_calibration(old)
