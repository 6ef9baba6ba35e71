"""Closed-form, layer-wise backpropagation for a fully connected network, in plain floats.

This module is the independent reference that the engine is checked against, node by node. It
uses lists of floats and :mod:`math` only: no :class:`~autograd_mini.Value`, no graph.

The network, in the notation of "Backpropagation", a tutorial notebook that follows
neuralnetworksanddeeplearning.com, chapter 2 (column vectors, layers l = 1 … L)::

    a⁰ = x
    zˡ = Wˡ aˡ⁻¹ + bˡ          Wˡ is nₗ × nₗ₋₁: row j holds the weights of neuron j
    aˡ = σˡ(zˡ)
    C  = C(aᴸ, y)

The backward pass, with δˡ = ∂C/∂zˡ::

    δᴸ      = ∂C/∂aᴸ ∘ σᴸ′(zᴸ)                   (output layer)
    δˡ      = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ∘ σˡ′(zˡ)           (the δ recursion, l = L−1 … 1)
    ∂C/∂Wˡ  = δˡ (aˡ⁻¹)ᵀ                          (an outer product: ∂C/∂Wˡⱼₖ = δˡⱼ aˡ⁻¹ₖ)
    ∂C/∂bˡ  = δˡ
    ∂C/∂aˡ  = (Wˡ⁺¹)ᵀ δˡ⁺¹,   ∂C/∂x = (W¹)ᵀ δ¹

For softmax, whose Jacobian is not diagonal, "g ∘ σ′(z)" is read as the Jacobian-vector product
J_softmax(z)ᵀ g = a ∘ (g − (g·a)). The Jacobian is symmetric, so Jᵀg = Jg.

"Derivation of Backprop" (a blog post of 4 April 2019) writes the same network as
ρ = z (pre-activation), φ = a (activation), B = b, and calls ω = ∂C/∂φ the error of a layer's
output. Its A-equations carry ω backwards::

    (A1)  ωˡ     = (Wˡ⁺¹)ᵀ (ωˡ⁺¹ ∘ σ′(ρˡ⁺¹))
    (A2)  ∂C/∂Bˡ = ωˡ ∘ σ′(ρˡ)
    (A3)  ∂C/∂Wˡ = (ωˡ ∘ σ′(ρˡ)) (φˡ⁻¹)ᵀ

Each of them uses ω only inside ω ∘ σ′(ρ), so the blog post names that product λ = ω ∘ σ′(ρ),
which is exactly δ = ∂C/∂z, and the equations become the B-form, the usual backprop::

    (B1)  ωˡ = (Wˡ⁺¹)ᵀ λˡ⁺¹,  so  λˡ = ((Wˡ⁺¹)ᵀ λˡ⁺¹) ∘ σ′(ρˡ)   (the δ recursion)
    (B2)  ∂C/∂Bˡ = λˡ
    (B3)  ∂C/∂Wˡ = λˡ (φˡ⁻¹)ᵀ

:func:`backward` computes the B-form and :func:`omega_form` the A-form; in :class:`Gradients`,
``dA`` holds ω and ``delta`` holds λ = δ.

Activations (σ′ as used here)::

    relu     max(0, z)         σ′ = 1 if z > 0 else 0      (NOTE: relu′(0) = 0, as in the engine)
    tanh     tanh z            σ′ = 1 − a²
    sigmoid  1/(1 + e⁻ᶻ)       σ′ = a(1 − a)
    leaky_relu z if z > 0 else 0.01·z     σ′ = 1 if z > 0 else 0.01 (0.01 at z = 0)
    elu      z if z > 0 else eᶻ − 1       σ′ = 1 if z > 0 else eᶻ    (1 at z = 0)
    softplus ln(1 + eᶻ)        σ′ = 1/(1 + e⁻ᶻ)
    gelu     z·Φ(z)            σ′ = Φ(z) + z·φ(z)           (Φ, φ: the normal cdf and pdf)
    silu     z/(1 + e⁻ᶻ)       σ′ = s(1 + z(1 − s)), s = 1/(1 + e⁻ᶻ)
    linear   z                 σ′ = 1
    softmax  eᶻᵏ/Σⱼ eᶻʲ        Jᵀg = a ∘ (g − (g·a))       (last layer only)

Losses, per sample (∂C/∂a is what starts the backward pass)::

    squared_error  ½‖a − y‖²                      ∂C/∂a = a − y
    mse            ½‖a − y‖² (batch: 1/(2n) Σᵢ)    ∂C/∂a = a − y
    bce            −Σ[y ln a + (1−y) ln(1−a)]      ∂C/∂a = (a − y)/(a(1 − a)), needs 0 < a < 1
    cross_entropy  −Σ yₖ ln aₖ, softmax output     ∂C/∂aₖ = −yₖ/aₖ, y a distribution (one-hot)
    hinge          max(0, 1 − y·a), one output     ∂C/∂a = −y if y·a < 1 else 0, y ∈ {−1, +1}

Two famous simplifications then appear by themselves rather than being special-cased: sigmoid
with bce gives δᴸ = (a − y)/(a(1 − a)) · a(1 − a) = a − y (as in the tutorial notebook), and
softmax with cross-entropy gives δᴸ = a ∘ (−y/a + Σy) = a − y (as in the article that derives
backpropagation with the vector chain rule and the total derivative, and trains a NumPy network
on iris).

NOTE: some of these sources print formulas with typos; this module follows the correct maths.
The tutorial notebook prints the sigmoid as 1/(1 + eᶻ) and the squared error's ∂C/∂a as y − a.
"Backprop in Neural Networks", an article on a 2 → 500 → 2 tanh and softmax network, drops the
minus sign of its loss, so it writes ∂Loss/∂z₂ = y − ŷ where the gradient is ŷ − y. That article
and the iris article write a layer as row vectors, z = xW + b and z = xWᵀ + b; here W is
nₗ × nₗ₋₁ as in the blog post and the tutorial notebook, so the W of "Backprop in Neural
Networks" is our Wᵀ.

A worked example: a relu neuron feeding a linear one, with squared error.

>>> net = [LayerParams([[1.0, -1.0]], [0.0], "relu"), LayerParams([[2.0]], [1.0], "linear")]
>>> fp, g = backprop(net, x=[3.0, 1.0], y=[4.0], loss="squared_error")
>>> fp.z, fp.a, fp.loss       # z¹ = 3 − 1 = 2, a¹ = 2, z² = 2·2 + 1 = 5, C = ½(5 − 4)²
([[2.0], [5.0]], [[2.0], [5.0]], 0.5)
>>> g.delta                   # δ² = a² − y = 1;  δ¹ = (W²)ᵀδ² ∘ relu′(2) = 2·1·1
[[2.0], [1.0]]
>>> g.dW, g.db                # ∂C/∂W = δ aᵀ: δ¹(a⁰)ᵀ = 2·[3, 1], δ²(a¹)ᵀ = 1·[2]
([[[6.0, 2.0]], [[2.0]]], [[2.0], [1.0]])
>>> g.dA, g.dx                # ω² = a² − y, ω¹ = (W²)ᵀδ² = 2, ∂C/∂x = (W¹)ᵀδ¹ = [2, −2]
([[2.0], [1.0]], [2.0, -2.0])

And softmax with cross-entropy, where δᴸ = a − y:

>>> out = [LayerParams([[1.0], [-1.0]], [0.0, 0.0], "softmax")]
>>> fp, g = backprop(out, x=[0.0], y=[1.0, 0.0], loss="cross_entropy")
>>> fp.a[-1], fp.loss         # softmax(0, 0) = (½, ½), C = −ln ½ = ln 2
([0.5, 0.5], 0.6931471805599453)
>>> g.delta[-1]               # a − y
[-0.5, 0.5]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "ForwardPass",
    "Gradients",
    "LayerParams",
    "Matrix",
    "backprop",
    "backward",
    "batch_backprop",
    "forward",
    "omega_form",
]

#: A matrix as a list of rows of floats: no numpy, so the equations read as written.
Matrix = list[list[float]]

#: The activation names a :class:`LayerParams` accepts.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "gelu", "silu",
               "linear", "softmax")

#: The parameters of leaky_relu and elu, PyTorch's defaults (and the rule table's).
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0

#: The loss names :func:`forward`, :func:`backward` and :func:`batch_backprop` accept.
LOSSES = ("squared_error", "mse", "bce", "cross_entropy", "hinge")


@dataclass(frozen=True)
class LayerParams:
    """One fully connected layer: a = σ(W a_prev + b).

    ``W`` is nout × nin and its row j holds the weights of neuron j, so ``W[j][k]`` is the
    weight from input k to neuron j (Wˡⱼₖ in the blog post, Wᵐᵢⱼ in the tutorial notebook).
    ``activation`` is one of :data:`ACTIVATIONS`; softmax is allowed on the last layer only.
    """

    W: Matrix
    b: list[float]
    activation: str

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; expected one of {ACTIVATIONS}"
            )
        if not self.W or not self.W[0]:
            raise ValueError("a layer needs at least one neuron and one input: W is empty")
        nin = len(self.W[0])
        for j, row in enumerate(self.W):
            if len(row) != nin:
                raise ValueError(f"W is ragged: row 0 has {nin} weights but row {j} has {len(row)}")
        if len(self.b) != len(self.W):
            raise ValueError(f"W has {len(self.W)} rows (neurons) but b has {len(self.b)} entries")
        for j, row in enumerate(self.W):
            _check_finite(f"W[{j}]", row)
        _check_finite("b", self.b)

    @property
    def nin(self) -> int:
        """The number of inputs, the columns of W."""
        return len(self.W[0])

    @property
    def nout(self) -> int:
        """The number of neurons, the rows of W."""
        return len(self.W)


@dataclass(frozen=True)
class ForwardPass:
    """Everything the forward pass computes. Lists are indexed by layer from 0, so ``z[0]`` is
    z¹ and ``a[-1]`` is the output aᴸ; the input a⁰ is kept apart as ``a0``."""

    a0: list[float]
    z: list[list[float]]
    a: list[list[float]]
    loss: float


@dataclass(frozen=True)
class Gradients:
    """The derivatives of the loss, indexed by layer from 0 like :class:`ForwardPass`.

    ``delta[m]`` is δ = ∂C/∂z (the blog post's λ), ``dW[m]`` is ∂C/∂W = δ aᵀ_prev, ``db[m]``
    is ∂C/∂b = δ, ``dA[m]`` is ∂C/∂a (the blog post's ω) and ``dx`` is ∂C/∂x.
    """

    delta: list[list[float]]
    dW: list[Matrix]  # noqa: N815 (the maths' name)
    db: list[list[float]]
    dA: list[list[float]]  # noqa: N815 (the maths' name)
    dx: list[float]


# ---------------------------------------------------------------------------------------------
# Linear algebra on lists
# ---------------------------------------------------------------------------------------------


def _affine(w: Matrix, a: Sequence[float], b: Sequence[float]) -> list[float]:
    """W a + b; each entry sums its products and bias with :func:`math.fsum`."""
    return [
        math.fsum([*(wjk * ak for wjk, ak in zip(row, a, strict=True)), bj])
        for row, bj in zip(w, b, strict=True)
    ]


def _transpose_times(w: Matrix, v: Sequence[float]) -> list[float]:
    """Wᵀ v: entry k is Σⱼ W[j][k] v[j]."""
    return [math.fsum(w[j][k] * v[j] for j in range(len(w))) for k in range(len(w[0]))]


def _outer(u: Sequence[float], v: Sequence[float]) -> Matrix:
    """u vᵀ: entry (j, k) is u[j] v[k]."""
    return [[uj * vk for vk in v] for uj in u]


def _dot(u: Sequence[float], v: Sequence[float]) -> float:
    return math.fsum(ui * vi for ui, vi in zip(u, v, strict=True))


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: σ(x) = 1/(1+e⁻ˣ) = eˣ/(1+eˣ).
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log_sum_exp(z: Sequence[float]) -> float:
    """ln Σₖ e^{zₖ}, shifted by max z so that exp never overflows."""
    m = max(z)
    return m + math.log(math.fsum(math.exp(zk - m) for zk in z))


def _phi(x: float) -> float:
    """The standard normal density φ(x) = e^(−x²/2)/√(2π)."""
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _big_phi(x: float) -> float:
    """The standard normal distribution function Φ(x) = (1 + erf(x/√2))/2."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _activate(name: str, z: Sequence[float]) -> list[float]:
    """a = σ(z) for one layer."""
    if name == "relu":
        return [zk if zk > 0.0 else 0.0 for zk in z]
    if name == "tanh":
        return [math.tanh(zk) for zk in z]
    if name == "sigmoid":
        return [_sigmoid(zk) for zk in z]
    if name == "leaky_relu":
        return [zk if zk > 0.0 else LEAKY_SLOPE * zk for zk in z]
    if name == "elu":
        return [zk if zk > 0.0 else ELU_ALPHA * math.expm1(zk) for zk in z]
    if name == "softplus":  # ln(1 + e^z), shifted so that exp never overflows
        return [max(zk, 0.0) + math.log1p(math.exp(-abs(zk))) for zk in z]
    if name == "gelu":
        return [zk * _big_phi(zk) for zk in z]
    if name == "silu":
        return [zk * _sigmoid(zk) for zk in z]
    if name == "linear":
        return [float(zk) for zk in z]
    if name == "softmax":
        m = max(z)
        e = [math.exp(zk - m) for zk in z]
        total = math.fsum(e)
        return [ek / total for ek in e]
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def _pull_back(
    name: str, z: Sequence[float], a: Sequence[float], g: Sequence[float]
) -> list[float]:
    """∂C/∂z from g = ∂C/∂a through a = σ(z): g ∘ σ′(z), or for softmax J(z)ᵀ g.

    This is the blog post's ω ∘ σ′(ρ), and the step from ∂C/∂aˡ to δˡ.
    """
    if name == "relu":
        # NOTE: relu′(0) = 0, the subgradient the engine uses.
        return [gk if zk > 0.0 else 0.0 for gk, zk in zip(g, z, strict=True)]
    if name == "tanh":
        return [gk * (1.0 - ak * ak) for gk, ak in zip(g, a, strict=True)]
    if name == "sigmoid":
        return [gk * (ak * (1.0 - ak)) for gk, ak in zip(g, a, strict=True)]
    if name == "leaky_relu":
        # NOTE: at the kink z = 0 the slope is the leak, as in PyTorch and the engine.
        return [gk if zk > 0.0 else LEAKY_SLOPE * gk for gk, zk in zip(g, z, strict=True)]
    if name == "elu":  # σ′ = α e^z for z ≤ 0 (α at the kink, as in PyTorch)
        return [gk if zk > 0.0 else gk * ELU_ALPHA * math.exp(zk)
                for gk, zk in zip(g, z, strict=True)]
    if name == "softplus":  # σ′ is the logistic sigmoid
        return [gk * _sigmoid(zk) for gk, zk in zip(g, z, strict=True)]
    if name == "gelu":  # d/dz z·Φ(z) = Φ(z) + z·φ(z)
        return [gk * (_big_phi(zk) + zk * _phi(zk)) for gk, zk in zip(g, z, strict=True)]
    if name == "silu":  # d/dz z·s(z) = s(z) + z·s(z)(1 − s(z)), s the logistic sigmoid
        return [gk * (_sigmoid(zk) * (1.0 + zk * (1.0 - _sigmoid(zk))))
                for gk, zk in zip(g, z, strict=True)]
    if name == "linear":
        return [float(gk) for gk in g]
    if name == "softmax":
        # ∂aₖ/∂zⱼ = aₖ([k = j] − aⱼ), so (Jᵀg)ⱼ = Σₖ gₖ aₖ([k = j] − aⱼ) = aⱼ(gⱼ − g·a).
        ga = _dot(g, a)
        return [ak * (gk - ga) for gk, ak in zip(g, a, strict=True)]
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------


def _loss_value(loss: str, z: Sequence[float], a: Sequence[float], y: Sequence[float]) -> float:
    """The per-sample loss C(aᴸ, y); cross-entropy reads zᴸ for a stable log-softmax."""
    if loss in ("squared_error", "mse"):
        return 0.5 * math.fsum((ak - yk) ** 2 for ak, yk in zip(a, y, strict=True))
    if loss == "bce":
        # ln(1 − a) as log1p(−a), which keeps its digits when a is small.
        return -math.fsum(
            yk * math.log(ak) + (1.0 - yk) * math.log1p(-ak) for ak, yk in zip(a, y, strict=True)
        )
    if loss == "cross_entropy":
        # ln aₖ = zₖ − ln Σⱼ e^{zⱼ} (log-softmax), finite even where aₖ underflows to 0.
        lse = _log_sum_exp(z)
        return -math.fsum(yk * (zk - lse) for zk, yk in zip(z, y, strict=True) if yk != 0.0)
    if loss == "hinge":
        return max(0.0, 1.0 - y[0] * a[0])
    raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")


def _loss_grad(loss: str, a: Sequence[float], y: Sequence[float]) -> list[float]:
    """ω^L = ∂C/∂aᴸ for one sample."""
    if loss in ("squared_error", "mse"):
        return [ak - yk for ak, yk in zip(a, y, strict=True)]
    if loss == "bce":
        # −y/a + (1 − y)/(1 − a), written as the tutorial notebook's table has it.
        return [(ak - yk) / (ak * (1.0 - ak)) for ak, yk in zip(a, y, strict=True)]
    if loss == "cross_entropy":
        g = []
        for k, (ak, yk) in enumerate(zip(a, y, strict=True)):
            if yk == 0.0:
                g.append(0.0)  # 0 · ln aₖ contributes nothing, whatever aₖ is
            elif ak == 0.0:
                raise ValueError(
                    f"cross_entropy: softmax output a[{k}] underflowed to 0 where y[{k}] = "
                    f"{yk}, so ∂C/∂a[{k}] = −y/a is infinite; the logits are too far apart"
                )
            else:
                g.append(-yk / ak)
        return g
    if loss == "hinge":
        # NOTE: at the kink y·a = 1 we use the subgradient 0.
        return [-y[0] if 1.0 - y[0] * a[0] > 0.0 else 0.0]
    raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _check_finite(what: str, v: Sequence[float]) -> None:
    for k, vk in enumerate(v):
        if not math.isfinite(vk):
            raise ValueError(f"{what}[{k}] = {vk} is not finite")


def _check_network(layers: Sequence[LayerParams], nin: int) -> None:
    if not layers:
        raise ValueError("the network has no layers")
    width, what = nin, "the input x"
    for m, layer in enumerate(layers, start=1):
        if layer.nin != width:
            raise ValueError(f"layer {m}: W has {layer.nin} columns but {what} has {width} entries")
        if layer.activation == "softmax" and m != len(layers):
            raise ValueError(
                f"layer {m} of {len(layers)}: softmax is supported on the last layer only"
            )
        width, what = layer.nout, f"layer {m}'s output"


def _check_target(layers: Sequence[LayerParams], y: Sequence[float], loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    last = layers[-1]
    if len(y) != last.nout:
        raise ValueError(f"the target y has {len(y)} entries but the output has {last.nout}")
    _check_finite("y", y)
    if loss == "bce" and any(not 0.0 <= yk <= 1.0 for yk in y):
        raise ValueError(f"bce needs targets in [0, 1], got y = {list(y)}")
    if loss == "cross_entropy":
        if last.activation != "softmax":
            raise ValueError(
                f"cross_entropy expects a softmax output layer, got {last.activation!r} "
                "(for sigmoid outputs use 'bce')"
            )
        if any(yk < 0.0 for yk in y) or not math.isclose(math.fsum(y), 1.0, abs_tol=1e-9):
            raise ValueError(
                "cross_entropy needs y to be a probability vector (one-hot for a class), "
                f"with y ≥ 0 and Σy = 1; got y = {list(y)}"
            )
    if loss == "hinge":
        if last.nout != 1:
            raise ValueError(f"hinge needs a single output, got {last.nout}")
        if y[0] not in (-1.0, 1.0):
            raise ValueError(f"hinge needs a target y ∈ {{−1, +1}}, got {y[0]}")


def _check_output(a: Sequence[float], loss: str) -> None:
    if loss == "bce" and any(not 0.0 < ak < 1.0 for ak in a):
        raise ValueError(
            f"bce needs outputs strictly inside (0, 1), got a = {list(a)} "
            "(use a sigmoid output; it saturates to 0 or 1 in floats once |z| exceeds ~37)"
        )


def _check_forward_pass(layers: Sequence[LayerParams], fp: ForwardPass) -> None:
    if len(fp.z) != len(layers) or len(fp.a) != len(layers):
        raise ValueError(
            f"the forward pass has {len(fp.z)} z's and {len(fp.a)} a's "
            f"but the network has {len(layers)} layers"
        )
    for m, (layer, z, a) in enumerate(zip(layers, fp.z, fp.a, strict=True), start=1):
        if len(z) != layer.nout or len(a) != layer.nout:
            raise ValueError(
                f"the forward pass does not match layer {m}: it has {layer.nout} neurons "
                f"but len(z) = {len(z)} and len(a) = {len(a)}"
            )


def _checked(layers: Sequence[LayerParams], fp: ForwardPass, y: Sequence[float], loss: str) -> None:
    _check_network(layers, len(fp.a0))
    _check_target(layers, y, loss)
    _check_forward_pass(layers, fp)
    _check_output(fp.a[-1], loss)


# ---------------------------------------------------------------------------------------------
# The passes
# ---------------------------------------------------------------------------------------------


def forward(
    layers: Sequence[LayerParams], x: Sequence[float], y: Sequence[float], loss: str
) -> ForwardPass:
    """The forward pass: zˡ = Wˡ aˡ⁻¹ + bˡ and aˡ = σˡ(zˡ) for l = 1 … L, then C(aᴸ, y).

    Raises ValueError for an unknown loss, mismatched shapes, softmax before the last layer or
    a target the loss cannot take (see :data:`LOSSES` and the module docstring).

    >>> forward([LayerParams([[2.0]], [0.5], "linear")], [1.0], [3.0], "squared_error")
    ForwardPass(a0=[1.0], z=[[2.5]], a=[[2.5]], loss=0.125)
    """
    _check_network(layers, len(x))
    _check_target(layers, y, loss)
    _check_finite("x", x)
    a = [float(xk) for xk in x]
    zs: list[list[float]] = []
    acts: list[list[float]] = []
    for layer in layers:
        z = _affine(layer.W, a, layer.b)
        a = _activate(layer.activation, z)
        zs.append(z)
        acts.append(a)
    _check_output(a, loss)
    return ForwardPass([float(xk) for xk in x], zs, acts, _loss_value(loss, zs[-1], a, y))


def backward(
    layers: Sequence[LayerParams], fp: ForwardPass, y: Sequence[float], loss: str
) -> Gradients:
    """The backward pass in the B-form (the blog post's λ, the usual δ recursion).

    δᴸ = ∂C/∂aᴸ ∘ σᴸ′(zᴸ), then δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ∘ σˡ′(zˡ) from the last layer to the first;
    ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ and ∂C/∂bˡ = δˡ. ``fp`` must be :func:`forward`'s result for the same
    ``layers``, ``y`` and ``loss``.

    >>> net = [LayerParams([[2.0]], [0.5], "linear")]
    >>> g = backward(net, forward(net, [1.0], [3.0], "squared_error"), [3.0], "squared_error")
    >>> g.delta, g.dW, g.dx       # δ = a − y = −0.5, ∂C/∂W = δ·x, ∂C/∂x = W·δ
    ([[-0.5]], [[[-0.5]]], [-1.0])
    """
    _checked(layers, fp, y, loss)
    n = len(layers)
    delta: list[list[float]] = [[] for _ in range(n)]
    omega: list[list[float]] = [[] for _ in range(n)]
    g = _loss_grad(loss, fp.a[-1], y)  # ωᴸ = ∂C/∂aᴸ
    for m in reversed(range(n)):
        omega[m] = g
        delta[m] = _pull_back(layers[m].activation, fp.z[m], fp.a[m], g)  # λ = ω ∘ σ′(ρ)
        g = _transpose_times(layers[m].W, delta[m])  # B1: ωˡ⁻¹ = (Wˡ)ᵀ λˡ
    inputs = [fp.a0, *fp.a[:-1]]
    return Gradients(
        delta=delta,
        dW=[_outer(d, a_prev) for d, a_prev in zip(delta, inputs, strict=True)],  # B3
        db=[list(d) for d in delta],  # B2
        dA=omega,
        dx=g,
    )


def omega_form(
    layers: Sequence[LayerParams], fp: ForwardPass, y: Sequence[float], loss: str
) -> Gradients:
    """The same gradients by the blog post's A-equations, which carry ω = ∂C/∂φ instead of λ = δ.

    First the errors of every layer's output, from the last back (A1)::

        ωᴸ = ∂C/∂φᴸ,   ωˡ = (Wˡ⁺¹)ᵀ (ωˡ⁺¹ ∘ σ′(ρˡ⁺¹)),   ∂C/∂φ⁰ = (W¹)ᵀ (ω¹ ∘ σ′(ρ¹))

    then, separately, ∂C/∂Bˡ = ωˡ ∘ σ′(ρˡ) (A2) and ∂C/∂Wˡ = (ωˡ ∘ σ′(ρˡ))(φˡ⁻¹)ᵀ (A3). The
    product ω ∘ σ′(ρ) is computed again in each equation; naming it λ (B1–B3) is what
    :func:`backward` does. ``delta`` in the result is ω ∘ σ′(ρ) as A2 computes it, so the two
    forms can be compared field by field.
    """
    _checked(layers, fp, y, loss)
    n = len(layers)
    omega: list[list[float]] = [[] for _ in range(n)]
    omega[-1] = _loss_grad(loss, fp.a[-1], y)
    for m in range(n - 2, -1, -1):  # A1
        after = layers[m + 1]
        omega[m] = _transpose_times(
            after.W, _pull_back(after.activation, fp.z[m + 1], fp.a[m + 1], omega[m + 1])
        )
    dx = _transpose_times(layers[0].W, _pull_back(layers[0].activation, fp.z[0], fp.a[0], omega[0]))
    db = [  # A2
        _pull_back(layer.activation, z, a, w)
        for layer, z, a, w in zip(layers, fp.z, fp.a, omega, strict=True)
    ]
    inputs = [fp.a0, *fp.a[:-1]]
    dw = [  # A3
        _outer(_pull_back(layer.activation, z, a, w), phi_prev)
        for layer, z, a, w, phi_prev in zip(layers, fp.z, fp.a, omega, inputs, strict=True)
    ]
    return Gradients(delta=[list(d) for d in db], dW=dw, db=db, dA=omega, dx=dx)


def backprop(
    layers: Sequence[LayerParams], x: Sequence[float], y: Sequence[float], loss: str
) -> tuple[ForwardPass, Gradients]:
    """:func:`forward` then :func:`backward` for one sample."""
    fp = forward(layers, x, y, loss)
    return fp, backward(layers, fp, y, loss)


def _mean(vectors: Sequence[Sequence[float]]) -> list[float]:
    return [math.fsum(column) / len(vectors) for column in zip(*vectors, strict=True)]


def batch_backprop(
    layers: Sequence[LayerParams],
    X: Sequence[Sequence[float]],  # noqa: N803 (a batch is a matrix)
    Y: Sequence[Sequence[float]],  # noqa: N803
    loss: str,
) -> tuple[float, Gradients]:
    """The batch cost and its gradients: the mean over the samples (xᵢ, yᵢ).

    The cost is C = (1/n) Σᵢ Cᵢ. For ``"mse"`` this is the blog post's C = 1/(2n) Σᵢ ‖aᴸ(xᵢ) − yᵢ‖²,
    since each Cᵢ = ½‖aᴸ(xᵢ) − yᵢ‖²; ``"squared_error"`` gives the same number. ``dW`` and
    ``db`` are the means of the per-sample gradients, which are exactly ∂C/∂W and ∂C/∂b.

    NOTE: ``delta``, ``dA`` and ``dx`` are the per-sample quantities averaged over the batch
    (so ``delta == db``). They summarise the batch; the derivative of the batch cost with
    respect to one sample's input is that sample's ``dx`` divided by n (use :func:`backprop`).

    >>> net = [LayerParams([[1.0]], [0.0], "linear")]
    >>> cost, g = batch_backprop(net, [[1.0], [2.0]], [[0.0], [0.0]], "mse")
    >>> cost, g.dW                # 1/(2·2)·(1² + 2²);  mean of (a − y)x = (1·1 + 2·2)/2
    (1.25, [[[2.5]]])
    """
    if len(X) != len(Y):
        raise ValueError(f"the batch has {len(X)} inputs but {len(Y)} targets")
    if not X:
        raise ValueError("the batch is empty")
    costs: list[float] = []
    grads: list[Gradients] = []
    for x, y in zip(X, Y, strict=True):
        fp, g = backprop(layers, x, y, loss)
        costs.append(fp.loss)
        grads.append(g)
    n = len(layers)

    def per_layer(field: str) -> list[list[float]]:
        return [_mean([getattr(g, field)[m] for g in grads]) for m in range(n)]

    dw = [[_mean([g.dW[m][j] for g in grads]) for j in range(layers[m].nout)] for m in range(n)]
    mean = Gradients(
        delta=per_layer("delta"),
        dW=dw,
        db=per_layer("db"),
        dA=per_layer("dA"),
        dx=_mean([g.dx for g in grads]),
    )
    return math.fsum(costs) / len(costs), mean
