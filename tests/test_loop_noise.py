"""The cell's charging-current noise in the behavioural loop (``LearnerModel.noise_rel``, issue 14).

Derivation under test (:mod:`logdomain.cell_noise`): each half of each weight gets σ_W·ξ per hold,
σ_W = noise_rel·η·s_x² (units of I_u), ξ standard normal, independent between halves, weights,
holds and dies, a die's ξ depending only on (seed, its index). With x = y = 0 and every gain ideal
the differential mode D = W⁺ − W⁻ has no drift (P = Q, so E = 0; ideal terms cancel in D; λ = 0),
so D is a pure random walk: var(D after K holds) = 2·σ_W²·K exactly, and the effective weight is
s_w·D. Tolerances are statistical: N samples estimate a variance to √(2/N) relative (1.6 % at
N = 8192), a correlation to 1/√N; the bounds are ≥ 4 of those.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibration.schema import load_default_calibration
from logdomain import _learner_kernel as kernel
from logdomain import cell_noise, learner_sim
from logdomain.compare import budget_cases
from logdomain.cell_noise import noise_keys
from logdomain.learner_model import DIE_BLOCK, LearnerModel
from logdomain.learner_sim import sgdr_learner
from logdomain.tasks import synthetic_regression

BACKENDS = ["numpy"] + (["numba"] if kernel.numba_available else [])
NU = 0.01  # noise_rel of the statistics tests (large, so the walk is well above rounding)


@pytest.fixture(scope="module")
def mismatched() -> LearnerModel:
    """The shipped calibration's model (mismatch on, its measured noise_rel), 3 inputs."""
    return LearnerModel.from_calibration(load_default_calibration())


@pytest.fixture(scope="module")
def stream():
    task = synthetic_regression(dim=3, samples=200, noise_std=0.05, seed=2, test_fraction=0.2)
    return task.x_train, task.y_train


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_walk_variance_matches_derived_sigma(backend):
    """var(w_K)/(s_w²·2·σ_W²·K) = 1 at every record: white across holds, σ_W = noise_rel·η·s_x²."""
    dies, dim, holds, eta = 1024, 8, 400, 0.5
    model = LearnerModel(noise_rel=NU)
    x, y = np.zeros((holds, dim)), np.zeros(holds)
    run = sgdr_learner(x, y, model, eta, 0.0, dies=dies, seed=5, record_every=100, backend=backend)
    sigma_w = NU * eta * model.x_scale**2
    for k, w in zip(run.record_index[1:], run.history[1:]):
        ratio = np.var(w) / (model.w_scale**2 * 2 * sigma_w**2 * k)
        assert ratio == pytest.approx(1.0, abs=0.07), (k, ratio)
        assert abs(np.mean(w)) < 4 * model.w_scale * sigma_w * np.sqrt(2 * k / w.size)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_hold_increments_are_independent_standard_normals(backend):
    """Noisy minus noise-free after one hold is σ_W·ξ± exactly (the noise enters at the hold's end):
    mean 0, variance 1, the halves uncorrelated, neighbouring weights and dies uncorrelated."""
    dies, dim, eta = 2048, 4, 0.2
    model = LearnerModel(noise_rel=NU)
    x, y = np.full((1, dim), 0.3), np.array([0.1])
    noisy = sgdr_learner(x, y, model, eta, 1e-3, dies=dies, seed=9, backend=backend).state
    clean = sgdr_learner(x, y, model.replace(noise_rel=0.0), eta, 1e-3, dies=dies, seed=9, backend=backend).state
    xi = (noisy - clean) / (NU * eta)
    n = xi[..., 0].size
    assert np.mean(xi) == pytest.approx(0.0, abs=4 / np.sqrt(2 * n))
    assert np.var(xi) == pytest.approx(1.0, abs=4 * np.sqrt(2 / (2 * n)))
    assert np.mean(xi**4) / np.var(xi) ** 2 == pytest.approx(3.0, abs=0.15)  # Gaussian kurtosis
    for a, b in ((xi[..., 0], xi[..., 1]), (xi[:, :-1, 0], xi[:, 1:, 0]), (xi[:-1, :, 1], xi[1:, :, 1])):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 4 / np.sqrt(a.size)


