"""A Value in Python: format, comparisons, bool, float/int/round, pickling and copying, and
``backward()`` on what ``no_grad()`` computed.

Expected gradients are worked out by hand here (each test says how), or, for the pickled
graph of every kind of op, by central differences (``numerical_grad``) of the same function.
"""

from __future__ import annotations

import copy
import math
import operator
import pickle
import sys
import tracemalloc
from fractions import Fraction
from typing import Any

import pytest

import autograd_mini as am
from autograd_mini import Value, dot, no_grad, stop_gradient, total
from autograd_mini.compile import CompileError, compile
from autograd_mini.engine import Group, group, group_of
from autograd_mini.errors import CompileError as CompileErrorBelow
from autograd_mini.rules import CONST, INPUT, RULES, STRONG_ZERO
from autograd_mini.testing import numerical_grad

# ---------------------------------------------------------------------------------------------
# format
# ---------------------------------------------------------------------------------------------


def test_format_formats_the_data() -> None:
    loss = Value(0.123456789, label="loss")
    assert f"{loss:.4f}" == "0.1235"
    assert f"{loss:>10.2e}" == "  1.23e-01"
    assert format(loss, "g") == "0.123457"
    assert f"{Value(math.inf):.3f}" == "inf"


def test_an_empty_format_spec_is_the_repr() -> None:
    v = Value(2.0, label="v") * 3
    assert format(v, "") == str(v) == repr(v)
    assert f"{v}" == repr(v)


# ---------------------------------------------------------------------------------------------
# comparisons
# ---------------------------------------------------------------------------------------------


def test_comparisons_read_the_data() -> None:
    a, b = Value(2.0), Value(5.0)
    assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
    assert (a < 3, a > 3, a <= 2.0, a > -1, a >= 2) == (True, False, True, True, True)
    assert operator.lt(3, a) is False  # a number on the left: Python asks a.__gt__
    assert operator.ge(2, a) is True
    assert a < Fraction(201, 100)  # exact, as floats compare
    assert not a > Fraction(2, 1)
    assert all(type(c) is bool for c in (a < b, a <= 3, a > b, a >= 1.0))
    nan = Value(math.nan)
    assert [nan < 1, nan <= 1, nan > 1, nan >= 1, nan < nan] == [False] * 5


def test_comparing_with_a_non_number_is_pythons_type_error() -> None:
    a = Value(2.0)
    for other in ("2", None, [2.0], True):
        for compare in (operator.lt, operator.le, operator.gt, operator.ge):
            with pytest.raises(TypeError, match="not supported between instances"):
                compare(a, other)
    assert a.__lt__("2") is NotImplemented


def test_max_returns_the_larger_value_and_its_gradient_flows_there() -> None:
    # m = max(a, b) is b itself, so (2·m) has ∂/∂b = 2 and ∂/∂a = 0, by hand
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    m = max(a, b)
    assert m is b
    (2 * m).backward()
    assert (a.grad, b.grad) == (0.0, 2.0)
    assert min(a, b) is a
    assert max(a, 4.0) == 4.0
    assert max(a, 1.0) is a


def test_sorted_sorts_by_data() -> None:
    vs = [Value(x) for x in (3.0, -1.0, 2.5, 0.0)]
    assert [v.data for v in sorted(vs)] == [-1.0, 0.0, 2.5, 3.0]
    assert sorted(vs, reverse=True)[0] is vs[0]


def test_equality_stays_identity_so_values_are_dict_keys() -> None:
    a, b = Value(1.0), Value(1.0)
    assert operator.eq(a, a)
    assert a != b
    assert operator.eq(a, b) is False
    assert a != 1.0
    assert operator.eq(a, 1.0) is False
    state = {a: "first", b: "second"}  # two variables, equal data: two keys
    assert state[a] == "first"
    assert state[b] == "second"
    assert len({a, b, a}) == 2


