"""Value construction, graph structure, backward semantics, no_grad and edge values.

Expected values are worked by hand in each test.
"""

from __future__ import annotations

import math
import sys
import threading
from fractions import Fraction

import pytest

from autograd_mini import DomainError, Value, is_grad_enabled, no_grad
from autograd_mini._graph import topological_order

# -- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "stored"), [(3, 3.0), (-2.5, -2.5), (0, 0.0), (Fraction(1, 4), 0.25)]
)
def test_numbers_are_stored_as_float(data: object, stored: float) -> None:
    v = Value(data)  # type: ignore[arg-type]
    assert type(v.data) is float
    assert v.data == stored
    assert v.grad == 0.0
    assert v.label is None
    assert v.op is None
    assert v.parents == ()


@pytest.mark.parametrize("bad", [True, False, "1.0", 1 + 2j, None, [1.0], object()])
def test_other_types_raise_type_error_naming_the_type(bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("special", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_are_valid_data(special: float) -> None:
    v = Value(special)
    assert v.data is special or (math.isnan(v.data) and math.isnan(special))


def test_label_must_be_a_string() -> None:
    assert Value(1.0, label="w").label == "w"
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


# -- structure ---------------------------------------------------------------------------------


def test_parents_keep_order_and_duplicates() -> None:
    a, b = Value(2.0), Value(3.0)
    assert (a + a).parents == (a, a)
    assert (a - b).parents == (a, b)
    assert (b - a).parents == (b, a)
    assert (a * b).op == "mul"
    assert a.exp().parents == (a,)


def test_a_number_becomes_a_constant_operand() -> None:
    x = Value(2.0)
    y = 3 - x
    assert y.op == "sub"
    const, var = y.parents
    assert var is x
    assert const.op == "const"
    assert const.data == 3.0


@pytest.mark.parametrize(
    ("make", "op", "value"),
    [
        (lambda x, y: x + y, "add", 5.0),
        (lambda x, y: x - y, "sub", -1.0),
        (lambda x, y: x * y, "mul", 6.0),
        (lambda x, y: x / y, "div", 2.0 / 3.0),
        (lambda x, y: x**y, "pow", 8.0),
        (lambda x, y: -x, "neg", -2.0),
        (lambda x, y: abs(-x), "abs", 2.0),
        (lambda x, y: x.exp(), "exp", math.exp(2.0)),
        (lambda x, y: x.log(), "log", math.log(2.0)),
        (lambda x, y: x.sqrt(), "sqrt", math.sqrt(2.0)),
        (lambda x, y: x.sin(), "sin", math.sin(2.0)),
        (lambda x, y: x.cos(), "cos", math.cos(2.0)),
        (lambda x, y: x.tan(), "tan", math.tan(2.0)),
        (lambda x, y: x.tanh(), "tanh", math.tanh(2.0)),
        (lambda x, y: x.sigmoid(), "sigmoid", 1.0 / (1.0 + math.exp(-2.0))),
        (lambda x, y: x.relu(), "relu", 2.0),
    ],
)
def test_every_operator_and_method_records_its_rule(make, op: str, value: float) -> None:  # type: ignore[no-untyped-def]
    v = make(Value(2.0), Value(3.0))
    assert v.op == op
    assert math.isclose(v.data, value, rel_tol=1e-15)


def test_numbers_on_either_side() -> None:
    x = Value(2.0)
    assert (x + 1).data == 3.0
    assert (1 + x).data == 3.0
    assert (x - 1).data == 1.0
    assert (1 - x).data == -1.0
    assert (x * 3).data == 6.0
    assert (3 * x).data == 6.0
    assert (x / 4).data == 0.5
    assert (4 / x).data == 2.0
    assert (x**3).data == 8.0
    assert (3**x).data == 9.0
    assert (x ** Value(3.0)).data == 8.0


@pytest.mark.parametrize("bad", ["a", True, None, 1j, [1]])
def test_unsupported_operand_types_raise_type_error(bad: object) -> None:
    x = Value(1.0)
    for op in (
        lambda: x + bad,
        lambda: bad + x,
        lambda: x * bad,
        lambda: x - bad,
        lambda: x / bad,
        lambda: x**bad,
        lambda: bad**x,
    ):
        with pytest.raises(TypeError):
            op()


def test_three_argument_pow_is_refused() -> None:
    with pytest.raises(TypeError):
        pow(Value(2.0), 3, 5)  # type: ignore[misc]


def test_repr_reads_like_the_node() -> None:
    x = Value(2.0, label="x")
    assert repr(x) == "Value(data=2.0, grad=0.0, label='x')"
    assert repr(x * 3) == "Value(data=6.0, grad=0.0, op='mul')"


# -- backward ----------------------------------------------------------------------------------


def test_the_trace_example() -> None:
    # The evaluation-trace example of Bishop and Bishop, Deep Learning: Foundations and
    # Concepts, chapter 8, f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2); by hand:
    # ∂f/∂x1 = x2(1 + e^(x1 x2)),  ∂f/∂x2 = x1(1 + e^(x1 x2)) − cos x2.
    x1, x2 = Value(1.5), Value(0.5)
    f = x1 * x2 + (x1 * x2).exp() - x2.sin()
    f.backward()
    e = math.exp(0.75)
    assert math.isclose(f.data, 0.75 + e - math.sin(0.5), rel_tol=1e-15)
    assert math.isclose(x1.grad, 0.5 * (1 + e), rel_tol=1e-15)
    assert math.isclose(x2.grad, 1.5 * (1 + e) - math.cos(0.5), rel_tol=1e-15)


def test_fan_out_a_plus_a() -> None:
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0  # d(2a)/da


def test_fan_out_twice() -> None:
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0  # c = 4a
    assert b.grad == 2.0


def test_fan_out_a_times_a() -> None:
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0  # d(a²)/da = 2a


def test_diamond() -> None:
    # d = sin(x)·cos(x) = sin(2x)/2, d′ = cos(2x)
    x = Value(0.4)
    d = x.sin() * x.cos()
    d.backward()
    assert math.isclose(x.grad, math.cos(0.8), rel_tol=1e-14)


def test_leaf_gradients_accumulate_and_intermediates_are_recomputed() -> None:
    x = Value(5.0)
    y = x * 2
    z = y * 3
    z.backward()
    assert x.grad == 6.0
    assert y.grad == 3.0
    z.backward()
    assert x.grad == 12.0  # accumulates, as in PyTorch
    assert y.grad == 3.0  # recomputed from zero, not 6
    assert z.grad == 1.0


def test_backward_seed_scales_every_adjoint() -> None:
    x = Value(2.0)
    y = x * x
    y.backward(seed=0.5)
    assert x.grad == 2.0  # 0.5 · 2x
    assert y.grad == 0.5


def test_backward_on_an_input_adds_the_seed() -> None:
    x = Value(2.0)
    x.backward()
    x.backward(3.0)
    assert x.grad == 4.0


def test_backward_seed_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="seed"):
        (Value(1.0) * 2).backward("1")  # type: ignore[arg-type]


def test_constants_collect_no_gradient() -> None:
    x = Value(2.0)
    y = x**2
    y.backward()
    assert x.grad == 4.0
    assert y.parents[1].grad == 0.0  # the exponent is a constant: ∂/∂y is never asked for


def test_negative_base_with_constant_integer_exponent_differentiates() -> None:
    # x³ at x = −2: the exponent is a constant, so ln(x) is never needed. d/dx = 3x² = 12.
    x = Value(-2.0)
    (x**3).backward()
    assert x.grad == 12.0


def test_zero_grad_clears_the_whole_graph() -> None:
    x, w = Value(2.0), Value(-1.0)
    y = (x * w).tanh()
    y.backward()
    assert x.grad != 0.0
    assert w.grad != 0.0
    y.zero_grad()
    assert (x.grad, w.grad, y.grad) == (0.0, 0.0, 0.0)
    y.backward()
    assert math.isclose(x.grad, -(1 - math.tanh(-2.0) ** 2), rel_tol=1e-15)  # w·tanh′(xw)


def test_shared_parameter_in_two_graphs() -> None:
    w = Value(3.0)
    (w * 2).backward()
    (w * w).backward()
    assert w.grad == 2.0 + 6.0


def test_chain_of_a_million_ops() -> None:
    # y = x + x + … + x with 1,000,001 terms, depth 1,000,000: ∂y/∂x = 1,000,001.
    limit = sys.getrecursionlimit()
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + x
    y.backward()
    assert x.grad == 1_000_001.0
    assert sys.getrecursionlimit() == limit
    del y  # freeing a deep chain must not overflow the C stack either


def test_order_is_deterministic() -> None:
    def program() -> list[tuple[str | None, float]]:
        x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
        v3 = x1 * x2
        f = v3 + v3.exp() - x2.sin()
        return [(v.op, v.data) for v in topological_order(f)]

    first = program()
    assert all(program() == first for _ in range(5))
    # inputs first, in the order the expression first uses them; then the Wengert order
    assert [op for op, _ in first] == [None, None, "mul", "exp", "add", "sin", "sub"]


def test_a_failed_backward_leaves_the_inputs_as_they_were() -> None:
    x, w = Value(2.0), Value(5.0)
    y = (x * 3) * 4 + w * x
    w.grad = 1.5
    x.grad = "not a number"  # type: ignore[assignment]  # makes the pass fail half way
    with pytest.raises(TypeError):
        y.backward()
    assert (x.grad, w.grad) == ("not a number", 1.5)  # as before the call, not half added
    x.grad = 0.0
    y.backward()
    assert (x.grad, w.grad) == (12.0 + 5.0, 1.5 + 2.0)  # ∂y/∂x = 12 + w, ∂y/∂w = x


# -- no_grad -----------------------------------------------------------------------------------


def test_no_grad_builds_no_graph() -> None:
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = (x * x).exp()
    assert is_grad_enabled()
    assert y.op is None
    assert y.parents == ()
    assert y.data == math.exp(4.0)
    z = x * 2
    assert z.parents[0] is x


def test_no_grad_as_a_decorator_and_nested() -> None:
    @no_grad()
    def square(v: Value) -> Value:
        return v * v

    x = Value(3.0)
    assert square(x).parents == ()
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError
    assert is_grad_enabled()


def test_no_grad_is_local_to_a_thread() -> None:
    inside = threading.Event()
    release = threading.Event()
    seen: list[bool] = []

    def worker() -> None:
        inside.wait()
        seen.append(is_grad_enabled())
        seen.append(bool((Value(1.0) * 2).parents))
        release.set()

    t = threading.Thread(target=worker)
    t.start()
    with no_grad():
        inside.set()
        release.wait(timeout=10)
    t.join()
    assert seen == [True, True]


# -- domain errors and IEEE values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "op", "values"),
    [
        (lambda: Value(-1.0, label="a").log(), "log", "a = -1.0"),
        (lambda: Value(0.0, label="a").log(), "log", "a = 0.0"),
        (lambda: Value(-4.0, label="a").sqrt(), "sqrt", "a = -4.0"),
        (lambda: Value(1.0, label="a") / Value(0.0, label="b"), "div", "b = 0.0"),
        (lambda: Value(1.0, label="a") / 0, "div", "a = 1.0"),
        (lambda: 1 / Value(0.0, label="b"), "div", "b = 0.0"),
        (lambda: Value(0.0, label="a") ** -1, "pow", "a = 0.0"),
        (lambda: Value(0.0, label="a") ** Value(-0.5, label="b"), "pow", "b = -0.5"),
        (lambda: Value(-8.0, label="a") ** (1 / 3), "pow", "a = -8.0"),
        (lambda: (-2) ** Value(0.5, label="b"), "pow", "b = 0.5"),
    ],
)
def test_domain_errors_name_the_op_the_values_and_the_labels(make, op: str, values: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as info:
        make()
    err = info.value
    assert isinstance(err, ValueError)
    assert err.op == op
    message = str(err)
    assert message.startswith(f"{op}: ")
    assert values in message


def test_domain_error_message_without_labels() -> None:
    with pytest.raises(DomainError, match=r"log\(x\) with x = -2.0"):
        Value(-2.0).log()


def test_domain_edges_inside_the_domain() -> None:
    assert Value(0.0).sqrt().data == 0.0
    assert Value(0.0) ** 2 is not None
    assert (Value(0.0) ** 2).data == 0.0
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(0.0) ** 0).data == 1.0


