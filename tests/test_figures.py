"""The report's figures say what the summary says (issue 13, part 5): budget labels equal the
summary's numbers, the heat map has the test-MSE panel, the bits sweep its reference lines, the
calibration residual plot names the fit window the fit used, and `make docs` writes the figures."""

from __future__ import annotations

import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from calibration import plots as cal_plots
from calibration.device_fit import EkvParams, IVData
from calibration.pipeline import CalibrationRun
from calibration.schema import default_calibration_path, load_calibration
from logdomain import plots
from logdomain.compare import REFERENCE_NMSE, CompareConfig, run_compare
from logdomain.learner_model import LearnerModel
from logdomain.tasks import synthetic_regression
from netlists.spice_learner_circuit import LearnerParams

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    task = synthetic_regression(dim=3, samples=80, seed=1)
    model = LearnerModel.from_learner_params(LearnerParams.for_technology("sky130", dim=3), a_vt_v_m={"n": 4.5e-9, "p": 5.2e-9},
                                             slope_factor={"n": 1.44, "p": 1.29}, nominal={"term_gain": 1.1})  # fmt: skip
    cfg = CompareConfig(dies=4, epochs=1, substeps=1, bits_grid=(4, 8), eta_grid=(0.05, 0.2), lam_grid=(0.0, 1e-3), curve_points=5)
    return run_compare(task, model, cfg)


def _labels(fig) -> list[str]:
    return [t.get_text().strip() for ax in fig.axes for t in ax.texts if t.get_gid() == "budget-label"]


def test_budget_labels_are_the_summary_excesses(result):
    fig = plots.error_budget(result)
    try:
        want = [f"{100 * r['excess']:+.3g}" for r in result.summary["error_budget"] if r.get("excess") is not None]
        assert _labels(fig) == want  # parts, sum, interaction, all — in that order, the baseline subtracted
        title = fig.axes[0].get_title()
        assert f"{100 * result.budget[0]['median']:.3g} %" in title and "subtracted" in title
        assert fig.axes[0].get_xscale() == "linear"
    finally:
        plt.close(fig)


def test_budget_below_the_baseline_is_a_negative_bar(result):
    budget = [dict(r) for r in result.budget]
    part = next(r for r in budget if r["kind"] == "row" and r.get("excess") is not None)
    part["excess"] = -0.004  # a part that beats the baseline
    fig = plots.error_budget(type(result)(summary=result.summary, budget=budget))
    try:
        bars = [p for p in fig.axes[0].patches]
        assert min(b.get_width() for b in bars) == pytest.approx(-0.4)
        assert "-0.4" in _labels(fig)
        assert fig.axes[0].get_xlim()[0] < -0.4  # room for the negative bar and its label
    finally:
        plt.close(fig)


def test_heatmap_has_the_test_mse_panel(result):
    fig = plots.eta_lam_heatmap(result)
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert any("nmse_vs_ideal" in t for t in titles) and any("test MSE" in t for t in titles)
        h = result.heatmap
        cells = [t.get_text() for ax in fig.axes if "test MSE" in ax.get_title() for t in ax.texts]
        assert f"{h['analog_test_mse'][0, 0]:.3g}\n({h['ideal_test_mse'][0, 0]:.3g})" in cells
        fig.canvas.draw()
        ticks = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() if t.get_text()]
        assert not any("10^" in t or "times" in t or "×" in t for t in ticks)  # plain colorbar labels
    finally:
        plt.close(fig)


def test_bits_sweep_has_reference_and_plateau(result):
    fig = plots.bits_sweep(result)
    try:
        ys = {round(float(line.get_ydata()[0]), 9) for line in fig.axes[0].get_lines() if len(set(line.get_ydata())) == 1}
        assert round(100 * REFERENCE_NMSE, 9) in ys
        assert round(100 * float(np.median(result.bits_sweep["nmse_unquantised"])), 9) in ys
        assert any(t.get_gid() == "plateau-note" for t in fig.axes[0].texts)
    finally:
        plt.close(fig)
    assert plots.plateau_bits(np.array([4, 6, 8, 10]), np.array([40.0, 22.0, 20.5, 19.8]), 20.0) == 6
    assert plots.plateau_bits(np.array([4, 6]), np.array([40.0, 30.0]), 20.0) is None


def test_residual_title_reads_the_fit_window(tmp_path, monkeypatch):
    cal = load_calibration(default_calibration_path())
    dev = cal.devices["p"]
    vgs = np.linspace(0.3, 0.9, 31)
    ones = np.ones_like(vgs)
    data = IVData(vgs, 0.5 * ones, 1e-6 * ones, 1e-6 * ones, 1e-9 * np.exp(10 * (vgs - 0.5)), 27.0, "p")
    run = CalibrationRun(calibration=cal)
    run.iv["p"] = data
    run.ekv["p"] = {27.0: EkvParams(dev.i_spec_sq_a, dev.n, dev.vt0_v, dev.sigma_dibl, 0.04, 31, ic_max=1e-3)}
    real_title = cal_plots.residual_title
    seen = []
    monkeypatch.setattr(cal_plots, "residual_title", lambda ic, rms: seen.append(ic) or "t")
    assert [p.name for p in cal_plots.residual_plots(run, tmp_path)] == ["iv_fit_p.png"]
    assert seen == [1e-3]
    assert "IC ≤ 0.001" in real_title(1e-3, 0.04) and "0.1" not in real_title(1e-3, 0.04)


def test_make_docs_writes_the_figures(tmp_path, capsys):
    module = runpy.run_path(str(ROOT / "scripts" / "make_docs.py"))
    assert module["main"](["--quick", "--docs", str(tmp_path)]) == 0
    for name in plots.FIGURES:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert "scripts/make_docs.py" in (ROOT / "Makefile").read_text()  # `make docs` runs it
