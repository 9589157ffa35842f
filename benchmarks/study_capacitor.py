"""The storage capacitor's trade-off: area against leakage (λ offset, retention) and kT/C noise.

For each C (per half-weight), with the learner's η, T_s and so τ = T_s/η fixed (I_A = C·U_T/(κ·τ)
scales with C), measured in SPICE on the learner's weight cell (:func:`netlists.retention.measure_retention`,
sky130 tt, inputs off, at ``--temps``):

* ``lam_offset`` = −I_leak/I_A: the leakage as a change of each half's λ (the learner's λ_c is
  ``lam`` = 1e-3: |lam_offset| ≫ 1e-3 means leakage, not the programmed decay, sets the L2 term);
* ``retention_s``: time for one half to drift one 8-bit LSB with the inputs off; ``release_over_hold``
  compares the released drift with I_leak/C — far from 1 (measured below 5 pF at 27 °C: ×40 at
  2 pF, where I_A is 185 fA) the released state runs away on its own and the point is not a leakage
  figure (plotted as ×);

and from the netlist and physics:

* area per weight: the learner's gate area per weight (Σ W·L/N of the dim-4 learner) + 2·C/ρ_MIM;
* kT/C noise of the state: σ_V = √(kT/C) (V), as a relative weight-current noise
  σ_I/I = κ·σ_V/U_T (weak inversion), and in 8-bit LSBs of a half at w = 0 (I_w = i_w0):
  s_w·σ_I/I_u / LSB. This is the thermal noise sampled on C, not the devices' noise (issue 14 D).

Writes a figure (``--plot``, default docs/capacitor_tradeoff.png) and prints JSON rows.
Usage: ``python benchmarks/study_capacitor.py [--caps-pf 0.5 2 5 12.5 50] [--temps 27 85]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netlists import SimParams, get_simulator, get_technology  # noqa: E402
from netlists.cost import device_area_m2  # noqa: E402
from netlists.errors import SimulationError  # noqa: E402
from netlists.retention import lsb, measure_retention  # noqa: E402
from netlists.spice_learner_circuit import LearnerParams, learner, state_nodes  # noqa: E402
from netlists.technologies.base import BOLTZMANN_J_PER_K, thermal_voltage_v  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caps-pf", type=float, nargs="+", default=[0.5, 2.0, 5.0, 12.5, 50.0])
    parser.add_argument("--temps", type=float, nargs="+", default=[27.0, 85.0])
    parser.add_argument("--corner", default="tt")
    parser.add_argument("--plot", default=str(Path(__file__).resolve().parents[1] / "docs" / "capacitor_tradeoff.png"))
    args = parser.parse_args()
    tech = get_technology("sky130", corner=args.corner)
    simulator = get_simulator()
    base = LearnerParams.for_technology("sky130")
    dim = 4
    net = learner(tech, base.replace(dim=dim), np.zeros((2, dim)), np.zeros(2), {n: 0.3 for n in state_nodes(dim)})
    devices_um2 = device_area_m2(net) / dim * 1e12
    density = tech.mim_density_f_per_m2
    rows = []
    for c_pf in args.caps_pf:
        p = base.replace(c_f=c_pf * 1e-12)
        row = {"c_pf": c_pf, "area_per_weight_um2": devices_um2 + 2 * p.c_f / density * 1e12, "device_area_per_weight_um2": devices_um2}
        for temp in args.temps:
            ut = thermal_voltage_v(temp)
            sigma_v = math.sqrt(BOLTZMANN_J_PER_K * (temp + 273.15) / p.c_f)
            rel = p.kappa * sigma_v / ut
            key = f"{temp:g}C"
            row[f"ktc_sigma_v_{key}"] = sigma_v
            row[f"ktc_lsb_{key}"] = p.w_scale * rel * p.i_w0_a / p.i_u_a / lsb(8)
            try:
                r = measure_retention(tech, params=p, sim=SimParams(temp_c=temp), simulator=simulator)
                row.update({f"i_leak_a_{key}": r.i_leak_a, f"lam_offset_{key}": r.lam_offset, f"retention_s_{key}": r.retention_s,
                            f"i_a_a_{key}": r.i_a_a, f"release_over_hold_{key}": r.dvc_dt_v_per_s / r.dvc_dt_hold_v_per_s})
            except SimulationError as exc:
                row[f"error_{key}"] = str(exc).splitlines()[0]
        rows.append(row)
        print(json.dumps(row), flush=True)
    _plot(rows, args, base)


def _plot(rows: list[dict], args, base: LearnerParams) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = np.array([r["c_pf"] for r in rows])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    axes[0].loglog(c, [r["area_per_weight_um2"] for r in rows], "o-", label="devices + 2 C (MIM)")
    axes[0].axhline(rows[0]["device_area_per_weight_um2"], ls="--", c="gray", label="devices only")
    axes[0].set(xlabel="C per half (pF)", ylabel="area per weight (µm²)", title="area")
    for temp in args.temps:
        key = f"{temp:g}C"
        ok = [r for r in rows if f"lam_offset_{key}" in r]
        axes[1].loglog([r["c_pf"] for r in ok], [abs(r[f"lam_offset_{key}"]) for r in ok], "o-", label=f"|Δλ| leakage, {key}")
        agree = [r for r in ok if 0.7 < r[f"release_over_hold_{key}"] < 1.5]
        away = [r for r in ok if r not in agree]
        line = axes[2].loglog([r["c_pf"] for r in agree], [r[f"retention_s_{key}"] for r in agree], "o-",
                              label=f"retention (1 LSB), {key}")[0]
        if away:
            axes[2].loglog([r["c_pf"] for r in away], [r[f"retention_s_{key}"] for r in away], "x", color=line.get_color(),
                           label=f"{key}: released V_C runs away (not leakage)")
        axes[2].loglog(c, [r[f"ktc_lsb_{key}"] for r in rows], "--", label=f"kT/C noise (LSB rms), {key}")
    axes[1].axhline(base.lam, c="k", ls=":", label=f"programmed λ = {base.lam:g}")
    axes[1].set(xlabel="C per half (pF)", ylabel="|λ offset| = I_leak/I_A", title="leakage as a change of λ (τ fixed)")
    axes[2].set(xlabel="C per half (pF)", ylabel="s  /  LSB", title="retention (s) and kT/C noise (LSB)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"sky130 {args.corner}: storage capacitor trade-off at T_s = {base.t_hold_s:g} s, η = {base.eta:g} "
                 "(SPICE: leakage, retention; netlist: area; kT/C: physics)", fontsize=9)
    fig.tight_layout()
    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()
