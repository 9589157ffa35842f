"""Write a comparison to a folder: ``summary.json``, ``report.md`` and the PNGs of :mod:`logdomain.plots`.

Atomic: everything is first written into a fresh temporary folder next to the target; only when
all files exist are they moved into place one ``os.replace`` each, so a failure leaves no
half-written file behind (an earlier report stays as it was).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from ._validate import dumps_strict
from .compare import CompareResult
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
    reference = 0.0087  # published figure for this kind of circuit (the toolkit's target)
    side = "within" if s["nmse_vs_ideal"] < reference else "outside"
    delta = s["analog"]["test_mse"] - s["ideal"]["test_mse"]
    verdict = (
        f"**Verdict:** the analog learner's predictions land {_pct(s['nmse_vs_ideal'])} from ideal SGDr — "
        f"{side} the {_pct(reference)} reference — and its test MSE is {_num(s['analog']['test_mse'])} "
        f"against {_num(s['ideal']['test_mse'])} ({'+' if delta >= 0 else ''}{100 * delta / s['ideal']['test_mse']:.1f} %)."
    )
    ran = (
        f"What ran: the behavioural learner on calibration `{cal.get('technology', '?')}` "
        f"{cal.get('corner', '')} at {cal.get('temp_c', '?')} °C (made {cal.get('created', '?')} by "
        f"`{cal.get('command', '?')}`, ngspice {cal.get('ngspice_version', '?')}), {cfg['dies']} dies, seed {cfg['seed']}."
        if cal
        else f"What ran: the behavioural learner on a calibration without provenance, {cfg['dies']} dies, seed {cfg['seed']}."
    )
    lines = [
        f"# Analog vs ideal SGDr — {task['name']}",
        "",
        verdict,
        "",
        ran,
        "",
        f"**nmse_vs_ideal = {_pct(s['nmse_vs_ideal'])}** (mean over {cfg['dies']} dies; median "
        f"{_pct(d['median'])}, 10–90 % {_pct(d['p10'])}–{_pct(d['p90'])}), on the {s['evaluated_on']} rows.",
        f"Weight NMSE {_pct(s['weight_nmse'])}.",
        "",
        "| learner | train MSE | test MSE |",
        "|---|---|---|",
        f"| ideal (discrete) | {_num(s['ideal']['train_mse'])} | {_num(s['ideal']['test_mse'])} |",
        f"| analog (mean over dies) | {_num(s['analog']['train_mse'])} | {_num(s['analog']['test_mse'])} |",
        "",
        f"Task: {task['n_train']} training rows, {task['n_test']} held out, features "
        f"{', '.join(task['features'])}; target {task['target']} (scaled to [−1, 1]).",
        f"Hyperparameters: η = {cfg['eta']:g}, λ = {cfg['lam']:g}, {cfg['epochs']} epochs, "
        f"{cfg['bits']} bits, {cfg['substeps']} substeps per hold, seed {cfg['seed']}.",
        "",
        "## Error budget (one non-ideality at a time)",
        "",
        "| non-ideality | nmse_vs_ideal median | 10–90 % |",
        "|---|---|---|",
    ]
    for row in s["error_budget"]:
        name = row["name"] if row["active"] else f"{row['name']} (not in this model)"
        lines.append(f"| {name} | {_pct(row['median'])} | {_pct(row['p10'])}–{_pct(row['p90'])} |")
    lines += ["", "## Block model", "", "| parameter | value |", "|---|---|"]
    lines += [f"| {k} | {_num(v) if isinstance(v, float) else v} |" for k, v in s["model"].items()]
    if s.get("calibration"):
        lines += ["", "## Calibration", "", "```json", json.dumps(s["calibration"], indent=1), "```"]
    lines += ["", "## Figures", ""]
    lines += [f"![{name[:-4]}]({name})" for name in FIGURES]
    return "\n".join(lines) + "\n"


def write_report(result: CompareResult, out_dir: str | os.PathLike) -> Path:
    """Write ``summary.json``, ``report.md`` and the figures into ``out_dir`` (created if needed).

    ``summary["report"]`` is set to the path of ``report.md``. Returns that path.
    """
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    summary = dict(result.summary, report=str(target / "report.md"),
                   files=["summary.json", "report.md", *FIGURES])  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, make in FIGURES.items():
            fig = make(result)
            try:
                fig.savefig(tmp / name, dpi=110)
            finally:
                plt.close(fig)
        (tmp / "report.md").write_text(render_markdown(summary), encoding="utf-8")
        (tmp / "summary.json").write_text(dumps_strict(summary) + "\n", encoding="utf-8")  # no NaN/Infinity
        target.mkdir(exist_ok=True)
        for name in summary["files"]:
            os.replace(tmp / name, target / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.summary.update(report=summary["report"], files=summary["files"])
    return target / "report.md"
