"""One calibration run: device fits, block fits and mismatch, bundled with provenance.

``calibrate("sky130", corner="tt", temp_c=27.0)`` runs every SPICE characterization the
behavioural learners need and returns a validated :class:`~calibration.schema.Calibration`
plus the raw fit diagnostics (for residual plots and reports): devices, the reference blocks,
mismatch, and the nominal block gains of the transistor-level learner
(:mod:`calibration.learner_fit`). ``quick=True`` uses coarser sweeps (one temperature pair, fewer
sizes and samples, coarser learner grids and shorter streams, the leakage at two temperatures) and
finishes in about a minute. The storage node's leakage over temperature (:mod:`calibration.leakage`)
— the model's input — is the working cell's λ_o fitted by the learner's cell benches at 0, 27, 40, 55,
70 °C and the calibration's (quick: T_cal − 27, T_cal, T_cal + 28), with its Arrhenius-current law; the
inputs-off retention bench's leakage at −20, 0, 27, 50, 85, 125 °C is kept for reference.
The run is deterministic: the same command gives the same file but for its ``created`` field.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from netlists import MultiplierParams, SimParams, Simulator, Technology, blocks, get_simulator, get_technology
from netlists.weight_cell import WeightCellParams, weight_cell

from .block_fit import MultiplierFit, design_points, fit_multiplier, simulate_multiplier_points
from .cell_fit import CellFit, cell_range, fit_weight_cell
from .device_fit import EkvParams, IVData, collect_iv, device_fit, fit_ekv
from .leakage import LeakageFit, cell_temps, leakage_temps, measure_cell_leakage, measure_leakage
from .learner_fit import LearnerFitResult, fit_learner
from .mismatch import MismatchSample, fit_pelgrom, sample_mismatch
from .schema import BlockFit, Calibration, LearnerFit, MismatchFit, Provenance

__all__ = ["CalibrationPlan", "CalibrationRun", "plan_for", "calibrate", "CALIBRATION_CELL"]

#: The weight cell characterized for the behavioural learner (SI units). C = 200 pF (τ ≈ 70 ms):
#: the pMOS mirror's ~0.3 ms settling after a step stays < 1 % of τ. A 1.95 V supply (the top of
#: sky130's 1.8 V device range), 4/4 µm loop devices and 0.42/16 µm feedback devices keep every
#: signal device weak and saturated from −20 to 85 °C and at all five corners (with 1.8 V the pMOS
#: cascode runs out of headroom at −20 °C; with 10/2 µm loop devices the diodes drop below
#: 4 U_T at 85 °C).
CALIBRATION_CELL = WeightCellParams(
    c_f=200e-12, t_step_s=20e-3, t_back_s=320e-3, t_stop_s=640e-3,
    w_m=4e-6, l_m=4e-6, w_fb_m=0.42e-6, l_fb_m=16e-6, vdd_v=1.95,
)


@dataclass(frozen=True)
class CalibrationPlan:
    """What to simulate (SI units)."""

    device_sizes_m: tuple[tuple[float, float], ...]  # nMOS sizes (and the pMOS's first size)
    vds_values_v: tuple[float, ...]
    temps_c: tuple[float, ...]
    mismatch_sizes_m: tuple[tuple[float, float], ...]
    mismatch_count: int
    multiplier_train: int
    multiplier_validation: int
    range_factors: tuple[float, ...]


def plan_for(quick: bool, temp_c: float) -> CalibrationPlan:
    if quick:
        temps = tuple(sorted({temp_c, temp_c + 30.0}))
        return CalibrationPlan(((10e-6, 2e-6),), (0.1, 0.6), temps, ((2e-6, 2e-6), (10e-6, 2e-6)), 40, 12, 12, (0.03, 1.0, 10.0))
    temps = tuple(sorted({-20.0, 27.0, 85.0, temp_c}))
    return CalibrationPlan(
        ((10e-6, 2e-6), (20e-6, 2e-6), (100e-6, 2e-6)),
        (0.1, 0.3, 0.6, 1.0),
        temps,
        ((1e-6, 1e-6), (2e-6, 2e-6), (4e-6, 1e-6), (10e-6, 2e-6)),
        150,
        40,
        40,
        (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0),
    )


@dataclass
class CalibrationRun:
    """The calibration and the diagnostics behind it."""

    calibration: Calibration
    iv: dict[str, IVData] = field(default_factory=dict)
    ekv: dict[str, dict[float, EkvParams]] = field(default_factory=dict)
    multiplier: MultiplierFit | None = None
    cell: CellFit | None = None
    mismatch_samples: dict[str, list[MismatchSample]] = field(default_factory=dict)
    range_records: list[dict] = field(default_factory=list)
    learner: LearnerFitResult | None = None
    leakage: LeakageFit | None = None


_INCLUDE = re.compile(r'^(\.(?:include|lib)\s+)"([^"]+)"', re.MULTILINE | re.IGNORECASE)


def _hash(text: str) -> str:
    """Netlist identity: an included model file counts by its content (comment lines aside), not by
    its path, which names the machine's cache or checkout folder."""

    def by_content(match: re.Match) -> str:
        lines = Path(match.group(2)).read_text().splitlines()
        body = "\n".join(line for line in lines if not line.lstrip().startswith("*"))
        return f'{match.group(1)}"sha256:{hashlib.sha256(body.encode()).hexdigest()[:16]}"'

    return hashlib.sha256(_INCLUDE.sub(by_content, text).encode()).hexdigest()[:16]