# ---------------------------------------------------------------------------------------------
# bool
# ---------------------------------------------------------------------------------------------


def test_bool_is_the_datas_as_for_a_float() -> None:
    assert [bool(Value(x)) for x in (0.0, -0.0, 2.0, -1e-300, math.nan, math.inf)] == [
        False, False, True, True, True, True]
    taken = "yes" if Value(0.0) else "no"
    assert taken == "no"


def test_a_value_grad_that_is_zero_still_accumulates_as_a_value() -> None:
    # x = 0: after create_graph, x.grad = 2x, a Value whose data is 0.0 (false). A plain pass
    # of 3x then adds 3, and the grad must stay the function 2x + 3, whose derivative is 2.
    x = Value(0.0)
    (x * x).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == 0.0
    (x * 3).backward()
    g = x.grad
    assert isinstance(g, Value)
    assert g.data == 3.0
    x.zero_grad()
    g.backward()
    assert x.grad == 2.0


# ---------------------------------------------------------------------------------------------
# While compiling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("branch", [
    lambda x, y: x if x < y else y,
    lambda x, y: x if x <= 1.0 else y,
    lambda x, y: y if operator.gt(0, x) else x,  # a number on the left
    lambda x, y: x if x >= y else y,
    lambda x, y: max(x, y),
    lambda x, y: sorted([x, y])[0],
    lambda x, y: x if x else y,
])
def test_a_comparison_or_a_bool_is_refused_while_compiling(branch: Any) -> None:
    with pytest.raises(CompileError, match="while compiling: the trace would hold one branch"):
        compile(branch, [1.0, 2.0])
    assert branch(Value(1.0), Value(2.0)).data in (1.0, 2.0)  # and works outside compile


def test_compile_error_is_one_class_raised_by_the_engine() -> None:
    assert CompileError is CompileErrorBelow
    assert issubclass(CompileError, ValueError)
    step = compile(lambda x, y: x.maximum(y), [1.0, 2.0])  # the op compiles
    assert step(3.0, 2.0) == (3.0, (1.0, 0.0))


# ---------------------------------------------------------------------------------------------
# float, int, round
# ---------------------------------------------------------------------------------------------


def test_float_and_int_say_to_use_data() -> None:
    v = Value(2.5)
    with pytest.raises(TypeError, match=r"float\(v\).*use v\.data"):
        float(v)
    with pytest.raises(TypeError, match=r"int\(v\).*use int\(v\.data\)"):
        int(v)


@pytest.mark.parametrize("function", [math.sin, math.exp, math.sqrt, math.isfinite])
def test_a_math_function_says_to_use_the_values_method(function: Any) -> None:
    with pytest.raises(TypeError, match=r"use v\.data.*use the Value's own method, v\.sin\(\)"):
        function(Value(0.5))


def test_round_says_what_to_do() -> None:
    with pytest.raises(TypeError, match=r"round\(v\.data, 2\).*f'\{v:\.2f\}'"):
        round(Value(2.345), 2)
    with pytest.raises(TypeError, match=r"round\(v\.data, 2\)"):
        round(Value(2.345))


def test_a_value_is_no_index() -> None:
    assert not hasattr(Value, "__index__")
    with pytest.raises(TypeError):
        [1, 2, 3][Value(1.0)]  # type: ignore[index]


# ---------------------------------------------------------------------------------------------
# backward() on what no_grad computed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda x: x * x,  # binary
    lambda x: x.exp(),  # unary
    lambda x: total([x, x, 1.0]),  # variadic
    lambda x: dot([x], [x], 0.5),
    lambda x: stop_gradient(x),
])
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_on_a_result_computed_under_no_grad_raises(build: Any,
                                                            create_graph: bool) -> None:
    x = Value(3.0)
    with no_grad():
        y = build(x)
    assert y.op is None
    assert y.parents == ()
    with pytest.raises(RuntimeError, match=r"computed under no_grad\(\): no graph was recorded"):
        y.backward(create_graph=create_graph)
    assert (x.grad, y.grad) == (0.0, 0.0)


