"""Write a comparison to a folder: ``summary.json``, ``report.md`` and the PNGs of :mod:`logdomain.plots`.

Atomic (:class:`logdomain._io.StagedOutputs`): everything is first written into a fresh temporary
folder in the target (or its nearest existing ancestor); only when all files exist is the target
created if missing and are they moved into place one ``os.replace`` each, so a failure leaves no
half-written file and no new empty folder behind (an earlier report stays as it was).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from ._io import StagedOutputs
from ._validate import dumps_strict
from .compare import CONVERGED_GAP, CompareResult
from .plots import FIGURES

__all__ = ["write_report", "render_markdown"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.3g} %"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def render_markdown(summary: dict[str, Any]) -> str:
    """The human-readable report (percentages for people, fractions stay in JSON)."""
    s, cfg, task = summary, summary["config"], summary["task"]
    d = s["nmse_vs_ideal_dies"]
    cal = s.get("calibration") or {}
    delta = s["analog"]["test_mse"] - s["ideal"]["test_mse"]
    ran = (
        f"What ran: the behavioural model of the transistor-level learner, calibrated on `{cal.get('technology', '?')}` "
        f"{cal.get('corner', '')} at {cal.get('temp_c', '?')} °C (made {cal.get('created', '?')} by "
        f"`{cal.get('command', '?')}`, ngspice {cal.get('ngspice_version', '?')}), {cfg['dies']} dies (each its own "
        f"mismatch sample), seed {cfg['seed']}."
        if cal
        else f"What ran: the behavioural learner on a calibration without provenance, {cfg['dies']} dies, seed {cfg['seed']}."
    )
    temp = s.get("temperature")
    if temp:
        ran += (f" Operating temperature {temp['temp_c']:g} °C (calibration {temp['temp_cal_c']:g} °C): λ offset of each "
                f"weight half {temp['lam_offset']:.4g} (fitted {temp['lam_offset_cal']:.4g} at the calibration's temperature; "
                f"temperature model: {temp['leakage_model']}).")  # fmt: skip
    lines = [
        f"# Analog vs ideal SGDr — {task['name']}",
        "",
        f"**Verdict:** {s['verdict']}. Test MSE {_num(s['analog']['test_mse'])} (analog, median over dies) against "
        f"{_num(s['ideal']['test_mse'])} (ideal), {'+' if delta >= 0 else ''}{100 * delta / s['ideal']['test_mse']:.1f} %.",
        "",
        ran,
        "",
        "**nmse_vs_ideal** = mean((ŷ_analog − ŷ_ideal)²) / var(ŷ_ideal) over the "
        f"{s['evaluated_on']} rows (a fraction; shown in %): **{_pct(s['nmse_vs_ideal'])}** (median over "
        f"{cfg['dies']} dies; 10–90 % {_pct(d['p10'])}–{_pct(d['p90'])}). Weight NMSE {_pct(s['weight_nmse'])}.",
        f"Training length t/τ = η·updates = {s['t_over_tau']:.3g}. The ideal learner's test MSE differs from "
        f"the ridge optimum's with the same λ by {100 * s['ideal_gap']:+.3g} % "
        f"({'converged' if s['ideal_converged'] else 'not converged'}; limit ±{100 * CONVERGED_GAP:g} %). "
        "Every term is defined under Metric, next.",
        "",
        *_metric_section(s["evaluated_on"]),
        "| learner | train MSE | test MSE |",
        "|---|---|---|",
        f"| ideal (discrete) | {_num(s['ideal']['train_mse'])} | {_num(s['ideal']['test_mse'])} |",
        f"| analog (median over dies) | — | {_num(s['analog']['test_mse'])} |",
        "",
        f"Task: {task['n_train']} training rows, {task['n_test']} held out, features "
        f"{', '.join(task['features'])}; target {task['target']}.",
        f"Hyperparameters: η = {cfg['eta']:g}, λ = {cfg['lam']:g}, {cfg['epochs']} epochs, "
        f"{cfg['bits']} bits, at least {cfg['substeps']} integration step(s) per hold, seed {cfg['seed']}.",
        "",
        "## Error budget",
        "",
        "Each non-ideality alone, as its excess over the continuous-time baseline (the first row: the same "
        "learner with ideal blocks, which differs from discrete SGDr by O(η²)); then their sum, the "
        "interaction (all together minus baseline minus the sum) and all together.",
        "",
        "| non-ideality | nmse_vs_ideal median | excess (percentage points) |",
        "|---|---|---|",
    ]
    for row in s["error_budget"]:
        med = _pct(row["median"]) if row.get("median") is not None else "—"
        exc = "—" if row.get("excess") is None else f"{100 * row['excess']:+.3g}"
        lines.append(f"| {row['name']} | {med} | {exc} |")
    lines += ["", _dominant(s["error_budget"])]
    m = s["model"]
    lines += ["", "## Learner model", "", "| parameter | value |", "|---|---|"]
    lines += [f"| {k} | {_num(v) if isinstance(v, float) else v} |" for k, v in m.items() if not isinstance(v, dict)]
    lines += [f"| nominal {k} (fitted to SPICE) | {_num(v)} |" for k, v in m["nominal"].items()]
    lines += [f"| A_VT {p} (V·m) | {_num(v)} |" for p, v in m["mismatch"]["a_vt_v_m"].items()]
    if s.get("calibration"):
        lines += ["", "## Calibration", "", "```json", json.dumps(s["calibration"], indent=1), "```"]
    lines += ["", "## Figures", ""]
    lines += [f"![{name[:-4]}]({name})" for name in FIGURES]
    return "\n".join(lines) + "\n"


def _metric_section(evaluated_on: str) -> list[str]:
    """The "Metric" section: what nmse_vs_ideal, ideal_converged, ideal_gap and t/τ mean (no figures in it)."""
    rows = "held-out (test)" if evaluated_on == "test" else "training (nothing was held out)"
    return [
        "## Metric",
        "",
        f"- **nmse_vs_ideal** = mean((ŷ_analog − ŷ_ideal)²) / var(ŷ_ideal), over the {rows} rows, one value per die. "
        "ŷ_ideal are the predictions of ideal discrete SGDr trained on the same ordered stream with the same η, λ "
        "and epochs; ŷ_analog those of the analog learner's read-out. 0 means the analog learner predicts what "
        "the ideal one predicts; 100 % means its departure is as large as the spread of the ideal predictions. "
        "A fraction in `summary.json`, shown here in %; the headline is the median over dies.",
        "- **Why the variance:** dividing by var(ŷ_ideal) rather than by mean(ŷ_ideal²) makes a constant shift of "
        "the predictions count. On data whose predictions have a large mean beside their spread, the mean square "
        "is dominated by that mean and would hide an offset. The ratio is scale-free: the same in data units and "
        "in the scaled units the learners run on.",
        "- **ideal_gap** = test MSE of the ideal learner / test MSE of the ridge optimum with the same λ − 1 "
        "(the optimum is the fixed point of SGDr with weight decay λ, which training approaches). "
        "**ideal_converged** is |ideal_gap| ≤ "
        f"{100 * CONVERGED_GAP:g} %. nmse_vs_ideal compares two learners after the same training; only when the "
        "ideal one has converged does it say how far the analog learner lands from where learning ends, and only "
        "then is a verdict against a published reference given.",
        "- **t/τ** = η × updates (epochs × training rows): the training length in time constants τ of the weight "
        "cells. The figures hold in the regime measured; a longer run can move nmse_vs_ideal either way.",
        "",
    ]


def _dominant(budget: list[dict]) -> str:
    """One sentence naming the largest single non-ideality of the budget, and the interaction when it
    is larger still."""
    singles = [r for r in budget if r.get("kind") == "row" and r.get("excess") is not None and r["name"] != "all"]
    if not singles:
        return "No non-ideality is on."
    top = max(singles, key=lambda r: r["excess"])
    inter = next((r for r in budget if r.get("kind") == "interaction"), None)
    text = f"Dominant single cause: **{top['name']}** (+{100 * top['excess']:.3g} points alone)."
    if inter is not None and inter.get("excess") is not None and inter["excess"] > top["excess"]:
        text += (f" The interaction of the non-idealities (+{100 * inter['excess']:.3g} points) is larger: they add "
                 "up along the same weak directions of the loss, so no single fix closes the gap "
                 "(`python benchmarks/study_design.py` measures design changes).")
    return text


def write_report(result: CompareResult, out_dir: str | os.PathLike) -> Path:
    """Write ``summary.json``, ``report.md`` and the figures into ``out_dir`` (created at the end if missing, parents too).

    ``summary["report"]`` is set to the path of ``report.md``. Returns that path.
    """
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder")
    summary = dict(result.summary, report=str(target / "report.md"),
                   files=["summary.json", "report.md", *FIGURES])  # fmt: skip
    with StagedOutputs() as staged:  # every file, or none (and no new empty folder)
        tmp = staged.folder(target)
        for name, make in FIGURES.items():
            fig = make(result)
            try:
                fig.savefig(tmp / name, dpi=110)
            finally:
                plt.close(fig)
        (tmp / "report.md").write_text(render_markdown(summary), encoding="utf-8")
        (tmp / "summary.json").write_text(dumps_strict(summary) + "\n", encoding="utf-8")  # no NaN/Infinity
    result.summary.update(report=summary["report"], files=summary["files"])
    return target / "report.md"
