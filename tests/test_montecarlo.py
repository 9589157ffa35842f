"""Monte Carlo at scale (logdomain.montecarlo): dies in chunks, anywhere, with the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from calibration.schema import load_default_calibration
from logdomain import _ideal_kernel
from logdomain.compare import CompareConfig
from logdomain.ideal import sgdr_discrete
from logdomain.learner_model import DEVICE_ROLES, DIE_BLOCK, LearnerDies, LearnerModel, _slots, die_normals
from logdomain.learner_sim import sgdr_learner
from logdomain.montecarlo import chunks, run_monte_carlo
from logdomain.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]
CONFIG = CompareConfig(epochs=1, substeps=1)


@pytest.fixture(scope="module")
def model() -> LearnerModel:
    return LearnerModel.from_calibration(load_default_calibration())


@pytest.fixture(scope="module")
def task():
    return get_task("diabetes", test_fraction=0.25, seed=0)


def test_every_device_role_has_exactly_one_slot():
    roles = [r for _, group, _ in _slots(3) for r in group]
    assert sorted(roles) == sorted(DEVICE_ROLES)


def test_a_die_depends_only_on_seed_and_index(model):
    """Dies 60…69 drawn alone are rows 60…69 of a 100-die draw (across a stream-block boundary)."""
    whole = model.sample_dies(100, 3, seed=7)
    part = model.sample_dies(10, 3, seed=7, first_die=60)
    for name in LearnerDies.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[60:70], err_msg=name)
    assert not np.array_equal(model.sample_dies(10, 3, seed=8, first_die=60).fwd, part.fwd)


@pytest.mark.parametrize("first, dies", [(0, 1000), (37, 300), (64, 1)])
def test_every_field_has_one_row_per_die(model, first, dies):
    """Whatever the split of stream blocks between threads, with mismatch on or off."""
    for m in (model, model.replace(mismatch_groups=())):
        gains = m.sample_dies(dies, 2, seed=3, first_die=first)
        assert {getattr(gains, f).shape[0] for f in LearnerDies.__dataclass_fields__} == {dies}
    assert np.all(model.replace(mismatch_groups=()).sample_dies(dies, 2).fwd == model.nominal["fwd_gain"])


def test_die_normals_are_standard_and_independent_of_the_count():
    xi = die_normals(3, 5, 3 * DIE_BLOCK, 50)
    assert abs(np.mean(xi)) < 0.02 and abs(np.std(xi) - 1) < 0.02
    np.testing.assert_array_equal(xi[:DIE_BLOCK - 5], die_normals(3, 5, DIE_BLOCK - 5, 50))


def test_switching_a_group_off_keeps_the_other_groups_dies(model):
    """The error budget compares the same dies: a group that is off does not shift the others' draws."""
    only_inputs = model.replace(mismatch_groups=("inputs",)).sample_dies(16, 3, seed=1)
    inputs_and_more = model.replace(mismatch_groups=("inputs", "error path")).sample_dies(16, 3, seed=1)
    np.testing.assert_array_equal(only_inputs.upd_x, inputs_and_more.upd_x)


def test_chunks_cover_the_dies_once():
    assert chunks(300, 128) == [(0, 128), (128, 128), (256, 44)]


def test_chunked_run_equals_one_large_run(model, task):
    a = run_monte_carlo(task, model, CONFIG, dies=3 * DIE_BLOCK, chunk_dies=DIE_BLOCK)
    b = run_monte_carlo(task, model, CONFIG, dies=3 * DIE_BLOCK, chunk_dies=4 * DIE_BLOCK)
    np.testing.assert_array_equal(a.nmse_vs_ideal, b.nmse_vs_ideal)
    np.testing.assert_array_equal(a.weights, b.weights)
    one = sgdr_learner(task.x_train, task.y_train, model.replace(bits=CONFIG.bits), CONFIG.eta, CONFIG.lam, dies=3 * DIE_BLOCK,
                       seed=CONFIG.seed, substeps=CONFIG.substeps)  # fmt: skip
    np.testing.assert_array_equal(a.weights, one.weights)
    assert a.chunks == 3 and b.chunks == 1
    s = a.summary()
    assert s["dies"] == 3 * DIE_BLOCK and s["nmse_vs_ideal_percentiles"]["p10"] <= s["nmse_vs_ideal_median"] <= s["nmse_vs_ideal_max"]
    assert s["ideal_converged"] is False  # one epoch on diabetes is far from the ridge optimum


