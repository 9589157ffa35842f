"""Tiki-Taka at transistor level: two log-domain pairs per weight (A fast and leaky, C slow) and the transfer path.

The plain learner (:mod:`netlists.spice_learner_circuit`) is kept block for block — inputs, prediction
products, targets, class-AB error split, common-mode feedback, chopping of the stream, frozen read-out —
and each weight's pair is replaced by two pairs built from the same weight cell
(:func:`netlists.weight_cell.add_weight_cell`):

* **A pair** (cells ``u{i}p``, ``u{i}n``, states ``va{i}p``, ``va{i}n``): the plain learner's cell with the
  gradient terms e±·X± and a stronger leak I_λ,A = λ_A·I_A/s_x², plus its own common-mode feedback
  (devices ``mk…``, Z_A into the diode ``mgk{i}``, gate ``gza{i}``)::

      τ s_x² dA/dt = e·x − λ_A s_x²·A          (A = s_w(A⁺ − A⁻)/I_u, Z_A cancels)

  A leak this strong would let each half decay to (its small common drive)/λ_A — measured: A⁺ + A⁻
  fell to 1.3 pA, out of the cells' law and below the common-mode set point, which Z can only lower.
  So each A half has a third term, a holding drive I_h = λ_A·I_w0/s_x² (ideal source ``i{pre}hold``
  into the term, I_x = I_u from the diode ``mtb``, gate ``gtb``): the halves rest at about I_w0 and
  I_h cancels in A⁺ − A⁻ like Z_A.

* **C pair** (cells ``w{i}p``, ``w{i}n``, states ``vc{i}p``, ``vc{i}n`` — the plain learner's names, so the
  prediction products, the common mode and the read-out are the plain learner's on C): bias
  I_A,C = k_C·I_A (τ_C = τ/k_C, ``c_speed``), two transfer terms per half whose I_e are copies of A⁺, A⁻
  (a second output device ``mac{i}s`` on each A state, gate va{i}s, source ref, into the pMOS diode
  ``mad{i}s`` whose copies ``w{i}{a}ma{s}`` feed the terms) and whose I_x are two bias diodes shared by all
  weights, ``mtrp``/``mtrn`` (gates ``gtp``/``gtn``) on R⁺ = f + R, R⁻ = f::

      τ_C dC⁺/dt = (A⁺R⁺ + A⁻R⁻)/I_u − Z_C − λ_cC·C⁺,   τ_C dC⁻/dt = (A⁺R⁻ + A⁻R⁺)/I_u − Z_C − λ_cC·C⁻
      ⇒ τ_C d(C⁺ − C⁻)/dt = R·(A⁺ − A⁻)/I_u − λ_cC (C⁺ − C⁻)
      ⇒ in the ideal law's time τ_i = τ s_x²:  dC/d(t/τ_i) = ρ·A − λ_C·C,
         ρ = s_x²·k_C·R/I_u,  λ_C = s_x²·k_C·λ_cC  (I_λ,C = λ_cC·I_A,C = λ_C·I_A/s_x²).

  The forward read is W = γ·A + C with γ = 0 (the behavioural study's log-domain setting): the
  products take C. With A ≈ (e·x)/λ_A (A's time constant τ_i/λ_A), C learns at the rate ρ/λ_A;
  the ridge of C is the plain learner's when λ_C = λ·ρ/λ_A (:attr:`TikiTakaParams.c_leak`).

This is :func:`logdomain.asymmetry.run_tiki_taka` in continuous time (a_rate = 1, transfer_every = 1,
transfer = ρ·η, a_leak = λ_A, c_leak = λ_C, chop_every = :attr:`TikiTakaParams.chop_every`). By default
without its chopper (c ≡ 1: R⁺/R⁻ constant, A's terms on the x diodes); with it, A's terms take their own
input diodes carrying c·x and R⁺/R⁻ swap when c = −1. (The stream's own chopping, sample k as
(−1)^k(x, y), leaves e·x unchanged.)

Known limits (measured in :mod:`logdomain.tiki_taka_spice`, not hidden): under the PDK's mismatch it
fails (dim 2 × 400: nmse_vs_ideal 35 % and 842 % on two mismatch samples, the plain learner 0.1 %; with
the chopper every 20 samples 340 %) — the constant drives below turn a few % of half mismatch into an
offset of C's drive; the A-copy devices ``mac`` sit at a drain voltage other than the output devices' ``out``, so the transfer gain differs from R/I_u
by their drain-voltage dependence — the run reads that gain back (:func:`transfer_gain`); the C pair's
common drive (A⁺ + A⁻)(R⁺ + R⁻)/I_u is constant (not class-AB), so its common mode sits higher
(S₀ + drive/β_C) and, under mismatch, would convert into drift as in the plain learner before its
class-AB split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .learner_blocks import (HALVES, add_common_mode, add_error_path, add_input_half, add_ncopy, add_nstack, add_pcopy, add_product,
                             add_pstack, add_target_half, add_target_unit, size)  # fmt: skip
from .netlist import Analysis, Netlist, NetlistBuilder
from .params import Bound, Params
from .spice_learner_circuit import LearnerParams, _pwl, add_learner_frame, read_devices, split_currents, state_nodes, stimulus
from .technologies.base import Technology
from .weight_cell import add_weight_cell

__all__ = ["TikiTakaParams", "tiki_taka_learner", "a_state_nodes", "a_cell_names", "a_copy_devices", "tiki_taka_read_devices"]

@dataclass(frozen=True, kw_only=True)
class TikiTakaParams(Params):
    """The Tiki-Taka additions to a :class:`~netlists.spice_learner_circuit.LearnerParams`.

    Attributes
    ----------
    lam_a : λ_A, the A pair's leak in units of 1/τ_i (ideal law), dimensionless.
    transfer : ρ, C's drive per unit A in units of 1/τ_i, dimensionless.
    c_speed : k_C = τ/τ_C = I_A,C/I_A, how much faster the C cells' integrators run than A's. Default 2
        (R = 2·I_u at ρ = 4), measured on sky130 tt: with k_C = 4 (R = I_u, β_C = 1) C learned at 0.65×
        the twin's rate (dim 2, 40 samples; 0.97× with β_C = 4, whose C common mode rose to 425 pA); with
        k_C = 1 (R = 4·I_u) at the twin's rate, but C's common mode (262 pA) lowered the error path's
        node so the products' m3 had V_DS 3.65–3.76 U_T (dim 2 × 400); with k_C = 2, 168 pA and every
        device in region.
    cm_gain_c : β_C, the C pair's common-mode feedback gain (in the C cells' own time τ_C).
    c_leak_ratio : λ_C/(λ·ρ/λ_A); 1 (default) gives C the plain learner's ridge.
    chop_every : samples between flips of the Tiki-Taka chopper c (0: off, c ≡ 1). With it the bench
        applies c·x to A's terms (their own input diodes ``mxa{i}s``, gates ``gxa{i}s``) and swaps R⁺, R⁻
        when c = −1, so A integrates c·e·x and C takes c·A: offsets of A (its copies' and its holding
        drive's mismatch) reach C with alternating sign.
    transfer_split : ``"direct"`` (default): C's terms take the copies A⁺, A⁻ themselves (common drive
        (A⁺ + A⁻)(R⁺ + R⁻)/I_u, constant); ``"class-ab"``: the copies' difference is split at a node
        ``sn{i}`` by a class-AB pair on the error path's replica gates (vbp/vbn) into a⁺ − a⁻ = A⁺ − A⁻,
        a⁺a⁻ = f_e², each + f₂ (:func:`_add_transfer_split`), so C's common drive is ∝ |A|.
    """

    lam_a: float = 4.0
    transfer: float = 4.0
    c_speed: float = 2.0
    cm_gain_c: float = 1.0
    c_leak_ratio: float = 1.0
    chop_every: int = 0
    transfer_split: str = "direct"
    _choices: ClassVar[dict[str, tuple[str, ...]]] = {"transfer_split": ("direct", "class-ab")}
    _bounds: ClassVar[dict[str, Bound]] = {
        "lam_a": Bound(0.01, 100.0, ""),
        "transfer": Bound(0.01, 100.0, ""),
        "c_speed": Bound(0.1, 100.0, ""),
        "cm_gain_c": Bound(0.01, 10.0, ""),
        "c_leak_ratio": Bound(0.0, 100.0, ""),
        "chop_every": Bound(0, 10**6, "", integer=True),
    }

    def chop_signs(self, samples: int) -> np.ndarray:
        """(K,) the chopper c of each stream sample: (−1)^⌊k/chop_every⌋, or all 1 when chop_every is 0."""
        k = np.arange(samples)
        return np.ones(samples) if self.chop_every == 0 else np.where((k // self.chop_every) % 2 == 1, -1.0, 1.0)

    def c_leak(self, lam: float) -> float:
        """λ_C = c_leak_ratio·λ·ρ/λ_A (units of 1/τ_i) for the plain learner's λ."""
        return self.c_leak_ratio * lam * self.transfer / self.lam_a

    def r_transfer_a(self, p: LearnerParams) -> float:
        """R = ρ·I_u/(s_x²·k_C), the transfer diode's signal current, A."""
        return self.transfer * p.i_u_a / (p.x_scale**2 * self.c_speed)

    def check(self, p: LearnerParams) -> None:
        """Raise :class:`ParameterError` when the currents these settings need leave the learner's range."""
        r = self.r_transfer_a(p)
        if not 1e-13 <= r <= 1e-7:
            raise ParameterError(f"TikiTakaParams: transfer={self.transfer!r}, c_speed={self.c_speed!r} give R = {r:.3g} A "
                                 "outside [1e-13, 1e-7] A")  # fmt: skip
        if self.c_speed * p.i_a_a > 1e-6:
            raise ParameterError(f"TikiTakaParams.c_speed={self.c_speed!r} gives I_A,C = {self.c_speed * p.i_a_a:.3g} A > 1 uA")
        if self.lam_a / p.x_scale**2 * p.i_a_a > 1e-7:
            raise ParameterError(f"TikiTakaParams.lam_a={self.lam_a!r} gives I_lambda,A > 100 nA")


