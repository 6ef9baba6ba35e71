"""The compiled trace gives the dynamic engine's values and gradients, to 1e-12, on networks and
on random programs; it refuses what it cannot compile; user strings never become code."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini import DomainError, Value, datasets, total
from autograd_mini.compile import CompileError, compile, compile_batch, compile_forward
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


def _train_both(seed: int, regularized: bool = False,
                **options: Any) -> list[tuple[Any, dict[str, float]]]:
    """The same training, dynamic then compiled, from the same weights, checked to give the
    same losses and weights to 1e-12; returns each run's history and state."""
    data = datasets.moons(n=30, seed=seed)
    targets = [[s] for s in data.signs()]
    runs = []
    for compiled in (False, True):
        model = MLP(2, [8, 1], seed=2)
        if regularized:
            options["regularization"] = lambda m=model: l2(m.parameters(), 1e-4)
        history = fit(model, data.X, targets, "hinge", SGD(model.parameters(), lr=0.1),
                      compiled=compiled, **options)
        runs.append((history, model.state_dict()))
    (a, state_a), (b, state_b) = runs
    assert all(math.isclose(x, z, rel_tol=1e-12, abs_tol=1e-15)
               for x, z in zip(a.loss, b.loss, strict=True))
    assert all(math.isclose(state_a[k], state_b[k], rel_tol=1e-12, abs_tol=1e-15)
               for k in state_a)
    return runs


def test_compiled_training_matches_dynamic_training() -> None:
    _train_both(1, regularized=True, epochs=15)


@pytest.mark.parametrize(("activation", "output", "loss", "outs"), [
    ("relu", "linear", "hinge", 1), ("tanh", "sigmoid", "bce", 1),
    ("relu", "softmax", "cross_entropy", 3), ("sigmoid", "linear", "squared_error", 2)])
@pytest.mark.parametrize("batch", [1, 7, 30])
def test_per_sample_compiled_batches_match_the_dynamic_engine(
        activation: str, output: str, loss: str, outs: int, batch: int) -> None:
    # each batch of 30 samples cut into batches of 1, 7 (the last one 2) or 30: the compiled
    # sums against the dynamic engine's backward of the same sum, to 1e-12
    rng = random.Random(batch + outs)
    model = MLP(3, [5, outs], activation=activation, output=output, seed=3)
    params = model.parameters()
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(30)]
    if loss == "hinge":
        ys = [[rng.choice((-1.0, 1.0))] for _ in xs]
    elif loss == "cross_entropy":
        ys = [[1.0 if k == c else 0.0 for k in range(3)]
              for c in (rng.randrange(3) for _ in xs)]
    elif loss == "bce":
        ys = [[rng.choice((0.0, 1.0))] for _ in xs]
    else:
        ys = [[rng.uniform(-1, 1) for _ in range(outs)] for _ in xs]
    fn = LOSSES[loss]
    step = compile_batch(lambda *s: fn(model(list(s[:3])), list(s[3:])), params,
                         [*xs[0], *ys[0]])
    for start in range(0, 30, batch):
        chunk = range(start, min(start + batch, 30))
        value, grads = step([p.data for p in params], [(*xs[i], *ys[i]) for i in chunk])
        model.zero_grad()
        cost = total([fn(model(xs[i]), ys[i]) for i in chunk])
        cost.backward()
        assert_close((value, grads), (cost.data, [p.grad for p in params]))


def test_the_compiled_forward_gives_the_models_outputs() -> None:
    model = MLP(2, [4, 3], output="softmax", seed=5)
    forward = compile_forward(lambda *s: model(list(s)), model.parameters(), [0.0, 0.0])
    points = [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.0]]
    outputs = forward([p.data for p in model.parameters()], points)
    for x, out in zip(points, outputs, strict=True):
        assert all(math.isclose(a, b, rel_tol=1e-13)
                   for a, b in zip(out, model.predict(x), strict=True))
        assert math.isclose(sum(out), 1.0)  # softmax probabilities


def test_compiled_training_takes_minibatches_and_a_partial_last_batch() -> None:
    (a, _), (b, _) = _train_both(4, epochs=6, batch_size=8)  # batches of 8, 8, 8 and 6
    assert a.steps == b.steps == 6 * 4
    assert a.accuracy == b.accuracy


def test_a_compiled_batch_refuses_samples_of_the_wrong_size() -> None:
    w = Value(1.0)
    step = compile_batch(lambda x, y: w * x - y, [w], [1.0, 2.0])
    with pytest.raises(TypeError, match="sample 1 has 3 numbers"):
        step([1.0], [(1.0, 2.0), (1.0, 2.0, 3.0)])
    with pytest.raises(TypeError, match="takes 1 parameters"):
        step([1.0, 2.0], [])
    assert step([3.0], []) == (0.0, (0.0,))  # an empty batch: nothing summed
    with pytest.raises(CompileError, match="parameter 0 must be a leaf Value"):
        compile_batch(lambda x: w * x, [w * 2], [1.0])
    with pytest.raises(CompileError, match="parameter 0 must be a leaf Value"):
        compile_forward(lambda x: [w * x], [w + 1], [1.0])


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
