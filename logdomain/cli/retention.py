"""``logdomain simulate retention`` and ``simulate noise``: the learner's weight cell as a memory.

``simulate noise`` (:mod:`netlists.noise`): the cell's charging-current noise at the unit drive
(ngspice ``.noise`` over [1/(400·T_s), 1/(2·T_s)]); JSON ``noise_rel`` (rms noise / drive of one
update), ``sigma_i_a`` (A rms), ``i_drive_a`` (A), ``sigma_w_per_hold`` (scaled weight units).

``simulate retention``: hold one half-weight of the learner with its inputs off.

Routed from :mod:`logdomain.cli.app` (``simulate`` with block ``retention``). Measures, at
``--temp-c``, the leakage into the storage node (``i_leak_a``, A; its junction share
``i_leak_junction_a``), the drift of V_C (V/s), of I_w (A/s) and of the weight (scaled units per s),
and ``retention_s``: the time to drift one LSB at 8 bits (see :mod:`netlists.retention`).
``--plot FILE.png`` also sweeps −20, 0, 27, 55, 85, 125 °C and plots leakage and retention against
temperature (a temperature where the bench cannot hold the weight is reported in ``sweep`` with
its reason, and left off the plot), and fits the leakage at 27 °C and above with an Arrhenius law
(``arrhenius``: ``i_ref_a_at_27c``, ``e_a_ev``).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

__all__ = ["simulate_retention", "simulate_noise", "SWEEP_TEMPS_C", "BITS"]

#: temperatures of the ``--plot`` sweep, °C
SWEEP_TEMPS_C = (-20.0, 0.0, 27.0, 55.0, 85.0, 125.0)
#: resolution of the retention figure (LSB = 2^(1−bits) over [−1, 1])
BITS = 8


def _plot(rows: list[dict[str, Any]], path: str, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._figures import save_figure

    ok = [r for r in rows if "error" not in r]
    t = [r["temp_c"] for r in ok]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.semilogy(t, [abs(r["i_leak_a"]) for r in ok], "o-", label="|I_leak| into V_C (inputs off)")
    ax1.semilogy(t, [abs(r["i_leak_junction_a"]) for r in ok], "s--", label="|change by the junction geometry|")
    ax1.semilogy(t, [r["i_a_a"] for r in ok], "k:", label="I_A (loop bias)")
    ax1.semilogy(t, [r["i_lambda_design_a"] for r in ok], "k-.", label="I_λ (design)")
    ax1.set(xlabel="temperature (°C)", ylabel="current (A)", title=f"{label}: leakage at the storage node")
    ax2.semilogy(t, [r["retention_s"] if r["retention_s"] else float("nan") for r in ok], "o-")
    ax2.set(xlabel="temperature (°C)", ylabel="time to drift 1 LSB at 8 bits (s)",
            title="retention of one half-weight (I_w = i_w0, C = 50 pF)")
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def simulate_retention(args: argparse.Namespace, sim) -> dict[str, Any]:
    """Handler of ``simulate retention``; ``sim`` (:class:`netlists.SimParams`) carries ``--temp-c``."""
    from dataclasses import replace

    from netlists import get_simulator, get_technology
    from netlists.errors import SimulationError
    import numpy as np

    from netlists.retention import fit_arrhenius, measure_retention

    tech = get_technology(args.tech, corner=args.corner)
    simulator = get_simulator()
    params, design_keys = _design_params(args, tech, sim.temp_c)
    print(f"logdomain: holding one half-weight on {tech.label} at {sim.temp_c:g} °C ...", file=sys.stderr)
    out: dict[str, Any] = {"block": "retention", **design_keys,
                           **measure_retention(tech, params=params, bits=BITS, sim=sim, simulator=simulator).as_dict()}
    if getattr(args, "plot", None):
        rows = []
        for temp in SWEEP_TEMPS_C:
            try:
                rows.append(measure_retention(tech, params=_design_params(args, tech, temp)[0], bits=BITS,
                                              sim=replace(sim, temp_c=temp), simulator=simulator).as_dict())
            except SimulationError as exc:
                rows.append({"temp_c": temp, "error": str(exc).splitlines()[0]})
        out["sweep"] = rows
        # Arrhenius fit of the net leakage over the temperatures where it flows into V_C (it changes sign
        # near 0 °C on some corners, where the off channels and the junctions balance)
        hot = [r for r in rows if "error" not in r and r["i_leak_a"] > 0 and r["temp_c"] >= 27.0]
        if len(hot) >= 2:
            i_ref, e_a = fit_arrhenius(np.array([r["temp_c"] for r in hot]), np.array([r["i_leak_a"] for r in hot]))
            out["arrhenius"] = {"i_ref_a_at_27c": i_ref, "e_a_ev": e_a, "temps_c": [r["temp_c"] for r in hot]}
        _plot(rows, args.plot, tech.label)
    for key, value in list(out.items()):
        if isinstance(value, float) and not math.isfinite(value):
            out[key] = None
    return out


def simulate_noise(args: argparse.Namespace, sim) -> dict[str, Any]:
    """Handler of ``simulate noise``; ``sim`` (:class:`netlists.SimParams`) carries ``--temp-c``."""
    from netlists import get_simulator, get_technology
    from netlists.noise import measure_cell_noise

    tech = get_technology(args.tech, corner=args.corner)
    if getattr(args, "plot", None):
        from ..errors import UsageError

        raise UsageError("--plot does not apply to simulate noise (it returns band totals, no spectrum)")
    params, design_keys = _design_params(args, tech, sim.temp_c)
    print(f"logdomain: noise of the weight cell on {tech.label} at {sim.temp_c:g} °C ...", file=sys.stderr)
    return {"block": "noise", **design_keys, **measure_cell_noise(tech, params=params, sim=sim, simulator=get_simulator()).as_dict()}


def _design_params(args: argparse.Namespace, tech, temp_c: float):
    """The learner design of ``--design`` (and ``--t-hold-s``, ``--vdd-v``) at ``temp_c`` (°C): its
    parameters, with the hold time it runs at, and the JSON keys that name it."""
    from dataclasses import replace

    from .learner import _design, _design_keys

    design = _design(args, tech, temp_c)
    eta = getattr(args, "eta", design.params.eta)
    return replace(design.params, t_hold_s=design.t_hold_s, eta=eta), _design_keys(design)
