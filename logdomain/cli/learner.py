"""``logdomain simulate learner``: the transistor-level learner against ideal continuous SGDr.

Routed from :mod:`logdomain.cli.app` (``simulate`` with block ``learner``). JSON keys (DESIGN.md §7):
``weights``, ``ideal_weights``, ``nmse_vs_ideal`` (prediction NMSE on held-out rows, fraction),
``weight_nmse``, ``runtime_s``, the cost (:mod:`netlists.cost`: ``power_w`` — mean supply power over
the stream, W; ``energy_per_update_j`` — P·T_s/N per weight per sample, J; ``area_per_weight_um2``
— gate area shared over the weights plus two MIM capacitors, µm²; with dies the medians of the
first two) plus details; ``--plot`` draws each weight's trajectory, SPICE
against ideal.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import numpy as np

__all__ = ["add_learner_arguments", "simulate_learner"]


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
    from ..spice_learner import DEFAULT_ETA, DEFAULT_LAM, DEFAULT_SAMPLES
    from netlists.learner_designs import DESIGN_T_HOLD_S, DESIGNS

    parser.add_argument("--dim", type=_positive_int("--dim", 1, 8), default=4, help="inputs N, 1..8 (default 4)")
    parser.add_argument("--samples", type=_positive_int("--samples", 1, 5000), default=DEFAULT_SAMPLES,
                        help=f"streamed samples K, 1..5000 (default {DEFAULT_SAMPLES}: t/τ = η·K = 20 at the default η)")
    parser.add_argument("--seed", type=_positive_int("--seed", 0, 2**31 - 1), default=0,
                        help="seed of the task; mismatch dies use seeds seed+1 … seed+N (default 0)")
    parser.add_argument("--mismatch", action="store_true", help="the PDK's per-instance mismatch on (sky130 only)")
    parser.add_argument("--dies", type=_positive_int("--dies", 1, 256), default=None,
                        help="mismatch dies, 1..256, spread over the sweep workers (needs --mismatch; default 1)")
    parser.add_argument("--workers", type=_positive_int("--workers", 1, 64), default=None,
                        help="parallel ngspice workers for --dies, 1..64 (default: the CPU count)")
    parser.add_argument("--eta", type=_real("--eta", 0.0, 1.0, open_low=True), default=DEFAULT_ETA, help=f"learning rate η = T_s/τ (default {DEFAULT_ETA:g})")
    parser.add_argument("--lam", type=_real("--lam", 0.0, 10.0), default=DEFAULT_LAM, help=f"weight decay λ (default {DEFAULT_LAM:g})")
    parser.add_argument("--t-hold-s", type=_real("--t-hold-s", 1e-6, 10.0), default=None,
                        help="hold time T_s in s (default: the design's own — "
                             + ", ".join(f"{hold:g} for {name}" for name, hold in DESIGN_T_HOLD_S.items()) + ")")
    parser.add_argument("--design", choices=list(DESIGNS), default="default",
                        help="default: the design calibrated at 27 °C; wide-temperature: −20…85 °C at every sky130 corner "
                             "at its own T_s = 1 ms (its bias currents scale as 20 ms/T_s; netlists.learner_designs)")
    parser.add_argument("--vdd-v", type=_real("--vdd-v", 1.2, 1.98), default=None,
                        help="supply voltage in V, 1.2..1.98 (the 1.8 V devices' rating +10 %%; default 1.8)")
    parser.add_argument("--algorithm", choices=["sgd", "tiki-taka"], default="sgd",
                        help="sgd (default): one pair per weight; tiki-taka: an A and a C pair per weight with the transfer "
                             "path, compared with its behavioural twin (nominal die only)")


def _design(args: argparse.Namespace, tech, temp_c: float):
    """The learner design of ``--design`` at ``temp_c`` (°C), with ``--vdd-v`` and the technology's family."""
    from netlists.learner_designs import learner_design

    overrides = {} if getattr(args, "vdd_v", None) is None else {"vdd_v": args.vdd_v}
    return learner_design(getattr(args, "design", "default"), tech.learner_family, temp_c,
                          t_hold_s=getattr(args, "t_hold_s", None), **overrides)


def _design_keys(design) -> dict[str, Any]:
    return {"design": design.name, "t_hold_s": design.t_hold_s, "vdd_v": design.params.vdd_v}


