"""The learner over sky130 corners × temperatures and supplies: regions, nmse_vs_ideal, leakage,
retention, noise and energy per update, each cell from the CLI command named beside it.

Runs (through the installed CLI, so every figure is what a user's command prints):

* ``logdomain simulate learner --tech sky130 --corner C --temp-c T --design D --t-hold-s H --dim 4 --json``
  (400 samples, t/τ = 20; H = 20 ms for ``default``, 1 ms for ``wide-temperature``, the hold time its bias
  currents are set for) for C in tt/ss/ff/sf/fs and T in −20/27/85 °C;
* ``logdomain simulate retention … --design D --json`` and ``logdomain simulate noise … --design D --json``
  at the same points (cheap);
* ``--vdd-v 1.62`` and ``--vdd-v 1.98`` (±10 %) on the learner at ``--supply-points`` (default tt 27 °C).

Prints one JSON object per run on stdout (``kind``, ``corner``, ``temp_c``, ``vdd_v`` and the command's
own keys), then a Markdown table on stderr; ``--out F.json`` keeps every row.

Usage: ``python benchmarks/study_temperature.py [--design wide-temperature] [--corners tt ss …]
[--temps -20 27 85] [--supply-points tt:27 …] [--no-learner] [--no-cheap] [--workers 2] [--out F.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netlists.learner_designs import DESIGN_T_HOLD_S  # noqa: E402

CLI = [sys.executable, "-m", "logdomain.cli"]
LEARNER_KEYS = ("nmse_vs_ideal", "weight_nmse", "regions_ok", "wrong_signs", "weights", "ideal_weights", "power_w",
                "energy_per_update_j", "area_per_weight_um2", "t_hold_s", "vdd_v", "design", "t_over_tau",
                "runtime_s", "common_mode_end_a")  # fmt: skip
RETENTION_KEYS = ("i_leak_a", "retention_s", "lam_offset", "i_a_a", "i_w_a")
NOISE_KEYS = ("noise_rel", "sigma_i_a", "i_drive_a")


def command(kind: str, corner: str, temp_c: float, design: str, vdd_v: float | None = None) -> list[str]:
    args = ["simulate", kind, "--tech", "sky130", "--corner", corner, "--temp-c", f"{temp_c:g}", "--design", design,
            "--t-hold-s", f"{DESIGN_T_HOLD_S[design]:g}", "--json"]
    if kind == "learner":
        args += ["--dim", "4"]
    if vdd_v is not None:
        args += ["--vdd-v", f"{vdd_v:g}"]
    return args


def run(kind: str, corner: str, temp_c: float, design: str, vdd_v: float | None = None) -> dict:
    args = command(kind, corner, temp_c, design, vdd_v)
    t0 = time.perf_counter()
    proc = subprocess.run(CLI + args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    row: dict = {"kind": kind, "corner": corner, "temp_c": temp_c, "vdd_v": vdd_v or 1.8, "command": "logdomain " + " ".join(args),
                 "exit": proc.returncode, "wall_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
    if proc.returncode != 0:
        row["error"] = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        return row
    out = json.loads(proc.stdout)
    keys = {"learner": LEARNER_KEYS, "retention": RETENTION_KEYS, "noise": NOISE_KEYS}[kind]
    row.update({k: out.get(k) for k in keys})
    if kind == "learner":
        row["violations"] = [v[:300] for v in out.get("region_violations", [])][:3]
    return row


def table(rows: list[dict]) -> str:
    by = {(r["kind"], r["corner"], r["temp_c"], r["vdd_v"]): r for r in rows}
    lines = ["| corner, °C | nmse_vs_ideal | regions | energy / update | leakage into V_C | retention | λ offset | noise_rel |",
             "|---|---|---|---|---|---|---|---|"]
    for (kind, corner, temp, vdd), r in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][3])):
        if kind != "learner" or vdd != 1.8:
            continue
        ret, noi = by.get(("retention", corner, temp, 1.8), {}), by.get(("noise", corner, temp, 1.8), {})
        if "error" in r:
            lines.append(f"| {corner} {temp:g} | error: {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {corner} {temp:g} | {100 * r['nmse_vs_ideal']:.3g} % | "
            f"{'OK' if r['regions_ok'] else 'not OK'} | {1e12 * r['energy_per_update_j']:.3g} pJ | "
            f"{_fmt(ret.get('i_leak_a'), 'A')} | {_fmt(ret.get('retention_s'), 's')} | {_num(ret.get('lam_offset'))} | "
            f"{_pct(noi.get('noise_rel'))} |")  # fmt: skip
    for r in rows:
        if r["kind"] == "learner" and r["vdd_v"] != 1.8:
            val = "error: " + r["error"] if "error" in r else f"{100 * r['nmse_vs_ideal']:.3g} %, regions {'OK' if r['regions_ok'] else 'not OK'}"
            lines.append(f"| {r['corner']} {r['temp_c']:g}, V_DD {r['vdd_v']:g} V | {val} | | | | | | |")
    return "\n".join(lines)


def _fmt(v, unit: str) -> str:
    if v is None:
        return "—"
    for scale, prefix in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")):
        if abs(v) < 1000 * scale:
            return f"{v / scale:.3g} {prefix}{unit}"
    return f"{v:.3g} {unit}"


def _num(v) -> str:
    return "—" if v is None else f"{v:.2g}"


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.3g} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", default="wide-temperature", choices=["default", "wide-temperature"])
    ap.add_argument("--corners", nargs="*", default=["tt", "ss", "ff", "sf", "fs"])
    ap.add_argument("--temps", nargs="*", type=float, default=[-20.0, 27.0, 85.0])
    ap.add_argument("--supply-points", nargs="*", default=["tt:27"], help="corner:temp points for the ±10 %% supply runs")
    ap.add_argument("--no-cheap", action="store_true", help="skip the retention and noise runs")
    ap.add_argument("--no-learner", action="store_true", help="skip the learner runs (retention and noise only)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    jobs = [] if a.no_learner else [("learner", c, t, None) for t in a.temps for c in a.corners]
    for point in a.supply_points:
        corner, temp = point.split(":")
        jobs += [("learner", corner, float(temp), v) for v in (1.62, 1.98)]
    if not a.no_cheap:
        jobs += [(kind, c, t, None) for kind in ("retention", "noise") for t in a.temps for c in a.corners]
    rows: list[dict] = []
    with ThreadPoolExecutor(max_workers=a.workers) as pool:
        for row in pool.map(lambda j: run(j[0], j[1], j[2], a.design, j[3]), jobs):
            rows.append(row)
            print(json.dumps(row), flush=True)
            if a.out:
                Path(a.out).write_text(json.dumps({"design": a.design, "rows": rows}, indent=1))
    print(table(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