@pytest.mark.parametrize("transform", [
    lambda f: am.grad(f)(3.0),
    lambda f: am.value_and_grad(f)(3.0),
    lambda f: am.jvp(f, (3.0,), (1.0,)),
    lambda f: am.vjp(f, 3.0)[1](1.0),
    lambda f: am.jacobian(f)(3.0),
])
def test_a_transform_of_a_function_that_returns_a_no_grad_result_raises(transform: Any) -> None:
    # without the error each of these would give 0 where ∂(x²)/∂x = 6
    def f(x: Any) -> Any:
        with no_grad():
            return x * x

    with pytest.raises(RuntimeError, match=r"output 0 of f was computed under no_grad"):
        transform(f)


def test_a_grad_that_is_a_no_grad_leaf_itself_can_be_differentiated() -> None:
    # ∂(d·x)/∂x is d, the leaf itself, which backward() refuses; the grad is a recorded copy
    x = Value(3.0)
    with no_grad():
        d = x * 2  # 6, a leaf with no graph
    (d * x).backward(create_graph=True)
    g = x.grad
    assert g is not d
    assert g.data == 6.0
    x.zero_grad()
    d.zero_grad()
    g.backward()  # ∂g/∂d = 1, and nothing reaches x: d was computed under no_grad
    assert (d.grad, x.grad) == (1.0, 0.0)


def test_inputs_keep_their_meaning() -> None:
    x = Value(3.0)
    x.backward()  # ∂x/∂x = 1
    assert x.grad == 1.0
    with no_grad():
        z = Value(4.0)  # an input the user made, even inside no_grad
    z.backward()
    assert z.grad == 1.0


def test_a_no_grad_result_serves_as_an_input_of_a_later_graph() -> None:
    # the optimiser step of plain gradient descent: w ← w − 0.1·∂L/∂w, under no_grad. The new
    # w is a leaf; L = w² gives it ∂L/∂w = 2w, by hand.
    w = Value(1.0)
    (w * w).backward()
    with no_grad():
        w = w - 0.1 * w.grad
    assert w.data == pytest.approx(0.8, rel=1e-15)
    (w * w).backward()
    assert w.grad == pytest.approx(1.6, rel=1e-15)
    w.detach().backward()  # and its detached copy is an input of its own


def test_no_grad_costs_no_memory_per_node() -> None:
    # a leaf made under no_grad is told apart without a slot of its own: the same layout, and
    # the same peak bytes per node as an input made with Value() (each with a float of its
    # own, and a place in a list)
    assert Value.__slots__ == ("_a", "_b", "_g", "_n", "_op", "data", "grad", "label")
    x = Value(0.5)
    with no_grad():
        y = x * 1.5
    assert sys.getsizeof(y) == sys.getsizeof(x)
    assert not hasattr(y, "__dict__")
    n = 20_000
    peaks = []
    for under_no_grad in (False, True):
        tracemalloc.start()
        try:
            if under_no_grad:
                with no_grad():
                    nodes = [x * 1.5 for _ in range(n)]
            else:
                nodes = [Value(0.5 + k) for k in range(n)]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        peaks.append(peak / n)
        del nodes
    assert peaks[1] <= peaks[0] * 1.02, peaks


# ---------------------------------------------------------------------------------------------
# Pickling and copying
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def softsign() -> Any:
    name = "t_pickled_softsign"
    prim = am.primitive(name, lambda x: x / (1.0 + abs(x)),
                        [lambda x, out: 1.0 / (1.0 + abs(x)) ** 2])
    yield prim
    RULES.pop(name, None)


