"""What would close the diabetes headline: the behavioural learner with design changes (prints JSON).

The headline (`logdomain compare`: diabetes, η 0.05, λ 1e-3, 5 epochs, 8 bits, 32 dies, shipped
calibration) rerun with

* every device group ``area``× larger (W × area, same L: Pelgrom σ / √area),
* the target path's fitted gain trimmed to 1 (a per-chip gain trim of the targets' scale),
* the cells' fitted λ offset trimmed (λ programmed as λ − λ_offset),
* one mismatch group removed at a time (which group matters, with the others on),
* longer training (the asymmetric-update floor grows with t/τ, slow learning would shrink).

Each row: nmse_vs_ideal median and p90 over the dies against the ideal discrete learner with the same
η, λ and epochs. Usage: ``python benchmarks/study_design.py [--dies 1024] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.schema import load_default_calibration  # noqa: E402
from logdomain.ideal import sgdr_discrete  # noqa: E402
from logdomain.learner_model import MISMATCH_GROUPS, LearnerModel  # noqa: E402
from logdomain.learner_sim import sgdr_learner  # noqa: E402
from logdomain.metrics import nmse_vs_ideal  # noqa: E402
from logdomain.tasks import diabetes  # noqa: E402

ETA, LAM, EPOCHS, BITS = 0.05, 1e-3, 5, 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dies", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="8 dies, no long-training rows")
    args = parser.parse_args()
    dies = 8 if args.quick else args.dies
    task = diabetes(test_fraction=0.25, seed=0)
    base = LearnerModel.from_calibration(load_default_calibration(), bits=BITS)
    lam_offset = base.nominal["lam_offset"]

    def run(model: LearnerModel, *, lam: float = LAM, epochs: int = EPOCHS) -> dict[str, float]:
        w_ideal = sgdr_discrete(task.x_train, task.y_train, ETA, LAM, epochs=epochs)
        ideal = task.x_test @ w_ideal
        r = sgdr_learner(task.x_train, task.y_train, model, ETA, lam, epochs=epochs, dies=dies, seed=0)
        e = nmse_vs_ideal(r.predict(task.x_test), np.broadcast_to(ideal, (dies, len(ideal))))
        return {"median": float(np.median(e)), "p90": float(np.percentile(e, 90)),
                "t_over_tau": ETA * epochs * len(task.y_train)}  # fmt: skip

    def area(model: LearnerModel, k: float) -> LearnerModel:
        return model.replace(sizes_m={g: (w * k, l) for g, (w, l) in model.sizes_m.items()})

    def trimmed(model: LearnerModel) -> LearnerModel:
        return model.replace(nominal={**model.nominal, "target_gain": 1.0})

    rows: dict[str, dict[str, float]] = {"shipped": run(base)}
    rows["no mismatch"] = run(base.replace(mismatch_groups=()))
    rows["no mismatch, target gain and lambda trimmed"] = run(trimmed(base.replace(mismatch_groups=())), lam=LAM - lam_offset)
    for k in (4, 16, 64):
        rows[f"area x{k}"] = run(area(base, k))
        rows[f"area x{k}, target gain and lambda trimmed"] = run(trimmed(area(base, k)), lam=LAM - lam_offset)
    for group in MISMATCH_GROUPS:
        rows[f"mismatch in every group but {group}"] = run(base.replace(mismatch_groups=tuple(g for g in MISMATCH_GROUPS if g != group)))
    if not args.quick:
        for epochs in (20, 80):
            rows[f"shipped, {epochs} epochs"] = run(base, epochs=epochs)
    print(json.dumps({"task": task.name, "eta": ETA, "lam": LAM, "epochs": EPOCHS, "bits": BITS, "dies": dies,
                      "lam_offset": lam_offset, "target_gain": base.nominal["target_gain"], "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
