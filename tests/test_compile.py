"""The compiled trace gives the dynamic engine's values and gradients, to 1e-12, on networks and
on random programs; it refuses what it cannot compile; user strings never become code."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini import DomainError, Value, datasets, total
from autograd_mini.compile import CompileError, compile
from autograd_mini.losses import LOSSES, l2
from autograd_mini.nn import MLP
from autograd_mini.optim import SGD, fit
from autograd_mini.testing import Program
from autograd_mini.testing.strategies import dags


def dynamic(f: Any, xs: list[float]) -> tuple[float, list[float]]:
    inputs = [Value(x) for x in xs]
    out = f(*inputs)
    out.backward()
    return out.data, [v.grad for v in inputs]


def assert_close(a: tuple[float, Any], b: tuple[float, Any]) -> None:
    assert math.isclose(a[0], b[0], rel_tol=1e-12, abs_tol=1e-12)
    for x, y in zip(a[1], b[1], strict=True):
        assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12), (a, b)


def test_the_trace_example_at_new_points() -> None:
    # the evaluation-trace example of Bishop and Bishop, Deep Learning: Foundations and
    # Concepts, chapter 8
    def f(x1: Any, x2: Any) -> Any:
        v = x1 * x2
        return v + v.exp() - x2.sin()

    step = compile(f, [2.0, 5.0])
    for point in ([2.0, 5.0], [1.5, 0.5], [-0.3, 2.2]):
        assert_close(step(*point), dynamic(f, point))
    e = math.exp(0.75)  # by hand at (1.5, 0.5)
    _, (d1, d2) = step(1.5, 0.5)
    assert math.isclose(d1, 0.5 * (1 + e), rel_tol=1e-14)
    assert math.isclose(d2, 1.5 * (1 + e) - math.cos(0.5), rel_tol=1e-14)


@settings(max_examples=200, deadline=None)
@given(program=dags(n_inputs=3, max_ops=10),
       a=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
       b=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_programs_compile_to_the_same_numbers(program: Program, a: list[float],
                                                     b: list[float]) -> None:
    try:
        step = compile(program, a)
        want = dynamic(program, b)
    except DomainError:
        assume(False)
        return
    assume(all(math.isfinite(x) for x in (want[0], *want[1])))
    # the trace is a fixed graph: valid at any point where the same ops are defined
    assert_close(step(*b), want)


@pytest.mark.parametrize(("activation", "output", "loss", "target"), [
    ("relu", "linear", "hinge", [1.0]),
    ("tanh", "sigmoid", "bce", [1.0]),
    ("sigmoid", "softmax", "cross_entropy", [0.0, 1.0, 0.0]),
    ("tanh", "tanh", "mse", [0.3, -0.2]),
])
def test_networks_compile_to_the_same_gradients(activation: str, output: str, loss: str,
                                                target: list[float]) -> None:
    model = MLP(3, [4, len(target)], activation=activation, output=output, seed=5)
    params = model.parameters()
    x = [0.5, -1.0, 2.0]

    def cost(*_: Any) -> Value:
        return LOSSES[loss](model(x), target) + l2(params, 1e-3)

    step = compile(cost, params)
    value, grads = step(*(p.data for p in params))
    c = cost()
    model.zero_grad()
    c.backward()
    assert_close((value, grads), (c.data, [p.grad for p in params]))


def test_compiled_training_matches_dynamic_training() -> None:
    data = datasets.moons(n=30, seed=1)
    targets = [[s] for s in data.signs()]
    states = []
    for compiled in (False, True):
        model = MLP(2, [8, 1], seed=2)
        history = fit(model, data.X, targets, "hinge", SGD(model.parameters(), lr=0.1),
                      epochs=15, compiled=compiled,
                      regularization=lambda m=model: l2(m.parameters(), 1e-4))
        states.append((history.loss, model.state_dict()))
    (loss_a, state_a), (loss_b, state_b) = states
    assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
               for a, b in zip(loss_a, loss_b, strict=True))
    assert all(math.isclose(state_a[k], state_b[k], rel_tol=1e-12, abs_tol=1e-15)
               for k in state_a)


def test_compiled_training_needs_full_batches() -> None:
    model = MLP(2, [1])
    with pytest.raises(ValueError, match="needs full batches"):
        fit(model, [[0.0, 1.0]] * 4, [[1.0]] * 4, "mse", SGD(model.parameters()),
            epochs=1, batch_size=2, compiled=True)


def test_the_source_is_readable_and_holds_no_user_strings() -> None:
    evil = "__import__('os').system('echo pwned')"
    x = Value(2.0, label=evil)
    step = compile(lambda a: (a * a).tanh(), [x])
    assert evil not in step.source
    assert "label" not in step.source
    assert step.source.splitlines()[:3] == ["def compiled(x0):", "    v1 = x0 * x0",
                                            "    v2 = _p_tanh(v1)"]
    value, (grad,) = step(0.5)
    assert value == math.tanh(0.25)
    assert math.isclose(grad, 2 * 0.5 * (1 - math.tanh(0.25) ** 2), rel_tol=1e-14)


def test_domain_errors_at_new_points() -> None:
    step = compile(lambda x: x.log() + x.sqrt(), [4.0])
    assert math.isclose(step(1.0)[1][0], 1.0 + 0.5, rel_tol=1e-15)  # 1/x + 1/(2√x)
    with pytest.raises(DomainError, match="log is defined only for x > 0"):
        step(-1.0)


def test_a_branch_on_a_value_is_refused() -> None:
    def f(x: Any) -> Any:
        return x if x else -x

    with pytest.raises(CompileError, match="used as a Python bool"):
        compile(f, [1.0])
    assert f(Value(1.0)).data == 1.0  # outside compile, a Value is true as before


def test_closed_over_values_are_constants() -> None:
    w = Value(3.0)
    step = compile(lambda x: w * x, [2.0])
    assert step(5.0) == (15.0, (3.0,))
    assert w.grad == 0.0


def test_refusals_and_argument_checks() -> None:
    with pytest.raises(CompileError, match="return a Value"):
        compile(lambda x: 1.0, [1.0])
    y = Value(1.0) * 2
    with pytest.raises(CompileError, match="computed Value"):
        compile(lambda a: a, [y])
    step = compile(lambda a, b: total([a, b, 1.0]), [1.0, 2.0])
    assert step(3.0, 4.0) == (8.0, (1.0, 1.0))
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        step(1.0)


def test_thousands_of_arguments_and_terms() -> None:
    # a sum of 5,000 squares: one variadic node, compiled without a deep expression; by hand
    # ∂/∂xᵢ Σ x² = 2xᵢ
    xs = [0.001 * i for i in range(5000)]
    step = compile(lambda *v: total([a * a for a in v]), xs)
    value, grads = step(*xs)
    assert value == sum(x * x for x in xs)
    assert grads[1234] == 2 * xs[1234]


def test_no_adjoint_is_written_that_reaches_no_input() -> None:
    # f = exp(sg(x·y)) · x: ∂f/∂x = exp(xy) (the stopped path gives nothing), ∂f/∂y = 0
    c = 3.0
    closed = Value(c)  # a closed-over value: not an argument, so no adjoint is needed for it
    f = compile(lambda x, y: am.stop_gradient(x * y).exp() * x + (closed * closed).sin(),
                (1.0, 2.0))
    value, (gx, gy) = f(0.5, 2.0)
    assert value == pytest.approx(math.exp(1.0) * 0.5 + math.sin(9.0), rel=1e-15)
    assert gx == pytest.approx(math.exp(1.0), rel=1e-15)
    assert gy == 0.0
    targets = [line.split("=")[0].strip() for line in f.source.splitlines()
               if line.strip().startswith("g")]
    # in evaluation order v1 = x·y, v2 = sg(v1), v3 = exp(v2), v4 = v3·x, v5 = closed²,
    # v6 = sin(v5), v7 = v4 + v6. The adjoints written: the root's, v4's and x's; none for
    # v2 or v1 below the stop, nor for v6 and v5 (no input below them)
    assert targets == ["g7", "g4", "gx0"]


def test_an_output_that_reaches_no_input_writes_no_adjoint() -> None:
    f = compile(lambda x: am.stop_gradient(x) * 2, (3.0,))  # ∂/∂x = 0: the stop cuts it
    assert f(3.0) == (6.0, (0.0,))
    assert not [line for line in f.source.splitlines() if line.strip().startswith("g")]
