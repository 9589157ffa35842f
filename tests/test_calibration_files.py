"""Calibration files the loader must refuse, and the schema's agreement with the behavioural model.

Agreement: every calibration the schema accepts maps onto a :class:`~logdomain.learner_model.LearnerModel`
(``from_calibration`` raises nothing), checked at both ends of every fitted learner gain's range;
values just past an end are refused by the schema. The primitive blocks' fields (``blocks``:
the stand-alone multiplier and weight cell) are checked at their range ends by the schema alone.
"""

from __future__ import annotations

import json
import math
import os
import stat

import pytest

from calibration.schema import (_OPEN_ENDS, _RANGES, LEARNER_NOMINAL_RANGES, MAX_FILE_BYTES, Calibration,
                                CalibrationError, default_calibration_path, load_calibration)
from logdomain.learner_model import NOMINAL_FIELDS, LearnerModel

# -- agreement of the schema's ranges with the model's checks -------------------------------------


def _good() -> dict:
    return json.loads(default_calibration_path().read_text())


def _block_edges():
    """(field, value, accepted by the schema) at and just past each end of each BlockFit range."""
    for name, (lo, hi) in _RANGES["BlockFit"].items():
        lo_open, hi_open = _OPEN_ENDS.get("BlockFit", {}).get(name, (False, False))
        inside_lo = math.nextafter(lo, math.inf) if lo_open else lo
        inside_hi = math.nextafter(hi, -math.inf) if hi_open else hi
        yield name, inside_lo, True
        yield name, inside_hi, True
        yield name, lo if lo_open else math.nextafter(lo, -math.inf), False
        yield name, hi if hi_open else math.nextafter(hi, math.inf), False


def _with(blocks: dict) -> dict:
    data = _good()
    data["blocks"].update(blocks)
    # keep the relations that are checked across fields satisfiable while one field moves
    b = data["blocks"]
    if "multiplier_offset_a" in blocks and "multiplier_i_unit_a" not in blocks:
        b["multiplier_i_unit_a"] = max(b["multiplier_i_unit_a"], min(abs(b["multiplier_offset_a"]), 1e-5))
    if "i_w_min_a" in blocks and "i_w_max_a" not in blocks:
        b["i_w_max_a"] = max(b["i_w_max_a"], min(b["i_w_min_a"], 1e-3))
    if "i_w_max_a" in blocks and "i_w_min_a" not in blocks:
        b["i_w_min_a"] = min(b["i_w_min_a"], max(b["i_w_max_a"], 0.0))
    if "multiplier_i_unit_a" in blocks and "multiplier_offset_a" not in blocks:
        b["multiplier_offset_a"] = 0.0
    return data


@pytest.mark.parametrize("name, value, accepted", list(_block_edges()), ids=lambda v: f"{v}" if isinstance(v, str) else None)
def test_schema_block_range_ends(name, value, accepted):
    data = _with({name: value})
    if not accepted:
        with pytest.raises(CalibrationError, match=f"BlockFit.{name}"):
            Calibration.from_dict(data)
        return
    Calibration.from_dict(data)
    LearnerModel.from_calibration(Calibration.from_dict(data))  # the primitive blocks do not feed the model


def test_schema_and_model_know_the_same_gains():
    assert set(LEARNER_NOMINAL_RANGES) == set(NOMINAL_FIELDS)


def _nominal_edges():
    for name, (lo, hi) in LEARNER_NOMINAL_RANGES.items():
        yield name, lo, True
        yield name, hi, True
        yield name, math.nextafter(lo, -math.inf), False
        yield name, math.nextafter(hi, math.inf), False


@pytest.mark.parametrize("name, value, accepted", list(_nominal_edges()), ids=lambda v: f"{v}" if isinstance(v, str) else None)
def test_learner_gain_range_ends_agree_with_the_model(name, value, accepted):
    data = _good()
    data["learner"]["nominal"][name] = value
    if not accepted:
        with pytest.raises(CalibrationError, match=name):
            Calibration.from_dict(data)
        return
    model = LearnerModel.from_calibration(Calibration.from_dict(data))  # a loadable file maps onto the model
    assert model.nominal[name] == value


@pytest.mark.parametrize("blocks, message", [
    ({"multiplier_nonlinearity": 1.0}, r"multiplier_nonlinearity must be in \(-1, 1\)"),
    ({"multiplier_nonlinearity": -1.0}, r"multiplier_nonlinearity must be in \(-1, 1\)"),
    ({"tau_rel_error": -1.0}, r"tau_rel_error must be in \(-1, 1\]"),
    ({"multiplier_offset_a": 2e-9, "multiplier_i_unit_a": 1e-9}, r"multiplier_offset_a must be within ±multiplier_i_unit_a"),
    ({"multiplier_offset_a": -1e-6, "multiplier_i_unit_a": 1e-13}, r"multiplier_offset_a must be within"),
    ({"i_w_min_a": 1e-6, "i_w_max_a": 1e-9}, r"i_w_min_a must not exceed i_w_max_a"),
])  # fmt: skip
def test_physically_impossible_blocks_are_refused(blocks, message):
    data = _good()
    data["blocks"].update(blocks)
    with pytest.raises(CalibrationError, match=message):
        Calibration.from_dict(data)


# -- files that are not calibration files ---------------------------------------------------------


def _write(path, content: bytes) -> str:
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("make, message", [
    (lambda p: _write(p / "png.json", b"\x89PNG\r\n\x1a\n" + bytes(range(256))), "not UTF-8|not valid JSON"),
    (lambda p: _write(p / "nul.json", b'{"schema_version": 1\x00}'), "not valid JSON"),
    (lambda p: _write(p / "deep.json", b"[" * 200_000 + b"]" * 200_000), "nested too deeply"),
    (lambda p: _write(p / "deep_obj.json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000), "nested too deeply"),
    (lambda p: _write(p / "bigint.json", b'{"schema_version": 1' + b"0" * 5000 + b"}"), "not a usable JSON|schema_version"),
    (lambda p: _write(p / "empty.json", b""), "not valid JSON"),
    (lambda p: _write(p / "list.json", b"[1, 2]"), "must be a JSON object"),
    (lambda p: _write(p / "nan.json", json.dumps(_good()).replace('"tau_s": ', '"tau_s": NaN, "x": ').encode()),
     "unknown field|must be finite"),
    (lambda p: str(p), "not a regular file"),
    (lambda p: (os.mkfifo(p / "fifo.json"), str(p / "fifo.json"))[1], "not a regular file"),
    (lambda p: "/dev/zero", "not a regular file"),
    (lambda p: "/dev/null", "not a regular file"),
    (lambda p: (os.symlink("/dev/zero", p / "link.json"), str(p / "link.json"))[1], "not a regular file"),
])  # fmt: skip
def test_unusable_files_are_refused(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CalibrationError, match=message):
        load_calibration(path)


def test_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    assert stat.S_ISREG(os.stat(path).st_mode)
    with pytest.raises(CalibrationError, match="larger than"):
        load_calibration(path)