def a_cell_names(dim: int) -> list[str]:
    """Prefixes of the A cells, ``u0p, u0n, u1p, …``."""
    return [f"u{i}{s}" for i in range(dim) for s in HALVES]


def a_state_nodes(dim: int) -> list[str]:
    """State nodes of the A cells, ``va0p, va0n, …``."""
    return [f"va{name[1:]}" for name in a_cell_names(dim)]


def a_copy_devices(dim: int) -> list[str]:
    """The second output devices of the A states (the transfer path's copies of A⁺, A⁻)."""
    return [f"mac{name[1:]}" for name in a_cell_names(dim)]


def tiki_taka_read_devices(dim: int) -> list[str]:
    """Devices whose drain currents a run saves: the plain learner's, the A cells' outputs and copies."""
    return read_devices(dim) + [f"{n}mw" for n in a_cell_names(dim)] + a_copy_devices(dim)


def _add_a_common_mode(nb: NetlistBuilder, p: LearnerParams, i: int) -> None:
    """:func:`netlists.learner_blocks.add_common_mode` for the A pair of weight i (devices ``mk…``):
    Z_A = β·(A⁺ + A⁻ − S₀) into the diode ``mgk{i}`` (gate ``gza{i}``)."""
    out = size(p, "out")
    z, za = f"kz{i}", f"kza{i}"
    nb.mos(f"mkp{i}", "n", z, f"va{i}p", "ref", "0", **out)
    nb.mos(f"mkn{i}", "n", z, f"va{i}n", "ref", "0", **out)
    add_pcopy(nb, f"mko{i}", "s0a", "s0b", z, size(p, "zc"))
    add_pstack(nb, f"mkz{i}", za, z, {"w_m": p.w_zc_m / p.cm_gain, "l_m": p.l_zc_m})
    add_pcopy(nb, f"mkzc{i}", za, z, f"gza{i}", size(p, "zc"))
    nb.mos(f"mgk{i}", "n", f"gza{i}", f"gza{i}", "ref", "0", **size(p, "x"))


