"""Figures of a comparison (matplotlib, Agg backend): each function returns a ``Figure``.

Nothing here writes files; :mod:`logdomain.report` saves the figures atomically.
"""

from __future__ import annotations

import matplotlib
import matplotlib.patches

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from .compare import REFERENCE_NMSE, CompareResult  # noqa: E402

__all__ = ["learning_curves", "bits_sweep", "eta_lam_heatmap", "error_budget", "plateau_bits", "FIGURES", "PLATEAU_TOLERANCE"]


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
    lo, hi = ax.get_ylim()
    ax.set_yticks(_nice_ticks(lo, hi))
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(_plain))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    where = result.summary["evaluated_on"]
    ax.set(xlabel="updates (samples seen)", ylabel=f"{where} MSE (scaled units²)",
           title=f"Learning curves — {result.summary['task']['name']}")  # fmt: skip
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


#: the plateau of the resolution sweep starts where every larger resolution is within this fraction
#: of the unquantised value
PLATEAU_TOLERANCE = 0.15


def plateau_bits(bits: NDArray, medians: NDArray, unquantised: float, tol: float = PLATEAU_TOLERANCE) -> int | None:
    """The smallest resolution from which every median of the sweep is within ``tol`` of the
    unquantised value (None when the sweep never settles there)."""
    close = np.abs(np.asarray(medians) / unquantised - 1.0) <= tol if unquantised > 0 else np.zeros(len(bits), bool)
    for k in range(len(bits)):
        if close[k:].all():
            return int(bits[k])
    return None


def bits_sweep(result: CompareResult) -> Figure:
    """``nmse_vs_ideal`` vs resolution: median and 10–90 % band over dies, the unquantised value the
    curve flattens at (every other non-ideality on; mismatch dominates it) and the published reference."""
    b, v = result.bits_sweep["bits"], 100 * result.bits_sweep["nmse"]
    med = np.median(v, axis=-1)
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    ax.plot(b, med, "o-", color="C0", label="median over dies")
    ax.fill_between(b, *np.percentile(v, [10, 90], axis=-1), color="C0", alpha=0.3, label="10–90 % of dies")
    ax.axhline(100 * REFERENCE_NMSE, color="C3", ls="--", lw=1.2,
               label=f"reference {100 * REFERENCE_NMSE:g} % (Tageldeen et al. 2025)")  # fmt: skip
    note = ""
    unq = result.bits_sweep.get("nmse_unquantised")
    if unq is not None:
        u = 100 * float(np.median(unq))
        ax.axhline(u, color="k", ls=":", lw=1.5, label=f"no quantisation: {u:.3g} % (median)")
        start = plateau_bits(b, med, u)
        note = (f"From {start} bits on, the curve stays within ±{100 * PLATEAU_TOLERANCE:g} % of the unquantised value:\n"
                "quantisation no longer matters; mismatch and block gains set the plateau (see the error budget).")
        if start is None:
            note = "The curve has not reached the unquantised value within this sweep: quantisation still matters."
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(_plain))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set(xlabel="bits (inputs, targets, weight read-out)", ylabel="nmse_vs_ideal (%)",
           title="Resolution: nmse_vs_ideal vs bits")  # fmt: skip
    if note:
        ax.text(0.02, 0.30, note, transform=ax.transAxes, fontsize=7.5, va="bottom",
                bbox=dict(boxstyle="round", fc="w", ec="0.7"), gid="plateau-note")  # fmt: skip
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def _plain(value: float, _pos: object = None) -> str:
    """A tick label without exponents: 0.5, 4, 20, 300."""
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.1e}"


def _nice_ticks(vmin: float, vmax: float) -> list[float]:
    """1-2-3-5 ticks within [vmin, vmax] (both > 0), at least the two ends when fewer than three fit."""
    ticks = [m * 10.0**k for k in range(int(np.floor(np.log10(vmin))), int(np.ceil(np.log10(vmax))) + 1)
             for m in (1, 2, 3, 5) if vmin <= m * 10.0**k <= vmax]  # fmt: skip
    return ticks if len(ticks) >= 3 else sorted({vmin, *ticks, vmax})


def _heat(fig: Figure, ax, z: NDArray, h: dict, title: str, unit: str, cell_text) -> None:
    """One η × λ panel: log colour scale (when all positive), plain colorbar labels, text per cell."""
    positive = z[np.isfinite(z) & (z > 0)]
    norm = None
    if positive.size:
        lo, hi = positive.min(), positive.max()
        hi = hi if hi > lo else lo * 1.01
        norm = matplotlib.colors.LogNorm(vmin=lo, vmax=hi)
    im = ax.imshow(np.where(z > 0, z, np.nan), origin="lower", aspect="auto", cmap="viridis", norm=norm)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            bright = norm is not None and z[i, j] > 0 and norm(z[i, j]) > 0.6
            ax.text(j, i, cell_text(i, j), ha="center", va="center", color="k" if bright else "w", fontsize=7)
    ax.set_xticks(range(len(h["lam"])), [f"{v:g}" for v in h["lam"]])
    ax.set_yticks(range(len(h["eta"])), [f"{v:g}" for v in h["eta"]])
    ax.set(xlabel="λ (programmed)", ylabel="η = T_s/τ (programmed)", title=title)
    cb = fig.colorbar(im, ax=ax, label=unit)
    if norm is not None:
        cb.set_ticks(_nice_ticks(norm.vmin, norm.vmax))
        cb.ax.yaxis.set_major_formatter(ticker.FuncFormatter(_plain))
        cb.ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def _box(ax, i: int, j: int, **style) -> None:
    ax.add_patch(matplotlib.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2, **style))


def eta_lam_heatmap(result: CompareResult) -> Figure:
    """Two η × λ panels: the gap to ideal (median ``nmse_vs_ideal``, %) and the analog test MSE
    (median over dies; the ideal learner's in brackets) a user chooses η and λ by. The cell of the
    lowest analog test MSE is boxed in red on both, the headline run's (η, λ) dashed in white."""
    h = result.heatmap
    fig, (left, right) = plt.subplots(1, 2, figsize=(13.0, 5.0))
    gap = 100 * h["nmse_median"]
    _heat(fig, left, gap, h, "gap to ideal: nmse_vs_ideal (%), median over dies", "nmse_vs_ideal (%)",
          lambda i, j: f"{gap[i, j]:.3g}")  # fmt: skip
    where = result.summary.get("evaluated_on", "test")
    ana, ide = h["analog_test_mse"], h["ideal_test_mse"]
    _heat(fig, right, ana, h, f"analog {where} MSE, median over dies (ideal in brackets)", f"{where} MSE (scaled units²)",
          lambda i, j: f"{ana[i, j]:.3g}\n({ide[i, j]:.3g})")  # fmt: skip
    best = np.unravel_index(np.nanargmin(ana), ana.shape)
    cfg = result.summary.get("config", {})
    head = [(i, j) for i, e in enumerate(h["eta"]) for j, v in enumerate(h["lam"])
            if np.isclose(e, cfg.get("eta", np.nan)) and np.isclose(v, cfg.get("lam", np.nan))]  # fmt: skip
    for ax in (left, right):
        _box(ax, *best, ec="C3", label=f"lowest analog {where} MSE (η = {h['eta'][best[0]]:g}, λ = {h['lam'][best[1]]:g})")
        for i, j in head:
            _box(ax, i, j, ec="orange", ls="--", label="headline run (η, λ)")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def error_budget(result: CompareResult) -> Figure:
    """The closing budget, linear scale, every number labelled (percentage points of nmse_vs_ideal,
    median over dies, the continuous-time baseline subtracted from every row): each non-ideality
    alone, their sum, the interaction (all − baseline − sum, a bar starting where the sum ends, so
    it may point left) and all together, which ends where sum + interaction ends.

    Each value label has the gid ``budget-label`` and reads ``f"{100 * excess:+.3g}"`` like
    ``report.md``. Rows without an excess (the baseline itself) are not drawn as bars; the
    baseline is stated in the subtitle.
    """
    rows = [r for r in result.budget if r.get("excess") is not None]
    parts = [r for r in rows if r["kind"] == "row" and r["name"] != "all"]
    total = next((r for r in rows if r["kind"] == "sum"), None)
    inter = next((r for r in rows if r["kind"] == "interaction"), None)
    everything = next((r for r in rows if r["name"] == "all"), None)
    y = list(range(len(parts)))
    fig, ax = plt.subplots(figsize=(8.4, 0.36 * (len(parts) + 4) + 2.2))
    drawn: list[tuple[float, float, float, str]] = [(k, 0.0, 100 * r["excess"], "C0") for k, r in zip(y, parts)]
    names = [r["name"] for r in parts]
    nxt = len(parts) + 0.6  # a gap between the parts and the closing rows
    if total is not None:
        s = 100 * total["excess"]
        drawn.append((nxt, 0.0, s, "0.55"))
        names.append(f"sum of the {len(parts)} rows above")
        nxt += 1
        if inter is not None:
            drawn.append((nxt, s, 100 * inter["excess"], "C1"))
            names.append("interaction (all − baseline − sum)")
            nxt += 1
    if everything is not None:
        drawn.append((nxt, 0.0, 100 * everything["excess"], "C3"))
        names.append("all together")
    for k, left, width, color in drawn:
        ax.barh(k, width, left=left, color=color, height=0.7)
        end = left + width
        ax.text(end, k, f" {width:+.3g} ", va="center", ha="left" if width >= 0 else "right",
                fontsize=8, gid="budget-label")  # fmt: skip
    if total is not None and inter is not None and everything is not None:
        s, a = 100 * total["excess"], 100 * everything["excess"]
        k_sum, k_int, k_all = drawn[-3][0], drawn[-2][0], drawn[-1][0]
        ax.plot([s, s], [k_sum, k_int], "k:", lw=1)
        ax.plot([a, a], [k_int, k_all], "k:", lw=1)
        ax.text(0.98, 0.98, f"closes: {s:+.3g} (sum) {100 * inter['excess']:+.3g} (interaction) = {a:+.3g} (all)",
                transform=ax.transAxes, ha="right", va="top", fontsize=8,
                bbox=dict(boxstyle="round", fc="w", ec="0.7"))  # fmt: skip
    ax.set_yticks([d[0] for d in drawn], names)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.8)
    ends = [0.0] + [d[1] for d in drawn] + [d[1] + d[2] for d in drawn]
    lo, hi = min(ends), max(ends)
    pad = 0.18 * (hi - lo or 1.0)
    ax.set_xlim(lo - (pad if lo < 0 else 0.02 * pad), hi + pad)
    base = result.budget[0]
    ax.set_title("Error budget: excess nmse_vs_ideal over the baseline, median over dies\n"
                 f"baseline ({base['name']}): {100 * base['median']:.3g} %,\n"
                 "subtracted from every row (a row below the baseline is negative)", fontsize=9)  # fmt: skip
    ax.set_xlabel("excess nmse_vs_ideal (percentage points)")
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
