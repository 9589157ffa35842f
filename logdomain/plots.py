"""Figures of a comparison (matplotlib, Agg backend): each function returns a ``Figure``.

Nothing here writes files; :mod:`logdomain.report` saves the figures atomically.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .compare import CompareResult  # noqa: E402

__all__ = ["learning_curves", "bits_sweep", "eta_lam_heatmap", "error_budget", "FIGURES"]


def learning_curves(result: CompareResult) -> Figure:
    """Test MSE vs updates: ideal line, analog median and 10–90 % band over dies."""
    c = result.curves
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(c["updates"], c["ideal_mse"], "k-", lw=2, label="ideal (discrete SGDr)")
    med = np.median(c["analog_mse"], axis=-1)
    lo, hi = np.percentile(c["analog_mse"], [10, 90], axis=-1)
    ax.plot(c["updates"], med, "C1-", lw=2, label="analog, median over dies")
    ax.fill_between(c["updates"], lo, hi, color="C1", alpha=0.3, label="analog, 10–90 % of dies")
    ax.set_yscale("log")
    where = result.summary["evaluated_on"]
    ax.set(xlabel="updates (samples seen)", ylabel=f"{where} MSE (scaled units²)",
           title=f"Learning curves — {result.summary['task']['name']}")  # fmt: skip
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def bits_sweep(result: CompareResult) -> Figure:
    """``nmse_vs_ideal`` vs resolution: median and 10–90 % band over dies."""
    b, v = result.bits_sweep["bits"], 100 * result.bits_sweep["nmse"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(b, np.median(v, axis=-1), "o-", color="C0", label="median over dies")
    ax.fill_between(b, *np.percentile(v, [10, 90], axis=-1), color="C0", alpha=0.3, label="10–90 %")
    ax.set_yscale("log")
    ax.set(xlabel="bits (inputs, targets, weight read-out)", ylabel="nmse_vs_ideal (%)",
           title="Resolution")  # fmt: skip
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def eta_lam_heatmap(result: CompareResult) -> Figure:
    """Median ``nmse_vs_ideal`` (%) over the η × λ grid, log colour scale, values annotated."""
    h = result.heatmap
    z = 100 * h["nmse_median"]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    positive = z[z > 0]
    norm = matplotlib.colors.LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
    im = ax.imshow(np.where(z > 0, z, np.nan), origin="lower", aspect="auto", cmap="viridis", norm=norm)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            ax.text(j, i, f"{z[i, j]:.2g}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xticks(range(len(h["lam"])), [f"{v:g}" for v in h["lam"]])
    ax.set_yticks(range(len(h["eta"])), [f"{v:g}" for v in h["eta"]])
    ax.set(xlabel="λ (programmed)", ylabel="η = T_s/τ (programmed)", title="nmse_vs_ideal (%), median over dies")
    fig.colorbar(im, ax=ax, label="%")
    fig.tight_layout()
    return fig


def error_budget(result: CompareResult) -> Figure:
    """The closing budget: each non-ideality's excess nmse_vs_ideal (%, median over dies) over the
    continuous-time baseline, their sum, the interaction term and all together (linear scale, so a
    negative interaction shows as such)."""
    rows = [r for r in result.budget if r.get("excess") is not None]
    names = [r["name"] for r in rows]
    excess = np.array([100 * r["excess"] for r in rows])
    colors = ["C3" if r["name"] == "all" else "0.5" if r["kind"] in ("sum", "interaction") else "C0" for r in rows]
    fig, ax = plt.subplots(figsize=(7.2, 0.38 * len(rows) + 1.6))
    ax.barh(range(len(rows)), excess, color=colors)
    for i, v in enumerate(excess):
        ax.text(v, i, f" {v:.3g}", va="center", ha="left" if v >= 0 else "right", fontsize=8)
    ax.set_yticks(range(len(rows)), names)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.8)
    base = 100 * result.budget[0]["median"]
    ax.set(xlabel=f"excess nmse_vs_ideal over the continuous-time baseline ({base:.2g} %), percentage points",
           title="Error budget: each non-ideality alone, their sum, interaction, all")  # fmt: skip
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


#: file name → figure function, in report order
FIGURES = {
    "learning_curves.png": learning_curves,
    "nmse_vs_bits.png": bits_sweep,
    "heatmap_eta_lambda.png": eta_lam_heatmap,
    "error_budget.png": error_budget,
}
