"""The evaluation trace of f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2), the example of Bishop and
Bishop, Deep Learning: Foundations and Concepts, chapter 8, against values worked by hand at
(x1, x2) = (1.5, 0.5)."""

from __future__ import annotations

import math

import pytest

from autograd_mini import Value, trace
from autograd_mini.tables import Trace

X1, X2 = 1.5, 0.5
E = math.exp(X1 * X2)


def trace_example() -> tuple[Value, Value, Value]:
    x1, x2 = Value(X1, label="x1"), Value(X2, label="x2")
    v = x1 * x2
    return x1, x2, v + v.exp() - x2.sin()


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-14, abs_tol=1e-15)


def test_numbering_and_primal_values() -> None:
    *_, f = trace_example()
    t = trace(f)
    # v₋₁ = x1, v₀ = x2, v₁ = v₋₁v₀, v₂ = exp v₁, v₃ = v₁ + v₂, v₄ = sin v₀, v₅ = v₃ − v₄
    expected = {-1: X1, 0: X2, 1: X1 * X2, 2: E, 3: X1 * X2 + E, 4: math.sin(X2),
                5: X1 * X2 + E - math.sin(X2)}
    assert [row.index for row in t.primals] == list(range(-1, 6))
    for row in t.primals:
        assert close(row.value, expected[row.index]), row


@pytest.mark.parametrize(
    ("wrt", "expected"),
    [
        # ẋ = (1, 0): v̇₁ = x2, v̇₂ = x2 e, v̇₃ = x2(1 + e), v̇₄ = 0, v̇₅ = v̇₃
        ("x1", {-1: 1.0, 0: 0.0, 1: X2, 2: X2 * E, 3: X2 * (1 + E), 4: 0.0, 5: X2 * (1 + E)}),
        # ẋ = (0, 1): v̇₁ = x1, v̇₄ = cos x2, v̇₅ = x1(1 + e) − cos x2
        ("x2", {-1: 0.0, 0: 1.0, 1: X1, 2: X1 * E, 3: X1 * (1 + E), 4: math.cos(X2),
                5: X1 * (1 + E) - math.cos(X2)}),
    ],
)
def test_tangent_values(wrt: str, expected: dict[int, float]) -> None:
    *_, f = trace_example()
    t = trace(f, wrt=wrt)
    assert [row.index for row in t.tangents] == list(range(-1, 6))
    for row in t.tangents:
        assert close(row.value, expected[row.index]), row


def test_tangent_for_a_direction() -> None:
    x1, _, f = trace_example()
    t = trace(f, wrt={x1: 2.0, "x2": -1.0})
    # ∇f · (2, −1)
    want = 2 * X2 * (1 + E) - (X1 * (1 + E) - math.cos(X2))
    assert close(t.tangents[-1].value, want)


def test_adjoint_values_and_accumulation_steps() -> None:
    *_, f = trace_example()
    t = trace(f)
    final = {row.index: row.value for row in t.adjoints}
    # v̄₅ = 1, v̄₃ = 1, v̄₄ = −1, v̄₂ = 1, v̄₁ = v̄₃ + v̄₂·e = 1 + e,
    # v̄₀ = v̄₄ cos x2 + v̄₁ x1, v̄₋₁ = v̄₁ x2
    expected = {5: 1.0, 3: 1.0, 4: -1.0, 2: 1.0, 1: 1 + E,
                0: -math.cos(X2) + X1 * (1 + E), -1: X2 * (1 + E)}
    assert final.keys() == expected.keys()
    for index, value in expected.items():
        assert close(final[index], value), index
    # v₁ feeds exp and +, v₀ feeds · and sin: each gets one '=' step and one '+=' step
    steps = [(row.index, row.accumulate) for row in t.adjoints]
    for index in (1, 0):
        assert steps.count((index, False)) == 1
        assert steps.count((index, True)) == 1
    for index in (5, 4, 3, 2, -1):
        assert steps.count((index, True)) == 0
    # the running value of the first v̄₁ step is the contribution of its first consumer only
    first_v1 = next(row for row in t.adjoints if row.index == 1)
    assert first_v1.value in (1.0, E)
    assert t.gradient == pytest.approx({"x1": X2 * (1 + E), "x2": X1 * (1 + E) - math.cos(X2)},
                                       rel=1e-14)


def test_text_shows_the_formulas() -> None:
    *_, f = trace_example()
    text = trace(f, wrt="x1").to_text()
    for line in ("v₁  =  v₋₁ · v₀", "v₂  =  exp(v₁)", "v₅  =  v₃ − v₄", "v̇₁  =  v̇₋₁ · v₀",
                 "v̄₄  =  −v̄₅", "v̄₀  =  v̄₄ · cos(v₀)", "v̄₁  += v̄₂ · v₂", "v̄₀  += v̄₁ · v₋₁"):
        assert line in text, line
    assert text.splitlines()[0] == "Primal trace"


def test_other_renderings() -> None:
    *_, f = trace_example()
    t = trace(f, wrt="x2")
    markdown = t.to_markdown()
    assert "| $v_{1} = v_{-1} \\cdot v_{0}$ |" in markdown
    assert "\\dot{v}_{4} = \\dot{v}_{0} \\cdot \\cos v_{0}" in markdown
    latex = t.to_latex()
    assert latex.count("\\begin{aligned}") == 3
    assert "\\bar{v}_{1} &\\mathrel{+}= \\bar{v}_{2} \\cdot v_{2}" in latex
    page = t._repr_html_()
    assert page.count("<table>") == 3
    assert "v<sub>−1</sub>" in page


def test_constants_are_numbers_not_inputs() -> None:
    x = Value(3.0, label="x")
    t = trace(x * 2 - 1)
    assert len(t.inputs) == 1
    text = t.to_text()
    assert "v₁ =  v₀ · 2" in text
    assert "v₂ =  v₁ − 1" in text
    assert t.gradient == {"x": 2.0}


def test_a_plus_a_accumulates_twice() -> None:
    a = Value(3.0, label="a")
    t = trace(a + a)
    rows = [(r.index, r.accumulate, r.value) for r in t.adjoints]
    assert rows == [(1, False, 1.0), (0, False, 1.0), (0, True, 2.0)]


def test_traces_are_deterministic() -> None:
    first, second = trace(trace_example()[2], wrt="x1"), trace(trace_example()[2], wrt="x1")
    assert first.to_text() == second.to_text()


def test_wrt_must_name_an_input() -> None:
    *_, f = trace_example()
    with pytest.raises(ValueError, match="no input labelled 'x3'"):
        Trace(f, wrt="x3")
    with pytest.raises(ValueError, match="must name an input"):
        Trace(f, wrt=f)
