"""Behavioural model of the transistor-level learner *as built* (:mod:`netlists.spice_learner_circuit`).

The state is the pair of each weight, W⁺ and W⁻ (currents in units of I_u), not w alone, so that
the common mode S = W⁺ + W⁻, its feedback, and every path by which a gain difference between the
halves turns common mode into drift of w are in the model. Per hold k the bench applies
(x̃, ỹ) = s_k·(x_k, y_k) (s_k = (−1)^k when chopping) and, in units of I_u, with time in units of the
cells' τ (a hold lasts η·s_x²)::

    X_i^± = f_x + max(±x̃_i, 0)/s_x,      Y^± = g_y^±·(f_x + max(±ỹ, 0)/s_y)      (input halves)
    P = Σ_i h_i^{++} W_i⁺X_i⁺ + h_i^{−−} W_i⁻X_i⁻,   Q = Σ_i h_i^{+−} W_i⁺X_i⁻ + h_i^{−+} W_i⁻X_i⁺
    E = g_a·(Y⁺ + Q) − g_b·(Y⁻ + P)                                                 (error by KCL)
    e^± = c^±·[√(E²/4 + φ f_e²) ± E/2 + f₂]                  (class-AB split; φ: e⁺e⁻ = φ f_e² before f₂)
    S_i = σ_i⁺W_i⁺ + σ_i⁻W_i⁻,   Z_i = β·ζ_i·max(S_i − S₀·σ_i⁰, 0)                  (common mode)
    dW_i^a/dt = ρ·[G_i^a·(T_i^{a,+} e⁺ u_i^a X_i^a + T_i^{a,−} e⁻ u_i^b X_i^b) − L_i^a·Z_i] − (λ_c + λ_o)·W_i^a

(a ∈ {+, −}, b the other half). Every gain is a product of a nominal factor fitted to SPICE runs of
the learner's own blocks (:class:`calibration.schema.LearnerFit`) and a mismatch factor built the
way the circuit builds it, from one threshold offset per device (Pelgrom, σ(ΔV_T) = A_VT/√(W·L)
at that device's size, a weak-inversion gain e^{−ΔV_T/(n U_T)}), e.g. the prediction product
h_i^{ab} = (x copy/x diode)·(m3/mw_a)·(mu0/m4); shared devices (mu0, each cell's mw, each input's
diode) are shared here too. :data:`DEVICE_ROLES` lists every device role the model samples and the
size field it takes. Cascode devices (the lower device of a stack or copy) and feedback devices
enter no current ratio to first order and are not sampled.

Read-out, as the bench does it: with the weights frozen, the effective weight of input i is
``w_i = s_w·[(h^{++}W⁺ − h^{−+}W⁻) + (h^{+−}W⁺ − h^{−−}W⁻)]/2`` (the chopped average of the prediction
path's slopes for x_i > 0 and x_i < 0); without chopping, predictions use both slopes and the offset.

Cell noise (``noise_rel``): per hold each half of each weight gets σ_W·ξ, σ_W = noise_rel·T_s/τ in units
of I_u, ξ from the die's own noise stream; derived in :mod:`logdomain.cell_noise`.

References: :mod:`netlists.spice_learner_circuit` (derivation of the law and of each block);
M. J. M. Pelgrom et al., IEEE J. Solid-State Circuits 24, 1433 (1989).
"""

from __future__ import annotations

import dataclasses
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from .leakage_shift import LeakageShift

__all__ = ["LearnerModel", "LearnerDies", "DEVICE_ROLES", "MISMATCH_GROUPS", "NOMINAL_FIELDS", "DIE_BLOCK", "die_normals"]

FloatArray = NDArray[np.float64]

