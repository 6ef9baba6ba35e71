"""Tests of the checkers themselves: ``numerical_grad`` and ``gradcheck``.

Expected gradients are worked out by hand below. The meta-tests build deliberately wrong rules
and show that ``gradcheck`` rejects them while accepting the correct rule at the same
tolerances, so a passing gradcheck elsewhere means something.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import Value, is_grad_enabled
from autograd_mini.engine import apply_rule
from autograd_mini.rules import RULES, Rule
from autograd_mini.testing import GradcheckError, gradcheck, numerical_grad

small = st.floats(-10.0, 10.0)


def f_xy(x: Value, y: Value) -> Value:
    """f(x, y) = x·y + sin x, so ∇f = (y + cos x, x)."""
    return x * y + x.sin()


# Central differences with eps = 1e-6: truncation error eps²/6·|f'''| ≤ 1e-12·(a few) and
# rounding error ≈ 2⁻⁵³·|f|/eps ≤ 1.1e-16 · 110 / 1e-6 ≈ 1.2e-8 for |x|, |y| ≤ 10, so an
# absolute tolerance of 1e-7 is safe and still far below any real mistake.
FD_ABS = 1e-7


@given(x=small, y=small)
def test_numerical_grad_of_product_plus_sine(x: float, y: float) -> None:
    gx, gy = numerical_grad(f_xy, [x, y])
    assert math.isclose(gx, y + math.cos(x), rel_tol=1e-7, abs_tol=FD_ABS)
    assert math.isclose(gy, x, rel_tol=1e-7, abs_tol=FD_ABS)


@given(x=st.floats(-3.0, 3.0), y=st.floats(0.1, 3.0), z=st.floats(-3.0, 3.0))
def test_numerical_grad_of_three_inputs(x: float, y: float, z: float) -> None:
    """g(x, y, z) = exp(x)·log(y) − z², so ∇g = (eˣ·ln y, eˣ/y, −2z)."""

    def g(a: Value, b: Value, c: Value) -> Value:
        return a.exp() * b.log() - c * c

    got = numerical_grad(g, [x, y, z])
    expected = [math.exp(x) * math.log(y), math.exp(x) / y, -2.0 * z]
    for a, e in zip(got, expected, strict=True):
        assert math.isclose(a, e, rel_tol=1e-6, abs_tol=FD_ABS)


@given(x=st.floats(-5.0, 5.0))
def test_numerical_grad_uses_eps(x: float) -> None:
    """For x³ the central difference is exactly 3x² + ε² (the x³ and 3xε² terms cancel), so
    eps = 1e-2 must show the 1e-4 bias, which the default eps hides."""
    (coarse,) = numerical_grad(lambda v: v * v * v, [x], eps=1e-2)
    assert math.isclose(coarse, 3.0 * x * x + 1e-4, rel_tol=1e-9, abs_tol=1e-9)
    (fine,) = numerical_grad(lambda v: v * v * v, [x])
    assert math.isclose(fine, 3.0 * x * x, rel_tol=1e-7, abs_tol=1e-7)


def test_numerical_grad_accepts_number_results_and_ints() -> None:
    # f may return a plain number; xs may be ints. A constant has slope 0; 3x has slope 3.
    assert numerical_grad(lambda x: 7.0, [2]) == [0.0]
    (slope,) = numerical_grad(lambda x: 3 * x.data, [2])
    assert math.isclose(slope, 3.0, rel_tol=1e-8)


def test_numerical_grad_runs_without_recording_a_graph() -> None:
    seen: list[bool] = []

    def f(x: Value) -> Value:
        seen.append(is_grad_enabled())
        y = x * x
        assert y.op is None  # under no_grad an op returns a fresh leaf
        return y

    numerical_grad(f, [1.5])
    assert seen == [False, False]


def test_numerical_grad_rejects_non_numeric_results() -> None:
    with pytest.raises(TypeError, match="f must return a Value or a number"):
        numerical_grad(lambda x: "nope", [1.0])
    with pytest.raises(TypeError):
        numerical_grad(lambda x: True, [1.0])  # a bool is not a number here


# ---------------------------------------------------------------------------------------------
# gradcheck on correct functions
# ---------------------------------------------------------------------------------------------

CORRECT: dict[str, tuple[Callable[..., Value], st.SearchStrategy[list[float]]]] = {
    "x*y + sin x": (f_xy, st.lists(small, min_size=2, max_size=2)),
    "tanh(x)·sigmoid(y)/(1+x²)": (
        lambda x, y: x.tanh() * y.sigmoid() / (1 + x * x),
        st.lists(small, min_size=2, max_size=2),
    ),
    "sqrt(x)·log(y) + y**x": (
        lambda x, y: x.sqrt() * y.log() + y**x,
        st.lists(st.floats(0.1, 3.0), min_size=2, max_size=2),
    ),
    "relu(x) + |y| (away from 0)": (
        lambda x, y: x.relu() * 2 + abs(y),
        st.lists(st.floats(0.01, 5.0).flatmap(lambda a: st.sampled_from([a, -a])),
                 min_size=2, max_size=2),
    ),
    "x**3 − cos x (one input)": (
        lambda x: x**3 - x.cos(),
        st.lists(small, min_size=1, max_size=1),
    ),
}


@pytest.mark.parametrize("name", sorted(CORRECT))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_gradcheck_accepts_correct_functions(name: str, data: st.DataObject) -> None:
    f, points = CORRECT[name]
    xs = data.draw(points, label="xs")
    assert gradcheck(f, xs) is True


# ---------------------------------------------------------------------------------------------
# The meta-tests: gradcheck rejects wrong rules
# ---------------------------------------------------------------------------------------------


def wrong_mul(factor: float) -> Rule:
    """mul with ∂/∂x scaled by ``factor`` (∂/∂y is still right)."""
    return dataclasses.replace(
        RULES["mul"],
        name=f"mul_wrong_{factor}",
        partials=(lambda x, y, out: y * factor, lambda x, y, out: x),
    )


MUL_WRONG_01_PERCENT = dataclasses.replace(
    RULES["mul"], name="mul_wrong",
    partials=(lambda x, y, out: y * 1.001, lambda x, y, out: x),
)

# A relative error of 1e-3 sits right at the default rtol = 1e-3, so the 0.1 % case is checked
# at tighter tolerances. Central differences of x·y are exact up to rounding (≈ 1e-10 relative
# here), far inside rtol = 1e-6.
TIGHT = {"rtol": 1e-6, "atol": 1e-9}

points = st.tuples(
    st.floats(0.1, 10.0).flatmap(lambda a: st.sampled_from([a, -a])),
    st.floats(0.1, 10.0).flatmap(lambda a: st.sampled_from([a, -a])),
)


def through(rule: Rule) -> Callable[[Value, Value], Value]:
    return lambda x, y: apply_rule(rule, x, y)


@given(xy=points)
def test_gradcheck_rejects_a_rule_off_by_a_tenth_of_a_percent(xy: tuple[float, float]) -> None:
    x, y = xy
    # The correct rule passes at exactly the tolerances that catch the wrong one.
    assert gradcheck(through(RULES["mul"]), [x, y], **TIGHT)
    with pytest.raises(GradcheckError) as info:
        gradcheck(through(MUL_WRONG_01_PERCENT), [x, y], **TIGHT)
    (i0, x0, a0, n0, ok0), (i1, x1, a1, n1, ok1) = info.value.rows
    assert (i0, i1) == (0, 1)
    assert (x0, x1) == (x, y)
    assert not ok0  # ∂/∂x is wrong ...
    assert ok1  # ... and ∂/∂y is right
    assert math.isclose(a0, 1.001 * y, rel_tol=1e-12)  # the analytic value, by hand
    assert math.isclose(n0, y, rel_tol=1e-8)  # the numeric value: ∂(xy)/∂x = y
    assert math.isclose(a1, x, rel_tol=1e-12)
    assert math.isclose(n1, x, rel_tol=1e-8)


@given(xy=points)
def test_gradcheck_rejects_a_rule_off_by_one_percent_at_default_tolerances(
    xy: tuple[float, float],
) -> None:
    x, y = xy
    assert gradcheck(through(RULES["mul"]), [x, y])
    with pytest.raises(GradcheckError):
        gradcheck(through(wrong_mul(1.01)), [x, y])


def test_gradcheck_rejects_a_wrong_unary_rule_inside_a_composition() -> None:
    """A sign error in cos′ (∂ cos = +sin) is caught through the chain rule: f = cos(x²)."""
    cos_wrong = dataclasses.replace(
        RULES["cos"], name="cos_wrong", partials=(lambda x, out: math.sin(x),)
    )
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: apply_rule(cos_wrong, x * x), [0.8])
    assert gradcheck(lambda x: apply_rule(RULES["cos"], x * x), [0.8])


def _numbers_on_mismatch_line(message: str) -> list[float]:
    (line,) = [ln for ln in message.splitlines() if "mismatch" in ln]
    return [float(tok) for tok in line.split()[:5]]


def test_gradcheck_error_message_shows_analytic_and_numeric_values() -> None:
    x, y = 2.0, 3.0
    with pytest.raises(GradcheckError) as info:
        gradcheck(through(wrong_mul(1.01)), [x, y])
    message = str(info.value)
    assert "analytic" in message
    assert "numeric" in message
    assert "atol=1e-05" in message
    assert "rtol=0.001" in message
    index, at, analytic, numeric, diff = _numbers_on_mismatch_line(message)
    assert (index, at) == (0.0, x)
    assert math.isclose(analytic, 3.03, rel_tol=1e-12)  # ∂/∂x of the wrong rule: 1.01·y
    assert math.isclose(numeric, 3.0, rel_tol=1e-8)  # the true slope: y
    assert math.isclose(diff, 0.03, rel_tol=1e-2)  # printed with 3 significant digits
    assert "3.03" in message
    # Only the wrong input is marked.
    assert message.count("mismatch") == 1
    assert isinstance(info.value, AssertionError)


def test_gradcheck_reports_a_nan_analytic_gradient() -> None:
    """d/dx sqrt(x·x) at 0: sqrt′(0) = inf times d(x·x)/dx = 0 gives nan; the central
    difference of |x| is 0. A NaN must be a failure, never silently accepted."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: (x * x).sqrt(), [0.0])
    ((_, _, analytic, numeric, ok),) = info.value.rows
    assert math.isnan(analytic)
    assert numeric == 0.0
    assert not ok


def test_gradcheck_reports_a_nan_partial_even_when_numeric_is_fine() -> None:
    sin_nan = dataclasses.replace(
        RULES["sin"], name="sin_nan", partials=(lambda x, out: math.nan,)
    )
    with pytest.raises(GradcheckError, match="nan"):
        gradcheck(lambda x: apply_rule(sin_nan, x), [0.5])


def test_gradcheck_reports_a_nan_numeric_gradient() -> None:
    """A primal that is nan away from the point gives a nan central difference."""

    def nan_off_point(x: float) -> float:
        return x if x == 0.5 else math.nan

    weird = dataclasses.replace(RULES["neg"], name="weird", primal=nan_off_point,
                                partials=(lambda x, out: 1.0,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: apply_rule(weird, x), [0.5])
    ((_, _, analytic, numeric, ok),) = info.value.rows
    assert analytic == 1.0
    assert math.isnan(numeric)
    assert not ok


def test_gradcheck_requires_f_to_return_a_value() -> None:
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: 1.0, [0.5])
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: x.data * 2, [0.5])


def test_gradcheck_rejects_non_numeric_inputs() -> None:
    with pytest.raises(TypeError):
        gradcheck(lambda x: x, ["0.5"])  # type: ignore[list-item]
