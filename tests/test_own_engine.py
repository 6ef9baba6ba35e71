"""The testing tools on engines and rules that are not the package's own: they pass correct
code, find planted bugs, and shrink each to a program of one or two ops.

The oracle is sympy (:func:`~autograd_mini.testing.assert_matches_sympy`): the planted bugs
are found because sympy's closed-form derivative disagrees with the engine's, not because a
test knows where the bug is.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import pytest
import sympy as sp
from _engines import AssignsGrad, ReversedRsub, SetOfParents, Tiny
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from autograd_mini import Value, primitive
from autograd_mini._graph import topological_order as walk
from autograd_mini.rules import RULES
from autograd_mini.testing import (
    Instruction,
    Program,
    SympyMismatchError,
    UnsupportedOpError,
    assert_matches_sympy,
    supported_ops,
    to_sympy,
)
from autograd_mini.testing.strategies import cases, dags, expressions

BUILTIN_OPS = tuple(sorted(name for name, rule in RULES.items() if rule.builtin))

#: find() shrinks: derandomised, so the same minimal example comes back on every run.
FIND = settings(database=None, derandomize=True, max_examples=2000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def disagrees(case: tuple[Program, tuple[float, ...]], engine: type | None = None) -> bool:
    program, point = case
    try:
        assert_matches_sympy(program, at=point, engine=engine)
    except SympyMismatchError:
        return True
    return False


def n_ops(program: Program) -> int:
    return sum(ins.op != "const" for ins in program.body)


# ---------------------------------------------------------------------------------------------
# An engine of one's own
# ---------------------------------------------------------------------------------------------


def test_supported_ops_reads_the_class() -> None:
    assert supported_ops(Tiny) == ("add", "dot", "exp", "mul", "neg", "relu", "sub", "sum",
                                   "tanh")


@settings(max_examples=150, deadline=None)
@given(cases(engine=Tiny))
def test_a_correct_engine_passes(case: tuple[Program, tuple[float, ...]]) -> None:
    program, point = case
    assert assert_matches_sympy(program, at=point, engine=Tiny)


@pytest.mark.parametrize(("engine", "signature"), [
    # one op that reads a node twice: x0 + x0 or x0 · x0
    (AssignsGrad, lambda p: any(len(set(i.args)) < len(i.args) for i in p.body)),
    (SetOfParents, lambda p: any(len(set(i.args)) < len(i.args) for i in p.body)),
    # a constant minus something: c − x0
    (ReversedRsub, lambda p: any(i.op == "sub" and i.args[0] >= p.n_inputs
                                 and p.body[i.args[0] - p.n_inputs].op == "const"
                                 for i in p.body)),
])
def test_a_planted_bug_is_found_and_shrunk(engine: type, signature: Any) -> None:
    program, point = find(cases(engine=engine), lambda c: disagrees(c, engine), settings=FIND)
    # NOTE: hypothesis shrinks to a local minimum, which can depend on the process's memory
    # layout (what else was imported): one op in a fresh process, at most two in any.
    assert n_ops(program) <= 2, program
    assert signature(program), program
    with pytest.raises(SympyMismatchError, match="mismatch"):
        assert_matches_sympy(program, at=point, engine=engine)


def test_the_shrunk_bugs_read_as_the_textbook_examples() -> None:
    """The programs hypothesis shrinks to, checked by hand: x0 + x0 has gradient 2, which an
    engine that assigns instead of adding gets as 1."""
    twice = Program(1, (Instruction("add", (0, 0)),))
    assert str(twice) == "v1 = x0 + x0\nreturn v1"
    for engine in (AssignsGrad, SetOfParents):
        with pytest.raises(SympyMismatchError) as caught:
            assert_matches_sympy(twice, at=(0.5,), engine=engine)
        rows = {name: (ours, theirs) for name, ours, theirs, _ in caught.value.rows}
        assert rows["∂f/∂x0"] == (1.0, 2.0)
    assert assert_matches_sympy(twice, at=(0.5,), engine=Tiny)
    minus = Program(1, (Instruction("const", value=-2.0), Instruction("sub", (1, 0))))
    with pytest.raises(SympyMismatchError) as caught:
        assert_matches_sympy(minus, at=(0.5,), engine=ReversedRsub)
    rows = {name: (ours, theirs) for name, ours, theirs, _ in caught.value.rows}
    assert rows["f"] == (2.5, -2.5)  # x0 − (−2) instead of −2 − x0


def test_run_on_names_what_a_class_lacks() -> None:
    program = Program(1, (Instruction("sin", (0,)),))
    with pytest.raises(UnsupportedOpError, match=r"Tiny has no sin, so node v1 \(sin\)"):
        program.run_on(Tiny, 0.5)
    with pytest.raises(ValueError, match="Tiny has none of"):
        find(dags(ops=["sin", "log"], engine=Tiny), lambda p: True)


def test_run_on_methods_maps_an_op_to_a_function() -> None:
    program = Program(1, (Instruction("sin", (0,)),))
    out = program.run_on(Tiny, 0.5, methods={"sin": lambda x: Tiny(math.sin(x.data),
                                                                    (x,), (math.cos(x.data),))})
    out.backward()
    assert out.data == math.sin(0.5)


def test_micrograd_passes() -> None:
    micrograd = pytest.importorskip("micrograd.engine")
    engine = micrograd.Value
    # micrograd has + − · / −x and relu; ** only with a number exponent, so no __rpow__
    assert set(supported_ops(engine)) == {"add", "div", "dot", "mul", "neg", "relu", "sub",
                                          "sum"}

    @settings(max_examples=150, deadline=None)
    @given(cases(engine=engine))
    def check(case: tuple[Program, tuple[float, ...]]) -> None:
        program, point = case
        assert assert_matches_sympy(program, at=point, engine=engine)

    check()


# ---------------------------------------------------------------------------------------------
# A wrong rule in the table, and a wrong user primitive
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def wrong_tanh(monkeypatch: pytest.MonkeyPatch) -> None:
    """tanh′ written as 1 − tanh instead of 1 − tanh², in the table that programs read."""
    rule = dataclasses.replace(RULES["tanh"], partials=(lambda x, out: 1 - out,))
    monkeypatch.setitem(RULES, "tanh", rule)


def test_a_wrong_rule_in_the_table_is_found_and_shrunk(wrong_tanh: None) -> None:
    program, _ = find(cases(programs=dags(n_inputs=1, ops=BUILTIN_OPS)), disagrees,
                      settings=FIND)
    assert n_ops(program) <= 2, program
    assert any(ins.op == "tanh" for ins in program.body), program


@pytest.fixture
def wrong_softsign() -> Iterator[str]:
    """softsign(x) = x/(1 + |x|), with its derivative missing the square: 1/(1 + |x|)."""
    name = "t_wrong_softsign"
    primitive(name, lambda x: x / (1 + abs(x)), [lambda x, out: 1 / (1 + abs(x))],
              sympy=lambda sp, x: x / (1 + sp.Abs(x)), kink=lambda x: x, check=False)
    yield name
    RULES.pop(name, None)


def test_a_wrong_user_primitive_is_found_and_shrunk(wrong_softsign: str) -> None:
    ops = [wrong_softsign, "add", "mul", "sin", "exp"]
    program, _ = find(cases(programs=dags(n_inputs=1, ops=ops)), disagrees, settings=FIND)
    assert n_ops(program) <= 2, program
    assert any(ins.op == wrong_softsign for ins in program.body), program
    # and its partial is the wrong one: at the point, 1/(1 + |x|) against sympy's square
    with pytest.raises(SympyMismatchError):
        assert_matches_sympy(Program(1, (Instruction(wrong_softsign, (0,)),)), at=(0.5,))


# ---------------------------------------------------------------------------------------------
# to_sympy of graphs built with Values, and programs that print as Python
# ---------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(program=st.integers(1, 3).flatmap(lambda n: dags(n_inputs=n, ops=BUILTIN_OPS)),
       data=st.data())
def test_to_sympy_of_values_agrees_with_the_program(program: Program, data: Any) -> None:
    """The graph is built through Value's operators and methods (run_on with Value), not by
    the program's own evaluation; both closed forms must be the same expression."""
    point = [data.draw(st.floats(0.25, 2.0)) for _ in range(program.n_inputs)]
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    try:
        out = program.run_on(Value, *inputs)
    except ValueError:  # a domain error at this point: the expressions need no point
        return
    symbols = sp.symbols(f"x0:{program.n_inputs}", real=True)
    # run_on makes a constant a Value when a method is called on it (elu(−2, alpha)): such a
    # leaf has no label, and stands for its number
    numbers = {v: sp.Rational(repr(v.data)) for v in walk(out)
               if v.op is None and v.label is None}
    assert to_sympy(out, numbers) == program.to_sympy(symbols)


