"""``--temp-c`` of ``train --model analog`` and ``compare``: the behavioural model at an operating temperature.

The model's λ offset follows the law fitted to the working cell's λ_o(T) (:meth:`logdomain.learner_model.
LearnerModel.at_temperature`, derived in :mod:`logdomain.leakage_shift`); the default is the calibration's
temperature. A temperature outside the range over which the calibration fitted that law, or one whose leakage
pushes the λ offset outside the model's range, is bad input (exit 2, naming ``--temp-c``).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

__all__ = ["add_temperature_option", "model_at_temperature"]

#: the widest range --temp-c parses, °C (LearnerParams' and the calibration schema's); the calibration narrows it
TEMP_RANGE_C = (-55.0, 150.0)


def _temp(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of °C, got {text!r}") from None
    lo, hi = TEMP_RANGE_C
    if not (math.isfinite(value) and lo <= value <= hi):
        raise argparse.ArgumentTypeError(f"must be in [{lo:g}, {hi:g}] °C, got {text!r}")
    return value


def add_temperature_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--temp-c", type=_temp, default=None, metavar="X",
                        help="operating temperature of the analog learner, °C: its λ offset follows the law fitted to "
                             "the working cell's λ offset over temperature in the calibration (within that fit's valid "
                             "range; default: the calibration's temperature); with compare --against spice the SPICE learner runs "
                             "at that temperature too")  # fmt: skip


def model_at_temperature(model, temp_c: float | None) -> tuple[Any, dict[str, Any]]:
    """``model`` at ``temp_c`` (None: the calibration's) and the JSON ``temperature`` entry:
    ``temp_c``, ``temp_cal_c`` (°C), ``lam_offset`` (used), ``lam_offset_cal`` (fitted at T_cal;
    cells' λ units), ``i_leak_a``/``i_a_a`` at T (A; null without leakage data) and ``leakage_model``."""
    from ..errors import UsageError

    shift = model.leakage
    t_cal = shift.temp_cal_c if shift is not None else model.temp_c
    t = t_cal if temp_c is None else float(temp_c)
    try:
        at = model.at_temperature(t)
    except ValueError as exc:
        text = str(exc)
        raise UsageError("--temp-c" + text[len("temp_c"):] if text.startswith("temp_c") else f"--temp-c: {text}") from None
    if shift is None:
        note = ("none: the calibration has no law of the working cell's λ offset over temperature (leakage.cell.law), "
                "so the λ offset is the one fitted at its temperature and the model runs there only")  # fmt: skip
    else:
        note = (f"λ_o(T) = λ_o(T_cal) − [I_j(T) − I_j(T_cal)]/I_A(T), I_j Arrhenius (I_ref {shift.i_ref_a:.3g} A, "
                f"E_a {shift.e_a_ev:.3g} eV) fitted to the working cell's λ_o fitted by the learner's cell benches over "
                f"{shift.temp_min_c:g}…{shift.temp_max_c:g} °C (logdomain.leakage_shift); validation: {shift.validation}")  # fmt: skip
    info = {"temp_c": t, "temp_cal_c": t_cal, "lam_offset": at.nominal["lam_offset"],
            "lam_offset_cal": model.nominal["lam_offset"],
            "i_leak_a": shift.i_leak_a(t) if shift is not None else None,
            "i_a_a": shift.i_a_a(t) if shift is not None else None, "leakage_model": note}  # fmt: skip
    return at, info
