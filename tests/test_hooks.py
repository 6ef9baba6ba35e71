"""Hooks: ``Value.register_hook``, modelled on PyTorch's ``Tensor.register_hook``.

What is checked, and why:

* when a hook is called, and with what: once per pass, once the node's adjoint is final (a
  node read several times gets the sum, once), interior nodes root first and the inputs at
  the end of the pass, several hooks on one node in registration order, each given what the
  one before returned; the root's hook gets the seed;
* what a hook's result does: None keeps the adjoint; a number or a Value replaces it, for an
  interior node in what flows on to its operands and in its ``grad``, for an input in what is
  added to its ``grad``, which accumulates across passes while the hook sees only this
  pass's share;
* handles: ``remove()`` (twice is harmless), the context manager, and that neither a handle
  nor the registry of interior hooks keeps a dropped graph alive;
* ``backward(create_graph=True)``: a hook's result is part of the recorded graph, so a
  second-order derivative sees it;
* stop_gradient, copies and pickles (which drop hooks), the errors, and an exception inside
  a hook, which leaves every input's ``grad`` as it was;
* that the two ways backward() can go, the fast pass (hooks on inputs only) and the general
  sweep (taken while any interior node with a hook is alive), give the same numbers: the same
  graphs, with the same input hooks and with and without a no-op hook on interior nodes, on
  fixed graphs and on random DAGs (which path ran is spied on, not assumed);
* against PyTorch, when it is installed (the rest of the file does not need it): the same
  hooks on the same graphs see the same values, in the same order where PyTorch's order is
  determined (chains; several hooks on one node), and leave the same grads.

Every expected number is worked out by hand in a comment beside it, never read from the
engine.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import math
import pickle
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_mini import (
    AnomalyError,
    RemovableHandle,
    Value,
    detect_anomaly,
    dot,
    engine,
    group,
    no_grad,
    stop_gradient,
    total,
    trace,
    value_and_grad,
)
from autograd_mini.engine import Group, apply_rule, constant, group_of, set_group
from autograd_mini.rules import RULES
from autograd_mini.testing.program import Program
from autograd_mini.testing.strategies import dags, points

Hook = Callable[[Any], Any]
Log = list[tuple[str, float]]


def number(g: Any) -> float:
    """A gradient as a float: a float, a Value's data, or a 0-d tensor's item."""
    if isinstance(g, Value):
        return g.data
    item = getattr(g, "item", None)
    return float(item()) if item is not None else float(g)


def recorder(log: Log, name: str, then: Hook | None = None) -> Hook:
    """A hook that logs ``(name, grad)`` and returns ``then(grad)`` (None keeps the grad)."""

    def hook(g: Any) -> Any:
        log.append((name, number(g)))
        return None if then is None else then(g)

    return hook


def double(g: Any) -> Any:
    return 2 * g


class BoomError(Exception):
    """What the hooks that fail raise."""


def explode(g: Any) -> None:
    raise BoomError


#: What :func:`module_hook` saw. A hook defined at module level is one that pickle *could*
#: write, so a copy that came without it shows that hooks are dropped, not unpicklable.
MODULE_LOG: list[float] = []


def module_hook(g: Any) -> None:
    MODULE_LOG.append(number(g))


@contextlib.contextmanager
def general_sweeps() -> Iterator[list[Value]]:
    """The roots of the backward() calls that took the general sweep while the block runs;
    every other call took the fast pass."""
    roots: list[Value] = []
    sweep = Value._backward_general

    def spy(self: Value, seed: float, on_values: bool) -> None:
        roots.append(self)
        sweep(self, seed, on_values)

    Value._backward_general = spy  # type: ignore[method-assign]
    try:
        yield roots
    finally:
        Value._backward_general = sweep  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_live_interior_hooks() -> Iterator[None]:
    """Each test starts with no interior node with a hook alive, so backward() takes the fast
    pass unless the test registers one. (A graph of an earlier test may be waiting for the
    cyclic collector, as create_graph makes cycles; and a failed test's traceback keeps its
    nodes alive, so the hooks a test leaves registered are taken away after it.)"""
    if engine._INTERIOR_HOOKS:
        gc.collect()
    assert not engine._INTERIOR_HOOKS
    yield
    for live in (engine._INTERIOR_HOOKS, engine._INPUT_HOOKS):
        for ref in list(live.values()):
            hooks = ref()
            if hooks is not None:
                hooks.fns.clear()
        live.clear()


@pytest.fixture
def general() -> Iterator[list[Value]]:
    with general_sweeps() as roots:
        yield roots


# ---------------------------------------------------------------------------------------------
# When hooks are called, and with what
# ---------------------------------------------------------------------------------------------


def chain(x0: float = 3.0) -> tuple[Value, Value, Value, Value]:
    """x → y = 2x → z = y² → w = z + 1."""
    x = Value(x0, label="x")
    y = x * 2
    z = y * y
    w = z + 1
    return x, y, z, w


def test_a_chain_calls_hooks_root_first_and_the_input_last(general: list[Value]) -> None:
    x, y, z, w = chain()
    log: Log = []
    for name, v in (("x", x), ("y", y), ("z", z), ("w", w)):  # registered leaf first
        v.register_hook(recorder(log, name))
    w.backward()
    # x = 3, y = 6, z = 36: w̄ = 1, z̄ = 1, ȳ = 2y·z̄ = 12, x̄ = 2·ȳ = 24
    assert log == [("w", 1.0), ("z", 1.0), ("y", 12.0), ("x", 24.0)]
    assert (w.grad, z.grad, y.grad, x.grad) == (1.0, 1.0, 12.0, 24.0)
    assert general == [w]  # interior hooks: the general sweep


def test_an_input_hook_alone_runs_from_the_fast_pass(general: list[Value]) -> None:
    x, y, _, w = chain()
    log: Log = []
    x.register_hook(recorder(log, "x"))
    w.backward()
    assert log == [("x", 24.0)]  # x̄ = 2·2y = 24, as above
    assert (x.grad, y.grad) == (24.0, 12.0)
    assert general == []


def test_several_hooks_on_an_interior_node_run_in_order_each_given_the_last() -> None:
    x, y, _, w = chain()
    log: Log = []
    y.register_hook(recorder(log, "y1"))
    y.register_hook(lambda g: g + 1)
    y.register_hook(recorder(log, "y2"))  # None: keeps what it was given
    y.register_hook(lambda g: 3 * g)
    y.register_hook(recorder(log, "y3"))
    w.backward()
    # ȳ = 12 → 12 + 1 = 13 → 3·13 = 39, which is y's grad and what flows on: x̄ = 2·39 = 78
    assert log == [("y1", 12.0), ("y2", 13.0), ("y3", 39.0)]
    assert (y.grad, x.grad) == (39.0, 78.0)


def test_several_hooks_on_an_input_run_in_order_each_given_the_last(
        general: list[Value]) -> None:
    x, _, _, w = chain()
    log: Log = []
    x.register_hook(recorder(log, "x1"))
    x.register_hook(lambda g: 10 * g)
    x.register_hook(recorder(log, "x2"))
    x.register_hook(lambda g: g - 1)
    w.backward()
    # x̄ = 24 → 240 → 239, which is what is added to x.grad (0 before)
    assert log == [("x1", 24.0), ("x2", 240.0)]
    assert x.grad == 239.0
    assert general == []


def test_the_same_function_registered_twice_runs_twice() -> None:
    x, _, _, w = chain()
    first = x.register_hook(double)
    x.register_hook(double)
    w.backward()
    assert x.grad == 96.0  # x̄ = 24, doubled twice
    first.remove()  # the other registration stays
    w.backward()
    assert x.grad == 96.0 + 48.0  # 24 doubled once, added


def test_a_diamond_calls_each_hook_after_every_consumer_s() -> None:
    x = Value(3.0, label="x")
    p = x + 1
    q = x * 2
    z = p * q
    log: Log = []
    for name, v in (("x", x), ("p", p), ("q", q), ("z", z)):
        v.register_hook(recorder(log, name))
    z.backward()
    # p = 4, q = 6: z̄ = 1, p̄ = q = 6, q̄ = p = 4, x̄ = p̄ + 2·q̄ = 14. z comes first, x last;
    # p and q are both after z and before x (their order is the reverse topological one)
    assert log[0] == ("z", 1.0)
    assert sorted(log[1:3]) == [("p", 6.0), ("q", 4.0)]
    assert log[3] == ("x", 14.0)
    first = list(log)
    log.clear()
    z.zero_grad()
    z.backward()
    assert log == first  # the order is fixed for a graph


@pytest.mark.parametrize("path", ["fast", "general"])
def test_inputs_hooks_run_at_the_end_of_the_pass(path: str, general: list[Value]) -> None:
    a, b, c = Value(2.0, label="a"), Value(3.0, label="b"), Value(5.0, label="c")
    m = b * c
    s = m + 1
    z = a * s
    log: Log = []
    for name, v in (("a", a), ("b", b), ("c", c)):
        v.register_hook(recorder(log, name))
    if path == "general":
        for name, v in (("m", m), ("s", s), ("z", z)):
            v.register_hook(recorder(log, name))
    z.backward()
    # m = 15, s = 16: z̄ = 1, s̄ = a = 2, m̄ = s̄ = 2, ā = s = 16, b̄ = m̄·c = 10, c̄ = m̄·b = 6.
    # a is read by the root, yet its hook runs after every interior one; among the inputs
    # the order is not specified.
    inputs = {"a": 16.0, "b": 10.0, "c": 6.0}
    assert len(log) == (6 if path == "general" else 3)
    if path == "general":
        assert log[:3] == [("z", 1.0), ("s", 2.0), ("m", 2.0)]
    assert sorted(log[-3:]) == sorted(inputs.items())
    assert (a.grad, b.grad, c.grad) == (16.0, 10.0, 6.0)
    assert general == ([z] if path == "general" else [])
    first = list(log)
    log.clear()
    z.backward()
    assert log == first  # the same order on the next pass over the same graph


def test_a_node_read_several_times_is_called_once_with_the_sum() -> None:
    x = Value(3.0, label="x")
    y = x * x
    z = y * y + y
    log: Log = []
    y.register_hook(recorder(log, "y"))
    x.register_hook(recorder(log, "x"))
    z.backward()
    # y = 9: ȳ = 2y + 1 = 19 (three reads: y·y and + y), x̄ = ȳ·2x = 114; x is read twice
    assert log == [("y", 19.0), ("x", 114.0)]
    assert (y.grad, x.grad) == (19.0, 114.0)


@pytest.mark.parametrize(("build", "expected"), [
    (lambda x: x * x + x, 7.0),               # 2x + 1 at x = 3
    (lambda x: total([x, x, x]), 3.0),        # three reads by one variadic node
    (lambda x: dot([x, x], [x, 2.0], x), 9.0),  # x² + 2x + x: 2x + 3
])
def test_an_input_read_several_times_is_called_once_with_the_sum(
        build: Callable[[Value], Value], expected: float) -> None:
    x = Value(3.0, label="x")
    log: Log = []
    x.register_hook(recorder(log, "x"))
    build(x).backward()
    assert log == [("x", expected)]
    assert x.grad == expected


# ---------------------------------------------------------------------------------------------
# What a hook's result does
# ---------------------------------------------------------------------------------------------


def test_an_interior_hook_s_result_flows_on_and_is_its_grad() -> None:
    x = Value(3.0)
    y = x * x
    z = 3 * y
    y.register_hook(lambda g: 10.0)
    z.backward()
    # without the hook ȳ = 3 and x̄ = 18; with it ȳ = 10 and x̄ = 10·2x = 60
    assert (z.grad, y.grad, x.grad) == (1.0, 10.0, 60.0)


def test_an_input_hook_s_result_is_added_to_the_grad_it_had() -> None:
    x = Value(3.0)
    x.grad = 5.0
    log: Log = []
    x.register_hook(recorder(log, "x", lambda g: 100.0))
    (x * x).backward()
    assert log == [("x", 6.0)]  # this pass's share, 2x = 6, not 5 + 6
    assert x.grad == 105.0  # 5 + the hook's 100


@pytest.mark.parametrize(("result", "expected"), [(3, 3.0), (Fraction(1, 4), 0.25)])
def test_a_hook_may_return_any_real_number(result: Any, expected: float) -> None:
    x = Value(3.0)
    y = x * 2
    x.register_hook(lambda g: result)
    y.register_hook(lambda g: result)
    y.backward()
    # ȳ becomes the number, and x̄ = 2·ȳ is replaced by it as well
    assert type(x.grad) is float
    assert (y.grad, x.grad) == (expected, expected)


@pytest.mark.parametrize("path", ["fast", "general"])
def test_an_input_s_grad_accumulates_and_its_hook_sees_each_pass_s_share(
        path: str, general: list[Value]) -> None:
    x = Value(3.0, label="x")
    z = x * x
    log: Log = []
    x.register_hook(recorder(log, "x", double))
    if path == "general":
        z.register_hook(lambda g: None)
    z.backward()
    assert x.grad == 12.0  # 2·(2x) = 12
    z.backward()
    assert log == [("x", 6.0), ("x", 6.0)]  # each pass's 2x = 6, not the accumulated 12
    assert x.grad == 24.0  # 12 + 12
    assert general == ([z, z] if path == "general" else [])


# ---------------------------------------------------------------------------------------------
# The root and the seed
# ---------------------------------------------------------------------------------------------


def test_the_root_s_hook_gets_the_seed() -> None:
    x = Value(3.0)
    z = x * x
    log: Log = []
    z.register_hook(recorder(log, "z"))
    z.backward()
    assert (log, x.grad) == ([("z", 1.0)], 6.0)  # x̄ = 2x·1
    z.zero_grad()
    z.backward(2.5)
    assert (log[-1], x.grad) == (("z", 2.5), 15.0)  # x̄ = 2x·2.5


def test_the_root_s_hook_can_replace_the_seed() -> None:
    x = Value(3.0)
    z = x * x
    z.register_hook(lambda g: 5 * g)
    z.backward()
    assert (z.grad, x.grad) == (5.0, 30.0)  # z̄ = 5·1, x̄ = 2x·5


def test_an_input_as_the_root_passes_the_seed_through_its_hook(general: list[Value]) -> None:
    x = Value(3.0)
    log: Log = []
    x.register_hook(recorder(log, "x", lambda g: 3 * g))
    x.backward(2.0)
    assert (log, x.grad) == ([("x", 2.0)], 6.0)  # ∂x/∂x·2 = 2, tripled
    x.backward()
    assert (log[-1], x.grad) == (("x", 1.0), 9.0)  # 6 + 3·1
    assert general == [x, x]


# ---------------------------------------------------------------------------------------------
# create_graph: hooks on Values, differentiated again
# ---------------------------------------------------------------------------------------------


def test_create_graph_an_input_hook_that_doubles_is_differentiated_again() -> None:
    x = Value(2.0)
    seen: list[Any] = []

    def hook(g: Any) -> Any:
        seen.append(g)
        return 2 * g

    x.register_hook(hook)
    (x ** 3).backward(create_graph=True)
    assert isinstance(seen[0], Value)
    assert seen[0].data == 12.0
    g = x.grad
    assert isinstance(g, Value)
    assert g.data == 24.0
    x.zero_grad()
    g.backward()
    # d(6x²)/dx = 12x = 24 (a float: this pass records nothing), and x's hook doubles this
    # pass's share too: 48
    assert seen[1] == 24.0
    assert x.grad == 48.0


@pytest.mark.parametrize("keep", [False, True], ids=["hook-removed", "hook-kept"])
def test_create_graph_an_interior_hook_that_doubles_is_differentiated_again(
        keep: bool) -> None:
    x = Value(2.0)
    y = x * x
    log: Log = []
    handle = y.register_hook(recorder(log, "y", double))
    z = y * y
    z.backward(create_graph=True)
    # y = x² = 4: ȳ = 2y = 8, doubled 16, x̄ = 16·2x = 64, that is G = 2·(2y)·2x = 8xy = 8x³
    assert log == [("y", 8.0)]
    g = x.grad
    assert isinstance(g, Value)
    assert g.data == 64.0
    x.zero_grad()
    if not keep:
        handle.remove()
    g.backward()
    if keep:
        # G = 8xy reads y, so y's hook runs in this pass too: it gets ∂G/∂y = 8x = 16 and
        # doubles it to 32, which reaches x through y = x² as 32·2x = 128; with ∂G/∂x at y
        # fixed, 8y = 32: dG/dx = 160
        assert log == [("y", 8.0), ("y", 16.0)]
        assert x.grad == 160.0
    else:
        assert log == [("y", 8.0)]
        assert x.grad == 96.0  # d(8x³)/dx = 24x² = 96


def test_create_graph_every_hook_gets_a_value() -> None:
    x = Value(3.0)
    y = x * x
    z = y + 1
    seen: list[Any] = []
    for v in (x, y, z):
        v.register_hook(seen.append)
    z.backward(create_graph=True)
    assert [number(g) for g in seen] == [1.0, 1.0, 6.0]  # z̄ = 1, ȳ = 1, x̄ = 2x
    assert all(isinstance(g, Value) for g in seen)


# ---------------------------------------------------------------------------------------------
# stop_gradient
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["fast", "general"])
def test_a_node_reached_only_through_stop_gradient_gets_zero(
        path: str, general: list[Value]) -> None:
    x, w = Value(2.0, label="x"), Value(5.0, label="w")
    r = w * w
    s = stop_gradient(r)
    z = x * s
    log: Log = []
    x.register_hook(recorder(log, "x"))
    w.register_hook(recorder(log, "w"))
    if path == "general":
        r.register_hook(recorder(log, "r"))
        s.register_hook(recorder(log, "s"))
    z.backward()
    # s = r = 25 held fixed: x̄ = s = 25; s̄ = x = 2, but nothing passes back through s:
    # r gets no adjoint, so its hook is not called (as PyTorch calls no hook on a tensor
    # that no gradient reaches), and the input w gets 0 (on both paths alike)
    expected = {"x": 25.0, "w": 0.0} | ({"s": 2.0} if path == "general" else {})
    assert dict(log) == expected
    assert len(log) == len(expected)
    assert (x.grad, w.grad) == (25.0, 0.0)
    assert general == ([z] if path == "general" else [])


@pytest.mark.parametrize("hook", [lambda g: None, lambda g: g * 1.0, lambda g: 5.0])
def test_a_hook_below_stop_gradient_changes_nothing(hook: Callable[[Any], Any]) -> None:
    x = Value(0.0)
    r = x.sqrt()  # sqrt′(0) = inf
    z = x + stop_gradient(r)
    r.register_hook(hook)  # not called: no gradient reaches r
    z.backward()
    assert x.grad == 1.0  # ∂z/∂x = 1: the stopped branch passes nothing back


def test_without_the_hook_the_stopped_branch_passes_nothing_back() -> None:
    # the companion of the test above: the same graph, the fast pass, and an input hook
    x = Value(0.0)
    z = x + stop_gradient(x.sqrt())
    log: Log = []
    x.register_hook(recorder(log, "x"))
    z.backward()
    assert (log, x.grad) == ([("x", 1.0)], 1.0)


# ---------------------------------------------------------------------------------------------
# Removing hooks
# ---------------------------------------------------------------------------------------------


def test_a_removed_hook_is_not_called_and_removing_twice_is_harmless(
        general: list[Value]) -> None:
    x, y, _, w = chain()
    log: Log = []
    hx = x.register_hook(recorder(log, "x", double))
    hy = y.register_hook(recorder(log, "y"))
    assert isinstance(hx, RemovableHandle)
    w.backward()
    assert log == [("y", 12.0), ("x", 24.0)]
    assert x.grad == 48.0
    hx.remove()
    hy.remove()
    hx.remove()  # again: nothing happens
    hy.remove()
    w.backward()
    assert log == [("y", 12.0), ("x", 24.0)]  # no new calls
    assert x.grad == 48.0 + 24.0  # the plain x̄ added
    assert general == [w]  # the second pass, with no hook left, took the fast pass


def test_the_handle_is_a_context_manager_that_removes_the_hook() -> None:
    x, y, _, w = chain()
    log: Log = []
    with y.register_hook(recorder(log, "y", double)) as handle:
        assert isinstance(handle, RemovableHandle)
        assert len(engine._INTERIOR_HOOKS) == 1
        w.backward()
    assert log == [("y", 12.0)]
    assert x.grad == 48.0
    assert not engine._INTERIOR_HOOKS
    w.backward()
    assert log == [("y", 12.0)]
    assert x.grad == 48.0 + 24.0


def test_a_hook_can_remove_itself_during_a_pass() -> None:
    x, y, _, w = chain()
    log: Log = []
    handles: list[RemovableHandle] = []

    def once(g: Any) -> Any:
        log.append(("y", number(g)))
        handles[0].remove()
        return 0.0

    handles.append(y.register_hook(once))
    after = y.register_hook(recorder(log, "after"))  # still runs in the pass that removed once
    w.backward()
    assert log == [("y", 12.0), ("after", 0.0)]
    assert x.grad == 0.0
    w.backward()
    assert log[-1] == ("after", 12.0)
    assert x.grad == 24.0
    after.remove()


def test_the_registry_of_interior_hooks_empties_when_the_last_is_removed(
        general: list[Value]) -> None:
    x, y, z, w = chain()
    x.register_hook(lambda g: None)  # an input's hooks are not in the registry
    assert not engine._INTERIOR_HOOKS
    h1 = y.register_hook(lambda g: None)
    h2 = y.register_hook(lambda g: None)
    h3 = z.register_hook(lambda g: None)
    assert len(engine._INTERIOR_HOOKS) == 2  # one entry per node with hooks
    h1.remove()
    h3.remove()
    assert len(engine._INTERIOR_HOOKS) == 1  # y keeps h2
    w.backward()
    assert general == [w]
    h2.remove()
    assert not engine._INTERIOR_HOOKS
    w.backward()
    assert general == [w]  # the fast pass again
    assert x.grad == 48.0  # 24 + 24
    log: Log = []
    h4 = y.register_hook(recorder(log, "y"))  # registered again after all were removed
    w.backward()
    assert log == [("y", 12.0)]
    assert general == [w, w]
    h4.remove()


def test_neither_the_handle_nor_the_registry_keeps_a_graph_alive() -> None:
    enabled = gc.isenabled()
    gc.disable()  # so that only reference counting can free the graph
    try:
        x = Value(3.0)
        y = x * x
        z = y + 1
        handle = y.register_hook(module_hook)  # a module function: no cycle through y
        MODULE_LOG.clear()
        z.backward()  # a pass leaves no reference behind either
        assert MODULE_LOG == [1.0]  # ȳ = 1
        assert len(engine._INTERIOR_HOOKS) == 1
        del y, z
        assert not engine._INTERIOR_HOOKS  # freed by refcounting, its hooks with it
        handle.remove()  # of a node that is gone: nothing happens
        with general_sweeps() as swept:
            (x * x).backward()
        assert swept == []  # nothing left to send backward() to the general sweep
        assert x.grad == 6.0 + 6.0  # 2x, twice
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------
# Copies, pickles and groups
# ---------------------------------------------------------------------------------------------


def graph_with_module_hooks() -> tuple[Value, Value]:
    with group("block"):
        x = Value(3.0, label="x")
        y = x * x
    x.register_hook(module_hook)
    y.register_hook(module_hook)
    return x, y


def test_deepcopy_drops_hooks_and_keeps_the_group() -> None:
    x, y = graph_with_module_hooks()
    c = copy.deepcopy(y)
    MODULE_LOG.clear()
    c.backward()
    assert MODULE_LOG == []  # the copy has no hooks
    assert c.parents[0].grad == 6.0  # 2x
    group_c = group_of(c)
    assert group_c is not None
    assert group_c.name == "block"
    assert len(engine._INTERIOR_HOOKS) == 1  # y's, not the copy's
    y.backward()
    assert MODULE_LOG == [1.0, 6.0]  # the original keeps its hooks: ȳ = 1, then x̄ = 2x
    assert x.grad == 6.0


def test_copy_drops_the_copied_node_s_hooks_only() -> None:
    x, y = graph_with_module_hooks()
    MODULE_LOG.clear()
    copy.copy(y).backward()
    assert MODULE_LOG == [6.0]  # the shallow copy shares x, whose hook runs; its own is gone
    (copy.copy(x) * 2).backward()
    assert MODULE_LOG == [6.0]  # a copy of x has no hook


def test_pickle_drops_hooks(general: list[Value]) -> None:
    x, y = graph_with_module_hooks()
    lam = x * 3
    lam.register_hook(lambda g: None)  # a lambda: pickle could not write it
    data = pickle.dumps(y)
    pickle.dumps(lam)  # no error: the hooks are left out
    del x, y, lam  # no cycles: refcounting frees them and their hooks
    assert not engine._INTERIOR_HOOKS
    c = pickle.loads(data)
    MODULE_LOG.clear()
    c.backward()
    assert MODULE_LOG == []
    assert c.parents[0].grad == 6.0  # 2x
    assert general == []  # the copy has no interior hook, so the fast pass


def test_set_group_keeps_the_hooks() -> None:
    x = Value(3.0)
    with group("first"):
        y = x * x
    log: Log = []
    y.register_hook(recorder(log, "y", double))
    g = group_of(y)
    assert g is not None
    assert g.name == "first"
    set_group(Group("second"), y)
    g = group_of(y)
    assert g is not None
    assert g.name == "second"
    (y + 1).backward()
    assert log == [("y", 1.0)]
    assert x.grad == 12.0


# ---------------------------------------------------------------------------------------------
# Errors, and exceptions inside hooks
# ---------------------------------------------------------------------------------------------


def test_a_hook_returning_a_str_raises_naming_the_node() -> None:
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    h = y.register_hook(lambda g: "no")
    with pytest.raises(TypeError, match=r"a hook on 'y' returned a str"):
        (y + 1).backward()
    assert x.grad == 0.0
    h.remove()
    u = Value(1.0)
    u.register_hook(lambda g: "no")
    with pytest.raises(TypeError, match=r"a hook on an unlabelled input returned a str"):
        (u * 2).backward()
    assert u.grad == 0.0


def test_a_hook_returning_a_bool_raises_naming_the_op() -> None:
    x = Value(1.0)
    m = x * 2
    m.register_hook(lambda g: True)
    with pytest.raises(TypeError, match=r"a hook on the mul node returned a bool"):
        (m * 2).backward()


@pytest.mark.parametrize("c", [constant(2.0), (Value(1.0) * 2).parents[1]],
                         ids=["constant", "a number in an expression"])
def test_register_hook_on_a_constant_raises(c: Value) -> None:
    assert c.op == "const"
    with pytest.raises(RuntimeError, match=r"register_hook on a constant"):
        c.register_hook(lambda g: None)


def test_register_hook_with_something_not_callable_raises() -> None:
    with pytest.raises(TypeError, match=r"a hook must be callable, not int"):
        Value(1.0).register_hook(3)  # type: ignore[arg-type]


def test_an_exception_in_an_input_hook_on_the_fast_pass_leaves_the_grads(
        general: list[Value]) -> None:
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    z = a * b
    z.backward()
    assert (a.grad, b.grad) == (3.0, 2.0)  # ā = b, b̄ = a
    a.register_hook(lambda g: 100.0)
    hb = b.register_hook(explode)
    with pytest.raises(BoomError):
        z.backward()
    assert (a.grad, b.grad) == (3.0, 2.0)  # as before the call, whichever hook ran first
    hb.remove()
    z.backward()
    assert (a.grad, b.grad) == (103.0, 4.0)  # 3 + the hook's 100; 2 + a
    assert general == []


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("where", ["interior", "input"])
def test_an_exception_in_a_hook_on_the_general_sweep_leaves_the_grads(
        where: str, create_graph: bool) -> None:
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    m = a * b
    z = m + a
    z.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)  # ā = b + 1, b̄ = a
    noop = m.register_hook(lambda g: None)  # the general sweep in both cases
    handle = (m if where == "interior" else b).register_hook(explode)
    with pytest.raises(BoomError):
        z.backward(create_graph=create_graph)
    assert (a.grad, b.grad) == (4.0, 2.0)
    assert type(a.grad) is float
    assert type(b.grad) is float
    handle.remove()
    noop.remove()
    z.backward()
    assert (a.grad, b.grad) == (8.0, 4.0)  # the next pass is exactly right


def test_anomaly_mode_names_a_hook_that_makes_a_nan() -> None:
    with detect_anomaly():
        x = Value(3.0, label="x")
        y = x * x
        y.label = "y"
        h = y.register_hook(lambda g: math.nan)
        with pytest.raises(AnomalyError, match=r"a hook on 'y' turned its gradient 1\.0 "):
            (y + 1).backward()  # ȳ = 1
        h.remove()
        x.register_hook(lambda g: math.nan)
        with pytest.raises(AnomalyError, match=r"a hook on 'x' turned its gradient 6\.0 "):
            y.backward()  # x̄ = 2x = 6
    assert x.grad == 0.0


# ---------------------------------------------------------------------------------------------
# Where hooks do not run, and a graph computed under no_grad
# ---------------------------------------------------------------------------------------------


def test_the_function_transforms_and_the_trace_do_not_call_hooks() -> None:
    log: Log = []

    def f(x: Value) -> Value:
        y = x * x
        y.register_hook(recorder(log, "y", lambda g: 100.0))
        return y * 3

    x = Value(2.0)
    x.register_hook(recorder(log, "x", lambda g: 100.0))
    value, gradient = value_and_grad(f)(x)
    assert (number(value), number(gradient)) == (12.0, 12.0)  # 3x² = 12, 6x = 12
    trace(f(x))
    assert log == []
    assert x.grad == 0.0


def test_a_leaf_computed_under_no_grad_keeps_its_hooks_and_its_kind() -> None:
    x = Value(3.0)
    with no_grad():
        c = x * 2  # 6, a leaf with no graph
    log: Log = []
    c.register_hook(recorder(log, "c"))
    with pytest.raises(RuntimeError, match=r"computed under no_grad"):
        c.backward()
    with pytest.raises(RuntimeError, match=r"computed under no_grad"):
        copy.deepcopy(c).backward()
    (c * x).backward()
    assert log == [("c", 3.0)]  # ∂(c·x)/∂c = x
    assert (c.grad, x.grad) == (3.0, 6.0)  # ∂/∂x = c, with c held fixed


# ---------------------------------------------------------------------------------------------
# backward() inside a hook
# ---------------------------------------------------------------------------------------------


def test_backward_inside_an_interior_hook_works() -> None:
    a, w = Value(2.0), Value(5.0)
    y = a * a
    y.register_hook(lambda g: (w * w).backward())
    (y * 1.0).backward()
    assert (a.grad, w.grad) == (4.0, 10.0)  # 2a, 2w


def nested(make: Callable[[float], Any], grad_mode: Callable[[], Any], shared: bool,
           force_general: bool = False) -> tuple[float, float]:
    """a = 2 and w = 5; a's hook calls backward() once, on w·w (another graph) or on a·w (a
    graph that reads a too), during the backward() of a·a. Returns a's and w's grads."""
    a, w = make(2.0), make(5.0)
    calls: list[float] = []

    def hook(g: Any) -> None:
        if not calls:  # the inner pass meets this hook too, when it reads a
            calls.append(number(g))
            with grad_mode():
                (a * w if shared else w * w).backward()

    a.register_hook(hook)
    z = a * a
    if force_general:
        z.register_hook(lambda g: None)
    z.backward()
    assert calls == [4.0]  # the outer pass's 2a
    return number(a.grad), number(w.grad)


@pytest.mark.parametrize("path", ["fast", "general"])
def test_backward_inside_an_input_hook_on_another_graph(path: str, general: list[Value]) -> None:
    grads = nested(Value, contextlib.nullcontext, shared=False, force_general=path == "general")
    assert grads == (4.0, 10.0)  # 2a from the outer pass, 2w from the inner one
    assert len(general) == (2 if path == "general" else 0)


@pytest.mark.parametrize("path", [
    "fast",
    "general",
])
def test_backward_inside_an_input_hook_on_a_graph_that_shares_the_input(
        path: str, general: list[Value]) -> None:
    grads = nested(Value, contextlib.nullcontext, shared=True, force_general=path == "general")
    # the inner pass adds ∂(aw)/∂a = w = 5 to a.grad and a = 2 to w.grad; the outer one adds
    # 2a = 4 to a.grad: 9 and 2
    assert grads == (9.0, 2.0)
    assert len(general) == (2 if path == "general" else 0)


# ---------------------------------------------------------------------------------------------
# The fast pass and the general sweep agree
# ---------------------------------------------------------------------------------------------


def close(a: Sequence[float], b: Sequence[float]) -> bool:
    """Equal up to rounding: the two ways add a node's shares in different orders (see
    test_fast_and_general_add_shares_in_the_same_order)."""
    return len(a) == len(b) and all(
        math.isclose(p, q, rel_tol=1e-9, abs_tol=1e-12) for p, q in zip(a, b, strict=True))


def run_both_ways(build: Callable[[Sequence[Value]], tuple[Value, list[Value]]],
                  point: Sequence[float], exact: bool = True,
                  ) -> tuple[list[float], list[float]]:
    """Build the graph twice at ``point``, each time with the same hooks on the inputs (the
    first doubles, the others record), and the second time also a no-op hook on every
    interior node; check that the first backward() took the fast pass and the second the
    general sweep, and that both gave the same grads, interior ones too, and the same calls
    to the input hooks (``exact``: to the bit; else up to rounding). Returns the inputs' and
    the interior nodes' grads."""
    results = []
    with general_sweeps() as swept:
        for interior in (False, True):
            xs = [Value(p, label=f"x{i}") for i, p in enumerate(point)]
            log: Log = []
            for i, x in enumerate(xs):
                x.register_hook(recorder(log, x.label or "", double if i == 0 else None))
            out, nodes = build(xs)
            handles = ([v.register_hook(recorder(log, "interior")) for v in nodes]
                       if interior else [])
            out.backward()
            assert swept == ([out] if interior else [])
            if interior:  # every interior hook once, and before any input's
                names = [name for name, _ in log]
                assert names == sorted(names, key=lambda n: n != "interior")
                assert names.count("interior") == len(nodes)
            calls = sorted(entry for entry in log if entry[0] != "interior")
            assert len({name for name, _ in calls}) == len(calls)  # each input at most once
            results.append(([x.grad for x in xs], [v.grad for v in nodes], calls))
            for h in handles:
                h.remove()
    (fast_inputs, fast_nodes, fast_calls), (gen_inputs, gen_nodes, gen_calls) = results
    assert [name for name, _ in fast_calls] == [name for name, _ in gen_calls]
    fast_seen, gen_seen = [g for _, g in fast_calls], [g for _, g in gen_calls]
    if exact:
        assert (fast_inputs, fast_nodes, fast_seen) == (gen_inputs, gen_nodes, gen_seen)
    else:
        assert close(fast_inputs, gen_inputs)
        assert close(fast_nodes, gen_nodes)
        assert close(fast_seen, gen_seen)
    return fast_inputs, fast_nodes


