"""The general sweeps: adjoints and tangents kept in dictionaries, on floats or on Values.

These serve ``backward(create_graph=True)``, the function transforms of
:mod:`autograd_mini.functional` and the tangent table of the evaluation trace. Plain
``backward()`` has a faster pass of its own for floats, in :mod:`autograd_mini.engine`.
Both sweeps read the partials of the one rule table; there is no second set of derivative
formulas.

* reverse (adjoints):  v̄ = Σ over consumers c of ∂c/∂v · c̄, a *row* of the Jacobian (ȳᵀ·J);
* forward (tangents):  v̇ = Σᵢ ∂v/∂xᵢ · ẋᵢ, a *column* (J·ẋ).

Adjoints and tangents are kept by node id in the dictionary a sweep returns, not in
``.grad``, so a sweep has no side effects and sweeps can nest.

NOTE: a term through a partial that is :data:`~autograd_mini.rules.STRONG_ZERO`
(stop_gradient's) is left out, not added as 0: a node that only such edges reach gets no entry
(its adjoint or tangent is 0), so nothing below it is visited, and an infinite partial there
never meets it (0 · inf would be nan).
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from ._graph import local_partials, operands, reverse_edges
from .cost import charge
from .rules import STRONG_ZERO

__all__ = ["forward_sweep", "reverse_sweep", "times"]


def times(g: Any, d: Any) -> Any:
    """g · d, without building a node when either factor is exactly ±1; the strong zero if
    either factor is it, whatever the other (inf, nan, or a Value)."""
    if type(d) is float:
        if d == 1.0:
            return g
        if d == -1.0:
            return -g
    if type(g) is float and g == 1.0:
        return d
    if d is STRONG_ZERO or g is STRONG_ZERO:
        return STRONG_ZERO
    return g * d


def reverse_sweep(order: list[Any], seeds: dict[int, Any], on_values: bool,
                  stop: Container[int] = frozenset(),
                  live: Container[int] | None = None) -> dict[int, Any]:
    """Adjoints v̄ = Σ over consumers c of ∂c/∂v · c̄, for the nodes of a topological ``order``.

    ``seeds`` gives the starting adjoints by node id (``{id(f): 1.0}`` for ∂f/∂·). It does not
    pass adjoints on below a node in ``stop`` (the inputs of a transform), nor into a node
    outside ``live`` when that is given (nodes that cannot reach any input). With
    ``on_values`` the adjoints are Values.
    """
    charge(reverse=1, nodes=len(order))
    bar = dict(seeds)
    edges = reverse_edges(order, "value" if on_values else "float", reached=bar, stop=stop)
    for consumer, _, p, d in edges:
        key = id(p)
        if live is not None and key not in live:
            continue
        contribution = times(bar[id(consumer)], d)
        if contribution is STRONG_ZERO:  # a stopped edge: nothing to add
            continue
        previous = bar.get(key)
        bar[key] = contribution if previous is None else previous + contribution
    return bar


def forward_sweep(order: list[Any], seeds: dict[int, Any], on_values: bool) -> dict[int, Any]:
    """Tangents v̇ for the nodes of a topological ``order``, given ``seeds`` by node id.

    Only nodes that depend on a seeded node get an entry; every other tangent is 0. A seeded
    node keeps its seed even if it has operands (a transform's input wrapping an outer Value).
    With ``on_values`` the tangents are Values, so that they can be differentiated again.
    """
    charge(forward=1, nodes=len(order))
    dot = dict(seeds)
    for node in order:
        key = id(node)
        if key in dot or not node._op.arity:
            continue
        total = None
        partials = None
        for i, p in enumerate(operands(node)):
            t = dot.get(id(p))
            if t is None:  # a constant, or a node that no seed reaches: its tangent is 0
                continue
            if partials is None:
                partials = local_partials(node, on_values)
            term = times(t, partials[i])
            if term is STRONG_ZERO:  # a stopped edge: nothing to add
                continue
            total = term if total is None else total + term
        if total is not None:
            dot[key] = total
    return dot
