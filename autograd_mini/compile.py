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
from .engine import Value, compiling, total
from .errors import CompileError, DomainError
from .rules import CODE_HELPERS, CONST, INPUT, RULES, STRONG_ZERO, VARIADIC, Rule

__all__ = ["CompileError", "Compiled", "CompiledBatch", "compile", "compile_batch",
           "compile_forward"]


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


class CompiledBatch:
    """A compiled per-sample trace: ``step(params, samples)`` runs the sample's code once per
    sample, in one loop of generated code, and returns ``(Σ value, Σ ∂value/∂params)`` over
    the samples, as floats. Any number of samples, so any batch size. ``.source`` is the
    generated code, ``.n_parameters`` and ``.n_sample`` the sizes it takes."""

    def __init__(self, source: str, function: Callable[..., tuple[float, tuple[float, ...]]],
                 n_parameters: int, n_sample: int, n_nodes: int) -> None:
        self.source = source
        self._function = function
        self.n_parameters = n_parameters
        self.n_sample = n_sample
        self.n_nodes = n_nodes

    def __call__(self, params: Sequence[float],
                 samples: Sequence[Sequence[float]]) -> tuple[float, tuple[float, ...]]:
        if len(params) != self.n_parameters:
            raise TypeError(f"the compiled batch takes {self.n_parameters} parameters, "
                            f"got {len(params)}")
        for k, sample in enumerate(samples):
            if len(sample) != self.n_sample:
                raise TypeError(f"sample {k} has {len(sample)} numbers; the compiled batch "
                                f"takes {self.n_sample} per sample")
        return self._function(params, samples)

    def __repr__(self) -> str:
        return (f"<Compiled per-sample trace of {self.n_parameters} parameters, "
                f"{self.n_sample} numbers per sample and {self.n_nodes} nodes>")


def _leaves(example_args: Sequence[float | Value]) -> list[Value]:
    """The trace's inputs: a leaf Value of the caller's is the input itself (a model's
    parameter, say); a number becomes a new input."""
    inputs = []
    for i, x in enumerate(example_args):
        if isinstance(x, Value):  # a leaf of the caller's, such as a model's parameter
            if x._op is not INPUT:
                raise CompileError(f"argument {i} is a computed Value; only inputs and "
                                   "parameters (leaves) can be arguments")
            inputs.append(x)
        else:
            inputs.append(Value(float(x)))
    return inputs


def _traced(f: Callable[..., Any], args: Sequence[Value]) -> Value:
    with compiling():  # a branch on a Value raises CompileError (Value.__bool__, __lt__, …)
        out = f(*args)
    if not isinstance(out, Value):
        raise CompileError(f"compile needs f to return a Value, not {type(out).__name__}")
    return out