def neuron(xs: Sequence[Value]) -> tuple[Value, list[Value]]:
    x1, x2, w1, w2, b = xs
    n = w1 * x1 + w2 * x2 + b
    t = n.tanh()
    e = (x1 * x2).exp()
    out = t * x1 + e
    return out, [n, t, e, out]


def shared(xs: Sequence[Value]) -> tuple[Value, list[Value]]:
    (x,) = xs
    y = x * x
    z = y * y + y
    t = z.log() * y + x
    return t, [y, z, t]


def variadic(xs: Sequence[Value]) -> tuple[Value, list[Value]]:
    x, y = xs
    p = x * y
    s = total([x, y, p])
    d = dot([x, y], [y, x], 1.0)
    out = s * d
    return out, [p, s, d, out]


def test_fast_and_general_agree_on_a_neuron() -> None:
    grads, _ = run_both_ways(neuron, (0.5, -1.5, 0.8, -0.3, 0.1))
    x1, x2, w1, w2, b = 0.5, -1.5, 0.8, -0.3, 0.1
    t = math.tanh(w1 * x1 + w2 * x2 + b)
    dt = 1 - t * t
    e = math.exp(x1 * x2)
    # out = t·x1 + e^(x1·x2): ∂/∂x1 = dt·w1·x1 + t + x2·e (doubled by x1's hook),
    # ∂/∂x2 = dt·w2·x1 + x1·e, ∂/∂w1 = dt·x1·x1, ∂/∂w2 = dt·x2·x1, ∂/∂b = dt·x1
    expected = [2 * (dt * w1 * x1 + t + x2 * e), dt * w2 * x1 + x1 * e,
                dt * x1 * x1, dt * x2 * x1, dt * x1]
    assert all(math.isclose(g, h, rel_tol=1e-12) for g, h in zip(grads, expected, strict=True))