#: device role → (polarity, size group of :class:`netlists.spice_learner_circuit.LearnerParams`)
DEVICE_ROLES: dict[str, tuple[str, str]] = {
    "mxi": ("p", "xp"), "mxd": ("p", "xp"), "mxq": ("p", "xp"), "mx": ("n", "x"),       # x inputs
    "q_m3": ("n", "out"), "q_m4": ("n", "q"), "mu0": ("n", "q"),                          # products
    "myi": ("p", "yp"), "myq": ("p", "yp"), "qy_m3": ("n", "qy"), "mwy": ("n", "qy"), "qy_m4": ("n", "q"),
    "mw": ("n", "out"), "m1": ("n", "out"), "m3": ("n", "m"), "mpa": ("p", "p"), "mpc": ("p", "p"),  # cell
    "m4": ("n", "m"), "m5": ("n", "x"), "mc": ("p", "ec"),                                 # update terms
    "m4z": ("n", "m"), "m5z": ("n", "x"),                                                  # sink term
    "msense": ("n", "out"), "mso": ("p", "zc"), "ms0": ("p", "zc"), "mz": ("p", "zcd"), "mzc": ("p", "zc"),
    "mgz": ("n", "x"),                                                                     # common mode
    "mda": ("p", "e"), "mca": ("p", "e"), "mdb": ("p", "e"), "mcb": ("p", "e"), "mnb": ("n", "en"), "mkb": ("n", "en"),
    "mabp": ("p", "abp"), "mabn": ("n", "abn"), "mrp": ("p", "abp"), "mrn": ("n", "abn"),
    "mhp": ("n", "hn"), "mqp": ("n", "hn"), "mep": ("p", "ec"), "mem": ("p", "ec"),        # error path
}

#: error-budget groups: name → device roles whose mismatch the group switches on
MISMATCH_GROUPS: dict[str, tuple[str, ...]] = {
    "inputs": ("mxi", "mxd", "mxq", "mx"),
    "targets": ("myi", "myq", "qy_m3", "mwy", "qy_m4"),
    "products": ("q_m3", "q_m4", "mu0"),
    "cell loop": ("mw", "m1", "m3"),
    "cell mirror": ("mpa", "mpc"),
    "update terms": ("m4", "m5", "mc"),
    "common mode": ("m4z", "m5z", "msense", "mso", "ms0", "mz", "mzc", "mgz"),
    "error path": ("mda", "mca", "mdb", "mcb", "mnb", "mkb", "mabp", "mabn", "mrp", "mrn", "mhp", "mqp", "mep", "mem"),
}

#: nominal (die-independent) block gains fitted to SPICE, and their ideal values
NOMINAL_FIELDS: dict[str, float] = {
    "rate_scale": 1.0, "term_gain": 1.0, "z_gain": 1.0, "fwd_gain": 1.0, "target_gain": 1.0,
    "err_gain_a": 1.0, "err_gain_b": 1.0, "e_plus_gain": 1.0, "e_minus_gain": 1.0, "ab_floor_gain": 1.0, "lam_offset": 0.0,
}


