"""The learner cell's charging-current noise in the behavioural loop: its scale and its per-die streams.

Cell noise (``noise_rel``, :func:`netlists.noise.measure_cell_noise`). The measurement gives σ_I, the
rms noise current into a cell's storage node over the band [1/(samples·T_s), 1/(2·T_s)], relative to
the charging current of the unit update, ``noise_rel = σ_I/I_drive`` with I_drive = I_A·I_u/I_w. The
node integrates it: C·dV_C = δI·dt and I_w = I_0·e^{κV_C/U_T}, so over one hold
δI_w = (κ I_w/(U_T C))·∫_hold δI dt. Noise white up to f_hi = 1/(2 T_s) (one-sided density S,
σ_I² = S·f_hi) integrates over a hold T_s to a charge of variance S·T_s/2 = σ_I²·T_s² (:mod:`netlists.noise`'s
"I_drive·T_s ± σ_I·T_s"), and charges of different holds are independent (the band's samples at
1/(2 f_hi) = T_s apart are uncorrelated; what lies below f_lo is drift, not in this figure). So,
with σ_I = noise_rel·I_A·I_u/I_w and τ = C U_T/(κ I_A), per hold and per half, in units of I_u::

    σ_W = (κ I_w/(U_T C))·noise_rel·(I_A I_u/I_w)·T_s / I_u = noise_rel · T_s/τ   (= noise_rel·η·s_x²)

independent of W (the drive scales as 1/I_w, the node's gain as I_w) — the scaled weight w = s_w·(W⁺ − W⁻)
thus moves by s_w·√2·σ_W per hold, of which s_w·σ_W is ``sigma_w_per_hold`` of the measurement. The
loop adds σ_W·ξ to each half of each weight once per hold, after the hold's integration, ξ standard
normal, independent between halves, weights, holds and dies; τ is the design τ (the kernel's time
unit: the fitted rate ``rate_scale`` changes the drive, not the absolute noise charge). Each die's ξ
come from two 64-bit keys of its stream block (:func:`noise_keys`, ``SeedSequence(seed,
spawn_key=(block, NOISE_STREAM))``, separate from the mismatch stream) and the hold's index, so a die
depends only on (seed, its index) as for its gains. Not modelled: how the noise scales away from the
unit drive, I_w = ``w_init`` and the design's η (its I_A) where it was measured, and the noise of the circuits that make
I_A, I_u, I_e and I_x (the measurement's ideal sources).

The draws themselves are formed inside the loop (:mod:`logdomain._learner_kernel`, counter-based:
nothing is stored for any number of dies, weights or holds).

References: :mod:`netlists.noise` (the measurement); P. J. Acklam, "An algorithm for computing the
inverse normal cumulative distribution function" (2003; the quantile the draws use); G. Steele et al.,
"Fast splittable pseudorandom number generators", OOPSLA 2014 (splitmix64's finaliser).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .learner_model import DIE_BLOCK, _block_span

__all__ = ["noise_keys", "NOISE_STREAM", "sigma_w"]

#: spawn-key word of the cell-noise streams: block b's keys come from SeedSequence(seed, spawn_key=(b, NOISE_STREAM))
NOISE_STREAM = 0x6E6F6973


def noise_keys(seed: int, first_die: int, dies: int) -> NDArray[np.uint64]:
    """(dies, 2) uint64 keys of the cell noise of dies ``first_die …`` (module docstring): die k takes
    row k % DIE_BLOCK of ``SeedSequence(seed, spawn_key=(k // DIE_BLOCK, NOISE_STREAM))``'s state
    words, so its noise depends only on (seed, k)."""
    b0, b1 = _block_span(first_die, dies)
    words = np.concatenate([np.random.SeedSequence(seed, spawn_key=(blk, NOISE_STREAM)).generate_state(2 * DIE_BLOCK, np.uint64)
                            .reshape(DIE_BLOCK, 2) for blk in range(b0, b1)])  # fmt: skip
    start = first_die - b0 * DIE_BLOCK
    return np.ascontiguousarray(words[start:start + dies])


def sigma_w(noise_rel: float, hold: float) -> float:
    """σ_W = noise_rel·T_s/τ: rms step of one weight half per hold, units of I_u (``hold`` = T_s/τ, the
    hold in the cells' design time constants, η·s_x²; ``noise_rel`` dimensionless)."""
    return float(noise_rel) * float(hold)
