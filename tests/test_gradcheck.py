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

from autograd_mini import DomainError, Value, grad, is_grad_enabled, sqrt
from autograd_mini.cost import count_passes
from autograd_mini.engine import apply_rule
from autograd_mini.rules import RULES, Rule
from autograd_mini.testing import (
    GradcheckError,
    ProbeError,
    check_grads,
    gradcheck,
    numerical_grad,
)

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


# ---------------------------------------------------------------------------------------------
# Domain edges: one-sided differences, and a clear error when no difference can be taken
# ---------------------------------------------------------------------------------------------
#
# Within eps = 1e-6 of a domain edge, x − eps (or x + eps) is outside the domain, so the
# central difference cannot be taken. numerical_grad then uses the one-sided second-order
# difference (−3f(x) + 4f(x+h) − f(x+2h))/2h on the other side, halving h until two estimates
# in a row agree to 1e-9 relative (or to rounding, 2⁻⁴⁸·Σ|f|/h), and extrapolates. Its
# truncation error shrinks fourfold a halving, so once settled the error is at most about a
# third of the last change, ≈ 1e-9 relative, plus rounding: for log at 1e-7 the last h is about
# 1e-11 and Σ|f| ≈ 50, so ≈ 50 · 3.6e-15 / 1e-11 ≈ 2e-2 on a slope of 1e7, 2e-9 relative.
# EDGE_REL = 1e-6 leaves a factor of several hundred for both, and is still a thousand times
# tighter than gradcheck's rtol, so a pass cannot be the tolerance's doing. Every expected
# value below is a closed form written by hand.
EDGE_REL = 1e-6


def _log(x: Value) -> Value:
    return x.log()


def test_log_within_eps_of_zero_is_differenced_from_the_right() -> None:
    x = 1e-7
    with pytest.raises(DomainError):  # the central difference's left probe is outside
        _log(Value(x - 1e-6))
    with count_passes() as cost:
        (slope,) = numerical_grad(_log, [x])
    assert math.isclose(slope, 1.0 / x, rel_tol=EDGE_REL)  # d/dx log x = 1/x
    assert cost.evaluations > 2  # more than the two of a central difference
    assert gradcheck(_log, [x]) is True


def test_sqrt_within_eps_of_zero_is_differenced_from_the_right() -> None:
    x = 1e-8
    (slope,) = numerical_grad(lambda v: v.sqrt(), [x])
    assert math.isclose(slope, 1.0 / (2.0 * math.sqrt(x)), rel_tol=EDGE_REL)  # = 5000
    assert gradcheck(lambda v: v.sqrt(), [x]) is True


@settings(deadline=None)
@given(x=st.floats(1e-10, 9.9e-7))
def test_log_anywhere_within_eps_of_zero(x: float) -> None:
    (slope,) = numerical_grad(_log, [x])
    assert math.isclose(slope, 1.0 / x, rel_tol=EDGE_REL)


def test_the_mirrored_side_log_of_minus_x_left_of_zero() -> None:
    """log(−x) is defined for x < 0; at x = −1e-7, x + eps > 0 is outside, so the backward
    difference (3f(x) − 4f(x−h) + f(x−2h))/2h is used. d/dx log(−x) = 1/x."""
    x = -1e-7
    (slope,) = numerical_grad(lambda v: (-v).log(), [x])
    assert math.isclose(slope, 1.0 / x, rel_tol=EDGE_REL)
    assert gradcheck(lambda v: (-v).log(), [x]) is True


def test_the_mirrored_side_sqrt_of_one_minus_x_left_of_one() -> None:
    """sqrt(1 − x) at 1 − 1e-7: d/dx = −1/(2·sqrt(1 − x))."""
    x = 1.0 - 1e-7
    (slope,) = numerical_grad(lambda v: (1 - v).sqrt(), [x])
    assert math.isclose(slope, -1.0 / (2.0 * math.sqrt(1.0 - x)), rel_tol=EDGE_REL)


def test_log1p_within_eps_of_minus_one() -> None:
    """d/dx log1p x = 1/(1 + x), here ≈ 1e7 (1 + x of the float x, exactly)."""
    x = -1.0 + 1e-7
    (slope,) = numerical_grad(lambda v: v.log1p(), [x])
    assert math.isclose(slope, 1.0 / (1.0 + x), rel_tol=EDGE_REL)
    assert gradcheck(lambda v: v.log1p(), [x]) is True


def test_a_zero_division_on_one_side_sends_the_difference_to_the_other() -> None:
    """f = 3x + x² for x ≥ 0, undefined (ZeroDivisionError) below. The one-sided difference
    is exact for a parabola, so the slope at 0 is 3 + 2·0 = 3 up to rounding."""

    def f(v: Value) -> float:
        if v.data < 0:
            raise ZeroDivisionError("f is undefined below 0")
        return 3.0 * v.data + v.data**2

    (slope,) = numerical_grad(f, [0.0])
    assert math.isclose(slope, 3.0, rel_tol=1e-9)


def test_only_the_input_near_the_edge_is_differenced_one_sided() -> None:
    """f(x, y) = x·log y at (3, 1e-7): ∇f = (log y, x/y); x is far from any edge."""
    x, y = 3.0, 1e-7
    gx, gy = numerical_grad(lambda a, b: a * b.log(), [x, y])
    assert math.isclose(gx, math.log(y), rel_tol=1e-7, abs_tol=FD_ABS)
    assert math.isclose(gy, x / y, rel_tol=EDGE_REL)
    assert gradcheck(lambda a, b: a * b.log(), [x, y]) is True


