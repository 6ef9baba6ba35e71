"""Straight-line programs: a small, printable representation of a computation graph.

A :class:`Program` is an SSA list in the style of an evaluation trace. Nodes ``0 … n−1`` are the
inputs; each :class:`Instruction` after them is a new node that applies a rule of the table to
earlier nodes (so a node can be read many times: shared subexpressions, diamonds and fan-out),
or holds a constant. The same program runs on :class:`~autograd_mini.Value`\\ s and on sympy
symbols, which is what makes it useful for property tests: sympy's derivatives are an
independent oracle for the engine's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import Value, apply_rule
from ..rules import RULES

__all__ = ["Instruction", "Program"]


@dataclass(frozen=True)
class Instruction:
    """One node: ``op`` (a rule's name, or ``"const"``) applied to earlier nodes ``args``."""

    op: str
    args: tuple[int, ...] = ()
    value: float = 0.0  # the number, for op == "const"


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
        import sympy as sp

        if symbols is None:
            symbols = sp.symbols(f"x0:{self.n_inputs}", real=True)

        def apply(op: str, *args: Any) -> Any:
            form = RULES[op].sympy
            if form is None:
                raise ValueError(f"Program.to_sympy: op {op!r} has no sympy form; register "
                                 "it with primitive(..., sympy=lambda sp, x: ...)")
            return form(sp, *args)

        return self.evaluate(list(symbols), apply, const=sp.Rational)

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
        return f"Program(n_inputs={self.n_inputs}):\n" + str(self)
