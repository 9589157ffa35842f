"""calibration — fit behavioural models of devices and blocks from SPICE, with provenance.

Imports :mod:`netlists` (never :mod:`logdomain`): data flows netlists → calibration → logdomain.
"""

from .schema import (
    SCHEMA_VERSION,
    BlockFit,
    Calibration,
    CalibrationError,
    DeviceFit,
    LeakageFit,
    LearnerFit,
    MismatchFit,
    Provenance,
    default_calibration_path,
    load_calibration,
    load_default_calibration,
)

__all__ = [
    "SCHEMA_VERSION",
    "BlockFit",
    "Calibration",
    "CalibrationError",
    "DeviceFit",
    "LeakageFit",
    "LearnerFit",
    "MismatchFit",
    "Provenance",
    "default_calibration_path",
    "load_calibration",
    "load_default_calibration",
]
