"""Hypothesis strategies: random computation graphs, and fair points to test them at.

* :func:`expressions`: random expression trees, where every intermediate result is used once;
* :func:`dags`: SSA-style programs whose ops read any earlier node, so that shared nodes,
  diamonds (``a = f(x); b = g(a); c = h(a); d = b·c``) and fan-out all occur. No op is dead:
  every one reaches the output, and every one depends on an input;
* :func:`points`: inputs at which a program or function is a fair test of its derivatives
  (:func:`~autograd_mini.testing.oracle.point_issue` has nothing to say), so a test needs no
  ``assume()`` of its own;
* :func:`cases`: a program and a fair point for it, together.

Programs draw from every rule in the table unless ``ops`` says otherwise: variadic rules
(``sum``, ``dot``, drawn with 3 or 5 operands) and a user's primitives included, so a new rule
is exercised as soon as it is registered. Surrogate rows (stop_gradient: partials defined,
not derived from the value) are drawn only when ``ops`` names them, since central differences
of a program are not its gradient through them; sympy's forms know their derivatives, so a
test against sympy may name them. ``engine=`` restricts them to the ops a class of
one's own has (:func:`~autograd_mini.testing.supported_ops`). A drawn program prints as Python
that rebuilds it, so a failing example can be pasted into a test.

A property test of one's own engine against sympy, in a few lines::

    @given(cases(engine=MyValue))
    def test_my_engine(case):
        program, point = case
        assert_matches_sympy(program, at=point, engine=MyValue)

This module imports hypothesis; :mod:`autograd_mini.testing` itself does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import event, reject
from hypothesis import strategies as st

from ..rules import RULES, VARIADIC
from .oracle import BOUND, MARGIN, input_names, point_issue
from .program import Instruction, Program, supported_ops

__all__ = ["CONSTANTS", "cases", "dags", "expressions", "points"]

#: Constants that programs may contain: integers (so a negative base can be raised to them)
#: and simple fractions.
CONSTANTS: tuple[float, ...] = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0)

#: How many operands a variadic rule is drawn with: x₁ + x₂ + x₃ and w₁a₁ + b, then
#: x₁ + … + x₅ and w₁a₁ + w₂a₂ + b.
VARIADIC_COUNTS = (3, 5)


def _by_arity(ops: Sequence[str] | None, engine: type | None) -> dict[int, list[str]]:
    """The ops to draw from, by the number of operands they are drawn with."""
    names = sorted(n for n, r in RULES.items() if not r.surrogate) if ops is None else list(ops)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"unknown ops: {unknown}; the table has {sorted(RULES)}")
    if engine is not None:
        names = list(supported_ops(engine, names))
    groups: dict[int, list[str]] = {}
    for name in names:
        arity = RULES[name].arity
        for count in VARIADIC_COUNTS if arity == VARIADIC else (arity,):
            if count > 0:
                groups.setdefault(count, []).append(name)
    if not groups:
        raise ValueError("no ops to draw programs from" + (
            "" if engine is None else f": {engine.__name__} has none of {names}"))
    return groups


def expressions(n_inputs: int = 2, max_leaves: int = 8, ops: Sequence[str] | None = None,
                constants: Sequence[float] = CONSTANTS, engine: type | None = None,
                ) -> st.SearchStrategy[Program]:
    """Random expression trees over inputs ``x0 … x{n−1}`` with at most ``max_leaves`` leaves.

    An input may appear at several leaves, but every intermediate value feeds exactly one op.
    """
    groups = _by_arity(ops, engine)
    leaf = st.one_of(
        st.integers(0, n_inputs - 1).map(lambda i: ("x", i)),
        st.sampled_from(list(constants)).map(lambda c: ("c", c)),
    )

    def extend(kids: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(*(st.tuples(st.sampled_from(names), *[kids] * arity)
                           for arity, names in sorted(groups.items())))

    trees = st.recursive(leaf, extend, max_leaves=max_leaves).filter(
        lambda t: t[0] != "c")  # a bare constant has no gradient to check
    return _programs_of_trees(trees, n_inputs)


@st.composite
def _programs_of_trees(draw: st.DrawFn, trees: st.SearchStrategy[Any], n_inputs: int) -> Program:
    # NOTE: a composite, not trees.map(...): hypothesis prints what a composite returns with
    # its repr, which is Python that rebuilds the program.
    return _flatten(draw(trees), n_inputs)


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
         constants: Sequence[float] = CONSTANTS, p_const: float = 0.15,
         engine: type | None = None) -> Program:
    """Random SSA programs whose result is the last op.

    Each operand is, with probability ``p_const``, a new constant, and otherwise an earlier
    input or op, counted back from the newest, so that a program shrinks towards a chain in
    which each op reads the one before (``x0 + x0`` is one op reading its input twice). Every
    op reads at least one input or op, so every op depends on an input; ops that do not reach
    the output are dropped, so none is dead.
    """
    groups = _by_arity(ops, engine)
    arities = sorted(groups)
    n_ops = draw(st.integers(1, max_ops))
    body: list[Instruction] = []
    variables = list(range(n_inputs))  # nodes that depend on an input
    for _ in range(n_ops):
        arity = draw(st.sampled_from(arities))
        op = draw(st.sampled_from(groups[arity]))
        args: list[int] = []
        reads_a_variable = False
        for k in range(arity):
            must_read_one = k == arity - 1 and not reads_a_variable
            if not must_read_one and draw(st.floats(0.0, 1.0)) >= 1.0 - p_const:
                body.append(Instruction("const", value=draw(st.sampled_from(list(constants)))))
                args.append(n_inputs + len(body) - 1)
            else:  # counted back from the newest, so it shrinks to the newest
                back = draw(st.integers(0, len(variables) - 1))
                args.append(variables[-1 - back])
                reads_a_variable = True
        body.append(Instruction(op, tuple(args)))
        variables.append(n_inputs + len(body) - 1)
    return _without_dead_code(n_inputs, body)


def _without_dead_code(n_inputs: int, body: list[Instruction]) -> Program:
    """The program with only the instructions that the last one reads, renumbered."""
    live = {n_inputs + len(body) - 1}
    for k in range(len(body) - 1, -1, -1):
        if n_inputs + k in live:
            live.update(body[k].args)
    number = {i: i for i in range(n_inputs)}
    kept: list[Instruction] = []
    for k, ins in enumerate(body):
        if n_inputs + k in live:
            number[n_inputs + k] = n_inputs + len(kept)
            kept.append(Instruction(ins.op, tuple(number[a] for a in ins.args), ins.value))
    return Program(n_inputs, tuple(kept))


def points(f: Callable[..., Any] | Program, n_inputs: int | None = None, *,
           min_value: float = -3.0, max_value: float = 3.0, margin: float = MARGIN,
           bound: float = BOUND, sympy: bool | None = None,
           tries: int = 20) -> st.SearchStrategy[tuple[float, ...]]:
    """Points in [min_value, max_value]ⁿ at which ``f`` is a fair test of its derivatives.

    ``f`` is a :class:`~autograd_mini.testing.Program` or a function of Values (``n_inputs`` is
    read from its signature unless given). A point is drawn up to ``tries`` times until
    :func:`~autograd_mini.testing.oracle.point_issue` finds nothing wrong with it: every op
    inside its domain by ``margin``, no kink or tie within ``margin``, no value, adjoint or
    adjoint term beyond ``bound``, and (with ``sympy``; by default when sympy is installed and
    every op has a sympy form) sympy's value and gradient finite. Domains and kinks are read
    from the rule table, so a user's primitive gets fair points too. When no try succeeds the
    example is rejected, as ``assume(False)`` would; hypothesis's statistics
    (``--hypothesis-show-statistics``) say why points were refused.
    """
    n = len(input_names(f, n_inputs))
    coordinate = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)

    @st.composite
    def fair(draw: st.DrawFn) -> tuple[float, ...]:
        for _ in range(tries):
            point = tuple(draw(coordinate) for _ in range(n))
            problem = point_issue(f, point, margin=margin, bound=bound, sympy=sympy)
            if problem is None:
                return point
            event(f"points: refused, {_kind(problem)}")
        reject()

    return fair()


def _kind(problem: str) -> str:
    """A short class of a point's problem, for hypothesis's statistics."""
    for words in ("kink", "domain", "not finite", "beyond", "raises", "sympy"):
        if words in problem:
            return {"kink": "a kink or tie", "domain": "a domain edge",
                    "not finite": "a pole", "beyond": "a huge value",
                    "raises": "an error", "sympy": "sympy not finite"}[words]
    return problem


@st.composite
def cases(draw: st.DrawFn, /, programs: st.SearchStrategy[Program] | None = None,
          engine: type | None = None, **options: Any) -> tuple[Program, tuple[float, ...]]:
    """A program (from ``programs``, default :func:`dags` over the ops ``engine`` has) and a
    fair point for it, drawn by :func:`points` with ``options``."""
    if programs is None:
        programs = dags(n_inputs=draw(st.integers(1, 3)), engine=engine)
    program = draw(programs)
    return program, draw(points(program, **options))