class _Code:
    """The straight-line code of one traced graph: its primal lines, then its adjoint lines
    for the gradients of ``wanted`` inputs (the first ones of ``inputs``), named ``gx0``,
    ``gx1``, …. With ``accumulate``, those gradients are only ever added to (``+=``), so that
    code run once per sample sums them over a batch."""

    def __init__(self, out: Value, inputs: Sequence[Value], wanted: int,
                 accumulate: bool = False) -> None:
        order = topological_order(out)
        self.order, self.keys = order, _keys(order)
        names: dict[int, str] = {id(v): f"x{i}" for i, v in enumerate(inputs)}
        step = 0
        for v in order:  # intermediates are v1, v2, … in evaluation order, as in the trace
            if id(v) not in names:
                if v._op in (CONST, INPUT):
                    names[id(v)] = _literal(v.data)
                else:
                    step += 1
                    names[id(v)] = f"v{step}"
        self.names, self.result = names, names[id(out)]
        self.primal = []
        for v in order:
            if v._op.arity:
                args = [names[id(p)] for p in operands(v)]
                self.primal.append(
                    f"{names[id(v)]} = {_primal_code(v._op, self.keys[id(v._op)], args)}")
        self.adjoint = self._adjoint(out, inputs[:wanted], accumulate)
        self.grads = [f"gx{i}" for i in range(wanted)]

    def _adjoint(self, out: Value, wanted: Sequence[Value], accumulate: bool) -> list[str]:
        names, keys = self.names, self.keys
        lines: list[str] = []
        # The nodes whose adjoints reach a wanted input: no other adjoint is written. A node
        # below a stop_gradient, one made from closed-over values alone, or (per sample) one
        # made from the sample alone would be a dead line.
        useful = {id(x) for x in wanted}
        for v in self.order:
            if v._op.arity and any(
                    id(p) in useful and not (v._op.surrogate and _partial_code(
                        v._op, keys[id(v._op)], [names[id(q)] for q in operands(v)],
                        names[id(v)], i) == "_zero")
                    for i, p in enumerate(operands(v))):
                useful.add(id(v))
        grads: dict[int, str] = {id(x): f"gx{i}" for i, x in enumerate(wanted)} \
            if accumulate else {}
        written = set(grads)  # accumulated gradients exist before the code runs
        if id(out) not in useful:  # no adjoint reaches a wanted input: every gradient is 0
            return lines
        if id(out) in written:  # the result is a wanted input itself
            lines.append(f"{grads[id(out)]} += 1.0")
            return lines
        root = "g" + names[id(out)].lstrip("v")
        grads[id(out)] = root
        lines.append(f"{root} = 1.0")
        reached = {id(out): root}
        consumer: Value | None = None
        for v, i, p, _ in reverse_edges(self.order, None, reached=reached):
            if id(p) not in useful:
                continue  # its adjoint would reach no wanted input
            if v is not consumer:  # the operands' names, once per consumer
                consumer, args = v, [names[id(q)] for q in operands(v)]
            g = grads[id(v)]
            partial = _partial_code(v._op, keys[id(v._op)], args, names[id(v)], i)
            if partial == "_zero":  # the strong zero: the edge carries nothing
                continue
            term = g if partial == "1.0" else (f"-{g}" if partial == "-1.0"
                                                else f"{g} * ({partial})")
            target = grads.get(id(p))
            if target is None:
                target = "g" + names[id(p)].lstrip("v")  # g5 for v5, gx0 for x0
                grads[id(p)] = target
            reached[id(p)] = target
            if id(p) in written:
                lines.append(f"{target} += {term}")
            else:
                written.add(id(p))
                lines.append(f"{target} = {term}")
        return lines

    def function(self, source: str) -> Any:
        namespace = _namespace(self.order, self.keys)
        exec(builtins.compile(source, "<autograd_mini.compile>", "exec"), namespace)
        return namespace["compiled"]


def compile(f: Callable[..., Any],
            example_args: Sequence[float | Value]) -> Compiled:
    """Trace ``f`` (which takes Values and returns a scalar Value) at ``example_args`` and
    return its forward and backward pass as straight-line Python; see the module docstring.

    An example argument may be an existing leaf Value, such as a model's parameter: it is then
    the input itself, so ``compile(lambda *_: loss(model), model.parameters())`` compiles a
    model's loss as a function of its parameters."""
    inputs = _leaves(example_args)
    out = _traced(f, inputs)
    code = _Code(out, inputs, len(inputs))
    body = [f"    {line}" for line in code.primal + code.adjoint]
    written = {line.split(" ", 1)[0] for line in code.adjoint}
    result = [g if g in written else "0.0" for g in code.grads]
    params = ", ".join(f"x{i}" for i in range(len(inputs)))
    tail = ", ".join(result) + ("," if len(result) == 1 else "")
    source = "\n".join([f"def compiled({params}):", *body,
                        f"    return {code.result}, ({tail})"])
    return Compiled(source, code.function(source), len(inputs), len(code.order))


def _check_parameters(parameters: Sequence[Value]) -> None:
    for i, p in enumerate(parameters):
        if not isinstance(p, Value) or p._op is not INPUT:
            raise CompileError(f"parameter {i} must be a leaf Value (an input or a "
                               "parameter)")


def _tuple(names: Sequence[str]) -> str:
    """The names as a Python tuple: ``(a, b)``, ``(a,)`` or ``()``."""
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