def test_fast_and_general_agree_on_shared_nodes() -> None:
    grads, (y_bar, z_bar, _) = run_both_ways(shared, (1.5,))
    x = 1.5
    y = x * x
    z = y * y + y
    # t = log(z)·y + x: z̄ = y/z, ȳ = log z + z̄·(2y + 1), x̄ = 2x·ȳ + 1, doubled by the hook
    assert math.isclose(z_bar, y / z, rel_tol=1e-12)
    assert math.isclose(y_bar, math.log(z) + y / z * (2 * y + 1), rel_tol=1e-12)
    assert math.isclose(grads[0], 2 * (2 * x * y_bar + 1), rel_tol=1e-12)


def test_fast_and_general_agree_on_variadic_nodes() -> None:
    grads, _ = run_both_ways(variadic, (2.0, 3.0))
    # s = x + y + xy = 11, d = 2xy + 1 = 13, out = s·d:
    # ∂/∂x = (1 + y)·d + s·2y = 52 + 66 = 118 (doubled: 236); ∂/∂y = (1 + x)·d + s·2x = 83
    assert grads == [236.0, 83.0]


def program_graph(program: Program) -> Callable[[Sequence[Value]], tuple[Value, list[Value]]]:
    def build(xs: Sequence[Value]) -> tuple[Value, list[Value]]:
        nodes: list[Value] = []

        def apply(op: str, *args: Any) -> Value:
            v = apply_rule(RULES[op], *args)
            nodes.append(v)
            return v

        out = program.evaluate(list(xs), apply, const=lambda c: c)
        return out, nodes

    return build


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_fast_and_general_agree_on_random_dags(data: st.DataObject) -> None:
    program = data.draw(dags(n_inputs=data.draw(st.integers(1, 3)), max_ops=10))
    point = data.draw(points(program, sympy=False))
    run_both_ways(program_graph(program), point, exact=False)


