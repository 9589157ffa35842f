"""Feedforward-tied energy-based models (ff-EBM, Nest & Ernoult 2024) with analog energy-based blocks.

Architecture (``n_blocks`` = 1 or 2)::

    h₀ = x (standardised features)
    for each block i:   a_i = h_i·W_i + b_i            (digital, numpy)
                        u_i = V_in·tanh(a_i)           (V: the block's input sources, |u| < V_in)
                        v_i = EBM_i(u_i)               (V: the block's free operating point)
                        h_{i+1} = v_i / V_s            (V_s = :data:`V_SCALE_V`)
    logits = h_n·W_r + b_r,   L = mean cross-entropy

Gradients: backprop through the digital parts; through each energy-based block either equilibrium
propagation (two nudged operating points, ``gradient="ep"``; SPICE or behavioural blocks) or implicit
differentiation of the behavioural block (``gradient="exact"``, the baseline). The block receives
``c = ∂L/∂v`` from above and returns ``dL/dg`` (its conductances) and ``dL/du`` (its inputs), which
backprop carries into the layer below — the hybrid scheme of Nest & Ernoult.

Parameters are updated with Adam; conductances are trained as θ = g/g_unit (g_unit = ``g_init_s``)
and clipped to the block's range ``[g_min_s, g_max_s]`` after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from netlists.ebm_block import EbmBlockParams, EbmWeights
from netlists.params import Bound, Params

__all__ = ["FfEbmConfig", "FfEbm", "train_ffebm", "load_dataset", "V_SCALE_V", "V_IN_V"]

#: output voltage that maps to 1 in the next digital layer, V
V_SCALE_V = 0.1
#: input voltage scale: u = V_IN·tanh(a), V
V_IN_V = 0.35


@dataclass(frozen=True, kw_only=True)
class FfEbmConfig(Params):
    """Training settings (validated like every parameter object).

    Attributes
    ----------
    n_blocks : energy-based blocks (1 or 2).
    hidden : inputs of each block (width of the digital layer before it).
    block_out : output nodes of each block.
    epochs, batch_size : passes over the training set, samples per update.
    lr : Adam step size (on digital weights and on θ = g/g_unit).
    seed : initialisation and minibatch order.
    """

    n_blocks: int = 1
    hidden: int = 16
    block_out: int = 12
    epochs: int = 20
    batch_size: int = 32
    lr: float = 0.01
    seed: int = 0
    _bounds: ClassVar[dict[str, Bound]] = {
        "n_blocks": Bound(1, 2, "", integer=True),
        "hidden": Bound(1, 64, "", integer=True),
        "block_out": Bound(1, 32, "", integer=True),
        "epochs": Bound(1, 1000, "", integer=True),
        "batch_size": Bound(1, 4096, "", integer=True),
        "lr": Bound(1e-6, 1.0, ""),
        "seed": Bound(0, 2**31 - 1, "", integer=True),
    }


class _Adam:
    def __init__(self, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            mhat = m / (1 - self.b1**self.t)
            vhat = v / (1 - self.b2**self.t)
            params[k] -= self.lr * mhat / (np.sqrt(vhat) + self.eps)


@dataclass
class FfEbm:
    """The network's parameters; ``blocks`` are objects with ``params``, ``set_weights``, and the
    gradient interface of :class:`~logdomain.ep.behavioural.BehaviouralEbmBlock` /
    :class:`~logdomain.ep.spice_block.SpiceEbmBlock` (wrapped by :func:`train_ffebm`)."""

    block_params: list[EbmBlockParams]
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def init(cls, n_features: int, n_classes: int, config: FfEbmConfig, block_params: EbmBlockParams) -> "FfEbm":
        """Random initial parameters from ``config.seed`` (the same for every gradient mode)."""
        rng = np.random.default_rng(config.seed)
        net = cls([])
        width = n_features
        for i in range(config.n_blocks):
            p = block_params.replace(n_in=config.hidden, n_out=config.block_out)
            net.block_params.append(p)
            net.weights[f"W{i}"] = rng.normal(0, 1 / np.sqrt(width), (width, config.hidden))
            net.weights[f"b{i}"] = np.zeros(config.hidden)
            g = EbmWeights.random(p, rng, spread=0.5).flat()
            net.weights[f"theta{i}"] = g / p.g_init_s
            width = config.block_out
        net.weights["Wr"] = rng.normal(0, 1 / np.sqrt(width), (width, n_classes))
        net.weights["br"] = np.zeros(n_classes)
        return net

    def block_weights(self, i: int) -> EbmWeights:
        p = self.block_params[i]
        return EbmWeights.from_flat(p, self.weights[f"theta{i}"] * p.g_init_s)

    def clip(self) -> None:
        for i, p in enumerate(self.block_params):
            np.clip(self.weights[f"theta{i}"], p.g_min_s / p.g_init_s, p.g_max_s / p.g_init_s,
                    out=self.weights[f"theta{i}"])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(net: FfEbm, blocks: list, x: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Logits and the per-block cache (inputs, pre-activations, free outputs)."""
    h = x
    caches = []
    for i, block in enumerate(blocks):
        a = h @ net.weights[f"W{i}"] + net.weights[f"b{i}"]
        u = V_IN_V * np.tanh(a)
        v = block.free(u)
        caches.append({"h": h, "a": a, "u": u, "v": v})
        h = v / V_SCALE_V
    return h @ net.weights["Wr"] + net.weights["br"], caches + [{"h": h}]


