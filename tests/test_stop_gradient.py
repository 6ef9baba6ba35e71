"""Stopping gradients: ``v.detach()`` and ``autograd_mini.stop_gradient(v)``.

Every expected number is worked out by hand in this file, or taken from central differences
(``numerical_grad``) of the same function with the stopped values held fixed, which is what
stopping a gradient means: d/dx f(x, sg(g(x))) = ∂f/∂x with the second argument frozen at its
value. Nothing expected is read from the engine.

The hand-worked example used throughout, with s₁ = sg(x·y) and s₂ = sg(y) held constant:

    f(x, y) = x²·s₁ + sin(s₂)·y
    ∂f/∂x = 2x·s₁ = 2x²y            ∂f/∂y = sin(s₂) = sin y
    ∂²f/∂x² = 2·s₁ = 2xy            ∂²f/∂x∂y = ∂(2x·s₁)/∂y = 0       ∂²f/∂y² = 0

(with nothing stopped, ∂f/∂x would be 3x²y and ∂f/∂y = x³ + sin y + y·cos y).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini import Value, no_grad, stop_gradient
from autograd_mini.compile import compile as compile_trace
from autograd_mini.engine import apply_rule, group, group_of
from autograd_mini.rules import RULES, STRONG_ZERO, primal
from autograd_mini.testing import (
    GradcheckError,
    RuleCheckError,
    SympyMismatchError,
    assert_matches_sympy,
    check_grads,
    check_rule,
    gradcheck,
    numerical_grad,
    to_sympy,
)
from autograd_mini.testing.strategies import dags, points
from autograd_mini.viz import to_dot

X, Y = 1.5, -0.5


def f(x: Any, y: Any) -> Any:
    return x * x * stop_gradient(x * y) + stop_gradient(y).sin() * y


def by_hand(x: float, y: float) -> tuple[float, list[float], list[list[float]]]:
    """f, ∇f and the Hessian of f, with the stopped values held (see the module docstring)."""
    value = x * x * (x * y) + math.sin(y) * y
    return value, [2 * x * x * y, math.sin(y)], [[2 * x * y, 0.0], [0.0, 0.0]]


def frozen(x0: float, y0: float) -> Any:
    """f with the stopped values frozen at (x0, y0): the function that central differences
    can differentiate, to check the hand-worked gradient independently."""
    return lambda x, y: x * x * (x0 * y0) + math.sin(y0) * y


# ---------------------------------------------------------------------------------------------
# detach
# ---------------------------------------------------------------------------------------------


def test_detach_is_a_new_input_with_the_data_and_label_and_no_history() -> None:
    x = Value(3.0, label="x")
    with group("block"):
        y = (x * x).sin()
    y.label = "y"
    d = y.detach()
    assert d is not y
    assert d.op is None
    assert d.parents == ()
    assert d.rule is am.rules.INPUT
    assert (d.data, d.label) == (y.data, "y")
    assert d.grad == 0.0
    assert type(d.grad) is float
    assert group_of(d) is None  # an input of its own, outside the group y was built in
    d.backward()  # an input: ∂d/∂d = 1
    assert d.grad == 1.0


def test_a_gradient_does_not_flow_through_detach() -> None:
    # z = x · c with c = (x²) held at 9: ∂z/∂x = c = 9, and the detached copy, an input,
    # gets ∂z/∂c = x = 3. x² itself is not reached: its graph is not z's.
    x = Value(3.0, label="x")
    square = x * x
    c = square.detach()
    z = x * c
    z.backward()
    assert x.grad == 9.0
    assert c.grad == 3.0
    assert square.grad == 0.0


def test_detach_inside_no_grad_is_still_an_input() -> None:
    x = Value(2.0)
    with no_grad():
        d = (x * 4).detach()
    d.backward()
    assert (d.grad, x.grad) == (1.0, 0.0)


# ---------------------------------------------------------------------------------------------
# stop_gradient: the row
# ---------------------------------------------------------------------------------------------


def test_the_row_is_a_surrogate_of_the_table() -> None:
    rule = RULES["stop_gradient"]
    assert rule.builtin
    assert rule.surrogate
    assert rule.arity == 1
    assert am.stop_gradient.rule is rule
    assert Value(2.0).stop_gradient().rule is rule
    assert am.stop_gradient(2.5) == 2.5  # on a number, its value
    assert rule.partials[0](2.5, 2.5) is STRONG_ZERO
    assert rule.format(["v₀"]) == "stop_gradient(v₀)"
    assert rule.format_partial(0, ["v₀"], "v₁") == "0"
    assert "by definition" in rule.doc


def test_the_registration_check_passes_the_row_and_still_has_teeth() -> None:
    check_rule(RULES["stop_gradient"])
    # without the flag, the same row disagrees with central differences of its value (1 ≠ 0)
    plain = dataclasses.replace(RULES["stop_gradient"], name="t_plain_stop", surrogate=False,
                                builtin=False)
    with pytest.raises(RuleCheckError, match="disagree"):
        check_rule(plain)


@pytest.fixture
def registered() -> Any:
    names: list[str] = []
    yield names
    for name in names:
        RULES.pop(name, None)


def test_a_users_surrogate_row_a_straight_through_round(registered: list[str]) -> None:
    # round in the forward pass, slope 1 in the backward pass (a straight-through estimator)
    registered.append("t_ste_round")
    ste = am.primitive("t_ste_round", lambda x: float(round(x)), [lambda x, out: 1.0],
                       surrogate=True, check_at=[(0.3,), (1.2,), (-1.7,)])
    x = Value(1.2)
    y = ste(x) * x  # round(x)·x: ∂/∂x = 1·x + round(x) = 1.2 + 1
    y.backward()
    assert y.data == 1.2
    assert x.grad == pytest.approx(2.2, rel=1e-15)
    # the same row without the flag is refused: the check compares with central differences
    registered.append("t_ste_plain")
    with pytest.raises(RuleCheckError, match="disagree"):
        am.primitive("t_ste_plain", lambda x: float(round(x)), [lambda x, out: 1.0],
                     check_at=[(0.3,), (1.2,)])
    # and a surrogate whose partial is computed on floats only cannot be differentiated again:
    # the check differentiates the partial itself (slope 2 by differences, 0 on the graph)
    registered.append("t_ste_floats")
    with pytest.raises(RuleCheckError, match="disagree"):
        am.primitive("t_ste_floats", lambda x: float(round(x)),
                     [lambda x, out: 2.0 * primal(x)], surrogate=True, check_at=[(0.3,)])
    assert "t_ste_plain" not in RULES
    assert "t_ste_floats" not in RULES


# ---------------------------------------------------------------------------------------------
# stop_gradient: zero gradients in every mode, at every order
# ---------------------------------------------------------------------------------------------


def test_the_hand_worked_gradient_is_the_frozen_functions() -> None:
    """The oracle itself, checked independently: central differences of f with the stopped
    values frozen give the hand-worked gradient."""
    _, gradient, _ = by_hand(X, Y)
    numeric = numerical_grad(frozen(X, Y), [X, Y])
    assert numeric == pytest.approx(gradient, rel=1e-8, abs=1e-9)


def test_reverse_mode() -> None:
    value, gradient, _ = by_hand(X, Y)
    x, y = Value(X), Value(Y)
    out = f(x, y)
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-15)
    assert [x.grad, y.grad] == pytest.approx(gradient, rel=1e-15)


def test_reverse_mode_with_create_graph_then_second_order() -> None:
    _, gradient, hess = by_hand(X, Y)
    x, y = Value(X), Value(Y)
    f(x, y).backward(create_graph=True)
    gx, gy = x.grad, y.grad
    assert isinstance(gx, Value)
    assert [gx.data, gy.data] == pytest.approx(gradient, rel=1e-15)
    x.zero_grad()
    y.zero_grad()
    gx.backward()  # ∂/∂x and ∂/∂y of ∂f/∂x = 2x·s₁
    assert [x.grad, y.grad] == pytest.approx(hess[0], rel=1e-15)
    x.zero_grad()
    y.zero_grad()
    if isinstance(gy, Value):  # ∂f/∂y = sin(s₂): a function of a stopped value only
        gy.backward()
    assert [x.grad, y.grad] == [0.0, 0.0]


def test_the_function_transforms_and_forward_mode() -> None:
    value, gradient, hess = by_hand(X, Y)
    assert list(am.grad(f, argnums=(0, 1))(X, Y)) == pytest.approx(gradient, rel=1e-15)
    for k, direction in enumerate([(1.0, 0.0), (0.0, 1.0)]):
        out, tangent = am.jvp(f, (X, Y), direction)
        assert out == pytest.approx(value, rel=1e-15)
        assert tangent == pytest.approx(gradient[k], rel=1e-15)
    assert am.jacobian(f, mode="fwd")(X, Y)[0] == pytest.approx(gradient, rel=1e-15)
    assert am.jacobian(f, mode="rev")(X, Y)[0] == pytest.approx(gradient, rel=1e-15)
    h = am.hessian(f)(X, Y)
    for row, expected in zip(h, hess, strict=True):
        assert row == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_the_trace_tables() -> None:
    _, gradient, _ = by_hand(X, Y)
    x, y = Value(X, label="x"), Value(Y, label="y")
    out = f(x, y)
    table = am.trace(out, wrt="x")
    assert table.gradient == pytest.approx({"x": gradient[0], "y": gradient[1]}, rel=1e-15)
    assert table.tangents[-1].value == pytest.approx(gradient[0], rel=1e-15)
    text = table.to_text()
    assert "stop_gradient(" in text
    assert "· 0 " in text or "· 0\n" in text  # an adjoint step through the stopped edge


def test_pictures_show_the_node() -> None:
    x = Value(X, label="x")
    out = x * stop_gradient(x)
    out.backward()
    dot = str(to_dot(out))
    assert "stop_gradient" in dot


def test_the_compiled_trace() -> None:
    step = compile_trace(f, [0.3, 0.7])
    for point in ([X, Y], [-0.8, 1.9]):
        value, gradient = step(*point)
        expected_value, expected_gradient, _ = by_hand(*point)
        assert value == pytest.approx(expected_value, rel=1e-15)
        assert list(gradient) == pytest.approx(expected_gradient, rel=1e-15)


def test_detach_and_stop_gradient_agree() -> None:
    def with_detach(x: Value, y: Value) -> Value:
        return x * x * (x * y).detach() + y.detach().sin() * y

    x, y = Value(X), Value(Y)
    with_detach(x, y).backward()
    assert [x.grad, y.grad] == pytest.approx(by_hand(X, Y)[1], rel=1e-15)


@pytest.mark.parametrize("mode", ["backward", "create_graph", "grad", "jvp", "hessian",
                                  "compile"])
def test_a_stopped_branch_passes_nothing_not_zero_times_inf(mode: str) -> None:
    # f = x + sg(√x) at x = 0: √′(0) = inf inside the stopped branch. By hand ∂f/∂x = 1 and
    # ∂²f/∂x² = 0; an ordinary zero partial would give 1 + 0·inf = nan.
    def g(x: Any) -> Any:
        return x + stop_gradient(x.sqrt())

    if mode == "backward":
        x = Value(0.0)
        g(x).backward()
        got = x.grad
    elif mode == "create_graph":
        x = Value(0.0)
        g(x).backward(create_graph=True)
        got = x.grad.data
    elif mode == "grad":
        got = am.grad(g)(0.0)
    elif mode == "jvp":
        got = am.jvp(g, (0.0,), (1.0,))[1]
    elif mode == "hessian":
        assert am.hessian(g)(0.0) == [[0.0]]
        return
    else:
        got = compile_trace(g, [4.0])(0.0)[1][0]
    assert got == 1.0


def test_an_input_that_only_stopped_edges_reach_keeps_a_plain_float_grad() -> None:
    # ∂/∂x stop_gradient(3·√x) = 0 by definition; the grad is the float 0.0, as any grad is
    x = Value(2.0)
    stop_gradient(x.sqrt() * 3).backward()
    assert x.grad == 0.0
    assert type(x.grad) is float


def test_the_strong_zero() -> None:
    assert STRONG_ZERO == 0.0
    assert isinstance(STRONG_ZERO, float)
    assert not STRONG_ZERO
    for other in (math.inf, -math.inf, math.nan, 2.5, 0, True):
        assert STRONG_ZERO * other is STRONG_ZERO
        assert other * STRONG_ZERO is STRONG_ZERO
    assert -STRONG_ZERO is STRONG_ZERO
    assert type(1.5 + STRONG_ZERO) is float
    assert 1.5 + STRONG_ZERO == 1.5
    assert math.inf * 0.0 != math.inf * 0.0  # an ordinary zero: nan


# ---------------------------------------------------------------------------------------------
# The checkers treat the row honestly
# ---------------------------------------------------------------------------------------------


def test_sympy_knows_the_rows_derivative() -> None:
    x, y = Value(X, label="x"), Value(Y, label="y")
    assert str(to_sympy(f(x, y))) == "x**2*stop_gradient(x*y) + y*sin(stop_gradient(y))"
    assert assert_matches_sympy(f, at=[(X, Y), (-0.8, 1.9)], order=2)


def test_sympy_catches_a_stop_that_lets_the_gradient_through() -> None:
    # the row's value with the identity's partial: sympy's form says ∂ = 0, the engine 1
    leaky = dataclasses.replace(RULES["stop_gradient"], partials=(lambda x, out: 1.0,))

    def g(x: Any) -> Any:
        return x * apply_rule(leaky, x)

    with pytest.raises(SympyMismatchError):
        assert_matches_sympy(g, at=(0.5,))


def test_gradcheck_says_why_it_disagrees() -> None:
    # analytic ∂/∂x of x·sg(x) is x = 2; central differences of x² give 2x = 4
    with pytest.raises(GradcheckError, match=r"stop_gradient.*defined rather than derived"):
        gradcheck(lambda x: x * stop_gradient(x), [2.0])


@pytest.mark.parametrize("order", [1, 2])
def test_check_grads_says_why_it_disagrees(order: int) -> None:
    # as above: analytic 2, numeric 4, in both modes; at order 2 the first order fails first
    with pytest.raises(GradcheckError, match=r"stop_gradient.*defined rather than derived"):
        check_grads(lambda x: x * stop_gradient(x), [2.0], order=order)


def test_check_grads_adds_no_note_without_a_surrogate() -> None:
    wrong = am.primitive("wrong_square_sg", lambda x: x * x, [lambda x, out: 3.0 * x],
                         check=False)  # ∂(x²)/∂x is 2x, not 3x
    with pytest.raises(GradcheckError) as caught:
        check_grads(lambda x: wrong(x), [1.5], order=1)
    assert "NOTE" not in str(caught.value)


def test_random_programs_leave_surrogates_out_unless_named() -> None:
    @settings(max_examples=200, deadline=None, database=None)
    @given(dags(n_inputs=2))
    def drawn(program: am.testing.Program) -> None:
        assert all(ins.op != "stop_gradient" for ins in program.body)

    drawn()


SG_OPS = ("stop_gradient", "add", "mul", "sub", "sin", "exp", "tanh", "sqrt", "dot", "sum")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_programs_with_stop_gradient_match_sympy_to_second_order(
        data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 2), label="n_inputs")
    program = data.draw(dags(n_inputs=n, max_ops=6, ops=SG_OPS), label="program")
    point = data.draw(points(program, min_value=-2.0, max_value=2.0), label="point")
    assert assert_matches_sympy(program, at=point, order=2)