def test_float32_and_float64_agree_to_the_quantisation_step(model, task):
    a = run_monte_carlo(task, model, CONFIG, dies=DIE_BLOCK, chunk_dies=DIE_BLOCK)
    b = run_monte_carlo(task, model, CONFIG, dies=DIE_BLOCK, chunk_dies=DIE_BLOCK, dtype=np.float32)
    # rounding can move a weight across one 8-bit read-out level, never more
    assert np.max(np.abs(a.weights - b.weights)) <= 2.0 ** (1 - CONFIG.bits) + 1e-12
    assert np.median(np.abs(a.nmse_vs_ideal - b.nmse_vs_ideal)) < 1e-3 * np.median(a.nmse_vs_ideal)


def test_dask_local_cluster_gives_the_same_numbers(model, task, monkeypatch):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # never skip: a missing extra is an error here
        pytest.fail(f"dask.distributed is not installed ({exc}); install the extra: pip install '.[dask]'")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    here = run_monte_carlo(task, model, CONFIG, dies=4 * DIE_BLOCK, chunk_dies=DIE_BLOCK)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        there = run_monte_carlo(task, model, CONFIG, dies=4 * DIE_BLOCK, chunk_dies=DIE_BLOCK, executor=client.get_executor())
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_allclose(there.nmse_vs_ideal, here.nmse_vs_ideal, rtol=1e-12)
    np.testing.assert_allclose(there.weights, here.weights, rtol=1e-12)


@pytest.mark.parametrize("kw, message", [({"dies": 0}, "dies must be"), ({"dies": 10, "chunk_dies": 100}, "multiple of 64"),
                                         ({"dies": 10, "dtype": np.int32}, "dtype must be")])  # fmt: skip
def test_bad_arguments_are_named(model, task, kw, message):
    with pytest.raises(ValueError, match=message):
        run_monte_carlo(task, model, CONFIG, **kw)


def test_cli_prints_percentiles_and_refuses_a_bad_chunk():
    run = lambda *a: subprocess.run([sys.executable, "-m", "logdomain.cli", "montecarlo", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=300, cwd=ROOT)  # fmt: skip
    ok = run("--dies", "128", "--chunk-dies", "64", "--epochs", "1", "--substeps", "1", "--json")
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["dies"] == 128 and out["chunks"] == 2 and out["where"] == "in-process"
    assert 0 < out["nmse_vs_ideal_percentiles"]["p1"] <= out["nmse_vs_ideal_percentiles"]["p99"]
    bad = run("--dies", "128", "--chunk-dies", "100")
    assert bad.returncode == 2 and "--chunk-dies" in bad.stderr and not bad.stdout


def test_compiled_ideal_loop_matches_numpy(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 16)) / 4
    y = x @ rng.uniform(-1, 1, 16)
    eta, lam = np.linspace(0.01, 0.3, 100), np.linspace(0, 0.1, 100)
    assert _ideal_kernel.numba_available, "numba is part of the [dev] extra"
    compiled = sgdr_discrete(x, y, eta, lam, epochs=2)
    monkeypatch.setattr(_ideal_kernel, "numba_available", False)
    np.testing.assert_allclose(compiled, sgdr_discrete(x, y, eta, lam, epochs=2), rtol=1e-12, atol=1e-15)
    per_run = rng.uniform(-1, 1, (100, 200, 16)) / 4  # each run its own stream: the per-run loop
    y_runs = per_run @ rng.uniform(-1, 1, 16)
    numpy_w = sgdr_discrete(per_run, y_runs, eta, lam)
    monkeypatch.setattr(_ideal_kernel, "numba_available", True)
    np.testing.assert_allclose(sgdr_discrete(per_run, y_runs, eta, lam), numpy_w, rtol=1e-12, atol=1e-15)
