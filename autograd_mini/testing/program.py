"""Straight-line programs: a small, printable representation of a computation graph.

A :class:`Program` is an SSA list in the style of an evaluation trace. Nodes ``0 … n−1`` are the
inputs; each :class:`Instruction` after them is a new node that applies a rule of the table to
earlier nodes (so a node can be read many times: shared subexpressions, diamonds and fan-out),
or holds a constant. The same program runs on :class:`~autograd_mini.Value`\\ s, on sympy
symbols, and on any micrograd-like class of one's own (:meth:`Program.run_on`), which is what
makes it useful for property tests: sympy's derivatives are an independent oracle for the
engine's, and for anyone's engine.

``str(program)`` is the trace a person reads; ``repr(program)`` is Python that rebuilds it, so
a failing example that hypothesis prints can be pasted into a test:

>>> p = Program(1, (Instruction("add", (0, 0)),))
>>> print(p)
v1 = x0 + x0
return v1
>>> p
Program(1, (Instruction('add', (0, 0)),))
>>> eval(repr(p)) == p
True
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import Value, apply_rule
from ..rules import RULES
from .forms import exact, import_sympy, sympy_form

__all__ = ["Instruction", "Program", "UnsupportedOpError", "supported_ops"]

#: How the ops that are Python operators run on a class of one's own: the function, and the
#: special methods the class needs (the reflected one too, since a constant may come first).
OPERATORS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "add": (operator.add, ("__add__", "__radd__")),
    "sub": (operator.sub, ("__sub__", "__rsub__")),
    "mul": (operator.mul, ("__mul__", "__rmul__")),
    "div": (operator.truediv, ("__truediv__", "__rtruediv__")),
    "pow": (operator.pow, ("__pow__", "__rpow__")),
    "neg": (operator.neg, ("__neg__",)),
    "pos": (operator.pos, ("__pos__",)),
    "abs": (operator.abs, ("__abs__",)),
}

#: The variadic ops, written with operators: Σ xᵢ as x₁ + x₂ + …, and Σ wₖaₖ + b likewise.
SPELLED_OUT: dict[str, tuple[str, ...]] = {"sum": ("add",), "dot": ("add", "mul")}


class UnsupportedOpError(NotImplementedError):
    """A program uses an op that the class it runs on does not have."""


def _needs(op: str, methods: Mapping[str, Any]) -> list[str]:
    """The attributes a class needs to run ``op``."""
    if op in methods:
        return [] if callable(methods[op]) else [str(methods[op])]
    if op in OPERATORS:
        return list(OPERATORS[op][1])
    if op in SPELLED_OUT:
        return [name for part in SPELLED_OUT[op] for name in OPERATORS[part][1]]
    return [op]


def supported_ops(cls: type, ops: Sequence[str] | None = None,
                  methods: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The ops of the table (or of ``ops``) that :meth:`Program.run_on` can run on ``cls``:
    the operators it defines (``__add__`` and ``__radd__`` for add), and the methods named as
    the rules are (``x.exp()``, ``x.relu()``). ``sum`` and ``dot`` are spelled out with + and
    ·. ``methods`` maps an op to another method name, or to a function of the operands.

    >>> class Tiny:
    ...     def __init__(self, data): self.data = data
    ...     def __add__(self, other): ...
    ...     __radd__ = __add__
    ...     def tanh(self): ...
    >>> supported_ops(Tiny)
    ('add', 'sum', 'tanh')
    """
    given = methods or {}
    names = sorted(RULES) if ops is None else list(ops)
    return tuple(op for op in names
                 if all(callable(getattr(cls, need, None)) for need in _needs(op, given)))


@dataclass(frozen=True)
class Instruction:
    """One node: ``op`` (a rule's name, or ``"const"``) applied to earlier nodes ``args``."""

    op: str
    args: tuple[int, ...] = ()
    value: float = 0.0  # the number, for op == "const"

    def __repr__(self) -> str:
        if self.op == "const":
            return f"Instruction('const', value={_number(self.value)})"
        return f"Instruction({self.op!r}, {self.args!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis and IPython print with this: the repr, rather than every field
        printer.text(repr(self))


def _number(x: float) -> str:
    """A float as Python that evaluates to it: ``float('inf')`` for infinities and NaN."""
    return repr(x) if math.isfinite(x) else f"float({str(x)!r})"


