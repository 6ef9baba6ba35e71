"""A micrograd-style engine of the kind a student writes, and three classic bugs planted in it.

``Tiny`` keeps each node's parents and local partials (floats), and its backward pass walks
the graph in reverse topological order, adding v̄·∂v/∂p into each parent's gradient. Each
subclass below plants one bug; the property tests must find it and shrink it to a program of
one or two ops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


class Tiny:
    """A scalar with a gradient: ``+ − · −x``, ``exp``, ``tanh``, ``relu``, ``backward``."""

    def __init__(self, data: float, parents: tuple[Tiny, ...] = (),
                 partials: tuple[float, ...] = ()) -> None:
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._partials = partials

    def _new(self, data: float, parents: tuple[Tiny, ...], partials: tuple[float, ...]) -> Tiny:
        return type(self)(data, parents, partials)

    def _wrap(self, other: Any) -> Tiny:
        return other if isinstance(other, Tiny) else type(self)(other)

    def __add__(self, other: Any) -> Tiny:
        other = self._wrap(other)
        return self._new(self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other: Any) -> Tiny:  # other + self
        return self._wrap(other) + self

    def __sub__(self, other: Any) -> Tiny:
        other = self._wrap(other)
        return self._new(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other: Any) -> Tiny:  # other - self
        return self._wrap(other) - self

    def __mul__(self, other: Any) -> Tiny:
        other = self._wrap(other)
        return self._new(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other: Any) -> Tiny:  # other * self
        return self._wrap(other) * self

    def __neg__(self) -> Tiny:
        return self * -1.0

    def exp(self) -> Tiny:
        e = math.exp(self.data)
        return self._new(e, (self,), (e,))

    def tanh(self) -> Tiny:
        t = math.tanh(self.data)
        return self._new(t, (self,), (1.0 - t * t,))

    def relu(self) -> Tiny:
        return self._new(max(self.data, 0.0), (self,), (float(self.data > 0),))

    def edges(self) -> Iterable[tuple[Tiny, float]]:
        """(parent, ∂self/∂parent) for every operand, duplicates kept."""
        return zip(self._parents, self._partials, strict=True)

    def accumulate(self, g: float) -> None:
        self.grad += g

    def backward(self) -> None:
        order: list[Tiny] = []
        seen: set[int] = set()
        stack: list[tuple[Tiny, bool]] = [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._parents)
        self.grad = 1.0
        for node in reversed(order):
            for parent, d in node.edges():
                parent.accumulate(d * node.grad)


class AssignsGrad(Tiny):
    """``self.grad = g`` where ``+=`` belongs: a node read twice keeps one contribution."""

    def accumulate(self, g: float) -> None:
        self.grad = g


class SetOfParents(Tiny):
    """The parents kept in a set, as micrograd's ``_prev``, and walked for the chain rule: the
    second edge of ``a + a`` or ``a · a`` is lost."""

    def edges(self) -> Iterable[tuple[Tiny, float]]:
        return [(p, self._partials[self._parents.index(p)]) for p in set(self._parents)]


class ReversedRsub(Tiny):
    """``other - self`` computed as ``self - other``."""

    def __rsub__(self, other: Any) -> Tiny:
        return self - self._wrap(other)