def test_numpy_and_numba_draw_the_same_noise():
    keys = noise_keys(3, 60, 10)
    ctr = np.arange(5, dtype=np.uint64) + np.uint64(2**40)
    a, b = kernel.noise_pairs(keys, ctr)
    assert a.shape == b.shape == (10, 5) and np.all(np.isfinite(a)) and not np.allclose(a, b)
    if not kernel.numba_available:
        pytest.skip("numba not installed")
    for d in range(10):
        for i in range(5):
            p, q = kernel._normal_pair(keys[d, 0], keys[d, 1], ctr[i])  # noqa: SLF001
            assert (p, q) == pytest.approx((a[d, i], b[d, i]), rel=1e-12, abs=1e-14)


@pytest.mark.skipif(not kernel.numba_available, reason="numba not installed")
def test_backends_agree_with_noise_on(stream, mismatched):
    x, y = stream
    kw = dict(dies=16, seed=4, record_every=25, epochs=2)
    a = sgdr_learner(x, y, mismatched, 0.05, 1e-3, backend="numpy", **kw)
    b = sgdr_learner(x, y, mismatched, 0.05, 1e-3, backend="numba", **kw)
    off = sgdr_learner(x, y, mismatched.replace(noise_rel=0.0), 0.05, 1e-3, backend="numpy", **kw)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-12)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-12, atol=1e-15)
    assert not np.array_equal(a.state, off.state)  # the noise is there


