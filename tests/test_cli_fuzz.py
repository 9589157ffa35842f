"""Hostile input for every command (issue 12): no traceback, no hang, strict JSON, nothing left behind.

A table of cases, each a command line and the exit statuses it may end with, grouped by what it
attacks: sweep bounds, divergent training, unbounded work, CSV edge cases, calibration files,
output paths, options that do not apply to the chosen mode, other bad values, time limits, model
files (``--model-file``, issue 13 item 3), and runs that must work. Most cases call
:func:`logdomain.cli.main` in-process (stdout and stderr captured); the few that need a real process (a user who cannot write, a deadline in a separate
interpreter) run as subprocesses with a timeout.

For every case: the exit status is one of those allowed; stderr has no traceback and no
"internal error"; a refused run (exit 2) printed exactly one line, to stderr, and nothing to
stdout; a failed run (exit 1) ended with one ``logdomain:`` line; ``--json`` output parses as
strict JSON (no NaN/Infinity); a run that did not succeed left no file in its working folder;
and no case runs longer than :data:`HANG_S` (a watchdog fails the whole session otherwise).
"""

from __future__ import annotations

import faulthandler
import json
import math
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from logdomain.cli import main

ROOT = Path(__file__).resolve().parents[1]
#: no in-process case may take longer (a hang dumps every thread's stack and ends the session)
HANG_S = 300
DIABETES = ("--task", "diabetes")


@dataclass(frozen=True)
class Case:
    """``argv`` with ``{w}`` standing for the case's working folder; ``setup(w)`` makes its files."""

    category: str
    name: str
    argv: tuple[str, ...]
    codes: frozenset[int]
    setup: Callable[[Path], None] | None = None
    outputs: tuple[str, ...] = ()  # files a successful run writes into the working folder
    subprocess: bool = False
    env: dict[str, str] = field(default_factory=dict)


CASES: list[Case] = []


def case(category: str, name: str, argv, codes=(2,), **kw) -> None:
    CASES.append(Case(category, name, tuple(argv), frozenset(codes), **kw))


# ------------------------------------------------------------------------------ file makers


def _file(name: str, content: bytes | str):
    def make(w: Path) -> None:
        (w / name).write_bytes(content.encode() if isinstance(content, str) else content)

    return make


def _fifo(name: str):
    return lambda w: os.mkfifo(w / name)


def _folder(name: str):
    return lambda w: (w / name).mkdir()


def _symlink(name: str, target: str):
    return lambda w: os.symlink(target, w / name)


def _sparse(name: str, size: int):
    def make(w: Path) -> None:
        with open(w / name, "wb") as stream:
            stream.truncate(size)

    return make


def _calibration(**changes):
    """The shipped calibration with some block fields changed (``"__top__"``: top-level keys)."""

    def make(w: Path) -> None:
        from calibration import default_calibration_path

        data = json.loads(default_calibration_path().read_text())
        blocks = dict(changes)
        data.update(blocks.pop("__top__", {}))
        data["blocks"].update(blocks)
        (w / "cal.json").write_text(json.dumps(data))

    return make


def _both(*makers):
    def make(w: Path) -> None:
        for maker in makers:
            maker(w)

    return make


# -------------------------------------------------------------------------- sweep and its bounds

SWEEP = ("sweep", "nmos", "--tech", "ekv", "--out", "{w}/grid.npz")
for quantity, values in {
    "w_m": ["0", "-1u", "1e-9", "2", "1e400"],
    "l_m": ["0", "-2u", "1e-8", "1"],
    "vgs_v": ["-5", "10", "nan", "inf"],
    "vds_v": ["-0.1", "4", "1e9"],
    "temp_c": ["-300", "500", "1e6", "-inf"],
}.items():
    for value in values:
        case("sweep bounds", f"--sweep {quantity}={value}", (*SWEEP, "--sweep", f"{quantity}={value}"))
    case("sweep bounds", f"--set {quantity}={values[0]}", (*SWEEP, "--sweep", "vgs_v=0.3" if quantity != "vgs_v" else "w_m=1u",
                                                          "--set", f"{quantity}={values[0]}"))  # fmt: skip
for spec in ["w_m=1u:0.5u:1u", "vgs_v=0.1:0.5:0", "vgs_v=0:1:1e-9", "vgs_v=0.1:0.2", "vgs_v=", "vgs_v=abc",
             "vgs_v=0.3;shell ls", "nope=1", "=0.3", "vgs_v", "vgs_v=0.1,,0.2", "vgs_v=1e400"]:  # fmt: skip
    case("sweep bounds", f"--sweep {spec}", (*SWEEP, "--sweep", spec))
for option, value in [("--workers", "0"), ("--workers", "1000"), ("--workers", "abc"), ("--workers", "1.5"),
                      ("--mc", "-1"), ("--mc", "1.5"), ("--mc", "1e9"), ("--point-timeout", "0"),
                      ("--point-timeout", "-1"), ("--point-timeout", "nan"), ("--point-timeout", "1e9"),
                      ("--timeout", "0"), ("--timeout", "abc"), ("--corner", "ss")]:  # fmt: skip
    case("sweep bounds", f"{option} {value}", (*SWEEP, "--sweep", "vgs_v=0.3", option, value))
