"""``study asymmetry``: floors of analog SGD and Tiki-Taka against the update asymmetry, two devices.

For each asymmetry a (the axis of :mod:`logdomain.asymmetry`: |G/F| at the teacher's largest
weight), each device (``reference``: Wu et al.'s soft bounds; ``logdomain``: the pseudo-differential
pair of log-domain cells with half gains 1 ± a, common mode and λ from the calibration) and each
algorithm, the floor is the test MSE against the noise-free teacher averaged over the last half of
the records and over the seeds. Beside SGD's measured floor stands the theory's
(:func:`logdomain.asymmetry_theory.theory_floor`); beside every floor its standard error over seeds and a
convergence check (last quarter over third quarter, minus 1).

Settings are fixed across asymmetries (no per-point tuning), chosen once on the problem below:

* SGD: η = 0.005 (discrete step, or hold T_s/τ in continuous time).
* Tiki-Taka, reference device (published algorithm, no chopper): A's step η, γ = 0.4, β_t = 2e-4
  per sample (critically damped A–C loop: γ ≈ 2√(β_t/η)).
* Tiki-Taka, log-domain (the design): A is a fast leaky pair (λ_A = 10/τ) fed through a chopper
  flipping every 200 samples (1 τ), γ = 0 (A's chopped offset stays out of the forward pass),
  C driven at ρ = 2/τ (β_t = ρη = 0.01 per sample), so C learns at ρ/λ_A = 0.2 of SGD's rate per τ;
  C's λ scaled by the same 0.2 so the ridge equals SGD's. ``tiki_taka_leak_only``: the same
  without the chopper — the leak alone gives A no symmetric point (see README).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .asymmetry import FloorProblem, LogDomainPair, RunResult, SoftBounds, TableDevice, TikiTaka, run_sgd, run_tiki_taka
from .asymmetry_theory import theory_floor, theory_tiki_taka_pair_bias

__all__ = ["StudyConfig", "ASYMMETRIES", "DRIFT_LIMIT", "MEASURED_TEACHER_SCALES", "load_measured_response", "measured_device", "REFERENCE_TT", "LOGDOMAIN_TT", "run_asymmetry_study", "measured_pair_asymmetry",
           "asymmetry_figure"]

#: default asymmetry axis
ASYMMETRIES: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
#: Tiki-Taka on the soft-bounds device (published algorithm)
REFERENCE_TT = TikiTaka(gamma=0.4, transfer=2e-4, transfer_every=1, a_rate=1.0)
#: Tiki-Taka on log-domain pairs: chopped leaky A cell, slow C cell
LOGDOMAIN_TT_RATE = 0.2
LOGDOMAIN_TT = TikiTaka(gamma=0.0, transfer=10.0 * LOGDOMAIN_TT_RATE * 0.005, transfer_every=1, a_rate=1.0, a_leak=10.0,
                        chop_every=200)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """What :func:`run_asymmetry_study` runs.

    ``asymmetry``: points in [0, 0.9]; ``eta``: SGD's step / hold (T_s/τ), (0, 0.5]; ``substeps``:
    0 = discrete time, ≥ 1 = continuous (Heun steps per hold); ``problem``: teacher, noise, steps,
    seeds; ``pair``: λ and common mode of the log-domain pair; ``measured``: the SPICE-measured pair
    responses (:func:`load_measured_response`) to run as :class:`~logdomain.asymmetry.TableDevice`
    rows (None: none).
    """

    asymmetry: tuple[float, ...] = ASYMMETRIES
    eta: float = 0.005
    substeps: int = 0
    problem: FloorProblem = field(default_factory=lambda: FloorProblem(steps=60_000, seeds=32, records=200))
    pair: LogDomainPair = field(default_factory=LogDomainPair)
    reference_tt: TikiTaka = REFERENCE_TT
    logdomain_tt: TikiTaka | None = None
    measured: dict | None = None

    def ld_tt(self) -> TikiTaka:
        """The log-domain Tiki-Taka settings, β_t scaled to this η and C's λ to the pair's λ."""
        if self.logdomain_tt is not None:
            return self.logdomain_tt
        base = LOGDOMAIN_TT
        rho = LOGDOMAIN_TT_RATE * base.a_leak / base.a_rate
        return TikiTaka(gamma=base.gamma, transfer=rho * self.eta, transfer_every=1, a_rate=base.a_rate,
                        a_leak=base.a_leak, chop_every=base.chop_every, c_leak=self.pair.lam * LOGDOMAIN_TT_RATE)  # fmt: skip


#: largest |drift| (last quarter of the records over the third, minus 1) of a floor counted as converged
DRIFT_LIMIT = 0.15
#: learning-curve points kept per run (every n-th record, mean over seeds)
CURVE_POINTS = 40


def _floors(r: RunResult) -> dict[str, Any]:
    every = max(1, len(r.record_step) // CURVE_POINTS)
    return {"floor": r.floor().tolist(), "sem": r.floor_sem().tolist(), "drift": r.drift().tolist(),
            "curve_step": r.record_step[every - 1::every].tolist(),
            "curve": r.mse[every - 1::every].mean(axis=2).T.tolist()}  # (points, curve) mean test MSE


def run_asymmetry_study(config: StudyConfig = StudyConfig(), *,
                        progress: Callable[[str], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run SGD and Tiki-Taka on both devices over ``config.asymmetry``; returns a JSON-able dict:
    ``asymmetry``, ``reference`` and ``logdomain`` (each ``sgd``, ``tiki_taka`` floors in the order of
    ``asymmetry``, ``sgd_theory``, ``sgd_theory_bias``, ``details`` with SEMs, drifts and learning
    curves, and ``converged``: per algorithm, every |drift| < :data:`DRIFT_LIMIT`),
    ``settings``, ``runtime_s``."""
    if not isinstance(config, StudyConfig):
        raise ValueError(f"config must be a StudyConfig, got {type(config).__name__}")
    a = list(config.asymmetry)
    p, eta, sub = config.problem, config.eta, config.substeps
    say = progress or (lambda _m: None)
    clock = time.perf_counter()
    out: dict[str, Any] = {"asymmetry": a}
    runs = {
        "reference": {"sgd": lambda: run_sgd(SoftBounds(), a, p, eta, substeps=sub),
                      "tiki_taka": lambda: run_tiki_taka(SoftBounds(), a, p, eta, config.reference_tt, substeps=sub)},
        "logdomain": {"sgd": lambda: run_sgd(config.pair, a, p, eta, substeps=sub),
                      "tiki_taka": lambda: run_tiki_taka(config.pair, a, p, eta, config.ld_tt(), substeps=sub),
                      "tiki_taka_leak_only": lambda: run_tiki_taka(config.pair, a, p, eta, _no_chop(config.ld_tt()),
                                                                   substeps=sub)},
    }  # fmt: skip
    timing: dict[str, float] = {}
    for device, algos in runs.items():
        block: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for algo, run in algos.items():
            say(f"{device} {algo}")
            t0 = time.perf_counter()
            r = run()
            timing[f"{device}_{algo}"] = time.perf_counter() - t0
            d = _floors(r)
            block[algo] = d["floor"]
            details[algo] = d
        lam = config.pair.lam if device == "logdomain" else 0.0
        th = theory_floor(device, a, p, eta, lam=lam)
        block["sgd_theory"] = th["floor"].tolist()
        block["sgd_theory_bias"] = th["bias"].tolist()
        block["sgd_theory_variance"] = th["variance"].tolist()
        if device == "reference":  # Wu et al.: no bias on a device with a symmetric point
            block["tiki_taka_theory_bias"] = [0.0] * len(a)
        elif config.ld_tt().chop_every:
            tt = config.ld_tt()
            block["tiki_taka_theory_bias"] = theory_tiki_taka_pair_bias(
                a, p, eta, a_leak=tt.a_leak, a_rate=tt.a_rate, chop_every=tt.chop_every)["bias"].tolist()
        block["ratio_sgd_over_tiki_taka"] = [s / t if t > 0 else None for s, t in zip(block["sgd"], block["tiki_taka"])]
        block["details"] = details
        block["converged"] = {algo: bool(np.all(np.abs(d["drift"]) < DRIFT_LIMIT)) for algo, d in details.items()}
        out[device] = block
    if config.measured is not None:
        out["measured_response"] = _measured_rows(config, say, timing)
    out["settings"] = {
        "time": "discrete" if sub == 0 else f"continuous, {sub} Heun steps per hold",
        "eta": eta, "problem": asdict(p), "teacher": p.w_star.tolist(), "pair": {k: v for k, v in asdict(config.pair).items() if k != "name"},
        "reference_tiki_taka": asdict(config.reference_tt), "logdomain_tiki_taka": asdict(config.ld_tt()),
        "floor": "test MSE vs the noise-free teacher, mean over the last half of the records and over seeds",
        "asymmetry_definition": "|G(w)/F(w)| = |q- - q+|/(q- + q+) at |w| = max|w*| = 1 (Wu et al. 2024 response "
                                "factors): soft bounds 1/tau_bound, log-domain pair (g+ - g-)/(g+ + g-)",
        "theory": "SGD: bias^2 + variance, stationary E[dw] = 0 with E|e x_i| for jointly Gaussian e, x_i; "
                  "variance eta*sigma_e^2*D*k/(2 - eta*(D+2)) (logdomain.asymmetry_theory.theory_floor). Tiki-Taka: "
                  "bias^2 only (its noise floor is not predicted): 0 on the reference device (symmetric point, Wu et al.); "
                  "on the pair D*delta^2, delta = a*lambda_A*E|A|/(a_rate*g), A a folded normal "
                  "(logdomain.asymmetry_theory.theory_tiki_taka_pair_bias)",
    }  # fmt: skip
    out["runtime_s"] = {**timing, "total": time.perf_counter() - clock}
    return out


