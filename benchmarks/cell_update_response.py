"""The weight cell's update response in SPICE (issue 15 item 1): q₊(w), q₋(w), F, G per half and per pair.

One half of the learner's weight (:func:`calibration.update_response.half_response`: the learner's
cell, sizes, currents and C on sky130 tt) at 10 state levels, nominal and under the PDK's mismatch
(one mismatch seed per half); pairs composed at the learner's initial common mode S = 2·i_w0/i_u
(:func:`calibration.update_response.pair_response`): the nominal pair (the nominal half twice) and
``--pairs`` mismatch pairs (seeds 2k+1, 2k+2). Prints JSON; ``--plot FILE.png`` draws q_up(W) of
every half and a(w) = G/F of every pair. Usage:
``python benchmarks/cell_update_response.py [--pairs 4] [--plot docs/cell_update_response.png]
[--data-out calibration/data/cell_update_response_sky130_tt.json]`` (the file ``study asymmetry --measured`` reads).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.learner_benches import setup_benches  # noqa: E402
from calibration.update_response import ResponsePlan, half_response, pair_response  # noqa: E402
from netlists import SimParams, get_simulator, get_technology  # noqa: E402

#: the band of levels where the cell keeps its law (q_up within a few % of its mid value), units of I_u
LAW_BAND = (0.3, 1.0)


def _band_stats(pr, half_band: float) -> dict[str, float]:
    """Mean and spread of a = G/F over |w| ≤ the w at which the lower half reaches LAW_BAND[0]."""
    sel = np.abs(pr.w) <= half_band + 1e-12
    a = pr.asymmetry[sel]
    return {"w_max": float(half_band), "mean_a": float(a.mean()), "min_a": float(a.min()), "max_a": float(a.max()),
            "sign_changes": int(np.sum(np.sign(pr.G[sel][:-1]) * np.sign(pr.G[sel][1:]) < 0))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4, help="mismatch pairs (default 4)")
    parser.add_argument("--plot", help="write a PNG")
    parser.add_argument("--data-out", metavar="FILE.json",
                        help="also write the pairs as the study's measured-response data "
                             "(calibration/data/cell_update_response_sky130_tt.json)")
    args = parser.parse_args()
    sim, simulator = SimParams(), get_simulator()
    clock = time.perf_counter()
    nominal_tech = get_technology("sky130", corner="tt")
    setup = setup_benches(nominal_tech, sim, simulator)
    p = setup.params
    s = 2 * p.i_w0_a / p.i_u_a
    plan = ResponsePlan()
    nominal = half_response(nominal_tech, plan, setup=setup, sim=sim, simulator=simulator)
    halves = [half_response(get_technology("sky130", corner="tt", mismatch=True, seed=k), plan, setup=setup, sim=sim,
                            simulator=simulator, seed=k) for k in range(1, 2 * args.pairs + 1)]  # fmt: skip
    band = 2 * p.w_scale * (s / 2 - LAW_BAND[0])  # |w| at which the lower half reaches the band's floor
    pairs = [pair_response(nominal, nominal, s, p.w_scale)] + [pair_response(halves[2 * k], halves[2 * k + 1], s, p.w_scale)
                                                               for k in range(args.pairs)]  # fmt: skip
    mid = (nominal.levels >= LAW_BAND[0]) & (nominal.levels <= LAW_BAND[1])
    out = {
        "tech": "sky130 tt, 27 °C", "plan": {k: getattr(plan, k) for k in plan.__dataclass_fields__},
        "common_mode_s": s, "w_scale": p.w_scale, "law_band_levels": LAW_BAND,
        "nominal_half": nominal.to_dict(), "mismatch_halves": [h.to_dict() for h in halves],
        "nominal_half_q_up_slope_per_iu": float(np.polyfit(nominal.w_start[mid], nominal.q_up[mid], 1)[0]),
        "mismatch_half_gain_spread": float(np.std([np.mean(h.q_up[mid]) for h in halves], ddof=1) / np.mean([np.mean(h.q_up[mid]) for h in halves])),
        "pairs": [{"kind": "nominal" if i == 0 else f"mismatch seeds {2 * i - 1},{2 * i}", **pr.to_dict(),
                   "band": _band_stats(pr, band)} for i, pr in enumerate(pairs)],
        "runtime_s": time.perf_counter() - clock,
    }  # fmt: skip
    print(json.dumps(out, indent=1))
    if args.data_out:
        keep = ("kind", "w", "q_plus", "q_minus", "symmetric_point", "band")
        Path(args.data_out).write_text(json.dumps({
            "what": "update response of the sky130 tt learner's weight pair (calibration/update_response.py): q_plus(w), "
                    "q_minus(w) in units of the design law's gain, w in the learner's units (w = w_scale*(W+ - W-)) at "
                    "common mode s (units of I_u)",
            "command": "python benchmarks/cell_update_response.py --pairs 4 --plot docs/cell_update_response.png "
                       "--data-out calibration/data/cell_update_response_sky130_tt.json",
            "tech": out["tech"], "plan": out["plan"], "common_mode_s": s, "w_scale": p.w_scale,
            "pairs": [{k: pr[k] for k in keep} for pr in out["pairs"]]}, indent=1))  # fmt: skip
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        ax1.plot(nominal.w_start, nominal.q_up, "ko-", lw=2, label="nominal: q_up (drive up)")
        ax1.plot(nominal.w_start, nominal.q_down, "k^--", label="nominal: q_down (drive down)")
        for h in halves:
            ax1.plot(h.w_start, h.q_up, ".-", alpha=0.6, label=f"mismatch seed {h.seed}: q_up")
        ax1.axvspan(0, LAW_BAND[0], color="0.9")
        ax1.set(xlabel="half's state W (units of I_u)", ylabel="response factor (1 = the law's gain)",
                title="one half of the weight (sky130 tt)")  # fmt: skip
        ax1.legend(fontsize=7)
        for i, pr in enumerate(pairs):
            ax2.plot(pr.w, pr.asymmetry, "ko-" if i == 0 else ".-", lw=2 if i == 0 else 1,
                     label="nominal pair" if i == 0 else f"mismatch pair {i}")  # fmt: skip
        ax2.axvspan(-band, band, color="0.93", label="both halves in the law's band")
        ax2.axhline(0, c="k", lw=0.5)
        ax2.set(xlabel="w (learner units, w = s_w(W⁺ − W⁻))", ylabel="a(w) = G/F = (q₋ − q₊)/(q₋ + q₊)",
                title=f"pair at common mode S = {s:g} I_u")  # fmt: skip
        ax2.legend(fontsize=7)
        for ax in (ax1, ax2):
            ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
