"""Sweeps at scale (netlists.sweep): order, error records, cache, resume, workers, Dask.

Reference values come from independent paths: a single :class:`Simulator` run of the
same netlist text with the values written in, and the same points run with 1 and 2
workers or on a Dask cluster (exact equality: each point's result depends only on it).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import psutil
import pytest

from netlists import ParameterError, Simulator, get_technology
from netlists.sweep import SweepCircuit, grid, mc_samples, mos_op_circuit, sweep, sweep_executor
from netlists._engine_pool import EnginePool

ROOT = Path(__file__).resolve().parents[1]
ID = "vam_m1#branch"
pytestmark = pytest.mark.spice


@pytest.fixture(scope="module")
def circuit() -> SweepCircuit:
    return mos_op_circuit(get_technology("sky130"))


@pytest.fixture(scope="module")
def points() -> list[dict]:
    return grid(w_m=[1e-6, 4e-6], l_m=[0.15e-6, 1e-6], vg=np.linspace(0.1, 0.8, 8), vd=[0.05, 0.5])


@pytest.fixture(scope="module")
def pool():
    with sweep_executor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def reference(circuit, points, pool, tmp_path_factory) -> np.ndarray:
    result = sweep(circuit, points, executor=pool, cache_dir=tmp_path_factory.mktemp("ref"), quiet=True)
    assert not result.errors
    return result[ID]


def _substituted(circuit: SweepCircuit, point: dict) -> str:
    """The circuit's text with the point's values written in (independent of alter/alterparam)."""
    lines = circuit.netlist_text.splitlines()
    assert lines[1].startswith(".param ")
    for name, value in point.items():
        value = float(value)
        if name in circuit.params:
            lines[1] = re.sub(rf"\b{name}=\S+", f"{name}={value!r}", lines[1])
        elif name in circuit.sources:
            lines = [f"{name} {l.split()[1]} {l.split()[2]} dc {value!r}" if l.split()[:1] == [name] else l for l in lines]
    text = "\n".join(lines) + "\n"
    return text


def test_results_match_single_runs_in_point_order(circuit, points, pool, tmp_path):
    rng = np.random.default_rng(7)
    order = rng.permutation(len(points))
    shuffled = [points[i] for i in order]
    result = sweep(circuit, shuffled, executor=pool, cache_dir=tmp_path, quiet=True)
    assert result.ok.all() and len(result) == len(points)
    assert [p["vg"] for p in result.points] == [p["vg"] for p in shuffled]
    with Simulator() as sim:
        for k in (0, 5, 17, len(points) - 1):
            single = sim.run_text(_substituted(circuit, shuffled[k]), init_commands=list(circuit.init_commands))
            assert result[ID][k] == pytest.approx(single[ID][0], rel=1e-9, abs=1e-18)
    # physics sanity: current grows with V_GS at fixed W, L, V_DS
    first = np.array([result[ID][i] for i, p in enumerate(result.points) if p["w_m"] == 1e-6 and p["l_m"] == 1e-6 and p["vd"] == 0.5])
    vgs = np.array([p["vg"] for p in result.points if p["w_m"] == 1e-6 and p["l_m"] == 1e-6 and p["vd"] == 0.5])
    assert np.all(np.diff(first[np.argsort(vgs)]) > 0)


def test_failed_point_is_an_error_record_not_a_lost_sweep(pool, tmp_path):
    # 1 MA into 1 kΩ gives 1e9 V: rejected as unphysical by the engine; neighbours are fine.
    circuit = SweepCircuit("* err\ni1 0 a dc 1e-6\nr1 a 0 {r_ohm}\n.op\n.end\n", params={"r_ohm": 1e3}, sources={"i1": 1e-6})
    pts = [{"i1": 1e-6}, {"i1": 1e6}, {"i1": 2e-6, "r_ohm": 2e3}]
    result = sweep(circuit, pts, executor=pool, cache_dir=tmp_path, quiet=True)
    assert result.ok.tolist() == [True, False, True]
    (error,) = result.errors
    assert error.index == 1 and error.kind == "simulation" and "unphysical" in error.message
    v = result["a"]
    assert v[0] == pytest.approx(1e-3) and np.isnan(v[1]) and v[2] == pytest.approx(4e-3)
    with pytest.raises(Exception, match="1 of 3 sweep points failed"):
        result.raise_errors()


def test_cache_hit_miss_and_corruption(circuit, points, pool, reference, tmp_path):
    first = sweep(circuit, points, executor=pool, cache_dir=tmp_path, quiet=True)
    assert (first.n_cached, first.n_computed) == (0, len(points))
    again = sweep(circuit, points, executor=pool, cache_dir=tmp_path, quiet=True)
    assert (again.n_cached, again.n_computed) == (len(points), 0)
    np.testing.assert_array_equal(again[ID], reference)
    # a changed netlist (other temperature default) misses
    hot = sweep(circuit, [{**p, "temp_c": 60.0} for p in points[:3]], executor=pool, cache_dir=tmp_path, quiet=True)
    assert hot.n_computed == 3 and np.all(hot[ID] > reference[:3])
    # corrupt two rows: flipped bytes and a truncated blob
    with sqlite3.connect(tmp_path / "sweeps.sqlite") as db:
        rows = db.execute("SELECT rowid, blob FROM points ORDER BY rowid LIMIT 2").fetchall()
        db.execute("UPDATE points SET blob = ? WHERE rowid = ?", (bytes(rows[0][1])[:-7] + b"garbage", rows[0][0]))
        db.execute("UPDATE points SET blob = ? WHERE rowid = ?", (bytes(rows[1][1])[:40], rows[1][0]))
    healed = sweep(circuit, points, executor=pool, cache_dir=tmp_path, quiet=True)
    assert (healed.n_corrupt, healed.n_computed) == (2, 2)
    np.testing.assert_array_equal(healed[ID], reference)
    # a database file that is not a database at all is moved aside and rebuilt
    for extra in tmp_path.glob("sweeps.sqlite-*"):
        extra.unlink()
    (tmp_path / "sweeps.sqlite").write_bytes(b"this is not sqlite" * 100)
    rebuilt = sweep(circuit, points[:4], executor=pool, cache_dir=tmp_path, quiet=True)
    assert rebuilt.n_computed == 4 and list(tmp_path.glob("sweeps.sqlite.corrupt-*"))
    np.testing.assert_array_equal(rebuilt[ID], reference[:4])


def test_one_and_two_workers_give_identical_results(circuit, points, reference, tmp_path):
    one = sweep(circuit, points, workers=1, use_cache=False, quiet=True)
    np.testing.assert_array_equal(one[ID], reference)


def _engine_children(exclude: set[int] = frozenset()) -> list[psutil.Process]:
    """Live ngspice worker processes below this process, except the pids in ``exclude`` (zombies of
    earlier tests are ignored)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if (proc.pid not in exclude and proc.status() != psutil.STATUS_ZOMBIE
                    and "netlists._engine" in " ".join(proc.cmdline())):  # fmt: skip
                found.append(proc)
        except (psutil.ZombieProcess, psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _gone(pids: list[int], within_s: float = 5.0) -> bool:
    """True once none of ``pids`` is a live process (waits up to ``within_s`` seconds)."""
    import time

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                alive += [pid] if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE else []
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False


def test_killed_ngspice_workers_are_recovered(circuit, points, reference, tmp_path):
    """One ngspice worker killed mid-sweep, then every one at once: the chunks are rerun on fresh ones."""
    before = {p.pid for p in _engine_children()}  # other tests' workers (e.g. the shared pool's)
    killed: list[int] = []

    def kill(how_many):
        def callback(done, total):
            if not killed and done >= 8:
                victims = _engine_children(before)
                if len(victims) >= min(how_many, 2):
                    for victim in victims[:how_many]:
                        victim.kill()
                        killed.append(victim.pid)
        return callback

    for how_many, folder in ((1, "a"), (2, "b")):
        killed.clear()
        result = sweep(circuit, points, workers=2, chunk_size=2, cache_dir=tmp_path / folder, quiet=True,
                       callback=kill(how_many))  # fmt: skip
        assert len(killed) == how_many and result.ok.all()
        np.testing.assert_array_equal(result[ID], reference)
        assert not _engine_children(before)  # the sweep's own workers end with it


def test_interrupted_sweep_leaves_no_ngspice_worker(circuit, points, tmp_path):
    """Ctrl-C (here raised from the callback) stops the sweep at once and ends its ngspice workers."""
    before = {p.pid for p in _engine_children()}
    seen: list[int] = []

    def interrupt(done, total):
        seen.extend(p.pid for p in _engine_children(before))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(circuit, points, workers=2, chunk_size=2, use_cache=False, quiet=True, callback=interrupt)
    assert seen and _gone(seen)


def test_engine_pool_starts_its_ngspice_workers_at_once_and_ends_them_on_shutdown():
    """The default executor: each thread brings up its ngspice worker before any task asks for it."""
    import threading
    import time

    before = {p.pid for p in _engine_children()}
    with EnginePool(2) as pool:
        deadline = time.monotonic() + 120  # start-up on a loaded machine; not a timing check
        while len(pool.engine_pids) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = pool.engine_pids
        assert len(pids) == 2 and {p.pid for p in _engine_children(before)} == set(pids)
        threads = {pool.submit(lambda: threading.current_thread().name).result(timeout=60) for _ in range(8)}
        assert threads <= {"ngspice-sweep-0", "ngspice-sweep-1"}
    assert _gone(pids)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(print)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_engine_pool_rejects_a_bad_worker_count(workers):
    with pytest.raises(ParameterError, match=f"EnginePool workers must be a positive integer, got {workers!r}"):
        EnginePool(workers)


def test_interrupted_sweep_resumes_from_cache(circuit, points, reference, tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        from netlists import get_technology
        from netlists.sweep import grid, mos_op_circuit, sweep
        if __name__ == "__main__":
            pts = grid(w_m=[1e-6, 4e-6], l_m=[0.15e-6, 1e-6], vg=np.linspace(0.1, 0.8, 8), vd=[0.05, 0.5])
            def die(done, total):
                if done >= 12:
                    os.kill(os.getpid(), signal.SIGKILL)
            sweep(mos_op_circuit(get_technology("sky130")), pts, workers=1, chunk_size=4,
                  cache_dir={str(tmp_path)!r}, quiet=True, callback=die)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:  # a file, not a pipe: orphaned pool workers would hold a pipe open
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True)
        try:
            returncode = proc.wait(120)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the killed sweep's own pool workers, if any remain
            except ProcessLookupError:
                pass
    assert returncode == -signal.SIGKILL, log.read_text()[-2000:]
    resumed = sweep(circuit, points, workers=1, cache_dir=tmp_path, quiet=True)
    assert resumed.n_cached >= 12 and resumed.n_computed == len(points) - resumed.n_cached
    np.testing.assert_array_equal(resumed[ID], reference)


def test_dask_local_cluster_gives_the_same_numbers(circuit, points, reference, tmp_path, monkeypatch):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # never skip: a missing extra is an error here
        pytest.fail(f"dask.distributed is not installed ({exc}); install the extra: pip install '.[dask]'")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        result = sweep(circuit, points, executor=client.get_executor(), cache_dir=tmp_path, quiet=True)
        assert len(client.scheduler_info()["workers"]) == 2
    assert result.ok.all()
    np.testing.assert_array_equal(result[ID], reference)


def test_monte_carlo_temperature_and_corners(pool, tmp_path):
    mm = mos_op_circuit(get_technology("sky130", mismatch=True), w_m=1e-6, l_m=0.5e-6, vgs_v=0.35)
    result = sweep(mm, mc_samples(6) + mc_samples(2), executor=pool, cache_dir=tmp_path, quiet=True)
    current = result[ID]
    np.testing.assert_array_equal(current[6:], current[:2])  # same seed, same sample
    assert np.std(np.log(current[:6])) > 0.02  # mismatch spreads subthreshold currents
    temps = sweep(mm, [{"mc_seed": 1, "temp_c": t} for t in (0.0, 27.0, 80.0)], executor=pool, cache_dir=tmp_path, quiet=True)
    assert np.all(np.diff(temps[ID]) > 0) and temps[ID][1] == current[0]
    corners = sweep(lambda corner: mos_op_circuit(get_technology("sky130", corner=corner)),
                    grid(corner=["ss", "tt", "ff"], vg=[0.3]), structure=("corner",), executor=pool, cache_dir=tmp_path, quiet=True)
    assert np.all(np.diff(corners[ID]) > 0)


def test_fresh_per_point_gives_the_same_points_from_a_fresh_load(circuit, points, pool, reference, tmp_path):
    """``fresh_per_point`` reloads before every point (params, sources and seeds still applied): a grid
    and Monte Carlo give the numbers of the load-once path."""
    import dataclasses

    fresh = dataclasses.replace(circuit, fresh_per_point=True)
    result = sweep(fresh, points[:12], executor=pool, use_cache=False, quiet=True)
    np.testing.assert_allclose(result[ID], reference[:12], rtol=1e-9)
    mm = mos_op_circuit(get_technology("sky130", mismatch=True), w_m=1e-6, l_m=0.5e-6, vgs_v=0.35)
    once = sweep(mm, mc_samples(3), executor=pool, use_cache=False, quiet=True)[ID]
    again = sweep(dataclasses.replace(mm, fresh_per_point=True), mc_samples(3), executor=pool, use_cache=False, quiet=True)[ID]
    np.testing.assert_allclose(again, once, rtol=1e-9)


@pytest.mark.parametrize(
    "point, message",
    [
        ({"w_um": 1.0}, r"sweep point 0: unknown parameter 'w_um'; allowed: w_m, l_m, vd, vg"),
        ({"vg": float("nan")}, r"sweep point 0: vg must be finite"),
        ({"vg": "0.3; shell"}, r"sweep point 0: vg must be a finite number"),
        ({"l_m": None}, r"sweep point 0: l_m must be a number"),
        ({"mc_seed": 1.5}, r"mc_seed must be an integer"),
        ({"bad name": 1.0}, r"parameter name must be an identifier"),
    ],
)
def test_invalid_points_are_rejected_naming_the_parameter(circuit, point, message):
    with pytest.raises(ParameterError, match=message):
        sweep(circuit, [point], use_cache=False, quiet=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"params": {"1w": 1.0}}, r"sweep param name must be an identifier"),
        ({"params": {"w": float("inf")}}, r"sweep param w must be finite"),
        ({"params": {"nope": 1.0}}, r"sweep param 'nope' is not used"),
        ({"sources": {"r1": 1.0}}, r"sweep source 'r1' is not an independent source"),
        ({"text": "* t\n.control\nshell ls\n.endc\n.end\n"}, r"forbidden statement"),
    ],
)
def test_invalid_circuits_are_rejected(kwargs, message):
    args = {"text": "* t\nv1 a 0 dc 1\nr1 a 0 {w}\n.op\n.end\n", "params": {"w": 1.0}, **kwargs}
    with pytest.raises(Exception, match=message):
        SweepCircuit(**args)
