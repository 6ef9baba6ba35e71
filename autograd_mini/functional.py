"""Function transforms, as in JAX: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``,
``jacobian`` and ``hessian``.

Each transform runs the user's function once on fresh input nodes, then sweeps the graph it
built: forward (tangents, :func:`~autograd_mini.sweep.forward_sweep`) or reverse (adjoints,
:func:`~autograd_mini.sweep.reverse_sweep`). Both sweeps read the partials of the one rule
table.

Called with floats, a transform returns floats. Called with Values, or from inside another
transform, it evaluates the partials on Values and returns Values, so transforms nest:
``grad(grad(f))``, ``jacobian(grad(f))``, ``jvp`` of ``grad`` and so on.

NOTE: every call wraps its arguments in fresh nodes of its own (an input node for a number,
the identity ``+x`` for a Value) and keeps its tangents or adjoints in a dictionary of its own.
That is how nested derivatives are kept apart ("perturbation confusion"): in
d/dx [x · d/dy (x + y)], the inner derivative sees ``y``'s node and not ``x``'s, and is 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

from ._graph import operands, topological_order
from .cost import charge
from .engine import Value, computed_without_graph, constant, recording, to_float
from .sweep import forward_sweep, reverse_sweep

__all__ = ["grad", "hessian", "jacobian", "jvp", "value_and_grad", "vjp"]

ArgNums = int | Sequence[int]

_depth: ContextVar[int] = ContextVar("autograd_mini.transform_depth", default=0)


@contextmanager
def _inside_transform() -> Iterator[None]:
    token = _depth.set(_depth.get() + 1)
    try:
        with recording():
            yield
    finally:
        _depth.reset(token)


def _positions(argnums: ArgNums | None, n_args: int, who: str) -> tuple[int, ...]:
    """argnums as a tuple of valid, distinct positions (``None`` means every argument)."""
    if argnums is None:
        return tuple(range(n_args))
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"{who}: argnums must be ints, not {type(i).__name__}")
        if not -n_args <= i < n_args:
            raise ValueError(f"{who}: argnums {i} is out of range for {n_args} argument(s)")
    nums = tuple(i % n_args for i in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{who}: argnums {argnums} repeats a position")
    return nums


_TRANSFORM = "_autograd_mini_transform"

_F = TypeVar("_F", bound=Callable[..., Any])


def _transform(fn: _F) -> _F:
    """Mark ``fn`` as made by a transform, so that :func:`count_passes` counts the runs of the
    user's own function inside it, not its own runs as well."""
    setattr(fn, _TRANSFORM, True)
    return fn


class _Traced:
    """One run of ``f`` on fresh input nodes, and the graph it left behind."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], nums: tuple[int, ...],
                 who: str, extra_values: Sequence[Any] = ()) -> None:
        self.on_values = _depth.get() > 0 or any(
            isinstance(a, Value) for a in (*(args[i] for i in nums), *extra_values)
        )
        # NOTE: a float that is not differentiated becomes a constant node, so that f can call
        # Value methods on every numeric argument; ints and other objects pass unchanged.
        call_args = [constant(a) if type(a) is float else a for a in args]
        with _inside_transform():
            for i in nums:
                call_args[i] = _fresh(args[i], i, who)
            self.inputs: list[Value] = [call_args[i] for i in nums]
            out = f(*call_args)
        if not getattr(f, _TRANSFORM, False):  # grad(grad(f)) runs f once, and counts one
            charge(evaluations=1)
        self.scalar = not isinstance(out, (list, tuple))
        items = [out] if self.scalar else list(out)
        self.outputs: list[Value] = [_output(o, k, who) for k, o in enumerate(items)]
        self.order = topological_order(*self.outputs, *self.inputs)
        self._live: set[int] | None = None

    def reverse(self, seeds: dict[int, Any]) -> list[Any]:
        """One reverse pass from ``seeds`` (adjoints by output id): ∂/∂input for each input."""
        if self._live is None:  # the nodes that depend on an input: all adjoints need to reach
            live = {id(v) for v in self.inputs}
            for node in self.order:
                if id(node) not in live and any(id(p) in live for p in operands(node)):
                    live.add(id(node))
            self._live = live
        with recording():
            bar = reverse_sweep(self.order, seeds, self.on_values, live=self._live)
        return [self.result(bar.get(id(v), 0.0)) for v in self.inputs]

    def forward(self, seeds: dict[int, Any]) -> list[Any]:
        """One forward pass from ``seeds`` (tangents by input id): the tangent of each output."""
        with recording():
            dot = forward_sweep(self.order, seeds, self.on_values)
        return [self.result(dot.get(id(o), 0.0)) for o in self.outputs]

    def result(self, x: Any) -> Any:
        """A sweep's entry as the caller expects it: a float, or a Value when nesting."""
        if self.on_values:
            return x if isinstance(x, Value) else constant(x)
        return x.data if isinstance(x, Value) else float(x)

    def values(self) -> Any:
        vals = [self.result(o) for o in self.outputs]
        return vals[0] if self.scalar else vals


