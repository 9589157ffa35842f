"""The behavioural model of the learner against the transistor-level learner it models (logdomain.fidelity).

The default run compares them on a dim-1 sky130 stream at t/τ = 20 (nominal, and two mismatch dies
each); the acceptance runs (dim 3–4, 8+ dies) are ``benchmarks/bench_fidelity.py`` and the slow
tests of ``tests/test_spice_learner.py``.
"""

from __future__ import annotations

import pytest

from logdomain.fidelity import MANY_DIES, compare_against_spice, within_factor
from logdomain.learner_model import LearnerModel
from logdomain.spice_learner import learner_task
from netlists import SimParams, get_technology
from netlists.spice_learner_circuit import LearnerParams

pytestmark = pytest.mark.spice

SIM = SimParams(reltol=1e-4, timeout_s=1800)


def test_within_factor():
    assert within_factor(1.0, 1.5, 1.5) and within_factor(1.5, 1.0, 1.5)
    assert not within_factor(1.0, 1.6, 1.5) and not within_factor(0.0, 1.0, 1.5)


def test_behavioural_model_tracks_the_spice_learner(simulator):
    params = LearnerParams.for_technology("sky130", dim=1)
    model = LearnerModel.from_learner_params(params, a_vt_v_m={"n": 4.49e-9, "p": 5.25e-9}, slope_factor={"n": 1.44, "p": 1.29})
    task = learner_task(1, 200, seed=5)
    r = compare_against_spice(get_technology("sky130"), task, model, params, samples=200, eta=0.1, dies=2, seed=3,
                              mismatch_tech=get_technology("sky130", mismatch=True), sim=SIM, simulator=simulator,
                              workers=2, quiet=True)  # fmt: skip
    d = r.as_dict()
    assert d["t_over_tau"] == pytest.approx(20.0)
    assert d["spice_vs_behavioural_nmse"] <= 0.01, d
    assert d["nmse_vs_ideal"]["spice"] <= 0.01 and d["nmse_vs_ideal"]["behavioural"] <= 0.01
    assert d["regions_ok"]
    assert len(d["spice_dies"]) == 2 and len(d["behavioural_dies"]) == 2
    assert [x["seed"] for x in d["spice_die_details"]] == [4, 5]
    assert d["behavioural_many"]["dies"] == MANY_DIES
    assert {"spice_median", "spice_p90", "behavioural_median", "behavioural_p90", "median_within_1_5x"} <= set(d)
