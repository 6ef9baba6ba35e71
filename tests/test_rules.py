"""Every row of the rule table against its value and derivatives, written out by hand here.

The table below is written independently of ``autograd_mini.rules``: each op's value and
partial derivatives come from the textbook formulas, computed with :mod:`math`, and each op has
a hypothesis strategy for points well inside its domain (away from kinks, poles and overflow).
Each op is applied through the public ``Value`` API and through ``apply_rule``, differentiated
with ``backward()``, and compared with those formulas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import DomainError, Value
from autograd_mini.engine import apply_rule
from autograd_mini.rules import RULES

REL = 1e-12
ABS = 1e-12

Point = tuple[float, ...]


def close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=REL, abs_tol=ABS)


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def one(s: st.SearchStrategy[float]) -> st.SearchStrategy[Point]:
    return s.map(lambda x: (x,))


def nonzero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] other than ±0 (the kink of relu and abs)."""
    return floats(lo, hi).filter(lambda x: x != 0.0)


def away_from_zero(limit: float, hi: float) -> st.SearchStrategy[float]:
    """Floats with limit ≤ |x| ≤ hi, either sign."""
    return st.one_of(floats(limit, hi), floats(-hi, -limit))


def away_from_tan_poles() -> st.SearchStrategy[float]:
    # kπ + t with |t| ≤ 1.5 stays at least π/2 − 1.5 ≈ 0.07 from every pole (k + ½)π.
    return st.tuples(st.integers(-300, 300), floats(-1.5, 1.5)).map(
        lambda kt: kt[0] * math.pi + kt[1]
    )


# ---------------------------------------------------------------------------------------------
# The hand-written table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """An op as the textbook writes it: value, partials and where to test it."""

    arity: int
    value: Callable[..., float]
    partials: tuple[Callable[..., float], ...]
    points: st.SearchStrategy[Point]
    # How a user writes the op on Values (operators and methods).
    api: Callable[..., Value]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


SQRT_PI = math.sqrt(math.pi)
SQRT_TWO = math.sqrt(2.0)
SQRT_TWO_PI = math.sqrt(2.0 * math.pi)


def _phi(x: float) -> float:
    """The standard normal density φ(x) = e^(−x²/2)/√(2π)."""
    return math.exp(-x * x / 2.0) / SQRT_TWO_PI


def _big_phi(x: float) -> float:
    """The standard normal distribution Φ(x) = erfc(−x/√2)/2 (accurate in the left tail)."""
    return math.erfc(-x / SQRT_TWO) / 2.0


def apart(margin: float, hi: float) -> st.SearchStrategy[Point]:
    """Pairs (x, y) with |x|, |y| ≲ hi and |x − y| ≥ margin: away from the tie of max/min."""
    return st.tuples(floats(-hi, hi), away_from_zero(margin, hi)).map(
        lambda xd: (xd[0], xd[0] + xd[1])
    )


