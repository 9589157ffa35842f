"""Asymmetric updates (issue 15): the floors of analog SGD and Tiki-Taka, on a small fast configuration.

The acceptance properties on the soft-bounds reference device (SGD's floor grows with the
asymmetry; Tiki-Taka's is ≥ 10× lower at asymmetry ≥ 0.3 and flat within 2×), the theory of the
SGD floor against the measured one, discrete against continuous time as η → 0, Tiki-Taka without
transfer against SGD, the devices' response factors and symmetric points, and the checks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from logdomain.asymmetry import FloorProblem, LogDomainPair, SoftBounds, TikiTaka, run_sgd, run_tiki_taka, teacher
from logdomain.asymmetry_theory import abs_product_mean, theory_floor
from logdomain.asymmetry_study import REFERENCE_TT, StudyConfig, measured_pair_asymmetry, run_asymmetry_study
from logdomain.cli import main

#: a small configuration: 16 seeds × 40 000 samples (the study's default has 32 × 60 000)
SMALL = FloorProblem(dim=4, noise_std=0.5, steps=40_000, seeds=16, records=80)
ETA = 0.005
POINTS = (0.0, 0.1, 0.3, 0.5)
#: theory vs measured SGD floor, relative (the measured floors' SEM over 16 seeds is ~2-3 %)
THEORY_TOL = 0.10


@pytest.fixture(scope="module")
def reference_runs():
    return run_sgd(SoftBounds(), POINTS, SMALL, ETA), run_tiki_taka(SoftBounds(), POINTS, SMALL, ETA, REFERENCE_TT)


@pytest.fixture(scope="module")
def pair_runs():
    config = StudyConfig(eta=ETA, problem=SMALL)
    tt = config.ld_tt()
    leak_only = TikiTaka(**{**tt.__dict__, "chop_every": 0})
    pair = LogDomainPair()
    return (run_sgd(pair, POINTS, SMALL, ETA), run_tiki_taka(pair, POINTS, SMALL, ETA, tt),
            run_tiki_taka(pair, POINTS, SMALL, ETA, leak_only))  # fmt: skip


# -- acceptance on the reference device -------------------------------------------------------------


def test_reference_sgd_floor_grows_monotonically_with_asymmetry(reference_runs):
    sgd, _ = reference_runs
    floors = sgd.floor()
    assert np.all(np.diff(floors) > 0), floors


def test_reference_tiki_taka_is_ten_times_lower_at_large_asymmetry_and_flat(reference_runs):
    sgd, tt = reference_runs
    a = np.asarray(POINTS)
    ratio = sgd.floor() / tt.floor()
    assert np.all(ratio[a >= 0.3] >= 10.0), ratio
    assert tt.floor().max() / tt.floor().min() <= 2.0, tt.floor()


def test_floors_are_measured_once_converged(reference_runs, pair_runs):
    """The last quarter's mean against the third quarter's: within the seeds' noise (|drift| < 15 %)."""
    for run in (*reference_runs, *pair_runs[:2]):
        assert np.all(np.abs(run.drift()) < 0.15), run.drift()


# -- theory ----------------------------------------------------------------------------------------


def test_sgd_floor_matches_the_theory_on_both_devices(reference_runs, pair_runs):
    for device, run, lam in (("reference", reference_runs[0], 0.0), ("logdomain", pair_runs[0], LogDomainPair().lam)):
        predicted = theory_floor(device, POINTS, SMALL, ETA, lam=lam)["floor"]
        np.testing.assert_allclose(run.floor(), predicted, rtol=THEORY_TOL, err_msg=device)


def test_abs_product_mean_against_sampling():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(400_000)
    e = 0.7 * rng.standard_normal(400_000) - 0.3 * x  # cov(e, x) = −0.3, σ_e² = 0.49 + 0.09
    expected = np.mean(np.abs(e * x))
    got = abs_product_mean(np.sqrt(0.58), -0.3)
    assert abs(got / expected - 1) < 0.01


def test_theory_has_no_bias_without_asymmetry():
    for device in ("reference", "logdomain"):
        assert theory_floor(device, [0.0], SMALL, ETA)["bias"][0] == pytest.approx(0.0, abs=1e-15)


# -- the log-domain pair ---------------------------------------------------------------------------


