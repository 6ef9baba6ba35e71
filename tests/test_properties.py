"""Property tests on random programs: reverse mode against sympy and against central differences.

Programs come from :func:`~autograd_mini.testing.strategies.expressions` (trees) and
:func:`~autograd_mini.testing.strategies.dags` (shared nodes, diamonds, fan-out). The oracle
for the gradients is ``sympy.diff`` of ``Program.to_sympy()``, evaluated with 30 digits; the
second oracle is :func:`~autograd_mini.testing.gradcheck` (central differences).

Points come from :func:`~autograd_mini.testing.strategies.points`, which draws only fair ones
(inside every op's domain by a margin, away from kinks and ties, nothing huge), so the tests
need no screening of their own; :func:`~autograd_mini.testing.assert_matches_sympy` compares
the gradient with sympy's closed form. Run pytest with ``--hypothesis-show-statistics`` to see
how often, and why, ``points`` refused a candidate point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import Phase, event, find, given, reject, settings
from hypothesis import strategies as st

from autograd_mini import DomainError, Value
from autograd_mini.engine import apply_rule
from autograd_mini.rules import RULES
from autograd_mini.testing import (
    Program,
    assert_matches_sympy,
    gradcheck,
    numerical_grad,
    sympy_derivatives,
)
from autograd_mini.testing.strategies import dags, expressions, points

#: The package's own rows: the property tests draw from these, not from rows that a doctest or
#: another test registered (the strategies' default is every row of the table).
BUILTIN_OPS = tuple(sorted(name for name, rule in RULES.items() if rule.builtin))
#: The rows whose partials are the derivatives of their values: central differences judge
#: these. A surrogate row (stop_gradient, ∂ = 0 by definition) is judged by sympy alone, whose
#: form knows its derivative (testing.forms).
DERIVED_OPS = tuple(name for name in BUILTIN_OPS if not RULES[name].surrogate)

Point = tuple[float, ...]

#: Largest magnitude allowed for any value, adjoint or local adjoint term v̄·∂v/∂xᵢ.
BIG = 1e6  # the default bound of points(): no value, adjoint or adjoint term beyond it
REL = 1e-7
#: Absolute floor for the comparisons. Every local term v̄·∂v/∂xᵢ is at most BIG = 1e6, and a
#: term carries a relative rounding error of about (depth ≤ 16) × 2⁻⁵³, so when terms cancel
#: the sum can be off by a few times 16 · 1e6 · 1.1e-16 ≈ 2e-9 in absolute terms.
ABS = 1e-8

STRATEGIES: dict[str, Callable[[int, tuple[str, ...]], st.SearchStrategy[Program]]] = {
    "expressions": lambda n, ops: expressions(n_inputs=n, ops=ops),
    "dags": lambda n, ops: dags(n_inputs=n, ops=ops),
}


@st.composite
def programs_and_points(draw: st.DrawFn, kind: str,
                        ops: tuple[str, ...] = BUILTIN_OPS) -> tuple[Program, Point]:
    n = draw(st.integers(1, 3), label="n_inputs")
    program = draw(STRATEGIES[kind](n, ops), label="program")
    return program, draw(points(program), label="point")


# ---------------------------------------------------------------------------------------------
# Running a program while recording every op, and screening the example
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    op: str
    args: tuple[float, ...]  # operand values (constants included)
    variable: tuple[bool, ...]  # which operands are Values (not constants)
    result: Value


@dataclass(frozen=True)
class Run:
    inputs: list[Value]
    out: Value
    nodes: list[Node]


def _data(x: Any) -> float:
    return float(x.data) if isinstance(x, Value) else float(x)


def run(program: Program, point: Point) -> Run:
    """Evaluate ``program`` on fresh Values at ``point``, recording each op; then backward."""
    inputs = [Value(x) for x in point]
    nodes: list[Node] = []

    def apply(op: str, *args: Any) -> Value:
        result = apply_rule(RULES[op], *args)
        variable = tuple(isinstance(a, Value) for a in args)
        nodes.append(Node(op, tuple(_data(a) for a in args), variable, result))
        return result

    out = program.evaluate(inputs, apply)
    out.backward()
    return Run(inputs, out, nodes)


def sympy_value_and_gradient(program: Program, point: Point) -> tuple[float, list[float]]:
    """f and ∇f at ``point`` from sympy's closed forms, evaluated with 30 significant digits."""
    value, gradient, _ = sympy_derivatives(program, point)
    return value, gradient


