"""Behavioural learner against the transistor-level learner (logdomain.fidelity, issue 7).

Fast cases only (sky130 tt, dim 1–2, a few samples); the dim 4 × 200 acceptance run is
``benchmarks/bench_fidelity.py``. Tolerances: the two learners' held-out predictions within
1 % NMSE of each other (the acceptance bound) and each within 1 % of the ideal flow.
"""

from __future__ import annotations

import argparse

import pytest

from logdomain.fidelity import compare_against_spice, learner_cell_bench
from logdomain.spice_learner import learner_task
from netlists import SimParams, get_technology
from netlists.spice_learner_circuit import LearnerParams

pytestmark = pytest.mark.spice

SIM = SimParams(reltol=1e-4, timeout_s=600)


def test_cell_bench_is_the_learner_cell_with_lambda_one():
    p = LearnerParams(dim=2)
    bench = learner_cell_bench(p)
    cell = p.cell_params()
    for name in ("c_f", "i_a_a", "w_out_m", "l_out_m", "v_fb1_v", "v_fb2_v", "i_track_a", "w_cas_m"):
        assert getattr(bench, name) == getattr(cell, name)
    assert bench.lam == pytest.approx(1.0)
    assert bench.t_back_s == pytest.approx(p.tau_circuit_s)


@pytest.mark.parametrize(("dim", "samples"), [(1, 40), (2, 80)])
def test_behavioural_tracks_spice_on_sky130(simulator, dim, samples):
    # (shorter streams, e.g. 16 samples, leave the weights so small that the start-up error of
    # the SPICE learner dominates: measured 18 % vs ideal at dim 1 × 16 — a SPICE-learner issue)
    task = learner_task(dim, samples, seed=2)
    r = compare_against_spice(get_technology("sky130", corner="tt"), task, samples=samples, eta=0.05, sim=SIM,
                              simulator=simulator, repeats=2)  # fmt: skip
    d = r.as_dict()
    assert d["spice_vs_behavioural_nmse"] <= 0.01, d
    assert d["nmse_vs_ideal"]["spice"] <= 0.01 and d["nmse_vs_ideal"]["behavioural"] <= 0.01
    assert 0.9 < r.model.tau_scale < 1.1  # the cell's loop gain is within 10 % of 1 by design
    # the speedup is a timing: benchmarks/bench_fidelity.py measures it, not this test
    assert r.spice.run.regions_ok


def test_compare_cli_against_spice_parses_and_runs(monkeypatch):
    from logdomain import cmd_train

    parser = argparse.ArgumentParser()
    cmd_train.register(parser.add_subparsers())
    args = parser.parse_args(["compare", "--against", "spice", "--tech", "sky130", "--dim", "1", "--samples", "6",
                              "--eta", "0.05"])  # fmt: skip
    assert args.against == "spice" and args.dim == 1
    out = args.handler(args)
    assert {"spice_vs_behavioural_nmse", "speedup", "nmse_vs_ideal"} <= set(out)
    with pytest.raises(SystemExit):
        parser.parse_args(["compare", "--against", "spice", "--dim", "9"])
    with pytest.raises(SystemExit):
        parser.parse_args(["compare", "--against", "hardware"])
