"""Command-line interface (contract: shared/DESIGN.md §7). Thin: parsing and printing only.

JSON goes to stdout with ``--json``; logs and progress go to stderr. Invalid input exits
with status 2 and one line naming the option; a failed simulation exits with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from netlists import (
    TECHNOLOGY_NAMES,
    NetlistError,
    ParameterError,
    SimParams,
    SimulationError,
    blocks,
    get_simulator,
    get_technology,
)
from netlists.technologies import CORNERS

from ._io import write_atomic
from .errors import CommandError, UsageError

__all__ = ["main", "build_parser", "UsageError", "CommandError"]

#: modules with a ``register(subparsers)`` that adds commands with ``set_defaults(handler=...)``;
#: a handler takes the parsed args and returns the JSON-able result dict
_COMMAND_MODULES: tuple[str, ...] = tuple(
    name for name in ("logdomain.cmd_calibrate", "logdomain.cmd_train", "logdomain.cmd_sweep") if importlib.util.find_spec(name) is not None
)


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
    parser.add_argument("--tech", default="ekv", choices=TECHNOLOGY_NAMES, help="technology (default ekv)")
    parser.add_argument("--corner", default="tt", choices=CORNERS, help="sky130 process corner (default tt)")
    parser.add_argument("--temp-c", default="27", help="temperature in °C, -55..150 (default 27)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="block parameter, e.g. w_m=2u (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="logdomain", description="Log-domain analog learners: SPICE co-simulation toolkit.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="check ngspice, PySpice and each technology")
    doctor.add_argument("--json", action="store_true")

    netlist = sub.add_parser("netlist", help="print a generated netlist")
    netlist.add_argument("block", choices=sorted(blocks.BLOCKS))
    _tech_options(netlist)

    simulate = sub.add_parser("simulate", help="simulate a block and compare with its law")
    simulate.add_argument("block", choices=["nmos", "pmos", "multiplier", "learner"])
    _tech_options(simulate)
    from .cmd_learner import add_learner_arguments

    add_learner_arguments(simulate)
    simulate.add_argument("--json", action="store_true")
    simulate.add_argument("--plot", metavar="FILE.png", help="save a plot (PNG)")

    # commands living in their own modules register themselves (parser + handler)
    for module_name in _COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(sub)
    return parser


def _sim_params(args: argparse.Namespace) -> SimParams:
    try:
        return SimParams(temp_c=args.temp_c)
    except ParameterError as exc:
        raise UsageError(f"--temp-c: {exc}") from exc


def _params(block: str, args: argparse.Namespace):
    _, params_cls = blocks.BLOCKS[block]
    try:
        return params_cls.from_assignments(_assignments(args.set))
    except ParameterError as exc:
        raise UsageError(f"--set: {exc}") from exc


def _save_figure(fig, path: str) -> None:
    """Write atomically: nothing half-written if saving fails."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise UsageError(f"--plot must name a .png file, got {path!r}")
    if not target.parent.exists():
        raise UsageError(f"--plot: folder {str(target.parent)!r} does not exist")
    write_atomic(target, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))


def _cmd_doctor(args: argparse.Namespace) -> dict[str, Any]:
    import PySpice

    report: dict[str, Any] = {"pyspice_version": PySpice.__version__, "python": sys.version.split()[0]}
    simulator = get_simulator()
    report["ngspice_version"] = simulator.ngspice_version
    techs: dict[str, Any] = {}
    for name in TECHNOLOGY_NAMES:
        tech = get_technology(name)
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
    report["ok"] = all(t["available"] for t in techs.values())
    return report


def _cmd_simulate(args: argparse.Namespace) -> dict[str, Any]:
    from netlists.measure import fit_weak_inversion, iv_curve, multiplier_sweep

    if args.block == "learner":
        from .cmd_learner import simulate_learner

        return simulate_learner(args)
    sim = _sim_params(args)
    params = _params(args.block, args)
    tech = get_technology(args.tech, corner=args.corner)
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


def _print_human(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, list) and len(value) > 8:
            value = f"[{len(value)} values]"
        print(f"{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "netlist":
            generator, _ = blocks.BLOCKS[args.block]
            params = _params(args.block, args)
            tech = get_technology(args.tech, corner=args.corner)
            sys.stdout.write(generator(tech, params).text(_sim_params(args)))
            return 0
        handler = getattr(args, "handler", None) or {"doctor": _cmd_doctor, "simulate": _cmd_simulate}[args.command]
        data = handler(args)
    except UsageError as exc:
        print(f"logdomain: error: {exc}", file=sys.stderr)
        return 2
    except ParameterError as exc:
        print(f"logdomain: error: {exc}", file=sys.stderr)
        return 2
    except (NetlistError, SimulationError) as exc:
        print(f"logdomain: simulation failed: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"logdomain: error: {exc}", file=sys.stderr)
        return 1
    try:
        if getattr(args, "json", False):
            json.dump(data, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            _print_human(data)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `logdomain ... | head`
        sys.stdout = open(os.devnull, "w")
    if args.command == "doctor" and not data["ok"]:
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