def _sample_loop(k: int, n: int, before: Sequence[str], each: Sequence[str],
                 after: Sequence[str]) -> str:
    """The source of ``compiled(params, samples)``: the ``k`` parameters unpacked once as
    ``x0 … x{k−1}``, the lines ``before``, then ``each`` once per sample, whose ``n`` numbers
    are ``x{k} … x{k+n−1}``, and the lines ``after``."""
    head = [f"    {_tuple([f'x{i}' for i in range(k)])} = params"] if k else []
    loop = f"for {_tuple([f'x{k + j}' for j in range(n)])} in samples:" if n \
        else "for _ in samples:"
    return "\n".join(["def compiled(params, samples):", *head,
                      *(f"    {line}" for line in before), f"    {loop}",
                      *(f"        {line}" for line in each),
                      *(f"    {line}" for line in after)])


def compile_batch(f: Callable[..., Any], parameters: Sequence[Value],
                  example_sample: Sequence[float]) -> CompiledBatch:
    """Trace one sample's loss ``f(*sample)`` (a scalar Value of the sample's numbers and of
    the leaf Values ``parameters``, which ``f`` reads, such as a model's) at
    ``example_sample``, and compile it once for every batch: the generated code loops over
    the samples and accumulates the loss and its gradient with respect to the parameters.

    Why per sample: a batch is the same small graph again and again, so tracing one sample
    keeps the code, and the time and memory to make it, the size of one sample's graph, and
    any batch size runs on it, a last partial batch included. The contract is
    :func:`compile`'s: the trace holds while ``f``'s control flow does not depend on the
    values, here the sample's as well as the parameters'.

    >>> from autograd_mini import Value
    >>> w = Value(0.5)
    >>> step = compile_batch(lambda x, y: (w * x - y) ** 2, [w], [1.0, 0.0])
    >>> step([2.0], [(1.0, 1.0), (3.0, 0.0)])   # Σ (wx − y)² = 1 + 36; Σ 2(wx − y)x = 2 + 36
    (37.0, (38.0,))
    """
    _check_parameters(parameters)
    sample = [Value(float(x)) for x in example_sample]
    inputs = [*parameters, *sample]
    out = _traced(f, sample)
    code = _Code(out, inputs, len(parameters), accumulate=True)
    k = len(parameters)
    source = _sample_loop(k, len(sample),
                          [*([f"{' = '.join(code.grads)} = 0.0"] if k else []), "s = 0.0"],
                          [*code.primal, f"s += {code.result}", *code.adjoint],
                          [f"return s, {_tuple(code.grads)}"])
    return CompiledBatch(source, code.function(source), k, len(sample), len(code.order))


def compile_forward(f: Callable[..., Any], parameters: Sequence[Value],
                    example_sample: Sequence[float]) -> Callable[..., list[tuple[float, ...]]]:
    """Trace ``f(*sample)``, which returns a list of Values (a model's outputs), at
    ``example_sample``, and compile its forward pass alone: ``forward(params, samples)``
    returns each sample's outputs as a tuple of floats, with no graph and no gradient. It is
    how a compiled training run measures its accuracy, as fast as its steps.

    >>> from autograd_mini import Value
    >>> w = Value(0.5)
    >>> forward = compile_forward(lambda x: [w * x, (w * x).tanh()], [w], [1.0])
    >>> forward([2.0], [(0.0,), (1.0,)])[1] == (2.0, math.tanh(2.0))
    True
    """
    _check_parameters(parameters)
    sample = [Value(float(x)) for x in example_sample]
    with compiling():
        outs = list(f(*sample))
    if not outs or not all(isinstance(o, Value) for o in outs):
        raise CompileError("compile_forward needs f to return a list of Values")
    inputs = [*parameters, *sample]
    root = _traced(lambda: total(outs) if len(outs) > 1 else outs[0], ())
    code = _Code(root, inputs, 0)
    source = _sample_loop(len(parameters), len(sample), ["out = []"],
                          [*code.primal,
                           f"out.append({_tuple([code.names[id(o)] for o in outs])})"],
                          ["return out"])
    function: Callable[..., list[tuple[float, ...]]] = code.function(source)
    return function
