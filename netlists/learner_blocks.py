"""The learner's blocks around its weight cells: inputs, prediction products, error path, common mode.

Each ``add_*`` function appends one block of :func:`netlists.spice_learner_circuit.learner` to a
:class:`~netlists.netlist.NetlistBuilder`; the module docstring of
:mod:`netlists.spice_learner_circuit` derives the law and lists the nodes. Conventions: nMOS
bulk at 0, pMOS bulk at vdd; a *stack* is two diode-connected devices in series from a rail (top
``*``, bottom ``*2``) and a *copy* of a stack is a device on the top gate under a cascode on the
bottom gate, so the copy's rail device sits at its diode's V_DS (sky130's drain-voltage dependence
then cancels). Currents in A, sizes in m.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .netlist import NetlistBuilder

if TYPE_CHECKING:  # pragma: no cover
    from .spice_learner_circuit import LearnerParams

__all__ = [
    "size", "add_pstack", "add_pcopy", "add_nstack", "add_ncopy", "add_input_half", "add_target_half", "add_product",
    "add_error_path", "add_common_mode", "add_s0_stack", "HALVES",
]

#: the two halves of a pseudo-differential signal
HALVES = ("p", "n")


def size(p: "LearnerParams", group: str) -> dict[str, float]:
    """``{"w_m": …, "l_m": …}`` of a device group of ``p`` (fields ``w_<group>_m``/``l_<group>_m``)."""
    return {"w_m": getattr(p, f"w_{group}_m"), "l_m": getattr(p, f"l_{group}_m")}


def add_pstack(nb: NetlistBuilder, name: str, top: str, bottom: str, sz: dict[str, float], *, lower_bulk: str = "vdd") -> None:
    """pMOS stack from vdd: ``name`` (diode ``top``) over ``name2`` (diode ``bottom``); the current
    drawn out of ``bottom`` flows through both. ``lower_bulk``: ``"vdd"`` (shared n-well) or
    ``"source"`` (``name2`` in its own n-well tied to its source ``top``: no body effect, so the
    stack's drop is 2·V_SG instead of V_SG + V_SG(V_SB ≈ V_SG) — the headroom the cold corners need)."""
    nb.mos(name, "p", top, top, "vdd", "vdd", **sz)
    nb.mos(f"{name}2", "p", bottom, bottom, top, _bulk(lower_bulk, top, shared="vdd", what="lower_bulk"), **sz)


def add_pcopy(nb: NetlistBuilder, name: str, top: str, bottom: str, out: str, sz: dict[str, float], *, lower_bulk: str = "vdd") -> None:
    """Cascoded pMOS copy of a :func:`add_pstack` (gates ``top``/``bottom``) sourcing into ``out``
    (``lower_bulk`` as there, for the cascode ``name2``)."""
    mid = f"{name}c"
    nb.mos(name, "p", mid, top, "vdd", "vdd", **sz)
    nb.mos(f"{name}2", "p", out, bottom, mid, _bulk(lower_bulk, mid, shared="vdd", what="lower_bulk"), **sz)


#: the shared well each polarity's devices sit in unless a bulk choice says ``"source"`` (choice → node)
_SHARED_BULK = {"vdd": "vdd", "ground": "0"}


def _bulk(choice: str, source: str, *, shared: str, what: str) -> str:
    """The bulk node for ``choice``: the shared well ``shared`` (``"vdd"``: the n-well at V_DD, ``"ground"``:
    the p-substrate) or ``"source"`` (an own well tied to ``source``); ``what`` names the option in errors."""
    if choice not in (shared, "source"):
        raise ValueError(f"{what} must be '{shared}' or 'source', got {choice!r}")
    return _SHARED_BULK[shared] if choice == shared else source


def add_nstack(nb: NetlistBuilder, name: str, top: str, bottom: str, sz: dict[str, float],
               upper: dict[str, float] | None = None, *, upper_bulk: str = "ground") -> None:
    """nMOS stack to ground: ``name2`` (diode ``top``, sized ``upper``, default ``sz``) over ``name``
    (diode ``bottom``, source 0, sized ``sz``); the current fed into ``top`` flows through both.
    ``upper_bulk``: ``"ground"`` (the shared p-substrate) or ``"source"`` (``name2`` in an isolated
    p-well — sky130's deep n-well — tied to its source ``bottom``: no body effect)."""
    nb.mos(f"{name}2", "n", top, top, bottom, _bulk(upper_bulk, bottom, shared="ground", what="upper_bulk"), **(upper or sz))
    nb.mos(name, "n", bottom, bottom, "0", "0", **sz)


def add_ncopy(nb: NetlistBuilder, name: str, top: str, bottom: str, out: str, sz: dict[str, float],
              upper: dict[str, float] | None = None, *, upper_bulk: str = "ground") -> None:
    """Cascoded nMOS copy of a :func:`add_nstack` (gates ``top``/``bottom``; the cascode ``name2`` sized
    ``upper``, default ``sz``, its bulk as ``upper_bulk`` there) sinking from ``out``."""
    mid = f"{name}c"
    nb.mos(name, "n", mid, bottom, "0", "0", **sz)
    nb.mos(f"{name}2", "n", out, top, mid, _bulk(upper_bulk, mid, shared="ground", what="upper_bulk"), **(upper or sz))


def add_input_half(nb: NetlistBuilder, p: "LearnerParams", i: int, half: str, source) -> None:
    """Input half X_i^half: the bench's current ``source(name, from, to)`` is drawn from the pMOS diode
    ``mxi{i}{half}`` (gate ``xa{i}{half}``); plain pMOS copies feed the nMOS diode ``mx{i}{half}``
    (gate ``gx{i}{half}``, source ref: the x gate of the weight cells' terms) and the two prediction
    products that use this half (nodes ``q{i}p{half}c``, ``q{i}n{half}c``). Four gates load the diode
    node, so it follows a step of X with a time constant of about 4·C_gate·n·U_T/X."""
    gate = f"xa{i}{half}"
    source(f"ix{i}{half}", gate, "0")
    nb.mos(f"mxi{i}{half}", "p", gate, gate, "vdd", "vdd", **size(p, "xp"))
    nb.mos(f"mxd{i}{half}", "p", f"gx{i}{half}", gate, "vdd", "vdd", **size(p, "xp"))
    nb.mos(f"mx{i}{half}", "n", f"gx{i}{half}", f"gx{i}{half}", "ref", "0", **size(p, "x"))
    for a in HALVES:
        nb.mos(f"mxq{i}{a}{half}", "p", f"q{i}{a}{half}c", gate, "vdd", "vdd", **size(p, "xp"))


def add_product_unit(nb: NetlistBuilder, p: "LearnerParams") -> None:
    """The prediction products' I_u diode: ``iu0`` (I_u) into the nMOS diode ``mu0`` (gate ``gu0``,
    source ref, size ``q``), the gate every product's m4 shares."""
    nb.isource("iu0", "vdd", "gu0", p.i_u_a)
    nb.mos("mu0", "n", "gu0", "gu0", "ref", "0", **size(p, "q"))


def add_target_unit(nb: NetlistBuilder, p: "LearnerParams") -> None:
    """The targets' unit weight: ``iuy`` (I_u) into the nMOS diode ``mwy`` (gate ``vcy``, source ref,
    size ``qy``), the "weight" gate of both target products (:func:`add_target_half`)."""
    nb.isource("iuy", "vdd", "vcy", p.i_u_a)
    nb.mos("mwy", "n", "vcy", "vcy", "ref", "0", **size(p, "qy"))


def add_target_half(nb: NetlistBuilder, p: "LearnerParams", half: str, source) -> None:
    """Target half Y^half, brought in exactly like a prediction product so that y and ŷ reach the
    error node with the same delay: the bench's ``source`` draws Y from the pMOS diode ``myi{half}``
    (gate ``ya{half}``; its copy ``myq{half}`` feeds a product ``qy{half}`` whose "weight" device m3
    sits on ``vcy``, the gate of the diode ``mwy`` carrying I_u, so the product is Y itself), sunk
    from na (Y⁺) or nb (Y⁻). The y stage's two pMOS (``yp``, 6/6 µm) load their diode node about as
    much as the x stage's four (``xp``, 4/4 µm), so both follow a step with about the same delay;
    the target product's m3 and its unit-weight diode mwy (``qy``) are large, because a gain error
    on this path scales every learned weight (the learning compensates the prediction path's gains,
    not the target's); its m4 pairs with mu0 and has mu0's size (``q``).

    Why: a target that arrives before the prediction leaves, at the start of every hold, an error
    y_k − ŷ(x_{k−1}); its correlation with x_k acts as a negative weight decay −σ_x²·τ_lag/T_s
    (measured on sky130: weights +5 % at t/τ = 20, η = 0.05, when Y was a direct source).
    """
    gate = f"ya{half}"
    source(f"iy{half}", gate, "0")
    nb.mos(f"myi{half}", "p", gate, gate, "vdd", "vdd", **size(p, "yp"))
    nb.mos(f"myq{half}", "p", f"qy{half}c", gate, "vdd", "vdd", **size(p, "yp"))
    q = f"qy{half}"
    _product_bias(nb, p, q)
    nb.mos(f"{q}m4", "n", f"{q}c", "gu0", f"{q}s", "0", **size(p, "q"))
    nb.mos(f"{q}mf", "n", f"{q}s", f"{q}c", "0", "0", role="feedback", **size(p, "fb"))
    nb.mos(f"{q}m3", "n", "na" if half == "p" else "nb", "vcy", f"{q}s", "0", **size(p, "qy"))


def _product_bias(nb: NetlistBuilder, p: "LearnerParams", q: str) -> None:
    """Plain bias ``i_q_bias_a`` into a product's source node (raises its feedback device's gate,
    i.e. m4's drain, so m4 stays saturated at the input floor; the product's law is unchanged)."""
    if p.i_q_bias_a > 0:
        nb.isource(f"i{q}b", "vdd", f"{q}s", p.i_q_bias_a)


def add_product(nb: NetlistBuilder, p: "LearnerParams", i: int, a: str, b: str) -> None:
    """Prediction product ``W_i^a·X_i^b/I_u`` (3-device translinear multiplier) sunk from node ``nb``
    (P, a = b) or ``na`` (Q, a ≠ b).

    m4 (gate gu0, the I_u diode mu0's gate, source ``q…s``) is forced to carry X_i^b by the
    feedback device mf (drain q…s, gate q…c; a bias ``i_q_bias_a`` into q…s lifts its gate); m3 (gate vc{i}{a}, source q…s) is a copy of the
    weight's output device mw (gate vc{i}{a}, source ref). With the pairs mw/m3 and mu0/m4 sharing
    gates, ``I_m3 = X·W/I_u``.
    """
    q = f"q{i}{a}{b}"
    _product_bias(nb, p, q)
    nb.mos(f"{q}m4", "n", f"{q}c", "gu0", f"{q}s", "0", **size(p, "q"))
    nb.mos(f"{q}mf", "n", f"{q}s", f"{q}c", "0", "0", role="feedback", **size(p, "fb"))
    nb.mos(f"{q}m3", "n", "nb" if a == b else "na", f"vc{i}{a}", f"{q}s", "0", **size(p, "out"))


def add_error_path(nb: NetlistBuilder, p: "LearnerParams") -> None:
    """E = E_a − E_b by KCL and its class-AB split into e⁺, e⁻ (gates gep, gen of the cells' copies).

    * pMOS stacks ``mda`` (da/na) and ``mdb`` (db/nb) supply E_a = Y⁺ + Q into na and E_b = Y⁻ + P
      into nb (the target products qy± and the prediction products are sinks there); with
      ``p.error_stack_bulk == "source"`` the stacks' and copies' lower devices sit in their own n-well
      (no body effect: na and nb sit ~0.1 V higher, which the products' m3 need at −20 °C);
    * a cascoded pMOS copy of E_a (``mca``) sources into the split node ``en``; E_b is copied
      (``mcb``) into the nMOS stack ``mnb`` (mb/mb1) whose cascoded copy ``mkb`` sinks it from ``en``;
    * class-AB pair at ``en``: ``mabp`` (pMOS, source en, gate vbp) carries e⁺ out of en and
      ``mabn`` (nMOS, source en, gate vbn) carries e⁻ into it, so KCL gives e⁺ − e⁻ = E_a − E_b = E.
      In weak inversion the pair's currents go as e^{∓V_en/U_T} (the source enters with
      coefficient 1), so e⁺·e⁻ does not depend on V_en: it equals the replica's f_e² — the replica
      being ``mrn`` (nMOS diode vbn, source enr) and ``mrp`` (pMOS diode vbp, source enr), each
      carrying f_e = ``i_err_floor_a`` from ideal bias sources, with enr held at ``v_en_v``. Hence
      the pair carries √(E²/4 + f_e²) ± E/2: both ≥ 0, and their sum — the common mode that reaches
      the cells — is |E| + O(f_e²/|E|) instead of a fixed 2·I_ce;
    * a constant f₂ = ``i_err_min_a`` is added to each load (ideal bias sources), so that the
      small side never starves the diodes and the cells' terms: e± = √(E²/4 + f_e²) ± E/2 + f₂
      (f₂ cancels in e⁺ − e⁻). e⁻ + f₂ flows in the pMOS diode ``mem`` (gen) whose drain takes
      mabn and the sink ``iemin``; e⁺ + f₂ flows in the nMOS stack ``mhp`` (hp/hp1, fed by mabp and
      the source ``iepmin``), whose cascoded copy ``mqp`` draws it from the pMOS diode ``mep`` (gep);
      with ``p.hp_stack_bulk == "source"`` the upper devices of mhp, mqp and the window replica mrhp sit
      in an isolated p-well tied to their source (no body effect: hp, the window's lower end, sits lower
      at −20 °C; see :mod:`netlists.learner_designs`).
      The cells' copies of e± are plain pMOS devices on gep/gen (sky130's pMOS drain-voltage
      dependence is a seventh of its nMOS one, so they need no cascode; the nMOS copy does).
    """
    pe, en_ = size(p, "e"), size(p, "en")
    bulk = p.error_stack_bulk
    for half in ("a", "b"):
        add_pstack(nb, f"md{half}", f"d{half}", f"n{half}", pe, lower_bulk=bulk)
    add_pcopy(nb, "mca", "da", "na", "en", pe, lower_bulk=bulk)
    add_pcopy(nb, "mcb", "db", "nb", "mb", pe, lower_bulk=bulk)
    add_nstack(nb, "mnb", "mb", "mb1", en_)
    add_ncopy(nb, "mkb", "mb", "mb1", "en", en_)
    nb.mos("mabp", "p", "hp", "vbp", "en", "vdd", **size(p, "abp"))
    nb.mos("mabn", "n", "gen", "vbn", "en", "0", **size(p, "abn"))
    nb.isource("iabn", "vdd", "vbn", p.i_err_floor_a)
    nb.mos("mrn", "n", "vbn", "vbn", "enr", "0", **size(p, "abn"))
    nb.mos("mrp", "p", "vbp", "vbp", "enr", "vdd", **size(p, "abp"))
    nb.isource("iabp", "vbp", "0", p.i_err_floor_a)
    _en_reference(nb, p)
    nb.mos("mem", "p", "gen", "gen", "vdd", "vdd", **size(p, "ec"))
    nb.isource("iemin", "gen", "0", p.i_err_min_a)
    nb.isource("iepmin", "vdd", "hp", p.i_err_min_a)
    add_nstack(nb, "mhp", "hp", "hp1", size(p, "hn"), size(p, "hnu"), upper_bulk=p.hp_stack_bulk)
    add_ncopy(nb, "mqp", "hp", "hp1", "gep", size(p, "hn"), size(p, "hnu"), upper_bulk=p.hp_stack_bulk)
    nb.mos("mep", "p", "gep", "gep", "vdd", "vdd", **size(p, "ec"))


def add_s0_stack(nb: NetlistBuilder, p: "LearnerParams") -> None:
    """The common-mode set point's pMOS stack ``ms0`` (s0a over s0b, lower bulk as the error path's)
    carrying S₀ = ``p.i_cm_a`` from the ideal sink ``is0``; every weight's ``mso{i}`` copies it."""
    add_pstack(nb, "ms0", "s0a", "s0b", size(p, "zc"), lower_bulk=p.error_stack_bulk)
    nb.isource("is0", "s0b", "0", p.i_cm_a)


def _en_reference(nb: NetlistBuilder, p: "LearnerParams") -> None:
    """The replica's source node enr (where the split node en sits at E = 0): held at ``p.v_en_v`` by the
    source ``ven`` (``en_bias="fixed"``), or (``"window"``) at the fraction ``p.en_window_fraction`` of the
    pair's headroom window up from its lower end,
    between replicas of its two ends at E = 0 — ``genr``, a pMOS diode ``mrem`` sized like mem, and ``hpr``,
    the top of an nMOS stack ``mrhp`` sized like mhp, each carrying f_e + f₂ from an ideal bias source —
    through a divider ``ren1`` (genr–enr) and ``ren2`` (enr–hpr) of 5 V/(f_e + f₂) in all (it takes 5 % of
    the replicas' current across a 0.25 V window). The pair needs V_SD(mabp) = en − hp and V_DS(mabn) = gen − en ≥ 4 U_T;
    on sky130 at −20 °C the window gen − hp is ~12 U_T and its middle moves by ~0.1 V between the fs and sf
    corners (measured with 20× the default currents), more than a fixed v_en can serve."""
    if p.en_bias == "fixed":
        nb.vsource("ven", "enr", "0", p.v_en_v)
        return
    f = p.i_err_floor_a + p.i_err_min_a
    nb.mos("mrem", "p", "genr", "genr", "vdd", "vdd", **size(p, "ec"))
    nb.isource("irem", "genr", "0", f)
    nb.isource("irhp", "vdd", "hpr", f)
    add_nstack(nb, "mrhp", "hpr", "hpr1", size(p, "hn"), size(p, "hnu"), upper_bulk=p.hp_stack_bulk)
    r_total = 5.0 / f
    nb.resistor("ren1", "genr", "enr", (1.0 - p.en_window_fraction) * r_total)
    nb.resistor("ren2", "enr", "hpr", p.en_window_fraction * r_total)


def add_common_mode(nb: NetlistBuilder, p: "LearnerParams", i: int) -> None:
    """Common-mode feedback of weight i: Z_i = β·(W_i⁺ + W_i⁻ − S₀) in the nMOS diode ``mgz{i}``.

    ``msp{i}``/``msn{i}`` (copies of the output devices: gates vc{i}p/vc{i}n, source ref, sized
    like mw) sink S = W⁺ + W⁻ from node ``z{i}``; a cascoded pMOS copy ``mso{i}`` of the bias stack
    ``ms0`` (s0a/s0b, carrying S₀ = ``i_cm_a``) sources S₀ into it, and the pMOS stack ``mz{i}``
    (za{i}/z{i}) supplies the rest, S − S₀. A cascoded copy ``mzc{i}`` of that stack, β times its
    size (``cm_gain``), feeds Z into the diode ``mgz{i}`` (gate ``gz{i}``, source ref, sized like the
    x diodes): the x gate of both cells' sink terms, whose I_e is I_u. With ``p.error_stack_bulk ==
    "source"`` the stacks' and copies' lower devices (and the S₀ stack's, :func:`add_s0_stack`) sit in
    their own n-well, as the error path's: no body effect, so z keeps the drain voltage msp/msn need
    at −20 °C (with the bias currents × 20, z fell to 0.1–0.16 V on ss/sf, measured).
    """
    out = size(p, "out")
    z, za = f"z{i}", f"za{i}"
    bulk = p.error_stack_bulk
    nb.mos(f"msp{i}", "n", z, f"vc{i}p", "ref", "0", **out)
    nb.mos(f"msn{i}", "n", z, f"vc{i}n", "ref", "0", **out)
    add_pcopy(nb, f"mso{i}", "s0a", "s0b", z, size(p, "zc"), lower_bulk=bulk)
    diode = {"w_m": p.w_zc_m / p.cm_gain, "l_m": p.l_zc_m}
    add_pstack(nb, f"mz{i}", za, z, diode, lower_bulk=bulk)
    add_pcopy(nb, f"mzc{i}", za, z, f"gz{i}", size(p, "zc"), lower_bulk=bulk)
    nb.mos(f"mgz{i}", "n", f"gz{i}", f"gz{i}", "ref", "0", **size(p, "x"))