case("sweep bounds", "--mc on ekv", (*SWEEP, "--sweep", "vgs_v=0.3", "--mc", "3"))
case("sweep bounds", "too many points", ("sweep", "nmos", "--tech", "ekv", "--sweep", "vgs_v=0:1:0.0001",
                                         "--sweep", "w_m=1u:100u:1u", "--out", "{w}/grid.npz"))  # fmt: skip

# ------------------------------------------------------------------ divergent training, big work

for model in ("ideal", "continuous", "analog"):
    for eta in ("3", "100", "1e10", "1e308"):
        case("divergence", f"train {model} --eta {eta}", ("train", "--model", model, "--eta", eta, "--json"))
for lam in ("1e3", "1e10", "1e300"):
    case("divergence", f"train --lam {lam}", ("train", "--eta", "0.05", "--lam", lam, "--json"))
for eta in ("nan", "inf", "-1", "0", "abc", ""):
    case("divergence", f"train --eta {eta!r}", ("train", "--eta", eta))
case("divergence", "compare --eta 100", ("compare", "--eta", "100", "--quick", "--out", "{w}/report", "--json"))
case("divergence", "compare --lam 1e6", ("compare", "--lam", "1e6", "--quick", "--out", "{w}/report", "--json"))
case("divergence", "train analog --eta 0.3 --lam 50", ("train", "--model", "analog", "--eta", "0.3", "--lam", "50"))

for argv in [("train", "--epochs", "1000000000"), ("train", "--epochs", "10000"), ("train", "--epochs", "-1"),
             ("train", "--epochs", "1e3"), ("train", "--model", "analog", "--dies", "100000"),
             ("train", "--model", "analog", "--substeps", "1000", "--epochs", "100"),
             ("train", "--model", "analog", "--dies", "0"), ("train", "--model", "analog", "--substeps", "0"),
             ("compare", "--epochs", "5000", "--out", "{w}/report"),
             ("compare", "--dies", "100000", "--out", "{w}/report"),
             ("train", "--model", "spice", "--epochs", "200", "--data", "{w}/small.csv", "--target", "y")]:  # fmt: skip
    setup = _file("small.csv", "a,b,y\n" + "".join(f"{i % 3},{i % 5},{i % 7}\n" for i in range(40)))
    case("work bounds", " ".join(argv[:5]), argv, setup=setup if "{w}/small.csv" in argv else None)

# --------------------------------------------------------------------------------- CSV edge cases

