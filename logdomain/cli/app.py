"""Command-line interface (contract: shared/DESIGN.md §7). Thin: parsing and printing only.

JSON goes to stdout with ``--json``; without it, the same result rendered for a person
(:func:`logdomain.cli._render.render_human`: aligned ``key: value`` lines and small tables, numbers with
units); logs and progress go to stderr. Every failure ends in one
line on stderr and an exit status: 2 for bad input (named option, allowed range, value; nothing
run, nothing written), 1 for a run that failed (simulation, divergence, ``--timeout``, a write
that failed), 130 when interrupted. JSON is strict (no NaN or Infinity: a result that holds one
is a failed run). Options a mode does not use are refused (:mod:`logdomain.cli._modes`). Set
``LOGDOMAIN_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from netlists import (
    NetlistError,
    ParameterError,
    SimParams,
    SimulationError,
    SimulationTimeout,
    Simulator,
    blocks,
    get_technology,
)
from netlists.technologies import CORNERS

from .. import __version__
from ._limits import DEFAULT_POINT_TIMEOUT_S, RunTimeout, add_timeout_options, run_deadline
from ._figures import check_plot as _check_plot
from ._figures import save_figure as _save_figure
from ._modes import check_applicable, explicit_options
from ._render import render_human
from ._tech import add_tech_argument, technology_from_args
from .._validate import NonFiniteResult, dumps_strict, strict_json
from ..errors import CommandError, UsageError

__all__ = ["main", "build_parser", "UsageError", "CommandError"]

#: modules with a ``register(subparsers)`` that adds commands with ``set_defaults(handler=...)``;
#: a handler takes the parsed args and returns the JSON-able result dict
_COMMAND_MODULES: tuple[str, ...] = ("calibrate", "train", "sweep", "montecarlo", "study", "ep")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise UsageError(message)


def _assignments(pairs: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects NAME=VALUE, got {pair!r}")
        out[key] = value
    return out


def _tech_options(parser: argparse.ArgumentParser) -> None:
    add_tech_argument(parser, default="ekv")
    parser.add_argument("--corner", default="tt", choices=CORNERS, help="sky130 process corner (default tt)")
    parser.add_argument("--temp-c", default="27", help="temperature in °C, -55..150 (default 27)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="block parameter, e.g. w_m=2u (repeatable)")


#: --point-timeout of ``simulate learner`` (one transient of the whole learner), s
LEARNER_POINT_TIMEOUT_S = 1800.0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="logdomain", description="Log-domain analog learners: SPICE co-simulation toolkit.")
    parser.add_argument("--version", action="version", version=f"logdomain {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="check ngspice, PySpice and each technology")
    doctor.add_argument("--json", action="store_true")
    add_timeout_options(doctor)

    netlist = sub.add_parser("netlist", help="print (or write) a generated netlist, portable: no absolute path")
    netlist.add_argument("block", choices=sorted(blocks.BLOCKS))
    _tech_options(netlist)
    netlist.add_argument("--out", metavar="FILE.cir",
                         help="write the netlist to FILE (.cir/.sp/.spice/.net) instead of stdout; included model "
                              "files are copied beside it and included by name (relative)")
    netlist.add_argument("--inline-models", action="store_true",
                         help="with --out: put the included model files' text into the netlist (one self-contained "
                              "file); stdout always gets them inline")  # fmt: skip
    netlist.add_argument("--json", action="store_true", help="with --out: the summary (files written) as JSON")

    simulate = sub.add_parser("simulate", help="simulate a block and compare with its law")
    simulate.add_argument("block", choices=["nmos", "pmos", "multiplier", "learner", "retention", "noise"])
    _tech_options(simulate)
    from .learner import add_learner_arguments

    add_learner_arguments(simulate)
    simulate.add_argument("--json", action="store_true")
    simulate.add_argument("--plot", metavar="FILE.png", help="save a plot (PNG)")
    add_timeout_options(simulate, point_default_s=None,
                        what=f"each ngspice run (default {DEFAULT_POINT_TIMEOUT_S:g}; "
                             f"{LEARNER_POINT_TIMEOUT_S:g} for the learner's transient)")  # fmt: skip

    # commands living in their own modules register themselves (parser + handler)
    for module_name in _COMMAND_MODULES:
        module = importlib.import_module(f"{__package__}.{module_name}")
        module.register(sub)
    return parser


def _sim_params(args: argparse.Namespace, **settings: Any) -> SimParams:
    """Temperature (``--temp-c``) and the per-run limit (``--point-timeout``) of a simulate command."""
    try:
        temp_c = SimParams(temp_c=args.temp_c).temp_c
    except ParameterError as exc:
        raise UsageError(f"--temp-c: {exc}") from exc
    timeout = getattr(args, "point_timeout", None)
    if timeout is not None:
        settings["timeout_s"] = timeout
    return SimParams(temp_c=temp_c, **settings)


def _params(block: str, args: argparse.Namespace):
    _, params_cls = blocks.BLOCKS[block]
    try:
        return params_cls.from_assignments(_assignments(args.set))
    except ParameterError as exc:
        raise UsageError(f"--set: {exc}") from exc


def _cmd_doctor(args: argparse.Namespace) -> dict[str, Any]:
    import PySpice

    report: dict[str, Any] = {"pyspice_version": PySpice.__version__, "python": sys.version.split()[0]}
    with Simulator(timeout_s=args.point_timeout) as simulator:
        report["ngspice_version"] = simulator.ngspice_version
        techs: dict[str, Any] = {}
        from netlists.technologies import plugin_problems, technology_names

        for name in technology_names():
            try:
                tech = get_technology(name)
            except ParameterError as exc:  # a plugin that does not load
                techs[name] = {"available": False, "detail": str(exc)}
                continue
            ok, detail = tech.available()
            entry: dict[str, Any] = {"available": ok, "detail": detail}
            if ok:
                try:
                    result = simulator.run(blocks.nmos_iv(tech))
                    entry["nmos_id_at_vgs_max_a"] = float(result.drain_current("m1")[-1])
                except (NetlistError, SimulationError) as exc:
                    entry.update(available=False, detail=f"simulation failed: {str(exc).splitlines()[0]}")
            techs[name] = entry
    report["technologies"] = techs
    report["plugin_problems"] = plugin_problems()  # refused technology plugins → why (not in technologies)
    report["ok"] = all(t["available"] for t in techs.values())
    return report


#: suffixes ``netlist --out`` writes
NETLIST_SUFFIXES = (".cir", ".sp", ".spice", ".net")


def _cmd_netlist(args: argparse.Namespace) -> str | dict[str, Any]:
    """``logdomain netlist``: the text (stdout, model files inline), or with ``--out`` the file plus
    copies of its model files (relative ``.include``) or, ``--inline-models``, one file. No
    absolute path of the user's machine is written (:func:`netlists.portable.portable_text`)."""
    import shutil

    from netlists.portable import portable_text

    from .._io import StagedOutputs
    from .._validate import check_output_file

    if args.inline_models and not args.out:
        raise UsageError("--inline-models applies with --out FILE (stdout always gets the models inline)")
    if args.json and not args.out:
        raise UsageError("--json applies with --out FILE (without it the netlist itself is printed)")
    out = check_output_file(args.out, "--out", NETLIST_SUFFIXES) if args.out else None
    generator, _ = blocks.BLOCKS[args.block]
    params = _params(args.block, args)
    sim = _sim_params(args)
    netlist = generator(technology_from_args(args), params)
    text, files = portable_text(netlist, sim, inline=out is None or args.inline_models)
    if out is None:
        return text
    targets = {name: out.parent / name for name in files}
    for name, target in targets.items():
        if target.resolve() == out.resolve():
            raise UsageError(f"--out: {str(out)!r} is the name of the model file {name!r} it includes; choose another")
        check_output_file(os.fspath(target), f"--out (the model file {name} beside it)", (target.suffix.lower(),))
    with StagedOutputs() as staged:  # the netlist and its model files together, or nothing
        Path(staged.file(out)).write_text(text)
        for name, source in files.items():
            shutil.copyfile(source, staged.file(targets[name]))
    return {"file": os.fspath(out), "model_files": [os.fspath(t) for t in targets.values()], "inline_models": bool(args.inline_models)}


