"""Iterative walks over a computation graph, and the one walk over its reverse edges.

A node is anything with the engine's slot layout: ``_op`` (a :class:`~autograd_mini.rules.Rule`)
and its operands in ``_a`` and ``_b``. Nothing here recurses, so a chain of a million ops is
walked as easily as a chain of three, and Python's recursion limit is never touched.

Every walk visits operands in their recorded order, so the same program always gives the same
order: the trace numbering and the DOT output depend on that.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from typing import Any, Literal

from .errors import DomainError
from .rules import CONST, INPUT, VARIADIC

__all__ = [
    "Edge", "local_partial", "local_partials", "operands", "reverse_edges", "topological_order",
    "wengert",
]


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
    order = [v for v in topological_order(root) if v._op is not CONST]
    inputs = [v for v in order if v._op is INPUT]
    nodes = inputs + [v for v in order if v._op is not INPUT]
    start = 1 - len(inputs)
    return nodes, {id(v): start + k for k, v in enumerate(nodes)}


# ---------------------------------------------------------------------------------------------
# Local partials, from the rule table
# ---------------------------------------------------------------------------------------------


def local_partials(node: Any, on_values: bool) -> list[Any]:
    """∂node/∂(operand i) for every operand, from the rule table: floats, or with
    ``on_values`` Values built from the operands themselves, so that they can be
    differentiated again. Constant operands are passed as floats either way.

    On Values a partial is made of ops, which can leave their own domain where the op itself
    does not (1/(2√x) at x = 0); the DomainError then says which derivative it was."""
    rule = node._op
    ops = operands(node)
    args = [p.data if p._op is CONST else p for p in ops] if on_values else [p.data for p in ops]
    out = node if on_values else node.data
    if not on_values:
        if rule.arity == VARIADIC:
            return list(rule.partials[0](args, out))
        return [d(*args, out) for d in rule.partials]
    try:
        if rule.arity == VARIADIC:
            return list(rule.partials[0](args, out))
        return [d(*args, out) for d in rule.partials]
    except DomainError as error:
        raise _derivative_error(node, error) from error


def _derivative_error(node: Any, error: DomainError) -> DomainError:
    """The DomainError of an op inside a derivative, said of the derivative: which op's
    derivative, at which point, and why it has no value there."""
    rule = node._op
    free = iter(n for n in ("x", "y", "u", "w", "p", "q") if n not in
                {p.label for p in operands(node)})  # as DomainError names them
    names = [repr(p.data) if p._op is CONST else p.label or next(free, "v")
             for p in operands(node)]
    where = ", ".join(f"{n} = {p.data!r}" for n, p in zip(names, operands(node), strict=True)
                      if p._op is not CONST)
    reason = (f"the derivative of {rule.format(names)} has no value at {where}, where "
              f"{error.op} inside it is undefined ({error.reason})")
    return DomainError(rule, operands(node), reason)


def local_partial(node: Any, i: int, on_values: bool) -> Any:
    """∂node/∂(operand i); see :func:`local_partials`."""
    if node._op.arity == VARIADIC:
        return local_partials(node, on_values)[i]
    ops = operands(node)
    if on_values:
        args = [p.data if p._op is CONST else p for p in ops]
        return node._op.partials[i](*args, node)
    return node._op.partials[i](*(p.data for p in ops), node.data)


#: One edge of the graph, read backwards: (consumer, position, operand, partial), where the
#: operand is operand number ``position`` of the consumer and ``partial`` is
#: ∂consumer/∂operand (None when it was not asked for). A plain tuple: the walk makes one per
#: edge, and a named tuple would cost a third more.
Edge = tuple[Any, int, Any, Any]


def reverse_edges(order: Sequence[Any], partials: Literal["float", "value"] | None = "float",
                  *, reached: Container[int] | None = None,
                  stop: Container[int] = ()) -> Iterator[Edge]:
    """Every edge into an op of a topological ``order``, consumers last to first, operands in
    order: the walk of every reverse-mode reader (the adjoint sweeps, the adjoint table and
    the step-through, the compiled trace).

    Edges from constants are left out: a constant has no adjoint. ``partials`` says how to
    evaluate each edge's local partial: on floats, on Values (so that it can be
    differentiated again), or not at all. A consumer is expanded only if its id is in
    ``reached`` (when given) and not in ``stop``.

    NOTE: ``reached`` is read as the walk arrives at each consumer, so a sweep can pass the
    dictionary it is filling: by then every consumer of that node has added its share.

    >>> from autograd_mini import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x
    >>> [(i, operand.label, d) for _, i, operand, d in reverse_edges([x, y])]
    [(0, 'x', 3.0), (1, 'x', 3.0)]
    """
    on_values = partials == "value"
    for node in reversed(order):
        if not node._op.arity:
            continue
        key = id(node)
        if (reached is not None and key not in reached) or key in stop:
            continue
        ds = None if partials is None else local_partials(node, on_values)
        for i, p in enumerate(operands(node)):
            if p._op is not CONST:
                yield (node, i, p, None if ds is None else ds[i])
