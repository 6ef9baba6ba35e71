"""How the trace tables write numbers and formulas: enough digits that a row redone by hand from
the numbers shown agrees with the number shown, constants exactly as given, a constant
exponent folded into pow's partial, every chain-rule term with ``full=True``, and no ``-0``.

Expected values are worked by hand or with the math module; the numbers shown are read back
from the printed tables with ``float``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_mini import Value, trace
from autograd_mini._graph import operands
from autograd_mini.rules import RULES

X1, X2 = 1.5, 0.5
E = math.exp(X1 * X2)
LINE = re.compile(r"^  (\S+)\s+(\+?=)\s+(.*?)\s{3,}(\S+)$")


def trace_example() -> tuple[Value, Value, Value]:
    """f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2), the evaluation-trace example of Bishop and
    Bishop, Deep Learning: Foundations and Concepts, chapter 8."""
    x1, x2 = Value(X1, label="x1"), Value(X2, label="x2")
    v = x1 * x2
    return x1, x2, v + v.exp() - x2.sin()


def rows(text: str, title: str) -> list[tuple[str, str, str, str]]:
    """(left-hand side, ``=`` or ``+=``, formula, value) of each row of one table of
    ``to_text``."""
    block = text.split(title, 1)[1].split("\n\n", 1)[0]
    out = []
    for line in block.splitlines()[1:]:
        match = LINE.match(line)
        assert match, line
        lhs, op, formula, value = match.groups()
        out.append((lhs, op, formula.strip(), value))
    return out


def unit(shown: str, precision: int = 6) -> float:
    """One unit in the last digit of a number written with at least ``precision`` significant
    digits (a reader cannot tell 10 from 10.0000)."""
    mantissa = shown.lstrip("-").partition("e")[0]
    digits = len(mantissa.replace(".", "").lstrip("0")) or 1
    x = float(shown)
    power = math.floor(math.log10(abs(x))) if x else 0
    return 10.0 ** (power - max(digits, precision) + 1)


def agrees(redone: float, shown: str) -> bool:
    """A row redone from the shown numbers agrees with the shown result to its last digit,
    give or take one: within one and a half units (the operands' rounding may cost one, the
    result's own rounding half), plus the float noise of redoing it. A 0 must be 0."""
    written = float(shown)
    if written == 0.0:
        return redone == 0.0
    return abs(redone - written) <= 1.5 * unit(shown) + 4 * math.ulp(written)


# -- adaptive precision ------------------------------------------------------------------------


def test_tanh_near_one_is_written_with_the_digits_its_partial_needs() -> None:
    x = Value(3.0, label="x")
    text = trace((x * x).tanh()).to_text()
    primal = {lhs: value for lhs, _, _, value in rows(text, "Primal trace")}
    adjoint = rows(text, "Adjoint trace")
    assert adjoint[1][:3] == ("v̄₁", "=", "v̄₂ · (1 − v₂²)")
    v2, bar1 = float(primal["v₂"]), adjoint[1][3]
    assert v2 != 1.0  # the bug: tanh 9 written as 1, so that 1 − v₂² reads as 0
    assert agrees(1.0 - v2 * v2, bar1)
    # and the value is right: sech²(9) = 4 / (e⁹ + e⁻⁹)²
    assert float(bar1) == pytest.approx(4 / (math.exp(9) + math.exp(-9)) ** 2, rel=1e-5)
    # v̄₀ = v̄₁·v₀, twice (x·x reads x twice): 2 · 3 · sech²(9) in all
    assert agrees(float(bar1) * 3, adjoint[2][3])
    assert agrees(float(adjoint[2][3]) + float(bar1) * 3, adjoint[3][3])


def test_ordinary_values_stay_short() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    v = x1 * x2
    text = trace(v + v.exp() - x2.sin()).to_text(sections=("primal",))
    values = [value for *_, value in rows(text, "Primal trace")]
    # e¹⁰ = 22026.4657948…, sin 5 = −0.958924274…
    assert values == ["2", "5", "10", "22026.5", "22036.5", "-0.958924", "22037.4"]


def test_a_value_reads_the_same_in_every_table_and_rendering() -> None:
    x = Value(3.0, label="x")
    t = trace((x * x).tanh(), wrt="x")
    alone = rows(t.to_text(sections=["primal"]), "Primal trace")[2][3]
    assert alone == rows(t.to_text(), "Primal trace")[2][3]
    assert float(alone) != 1.0  # lengthened for the adjoint's 1 − v₂², though not shown
    assert f"&& = {alone}" in t.to_latex(sections=["primal"])
    assert f"| {alone} |" in t.to_markdown()
    assert f">{alone}</td>" in t._repr_html_()


def test_precision_is_the_fewest_digits() -> None:
    *_, f = trace_example()
    t = trace(f)
    assert t.to_text(precision=6) == t.to_text()
    short = [value for *_, value in rows(t.to_text(precision=3), "Primal trace")]
    assert short[3] == f"{E:.3g}"  # e^0.75 = 2.117
    # 17 digits are never more than a number needs: 0.1 stays 0.1
    x = Value(0.1, label="x")
    assert rows(trace(x * 3).to_text(precision=17), "Primal trace")[0][3] == "0.1"
    for bad in (0, 18):
        with pytest.raises(ValueError, match="precision"):
            t.to_text(precision=bad)


def test_a_cancellation_shows_the_digits_that_cause_it() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in binary, so (0.1 + 0.2) − 0.3 = 2⁻⁵⁴ ≠ 0
    x = Value(0.1, label="x")
    text = trace(x + 0.2 - 0.3).to_text()
    values = {lhs: value for lhs, _, _, value in rows(text, "Primal trace")}
    assert values["v₁"] == "0.30000000000000004"
    assert float(values["v₂"]) == pytest.approx(2.0**-54, rel=1e-5)


# Small programs: each step applies an op to an earlier node, and to another or a constant.
# The op of each row is redone with the math module, on the numbers the page shows.
REDO: dict[str, Callable[..., float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda a: -a,
    "exp": math.exp,
    "sin": math.sin,
    "tanh": math.tanh,
}
MAKE: dict[str, Callable[[Value, Value | float], Value]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a, b: a**2,
    "neg": lambda a, b: -a,
    "exp": lambda a, b: a.exp(),
    "sin": lambda a, b: a.sin(),
    "tanh": lambda a, b: a.tanh(),
}
Step = tuple[str, int, int, float | None]
STEPS = st.lists(st.tuples(st.sampled_from(sorted(MAKE)), st.integers(0, 99), st.integers(0, 99),
                           st.sampled_from([None, 0.5, -2.0, 3.0, 0.1])),
                 min_size=1, max_size=6)


def build(xs: list[Value], steps: list[Step]) -> Value:
    nodes = list(xs)
    for op, i, j, constant in steps:
        a = nodes[i % len(nodes)]
        b: Value | float = nodes[j % len(nodes)] if constant is None else constant
        if op == "div":
            assume(abs(b.data if isinstance(b, Value) else b) > 1e-3)
        made = MAKE[op](a, b)
        assume(math.isfinite(made.data) and abs(made.data) < 1e8)
        nodes.append(made)
    return nodes[-1]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=1, max_size=3), STEPS)
