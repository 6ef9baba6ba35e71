"""Rows of the rule table against PyTorch's float64 autograd, an independent implementation.

Values, first derivatives and (for the smooth unary ops) second derivatives are compared at
fixed points, away from kinks, and also at the kinks and ties themselves, where both libraries
document the same choice: torch.maximum/minimum give ½ to each side of a tie, leaky_relu has
slope ``negative_slope`` at 0 and elu slope ``alpha`` at 0. The whole module is skipped when
torch is not installed (CI has no torch).

The last part checks :func:`~autograd_mini.testing.pytorch.compare_with_torch` on whole
functions that together use every built-in row, at orders 1 and 2, and on a wrong primitive.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import autograd_mini as am  # noqa: E402
from autograd_mini._graph import topological_order  # noqa: E402
from autograd_mini.rules import RULES  # noqa: E402
from autograd_mini.testing.pytorch import (  # noqa: E402
    TORCH_FORMS,
    TorchMismatchError,
    compare_with_torch,
)

F = torch.nn.functional

REL = 1e-12  # values and first derivatives
REL2 = 1e-10  # second derivatives
# Values near zero (erf(0), the left tail of gelu, ...) compare absolutely: the last bits of
# two libms' erf differ there.
ABS = 1e-15


def close(ours: float, theirs: float, rel: float = REL) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=ABS)


def _t(x: float, grad: bool = True) -> Any:
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


def torch_derivatives(f: Callable[[Any], Any], x: float) -> tuple[float, float, float]:
    """f(x), f′(x) and f″(x) by torch float64 autograd (f″ 0 when f′ does not depend on x)."""
    xt = _t(x)
    y = f(xt)
    (d1,) = torch.autograd.grad(y, xt, create_graph=True)
    if d1.requires_grad:
        (d2,) = torch.autograd.grad(d1, xt, allow_unused=True)
        d2v = 0.0 if d2 is None else float(d2)
    else:
        d2v = 0.0
    return float(y.detach()), float(d1.detach()), d2v


def torch_binary(f: Callable[[Any, Any], Any], x: float, y: float) -> tuple[float, float, float]:
    """f(x, y), ∂f/∂x and ∂f/∂y by torch float64 autograd."""
    xt, yt = _t(x), _t(y)
    out = f(xt, yt)
    dx, dy = torch.autograd.grad(out, (xt, yt), allow_unused=True)
    return (float(out.detach()), 0.0 if dx is None else float(dx),
            0.0 if dy is None else float(dy))


# ---------------------------------------------------------------------------------------------
# Unary smooth ops: value, first and second derivative
# ---------------------------------------------------------------------------------------------

UNARY: dict[str, tuple[Callable[[Any], Any], list[float]]] = {
    "atan": (torch.atan, [-100.0, -3.0, -1.0, -0.5, 0.0, 1e-8, 0.3, 1.0, 2.5, 1e3]),
    "erf": (torch.special.erf, [-4.0, -1.5, -0.5, 0.0, 1e-10, 0.25, 1.0, 2.0, 3.5]),
    "log1p": (torch.log1p, [-0.999, -0.5, -1e-10, 0.0, 1e-20, 1e-8, 0.5, 3.0, 1e6]),
    "gelu": (lambda x: F.gelu(x, approximate="none"),
             [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 6.0]),
    "silu": (F.silu, [-20.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 20.0]),
    # torch's softplus switches to x above its threshold 20: compare only where |x| < 15.
    "softplus": (F.softplus, [-14.5, -5.0, -1.0, -1e-3, 0.0, 0.7, 3.0, 10.0, 14.5]),
    # a few older rows
    "exp": (torch.exp, [-20.0, -1.0, 0.0, 0.5, 3.0, 30.0]),
    "log": (torch.log, [1e-5, 0.3, 1.0, 2.0, 1e5]),
    "sqrt": (torch.sqrt, [1e-6, 0.25, 1.0, 2.0, 1e6]),
    "sin": (torch.sin, [-2.0, -0.5, 0.0, 0.7, 3.0]),
    "tanh": (torch.tanh, [-5.0, -1.0, 0.0, 0.5, 2.0]),
    "sigmoid": (torch.sigmoid, [-20.0, -2.0, 0.0, 1.0, 20.0]),
}

UNARY_POINTS = [(name, x) for name, (_, xs) in sorted(UNARY.items()) for x in xs]


@pytest.mark.parametrize(("name", "x"), UNARY_POINTS)
def test_unary_against_torch(name: str, x: float) -> None:
    fn = getattr(am, name)
    want, want_d1, want_d2 = torch_derivatives(UNARY[name][0], x)
    got = fn(x)
    got_d1 = am.grad(fn)(x)
    got_d2 = am.grad(am.grad(fn))(x)
    assert close(got, want), (name, x, got, want)
    assert close(got_d1, want_d1), (name, x, got_d1, want_d1)
    assert close(got_d2, want_d2, REL2), (name, x, got_d2, want_d2)


# relu and abs (Python's abs on a Value) at and around their kink: both libraries take the
# subgradient 0 at 0.
KINKED: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], list[float]]] = {
    "relu": (am.relu, torch.relu, [-2.0, -1e-9, -0.0, 0.0, 1e-9, 3.0]),
    "abs": (abs, torch.abs, [-2.0, -1e-9, -0.0, 0.0, 1e-9, 3.0]),
}


@pytest.mark.parametrize(("name", "x"),
                         [(n, x) for n, (*_, xs) in sorted(KINKED.items()) for x in xs])
def test_kinked_unary_against_torch(name: str, x: float) -> None:
    fn, torch_fn, _ = KINKED[name]
    want, want_d1, _ = torch_derivatives(torch_fn, x)
    assert close(fn(x), want)
    assert close(am.grad(fn)(x), want_d1), (name, x, am.grad(fn)(x), want_d1)


# ---------------------------------------------------------------------------------------------
# maximum and minimum, ties included
# ---------------------------------------------------------------------------------------------

PAIRS = [(1.0, 2.0), (2.0, 1.0), (-1.0, 4.0), (1e3, -1e3), (0.5, 0.5000001),
         (-3.0, -3.0), (0.0, 0.0), (1.5, 1.5), (0.0, -0.0), (1e300, 1e300)]
TORCH_BINARY = {"maximum": torch.maximum, "minimum": torch.minimum}


@pytest.mark.parametrize(("x", "y"), PAIRS)
@pytest.mark.parametrize("name", sorted(TORCH_BINARY))
def test_max_min_against_torch(name: str, x: float, y: float) -> None:
    fn = getattr(am, name)
    want, want_dx, want_dy = torch_binary(TORCH_BINARY[name], x, y)
    got = fn(x, y)
    got_dx, got_dy = am.grad(fn, argnums=(0, 1))(x, y)
    assert close(got, want)
    assert (got_dx, got_dy) == (want_dx, want_dy), (name, x, y, (got_dx, got_dy))


@pytest.mark.parametrize("name", sorted(TORCH_BINARY))
def test_max_min_same_tensor_on_both_sides(name: str) -> None:
    xt = _t(1.5)
    (want,) = torch.autograd.grad(TORCH_BINARY[name](xt, xt), xt)
    fn = getattr(am, name)
    assert am.grad(lambda x: fn(x, x))(1.5) == float(want) == 1.0


@pytest.mark.parametrize(("x", "y"), [(math.nan, 1.0), (1.0, math.nan)])
@pytest.mark.parametrize("name", sorted(TORCH_BINARY))
def test_max_min_nan_against_torch(name: str, x: float, y: float) -> None:
    want = float(TORCH_BINARY[name](_t(x, False), _t(y, False)))
    assert math.isnan(want)
    assert math.isnan(getattr(am, name)(x, y))


# ---------------------------------------------------------------------------------------------
# leaky_relu and elu: ∂/∂x from torch's own functions, ∂/∂slope and ∂/∂α from the definition
# written in torch (F.leaky_relu and F.elu take the parameter as a plain float)
# ---------------------------------------------------------------------------------------------

XS = [-10.0, -3.0, -0.5, -1e-6, -0.0, 0.0, 1e-6, 0.5, 3.0]
SLOPES = [0.01, 0.2, 0.5]
ALPHAS = [1.0, 0.5, 2.0]


def _torch_leaky(x: Any, s: Any) -> Any:
    return torch.where(x > 0, x, s * x)


def _torch_elu(x: Any, a: Any) -> Any:
    return torch.where(x > 0, x, a * torch.expm1(x))


@pytest.mark.parametrize("x", XS)
@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_against_torch(x: float, slope: float) -> None:
    want, want_dx, want_d2 = torch_derivatives(
        lambda t: F.leaky_relu(t, negative_slope=slope), x)
    got = am.leaky_relu(x, slope)
    got_dx, got_ds = am.grad(am.leaky_relu, argnums=(0, 1))(x, slope)
    assert close(got, want)
    assert close(got_dx, want_dx), (x, slope, got_dx, want_dx)
    if x != 0.0:
        assert close(am.grad(am.grad(lambda t: am.leaky_relu(t, slope)))(x), want_d2, REL2)
    w, w_dx, w_ds = torch_binary(_torch_leaky, x, slope)
    assert close(w, want)  # the definition in torch is torch's leaky_relu
    assert close(w_dx, want_dx)
    assert close(got_ds, w_ds), (x, slope, got_ds, w_ds)
    if slope == 0.01:  # the default
        assert am.leaky_relu(x) == got
        assert am.grad(am.leaky_relu)(x) == got_dx
        assert close(float(F.leaky_relu(_t(x, False))), got)


@pytest.mark.parametrize("x", XS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_elu_against_torch(x: float, alpha: float) -> None:
    want, want_dx, want_d2 = torch_derivatives(lambda t: F.elu(t, alpha=alpha), x)
    got = am.elu(x, alpha)
    got_dx, got_da = am.grad(am.elu, argnums=(0, 1))(x, alpha)
    assert close(got, want)
    assert close(got_dx, want_dx), (x, alpha, got_dx, want_dx)
    if x != 0.0:
        got_d2 = am.grad(am.grad(lambda t: am.elu(t, alpha)))(x)
        assert close(got_d2, want_d2, REL2), (x, alpha, got_d2, want_d2)
    w, w_dx, w_da = torch_binary(_torch_elu, x, alpha)
    assert close(w, want)
    assert close(w_dx, want_dx)
    assert close(got_da, w_da), (x, alpha, got_da, w_da)
    if alpha == 1.0:  # the default
        assert am.elu(x) == got
        assert am.grad(am.elu)(x) == got_dx
        assert close(float(F.elu(_t(x, False))), got)


def test_elu_mixed_second_derivative_against_torch() -> None:
    """∂²elu/∂x∂α = eˣ for x < 0, from torch's double backward of the definition."""
    for x in (-3.0, -0.5):
        xt, at = _t(x), _t(0.5)
        (dx,) = torch.autograd.grad(_torch_elu(xt, at), xt, create_graph=True)
        (dxda,) = torch.autograd.grad(dx, at)
        h = am.hessian(am.elu)(x, 0.5)
        assert close(h[0][1], float(dxda), REL2)
        assert close(h[1][0], float(dxda), REL2)


