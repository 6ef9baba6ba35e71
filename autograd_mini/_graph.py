"""Iterative walks over a computation graph.

A node is anything with the engine's slot layout: ``_op`` (a :class:`~autograd_mini.rules.Rule`)
and its operands in ``_a`` and ``_b``. Nothing here recurses, so a chain of a million ops is
walked as easily as a chain of three, and Python's recursion limit is never touched.

Every walk visits operands in their recorded order, so the same program always gives the same
order: the trace numbering and the DOT output depend on that.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["operands", "topological_order", "wengert"]


def operands(node: Any) -> tuple[Any, ...]:
    """The node's operands, in order, duplicates kept (``a + a`` gives ``(a, a)``)."""
    arity = node._op.arity
    if arity == 2:
        return (node._a, node._b)
    if arity == 1:
        return (node._a,)
    if arity < 0:  # variadic: the operands are kept as a tuple
        return tuple(node._a)
    return ()


def topological_order(*roots: Any) -> list[Any]:
    """Every node reachable from the roots, each after all of its operands.

    A depth-first post-order with an explicit stack, from each root in turn. Operands are
    explored left to right, so for ``f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2)`` the inputs come
    out in the order the expression first uses them, and a single root comes last.
    """
    order: list[Any] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        # Each frame is (node, iterator over its operands not yet explored).
        stack: list[tuple[Any, Iterator[Any]]] = [(root, iter(operands(root)))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(operands(child))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def wengert(root: Any) -> tuple[list[Any], dict[int, int]]:
    """The evaluation-trace numbering of Griewank and Walther.

    Returns the nodes (constants left out: they are written as numbers) and their indices by
    ``id``: the n inputs are numbered 1−n … 0 in the order the expression first uses them,
    the intermediates 1 … l in evaluation order, so the root is l.
    """
    order = [v for v in topological_order(root) if v._op.name != "const"]
    inputs = [v for v in order if v._op.name == "input"]
    nodes = inputs + [v for v in order if v._op.name != "input"]
    start = 1 - len(inputs)
    return nodes, {id(v): start + k for k, v in enumerate(nodes)}
