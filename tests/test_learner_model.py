"""The behavioural model of the learner as built (logdomain.learner_model / learner_sim)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from logdomain import _learner_kernel as kernel
from logdomain.ideal import sgdr_continuous_zoh
from logdomain.learner_model import DEVICE_ROLES, MISMATCH_GROUPS, NOMINAL_FIELDS, LearnerModel
from logdomain.learner_sim import readout, sgdr_learner
from logdomain.tasks import synthetic_regression
from netlists.spice_learner_circuit import LearnerParams

A_VT = {"n": 4.49e-9, "p": 5.25e-9}
SLOPE = {"n": 1.44, "p": 1.29}


@pytest.fixture(scope="module")
def stream():
    task = synthetic_regression(dim=3, samples=300, noise_std=0.05, seed=2, test_fraction=0.2)
    return task.x_train, task.y_train


@pytest.fixture(scope="module")
def design() -> LearnerModel:
    return LearnerModel.from_learner_params(LearnerParams.for_technology("sky130", dim=3))


@pytest.fixture(scope="module")
def mismatched(design) -> LearnerModel:
    return design.replace(a_vt_v_m=A_VT, slope_factor=SLOPE)


@pytest.mark.parametrize("eta", [0.02, 0.05, 0.3])
def test_ideal_gains_give_the_exact_zoh_flow(stream, design, eta):
    """With every gain ideal the W⁺ − W⁻ dynamics are the ZOH SGDr flow (floors, CM feedback and
    chopping cancel exactly); the Heun integration error is what remains (global, O(h²): measured
    5e-5 of max|w| at η = 0.02 mid-way through learning, 3e-6 once converged at η = 0.05)."""
    x, y = stream
    w_id = sgdr_continuous_zoh(x, y, 1.0, eta, 1e-3)
    run = sgdr_learner(x, y, design, eta, 1e-3, backend="numpy")
    assert np.max(np.abs(run.weights[0] - w_id)) < 1e-4 * np.max(np.abs(w_id))


def test_integration_error_shrinks_with_substeps(stream, design):
    x, y = stream
    w_id = sgdr_continuous_zoh(x, y, 1.0, 0.05, 1e-3)
    errors = [np.max(np.abs(sgdr_learner(x, y, design, 0.05, 1e-3, substeps=s).weights[0] - w_id)) for s in (1, 2, 4)]
    assert errors[2] < errors[1] < errors[0]
    assert errors[0] / errors[2] > 8  # second order: 16 ideally


def test_chopping_does_not_change_the_ideal_learner(stream, design):
    x, y = stream
    on = sgdr_learner(x, y, design, 0.05, 1e-3).weights
    off = sgdr_learner(x, y, design.replace(chop=False), 0.05, 1e-3).weights
    np.testing.assert_allclose(on, off, rtol=0, atol=1e-9)


@pytest.mark.skipif(not kernel.numba_available, reason="numba not installed")
def test_numba_and_numpy_agree(stream, mismatched):
    x, y = stream
    a = sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=16, seed=4, backend="numpy", record_every=25)
    b = sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=16, seed=4, backend="numba", record_every=25)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-12)  # numba reassociates the sums (fastmath)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-12)


@pytest.mark.skipif(not kernel.numba_available, reason="numba not installed")
def test_float32_rounding_is_small(stream, mismatched):
    x, y = stream
    a = sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=8, seed=1, backend="numba")
    b = sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=8, seed=1, backend="numba", dtype=np.float32)
    assert np.max(np.abs(a.weights - b.weights)) < 1e-4


def test_chunks_continue_state_and_chopping(stream, mismatched):
    x, y = stream
    whole = sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=4, seed=3)
    half = len(y) // 2 + 1  # odd split: the second chunk must start on the other chopping sign
    first = sgdr_learner(x[:half], y[:half], mismatched, 0.05, 1e-3, dies=4, seed=3)
    second = sgdr_learner(x[half:], y[half:], mismatched, 0.05, 1e-3, dies=4, seed=3, state0=first.state, first_hold=half)
    np.testing.assert_allclose(second.weights, whole.weights, rtol=0, atol=1e-12)


def test_mismatch_spreads_dies_and_off_switch_removes_it(stream, mismatched):
    x, y = stream
    spread = sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=32, seed=0).weights
    assert np.all(np.std(spread, axis=0) > 1e-3)
    none = sgdr_learner(x, y, mismatched.replace(mismatch_groups=()), 0.05, 1e-3, dies=4, seed=0).weights
    assert np.max(np.std(none, axis=0)) < 1e-12


@pytest.mark.parametrize("group", list(MISMATCH_GROUPS))
def test_each_mismatch_group_moves_the_weights(stream, mismatched, group):
    x, y = stream
    w = sgdr_learner(x, y, mismatched.replace(mismatch_groups=(group,)), 0.05, 1e-3, dies=16, seed=0).weights
    assert np.max(np.std(w, axis=0)) > 1e-5, f"{group} has no effect"


def test_sampled_gain_spread_follows_pelgrom(mismatched):
    """ln(x copy / x diode) of the update path has σ² = 2σ²(xp) (two devices of one size)."""
    gains = mismatched.sample_dies(4000, 3, 0)
    sigma = mismatched.sigma("mxd")
    measured = np.std(np.log(gains.upd_x))
    assert measured == pytest.approx(math.sqrt(2) * sigma, rel=0.05)
    w, l = mismatched.sizes_m["xp"]
    ut = 8.617333262e-5 * 300.15
    assert sigma == pytest.approx(A_VT["p"] / math.sqrt(w * l) / (SLOPE["p"] * ut), rel=1e-9)


def test_readout_is_the_chopped_average_of_the_prediction_slopes(mismatched):
    gains = mismatched.sample_dies(2, 2, 5)
    W = np.array([[[0.6, 0.3], [0.2, 0.5]], [[0.4, 0.4], [0.9, 0.1]]])
    eff, pos, neg, off = readout(mismatched, gains, W)
    h = gains.fwd
    expect_pos = mismatched.w_scale * (h[:, :, 0, 0] * W[..., 0] - h[:, :, 1, 0] * W[..., 1])
    expect_neg = mismatched.w_scale * (h[:, :, 0, 1] * W[..., 0] - h[:, :, 1, 1] * W[..., 1])
    np.testing.assert_allclose(pos, expect_pos)
    np.testing.assert_allclose(neg, expect_neg)
    np.testing.assert_allclose(eff, 0.5 * (expect_pos + expect_neg))
    assert np.all(off == 0)  # chopping cancels the offset


def test_nominal_gains_enter_the_dynamics(stream, design):
    """Every nominal gain moves the learned weights, except two that cancel in w = W⁺ − W⁻ while the
    halves are balanced: the common-mode sink's (it removes the same current from both halves; it
    moves W⁺ + W⁻) and the class-AB floor's (e⁺ − e⁻ = E whatever φ; it matters once e⁺ and e⁻
    reach the cells with different gains)."""
    x, y = stream
    base = sgdr_learner(x, y, design, 0.05, 1e-3)
    skewed = design.replace(nominal={"e_plus_gain": 1.1})
    for key in NOMINAL_FIELDS:
        value = 0.02 if key == "lam_offset" else 1.2
        changed = sgdr_learner(x, y, design.replace(nominal={key: value}), 0.05, 1e-3)
        moved = np.max(np.abs(changed.weights - base.weights))
        if key == "z_gain":
            assert moved < 1e-12
            assert np.max(np.abs(changed.state.sum(-1) - base.state.sum(-1))) > 1e-3
        elif key == "ab_floor_gain":
            assert moved < 1e-12
            ref = sgdr_learner(x, y, skewed, 0.05, 1e-3).weights
            both = sgdr_learner(x, y, skewed.replace(nominal={"e_plus_gain": 1.1, key: 2.0}), 0.05, 1e-3).weights
            assert np.max(np.abs(both - ref)) > 1e-4
        else:
            assert moved > 1e-4, f"nominal {key} has no effect"


def test_every_device_role_has_a_size_group():
    groups = set(LearnerParams.for_technology("sky130").as_dict())
    for role, (pol, group) in DEVICE_ROLES.items():
        assert pol in ("n", "p")
        assert group == "zcd" or f"w_{group}_m" in groups, role
    assert {r for roles in MISMATCH_GROUPS.values() for r in roles} == set(DEVICE_ROLES)


@pytest.mark.parametrize(
    "change, message",
    [({"x_floor": -1.0}, "x_floor"), ({"cm_gain": math.nan}, "cm_gain"), ({"chop": 1}, "chop"),
     ({"nominal": {"bogus": 1.0}}, "unknown keys"), ({"nominal": {"fwd_gain": 20.0}}, "fwd_gain"),
     ({"mismatch_groups": ("nope",)}, "unknown groups"), ({"bits": 0}, "bits"),
     ({"a_vt_v_m": {"n": -1.0, "p": 0.0}}, "a_vt_v_m")],
)  # fmt: skip
def test_bad_model_values_are_named(design, change, message):
    with pytest.raises(ValueError, match=message):
        design.replace(**change)


@pytest.mark.parametrize("kw, message", [({"eta": 0.0}, "eta"), ({"lam": -1.0}, "lam"), ({"dies": 0}, "dies"),
                                         ({"backend": "gpu"}, "backend"), ({"state0": np.zeros((1, 3, 2))}, "state0")])
def test_bad_run_arguments_are_named(stream, design, kw, message):
    x, y = stream
    args = {"eta": 0.05, "lam": 1e-3, **kw}
    eta, lam = args.pop("eta"), args.pop("lam")
    with pytest.raises(ValueError, match=message):
        sgdr_learner(x, y, design, eta, lam, **args)


# -- warnings: what the analog learner cannot do as ideal SGDr would ----------------------------------


def _messages(record) -> list[str]:
    from logdomain.learner_sim import AnalogRangeWarning

    return [str(w.message) for w in record if issubclass(w.category, AnalogRangeWarning)]


class _no_warning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings(record=True)
        self.record = self._cm.__enter__()
        warnings.simplefilter("always")
        return self.record

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        assert not _messages(self.record), _messages(self.record)


def test_in_range_data_warns_nothing(stream, mismatched):
    x, y = stream
    with _no_warning():
        sgdr_learner(x, y, mismatched.replace(bits=8), 0.05, 1e-3, dies=2)


def test_clipped_inputs_and_targets_and_dead_features_warn(stream, mismatched):
    x, y = stream
    x = x * 4.0
    x[:, 1] = 1e-4  # below half an 8-bit step on every row
    with pytest.warns(UserWarning) as record:
        sgdr_learner(x, y * 4.0, mismatched.replace(bits=8), 0.05, 1e-3, dies=2)
    text = " | ".join(_messages(record))
    assert "x exceeds the analog range" in text and "y exceeds the analog range" in text
    assert "features [1] are below half a step" in text


def test_a_weight_at_the_edge_of_its_range_warns(stream, mismatched):
    """Targets the weights cannot reach (x small, y full scale): one half of a pair runs to its floor."""
    x, y = stream
    with pytest.warns(UserWarning) as record:
        run = sgdr_learner(x * 0.05, y / np.max(np.abs(y)), mismatched, 0.5, 1e-3, epochs=20, dies=2)
    assert any("edge of their range" in m for m in _messages(record))
    assert np.min(run.state) < 0.01 * mismatched.cm_set