#: max|w*| of the measured-response rows: inside the band where both halves keep their law (|w| ≤ 0.4
#: at the measured common mode), and the learner's full range
MEASURED_TEACHER_SCALES = (0.4, 1.0)


def load_measured_response(path: str | None = None) -> dict:
    """The SPICE-measured pair responses (``calibration/data/cell_update_response_sky130_tt.json``, made by
    ``benchmarks/cell_update_response.py``; or ``path``): ``pairs`` with ``kind``, ``w``, ``q_plus``, ``q_minus``."""
    import json
    from pathlib import Path

    import calibration

    target = Path(path) if path else Path(calibration.__file__).parent / "data" / "cell_update_response_sky130_tt.json"
    data = json.loads(target.read_text())
    if not data.get("pairs"):
        raise ValueError(f"{target}: no 'pairs' in the measured response")
    for i, pair in enumerate(data["pairs"]):
        missing = sorted({"kind", "w", "q_plus", "q_minus", "band"} - set(pair))
        if missing:
            raise ValueError(f"{target}: pair {i} lacks {missing}")
    return data


def measured_device(measured: dict, lam: float) -> tuple[TableDevice, list[str], list[float]]:
    """A :class:`TableDevice` of the measured pairs (q± divided by the nominal pair's F at w = 0, so the
    learning rate is the nominal one), their kinds and their in-band asymmetry a = G/F (mean over the band)."""
    pairs = measured["pairs"]
    w = np.asarray(pairs[0]["w"], dtype=float)
    nominal = pairs[0]
    f0 = 0.5 * (np.interp(0.0, w, nominal["q_plus"]) + np.interp(0.0, w, nominal["q_minus"]))
    qp = [tuple(np.interp(w, p["w"], p["q_plus"]) / f0) for p in pairs]
    qm = [tuple(np.interp(w, p["w"], p["q_minus"]) / f0) for p in pairs]
    a_band = [float(p["band"]["mean_a"]) for p in pairs]
    return TableDevice(w=tuple(w), q_plus=tuple(qp), q_minus=tuple(qm), lam=lam), [p["kind"] for p in pairs], a_band