def test_no_complex_result_anywhere() -> None:
    for make in (lambda: Value(-8.0) ** (1 / 3), lambda: Value(-1.0).sqrt()):
        with pytest.raises(DomainError):
            make()


def test_overflow_gives_inf() -> None:
    assert Value(1000.0).exp().data == math.inf
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf
    assert (Value(1e308) * 10).data == math.inf
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_invalid_ieee_operations_give_nan() -> None:
    for v in (Value(math.inf).sin(), Value(-math.inf).cos(), Value(math.inf).tan()):
        assert math.isnan(v.data)
    assert math.isnan(Value(math.nan).relu().data)
    assert math.isnan(Value(math.nan).log().data)


# -- node layout and the extension entry point -------------------------------------------------


def test_nodes_have_slots_and_no_per_node_closure() -> None:
    v = Value(2.0) * 3
    assert not hasattr(v, "__dict__")
    assert not any(callable(getattr(v, name)) for name in ("data", "grad", "label"))


def test_apply_rule_checks_arity_and_types() -> None:
    from autograd_mini.engine import apply_rule
    from autograd_mini.rules import EXP, MUL

    assert apply_rule(EXP, 0.0).data == 1.0
    with pytest.raises(TypeError, match=r"takes 2 operand\(s\), got 1"):
        apply_rule(MUL, Value(1.0))
    with pytest.raises(TypeError, match="not str"):
        apply_rule(MUL, Value(1.0), "x")
    with pytest.raises(TypeError, match="not NoneType"):
        apply_rule(EXP, None)  # type: ignore[arg-type]


def test_domain_error_describes_an_unlabelled_operand_by_its_formula() -> None:
    x, y = Value(2.0, label="x"), Value(2.0, label="y")
    with pytest.raises(DomainError, match=r"log\(x − 3.0\) with x − 3.0 = -1.0$"):
        (x - 3).log()
    with pytest.raises(DomainError, match=r"x / \(y − y\) with x = 2.0 and y − y = 0.0$"):
        x / (y - y)


def test_placeholder_names_never_collide_with_labels() -> None:
    with pytest.raises(DomainError, match=r"y / x with y = 5.0 and x = 0.0$"):  # x is free
        Value(5.0, label="y") / Value(0.0)