def _add_transfer_split(nb: NetlistBuilder, p: LearnerParams, i: int) -> tuple[str, str]:
    """Class-AB split of A_i⁺ − A_i⁻ (the copies on ``ad{i}p``/``ad{i}n``), as
    :func:`netlists.learner_blocks.add_error_path` splits E: ``msa{i}`` sources A⁺ into ``sn{i}``, a pMOS
    copy of A⁻ into the nMOS stack ``mnd{i}`` whose cascoded copy ``mns{i}`` sinks A⁻ from it (a plain
    diode and copy, measured: the copy's drain at sn (≈ 0.7 V) against the diode's ≈ 0.3 V gave A⁻ a
    drain-voltage gain error that, times A's common mode, swamped A — weights 0.08, −0.83 for 0.68, −0.28); the pair ``mtp{i}``
    (pMOS, gate vbp) / ``mtn{i}`` (nMOS, gate vbn), sources at sn{i}, carries a⁺ out and a⁻ in, so
    a⁺ − a⁻ = A⁺ − A⁻ and a⁺a⁻ = f_e² (the error path's replica). a⁻ + f₂ flows in the pMOS diode
    ``mqm{i}`` (gate ``gq{i}``), a⁺ + f₂ in the nMOS stack ``mhq{i}`` whose cascoded copy ``mqq{i}`` draws
    it from the pMOS diode ``mpq{i}`` (gate ``gp{i}``). Returns the gates (a⁺ + f₂, a⁻ + f₂)."""
    sn = f"sn{i}"
    nb.mos(f"msa{i}", "p", sn, f"ad{i}p", "vdd", "vdd", **size(p, "ec"))
    nb.mos(f"mna{i}", "p", f"bn{i}", f"ad{i}n", "vdd", "vdd", **size(p, "ec"))
    add_nstack(nb, f"mnd{i}", f"bn{i}", f"bn{i}1", size(p, "en"))
    add_ncopy(nb, f"mns{i}", f"bn{i}", f"bn{i}1", sn, size(p, "en"))
    nb.mos(f"mtp{i}", "p", f"hq{i}", "vbp", sn, "vdd", **size(p, "abp"))
    nb.mos(f"mtn{i}", "n", f"gq{i}", "vbn", sn, "0", **size(p, "abn"))
    nb.mos(f"mqm{i}", "p", f"gq{i}", f"gq{i}", "vdd", "vdd", **size(p, "ec"))
    nb.isource(f"iqm{i}", f"gq{i}", "0", p.i_err_min_a)
    nb.isource(f"iqp{i}", "vdd", f"hq{i}", p.i_err_min_a)
    add_nstack(nb, f"mhq{i}", f"hq{i}", f"hq{i}1", size(p, "hn"))
    add_ncopy(nb, f"mqq{i}", f"hq{i}", f"hq{i}1", f"gp{i}", size(p, "hn"))
    nb.mos(f"mpq{i}", "p", f"gp{i}", f"gp{i}", "vdd", "vdd", **size(p, "ec"))
    return f"gp{i}", f"gq{i}"


