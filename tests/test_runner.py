"""Runner robustness: typed errors, timeouts, recovery, memory."""

from __future__ import annotations

import time

import pytest

from netlists import NetlistError, SimParams, SimulationError, SimulationTimeout, Simulator, blocks, get_technology
from netlists.netlist import Analysis, NetlistBuilder


def _custom(elements: list[str], analysis: Analysis) -> object:
    nb = NetlistBuilder("custom", get_technology("ekv"))
    nb.netlist.elements.extend(elements)  # hand-made topologies that a generator would never emit
    nb.analysis(analysis)
    return nb.build()


@pytest.mark.parametrize(
    "elements",
    [
        ["b1 a 0 v=-v(a)*v(a)-1", "r1 a 0 1k"],  # no real solution
        ["b1 a 0 i=1e-3*sgn(v(a)-0.5)", "r1 a 0 1e9"],  # discontinuous, no fixed point
        ["b1 a 0 v=v(a)+1"],  # ngspice "solves" this at 1e15 V: garbage must not be returned
    ],
)
def test_non_convergent_raises_with_log(elements, simulator):
    with pytest.raises(SimulationError) as info:
        simulator.run(_custom(elements, Analysis("op")))
    err = info.value
    assert not isinstance(err, SimulationTimeout)
    assert err.attempts == ["default", "gmin stepping", "source stepping", "smaller steps"]
    assert err.log  # the ngspice log travels with the error
    assert err.netlist.startswith("* custom")


def test_parse_error_is_netlist_error(simulator):
    with pytest.raises(NetlistError) as info:
        simulator.run(_custom(["x1 a b nosuchsubckt"], Analysis("op")))
    assert info.value.log


#: how late a killed run may end on a loaded 2-core CI machine (the run itself would take hours)
KILL_SLACK_S = 60.0


def test_timeout_then_next_run_works():
    # 1e12 time steps: only the timeout can end this run
    slow = _custom(["r1 a 0 1k", "c1 a 0 1n", "i1 0 a dc 1u"], Analysis("tran", step=1e-12, stop=1.0, max_step=1e-12))
    with Simulator() as sim:
        pid = sim.worker_pid or sim.ngspice_version and sim.worker_pid
        started = time.perf_counter()
        with pytest.raises(SimulationTimeout):
            sim.run(slow, SimParams(timeout_s=1.0))
        assert 1.0 <= time.perf_counter() - started < 1.0 + KILL_SLACK_S
        result = sim.run(blocks.nmos_iv(get_technology("ekv")))
        assert result.drain_current("m1")[-1] > 0
        assert sim.worker_pid != pid  # a fresh worker replaced the killed one


def test_results_are_repeatable(simulator):
    tech = get_technology("sky130")
    a = simulator.run(blocks.nmos_iv(tech)).drain_current("m1")
    b = simulator.run(blocks.nmos_iv(tech)).drain_current("m1")
    assert (a == b).all()


@pytest.mark.slow
def test_thousand_runs_keep_memory_flat():
    psutil = pytest.importorskip("psutil")
    tech = get_technology("ekv")
    netlist = blocks.multiplier(tech)
    with Simulator() as sim:
        for _ in range(20):  # warm up: libraries, caches
            sim.run(netlist)
        worker = psutil.Process(sim.worker_pid)
        before = worker.memory_info().rss
        for _ in range(1000):
            sim.run(netlist)
        grown = worker.memory_info().rss - before
    assert grown < 50e6, f"worker RSS grew by {grown / 1e6:.1f} MB over 1000 runs"


def test_no_state_leaks_between_technologies(simulator):
    """sky130 leaves `.option scale=1u` and ngbehavior=hsa behind; other technologies must not see it."""
    from netlists import MirrorParams

    netlist = blocks.mirror(get_technology("bsim"), MirrorParams(w_m=20e-6, l_m=2e-6, i_in_a=1e-9, v_out_v=0.25))
    before = simulator.run(netlist)["a"][0]
    simulator.run(blocks.nmos_iv(get_technology("sky130")))
    after = simulator.run(netlist)["a"][0]
    assert after == before
