"""Write the example notebooks (``notebooks/*.ipynb``) from the cell sources below, outputs stripped.

The notebooks are generated, not edited by hand, so that they stay diff-friendly: every cell has
a stable id, no outputs and no execution count. Edit this file, then run::

    python notebooks/_build.py            # rewrite notebooks/*.ipynb
    python notebooks/_build.py --check    # exit 1 if a committed notebook differs from its source

``tests/test_notebooks.py`` executes every notebook top to bottom and checks that the committed
files are exactly what this script writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = """\
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt

np.set_printoptions(precision=4, suppress=False)"""

# -----------------------------------------------------------------------------------------------
NB01 = [
    ("md", """\
# 01 — Netlists: generate, inspect, simulate

`netlists` turns typed parameter classes into SPICE netlists for any technology behind one
interface (`ekv`: behavioural EKV B-source MOSFET, the golden reference; `sky130`: the SkyWater
PDK's `nfet_01v8`/`pfet_01v8`), runs them in an ngspice worker process (`Simulator`) and reads the
operating point back to report each device's region (`check_regions`).

This notebook

1. generates a transistor I–V bench and the translinear multiplier and prints their netlists,
2. simulates subthreshold I_D–V_GS sweeps on `ekv` and `sky130` and fits the subthreshold swing,
3. sweeps the multiplier `I_out = I_y·I_z/I_x` over two decades of each input against its law,
4. checks regions: every signal device in weak inversion (IC ≤ 0.1) and saturated (V_DS ≥ 4 U_T),
   and shows that a block driven out of weak inversion is reported, not hidden,

and ends with assertions on the numbers behind the figures.

**How to read it.** Before each step, what the cell does and why; after each result, what to look at.
The text says where to read a number, not its value: the printouts are the figures.

## 0. Setup

The first cell imports the generators and starts **one** ngspice worker process (`get_simulator()`),
reused by every simulation below (cheaper than a process per run, and a crash stays in the worker).
It then asks each technology whether it can run here. `available()` returns a pair: a flag and where the models come
from — `built in` for `ekv`, whose MOSFET is written into the netlist itself, and the folder of the
model library for `sky130`. If `sky130` prints `False`, the model library is missing: run `make setup`
or set `PDK_ROOT` to an installed PDK."""),
    ("code", SETUP + """

from netlists import MosBenchParams, MultiplierParams, SimParams, blocks, check_regions, get_simulator, get_technology
from netlists.measure import fit_weak_inversion, iv_curve, multiplier_sweep

sim = get_simulator()  # one ngspice worker process for the whole notebook
techs = {"ekv": get_technology("ekv"), "sky130": get_technology("sky130", corner="tt")}
print("ngspice", sim.ngspice_version)
for name, tech in techs.items():
    print(f"{name:7s} available: {tech.available()}")"""),
    ("md", """\
## 1. Generate and inspect

Generators are pure functions `(technology, params) → Netlist`; `Netlist.text()` writes the SPICE
deck (options, temperature, the technology's model preamble, elements, analyses). Each MOSFET's
drain has a 0 V ammeter (`vam_*`) so the runner can read every drain current.

The next cell describes an nMOS I–V bench with a typed parameter class — every field in SI units with
its unit in the name (`w_m`, `l_m`, `vds_v`), checked against its range when the object is made — and
prints the deck `blocks.nmos_iv` writes for `sky130`. Nothing is simulated yet: generating is separate
from running."""),
    ("code", """\
bench = MosBenchParams(w_m=10e-6, l_m=2e-6, vds_v=0.5, vgs_start_v=-0.3, vgs_stop_v=0.8, vgs_step_v=0.005)
print(blocks.nmos_iv(techs["sky130"], bench).text())"""),
    ("md", """\
**What to look at in the deck.** The `.param … mismatch_factor` line and the `.include` are the
technology's preamble: the sky130 model file of the chosen corner, with the PDK's Monte Carlo switches
off (mismatch is an explicit option of the technology, used in notebook 02). `.options` sets tight
absolute tolerances: subthreshold currents are pico- to nanoamperes. Then the bench itself: a drain source `vd`, a gate source `vg`, the
ammeter `vam_m1` in series with the drain, the transistor as an instance of the PDK's
`sky130_fd_pr__nfet_01v8` (its model takes W and L in µm, which is why the deck shows `w=10 l=2` for
the 10 µm × 2 µm of `bench`), and a `.dc` sweep of `vg` from `vgs_start_v` to `vgs_stop_v`.

The same interface builds the translinear multiplier on `ekv`, whose preamble defines its MOSFETs as
subcircuits (`ld_ekv_n`, `ld_ekv_p`) with a B-source EKV channel current (cut at 110 characters for
display only)."""),
    ("code", """\
mult_params = MultiplierParams(i_x_a=1e-9, i_y_a=1e-9, i_z_a=1e-9)
mult_netlist = blocks.multiplier(techs["ekv"], mult_params)
# the ekv preamble defines the EKV MOSFET as a B-source subcircuit; its long expressions are cut at 110 characters
for line in mult_netlist.text().splitlines():
    print(line if len(line) <= 110 else line[:110] + " …")"""),
    ("md", """\
In the multiplier deck, find the three input currents (`iy`, `ix`, `iz`, from the supply into nodes
`a`, `b`, `c`, each 1 nA here), the four wide signal devices `m1`–`m4` that form the translinear loop,
and the long, narrow `m5` that closes the feedback. The output node is held at a fixed voltage by
`vout`, and the output current is read through the ammeter of `m3`. The analysis is a single `.op`: one
operating point per input setting.

## 2. Subthreshold I–V sweeps

`iv_curve` runs the bench's DC sweep; `fit_weak_inversion` fits `log10 I_D = a + V_GS/S` between
30× the leakage floor and IC = 1e-3, giving the swing S (mV/decade) = n·U_T·ln 10. Both
polarities, both technologies (pMOS voltages and currents are shown as magnitudes).

Why: everything downstream assumes devices exponential in V_GS; the swing says how exponential, and
the slope factor n it implies enters time constants and mismatch later. The cell runs four sweeps
(2 technologies × 2 polarities) through the same worker, prints one line per fit and plots the curves."""),
    ("code", """\
curves, swings = {}, {}
for name, tech in techs.items():
    for pol in ("n", "p"):
        curve = iv_curve(tech, pol, bench, simulator=sim)
        i_spec = tech.specific_current_a(pol, bench.w_m, bench.l_m, 27.0)
        curves[name, pol] = (curve, i_spec)
        swings[name, pol] = fit_weak_inversion(curve, i_spec)

for (name, pol), fit in swings.items():
    print(f"{name:7s} {pol}MOS  swing {fit.swing_mv_per_decade:5.1f} mV/dec  R² {fit.r_squared:.6f}  "
          f"over {fit.decades:.1f} decades ({fit.n_points} points)")

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, pol in zip(axes, ("n", "p")):
    for k, name in enumerate(techs):
        curve, i_spec = curves[name, pol]
        fit = swings[name, pol]
        ax.semilogy(curve.vgs_v, curve.id_a, color=f"C{k}", lw=2, label=f"{name}: S = {fit.swing_mv_per_decade:.1f} mV/dec")
        ax.axhline(0.1 * i_spec, color=f"C{k}", ls=":", lw=1)
        sel = (curve.id_a >= fit.i_min_a) & (curve.id_a <= fit.i_max_a)
        v = curve.vgs_v[sel]
        ax.semilogy(v, fit.i_max_a * 10 ** ((v - v.max()) * 1000 / fit.swing_mv_per_decade), "k--", lw=1)
    ax.set(xlabel="V_GS (V)" if pol == "n" else "V_SG (V)", title=f"{pol}MOS W/L = 10/2 µm, |V_DS| = 0.5 V  (dotted: IC = 0.1)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
axes[0].set_ylabel("|I_D| (A)")
fig.tight_layout()"""),
    ("md", """\
**What to look at.** On the logarithmic current axis a device in weak inversion is a straight line:
each curve should be straight over several decades, between the flat leakage floor at the bottom and
the bend into moderate inversion at the top, near its dotted line (IC = 0.1, where this toolkit draws
the edge of weak inversion). The black dashed segments are the fitted lines, drawn only over the
window the fit used; they should lie on the coloured curves. In the printout read, per technology
and polarity, the swing (mV/decade), R² and the number of decades fitted. A good result: R² within a
thousandth of 1 over at least three decades, and a swing a little above the room-temperature
limit of about 60 mV/decade (S/60 mV is roughly the slope factor n). A bad one: a curve that bends
inside its fit window, a fit over barely a decade, or a swing far outside 60–100 mV/decade — that would
point to a wrong model file, corner or temperature."""),
    ("md", """\
## 3. Translinear multiplier

Four devices in a translinear loop give `I_out = I_y·I_z/I_x` while they stay in weak inversion.
`multiplier_sweep` moves each input over two decades (the others at 1 nA), simulates every point
and checks its regions.

The learner's products are built from this block. The cell runs the sweep on both technologies,
prints the largest relative error and whether every point passed the region check, and plots each
point against its law."""),
    ("code", """\
sweeps = {name: multiplier_sweep(tech, mult_params, decades=2.0, points=5, simulator=sim) for name, tech in techs.items()}

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
markers = {"i_x_a": "o", "i_y_a": "s", "i_z_a": "^"}
for k, (name, sw) in enumerate(sweeps.items()):
    swept = np.array(sw.swept)
    for inp, marker in markers.items():
        sel = swept == inp
        ax1.loglog(sw.ideal_a[sel], sw.measured_a[sel], marker, color=f"C{k}", label=f"{name}, sweep {inp[2]}")
        ax2.semilogx(sw.ideal_a[sel], 100 * sw.rel_error[sel], marker + "-", color=f"C{k}", label=f"{name}, sweep {inp[2]}")
    print(f"{name:7s} max |error| {100 * sw.max_rel_error:.2f} %, regions ok at every point: {sw.regions_ok}")
grid = np.logspace(-10, -8, 3)
ax1.loglog(grid, grid, "k--", lw=1, label="ideal I_y·I_z/I_x")
ax1.set(xlabel="ideal I_out (A)", ylabel="simulated I_out (A)", title="multiplier vs its law")
ax2.set(xlabel="ideal I_out (A)", ylabel="relative error (%)", title="I_out / ideal − 1")
for ax in (ax1, ax2):
    ax.grid(True, which="both", alpha=0.3)
ax2.legend(fontsize=7, ncol=2)
fig.tight_layout()"""),
    ("md", """\
**What to look at.** Left: simulated against ideal output current on log–log axes; a perfect multiplier
puts every marker on the dashed diagonal, and over two decades the markers should be indistinguishable
from it at this scale. Right: the same points as relative error in %, which is where differences show.
Read the printed maximum |error| for each technology and check that `regions ok at every point` is
`True` — an accurate output from a device outside weak inversion would be luck, not design. An error of the same size everywhere is a gain (notebook 02 fits it); one that grows toward an end of
the range is a nonlinearity or a device nearing the edge of weak inversion. `ekv` should be close to exact; `sky130` has a larger,
systematic error, which is why calibration fits the block instead of assuming the ideal law."""),
    ("md", """\
## 4. Region check

`check_regions` reads the operating point back: per device the inversion coefficient
IC = I_D/I_spec and V_DS/U_T. The nominal multiplier passes; the same block at 3 µA per input is
pushed past the weak-inversion limit, and the checker names the devices that left it.

The cell runs one operating point of the nominal multiplier per technology and prints a summary line
and one row per device: its role (`signal` devices must obey the law; the `feedback` device only
biases the loop), its drain current, IC and V_DS/U_T. Then it builds the same block on `sky130` with
every input raised to 3 µA and prints the checker's verdict."""),
    ("code", """\
reports = {}
for name, tech in techs.items():
    netlist = blocks.multiplier(tech, mult_params)
    reports[name] = check_regions(netlist, sim.run(netlist))
    print(f"{name}: {reports[name].summary()}")
    for d in reports[name].devices:
        print(f"    {d.name:3s} {d.role:8s} I_D {d.id_a:.3e} A  IC {d.ic:8.2e}  V_DS/U_T {d.vds_over_ut:6.1f}  ok {d.ok}")

hot = mult_params.replace(i_x_a=3e-6, i_y_a=3e-6, i_z_a=3e-6)
hot_netlist = blocks.multiplier(techs["sky130"], hot)
hot_report = check_regions(hot_netlist, sim.run(hot_netlist))
print("\\nsky130 at 3 µA per input:", hot_report.summary())"""),
    ("md", """\
**What to look at.** A device passes when IC ≤ 0.1 (weak inversion: the exponential law holds) and
V_DS/U_T ≥ 4 (saturated: the drain current no longer depends on V_DS). Scan the IC and V_DS/U_T
columns for the device with the least margin — the one that will fail first when currents rise or the
supply drops; in this block it is the feedback device, which carries the most current through the
smallest W/L. The last line is the point of the checker: at 3 µA per input the loop devices leave weak
inversion, and the summary names each one with its IC instead of returning a plausible-looking current.

## Checks on the data behind the figures

The last cell asserts the statements above on the data behind the figures (swings, R², decades; the
`ekv` swing against its own card; the multiplier's error and regions; the two region reports) and
prints `all checks passed`, which `tests/test_notebooks.py` requires."""),
    ("code", """\
for (name, pol), fit in swings.items():
    assert 60.0 <= fit.swing_mv_per_decade <= 100.0, (name, pol, fit)
    assert fit.r_squared >= 0.999 and fit.decades >= 3.0, (name, pol, fit)
# ekv is exact: its swing is n·U_T·ln 10 of its card (n = 1.35 nMOS, 1.40 pMOS) within 2 %
from netlists import thermal_voltage_v
for pol in ("n", "p"):
    expected = 1000 * techs["ekv"].slope_factor(pol) * thermal_voltage_v(27.0) * np.log(10)
    assert abs(swings["ekv", pol].swing_mv_per_decade / expected - 1) < 0.02, (pol, expected)
for name, sw in sweeps.items():
    assert sw.max_rel_error < 0.08, (name, sw.max_rel_error)
    assert sw.regions_ok, name
    assert len(sw.measured_a) == 15 and np.all(sw.measured_a > 0)
assert sweeps["ekv"].max_rel_error < 0.03  # the golden reference is close to exact
assert all(r.ok for r in reports.values())
assert not hot_report.ok and any(not d.weak_inversion for d in hot_report.violations)
print("all checks passed")"""),
]

# -----------------------------------------------------------------------------------------------
NB02 = [
    ("md", """\
# 02 — Calibration: behavioural models fitted to SPICE

`calibration` characterizes a technology in SPICE and fits the behavioural models the fast
learner uses: EKV device parameters (`device_fit`), the translinear multiplier's gain and
nonlinearity (`block_fit`), the weight cell's τ, λ_eff, leak and up/down asymmetry (`cell_fit`),
and Pelgrom mismatch from the PDK's Monte Carlo models (`mismatch`). `pipeline.calibrate` runs all of
them; here each step runs on its own, with the quick plan of `plan_for(quick=True)`, so the data
behind every fit can be looked at. The notebook ends by loading the shipped default calibration
(sky130 tt, 27 °C) and its provenance.

**Why calibrate.** Notebook 03 simulates thousands of dies, which SPICE cannot; the fast learner is
only as good as the numbers it is given, so each is fitted here to SPICE and validated on data the fit
did not use. After each result, the text says which number to read; the values are in the printouts.

The first cell imports the fitting functions, starts one ngspice worker and shows the quick plan: the
device sizes and V_DS values of the I–V sweeps, the mismatch sizes and how many devices of each, and
how many random multiplier points to fit and to validate on. The full plan behind the shipped file
is larger, so values differ a little from the shipped ones (section 6)."""),
    ("code", SETUP + """

from calibration import load_default_calibration
from calibration.block_fit import design_points, fit_multiplier, multiplier_model_a, simulate_multiplier_points
from calibration.cell_fit import fit_weight_cell
from calibration.pipeline import CALIBRATION_CELL
from calibration.device_fit import collect_iv, fit_ekv
from calibration.ekv_model import ekv_current_a
from calibration.mismatch import fit_pelgrom, sample_mismatch
from calibration.pipeline import plan_for, reference_parameters
from netlists import MultiplierParams, SimParams, get_simulator, get_technology, thermal_voltage_v
from netlists.learner import solve_law, weight_cell_response
from netlists.weight_cell import WeightCellParams

sim = get_simulator()
ekv, sky = get_technology("ekv"), get_technology("sky130", corner="tt")
plan = plan_for(quick=True, temp_c=27.0)
plan"""),
    ("md", """\
## 1. Device fit — the golden reference first

On `ekv` the SPICE device *is* an EKV model, so the fit must give back the card's own values.
This step tests the fitting procedure itself: if it fails here, where the answer is known, no fit on
`sky130` can be trusted. The cell sweeps I_D–V_GS over the plan's sizes and V_DS values, fits
I_spec□ (the specific current per square), the slope factor n, the threshold V_T0 and the DIBL
coefficient σ, and prints each beside the card's value."""),
    ("code", """\
iv_kw = dict(sizes_m=list(plan.device_sizes_m), vds_values_v=list(plan.vds_values_v), temp_c=27.0,
             vgs_start_v=-0.2, vgs_stop_v=0.7, simulator=sim)
ekv_fit = fit_ekv(collect_iv(ekv, "n", **iv_kw))
card = reference_parameters("ekv")["devices"]["n"]
for key in ("i_spec_sq_a", "n", "vt0_v", "sigma_dibl"):
    print(f"{key:12s} fitted {getattr(ekv_fit, key): .5g}   card {card[key]: .5g}")"""),
    ("md", """\
**What to look at.** The two columns should agree to the printed digits for I_spec□, n and V_T0. The
card has no DIBL, so σ should come out indistinguishable from zero (a tiny value in scientific notation)."""),
    ("md", """\
## 2. Device fit on sky130 (quick plan) and its residuals

`fit_ekv` minimizes the error of ln I_D over the weak/moderate inversion window (IC ≤ 0.1) with
`scipy.optimize.least_squares`. As in `pipeline.calibrate`, when the free fit puts I_spec□ more than
10× below the card's physical estimate (sky130's pMOS: moderate inversion is not identifiable from
the sweep), I_spec□ is held at that estimate and V_T0, n, σ are fitted over IC ≤ 1e-3.

The cell fits both polarities and prints the four parameters, whether I_spec□ was held, and the rms
error of ln I_D over the points fitted."""),
    ("code", """\
sky_iv, sky_fit, held = {}, {}, {}
for pol in ("n", "p"):
    data = collect_iv(sky, pol, **(iv_kw | {"vgs_stop_v": 1.8 if pol == "p" else 0.7}))
    fit = fit_ekv(data)
    estimate = sky.specific_current_a(pol, 1.0, 1.0, 27.0)
    held[pol] = fit.i_spec_sq_a < 0.1 * estimate
    if held[pol]:
        fit = fit_ekv(data, ic_max=1e-3, fixed_i_spec_sq_a=estimate)
    sky_iv[pol], sky_fit[pol] = data, fit
    print(f"sky130 {pol}MOS: I_spec□ {fit.i_spec_sq_a:.3e} A{' (held)' if held[pol] else ''}, n {fit.n:.4f}, "
          f"V_T0 {fit.vt0_v:.4f} V, σ {fit.sigma_dibl:.4f}, rms log error {100 * fit.rms_log_error:.2f} % "
          f"over {fit.n_points} points")"""),
    ("md", """\
Read n first: it sets the learner's time constants and converts currents to threshold offsets in
section 5, and the checks accept 1.1–1.7. `(held)` marks
the polarity whose I_spec□ was fixed; its fit window is narrower, so expect fewer points. The next cell draws the fitted model over the whole sweep against SPICE, and its
relative error inside the fit window."""),
    ("code", """\
residual_rms = {}
fig, axes = plt.subplots(2, 2, figsize=(11, 7))
for row, pol in enumerate(("n", "p")):
    data, fit = sky_iv[pol], sky_fit[pol]
    model = ekv_current_a(data.vgs_v, 0.0, data.vds_v, i_spec_sq_a=fit.i_spec_sq_a, n=fit.n, vt0_v=fit.vt0_v,
                          sigma_dibl=fit.sigma_dibl, w_over_l=data.w_m / data.l_m, temp_c=data.temp_c)
    ic_max = 1e-3 if held[pol] else 0.1
    window = (data.id_a > 1e-13) & (data.id_a < ic_max * fit.i_spec_sq_a * data.w_m / data.l_m)
    residual_rms[pol] = float(np.sqrt(np.mean(np.log(model[window] / data.id_a[window]) ** 2)))
    ax1, ax2 = axes[row]
    for k, vds in enumerate(sorted(set(data.vds_v))):
        sel = data.vds_v == vds
        ax1.semilogy(data.vgs_v[sel], data.id_a[sel], color=f"C{k}", lw=2, label=f"SPICE, V_DS = {vds:g} V")
        ax1.semilogy(data.vgs_v[sel], model[sel], "k--", lw=1)
        good = sel & window
        ax2.plot(data.vgs_v[good], 100 * (model[good] / data.id_a[good] - 1), ".", color=f"C{k}", ms=4)
    label = "V_GS (V)" if pol == "n" else "V_SG (V)"
    ax1.set(xlabel=label, ylabel="|I_D| (A)", title=f"sky130 {pol}MOS: SPICE vs fitted EKV (dashed)")
    ax2.set(xlabel=label, ylabel="EKV / SPICE − 1 (%)", title=f"residuals in the fit window (IC ≤ {ic_max:g})")
    ax1.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
print({pol: f"{100 * v:.2f} %" for pol, v in residual_rms.items()})"""),
    ("md", """\
**What to look at.** One row per polarity. Left: SPICE (colour, one curve per V_DS) with the fitted
model dashed. Through the weak-inversion part the dashed lines should sit on the curves; well above
the window (strong inversion) they may part, which is outside what the model is fitted for and outside
where the learner operates. Right: residuals in the window, in %. Good residuals are small and without
structure. Structure names the culprit: a tilt across V_GS is a wrong n, an offset common to every V_DS
is the I_spec□–V_T0 trade-off, curves of different V_DS apart from each other is a wrong σ. The printed
dictionary gives the rms residual per polarity; pMOS is expected to be the larger (held I_spec□,
narrower window)."""),
    ("md", """\
## 3. Multiplier block fit

Model: `I_out = gain·P·(P/I_unit)^ν` with P = I_y·I_z/I_x, fitted on log-uniform random inputs within
±1 decade of 1 nA and validated on a second random set the fit never saw.

Notebook 01 showed that the sky130 multiplier departs from `I_y·I_z/I_x` systematically. The cell
simulates both point sets, fits the gain and the exponent ν (a power-law bend: ν = 0 is a straight
scale), prints the validation error of the fitted model beside that of the ideal law, and plots the
deviation of each point from the ideal law."""),
    ("code", """\
base = MultiplierParams()
train = simulate_multiplier_points(sky, design_points(base.i_x_a, 2.0, plan.multiplier_train, seed=1), base=base, simulator=sim)
valid = simulate_multiplier_points(sky, design_points(base.i_x_a, 2.0, plan.multiplier_validation, seed=2), base=base, simulator=sim)
mult = fit_multiplier(train, valid, base.i_x_a)
print(f"gain {mult.gain:.4f}, nonlinearity ν {mult.nonlinearity:+.4f}")
print(f"validation rms error: fitted model {100 * mult.rms_rel_error_validation:.2f} %, "
      f"ideal law {100 * mult.rms_rel_error_ideal_validation:.2f} %")

fig, ax = plt.subplots(figsize=(6.4, 4))
for data, marker, label in ((train, "o", "train"), (valid, "s", "validation")):
    ax.semilogx(data.product_a, 100 * (data.i_out_a / data.product_a - 1), marker, label=f"SPICE / ideal law − 1 ({label})")
p = np.logspace(-10, -8, 50)
ax.semilogx(p, 100 * (multiplier_model_a(p, mult.gain, mult.offset_a, mult.nonlinearity, mult.i_unit_a) / p - 1), "k-",
            label="fitted model / ideal law − 1")
ax.set(xlabel="P = I_y·I_z/I_x (A)", ylabel="%", title="sky130 multiplier: deviation from I_y·I_z/I_x")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()"""),
    ("md", """\
**What to look at.** The markers are what SPICE gives relative to the ideal law; the black line is the
fitted model relative to the same law. A good fit runs through the cloud of both marker sets, and the
validation markers (never used by the fit) scatter around it no more than the training ones. In the
printout, the fitted model's validation error should be clearly smaller than the ideal law's: that is
the case for fitting the block rather than assuming its law. The gain's distance from 1 is the
level of the line; ν is its slope on this log axis."""),
    ("md", """\
## 4. Weight-cell fit

The log-domain integrator obeys `τ dI_w/dt = I_e·I_x/I_u − λ·I_w` by design. `fit_weight_cell`
fits `τ dI_w/dt = P − λ_eff·I_w − leak` to an up-step response (×3 and back) and validates on a
down-step (×1/3) it did not see; the up and down relaxation rates give the update asymmetry. The
cell is the pipeline's (C = 200 pF, τ ≈ 70 ms).

The weight cell is the learner's memory and integrator: τ sets the learning rate η = T_s/τ, λ_eff the
weight decay the circuit actually applies, and an up/down asymmetry biases every update. The cell
prints the fitted τ against the design τ = C·U_T/(κ·I_A) (κ, the gate coupling measured on the cell's
output device, is printed too), λ_eff against the design λ, the leak, the asymmetry, and the rms error
of the fitted law on the fit and the validation step. It then re-simulates the response and solves the
fitted law on the same input for the plot."""),
    ("code", """\
cell_params = CALIBRATION_CELL  # the cell the shipped calibration characterizes
cell = fit_weight_cell(sky, cell_params, simulator=sim)
print(f"τ {1e3 * cell.tau_s:.2f} ms (design {1e3 * cell.tau_ideal_s:.2f} ms, {100 * (cell.tau_s / cell.tau_ideal_s - 1):+.2f} %), "
      f"λ_eff {cell.lam_eff:.4f} (design {cell_params.lam:g}), leak {cell.leak_a:.2e} A, "
      f"asymmetry {cell.update_asymmetry:+.4f}, κ {cell.kappa:.3f}")
print(f"rms error of the fitted law: fit {100 * cell.rms_rel_error_fit:.2f} %, validation {100 * cell.rms_rel_error_validation:.2f} %")

resp = weight_cell_response(sky, cell_params, simulator=sim)
law = solve_law(resp.time_s, resp.product_a - cell.leak_a, cell.tau_s, cell.lam_eff, resp.i_w_a[0])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(1e3 * resp.time_s, 1e9 * resp.i_w_a, lw=2, label="SPICE I_w")
ax1.plot(1e3 * resp.time_s, 1e9 * law, "k--", label="fitted law")
ax1.plot(1e3 * resp.time_s, 1e9 * resp.i_w_ideal_a, ":", color="C3", label="design law (τ, λ from the bias currents)")
ax1.set(xlabel="t (ms)", ylabel="I_w (nA)", title="sky130 weight cell: step up ×3 and back")
ax1.legend(fontsize=8)
ax2.plot(1e3 * resp.time_s, 100 * (law / resp.i_w_a - 1), "k-", label="fitted law")
ax2.plot(1e3 * resp.time_s, 100 * (resp.i_w_ideal_a / resp.i_w_a - 1), ":", color="C3", label="design law")
ax2.set(xlabel="t (ms)", ylabel="law / SPICE − 1 (%)", title="error of the law")
ax2.legend(fontsize=8)
for ax in (ax1, ax2):
    ax.grid(True, alpha=0.3)
fig.tight_layout()
law_rms = float(np.sqrt(np.mean((law / resp.i_w_a - 1) ** 2)))"""),
    ("md", """\
**What to look at.** Left: the SPICE weight current through the step up and back, the fitted law
dashed, the design law dotted. The dashed line should be on the SPICE curve through both transitions;
the distance of the dotted line is how far the circuit is from its drawing — what calibration corrects.
Right: the error of each law in %; the fitted law's should stay in a narrow band. In the printout compare the two rms errors: validation larger than the fit is normal, validation
many times larger would mean the law fits one transient, not the cell. λ_eff below the design λ is a
weaker decay than programmed; a non-zero asymmetry is the seed of the drift notebook 03 explains."""),
    ("md", """\
## 5. Mismatch: Monte Carlo and Pelgrom

`sky130` with `mismatch=True` gives every instance its own ΔV_T from the PDK's mismatch models.
`sample_mismatch` simulates `count` identical devices in one `.op` at a weak-inversion bias and
converts their currents to ΔV_T = −n·U_T·ln(I_k/I_geo); `fit_pelgrom` fits σ(ΔV_T) = A_VT/√(W·L)
through the origin.

Mismatch makes two dies of one learner train differently (in notebook 03 it dominates the error). The
cell samples each polarity at each of the plan's sizes (the n from section 2 converts
currents to ΔV_T), prints σ(ΔV_T) per size and the fitted A_VT, and plots σ against 1/√(W·L)."""),
    ("code", """\
mm = get_technology("sky130", corner="tt", mismatch=True, seed=12345)
samples = {
    pol: [sample_mismatch(mm, pol, w_m=w, l_m=l, count=plan.mismatch_count, slope_factor=sky_fit[pol].n, vgs_v=vgs,
                          simulator=sim) for w, l in plan.mismatch_sizes_m]
    for pol, vgs in (("n", 0.3), ("p", 0.6))
}
a_vt = {pol: fit_pelgrom(s) for pol, s in samples.items()}
for pol, s in samples.items():
    for smp in s:
        print(f"{pol}MOS W/L = {smp.w_m * 1e6:g}/{smp.l_m * 1e6:g} µm: σ(ΔV_T) = {1e3 * smp.sigma_vt_v:.2f} mV "
              f"({len(smp.dvt_v)} devices)")
    print(f"{pol}MOS A_VT = {1e9 * a_vt[pol]:.2f} mV·µm")

fig, ax = plt.subplots(figsize=(6, 4))
for k, (pol, s) in enumerate(samples.items()):
    x = np.array([1 / np.sqrt(smp.w_m * smp.l_m * 1e12) for smp in s])
    ax.plot(x, [1e3 * smp.sigma_vt_v for smp in s], "o", color=f"C{k}", label=f"{pol}MOS Monte Carlo")
    grid = np.linspace(0, 1.1 * x.max(), 10)
    ax.plot(grid, 1e9 * a_vt[pol] * grid, "--", color=f"C{k}", label=f"Pelgrom A_VT = {1e9 * a_vt[pol]:.2f} mV·µm")
ax.set(xlabel="1/√(W·L) (1/µm)", ylabel="σ(ΔV_T) (mV)", title="sky130 mismatch")
ax.grid(True, alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()"""),
    ("md", """\
**What to look at.** Pelgrom's law is a straight line through the origin; its slope is A_VT. The larger
device (left point of each colour) must show the smaller σ, and both points should lie near the dashed
line. Each σ comes from the printed number of devices N, so it carries a statistical error of roughly
1/√(2N) of itself: with the quick plan, A_VT is this notebook's least precise number."""),
    ("md", """\
## 6. The shipped default calibration

`load_default_calibration()` validates the packaged JSON (schema version, every field typed and in
range). Its provenance records the technology, corner, temperature, ngspice version, the hashes of
the netlists it was made from and the one command that made it (the full plan, not the quick one).

The cell prints the provenance, then a table of the shipped values beside this notebook's quick fits."""),
    ("code", """\
shipped = load_default_calibration()
prov = shipped.provenance
for key in ("technology", "corner", "temp_c", "ngspice_version", "command", "created", "package_version", "netlist_hashes", "notes"):
    print(f"{key:16s} {getattr(prov, key)}")
print()
rows = [("nMOS n", shipped.devices["n"].n, sky_fit["n"].n),
        ("nMOS V_T0 (V)", shipped.devices["n"].vt0_v, sky_fit["n"].vt0_v),
        ("multiplier gain", shipped.blocks.multiplier_gain, mult.gain),
        ("multiplier ν", shipped.blocks.multiplier_nonlinearity, mult.nonlinearity),
        ("cell τ error", shipped.blocks.tau_rel_error, cell.tau_s / cell.tau_ideal_s - 1),
        ("cell λ_eff", shipped.blocks.lam_eff, cell.lam_eff),
        ("A_VT n (mV·µm)", 1e9 * shipped.mismatch.a_vt_n_v_m, 1e9 * a_vt["n"]),
        ("A_VT p (mV·µm)", 1e9 * shipped.mismatch.a_vt_p_v_m, 1e9 * a_vt["p"])]
print(f"{'':18s} {'shipped':>10s} {'this quick fit':>15s}")
for name, a, b in rows:
    print(f"{name:18s} {a:10.4g} {b:15.4g}")"""),
    ("md", """\
**What to look at.** The provenance says which file every later result depends on: technology, corner,
temperature, ngspice version, the command to re-make it, and `netlist_hashes`, which change when a
generator's output changes (a stale calibration shows up as a hash mismatch). `notes` records what the
fit could not measure. In the table, device, multiplier and cell parameters should agree closely — the
weight-cell rows come from the same deterministic simulation of the same cell; A_VT differs most, for
the statistical reason of section 5.

## Checks on the data behind the figures

The last cell asserts the statements above, each with its tolerance in the code, and ends with
`all checks passed`."""),
    ("code", """\
# golden reference: the fit recovers the ekv card
assert abs(ekv_fit.n / card["n"] - 1) < 0.02, (ekv_fit.n, card["n"])
assert abs(ekv_fit.vt0_v - card["vt0_v"]) < 0.01
assert abs(ekv_fit.i_spec_sq_a / card["i_spec_sq_a"] - 1) < 0.05
# sky130 devices: plausible slope factors, small residuals in the window
assert 1.1 < sky_fit["n"].n < 1.7 and 1.1 < sky_fit["p"].n < 1.7, sky_fit
assert residual_rms["n"] < 0.03 and residual_rms["p"] < 0.10, residual_rms
# multiplier: the fitted model beats the ideal law on held-out points and is within 2 % rms
assert mult.rms_rel_error_validation < 0.02
assert mult.rms_rel_error_validation < mult.rms_rel_error_ideal_validation
assert abs(mult.gain - 1) < 0.08 and abs(mult.nonlinearity) < 0.05
# weight cell: τ and λ within 10 % / 5 % of the design, law within 2 % rms on held-out data
assert abs(cell.tau_s / cell.tau_ideal_s - 1) < 0.10 and abs(cell.lam_eff / cell_params.lam - 1) < 0.05
assert cell.rms_rel_error_validation < 0.02 and law_rms < 0.02, (cell, law_rms)
assert abs(cell.update_asymmetry) < 0.1
# mismatch: σ(ΔV_T) falls with area; A_VT in the few-mV·µm range of a 130 nm process
for pol, s in samples.items():
    sigma = [smp.sigma_vt_v for smp in sorted(s, key=lambda smp: smp.w_m * smp.l_m)]
    assert sigma[0] > sigma[-1], (pol, sigma)
    assert 1e-9 < a_vt[pol] < 10e-9, (pol, a_vt[pol])
# the shipped calibration is sky130 tt at 27 °C and agrees with this quick re-fit
assert (prov.technology, prov.corner, prov.temp_c) == ("sky130", "tt", 27.0)
assert prov.command.startswith("logdomain calibrate") and set(prov.netlist_hashes) >= {"nmos_iv", "multiplier", "weight_cell"}
assert abs(shipped.devices["n"].n / sky_fit["n"].n - 1) < 0.03
assert abs(shipped.blocks.multiplier_gain / mult.gain - 1) < 0.02
assert abs(shipped.blocks.lam_eff / cell.lam_eff - 1) < 0.02
assert abs(shipped.mismatch.a_vt_n_v_m / a_vt["n"] - 1) < 0.5
print("all checks passed")"""),
]

# -----------------------------------------------------------------------------------------------
NB03 = [
    ("md", """\
# 03 — Training: ideal vs analog SGDr on the diabetes data

The analog learner here is the behavioural model of the transistor-level learner *as built*
(`logdomain.learner_model`): each weight a pair W⁺, W⁻ of log-domain cells with their common mode,
the class-AB error split, the common-mode feedback, chopping and the frozen read-out; nominal block
gains fitted to SPICE runs of the learner's own blocks, and for every die its own mismatch (one
threshold offset per device, Pelgrom, at the learner's device sizes). `logdomain.compare.run_compare`
trains it next to ideal discrete SGDr on the same ordered stream and measures
`nmse_vs_ideal = mean((ŷ_analog − ŷ_ideal)²)/var(ŷ_ideal)` on held-out rows, over many dies.
Data: scikit-learn's diabetes set (442 patients, 10 features plus an intercept), in circuit units.

**The metric.** ŷ_ideal are the predictions of ideal SGDr, ŷ_analog those of one analog die, both on
the held-out rows. Dividing by the *variance* of the ideal predictions, not their mean square, makes a
constant shift of the predictions count: diabetes' predictions have a large mean beside their spread,
and a mean square would hide an offset. 0 % means the analog learner predicts what the ideal one does;
100 % means its departure is as large as the spread of the ideal predictions. `t/τ = η × updates` is
the training length in time constants of the weight cells. `ideal_gap` is the ideal learner's test MSE
relative to the ridge optimum's with the same λ, minus 1; `ideal_converged` says it is within ±1 %.

The first cell loads the shipped calibration, splits the data (a quarter held out) and builds the
learner model. "Circuit units": every column divided by its largest training |value|, so that inputs
and targets fit the converters' [−1, 1]; MSEs below are in those scaled units."""),
    ("code", SETUP + """

from calibration import load_default_calibration
from logdomain import plots
from logdomain.compare import CompareConfig, run_compare
from logdomain.estimators import AnalogSGDRegressor, SGDrRegressor
from logdomain.ideal import sgdr_discrete
from logdomain.learner_model import LearnerModel
from logdomain.learner_sim import sgdr_learner
from logdomain.metrics import mse, nmse_vs_ideal
from logdomain.tasks import diabetes, synthetic_regression

cal = load_default_calibration()
task = diabetes(test_fraction=0.25, seed=0)
model = LearnerModel.from_calibration(cal)
print(f"calibration: {cal.provenance.technology} {cal.provenance.corner} {cal.provenance.temp_c:g} °C "
      f"({cal.provenance.command})")
print(f"task: {task.name}, {len(task.y_train)} train / {len(task.y_test)} test rows, features {task.feature_names}")
print("nominal block gains fitted to SPICE:", {k: round(v, 4) for k, v in model.nominal.items()})"""),
    ("md", """\
**What to look at.** The provenance line names the calibration every number below depends on. The
nominal block gains are what the learner's blocks realise in SPICE relative to their drawing: 1 means
as drawn, so read each one's distance from 1 (`lam_offset` is additive, a change of the weight decay).
These are the "nominal block gains" of the error budget below, before any mismatch."""),
    ("md", """\
## 1. One run, scikit-learn style

`SGDrRegressor` (ideal discrete SGDr) and `AnalogSGDRegressor` (the learner model, 4 dies, median
weights) share scikit-learn's `fit`/`predict` contract.

This is the quickest way to use the toolkit: two estimators, the same η, λ and epochs, and a test MSE
for each on the held-out rows."""),
    ("code", """\
eta, lam, epochs = 0.05, 1e-3, 5
ideal_est = SGDrRegressor(eta=eta, lam=lam, epochs=epochs).fit(task.x_train, task.y_train)
analog_est = AnalogSGDRegressor(eta=eta, lam=lam, epochs=epochs, calibration=cal, bits=8, dies=4).fit(task.x_train, task.y_train)
for name, est in (("ideal", ideal_est), ("analog", analog_est)):
    print(f"{name:6s} test MSE {mse(task.y_test, est.predict(task.x_test)):.5f} (scaled units²)")"""),
    ("md", """\
**What to look at.** The two test MSEs against the targets: the task error. A higher analog one says
the circuit costs accuracy on this task, but not why, nor how much it varies from die to die (four
dies, median weights). The comparison below answers both."""),
    ("md", """\
## 2. The comparison

32 dies, 5 epochs (t/τ = η·updates ≈ 83), 8-bit inputs/targets/read-out; sweeps over bits and η × λ;
the error budget switches each non-ideality on alone — the fitted nominal gains, the mismatch of each
device group, the resolution — and closes with their sum, the interaction and all together.

`run_compare` trains the ideal learner once and the analog learner once per die on the same ordered
stream, then repeats the analog runs for every budget row and every point of the sweeps (most of the
notebook's run time). It prints three lines: the headline, the convergence check and the verdict."""),
    ("code", """\
config = CompareConfig(eta=eta, lam=lam, epochs=epochs, bits=8, dies=32, seed=0,
                       bits_grid=tuple(range(4, 13)), eta_grid=(0.01, 0.02, 0.05, 0.1, 0.2),
                       lam_grid=(0.0, 1e-3, 1e-2, 1e-1), curve_points=50)
result = run_compare(task, model, config)
s = result.summary
print(f"nmse_vs_ideal median {100 * s['nmse_vs_ideal']:.3g} % (10–90 % {100 * s['nmse_vs_ideal_dies']['p10']:.3g}–"
      f"{100 * s['nmse_vs_ideal_dies']['p90']:.3g} %), t/τ = {s['t_over_tau']:.3g}")
print(f"ideal gap to the ridge optimum {100 * s['ideal_gap']:+.3g} %, converged: {s['ideal_converged']}")
print("verdict:", s["verdict"])"""),
    ("md", """\
**What to look at.** First line: the median nmse_vs_ideal over the dies and the 10–90 % range — a
wide range means the result depends strongly on which die one gets, and the median alone undersells
the worst dies. Second line: whether the ideal learner converged. When it prints `False`, the ideal
learner is still short of the ridge optimum after this many updates, so nmse_vs_ideal compares two
learners that are both still moving, and the verdict (third line) refuses to compare with the
published reference and says what to change. The run may also warn on stderr (`AnalogRangeWarning`)
that a weight's pair reached its floor: the run completes, but that weight cannot grow further — the
message says which limit and what to scale.

The learning curves show test MSE against updates."""),
    ("code", """\
fig = plots.learning_curves(result)
fig"""),
    ("md", """\
**What to look at.** Black: ideal SGDr; orange: the analog median with the band of 10–90 % of dies.
Both should fall steeply at first, then flatten. A good analog learner follows the black curve down
and stays on it with a narrow band. Here look at the right end: how far the orange line sits above the
black one and how wide the band is. An orange curve that flattens above the black or rises again late
in training is drift, not slow learning. These are task errors against the targets; nmse_vs_ideal
compares predictions with each other, so the two can rank runs differently.

Next, the error budget as a figure and as a table."""),
    ("code", """\
fig = plots.error_budget(result)
display(fig)
for row in result.budget:
    med = "" if row.get("median") is None else f"{100 * row['median']:8.3g} %"
    print(f"{row['name']:38s} {med:>10s}   excess {100 * row['excess']:+.3g}" if row.get("excess") is not None else f"{row['name']:38s} {med:>10s}")"""),
    ("md", """\
**What to look at.** The first row is the baseline: the same learner with ideal blocks, which differs
from discrete SGDr only by its continuous-time integration; it should be tiny beside everything else.
Each following row switches on one non-ideality on the same dies; `excess` is its cost in percentage
points above the baseline. The longest bar is the dominant single cause. Then the sum of the single
rows, the interaction (all together minus baseline minus sum) and `all`, which is the headline. If the
interaction is comparable to the largest single row, the non-idealities reinforce each other and no
single fix closes the gap."""),
    ("md", """\
## 3. Why diabetes is hard for an analog learner

A gain difference between the two halves of a weight turns every update into a slightly biased one,
a drift ∝ Δg·E|e·x| that does not vanish at the optimum (the asymmetric-update floor of analog SGD,
Wu et al. 2024). The learner balances that drift against the curvature of the loss, the eigenvalues
of E[x xᵀ] + λ: where the curvature is small the drift moves the weights far. Diabetes' inputs are
nearly collinear (s1, s2, s4), so its smallest eigenvalue is tiny; a well-conditioned synthetic task
of the same size shows the same learner within a small fraction of that error.

The cell computes the eigenvalues of E[x xᵀ] on diabetes and their ratio (the condition number), then
builds a synthetic task with as many features and rows, trains the ideal and the analog learner (8
bits, 32 dies) on it, and prints both tasks' median nmse_vs_ideal side by side."""),
    ("code", """\
H = task.x_train.T @ task.x_train / len(task.y_train)
eig = np.linalg.eigvalsh(H)
print("eigenvalues of E[x xᵀ]:", np.array2string(eig, precision=4))
print(f"condition number {eig[-1] / eig[0]:.3g}")
well = synthetic_regression(dim=task.n_features, samples=len(task.y_train) + len(task.y_test), noise_std=0.1, seed=0,
                            test_fraction=len(task.y_test) / (len(task.y_train) + len(task.y_test)))
eig_well = np.linalg.eigvalsh(well.x_train.T @ well.x_train / len(well.y_train))
w_well = sgdr_discrete(well.x_train, well.y_train, eta, lam, epochs=epochs)
run_well = sgdr_learner(well.x_train, well.y_train, model.replace(bits=8), eta, lam, epochs=epochs, dies=32)
pred = run_well.predict(well.x_test)
nmse_well = nmse_vs_ideal(pred, np.broadcast_to(well.x_test @ w_well, pred.shape))
print(f"well-conditioned task (condition number {eig_well[-1] / eig_well[0]:.3g}): nmse_vs_ideal median "
      f"{100 * np.median(nmse_well):.3g} % against {100 * s['nmse_vs_ideal']:.3g} % on diabetes")"""),
    ("md", """\
**What to look at.** The smallest eigenvalues: the flat directions along which a biased update moves
the weights far. Compare the two condition numbers, then the two nmse_vs_ideal values on the last line:
the same circuit and settings on a task without flat directions. A much lower error there says the
diabetes figure is a property of the task together with the circuit, not of the circuit alone.

## 4. Resolution, and η × λ

The last two figures come from the sweeps `run_compare` already ran: nmse_vs_ideal against the number
of bits of inputs, targets and weight read-out, and over the grid of programmed η and λ."""),
    ("code", """\
fig = plots.bits_sweep(result)
fig"""),
    ("md", """\
**What to look at.** With few bits quantisation dominates and nmse_vs_ideal is high; it should fall as
bits are added, then flatten once another non-ideality (here mismatch) dominates. Where the curve
flattens is the resolution beyond which more bits buy nothing; compare it with the `resolution` row of
the budget, which is the cost of the chosen bits alone."""),
    ("code", """\
fig = plots.eta_lam_heatmap(result)
fig"""),
    ("md", """\
**What to look at.** Each cell is the median nmse_vs_ideal for one (η, λ), same epochs. Larger η means
a longer t/τ for the same data; larger λ adds curvature λ to every direction of the loss, which should
limit the drift along the flat directions of section 3 — at the price of a more strongly regularised
solution, which the task error, not this map, judges. Look for the region of low error and whether the
chosen point (η and λ above) lies in it.

## Checks on the data behind the figures

The last cell asserts what the text relies on: both learners learn; the budget closes (baseline + sum
+ interaction = all, and all is the headline); the baseline is far below the headline; diabetes is far
worse conditioned than the synthetic task and the same learner does much better on the latter; and the
verdict follows the convergence check. It ends with `all checks passed`."""),
    ("code", """\
c = result.curves
# both learners learn: their test MSE falls well below where it started
assert c["ideal_mse"][-1] < 0.5 * c["ideal_mse"][0] and np.median(c["analog_mse"][-1]) < 0.5 * np.median(c["analog_mse"][0])
# the budget closes: baseline + each alone + interaction = all, and "all" is the headline run
rows = {row["name"]: row for row in result.budget}
base, total = rows["continuous time (no non-ideality)"]["median"], rows["sum of the rows above (each alone)"]["excess"]
assert np.isclose(base + total + rows["interaction (all − baseline − sum)"]["excess"], rows["all"]["median"])
assert np.isclose(rows["all"]["median"], s["nmse_vs_ideal"])
# without any non-ideality the learner is the continuous-time flow: far below the headline
assert base < 0.01 * s["nmse_vs_ideal"]
# diabetes is ill-conditioned, and the same learner does much better on a well-conditioned task
assert eig[-1] / eig[0] > 100 * eig_well[-1] / eig_well[0]
assert np.median(nmse_well) < 0.2 * s["nmse_vs_ideal"]
# the verdict follows the convergence check
assert s["ideal_converged"] == (abs(s["ideal_gap"]) <= 0.01)
assert ("not converged" in s["verdict"]) == (not s["ideal_converged"])
print("all checks passed")"""),
]

# -----------------------------------------------------------------------------------------------
NB04 = [
    ("md", """\
# 04 — SPICE learner vs its behavioural model

The same stream goes through

* the **transistor-level learner** of the shipped calibration (`cal.learner.design`): pseudo-
  differential log-domain cells, class-AB error split, common-mode feedback, chopping, mirrored
  inputs, read out through its own prediction path with the weights frozen — one ngspice transient
  (`logdomain.spice_learner.compare_spice_learner`);
* its **behavioural model** from the same calibration (`logdomain.learner_model`), and
* the **ideal continuous SGDr** (`logdomain.ideal.sgdr_continuous_zoh`, exact zero-order hold).

A dim-1 stream at η = 0.1 over 200 samples trains to t/τ = 20 in a few seconds; then two mismatch
dies of the PDK (each its own seed) beside the model's own die distribution.

**Why this notebook.** Notebook 03's numbers come from the behavioural model, because only the model is
fast enough for thousands of dies. They are worth something only if the model behaves like the circuit
it stands for. Here both see the same stream, and the ideal learner is the common yardstick. Two
numbers carry the argument: `nmse_vs_ideal` (defined in notebook 03: mean squared departure of the
predictions from the ideal learner's, over the variance of the ideal predictions, on held-out rows) and
`spice_vs_behavioural_nmse`, the same ratio with SPICE's predictions in the place of the ideal ones —
how far the model lands from the circuit.

The first cell loads the shipped calibration, builds the behavioural model from it and the circuit's
parameters from the design recorded in the same file (reduced to one input), makes two sky130
technologies — nominal, and with the PDK's per-instance mismatch — and a one-input synthetic task (held-out rows a
quarter as many as the training rows). With η = 0.1 and 200 samples, t/τ = η × samples = 20."""),
    ("code", SETUP + """

from calibration import load_default_calibration
from logdomain.fidelity import compare_against_spice
from logdomain.learner_model import LearnerModel
from logdomain.learner_sim import sgdr_learner
from logdomain.spice_learner import learner_task
from netlists import SimParams, get_simulator, get_technology
from netlists.spice_learner_circuit import LearnerParams

cal = load_default_calibration()
model = LearnerModel.from_calibration(cal)
params = LearnerParams(**cal.learner.design).replace(dim=1)
sky, sky_mm = get_technology("sky130"), get_technology("sky130", mismatch=True)
sim = get_simulator()
eta, lam, samples = 0.1, 1e-3, 200
task = learner_task(1, samples, seed=5)"""),
    ("md", """\
## 1. One run in SPICE, the model and the ideal flow

`compare_against_spice` runs the nominal circuit as one ngspice transient over the whole stream (the
weights frozen for the read-out of the held-out rows), the behavioural model and the ideal flow on the
same stream; then the two mismatch dies in SPICE, spread over two worker processes, and the model on
its own dies, first as many as SPICE and then many more for a distribution. `SimParams` sets the relative
tolerance and a generous time limit for this long transient. It prints five lines."""),
    ("code", """\
r = compare_against_spice(sky, task, model, params, samples=samples, eta=eta, lam=lam, dies=2, seed=0,
                          mismatch_tech=sky_mm, sim=SimParams(reltol=1e-4, timeout_s=1800), simulator=sim, workers=2, quiet=True)
d = r.as_dict()
print(f"t/τ = {d['t_over_tau']:g}; nominal: spice_vs_behavioural_nmse {100 * d['spice_vs_behavioural_nmse']:.3g} %, "
      f"nmse_vs_ideal SPICE {100 * d['nmse_vs_ideal']['spice']:.3g} %, model {100 * d['nmse_vs_ideal']['behavioural']:.3g} %")
print("weights:", d["weights"])
print(f"every device weak and saturated: {d['regions_ok']}; SPICE {d['spice_runtime_s']:.1f} s, model {d['behavioural_runtime_s'] * 1e3:.2f} ms")
print("SPICE dies nmse_vs_ideal:", np.round(d["spice_dies"], 5), " model dies:", np.round(d["behavioural_dies"], 5))
print(f"model over {d['behavioural_many']['dies']} dies: median {100 * d['behavioural_many']['median']:.3g} %, "
      f"p90 {100 * d['behavioural_many']['p90']:.3g} %")"""),
    ("md", """\
**What to look at.** Line 1, on the nominal die: `spice_vs_behavioural_nmse` is the model's error as a
stand-in for the circuit; the two `nmse_vs_ideal` values say how far each lands from the ideal learner.
A good model has a small `spice_vs_behavioural_nmse` and an `nmse_vs_ideal` of the same order as
SPICE's — not necessarily equal: on a nominal die both are small, and small differences in small
numbers are large in ratio. Line 2: the final weight of each; they should agree to a few hundredths
(the checks hold the model within 0.05 of SPICE). Line 3: every device in weak inversion and saturated
throughout — if not, the circuit left the regime its law holds in and the comparison means little —
and the runtimes, which are the reason the model exists. Lines 4–5: nmse_vs_ideal per mismatch die
(fractions, not %) for SPICE and the model, and the model's median and p90 over many dies."""),
    ("code", """\
spice = r.spice
t = np.arange(samples + 1) * eta
x, y = task.x_train[:samples], task.y_train[:samples]
beh = sgdr_learner(x, y, model.replace(mismatch_groups=()), eta, lam, record_every=1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(t, spice.state_history[:, 0], lw=2, label="SPICE state s_w(W⁺ − W⁻)/I_u")
ax1.plot(t, beh.history[:, 0, 0], "--", lw=1.5, label="behavioural model (read-out)")
ax1.plot(t, spice.ideal_history[:, 0], "k:", lw=1.5, label="ideal ZOH flow")
ax1.set(xlabel="t/τ", ylabel="w", title="one weight, nominal die (sky130 tt)")
ax1.legend(fontsize=8)
S = spice.run.common_mode_a[:, 0] * 1e12
ax2.plot(t, S, lw=2)
ax2.axhline(params.i_cm_a * 1e12, color="k", ls="--", lw=1, label="set point S₀")
ax2.set(xlabel="t/τ", ylabel="W⁺ + W⁻ (pA)", title="common mode held by its feedback")
ax2.legend(fontsize=8)
for ax in (ax1, ax2):
    ax.grid(True, alpha=0.3)
fig.tight_layout()"""),
    ("md", """\
The cell above re-runs the model on the nominal die recording every update, and plots the weight's
trajectory beside SPICE's state and the ideal zero-order-hold flow (left), and SPICE's common mode
W⁺ + W⁻ (right).

**What to look at.** Left: time in units of τ; the three curves should start together, move together
while the weight learns, and settle to nearly the same value. A gap that opens early and stays is a
gain error (a block realising a different gain in the circuit than in the model); a gap that grows
steadily is a drift (leak, asymmetry). Right: the common mode of the weight's two halves against its
set point S₀. The common-mode feedback should hold it near the dashed line; ripple is normal as the
two halves move, but a steady walk away means the feedback does not hold, and then the effective weight
gain changes with time. The checks require the final common mode within 25 % of S₀.

## 2. Mismatch dies"""),
    ("code", """\
fig, ax = plt.subplots(figsize=(6.4, 3.8))
k = np.arange(len(d["spice_dies"]))
ax.bar(k - 0.2, 100 * np.asarray(d["spice_dies"]), 0.4, label="SPICE (PDK mismatch die)")
ax.bar(k + 0.2, 100 * np.asarray(d["behavioural_dies"]), 0.4, label="behavioural model (its own die)")
many = d["behavioural_many"]
ax.axhline(100 * many["median"], color="k", ls="--", lw=1, label=f"model median over {many['dies']} dies")
ax.axhline(100 * many["p90"], color="k", ls=":", lw=1, label="model p90")
ax.set(xticks=k, xticklabels=[f"die {i + 1}" for i in k], ylabel="nmse_vs_ideal (%)",
       title=f"mismatch dies at t/τ = {d['t_over_tau']:g}")
ax.legend(fontsize=8)
ax.grid(True, axis="y", alpha=0.3)
fig.tight_layout()"""),
    ("md", """\
**What to look at.** One pair of bars per die: SPICE on a die drawn from the PDK's mismatch models, the
model on a die drawn from its own Pelgrom coefficients. The two are different random samples, so a pair
need not match bar for bar; what should match is the spread. The dashed and dotted lines are the
model's median and p90 over many dies: the SPICE bars should fall in the range those lines describe.
A SPICE die far above the model's p90 would mean the model underestimates mismatch (or misses a
mechanism); both below the median is unremarkable with two dies. Two dies are an illustration, not a
measurement: the README's fidelity figures use more dies and more inputs (`logdomain compare --against
spice --mismatch --dies N`).

## Checks on the data behind the figures

The last cell asserts: training reached t/τ ≥ 20; on the nominal die the model is within 1 % of SPICE
and SPICE within 1 % of the ideal learner, with every device in its region; on every mismatch die the
regions hold and no weight has the wrong sign; the common mode ends near its set point; and the
model's final weight is within 0.05 of SPICE's. It ends with `all checks passed`."""),
    ("code", """\
assert d["t_over_tau"] >= 20
assert d["spice_vs_behavioural_nmse"] < 0.01 and d["nmse_vs_ideal"]["spice"] < 0.01 and d["regions_ok"]
assert all(x["regions_ok"] and not x["wrong_signs"] for x in d["spice_die_details"])
assert len(d["spice_dies"]) == 2 and len(d["behavioural_dies"]) == 2
# the common mode sits near its set point at the end (within 25 %), not drifting away
assert abs(S[-1] / (params.i_cm_a * 1e12) - 1) < 0.25
assert np.max(np.abs(beh.history[-1, 0] - spice.weights)) < 0.05
print("all checks passed")"""),
]

# -----------------------------------------------------------------------------------------------
NB05 = [
    ("md", """\
# 05 — Energy-based analog blocks and equilibrium propagation (ff-EBM)

An energy-based block is a resistive network: inputs as voltage-source pairs at ±u, weights as
conductances, a diode-connected sky130 nfet at every output, nudging current sources at the outputs.
Its operating point minimises the circuit's co-content E, so with ``∂E/∂g = ½ΔV²`` and
``∂E/∂u = −i(vxp) + i(vxn)`` two nudged operating points give the gradient of a loss (equilibrium
propagation, EP). This notebook

1. generates a small block and checks EP against finite differences, both through SPICE,
2. compares the behavioural block (Newton on KCL with the fitted diode law) with SPICE,
3. trains a feedforward-tied EBM on scikit-learn's wine with EP and with exact gradients,

and ends with assertions on the numbers behind the figures.

## 1. EP vs finite differences through SPICE

`check_circuit` solves the free state and the ±β nudged states of a random block through sweep workers
that keep the circuit loaded (`alter` / `alterparam`), and perturbs every conductance and input for the
central finite differences. Look at the points on the diagonal: EP and the exact gradient agree."""),
    ("code", SETUP + """
from netlists import get_technology
from netlists.sweep import sweep_executor
from logdomain.ep.gradcheck import check_circuit, random_circuit

tech = get_technology("sky130")
pool = sweep_executor(2)
params, weights, u, y = random_circuit(1)
check = check_circuit(tech, params, weights, u, y, executor=pool)
print({k: check[k] for k in ("n_in", "n_out", "n_weights", "cosine_weights", "cosine_inputs", "magnitude_rel_error")})

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4))
for ax, ep, fd, what in ((ax1, check["ep_weights"], check["fd_weights"], "dL/dg (1/S)"),
                         (ax2, np.ravel(check["ep_inputs"]), np.ravel(check["fd_inputs"]), "dL/du (1/V)")):
    ax.plot(fd, ep, "o")
    lim = [min(fd), max(fd)]
    ax.plot(lim, lim, "k--", lw=1)
    ax.set(xlabel=f"finite differences, {what}", ylabel=f"EP, {what}")
    ax.grid(alpha=0.3)
fig.tight_layout()"""),
    ("md", """\
## 2. Behavioural block vs SPICE

The diode law is fitted on a `.dc` sweep of the same device (`calibration.diode_fit`); the behavioural
block solves KCL by Newton for a whole batch at once. The plot shows SPICE and behavioural outputs for
40 random inputs; the printed figure is the largest difference relative to the largest output."""),
    ("code", """\
from calibration.diode_fit import calibrate_diode
from logdomain.ep.behavioural import BehaviouralEbmBlock
from logdomain.ep.spice_block import SpiceEbmBlock

law = calibrate_diode(tech, w_m=params.diode_w_m, l_m=params.diode_l_m)
print(f"diode law: rms relative error {law.rms_rel_error:.4f}, max {law.max_rel_error:.4f}")
U = np.random.default_rng(0).uniform(-0.4, 0.4, (40, params.n_in))
v_spice = SpiceEbmBlock(tech, params, weights, executor=pool).solve(U).v
v_model = BehaviouralEbmBlock(params, law, weights).solve(U)
rel = np.max(np.abs(v_model - v_spice)) / np.max(np.abs(v_spice))
print(f"max |v_behavioural - v_spice| / max |v_spice| = {rel:.2e}")
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.plot(v_spice.ravel(), v_model.ravel(), ".")
ax.set(xlabel="SPICE output (V)", ylabel="behavioural output (V)")
ax.grid(alpha=0.3)
fig.tight_layout()"""),
    ("md", """\
## 3. ff-EBM on wine: EP vs exact gradients

Digital layer → 0.35 V·tanh → energy-based block → readout; the EP run and the baseline (implicit
differentiation of the behavioural block) start from the same parameters and see the same minibatches.
The two learning curves lie on top of each other."""),
    ("code", """\
from logdomain.ep.ffebm import FfEbmConfig, load_dataset
from logdomain.ep.run import compare_training

data = load_dataset("wine", seed=0)
result = compare_training(data, FfEbmConfig(n_blocks=1, hidden=8, block_out=6, epochs=25), tech=tech)
print(f"test accuracy: EP {result['test_accuracy']:.3f}, exact {result['baseline_test_accuracy']:.3f}")
fig, ax = plt.subplots(figsize=(6, 4))
for name, style in (("baseline", "-"), ("ep", "--")):
    c = result["curves"][name]
    ax.semilogy(c["epoch"], c["train_loss"], style, label=name)
ax.set(xlabel="epoch", ylabel="training cross-entropy")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()"""),
    ("md", """\
The last cell asserts the acceptance figures on the numbers above (EP within 1 % and cosine ≥ 0.99 of
finite differences, behavioural within 1 % of SPICE, EP accuracy within 2 points of the baseline) and
ends with `all checks passed`."""),
    ("code", """\
pool.shutdown()
assert check["cosine_weights"] >= 0.99 and check["cosine_inputs"] >= 0.99 and check["magnitude_rel_error"] < 0.01
assert rel <= 0.01
assert abs(result["test_accuracy"] - result["baseline_test_accuracy"]) <= 0.02
assert result["baseline_test_accuracy"] > 0.9
print("all checks passed")"""),
]

NOTEBOOKS = {
    "01_netlists.ipynb": NB01,
    "02_calibration.ipynb": NB02,
    "03_training.ipynb": NB03,
    "04_spice_vs_behavioural.ipynb": NB04,
    "05_ep.ipynb": NB05,
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook with stable cell ids (``<stem>-<index>``), no outputs, python3 kernel."""
    stem = name.split("_", 1)[0]
    nb_cells = []
    for index, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        cell["id"] = f"nb{stem}-{index:02d}"
        nb_cells.append(cell)
    nb = new_notebook(cells=nb_cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    return nbformat.writes(build(name, NOTEBOOKS[name])) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a notebook differs from its source here")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: notebooks/)")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS:
        text, path = render(name), args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale notebooks (run python notebooks/_build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
