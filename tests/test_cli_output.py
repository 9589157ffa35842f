"""Output a person can read (issue 13): the human renderer, file modes, created folders, progress."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import stat
from pathlib import Path

import pytest

from calibration import load_calibration
from logdomain._io import StagedOutputs, write_atomic
from logdomain.cli._render import render_human
from logdomain.cli import main


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# -- the renderer -----------------------------------------------------------------------------------


def test_nested_results_become_aligned_lines_tables_and_units():
    data = {
        "file": "c.json",
        "devices": {"n": {"i_spec_sq_a": 4.5e-7, "vt0_v": 0.5, "n": 1.35, "temp_nom_c": 27.0, "bex": -1.5},
                    "p": {"i_spec_sq_a": 1.2e-7, "vt0_v": 0.45, "n": 1.4, "temp_nom_c": 27.0, "bex": -1.5}},
        "tau_s": 0.06979694, "runtime_s": 1234.5, "ok": True, "errors": [],
        "nmse_vs_ideal_percentiles": {"p5": 0.0123456, "p50": 0.25, "p95": 1.5},
        "vgs_v": [i / 100 for i in range(50)],
    }  # fmt: skip
    text = render_human(data)
    assert "{'" not in text and "['" not in text
    lines = text.splitlines()
    assert "file:      c.json" in lines  # aligned on the longest scalar key of the block
    assert "tau_s:     69.8 ms" in lines and "runtime_s: 1.234 ks" in lines and "ok:        yes" in lines
    device_rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("  ") and line.split()}
    assert device_rows["i_spec_sq_a"] == ["450", "nA", "120", "nA"] and device_rows["vt0_v"] == ["500", "mV", "450", "mV"]
    header, row = lines[lines.index("nmse_vs_ideal_percentiles:") + 1:][:2]
    assert header.split() == ["p5", "p50", "p95"] and row.split() == ["0.01235", "0.25", "1.5"]
    assert "vgs_v:     50 values, 0 V … 490 mV (--json lists them)" in lines


def test_weights_are_listed_beside_their_feature_names():
    text = render_human({"features": ["age", "bmi", "intercept"], "weights": [0.0125, -0.25, 1.0]})
    rows = [line.split() for line in text.splitlines()]
    assert rows == [["weights:"], ["feature", "weight"], ["age", "0.0125"], ["bmi", "-0.25"], ["intercept", "1"]]


def test_train_prints_for_a_person_and_json_is_unchanged(capsys):
    assert main(["train", "--epochs", "1"]) == 0
    human = capsys.readouterr().out
    assert "{'" not in human and "['" not in human and "feature" in human
    assert main(["train", "--epochs", "1", "--json"]) == 0
    text = capsys.readouterr().out
    data = json.loads(text)
    assert text == json.dumps(data, indent=1, allow_nan=False) + "\n"  # the --json form: indent 1, strict
    for name, weight in zip(data["features"], data["weights"]):  # every weight, named
        assert any(line.split()[:1] == [name] and len(line.split()) == 2 for line in human.splitlines()), name
    assert any(line.split() == ["n_train:", str(data["n_train"])] for line in human.splitlines())


# -- files and folders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_get_the_mode_of_a_new_file(tmp_path, mask):
    with _umask(mask):
        write_atomic(tmp_path / "a.txt", lambda tmp: Path(tmp).write_text("a"))
        load_calibration(__import__("calibration").default_calibration_path()).save(tmp_path / "c.json")
    assert _mode(tmp_path / "a.txt") == 0o666 & ~mask
    assert _mode(tmp_path / "c.json") == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "c.json"]  # no temporary left


def test_a_staged_folder_is_created_with_its_parents_only_at_the_commit(tmp_path):
    target = tmp_path / "a" / "b" / "plots"
    with _umask(0o022):
        with pytest.raises(RuntimeError):
            with StagedOutputs() as out:
                (out.folder(target) / "p.png").write_bytes(b"x")
                raise RuntimeError("the run failed")
        assert list(tmp_path.iterdir()) == []  # no folder made, no staging left
        with StagedOutputs() as out:
            (out.folder(target) / "p.png").write_bytes(b"x")
            assert not (tmp_path / "a").exists()
    assert (target / "p.png").read_bytes() == b"x" and _mode(target) == 0o755
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


@pytest.fixture(scope="module")
def calibrate_run(tmp_path_factory):
    """``calibrate --tech ekv --quick`` into missing nested folders, stderr a terminal, umask 022."""
    folder = tmp_path_factory.mktemp("calibrate")
    out, err = io.StringIO(), _Terminal()
    with _umask(0o022), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["calibrate", "--tech", "ekv", "--quick", "--out", str(folder / "c.json"),
                     "--plots", str(folder / "new" / "deeper" / "plots")])  # fmt: skip
    return code, out.getvalue(), err.getvalue(), folder


def test_calibrate_prints_for_a_person(calibrate_run):
    code, out, err, folder = calibrate_run
    assert code == 0, err
    assert "{'" not in out and "['" not in out
    assert any(line.split()[:1] == ["vt0_v"] and line.split()[2] == "mV" for line in out.splitlines())


def test_calibrate_creates_the_plots_folder_and_files_readable_by_all(calibrate_run):
    code, _, err, folder = calibrate_run
    plots = folder / "new" / "deeper" / "plots"
    assert code == 0, err
    assert sorted(p.suffix for p in plots.iterdir()) == [".png", ".png"]
    for path in [folder / "c.json", *plots.iterdir()]:
        assert _mode(path) == 0o644, path
    assert _mode(folder / "new") == _mode(plots) == 0o755


def test_calibrate_shows_progress_on_a_terminal_stderr(calibrate_run):
    code, out, err, _ = calibrate_run
    assert code == 0 and "logdomain calibrate" in err and "step" in err
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    done, total = final.split("|")[-1].split()[0].split("/")
    assert int(done) == int(total) > 1  # every step counted
    assert "step/s" not in out and "\r" not in out  # the bar stays off stdout


def test_a_failed_calibrate_leaves_no_folder_and_no_progress_in_a_log(tmp_path, monkeypatch, capsys):
    import calibration.plots

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(calibration.plots, "residual_plots", disk_full)
    code = main(["calibrate", "--tech", "ekv", "--quick", "--out", str(tmp_path / "c.json"), "--plots", str(tmp_path / "a" / "b")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "No space left on device" in err[0]  # no bar: stderr is not a terminal
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("plots", ["f", "f/sub"])
def test_plots_under_or_at_a_file_is_refused(tmp_path, plots, capsys):
    (tmp_path / "f").write_text("keep")
    code = main(["calibrate", "--tech", "ekv", "--out", str(tmp_path / "c.json"), "--plots", str(tmp_path / plots)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--plots" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"] and (tmp_path / "f").read_text() == "keep"


def test_compare_shows_progress_per_learner_run_on_a_terminal_stderr(tmp_path, monkeypatch):
    import logdomain.cli._progress

    monkeypatch.setattr(logdomain.cli._progress, "DELAY_S", 0.0)  # a quick run lasts under the 1 s delay
    out, err = io.StringIO(), _Terminal()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["compare", "--task", "synthetic", "--quick", "--epochs", "1", "--out", str(tmp_path / "r")])
    err = err.getvalue()
    assert code == 0, err
    assert "logdomain compare" in err and "run" in err
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    done, total = final.split("|")[-1].split()[0].split("/")
    assert int(done) == int(total) > 10  # headline, bits, grid and budget runs all counted
    assert "\r" not in out.getvalue()
