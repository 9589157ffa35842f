"""`logdomain sweep`: .npz + JSON output, cache reuse, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from netlists import MosBenchParams, get_technology
from netlists.measure import iv_curve


def run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "logdomain.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


@pytest.fixture
def cache_env(tmp_path):
    return dict(os.environ, LOGDOMAIN_CACHE_DIR=str(tmp_path / "cache"))


def test_sweep_writes_npz_and_json_and_reuses_cache(tmp_path, cache_env, simulator):
    out = tmp_path / "grid.npz"
    args = ["sweep", "nmos", "--tech", "sky130", "--sweep", "vgs_v=0.1:0.5:0.1", "--sweep", "w_m=1u,4u",
            "--set", "l_m=1u", "--out", str(out), "--json", "--quiet"]
    first = run_cli(*args, env=cache_env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["points"] == 10 and summary["n_ok"] == 10 and summary["n_computed"] == 10
    data = np.load(out)
    assert data["id_a"].shape == (10,) and data["ok"].all()
    assert json.loads(out.with_suffix(".json").read_text())["points"] == 10
    # the grid agrees with a plain I–V sweep of the same device
    curve = iv_curve(get_technology("sky130"), "n", MosBenchParams(w_m=4e-6, l_m=1e-6, vds_v=0.5, vgs_start_v=0.1,
                                                                    vgs_stop_v=0.5, vgs_step_v=0.1), simulator=simulator)
    sel = data["w_m"] == 4e-6
    np.testing.assert_allclose(data["id_a"][sel], curve.id_a, rtol=1e-6)
    second = run_cli(*args, env=cache_env)
    assert json.loads(second.stdout)["n_cached"] == 10  # a rerun costs no simulation


def test_sweep_monte_carlo(tmp_path, cache_env):
    out = tmp_path / "mc.npz"
    proc = run_cli("sweep", "nmos", "--tech", "sky130", "--sweep", "vgs_v=0.3", "--mc", "8", "--set", "w_m=1u",
                   "--out", str(out), "--quiet", env=cache_env)
    assert proc.returncode == 0, proc.stderr
    data = np.load(out)
    assert len(set(data["id_a"].round(18))) == 8  # every seed its own die


@pytest.mark.parametrize("extra", [["--sweep", "l_m=0.5u,1u"], ["--mc", "5"]], ids=["grid", "monte_carlo"])
def test_sweep_gives_the_same_numbers_on_one_and_two_workers(tmp_path, cache_env, extra):
    """Each point's result depends on the point only: ``--workers 1`` and ``--workers 2`` (cache off,
    so both simulate every point; sizes change, so ngspice's ``reset`` runs between chunks) agree exactly."""
    arrays = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.npz"
        proc = run_cli("sweep", "nmos", "--tech", "sky130", "--sweep", "vgs_v=0.2,0.3", "--sweep", "w_m=1u,2u", *extra,
                       "--no-cache", "--quiet", "--workers", workers, "--out", str(out), env=cache_env)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        with np.load(out) as data:
            arrays.append({name: data[name] for name in data.files})
    one, two = arrays
    assert one["ok"].all() and len(one["id_a"]) >= 8 and sorted(one) == sorted(two)
    for name in one:
        np.testing.assert_array_equal(two[name], one[name], err_msg=name)


@pytest.mark.parametrize(
    "args,option",
    [
        (["--sweep", "bogus=1:2:1"], "--sweep"),
        (["--sweep", "vgs_v=0.5:0.1:0.1"], "vgs_v"),
        (["--sweep", "vgs_v=0.1:0.5:0"], "vgs_v"),
        (["--sweep", "vgs_v=nan"], "vgs_v"),
        (["--sweep", "vgs_v=0:1:1e-9"], "vgs_v"),
        ([], "--sweep"),
        (["--sweep", "vgs_v=0.3", "--mc", "-1"], "--mc"),
        (["--sweep", "vgs_v=0.3", "--tech", "ekv", "--mc", "3"], "--mc"),
        (["--sweep", "vgs_v=0.3", "--set", "vgs_v=0.2"], "--set"),
    ],
)
def test_sweep_bad_input(tmp_path, args, option):
    proc = run_cli("sweep", "nmos", *args, "--out", str(tmp_path / "x.npz"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []
