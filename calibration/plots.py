"""Residual plots of a calibration run (PNG): I–V fits, multiplier, mismatch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .ekv_model import ekv_current_a
from .pipeline import CalibrationRun

__all__ = ["residual_plots", "residual_title"]


def residual_title(ic_max: float | None, rms_log_error: float) -> str:
    """Title of the residual panel: the fit window the EKV fit used (``EkvParams.ic_max``) and its rms error."""
    window = "all points above the current floor (fit window unknown)" if ic_max is None else f"fit window IC ≤ {ic_max:g}"
    return f"residuals, {window} (rms log error {100 * rms_log_error:.2f} %)"


def residual_plots(run: CalibrationRun, folder: Path) -> list[Path]:
    """Write ``iv_fit_{n,p}.png``, ``multiplier_fit.png`` and ``mismatch.png`` (if sampled) to ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = run.calibration
    written: list[Path] = []
    for polarity, data in run.iv.items():
        at_t = run.ekv.get(polarity, {}).get(data.temp_c)  # the fit of these data, with its window
        fit = cal.devices[polarity] if at_t is None else at_t
        ic_max = None if at_t is None else at_t.ic_max
        model = ekv_current_a(
            data.vgs_v, 0.0, data.vds_v, i_spec_sq_a=fit.i_spec_sq_a, n=fit.n, vt0_v=fit.vt0_v,
            sigma_dibl=fit.sigma_dibl, w_over_l=data.w_m / data.l_m, temp_c=data.temp_c,
        )
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        for key in sorted(set(zip(data.w_m, data.vds_v))):
            sel = (data.w_m == key[0]) & (data.vds_v == key[1])
            label = f"W={key[0]*1e6:g} µm, V_DS={key[1]:g} V"
            line = ax1.semilogy(data.vgs_v[sel], data.id_a[sel], lw=1.5, label=label)[0]
            ax1.semilogy(data.vgs_v[sel], model[sel], "--", color=line.get_color(), lw=1)
            good = sel & (data.id_a > 1e-13)
            if ic_max is not None:
                good &= data.id_a <= ic_max * fit.i_spec_sq_a * data.w_m / data.l_m
            ax2.plot(data.vgs_v[good], 100 * (model[good] / data.id_a[good] - 1), ".", ms=3, color=line.get_color())
        tech = cal.provenance.technology
        ax1.set(xlabel="V_GS (V)" if polarity == "n" else "V_SG (V)", ylabel="|I_D| (A)", title=f"{tech} {polarity}MOS: SPICE (solid) vs fitted EKV (dashed)")
        ax1.legend(fontsize=6, ncol=2)
        ax2.set(xlabel="V_GS (V)" if polarity == "n" else "V_SG (V)", ylabel="EKV / SPICE − 1 (%)",
                title=residual_title(ic_max, fit.rms_log_error))
        for ax in (ax1, ax2):
            ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        path = folder / f"iv_fit_{polarity}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if run.mismatch_samples:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for polarity, samples in run.mismatch_samples.items():
            x = np.array([1 / np.sqrt(s.w_m * s.l_m * 1e12) for s in samples])
            y = np.array([1e3 * s.sigma_vt_v for s in samples])
            a_vt = getattr(cal.mismatch, f"a_vt_{polarity}_v_m")
            ax.plot(x, y, "o", label=f"{polarity}MOS Monte Carlo")
            grid = np.linspace(0, x.max() * 1.1, 10)
            ax.plot(grid, a_vt * 1e9 * grid, "--", label=f"Pelgrom A_VT = {a_vt*1e9:.2f} mV·µm")
        ax.set(xlabel="1/√(W·L) (1/µm)", ylabel="σ(ΔV_T) (mV)", title="mismatch (sky130 PDK models)")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = folder / "mismatch.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