# ---------------------------------------------------------------------------------------------
# compare_with_torch: whole functions, recorded once and replayed in torch, every row covered
# ---------------------------------------------------------------------------------------------


def arithmetic(x: Any, y: Any) -> Any:
    return ((x + y) * (x - y) / y ** 3 + x ** y + 2.0 ** x + (+x) * (-y) + abs(x - 2.0 * y)
            - 1.5 / x + (x * y) ** 0.5)


def exponentials(x: Any, y: Any) -> Any:
    return (x.exp() * y.log() + (x * y).log1p() + (x * x + y).sqrt() / x.sin()
            + y.cos() * x.tan() + (x - y).atan() + (x * y).erf())


def activations(x: Any, y: Any) -> Any:
    return (x.tanh() * y.sigmoid() + (x * y).relu() + x.relu() + x.leaky_relu()
            + y.leaky_relu(0.2) + x.leaky_relu(y) + x.elu() + y.elu(alpha=0.5)
            + x.elu(alpha=y) + (x - y).softplus() + (x * y).gelu() + (x + y).silu()
            + am.maximum(x, y * y) + am.minimum(x.exp(), y) + x * am.stop_gradient(x * y))


def sums(x: Any, y: Any, z: Any) -> Any:
    return (am.total([x, y * z, 2.0, x.exp()]) * am.dot([x, y, 0.5], [z, x, y], z)
            + am.dot([y], [y]) + am.dot([], [], x) + am.total([x]))


