"""`logdomain train` / `logdomain compare`: agreement with independent references, the JSON
contract, the report folder, and one-line errors (exit 2 for bad input, 1 for missing pieces)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from logdomain.cli import main
from logdomain.compare import CONVERGED_GAP, CompareConfig, convergence, ridge_optimum, run_compare, verdict
from logdomain.learner_model import MISMATCH_GROUPS, LearnerModel
from logdomain.ideal import sgdr_continuous_zoh
from logdomain.tasks import load_csv, synthetic_regression
from netlists.spice_learner_circuit import LearnerParams

from calibration.schema import default_calibration_path, load_calibration


def reference_sgdr(x, y, eta, lam, epochs):
    """Independent discrete SGDr, plain Python floats (DESIGN.md §2)."""
    w = [0.0] * len(x[0])
    for _ in range(epochs):
        for xk, yk in zip(x, y):
            e = yk - sum(wi * xi for wi, xi in zip(w, xk))
            w = [(1 - eta * lam) * wi + eta * e * xi for wi, xi in zip(w, xk)]
    return w


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, (80, 3))
    y = x @ [0.5, -1.0, 2.0] + 0.1 * rng.standard_normal(80) + 4.0
    path = tmp_path_factory.mktemp("data") / "toy.csv"
    lines = ["a,target,b,c"] + [f"{r[0]},{t},{r[1]},{r[2]}" for r, t in zip(x, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def cal_file(tmp_path_factory):
    """The shipped calibration, written elsewhere (the --calibration path is read, not the default)."""
    return load_calibration(default_calibration_path()).save(tmp_path_factory.mktemp("cal") / "cal.json")


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_ideal_equals_reference(capsys, csv_file):
    out = run_json(capsys, "train", "--model", "ideal", "--data", str(csv_file), "--target", "target",
                   "--intercept", "--eta", "0.1", "--lam", "0.01", "--epochs", "3", "--test-fraction", "0")
    task = load_csv(csv_file, "target", intercept=True, test_fraction=0)
    ref = reference_sgdr(task.x_train.tolist(), task.y_train.tolist(), 0.1, 0.01, 3)
    np.testing.assert_allclose(out["weights_scaled"], ref, rtol=0, atol=1e-12)
    assert out["features"] == ["a", "b", "c", "intercept"] and out["n_train"] == 80
    mse_scaled = np.mean((task.x_train @ ref - task.y_train) ** 2)
    assert out["test_mse"] is None and out["train_mse_scaled"] == pytest.approx(mse_scaled)
    # in the data's units: w_i · y_scale / x_scale_i and MSE · y_scale², checked on the raw rows
    raw = load_csv(csv_file, "target", intercept=True, test_fraction=0, scale=False)
    w_data = np.array(ref) * task.scaling.y_scale / task.scaling.x_scale
    np.testing.assert_allclose(out["weights"], w_data, rtol=1e-12)
    assert out["train_mse"] == pytest.approx(np.mean((raw.x_train @ w_data - raw.y_train) ** 2), rel=1e-9)
    assert out["scaling"]["x_scale"] == dict(zip(out["features"], task.scaling.x_scale.tolist()))
    assert out["scaling"]["y_scale"] == task.scaling.y_scale and out["scaling"]["method"] == "max-abs"


def test_train_continuous_equals_zoh(capsys, csv_file):
    out = run_json(capsys, "train", "--model", "continuous", "--data", str(csv_file), "--target", "target",
                   "--eta", "0.2", "--epochs", "2")
    task = load_csv(csv_file, "target")
    ref = sgdr_continuous_zoh(task.x_train, task.y_train, 1.0, 0.2, 1e-3, epochs=2)
    np.testing.assert_allclose(out["weights_scaled"], ref, atol=1e-12)
    np.testing.assert_allclose(out["weights"], task.scaling.weights_to_data(ref), rtol=1e-12)
    assert out["test_mse"] > 0 and 0 < out["nmse_vs_ideal"] < 0.05


def test_train_analog_json(capsys, cal_file):
    out = run_json(capsys, "train", "--model", "analog", "--task", "synthetic", "--calibration", str(cal_file),
                   "--dies", "3", "--bits", "10")
    assert len(out["weights"]) == 4 and np.array(out["weights_dies"]).shape == (3, 4)
    task = synthetic_regression()
    np.testing.assert_allclose(out["weights_dies"], task.scaling.weights_to_data(out["weights_dies_scaled"]), rtol=1e-12)
    np.testing.assert_allclose(out["weights"], task.scaling.weights_to_data(out["weights_scaled"]), rtol=1e-12)
    assert {"train_mse", "test_mse", "nmse_vs_ideal"} <= set(out) and out["nmse_vs_ideal"] < 0.2


def test_train_spice_streams_the_rows_through_the_transistor_learner(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (40, 2))
    y = x @ np.array([0.5, -0.3]) + 0.02 * rng.standard_normal(40)
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "\n".join(f"{a},{b},{t}" for (a, b), t in zip(x, y)) + "\n")
    common = ["--data", str(csv), "--target", "y", "--eta", "0.05", "--epochs", "2", "--json"]
    run = lambda model: subprocess.run([sys.executable, "-m", "logdomain.cli", "train", "--model", model, *common],  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    spice, continuous = run("spice"), run("continuous")
    assert spice.returncode == 0, spice.stderr
    w_spice = np.array(json.loads(spice.stdout)["weights"])
    w_cont = np.array(json.loads(continuous.stdout)["weights"])
    assert np.sum((w_spice - w_cont) ** 2) / np.sum(w_cont**2) < 0.01  # same stream, same flow


def test_train_spice_refuses_too_many_inputs():
    proc = subprocess.run([sys.executable, "-m", "logdomain.cli", "train", "--model", "spice", "--task", "diabetes"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "at most 8 inputs" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_missing_default_calibration_exits_1(monkeypatch, tmp_path, capsys):
    import calibration.schema as schema

    monkeypatch.setattr(schema, "default_calibration_path", lambda: tmp_path / "none.json")
    assert main(["compare", "--quick", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("logdomain: error: the default calibration") and "--calibration" in err[0]
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv, option", [
    (["train", "--eta", "0"], "--eta"), (["train", "--lam", "-1"], "--lam"), (["train", "--epochs", "0"], "--epochs"),
    (["train", "--bits", "0"], "--bits"), (["train", "--test-fraction", "1"], "--test-fraction"),
    (["train", "--seed", "x"], "--seed"), (["compare", "--dies", "0"], "--dies"), (["train", "--model", "foo"], "--model"),
    (["train", "--data", "/nonexistent.csv", "--target", "y"], "--data"), (["train", "--data", "x.csv"], "--data"),
    (["train", "--task", "synthetic", "--intercept"], "--intercept"), (["train", "--task", "nope"], "--task"),
])  # fmt: skip
def test_bad_input_exits_2_naming_option(capsys, argv, option):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert option in err and len(err.splitlines()) == 1


def test_bad_calibration_file_exits_2_and_keeps_report(capsys, tmp_path, cal_file):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1')
    out = tmp_path / "rep"
    out.mkdir()
    (out / "summary.json").write_text("old")
    assert main(["compare", "--calibration", str(bad), "--out", str(out)]) == 2
    assert "--calibration" in capsys.readouterr().err and (out / "summary.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "rep"]  # no temporary left over


def test_compare_writes_report(capsys, tmp_path, cal_file):
    out_dir = tmp_path / "report"
    data = run_json(capsys, "compare", "--quick", "--calibration", str(cal_file), "--out", str(out_dir))
    assert 0 < data["nmse_vs_ideal"] < 1 and data["report"] == str(out_dir / "report.md")
    files = {"summary.json", "report.md", "learning_curves.png", "nmse_vs_bits.png", "heatmap_eta_lambda.png",
             "error_budget.png"}  # fmt: skip
    assert {p.name for p in out_dir.iterdir()} == files
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["nmse_vs_ideal"] == data["nmse_vs_ideal"] and summary["task"]["name"] == "diabetes"
    # weights and MSEs of the scaled problem, with the factors and data-unit copies beside them
    sc = summary["scaling"]
    assert sc["method"] == "max-abs" and list(sc["x_scale"]) == summary["task"]["features"] and "scaled" in summary["units"]
    w_data = np.array(summary["ideal"]["weights"]) * sc["y_scale"] / np.array(list(sc["x_scale"].values()))
    np.testing.assert_allclose(summary["ideal"]["weights_data"], w_data, rtol=1e-12)
    assert summary["analog"]["test_mse_data"] == pytest.approx(summary["analog"]["test_mse"] * sc["y_scale"] ** 2, rel=1e-12)
    report = (out_dir / "report.md").read_text()
    assert "nmse_vs_ideal" in report
    # the report defines its metric: a "Metric" section, before the tables and the budget
    metric = report.index("\n## Metric\n")
    assert metric < report.index("| learner |") < report.index("## Error budget")
    section = report[metric:report.index("\n## ", metric + 1)]
    assert "**nmse_vs_ideal** = mean((ŷ_analog − ŷ_ideal)²) / var(ŷ_ideal), over the held-out (test) rows" in section
    assert "Why the variance" in section and "constant shift" in section
    assert "**ideal_gap**" in section and "**ideal_converged** is |ideal_gap| ≤ 1 %" in section
    assert "**t/τ** = η × updates" in section
    assert (out_dir / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_run_compare_budget_closes_and_sweeps_run():
    task = synthetic_regression(dim=3, samples=120, seed=1)
    model = LearnerModel.from_learner_params(LearnerParams.for_technology("sky130", dim=3), a_vt_v_m={"n": 4.5e-9, "p": 5.2e-9},
                                             slope_factor={"n": 1.44, "p": 1.29}, nominal={"term_gain": 1.1, "lam_offset": -0.005})
    cfg = CompareConfig(dies=8, epochs=2, bits_grid=(4, 8, 12), eta_grid=(0.05, 0.2), lam_grid=(0.0, 0.01))
    calls: list[tuple[int, int, str]] = []
    res = run_compare(task, model, cfg, progress=lambda done, total, what: calls.append((done, total, what)))
    # progress: one call before each learner run, then done == total
    n_runs = 1 + 3 + 1 + 2 * 2 + len(res.budget) - 2  # headline, bits, unquantised, grid, budget rows (no sum/interaction)
    assert [c[0] for c in calls] == list(range(n_runs)) + [n_runs] and {c[1] for c in calls} == {n_runs}
    assert calls[1][2] == "4 bits" and calls[-1][2] == "done"
    rows = {row["name"]: row for row in res.budget}
    base, everything = rows["continuous time (no non-ideality)"], rows["all"]
    alone = [r for r in res.budget if r["kind"] == "row" and r["name"] not in (base["name"], "all")]
    assert {"nominal block gains", "resolution (8 bits)"} <= {r["name"] for r in alone}
    assert {f"mismatch: {g}" for g in MISMATCH_GROUPS} <= {r["name"] for r in alone}
    total = rows["sum of the rows above (each alone)"]["excess"]
    assert total == pytest.approx(sum(r["excess"] for r in alone))
    # the budget closes: baseline + sum + interaction = all
    assert base["median"] + total + rows["interaction (all − baseline − sum)"]["excess"] == pytest.approx(everything["median"])
    assert everything["median"] > base["median"]
    assert res.heatmap["nmse_median"].shape == (2, 2) and res.bits_sweep["nmse"].shape == (3, 8)
    assert np.median(res.bits_sweep["nmse"][0]) > np.median(res.bits_sweep["nmse"][-1])  # 4 bits worse than 12
    assert res.curves["analog_mse"].shape == (len(res.curves["updates"]), 8)
    s = res.summary
    assert s["t_over_tau"] == pytest.approx(0.05 * len(task.y_train) * 2)
    assert s["ideal_converged"] == (abs(s["ideal_gap"]) <= CONVERGED_GAP)


def test_convergence_and_verdict_are_gated():
    task = synthetic_regression(dim=2, samples=400, noise_std=0.05, seed=0)
    w_ridge = ridge_optimum(task.x_train, task.y_train, 1e-3)
    gap, converged = convergence(task, w_ridge, 1e-3)
    assert gap == pytest.approx(0.0, abs=1e-12) and converged
    gap, converged = convergence(task, 0.5 * w_ridge, 1e-3)  # far from the optimum
    assert gap > CONVERGED_GAP and not converged
    assert not convergence(task, 0.0 * w_ridge, 1e-3)[1]
    assert "not converged" in verdict(0.001, gap, converged) and "0.87" in verdict(0.001, gap, converged)
    assert "within" in verdict(0.005, 0.0, True) and "above" in verdict(0.02, 0.0, True)


def test_report_names_the_dominant_cause():
    from logdomain.report import _dominant

    budget = [{"name": "continuous time (no non-ideality)", "kind": "row", "median": 1e-4},
              {"name": "mismatch: a", "kind": "row", "median": 0.02, "excess": 0.02},
              {"name": "mismatch: b", "kind": "row", "median": 0.05, "excess": 0.05},
              {"name": "interaction (all − baseline − sum)", "kind": "interaction", "median": None, "excess": 0.01},
              {"name": "all", "kind": "row", "median": 0.08, "excess": 0.08}]  # fmt: skip
    text = _dominant(budget)
    assert "**mismatch: b** (+5 points alone)" in text and "interaction" not in text
    budget[3]["excess"] = 0.3
    assert "interaction of the non-idealities (+30 points) is larger" in _dominant(budget)