def test_every_primal_row_redone_from_the_page_agrees(point: list[float],
                                                      steps: list[Step]) -> None:
    xs = [Value(p, label=f"x{k}") for k, p in enumerate(point)]
    t = trace(build(xs, steps))
    shown = {lhs: value for lhs, _, _, value in rows(t.to_text(), "Primal trace")}
    name = {id(v): lhs for v, lhs in zip(t.nodes, shown, strict=True)}
    for v in t.intermediates:
        # an operand as shown, or a constant (no row: written exactly in the formula)
        args = [float(shown[name[id(p)]]) if id(p) in name else p.data for p in operands(v)]
        redone = REDO[v._op.name](*args)
        assert agrees(redone, shown[name[id(v)]]), (v._op.name, args, shown[name[id(v)]])


# -- constants ---------------------------------------------------------------------------------


def test_constants_are_written_exactly_as_given() -> None:
    x = Value(2.0, label="x")
    y = ((x * 123456789 + 0.1) * 1e-7 - 2.5) * -2.5 / 2.0
    text = trace(y).to_text()
    formulas = [formula for _, _, formula, _ in rows(text, "Primal trace")]
    assert formulas[1:] == ["v₀ · 123456789", "v₁ + 0.1", "v₂ · 1e-7", "v₃ − 2.5",
                            "v₄ · (-2.5)", "v₅ / 2"]
    assert "1.23457e+08" not in text
    latex = trace(y).to_latex()
    assert r"v_{2} \cdot 1 \times 10^{-7}" in latex


# -- pow: a constant exponent is folded ------------------------------------------------------


def adjoint_formula(y: Value, row: int = 1) -> str:
    return rows(trace(y).to_text(), "Adjoint trace")[row][2]


@pytest.mark.parametrize(
    ("exponent", "formula", "value"),
    [
        (2, "v̄₁ · 2 · v₀", 2 * 3.0),                              # 2x
        (3, "v̄₁ · 3 · v₀ ** 2", 3 * 3.0**2),                     # 3x²
        (0.5, "v̄₁ · 0.5 · v₀ ** (-0.5)", 0.5 / math.sqrt(3.0)),  # 1/(2√x)
        (-1, "v̄₁ · (-1) · v₀ ** (-2)", -1 / 3.0**2),             # −1/x²
        (1.1, "v̄₁ · 1.1 · v₀ ** 0.1", 1.1 * 3.0**0.1),          # 1.1 − 1 is 0.1, not 0.1000…09
        (1, "v̄₁", 1.0),                                           # ∂x/∂x = 1
    ],
)
def test_a_constant_exponent_is_folded(exponent: float, formula: str, value: float) -> None:
    x = Value(3.0, label="x")
    y = x**exponent
    assert adjoint_formula(y) == formula
    shown = rows(trace(y).to_text(), "Adjoint trace")[1][3]
    assert agrees(value, shown)
    tangent = rows(trace(y, wrt="x").to_text(), "Tangent trace")[1][2]
    assert tangent == formula.replace("v̄₁", "v̇₀")