def test_to_sympy_names_constants_and_refuses_ambiguity() -> None:
    x = Value(2.0, label="x")
    assert to_sympy(x * 0.1 + 3) == sp.Symbol("x", real=True) / 10 + 3
    assert to_sympy(Value(1.0) + Value(2.0)) == sp.Symbol("x0", real=True) + sp.Symbol(
        "x1", real=True)
    with pytest.raises(ValueError, match="two different inputs are labelled 'x'"):
        to_sympy(x + Value(1.0, label="x"))
    y = sp.Symbol("y")
    assert to_sympy(x.exp(), {"x": y}) == sp.exp(y)


@pytest.mark.parametrize("strategy", [dags(n_inputs=2), expressions(n_inputs=2)])
def test_repr_is_python_that_rebuilds_the_program(strategy: Any) -> None:
    @settings(max_examples=200, deadline=None)
    @given(strategy)
    def check(program: Program) -> None:
        namespace = {"Program": Program, "Instruction": Instruction}
        assert eval(repr(program), namespace) == program

    check()


@settings(max_examples=300, deadline=None)
@given(dags(n_inputs=2, ops=BUILTIN_OPS))
def test_dags_have_no_dead_code(program: Program) -> None:
    """Every op reaches the output, and every op depends on an input."""
    n = program.n_inputs
    reaches = {n + len(program.body) - 1}
    for k in range(len(program.body) - 1, -1, -1):
        if n + k in reaches:
            reaches.update(program.body[k].args)
    depends = set(range(n))
    for k, ins in enumerate(program.body):
        if ins.op != "const" and depends.intersection(ins.args):
            depends.add(n + k)
    for k, ins in enumerate(program.body):
        assert n + k in reaches, program
        if ins.op != "const":
            assert n + k in depends, program


def test_dags_draw_the_variadic_rules() -> None:
    for name in ("sum", "dot"):
        found = find(dags(n_inputs=2, ops=["add", name]),
                     lambda p, name=name: any(i.op == name for i in p.body),
                     settings=settings(database=None, max_examples=500))
        assert any(len(i.args) in (3, 5) for i in found.body if i.op == name)
