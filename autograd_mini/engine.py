"""The scalar engine: :class:`Value`, :func:`no_grad` and the fast float reverse pass.

A :class:`Value` records its primal value (``data``), the rule that made it and its operands,
in order, duplicates kept. Every op goes through one row of :mod:`autograd_mini.rules`.

Why the node looks the way it does:

* ``__slots__`` and two fixed operand slots (``_a``, ``_b``) instead of a tuple or a set: a
  node costs about 124 bytes at peak (one slot holds the group a picture folds it into), and
  ``a + a`` keeps both of its edges, in order.
* No closure per node. A ``_backward`` closure refers back to its node, which makes every graph
  a reference cycle that only the cyclic garbage collector can free. Here a graph is freed by
  reference counting the moment it is dropped; the partials are computed from the rule table
  during the backward pass instead.
* The backward pass is iterative (Kahn's algorithm, counting each node's consumers in its
  ``_n`` slot), so depth is limited only by memory, never by Python's recursion limit.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from numbers import Real
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, Union, cast, overload

from . import _graph
from .anomaly import Anomaly, AnomalyError, Site, site_here, site_of
from .anomaly import current as _current_anomaly
from .anomaly import in_backward as _in_backward
from .cost import charge, counting
from .errors import CompileError, DomainError
from .rules import (
    ABS,
    ADD,
    CONST,
    DIV,
    DOT,
    INPUT,
    MUL,
    NEG,
    POS,
    POW,
    RULES,
    SUB,
    SUM,
    VARIADIC,
    Rule,
    complete_operands,
)
from .sweep import reverse_sweep

__all__ = [
    "METHODS",
    "AnomalyMode",
    "ConcurrentBackwardError",
    "Group",
    "RemovableHandle",
    "Value",
    "apply_rule",
    "as_value",
    "compiling",
    "computed_without_graph",
    "constant",
    "detect_anomaly",
    "dot",
    "group",
    "group_of",
    "is_grad_enabled",
    "no_grad",
    "recording",
    "set_group",
    "site_of",
    "to_float",
    "total",
]

Operand = Union["Value", float, int]

#: True while ops record a graph, False inside no_grad, the innermost :class:`Group` inside
#: ``with group(...)``, and a :class:`_Watch` inside :func:`detect_anomaly`: one lookup per op
#: says whether to record, where the node belongs and whether to check it.
_grad_enabled: ContextVar[bool | Group | _Watch] = ContextVar("autograd_mini.grad_enabled",
                                                              default=True)
#: Set while autograd_mini.compile traces a function: a Value used as a bool is then refused.
_compiling: ContextVar[bool] = ContextVar("autograd_mini.compiling", default=False)
_is_recording = _grad_enabled.get


def is_grad_enabled() -> bool:
    """Whether ops record a graph in the current context (False inside :func:`no_grad`)."""
    return bool(_grad_enabled.get())


@contextmanager
def no_grad() -> Iterator[None]:
    """Compute values without recording a graph.

    Inside the block every op returns a fresh leaf: nothing refers back to its operands, so
    nothing can be differentiated and nothing is kept alive. Optimiser updates and evaluation
    loops use it. The switch lives in a :class:`contextvars.ContextVar`, so one thread (or one
    asyncio task) turning it off does not affect another. Also usable as a decorator.

    Such a leaf serves as an input of later graphs (it collects a gradient like any input),
    but ``backward()`` on the leaf itself raises: it was computed, and its graph was not
    recorded, so a silent ∂y/∂y = 1 would hide that nothing below it can be reached.

    >>> x = Value(3.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.op is None
    True
    >>> y.backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    RuntimeError: backward() on a Value computed under no_grad(): no graph was recorded, ...
    """
    token = _grad_enabled.set(False)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


@contextmanager
def recording() -> Iterator[None]:
    """Record a graph even inside :func:`no_grad`: the function transforms need one. The
    nodes belong to no group (a transform's sweeps are not the user's ops), and inside
    :func:`detect_anomaly` they are still checked."""
    anomaly = _current_anomaly.get()
    token = _grad_enabled.set(True if anomaly is None else _Watch(anomaly, None))
    try:
        yield
    finally:
        _grad_enabled.reset(token)


class Group:
    """A named set of nodes, such as one neuron or one layer of a network.

    ``kind`` says what sort of group it is (``"neuron"``, ``"layer"``, ``"loss"``, or
    ``"group"`` for a user's own), so that a reader of the graph can treat every group of a
    kind alike: :func:`autograd_mini.draw` folds them (``collapse="neuron"``). ``detail`` is a
    short description ("relu neuron"). Groups nest: a group entered inside another has it as
    its ``parent``.

    A node remembers only its innermost group, so the cost is one slot per node, and nothing
    at all while no group is open. A group refers to no node, so it keeps no graph alive.
    """

    __slots__ = ("detail", "kind", "name", "parent")

    def __init__(self, name: str, kind: str = "group", parent: Group | None = None,
                 detail: str = "") -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a group's name must be a non-empty str, not {name!r}")
        if not isinstance(kind, str) or not kind:
            raise TypeError(f"a group's kind must be a non-empty str, not {kind!r}")
        if parent is not None and not isinstance(parent, Group):
            raise TypeError(f"a group's parent must be a Group or None, not {parent!r}")
        self.name = name
        self.kind = kind
        self.parent = parent
        self.detail = detail

    def path(self) -> list[Group]:
        """This group and the groups around it, outermost first."""
        chain: list[Group] = []
        g: Group | None = self
        while g is not None:
            chain.append(g)
            g = g.parent
        return chain[::-1]

    def __repr__(self) -> str:
        return f"Group({self.name!r}, kind={self.kind!r})"


def group(name: str | Group, kind: str = "group") -> _Scope:
    """Tag every node built inside the block as belonging to a group named ``name``, so that
    pictures draw the group as a cluster, or fold it into one box (``draw(f,
    collapse="group")``). A group opened inside another nests in it. Inputs made with
    ``Value(...)`` are not tagged (they are the user's data), nor is what an
    :mod:`autograd_mini.nn` module builds inside the block: a neuron's nodes belong to its
    own neuron and layer groups, whoever calls it.

    The block's state is read when it is entered, so it may be made once and entered often,
    nested or not; inside :func:`no_grad` nothing is recorded, so nothing is tagged. Each
    entry of a group named by a string makes a new :class:`Group`; pass a Group to add to
    that one.

    >>> from autograd_mini import Value
    >>> x = Value(2.0, label="x")
    >>> with group("square") as g:
    ...     y = x * x
    >>> group_of(y) is g, group_of(x) is None, g.name
    (True, True, 'square')
    """
    if not isinstance(name, (str, Group)):
        raise TypeError(f"group: name must be a str or a Group, not {type(name).__name__}")
    return _Scope(name, kind)


#: The entries of the blocks not yet left in this context (a thread, or an asyncio task):
#: (the block, its tokens), innermost last. A block object can be entered in several
#: contexts at once, and each entry is left in the context it was made in.
_ENTERED: ContextVar[tuple[tuple[object, tuple[Token[Any], ...]], ...]] = ContextVar(
    "autograd_mini.entered", default=())


def _push(block: object, *tokens: Token[Any]) -> None:
    _ENTERED.set((*_ENTERED.get(), (block, tokens)))


def _pop(block: object) -> tuple[Token[Any], ...]:
    """The tokens of ``block``'s innermost entry in this context, which is left."""
    entered = _ENTERED.get()
    for k in range(len(entered) - 1, -1, -1):
        if entered[k][0] is block:
            _ENTERED.set(entered[:k] + entered[k + 1:])
            return entered[k][1]
    raise RuntimeError("a block was left that was not entered in this context")


class _Scope:
    """The block of :func:`group`: a class rather than a generator, since the losses open one
    per call and a generator's context manager costs several times as much."""

    __slots__ = ("_kind", "_name")

    def __init__(self, name: str | Group, kind: str) -> None:
        if isinstance(name, str):
            Group(name, kind)  # refuse a bad name or kind at once, not at entry
        self._name = name
        self._kind = kind

    def __enter__(self) -> Group:
        outer = _grad_enabled.get()
        name = self._name
        g = name if isinstance(name, Group) else Group(name, self._kind, parent=_group(outer))
        state: bool | Group | _Watch = g
        if not outer:
            state = False
        elif type(outer) is _Watch:
            state = _Watch(outer.anomaly, g)
        _push(self, _grad_enabled.set(state))
        return g

    def __exit__(self, *exc: object) -> None:
        (token,) = _pop(self)
        _grad_enabled.reset(token)


def group_of(v: Value) -> Group | None:
    """The innermost group ``v`` was built in, or None."""
    g = getattr(v, "_g", None)
    if type(g) is _Extras:
        return g.group
    return cast(Group | None, g)


def set_group(g: Group, *nodes: Value) -> None:
    """Put ``nodes`` in group ``g``, keeping a creation site or hooks that they carry."""
    for v in nodes:
        extras = getattr(v, "_g", None)
        if type(extras) is _Extras:
            extras.group = g
        else:
            v._g = g


def _group(state: Any) -> Group | None:
    """The group of an op-path state: the state itself, a watch's group, or None."""
    if type(state) is Group:
        return state
    if type(state) is _Watch:
        return state.group
    return None


class _Extras:
    """What a node carries beyond its slots, kept in its group slot ``_g`` where it would
    hold the group: its group still, its creation :class:`~autograd_mini.anomaly.Site` (in
    anomaly mode) and its hooks (an interior node's; an input keeps them in ``_b``). Only
    nodes that have any of these pay for one.

    Copied and pickled without its hooks, which belong to the node they were registered on
    (and are often lambdas, which pickle cannot write)."""

    __slots__ = ("group", "hooks", "site")

    def __init__(self, group: Group | None, site: Site | None = None) -> None:
        self.group = group
        self.site = site
        self.hooks: _Hooks | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Extras, (self.group, self.site))


class _Watch:
    """The op-path state inside :func:`detect_anomaly`: the block's settings and the
    innermost group."""

    __slots__ = ("anomaly", "group")

    def __init__(self, anomaly: Anomaly, group: Group | None) -> None:
        self.anomaly = anomaly
        self.group = group


class AnomalyMode(Anomaly):
    """The block (and decorator) that :func:`detect_anomaly` returns.

    Entered, it turns anomaly mode on in the current thread (or asyncio task) until it is
    left; ``kinks`` then lists the kinks that backward passes went through in the block.
    The state is read when it is entered, so it may be made once and entered often, in
    several threads or tasks at once; the list starts afresh when the block is entered while
    no one is inside it."""

    def __init__(self, check_inf: bool = False, warn_kinks: bool = False) -> None:
        super().__init__(check_inf, warn_kinks)
        self._inside = 0  # entries not yet left, in every thread and task

    def __enter__(self) -> AnomalyMode:
        outer = _grad_enabled.get()
        state: Any = _Watch(self, _group(outer)) if outer else False
        if not self._inside:  # a new block, with a new list
            self.kinks = []
            self.kink_count = 0
        self._inside += 1
        _push(self, _grad_enabled.set(state), _current_anomaly.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        state, anomaly = _pop(self)
        _current_anomaly.reset(anomaly)
        _grad_enabled.reset(state)
        self._inside -= 1

    def __call__(self, fn: _F) -> _F:
        """As a decorator: every call of ``fn`` runs in anomaly mode (for a coroutine
        function, every run of the coroutine)."""
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def watched_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await fn(*args, **kwargs)
            return cast(_F, watched_async)

        @functools.wraps(fn)
        def watched(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
        return cast(_F, watched)

    def __repr__(self) -> str:
        return (f"detect_anomaly(check_inf={self.check_inf}, warn_kinks={self.warn_kinks}): "
                f"{len(self.kinks)} kinks")


_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def detect_anomaly(fn: _F, /) -> _F: ...
@overload
def detect_anomaly(*, check_inf: bool = False, warn_kinks: bool = False) -> AnomalyMode: ...


def detect_anomaly(fn: Any = None, /, *, check_inf: bool = False,
                   warn_kinks: bool = False) -> Any:
    """Find where a NaN (or, with ``check_inf=True``, an infinity) is first made, in the
    forward pass or in the backward pass, as PyTorch's ``detect_anomaly`` and JAX's
    ``jax_debug_nans`` do; and count the kinks that backward goes through exactly.

    A block (``with detect_anomaly():``) or a decorator (``@detect_anomaly`` or
    ``@detect_anomaly(check_inf=True)``). While it is on:

    * each op records its creation site (:func:`site_of`): file, line, function and code;
    * the first op whose result is ``nan`` from operands that are not (or, with
      ``check_inf``, ``±inf`` from finite ones) raises
      :class:`~autograd_mini.anomaly.AnomalyError`, naming the op, its operands and the site;
    * backward checks every share x̄ += ∂v/∂x · v̄ and raises at the first ``nan``, naming
      the node, the partial (``sqrt′(0.0) = inf``), the adjoint it multiplied and the site;
      so do the reverse passes of the transforms, and forward mode (``jvp``) checks every
      term ∂v/∂x · ẋ of a tangent alike;
    * backward lists the nodes that sit exactly on a kink (``relu`` at 0, ``maximum`` at a
      tie) in the block's ``kinks``, and with ``warn_kinks=True`` warns
      (:class:`~autograd_mini.anomaly.KinkWarning`) after each pass that met one.

    Backward takes the general sweep in anomaly mode, a few times slower than the fast
    pass. Off, nothing is recorded or checked, and nothing is slower (``make bench``).
    Nodes built under :func:`no_grad` are leaves and are not checked.

    >>> from autograd_mini import Value
    >>> x = Value(0.0, label="x")
    >>> with detect_anomaly():
    ...     y = x.sqrt() * 0.0        # sqrt′(0) = inf; times the adjoint 0 gives nan
    ...     y.backward()              # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    autograd_mini.anomaly.AnomalyError: backward: the adjoint of x (an input) became nan ...
    """
    if fn is not None:
        if not callable(fn):
            raise TypeError("detect_anomaly: pass check_inf and warn_kinks by name, as in "
                            "detect_anomaly(check_inf=True)")
        return AnomalyMode()(fn)
    return AnomalyMode(check_inf, warn_kinks)


@contextmanager
def compiling() -> Iterator[None]:
    """Mark the block as tracing for :mod:`autograd_mini.compile`: a Value used as a Python
    bool there raises, since the trace would keep one branch only."""
    token = _compiling.set(True)
    try:
        yield
    finally:
        _compiling.reset(token)


class _NoGraph:
    """The type of :data:`_NO_GRAPH`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<computed under no_grad>"

    def __reduce__(self) -> str:
        return "_NO_GRAPH"  # pickled and copied as the one object it is


#: What the ``_b`` slot of a leaf computed under :func:`no_grad` holds, so that ``backward()``
#: can tell it from an input the user made (``_b`` is None there). NOTE: a leaf has no
#: operands, so nothing else reads its ``_b`` (the pass journal uses ``_a`` and ``_n``), which
#: holds only this marker or the leaf's :class:`_Hooks`; the leaf is an INPUT in every other
#: respect, and costs no extra slot.
_NO_GRAPH = _NoGraph()


class _Hooks:
    """A node's hooks, in the order they were registered, by handle key. An input keeps
    them in its ``_b`` slot (``no_graph`` then says whether ``_b`` held :data:`_NO_GRAPH`),
    an interior node in its :class:`_Extras`.

    While it holds any, it is listed in :data:`_LIVE_HOOKS`, by a weak reference, so a
    graph that is dropped takes its hooks with it."""

    __slots__ = ("__weakref__", "fns", "interior", "no_graph")

    def __init__(self, interior: bool, no_graph: bool = False) -> None:
        self.fns: dict[int, Callable[[Any], Any]] = {}
        self.interior = interior
        self.no_graph = no_graph

    def add(self, fn: Callable[[Any], Any]) -> int:
        key = next(_hook_keys)
        self.fns[key] = fn
        live = _LIVE_HOOKS[self.interior]
        if id(self) not in live:
            live[id(self)] = weakref.ref(self, functools.partial(_forget, live, id(self)))
        return key

    def remove(self, key: int) -> None:
        self.fns.pop(key, None)
        if not self.fns:
            _LIVE_HOOKS[self.interior].pop(id(self), None)


def _forget(live: dict[int, Any], key: int, _: Any) -> None:
    live.pop(key, None)


#: The hooks alive now, inputs' (False) and interior nodes' (True), by id. While any input
#: has a hook, the fast pass holds every input's shares to call the hooks at its end; while
#: any interior node has one, backward() takes the general sweep, which calls them as it
#: goes. NOTE: plain dicts, whose truth is one C-level test per backward() call.
_LIVE_HOOKS: dict[bool, dict[int, weakref.ref[_Hooks]]] = {False: {}, True: {}}
_INPUT_HOOKS = _LIVE_HOOKS[False]
_INTERIOR_HOOKS = _LIVE_HOOKS[True]
_hook_keys = itertools.count()


class RemovableHandle:
    """What :meth:`Value.register_hook` returns: ``remove()`` takes the hook away again.
    Also a context manager, which removes the hook when the block ends. The handle does not
    keep the node alive."""

    __slots__ = ("_hooks", "_key")

    def __init__(self, hooks: _Hooks, key: int) -> None:
        self._hooks = weakref.ref(hooks)
        self._key = key

    def remove(self) -> None:
        """Remove the hook; removing it again does nothing."""
        hooks = self._hooks()
        if hooks is not None:
            hooks.remove(self._key)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _no_graph(v: Value) -> bool:
    """Whether the leaf ``v`` was computed under no_grad (see :data:`_NO_GRAPH`)."""
    b = v._b
    return b is _NO_GRAPH or (type(b) is _Hooks and b.no_graph)


def computed_without_graph(v: Value) -> bool:
    """Whether ``v`` was computed by an op under :func:`no_grad`, so that nothing below it was
    recorded (an input made with ``Value(...)`` was not computed, and is False)."""
    return not v._op.arity and _no_graph(v)


def _hooks_of(v: Value) -> _Hooks | None:
    if not v._op.arity:
        b = v._b
        return b if type(b) is _Hooks else None
    extras = getattr(v, "_g", None)
    return extras.hooks if type(extras) is _Extras else None


def _run_hooks(v: Value, hooks: _Hooks, grad: Any) -> Any:
    """``grad`` passed through the hooks of ``v`` in order; a hook's result other than None
    replaces it for the hooks after it and for what flows on."""
    for fn in list(hooks.fns.values()):
        result = fn(grad)
        if result is None:
            continue
        t = type(result)
        if t is float or isinstance(result, Value):
            grad = result
        elif isinstance(result, Real) and t is not bool:
            grad = float(result)
        else:
            raise TypeError(
                f"a hook on {_node_name(v)} returned a {t.__name__}: a hook returns None (to "
                "keep the gradient), or a number or a Value to replace it")
    return grad


def _node_name(v: Value) -> str:
    if v.label:
        return repr(v.label)
    return f"the {v._op.name} node" if v._op.arity else "an unlabelled input"


class Value:
    """A scalar node in a computation graph.

    ``data`` is the primal value v, ``grad`` the adjoint v̄ = ∂f/∂v after ``f.backward()``.
    Operators (``+ - * / **``, unary ``-``, ``abs()``) and a method for every built-in
    function of the rule table (:data:`METHODS`: ``x.exp()``, ``x.maximum(y)``,
    ``x.leaky_relu(0.2)``, …, each documented by its row) build new nodes; a Python number on
    either side of an operator becomes a constant node.

    >>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    >>> f = x1 * x2 + (x1 * x2).exp() - x2.sin()
    >>> f.backward()
    >>> round(x1.grad, 6), round(x2.grad, 6)  # x2 + x2·e^(x1·x2),  x1 + x1·e^(x1·x2) − cos x2
    (110137.328974, 44054.647927)

    NaN and ±inf are valid data. Overflow gives ±inf, as IEEE 754 does (``Value(1000.0).exp()``
    is ``inf``); ``sin(inf)`` gives ``nan``. Inputs outside an op's domain raise
    :class:`DomainError`.

    In Python a Value behaves as its number where that keeps the graph honest:

    * ``f"{loss:.4f}"`` formats ``data`` (an empty format spec gives the repr, as ``str``);
    * ``<``, ``<=``, ``>``, ``>=`` compare ``data`` with a Value or a number and give a bool,
      so ``max(v, w)`` is the larger Value itself and its gradient flows there; ``sorted``
      works; ``bool(v)`` is ``v.data != 0``, as for a float (and a 0-d tensor);
    * ``float(v)``, ``int(v)`` and ``round(v)`` raise a TypeError that says what to use, since
      a float has no graph: ``math.sin(v)`` calls ``float(v)`` and would silently drop it.

    NOTE: ``==`` and ``!=`` stay identity, and a Value is hashable by identity. The graph
    walks key their tables by node, users key dicts by Values (a parameter's optimiser state,
    a trace's ``wrt``), and two different nodes with equal data are different variables:
    ``x == y`` by data would make them one key, or make Values unhashable.

    >>> a, b = Value(2.0, label="a"), Value(5.0, label="b")
    >>> m = max(a, b)
    >>> m is b, a < b, a < 3, f"{a * b:.2f}", a == Value(2.0)
    (True, True, True, '10.00', False)

    While :func:`autograd_mini.compile.compile` traces, a comparison or a bool of a Value
    would freeze one branch into the trace, so it raises
    :class:`~autograd_mini.compile.CompileError`; ops such as maximum, relu and abs compile.
    """

    __slots__ = ("_a", "_b", "_g", "_n", "_op", "data", "grad", "label")

    data: float
    grad: Any  # a float; a Value after a backward pass that records a graph
    label: str | None
    _op: Rule
    _a: Any  # operands: Values, or None where the rule has fewer
    _b: Any
    _n: int
    _g: Group | _Extras  # the innermost group, or _Extras; left unset outside any group

    def __init__(self, data: float, label: str | None = None) -> None:
        if type(data) is not float:
            data = to_float(data, "Value data")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value label must be a str or None, not {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op = INPUT
        self._a = None
        self._b = None
        self._n = 0  # consumers not yet processed; nonzero only during backward()

    # -- introspection -------------------------------------------------------------------------

    @property
    def op(self) -> str | None:
        """The name of the rule that made this node: ``"mul"``, ``"exp"``, ``"const"`` for a
        number met in an expression, or ``None`` for an input or parameter."""
        return None if self._op is INPUT else self._op.name

    @property
    def rule(self) -> Rule:
        """The row of :data:`autograd_mini.rules.RULES` that made this node."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands, in order, duplicates kept: ``(a + a).parents == (a, a)``."""
        return _graph.operands(self)

    def __repr__(self) -> str:
        # NOTE: a grad that is a Value is shown without its own grad: after create_graph,
        # x.grad can be y and y.grad x (the adjoints of x·y), and the repr must end.
        grad = self.grad._short() if isinstance(self.grad, Value) else repr(self.grad)
        return f"Value(data={self.data!r}, grad={grad}{self._extra()})"

    def _short(self) -> str:
        return f"Value(data={self.data!r}{self._extra()})"

    def _extra(self) -> str:
        extra = "" if self.label is None else f", label={self.label!r}"
        if self._op is not INPUT:
            extra += f", op={self._op.name!r}"
        return extra

    # -- arithmetic ----------------------------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        return _binary(ADD, self, other)

    def __radd__(self, other: Operand) -> Value:
        return _binary(ADD, other, self)

    def __sub__(self, other: Operand) -> Value:
        return _binary(SUB, self, other)

    def __rsub__(self, other: Operand) -> Value:  # other - self
        return _binary(SUB, other, self)

    def __mul__(self, other: Operand) -> Value:
        return _binary(MUL, self, other)

    def __rmul__(self, other: Operand) -> Value:
        return _binary(MUL, other, self)

    def __truediv__(self, other: Operand) -> Value:
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: Operand) -> Value:  # other / self
        return _binary(DIV, other, self)

    def __pow__(self, other: Operand, modulo: None = None) -> Value:
        if modulo is not None:
            return NotImplemented
        return _binary(POW, self, other)

    def __rpow__(self, other: Operand) -> Value:  # other ** self
        return _binary(POW, other, self)

    # -- Python's protocols ---------------------------------------------------------------------

    def __bool__(self) -> bool:
        # NOTE: as a float is, and as PyTorch's and JAX's scalars are outside a trace: true
        # unless data is 0 (nan is true). While compile traces, a branch on a Value would
        # freeze one path into the trace, so it is refused.
        if _compiling.get():
            raise CompileError("a Value was used as a Python bool while compiling: the trace "
                               "would hold one branch only; use an op (relu, abs) instead")
        return self.data != 0.0

    def __lt__(self, other: Operand) -> bool:
        y = _compared(self, other, "<")
        return NotImplemented if y is None else self.data < y

    def __le__(self, other: Operand) -> bool:
        y = _compared(self, other, "<=")
        return NotImplemented if y is None else self.data <= y

    def __gt__(self, other: Operand) -> bool:
        y = _compared(self, other, ">")
        return NotImplemented if y is None else self.data > y

    def __ge__(self, other: Operand) -> bool:
        y = _compared(self, other, ">=")
        return NotImplemented if y is None else self.data >= y

    # NOTE: ``==`` is not defined here, on purpose: it stays object identity, so that Values
    # stay hashable dict keys (see the class docstring).

    def __format__(self, spec: str) -> str:
        """``format(v, ".4f")`` formats ``v.data``; an empty spec gives ``str(v)``."""
        return str(self) if not spec else format(self.data, spec)

    if not TYPE_CHECKING:
        # NOTE: defined for their messages only, and hidden from type checkers, which then
        # keep reporting float(v) and math.sin(v) as the errors they are.
        def __float__(self):
            raise TypeError(_NOT_A_NUMBER.format(call="float(v)", use="v.data"))

        def __int__(self):
            raise TypeError(_NOT_A_NUMBER.format(call="int(v)", use="int(v.data)"))

        def __round__(self, ndigits=None):
            raise TypeError(
                "round(v): a Value is a node of a graph, not a number, and a rounded number "
                "has no graph; use round(v.data, 2) for the number, or f'{v:.2f}' to show it")

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return _unary(POS, self)

    def __abs__(self) -> Value:
        return _unary(ABS, self)

    # -- functions -----------------------------------------------------------------------------
    # NOTE: every built-in row written as a call (exp, log, …, relu, maximum, leaky_relu, …)
    # is a method, made from the table below the class, so a new built-in row needs no edit
    # here. For the type checker, an unknown attribute is such a method.

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    def detach(self) -> Value:
        """A new input with this node's data and label and no history, as PyTorch's detach:
        what is computed from it does not reach this node's graph. The copy is a leaf of its
        own, outside any group, with ``grad`` 0.0; ``backward()`` on it gives it 1.

        >>> x = Value(3.0, label="x")
        >>> y = x * x
        >>> y.label = "y"
        >>> c = y.detach()                # an input of its own: 9, labelled y
        >>> z = c * x                     # 9x, with the 9 held fixed
        >>> z.backward()
        >>> x.grad, c.grad, c.op, c.label  # ∂z/∂x = c = 9, ∂z/∂c = x = 3
        (9.0, 3.0, None, 'y')

        To keep a node in traces and pictures while stopping its gradient, use
        :func:`autograd_mini.stop_gradient` instead.
        """
        v = _node(INPUT, self.data, None, None)
        v.label = self.label
        return v

    def register_hook(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``hook(grad)`` during every backward pass, once this node's adjoint is final,
        as PyTorch's ``Tensor.register_hook``; a result other than None replaces the adjoint.

        * An interior node's hook gets v̄ once every consumer has added its share, before
          any of it flows on to the operands, so a node read several times is called once,
          with the sum; what the hook returns is what flows on, and what ``grad`` keeps.
        * An input's hook gets the sum of this pass's shares, before they are added to its
          ``grad``; what it returns is what is added. Inputs' hooks run at the end of the
          pass, once every adjoint is final.
        * A node's hooks run in the order they were registered, each given the result of the
          one before. Interior nodes' hooks run root first, in reverse topological order;
          the order among different inputs is fixed for a graph but not specified (nor is it
          in PyTorch).
        * With ``backward(create_graph=True)`` the hook gets, and may return, a Value.
        * A hook may call ``backward()`` of its own; what that pass adds to an input is kept.
        * Only ``backward()`` calls hooks; the function transforms and the trace do not.

        An interior node that no gradient reaches (one below a
        :func:`~autograd_mini.stop_gradient` only) has its hooks left uncalled, as PyTorch
        leaves them; an input of the graph always gets its sum, 0.0 if nothing reached it.
        It returns a :class:`RemovableHandle`; ``handle.remove()`` takes the hook away.

        NOTE: with no hooks anywhere, backward costs what it did. While an interior node
        with a hook is alive, backward() takes the general sweep (a few times slower);
        inputs' hooks are called from the fast pass. The two add a node's shares in
        different orders, so a grad may differ between them in its last bit.

        >>> x = Value(3.0, label="x")
        >>> y = x * x
        >>> seen = []
        >>> handle = y.register_hook(lambda g: seen.append(g))   # sees ȳ, keeps it
        >>> _ = x.register_hook(lambda g: 2 * g)                  # doubles x̄
        >>> (y + 1).backward()
        >>> seen, x.grad                                          # ȳ = 1; x̄ = 2 · 2x = 12
        ([1.0], 12.0)
        >>> handle.remove()
        """
        if not callable(hook):
            raise TypeError(f"register_hook: a hook must be callable, not "
                            f"{type(hook).__name__}")
        if self._op is CONST:
            raise RuntimeError("register_hook on a constant: a constant has no gradient")
        hooks = _hooks_of(self)
        if hooks is None:
            if not self._op.arity:
                hooks = _Hooks(False, no_graph=self._b is _NO_GRAPH)
                self._b = hooks
            else:
                hooks = _Hooks(True)
                extras = getattr(self, "_g", None)
                if type(extras) is not _Extras:
                    extras = _Extras(cast(Group | None, extras))
                    self._g = extras
                extras.hooks = hooks
        return RemovableHandle(hooks, hooks.add(hook))

    # -- pickling and copying ------------------------------------------------------------------

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """How pickle writes a node: its rule by name, its data, operands, grad, label and
        group; see :func:`_flat_pickle` for why the first node met writes its whole graph."""
        return _flat_pickle(self)

    def __copy__(self) -> Value:
        """A new node of the same rule on the same operands, with the same data, grad, label
        and group."""
        v = _node(self._op, self.data, *_operand_slots(self))
        v.grad = self.grad
        v.label = self.label
        g = _group_state(self)
        if g is not None:
            v._g = g
        return v

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """An independent copy of the graph below this node: every node is new, rules are
        shared (they are the table's rows), and grads that are Values are copied with their
        graphs. Iterative, so any depth copies."""
        order = _graph.topological_order(self)
        made = []
        for node in order:  # operands first, so each node's operands are already copied
            if id(node) in memo:
                continue
            a, b = _operand_slots(node)
            if node._op.arity < 0:
                a = tuple(memo[id(p)] for p in a)
            elif node._op.arity:
                a = memo[id(a)]
                b = None if b is None else memo[id(b)]
            new = _node(node._op, node.data, a, b)
            new.label = node.label
            memo[id(node)] = new
            made.append((node, new))
        for node, new in made:  # then what may refer to any node: grads, and the groups
            grad = node.grad
            new.grad = 0.0 if type(grad) is _Mark else copy.deepcopy(grad, memo)
            g = _group_state(node)
            if g is not None:
                new._g = copy.deepcopy(g, memo)
        result: Value = memo[id(self)]
        return result

    @staticmethod
    def apply_rule(rule: Rule, *operands: Operand, **named: Operand) -> Value:
        """Apply a row of the table to these operands: what a
        :class:`~autograd_mini.rules.Primitive` calls when it meets a Value."""
        return apply_rule(rule, *operands, **named)

    # -- differentiation -----------------------------------------------------------------------

    def backward(self, seed: float = 1.0, *, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂v · seed into ``v.grad`` for every node v below this one.

        Reverse mode: nodes are visited in reverse topological order, and each adds its share
        to its operands' adjoints, x̄ᵢ += ∂v/∂xᵢ · v̄, with the partial taken from the rule table.

        NOTE: intermediate adjoints are recomputed from zero on every call, while the adjoints
        of inputs and parameters accumulate across calls until :meth:`zero_grad`, as in PyTorch.
        With ``z = (x*2)*3``, one call leaves ``x.grad == 6.0`` and a second leaves ``12.0``.

        With ``create_graph=True`` the partials are evaluated on Values, so every ``grad``
        becomes a :class:`Value` whose own graph can be differentiated again.

        NOTE: that graph refers back to the inputs (3x² holds x), so ``x.grad`` makes a
        reference cycle, as in PyTorch; the cyclic collector frees it, and :meth:`zero_grad`
        breaks it.

        >>> x = Value(3.0)
        >>> (x ** 3).backward(create_graph=True)   # x.grad = 3x², a Value
        >>> g = x.grad
        >>> x.zero_grad()
        >>> g.backward()                          # d(3x²)/dx = 6x
        >>> x.grad
        18.0

        NOTE: an interrupt (Ctrl-C, or any exception) at any moment, even a second one while
        the pass tidies up, leaves every input's ``grad`` as it was before the call, and the
        next ``backward()`` exactly right: the pass marks the nodes it counts with a marker of
        its own, so a pass that stops leaves nothing that the next one must reset. Passes in
        different threads take turns; a ``backward()`` on a graph that another thread is in
        the middle of differentiating raises :class:`ConcurrentBackwardError`.

        NOTE: this float pass is a loop of its own, not the reverse-edge walk that every other
        reverse reader shares (:func:`autograd_mini._graph.reverse_edges`): written on that
        walk, the same pass takes about three times as long on micrograd's demo step (7,545
        nodes) and more on a long chain; ``make bench`` measures both (docs/benchmarks.md).
        """
        seed = to_float(seed, "backward seed")
        # NOTE: hooks on interior nodes, anomaly mode and create_graph take the general
        # sweep; with none of them, the cost is a test of a dict and a context lookup.
        if not self._op.arity:  # an input is its own derivative: ∂x/∂x = 1
            if _no_graph(self):
                raise RuntimeError(
                    "backward() on a Value computed under no_grad(): no graph was recorded, "
                    "so nothing below it can get a gradient. Compute it outside no_grad(), "
                    "or call .detach() on it for an input of its own")
            if create_graph or type(self._b) is _Hooks or _current_anomaly.get() is not None:
                self._backward_general(seed, create_graph)
            else:
                if counting():
                    charge(reverse=1, nodes=1)
                if self._op is INPUT:
                    self.grad += seed
            return
        if create_graph or _INTERIOR_HOOKS or _current_anomaly.get() is not None:
            self._backward_general(seed, create_graph)
            return
        if counting():
            charge(reverse=1, nodes=len(_graph.topological_order(self)))
        global _running
        _take_the_pass_lock(self)
        outer = _running  # a pass inside a partial of another pass has one around it
        try:
            mark = _Mark()
            _running = (mark, threading.get_ident())
            try:
                held = _count_consumers(self, mark, bool(_INPUT_HOOKS))
                self.grad = seed
                _reverse_pass(self)
                shares = _take_shares(held) if held else []
            except BaseException:
                _restore_inputs(self, mark)
                raise
        finally:
            _running = outer
            _pass_lock.release()
        if held:  # outside the lock: a hook may wait for another thread, or run a pass
            _add_shares(self, held, shares)

    def _backward_general(self, seed: float, on_values: bool) -> None:
        """``backward()`` through the general sweep, on Values for ``create_graph=True``,
        with the same accumulation semantics as the float pass: used with create_graph, in
        anomaly mode (which checks every share) and while interior nodes have hooks."""
        order = _graph.topological_order(self)
        hooks = None
        if _INTERIOR_HOOKS or _INPUT_HOOKS:
            hooks = _hooks_on_values if on_values else _call_hooks
        with recording():  # the sum with an earlier grad is recorded too, even in no_grad
            adjoints = reverse_sweep(order, {id(self): seed}, on_values, on_node=hooks)
        anomaly = _current_anomaly.get()
        _take_the_pass_lock(self)
        try:  # the writes, and the grads they add to, are the pass's: all of them, or none
            new: list[tuple[Value, Any]] = []
            with recording(), _summing():
                for node in order:
                    bar = adjoints.get(id(node))
                    if on_values and bar is not None:
                        bar = _as_grad(bar)
                    if node._op is INPUT:
                        if bar is not None:
                            old = node.grad
                            grad = bar if type(old) is float and old == 0.0 else old + bar
                            if anomaly is not None:
                                anomaly.check_accumulation(node, old, bar, grad)
                            new.append((node, grad))
                    elif node._op is not CONST:
                        new.append((node, 0.0 if bar is None else bar))
            old_grads = [(node, node.grad) for node, _ in new]
            try:
                for node, grad in new:
                    node.grad = grad
            except BaseException:
                _undo(old_grads)
                raise
        finally:
            _pass_lock.release()

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on this node and every node below it (inputs included).

        It also empties the inputs' journal of the last pass (see :func:`_count_consumers`),
        which would otherwise keep their old gradients, and the graphs of those, alive."""
        if self._op is INPUT:  # a parameter, as Module.zero_grad calls it: no walk
            self._a = None
            self._n = 0
            self.grad = 0.0
            return
        for node in _graph.topological_order(self):
            if node._op is INPUT:
                node._a = None
                node._n = 0
            if node._op is not CONST:
                node.grad = 0.0


# ---------------------------------------------------------------------------------------------
# Building nodes
# ---------------------------------------------------------------------------------------------

_new = object.__new__


def _node(rule: Rule, data: float, a: Any, b: Any) -> Value:
    """A node without the public constructor's checks: ``data`` is already a float."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v._op = rule
    v._a = a
    v._b = b
    v._n = 0
    return v


def _grouped(rule: Rule, data: float, a: Any, b: Any, g: Any) -> Value:
    """A node built inside ``with group(...)``, tagged with its group; or inside
    :func:`detect_anomaly`, with its creation site too, and checked."""
    v = _node(rule, data, a, b)
    if type(g) is Group:
        v._g = g
        return v
    site = site_here()
    v._g = _Extras(g.group, site)
    g.anomaly.check_forward(v, site)
    return v


def constant(x: float) -> Value:
    """A constant node: a number in a graph, drawn and traced as a number, with no gradient."""
    return _node(CONST, float(x), None, None)


def to_float(x: Any, what: str) -> float:
    """``x`` as a float, or a TypeError naming ``what`` and its type. Booleans are refused:
    ``True * x`` is almost always a mistake."""
    t = type(x)
    if t is float or t is int or (isinstance(x, Real) and t is not bool):
        return float(x)
    raise TypeError(f"{what} must be an int or a float, not {type(x).__name__}")


def _operand(x: Any) -> Value | None:
    """A Value for an operator's other side: itself, a constant node for a number, or None
    for a type we do not handle (so that the operator returns NotImplemented)."""
    t = type(x)
    if t is float or t is int:  # the common case, without the slow ABC check below
        return _node(CONST, float(x), None, None)
    if isinstance(x, Value):
        return x
    if isinstance(x, Real) and t is not bool:
        return _node(CONST, float(x), None, None)
    return None


def _compared(v: Value, other: Any, symbol: str) -> Any:
    """What a comparison of ``v`` reads on the other side: a Value's data, or the number
    itself (so that a Fraction compares exactly); None for anything else, so that the
    comparison returns NotImplemented and Python raises its usual TypeError."""
    if _compiling.get():
        raise CompileError(f"a Value was compared ({symbol}) while compiling: the trace would "
                           "hold one branch only; use an op (maximum, minimum, relu, abs) "
                           "instead")
    t = type(other)
    if t is float or t is int:
        return other
    if isinstance(other, Value):
        return other.data
    if isinstance(other, Real) and t is not bool:
        return other
    return None


_NOT_A_NUMBER = (
    "{call}: a Value is a node of a graph, not a number, and a number has no graph to "
    "differentiate; use {use} for its value. A math function such as math.sin(v) calls "
    "float(v): use the Value's own method, v.sin() (or v.exp(), v.log(), …), which keeps the "
    "graph")


def as_value(x: Any, what: str) -> Value:
    """``x`` itself for a Value, a constant node for a number, else a TypeError naming
    ``what``."""
    v = _operand(x)
    if v is None:
        raise TypeError(f"{what} must be Values or numbers, not {type(x).__name__}")
    return v


# ---------------------------------------------------------------------------------------------
# Pickling a graph
# ---------------------------------------------------------------------------------------------

#: Per thread, the nodes that a graph being pickled has still to write, by id, each to the id
#: of the node whose pickling listed it.
_pickling = threading.local()


def _flat_pickle(v: Value) -> tuple[Any, ...]:
    """The reduce value of ``v`` for pickle.

    A node is written as ``_unpickled_node(rule, data, a, b)`` and then its state (grad,
    label, group): operands before the node, grads after it, since a grad may refer back to
    the node (``x.grad`` after ``create_graph`` holds x), which pickle can only do through a
    state. Rules are written by name (:meth:`~autograd_mini.rules.Rule.__reduce__`).

    NOTE: written as it is, pickle would recurse once per level of the graph and fail on a
    deep one. So the first node that a pickling meets writes its whole graph first, as one
    tuple in topological order, and the node is its last entry: each entry's operands are
    then already written, and pickle writes a reference to them instead of recursing. Each
    entry, met again as an element of that tuple, is written plainly and struck off; a node
    that the tuple lists but that the pickling had written already, or one left by a
    pickling that failed, is only ever written plainly, which is correct, just recursive.
    """
    pending: dict[int, int] = _pickling.__dict__.setdefault("pending", {})
    key = id(v)
    listed_by = pending.pop(key, None)
    if listed_by is None:
        order = _graph.topological_order(v)
        if len(order) > 1:
            for node in order:
                pending[id(node)] = key
            return (_last, (tuple(order),))
    elif listed_by == key:  # the last entry of its own tuple: the whole graph is written
        for k in [k for k, by in pending.items() if by == key]:
            del pending[k]
    a, b = _operand_slots(v)
    state: dict[str, Any] = {"grad": 0.0 if type(v.grad) is _Mark else v.grad}
    if v.label is not None:
        state["label"] = v.label
    g = _group_state(v)
    if g is not None:
        state["_g"] = g
    return (_unpickled_node, (v._op, v.data, a, b), (None, state))


def _operand_slots(v: Value) -> tuple[Any, Any]:
    """``_a`` and ``_b`` as the node's own: an input's journal of the last pass, and its
    hooks, left out."""
    if not v._op.arity:
        return None, (_NO_GRAPH if _no_graph(v) else None)
    return v._a, v._b


def _group_state(v: Value) -> Group | _Extras | None:
    """What a copy of ``v`` keeps in its group slot: the group, and the creation site if it
    has one, without hooks."""
    g = getattr(v, "_g", None)
    if type(g) is _Extras:
        return g.group if g.site is None else _Extras(g.group, g.site)
    return cast(Group | None, g)


def _unpickled_node(rule: Rule, data: float, a: Any, b: Any) -> Value:
    return _node(rule, data, a, b)


def _last(nodes: tuple[Value, ...]) -> Value:
    return nodes[-1]


# What a binary operator returns for an operand type it does not handle, so that Python can try
# the other side's method and then raise its usual TypeError naming both types.
_NOT_IMPLEMENTED = cast(Value, NotImplemented)


def _binary(rule: Rule, a: Any, b: Any) -> Value:
    if type(a) is not Value:
        a = _operand(a)
        if a is None:
            return _NOT_IMPLEMENTED
    if type(b) is not Value:
        b = _operand(b)
        if b is None:
            return _NOT_IMPLEMENTED
    x = a.data
    y = b.data
    if rule.domain is not None:
        reason = rule.domain(x, y)
        if reason is not None:
            raise DomainError(rule, (a, b), reason)
    g = _is_recording()
    if g is True:
        return _node(rule, rule.primal(x, y), a, b)
    if g:
        return _grouped(rule, rule.primal(x, y), a, b, g)
    return _node(INPUT, rule.primal(x, y), None, _NO_GRAPH)


def _unary(rule: Rule, a: Value) -> Value:
    x = a.data
    if rule.domain is not None:
        reason = rule.domain(x)
        if reason is not None:
            raise DomainError(rule, (a,), reason)
    g = _is_recording()
    if g is True:
        return _node(rule, rule.primal(x), a, None)
    if g:
        return _grouped(rule, rule.primal(x), a, None, g)
    return _node(INPUT, rule.primal(x), None, _NO_GRAPH)


def apply_rule(rule: Rule, *operands: Operand, **named: Operand) -> Value:
    """Apply any :class:`~autograd_mini.rules.Rule` to Values or numbers.

    This is how a rule that is not one of :class:`Value`'s methods is used, for example a new
    primitive under test:

    >>> from autograd_mini.rules import MUL
    >>> apply_rule(MUL, Value(3.0), 4).data
    12.0

    Trailing operands with defaults may be left out, as in ``leaky_relu(x)``, and operands
    may be given by name, as in ``leaky_relu(x, slope=0.2)``.
    """
    if rule.arity == VARIADIC:
        return _variadic(rule, operands)
    if named or len(operands) != rule.arity:
        operands = complete_operands(rule, operands, named)
    if rule.arity == 1:
        a = _operand(operands[0])
        if a is None:
            raise TypeError(f"{rule.name}: operand must be a Value or a number, "
                            f"not {type(operands[0]).__name__}")
        return _unary(rule, a)
    result = _binary(rule, *operands)
    if result is _NOT_IMPLEMENTED:
        bad = type(next(o for o in operands if _operand(o) is None)).__name__
        raise TypeError(f"{rule.name}: operands must be Values or numbers, not {bad}")
    return result


_VALUES_ONLY = {Value}
_data = attrgetter("data")


def _variadic(rule: Rule, operands: Sequence[Any]) -> Value:
    args = tuple(operands)
    if set(map(type, args)) != _VALUES_ONLY:  # coerce numbers; the fast path skips this loop
        coerced = []
        for k, o in enumerate(args):
            v = o if type(o) is Value else _operand(o)
            if v is None:
                raise TypeError(f"{rule.name}: operand {k} must be a Value or a number, "
                                f"not {type(o).__name__}")
            coerced.append(v)
        args = tuple(coerced)
    xs = list(map(_data, args))
    if rule.domain is not None:
        reason = rule.domain(*xs)
        if reason is not None:
            raise DomainError(rule, args, reason)
    out = rule.primal(*xs)
    g = _is_recording()
    if g is True:
        return _node(rule, out, args, None)
    if g:
        return _grouped(rule, out, args, None, g)
    return _node(INPUT, out, None, _NO_GRAPH)


def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """z = Σₖ wₖ·aₖ + b as one node (a neuron's weighted input), not 2n nodes.

    Its partials are ∂z/∂wₖ = aₖ, ∂z/∂aₖ = wₖ and ∂z/∂b = 1, so after ``backward()`` the
    node's ``grad`` is δ = ∂C/∂z and each weight's is δ·aₖ.

    >>> w, a = [Value(2.0), Value(-1.0)], [Value(3.0), Value(4.0)]
    >>> z = dot(w, a, 0.5)
    >>> z.backward()
    >>> z.data, w[0].grad, a[1].grad
    (2.5, 3.0, -1.0)
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs")
    return _variadic(DOT, [*weights, *inputs, bias])


def total(values: Sequence[Operand]) -> Value:
    """x₁ + … + xₙ as one node; each ∂/∂xᵢ = 1. ``total([])`` is the constant 0."""
    if not values:
        return constant(0.0)
    return _variadic(SUM, values)


# ---------------------------------------------------------------------------------------------
# The methods of the built-in functions, made from the table
# ---------------------------------------------------------------------------------------------


def _method(rule: Rule) -> Callable[..., Value]:
    method: Callable[..., Value]
    if rule.arity == 1:
        def unary(self: Value) -> Value:
            return _unary(rule, self)
        method = unary
    else:
        def other(self: Value, *others: Operand, **named: Operand) -> Value:
            return apply_rule(rule, self, *others, **named)
        method = other
    method.__name__ = method.__qualname__ = rule.name
    method.__doc__ = rule.doc
    return method


#: The built-in rows that are Value methods: ``x.exp()``, ``x.maximum(y)``, ``x.leaky_relu()``.
METHODS: tuple[str, ...] = tuple(
    name for name, rule in RULES.items() if rule.builtin and rule.function
    and name not in ("abs",))  # abs(x) is Python's own spelling, through __abs__
for _name in METHODS:
    setattr(Value, _name, _method(RULES[_name]))
del _name


# ---------------------------------------------------------------------------------------------
# The float reverse pass
# ---------------------------------------------------------------------------------------------


@contextmanager
def _summing() -> Iterator[None]:
    """While a pass adds its adjoints to the grads the inputs had: anomaly mode checks those
    sums as the pass's own (:meth:`~autograd_mini.anomaly.Anomaly.check_accumulation`),
    not as ops of a forward pass."""
    token = _in_backward.set(True)
    try:
        yield
    finally:
        _in_backward.reset(token)


def _as_grad(bar: Any) -> Value:
    """An adjoint of a ``create_graph`` pass as the Value a grad holds: a constant for a
    number, and a recorded copy (+v) of a leaf computed under no_grad, which the partials
    pass on as it is (∂(d·x)/∂x is d itself): so the grad can be differentiated again, to
    ∂d/∂d = 1, where backward() on the leaf itself raises."""
    if not isinstance(bar, Value):
        return constant(bar)
    if computed_without_graph(bar):
        return +bar
    return bar


def _hooks_on_values(node: Value, grad: Any) -> Any:
    """:func:`_call_hooks` for a ``create_graph`` pass: the hooks get Values."""
    hooks = _hooks_of(node)
    if hooks is None or not hooks.fns or grad is None:
        return _call_hooks(node, grad)
    return _call_hooks(node, _as_grad(grad))


def _call_hooks(node: Value, grad: Any) -> Any:
    """The general sweep's ``on_node``: ``grad`` through the node's hooks, if it has any. An
    interior node that no share reached is left out, as PyTorch leaves a tensor that no
    gradient reaches; an input gets 0.0, as the fast pass gives it. In anomaly mode a hook
    that turns a gradient into nan raises."""
    hooks = _hooks_of(node)
    if hooks is None or not hooks.fns or (grad is None and node._op.arity):
        return grad
    given = 0.0 if grad is None else grad
    result = _run_hooks(node, hooks, given)
    anomaly = _current_anomaly.get()
    if anomaly is not None:
        r, g = float(getattr(result, "data", result)), float(getattr(given, "data", given))
        if r != r and g == g:
            raise AnomalyError(f"backward: a hook on {_node_name(node)} turned its gradient "
                               f"{g!r} into nan", phase="backward", node=node,
                               site=site_of(node))
    return result


class ConcurrentBackwardError(RuntimeError):
    """``backward()`` was called on a graph that another thread is in the middle of
    differentiating."""


#: One pass that writes to the nodes at a time: the float pass keeps its bookkeeping in them,
#: and two passes on shared nodes (inputs included) would mix it up.
_pass_lock = threading.RLock()
#: How long a pass waits for another thread's pass before it gives up with an error.
PASS_WAIT = 60.0
#: The marker of the pass that holds the lock, and its thread; None between passes.
_running: tuple[Any, int] | None = None


def _take_the_pass_lock(root: Value) -> None:
    """Acquire the pass lock for a pass below ``root``, or raise ConcurrentBackwardError.

    A pass on a graph that another thread is in the middle of is refused at once: its nodes
    carry that pass's marker. A pass on other nodes is waited for, up to :data:`PASS_WAIT`.

    NOTE: an exception raised at one precise instant (by a trace function, say) can skip a
    release in CPython. So a thread that finds it still holds the lock when it starts a pass
    (passes never nest: a partial must not call backward) took it in a pass that was
    interrupted, and gives it back first; an interrupt can never lock a thread out.
    """
    owned = getattr(_pass_lock, "_is_owned", None)
    if owned is not None and owned() and not _in_a_pass():
        while owned():
            _pass_lock.release()
    running = _running
    if running is not None and running[1] != threading.get_ident() and _marked(root,
                                                                               running[0]):
        raise ConcurrentBackwardError(
            "backward() on a graph that another thread is differentiating right now; one "
            "graph must be differentiated by one thread at a time")
    if not _pass_lock.acquire(timeout=PASS_WAIT):
        raise ConcurrentBackwardError(
            f"backward() waited {PASS_WAIT:g} s for another thread's backward pass to end")


def _in_a_pass() -> bool:
    """Whether this thread is inside a float pass now (a partial that calls backward): its
    frames say so, and frames, unlike flags, cannot be left behind by an interrupt."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _PASS_CODE:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _marked(root: Value, mark: Any) -> bool:
    """Whether an interior node below ``root`` carries the marker of a running pass (read
    only). Inputs keep a finished pass's marker, so only interior nodes tell."""
    stack, seen = [root], set()
    while stack:
        v = stack.pop()
        if v.grad is mark:
            return True
        for p in _graph.operands(v):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return False


class _Mark(float):
    """A zero of one backward pass's own: the adjoint an interior node starts that pass with.

    ``node.grad is mark`` tells a node that this pass has reached from one that an earlier
    pass, finished or interrupted, left behind, so nothing needs resetting after a pass, and
    an interrupt can leave nothing half reset. It is 0.0 in every other respect.
    """

    __slots__ = ()


def _count_consumers(root: Value, mark: _Mark, hold_all: bool = False) -> list[Value]:
    """First half of Kahn's algorithm: ``_n`` of every interior node below ``root`` becomes the
    number of edges that lead into it from nodes above, and its adjoint starts at ``mark``.

    Inputs and constants are never counted or scheduled: they have nothing to pass on. So a
    parameter shared by many graphs is only ever written through its ``grad``.
    NOTE: an input's own slots are its journal: ``_a`` is set to the pass's mark and ``_n`` to
    the ``grad`` it had before, so that :func:`_restore_inputs` can undo an interrupted pass.
    An input has no operands, so nothing else reads these slots. Constants are journaled
    alike (they are never written): one test per edge is cheaper than telling them apart.

    Returns the inputs whose ``grad`` is a Value (left by ``create_graph=True``), and with
    ``hold_all`` (some input has a hook) every input: the pass holds their grads in the
    journal and starts them at 0.0, so that its loop meets floats only and sums only this
    pass's shares, and :func:`_add_shares` passes each sum through the input's hooks and
    adds it to the grad after the pass.
    """
    stack = [root]
    pop = stack.pop
    push = stack.append
    held: list[Value] = []
    value = Value
    # NOTE: the step per operand is written out in each branch, as in _reverse_pass: it runs
    # once per edge, and a helper call or a tuple of operands would cost more than the step.
    while stack:
        v = pop()
        arity = v._op.arity
        if arity < 0:  # variadic
            for a in v._a:
                op = a._op
                if op.arity:
                    if a.grad is mark:
                        a._n += 1
                    else:  # the first edge into a this pass
                        a.grad = mark
                        a._n = 1
                        push(a)
                elif a._a is not mark:  # an input or a constant: journal its grad
                    a._n = a.grad
                    a._a = mark
                    if type(a._n) is value or (hold_all and op is INPUT):
                        a.grad = 0.0
                        held.append(a)
            continue
        a = v._a
        op = a._op
        if op.arity:
            if a.grad is mark:
                a._n += 1
            else:
                a.grad = mark
                a._n = 1
                push(a)
        elif a._a is not mark:  # an input or a constant: journal its grad
            a._n = a.grad
            a._a = mark
            if type(a._n) is value or (hold_all and op is INPUT):
                a.grad = 0.0
                held.append(a)
        if arity == 2:
            b = v._b
            op = b._op
            if op.arity:
                if b.grad is mark:
                    b._n += 1
                else:
                    b.grad = mark
                    b._n = 1
                    push(b)
            elif b._a is not mark:
                b._n = b.grad
                b._a = mark
                if type(b._n) is value or (hold_all and op is INPUT):
                    b.grad = 0.0
                    held.append(b)
    return held


def _take_shares(held: list[Value]) -> list[Any]:
    """This pass's sums for the inputs it held (see :func:`_count_consumers`), each input's
    grad put back as it was before the pass. Interrupted, the pass's restore does the same."""
    shares = [a.grad for a in held]
    for a in held:
        a.grad = a._n
    return shares


def _add_shares(root: Value, held: list[Value], shares: list[Any]) -> None:
    """``grad += hooks(share)`` for the inputs that the pass held, after the pass itself.

    Every hook runs first, in the order the pass met the inputs, seeing each grad as it was
    before the pass (as PyTorch's do); the sums are written after, under the pass lock, to
    the grads as they are then, so what a pass that a hook ran added is kept. An exception
    in a hook leaves every grad without this pass's shares. A sum with a Value is recorded
    even inside no_grad, so that the grad stays a function of the inputs that can be
    differentiated again, as a ``create_graph`` pass leaves it. NOTE: the pass's own loop
    therefore never adds to, or tests the truth of, a Value."""
    for k, a in enumerate(held):
        hooks = a._b
        if type(hooks) is _Hooks and hooks.fns:
            shares[k] = _run_hooks(a, hooks, shares[k])
    _take_the_pass_lock(root)
    try:
        with recording():
            new = [share if type(a.grad) is float and a.grad == 0.0 else a.grad + share
                   for a, share in zip(held, shares)]  # noqa: B905 (both per held input)
        old = [(a, a.grad) for a in held]
        try:
            for a, grad in zip(held, new):  # noqa: B905 (the same list)
                a.grad = grad
        except BaseException:
            _undo(old)
            raise
    finally:
        _pass_lock.release()


def _undo(old: list[tuple[Value, Any]]) -> None:
    """Write back the grads in ``old``; idempotent, so an interrupt starts it over."""
    for _ in range(1000):
        try:
            for node, grad in old:
                node.grad = grad
            return
        except BaseException:  # an interrupt while undoing: undo again
            continue


def _restore_inputs(root: Value, mark: _Mark) -> None:
    """Give every input that the interrupted pass marked the ``grad`` it had before.

    Restoring is idempotent, so an interrupt during it (Ctrl-C pressed again) starts it over.
    NOTE: signals are not blocked meanwhile: a mask left in place by an interrupt at the
    wrong instant would disable Ctrl-C for good, which is worse than a restore tried again.
    """
    for _ in range(1000):
        try:
            for node in _graph.topological_order(root):
                if node._op is INPUT and node._a is mark:
                    node.grad = node._n
            return
        except BaseException:  # an interrupt while restoring: restore again
            continue


def _reverse_pass(root: Value) -> None:
    """Second half of Kahn's algorithm: a node is processed once every consumer has added its
    share to the node's adjoint, which is when its count falls to zero. Every count is back at
    zero at the end.

    NOTE: a node's first share is assigned, not added to 0.0, and a share through a partial of
    exactly 1 is the consumer's own adjoint object: one float operation less per edge, and no
    new float at all for the nodes of a sum (floats are immutable, so sharing is safe). An
    input's first share goes through ``float``, which returns a float as it is: an adjoint
    below a stop_gradient is :data:`~autograd_mini.rules.STRONG_ZERO` (so that an infinite
    partial there gives 0, not nan), and an input's grad is a plain float all the same.

    The step per operand is written out in each branch on purpose: this loop runs once per
    edge of the graph, and a helper call there would cost more than the step itself."""
    stack = [root]
    pop = stack.pop
    push = stack.append
    while stack:
        v = pop()
        rule = v._op
        g = v.grad
        d = rule.partials
        a = v._a
        if rule.arity == 2:
            b = v._b
            x = a.data
            y = b.data
            out = v.data
            op = a._op
            if op is not CONST:
                dp = d[0](x, y, out)
                if op.arity:
                    if a.grad:
                        a.grad += g * dp
                    else:
                        a.grad = g if dp == 1.0 else g * dp
                    a._n -= 1
                    if not a._n:
                        push(a)
                elif a.grad:
                    a.grad += g * dp
                else:
                    a.grad = float(g if dp == 1.0 else g * dp)
            op = b._op
            if op is not CONST:
                dp = d[1](x, y, out)
                if op.arity:
                    if b.grad:
                        b.grad += g * dp
                    else:
                        b.grad = g if dp == 1.0 else g * dp
                    b._n -= 1
                    if not b._n:
                        push(b)
                elif b.grad:
                    b.grad += g * dp
                else:
                    b.grad = float(g if dp == 1.0 else g * dp)
        elif rule.arity == 1:
            op = a._op
            if op is not CONST:
                dp = d[0](a.data, v.data)
                if op.arity:
                    if a.grad:
                        a.grad += g * dp
                    else:
                        a.grad = g if dp == 1.0 else g * dp
                    a._n -= 1
                    if not a._n:
                        push(a)
                elif a.grad:
                    a.grad += g * dp
                else:
                    a.grad = float(g if dp == 1.0 else g * dp)
        else:  # variadic: all partials at once, then the same step for every operand
            for p, dp in zip(a, d[0](list(map(_data, a)), v.data)):  # noqa: B905 (hot loop)
                op = p._op
                if op is not CONST:
                    if op.arity:
                        if p.grad:
                            p.grad += g * dp
                        else:
                            p.grad = g if dp == 1.0 else g * dp
                        p._n -= 1
                        if not p._n:
                            push(p)
                    elif p.grad:
                        p.grad += g * dp
                    else:
                        p.grad = float(g if dp == 1.0 else g * dp)



#: The frame of a float pass that calls user code: a partial is called from this loop alone
#: (it may call backward() of its own); inputs' hooks are called after the pass.
_PASS_CODE = _reverse_pass.__code__
