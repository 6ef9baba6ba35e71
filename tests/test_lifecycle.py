"""The life of a graph, as a stateful test: build, backward, backward again, zero, detach.

The property tests elsewhere check one backward pass on a fresh graph. This file checks what
happens *between* passes, where the README's semantics live (section "Semantics"):

* the gradients of inputs accumulate across ``backward()`` calls until ``zero_grad()``, as in
  PyTorch, while every interior adjoint is recomputed from zero on each call: with
  ``z = (x*2)*3``, ``x.grad`` is 6 after one pass and 12 after two, never 18;
* ``v.zero_grad()`` zeroes every gradient in the graph below ``v``, inputs included, and
  nothing else;
* ``backward(create_graph=True)`` leaves a ``Value`` in every ``grad``, whose own graph can
  be differentiated again, and plain ``backward()`` adds floats to it;
* inside ``with no_grad():`` ops return plain leaves that record nothing, so a gradient never
  flows through them to the nodes they were computed from.

:class:`Lifecycle` is a :class:`~hypothesis.stateful.RuleBasedStateMachine`. It starts from
three labelled inputs with fixed data drawn from [−1.5, 1.5], and its rules build nodes from
the inputs and from nodes built before (so diamonds, fan-out and ``a * a`` occur), call
``backward`` on any node with and without ``create_graph``, ``zero_grad`` on any node, build
nodes under ``no_grad`` and differentiate an input's ``grad`` again. Beside every Value the
machine builds the same operation on sympy expressions (one symbol per input); sympy is the
oracle, evaluated with 30 digits, and nothing expected is ever read from the engine. The model
keeps every input's expected accumulated gradient (a number, and the expression it is a value
of, for differentiating it again) and what type its ``grad`` must have; after every step an
invariant compares each input's ``grad`` with it.

What is asserted, and only because engine.py or the README documents it:

* each node's ``data`` is sympy's value;
* after ``r.backward(seed)`` each input's ``grad`` has grown by ``seed · ∂r/∂x`` (x below r)
  and is unchanged otherwise; one interior node below r, drawn at random, holds
  ``seed · ∂r/∂v`` of this pass alone (its adjoint), a float after a plain pass and a Value
  after ``create_graph=True``; every input below r then holds a Value, and a float grad stays
  a float under plain passes;
* two passes on one root after ``zero_grad`` give exactly 1× then 2× the gradient, and the
  interior adjoint is the single one both times;
* after ``v.zero_grad()`` every node below v holds the float 0.0 and inputs elsewhere keep
  theirs;
* a node built under ``no_grad`` has the right value, ``op is None`` and no parents; it then
  serves as an input of its own (a new sympy symbol, with the value sympy gave it), so every
  later pass through it is checked to give nothing to the nodes it came from; and
  ``backward()`` on the node itself raises (it was computed, but no graph was recorded), and
  changes no grad;
* after ``create_graph=True``, ``g = x.grad`` is a Value; with ``x.zero_grad()`` then
  ``g.backward()`` (the docstring's recipe), ``x.grad`` is sympy's ∂g/∂x: the second
  derivative ∂²r/∂x² when g came from one pass on r, and the derivative of the sum when g
  accumulated several (optionally with ``create_graph=True`` again, for a third order).

What is not asserted, because nothing documents it: the grads of interior nodes other than
right after a pass through them or a ``zero_grad`` below them, and which nodes the graph of a
``create_graph`` grad contains (so ``zero_grad`` is never called on such a graph).

Magnitudes are kept tame so that the tolerance can be tight: every value is at most
:data:`BOUND` in magnitude, ``exp`` only meets arguments of at most 2.5, a denominator is at
least 0.25 away from 0, and a node whose sympy tree (shared nodes counted once per use) would
exceed :data:`MAX_TREE` ops is not built, which also keeps sympy fast. A rule whose operands
break a guard adds nothing (``multiple()``), so no example is discarded.

``test_the_machine_catches`` runs the same machine on deliberately broken engines (no
accumulation, interior adjoints that accumulate, a ``zero_grad`` that clears nothing,
``no_grad`` that records, ``create_graph`` ignored) and asserts that each one fails it.

Two engine bugs found on the way are kept at the end as regression tests: the ``repr`` of an
input after ``(x*y).backward(create_graph=True)`` recursed without end (x.grad is y and y.grad
is x), and ``backward(create_graph=True)`` inside ``no_grad()`` accumulated a detached grad.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sympy as sp
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from autograd_mini import Value, engine, is_grad_enabled, no_grad
from autograd_mini._graph import topological_order

DIGITS = 30
#: Largest magnitude of any node's value (the model's, hence the engine's).
BOUND = 10.0
#: Largest sympy tree, in nodes, counting a shared node once per use.
MAX_TREE = 40
#: Smallest magnitude of a denominator, and largest argument of exp.
MIN_DENOMINATOR = 0.25
MAX_EXP_ARGUMENT = 2.5
#: Tolerances of every comparison with the oracle. With the bounds above the adjoints stay below
#: about 1e5, and a float sum of such terms carries an absolute error of a few 1e5 · 2⁻⁵³ ≈ 1e-11
#: when they cancel. Seen over a few thousand runs: relative errors up to 2e-12, absolute errors
#: near 0 up to 1.2e-15.
REL = 1e-9
ABS = 1e-11
SEEDS = (1.0, 2.0, -0.5)


# -- the operations, each on Values and on sympy expressions -----------------------------------


@dataclass(frozen=True)
class Op:
    """One operation: how the engine spells it, how sympy does, and when it is safe."""

    arity: int
    engine: Callable[..., Value]
    oracle: Callable[..., Any]
    #: Whether the operands' (oracle) values are fair game for this op.
    safe: Callable[..., bool] = field(default=lambda *xs: True)


def _apart_from_zero(x: float) -> bool:
    return abs(x) >= MIN_DENOMINATOR


OPS: dict[str, Op] = {
    # two nodes, by Python operators
    "a + b": Op(2, operator.add, operator.add),
    "a - b": Op(2, operator.sub, operator.sub),
    "a * b": Op(2, operator.mul, operator.mul),
    "a / b": Op(2, operator.truediv, operator.truediv, lambda a, b: _apart_from_zero(b)),
    # one node, by Value methods and operators
    "a.sin()": Op(1, lambda a: a.sin(), sp.sin),
    "a.cos()": Op(1, lambda a: a.cos(), sp.cos),
    "a.tanh()": Op(1, lambda a: a.tanh(), sp.tanh),
    "a.exp()": Op(1, lambda a: a.exp(), sp.exp, lambda a: abs(a) <= MAX_EXP_ARGUMENT),
    "a * a": Op(1, lambda a: a * a, lambda a: a * a),
    "-a": Op(1, operator.neg, operator.neg),
    # one node and a Python number, on either side
    "a + 2": Op(1, lambda a: a + 2.0, lambda a: a + 2),
    "1.5 - a": Op(1, lambda a: 1.5 - a, lambda a: sp.Rational(3, 2) - a),
    "-0.5 * a": Op(1, lambda a: -0.5 * a, lambda a: sp.Rational(-1, 2) * a),
    "a / 2": Op(1, lambda a: a / 2.0, lambda a: a / 2),
    "1.5 / a": Op(1, lambda a: 1.5 / a, lambda a: sp.Rational(3, 2) / a, _apart_from_zero),
}
BINARY = sorted(name for name, op in OPS.items() if op.arity == 2)
UNARY = sorted(name for name, op in OPS.items() if op.arity == 1)


@dataclass(eq=False)
class Node:
    """A Value beside its sympy expression and the structure the model knows of it."""

    name: str
    value: Value
    expr: Any  # a sympy expression in the inputs' symbols
    num: Any  # the oracle's value of expr, a sympy Float of DIGITS digits
    op: Op | None = None  # None for an input (a leaf)
    operands: tuple[Node, ...] = ()
    symbol: Any = None  # the input's sympy symbol
    below: frozenset[Node] = frozenset()  # every node below this one, itself included
    size: int = 1  # its sympy tree's size
    index: int = 0  # order of creation, for a repeatable order of draws
    #: ∂expr/∂(input's symbol) and its value, by input, worked out once: the data are fixed.
    partials: dict[Node, tuple[Any, Any]] = field(default_factory=dict)
    #: A leaf that an op computed under no_grad: an input of later graphs, but backward() on
    #: it raises.
    under_no_grad: bool = False

    def __post_init__(self) -> None:
        self.below = frozenset({self}).union(*(o.below for o in self.operands))

    @property
    def is_input(self) -> bool:
        return self.op is None

    @property
    def inputs(self) -> list[Node]:
        """The inputs below this node, by the graph's structure (not by sympy's symbols, which
        cancellation may drop: ``a - a`` is 0 to sympy and still has a below it)."""
        return [n for n in self.below if n.is_input]

    def __repr__(self) -> str:
        return self.name


def grad_number(grad: Any) -> float:
    """A grad's value: the float, or a create_graph Value's data."""
    return float(grad.data if isinstance(grad, Value) else grad)


def close(actual: float, expected: Any) -> bool:
    return math.isclose(actual, float(expected), rel_tol=REL, abs_tol=ABS)


# -- the machine -------------------------------------------------------------------------------


class Lifecycle(RuleBasedStateMachine):
    """Build, backward, zero_grad and no_grad in any order, against a sympy model."""

    inputs = Bundle("inputs")
    nodes = Bundle("nodes")

    def __init__(self) -> None:
        super().__init__()
        self.all_inputs: list[Node] = []
        self.subs: dict[Any, Any] = {}  # symbol → its value, a Float of DIGITS digits
        #: The model: every input's expected grad, as a number and as an expression in the
        #: symbols whose value it is (what differentiating the grad Value again must give).
        self.expected: dict[Node, Any] = {}
        self.expected_expr: dict[Node, Any] = {}
        #: What type each input's grad must have: "float", "value", or "either" (not known).
        self.kind: dict[Node, str] = {}
        self.count = 0

    # -- helpers -------------------------------------------------------------------------------

    def evaluate(self, expr: Any) -> Any:
        return sp.Float(expr.evalf(DIGITS, subs=self.subs), DIGITS)

    def fresh_name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def add_input(self, value: Value, num: Any, name: str) -> Node:
        self.count += 1
        symbol = sp.Symbol(name, real=True)
        self.subs[symbol] = num
        node = Node(name, value, symbol, num, symbol=symbol, index=self.count)
        self.all_inputs.append(node)
        self.expected[node] = sp.Float(0, DIGITS)
        self.expected_expr[node] = sp.Integer(0)
        self.kind[node] = "float"
        return node

    def apply(self, name: str, operands: tuple[Node, ...]) -> tuple[Value, Any, Any] | None:
        """The op on the Values and on the expressions, or None if a guard refuses it."""
        op = OPS[name]
        size = 1 + sum(o.size for o in operands)
        if size > MAX_TREE or not op.safe(*(float(o.num) for o in operands)):
            return None
        expr = op.oracle(*(o.expr for o in operands))
        # the same op on the operands' 30-digit values: sympy evaluates a function of Floats
        num = sp.Float(op.oracle(*(o.num for o in operands)), DIGITS)
        if not abs(num) <= BOUND:
            return None
        value = op.engine(*(o.value for o in operands))
        assert close(value.data, num), f"{name}: data {value.data!r}, sympy {num}"
        return value, expr, num

    def partial(self, node: Node, x: Node) -> tuple[Any, Any]:
        """∂node/∂x, as an expression and as a number, from sympy."""
        if x not in node.partials:
            d = sp.diff(node.expr, x.symbol)
            node.partials[x] = (d, self.evaluate(d))
        return node.partials[x]

    def adjoint(self, root: Node, v: Node) -> Any:
        """∂root/∂v for a node v below root: root's expression rebuilt with v as a symbol t
        (every use of that one node, not of equal expressions), differentiated by sympy."""
        t = sp.Dummy("t", real=True)
        memo: dict[Node, Any] = {}

        def rebuild(n: Node) -> Any:
            if n is v:
                return t
            if v not in n.below:
                return n.expr
            if n not in memo:
                assert n.op is not None
                memo[n] = n.op.oracle(*(rebuild(o) for o in n.operands))
            return memo[n]

        return self.evaluate(sp.diff(rebuild(root), t).subs(t, v.num))

    def zeroed(self, node: Node) -> None:
        """The model after ``node.value.zero_grad()``."""
        for x in node.inputs:
            self.expected[x] = sp.Float(0, DIGITS)
            self.expected_expr[x] = sp.Integer(0)
            self.kind[x] = "float"

    def backward(self, root: Node, seed: float, create_graph: bool) -> bool:
        """``root.value.backward(seed, create_graph=...)``, and the model's side of it; False
        for a root computed under no_grad, where backward() must raise and change nothing."""
        if root.under_no_grad:
            before = {x: x.value.grad for x in self.all_inputs}
            refused: RuntimeError | None = None
            try:
                root.value.backward(seed, create_graph=create_graph)
            except RuntimeError as error:
                refused = error
            assert refused is not None, f"{root}.backward() ran, on a node computed under no_grad"
            assert "no_grad" in str(refused), refused
            for x, grad in before.items():
                assert x.value.grad is grad, f"a refused backward() changed {x}.grad"
            return False
        partials = {x: self.partial(root, x) for x in root.inputs}
        root.value.backward(seed, create_graph=create_graph)
        s = sp.Rational(seed)  # exact: the seeds are binary fractions
        for x, (d, dnum) in partials.items():
            self.expected[x] += s * dnum
            if create_graph:  # the grad is now a graph over the inputs: ∂/∂x of it is d
                self.expected_expr[x] += s * d
                self.kind[x] = "value"
                assert isinstance(x.value.grad, Value), (
                    f"{x} below {root}: grad {x.value.grad!r} after create_graph=True")
            else:  # a float pass adds a float, a constant to any later differentiation
                self.expected_expr[x] += s * dnum
        return True

    def check_interior(self, root: Node, v: Node, seed: float, create_graph: bool) -> None:
        """v's grad right after a pass on root: this pass's adjoint seed·∂root/∂v alone
        (for v = root, the seed itself)."""
        grad = v.value.grad
        if create_graph:
            assert isinstance(grad, Value), f"{v}.grad = {grad!r} after create_graph=True"
        else:
            assert isinstance(grad, float), f"{v}.grad = {grad!r} after a plain pass"
        expected = sp.Rational(seed) * self.adjoint(root, v)
        assert close(grad_number(grad), expected), (
            f"{v}.grad = {grad!r} after {root}.backward({seed}); ∂{root}/∂{v} · seed = "
            f"{expected}")

    # -- rules ---------------------------------------------------------------------------------

    @initialize(targets=(inputs, nodes),
                data=st.lists(st.integers(-1500, 1500).map(lambda k: k / 1000),
                              min_size=3, max_size=3))
    def make_inputs(self, data: list[float]) -> Any:
        made = []
        for label, x in zip("abc", data, strict=True):
            node = self.add_input(Value(x, label=label), sp.Float(x, DIGITS), label)  # exact
            assert node.value.grad == 0.0
            made.append(node)
        return multiple(*made)

    @rule(target=nodes, a=nodes, b=nodes, name=st.sampled_from(BINARY))
    def binary(self, a: Node, b: Node, name: str) -> Any:
        return self.build(name, (a, b))

    @rule(target=nodes, a=nodes, name=st.sampled_from(UNARY))
    def unary(self, a: Node, name: str) -> Any:
        return self.build(name, (a,))

    @rule(target=nodes, a=nodes, b=nodes,
          names=st.lists(st.sampled_from(sorted(OPS)), min_size=2, max_size=6))
    def chain(self, a: Node, b: Node, names: list[str]) -> Any:
        """Several ops in a row, each on the last result and the one before it: a deep graph
        in one step, with a diamond wherever a binary op meets a node twice."""
        made: list[Node] = []
        last, before = a, b
        for name in names:
            node = self.build(name, (last, before)[:OPS[name].arity])
            if isinstance(node, Node):
                made.append(node)
                last, before = node, last
        return multiple(*made)

    def build(self, name: str, operands: tuple[Node, ...]) -> Any:
        made = self.apply(name, operands)
        if made is None:
            return multiple()
        value, expr, num = made
        assert value.op is not None
        assert all(any(p is o.value for p in value.parents) for o in operands)
        return Node(self.fresh_name("n"), value, expr, num, op=OPS[name], operands=operands,
                    size=1 + sum(o.size for o in operands), index=self.count)

    @rule(targets=(inputs, nodes), a=nodes, b=nodes, name=st.sampled_from(sorted(OPS)))
    def detached(self, a: Node, b: Node, name: str) -> Any:
        """An op under no_grad: a plain leaf with the right value, which from now on is an
        input of its own (a new symbol), so no later pass gives its operands anything."""
        operands = (a, b)[:OPS[name].arity]
        with no_grad():
            assert not is_grad_enabled()
            made = self.apply(name, operands)
        assert is_grad_enabled()
        if made is None:
            return multiple()
        value, _, num = made
        assert value.op is None, f"{name} under no_grad recorded op {value.op!r}"
        assert value.parents == ()
        assert type(value.grad) is float
        assert value.grad == 0.0
        before = {x: x.value.grad for x in self.all_inputs}
        node = self.add_input(value, num, self.fresh_name("d"))
        node.under_no_grad = True
        # A pass through the new leaf reaches it and nothing it was computed from.
        value.sin().backward()
        self.expected[node] += self.evaluate(sp.cos(node.symbol))
        self.expected_expr[node] = self.expected[node]
        for x, grad in before.items():
            assert x.value.grad is grad, f"backward through a no_grad leaf changed {x}.grad"
        return multiple(node)

    def draw_probe(self, data: st.DataObject, root: Node) -> Node | None:
        """An interior node below root (root itself included), or None if it has none."""
        interior = sorted((v for v in root.below if not v.is_input), key=lambda v: v.index)
        return data.draw(st.sampled_from(interior), label="probe") if interior else None

    @rule(root=nodes, data=st.data(), seed=st.sampled_from(SEEDS), create_graph=st.booleans())
    def backward_once(self, root: Node, data: st.DataObject, seed: float,
                      create_graph: bool) -> None:
        probe = self.draw_probe(data, root)
        if self.backward(root, seed, create_graph) and probe is not None:
            self.check_interior(root, probe, seed, create_graph)

    @rule(root=nodes, data=st.data(), create_graph=st.booleans())
    def backward_twice(self, root: Node, data: st.DataObject, create_graph: bool) -> None:
        """The README's z = (x*2)*3 on any graph: 1× then 2× the gradient, never more, and
        the interior adjoint of the latest pass alone."""
        probe = self.draw_probe(data, root)
        root.value.zero_grad()
        self.zeroed(root)
        for times in (1, 2):
            if not self.backward(root, 1.0, create_graph):
                return
            for x in root.inputs:
                _, dnum = self.partial(root, x)
                assert close(grad_number(x.value.grad), times * dnum), (
                    f"pass {times} on {root}: {x}.grad = {x.value.grad!r}, expected "
                    f"{times} · {dnum}")
            if probe is not None:
                self.check_interior(root, probe, 1.0, create_graph)

    @rule(node=nodes)
    def zero_grad(self, node: Node) -> None:
        node.value.zero_grad()
        self.zeroed(node)
        for v in node.below:  # interior nodes included: "every gradient in the graph below v"
            grad = v.value.grad
            assert type(grad) is float, f"{v}.grad = {grad!r} after zero_grad"
            assert grad == 0.0, f"{v}.grad = {grad!r} after zero_grad"

    @precondition(lambda self: "value" in self.kind.values())
    @rule(data=st.data(), create_graph=st.booleans())
    def differentiate_a_grad(self, data: st.DataObject, create_graph: bool) -> None:
        """x.grad after create_graph is a Value g; x.zero_grad(), then g.backward(): x.grad
        is ∂g/∂x, the second derivative, and every other input has grown by its ∂g/∂·."""
        x = data.draw(st.sampled_from([v for v in self.all_inputs if self.kind[v] == "value"]),
                      label="x")
        g = x.value.grad
        assert isinstance(g, Value), f"{x}.grad = {g!r}, a Value after create_graph=True"
        g_expr = self.expected_expr[x]
        x.value.zero_grad()
        self.zeroed(x)
        partials = {y: sp.diff(g_expr, y.symbol) for y in self.all_inputs}
        g.backward(create_graph=create_graph)
        for y, d in partials.items():
            dnum = self.evaluate(d)
            self.expected[y] += dnum
            self.expected_expr[y] += d if create_graph else dnum
            if create_graph and self.kind[y] != "value":
                # y is in g's graph when g depends on it; otherwise its grad may stay a float
                self.kind[y] = "value" if d.free_symbols else "either"
        assert close(grad_number(x.value.grad), self.expected[x]), (
            f"{x}.grad = {x.value.grad!r} after {x}.grad.backward(); sympy's ∂/∂{x} of "
            f"{g_expr} is {self.expected[x]}")

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def input_grads_match_the_model(self) -> None:
        for x in self.all_inputs:
            grad = x.value.grad
            kind = self.kind[x]
            if kind == "value":
                assert isinstance(grad, Value), f"{x}.grad = {grad!r}, expected a Value"
            elif kind == "float":
                assert type(grad) is float, f"{x}.grad = {grad!r}, expected a float"
            assert close(grad_number(grad), self.expected[x]), (
                f"{x}.grad = {grad!r}, the model says {self.expected[x]}")

    @invariant()
    def recording_is_on_between_steps(self) -> None:
        assert is_grad_enabled()


Lifecycle.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
TestLifecycle = Lifecycle.TestCase


# -- the README's example, by hand -------------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_six_then_twelve_never_eighteen(create_graph: bool) -> None:
    x = Value(1.5, label="x")
    y = x * 2
    z = y * 3
    for expected in (6.0, 12.0):
        z.backward(create_graph=create_graph)
        assert grad_number(x.grad) == expected
        assert grad_number(y.grad) == 3.0  # ∂z/∂y of this pass, not 3 + 3
        assert isinstance(x.grad, Value) is create_graph


# -- the machine fails on broken engines -------------------------------------------------------


def _no_accumulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every backward() starts the inputs' gradients from 0 instead of adding to them."""
    real = Value.backward

    def backward(self: Value, seed: float = 1.0, *, create_graph: bool = False) -> None:
        for node in topological_order(self):
            if node.op is None:
                node.grad = 0.0
        real(self, seed, create_graph=create_graph)

    monkeypatch.setattr(Value, "backward", backward)