@pytest.mark.parametrize("backend", BACKENDS)
def test_noise_is_seeded_per_die_and_continues_across_chunks(stream, mismatched, backend):
    """Same seed, same run; another seed, another; a die's noise depends on (seed, index) only (a chunk
    of dies across a stream-block edge reproduces the rows of one large run); chained calls
    (state0, first_hold) continue the noise of one call."""
    x, y = stream
    model = mismatched.replace(noise_rel=NU)
    big = sgdr_learner(x, y, model, 0.05, 1e-3, dies=DIE_BLOCK + 6, seed=7, backend=backend)
    again = sgdr_learner(x, y, model, 0.05, 1e-3, dies=DIE_BLOCK + 6, seed=7, backend=backend)
    np.testing.assert_array_equal(big.state, again.state)
    chunk = sgdr_learner(x, y, model, 0.05, 1e-3, dies=10, first_die=DIE_BLOCK - 4, seed=7, backend=backend)
    np.testing.assert_allclose(chunk.state, big.state[DIE_BLOCK - 4:], rtol=1e-12)
    ideal = LearnerModel(noise_rel=NU)  # no mismatch: two seeds differ by their noise alone
    s7, s8 = (sgdr_learner(x, y, ideal, 0.05, 1e-3, dies=4, seed=s, backend=backend).state for s in (7, 8))
    clean = sgdr_learner(x, y, ideal.replace(noise_rel=0.0), 0.05, 1e-3, dies=4, seed=8, backend=backend).state
    assert np.max(np.abs(s7 - s8)) > 0.5 * np.max(np.abs(s8 - clean)) > 0
    half = len(y) // 2 + 1
    first = sgdr_learner(x[:half], y[:half], model, 0.05, 1e-3, dies=4, seed=7, backend=backend)
    second = sgdr_learner(x[half:], y[half:], model, 0.05, 1e-3, dies=4, seed=7, state0=first.state, first_hold=half, backend=backend)
    np.testing.assert_allclose(second.state, big.state[:4], rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_noise_off_draws_nothing(stream, mismatched, monkeypatch, backend):
    """noise_rel = 0 never reaches the generator (the loop is the noise-free one); > 0 does."""
    x, y = stream

    def refuse(*_a, **_k):
        raise AssertionError("noise drawn")

    monkeypatch.setattr(learner_sim, "noise_keys", refuse)
    monkeypatch.setattr(kernel, "noise_pairs", refuse)
    sgdr_learner(x, y, mismatched.replace(noise_rel=0.0), 0.05, 1e-3, dies=3, backend=backend)
    with pytest.raises(AssertionError, match="noise drawn"):
        sgdr_learner(x, y, mismatched, 0.05, 1e-3, dies=3, backend=backend)


def test_calibration_noise_reaches_the_model_and_the_budget():
    cal = load_default_calibration()
    model = LearnerModel.from_calibration(cal, bits=8)
    assert model.noise_rel == cal.blocks.noise_rel > 0
    cases = dict(budget_cases(model))
    assert cases["noise (cell, measured)"].noise_rel == model.noise_rel
    assert cases["all"].noise_rel == model.noise_rel
    assert all(m.noise_rel == 0 for name, m in cases.items() if name not in ("noise (cell, measured)", "all"))
    assert "noise (cell, measured)" not in dict(budget_cases(model.replace(noise_rel=0.0)))


@pytest.mark.parametrize("bad", [-1e-3, 1.5, float("nan"), True, "0.1"])
def test_noise_rel_is_validated(bad):
    with pytest.raises(ValueError, match=r"LearnerModel\.noise_rel must be a finite number in \[0, 1\]"):
        LearnerModel(noise_rel=bad)


def test_noise_keys_are_per_die_and_separate_from_the_mismatch_stream():
    whole = noise_keys(11, 0, 3 * DIE_BLOCK)
    np.testing.assert_array_equal(noise_keys(11, DIE_BLOCK - 2, 5), whole[DIE_BLOCK - 2:DIE_BLOCK + 3])
    assert len(np.unique(whole[:, 0])) == whole.shape[0]
    mism = np.random.SeedSequence(11, spawn_key=(0,)).generate_state(2 * DIE_BLOCK, np.uint64).reshape(DIE_BLOCK, 2)
    assert not np.any(np.isin(whole[:DIE_BLOCK], mism))
    assert cell_noise.NOISE_STREAM == 0x6E6F6973


def test_normal_quantile_matches_scipy():
    """Acklam's Φ⁻¹ against scipy's ndtri: relative error < 2e-9 (central region published 1.15e-9; tails refined) from 1e-15 to 1 − 1e-15."""
    special = pytest.importorskip("scipy.special")
    p = np.concatenate([np.logspace(-15, -1, 400), np.linspace(0.02, 0.98, 2001), 1 - np.logspace(-15, -1, 400)])
    ref = special.ndtri(p)
    got = kernel.normal_quantile(p)
    ok = np.abs(ref) > 1e-6
    assert np.max(np.abs(got[ok] / ref[ok] - 1)) < 2e-9
    assert np.max(np.abs(got - ref)) < 1e-8


def test_budget_has_a_measured_noise_row_and_still_closes():
    """run_compare with noise on: the row "noise (cell, measured)" is the noise alone (above the
    noise-free baseline) and baseline + sum of the rows + interaction = all."""
    from logdomain.compare import CompareConfig, run_compare

    task = synthetic_regression(dim=3, samples=120, seed=1)
    model = LearnerModel(noise_rel=0.02, bits=8)
    cfg = CompareConfig(dies=8, epochs=2, bits_grid=(8,), eta_grid=(0.05,), lam_grid=(0.01,))
    rows = {row["name"]: row for row in run_compare(task, model, cfg).budget}
    base, noise, everything = rows["continuous time (no non-ideality)"], rows["noise (cell, measured)"], rows["all"]
    assert noise["kind"] == "row" and noise["excess"] > 10 * max(base["median"], 1e-12)
    alone = [r for r in rows.values() if r["kind"] == "row" and r["name"] not in (base["name"], "all")]
    assert rows["sum of the rows above (each alone)"]["excess"] == pytest.approx(sum(r["excess"] for r in alone))
    closing = base["median"] + rows["sum of the rows above (each alone)"]["excess"] + rows["interaction (all − baseline − sum)"]["excess"]
    assert closing == pytest.approx(everything["median"])