def _plot(result, path: str, save) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = np.arange(result.state_history.shape[0])
    t = k * result.run.params.eta
    fig, ax = plt.subplots(figsize=(7, 4))
    for i in range(result.state_history.shape[1]):
        line = ax.plot(t, result.state_history[:, i], lw=1.8, label=f"w{i} SPICE state")[0]
        ax.plot(t, result.ideal_history[:, i], "--", color=line.get_color(), lw=1.2, label=f"w{i} ideal")
        ax.plot(t[-1], result.weights[i], "o", color=line.get_color(), ms=5)
    ax.set(xlabel="t/τ (η · samples)", ylabel="weight (scaled units)",
           title=f"{result.run.netlist.technology.label} learner: SPICE state s_w(W⁺−W⁻)/I_u (solid), read-out (dots),\n"
                 f"ideal ZOH flow (dashed); nmse_vs_ideal {100 * result.nmse_vs_ideal:.3g} % at t/τ = {result.t_over_tau:g}")
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
    from ._checks import check_learner_technology
    from ._tech import tech_option_text, technology_from_args
    from ..errors import UsageError
    from ..spice_learner import compare_spice_dies, compare_spice_learner, learner_task

    if sim is None:
        sim = SimParams(temp_c=args.temp_c, reltol=1e-4, timeout_s=1800.0)
    mismatch = bool(getattr(args, "mismatch", False))
    if getattr(args, "algorithm", "sgd") == "tiki-taka":
        if getattr(args, "design", "default") != "default" or getattr(args, "vdd_v", None) is not None:
            raise UsageError("--design and --vdd-v apply to --algorithm sgd only (the Tiki-Taka circuit has one design at 1.8 V)")
        from .learner_tiki_taka import simulate_tiki_taka

        return simulate_tiki_taka(args, sim)
    if getattr(args, "dies", None) is not None and not mismatch:
        raise UsageError("--dies needs --mismatch (dies are mismatch samples of the PDK)")
    if getattr(args, "workers", None) is not None and not mismatch:
        raise UsageError("--workers applies to --mismatch --dies only")
    if mismatch and (args.tech != "sky130" or getattr(args, "model_file", None)):
        raise UsageError(f"--mismatch needs --tech sky130 (the only technology with mismatch models), got {tech_option_text(args)}")
    tech = technology_from_args(args)
    check_learner_technology(tech)
    task = learner_task(args.dim, args.samples, seed=args.seed)
    design = _design(args, tech, sim.temp_c)
    common = dict(eta=args.eta, lam=args.lam, t_hold_s=design.t_hold_s, samples=args.samples, sim=sim, simulator=get_simulator(),
                  params=design.params)
    if not mismatch:
        print(f"logdomain: simulating the {args.dim}-input learner over {args.samples} samples on {tech.label} ...", file=sys.stderr)
        result = compare_spice_learner(tech, task, **common)
        if getattr(args, "plot", None):
            from ._figures import save_figure as _save_figure

            _plot(result, args.plot, _save_figure)
        out = result.as_dict()
        out.update(block="learner", seed=args.seed, **_design_keys(design))
        return out
    from ..compare import die_stats

    tech = get_technology("sky130", corner=args.corner, mismatch=True)
    n = args.dies or 1
    seeds = [args.seed + 1 + k for k in range(n)]
    print(f"logdomain: simulating {n} mismatch dies of the {args.dim}-input learner over {args.samples} samples "
          f"on {tech.label} ...", file=sys.stderr)  # fmt: skip
    results = compare_spice_dies(tech, task, seeds, workers=getattr(args, "workers", None), **common)
    if getattr(args, "plot", None):
        from ._figures import save_figure as _save_figure

        _plot(results[0], args.plot, _save_figure)
    dies = [r.as_dict(history=False) for r in results]
    stats = die_stats(np.array([d["nmse_vs_ideal"] for d in dies]))
    first = dies[0]
    cost = {key: float(np.median([d[key] for d in dies])) for key in ("power_w", "energy_per_update_j")}
    return {
        "block": "learner", "tech": tech.label, "dim": args.dim, "samples": args.samples, "eta": args.eta, "lam": args.lam,
        "t_over_tau": first["t_over_tau"], "seed": args.seed, "ideal_weights": first["ideal_weights"],
        "weights": [d["weights"] for d in dies], "nmse_vs_ideal": stats["median"],
        "median": stats["median"], "p90": stats["p90"], "max": float(max(d["nmse_vs_ideal"] for d in dies)),
        "regions_ok": all(d["regions_ok"] for d in dies), "wrong_signs": any(d["wrong_signs"] for d in dies),
        **_design_keys(design),
        **cost, "area_per_weight_um2": first["area_per_weight_um2"], "cost": first["cost"],
        "dies": [{k: d[k] for k in ("seed", "nmse_vs_ideal", "weights", "state_weights", "wrong_signs", "regions_ok",
                                    "region_violations", "common_mode_end_a", "test_mse", "power_w",
                                    "energy_per_update_j")} for d in dies],
    }  # fmt: skip