def test_logdomain_tiki_taka_lowers_the_floor_and_the_leak_alone_does_not(pair_runs):
    """The chopped leaky A cell removes the first-order bias (floor below SGD's at every asymmetry);
    a leaky A without chopper has no symmetric point: at asymmetry ≥ 0.3 its floor is no lower than SGD's."""
    sgd, tt, leak_only = pair_runs
    a = np.asarray(POINTS)
    assert np.all(tt.floor()[a > 0] < sgd.floor()[a > 0]), (tt.floor(), sgd.floor())
    assert np.all(leak_only.floor()[a >= 0.3] >= sgd.floor()[a >= 0.3]), (leak_only.floor(), sgd.floor())


def test_response_factors():
    w = np.linspace(-1, 1, 5)
    qp, qm = SoftBounds().response(w, 0.25)
    np.testing.assert_allclose((qm - qp) / 2, 0.25 * w)  # G(w) = a·w: symmetric point at 0
    np.testing.assert_allclose((qm + qp) / 2, 1.0)
    qp, qm = LogDomainPair().response(w, 0.25)
    np.testing.assert_allclose((qm - qp) / 2, -0.25)  # G constant: no symmetric point


def test_zero_mean_pulses_find_the_symmetric_point_of_soft_bounds_but_shift_the_pair():
    """Random ± requests of equal size: the soft-bounds device relaxes to G = 0 (w = 0); the pair
    (leak λ) settles at w = a·E|r|/λ, the offset its constant G drives."""
    rng = np.random.default_rng(0)
    a, lam, h, n = np.array([[[0.2]]]), 0.5, 0.01, 20_000
    soft, pair = SoftBounds(), LogDomainPair(lam=lam, cm_set=100.0)
    s_state = [np.full((1, 1, 1), 0.8)]
    p_state = pair.init(a, (1, 1, 1))
    tail_s, tail_p = [], []
    for k in range(n):
        r = np.sign(rng.standard_normal((1, 1, 1)))
        s_state = [s + h * d for s, d in zip(s_state, soft.rate(s_state, r, a))]
        p_state = pair.clamp([s + h * d for s, d in zip(p_state, pair.rate(p_state, r, a))])
        if k > n // 2:
            tail_s.append(soft.read(s_state).item())
            tail_p.append(pair.read(p_state).item())
    assert abs(np.mean(tail_s)) < 0.05
    assert np.mean(tail_p) == pytest.approx(0.2 * 1.0 / lam, rel=0.05)


# -- discrete vs continuous, Tiki-Taka without transfer --------------------------------------------


@pytest.mark.parametrize("device", [SoftBounds(), LogDomainPair()], ids=["reference", "logdomain"])
def test_discrete_and_continuous_agree_as_eta_shrinks(device):
    """Over the same number of samples (t/τ = η·steps), the continuous run's end weights approach the
    discrete run's as O(η): halving η halves the gap (within 30 %), and at η = 1e-3 it is < 1 % of |w*|."""
    gaps = []
    for eta in (2e-3, 1e-3):
        p = FloorProblem(dim=3, noise_std=0.3, steps=int(3.0 / eta), seeds=2, records=4)
        d = run_sgd(device, [0.2], p, eta).weights
        c = run_sgd(device, [0.2], p, eta, substeps=4).weights
        gaps.append(np.max(np.abs(d - c)))
    assert gaps[0] / gaps[1] == pytest.approx(2.0, rel=0.3), gaps
    assert gaps[1] < 0.01


@pytest.mark.parametrize(("device", "tt"), [
    (SoftBounds(), TikiTaka(gamma=0.4, transfer=2e-3)),
    (LogDomainPair(), TikiTaka(gamma=0.0, transfer=2e-3, a_leak=2.0, chop_every=500, c_leak=2e-4)),
], ids=["reference", "logdomain chopped"])  # fmt: skip
def test_tiki_taka_continuous_agrees_with_discrete_for_small_eta(device, tt):
    p = FloorProblem(dim=3, noise_std=0.3, steps=3000, seeds=2, records=4)
    d = run_tiki_taka(device, [0.3], p, 1e-3, tt).weights
    c = run_tiki_taka(device, [0.3], p, 1e-3, tt, substeps=4).weights
    assert np.max(np.abs(d - c)) < 0.01
    assert np.max(np.abs(d)) > 0.1  # it learned something: the agreement is not two zeros


