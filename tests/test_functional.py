"""grad, value_and_grad, jvp, vjp, jacobian, hessian, create_graph, count_passes, check_grads.

Every expected value is a closed form worked by hand in the test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import pytest

from autograd_mini import (
    DomainError,
    Value,
    count_passes,
    grad,
    hessian,
    jacobian,
    jvp,
    no_grad,
    value_and_grad,
    vjp,
)
from autograd_mini.engine import apply_rule
from autograd_mini.rules import RULES, primal
from autograd_mini.testing import GradcheckError, check_grads, numerical_grad


def close(a: float, b: float, rel: float = 1e-13) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def matrix_close(a: list[list[Any]], b: list[list[float]], rel: float = 1e-13) -> bool:
    return len(a) == len(b) and all(
        len(ra) == len(rb) and all(close(x, y, rel) for x, y in zip(ra, rb, strict=True))
        for ra, rb in zip(a, b, strict=True)
    )


# -- grad and value_and_grad -------------------------------------------------------------------


def f_trace(x1: Any, x2: Any) -> Any:
    """The evaluation-trace example of Bishop and Bishop, Deep Learning: Foundations and
    Concepts, chapter 8."""
    return x1 * x2 + (x1 * x2).exp() - x2.sin()


def test_grad_of_the_trace_example() -> None:
    e = math.exp(0.75)
    assert close(grad(f_trace)(1.5, 0.5), 0.5 * (1 + e))
    assert close(grad(f_trace, argnums=1)(1.5, 0.5), 1.5 * (1 + e) - math.cos(0.5))
    g1, g2 = grad(f_trace, argnums=(0, 1))(1.5, 0.5)
    assert close(g1, 0.5 * (1 + e))
    assert close(g2, 1.5 * (1 + e) - math.cos(0.5))
    (g_last,) = grad(f_trace, argnums=(-1,))(1.5, 0.5)
    assert g_last == g2


def test_value_and_grad() -> None:
    value, g = value_and_grad(lambda x: x.exp() * x)(2.0)
    assert close(value, 2 * math.exp(2))
    assert close(g, 3 * math.exp(2))  # (1 + x)eˣ


def test_floats_in_floats_out_values_in_values_out() -> None:
    g = grad(lambda x: x * x * x)(2.0)
    assert type(g) is float
    assert g == 12.0
    x = Value(2.0)
    gv = grad(lambda x: x * x * x)(x)
    assert isinstance(gv, Value)
    assert gv.data == 12.0
    gv.backward()  # d(3x²)/dx = 6x, reaching the caller's x through the transform
    assert x.grad == 12.0


def test_ints_are_accepted_and_other_argument_types_refused() -> None:
    assert grad(lambda x: x * x)(3) == 6.0
    with pytest.raises(TypeError, match="argument 0 must be a float or a Value, not str"):
        grad(lambda x: x)("1")
    with pytest.raises(TypeError, match="not bool"):
        grad(lambda x: x)(True)


def test_arguments_not_differentiated_are_passed_as_they_are() -> None:
    def f(x: Any, n: int) -> Any:
        return x**n

    assert grad(f)(2.0, 3) == 12.0  # 3x²


def test_argnums_errors() -> None:
    with pytest.raises(ValueError, match="out of range"):
        grad(f_trace, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match="repeats"):
        grad(f_trace, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be ints"):
        grad(f_trace, argnums=(0.0,))(1.0, 2.0)  # type: ignore[arg-type]


def test_grad_needs_a_scalar_output() -> None:
    with pytest.raises(TypeError, match="use jacobian or vjp"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="output 0 is a str"):
        grad(lambda x: "x")(1.0)


def test_a_function_that_ignores_its_input_has_zero_gradient() -> None:
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(lambda x, y: y.exp())(1.0, 0.0) == 0.0


def test_grad_has_no_side_effect_on_closed_over_values() -> None:
    w = Value(3.0)
    assert grad(lambda x: w * x)(2.0) == 3.0
    assert w.grad == 0.0


def test_transforms_work_inside_no_grad() -> None:
    with no_grad():
        assert grad(lambda x: x * x * x)(2.0) == 12.0
        assert hessian(lambda x: x * x * x)(2.0) == [[12.0]]


# -- higher order and nesting ------------------------------------------------------------------


def test_third_derivative_of_sin() -> None:
    d3 = grad(grad(grad(lambda x: x.sin())))
    for x in (-2.0, 0.0, 0.3, 1.7):
        assert close(d3(x), -math.cos(x))


def derivative(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """d/dx by one forward pass."""
    return lambda x: jvp(f, (x,), (1.0,))[1]


@pytest.mark.parametrize("d", [derivative, grad], ids=["fwd", "rev"])
def test_perturbation_confusion(d: Callable[..., Any]) -> None:
    # d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1, at any x. A naive nesting gives 2.
    for x in (0.0, 1.0, 2.5):
        assert d(lambda x: x * d(lambda y: x + y)(1.0))(x) == 1.0


@pytest.mark.parametrize("d", [derivative, grad], ids=["fwd", "rev"])
def test_inner_derivative_that_depends_on_the_outer_variable(d: Callable[..., Any]) -> None:
    # d/dx [d/dy (x·y)] = d/dx [x] = 1, and d/dx [x · d/dy (x·y²)|y=1] = d/dx [2x²] = 4x
    assert d(lambda x: d(lambda y: x * y)(1.0))(3.0) == 1.0
    assert d(lambda x: x * d(lambda y: x * y * y)(1.0))(3.0) == 12.0


@pytest.mark.parametrize(
    ("outer", "inner"),
    [(derivative, derivative), (derivative, grad), (grad, derivative), (grad, grad)],
    ids=["fwd-over-fwd", "fwd-over-rev", "rev-over-fwd", "rev-over-rev"],
)
def test_second_derivative_in_every_nesting(outer: Callable[..., Any],
                                             inner: Callable[..., Any]) -> None:
    # f = sin(x)·x³;  f″ = −sin(x)x³ + 6x²cos(x) + 6x sin(x)
    def f(x: Any) -> Any:
        return x.sin() * x**3

    for x in (-1.3, 0.7, 2.0):
        by_hand = -math.sin(x) * x**3 + 6 * x**2 * math.cos(x) + 6 * x * math.sin(x)
        assert close(outer(inner(f))(x), by_hand, rel=1e-12)


def test_create_graph_gives_differentiable_gradients() -> None:
    x, y = Value(1.5), Value(-0.5)
    f = x * x * y + y.exp()
    f.backward(create_graph=True)
    gx, gy = x.grad, y.grad
    assert isinstance(gx, Value)
    assert isinstance(gy, Value)
    assert close(gx.data, 2 * 1.5 * -0.5)  # 2xy
    assert close(gy.data, 1.5**2 + math.exp(-0.5))  # x² + eʸ
    x.zero_grad()
    y.zero_grad()
    gx.backward()
    assert (x.grad, y.grad) == (2 * -0.5, 2 * 1.5)  # ∂(2xy)/∂x = 2y, ∂/∂y = 2x


def test_create_graph_accumulates_like_backward() -> None:
    x = Value(2.0)
    z = (x * 2) * 3
    z.backward(create_graph=True)
    z.backward(create_graph=True)
    assert x.grad.data == 12.0
    assert z.parents[0].grad.data == 3.0  # intermediates are recomputed, not accumulated


# -- jvp and vjp -------------------------------------------------------------------------------


def test_jvp_is_a_directional_derivative() -> None:
    # f = x1·x2 + exp(x1·x2) − sin(x2); ∇f·(a, b)
    e = math.exp(0.75)
    value, tangent = jvp(f_trace, (1.5, 0.5), (2.0, -1.0))
    assert close(value, 0.75 + e - math.sin(0.5))
    assert close(tangent, 2.0 * 0.5 * (1 + e) - (1.5 * (1 + e) - math.cos(0.5)))


def test_jvp_of_a_vector_function_is_a_column() -> None:
    values, tangents = jvp(lambda r, t: [r * t.cos(), r * t.sin()], (2.0, 0.5), (0.0, 1.0))
    assert close(values[0], 2 * math.cos(0.5))
    assert close(tangents[0], -2 * math.sin(0.5))
    assert close(tangents[1], 2 * math.cos(0.5))


def test_jvp_checks_lengths() -> None:
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        jvp(f_trace, (1.0, 2.0), (1.0,))


def test_vjp_is_a_row_combination_and_its_function_can_be_reused() -> None:
    value, vjp_fn = vjp(lambda r, t: [r * t.cos(), r * t.sin()], 2.0, 0.5)
    c, s = math.cos(0.5), math.sin(0.5)
    assert close(value[1], 2 * s)
    row0 = vjp_fn([1.0, 0.0])  # ∂(r cos t)/∂(r, t) = (cos t, −r sin t)
    row1 = vjp_fn([0.0, 1.0])  # ∂(r sin t)/∂(r, t) = (sin t, r cos t)
    mixed = vjp_fn([2.0, -3.0])
    assert close(row0[0], c)
    assert close(row0[1], -2 * s)
    assert close(row1[0], s)
    assert close(row1[1], 2 * c)
    assert close(mixed[0], 2 * c - 3 * s)
    assert close(mixed[1], -4 * s - 6 * c)
    with pytest.raises(ValueError, match="2 outputs but the cotangent has 1"):
        vjp_fn([1.0])


def test_vjp_of_a_scalar_function() -> None:
    value, vjp_fn = vjp(lambda x, y: x / y, 3.0, 2.0)
    assert value == 1.5
    assert vjp_fn(2.0) == (1.0, -1.5)  # 2·(1/y, −x/y²)


# -- jacobian and hessian ----------------------------------------------------------------------


def polar(r: Any, t: Any) -> list[Any]:
    return [r * t.cos(), r * t.sin()]


def spread(x: Any, y: Any, z: Any) -> list[Any]:
    return [x * y * z, x * x + y, z.sin(), x / z]


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobians_in_both_modes(mode: str) -> None:
    r, t = 2.0, 0.5
    assert matrix_close(jacobian(polar, mode=mode)(r, t),  # type: ignore[arg-type]
                        [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)]])
    x, y, z = 1.5, -2.0, 0.5
    assert matrix_close(jacobian(spread, mode=mode)(x, y, z),  # type: ignore[arg-type]
                        [[y * z, x * z, x * y],
                         [2 * x, 1.0, 0.0],
                         [0.0, 0.0, math.cos(z)],
                         [1 / z, 0.0, -x / z**2]])
    # a scalar function: one row
    assert matrix_close(jacobian(f_trace, mode=mode)(2.0, 5.0),  # type: ignore[arg-type]
                        [[5 * (1 + math.exp(10)), 2 * (1 + math.exp(10)) - math.cos(5)]])


def test_jacobian_argnums_and_mode_errors() -> None:
    assert matrix_close(jacobian(spread, argnums=(2,))(1.5, -2.0, 0.5),
                        [[1.5 * -2.0], [0.0], [math.cos(0.5)], [-1.5 / 0.25]])
    with pytest.raises(ValueError, match="mode must be 'rev' or 'fwd'"):
        jacobian(spread, mode="both")  # type: ignore[arg-type]


def test_hessian_by_hand() -> None:
    # f = x·y·z + exp(x·y)
    x, y, z = 1.0, 0.5, 2.0
    e = math.exp(x * y)
    expected = [
        [y * y * e, z + e + x * y * e, y],
        [z + e + x * y * e, x * x * e, x],
        [y, x, 0.0],
    ]
    assert matrix_close(hessian(lambda x, y, z: x * y * z + (x * y).exp())(x, y, z), expected)
    sub = hessian(lambda x, y, z: x * y * z + (x * y).exp(), argnums=(0, 2))(x, y, z)
    assert matrix_close(sub, [[y * y * e, y], [y, 0.0]])


def test_hessian_of_a_quadratic_form_is_its_symmetric_matrix() -> None:
    # f = ½ xᵀAx with A = [[2, 1], [1, 3]] gives H = A everywhere
    def f(a: Any, b: Any) -> Any:
        return 0.5 * (2 * a * a + 2 * a * b + 3 * b * b)

    assert hessian(f)(0.3, -7.0) == [[2.0, 1.0], [1.0, 3.0]]


# -- counting passes ---------------------------------------------------------------------------


def test_jacobian_costs_n_forward_or_m_reverse_passes() -> None:
    def f(*xs: Any) -> list[Any]:  # n = 5 inputs, m = 2 outputs
        return [sum(xs[1:], xs[0]), xs[0] * xs[4]]

    with count_passes() as rev:
        jacobian(f, mode="rev")(1.0, 2.0, 3.0, 4.0, 5.0)
    with count_passes() as fwd:
        jacobian(f, mode="fwd")(1.0, 2.0, 3.0, 4.0, 5.0)
    assert (rev.evaluations, rev.reverse_passes, rev.forward_passes) == (1, 2, 0)
    assert (fwd.evaluations, fwd.reverse_passes, fwd.forward_passes) == (1, 0, 5)
    # every pass visits the whole graph: 5 inputs, 4 sums, 1 product
    assert rev.nodes == 2 * 10
    assert fwd.nodes == 5 * 10


def test_nested_transforms_count_the_runs_of_the_users_function() -> None:
    runs = 0

    def f(x: Any, y: Any) -> Any:
        nonlocal runs
        runs += 1
        return x * x * y

    for make in (hessian, lambda g: grad(grad(g)), lambda g: jacobian(grad(g, argnums=(0, 1)))):
        runs = 0
        with count_passes() as cost:
            make(f)(1.0, 2.0)
        assert runs == 1
        assert cost.evaluations == runs


def test_central_differences_cost_two_evaluations_per_input() -> None:
    with count_passes() as cost:
        numerical_grad(f_trace, [1.0, 2.0])
    assert cost.evaluations == 4
    with count_passes() as cost:
        Value(1.0).exp().backward()
    assert cost.reverse_passes == 1
    assert cost.nodes == 2


def test_counting_is_off_outside_the_block() -> None:
    with count_passes() as cost:
        pass
    grad(f_trace)(1.0, 2.0)
    assert cost == type(cost)()


# -- check_grads -------------------------------------------------------------------------------


def test_check_grads_passes_on_correct_functions() -> None:
    assert check_grads(f_trace, [0.3, 0.8])
    assert check_grads(polar, [2.0, 0.5], order=3)
    assert check_grads(lambda x: x.tanh() * x.sigmoid(), [0.4], modes=("rev",))


def _sin_with_frozen_partial(x: Value) -> Value:
    # sin whose partial is right in value (cos x) but is a float even on Values, so that its
    # own derivative is lost: first derivatives are right, second derivatives are wrong.
    bad = dataclasses.replace(RULES["sin"], name="sin_frozen",
                              partials=(lambda x, out: math.cos(primal(x)),))
    return apply_rule(bad, x)


def test_check_grads_rejects_a_wrong_second_order_rule() -> None:
    def f(x: Any, y: Any) -> Any:
        return _sin_with_frozen_partial(x * y)

    assert check_grads(f, [0.7, 1.1], order=1)  # first order is right in both modes
    for mode in ("fwd", "rev"):
        with pytest.raises(GradcheckError, match="order 2") as info:
            check_grads(f, [0.7, 1.1], modes=(mode,), order=2)
        assert "analytic" in str(info.value)
        assert "<-- mismatch" in str(info.value)
        # the message says which function of x was differentiated, with the direction w used
        of = "x ↦ w·∇(f)(x)" if mode == "rev" else "x ↦ ∇(f)(x)·w by jvp"
        assert f"the derivatives of {of}, w = (1, 1.37)" in str(info.value)


def test_check_grads_rejects_a_wrong_first_order_rule() -> None:
    wrong = dataclasses.replace(RULES["mul"], name="mul_wrong",
                                partials=(lambda x, y, out: y * 1.01, lambda x, y, out: x))
    for mode in ("fwd", "rev"):
        with pytest.raises(GradcheckError, match=f"mode={mode}, order 1"):
            check_grads(lambda x, y: apply_rule(wrong, x, y), [0.7, 1.1], modes=(mode,))


def test_check_grads_argument_errors() -> None:
    with pytest.raises(ValueError, match="modes"):
        check_grads(f_trace, [1.0, 2.0], modes=("sideways",))
    with pytest.raises(ValueError, match="order"):
        check_grads(f_trace, [1.0, 2.0], order=0)


# -- an optional cross-check against PyTorch ---------------------------------------------------


def test_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(-1.2, dtype=torch.float64, requires_grad=True)
    out = (x * y).tanh() * x.exp() + (y**2).sin() / (1 + x.sigmoid())
    (gx, gy) = torch.autograd.grad(out, (x, y), create_graph=True)
    hxx = torch.autograd.grad(gx, x)[0]

    def f(x: Any, y: Any) -> Any:
        return (x * y).tanh() * x.exp() + (y**2).sin() / (1 + x.sigmoid())

    ours = grad(f, argnums=(0, 1))(0.7, -1.2)
    assert close(ours[0], gx.item(), rel=1e-12)
    assert close(ours[1], gy.item(), rel=1e-12)
    assert close(hessian(f)(0.7, -1.2)[0][0], hxx.item(), rel=1e-10)


def test_variadic_rules_in_every_mode_to_second_order() -> None:
    from autograd_mini import dot, total

    def neuron(w1: Any, w2: Any, a1: Any, a2: Any, b: Any) -> Any:
        return dot([w1, w2], [a1, a2], b).tanh() + total([w1 * a1, b, 1.0]).sigmoid()

    assert check_grads(neuron, [0.3, -0.7, 1.1, 0.4, 0.2], order=2)
    # f = (p·q)² by hand: ∂²f/∂p² = 2q², ∂²f/∂p∂q = 4pq
    h = hessian(lambda p, q: dot([p], [q]) * dot([q], [p]))(2.0, 3.0)
    assert h == [[18.0, 24.0], [24.0, 8.0]]


def test_check_grads_names_the_order_that_failed() -> None:
    # |x| at 0: the first derivative (subgradient 0 against a numeric 0) passes; its own
    # derivative (0 against a numeric ~1e6 across the kink) fails: order 2
    with pytest.raises(GradcheckError, match="order 2"):
        check_grads(lambda x: abs(x), [0.0], modes="fwd")
    # relu at 0: the first derivative already fails (0 against a numeric 1/2): order 1
    with pytest.raises(GradcheckError, match="order 1"):
        check_grads(lambda x: x.relu(), [0.0], modes="rev")


def test_a_derivative_that_leaves_its_domain_says_which_derivative() -> None:
    # d/dx √x = 1/(2√x) has no value at x = 0, though √0 does: the message says it is the
    # derivative of sqrt, not "division by zero" alone
    with pytest.raises(DomainError, match=r"sqrt: the derivative of sqrt\(x\) has no value "
                                          r"at x = 0.0, where div inside it is undefined"):
        hessian(lambda x: x.sqrt())(0.0)
    x = Value(0.0, label="x")
    with pytest.raises(DomainError, match=r"the derivative of sqrt\(x\) has no value at x = 0"):
        x.sqrt().backward(create_graph=True)
