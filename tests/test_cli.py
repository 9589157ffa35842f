"""The CLI contract (shared/DESIGN.md §7) for the foundation commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logdomain.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_doctor_json():
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ngspice_version"].startswith("39") or data["ngspice_version"][0].isdigit()
    for name in ("ekv", "bsim", "sky130"):
        assert data["technologies"][name]["available"] is True


def test_netlist_prints_validated_text():
    proc = run_cli("netlist", "multiplier", "--tech", "sky130", "--set", "i_x_a=2n", "--temp-c", "85")
    assert proc.returncode == 0, proc.stderr
    assert "sky130_fd_pr__nfet_01v8" in proc.stdout and ".temp 85" in proc.stdout and "2e-09" in proc.stdout


def test_simulate_nmos_json_and_plot(tmp_path):
    png = tmp_path / "iv.png"
    proc = run_cli("simulate", "nmos", "--tech", "ekv", "--set", "w_m=4u", "--json", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["vgs_v"]) == len(data["id_a"]) > 100
    assert 60 < data["swing_mv_per_decade"] < 100
    assert png.stat().st_size > 10_000


def test_simulate_multiplier_json():
    proc = run_cli("simulate", "multiplier", "--tech", "ekv", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["max_rel_error"] < 0.03 and data["regions_ok"] is True


@pytest.mark.parametrize(
    "args,option",
    [
        (["simulate", "nmos", "--tech", "nope"], "--tech"),
        (["simulate", "nmos", "--temp-c", "500"], "--temp-c"),
        (["simulate", "nmos", "--temp-c", "nan"], "--temp-c"),
        (["simulate", "nmos", "--set", "w_m=-1"], "w_m"),
        (["simulate", "nmos", "--set", "bogus=1"], "bogus"),
        (["simulate", "nmos", "--set", "novalue"], "--set"),
        (["simulate", "multiplier", "--set", "i_x_a=1A"], "i_x_a"),
        (["simulate", "nmos", "--corner", "xx"], "--corner"),
        (["netlist", "nosuchblock"], "block"),
        (["simulate", "nmos", "--plot", "out.txt"], "--plot"),
    ],
)
def test_bad_input_exit_2_one_line(args, option, tmp_path):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], proc.stderr
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing half-written