@pytest.mark.parametrize("device", [SoftBounds(), LogDomainPair(lam=0.0)], ids=["reference", "logdomain"])
def test_tiki_taka_without_transfer_and_gamma_one_is_sgd(device):
    """β_t = 0 and γ = 1: C never moves from 0 and the forward weight is A, so Tiki-Taka is SGD on A —
    the same numbers, for every asymmetry."""
    p = FloorProblem(dim=3, steps=500, seeds=3, records=5)
    sgd = run_sgd(device, POINTS, p, 0.01)
    tt = run_tiki_taka(device, POINTS, p, 0.01, TikiTaka(gamma=1.0, transfer=0.0, a_leak=device.lam if hasattr(device, "lam") else 0.0))
    np.testing.assert_array_equal(tt.mse, sgd.mse)
    np.testing.assert_array_equal(tt.weights, sgd.weights)


def test_pair_without_asymmetry_or_leak_is_the_symmetric_device():
    p = FloorProblem(dim=3, steps=2000, seeds=2, records=5)
    ref = run_sgd(SoftBounds(), [0.0], p, 0.01)
    pair = run_sgd(LogDomainPair(lam=0.0, cm_set=20.0), [0.0], p, 0.01)
    np.testing.assert_allclose(pair.weights, ref.weights, atol=1e-9)


# -- the study and its command ---------------------------------------------------------------------


def test_study_result_has_the_contract_keys_in_order():
    config = StudyConfig(asymmetry=(0.0, 0.3), problem=FloorProblem(steps=2000, seeds=2, records=20))
    r = run_asymmetry_study(config)
    assert r["asymmetry"] == [0.0, 0.3]
    for device in ("reference", "logdomain"):
        for key in ("sgd", "tiki_taka", "sgd_theory"):
            assert len(r[device][key]) == 2 and all(np.isfinite(r[device][key]))
    json.dumps(r, allow_nan=False)


def test_measured_pair_asymmetry_from_the_calibration():
    from calibration.schema import load_default_calibration

    cal = load_default_calibration()
    m = measured_pair_asymmetry(cal, dies=64, dim=4)
    assert 0 < m["median_abs"] < m["p90_abs"] < 0.5
    assert m["cell_update_asymmetry"] == pytest.approx(cal.blocks.update_asymmetry)