# ---------------------------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@settings(deadline=None, max_examples=400)
@given(data=st.data())
def test_reverse_mode_matches_sympy(kind: str, data: st.DataObject) -> None:
    program, point = data.draw(programs_and_points(kind))
    assert assert_matches_sympy(program, at=point, rtol=REL, atol=ABS)


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@settings(deadline=None, max_examples=400)
@given(data=st.data())
def test_reverse_mode_passes_gradcheck(kind: str, data: st.DataObject) -> None:
    program, point = data.draw(programs_and_points(kind, DERIVED_OPS))
    # Central differences are only a fair judge where they have converged: their truncation
    # error grows with f‴, which a moderate gradient does not bound (cos(v²ᵛ) at v ≈ 6 has
    # f′ ~ 1e6 but f‴ ~ 1e18). Two step sizes that disagree mean the point is unfair.
    fine, coarse = numerical_grad(program, list(point), 1e-6), numerical_grad(program,
                                                                              list(point), 1e-5)
    if not all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)
               for a, b in zip(fine, coarse, strict=True)):
        event("rejected: central differences have not converged")
        reject()
    assert gradcheck(program, list(point))


def _fingerprint(values: list[Value]) -> list[str]:
    # repr tells 0.0 from -0.0 and shows nan, so equal fingerprints mean identical floats.
    return [repr(v.grad) for v in values]


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_same_program_twice_gives_identical_gradients(kind: str, data: st.DataObject) -> None:
    program, point = data.draw(programs_and_points(kind))
    try:
        first, second = run(program, point), run(program, point)
    except DomainError:
        reject()
    assert repr(first.out.data) == repr(second.out.data)
    assert _fingerprint(first.inputs) == _fingerprint(second.inputs)
    assert _fingerprint([n.result for n in first.nodes]) == _fingerprint(
        [n.result for n in second.nodes]
    )
    # Intermediate adjoints are recomputed from zero on every pass (DESIGN.md), so a second
    # backward on the same graph, with only the inputs' gradients cleared by hand, reproduces
    # the first exactly; stale intermediate adjoints would be added in again.
    for x in first.inputs:
        x.grad = 0.0
    first.out.backward()
    assert _fingerprint(first.inputs) == _fingerprint(second.inputs)
    assert _fingerprint([n.result for n in first.nodes]) == _fingerprint(
        [n.result for n in second.nodes]
    )
    # zero_grad clears every gradient below the output, inputs included.
    first.out.zero_grad()
    assert all(v.grad == 0.0 for v in first.inputs)
    assert all(n.result.grad == 0.0 for n in first.nodes)


# ---------------------------------------------------------------------------------------------
# The strategies produce the structures they promise
# ---------------------------------------------------------------------------------------------


def readers(program: Program) -> dict[int, list[int]]:
    """For every node, the instructions (by node index) that read it, once per operand slot."""
    out: dict[int, list[int]] = {}
    for k, ins in enumerate(program.body):
        for a in ins.args:
            out.setdefault(a, []).append(program.n_inputs + k)
    return out


def is_op(program: Program, node: int) -> bool:
    return node >= program.n_inputs and program.body[node - program.n_inputs].op != "const"


def has_fan_out(program: Program) -> bool:
    """Some node is read by two different ops."""
    return any(len(set(r)) >= 2 for r in readers(program).values())


def has_diamond(program: Program) -> bool:
    """Some op node a is read by two different ops b and c, and one op reads both b and c."""
    for a, rs in readers(program).items():
        if not is_op(program, a):
            continue
        for ins in program.body:
            b, c = (*ins.args, -1, -1)[:2]
            if b != c and b in rs and c in rs:
                return True
    return False


def has_repeated_operand(program: Program) -> bool:
    """Some binary op reads the same node twice, as in ``a * a``."""
    return any(len(ins.args) == 2 and ins.args[0] == ins.args[1] for ins in program.body)


# No shrinking: these only need *an* example, and shrinking one costs seconds.
FIND = settings(database=None, max_examples=2000, phases=[Phase.generate])


@pytest.mark.parametrize("predicate", [has_fan_out, has_diamond, has_repeated_operand])
def test_dags_produce_shared_nodes(predicate: Callable[[Program], bool]) -> None:
    # find raises NoSuchExample if the strategy never produces such a program
    program = find(dags(ops=BUILTIN_OPS), predicate, settings=FIND)
    assert predicate(program)


def test_diamond_gradients_match_sympy() -> None:
    """A diamond over smooth ops, found by hypothesis, differentiated at a few points."""
    smooth = ["add", "mul", "sub", "sin", "cos", "tanh", "sigmoid"]
    program = find(dags(n_inputs=2, ops=smooth), has_diamond, settings=FIND)
    for point in [(0.3, -0.7), (1.25, 2.5), (-2.0, 0.1)]:
        result = run(program, point)
        _, grad = sympy_value_and_gradient(program, point)
        for x, expected in zip(result.inputs, grad, strict=True):
            assert math.isclose(x.grad, expected, rel_tol=REL, abs_tol=ABS), (program, point)


@given(program=expressions(n_inputs=3, ops=BUILTIN_OPS))
def test_expressions_share_no_intermediate_node(program: Program) -> None:
    """In a tree every op or constant node feeds exactly one op (only inputs are reused)."""
    rs = readers(program)
    out = program.output % (program.n_inputs + len(program.body))
    for node in range(program.n_inputs, program.n_inputs + len(program.body)):
        assert len(rs.get(node, [])) == (0 if node == out else 1), program
