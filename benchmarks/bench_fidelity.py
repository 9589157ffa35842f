"""Issue 11 fidelity check: the behavioural model of the shipped calibration's learner against that learner in SPICE.

Prints one JSON object: the nominal stream's ``spice_vs_behavioural_nmse`` (held-out predictions,
fraction) and ``t_over_tau``; with ``--dies N`` (default 8), nmse_vs_ideal of N SPICE dies (the PDK's
per-instance mismatch) beside N dies of the model and the model's 1000-die statistics, with
``median_within_1_5x``/``p90_within_1_5x``; ``speedup`` (SPICE learner wall time / one behavioural
run). Acceptance (sky130 tt, dim 3–4, t/τ ≥ 20): nominal ≤ 1 %; dies: SPICE median ≤ 1 %, p90 ≤ 3 %,
model within 1.5× of SPICE; ``accept`` reports each.

``--model-only`` skips SPICE: the model's N dies and its 1000-die statistics on the same stream, seeds
and ideal (the exact ZOH flow), as the full run computes them — seconds instead of minutes, to
re-measure the model's side when only the model changed.

Usage: ``python benchmarks/bench_fidelity.py [--dim 3] [--samples 400] [--dies 8] [--quick] [--model-only]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.schema import load_default_calibration  # noqa: E402
from logdomain.fidelity import compare_against_spice  # noqa: E402
from logdomain.learner_model import LearnerModel  # noqa: E402
from logdomain.spice_learner import learner_task  # noqa: E402
from netlists import SimParams, Simulator, get_technology  # noqa: E402
from netlists.spice_learner_circuit import LearnerParams  # noqa: E402


def model_only(args: argparse.Namespace) -> dict:
    """The behavioural half of :func:`logdomain.fidelity.compare_against_spice` with ``dies``."""
    import numpy as np

    from logdomain.fidelity import MANY_DIES, _behavioural
    from logdomain.ideal import sgdr_continuous_zoh
    from logdomain.spice_learner import DEFAULT_LAM, DEFAULT_T_HOLD_S

    model = LearnerModel.from_calibration(load_default_calibration())
    task = learner_task(args.dim, args.samples, seed=args.seed)
    x, y = task.x_train[: args.samples], task.y_train[: args.samples]
    w_ideal = sgdr_continuous_zoh(x, y, DEFAULT_T_HOLD_S / args.eta, DEFAULT_T_HOLD_S, DEFAULT_LAM)
    _, few, _ = _behavioural(x, y, task, model, args.eta, DEFAULT_LAM, w_ideal, args.dies, args.seed)
    _, many, _ = _behavioural(x, y, task, model, args.eta, DEFAULT_LAM, w_ideal, MANY_DIES, args.seed + 1)
    stats = lambda v: {"median": float(np.median(v)), "p90": float(np.percentile(v, 90))}  # noqa: E731
    return {"dim": args.dim, "samples": args.samples, "eta": args.eta, "behavioural_dies": few.tolist(),
            **{f"behavioural_{k}": v for k, v in stats(few).items()}, "behavioural_many": {"dies": MANY_DIES, **stats(many)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=3)
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--eta", type=float, default=0.05)
    ap.add_argument("--dies", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="dim 1 × 200 samples at η = 0.1 (t/τ = 20), 2 dies")
    ap.add_argument("--model-only", action="store_true", help="the model's dies only (no SPICE)")
    args = ap.parse_args()
    if args.model_only:
        print(json.dumps(model_only(args)))
        return
    if args.quick:
        args.dim, args.samples, args.eta, args.dies = 1, 200, 0.1, 2
    cal = load_default_calibration()
    prov = cal.provenance
    model = LearnerModel.from_calibration(cal)
    params = LearnerParams(**cal.learner.design).replace(dim=args.dim)
    tech = get_technology(prov.technology, corner=prov.corner)
    mm = get_technology(prov.technology, corner=prov.corner, mismatch=True) if args.dies else None
    sim = SimParams(reltol=1e-4, timeout_s=3600, temp_c=prov.temp_c)
    with Simulator(sim) as simulator:
        r = compare_against_spice(tech, learner_task(args.dim, args.samples, seed=args.seed), model, params,
                                  samples=args.samples, eta=args.eta, dies=args.dies, seed=args.seed, mismatch_tech=mm,
                                  sim=sim, simulator=simulator, quiet=True)  # fmt: skip
    out = r.as_dict()
    accept = {"nominal_le_1pct": out["spice_vs_behavioural_nmse"] <= 0.01, "t_over_tau_ge_20": out["t_over_tau"] >= 20}
    if args.dies:
        accept.update(spice_median_le_1pct=out["spice_median"] <= 0.01, spice_p90_le_3pct=out["spice_p90"] <= 0.03,
                      model_median_within_1_5x=out["median_within_1_5x"], model_p90_within_1_5x=out["p90_within_1_5x"],
                      no_wrong_signs=all(not d["wrong_signs"] for d in out["spice_die_details"]),
                      regions_ok=all(d["regions_ok"] for d in out["spice_die_details"]))  # fmt: skip
    out["accept"] = accept
    print(json.dumps(out))


if __name__ == "__main__":
    main()