CASES: dict[str, Case] = {
    "add": Case(
        2, lambda x, y: x + y,
        (lambda x, y: 1.0, lambda x, y: 1.0),
        st.tuples(floats(-1e300, 1e300), floats(-1e300, 1e300)),
        lambda a, b: a + b,
    ),
    "sub": Case(
        2, lambda x, y: x - y,
        (lambda x, y: 1.0, lambda x, y: -1.0),
        st.tuples(floats(-1e300, 1e300), floats(-1e300, 1e300)),
        lambda a, b: a - b,
    ),
    "mul": Case(
        2, lambda x, y: x * y,
        (lambda x, y: y, lambda x, y: x),
        st.tuples(floats(-1e150, 1e150), floats(-1e150, 1e150)),
        lambda a, b: a * b,
    ),
    "div": Case(
        2, lambda x, y: x / y,
        (lambda x, y: 1.0 / y, lambda x, y: -x / (y * y)),
        st.tuples(floats(-1e3, 1e3), away_from_zero(1e-3, 1e3)),
        lambda a, b: a / b,
    ),
    # Both sides variable, so the base must be positive (ln x in ∂/∂y). Negative bases are
    # covered below with constant integer exponents. 1e-3 ≤ x ≤ 1e3, |y| ≤ 10: no overflow.
    "pow": Case(
        2, lambda x, y: x**y,
        (lambda x, y: y * x**y / x, lambda x, y: x**y * math.log(x)),
        st.tuples(floats(1e-3, 1e3), floats(-10.0, 10.0)),
        lambda a, b: a**b,
    ),
    "neg": Case(1, lambda x: -x, (lambda x: -1.0,), one(floats(-1e300, 1e300)), lambda a: -a),
    # The value goes through, and no derivative comes back: ∂v/∂x = 0 by definition.
    "stop_gradient": Case(
        1, lambda x: x, (lambda x: 0.0,), one(floats(-1e300, 1e300)),
        lambda a: a.stop_gradient(),
    ),
    "pos": Case(1, lambda x: x, (lambda x: 1.0,), one(floats(-1e300, 1e300)), lambda a: +a),
    "abs": Case(
        1, lambda x: x if x > 0 else -x,
        (lambda x: 1.0 if x > 0 else -1.0,),
        one(nonzero(-1e300, 1e300)),
        abs,
    ),
    "exp": Case(
        1, math.exp, (math.exp,), one(floats(-700.0, 700.0)), lambda a: a.exp(),
    ),
    "log": Case(
        1, math.log, (lambda x: 1.0 / x,), one(floats(1e-300, 1e300)), lambda a: a.log(),
    ),
    "sqrt": Case(
        1, math.sqrt, (lambda x: 1.0 / (2.0 * math.sqrt(x)),), one(floats(1e-300, 1e300)),
        lambda a: a.sqrt(),
    ),
    "sin": Case(1, math.sin, (math.cos,), one(floats(-1e3, 1e3)), lambda a: a.sin()),
    "cos": Case(
        1, math.cos, (lambda x: -math.sin(x),), one(floats(-1e3, 1e3)), lambda a: a.cos(),
    ),
    "tan": Case(
        1, math.tan, (lambda x: 1.0 / math.cos(x) ** 2,), one(away_from_tan_poles()),
        lambda a: a.tan(),
    ),
    # sech² x = 1/cosh² x; the engine computes 1 − tanh² x, which loses relative precision for
    # large |x| (but not absolute: the abs_tol of 1e-12 covers it).
    "tanh": Case(
        1, math.tanh, (lambda x: 1.0 / math.cosh(x) ** 2,), one(floats(-20.0, 20.0)),
        lambda a: a.tanh(),
    ),
    "sigmoid": Case(
        1, _sigmoid, (lambda x: math.exp(-x) / (1.0 + math.exp(-x)) ** 2,),
        one(floats(-30.0, 30.0)), lambda a: a.sigmoid(),
    ),
    "relu": Case(
        1, lambda x: x if x > 0 else 0.0,
        (lambda x: 1.0 if x > 0 else 0.0,),
        one(nonzero(-1e300, 1e300)),
        lambda a: a.relu(),
    ),
    # atan′ x = 1/(1 + x²).
    "atan": Case(
        1, math.atan, (lambda x: 1.0 / (1.0 + x * x),), one(floats(-1e3, 1e3)),
        lambda a: a.atan(),
    ),
    # erf′ x = (2/√π) e^(−x²).
    "erf": Case(
        1, math.erf, (lambda x: 2.0 * math.exp(-x * x) / SQRT_PI,), one(floats(-6.0, 6.0)),
        lambda a: a.erf(),
    ),
    # ln(1 + x), d/dx = 1/(1 + x); x > −1 with a margin of 1e-3.
    "log1p": Case(
        1, math.log1p, (lambda x: 1.0 / (1.0 + x),), one(floats(-1.0 + 1e-3, 1e6)),
        lambda a: a.log1p(),
    ),
    "maximum": Case(
        2, lambda x, y: x if x > y else y,
        (lambda x, y: 1.0 if x > y else 0.0, lambda x, y: 1.0 if y > x else 0.0),
        apart(1e-3, 1e3),
        lambda a, b: a.maximum(b),
    ),
    "minimum": Case(
        2, lambda x, y: x if x < y else y,
        (lambda x, y: 1.0 if x < y else 0.0, lambda x, y: 1.0 if y < x else 0.0),
        apart(1e-3, 1e3),
        lambda a, b: a.minimum(b),
    ),
    # softplus x = ln(1 + eˣ), d/dx = eˣ/(1 + eˣ); |x| ≤ 30 so eˣ stays moderate.
    "softplus": Case(
        1, lambda x: math.log1p(math.exp(x)),
        (lambda x: math.exp(x) / (1.0 + math.exp(x)),),
        one(floats(-30.0, 30.0)),
        lambda a: a.softplus(),
    ),
    # Operands (x, slope): x if x > 0 else slope·x; ∂/∂x = 1 or slope, ∂/∂slope = 0 or x.
    "leaky_relu": Case(
        2, lambda x, s: x if x > 0 else s * x,
        (lambda x, s: 1.0 if x > 0 else s, lambda x, s: 0.0 if x > 0 else x),
        st.tuples(away_from_zero(1e-3, 1e3), floats(0.0, 1.0)),
        lambda a, b: a.leaky_relu(b),
    ),
    # Operands (x, α): x if x > 0 else α(eˣ − 1); ∂/∂x = 1 or α·eˣ, ∂/∂α = 0 or eˣ − 1.
    "elu": Case(
        2, lambda x, a: x if x > 0 else a * (math.exp(x) - 1.0),
        (lambda x, a: 1.0 if x > 0 else a * math.exp(x),
         lambda x, a: 0.0 if x > 0 else math.exp(x) - 1.0),
        st.tuples(st.one_of(floats(1e-3, 1e3), floats(-50.0, -1e-3)), floats(0.1, 5.0)),
        lambda a, b: a.elu(b),
    ),
    # gelu x = x·Φ(x), d/dx = Φ(x) + x·φ(x).
    "gelu": Case(
        1, lambda x: x * _big_phi(x),
        (lambda x: _big_phi(x) + x * _phi(x),),
        one(floats(-10.0, 10.0)),
        lambda a: a.gelu(),
    ),
    # silu x = x/(1 + e⁻ˣ), d/dx = (1 + e⁻ˣ + x·e⁻ˣ)/(1 + e⁻ˣ)² (the quotient rule).
    "silu": Case(
        1, lambda x: x / (1.0 + math.exp(-x)),
        (lambda x: (1.0 + math.exp(-x) + x * math.exp(-x)) / (1.0 + math.exp(-x)) ** 2,),
        one(floats(-50.0, 50.0)),
        lambda a: a.silu(),
    ),
}