def test_check_grads_to_second_order_near_the_edge() -> None:
    """The derivative functions are undefined beyond the edge too (grad of log at a negative
    point fails in its forward pass), so order 2 needs the one-sided difference as well."""
    assert check_grads(_log, [1e-7], order=2) is True
    assert check_grads(lambda v: v.sqrt(), [1e-8], order=2) is True
    assert check_grads(lambda v: (-v).log(), [-1e-7], order=2) is True
    assert check_grads(lambda v: v.log1p(), [-1.0 + 1e-7], order=2) is True


def test_the_derivative_function_near_the_edge_against_its_closed_form() -> None:
    """What check_grads differences at order 2: x ↦ (log)′(x) = 1/x, whose slope is −1/x²."""
    x = 1e-7
    (slope,) = numerical_grad(lambda v: grad(_log)(v), [x])
    assert math.isclose(slope, -1.0 / x**2, rel_tol=EDGE_REL)


def _narrow(x: Value) -> Value:
    """sqrt(1e-14 − x²): defined only for |x| ≤ 1e-7, narrower than eps = 1e-6."""
    return (x * x * (-1) + 1e-14).sqrt()


def test_a_domain_narrower_than_eps_raises_a_clear_probe_error() -> None:
    with pytest.raises(ProbeError) as info:
        numerical_grad(_narrow, [0.0])
    error = info.value
    message = str(error)
    assert isinstance(error, ValueError)
    assert not isinstance(error, (DomainError, GradcheckError))
    assert message.startswith("numerical_grad: at input 0, x = 0.0")
    assert "the probe x − eps = 0.0 − 1e-06 = -1e-06 left the domain of the op" in message
    assert "the probe x + eps = 0.0 + 1e-06 = 1e-06 left the domain of the op" in message
    assert "sqrt: sqrt is defined only for x ≥ 0" in message  # the DomainError's own words
    assert "Move the point at least eps = 1e-06 from the edge" in message
    assert "pass a smaller eps" in message
    assert (error.index, error.x, error.eps) == (0, 0.0, 1e-6)
    assert isinstance(error.__cause__, DomainError)
    # The advice works: with eps = 1e-8 both probes are inside, and by symmetry of
    # sqrt(1e-14 − x²) the slope at 0 is 0.
    assert numerical_grad(_narrow, [0.0], eps=1e-8) == [0.0]


def test_the_probe_error_names_the_input_and_the_caller() -> None:
    with pytest.raises(ProbeError, match=r"^gradcheck: at input 1, x = 0\.0") as info:
        gradcheck(lambda a, b: a + _narrow(b), [3.0, 0.0])
    assert "x − eps = 0.0 − 1e-06" in str(info.value)
    assert info.value.index == 1


def test_check_grads_probe_error_names_the_mode_and_order() -> None:
    with pytest.raises(ProbeError) as info:
        check_grads(_narrow, [0.0])
    message = str(info.value)
    assert message.startswith("check_grads (mode=fwd/rev, order 1): the central differences "
                              "of f: at input 0, x = 0.0")
    assert "x − eps = 0.0 − 1e-06" in message
    assert "Move the point at least eps" in message


def test_check_grads_probe_error_at_order_2_names_the_derivative_function() -> None:
    """x³ with a partial 3x² + 0·sqrt(1e-14 − x²): right, but defined only for |x| ≤ 1e-7, so
    order 1 passes and order 2, which differences the derivative, cannot be taken at 0."""
    cube = dataclasses.replace(
        RULES["neg"], name="cube_narrow_partial", primal=lambda x: x**3,
        partials=(lambda x, out: 3 * x * x + 0 * sqrt(x * x * (-1) + 1e-14),),
    )
    assert check_grads(lambda v: apply_rule(cube, v), [0.0], order=1) is True
    with pytest.raises(ProbeError) as info:
        check_grads(lambda v: apply_rule(cube, v), [0.0], modes=("rev",), order=2)
    message = str(info.value)
    assert message.startswith("check_grads (mode=rev, order 2): the central differences of "
                              "x ↦ w·∇(f)(x), w = (1): at input 0, x = 0.0")
    assert "x − eps = 0.0 − 1e-06" in message


def test_a_slope_that_never_settles_raises_a_probe_error() -> None:
    """sqrt at 0: the one-sided estimates grow like 1/√h without bound (the slope is +∞)."""
    with pytest.raises(ProbeError, match="did not settle") as info:
        numerical_grad(lambda v: v.sqrt(), [0.0])
    assert "x − eps = 0.0 − 1e-06 = -1e-06 left the domain of the op" in str(info.value)


@pytest.mark.parametrize("check", [numerical_grad, gradcheck, check_grads])
def test_a_domain_error_at_the_users_own_point_propagates_unchanged(
    check: Callable[..., object],
) -> None:
    """log at −1 is the user's mistake, and the DomainError already names their point."""
    with pytest.raises(DomainError) as info:
        check(_log, [-1.0])
    assert not isinstance(info.value, ProbeError)
    assert info.value.operands == (-1.0,)
    assert info.value.op == "log"


def test_the_table_prints_a_negative_zero_as_zero() -> None:
    # relu at its margin: ∂/∂x of −relu(x) at x = 0 is the zero partial times −1, which IEEE
    # arithmetic signs as −0.0; central differences give (−ε − 0)/2ε = −0.5 (half the slope
    # of −x on one side), so the check fails and prints the table
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: -x.relu(), [0.0])
    assert caught.value.rows[0][2] == 0.0
    assert math.copysign(1.0, caught.value.rows[0][2]) == -1.0  # the value keeps its sign
    row = str(caught.value).splitlines()[2].split()
    assert row[:3] == ["0", "0", "0"]  # input, x and the analytic −0.0, printed as 0
    assert math.isclose(float(row[3]), -0.5, rel_tol=1e-6)
