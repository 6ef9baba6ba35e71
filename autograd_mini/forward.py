"""Forward mode: tangents pushed through a graph by the rule table's partials.

For a seed direction ẋ on the inputs, every node gets its tangent

    v̇ = Σᵢ ∂v/∂xᵢ · ẋᵢ

in one sweep in topological order, so a forward pass gives one *column* of the Jacobian
(J·ẋ), where a reverse pass gives one *row* (ȳᵀ·J). The partials are the same functions that
the reverse pass uses; there is no second set of derivative formulas.
"""

from __future__ import annotations

from typing import Any

from ._graph import operands
from .engine import Value, _charge, _times, local_partials

__all__ = ["forward_sweep"]


def forward_sweep(order: list[Value], seeds: dict[int, Any], on_values: bool) -> dict[int, Any]:
    """Tangents v̇ for the nodes of a topological ``order``, given ``seeds`` by node id.

    Only nodes that depend on a seeded node get an entry; every other tangent is 0. A seeded
    node keeps its seed even if it has operands (a transform's input wrapping an outer Value).
    With ``on_values`` the tangents are Values, so that they can be differentiated again.
    """
    _charge(forward=1, nodes=len(order))
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
            term = _times(t, partials[i])
            total = term if total is None else total + term
        if total is not None:
            dot[key] = total
    return dot
