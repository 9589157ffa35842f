"""Shared fixtures and the suite's rules: a missing simulator is an error, never a skip."""

from __future__ import annotations

import os
import shutil

# scikit-learn's estimator checks test array-API input only with this set (before scipy loads)
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest

from netlists import Simulator, get_technology

TECHS = ("ekv", "bsim", "sky130")


def pytest_sessionstart(session: pytest.Session) -> None:
    if shutil.which("ngspice") is None:
        raise pytest.UsageError("ngspice is not installed: run `make test` (it installs it) — refusing to skip SPICE tests")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """'No tests ran' and skipped tests are failures here (CI must never be silently green)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if session.testscollected == 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
    elif skipped and session.exitstatus == 0:
        if reporter:
            reporter.write_line(f"{skipped} test(s) skipped: skips are failures in this project", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def simulator():
    with Simulator() as sim:
        yield sim


@pytest.fixture(scope="session", params=TECHS)
def tech(request):
    technology = get_technology(request.param)
    ok, detail = technology.available()
    if not ok:
        pytest.fail(f"technology {request.param} unavailable: {detail}")
    return technology
