"""The README's two commands and its Python example, copied verbatim from the README and run; its metric defined
before its first use and its notebooks linked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_readme_opens_with_exactly_the_two_commands():
    first = _blocks("bash")[0]
    assert README.index("```bash") < README.index("\n## ")  # before any section
    assert first.strip().splitlines() == ["make demo", "make test"]


def test_readme_python_example_runs(tmp_path):
    marker = README.index("<!-- README-EXAMPLE -->")
    example = re.search(r"```python\n(.*?)```", README[marker:], re.DOTALL).group(1)
    assert len([l for l in example.splitlines() if l.strip()]) <= 11  # a short example
    script = tmp_path / "example.py"
    script.write_text(example)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "I_out = " in proc.stdout and "test R²" in proc.stdout


def test_make_demo_writes_the_report():
    """`make demo` is the main job: it must produce the report (set-up is idempotent)."""
    proc = subprocess.run(["make", "demo"], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads((ROOT / "report" / "summary.json").read_text())
    assert 0 <= summary["nmse_vs_ideal"]
    # the README's headline is what the demo measures, within ±10 % (the dies are seeded, so a change
    # of the model, the calibration or the task moves it; float rounding on another machine does not)
    row = next(line for line in README.splitlines() if line.startswith("| **analog vs ideal, diabetes"))
    headline = float(re.search(r"nmse_vs_ideal median ([0-9.]+) %", row).group(1)) / 100
    assert summary["nmse_vs_ideal"] == pytest.approx(headline, rel=0.10), row
    assert (f"ideal converged: {'yes' if summary['ideal_converged'] else 'no'}") in row
    report = (ROOT / "report" / "report.md").read_text()
    assert report.startswith("# Analog vs ideal SGDr") and "**Verdict:**" in report
    for png in ("learning_curves.png", "nmse_vs_bits.png", "heatmap_eta_lambda.png", "error_budget.png"):
        assert (ROOT / "report" / png).stat().st_size > 10_000


def test_readme_defines_nmse_vs_ideal_before_its_first_use():
    definition = README.index("`nmse_vs_ideal =\nmean((ŷ_analog − ŷ_ideal)²) / var(ŷ_ideal)` on held-out rows")
    assert definition < README.index("`nmse_vs_ideal`") < README.index("| **analog vs ideal, diabetes")
    assert "(#what-the-toolkit-measures-this-machine-2-cores-2026-12-02)" in README
    assert "## What the toolkit measures (this machine, 2 cores, 2026-12-02)" in README  # the anchor's target
    from logdomain.compare import CONVERGED_GAP

    assert f"`ideal_converged` says it is within ±{100 * CONVERGED_GAP:g} %" in README


def test_readme_links_every_notebook():
    section = README[README.index("\n## Notebooks\n"):]
    section = section[: section.index("\n## ", 1)]
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 5
    for name in notebooks:
        assert f"[{name}](notebooks/{name})" in section, name
