"""The compiled trace: a graph written once as straight-line Python for its forward and
backward pass.

``compile(f, example_args)`` runs ``f`` once on Values, then writes the evaluation trace of the
graph it built as code: one assignment per primal vᵢ in evaluation order, then one per adjoint
step v̄ⱼ += v̄ᵢ·∂vᵢ/∂vⱼ in reverse, from the rule table's code templates. The result maps new
argument values to ``(value, gradients)`` with plain floats and no node objects at all, which
is as fast as Python arithmetic gets: the hand-written backprop of the same graph.

The contract, as with ``jax.jit``: the trace is valid while ``f``'s Python control flow does not
depend on the values. relu, abs and the other kinks are ops, not control flow, so they compile.
A Value used as a Python ``bool`` or compared (``<``, ``max(v, w)``, ``sorted``) while
tracing is refused with :class:`CompileError`; code that reads ``.data`` to decide what to
compute cannot be detected, and its choice at the
example point is what is compiled. Values that ``f`` reads but does not take as arguments
(closed-over parameters, say) are compiled as constants.

Safety: the executed source is made only of the rule table's templates, generated variable
names and numeric literals. Labels and other user strings never reach it.

>>> step = compile(lambda x, y: x * y + x.sin(), [2.0, 3.0])
>>> print(step.source)
def compiled(x0, x1):
    v1 = x0 * x1
    v2 = _p_sin(x0)
    v3 = v1 + v2
    g3 = 1.0
    g1 = g3
    g2 = g3
    gx0 = g2 * (_p_cos(x0))
    gx0 += g1 * (x1)
    gx1 = g1 * (x0)
    return v3, (gx0, gx1)
>>> value, (dx, dy) = step(0.0, 5.0)   # at a new point: d/dx = y + cos x, d/dy = x
>>> value, dx, dy
(0.0, 6.0, 0.0)
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

from ._graph import operands, reverse_edges, topological_order
from .engine import Value, compiling
from .errors import CompileError, DomainError
from .rules import CODE_HELPERS, CONST, INPUT, RULES, STRONG_ZERO, VARIADIC, Rule

__all__ = ["CompileError", "Compiled", "compile"]


def _literal(x: float) -> str:
    if math.isnan(x):
        return "_nan"
    if math.isinf(x):
        return "_inf" if x > 0 else "(-_inf)"
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _checked(rule: Rule) -> Callable[..., float]:
    """The rule's primal with its domain check, raising the engine's DomainError."""
    def primal(*xs: float) -> float:
        if rule.domain is not None:
            reason = rule.domain(*xs)
            if reason is not None:
                raise DomainError(rule, xs, reason)
        return rule.primal(*xs)

    return primal


def _keys(order: Sequence[Value]) -> dict[int, str]:
    """A name for each rule of the graph, by the rule object's id: the rule's own name, with
    a suffix for a second rule of the same name (a row replaced after some nodes were made)."""
    keys: dict[int, str] = {}
    used: set[str] = set()
    for v in order:
        rule = v._op
        if rule.arity and id(rule) not in keys:
            key, k = rule.name, 1
            while key in used:
                k += 1
                key = f"{rule.name}__{k}"
            keys[id(rule)] = key
            used.add(key)
    return keys


def _namespace(order: Sequence[Value], keys: dict[int, str]) -> dict[str, Any]:
    """What the generated code may call: the raw primal of every row of the table
    (``_p_NAME``, for code templates), and, for each rule of the graph itself, its primal with
    the domain check (``_f_KEY``) and its partials (``_dI_KEY``, or ``_d_KEY`` for a variadic
    rule); then the few helpers the templates may use."""
    helpers: dict[str, Any] = {"_sum": sum, "abs": abs, "_inf": math.inf, "_nan": math.nan,
                               "_zero": STRONG_ZERO}
    space: dict[str, Any] = {"__builtins__": {}, **{k: helpers[k] for k in CODE_HELPERS}}
    for name, rule in RULES.items():
        space[f"_p_{name}"] = rule.primal
    done: set[int] = set()
    for v in order:
        rule = v._op
        if not rule.arity or id(rule) in done:
            continue
        done.add(id(rule))
        key = keys[id(rule)]
        space[f"_p_{rule.name}"] = rule.primal  # the graph's own rule, if it was replaced
        space[f"_f_{key}"] = _checked(rule)
        if rule.arity == VARIADIC:
            space[f"_d_{key}"] = rule.partials[0]
        else:
            for i, d in enumerate(rule.partials):
                space[f"_d{i}_{key}"] = d
    return space


def _primal_code(rule: Rule, key: str, names: Sequence[str]) -> str:
    if rule.domain is None and rule.code:
        return rule.code(names) if callable(rule.code) else rule.code.format(*names)
    return f"_f_{key}({', '.join(names)})"


def _partial_code(rule: Rule, key: str, names: Sequence[str], out: str, i: int) -> str:
    if rule.partials_code:
        if callable(rule.partials_code):
            return rule.partials_code(names, i)
        return rule.partials_code[i].format(*names, out=out)
    if rule.arity == VARIADIC:
        return f"_d_{key}([{', '.join(names)}], {out})[{i}]"
    return f"_d{i}_{key}({', '.join(names)}, {out})"


class Compiled:
    """A compiled trace: call it with floats for ``(value, gradients)``; ``.source`` is the
    generated code, ``.n_inputs`` the number of arguments and ``.n_nodes`` the graph's size."""

    def __init__(self, source: str, function: Callable[..., tuple[float, tuple[float, ...]]],
                 n_inputs: int, n_nodes: int) -> None:
        self.source = source
        self._function = function
        self.n_inputs = n_inputs
        self.n_nodes = n_nodes

    def __call__(self, *args: float) -> tuple[float, tuple[float, ...]]:
        if len(args) != self.n_inputs:
            raise TypeError(f"the compiled function takes {self.n_inputs} arguments, "
                            f"got {len(args)}")
        return self._function(*args)

    def __repr__(self) -> str:
        return f"<Compiled trace of {self.n_inputs} inputs and {self.n_nodes} nodes>"


