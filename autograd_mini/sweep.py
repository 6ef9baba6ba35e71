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

from collections.abc import Callable, Container
from typing import Any

from . import anomaly as _anomaly
from ._graph import local_partials, operands, reverse_edges
from .cost import charge
from .rules import CONST, STRONG_ZERO

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
                  live: Container[int] | None = None,
                  on_node: Callable[[Any, Any], Any] | None = None) -> dict[int, Any]:
    """Adjoints v̄ = Σ over consumers c of ∂c/∂v · c̄, for the nodes of a topological ``order``.

    ``seeds`` gives the starting adjoints by node id (``{id(f): 1.0}`` for ∂f/∂·). It does not
    pass adjoints on below a node in ``stop`` (the inputs of a transform), nor into a node
    outside ``live`` when that is given (nodes that cannot reach any input). With
    ``on_values`` the adjoints are Values.

    ``on_node(node, adjoint)``, when given, is called once for every node of ``order`` that is
    not a constant, as soon as its adjoint is final (None for a node that no share reached),
    and returns the adjoint to pass on (None for none): :meth:`Value.register_hook
    <autograd_mini.Value.register_hook>`'s hooks run there. Interior nodes come last to
    first, and then the inputs, in the order of ``order``. Inside
    :func:`autograd_mini.detect_anomaly`, every share is checked as it is added.
    """
    charge(reverse=1, nodes=len(order))
    bar = dict(seeds)
    anomaly = _anomaly.current.get()
    if on_node is not None or anomaly is not None:
        return _watched_reverse(order, bar, on_values, stop, live, on_node, anomaly)
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


def _watched_reverse(order: list[Any], bar: dict[int, Any], on_values: bool,
                     stop: Container[int], live: Container[int] | None,
                     on_node: Callable[[Any, Any], Any] | None,
                     anomaly: _anomaly.Anomaly | None) -> dict[int, Any]:
    """The reverse sweep of :func:`reverse_sweep` written as a loop over nodes, so that a
    hook can see each node's final adjoint and anomaly mode each share: the same sums, in
    the same order, as the walk over :func:`~autograd_mini._graph.reverse_edges`."""
    token = _anomaly.in_backward.set(True) if anomaly is not None and on_values else None
    try:
        bar = _watched_loop(order, bar, on_values, stop, live, on_node, anomaly)
    finally:
        if token is not None:
            _anomaly.in_backward.reset(token)
    return bar


def _watched_loop(order: list[Any], bar: dict[int, Any], on_values: bool,
                  stop: Container[int], live: Container[int] | None,
                  on_node: Callable[[Any, Any], Any] | None,
                  anomaly: _anomaly.Anomaly | None) -> dict[int, Any]:
    kinks: list[_anomaly.Kink] = []
    leaves = []
    for node in reversed(order):
        rule = node._op
        if not rule.arity:
            if rule is not CONST:
                leaves.append(node)
            continue
        key = id(node)
        g = bar.get(key)
        if on_node is not None:
            g = on_node(node, g)
            if g is None:
                continue
            bar[key] = g
        elif g is None:
            continue
        if anomaly is not None:
            anomaly.reached(node, g, kinks)
        if key in stop:
            continue
        ds = local_partials(node, on_values)
        for i, p in enumerate(operands(node)):
            if p._op is CONST:
                continue
            pk = id(p)
            if live is not None and pk not in live:
                continue
            d = ds[i]
            share = times(g, d)
            if share is STRONG_ZERO:  # a stopped edge: nothing to add
                continue
            before = bar.get(pk)
            after = share if before is None else before + share
            if anomaly is not None:
                anomaly.check_share(node, i, p, d, g, share, before, after)
            bar[pk] = after
    if on_node is not None:
        for node in reversed(leaves):  # the inputs, in the order of ``order``
            g = on_node(node, bar.get(id(node)))
            if g is not None:
                bar[id(node)] = g
    if anomaly is not None:
        anomaly.end_pass(kinks)
    return bar


def forward_sweep(order: list[Any], seeds: dict[int, Any], on_values: bool) -> dict[int, Any]:
    """Tangents v̇ for the nodes of a topological ``order``, given ``seeds`` by node id.

    Only nodes that depend on a seeded node get an entry; every other tangent is 0. A seeded
    node keeps its seed even if it has operands (a transform's input wrapping an outer Value).
    With ``on_values`` the tangents are Values, so that they can be differentiated again.
    """
    charge(forward=1, nodes=len(order))
    dot = dict(seeds)
    anomaly = _anomaly.current.get()
    if anomaly is None:
        return _forward_loop(order, dot, on_values, None)
    token = _anomaly.in_backward.set(on_values)  # the terms are checked in the loop
    try:
        return _forward_loop(order, dot, on_values, anomaly)
    finally:
        _anomaly.in_backward.reset(token)


def _forward_loop(order: list[Any], dot: dict[int, Any], on_values: bool,
                  anomaly: _anomaly.Anomaly | None) -> dict[int, Any]:
    """The loop of :func:`forward_sweep`; in anomaly mode each term is checked as it is
    added."""
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
            after = term if total is None else total + term
            if anomaly is not None:
                anomaly.check_share(node, i, p, partials[i], t, term, total, after,
                                    tangent=True)
            total = after
        if total is not None:
            dot[key] = total
    return dot