def calibrate(
    technology: str | Technology,
    *,
    corner: str = "tt",
    temp_c: float = 27.0,
    quick: bool = False,
    command: str = "",
    simulator: Simulator | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> CalibrationRun:
    """Characterize ``technology`` in SPICE and fit the behavioural models.

    ``technology`` is a registry name (``ekv``, ``bsim``, ``sky130``, a plugin's) or a
    :class:`~netlists.Technology` instance, e.g. a :class:`~netlists.ModelFileTechnology` over a
    user's card; the file records its :attr:`~netlists.Technology.identity` (for a model file: the
    file's name and content hash). ``corner`` applies to sky130 only.

    ``progress(done, total, what)``, if given, is called after each characterization step (an I–V
    set at one temperature, the multiplier's training or validation points, the weight cell's fit
    or range, a mismatch size, the learner's blocks) with the steps done, their total and a label.
    """
    simulator = simulator or get_simulator()
    tech = technology if isinstance(technology, Technology) else get_technology(technology, corner=corner)
    family = tech.name  # sky130's mismatch models and binned pMOS are handled apart
    technology = tech.identity
    sim = SimParams(temp_c=temp_c)
    plan = plan_for(quick, temp_c)
    run = CalibrationRun(calibration=None)  # type: ignore[arg-type]
    mismatch_steps = 2 * len(plan.mismatch_sizes_m) if family == "sky130" else 0
    steps = [0, 2 * len(plan.temps_c) + 2 + 2 + mismatch_steps + 4]  # done, total (… learner blocks, cell noise, cell lam_offset(T), leakage)

    def step(what: str) -> None:
        steps[0] += 1
        if progress is not None:
            progress(steps[0], steps[1], what)

    # -- devices: EKV at each temperature, both polarities ---------------------------------------
    # If the free fit puts I_spec□ more than 10x below the card's physical estimate
    # (2·n·μ0·C_ox·U_T²), moderate inversion is not identifiable from the sweep (sky130's pfet):
    # I_spec□ is then held at the estimate (scaled with T^0.5 for μ ∝ T^-1.5) and V_T0, n, σ fitted
    # over the weak-inversion window IC ≤ 1e-3.
    devices = {}
    held: list[str] = []
    channel = tech.without_junctions()
    for polarity in ("n", "p"):
        vgs_stop = 1.8 if (family == "sky130" and polarity == "p") else 0.7
        # sky130's pfet_01v8 is binned in W with different parameters per bin: one EKV card can
        # describe one bin only (three widths: 8 % rms; one: 3.9 %), so the pMOS is fitted at one size
        sizes = list(plan.device_sizes_m) if polarity == "n" or family != "sky130" else list(plan.device_sizes_m[:1])
        data_by_t = {}
        for t in plan.temps_c:
            # the EKV fit is of the channel: the sweeps are taken without junction geometry (the drain
            # junction of the 100 µm device leaks tens of pA at 85 °C, over weak inversion's lowest decades
            # and a temperature fit's bex then runs away: 11.7, measured); netlists.retention measures leakage
            data_by_t[t] = collect_iv(channel, polarity, sizes_m=sizes, vds_values_v=list(plan.vds_values_v),
                                      temp_c=t, vgs_start_v=-0.2, vgs_stop_v=vgs_stop, simulator=simulator)  # fmt: skip
            step(f"{polarity}MOS I-V at {t:g} °C")
        run.iv[polarity] = data_by_t[temp_c]
        fits = {t: fit_ekv(d) for t, d in data_by_t.items()}
        estimate = tech.specific_current_a(polarity, 1.0, 1.0, temp_c)
        bex_fixed = None
        if fits[temp_c].i_spec_sq_a < 0.1 * estimate:
            held.append(polarity)
            bex_fixed = -1.5
            fits = {
                t: fit_ekv(d, ic_max=1e-3, fixed_i_spec_sq_a=estimate * ((t + 273.15) / (temp_c + 273.15)) ** (bex_fixed + 2.0))
                for t, d in data_by_t.items()
            }
        run.ekv[polarity] = fits
        devices[polarity] = device_fit(fits, temp_c, bex_fixed=bex_fixed)

    # -- multiplier: gain, offset, nonlinearity (validated on held-out points) -----------------
    base = MultiplierParams()
    i_unit = base.i_x_a
    train = simulate_multiplier_points(tech, design_points(i_unit, 2.0, plan.multiplier_train, seed=1), base=base, sim=sim, simulator=simulator)
    step("multiplier training points")
    valid = simulate_multiplier_points(tech, design_points(i_unit, 2.0, plan.multiplier_validation, seed=2), base=base, sim=sim, simulator=simulator)
    step("multiplier validation points")
    run.multiplier = mult = fit_multiplier(train, valid, i_unit)

    # -- weight cell: tau, lambda_eff, leak, asymmetry, range ---------------------------------
    cell_params = CALIBRATION_CELL
    run.cell = cell = fit_weight_cell(tech, cell_params, sim=sim, simulator=simulator)
    step("weight cell")
    i_w_min, i_w_max, run.range_records = cell_range(tech, cell_params, factors=plan.range_factors, sim=sim, simulator=simulator)
    step("weight cell range")

    # -- mismatch: Monte Carlo on the PDK's mismatch models ------------------------------------
    a_vt = {"n": 0.0, "p": 0.0}
    samples_total = 0
    gain_sigma = 0.0
    if family == "sky130":
        for polarity, vgs in (("n", 0.3), ("p", 0.6)):
            run.mismatch_samples[polarity] = []
            for k, (w, l) in enumerate(plan.mismatch_sizes_m):
                run.mismatch_samples[polarity].append(
                    sample_mismatch(get_technology("sky130", corner=corner, mismatch=True, seed=12345 + k), polarity,
                                    w_m=w, l_m=l, count=plan.mismatch_count, slope_factor=devices[polarity].n,
                                    vgs_v=vgs, sim=sim, simulator=simulator))  # fmt: skip
                step(f"{polarity}MOS mismatch at W/L {w * 1e6:g}/{l * 1e6:g} µm")
            a_vt[polarity] = fit_pelgrom(run.mismatch_samples[polarity])
            samples_total += plan.mismatch_count * len(plan.mismatch_sizes_m)
        # current-gain spread of the weight cell's output device: σ(ΔV_T)/(n U_T)
        from netlists.technologies.base import thermal_voltage_v

        sigma_vt = a_vt["n"] / np.sqrt(cell_params.w_out_m * cell_params.l_out_m)
        gain_sigma = float(sigma_vt / (devices["n"].n * thermal_voltage_v(temp_c)))

    # -- the transistor-level learner's own blocks: nominal gains of its behavioural model ---------
    run.learner = learner = fit_learner(tech, quick=quick, sim=sim, simulator=simulator)
    step("learner blocks")

    # -- noise of the learner's weight cell (ngspice .noise at the unit drive; netlists.noise) ------
    from netlists.noise import measure_cell_noise

    noise = measure_cell_noise(tech, sim=sim, simulator=simulator)
    step("weight cell noise")

    # -- leakage of the learner cell's storage node over temperature (calibration.leakage) ----------
    command = command or f"logdomain calibrate --tech {technology}{f' --corner {corner}' if family == 'sky130' else ''} --temp-c {temp_c:g}{' --quick' if quick else ''}"
    # the model's input: the working cell's lam_offset at each temperature of a grid and its law
    cell_lam = measure_cell_leakage(tech, learner, temps_c=cell_temps(quick, temp_c), temp_cal_c=temp_c, quick=quick, sim=sim,
                                simulator=simulator)  # fmt: skip
    step("working cell's lam_offset over temperature")
    # for reference (not the model's input): the inputs-off retention bench's leakage
    run.leakage = leakage = measure_leakage(tech, learner.params, temps_c=leakage_temps(quick, temp_c), temp_cal_c=temp_c,
                                            corner=corner if family == "sky130" else "nominal", command=command,
                                            simulator=simulator, cell=cell_lam)  # fmt: skip
    step("storage-node leakage over temperature (inputs-off retention bench)")

    hashes = {
        "nmos_iv": _hash(blocks.nmos_iv(tech).text(sim)),
        "multiplier": _hash(blocks.multiplier(tech, base).text(sim)),
        "weight_cell": _hash(weight_cell(tech, cell_params).text(sim)),
        **{name: _hash(netlist.text(sim)) for name, netlist in sorted(learner.netlists.items())},
    }
    from netlists import __version__ as package_version

    provenance = Provenance(
        technology=technology,
        corner=corner if family == "sky130" else "nominal",
        temp_c=temp_c,
        ngspice_version=simulator.ngspice_version,
        command=command,
        created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        netlist_hashes=hashes,
        package_version=package_version,
        notes=(
            f"noise_rel measured by `logdomain simulate noise {'--tech ' + technology if technology == tech.name else '--model-file ...'}"
            + (f" --corner {corner}" if family == "sky130" else "")
            + f" --temp-c {temp_c:g}` (netlists.noise.measure_cell_noise: ngspice .noise of the learner's weight "
            f"cell at the unit drive, {noise.f_lo_hz:g}-{noise.f_hi_hz:g} Hz: sigma_I {noise.sigma_i_a:.3g} A rms "
            f"against a drive of {noise.i_drive_a:.3g} A; the cell's transistors only, ideal sources are noiseless); "
            "the behavioural loop adds it per hold (logdomain.cell_noise: sigma_W = noise_rel*T_s/tau per weight half, seeded per die); "
            + (f"I_spec held at the card estimate for polarity {', '.join(held)} (moderate inversion not identifiable); " if held else "")
            + ("mismatch from the PDK's per-instance V_T models" if family == "sky130" else "this technology has no mismatch models: mismatch fields are 0")
        ),
    )
    blocks_fit = BlockFit(
        multiplier_gain=mult.gain,
        multiplier_offset_a=mult.offset_a,
        multiplier_nonlinearity=mult.nonlinearity,
        multiplier_rms_error=mult.rms_rel_error_validation,
        multiplier_i_unit_a=mult.i_unit_a,
        i_unit_a=cell_params.i_u_a,
        tau_s=cell.tau_s,
        tau_rel_error=cell.tau_s / cell.tau_ideal_s - 1.0,
        lam_eff=cell.lam_eff,
        lam_design=cell_params.lam,
        leak_a=max(cell.leak_a, 0.0),
        update_asymmetry=cell.update_asymmetry,
        i_w_min_a=i_w_min,
        i_w_max_a=i_w_max,
        noise_rel=min(noise.noise_rel, 1.0),
        cell_rms_error=cell.rms_rel_error_validation,
    )
    mismatch = MismatchFit(
        a_vt_n_v_m=a_vt["n"], a_vt_p_v_m=a_vt["p"], device_w_m=cell_params.w_out_m, device_l_m=cell_params.l_out_m,
        gain_sigma=gain_sigma, samples=samples_total,
    )
    run.calibration = Calibration(provenance=provenance, devices=devices, blocks=blocks_fit, mismatch=mismatch,
                                  learner=_learner_section(learner, tech.label, temp_c), leakage=leakage)  # fmt: skip
    return run


#: what the learner's behavioural model leaves out, and why (written into the calibration file)
LEARNER_NOT_MODELLED = (
    "not modelled: noise beyond blocks.noise_rel (the cell's charging-current noise at the unit drive is in the loop, "
    "per hold; its dependence on drive and I_w, and the noise of the bias and signal sources, are not); junction leakage "
    "at the storage nodes enters through the fitted lam_offset at this temperature, shifted at other temperatures by "
    "the working cell's lam_offset(T) law of leakage.cell (LearnerModel.at_temperature; per half, no mismatch of the leakage); mismatch of cascode and feedback devices "
    "(second order, not sampled). term_gain includes x_copy_gain (the update path's copy of X, which the "
    "model has no factor for). Measured, not in the model's equations: drive_lag_holds (the cells' pMOS "
    "mirror delays the drive; lag_fit_* are the cell gains fitted with that lag), cm_gain_ratio and "
    "cm_set_ratio (realised common-mode feedback beta and S0 over their design values); ab_floor_gain is "
    "new to the model"
)


def _learner_section(fit: LearnerFitResult, label: str, temp_c: float) -> LearnerFit:
    """The calibration file's ``learner`` section from a :func:`calibration.learner_fit.fit_learner` result."""
    p = fit.params
    design = {f.name: getattr(p, f.name) for f in dataclasses.fields(p) if f.name not in p.RUN_SETTINGS}
    bad = "; ".join(f"{bench}: {', '.join(sorted(names))}" for bench, names in sorted(fit.violations.items()) if names)
    regions = f"devices outside weak inversion/saturation in the benches: {bad}" if bad else "every bench device weak and saturated"
    notes = f"benches on {label} at {temp_c:g} degC (nominal, no mismatch); {regions}; {LEARNER_NOT_MODELLED}"
    return LearnerFit(design=design, nominal=dict(fit.nominal), eta_design=p.eta, fit_rms=dict(fit.fit_rms),
                      validation_rms=dict(fit.validation_rms), diagnostics=dict(fit.diagnostics), notes=notes)  # fmt: skip


def reference_parameters(technology: str) -> dict[str, Any] | None:
    """The ``ekv`` card's own values under the fitted names (None for other technologies)."""
    if technology != "ekv":
        return None
    tech = get_technology("ekv")
    out = {}
    for polarity in ("n", "p"):
        card = tech.card(polarity)
        out[polarity] = {
            "i_spec_sq_a": card.specific_current_a(1.0, 1.0, card.tnom_c),
            "n": card.n,
            "vt0_v": card.vt0_v,
            "sigma_dibl": card.sigma_dibl,
            "tcv_v_per_k": card.tcv_v_per_k,
            "bex": card.bex,
        }
    return {"devices": out}