def every_kind(softsign: Any) -> Any:
    """A function of three inputs with every kind of node: binary and unary operators,
    pow and div with constants, methods, a variadic dot and total, a user primitive, a
    stop_gradient, a group, and a shared node (a diamond)."""

    def fn(x: Any, y: Any, z: Any) -> Any:
        with group("mix", kind="layer"):
            shared = x * y + 2.0
            with group("inner"):
                inner = (shared / z).tanh()
        w = dot([x, y, shared], [z, inner, x], -0.5)
        s = total([shared.sin(), abs(z - 3.0) ** 1.5, softsign(w), stop_gradient(y).exp()])
        return s * shared - x.maximum(z).sigmoid() + (-inner).relu() + y.leaky_relu(0.2)

    return fn


POINT = [0.7, -1.3, 2.1]


def test_a_pickle_round_trip_then_backward_gives_the_same_gradients(softsign: Any) -> None:
    fn = every_kind(softsign)
    x, y, z = (Value(v, label=n) for v, n in zip(POINT, "xyz", strict=True))
    out = fn(x, y, z)
    ops = {v.op for v in am._graph.topological_order(out)}
    assert {"mul", "add", "div", "pow", "dot", "sum", "t_pickled_softsign", "stop_gradient",
            "const", None, "relu", "neg", "sigmoid", "maximum", "leaky_relu"} <= ops
    out.backward()
    expected = [x.grad, y.grad, z.grad]
    # the engine's gradient is right to begin with: central differences of fn, except that
    # the stopped y is held fixed there (its exp is a constant of the graph)
    held = POINT[1]

    def frozen(a: Any, b: Any, c: Any) -> Any:
        return fn(a, b, c) - stop_gradient(b).exp() * (a * b + 2.0) + math.exp(held) * (
            a * b + 2.0)

    assert expected == pytest.approx(numerical_grad(frozen, POINT), rel=1e-6, abs=1e-8)

    loaded_x, loaded_y, loaded_z, loaded = pickle.loads(pickle.dumps((x, y, z, out)))
    assert loaded.data == out.data
    assert [loaded_x.grad, loaded_y.grad, loaded_z.grad] == expected  # grads are kept
    leaves = {id(v) for v in am._graph.topological_order(loaded) if v.op is None}
    assert {id(loaded_x), id(loaded_y), id(loaded_z)} <= leaves  # the same objects
    loaded.zero_grad()
    loaded.backward()
    assert [loaded_x.grad, loaded_y.grad, loaded_z.grad] == expected
    assert [x.grad, y.grad, z.grad] == expected  # the original is untouched
    for a, b in zip(am._graph.topological_order(out), am._graph.topological_order(loaded),
                    strict=True):
        assert (a.rule, a.data, a.label) == (b.rule, b.data, b.label)


def test_groups_survive_pickling(softsign: Any) -> None:
    x, y, z = (Value(v) for v in POINT)
    out = every_kind(softsign)(x, y, z)
    loaded = pickle.loads(pickle.dumps(out))
    before = [group_of(v) for v in am._graph.topological_order(out)]
    after = [group_of(v) for v in am._graph.topological_order(loaded)]
    assert [g is None for g in before] == [g is None for g in after]
    assert any(g is not None for g in after)
    assert any(g is None for g in after)
    for g, h in zip(before, after, strict=True):
        if g is not None:
            assert isinstance(h, Group)
            assert [(p.name, p.kind) for p in g.path()] == [(p.name, p.kind) for p in h.path()]
    inner = [h for h in after if h is not None and h.name == "inner"]
    assert len({id(h) for h in inner}) == 1  # one group object, shared by its nodes
    assert inner[0].parent is next(h for h in after if h is not None and h.name == "mix")
    assert not hasattr(x, "_g")
    assert not hasattr(pickle.loads(pickle.dumps(x)), "_g")


def test_graphs_with_value_grads_pickle_with_their_cycles() -> None:
    # after create_graph, x.grad = 3x² is a graph that holds x: a reference cycle
    x = Value(2.0)
    (x ** 3).backward(create_graph=True)
    loaded = pickle.loads(pickle.dumps(x))
    g = loaded.grad
    assert isinstance(g, Value)
    assert g.data == 12.0
    assert any(v is loaded for v in am._graph.topological_order(g))
    loaded.zero_grad()
    g.backward()  # d(3x²)/dx = 6x = 12
    assert loaded.grad == 12.0