def _finite(name: str, value: Any, low: float, high: float) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high:
        raise ValueError(f"LearnerModel.{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class LearnerModel:
    """Design, nominal block gains and mismatch of the pseudo-differential learner (units of I_u).

    Parameters
    ----------
    x_floor : float
        Floor f_x of the one-sided input and target halves (``i_floor_a/i_u_a``).
    err_floor, err_min : float
        f_e and f₂ of the class-AB error split.
    cm_set, cm_gain : float
        Common-mode set point S₀ (``i_cm_a/i_u_a``) and feedback gain β.
    w_init : float
        W⁺ = W⁻ at the start of training.
    x_scale, w_scale : float
        s_x, s_w; targets use s_y = s_w·s_x.
    chop : bool
        Alternate the sign of (x, y) every sample and read predictions as the chopped average.
    nominal : mapping
        Fitted block gains (keys of :data:`NOMINAL_FIELDS`; ``lam_offset`` is an extra decay λ_o of
        each half, in the cells' λ units; ``rate_scale`` = τ_design/τ of the cells).
    sizes_m : mapping size group → (W, L) in m
        Device sizes of the learner (mismatch scales as 1/√(W·L)).
    a_vt_v_m : mapping polarity → A_VT (V·m); slope_factor : mapping polarity → n; temp_c : °C.
    mismatch_groups : tuple of str or None
        Groups of :data:`MISMATCH_GROUPS` with mismatch on (None: all; () : none).
    bits : int or None
        Resolution of inputs, targets and weight read-out over [−1, 1].
    leakage : LeakageShift or None
        The storage node's leakage against temperature (:class:`logdomain.leakage_shift.LeakageShift`,
        from the calibration's ``leakage`` section); None: no temperature dependence of λ_o (files
        made without that section). :meth:`at_temperature` uses it.
    noise_rel : float, default 0
        Relative rms noise of a cell's charging current per update (σ_I over the unit drive,
        dimensionless, [0, 1]; ``calibration.blocks.noise_rel``). The loop adds σ_W = noise_rel·T_s/τ
        (units of I_u) per half per hold (:mod:`logdomain.cell_noise`); 0: no noise, nothing drawn.
    """

    x_floor: float = 0.1
    err_floor: float = 0.02
    err_min: float = 0.04
    cm_set: float = 1.0
    cm_gain: float = 0.5
    w_init: float = 0.55
    x_scale: float = 1.0
    w_scale: float = 2.0
    chop: bool = True
    nominal: Mapping[str, float] = field(default_factory=dict)
    sizes_m: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    a_vt_v_m: Mapping[str, float] = field(default_factory=lambda: {"n": 0.0, "p": 0.0})
    slope_factor: Mapping[str, float] = field(default_factory=lambda: {"n": 1.4, "p": 1.3})
    temp_c: float = 27.0
    mismatch_groups: tuple[str, ...] | None = None
    bits: int | None = None
    noise_rel: float = 0.0
    leakage: Any = None

    def __post_init__(self) -> None:
        for name, low, high in (("x_floor", 0.0, 10.0), ("err_floor", 0.0, 10.0), ("err_min", 0.0, 10.0),
                                ("cm_set", 1e-3, 100.0), ("cm_gain", 1e-3, 100.0), ("w_init", 1e-3, 100.0),
                                ("x_scale", 0.1, 100.0), ("w_scale", 0.1, 100.0), ("temp_c", -55.0, 150.0),
                                ("noise_rel", 0.0, 1.0)):  # fmt: skip
            object.__setattr__(self, name, _finite(name, getattr(self, name), low, high))
        if not isinstance(self.chop, bool):
            raise ValueError(f"LearnerModel.chop must be True or False, got {self.chop!r}")
        unknown = sorted(set(self.nominal) - set(NOMINAL_FIELDS))
        if unknown:
            raise ValueError(f"LearnerModel.nominal has unknown keys {unknown}; allowed: {', '.join(NOMINAL_FIELDS)}")
        nominal = dict(NOMINAL_FIELDS)
        for key, value in self.nominal.items():
            low, high = (-1.0, 1.0) if key == "lam_offset" else (0.1, 10.0)
            nominal[key] = _finite(f"nominal[{key!r}]", value, low, high)
        object.__setattr__(self, "nominal", nominal)
        for pol in ("n", "p"):
            _finite(f"a_vt_v_m[{pol!r}]", self.a_vt_v_m.get(pol), 0.0, 1e-6)
            _finite(f"slope_factor[{pol!r}]", self.slope_factor.get(pol), 1.0, 3.0)
        if self.mismatch_groups is not None:
            bad = sorted(set(self.mismatch_groups) - set(MISMATCH_GROUPS))
            if bad:
                raise ValueError(f"LearnerModel.mismatch_groups has unknown groups {bad}; allowed: {', '.join(MISMATCH_GROUPS)}")
            object.__setattr__(self, "mismatch_groups", tuple(self.mismatch_groups))
        if self.bits is not None and (isinstance(self.bits, bool) or not isinstance(self.bits, int) or not 1 <= self.bits <= 32):
            raise ValueError(f"LearnerModel.bits must be None or an integer in [1, 32], got {self.bits!r}")
        if self.leakage is not None and not isinstance(self.leakage, LeakageShift):
            raise ValueError(f"LearnerModel.leakage must be a LeakageShift or None, got {type(self.leakage).__name__}")
        if self.mismatch_on:
            missing = sorted({DEVICE_ROLES[r][1] for r in self._active_roles()} - set(self.sizes_m))
            if missing:
                raise ValueError(f"LearnerModel.sizes_m lacks size groups {missing} (needed for the mismatch of their devices)")

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_learner_params(cls, params: Any, **kw: Any) -> "LearnerModel":
        """Design values and sizes of a :class:`netlists.spice_learner_circuit.LearnerParams`."""
        p, iu = params, params.i_u_a
        sizes = {g: (getattr(p, f"w_{g}_m"), getattr(p, f"l_{g}_m")) for g in _size_groups(p)}
        sizes["zcd"] = (p.w_zc_m / p.cm_gain, p.l_zc_m)
        return cls(x_floor=p.i_floor_a / iu, err_floor=p.i_err_floor_a / iu, err_min=p.i_err_min_a / iu,
                   cm_set=p.i_cm_a / iu, cm_gain=p.cm_gain, w_init=p.i_w0_a / iu, x_scale=p.x_scale,
                   w_scale=p.w_scale, chop=p.chop == "on", sizes_m=sizes, temp_c=p.temp_c, **kw)  # fmt: skip

    @classmethod
    def from_calibration(cls, calibration: Any, *, bits: int | None = None) -> "LearnerModel":
        """The model of the learner a calibration describes.

        Design and sizes from ``calibration.learner.design`` (the learner's ``LearnerParams``), the
        nominal block gains fitted to SPICE from ``calibration.learner.nominal``, the common-mode
        feedback's realised β and S₀ from ``learner.diagnostics`` (``cm_gain_ratio``, ``cm_set_ratio``), A_VT per polarity
        from ``calibration.mismatch`` (the PDK's Monte Carlo), n per polarity from the device fits, the
        cell's noise from ``calibration.blocks.noise_rel`` (0 in files that did not measure it).
        """
        from netlists.spice_learner_circuit import LearnerParams

        fit = getattr(calibration, "learner", None)
        if fit is None:
            raise ValueError("this calibration has no learner section (schema version 1): regenerate it with `logdomain calibrate`")
        params = LearnerParams(**fit.design)
        nominal = {k: v for k, v in fit.nominal.items() if k in NOMINAL_FIELDS}
        m, dev = calibration.mismatch, calibration.devices
        model = cls.from_learner_params(
            params, nominal=nominal, a_vt_v_m={"n": m.a_vt_n_v_m, "p": m.a_vt_p_v_m},
            slope_factor={"n": dev["n"].n, "p": dev["p"].n}, bits=bits,
        )
        # the common-mode loop as realised (its bench: Z against S), not as drawn: sky130's pMOS are
        # binned in W, so the β-scaled copy (W_zc against W_zc/β) realises 1.9 β on sky130 tt
        diag = fit.diagnostics or {}
        blocks = getattr(calibration, "blocks", None)
        return model.replace(cm_gain=model.cm_gain * float(diag.get("cm_gain_ratio", 1.0)),
                             cm_set=model.cm_set * float(diag.get("cm_set_ratio", 1.0)),
                             noise_rel=float(getattr(blocks, "noise_rel", 0.0) or 0.0),
                             leakage=LeakageShift.from_calibration(calibration, params, model.nominal["lam_offset"]))

    def replace(self, **changes: Any) -> "LearnerModel":
        return dataclasses.replace(self, **changes)

    def at_temperature(self, temp_c: float) -> "LearnerModel":
        """The model at an operating temperature ``temp_c`` (°C): each half's λ offset becomes
        λ_o(T) = λ_o(T_cal) − [I_j(T) − I_j(T_cal)]/I_A(T), the law fitted to the working cell's λ_o(T)
        (:mod:`logdomain.leakage_shift`, which derives it), and ``temp_c`` = T (the mismatch's gain spread σ_VT/(n·U_T) follows U_T).

        At the calibration's temperature it returns this model unchanged. Raises ValueError outside the
        leakage fit's measured range, and for any other temperature when the model has no leakage
        (``leakage`` None: a calibration without a leakage section has no temperature dependence).
        """
        lam = LeakageShift.lam_offset_of(self.leakage, self.temp_c, self.nominal["lam_offset"], temp_c)
        if temp_c == self.temp_c and self.nominal["lam_offset"] == lam:
            return self
        return self.replace(temp_c=float(temp_c), nominal={**self.nominal, "lam_offset": lam})

    # -- mismatch ----------------------------------------------------------------------------------
    @property
    def mismatch_on(self) -> bool:
        return any(self.a_vt_v_m.get(p, 0.0) > 0 for p in ("n", "p")) and self.mismatch_groups != ()

    def _active_roles(self) -> set[str]:
        groups = MISMATCH_GROUPS if self.mismatch_groups is None else {g: MISMATCH_GROUPS[g] for g in self.mismatch_groups}
        return {r for roles in groups.values() for r in roles}

    def sigma(self, role: str) -> float:
        """σ of ln(current gain) of one device of ``role`` (Pelgrom at its size), dimensionless."""
        pol, group = DEVICE_ROLES[role]
        w, l = self.sizes_m[group]
        ut = 8.617333262e-5 * (self.temp_c + 273.15)
        return self.a_vt_v_m[pol] / math.sqrt(w * l) / (self.slope_factor[pol] * ut)

    def sample_dies(self, dies: int, dim: int, seed: int = 0, first_die: int = 0, dtype: type = np.float64) -> "LearnerDies":
        """Per-die gains (the model's mismatch) of dies ``first_die … first_die + dies − 1`` of a
        ``dim``-input learner; a die's gains depend only on (seed, its index, dim). ``dtype``
        (float64 or float32) is the precision of the gains; the normals are drawn in float64 either way."""
        return LearnerDies.sample(self, dies, dim, seed, first_die, dtype)


def _size_groups(p: Any) -> tuple[str, ...]:
    from netlists.spice_learner_circuit import SIZE_GROUPS

    return SIZE_GROUPS


@dataclass(frozen=True)
class LearnerDies:
    """Composite gains of each die (arrays over (dies, …)), as :mod:`logdomain.learner_model` defines them.

    ``fwd`` (dies, D, 2, 2): h_i^{ab} (a: weight half, b: input half; 0 = +, 1 = −);
    ``upd_x`` (dies, D, 2): u_i^b, the update path's copy of input half b;
    ``cell`` (dies, D, 2): G_i^a (loop and mirror); ``loop`` (dies, D, 2): L_i^a (loop, no mirror);
    ``term`` (dies, D, 2, 2): T_i^{a,s} (s: e⁺ = 0, e⁻ = 1); ``sense`` (dies, D, 2), ``s0`` (dies, D),
    ``zeta`` (dies, D); ``target`` (dies, 2); ``err`` (dies, 2): g_a, g_b; ``e_gain`` (dies, 2): c^±;
    ``floor2`` (dies,): φ.
    """

    fwd: FloatArray
    upd_x: FloatArray
    cell: FloatArray
    loop: FloatArray
    term: FloatArray
    sense: FloatArray
    s0: FloatArray
    zeta: FloatArray
    target: FloatArray
    err: FloatArray
    e_gain: FloatArray
    floor2: FloatArray

    @classmethod
    def sample(cls, model: LearnerModel, dies: int, dim: int, seed: int, first_die: int = 0,
               dtype: type = np.float64) -> "LearnerDies":
        """Gains of dies ``first_die … first_die + dies − 1`` of a ``dim``-input learner.

        Every die has its own row of standard normals (:func:`die_normals`), so a die's gains depend
        only on (seed, its index, dim) — not on how many dies are drawn with it, nor on which
        mismatch groups are on (a group that is off multiplies its normals by σ = 0): runs over
        chunks of dies, or with a cause switched off, see the same dies.
        """
        d = dim
        active = model._active_roles() if model.mismatch_on else set()  # noqa: SLF001
        slots = _slots(d)
        sizes = [int(np.prod(shape, dtype=np.int64)) for _, _, shape in slots]
        sigmas = [math.sqrt(sum(model.sigma(r) ** 2 for r in roles if r in active)) for _, roles, _ in slots]
        scale = np.repeat(sigmas, sizes)
        b0, b1 = _block_span(first_die, dies)

        def part(blocks: range) -> "LearnerDies":
            """Draw, scale (ln gains, in ``dtype``) and compose the dies of some stream blocks."""
            lo = max(first_die - blocks[0] * DIE_BLOCK, 0)
            hi = min(first_die + dies - blocks[0] * DIE_BLOCK, len(blocks) * DIE_BLOCK)
            if not scale.any():  # no mismatch on: every gain nominal, nothing to draw
                return cls._compose(model, np.zeros((hi - lo, scale.size), dtype), slots, sizes, d, dtype)
            return cls._compose(model, _scaled_normals(seed, blocks, scale, dtype)[lo:hi], slots, sizes, d, dtype)

        # blocks split between threads (numpy releases the GIL in its generators and ufuncs); a die's
        # values come from its own block's stream, so the split does not change them
        n_blocks = b1 - b0
        threads = min(n_blocks, os.cpu_count() or 1, max(1, dies // 128))
        edges = np.linspace(b0, b1, threads + 1).round().astype(int)
        spans = [range(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:])]
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(part, spans))
            return cls(*(np.concatenate([getattr(q, f) for q in parts]) for f in cls.__dataclass_fields__))
        return part(spans[0])

    @classmethod
    def _compose(cls, model: LearnerModel, logs: FloatArray, slots: list, sizes: list[int], d: int,
                 dtype: type) -> "LearnerDies":
        """The composite gains of dies whose slots' ln(gain) are the rows of ``logs``."""
        dies = logs.shape[0]
        lg: dict[str, FloatArray] = {}
        at = 0
        for (name, _, shape), size in zip(slots, sizes):
            lg[name] = logs[:, at:at + size].reshape((dies, *shape))
            at += size
        nom = model.nominal
        e = np.exp
        lw = lg["mw"]
        fwd = nom["fwd_gain"] * e(lg["fwd"] - lg["mxi"][:, :, None, :] - lw[:, :, :, None] + lg["mu0"][..., None])
        upd_x = e(lg["mxd"] - lg["mxi"])  # the copy into the x diode mx (m5 over mx is in ``term``)
        l_loop = lw + lg["loop"]
        cell = e(l_loop + lg["mirror"])
        # term (i, a, s): e^s copy (mc over its diode mep/mem), m5 over the x diode it sits on, m4
        e_diode = np.stack([lg["mep"][:, 0], lg["mem"][:, 0]], axis=-1)[:, None, None, :]   # (dies, 1, 1, 2)
        x_of = np.stack([lg["mx"], lg["mx"][:, :, ::-1]], axis=-1)                          # (i, a, s): half a for e⁺, b for e⁻
        term = nom["term_gain"] * e(lg["term"] - e_diode - x_of)
        sense = e(lg["msense"] - lw)
        s0 = e(lg["mso"] - lg["ms0"])
        zeta = e(lg["zeta"])
        loop = nom["z_gain"] * e(l_loop + lg["sink"] - lg["mgz"][:, :, None])
        target = nom["target_gain"] * e(lg["target"] - lg["mwy"] + lg["mu0"][:, :, 0])
        err = np.column_stack([nom["err_gain_a"] * e(lg["err_a"][:, 0]), nom["err_gain_b"] * e(lg["err_b"][:, 0])])
        e_gain = np.column_stack([nom["e_plus_gain"] * e(lg["e_plus"][:, 0]), np.full(dies, nom["e_minus_gain"], dtype)])
        floor2 = nom["ab_floor_gain"] * e(lg["floor"][:, 0])
        return cls(fwd, upd_x, cell, loop, term, sense, s0, zeta, target, err, e_gain, floor2)


#: dies per random stream: die k uses row k % DIE_BLOCK of block k // DIE_BLOCK
DIE_BLOCK = 64


def _slots(d: int) -> list[tuple[str, tuple[str, ...], tuple[int, ...]]]:
    """(slot, device roles, shape per die) in draw order. Devices that enter one composite gain only,
    and only there, share one normal with the root-sum-square σ of those that are on (same
    distribution, fewer draws): e.g. the prediction product's x copy, m3 and m4 (mxq·q_m3/q_m4)."""
    return [
        ("mxi", ("mxi",), (d, 2)), ("mxd", ("mxd",), (d, 2)), ("mx", ("mx",), (d, 2)), ("mw", ("mw",), (d, 2)),
        ("loop", ("m3", "m1"), (d, 2)), ("mirror", ("mpc", "mpa"), (d, 2)), ("sink", ("m5z", "m4z"), (d, 2)),
        ("msense", ("msense",), (d, 2)),
        ("fwd", ("mxq", "q_m3", "q_m4"), (d, 2, 2)), ("term", ("mc", "m5", "m4"), (d, 2, 2)),
        ("mso", ("mso",), (d,)), ("zeta", ("mzc", "mz"), (d,)), ("mgz", ("mgz",), (d,)),
        ("target", ("myq", "myi", "qy_m3", "qy_m4"), (2,)),
        ("mu0", ("mu0",), (1, 1)), ("ms0", ("ms0",), (1,)), ("mwy", ("mwy",), (1,)), ("mep", ("mep",), (1,)),
        ("mem", ("mem",), (1,)), ("err_a", ("mca", "mda"), (1,)), ("err_b", ("mcb", "mdb", "mkb", "mnb"), (1,)),
        ("floor", ("mabp", "mabn", "mrp", "mrn"), (1,)), ("e_plus", ("mqp", "mhp"), (1,)),
    ]  # fmt: skip


def _block_span(first_die: int, dies: int) -> tuple[int, int]:
    """(first, last + 1) stream block of dies ``first_die … first_die + dies − 1``."""
    if dies < 1 or first_die < 0:
        raise ValueError(f"dies must be >= 1 and first_die >= 0, got {dies} and {first_die}")
    return first_die // DIE_BLOCK, (first_die + dies - 1) // DIE_BLOCK + 1


def _scaled_normals(seed: int, blocks: range, scale: FloatArray, dtype: type) -> FloatArray:
    """(len(blocks)·DIE_BLOCK, n) standard normals of whole stream blocks, times ``scale`` (n,), in
    ``dtype``: block b draws its rows from ``SeedSequence(seed, spawn_key=(b,))``, in float64."""
    out = np.empty((len(blocks) * DIE_BLOCK, scale.size), dtype)
    xi = np.empty((DIE_BLOCK, scale.size))
    for j, blk in enumerate(blocks):
        np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(blk,)))).standard_normal(out=xi)
        np.multiply(xi, scale, out=out[j * DIE_BLOCK:(j + 1) * DIE_BLOCK], casting="same_kind")
    return out


def die_normals(seed: int, first_die: int, dies: int, n: int) -> FloatArray:
    """(dies, n) standard normals of dies ``first_die …``, the draws :meth:`LearnerDies.sample` scales
    by each slot's σ: die k is row k % DIE_BLOCK of stream block k // DIE_BLOCK."""
    b0, b1 = _block_span(first_die, dies)
    start = first_die - b0 * DIE_BLOCK
    return _scaled_normals(seed, range(b0, b1), np.ones(n), np.float64)[start:start + dies]