def _cmd_simulate(args: argparse.Namespace) -> dict[str, Any]:
    from netlists.measure import fit_weak_inversion, iv_curve, multiplier_sweep

    _check_plot(args)
    if args.block == "learner":
        from .learner import simulate_learner

        return simulate_learner(args, _sim_params(args, reltol=1e-4, timeout_s=LEARNER_POINT_TIMEOUT_S))
    if args.block == "retention":
        from .retention import simulate_retention

        return simulate_retention(args, _sim_params(args))
    if args.block == "noise":
        from .retention import simulate_noise

        return simulate_noise(args, _sim_params(args))
    sim = _sim_params(args)
    params = _params(args.block, args)
    tech = technology_from_args(args)
    if args.block in ("nmos", "pmos"):
        polarity = args.block[0]
        curve = iv_curve(tech, polarity, params, sim=sim)
        out: dict[str, Any] = {"block": args.block, "tech": tech.label, "vgs_v": curve.vgs_v.tolist(), "id_a": curve.id_a.tolist()}
        i_spec = tech.specific_current_a(polarity, params.w_m, params.l_m, sim.temp_c)
        try:
            fit = fit_weak_inversion(curve, i_spec)
            out.update(swing_mv_per_decade=fit.swing_mv_per_decade, fit_r_squared=fit.r_squared, fit_decades=fit.decades)
        except ValueError as exc:
            print(f"logdomain: note: no swing fit ({exc})", file=sys.stderr)
        if args.plot:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6, 4))
            ax.semilogy(curve.vgs_v, curve.id_a, lw=2)
            ax.axhline(i_spec * 0.1, ls="--", c="gray", lw=1, label="IC = 0.1 (weak inversion limit)")
            ax.set(xlabel="V_GS (V)" if polarity == "n" else "V_SG (V)", ylabel="|I_D| (A)", title=f"{tech.label} {args.block}  W/L = {params.w_m*1e6:g}/{params.l_m*1e6:g} µm, |V_DS| = {params.vds_v:g} V")
            if "swing_mv_per_decade" in out:
                ax.text(0.02, 0.92, f"swing {out['swing_mv_per_decade']:.1f} mV/dec", transform=ax.transAxes)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(loc="lower right")
            fig.tight_layout()
            _save_figure(fig, args.plot)
        return out
    sweep = multiplier_sweep(tech, params, sim=sim)
    out = {
        "block": "multiplier",
        "tech": tech.label,
        "law": "I_out = I_y * I_z / I_x",
        "max_rel_error": sweep.max_rel_error,
        "regions_ok": sweep.regions_ok,
        "inputs_a": sweep.inputs_a.tolist(),
        "measured_a": sweep.measured_a.tolist(),
        "ideal_a": sweep.ideal_a.tolist(),
        "region_violations": sorted({r.summary() for r in sweep.regions if not r.ok}),
    }
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        for name, marker in (("i_x_a", "o"), ("i_y_a", "s"), ("i_z_a", "^")):
            sel = np.array([s == name for s in sweep.swept])
            ax1.loglog(sweep.ideal_a[sel], sweep.measured_a[sel], marker, label=f"sweep {name}")
            ax2.semilogx(sweep.ideal_a[sel], 100 * sweep.rel_error[sel], marker + "-", label=f"sweep {name}")
        lim = [sweep.ideal_a.min(), sweep.ideal_a.max()]
        ax1.loglog(lim, lim, "k--", lw=1, label="ideal")
        ax1.set(xlabel="I_y·I_z/I_x (A)", ylabel="I_out (A)", title=f"{tech.label} translinear multiplier/divider")
        ax2.set(xlabel="I_y·I_z/I_x (A)", ylabel="error (%)", title=f"max |error| {100*sweep.max_rel_error:.2f} %")
        for ax in (ax1, ax2):
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        fig.tight_layout()
        _save_figure(fig, args.plot)
    return out