def test_fast_and_general_agree_up_to_rounding_where_they_add_in_other_orders() -> None:
    # NOTE: the fast pass and the general sweep add a node's shares in different orders, so
    # a grad may differ in its last bit, as a sum of floats in another order does
    def build(xs: Sequence[Value]) -> tuple[Value, list[Value]]:
        (x,) = xs
        b, c = x + x, x + x
        d = dot([c], [b], c)  # c·b + c
        out = d * 2.6e-16
        return out, [b, c, d, out]

    grads, _ = run_both_ways(build, (1.0,), exact=False)  # compares the two, up to rounding
    # s = 2.6e-16: b̄ = c·s = 2s, c̄ = (b + 1)·s = 3s, x̄ = 2·b̄ + 2·c̄ = 10s (doubled: 20s),
    # which the two ways round differently as ((2s + 2s) + 3s) + 3s and ((3s + 3s) + 2s) + 2s
    assert math.isclose(grads[0], 20 * 2.6e-16, rel_tol=1e-15)


# ---------------------------------------------------------------------------------------------
# Against PyTorch (skipped without it; CI has no torch)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


class Ours:
    """How a scenario makes inputs and runs backward() in autograd_mini."""

    def leaf(self, x: float) -> Any:
        return Value(x)

    def keep(self, v: Any) -> None:
        """Keep an interior node's grad: every node's is kept here."""

    def backward(self, root: Any, seed: float | None = None, create_graph: bool = False) -> None:
        root.backward(1.0 if seed is None else seed, create_graph=create_graph)

    def clear(self, x: Any) -> None:
        x.zero_grad()