#: Rules that take any number of operands, tested by hand below the fixed-arity ones.
VARIADIC_CASES = {"sum", "dot"}


def test_every_rule_has_a_hand_written_case() -> None:
    builtin = {name for name, rule in RULES.items() if rule.builtin}
    assert builtin == set(CASES) | VARIADIC_CASES


@pytest.mark.parametrize("name", sorted(CASES))
def test_arity_matches_hand_written_table(name: str) -> None:
    assert RULES[name].arity == CASES[name].arity


def _check(name: str, point: Point, build: Callable[..., Value]) -> None:
    case = CASES[name]
    inputs = [Value(p) for p in point]
    out = build(*inputs)
    assert out.op == name
    out.backward()
    expected = case.value(*point)
    assert close(out.data, expected), (point, out.data, expected)
    for i, (v, d) in enumerate(zip(inputs, case.partials, strict=True)):
        expected_grad = d(*point)
        assert close(v.grad, expected_grad), (point, i, v.grad, expected_grad)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_rule_value_and_partials(name: str, data: st.DataObject) -> None:
    point = data.draw(CASES[name].points, label="point")
    _check(name, point, CASES[name].api)
    _check(name, point, lambda *vs: apply_rule(RULES[name], *vs))


def _data(x: Any) -> float:
    return float(x.data) if isinstance(x, Value) else float(x)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_partials_on_values_agree_with_hand_formulas(name: str, data: st.DataObject) -> None:
    """The partials also accept Values (the higher-order path) and give the same numbers."""
    case = CASES[name]
    point = data.draw(case.points, label="point")
    args = [Value(p) for p in point]
    out = apply_rule(RULES[name], *args)
    for i, partial in enumerate(RULES[name].partials):
        got = _data(partial(*args, out))
        expected = case.partials[i](*point)
        assert close(got, expected), (point, i, got, expected)


# ---------------------------------------------------------------------------------------------
# A Python number on one side becomes a constant node; only the variable gets a gradient
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstCase:
    build: Callable[[Value], Value]
    op: str
    value: Callable[[float], float]
    derivative: Callable[[float], float]
    points: st.SearchStrategy[float]


ANY = floats(-1e3, 1e3)
POSITIVE = floats(1e-3, 1e3)
LN2 = 0.6931471805599453  # ln 2, written out
LN_HALF = -LN2

CONST_CASES: dict[str, ConstCase] = {
    "x + 2": ConstCase(lambda v: v + 2, "add", lambda x: x + 2.0, lambda x: 1.0, ANY),
    "2 + x": ConstCase(lambda v: 2 + v, "add", lambda x: 2.0 + x, lambda x: 1.0, ANY),
    "x + 0.5": ConstCase(lambda v: v + 0.5, "add", lambda x: x + 0.5, lambda x: 1.0, ANY),
    "x - 3.0": ConstCase(lambda v: v - 3.0, "sub", lambda x: x - 3.0, lambda x: 1.0, ANY),
    "3.0 - x": ConstCase(lambda v: 3.0 - v, "sub", lambda x: 3.0 - x, lambda x: -1.0, ANY),
    "x * 2.5": ConstCase(lambda v: v * 2.5, "mul", lambda x: 2.5 * x, lambda x: 2.5, ANY),
    "-4 * x": ConstCase(lambda v: -4 * v, "mul", lambda x: -4.0 * x, lambda x: -4.0, ANY),
    "x / 4.0": ConstCase(lambda v: v / 4.0, "div", lambda x: x / 4.0, lambda x: 0.25, ANY),
    "3.0 / x": ConstCase(
        lambda v: 3.0 / v, "div", lambda x: 3.0 / x, lambda x: -3.0 / (x * x),
        away_from_zero(1e-3, 1e3),
    ),
    "x ** 2.0": ConstCase(lambda v: v**2.0, "pow", lambda x: x * x, lambda x: 2.0 * x, ANY),
    # A negative base is fine with an integral exponent.
    "x ** 3": ConstCase(lambda v: v**3, "pow", lambda x: x * x * x, lambda x: 3.0 * x * x, ANY),
    "x ** -2": ConstCase(
        lambda v: v**-2, "pow", lambda x: 1.0 / (x * x), lambda x: -2.0 / (x * x * x),
        away_from_zero(1e-2, 1e2),
    ),
    "x ** 0.5": ConstCase(
        lambda v: v**0.5, "pow", math.sqrt, lambda x: 0.5 / math.sqrt(x), POSITIVE,
    ),
    "x ** -1.5": ConstCase(
        lambda v: v**-1.5, "pow", lambda x: 1.0 / (x * math.sqrt(x)),
        lambda x: -1.5 / (x * x * math.sqrt(x)), POSITIVE,
    ),
    "2.0 ** x": ConstCase(
        lambda v: 2.0**v, "pow", lambda x: 2.0**x, lambda x: 2.0**x * LN2, floats(-50.0, 50.0),
    ),
    "0.5 ** x": ConstCase(
        lambda v: 0.5**v, "pow", lambda x: 0.5**x, lambda x: 0.5**x * LN_HALF,
        floats(-50.0, 50.0),
    ),
    "e ** x": ConstCase(
        lambda v: math.e**v, "pow", math.exp, math.exp, floats(-50.0, 50.0),
    ),
}


