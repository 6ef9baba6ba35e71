"""The benchmarks' workloads written out by hand in plain Python floats: the floor that a
Python scalar engine can approach.

No graph, no nodes, no :class:`~autograd_mini.Value`: only lists of floats, :mod:`math` and
:mod:`operator`. The training step is the closed-form backpropagation of the layer equations
(column vectors, layers l = 1 … L, row j of Wˡ holding neuron j's weights)::

    zˡ = Wˡ aˡ⁻¹ + bˡ,   aˡ = relu(zˡ) (hidden),   aᴸ = zᴸ = s (the score, linear)
    C  = (1/n) Σᵢ max(0, 1 − yᵢ sᵢ) + α Σ p²

    δᴸᵢ = ∂C/∂sᵢ = −yᵢ/n where 1 − yᵢ sᵢ > 0, else 0     (relu′(0) = 0, as in the engines)
    δˡ  = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ∘ relu′(zˡ)                      (the δ recursion)
    ∂C/∂Wˡ = Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ + 2αWˡ,   ∂C/∂bˡ = Σᵢ δˡᵢ + 2αbˡ

The batch is handled a layer at a time, so ∂C/∂Wˡⱼₖ is one dot product over the batch, the
column of δ's against the column of activations. A sample whose hinge is flat still goes
through the recursion with δ = 0, as it does in every engine: nothing is skipped.
"""

# The zips below are the hot loops; shapes are fixed by unflatten, so no strict=True there.
# ruff: noqa: B905

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from operator import mul

__all__ = [
    "Layer",
    "chain_value_and_grad",
    "flatten",
    "mlp_loss_and_grads",
    "mlp_step",
    "unflatten",
    "wide_sum_value_and_grad",
]

#: One layer's parameters: (W, b), W a list of nₗ rows of nₗ₋₁ weights, b a list of nₗ.
Layer = tuple[list[list[float]], list[float]]


def unflatten(flat: Sequence[float], sizes: Sequence[int]) -> list[Layer]:
    """Layers from a flat parameter list in the engines' order: neuron by neuron, each
    neuron's weights then its bias (``MLP.parameters()`` in autograd_mini and micrograd)."""
    layers: list[Layer] = []
    i = 0
    for nin, nout in itertools.pairwise(sizes):
        w: list[list[float]] = []
        b: list[float] = []
        for _ in range(nout):
            w.append([float(v) for v in flat[i:i + nin]])
            b.append(float(flat[i + nin]))
            i += nin + 1
        layers.append((w, b))
    if i != len(flat):
        raise ValueError(f"{len(flat)} parameters do not fit the sizes {list(sizes)}")
    return layers


def flatten(layers: Sequence[Layer]) -> list[float]:
    """The inverse of :func:`unflatten`."""
    return [v for w, b in layers for row, bj in zip(w, b) for v in (*row, bj)]


def mlp_loss_and_grads(layers: Sequence[Layer], xs: Sequence[Sequence[float]],
                       ys: Sequence[float], alpha: float) -> tuple[float, list[Layer]]:
    """C and (∂C/∂Wˡ, ∂C/∂bˡ) for every layer: relu hidden layers, a linear score, the mean
    hinge loss over the batch plus α Σ p²."""
    n = len(xs)
    last = len(layers) - 1
    # forward, a layer at a time over the batch: acts[l][i] is sample i's input to layer l+1
    batch: list[list[float]] = [list(x) for x in xs]
    acts = [batch]
    for m, (w, b) in enumerate(layers):
        zs = [[sum(map(mul, row, a), bj) for row, bj in zip(w, b)] for a in batch]
        batch = zs if m == last else [[z if z > 0.0 else 0.0 for z in z_i] for z_i in zs]
        acts.append(batch)
    margins = [1.0 - y * a[0] for y, a in zip(ys, batch)]
    data_loss = sum(h for h in margins if h > 0.0) / n
    reg = sum(v * v for w, b in layers for row in w for v in row)
    reg += sum(v * v for _, b in layers for v in b)
    # δᴸ: ∂C/∂s for every sample (relu′(0) = 0 at the hinge's kink)
    deltas = [[-y / n if h > 0.0 else 0.0] for y, h in zip(ys, margins)]
    two_alpha = 2.0 * alpha
    grads: list[Layer] = []
    for m in range(last, -1, -1):
        w, b = layers[m]
        a_prev = acts[m]
        d_cols = list(zip(*deltas))  # d_cols[j][i] = δˡⱼ of sample i
        a_cols = list(zip(*a_prev))  # a_cols[k][i] = aˡ⁻¹ₖ of sample i
        # ∂C/∂Wˡ = Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ + 2αWˡ, ∂C/∂bˡ = Σᵢ δˡᵢ + 2αbˡ
        gw = [[sum(map(mul, dj, ak)) + two_alpha * wjk for ak, wjk in zip(a_cols, row)]
              for dj, row in zip(d_cols, w)]
        gb = [sum(dj) + two_alpha * bj for dj, bj in zip(d_cols, b)]
        grads.append((gw, gb))
        if m:
            # δˡ⁻¹ = ((Wˡ)ᵀ δˡ) ∘ relu′(zˡ⁻¹); relu′(z) = 1 exactly where a = relu(z) > 0
            w_cols = list(zip(*w))
            deltas = [[sum(map(mul, col, d)) if ak > 0.0 else 0.0 for col, ak in zip(w_cols, a)]
                      for d, a in zip(deltas, a_prev)]
    grads.reverse()
    return data_loss + alpha * reg, grads


def mlp_step(layers: Sequence[Layer], xs: Sequence[Sequence[float]], ys: Sequence[float],
             alpha: float, lr: float) -> tuple[float, list[Layer]]:
    """One SGD step, p ← p − lr·∂C/∂p: the loss before the step and the new layers."""
    loss, grads = mlp_loss_and_grads(layers, xs, ys, alpha)
    new = [([[v - lr * g for v, g in zip(row, grow)] for row, grow in zip(w, gw)],
            [v - lr * g for v, g in zip(b, gb)])
           for (w, b), (gw, gb) in zip(layers, grads)]
    return loss, new


def chain_value_and_grad(a: float, b: float, y0: float,
                         steps: int) -> tuple[float, tuple[float, float, float]]:
    """yₙ for y_k = tanh(y_{k−1}·a + b), and (∂yₙ/∂a, ∂yₙ/∂b, ∂yₙ/∂y₀).

    Backward: with d_k = ȳ_k (1 − y_k²), ā += d_k y_{k−1}, b̄ += d_k, ȳ_{k−1} = d_k a."""
    ys = [y0]
    y = y0
    tanh = math.tanh
    for _ in range(steps):
        y = tanh(y * a + b)
        ys.append(y)
    y_bar, a_bar, b_bar = 1.0, 0.0, 0.0
    for k in range(steps, 0, -1):
        yk = ys[k]
        d = y_bar * (1.0 - yk * yk)
        a_bar += d * ys[k - 1]
        b_bar += d
        y_bar = d * a
    return y, (a_bar, b_bar, y_bar)


def wide_sum_value_and_grad(xs: Sequence[float],
                            ys: Sequence[float]) -> tuple[float, list[float], list[float]]:
    """Σ xᵢyᵢ, with ∂/∂xᵢ = yᵢ and ∂/∂yᵢ = xᵢ."""
    return sum(map(mul, xs, ys)), list(ys), list(xs)
