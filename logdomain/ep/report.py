"""Report of an ff-EBM training comparison: learning curves (PNG), ``report.md`` and ``summary.json``.

Written atomically (:class:`logdomain._io.StagedOutputs`): every file appears, or none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._io import StagedOutputs
from .._validate import dumps_strict

__all__ = ["write_ep_report", "render_ep_markdown"]


def _plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    label = {"ep": f"EP ({result['backend']} blocks)", "baseline": "exact gradients (implicit diff.)"}
    for name, style in (("baseline", "-"), ("ep", "--")):
        c = result["curves"][name]
        ax1.semilogy(c["epoch"], c["train_loss"], style, label=label[name])
        ax2.plot(c["epoch"], [100 * a for a in c["test_accuracy"]], style, label=f"{label[name]}, test")
        ax2.plot(c["epoch"], [100 * a for a in c["train_accuracy"]], style, alpha=0.4, label=f"{label[name]}, train")
    ax1.set(xlabel="epoch", ylabel="training cross-entropy", title=f"ff-EBM on {result['data']}, {len(result['blocks'])} block(s)")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def render_ep_markdown(result: dict[str, Any]) -> str:
    """Markdown summary: accuracies, the gap in points, the blocks, timing."""
    blocks = ", ".join(f"{b['n_in']}→{b['n_out']} ({b['n_conductances']} conductances)" for b in result["blocks"])
    lines = [
        f"# ff-EBM training on {result['data']} — EP vs exact gradients",
        "",
        f"- energy-based blocks ({result['backend']}): {blocks}",
        f"- training / test samples: {result['n_train']} / {result['n_test']}; epochs {result['config']['epochs']}, "
        f"batch {result['config']['batch_size']}, Adam lr {result['config']['lr']:g}, seed {result['config']['seed']}",
        f"- test accuracy, EP: **{100 * result['test_accuracy']:.2f} %**; exact-gradient baseline: "
        f"**{100 * result['baseline_test_accuracy']:.2f} %** (gap {result['accuracy_gap_points']:+.2f} points)",
        f"- training accuracy, EP {100 * result['train_accuracy']:.2f} %, baseline {100 * result['baseline_train_accuracy']:.2f} %",
        "- baseline: the same network from the same initial parameters and minibatch order, behavioural blocks "
        "(fitted diode law), exact gradients by implicit differentiation",
        f"- largest difference of the training loss between the two runs over the epochs: "
        f"{max(abs(a - b) / b for a, b in zip(result['curves']['ep']['train_loss'], result['curves']['baseline']['train_loss'])):.2e} (relative)",
        f"- wall time: EP {result['elapsed_s']['ep']:.1f} s, baseline {result['elapsed_s']['baseline']:.1f} s",
    ]
    if result["backend"] == "spice":
        lines.append(f"- SPICE operating points: {result['spice']['operating_points']} "
                     f"({result['spice']['fallback_points']} solved with the fallback tolerances)")
    lines += ["", "![learning curves](learning_curves.png)", ""]
    return "\n".join(lines)


def write_ep_report(result: dict[str, Any], target: Path) -> Path:
    """Write ``learning_curves.png``, ``report.md`` and ``summary.json`` into folder ``target``."""
    with StagedOutputs() as staged:
        tmp = staged.folder(target)
        _plot(result, tmp / "learning_curves.png")
        (tmp / "report.md").write_text(render_ep_markdown(result), encoding="utf-8")
        (tmp / "summary.json").write_text(dumps_strict(result) + "\n", encoding="utf-8")
    return target / "report.md"