@pytest.mark.parametrize("label", sorted(CONST_CASES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_constant_operand(label: str, data: st.DataObject) -> None:
    case = CONST_CASES[label]
    x = data.draw(case.points, label="x")
    v = Value(x)
    out = case.build(v)
    assert out.op == case.op
    consts = [p for p in out.parents if p.op == "const"]
    assert len(out.parents) == 2
    assert len(consts) == 1
    out.backward()
    assert close(out.data, case.value(x))
    assert close(v.grad, case.derivative(x))
    # NOTE (rules.py): backward never accumulates into a constant.
    assert consts[0].grad == 0.0


SAME_OPERAND: dict[str, tuple[Callable[[Value], Value], Callable[[float], float],
                              Callable[[float], float]]] = {
    "x + x": (lambda v: v + v, lambda x: 2.0 * x, lambda x: 2.0),
    "x - x": (lambda v: v - v, lambda x: 0.0, lambda x: 0.0),
    "x * x": (lambda v: v * v, lambda x: x * x, lambda x: 2.0 * x),
    "x / x": (lambda v: v / v, lambda x: 1.0, lambda x: 0.0),
    "x ** x": (lambda v: v**v, lambda x: x**x, lambda x: x**x * (math.log(x) + 1.0)),
}


@pytest.mark.parametrize("label", sorted(SAME_OPERAND))
@given(x=floats(0.01, 10.0))
def test_same_operand_on_both_sides(label: str, x: float) -> None:
    """``a + a`` keeps both edges: both contributions reach x."""
    build, value, derivative = SAME_OPERAND[label]
    v = Value(x)
    out = build(v)
    assert out.parents == (v, v)
    out.backward()
    assert close(out.data, value(x))
    assert close(v.grad, derivative(x))


# ---------------------------------------------------------------------------------------------
# Documented behaviour at kinks and domain edges
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_relu_subgradient_at_zero_is_zero(zero: float) -> None:
    x = Value(zero)
    out = x.relu()
    out.backward()
    assert out.data == 0.0
    assert x.grad == 0.0


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_abs_subgradient_at_zero_is_zero(zero: float) -> None:
    x = Value(zero)
    out = abs(x)
    out.backward()
    assert out.data == 0.0
    assert x.grad == 0.0


def test_sqrt_slope_at_zero_is_plus_infinity() -> None:
    x = Value(0.0)
    out = x.sqrt()
    out.backward()
    assert out.data == 0.0
    assert x.grad == math.inf


def test_sqrt_slope_at_negative_zero_is_plus_infinity() -> None:
    x = Value(-0.0)  # -0.0 == 0: inside the domain, and the same point as 0.0
    out = x.sqrt()
    out.backward()
    assert out.data == 0.0
    assert x.grad == math.inf


def test_sqrt_slope_at_zero_raises_on_the_value_path() -> None:
    """The float path gives +inf; on Values the partial 0.5/out is a division by zero."""
    x = Value(0.0)
    with pytest.raises(DomainError):
        RULES["sqrt"].partials[0](x, x.sqrt())


@given(y=st.floats(min_value=0.0, max_value=50.0, exclude_min=True))
def test_pow_slope_in_exponent_at_zero_base_is_zero(y: float) -> None:
    """0 ** y is identically 0 for y > 0, so d/dy is 0 (not 0 · log 0 = nan)."""
    for base in (Value(0.0), 0.0):
        yv = Value(y)
        out = base**yv
        assert out.data == 0.0
        out.backward()
        assert yv.grad == 0.0


@pytest.mark.parametrize(
    ("y", "slope"),
    [(1.0, 1.0), (2.0, 0.0), (3.0, 0.0), (1.5, 0.0), (0.5, math.inf), (0.25, math.inf)],
)
def test_pow_slope_in_base_at_zero(y: float, slope: float) -> None:
    """d/dx xʸ = y·xʸ⁻¹ at x = 0: 1 for y = 1, 0 for y > 1, a vertical tangent for 0 < y < 1."""
    x = Value(0.0)
    out = x**y
    out.backward()
    assert out.data == 0.0
    assert x.grad == slope


@pytest.mark.parametrize("exponent", [0, 0.0])
def test_pow_zero_exponent_at_zero_base_has_zero_slope(exponent: float) -> None:
    x = Value(0.0)
    out = x**exponent
    out.backward()
    assert out.data == 1.0
    assert x.grad == 0.0


@given(x=floats(0.01, 10.0), y=st.integers(-4, 4))
def test_pow_slope_in_base_with_integer_exponents_including_zero(x: float, y: int) -> None:
    xv = Value(x)
    out = xv ** float(y)
    out.backward()
    assert close(xv.grad, y * x ** (y - 1))


@given(x=away_from_zero(1e-2, 1e2).filter(lambda x: x < 0), y=st.integers(-5, 5))
def test_pow_negative_base_integer_exponent(x: float, y: int) -> None:
    """A negative base with a variable integral exponent: ∂/∂x is y·xʸ⁻¹; ∂/∂y does not exist
    (xʸ has no real value at non-integer y nearby), which the rule reports as nan."""
    xv, yv = Value(x), Value(float(y))
    out = xv**yv
    out.backward()
    assert close(out.data, x**y)
    assert math.isclose(xv.grad, y * x ** (y - 1), rel_tol=REL, abs_tol=ABS)
    assert math.isnan(yv.grad)


# Points outside each op's domain, from the definitions: log needs x > 0, log1p x > −1, sqrt
# x ≥ 0, div a non-zero divisor, pow no 0 to a negative power and no negative base to a
# non-integer power.
OUTSIDE: dict[str, st.SearchStrategy[Point]] = {
    "log": one(floats(-1e300, 0.0)),
    "log1p": one(floats(-1e300, -1.0)),  # ln(1 + x) needs 1 + x > 0
    "sqrt": one(floats(-1e300, -1e-300)),
    "div": st.tuples(floats(-1e3, 1e3), st.sampled_from([0.0, -0.0])),
    "pow": st.one_of(
        st.tuples(st.sampled_from([0.0, -0.0]), floats(-1e3, -1e-300)),
        st.tuples(
            floats(-1e3, -1e-300),
            floats(-1e3, 1e3).filter(lambda y: not y.is_integer()),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(OUTSIDE))
@settings(max_examples=50)
@given(data=st.data())
def test_outside_domain_raises_domain_error(name: str, data: st.DataObject) -> None:
    point = data.draw(OUTSIDE[name], label="point")
    with pytest.raises(DomainError) as info:
        apply_rule(RULES[name], *(Value(p) for p in point))
    assert info.value.op == name
    assert info.value.operands == point
    assert isinstance(info.value, ValueError)


def test_ops_without_domain_restrictions_accept_edge_values() -> None:
    """The other ops are defined on all reals: none raises at 0, ±1e300 or huge magnitudes."""
    for name in sorted(set(CASES) - set(OUTSIDE)):
        for p in (0.0, -0.0, 1e300, -1e300, 1e-300):
            args = [Value(p)] * CASES[name].arity
            apply_rule(RULES[name], *args)


# ---------------------------------------------------------------------------------------------
# Variadic rules: z = Σ xᵢ and z = Σ wₖaₖ + b, one node each
# ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(floats(-1e3, 1e3), min_size=1, max_size=6))
def test_sum_by_hand(xs: list[float]) -> None:
    from autograd_mini import total

    values = [Value(x) for x in xs]
    z = total(values)
    assert len(z.parents) == len(xs)
    assert close(z.data, math.fsum(xs)) or math.isclose(z.data, math.fsum(xs), abs_tol=1e-9)
    z.backward()
    assert all(v.grad == 1.0 for v in values)  # ∂(Σx)/∂xᵢ = 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5).flatmap(
    lambda n: st.tuples(st.lists(floats(-10, 10), min_size=n, max_size=n),
                        st.lists(floats(-10, 10), min_size=n, max_size=n), floats(-10, 10))))
def test_dot_by_hand(case: tuple[list[float], list[float], float]) -> None:
    from autograd_mini import dot

    ws, xs, b = case
    w = [Value(v) for v in ws]
    a = [Value(v) for v in xs]
    bias = Value(b)
    z = dot(w, a, bias)
    assert z.op == "dot"
    assert len(z.parents) == 2 * len(ws) + 1  # one node, 2n + 1 edges
    want = math.fsum([*(wk * ak for wk, ak in zip(ws, xs, strict=True)), b])
    assert math.isclose(z.data, want, rel_tol=1e-12, abs_tol=1e-9)
    z.backward()
    for k in range(len(ws)):
        assert w[k].grad == xs[k]  # ∂z/∂wₖ = aₖ
        assert a[k].grad == ws[k]  # ∂z/∂aₖ = wₖ
    assert bias.grad == 1.0  # ∂z/∂b = 1


def test_dot_with_a_shared_operand_and_constants() -> None:
    from autograd_mini import dot

    x = Value(3.0)
    z = dot([x, 2.0], [x, x], 1.0)  # x² + 2x + 1
    z.backward()
    assert z.data == 16.0
    assert x.grad == 8.0  # 2x + 2


def test_dot_checks_its_lengths() -> None:
    from autograd_mini import dot

    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        dot([1.0, 2.0], [Value(1.0)])
    with pytest.raises(TypeError, match="operand 1 must be a Value or a number, not str"):
        dot([1.0, "w"], [Value(1.0), Value(2.0)])  # type: ignore[list-item]


# ---------------------------------------------------------------------------------------------
# The newer rows by hand: kinks and ties, defaults, stability, NaN, domain, second derivatives
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [2.0, -3.5, 0.0, 1e300])
@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_tie_gives_half_to_each_operand(op: str, t: float) -> None:
    """max(x, y) and min(x, y) at x = y: no derivative; each side gets ½ (as torch does)."""
    x, y = Value(t), Value(t)
    out = getattr(x, op)(y)
    out.backward()
    assert out.data == t
    assert x.grad == 0.5
    assert y.grad == 0.5


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_tie_with_the_same_value_on_both_sides(op: str) -> None:
    """max(x, x) = x: the two halves add up to the slope 1."""
    x = Value(1.5)
    out = getattr(x, op)(x)
    assert out.parents == (x, x)
    out.backward()
    assert out.data == 1.5
    assert x.grad == 1.0


def test_tie_through_grad() -> None:
    import autograd_mini as am

    assert am.grad(am.maximum, argnums=(0, 1))(4.0, 4.0) == (0.5, 0.5)
    assert am.grad(am.minimum, argnums=(0, 1))(-1.0, -1.0) == (0.5, 0.5)
    # Off the tie, the whole slope goes to the winner: max(3, 1) = 3, min(3, 1) = 1.
    assert am.grad(am.maximum, argnums=(0, 1))(3.0, 1.0) == (1.0, 0.0)
    assert am.grad(am.minimum, argnums=(0, 1))(3.0, 1.0) == (0.0, 1.0)


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_leaky_relu_slope_at_zero_is_the_slope(zero: float) -> None:
    x = Value(zero)
    out = x.leaky_relu()  # 0.01 · 0 = 0, slope 0.01 at the kink
    out.backward()
    assert out.data == 0.0
    assert x.grad == 0.01
    x = Value(zero)
    out = x.leaky_relu(0.2)
    out.backward()
    assert out.data == 0.0
    assert x.grad == 0.2


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_elu_slope_at_zero_is_alpha(zero: float) -> None:
    x = Value(zero)
    out = x.elu()  # α(e⁰ − 1) = 0, slope α·e⁰ = α = 1 at the kink
    out.backward()
    assert out.data == 0.0
    assert x.grad == 1.0
    x = Value(zero)
    out = x.elu(0.5)
    out.backward()
    assert out.data == 0.0
    assert x.grad == 0.5


@pytest.mark.parametrize("p", [-3.0, -0.5, 0.0, 0.7, 4.0])
def test_leaky_relu_and_elu_defaults(p: float) -> None:
    """Leaving the slope out means 0.01; leaving α out means 1.0."""
    for op, default in (("leaky_relu", 0.01), ("elu", 1.0)):
        a, b = Value(p), Value(p)
        left_out, given_ = getattr(a, op)(), getattr(b, op)(default)
        left_out.backward()
        given_.backward()
        assert left_out.data == given_.data
        assert a.grad == b.grad
        c = Value(p)
        via_rule = apply_rule(RULES[op], c)
        via_rule.backward()
        assert via_rule.data == given_.data
        assert c.grad == b.grad


def test_leaky_relu_and_elu_on_floats() -> None:
    import autograd_mini as am

    assert am.leaky_relu(-2.0) == -0.02  # 0.01 · −2
    assert am.leaky_relu(-2.0, 0.5) == -1.0  # 0.5 · −2
    assert am.leaky_relu(3.0) == 3.0
    assert am.elu(2.0) == 2.0
    assert close(am.elu(-1.0), math.exp(-1.0) - 1.0)  # e⁻¹ − 1 ≈ −0.632121
    assert close(am.elu(-1.0, 0.5), 0.5 * (math.exp(-1.0) - 1.0))  # ≈ −0.316060


def test_leaky_relu_slope_gets_a_gradient() -> None:
    # leaky_relu(−3, 0.2) = 0.2 · −3 = −0.6; ∂/∂x = slope = 0.2, ∂/∂slope = x = −3.
    x, s = Value(-3.0), Value(0.2)
    out = x.leaky_relu(s)
    out.backward()
    assert close(out.data, -0.6)
    assert x.grad == 0.2
    assert s.grad == -3.0
    # For x > 0 the slope plays no part: leaky_relu(2, s) = 2, ∂/∂slope = 0.
    x, s = Value(2.0), Value(0.2)
    out = x.leaky_relu(s)
    out.backward()
    assert out.data == 2.0
    assert x.grad == 1.0
    assert s.grad == 0.0


def test_elu_alpha_gets_a_gradient() -> None:
    # elu(−1, 0.5) = 0.5(e⁻¹ − 1) ≈ −0.316060; ∂/∂x = 0.5·e⁻¹ ≈ 0.183940;
    # ∂/∂α = e⁻¹ − 1 ≈ −0.632121.
    e_inv = math.exp(-1.0)
    x, a = Value(-1.0), Value(0.5)
    out = x.elu(a)
    out.backward()
    assert close(out.data, 0.5 * (e_inv - 1.0))
    assert close(x.grad, 0.5 * e_inv)
    assert close(a.grad, e_inv - 1.0)
    # elu(2, α) = 2, ∂/∂α = 0.
    x, a = Value(2.0), Value(0.5)
    out = x.elu(a)
    out.backward()
    assert out.data == 2.0
    assert x.grad == 1.0
    assert a.grad == 0.0


def test_softplus_does_not_overflow() -> None:
    import autograd_mini as am

    # ln(1 + e¹⁰⁰⁰) = 1000 + ln(1 + e⁻¹⁰⁰⁰) = 1000 in floating point, slope σ(1000) = 1.
    assert am.softplus(1000.0) == 1000.0
    x = Value(1000.0)
    out = x.softplus()
    out.backward()
    assert out.data == 1000.0
    assert x.grad == 1.0
    # ln(1 + e⁻¹⁰⁰⁰) = 0 (e⁻¹⁰⁰⁰ underflows), slope σ(−1000) = 0.
    assert am.softplus(-1000.0) == 0.0
    x = Value(-1000.0)
    out = x.softplus()
    out.backward()
    assert out.data == 0.0
    assert x.grad == 0.0
    # ln 2 at 0, slope ½.
    x = Value(0.0)
    out = x.softplus()
    out.backward()
    assert close(out.data, LN2)
    assert x.grad == 0.5


@pytest.mark.parametrize("op", ["gelu", "silu"])
def test_gelu_and_silu_at_minus_infinity_are_zero(op: str) -> None:
    import autograd_mini as am

    # x·Φ(x) → 0 and x·σ(x) → 0 as x → −∞ (the factor decays faster than x grows).
    got = getattr(am, op)(-math.inf)
    assert got == 0.0
    assert getattr(Value(-math.inf), op)().data == 0.0
    # and x·Φ(x) = x·σ(x) = x at +∞
    assert getattr(am, op)(math.inf) == math.inf


@pytest.mark.parametrize("op", ["gelu", "silu"])
@pytest.mark.parametrize("p", [50.0, 1e3, 1e300, -50.0, -1e3, -1e300])
def test_gelu_and_silu_at_large_magnitudes_are_finite(op: str, p: float) -> None:
    # Φ(x), σ(x) are 1 and their densities 0 in floating point for x ≥ 50: value x, slope 1.
    # For x ≤ −50 value and slope are tiny: gelu(−50) ≈ −φ(50) ≈ e^−1250 (underflows to 0),
    # silu(−50) = −50·e⁻⁵⁰/(1 + e⁻⁵⁰) ≈ −9.6e-21 and silu′(−50) ≈ e⁻⁵⁰(1 − 50) ≈ −9.5e-21.
    x = Value(p)
    out = getattr(x, op)()
    out.backward()
    assert math.isfinite(out.data)
    assert math.isfinite(x.grad)
    if p > 0:
        assert out.data == p
        assert x.grad == 1.0
    else:
        assert abs(out.data) < 1e-19
        assert abs(x.grad) < 1e-19
    if p < -50.0:
        assert out.data == 0.0
        assert x.grad == 0.0


def test_log1p_is_accurate_near_zero() -> None:
    import autograd_mini as am

    # ln(1 + x) = x − x²/2 + …, which is x itself for x = 1e-20 (1 + 1e-20 would round to 1).
    assert am.log1p(1e-20) == 1e-20
    x = Value(1e-20)
    out = x.log1p()
    out.backward()
    assert out.data == 1e-20
    assert x.grad == 1.0  # 1/(1 + 1e-20) rounds to 1
    assert am.log1p(0.0) == 0.0


def test_erf_at_infinity() -> None:
    import autograd_mini as am

    # erf(±∞) = ±1, with slope (2/√π)·e^−∞ = 0.
    assert am.erf(math.inf) == 1.0
    assert am.erf(-math.inf) == -1.0
    for p, want in ((math.inf, 1.0), (-math.inf, -1.0)):
        x = Value(p)
        out = x.erf()
        out.backward()
        assert out.data == want
        assert x.grad == 0.0


@pytest.mark.parametrize(("op", "x", "y"), [
    ("maximum", math.nan, 1.0), ("maximum", 1.0, math.nan),
    ("minimum", 1.0, math.nan), ("minimum", math.nan, 1.0),
])
def test_max_and_min_propagate_nan(op: str, x: float, y: float) -> None:
    import autograd_mini as am

    assert math.isnan(getattr(am, op)(x, y))
    assert math.isnan(getattr(Value(x), op)(Value(y)).data)


@pytest.mark.parametrize("p", [-1.0, -2.0])
def test_log1p_outside_its_domain(p: float) -> None:
    import autograd_mini as am

    with pytest.raises(DomainError, match="log1p") as info:
        Value(p).log1p()
    assert info.value.op == "log1p"
    assert isinstance(info.value, ValueError)
    with pytest.raises(DomainError, match="log1p"):
        am.log1p(p)


def _sigma(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# Second derivatives, differentiated by hand from the first:
#   atan″ x  = d/dx (1 + x²)⁻¹ = −2x/(1 + x²)²
#   erf″ x   = d/dx (2/√π) e^(−x²) = −(4x/√π) e^(−x²)
#   gelu″ x  = d/dx (Φ + xφ) = φ + φ + x·(−xφ) = (2 − x²) φ(x)
#   silu″ x  = d/dx (σ + xσ(1 − σ)) = 2σ(1 − σ) + xσ(1 − σ)(1 − 2σ)
#   softplus″ x = σ′(x) = σ(x)(1 − σ(x))
#   elu″ x   = α eˣ for x < 0 (and 0 for x > 0)
SECOND: dict[str, Callable[[float], float]] = {
    "atan": lambda x: -2.0 * x / (1.0 + x * x) ** 2,
    "erf": lambda x: -4.0 * x / SQRT_PI * math.exp(-x * x),
    "gelu": lambda x: (2.0 - x * x) * _phi(x),
    "silu": lambda x: _sigma(x) * (1.0 - _sigma(x)) * (2.0 + x * (1.0 - 2.0 * _sigma(x))),
    "softplus": lambda x: _sigma(x) * (1.0 - _sigma(x)),
}


@pytest.mark.parametrize("p", [-3.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.5])
@pytest.mark.parametrize("op", sorted(SECOND))
def test_second_derivatives_by_hand(op: str, p: float) -> None:
    import autograd_mini as am

    f = getattr(am, op)
    got = am.grad(am.grad(f))(p)
    assert close(got, SECOND[op](p)), (op, p, got)


def test_second_derivatives_at_worked_points() -> None:
    import autograd_mini as am

    d2 = {op: am.grad(am.grad(getattr(am, op))) for op in SECOND}
    assert close(d2["atan"](1.0), -0.5)  # −2/(1 + 1)² = −½
    assert close(am.hessian(am.atan)(0.5)[0][0], -0.64)  # −1/1.25² = −0.64
    assert close(d2["softplus"](0.0), 0.25)  # ½ · ½
    assert close(d2["silu"](0.0), 0.5)  # ¼ · (2 + 0)
    assert close(d2["gelu"](0.0), 2.0 / SQRT_TWO_PI)  # 2φ(0) = 2/√(2π) ≈ 0.797885
    assert close(d2["erf"](0.0), 0.0)
    assert close(d2["erf"](1.0), -4.0 / (SQRT_PI * math.e))  # ≈ −0.830222


@pytest.mark.parametrize(("p", "alpha"), [(-1.0, 1.0), (-1.0, 0.5), (-3.0, 2.0), (-0.25, 0.1)])
def test_elu_second_derivative_by_hand(p: float, alpha: float) -> None:
    import autograd_mini as am

    # ∂²/∂x² = α eˣ, ∂²/∂x∂α = eˣ, ∂²/∂α² = 0 for x < 0.
    assert close(am.grad(am.grad(lambda x: am.elu(x, alpha)))(p), alpha * math.exp(p))
    h = am.hessian(am.elu)(p, alpha)
    assert close(h[0][0], alpha * math.exp(p))
    assert close(h[0][1], math.exp(p))
    assert close(h[1][0], math.exp(p))
    assert close(h[1][1], 0.0)
    # and 0 for x > 0, where elu is the identity
    assert close(am.grad(am.grad(lambda x: am.elu(x, alpha)))(-p), 0.0)