def test_study_command_json_and_plot(tmp_path, capsys):
    code = main(["study", "asymmetry", "--asymmetry", "0,0.3", "--steps", "1000", "--seeds", "2", "--json",
                 "--plots", str(tmp_path / "figs")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert data["asymmetry"] == [0.0, 0.3] and set(data["reference"]) >= {"sgd", "tiki_taka"}
    assert (tmp_path / "figs" / "asymmetry_floors.png").stat().st_size > 10_000


@pytest.mark.parametrize(("argv", "message"), [
    (["--asymmetry", "0,0.95"], "--asymmetry: every value must be in [0, 0.9]"),
    (["--asymmetry", "a"], "--asymmetry: expected comma-separated numbers"),
    (["--eta", "0"], "--eta: must be in (0, 0.5]"),
    (["--eta", "0.4"], "--eta × (--dim + 2) must be < 2"),
    (["--substeps", "2"], "--substeps applies to --time continuous only"),
    (["--seeds", "0"], "--seeds: must be an integer in [1, 10000]"),
    (["--steps", "10000000", "--seeds", "10000"], "the limit is"),
    (["--noise", "-1"], "--noise: must be in [0, 10]"),
])  # fmt: skip
def test_study_command_refuses_bad_values(argv, message, capsys):
    assert main(["study", "asymmetry", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("make", "message"), [
    (lambda: FloorProblem(dim=0), "FloorProblem.dim must be an integer in [1, 64]"),
    (lambda: FloorProblem(noise_std=float("nan")), "FloorProblem.noise_std must be a finite number"),
    (lambda: FloorProblem(steps=100, records=200), "FloorProblem.records must be <= steps"),
    (lambda: LogDomainPair(cm_set=0.0), "LogDomainPair.cm_set must be a finite number in [0.1, 100]"),
    (lambda: TikiTaka(transfer_every=0), "TikiTaka.transfer_every must be an integer in [1, 1e+06]"),
    (lambda: run_sgd(SoftBounds(), [0.0, 1.5], SMALL, ETA), "asymmetry must be a non-empty list of numbers in [0, 0.9]"),
    (lambda: run_sgd(SoftBounds(), [0.0], SMALL, 0.0), "run.eta must be a finite number in [1e-06, 0.5]"),
    (lambda: theory_floor("memristor", [0.1], SMALL, ETA), "device must be 'reference' or 'logdomain'"),
])  # fmt: skip
def test_invalid_inputs_name_the_parameter(make, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace("+", r"\+")):
        make()


def test_teacher_scale():
    w = teacher(5)
    assert np.max(np.abs(w)) == 1.0 and np.all(np.abs(w) > 0)


def test_read_noise_raises_the_floor_as_the_theory_says():
    """Noise σ_r on every weight read adds −nᵀx to the error: its power σ_r²·D in E|e·x|, σ_r²(D + 2) in the variance."""
    p = FloorProblem(dim=4, noise_std=0.3, read_noise_std=0.1, steps=40_000, seeds=16, records=80)
    quiet = FloorProblem(dim=4, noise_std=0.3, steps=40_000, seeds=16, records=80)
    for device, lam in ((SoftBounds(), 0.0), (LogDomainPair(), LogDomainPair().lam)):
        noisy = run_sgd(device, [0.0, 0.3], p, ETA).floor()
        assert np.all(noisy > run_sgd(device, [0.0, 0.3], quiet, ETA).floor())
        np.testing.assert_allclose(noisy, theory_floor(device.name, [0.0, 0.3], p, ETA, lam=lam)["floor"], rtol=THEORY_TOL)


def test_a_lambda_difference_between_halves_couples_the_common_mode_into_w():
    """λ± = λ(1 ± m): with W⁺ = W⁻ = S/2 and no drive, dw/dt = −λ·m·S (the reviewer's second finding)."""
    pair = LogDomainPair(lam=0.01, lam_mismatch=0.1, cm_set=2.0)
    a = np.zeros((1, 1, 1))
    state = [np.full((1, 1, 1), 1.0), np.full((1, 1, 1), 1.0)]
    dp, dm = pair.rate(state, np.zeros((1, 1, 1)), a)
    assert (dp - dm).item() == pytest.approx(-0.01 * 0.1 * 2.0)


def test_a_run_too_short_to_reach_its_floor_is_flagged(capsys):
    code = main(["study", "asymmetry", "--asymmetry", "0,0.3", "--steps", "1000", "--seeds", "4", "--json"])
    captured = capsys.readouterr()
    assert code == 0 and "not asymptotic" in captured.err
    data = json.loads(captured.out)
    assert not all(data["reference"]["converged"].values())


def test_a_table_device_with_the_pairs_constant_response_is_the_pair():
    """q± = 1 ± a tabulated: the same floors as the log-domain pair (whose common mode cancels in w)."""
    from logdomain.asymmetry import TableDevice

    grid = (-3.0, 0.0, 3.0)
    table = TableDevice(w=grid, q_plus=tuple((1 + a,) * 3 for a in POINTS), q_minus=tuple((1 - a,) * 3 for a in POINTS), lam=1e-3)
    p = FloorProblem(dim=3, steps=3000, seeds=3, records=10)
    np.testing.assert_allclose(run_sgd(table, POINTS, p, 0.01).mse, run_sgd(LogDomainPair(), POINTS, p, 0.01).mse, rtol=1e-9)


def test_measured_response_rows(capsys):
    """--measured: SGD and Tiki-Taka on the SPICE-measured pairs; the nominal pair's in-band asymmetry is 0."""
    code = main(["study", "asymmetry", "--asymmetry", "0", "--steps", "400", "--seeds", "2", "--measured", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    m = data["measured_response"]
    assert m["pairs"][0] == "nominal" and abs(m["asymmetry_in_band"][0]) < 1e-12
    assert [row["teacher_scale"] for row in m["by_teacher_scale"]] == [0.4, 1.0]
    assert all(len(row["sgd"]) == len(m["pairs"]) for row in m["by_teacher_scale"])


def test_logdomain_tiki_taka_bias_matches_its_second_order_theory(pair_runs):
    """Measured floor minus the floor at a = 0 against the predicted bias² (D·δ², δ = a·λ_A·E|A|/(a_rate·g)),
    within 30 % where the bias dominates the seeds' noise (a ≥ 0.3)."""
    from logdomain.asymmetry_theory import theory_tiki_taka_pair_bias

    _, tt, _ = pair_runs
    s = StudyConfig(eta=ETA, problem=SMALL).ld_tt()
    bias = theory_tiki_taka_pair_bias(POINTS, SMALL, ETA, a_leak=s.a_leak, a_rate=s.a_rate, chop_every=s.chop_every)["bias"]
    a = np.asarray(POINTS)
    measured = tt.floor() - tt.floor()[0]
    np.testing.assert_allclose(measured[a >= 0.3], bias[a >= 0.3], rtol=0.3)
