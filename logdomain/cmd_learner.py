"""``logdomain simulate learner``: the transistor-level learner against ideal continuous SGDr.

Routed from ``logdomain/cli.py`` (``simulate`` with block ``learner``). JSON keys (DESIGN.md §7):
``weights``, ``ideal_weights``, ``nmse_vs_ideal`` (prediction NMSE on held-out rows, fraction),
``weight_nmse``, ``runtime_s`` plus details; ``--plot`` draws each weight's trajectory, SPICE
against ideal.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import numpy as np

__all__ = ["add_learner_arguments", "simulate_learner", "register"]


class _UsageError(Exception):
    pass


def _positive_int(name: str, low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer in [{low}, {high}], got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be an integer in [{low}, {high}], got {text!r}")
        return value

    return parse


def _real(name: str, low: float, high: float, *, open_low: bool = False):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        ok = math.isfinite(value) and (value > low if open_low else value >= low) and value <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"{name} must be in {'(' if open_low else '['}{low:g}, {high:g}], got {text!r}")
        return value

    return parse


def add_learner_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``simulate learner`` (``--tech``, ``--corner``, ``--temp-c``, ``--json`` and
    ``--plot`` are the ``simulate`` command's own)."""
    from .spice_learner import DEFAULT_ETA, DEFAULT_LAM, DEFAULT_T_HOLD_S

    parser.add_argument("--dim", type=_positive_int("--dim", 1, 8), default=4, help="inputs N, 1..8 (default 4)")
    parser.add_argument("--samples", type=_positive_int("--samples", 1, 5000), default=200, help="streamed samples K (default 200)")
    parser.add_argument("--seed", type=_positive_int("--seed", 0, 2**31 - 1), default=0, help="task seed (default 0)")
    parser.add_argument("--eta", type=_real("--eta", 0.0, 1.0, open_low=True), default=DEFAULT_ETA, help=f"learning rate η = T_s/τ (default {DEFAULT_ETA:g})")
    parser.add_argument("--lam", type=_real("--lam", 0.0, 10.0), default=DEFAULT_LAM, help=f"weight decay λ (default {DEFAULT_LAM:g})")
    parser.add_argument("--t-hold-s", type=_real("--t-hold-s", 1e-6, 10.0), default=DEFAULT_T_HOLD_S, help=f"hold time T_s in s (default {DEFAULT_T_HOLD_S:g})")


def _plot(result, path: str, save) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = np.arange(result.weights_history.shape[0])
    fig, ax = plt.subplots(figsize=(7, 4))
    for i in range(result.weights_history.shape[1]):
        line = ax.plot(k, result.weights_history[:, i], lw=1.8, label=f"w{i} SPICE")[0]
        ax.plot(k, result.ideal_history[:, i], "--", color=line.get_color(), lw=1.2, label=f"w{i} ideal")
    ax.set(xlabel="sample k (end of hold)", ylabel="weight (scaled units)",
           title=f"{result.run.netlist.technology.label} learner: SPICE (solid) vs ideal ZOH flow (dashed)\n"
                 f"nmse_vs_ideal {100 * result.nmse_vs_ideal:.3g} %, weight NMSE {100 * result.weight_nmse:.3g} %")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    save(fig, path)


def simulate_learner(args: argparse.Namespace, sim=None) -> dict[str, Any]:
    """Handler of ``simulate learner``: returns the JSON-able result (see module docstring).

    ``sim`` (:class:`netlists.SimParams`) carries the temperature and the limit of the transient;
    default: ``args.temp_c``, reltol 1e-4, 1800 s.
    """
    from netlists import SimParams, get_simulator, get_technology

    from .spice_learner import compare_spice_learner, learner_task

    if sim is None:
        sim = SimParams(temp_c=args.temp_c, reltol=1e-4, timeout_s=1800.0)
    tech = get_technology(args.tech, corner=args.corner)
    task = learner_task(args.dim, args.samples, seed=args.seed)
    print(f"logdomain: simulating the {args.dim}-input learner over {args.samples} samples on {tech.label} ...", file=sys.stderr)
    result = compare_spice_learner(tech, task, eta=args.eta, lam=args.lam, t_hold_s=getattr(args, "t_hold_s", 20e-3),
                                   samples=args.samples, sim=sim, simulator=get_simulator())  # fmt: skip
    if getattr(args, "plot", None):
        from .cli import _save_figure

        _plot(result, args.plot, _save_figure)
    out = result.as_dict()
    out.update(block="learner", seed=args.seed)
    return out


def register(subparsers) -> None:  # pragma: no cover - ``simulate`` is owned by cli.py; see module docstring
    """Stand-alone command ``simulate-learner`` (for use before cli.py routes ``simulate learner``)."""
    parser = subparsers.add_parser("simulate-learner", help="SPICE transient of the N-input learner vs ideal SGDr")
    parser.add_argument("--tech", default="ekv")
    parser.add_argument("--corner", default="tt")
    parser.add_argument("--temp-c", default="27")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plot", metavar="FILE.png")
    add_learner_arguments(parser)
    parser.set_defaults(handler=simulate_learner)