_CSV: dict[str, tuple[Callable[[Path], None], tuple[int, ...]]] = {
    "empty": (_file("d.csv", ""), (2,)),
    "blank lines only": (_file("d.csv", "\n\n\n"), (2,)),
    "header only": (_file("d.csv", "a,b,y\n"), (2,)),
    "one row": (_file("d.csv", "a,b,y\n1,2,3\n"), (2,)),
    "two rows": (_file("d.csv", "a,b,y\n1,2,3\n2,1,4\n"), (2,)),
    "constant target": (_file("d.csv", "a,b,y\n" + "".join(f"{i},{i * i},5\n" for i in range(30))), (2,)),
    "all-zero target": (_file("d.csv", "a,b,y\n" + "".join(f"{i},{i % 4},0\n" for i in range(30))), (2,)),
    "all features zero": (_file("d.csv", "a,b,y\n" + "".join(f"0,0,{i % 5}\n" for i in range(30))), (0, 2)),
    "a zero column": (_file("d.csv", "a,z,y\n" + "".join(f"{i % 7},0,{(i % 7) * 2 + 1}\n" for i in range(30))), (0,)),
    "a constant column": (_file("d.csv", "a,c,y\n" + "".join(f"{i % 7},3,{i % 7 - 2}\n" for i in range(30))), (0,)),
    "nan value": (_file("d.csv", "a,b,y\n1,2,3\nnan,1,2\n3,4,5\n"), (2,)),
    "inf value": (_file("d.csv", "a,b,y\n1,2,3\n1,inf,2\n3,4,5\n"), (2,)),
    "1e400 value": (_file("d.csv", "a,b,y\n1,2,3\n1,1e400,2\n3,4,5\n"), (2,)),
    "text value": (_file("d.csv", "a,b,y\n1,2,3\n1,x,2\n3,4,5\n"), (2,)),
    "huge field": (_file("d.csv", "a,b,y\n1," + "9" * 300_000 + ",3\n2,3,4\n"), (2,)),
    "huge quoted field": (_file("d.csv", 'a,b,y\n1,"' + "x" * 300_000 + '",3\n'), (2,)),
    "huge header field": (_file("d.csv", "a" * 300_000 + ",y\n1,2\n"), (2,)),
    "nul byte": (_file("d.csv", b"a,b,y\n1,2\x00,3\n2,3,4\n"), (2,)),
    "binary": (_file("d.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4), (2,)),
    "latin-1": (_file("d.csv", "a,b,y\n1,2,3\n2,3,4\n".encode() + "é,1,2\n".encode("latin-1")), (2,)),
    "missing target": (_file("d.csv", "a,b,c\n1,2,3\n2,3,4\n"), (2,)),
    "duplicate header": (_file("d.csv", "a,a,y\n1,2,3\n2,3,4\n"), (2,)),
    "empty header name": (_file("d.csv", "a,,y\n1,2,3\n2,3,4\n"), (2,)),
    "ragged rows": (_file("d.csv", "a,b,y\n1,2,3\n1,2\n"), (2,)),
    "too many columns": (_file("d.csv", ",".join(f"c{i}" for i in range(1200)) + ",y\n"), (2,)),
    "fifo": (_fifo("d.csv"), (2,)),
    "folder": (_folder("d.csv"), (2,)),
    "symlink to /dev/zero": (_symlink("d.csv", "/dev/zero"), (2,)),
    "symlink to nothing": (_symlink("d.csv", "/nonexistent/x.csv"), (2,)),
    "huge file": (_sparse("d.csv", 65 * 2**20), (2,)),
    "many rows": (_file("d.csv", "a,y\n" + "1,2\n" * 1_000_100), (2,)),
}
for label, (make, codes) in _CSV.items():
    data = ("--data", "{w}/d.csv", "--target", "y")
    case("csv", f"{label}: train ideal", ("train", *data, "--json"), codes, setup=make)
    analog_codes = codes if label != "all features zero" else (2,)
    case("csv", f"{label}: train analog", ("train", "--model", "analog", *data, "--json"), analog_codes, setup=make)
    if label in ("constant target", "all features zero", "two rows", "huge field", "fifo", "binary", "a zero column"):
        compare_codes = (2,) if label != "a zero column" else (0,)
        outputs = ("report/",) if label == "a zero column" else ()
        case("csv", f"{label}: compare", ("compare", *data, "--quick", "--out", "{w}/report", "--json"), compare_codes,
             setup=make, outputs=outputs)  # fmt: skip
for name, path in [("/dev/zero", "/dev/zero"), ("/dev/null", "/dev/null"), ("/dev/stdin", "/dev/stdin"),
                   ("/proc/self/status", "/proc/self/status"), ("missing", "{w}/missing.csv"), ("/", "/")]:  # fmt: skip
    case("csv", f"--data {name}", ("train", "--data", path, "--target", "y"))
case("csv", "--target without --data", ("train", "--target", "y"))
case("csv", "--data without --target", ("train", "--data", "{w}/d.csv"), setup=_file("d.csv", "a,y\n1,2\n"))
case("csv", "--data and --task", ("train", "--data", "{w}/d.csv", "--target", "y", *DIABETES),
     setup=_file("d.csv", "a,y\n1,2\n"))  # fmt: skip
case("csv", "--target empty", ("train", "--data", "{w}/d.csv", "--target", ""), setup=_file("d.csv", "a,y\n1,2\n"))

# ------------------------------------------------------------------------------ calibration files

_CAL: dict[str, Callable[[Path], None]] = {
    "binary": _file("cal.json", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
    "nul": _file("cal.json", b'{"schema_version": 1\x00}'),
    "deep list": _file("cal.json", "[" * 100_000 + "]" * 100_000),
    "deep object": _file("cal.json", '{"a":' * 50_000 + "1" + "}" * 50_000),
    "big integer": _file("cal.json", '{"schema_version": 1' + "0" * 5000 + "}"),
    "empty": _file("cal.json", ""),
    "array": _file("cal.json", "[]"),
    "truncated": lambda w: (w / "cal.json").write_text(
        __import__("calibration").default_calibration_path().read_text()[:200]),
    "fifo": _fifo("cal.json"),
    "folder": _folder("cal.json"),
    "symlink to /dev/zero": _symlink("cal.json", "/dev/zero"),
    "huge": _sparse("cal.json", 2 * 2**20),
    "version 99": _calibration(__top__={"schema_version": 99}),
    "nonlinearity 1": _calibration(multiplier_nonlinearity=1.0),
    "nonlinearity -1": _calibration(multiplier_nonlinearity=-1.0),
    "tau_rel_error -1": _calibration(tau_rel_error=-1.0),
    "offset beyond unit": _calibration(multiplier_offset_a=1e-6, multiplier_i_unit_a=1e-13),
    "inverted range": _calibration(i_w_min_a=1e-6, i_w_max_a=1e-9),
    "nan": _file("cal.json", '{"schema_version": NaN}'),
    "gain 0": _calibration(multiplier_gain=0.0),
}
for label, make in _CAL.items():
    cal = ("--calibration", "{w}/cal.json")
    case("calibration", f"{label}: train analog", ("train", "--model", "analog", *cal, "--json"), setup=make)
    case("calibration", f"{label}: compare", ("compare", *cal, "--quick", "--out", "{w}/report"), setup=make)
    case("calibration", f"{label}: study asymmetry", ("study", "asymmetry", *cal, "--steps", "200"), setup=make)
for path in ("/dev/zero", "/dev/null", "/", "{w}/missing.json"):
    case("calibration", f"--calibration {path}", ("train", "--model", "analog", "--calibration", path))

# ---------------------------------------------------------------------------------- output paths

for label, argv, make in [
    ("compare --out is a file", ("compare", "--quick", "--out", "{w}/f"), _file("f", "x")),
    ("compare --out is /dev/null", ("compare", "--quick", "--out", "/dev/null"), None),
    ("compare --out under a file", ("compare", "--quick", "--out", "{w}/f/such/report"), _file("f", "x")),
    ("compare --out is a fifo", ("compare", "--quick", "--out", "{w}/p"), _fifo("p")),
    ("calibrate --out is a folder", ("calibrate", "--tech", "ekv", "--quick", "--out", "{w}/c.json"), _folder("c.json")),
    ("calibrate --out parent missing", ("calibrate", "--tech", "ekv", "--out", "{w}/no/c.json"), None),
    ("calibrate --out suffix", ("calibrate", "--tech", "ekv", "--out", "{w}/c.txt"), None),
    ("calibrate --out /dev/null", ("calibrate", "--tech", "ekv", "--out", "/dev/null"), None),
    ("calibrate --out a fifo", ("calibrate", "--tech", "ekv", "--out", "{w}/c.json"), _fifo("c.json")),
    ("calibrate --plots is a file", ("calibrate", "--tech", "ekv", "--out", "{w}/c.json", "--plots", "{w}/f"), _file("f", "")),
    ("calibrate --plots under a file", ("calibrate", "--tech", "ekv", "--out", "{w}/c.json", "--plots", "{w}/f/p"), _file("f", "")),
    ("simulate --plot is a folder", ("simulate", "nmos", "--plot", "{w}/p.png"), _folder("p.png")),
    ("simulate --plot suffix", ("simulate", "nmos", "--plot", "{w}/p.jpg"), None),
    ("simulate --plot parent missing", ("simulate", "nmos", "--plot", "{w}/no/p.png"), None),
    ("simulate --plot /dev/null", ("simulate", "multiplier", "--plot", "/dev/null"), None),
    ("learner --plot is a folder", ("simulate", "learner", "--plot", "{w}/p.png"), _folder("p.png")),
    ("sweep --out is a folder", (*SWEEP[:4], "--sweep", "vgs_v=0.3", "--out", "{w}/g.npz"), _folder("g.npz")),
    ("sweep --out suffix", (*SWEEP[:4], "--sweep", "vgs_v=0.3", "--out", "{w}/g.npy"), None),
    ("sweep --out json sibling is a folder", (*SWEEP[:4], "--sweep", "vgs_v=0.3", "--out", "{w}/g.npz"), _folder("g.json")),
    ("sweep --out /dev/null", (*SWEEP[:4], "--sweep", "vgs_v=0.3", "--out", "/dev/null"), None),
    ("sweep --out a fifo", (*SWEEP[:4], "--sweep", "vgs_v=0.3", "--out", "{w}/g.npz"), _fifo("g.npz")),
    # /proc/sys: a folder no one may create files in (read-only even for root)
    ("sweep --out in a read-only folder", (*SWEEP[:4], "--sweep", "vgs_v=0.3", "--out", "/proc/sys/g.npz"), None),
    ("compare --out in a read-only folder", ("compare", "--quick", "--out", "/proc/sys/report"), None),
    ("calibrate --out in a read-only folder", ("calibrate", "--tech", "ekv", "--out", "/proc/sys/c.json"), None),
    ("simulate --plot in a read-only folder", ("simulate", "nmos", "--plot", "/proc/sys/p.png"), None),
]:  # fmt: skip
    # refused up front (2); where /proc/sys passes the access check, its files still cannot be created (1)
    case("output paths", label, argv, (1, 2) if "/proc/sys" in " ".join(argv) else (2,), setup=make)

# --------------------------------------------------------------- options that do not apply to the mode

for model, options in {
    "ideal": [("--calibration", "x.json"), ("--bits", "8"), ("--dies", "2"), ("--substeps", "4"), ("--tech", "ekv"),
              ("--corner", "tt"), ("--point-timeout", "10")],
    "continuous": [("--calibration", "x.json"), ("--bits", "4"), ("--dies", "1"), ("--tech", "sky130")],
    "analog": [("--tech", "ekv"), ("--corner", "ss"), ("--point-timeout", "5")],
    "spice": [("--calibration", "x.json"), ("--bits", "8"), ("--dies", "3"), ("--substeps", "2")],
}.items():  # fmt: skip
    for option, value in options:
        case("mode options", f"train {model} {option}", ("train", "--model", model, option, value))
for option, value in [("--data", "x.csv"), ("--target", "y"), ("--task", "synthetic"), ("--intercept", None),
                      ("--calibration", "x.json"), ("--test-fraction", "0.5"), ("--bits", "8"), ("--dies", "4"),
                      ("--substeps", "2"), ("--epochs", "3"), ("--out", "r"), ("--quick", None)]:  # fmt: skip
    case("mode options", f"compare --against spice {option}",
         ("compare", "--against", "spice", option, *([value] if value is not None else [])))  # fmt: skip
for option, value in [("--tech", "ekv"), ("--corner", "ss"), ("--dim", "2"), ("--samples", "10"), ("--point-timeout", "9")]:
    case("mode options", f"compare --against ideal {option}", ("compare", option, value, "--out", "{w}/r"))
for option, value in [("--set", "w_m=2u"), ("--set", "nosuchparam=1"), ("--set", "dim=3")]:
    case("mode options", f"simulate learner {option} {value}", ("simulate", "learner", option, value))
for block in ("nmos", "multiplier"):
    for option, value in [("--dim", "2"), ("--samples", "10"), ("--seed", "1"), ("--eta", "0.1"), ("--lam", "0.01"),
                          ("--t-hold-s", "0.01"), ("--design", "wide-temperature"), ("--vdd-v", "1.7")]:  # fmt: skip
        case("mode options", f"simulate {block} {option}", ("simulate", block, option, value))
for argv in [("simulate", "nmos", "--tech", "ekv", "--corner", "ss"), ("netlist", "nmos", "--tech", "bsim", "--corner", "ff"),
             ("calibrate", "--tech", "ekv", "--corner", "tt", "--out", "{w}/c.json"),
             (*SWEEP, "--sweep", "vgs_v=0.3", "--corner", "tt"),
             ("train", "--model", "spice", "--tech", "ekv", "--corner", "ss")]:  # fmt: skip
    case("mode options", "--corner off sky130: " + " ".join(argv[:2]), argv)

# ------------------------------------------------------------------------------ other bad values

for argv in [
    (), ("nosuchcommand",), ("--nosuchoption",), ("simulate",), ("simulate", "nosuchblock"),
    ("simulate", "nmos", "--tech", "nope"), ("simulate", "nmos", "--temp-c", "1e9"), ("simulate", "nmos", "--temp-c", "nan"),
    ("simulate", "nmos", "--temp-c", "-300"), ("simulate", "nmos", "--set", "w_m=0"), ("simulate", "nmos", "--set", "w_m=-1u"),
    ("simulate", "nmos", "--set", "vds_v=100"), ("simulate", "nmos", "--set", "vgs_stop_v=1e9"),
    ("simulate", "nmos", "--set", "vgs_step_v=1e-9"), ("simulate", "multiplier", "--set", "i_x_a=1"),
    ("simulate", "nmos", "--set", "bogus=1"), ("simulate", "nmos", "--set", "=1"), ("simulate", "nmos", "--set", "w_m"),
    ("netlist", "nmos", "--set", "w_m=1u\n.control"), ("netlist", "nmos", "--set", "w_m=1u shell rm -rf /"),
    ("netlist", "multiplier", "--set", "i_x_a=1n\x00"), ("netlist", "nmos", "--set", "w_m=\u00b5"),
    ("simulate", "learner", "--dim", "0"), ("simulate", "learner", "--dim", "9"), ("simulate", "learner", "--dim", "abc"),
    ("simulate", "learner", "--samples", "0"), ("simulate", "learner", "--samples", "1e9"),
    ("simulate", "learner", "--eta", "0"), ("simulate", "learner", "--eta", "2"), ("simulate", "learner", "--lam", "-1"),
    ("simulate", "learner", "--t-hold-s", "0"), ("simulate", "learner", "--seed", "-1"),
    ("simulate", "learner", "--vdd-v", "1.1"), ("simulate", "learner", "--vdd-v", "inf"), ("simulate", "learner", "--design", "x"),
    ("simulate", "retention", "--vdd-v", "1.7"),
    ("simulate", "nmos", "--timeout", "0"), ("simulate", "nmos", "--timeout", "abc"), ("simulate", "nmos", "--timeout", "nan"),
    ("simulate", "nmos", "--point-timeout", "1e9"), ("doctor", "--timeout", "-5"), ("doctor", "--point-timeout", "inf"),
    ("train", "--test-fraction", "1"), ("train", "--test-fraction", "-0.1"), ("train", "--test-fraction", "nan"),
    ("train", "--seed", "-1"), ("train", "--seed", "abc"), ("train", "--bits", "0"), ("train", "--bits", "33"),
    ("train", "--task", "nope"), ("train", "--intercept", "--task", "synthetic"), ("train", "--model", "nope"),
    ("train", "--model", "spice", "--test-fraction", "0"), ("train", "--model", "spice", *DIABETES),
    ("compare", "--against", "hardware"), ("compare", "--against", "spice", "--dim", "9"),
    ("compare", "--against", "spice", "--tech", "nope"), ("compare", "--against", "spice", "--samples", "0"),
    ("calibrate",), ("calibrate", "--tech", "nope", "--out", "{w}/c.json"),
    ("calibrate", "--temp-c", "1000", "--out", "{w}/c.json"),
    ("sweep", "nmos", "--out", "{w}/g.npz"), ("sweep", "qmos", "--sweep", "vgs_v=0.3", "--out", "{w}/g.npz"),
]:  # fmt: skip
    case("bad values", " ".join(a.replace("\n", "\\n").replace("\x00", "\\0") for a in argv) or "(nothing)", argv)

# --------------------------------------------------------------------------------- time limits

# (a sweep point takes about a millisecond: each may or may not beat 10 ms; all failing is exit 1)
case("time limits", "sweep --point-timeout 0.01", ("sweep", "nmos", "--tech", "sky130", "--sweep", "vgs_v=0.1:0.8:0.1",
     "--point-timeout", "0.01", "--no-cache", "--quiet", "--workers", "1", "--out", "{w}/g.npz"), (0, 1),
     outputs=("g.npz", "g.json"))  # fmt: skip
case("time limits", "simulate --point-timeout 0.01", ("simulate", "nmos", "--tech", "sky130", "--point-timeout", "0.01"), (1,))
case("time limits", "simulate learner --timeout 2", ("simulate", "learner", "--tech", "bsim", "--timeout", "2"), (1,))
case("bad values", "simulate learner on ekv (unsupported)", ("simulate", "learner", "--tech", "ekv"), (2,))
#: a sweep that takes tens of seconds (70 010 uncached points)
LONG_SWEEP = ("sweep", "nmos", "--tech", "sky130", "--sweep", "vgs_v=0.1:0.8:0.0001", "--sweep", "w_m=1u:10u:1u",
              "--no-cache", "--quiet")  # fmt: skip
case("time limits", "sweep --timeout 2", (*LONG_SWEEP, "--workers", "2", "--timeout", "2", "--out", "{w}/g.npz"), (1,))
case("time limits", "calibrate --timeout 1", ("calibrate", "--tech", "ekv", "--quick", "--timeout", "1",
     "--out", "{w}/c.json", "--plots", "{w}"), (1,))  # fmt: skip
case("time limits", "subprocess: sweep --timeout 2", (*LONG_SWEEP, "--timeout", "2", "--out", "{w}/g.npz"), (1,),
     subprocess=True)  # fmt: skip

# --------------------------------------------------------------------------- ep (energy-based blocks)

EP_TRAIN = ("ep", "train", "--data", "wine")
for argv in [("ep",), ("ep", "nosuch"), ("ep", "train"), ("ep", "train", "--data", "iris"),
             (*EP_TRAIN, "--blocks", "0"), (*EP_TRAIN, "--blocks", "3"), (*EP_TRAIN, "--lr", "nan"),
             (*EP_TRAIN, "--lr", "0"), (*EP_TRAIN, "--lr", "inf"), (*EP_TRAIN, "--epochs", "0"),
             (*EP_TRAIN, "--epochs", "1e9"), (*EP_TRAIN, "--subset", "5"), (*EP_TRAIN, "--subset", "500"),
             (*EP_TRAIN, "--batch-size", "0"), (*EP_TRAIN, "--hidden", "65"), (*EP_TRAIN, "--block-out", "-1"),
             (*EP_TRAIN, "--seed", "-1"), (*EP_TRAIN, "--backend", "ngspice"),
             ("ep", "train", "--data", "digits", "--backend", "spice"),
             (*EP_TRAIN, "--backend", "spice", "--subset", "178", "--epochs", "200", "--blocks", "2"),
             (*EP_TRAIN, "--workers", "2"), (*EP_TRAIN, "--point-timeout", "10"),
             (*EP_TRAIN, "--out", "{w}/f.txt"), ("ep", "gradcheck", "--seed", "-1"), ("ep", "gradcheck", "--seed", "x"),
             ("ep", "gradcheck", "--circuits", "0"), ("ep", "gradcheck", "--circuits", "21"),
             ("ep", "gradcheck", "--workers", "0"), ("ep", "gradcheck", "--data", "wine"),
             ("ep", "gradcheck", "--point-timeout", "nan")]:  # fmt: skip
    category = ("mode options" if {"--workers", "--point-timeout"} & set(argv) and "gradcheck" not in argv else
                "output paths" if "--out" in argv else "work bounds" if "spice" in argv else "bad values")
    case(category, " ".join(argv), argv, setup=_file("f.txt", "x") if "{w}/f.txt" in argv else None)

# ------------------------------------------------------------------------------ runs that work

case("works", "train ideal", ("train", "--json"), (0,))
case("works", "train continuous", ("train", "--model", "continuous", "--json"), (0,))
case("works", "train analog", ("train", "--model", "analog", "--dies", "3", "--json"), (0,))
case("works", "train analog with a calibration file", ("train", "--model", "analog", "--calibration", "{w}/cal.json",
     "--json"), (0,), setup=_calibration(update_asymmetry=-0.5))  # fmt: skip
case("works", "simulate nmos", ("simulate", "nmos", "--json", "--timeout", "120", "--point-timeout", "60"), (0,))
case("works", "netlist", ("netlist", "multiplier", "--tech", "sky130", "--corner", "ss"), (0,))
case("works", "sweep", ("sweep", "nmos", "--tech", "ekv", "--sweep", "vgs_v=0.1:0.3:0.1", "--no-cache", "--quiet",
     "--workers", "1", "--out", "{w}/g.npz", "--json"), (0,), outputs=("g.npz", "g.json"))  # fmt: skip
case("works", "sweep below the PDK's smallest width", ("sweep", "nmos", "--tech", "sky130", "--sweep", "w_m=1e-7",
     "--no-cache", "--quiet", "--workers", "1", "--out", "{w}/g.npz"), (0, 1), outputs=("g.npz", "g.json"))  # fmt: skip
case("works", "subprocess: --data is a FIFO", ("train", "--data", "{w}/d.csv", "--target", "y"), (2,), setup=_fifo("d.csv"),
     subprocess=True)  # fmt: skip
case("works", "--version", ("--version",), (0,))
case("works", "ep train wine", (*EP_TRAIN, "--epochs", "2", "--out", "{w}/rep", "--json"), (0,),
     outputs=("rep/",))  # fmt: skip
case("works", "ep gradcheck", ("ep", "gradcheck", "--circuits", "1", "--json"), (0,))

# ------------------------------------------------------ bring your own technology (issue 13 item 3)

#: the shipped BSIM4 card as a user's file (models n1/p1)
_CARD = (ROOT / "netlists" / "data" / "bsim4_subvt.lib").read_text().replace("ld_bsim_n", "n1").replace("ld_bsim_p", "p1")
MF = ("--model-file", "{w}/card.lib", "--nmos", "n1", "--pmos", "p1")
case("works", "netlist --model-file --out", ("netlist", "mirror", *MF, "--out", "{w}/n.cir"), (0,), setup=_file("card.lib", _CARD),
     outputs=("n.cir",))  # fmt: skip
case("works", "netlist sky130 --out --inline-models", ("netlist", "nmos", "--tech", "sky130", "--out", "{w}/n.sp",
     "--inline-models", "--json"), (0,), outputs=("n.sp",))  # fmt: skip
case("works", "simulate multiplier --model-file", ("simulate", "multiplier", *MF, "--json"), (0,), setup=_file("card.lib", _CARD))
for label, text in [("a control block", _CARD + ".control\nshell touch x\n.endc\n"), ("an include", '.include "/etc/passwd"\n' + _CARD),
                    ("binary", "\x00\x01"), ("no such model", _CARD.replace("n1", "nx")), ("a level-1 card", _CARD.replace("level=14", "level=1")),
                    ("empty", "")]:  # fmt: skip
    case("model files", f"simulate nmos --model-file with {label}", ("simulate", "nmos", *MF), setup=_file("card.lib", text))
for argv in [("simulate", "nmos", "--model-file", "{w}/none.lib", "--nmos", "n1", "--pmos", "p1"),
             ("simulate", "nmos", "--model-file", "{w}", "--nmos", "n1", "--pmos", "p1"),
             ("simulate", "nmos", *MF, "--tech", "bsim"), ("simulate", "nmos", "--nmos", "n1"),
             ("calibrate", *MF, "--corner", "tt", "--out", "{w}/c.json"), ("netlist", "nmos", "--inline-models"),
             ("netlist", "nmos", "--json"), ("netlist", "nmos", "--out", "{w}/n.txt"),
             ("train", "--model", "ideal", *MF), ("compare", *MF, "--out", "{w}/r"),
             ("sweep", "nmos", *MF, "--mc", "3", "--sweep", "vgs_v=0.3", "--out", "{w}/g.npz")]:  # fmt: skip
    case("model files", "refused: " + " ".join(argv[:4]), argv, setup=_file("card.lib", _CARD))

# study asymmetry (issue 15): behavioural, no SPICE
STUDY = ("study", "asymmetry")
for argv in [("--asymmetry", "0,nan"), ("--asymmetry", "-0.1"), ("--asymmetry", ""), ("--asymmetry", ",".join(["0.1"] * 22)),
             ("--eta", "inf"), ("--eta", "0.6"), ("--dim", "0"), ("--dim", "65"), ("--noise", "nan"), ("--read-noise", "11"),
             ("--steps", "99"), ("--seeds", "-3"), ("--time", "analog"), ("--substeps", "0", "--time", "continuous")]:
    case("bad values", "study asymmetry " + " ".join(argv), (*STUDY, *argv))
case("work bounds", "study asymmetry: 1e7 steps x 1e4 seeds", (*STUDY, "--steps", "10000000", "--seeds", "10000"))
case("mode options", "study asymmetry --substeps in discrete time", (*STUDY, "--substeps", "3"))
case("output paths", "study --plots is a file", (*STUDY, "--steps", "200", "--plots", "{w}/f"), setup=_file("f", "x"))
case("output paths", "study --plots under a file", (*STUDY, "--steps", "200", "--plots", "{w}/f/p"), setup=_file("f", "x"))
case("calibration", "study asymmetry: --calibration /dev/zero", (*STUDY, "--calibration", "/dev/zero"))
case("time limits", "study asymmetry --timeout 1", (*STUDY, "--steps", "10000000", "--seeds", "4", "--timeout", "1"), (1,))
case("works", "study asymmetry", (*STUDY, "--steps", "400", "--seeds", "2", "--asymmetry", "0,0.5", "--json",
     "--plots", "{w}/figs"), (0,), outputs=("figs/",))  # fmt: skip
case("works", "study asymmetry --measured", (*STUDY, "--steps", "200", "--seeds", "2", "--asymmetry", "0", "--measured"), (0,))
case("works", "study asymmetry continuous", (*STUDY, "--steps", "200", "--seeds", "2", "--time", "continuous", "--json"), (0,))


# ------------------------------------------------------------------------------------ the checks


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _strict(text: str):
    def refuse(constant: str):
        raise ValueError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _check(c: Case, code: int, out: str, err: str, work: Path, before: set[str]) -> None:
    assert code in c.codes, f"exit {code}, expected {sorted(c.codes)}; stderr: {err[-1500:]}"
    assert "Traceback" not in err and "internal error" not in err, err[-3000:]
    lines = err.strip().splitlines()
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("logdomain: error: "), err
        assert out == "", out[:500]
    if code == 1:
        assert lines and lines[-1].startswith("logdomain: "), err[-1500:]
        assert out == "", out[:500]
    if code == 0 and "--json" in c.argv:
        _strict(out)
    after = _listing(work)
    if code != 0:
        assert after == before, f"files left by a run that did not succeed: {sorted(after - before)}"
    else:  # only the outputs (a name ending in / allows a folder and what it holds)
        def expected(name: str) -> bool:
            return any(name == o.rstrip("/") or (o.endswith("/") and name.startswith(o)) or name == o for o in c.outputs)

        assert all(expected(name) for name in after - before), sorted(after - before)


def _argv(c: Case, work: Path) -> list[str]:
    return [a.replace("{w}", str(work)) for a in c.argv]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _run_subprocess(c: Case, work: Path) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **c.env)
    proc = subprocess.run([sys.executable, "-m", "logdomain.cli", *_argv(c, work)], capture_output=True, text=True,
                          timeout=HANG_S, cwd=work, env=env, stdin=subprocess.DEVNULL)  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("c", CASES, ids=[f"{c.category}: {c.name}" for c in CASES])
def test_hostile_input(c: Case, workdir: Path, capsys):
    if c.setup is not None:
        c.setup(workdir)
    before = _listing(workdir)
    if c.subprocess:
        code, out, err = _run_subprocess(c, workdir)
    else:
        faulthandler.dump_traceback_later(HANG_S, exit=True, file=sys.__stderr__)  # a hang ends the session, loudly
        try:
            code = main(_argv(c, workdir))
        finally:
            faulthandler.cancel_dump_traceback_later()
        captured = capsys.readouterr()
        out, err = captured.out, captured.err
    _check(c, code, out, err, workdir, before)


def test_the_table_is_big_and_covers_every_command_and_category():
    assert len(CASES) >= 200
    commands = {c.argv[0] for c in CASES if c.argv and not c.argv[0].startswith("-")}
    assert {"doctor", "netlist", "simulate", "sweep", "calibrate", "train", "compare"} <= commands
    assert {c.category for c in CASES} == {"sweep bounds", "divergence", "work bounds", "csv", "calibration",
                                           "output paths", "mode options", "bad values", "time limits", "works",
                                           "model files"}


def test_output_on_another_filesystem_than_the_temp_folder(tmp_path, monkeypatch, capsys):
    """Outputs are staged beside their target, so a target on another filesystem than TMPDIR works."""
    import tempfile

    other = Path("/dev/shm")
    assert other.is_dir() and os.stat(other).st_dev != os.stat(tmp_path).st_dev, "needs /dev/shm on its own filesystem"
    target = Path(tempfile.mkdtemp(dir=other))
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the temp folder: another filesystem
        code = main(["sweep", "nmos", "--tech", "ekv", "--sweep", "vgs_v=0.2,0.3", "--no-cache", "--quiet",
                     "--workers", "1", "--out", str(target / "g.npz"), "--json"])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert sorted(p.name for p in target.iterdir()) == ["g.json", "g.npz"]
        assert stat.S_IMODE(os.stat(target / "g.npz").st_mode) & 0o044  # readable like any new file
        assert _strict(capsys.readouterr().out)["n_ok"] == 2
        code = main(["compare", "--quick", "--out", str(target / "report"), "--json"])
        assert code == 0
        assert (target / "report" / "summary.json").is_file()
        assert not math.isnan(_strict((target / "report" / "summary.json").read_text())["nmse_vs_ideal"])
        assert not [p for p in target.rglob(".*")]  # no staging leftovers
    finally:
        import shutil

        shutil.rmtree(target, ignore_errors=True)