def loss_and_grads(net: FfEbm, blocks: list, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy and its gradients (hybrid: backprop + each block's own gradient)."""
    logits, caches = forward(net, blocks, x)
    b = x.shape[0]
    p = _softmax(logits)
    loss = float(-np.mean(np.log(p[np.arange(b), y] + 1e-300)))
    d = p
    d[np.arange(b), y] -= 1.0
    d /= b
    grads = {"Wr": caches[-1]["h"].T @ d, "br": d.sum(axis=0)}
    dh = d @ net.weights["Wr"].T
    for i in reversed(range(len(blocks))):
        cache = caches[i]
        c = dh / V_SCALE_V  # ∂L/∂v, 1/V
        gw, gu = blocks[i].grads(cache["u"], cache["v"], c)
        grads[f"theta{i}"] = gw.sum(axis=0) * net.block_params[i].g_init_s
        da = gu * V_IN_V * (1.0 - np.tanh(cache["a"]) ** 2)
        grads[f"W{i}"] = cache["h"].T @ da
        grads[f"b{i}"] = da.sum(axis=0)
        dh = da @ net.weights[f"W{i}"].T
    return loss, grads


def accuracy(net: FfEbm, blocks: list, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) on (x, y)."""
    logits, _ = forward(net, blocks, x)
    p = _softmax(logits)
    return float(np.mean(np.argmax(logits, axis=1) == y)), float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-300)))


def train_ffebm(net: FfEbm, make_blocks: Callable[[FfEbm], list], data: dict[str, np.ndarray], config: FfEbmConfig,
                progress: Callable[[int, dict], None] | None = None) -> dict[str, Any]:
    """Train ``net`` in place; ``make_blocks(net)`` returns the gradient adapters (re-synced every step).

    Returns learning curves (per epoch: train loss, train and test accuracy) and the final figures.
    """
    rng = np.random.default_rng(config.seed + 1)
    opt = _Adam(config.lr)
    blocks = make_blocks(net)
    xtr, ytr, xte, yte = data["x_train"], data["y_train"], data["x_test"], data["y_test"]
    curves: dict[str, list[float]] = {"epoch": [], "train_loss": [], "train_accuracy": [], "test_accuracy": []}

    def record(epoch: int) -> None:
        tr_acc, tr_loss = accuracy(net, blocks, xtr, ytr)
        te_acc, _ = accuracy(net, blocks, xte, yte)
        for k, val in (("epoch", epoch), ("train_loss", tr_loss), ("train_accuracy", tr_acc), ("test_accuracy", te_acc)):
            curves[k].append(float(val))
        if progress is not None:
            progress(epoch, {k: v[-1] for k, v in curves.items()})

    record(0)
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(len(ytr))
        for start in range(0, len(order), config.batch_size):
            idx = order[start:start + config.batch_size]
            _, grads = loss_and_grads(net, blocks, xtr[idx], ytr[idx])
            opt.step(net.weights, grads)
            net.clip()
            for i, block in enumerate(blocks):
                block.set_weights(net.block_weights(i))
        record(epoch)
    return {"curves": curves, "test_accuracy": curves["test_accuracy"][-1],
            "train_accuracy": curves["train_accuracy"][-1]}


def load_dataset(name: str, *, seed: int = 0, test_fraction: float = 0.25, subset: int | None = None
                 ) -> dict[str, np.ndarray]:
    """scikit-learn's bundled ``digits`` (8×8) or ``wine``: stratified split, standardised on the training
    part; ``subset`` keeps that many samples (stratified) before splitting."""
    from sklearn.datasets import load_digits, load_wine
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    loaders = {"digits": load_digits, "wine": load_wine}
    if name not in loaders:
        from netlists.errors import ParameterError

        raise ParameterError(f"dataset must be one of {', '.join(loaders)}, got {name!r}")
    x, y = loaders[name](return_X_y=True)
    if subset is not None and subset < len(y):
        x, _, y, _ = train_test_split(x, y, train_size=subset, stratify=y, random_state=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    return {"x_train": scaler.transform(x_train), "y_train": y_train, "x_test": scaler.transform(x_test),
            "y_test": y_test, "n_classes": int(y.max() + 1)}