def _fresh(x: Any, i: int, who: str) -> Value:
    if isinstance(x, Value):
        return +x  # a new node (the identity rule pos) that still depends on x, for nesting
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(f"{who}: argument {i} must be a float or a Value, not {type(x).__name__}")


def _output(o: Any, k: int, who: str) -> Value:
    if isinstance(o, Value):
        if computed_without_graph(o):
            raise RuntimeError(
                f"{who}: output {k} of f was computed under no_grad(): no graph was recorded, "
                "so its derivative would be a silent 0. Compute it outside no_grad(), or use "
                "stop_gradient(...) where a derivative of 0 is meant")
        return o
    if isinstance(o, (int, float)) and not isinstance(o, bool):
        return constant(o)  # does not depend on the inputs
    raise TypeError(f"{who}: f must return a Value, a number, or a list or tuple of them; "
                    f"output {k} is a {type(o).__name__}")


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., tuple[Any, Any]]:
    """Like :func:`grad`, but the function returns ``(f(*args), gradient)``."""

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        nums = _positions(argnums, len(args), "grad")
        t = _Traced(f, args, nums, "grad")
        if not t.scalar:
            raise TypeError(f"grad: f must return a scalar, not a sequence of {len(t.outputs)} "
                            "values; use jacobian or vjp")
        grads = tuple(t.reverse({id(t.outputs[0]): 1.0}))
        return t.values(), (grads[0] if isinstance(argnums, int) else grads)

    return _transform(value_and_grad_f)


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The gradient of a scalar function, by one reverse pass.

    ``grad(f)(x, y)`` is ∂f/∂x; ``grad(f, argnums=(0, 1))(x, y)`` is the tuple (∂f/∂x, ∂f/∂y).
    Floats in give floats out; Values in give Values out, so ``grad(grad(f))`` works:

    >>> from autograd_mini import Value
    >>> d3_sin = grad(grad(grad(lambda x: x.sin())))
    >>> d3_sin(0.0)  # −cos 0
    -1.0
    """
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return _transform(grad_f)


def jvp(f: Callable[..., Any], primals: Sequence[Any],
        tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Forward mode: ``(f(x), J·ẋ)`` for inputs ``primals`` and a direction ``tangents``.

    One forward pass: every node's tangent is v̇ = Σ ∂v/∂xᵢ · ẋᵢ. For a vector-valued ``f``
    (a list or tuple of Values) both results are lists.

    >>> jvp(lambda x, y: x * y, (2.0, 5.0), (1.0, 0.0))  # ∂(xy)/∂x = y
    (10.0, 5.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    t = _Traced(f, primals, tuple(range(len(primals))), "jvp", extra_values=tangents)
    seeds = {id(v): (d if t.on_values and isinstance(d, Value) else to_float(d, "jvp tangent"))
             for v, d in zip(t.inputs, tangents, strict=True)}
    out_tangents = t.forward(seeds)
    return t.values(), (out_tangents[0] if t.scalar else out_tangents)


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """Reverse mode: ``(f(x), vjp_fn)``, where ``vjp_fn(ȳ)`` gives ȳᵀ·J, one entry per input.

    ``f`` runs once; each call of ``vjp_fn`` is one reverse pass over the same graph. For a
    scalar ``f``, ȳ is a number; for a vector-valued one, a sequence of numbers.

    >>> value, vjp_fn = vjp(lambda x, y: [x * y, x + y], 2.0, 5.0)
    >>> value, vjp_fn([1.0, 0.0]), vjp_fn([0.0, 1.0])
    ([10.0, 7.0], (5.0, 2.0), (1.0, 1.0))
    """
    t = _Traced(f, primals, tuple(range(len(primals))), "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        cotangents = [cotangent] if t.scalar else list(cotangent)
        if len(cotangents) != len(t.outputs):
            raise ValueError(f"vjp: f has {len(t.outputs)} outputs but the cotangent has "
                             f"{len(cotangents)} entries")
        seeds: dict[int, Any] = {}
        for o, c in zip(t.outputs, cotangents, strict=True):
            c = c if t.on_values and isinstance(c, Value) else to_float(c, "vjp cotangent")
            seeds[id(o)] = seeds[id(o)] + c if id(o) in seeds else c
        return tuple(t.reverse(seeds))

    return t.values(), vjp_fn


def jacobian(f: Callable[..., Any], mode: Literal["rev", "fwd"] = "rev",
             argnums: ArgNums | None = None) -> Callable[..., list[list[Any]]]:
    """The Jacobian J[i][j] = ∂fᵢ/∂xⱼ of f: ℝⁿ → ℝᵐ, as m rows of n entries.

    ``f`` takes n numbers and returns a list or tuple of m Values (a single Value counts as
    m = 1). ``mode="rev"`` makes one reverse pass per output, a row each; ``mode="fwd"`` one
    forward pass per input, a column each. Both give the same matrix; which is cheaper depends
    on m against n (see :func:`~autograd_mini.count_passes`). ``argnums`` picks the inputs
    (default: all).

    >>> jacobian(lambda x, y: [x * y, x + y], mode="fwd")(2.0, 5.0)
    [[5.0, 2.0], [1.0, 1.0]]
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', not {mode!r}")

    def jacobian_f(*args: Any) -> list[list[Any]]:
        nums = _positions(argnums, len(args), "jacobian")
        t = _Traced(f, args, nums, "jacobian")
        if mode == "rev":
            return [t.reverse({id(o): 1.0}) for o in t.outputs]
        columns = [t.forward({id(v): 1.0}) for v in t.inputs]
        return [[column[i] for column in columns] for i in range(len(t.outputs))]

    return _transform(jacobian_f)


def hessian(f: Callable[..., Any],
            argnums: ArgNums | None = None) -> Callable[..., list[list[Any]]]:
    """The matrix of second derivatives H[i][j] = ∂²f/∂xᵢ∂xⱼ of a scalar f.

    Forward over reverse: the Jacobian, by n forward passes, of the gradient, whose reverse
    pass is recorded as a graph. ``argnums`` picks the variables (default: all), so
    ``hessian(f)(*xs)`` is the full n × n matrix.

    >>> hessian(lambda x, y: x * x * y)(3.0, 2.0)  # [[2y, 2x], [2x, 0]]
    [[4.0, 6.0], [6.0, 0.0]]
    """

    def hessian_f(*args: Any) -> list[list[Any]]:
        nums = _positions(argnums, len(args), "hessian")
        gradient = grad(f, argnums=nums)
        gradient_list = _transform(lambda *xs: list(gradient(*xs)))
        return jacobian(gradient_list, mode="fwd", argnums=nums)(*args)

    return _transform(hessian_f)
