"""``logdomain simulate learner --algorithm tiki-taka``: transistor-level Tiki-Taka against its behavioural twin.

Routed from :func:`logdomain.cli.learner.simulate_learner`. JSON keys: those of the plain learner
(``weights``, ``ideal_weights``, ``nmse_vs_ideal``, ``t_over_tau``, ``runtime_s``, ``regions_ok``) plus
``twin_weights``, ``twin_nmse_vs_ideal``, ``spice_vs_twin_nmse`` (variance of the SPICE predictions),
``twin_runtime_s`` and the circuit's Tiki-Taka settings (:meth:`logdomain.tiki_taka_spice.TikiTakaComparison.as_dict`).
Nominal die only: ``--mismatch``, ``--dies`` and ``--workers`` are refused (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["simulate_tiki_taka"]


def simulate_tiki_taka(args: argparse.Namespace, sim) -> dict[str, Any]:
    """Handler of ``simulate learner --algorithm tiki-taka`` (``sim``: :class:`netlists.SimParams`)."""
    from netlists import get_simulator

    from ..errors import UsageError
    from ..spice_learner import DEFAULT_T_HOLD_S, learner_task
    from ..tiki_taka_spice import compare_tiki_taka
    from ._checks import check_learner_technology
    from ._tech import technology_from_args

    for dest, flag in (("mismatch", "--mismatch"), ("dies", "--dies"), ("workers", "--workers")):
        if getattr(args, dest, None) not in (None, False):
            raise UsageError(f"{flag} does not apply to --algorithm tiki-taka (nominal die only: its mismatch dies are not built)")
    if getattr(args, "plot", None):
        raise UsageError("--plot does not apply to --algorithm tiki-taka (the JSON carries the histories)")
    tech = technology_from_args(args)
    check_learner_technology(tech)
    task = learner_task(args.dim, args.samples, seed=args.seed)
    print(f"logdomain: simulating Tiki-Taka on the {args.dim}-input learner over {args.samples} samples on {tech.label} ...",
          file=sys.stderr)  # fmt: skip
    t_hold_s = DEFAULT_T_HOLD_S if getattr(args, "t_hold_s", None) is None else args.t_hold_s
    result = compare_tiki_taka(tech, task, eta=args.eta, lam=args.lam, t_hold_s=t_hold_s,
                               samples=args.samples, sim=sim, simulator=get_simulator())  # fmt: skip
    out = result.as_dict()
    out.update(block="learner", seed=args.seed)
    return out