def _add_a_input_half(nb: NetlistBuilder, p: LearnerParams, i: int, half: str, values: np.ndarray, args: tuple) -> None:
    """A's own input half (chopped x, c·x): PWL sink ``ixa{i}{half}`` on the pMOS diode ``mxb{i}{half}``
    (gate ``xb{i}{half}``), a pMOS copy ``mxbd{i}{half}`` into the nMOS diode ``mxa{i}{half}`` (gate
    ``gxa{i}{half}``, source ref) — :func:`netlists.learner_blocks.add_input_half` without the products."""
    gate = f"xb{i}{half}"
    _pwl(nb, f"ixa{i}{half}", gate, "0", values, *args)
    nb.mos(f"mxb{i}{half}", "p", gate, gate, "vdd", "vdd", **size(p, "xp"))
    nb.mos(f"mxbd{i}{half}", "p", f"gxa{i}{half}", gate, "vdd", "vdd", **size(p, "xp"))
    nb.mos(f"mxa{i}{half}", "n", f"gxa{i}{half}", f"gxa{i}{half}", "ref", "0", **size(p, "x"))


def tiki_taka_learner(tech: Technology, params: LearnerParams, tt: TikiTakaParams, x: np.ndarray, y: np.ndarray,
                      v_c0_v: dict[str, float]) -> Netlist:  # fmt: skip
    """Transistor-level Tiki-Taka learner driven by the stream (x_k, y_k); ``.tran`` over all holds.

    Parameters
    ----------
    tech : technology. params : the plain learner's settings (``start`` must be ``"op"``; ``dim`` =
        x.shape[1]). tt : the Tiki-Taka additions. x : inputs (K, N), scaled. y : targets (K,).
    v_c0_v : initial voltage (V) of every node of :func:`netlists.spice_learner_circuit.state_nodes`
        (C) and :func:`a_state_nodes` (A), held by ``.ic`` while the operating point is solved.

    The holds are those of :func:`netlists.spice_learner_circuit.stimulus` (settling, the chopped
    stream, the read-out probes with every cell frozen).
    """
    p = params
    if not isinstance(tt, TikiTakaParams):
        raise ParameterError(f"tiki_taka_learner: tt must be TikiTakaParams, got {type(tt).__name__}")
    if p.start != "op":
        raise ParameterError(f"tiki_taka_learner: only start='op' is built, got {p.start!r}")
    tt.check(p)
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    if x.shape[1] != p.dim or x.shape[0] != y.shape[0] or x.shape[0] < 1:
        raise ParameterError(f"tiki_taka_learner: x must have shape (K, {p.dim}) and y shape (K,), got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ParameterError("tiki_taka_learner: x and y must be finite")
    nodes = state_nodes(p.dim) + a_state_nodes(p.dim)
    missing = set(nodes) - set(v_c0_v)
    if missing:
        raise ParameterError(f"tiki_taka_learner: v_c0_v lacks {sorted(missing)}")
    if not all(np.isfinite(float(v_c0_v[n])) for n in nodes):
        raise ParameterError("tiki_taka_learner: initial state voltages must be finite")
    st = stimulus(p, x, y)
    cp = p.cell_params()
    cp_a = cp.replace(i_lambda_a=tt.lam_a / p.x_scale**2 * p.i_a_a)
    cp_c = cp.replace(i_a_a=tt.c_speed * p.i_a_a, i_lambda_a=tt.c_leak(p.lam) / p.x_scale**2 * p.i_a_a)
    nb = NetlistBuilder(f"tiki_taka_{p.dim}", tech)
    args = (p.t_hold_s, p.t_rise_s)
    add_learner_frame(nb, p, st, cp)  # start is "op" (checked above): V_DD a plain source
    # transfer bias halves R⁺ = f + R, R⁻ = f (x gates of the C cells' terms)
    chop = np.ones(st.holds)
    chop[st.first_sample:st.first_probe] = tt.chop_signs(st.first_probe - st.first_sample)
    r = tt.r_transfer_a(p)
    for s, value in (("p", p.i_floor_a + r * (chop > 0)), ("n", p.i_floor_a + r * (chop < 0))):
        if tt.chop_every:
            _pwl(nb, f"itr{s}", "vdd", f"gt{s}", value, *args)
        else:
            nb.isource(f"itr{s}", "vdd", f"gt{s}", float(value[0]))
        nb.mos(f"mtr{s}", "n", f"gt{s}", f"gt{s}", "ref", "0", **size(p, "x"))
    # the A halves' holding drive: I_h = λ_A·I_w0 through a third term on a unit diode (gate gtb)
    nb.isource("itb", "vdd", "gtb", p.i_u_a)
    nb.mos("mtb", "n", "gtb", "gtb", "ref", "0", **size(p, "x"))
    for i in range(p.dim):
        halves = dict(zip(HALVES, split_currents(st.x[:, i], p.x_scale, p.i_u_a, p.i_floor_a)))
        for s in HALVES:
            add_input_half(nb, p, i, s, lambda name, a, b, v=halves[s]: _pwl(nb, name, a, b, v, *args))
        if tt.chop_every:
            for s, v in zip(HALVES, split_currents(chop * st.x[:, i], p.x_scale, p.i_u_a, p.i_floor_a)):
                _add_a_input_half(nb, p, i, s, v, args)
    xg = "gxa" if tt.chop_every else "gx"
    for i in range(p.dim):
        for a, b in (("p", "n"), ("n", "p")):
            # A half: the plain learner's cell with the leak λ_A
            pre = f"u{i}{a}"
            for sign in HALVES:
                nb.mos(f"{pre}mc{sign}", "p", f"{pre}ie{sign}", f"ge{sign}", "vdd", "vdd", **size(p, "ec"))
            nb.isource(f"i{pre}uz", "vdd", f"{pre}iez", p.i_u_a)
            nb.isource(f"i{pre}hold", "vdd", f"{pre}ih", tt.lam_a / p.x_scale**2 * p.i_w0_a)
            terms = [(f"{pre}iep", f"{xg}{i}{a}"), (f"{pre}ien", f"{xg}{i}{b}"), (f"{pre}ih", "gtb")]
            add_weight_cell(nb, cp_a, pre, vc=f"va{i}{a}", terms=terms, sink_terms=[(f"{pre}iez", f"gza{i}")], freeze="fz")
            # copy of A^a for the transfer terms
            nb.mos(f"mac{i}{a}", "n", f"ad{i}{a}", f"va{i}{a}", "ref", "0", **size(p, "out"))
            nb.mos(f"mad{i}{a}", "p", f"ad{i}{a}", f"ad{i}{a}", "vdd", "vdd", **size(p, "ec"))
        _add_a_common_mode(nb, p, i)
        if tt.transfer_split == "class-ab":
            src = dict(zip(HALVES, _add_transfer_split(nb, p, i)))
        else:
            src = {s: f"ad{i}{s}" for s in HALVES}
        for a in HALVES:
            # C half: transfer terms (A^s, R^(+ if s = a else −))
            pre = f"w{i}{a}"
            terms = []
            for s in HALVES:
                nb.mos(f"{pre}ma{s}", "p", f"{pre}ia{s}", src[s], "vdd", "vdd", **size(p, "ec"))
                terms.append((f"{pre}ia{s}", "gtp" if s == a else "gtn"))
            nb.isource(f"i{pre}uz", "vdd", f"{pre}iez", p.i_u_a)
            add_weight_cell(nb, cp_c, pre, vc=f"vc{i}{a}", terms=terms, sink_terms=[(f"{pre}iez", f"gz{i}")], freeze="fz")
        add_common_mode(nb, p.replace(cm_gain=tt.cm_gain_c), i)
        for a in HALVES:
            for b in HALVES:
                add_product(nb, p, i, a, b)
    add_target_unit(nb, p)
    for half, values in zip(HALVES, split_currents(st.y, p.y_scale, p.i_u_a, p.i_floor_a)):
        add_target_half(nb, p, half, lambda name, a, b, v=values: _pwl(nb, name, a, b, v, *args))
    add_error_path(nb, p)
    nb.initial_conditions({node: float(v_c0_v[node]) for node in nodes})
    if p.save == "read":
        nb.save(devices=tuple(tiki_taka_read_devices(p.dim)), sources=tuple(nb.netlist.supplies))
        nb.probe_regions()
    step = p.t_hold_s / p.points_per_hold
    nb.analysis(Analysis("tran", step=step, stop=st.holds * p.t_hold_s, max_step=step))
    return nb.build()
