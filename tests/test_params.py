"""Validation: hostile values never reach netlist text."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netlists import (
    MosBenchParams,
    MultiplierParams,
    NetlistError,
    ParameterError,
    SimParams,
    blocks,
    check_identifier,
    get_technology,
    parse_number,
    spice_number,
)
from netlists.netlist import Analysis, NetlistBuilder
from netlists.runner import guard_netlist_text

HOSTILE_NUMBERS = [
    "1\n.control",
    "1\nshell touch /tmp/x",
    ".control",
    "shell rm -rf /",
    "1; shell ls",
    "1u;",
    "2u\n",
    "\n2u",
    " 2u",
    "2u ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    float("nan"),
    float("inf"),
    float("-inf"),
    "1e999",
    "1e+1000",
    "2µ",
    "２u",
    "1u\u2028",
    "1u\x00",
    "1/0",
    "{1}",
    "'1'",
    "1u*2",
    "exp(1)",
    "v(a)",
    "",
    " ",
    "u",
    "1uu",
    "1 u",
    "1e",
    "--1",
    "0x10",
    "1,5u",
    None,
    [1],
    {"a": 1},
    b"1u",
    True,
    complex(1, 1),
    "1.0.0",
    "1mega",
    "\t1",
    "1\r",
    "$(touch /tmp/x)",
    "`id`",
]

OUT_OF_RANGE = [
    ("w_m", -1e-6),
    ("w_m", 0),
    ("w_m", 1.0),
    ("w_m", "10meg"),
    ("l_m", 1e-9),
    ("l_m", "-2u"),
    ("vds_v", -0.1),
    ("vds_v", 100),
    ("vgs_step_v", 0),
    ("vgs_step_v", 1e-9),
]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=lambda v: repr(v)[:30])
def test_hostile_values_rejected_by_params(value):
    with pytest.raises(ParameterError, match=r"MosBenchParams\.w_m"):
        MosBenchParams(w_m=value)


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=lambda v: repr(v)[:30])
def test_hostile_values_rejected_by_cli(value, capsys):
    from logdomain.cli import main

    if not isinstance(value, str):  # a command line only carries strings
        value = repr(value)
    code = main(["netlist", "nmos", "--set", f"w_m={value}"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "w_m" in captured.err


@pytest.mark.parametrize("field,value", OUT_OF_RANGE)
def test_out_of_range_names_field_and_range(field, value):
    with pytest.raises(ParameterError) as info:
        MosBenchParams(**{field: value})
    message = str(info.value)
    assert f"MosBenchParams.{field}" in message
    assert "[" in message and "]" in message  # the allowed range is stated


@pytest.mark.parametrize("name", ["a b", "a\nb", ".control", "1abc", "", "x" * 65, "a;b", "a-b", "ä", None, 3])
def test_identifiers(name):
    with pytest.raises(ParameterError, match="identifier"):
        check_identifier(name)


@pytest.mark.parametrize(
    "text,value",
    [("10n", 10e-9), ("2u", 2e-6), ("2.5U", 2.5e-6), ("1meg", 1e6), ("1MEG", 1e6), ("3m", 3e-3), ("1e-9", 1e-9), ("-4p", -4e-12), (".5k", 500.0), (7, 7.0)],
)
def test_si_suffixes(text, value):
    assert math.isclose(parse_number(text), value, rel_tol=1e-12)


#: text ngspice reads as a number (manual §2.3.1: number, scale factor T G Meg K mil m u n p f,
#: case-insensitive, letters after it ignored) and the value it reads
NGSPICE_NUMBERS = [
    ("2um", 2e-6), ("10nA", 10e-9), ("2uA", 2e-6), ("1meg", 1e6), ("1MEGohm", 1e6), ("1m", 1e-3),
    ("1M", 1e-3), ("1MA", 1e-3), ("1mil", 25.4e-6), ("1e-6", 1e-6), ("1e-3k", 1.0), ("2V", 2.0),
    ("2A", 2.0), ("2.5Hz", 2.5), ("2F", 2e-15), ("3pF", 3e-12), ("2mm", 2e-3), ("-4volts", -4.0),
]


@pytest.mark.parametrize("text,value", NGSPICE_NUMBERS)
def test_unit_letters_after_scale_factor(text, value):
    assert math.isclose(parse_number(text), value, rel_tol=1e-12)


@pytest.mark.parametrize("text", ["2um", "10nA", "1M", "1mil", "2kOhm", "2A", "2F", "1e-3k"])  # |v| < 1e4 (runner guard)
def test_numbers_read_as_ngspice_reads_them(simulator, text):
    """The independent reference: ngspice itself reads the same text as the same value."""
    result = simulator.run_text(f"* t\nv1 a 0 {text}\nr1 a 0 1\n.op\n.end\n")
    assert math.isclose(float(result.voltage("a")[0]), parse_number(text), rel_tol=1e-9)


# "1x" and "2uu": ngspice ignores unknown letters (reads 1 and 2e-6); we refuse them as likely typos
@pytest.mark.parametrize("text", ["1x", "2uu", "1 u", "u", "1e", "--1", "1e999", "-1e999u", "inf", "nan", "1µ", "2um;", ""])
def test_nonsense_and_non_finite_refused(text):
    with pytest.raises(ParameterError, match="w_m"):
        parse_number(text, "w_m")


def test_spice_number_refuses_non_finite():
    with pytest.raises(ParameterError):
        spice_number(float("nan"))


def test_unknown_parameter_lists_allowed():
    with pytest.raises(ParameterError, match="allowed: .*w_m"):
        MosBenchParams.from_assignments({"wm": "1u"})


def test_cross_field_check():
    with pytest.raises(ParameterError, match="vgs_stop_v"):
        MosBenchParams(vgs_start_v=0.5, vgs_stop_v=0.4)


def test_params_are_frozen():
    p = MultiplierParams()
    with pytest.raises(Exception):
        p.i_x_a = 1.0  # type: ignore[misc]


def test_builder_rejects_bad_names():
    nb = NetlistBuilder("t", get_technology("ekv"))
    with pytest.raises(ParameterError):
        nb.vsource("v1\n.control", "a", "0", 1.0)
    with pytest.raises(ParameterError):
        nb.vsource("v1", "a b", "0", 1.0)
    with pytest.raises(ParameterError):
        nb.isource("i1", "a", "0", float("nan"))
    nb.vsource("v1", "a", "0", 1.0)
    with pytest.raises(NetlistError, match="duplicate"):
        nb.vsource("V1", "b", "0", 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "* t\nv1 a 0 1\n.control\nshell touch /tmp/x\n.endc\n.end\n",
        "* t\nv1 a 0 1\n.CONTROL\n.end\n",
        "* t\nshell touch x\n.end\n",
        "* t\nv1 a 0 1 µ\n.end\n",
        "* t\nv1 a 0 1\x07\n.end\n",
    ],
)
def test_guard_rejects_control_text(text):
    with pytest.raises(NetlistError):
        guard_netlist_text(text)


def test_shell_attempt_creates_no_file(tmp_path, simulator):
    """Every route a user string could take is tried; the marker file must never appear."""
    marker = tmp_path / "pwned"
    payloads = [f"1\n.control\nshell touch {marker}\n.endc", f"1;shell touch {marker}", f"shell touch {marker}"]
    for payload in payloads:
        with pytest.raises(ParameterError):
            MosBenchParams(w_m=payload)
        with pytest.raises(ParameterError):
            NetlistBuilder(payload, get_technology("ekv"))
    # hand-written text is refused before it reaches ngspice
    with pytest.raises(NetlistError):
        simulator.run_text(f"* t\nv1 a 0 1\n.control\nshell touch {marker}\n.endc\n.op\n.end\n")
    # the CLI refuses it too
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "logdomain.cli", "simulate", "nmos", "--set", f"w_m=1u\n.control\nshell touch {marker}\n.endc"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert not marker.exists()
    assert not (Path.cwd() / "pwned").exists()


def test_netlist_text_contains_only_validated_values():
    tech = get_technology("ekv")
    text = blocks.multiplier(tech, MultiplierParams(i_x_a="2n")).text(SimParams(temp_c=40))
    assert "2e-09" in text
    assert ".temp 40" in text
    assert "gmin=1e-15" in text
    guard_netlist_text(text)


def test_analysis_kind_validated():
    with pytest.raises(NetlistError):
        Analysis("ac").card()
