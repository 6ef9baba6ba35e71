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
    assert set(RULES) == set(CASES) | VARIADIC_CASES


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