def _measured_rows(config: StudyConfig, say: Callable[[str], None], timing: dict[str, float]) -> dict[str, Any]:
    """SGD and Tiki-Taka on the measured pairs, at each of :data:`MEASURED_TEACHER_SCALES`."""
    device, kinds, a_band = measured_device(config.measured, config.pair.lam)
    labels = [abs(a) for a in a_band]
    rows: dict[str, Any] = {"pairs": kinds, "asymmetry_in_band": a_band, "by_teacher_scale": []}
    for scale in MEASURED_TEACHER_SCALES:
        problem = FloorProblem(**{**asdict(config.problem), "teacher_scale": scale})
        row: dict[str, Any] = {"teacher_scale": scale}
        for algo, run in (("sgd", lambda: run_sgd(device, labels, problem, config.eta, substeps=config.substeps)),
                          ("tiki_taka", lambda: run_tiki_taka(device, labels, problem, config.eta, config.ld_tt(),
                                                              substeps=config.substeps))):  # fmt: skip
            say(f"measured response, max|w*| = {scale:g}, {algo}")
            t0 = time.perf_counter()
            r = run()
            timing[f"measured_{scale:g}_{algo}"] = time.perf_counter() - t0
            d = _floors(r)
            row[algo] = d["floor"]
            row[f"{algo}_drift"] = d["drift"]
        row["ratio_sgd_over_tiki_taka"] = [s / t if t > 0 else None for s, t in zip(row["sgd"], row["tiki_taka"])]
        rows["by_teacher_scale"].append(row)
    return rows


def _no_chop(tt: TikiTaka) -> TikiTaka:
    return TikiTaka(**{**asdict(tt), "chop_every": 0})