def kinks(x: Any, y: Any) -> Any:
    """Every kink and tie at its worst when x = y = 0, where both libraries document the same
    subgradients: relu′(0) = abs′(0) = 0, leaky_relu′(0) = slope, elu′(0) = α, ½ at a tie."""
    return (x.relu() + abs(y) + am.maximum(x, y) + am.minimum(y, x) + x.leaky_relu(0.2)
            + y.elu(0.5) + am.maximum(x, x) + x.elu(alpha=y) + y.leaky_relu(x))


WHOLE: dict[str, tuple[Callable[..., Any], list[list[float]]]] = {
    "arithmetic": (arithmetic, [[0.7, 1.3], [1.9, 0.4]]),
    "exponentials": (exponentials, [[0.6, 1.7], [1.1, 0.2]]),
    "activations": (activations, [[-0.4, 0.8], [0.9, -0.3], [1.5, 1.5]]),
    "sums": (sums, [[0.3, -1.2, 2.0], [-1.0, 0.5, 0.25]]),
    "kinks": (kinks, [[0.0, 0.0], [0.0, -0.0], [1.0, 1.0], [-0.5, 0.5]]),
}


def _recorded_ops(f: Callable[..., Any], xs: list[float]) -> set[str]:
    out = f(*(am.Value(x) for x in xs))
    return {v.op for v in topological_order(out) if v.op not in (None, "const")}


