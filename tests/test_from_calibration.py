"""``AnalogModel.from_calibration``: every model field pinned to the calibration field it comes from.

Each input value is distinct and most carry a sign, so a swapped field, a dropped division by the
right unit current or a flipped sign (e.g. of the up/down asymmetry) changes a number here.
"""

from __future__ import annotations

import dataclasses

import pytest

from calibration.schema import BlockFit, Calibration, DeviceFit, MismatchFit, Provenance
from logdomain.analog import AnalogModel

BLOCKS = dict(
    multiplier_gain=1.07, multiplier_offset_a=-3e-12, multiplier_nonlinearity=-0.031, multiplier_rms_error=0.011,
    multiplier_i_unit_a=1.5e-9, i_unit_a=0.8e-9, tau_s=2e-3, tau_rel_error=-0.06, lam_eff=0.012, lam_design=0.008,
    leak_a=4e-13, update_asymmetry=-0.027, i_w_min_a=1e-12, i_w_max_a=2.4e-9, noise_rel=0.013, cell_rms_error=0.012,
)
GAIN_SIGMA = 0.041


def _calibration(**blocks: float) -> Calibration:
    dev = DeviceFit(i_spec_sq_a=2e-7, n=1.3, vt0_v=0.45, sigma_dibl=0.02, tcv_v_per_k=1e-3, bex=-1.5, rms_log_error=0.02)
    return Calibration(
        provenance=Provenance(technology="sky130", corner="tt", temp_c=27.0, ngspice_version="39", command="test",
                              created="2026-01-01"),
        devices={"n": dev, "p": dev}, blocks=BlockFit(**{**BLOCKS, **blocks}),
        mismatch=MismatchFit(a_vt_n_v_m=5e-9, a_vt_p_v_m=6e-9, device_w_m=4e-6, device_l_m=4e-6,
                             gain_sigma=GAIN_SIGMA, samples=100),
    )  # fmt: skip


#: model field → its value from BLOCKS / GAIN_SIGMA (module docstring of logdomain.analog)
EXPECTED = {
    "multiplier_gain": 1.07,
    "offset": -3e-12 / 1.5e-9,  # by the multiplier's unit current, not the cell's
    "nonlinearity": -0.031,
    "tau_scale": 1.0 - 0.06,
    "lam_scale": 0.012 / 0.008,
    "leak": 0.0,  # the cell leak cancels in w = w⁺ − w⁻: deliberately not mapped
    "asymmetry": -0.027,  # same sign: (r_up − r_down)/(r_up + r_down) > 0 means faster increases
    "w_max": 2.4e-9 / 0.8e-9,  # by the cell's unit current
    "gain_sigma": GAIN_SIGMA,
    "noise_rel": 0.013,
    "bits": 9,
}


def test_every_field_of_the_model_is_pinned():
    assert sorted(EXPECTED) == sorted(f.name for f in dataclasses.fields(AnalogModel))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_field_mapping(name):
    model = AnalogModel.from_calibration(_calibration(), bits=9)
    assert getattr(model, name) == pytest.approx(EXPECTED[name], rel=1e-12, abs=0), name


@pytest.mark.parametrize("asymmetry", [-0.2, 0.0, 0.35])
def test_asymmetry_keeps_its_sign(asymmetry):
    assert AnalogModel.from_calibration(_calibration(update_asymmetry=asymmetry)).asymmetry == asymmetry


def test_lam_design_override_and_default_bits():
    model = AnalogModel.from_calibration(_calibration(), lam_design=0.004)
    assert model.lam_scale == pytest.approx(0.012 / 0.004, rel=1e-12)
    assert model.bits is None
