"""Program: the SSA representation that the hypothesis strategies draw."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from autograd_mini.testing import Instruction, Program

# f(x0, x1) = x0·x1 + exp(x0·x1) − sin(x1), the evaluation-trace example of Bishop and Bishop,
# Deep Learning: Foundations and Concepts, chapter 8, written as its evaluation trace
TRACE_EXAMPLE = Program(2, (
    Instruction("mul", (0, 1)),   # 2
    Instruction("exp", (2,)),     # 3
    Instruction("add", (2, 3)),   # 4
    Instruction("sin", (1,)),     # 5
    Instruction("sub", (4, 5)),   # 6
))


def test_str_reads_like_an_evaluation_trace() -> None:
    assert str(TRACE_EXAMPLE).splitlines() == [
        "v2 = x0 · x1", "v3 = exp(v2)", "v4 = v2 + v3", "v5 = sin(x1)", "v6 = v4 − v5",
        "return v6",
    ]


def test_constants_are_written_inline() -> None:
    p = Program(1, (Instruction("const", value=2.0), Instruction("pow", (0, 1))))
    assert str(p).splitlines()[0] == "v2 = x0 ** 2.0"
    assert p(3.0).data == 9.0
    negative = Program(1, (Instruction("const", value=-2.0), Instruction("neg", (1,)),
                           Instruction("mul", (0, 1))))
    assert str(negative).splitlines()[:2] == ["v2 = −(-2.0)", "v3 = x0 · (-2.0)"]


def test_runs_on_values_and_on_sympy() -> None:
    f = TRACE_EXAMPLE(2.0, 5.0)
    f.backward()
    x0, x1 = sp.symbols("x0 x1", real=True)
    expected = x0 * x1 + sp.exp(x0 * x1) - sp.sin(x1)
    assert sp.simplify(TRACE_EXAMPLE.to_sympy([x0, x1]) - expected) == 0
    assert math.isclose(f.data, 10 + math.exp(10) - math.sin(5), rel_tol=1e-15)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((Instruction("nope", (0,)),), "unknown op 'nope'"),
        ((Instruction("exp", (0, 0)),), r"exp takes 1 operand\(s\), got 2"),
        ((Instruction("exp", (1,)),), "earlier nodes"),
    ],
)
def test_malformed_programs_are_refused(body: tuple[Instruction, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Program(1, body)


def test_wrong_number_of_inputs() -> None:
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        TRACE_EXAMPLE(1.0)