def compile(f: Callable[..., Any],
            example_args: Sequence[float | Value]) -> Compiled:
    """Trace ``f`` (which takes Values and returns a scalar Value) at ``example_args`` and
    return its forward and backward pass as straight-line Python; see the module docstring.

    An example argument may be an existing leaf Value, such as a model's parameter: it is then
    the input itself, so ``compile(lambda *_: loss(model), model.parameters())`` compiles a
    model's loss as a function of its parameters."""
    inputs = []
    for i, x in enumerate(example_args):
        if isinstance(x, Value):  # a leaf of the caller's, such as a model's parameter
            if x._op is not INPUT:
                raise CompileError(f"argument {i} is a computed Value; only inputs and "
                                   "parameters (leaves) can be arguments")
            inputs.append(x)
        else:
            inputs.append(Value(float(x)))
    with compiling():  # a branch on a Value raises CompileError (Value.__bool__, __lt__, …)
        out = f(*inputs)
    if not isinstance(out, Value):
        raise CompileError(f"compile needs f to return a Value, not {type(out).__name__}")
    order = topological_order(out)
    keys = _keys(order)
    names: dict[int, str] = {id(v): f"x{i}" for i, v in enumerate(inputs)}
    step = 0
    for v in order:  # intermediates are v1, v2, … in evaluation order, as in the trace
        if id(v) not in names:
            if v._op in (CONST, INPUT):
                names[id(v)] = _literal(v.data)
            else:
                step += 1
                names[id(v)] = f"v{step}"
    lines = []
    for v in order:
        if v._op.arity:
            args = [names[id(p)] for p in operands(v)]
            lines.append(f"{names[id(v)]} = {_primal_code(v._op, keys[id(v._op)], args)}")
    grads: dict[int, str] = {}
    input_ids = {id(x) for x in inputs}
    # The nodes whose adjoints reach an input: no other adjoint is written. A node below a
    # stop_gradient, or one made from closed-over values alone, would be a dead line.
    useful = set(input_ids)
    for v in order:
        if v._op.arity and any(
                id(p) in useful and not (v._op.surrogate and _partial_code(
                    v._op, keys[id(v._op)], [names[id(q)] for q in operands(v)], names[id(v)],
                    i) == "_zero")
                for i, p in enumerate(operands(v))):
            useful.add(id(v))
    if id(out) in useful:  # else no adjoint reaches an input: every gradient is 0
        root = "g" + names[id(out)].lstrip("v")
        grads[id(out)] = root
        lines.append(f"{root} = 1.0")
    consumer: Value | None = None
    for v, i, p, _ in reverse_edges(order, None, reached=grads):
        if id(p) not in useful:
            continue  # its adjoint would reach no input
        if v is not consumer:  # the operands' names, once per consumer
            consumer, args = v, [names[id(q)] for q in operands(v)]
        g = grads[id(v)]
        partial = _partial_code(v._op, keys[id(v._op)], args, names[id(v)], i)
        if partial == "_zero":  # the strong zero: the edge carries nothing (stop_gradient)
            continue
        term = g if partial == "1.0" else (f"-{g}" if partial == "-1.0"
                                            else f"{g} * ({partial})")
        target = grads.get(id(p))
        if target is None:
            target = "g" + names[id(p)].lstrip("v")
            grads[id(p)] = target
            lines.append(f"{target} = {term}")
        else:
            lines.append(f"{target} += {term}")
    result = [grads.get(id(x), "0.0") for x in inputs]
    params = ", ".join(f"x{i}" for i in range(len(inputs)))
    body = "\n".join(f"    {line}" for line in lines)
    tail = ", ".join(result) + ("," if len(result) == 1 else "")
    source = "\n".join([f"def compiled({params}):", *([body] if body else []),
                        f"    return {names[id(out)]}, ({tail})"])
    namespace = _namespace(order, keys)
    exec(builtins.compile(source, "<autograd_mini.compile>", "exec"), namespace)
    return Compiled(source, namespace["compiled"], len(inputs), len(order))