#: longest error line printed, characters
MAX_MESSAGE_CHARS = 2000


def _one_line(text: str) -> str:
    """The first line of ``text``, control characters escaped, at most MAX_MESSAGE_CHARS long."""
    line = next((part for part in str(text).split("\n") if part.strip()), "").strip()
    line = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)
    return line if len(line) <= MAX_MESSAGE_CHARS else line[: MAX_MESSAGE_CHARS - 1] + "…"


def _failure(exc: BaseException) -> tuple[int, str]:
    """Exit status and message of an exception that ended a command."""
    if isinstance(exc, (UsageError, ParameterError)):
        return 2, f"error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted; nothing written"
    if isinstance(exc, RunTimeout):
        return 1, f"error: {exc}"
    if isinstance(exc, SimulationTimeout):
        return 1, f"simulation failed: {_one_line(str(exc))} (see --point-timeout)"
    if isinstance(exc, (NetlistError, SimulationError)):
        return 1, f"simulation failed: {_one_line(str(exc))}"
    if isinstance(exc, CommandError):
        return 1, f"error: {exc}"
    if isinstance(exc, NonFiniteResult):
        return 1, f"error: the run failed: {exc} (strict JSON has no NaN or Infinity)"
    if isinstance(exc, MemoryError):
        return 1, "error: out of memory"
    if isinstance(exc, OSError):
        where = f": {exc.filename!r}" if exc.filename else ""
        return 1, f"error: {exc.strerror or exc}{where}"
    return 1, f"internal error: {type(exc).__name__}: {exc} (LOGDOMAIN_DEBUG=1 shows the traceback)"


def _execute(argv: list[str]) -> tuple[argparse.Namespace, dict[str, Any] | str]:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.given = explicit_options(build_parser, argv)  # options on the command line (handlers may ask)
    check_applicable(parser, args, args.given)
    with run_deadline(getattr(args, "timeout", None)):
        if args.command == "netlist":
            return args, _cmd_netlist(args)
        handler = getattr(args, "handler", None) or {"doctor": _cmd_doctor, "simulate": _cmd_simulate}[args.command]
        return args, handler(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 failed run, 2 bad input, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings(record=True) as caught:
        try:
            args, data = _execute(argv)
            if isinstance(data, str):
                text = data
            elif getattr(args, "json", False):
                text = dumps_strict(data) + "\n"
            else:
                text = render_human(strict_json(data))
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else 0
        except BaseException as exc:  # noqa: BLE001 - the boundary: every failure becomes one line
            if os.environ.get("LOGDOMAIN_DEBUG") and not isinstance(exc, KeyboardInterrupt):
                raise
            status, message = _failure(exc)
            print(f"logdomain: {_one_line(message)}", file=sys.stderr)
            return status
    seen: set[str] = set()
    for warning in caught:  # shown only for runs that worked: a failure is its one line
        line = _one_line(f"{warning.category.__name__}: {warning.message}")
        if line not in seen:
            seen.add(line)
            print(f"logdomain: warning: {line}", file=sys.stderr)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `logdomain ... | head`
        sys.stdout = open(os.devnull, "w")
    if args.command == "doctor" and not data["ok"]:
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
