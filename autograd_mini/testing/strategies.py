"""Hypothesis strategies for random computation graphs.

* :func:`expressions`: random expression trees, where every intermediate result is used once;
* :func:`dags`: SSA-style programs whose ops read any earlier node, so that shared nodes,
  diamonds (``a = f(x); b = g(a); c = h(a); d = b·c``) and fan-out all occur.

Both draw :class:`~autograd_mini.testing.Program`\\ s over every rule in the table unless
``ops`` says otherwise, so a new rule is exercised as soon as it is registered. Pair them with
``assume()`` for domain errors, kinks and overflow; the programs do not avoid them.

This module imports hypothesis; :mod:`autograd_mini.testing` itself does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ..rules import RULES
from .program import Instruction, Program

__all__ = ["CONSTANTS", "dags", "expressions"]

#: Constants that programs may contain: integers (so a negative base can be raised to them)
#: and simple fractions.
CONSTANTS: tuple[float, ...] = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0)


def _ops(ops: Sequence[str] | None, arity: int) -> list[str]:
    names = sorted(RULES) if ops is None else list(ops)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"unknown ops: {unknown}")
    return [n for n in names if RULES[n].arity == arity]


def _choice(names: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(names) if names else st.nothing()


def expressions(n_inputs: int = 2, max_leaves: int = 8, ops: Sequence[str] | None = None,
                constants: Sequence[float] = CONSTANTS) -> st.SearchStrategy[Program]:
    """Random expression trees over inputs ``x0 … x{n−1}`` with at most ``max_leaves`` leaves.

    An input may appear at several leaves, but every intermediate value feeds exactly one op.
    """
    unary, binary = _choice(_ops(ops, 1)), _choice(_ops(ops, 2))
    leaf = st.one_of(
        st.integers(0, n_inputs - 1).map(lambda i: ("x", i)),
        st.sampled_from(list(constants)).map(lambda c: ("c", c)),
    )
    tree = st.recursive(
        leaf,
        lambda kids: st.one_of(st.tuples(unary, kids), st.tuples(binary, kids, kids)),
        max_leaves=max_leaves,
    ).filter(lambda t: t[0] != "c")  # a bare constant has no gradient to check
    return tree.map(lambda t: _flatten(t, n_inputs))


def _flatten(tree: Any, n_inputs: int) -> Program:
    """Post-order: operands are emitted before the op that reads them."""
    body: list[Instruction] = []

    def emit(t: Any) -> int:
        kind = t[0]
        if kind == "x":
            return int(t[1])
        if kind == "c":
            body.append(Instruction("const", value=float(t[1])))
        else:
            args = tuple(emit(child) for child in t[1:])
            body.append(Instruction(kind, args))
        return n_inputs + len(body) - 1

    out = emit(tree)
    return Program(n_inputs, tuple(body), out)


@st.composite
def dags(draw: st.DrawFn, n_inputs: int = 2, max_ops: int = 8, ops: Sequence[str] | None = None,
         constants: Sequence[float] = CONSTANTS, p_const: float = 0.15) -> Program:
    """Random SSA programs: each op reads any earlier node (or, with probability ``p_const``
    per operand, a new constant). The result is the last node."""
    unary, binary = _ops(ops, 1), _ops(ops, 2)
    n_ops = draw(st.integers(1, max_ops))
    body: list[Instruction] = []
    for _ in range(n_ops):
        arity = draw(st.sampled_from(([1] if unary else []) + ([2] if binary else [])))
        op = draw(st.sampled_from(unary if arity == 1 else binary))
        args = []
        for _ in range(arity):
            if draw(st.floats(0.0, 1.0)) >= 1.0 - p_const:  # shrinks to "no constant"
                body.append(Instruction("const", value=draw(st.sampled_from(list(constants)))))
                args.append(n_inputs + len(body) - 1)
            else:
                args.append(draw(st.integers(0, n_inputs + len(body) - 1)))
        body.append(Instruction(op, tuple(args)))
    return Program(n_inputs, tuple(body))
