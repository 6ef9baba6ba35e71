"""Losses on Values, per sample: ``loss(outputs, target) -> Value``.

The costs of "Derivation of Backprop" (a blog post of 4 April 2019), of the article deriving
backpropagation with the vector chain rule and the total derivative (whose network is trained
on iris), and of the "Backpropagation" tutorial notebook (notation of
neuralnetworksanddeeplearning.com, chapter 2), with what they make of δ^L = ∂C/∂z^L:

* ``squared_error``: C = ½‖a − y‖², so ∂C/∂a = a − y and δ^L = (a − y) ∘ σ′(z^L);
* ``mse``: the same per sample; averaged over a batch it is the blog post's C = 1/(2n) Σᵢ‖aᵢ − yᵢ‖²;
* ``bce``: C = −Σ [y ln a + (1 − y) ln(1 − a)] on sigmoid outputs, where δ^L = a − y;
* ``cross_entropy``: C = −Σ y_k ln a_k on softmax outputs, where δ^L = a − y (as in the
  iris article);
* ``hinge``: C = max(0, 1 − y·s) for a score s and y ∈ {−1, +1} (micrograd's demo).

Cross-entropy and BCE are computed from the logits z, never as ln of a probability that may
have rounded to 0: −Σ y_k ln softmax(z)_k = (Σ y_k)·logsumexp(z) − Σ y_k z_k, and for a
sigmoid, −ln σ(z) = softplus(−z), −ln(1 − σ(z)) = softplus(z).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from .engine import Value, dot, group, total

__all__ = [
    "LOSSES", "Probabilities", "bce", "cross_entropy", "get", "hinge", "l2", "mse",
    "squared_error",
]

Loss = Callable[[Sequence[Value], Sequence[float]], Value]


class Probabilities(list[Value]):
    """The outputs of a softmax layer: a list of Values that also remembers the logits z, so
    that cross-entropy can be computed stably from them (log-sum-exp)."""

    logits: list[Value]


F = TypeVar("F", bound=Callable[..., Value])


def _a_loss(fn: F) -> F:
    """Build the loss's nodes in a group of kind ``"loss"``, named after it, so that a
    picture draws a loss as what it is (a cluster "loss: squared_error" holding its terms),
    never as one more neuron."""
    name = f"loss: {fn.__name__}"

    @functools.wraps(fn)
    def in_its_group(*args: object, **named: object) -> Value:
        with group(name, kind="loss"):
            return fn(*args, **named)

    return cast(F, in_its_group)


def _check(outputs: Sequence[Value], target: Sequence[float], name: str) -> None:
    if len(outputs) != len(target):
        raise ValueError(f"{name}: {len(outputs)} outputs but a target of {len(target)}")


@_a_loss
def squared_error(outputs: Sequence[Value], target: Sequence[float]) -> Value:
    """C = ½ Σ_k (a_k − y_k)²."""
    _check(outputs, target, "squared_error")
    diffs = [a - y for a, y in zip(outputs, target, strict=True)]
    return 0.5 * dot(diffs, diffs)


#: Per sample, mse is the squared error; ``fit`` and ``explain`` average it over the batch.
mse = squared_error


@_a_loss
def bce(outputs: Sequence[Value], target: Sequence[float]) -> Value:
    """C = −Σ [y ln a + (1 − y) ln(1 − a)], for sigmoid outputs a = σ(z).

    Computed as Σ [y·softplus(−z) + (1 − y)·softplus(z)] from the sigmoid's own input z, so a
    saturated output never takes the log of 0; then ∂C/∂z = σ(z) − y = a − y. softplus is the
    rule table's row, stable for every z in one node, with no branch on z's value that a
    compiled trace would keep from its example.
    """
    _check(outputs, target, "bce")
    terms = []
    for a, y in zip(outputs, target, strict=True):
        if a.op != "sigmoid":
            raise ValueError("bce needs sigmoid outputs (MLP(..., output='sigmoid'))")
        z = a.parents[0]
        # a term whose weight is exactly 0 (y ∈ {0, 1}) is left out: same value and gradient,
        # half the graph to look at
        if y != 0.0:
            terms.append(y * (-z).softplus())
        if y != 1.0:
            terms.append((1.0 - y) * z.softplus())
    return total(terms)


@_a_loss
def cross_entropy(outputs: Sequence[Value], target: Sequence[float]) -> Value:
    """C = −Σ_k y_k ln a_k for softmax outputs (one-hot or probability targets y).

    From the logits: C = (Σ y)·(m + ln Σ e^{z_k − m}) − Σ y_k z_k with m = max z, so that
    ∂C/∂z_k = a_k − y_k when Σ y = 1, the δ^L of the iris article.
    """
    _check(outputs, target, "cross_entropy")
    if not isinstance(outputs, Probabilities):
        raise ValueError("cross_entropy needs softmax outputs (MLP(..., output='softmax'))")
    z = outputs.logits
    m = max(v.data for v in z)
    log_norm = total([(v - m).exp() for v in z]).log() + m
    return sum(target) * log_norm - dot(list(target), z)


@_a_loss
def hinge(outputs: Sequence[Value], target: Sequence[float]) -> Value:
    """C = max(0, 1 − y·s) for one score s and y ∈ {−1, +1}; the subgradient is 0 at the
    kink (relu′(0) = 0)."""
    _check(outputs, target, "hinge")
    if len(outputs) != 1:
        raise ValueError(f"hinge takes one score, not {len(outputs)} outputs")
    return (1.0 - target[0] * outputs[0]).relu()


@_a_loss
def l2(parameters: Sequence[Value], alpha: float) -> Value:
    """α Σ p², the weight decay of micrograd's demo."""
    return alpha * dot(parameters, parameters)


#: Every per-sample loss by its name; ``get`` looks a name up here.
LOSSES: dict[str, Loss] = {
    "squared_error": squared_error, "mse": mse, "bce": bce, "cross_entropy": cross_entropy,
    "hinge": hinge,
}


def get(loss: str | Loss) -> tuple[str, Loss]:
    """A loss and its name, from its name or the function itself."""
    if callable(loss):
        for name, fn in LOSSES.items():
            if fn is loss:
                return name, fn
        return getattr(loss, "__name__", "loss"), loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    return loss, LOSSES[loss]