def test_every_builtin_row_has_a_torch_form_and_is_exercised() -> None:
    builtin = {name for name, rule in RULES.items() if rule.builtin}
    assert builtin <= set(TORCH_FORMS)
    used = set().union(*(_recorded_ops(f, points[0]) for f, points in WHOLE.values()))
    assert builtin <= used, sorted(builtin - used)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize(("name", "xs"),
                         [(name, xs) for name, (_, points) in WHOLE.items() for xs in points])
def test_compare_with_torch_agrees(name: str, xs: list[float], order: int) -> None:
    assert compare_with_torch(WHOLE[name][0], xs, order=order) is True


@pytest.mark.parametrize("x", [-800.0, -30.0, 0.0, 20.5, 36.0, 800.0])
def test_softplus_is_the_exact_form_in_the_tails(x: float) -> None:
    """Above torch's threshold 20 its F.softplus is x itself; the oracle's form is ln(1 + eˣ)
    at every order, as the row is: σ(20.5) = 1 − 1.3e-9 fails against a slope of 1."""
    assert compare_with_torch(lambda t: t.softplus(), [x]) is True


def test_order_zero_compares_the_value_only() -> None:
    assert compare_with_torch(lambda x: x.exp(), [0.5], order=0) is True


def test_a_value_from_outside_f_is_a_constant() -> None:
    w = am.Value(2.0, label="w")
    assert compare_with_torch(lambda x: w * x.sin() + w.exp(), [0.3]) is True


def test_an_unused_input_has_zero_derivatives() -> None:
    assert compare_with_torch(lambda x, y: x * x, [1.5, -2.0]) is True
    assert compare_with_torch(lambda x: 3.0, [1.5]) is True


@pytest.fixture
def wrong_cube() -> Any:
    """cube(x) = x³ with a partial 10% too large, registered unchecked under a unique name."""
    name = "t_torch_oracle_wrong_cube"
    cube = am.primitive(name, lambda x: x ** 3, [lambda x, out: 1.1 * (3.0 * x * x)],
                        check=False)
    yield name, cube
    RULES.pop(name, None)


@pytest.mark.parametrize("order", [1, 2])
def test_a_wrong_partial_is_caught_and_named(wrong_cube: Any, order: int) -> None:
    name, cube = wrong_cube
    forms = {name: lambda torch, x: x ** 3}
    with pytest.raises(TorchMismatchError) as caught:
        compare_with_torch(lambda x, y: cube(x) * y + y.sin(), [1.5, 2.0], order=order,
                           forms=forms)
    error = caught.value
    assert isinstance(error, AssertionError)
    message = str(error)
    assert "∂f/∂x0" in message
    assert "<-- mismatch" in message
    assert f"∂{name}/∂x at x = 1.5" in message  # the culprit, at its own operand
    bad = {entry for entry, *_, ok in error.rows if not ok}
    assert "∂f/∂x0" in bad
    assert "∂f/∂x1" not in bad
    assert "f" not in bad
    if order == 2:
        assert {"∂²f/∂x0²", "∂²f/∂x0∂x1", "∂²f/∂x1∂x0"} <= bad
        assert "∂²f/∂x1²" not in bad
    # at 0 the partial's 10% of 3x² is 0, so nothing differs; a wrong torch form is caught
    # at the value, and named
    assert compare_with_torch(lambda x: cube(x), [0.0], forms=forms) is True
    with pytest.raises(TorchMismatchError, match=r"value 3\.375, torch"):
        compare_with_torch(lambda x: cube(x), [1.5], forms={name: lambda torch, x: x ** 2})


def test_a_10_percent_error_is_far_outside_the_tolerance(wrong_cube: Any) -> None:
    name, cube = wrong_cube
    with pytest.raises(TorchMismatchError):
        compare_with_torch(lambda x: cube(x), [1.0], order=1, atol=1e-3, rtol=1e-2,
                           forms={name: lambda torch, x: x ** 3})


def test_a_row_without_a_torch_form_is_named(wrong_cube: Any) -> None:
    name, cube = wrong_cube
    with pytest.raises(ValueError, match=rf"no torch form.*'{name}'.*forms=\{{\"{name}\": "
                                         r"lambda torch, x: \.\.\.\}"):
        compare_with_torch(lambda x: cube(x).exp(), [0.5])


def test_a_torch_form_that_fails_is_named(wrong_cube: Any) -> None:
    name, cube = wrong_cube
    with pytest.raises(ValueError, match=rf"the torch form of '{name}' raised TypeError"):
        compare_with_torch(lambda x: cube(x), [0.5], forms={name: lambda torch: 0})
    with pytest.raises(TypeError, match="float64"):
        compare_with_torch(lambda x: cube(x), [0.5],
                           forms={name: lambda torch, x: x.float() ** 3})