@dataclass(frozen=True)
class Program:
    """Inputs ``x0 … x{n−1}``, then ``body``; the result is node ``output`` (default: last)."""

    n_inputs: int
    body: tuple[Instruction, ...]
    output: int = -1

    def __post_init__(self) -> None:
        for k, ins in enumerate(self.body):
            here = self.n_inputs + k
            if ins.op != "const":
                rule = RULES.get(ins.op)
                if rule is None:
                    raise ValueError(f"instruction {here}: unknown op {ins.op!r}")
                if rule.arity >= 0 and len(ins.args) != rule.arity:
                    raise ValueError(f"instruction {here}: {ins.op} takes {rule.arity} "
                                     f"operand(s), got {len(ins.args)}")
            if any(not 0 <= a < here for a in ins.args):
                raise ValueError(f"instruction {here}: operands must name earlier nodes")

    def evaluate(self, xs: Sequence[Any], apply: Callable[..., Any],
                 const: Callable[[float], Any] = float) -> Any:
        """Run the program: ``apply(op, *operands)`` computes each op, ``const(c)`` makes each
        constant. The interpretation decides what the values are."""
        if len(xs) != self.n_inputs:
            raise TypeError(f"program takes {self.n_inputs} inputs, got {len(xs)}")
        nodes = list(xs)
        for ins in self.body:
            if ins.op == "const":
                nodes.append(const(ins.value))
            else:
                nodes.append(apply(ins.op, *(nodes[a] for a in ins.args)))
        return nodes[self.output]

    def __call__(self, *xs: Any) -> Any:
        """Evaluate on Values (numbers are wrapped into Values)."""
        inputs = [x if isinstance(x, Value) else Value(x) for x in xs]
        return self.evaluate(inputs, lambda op, *args: apply_rule(RULES[op], *args))

    def to_sympy(self, symbols: Sequence[Any] | None = None) -> Any:
        """The program as a sympy expression in ``symbols`` (default ``x0 … x{n−1}``, real).

        Each op is translated by its row's ``sympy`` form, which defines the op's *value*;
        sympy derives the derivatives from it, independently of the row's partials, so
        sympy's derivatives check the table's. A row without a sympy form raises ValueError.
        """
        sp = import_sympy("Program.to_sympy")
        if symbols is None:
            symbols = sp.symbols(f"x0:{self.n_inputs}", real=True)

        def apply(op: str, *args: Any) -> Any:
            return sympy_form(RULES[op], "Program.to_sympy")(sp, *args)

        return self.evaluate(list(symbols), apply, const=lambda c: exact(sp, c))

    def run_on(self, cls: type, *xs: Any, methods: Mapping[str, Any] | None = None) -> Any:
        """Run the program on a class of one's own, such as a micrograd-style ``Value``.

        Each input is ``cls(x)`` (or ``x`` itself if it is already one); constants stay plain
        floats, so the class meets them as ``x * 2.0`` or ``2.0 - x``, through its reflected
        operators. Ops run through the class's operators (``+ − · / ** −x +x abs``) and
        methods named as the rules are (``x.exp()``, ``x.relu()``, ``x.maximum(y)``);
        ``sum`` and ``dot`` are spelled out with ``+`` and ``·``. ``methods`` maps an op to
        another method name, or to a function of the operands. An op whose operands are all
        constants is folded to a float by the table. Returns the output, on which the
        caller runs ``backward()``.

        An op the class lacks raises :class:`UnsupportedOpError` before anything runs, naming
        what is missing; :func:`supported_ops` lists the ops a class can run.
        """
        given = methods or {}
        for k, ins in enumerate(self.body):
            if ins.op != "const":
                missing = [n for n in _needs(ins.op, given)
                           if not callable(getattr(cls, n, None))]
                if missing:
                    raise UnsupportedOpError(
                        f"{cls.__name__} has no {' or '.join(missing)}, so node "
                        f"v{self.n_inputs + k} ({ins.op}) cannot run on it; draw programs from "
                        f"the ops it has, dags(ops=supported_ops({cls.__name__}))")
        inputs = [x if isinstance(x, cls) else cls(x) for x in xs]

        def apply(op: str, *args: Any) -> Any:
            if not any(isinstance(a, cls) for a in args):  # constants only: fold
                return RULES[op].primal(*(float(a) for a in args))
            if op in given:
                how = given[op]
                return how(*args) if callable(how) else _method(cls, str(how), args)
            if op in OPERATORS:
                return OPERATORS[op][0](*args)
            if op == "sum":
                return _chain(args)
            if op == "dot":
                n = len(args) // 2
                return _chain([*(w * a for w, a in zip(args[:n], args[n:2 * n],
                                                      strict=True)), args[-1]])
            return _method(cls, op, args)

        return self.evaluate(inputs, apply)

    def __str__(self) -> str:
        """One line per op, in evaluation-trace style; constants are written inline."""
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = []
        for k, ins in enumerate(self.body):
            if ins.op == "const":  # in parentheses when negative: −(−2.0), x · (−2.0)
                names.append(repr(ins.value) if ins.value >= 0 else f"({ins.value!r})")
                continue
            name = f"v{self.n_inputs + k}"
            lines.append(f"{name} = {RULES[ins.op].format([names[a] for a in ins.args])}")
            names.append(name)
        lines.append(f"return {names[self.output]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        body = ", ".join(map(repr, self.body)) + ("," if len(self.body) == 1 else "")
        output = "" if self.output == -1 else f", output={self.output}"
        return f"Program({self.n_inputs}, ({body}){output})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis prints a failing example with this: Python that rebuilds the program
        printer.text(repr(self))

def _chain(terms: Sequence[Any]) -> Any:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _method(cls: type, name: str, args: Sequence[Any]) -> Any:
    """``first.name(*rest)``; a constant first operand is made a ``cls`` to call it on."""
    first, *rest = args
    receiver = first if isinstance(first, cls) else cls(first)
    return getattr(receiver, name)(*rest)