def test_what_no_grad_computed_stays_so_through_pickle() -> None:
    with no_grad():
        y = Value(1.0) * 2
    loaded = pickle.loads(pickle.dumps(y))
    with pytest.raises(RuntimeError, match="no_grad"):
        loaded.backward()
    made = pickle.loads(pickle.dumps(Value(1.0)))
    made.backward()
    assert made.grad == 1.0


def test_a_deep_graph_pickles_and_copies_past_the_recursion_limit() -> None:
    depth = 5 * sys.getrecursionlimit()
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = (y * 0.999).tanh() + 0.001
    for loaded in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert loaded.data == y.data
        loaded.backward()
    y.backward()
    leaf = am._graph.topological_order(loaded)[0]
    assert leaf.grad == x.grad


def test_rules_pickle_by_name() -> None:
    for rule in (RULES["exp"], RULES["dot"], RULES["stop_gradient"], INPUT, CONST):
        assert pickle.loads(pickle.dumps(rule)) is rule
        assert copy.copy(rule) is rule
        assert copy.deepcopy(rule) is rule
    assert pickle.loads(pickle.dumps(STRONG_ZERO)) is STRONG_ZERO


def test_a_rule_that_is_not_the_registered_one_does_not_pickle() -> None:
    import dataclasses

    stray = dataclasses.replace(RULES["sin"], name="t_stray_sin")
    node = am.engine.apply_rule(stray, Value(0.5))
    with pytest.raises(pickle.PicklingError, match=r"'t_stray_sin'.*not the row registered"):
        pickle.dumps(node)


def test_loading_a_primitive_that_is_not_registered_names_it(softsign: Any,
                                                            monkeypatch: Any) -> None:
    data = pickle.dumps(softsign(Value(0.5)) * 2)
    monkeypatch.delitem(RULES, "t_pickled_softsign")
    with pytest.raises(pickle.UnpicklingError,
                       match=r"op 't_pickled_softsign': no primitive of that name is "
                             r"registered.*primitive\('t_pickled_softsign'"):
        pickle.loads(data)


def test_deepcopy_gives_an_independent_graph(softsign: Any) -> None:
    x, y, z = (Value(v, label=n) for v, n in zip(POINT, "xyz", strict=True))
    out = every_kind(softsign)(x, y, z)
    out.backward()
    expected = [x.grad, y.grad, z.grad]
    copied = copy.deepcopy(out)
    originals = am._graph.topological_order(out)
    copies = am._graph.topological_order(copied)
    assert not {id(v) for v in originals} & {id(v) for v in copies}  # every node is new
    assert all(a.rule is b.rule for a, b in zip(originals, copies, strict=True))  # rules shared
    cx, cy, cz = (next(v for v in copies if v.label == n) for n in "xyz")
    assert [cx.grad, cy.grad, cz.grad] == expected
    copied.zero_grad()
    copied.backward()
    assert [cx.grad, cy.grad, cz.grad] == expected
    cx.data = 100.0  # changing the copy leaves the original alone
    copied.zero_grad()
    assert [x.grad, y.grad, z.grad] == expected
    assert x.data == POINT[0]
    # copied together, shared nodes stay shared
    a, b = copy.deepcopy((x, out))
    assert any(v is a for v in am._graph.topological_order(b))


def test_copy_is_a_new_node_on_the_same_operands() -> None:
    x, y = Value(2.0), Value(3.0)
    z = x * y
    w = copy.copy(z)
    assert w is not z
    assert w.parents == (x, y)
    assert (w.data, w.rule) == (6.0, z.rule)
    w.backward()
    assert (x.grad, y.grad) == (3.0, 2.0)