def measured_pair_asymmetry(calibration: Any, *, dies: int = 256, dim: int = 4, seed: int = 0) -> dict[str, Any]:
    """The log-domain pair's asymmetry on the study's axis, from a calibration (fitted to SPICE).

    Per weight, the update gain of each half (cell × update term × input copy × rate, as the
    behavioural learner composes it from the PDK's mismatch): g⁺ = (A⁺⁺ + A⁺⁻)/2 (W⁺ takes e⁺x⁺ and
    e⁻x⁻), g⁻ = (A⁻⁺ + A⁻⁻)/2, a = (g⁺ − g⁻)/(g⁺ + g⁻). Nominally the halves are one design (a = 0);
    the single cell's measured up/down relaxation asymmetry (``blocks.update_asymmetry``) is given beside.
    """
    from . import _learner_kernel as kernel
    from .learner_model import LearnerModel

    model = LearnerModel.from_calibration(calibration)
    g = model.sample_dies(dies, dim, seed)
    coef, _ = kernel.pack({f: getattr(g, f) for f in g.__dataclass_fields__}, 1.0, model.cm_gain, model.cm_set)
    gp = 0.5 * (coef[..., kernel.A_PP] + coef[..., kernel.A_PN])
    gm = 0.5 * (coef[..., kernel.A_NP] + coef[..., kernel.A_NN])
    asym = np.abs((gp - gm) / (gp + gm)).ravel()
    blocks = getattr(calibration, "blocks", None)
    return {"dies": dies, "dim": dim, "median_abs": float(np.median(asym)), "p90_abs": float(np.percentile(asym, 90)),
            "max_abs": float(asym.max()),
            "cell_update_asymmetry": None if blocks is None else float(blocks.update_asymmetry)}  # fmt: skip


def asymmetry_figure(result: dict[str, Any]):
    """Floors against asymmetry (log y), one panel per device: SGD measured and theory, Tiki-Taka."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = np.asarray(result["asymmetry"], dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    for ax, device, title in zip(axes, ("reference", "logdomain"), ("soft-bounds reference device", "log-domain pair")):
        r = result[device]
        det = r["details"]
        ax.errorbar(a, r["sgd"], yerr=det["sgd"]["sem"], fmt="o-", c="C3", label="SGD (measured)")
        ax.plot(a, r["sgd_theory"], "k--", lw=1, label="SGD (theory: bias² + variance)")
        ax.plot(a[a > 0], np.asarray(r["sgd_theory_bias"])[a > 0], "k:", lw=1, label="SGD bias² (theory, η → 0)")
        ax.errorbar(a, r["tiki_taka"], yerr=det["tiki_taka"]["sem"], fmt="s-", c="C0", label="Tiki-Taka")
        if "tiki_taka_theory_bias" in r and any(r["tiki_taka_theory_bias"]):
            noise = r["tiki_taka"][int(np.argmin(a))]
            ax.plot(a, np.asarray(r["tiki_taka_theory_bias"]) + noise, "b--", lw=1,
                    label=f"Tiki-Taka (theory: bias² + its floor at a = {a.min():g})")
        if "tiki_taka_leak_only" in r:
            ax.plot(a, r["tiki_taka_leak_only"], "^:", c="C7", label="Tiki-Taka, leaky A, no chopper")
        ax.set_yscale("log")
        ax.set(xlabel="asymmetry |G/F| at |w| = max|w*|", title=title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("floor: test MSE vs noise-free teacher")
    axes[1].legend(fontsize=8, loc="upper left")
    lows, highs = zip(*(ax.get_ylim() for ax in axes[:2]))
    for ax in axes[:2]:
        ax.set_ylim(min(lows), max(highs))
    # convergence: learning curves at the asymmetry nearest 0.3 (the floor is the mean of the last half)
    i = int(np.argmin(np.abs(a - 0.3)))
    ax = axes[2]
    for device, algo, style in (("reference", "sgd", "C3-"), ("reference", "tiki_taka", "C0-"),
                                ("logdomain", "sgd", "C3--"), ("logdomain", "tiki_taka", "C0--")):  # fmt: skip
        d = result[device]["details"][algo]
        ax.loglog(d["curve_step"], d["curve"][i], style, label=f"{device} {algo.replace('_', '-')}")
    half = result["settings"]["problem"]["steps"] / 2
    ax.axvspan(half, result["settings"]["problem"]["steps"], color="0.9", label="averaged (last half)")
    ax.set(xlabel="samples", ylabel="test MSE (mean over seeds)", title=f"convergence at asymmetry {a[i]:g}")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    s = result["settings"]
    fig.suptitle(f"asymptotic error, {s['time']}, η = {s['eta']:g}, {s['problem']['seeds']} seeds × {s['problem']['steps']} samples", fontsize=10)
    fig.tight_layout()
    return fig