def test_a_folded_exponent_in_latex() -> None:
    x = Value(3.0, label="x")
    latex = trace(x**3).to_latex(sections=["adjoint"])
    assert r"\bar{v}_{0} &= \bar{v}_{1} \cdot 3 \cdot {v_{0}}^{2}" in latex
    assert r"\bar{v}_{1} \cdot 2 \cdot v_{0} " in trace(x**2).to_latex(sections=["adjoint"])


def test_a_variable_exponent_keeps_the_general_form() -> None:
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    adjoint = rows(trace(x**y).to_text(), "Adjoint trace")
    assert adjoint[1][:3] == ("v̄₋₁", "=", "v̄₁ · v₀ · v₋₁ ** (v₀ − 1)")  # y·x^(y−1)
    assert adjoint[2][:3] == ("v̄₀", "=", "v̄₁ · v₁ · log(v₋₁)")   # xʸ·ln x, with v₁ = xʸ
    assert float(adjoint[2][3]) == pytest.approx(9 * math.log(3), rel=1e-5)


def test_pow_folds_a_name_that_reads_as_a_number() -> None:
    pow_rule = RULES["pow"]
    assert pow_rule.format_partial(0, ["x", "3"], "v") == "3 · x ** 2"
    assert pow_rule.format_partial(0, ["x", "y"], "v") == "y · x ** (y − 1)"


# -- full=True ---------------------------------------------------------------------------------


def test_full_writes_every_term_of_the_chain_rule() -> None:
    *_, f = trace_example()
    terse = rows(trace(f, wrt="x1").to_text(), "Tangent trace")
    full = rows(trace(f, wrt="x1", full=True).to_text(), "Tangent trace")
    formulas = {lhs: formula for lhs, _, formula, _ in full}
    # ẋ = (1, 0): x2 carries no tangent, but its terms are written
    assert formulas["v̇₁"] == "v̇₋₁ · v₀ + v̇₀ · v₋₁"      # ∂(x1·x2) = x2·ẋ1 + x1·ẋ2
    assert formulas["v̇₄"] == "v̇₀ · cos(v₀)"             # ∂ sin x2 = cos x2 · ẋ2
    assert formulas["v̇₅"] == "v̇₃ − v̇₄"
    assert {lhs: formula for lhs, _, formula, _ in terse}["v̇₄"] == "0"
    # the same values either way: v̇₁ = x2, v̇₂ = x2·e, v̇₄ = 0, v̇₅ = x2(1 + e)
    assert [value for *_, value in full] == [value for *_, value in terse]
    values = {lhs: float(value) for lhs, _, _, value in full}
    assert values["v̇₄"] == 0.0
    assert values["v̇₁"] == X2
    assert values["v̇₅"] == pytest.approx(X2 * (1 + E), rel=1e-5)


def test_the_adjoint_table_has_every_edge_zero_or_not() -> None:
    *_, f = trace_example()
    # eight edges (v₅←v₃, v₅←v₄, v₄←v₀, v₃←v₁, v₃←v₂, v₂←v₁, v₁←v₋₁, v₁←v₀) and the seed
    assert len(trace(f).adjoints) == 9
    assert trace(f, full=True).to_text() == trace(f).to_text()
    x = Value(-1.0, label="x")
    adjoint = rows(trace(x.relu()).to_text(), "Adjoint trace")
    assert adjoint[1] == ("v̄₀", "=", "v̄₁ · [v₀ > 0]", "0")  # relu′(−1) = 0


# -- no -0 ------------------------------------------------------------------------------------

NEGATIVE_ZERO = re.compile(r"[-−]0(?![.\d])")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Value(0.0, label="x") * (-1),           # −0
        lambda: -(Value(1e-300, label="x") * 1e-300),   # −(an underflow to 0)
        lambda: Value(0.0, label="x") * -0.0,           # a constant −0
    ],
)
def test_no_negative_zero(make: Callable[[], Value]) -> None:
    y = make()
    assert math.copysign(1.0, y.data) == -1.0  # the engine's value is −0
    t = trace(y, wrt="x")
    for page in (t.to_text(), t.to_markdown(), t.to_latex(), t._repr_html_()):
        assert not NEGATIVE_ZERO.search(page), page


def test_a_wide_network_is_written_quickly_and_briefly() -> None:
    # a neuron's Σ w·a + b has 2n + 1 operands; each adjoint step of it reads one of them
    # (∂z/∂wₖ = aₖ), so its digits are chosen per step, not from all 2n + 1
    from autograd_mini.losses import squared_error
    from autograd_mini.nn import MLP

    model = MLP(2, [32, 32, 1], seed=0)
    cost = squared_error(model([0.5, -1.0]), [1.0])
    cost.backward()
    text = trace(cost).to_text()
    values = [line.split()[-1] for line in text.splitlines()[1:] if line.startswith("  ")]
    digits = [len(v.split("e")[0].replace("-", "").replace(".", "").lstrip("0")) for v in values]
    # at the default precision of 6, only a few numbers need more than 10 digits
    assert sum(d > 10 for d in digits) < len(digits) / 50