class Torch:
    """The same in PyTorch: float64 0-d tensors, retain_grad for interior grads."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch

    def leaf(self, x: float) -> Any:
        return self.torch.tensor(x, dtype=self.torch.float64, requires_grad=True)

    def keep(self, v: Any) -> None:
        v.retain_grad()  # PyTorch ≥ 2.0 runs it after the hooks: .grad is their result

    def backward(self, root: Any, seed: float | None = None, create_graph: bool = False) -> None:
        s = None if seed is None else self.torch.tensor(seed, dtype=self.torch.float64)
        root.backward(s, create_graph=create_graph)

    def clear(self, x: Any) -> None:
        x.grad = None


Backend = Ours | Torch
Outcome = tuple[Log, dict[str, float]]


def chain_scenario(be: Backend) -> Outcome:
    x = be.leaf(3.0)
    y = x * 2
    z = y * y
    w = z + 1
    log: Log = []
    for v in (w, z, y):
        be.keep(v)
    x.register_hook(recorder(log, "x"))
    y.register_hook(recorder(log, "y", double))
    z.register_hook(recorder(log, "z"))
    w.register_hook(recorder(log, "w"))
    be.backward(w)
    return log, {"w": number(w.grad), "z": number(z.grad), "y": number(y.grad),
                 "x": number(x.grad)}


def several_scenario(be: Backend) -> Outcome:
    x = be.leaf(3.0)
    y = x * 2
    z = y * y
    be.keep(y)
    log: Log = []
    y.register_hook(recorder(log, "y1"))
    y.register_hook(lambda g: g + 1)
    y.register_hook(recorder(log, "y2"))
    y.register_hook(lambda g: 3 * g)
    y.register_hook(recorder(log, "y3"))
    x.register_hook(recorder(log, "x1"))
    x.register_hook(lambda g: 10 * g)
    x.register_hook(recorder(log, "x2"))
    x.register_hook(lambda g: g - 1)
    be.backward(z)
    return log, {"y": number(y.grad), "x": number(x.grad)}


def read_twice_scenario(be: Backend) -> Outcome:
    x = be.leaf(3.0)
    y = x * x
    z = y * y + y
    be.keep(y)
    log: Log = []
    y.register_hook(recorder(log, "y", lambda g: g + 1))
    x.register_hook(recorder(log, "x"))
    be.backward(z)
    return log, {"y": number(y.grad), "x": number(x.grad)}


def accumulate_scenario(be: Backend) -> Outcome:
    x = be.leaf(3.0)
    log: Log = []
    x.register_hook(recorder(log, "x", double))
    grads = {}
    for k in (1, 2):
        be.backward(x * x)  # a new graph each pass, as PyTorch frees the last one
        grads[f"x after {k}"] = number(x.grad)
    return log, grads


def seed_scenario(be: Backend) -> Outcome:
    x = be.leaf(3.0)
    z = x * x
    be.keep(z)
    log: Log = []
    z.register_hook(recorder(log, "z", lambda g: 5 * g))
    x.register_hook(recorder(log, "x"))
    be.backward(z, seed=2.0)
    return log, {"z": number(z.grad), "x": number(x.grad)}


def leaf_root_scenario(be: Backend) -> Outcome:
    x = be.leaf(3.0)
    log: Log = []
    x.register_hook(recorder(log, "x", lambda g: 3 * g))
    be.backward(x, seed=2.0)
    return log, {"x": number(x.grad)}


def second_order_interior_scenario(be: Backend) -> Outcome:
    x = be.leaf(2.0)
    y = x * x
    log: Log = []
    y.register_hook(recorder(log, "y", double))
    be.backward(y * y, create_graph=True)
    g = x.grad
    first = number(g)
    be.clear(x)
    be.backward(g)
    return log, {"first": first, "second": number(x.grad)}


def second_order_input_scenario(be: Backend) -> Outcome:
    x = be.leaf(2.0)
    log: Log = []
    x.register_hook(recorder(log, "x", double))
    be.backward(x ** 3, create_graph=True)
    g = x.grad
    first = number(g)
    be.clear(x)
    be.backward(g)
    return log, {"first": first, "second": number(x.grad)}


SCENARIOS: list[tuple[Callable[[Backend], Outcome], Outcome]] = [
    # x = 3, y = 2x = 6, z = y² = 36, w = z + 1: w̄ = z̄ = 1, ȳ = 2y = 12 doubled to 24,
    # x̄ = 2·24 = 48; the input's hook last
    (chain_scenario, ([("w", 1.0), ("z", 1.0), ("y", 12.0), ("x", 48.0)],
                      {"w": 1.0, "z": 1.0, "y": 24.0, "x": 48.0})),
    # ȳ = 12 → 13 → 39; x̄ = 2·39 = 78 → 780 → 779
    (several_scenario, ([("y1", 12.0), ("y2", 13.0), ("y3", 39.0), ("x1", 78.0),
                         ("x2", 780.0)], {"y": 39.0, "x": 779.0})),
    # y = 9: ȳ = 2y + 1 = 19, once, → 20; x̄ = 20·2x = 120
    (read_twice_scenario, ([("y", 19.0), ("x", 120.0)], {"y": 20.0, "x": 120.0})),
    # each pass's share is 2x = 6, doubled: 12, then 24
    (accumulate_scenario, ([("x", 6.0), ("x", 6.0)], {"x after 1": 12.0, "x after 2": 24.0})),
    # z̄ = the seed 2, → 10; x̄ = 10·2x = 60
    (seed_scenario, ([("z", 2.0), ("x", 60.0)], {"z": 10.0, "x": 60.0})),
    # ∂x/∂x·2 = 2, tripled
    (leaf_root_scenario, ([("x", 2.0)], {"x": 6.0})),
    # see test_create_graph_an_interior_hook_that_doubles_is_differentiated_again[hook-kept]
    (second_order_interior_scenario, ([("y", 8.0), ("y", 16.0)],
                                      {"first": 64.0, "second": 160.0})),
    # 3x² = 12 doubled to 24; d(6x²)/dx = 12x = 24 doubled to 48
    (second_order_input_scenario, ([("x", 12.0), ("x", 24.0)],
                                   {"first": 24.0, "second": 48.0})),
]


@pytest.mark.parametrize(("shared", "expected"), [(False, (4.0, 10.0)), (True, (9.0, 2.0))],
                         ids=["another graph", "a graph that shares the input"])
def test_backward_inside_an_input_hook_as_pytorch(torch: Any, shared: bool,
                                                  expected: tuple[float, float]) -> None:
    # PyTorch runs hooks with grad mode off (unless create_graph): the inner graph needs it on
    theirs = nested(Torch(torch).leaf, torch.enable_grad, shared=shared)
    ours = nested(Value, contextlib.nullcontext, shared=shared, force_general=True)
    assert theirs == expected  # see the two tests above
    assert ours == theirs


# PyTorch warns that backward(create_graph=True) makes x.grad refer back to x; so it does here
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize(("scenario", "expected"), SCENARIOS,
                         ids=[s.__name__.removesuffix("_scenario") for s, _ in SCENARIOS])
def test_the_same_calls_and_grads_as_pytorch(torch: Any, scenario: Callable[[Backend], Outcome],
                                             expected: Outcome) -> None:
    ours = scenario(Ours())
    theirs = scenario(Torch(torch))
    assert theirs == expected  # the hand-worked numbers are PyTorch's
    assert ours == theirs