def _leaky_interior_adjoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interior adjoints start a float pass from the previous pass's value, not from 0:
    z = (x*2)*3 then gives x.grad 6, then 18."""
    real = engine._count_consumers

    def count(root: Value, mark: Any, *rest: Any) -> Any:
        old = [(n, n.grad) for n in topological_order(root)
               if n is not root and n.rule.arity and type(n.grad) is float]
        held = real(root, mark, *rest)
        for n, grad in old:
            n.grad = grad
        return held

    monkeypatch.setattr(engine, "_count_consumers", count)


def _zero_grad_clears_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Value, "zero_grad", lambda self: None)


def _zero_grad_clears_only_the_node(monkeypatch: pytest.MonkeyPatch) -> None:
    def zero_grad(self: Value) -> None:
        self.grad = 0.0

    monkeypatch.setattr(Value, "zero_grad", zero_grad)


def _no_grad_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_is_recording", lambda: True)


def _create_graph_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Value.backward

    def backward(self: Value, seed: float = 1.0, *, create_graph: bool = False) -> None:
        real(self, seed)

    monkeypatch.setattr(Value, "backward", backward)


BREAKAGES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "no accumulation": _no_accumulation,
    "leaky interior adjoints": _leaky_interior_adjoints,
    "zero_grad clears nothing": _zero_grad_clears_nothing,
    "zero_grad clears only the node": _zero_grad_clears_only_the_node,
    "no_grad records": _no_grad_records,
    "create_graph ignored": _create_graph_ignored,
}

#: Cheap and repeatable: a fixed sequence of examples, no database, no shrinking. NOTE: the
#: sequence is derived from the machine's source, so an edit to the machine draws another one;
#: 50 examples catch every breakage with a margin (25 missed the leaky adjoints for one draw).
META = settings(max_examples=50, stateful_step_count=20, deadline=None, derandomize=True,
                database=None, phases=[Phase.generate], report_multiple_bugs=False,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_the_machine_catches(breakage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    BREAKAGES[breakage](monkeypatch)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(Lifecycle, settings=META)


def test_the_machine_passes_the_real_engine_with_the_same_settings() -> None:
    run_state_machine_as_test(Lifecycle, settings=META)


# -- regression tests for two engine bugs this machine found -----------------------------------


def test_repr_after_create_graph_terminates() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    (x * y).backward(create_graph=True)
    assert x.grad is y  # ∂(xy)/∂x = y, the node itself
    assert repr(x) == "Value(data=2.0, grad=Value(data=3.0, label='y'), label='x')"


def test_create_graph_inside_no_grad_accumulates_a_differentiable_grad() -> None:
    s = sp.Symbol("x", real=True)
    x = Value(3.0, label="x")
    r = x * x * x
    with no_grad():
        r.backward(create_graph=True)  # x.grad = 3x², a graph: this much works
        assert x.grad.op is not None
        r.backward(create_graph=True)  # x.grad = 3x² + 3x², still a graph?
    g = x.grad
    x.zero_grad()
    g.backward()
    assert x.grad == float(sp.diff(2 * sp.diff(s**3, s), s).subs(s, 3))  # 12x = 36
