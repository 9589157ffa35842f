"""Time limits, staged outputs and the mode table of the command line (issue 12)."""

from __future__ import annotations

import argparse
import errno
import os
import stat
import time

import numpy as np
import pytest

from logdomain._io import StagedOutputs
from logdomain.cli._modes import APPLIES
from logdomain.cli import build_parser, main

#: how late a stopped command may end on a loaded 2-core machine, s
STOP_SLACK_S = 30.0
SPICE_COMMANDS = (["doctor"], ["simulate", "nmos"], ["sweep", "nmos"], ["calibrate"], ["train"], ["compare"])


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


@pytest.mark.parametrize("argv", SPICE_COMMANDS, ids=lambda a: a[0])
def test_spice_commands_document_their_time_limits(argv, capsys):
    assert main([*argv[:1], "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--timeout SECONDS" in text and "--point-timeout SECONDS" in text
    assert "0.01..86400 s" in text  # the allowed range is stated


@pytest.mark.parametrize("option", ["--timeout", "--point-timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "86401", "1 s"])
def test_time_limits_are_validated(option, value, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "nmos", option, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0] and "0.01" in err[0]


def test_run_timeout_stops_the_command_and_the_simulator_recovers(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    code = main(["simulate", "learner", "--tech", "bsim", "--timeout", "1", "--plot", str(tmp_path / "w.png")])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith("logdomain: error: --timeout: the command did not finish within 1 s")
    assert 1.0 <= elapsed < 1.0 + STOP_SLACK_S
    assert list(tmp_path.iterdir()) == []
    # the interrupted ngspice worker was replaced: the next command in this process works
    assert main(["simulate", "nmos", "--tech", "ekv", "--json"]) == 0


def test_point_timeout_fails_the_run_naming_the_option(capsys):
    code = main(["simulate", "nmos", "--tech", "sky130", "--point-timeout", "0.01"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "exceeded its timeout" in err[-1] and "--point-timeout" in err[-1]


def _dests(parser: argparse.ArgumentParser) -> set[str]:
    """Dests of ``parser`` and of its own subcommands (``ep train``), and their defaults."""
    out = set(parser._defaults)
    for action in parser._actions:
        out.add(action.dest)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= _dests(sub)
    return out


def test_mode_table_names_real_options():
    for command, (mode_dest, table) in APPLIES.items():
        dests = _dests(_subparser(command))
        assert mode_dest in dests and set(table) <= dests, (command, set(table) - dests)


def test_ep_options_of_the_spice_backend_are_refused_with_behavioural(capsys):
    assert main(["ep", "train", "--data", "wine", "--workers", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["logdomain: error: --workers does not apply to --backend behavioural (only to --backend spice)"]


def test_a_default_value_given_explicitly_is_still_refused(capsys):
    # --bits 8 is the default, but it was given: the ideal model has no resolution
    assert main(["train", "--model", "ideal", "--bits", "8"]) == 2
    assert "--bits does not apply to --model ideal (only to --model analog)" in capsys.readouterr().err


# -- staged outputs: all or nothing, beside the target ---------------------------------------------


def test_staged_outputs_appear_together_with_ordinary_permissions(tmp_path):
    with StagedOutputs() as out:
        (tmp_path / "old.txt").write_text("old")
        for name in ("a.txt", "old.txt"):
            with open(out.file(tmp_path / name), "w") as stream:
                stream.write(name)
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["old.txt"]
        assert (tmp_path / "old.txt").read_text() == "old"  # untouched until the commit
    assert (tmp_path / "a.txt").read_text() == "a.txt" and (tmp_path / "old.txt").read_text() == "old.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "old.txt"]  # no staging leftovers
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o666 & ~mask


def test_staged_outputs_vanish_when_the_block_fails(tmp_path):
    (tmp_path / "keep.txt").write_text("earlier result")
    with pytest.raises(RuntimeError):
        with StagedOutputs() as out:
            with open(out.file(tmp_path / "keep.txt"), "w") as stream:
                stream.write("half")
            plots = out.folder(tmp_path)
            (plots / "p.png").write_bytes(b"x")
            raise RuntimeError("the run failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "earlier result"


def test_a_write_that_fails_at_the_end_leaves_nothing(tmp_path, monkeypatch, capsys):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    code = main(["sweep", "nmos", "--tech", "ekv", "--sweep", "vgs_v=0.2,0.3", "--no-cache", "--quiet", "--workers", "1",
                 "--out", str(tmp_path / "g.npz")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "No space left on device" in err[0]
    assert list(tmp_path.iterdir()) == []
