"""Transistor-level learner, dim 4 × 400 samples (t/τ = 20, default hyperparameters), against ideal SGDr.

Prints one JSON object per technology/corner on stdout: ``nmse_vs_ideal`` (held-out prediction
NMSE, fraction), ``weight_nmse``, ``t_over_tau``, ``runtime_s`` (ngspice transient, one core), the
region summary, and ``eta_gain_fit`` — the factor g such that the ideal flow with η·g fits the SPICE
state trajectory best (a pure learning-rate error shows as g ≠ 1 with a small residual).

Usage: ``python benchmarks/bench_learner.py [--quick] [--techs sky130:tt bsim ...]``
(``--quick``: dim 2 × 100 samples at η = 0.2, also t/τ = 20).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logdomain.ideal import sgdr_continuous_zoh  # noqa: E402
from logdomain.spice_learner import DEFAULT_ETA, DEFAULT_LAM, DEFAULT_SAMPLES, DEFAULT_T_HOLD_S, compare_spice_learner, learner_task  # noqa: E402
from netlists import SimParams, Simulator, get_technology  # noqa: E402


def eta_gain_fit(r, x, y) -> tuple[float, float]:
    p = r.run.params
    hist = r.state_history

    def loss(g: float) -> float:
        _, h = sgdr_continuous_zoh(x, y, p.tau_ideal_s / g, p.t_hold_s, DEFAULT_LAM, return_history=True)
        return float(np.sum((h - hist) ** 2) / np.sum(hist**2))

    fit = minimize_scalar(loss, bounds=(0.5, 2.0), method="bounded")
    return float(fit.x), float(fit.fun)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--techs", nargs="*", default=["sky130:tt", "sky130:ss", "sky130:ff", "sky130:sf", "sky130:fs", "bsim"],
                    help="technologies (the whole learner is not supported on ekv: LearnerParams.UNSUPPORTED)")
    args = ap.parse_args()
    dim, k, eta = (2, 100, 0.2) if args.quick else (4, DEFAULT_SAMPLES, DEFAULT_ETA)
    task = learner_task(dim, k, seed=0)
    sim = SimParams(reltol=1e-4, timeout_s=1800)
    for spec in args.techs:
        name, _, corner = spec.partition(":")
        tech = get_technology(name, corner=corner) if corner else get_technology(name)
        with Simulator(sim) as simulator:
            try:
                r = compare_spice_learner(tech, task, eta=eta, samples=k, t_hold_s=DEFAULT_T_HOLD_S, sim=sim, simulator=simulator)
            except Exception as exc:  # report and go on with the next technology
                print(json.dumps({"tech": spec, "error": str(exc).splitlines()[0]}), flush=True)
                continue
        g, resid = eta_gain_fit(r, task.x_train[:k], task.y_train[:k])
        d = r.as_dict(history=False)
        out = {key: d[key] for key in ("tech", "dim", "samples", "eta", "lam", "t_over_tau", "nmse_vs_ideal", "weight_nmse",
                                       "runtime_s", "weights", "ideal_weights", "regions_ok", "region_violations", "circuit")}  # fmt: skip
        out["regions"] = [f"t={x['t_s']:.3g}s: {x['summary'][:300]}" for x in d["regions"]]
        out.update(eta_gain_fit=g, weight_nmse_after_eta_fit=resid)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
