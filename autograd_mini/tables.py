"""The evaluation trace (Wengert list) of a graph: primal, tangent and adjoint tables.

The backprop literature writes a function such as f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2) as a
list of elementary steps, numbered in the style of Griewank and Walther: the n inputs are
v₋ₙ₊₁ … v₀ and the intermediates v₁ … vₗ, in evaluation order. Three tables follow:

* primal:  vᵢ = φᵢ(operands) and its value;
* tangent (forward mode, for a direction ẋ):  v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ;
* adjoint (reverse mode):  v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ, swept from the output back to the inputs.
  A node read by several others receives one incremental step (``+=``) per reader.

Published tables are written by hand and drift from the arithmetic; these are computed, by the
same partials of the rule table that the engine uses. Formulas are written with each rule's
display templates; a constant appears as a number, not as an input, and a rule may fold it
into a partial (pow writes ∂(x³)/∂x as ``3 · v₀ ** 2``).

>>> from autograd_mini import Value
>>> x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
>>> v = x1 * x2
>>> print(trace(v + v.exp() - x2.sin()).to_text(sections=("primal",)))
Primal trace
  v₋₁ =  x1         2
  v₀  =  x2         5
  v₁  =  v₋₁ · v₀   10
  v₂  =  exp(v₁)    22026.5
  v₃  =  v₁ + v₂    22036.5
  v₄  =  sin(v₀)    -0.958924
  v₅  =  v₃ − v₄    22037.4

How numbers are written, and why:

* A constant in a formula is written exactly, as its shortest repr: ``123456789``, ``0.1``,
  ``1e-7``, ``2`` (not ``2.0``), and ``(-2.5)`` in brackets when negative. It is part of the
  formula, so rounding it would change the formula.
* A value is written with ``precision`` significant digits (6 by default), and with more where
  fewer would make a formula of the trace look wrong. A reader checks a row by redoing its
  arithmetic with the numbers the tables show for its operands. The operands must be shown
  precisely enough that their rounding moves the row's result by at most one unit in the
  last digit the result is shown with: then every digit of the result is significant, and
  the reader's number and the table's agree to the last digit, give or take one (the
  result's own rounding adds half a unit). A result of 0 must come out 0. Where a row fails,
  the operand whose rounding costs most (the one that, written in full, brings the row
  closest) gets one more digit, and so on until every row passes or its operands are
  written in full. The operands that may get digits are those the row's formula names:
  ∂z/∂wₖ of a neuron's z = Σ w·a + b is written aₖ, so its step reads v̄ and aₖ. The row of
  a variadic op itself (that Σ, or a ``total``) is not redone: with many terms and some
  cancellation, agreeing to one unit would need nearly every digit of every operand, and no
  reader redoes a 33-term sum by hand. At a given precision a value is written the same in
  every table and rendering of a trace, so tables shown one at a time still agree.
  Ordinary values stay short: above, v₃ − v₄ redone is 22036.5 + 0.958924 = 22037.459,
  within a unit of the exact 22037.425, so 22036.5 needs no more digits. Where a formula
  cancels, the digits it needs appear: tanh 9 written as ``1`` would give 1 − 1² = 0 for
  the adjoint's partial, not 6.09199e-8, so it is written 0.99999996954:

  >>> x = Value(3.0, label="x")
  >>> print(trace((x * x).tanh()))
  Primal trace
    v₀ =  x                3
    v₁ =  v₀ · v₀          9
    v₂ =  tanh(v₁)         0.99999996954
  <BLANKLINE>
  Adjoint trace (reverse mode)
    v̄₂ =  1                1
    v̄₁ =  v̄₂ · (1 − v₂²)   6.09199e-8
    v̄₀ =  v̄₁ · v₀          1.8276e-7
    v̄₀ += v̄₁ · v₀          3.6552e-7

* No number is written with more digits than its shortest repr (at most 17), so
  ``precision=17`` still writes 0.1 as ``0.1``; exponents are short (``1e-7``, ``1e+22``); and a
  zero is ``0``, never ``-0``.

A node whose operands sit exactly on a kink of its op (relu or abs at 0, maximum at a tie)
has no derivative there: the partial the engine uses is a subgradient, a convention. The
tangent and adjoint rows that use it are marked ‡, and a note under the tables says which
partial was taken:

>>> w = Value(0.0, label="w")
>>> print(trace((w.relu() + 1) * w).to_text(sections=("adjoint",)))
Adjoint trace (reverse mode)
  v̄₃ =  1               1
  v̄₂ =  v̄₃ · v₀         0
  v̄₀ =  v̄₃ · v₂         1
  v̄₁ =  v̄₂              0
  v̄₀ += v̄₁ · [v₀ > 0]   1   ‡
<BLANKLINE>
‡ v₁ = relu(v₀) is at a kink of relu (v₀ = 0), where it has no derivative: the marked
  rows use ∂v₁/∂v₀ = 0 there, a subgradient.

With ``full=True`` the tangent table writes every term of the chain rule, v̇ⱼ · ∂vᵢ/∂vⱼ for
every operand vⱼ that is a variable, also where v̇ⱼ = 0; by default terms of operands that no
direction reaches are left out (and a row with none left is ``0``). The adjoint table always
has one row per edge, a zero contribution included; only constants, which have no adjoint,
have no row.
"""

from __future__ import annotations

import html
import math
import textwrap
import unicodedata
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._graph import local_partials, operands, reverse_edges, topological_order, wengert
from .anomaly import at_kink
from .engine import Value
from .rules import CONST, INPUT, VARIADIC
from .sweep import forward_sweep, times

__all__ = ["AdjointRow", "PrimalRow", "TangentRow", "Trace", "node_name", "trace"]

Direction = Value | str | Mapping[Value | str, float]

SECTIONS = ("primal", "tangent", "adjoint")

#: The default ``precision``: the fewest significant digits a value is written with.
PRECISION = 6
#: The most significant digits a float needs to be written exactly (its repr needs at most 17).
FULL = 17

#: A number of the tables: (table, node id) for a primal or a tangent, ("adjoint", row number)
#: for the running adjoint after one step of the reverse sweep.
Key = tuple[str, int]
Shown = Callable[[Key], float]


@dataclass(frozen=True)
class PrimalRow:
    """vᵢ = φᵢ(operands): ``node`` and its ``value``."""

    index: int
    node: Value
    value: float


@dataclass(frozen=True)
class TangentRow:
    """v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ over the operands at positions ``terms``: those that carry a
    tangent, or with ``full=True`` every operand that is a variable (not a constant)."""

    index: int
    node: Value
    terms: tuple[int, ...]
    value: float


@dataclass(frozen=True)
class AdjointRow:
    """One step of the reverse sweep: v̄ⱼ (``node``) ``=`` or ``+=`` v̄ᵢ · ∂vᵢ/∂vⱼ, where vᵢ is
    ``consumer`` and vⱼ its operand at ``position``. ``value`` is v̄ⱼ after the step. The first
    row (``consumer`` None) seeds the output: v̄ₗ = 1."""

    index: int
    node: Value
    consumer: Value | None
    position: int
    accumulate: bool
    value: float


@dataclass(frozen=True)
class _Check:
    """One row's arithmetic, for the rule that chooses the digits (see the module docstring):
    ``recompute(shown)`` redoes the row from the numbers ``shown(key)`` for the keys in
    ``operands``, and should give the number at ``result``."""

    result: Key
    operands: tuple[Key, ...]
    recompute: Callable[[Shown], float]


class Trace:
    """The evaluation trace of ``root``; see the module docstring. Build one with
    :func:`autograd_mini.trace`.

    ``wrt`` chooses the tangent direction ẋ: an input Value or its label (ẋ = 1 there and 0
    elsewhere), or a mapping from inputs or labels to numbers. Without it there is no tangent
    table. ``full=True`` writes every term of the chain rule in the tangent table, zero
    terms included (the adjoint table has every edge either way).
    """

    def __init__(self, root: Value, wrt: Direction | None = None, *, full: bool = False) -> None:
        self.root = root
        self.full = full
        self.nodes, self.index = wengert(root)
        self.inputs: list[Value] = [v for v in self.nodes if v._op is INPUT]
        self.intermediates: list[Value] = [v for v in self.nodes if v._op is not INPUT]
        order = topological_order(root)
        self.primals = [PrimalRow(self.index[id(v)], v, v.data) for v in self.nodes]
        self.direction = None if wrt is None else self._direction(wrt)
        #: The tangents by node id, of the nodes that a direction reaches (the others' are 0).
        self._dot: dict[int, float] = {}
        self.tangents = [] if self.direction is None else self._tangent_rows(order)
        self.adjoints = self._adjoint_rows(order)
        #: The steps whose operands sit exactly on a kink of their op, in trace order.
        self.kinks: list[Value] = [v for v in self.intermediates if at_kink(v)]
        self._digits_for: dict[int, dict[Key, int]] = {}

    # -- building ------------------------------------------------------------------------------

    def _direction(self, wrt: Direction) -> dict[int, float]:
        by_label = {v.label: v for v in self.inputs if v.label is not None}

        def find(key: Value | str) -> Value:
            if isinstance(key, Value):
                if id(key) not in self.index or key._op is not INPUT:
                    raise ValueError("trace: wrt must name an input of this graph")
                return key
            if key not in by_label:
                known = ", ".join(sorted(by_label)) or "none"
                raise ValueError(f"trace: no input labelled {key!r} (inputs: {known})")
            return by_label[key]

        if isinstance(wrt, (Value, str)):
            return {id(find(wrt)): 1.0}
        return {id(find(k)): float(d) for k, d in wrt.items()}

    def _tangent_rows(self, order: list[Value]) -> list[TangentRow]:
        assert self.direction is not None
        dot = forward_sweep(order, dict(self.direction), on_values=False)
        self._dot = {key: float(t) for key, t in dot.items()}
        rows = []
        for v in self.nodes:
            if v._op is INPUT:
                terms: tuple[int, ...] = ()
            elif self.full:
                terms = tuple(i for i, p in enumerate(operands(v)) if p._op is not CONST)
            else:
                terms = tuple(i for i, p in enumerate(operands(v)) if id(p) in dot)
            rows.append(TangentRow(self.index[id(v)], v, terms, self._dot.get(id(v), 0.0)))
        return rows

    def _adjoint_rows(self, order: list[Value]) -> list[AdjointRow]:
        """The reverse sweep, one row per edge, with running totals (floats)."""
        root = self.root
        if root._op is CONST:
            return []
        bar: dict[int, float] = {id(root): 1.0}
        rows = [AdjointRow(self.index[id(root)], root, None, 0, False, 1.0)]
        for v, i, p, partial in reverse_edges(order):
            step = bar.get(id(v), 0.0) * partial
            accumulate = id(p) in bar
            bar[id(p)] = bar[id(p)] + step if accumulate else step
            rows.append(AdjointRow(self.index[id(p)], p, v, i, accumulate, bar[id(p)]))
        return rows

    @property
    def gradient(self) -> dict[str, float]:
        """∂f/∂x for every input, by label (or by its v-name when unlabelled)."""
        final: dict[int, float] = {}
        for row in self.adjoints:
            final[id(row.node)] = row.value
        return {self._input_name(v): final.get(id(v), 0.0) for v in self.inputs}

    def _input_name(self, v: Value) -> str:
        return v.label if v.label is not None else _TEXT.var(self.index[id(v)])

    # -- how many digits each number gets ------------------------------------------------------

    def _values(self) -> dict[Key, float]:
        values: dict[Key, float] = {("primal", id(r.node)): r.value for r in self.primals}
        values.update({("tangent", id(r.node)): r.value for r in self.tangents})
        values.update({("adjoint", k): r.value for k, r in enumerate(self.adjoints)})
        return values

    def _checks(self, partials: _Partials) -> list[_Check]:
        """The arithmetic of every row that has some: the ops of the primal table, the chain
        rule of the tangent table and the steps of the adjoint table."""
        # NOTE: a variadic op's own row (a neuron's Σ w·a + b, a total) is not redone: with
        # many terms and cancellation, agreeing to one unit would need nearly every digit
        # of every operand (a 2-16-16-1 network's weights all went to 17), and no reader
        # redoes a 33-term sum by hand. Its partials (aₖ, wₖ, 1) and steps still are.
        checks = [_primal_check(v) for v in self.intermediates if v._op.arity != VARIADIC]
        if self.direction is not None:
            checks += [_tangent_check(v, self._dot) for v in self.intermediates]
        last: dict[int, int] = {}  # the row of each node's latest adjoint
        for k, row in enumerate(self.adjoints):
            if row.consumer is not None:
                before = last[id(row.node)] if row.accumulate else None
                checks.append(_adjoint_check(k, row, last[id(row.consumer)], before, partials))
            last[id(row.node)] = k
        return checks

    def _digits(self, precision: int) -> dict[Key, int]:
        """The significant digits of every number of the trace, by the rule of the module
        docstring: start every number at ``precision``; while a row disagrees, give one more
        digit to the operand whose rounding costs it most. Digits only grow, and no number
        gets more than it needs to be exact, so this ends."""
        if not (isinstance(precision, int) and 1 <= precision <= FULL):
            raise ValueError(f"trace: precision is a number of significant digits, 1 to "
                             f"{FULL}, not {precision!r}")
        memo = self._digits_for.get(precision)
        if memo is not None:
            return memo
        values = self._values()
        digits = dict.fromkeys(values, precision)
        exact: dict[Key, int] = {}
        written = {key: _rounded(x, precision) for key, x in values.items()}  # as shown
        shown = written.__getitem__
        partials = _Partials(self.nodes, shown)
        checks = self._checks(partials)
        readers: dict[Key, list[int]] = {}
        for n, c in enumerate(checks):
            for key in (c.result, *c.operands):
                readers.setdefault(key, []).append(n)
        queue = deque(range(len(checks)))
        queued = set(queue)
        while queue:
            n = queue.popleft()
            queued.discard(n)
            c = checks[n]
            result = values[c.result]
            if _agrees(_redo(c, shown), result, digits[c.result]):
                continue
            short = []
            for k in c.operands:
                if k not in exact:
                    exact[k] = _exact_digits(values[k])
                if digits[k] < exact[k]:
                    short.append(k)
            if not short:
                continue  # every operand is written in full: nothing more to show
            key = min(short, key=lambda k: _miss(c, k, values, shown))
            digits[key] += 1
            written[key] = _rounded(values[key], digits[key])
            partials.changed(key)
            for m in readers.get(key, ()):
                if m not in queued:
                    queue.append(m)
                    queued.add(m)
        self._digits_for[precision] = digits
        return digits

    # -- rendering -----------------------------------------------------------------------------

    def _lines(self, fmt: _Format, sections: Sequence[str],
               precision: int) -> list[tuple[str, str, str, str, float, int, str]]:
        """(section, left-hand side, ``=`` or ``+=``, formula, value, its digits, mark) for
        every row of the chosen sections; the mark is ``‡`` on a row that uses a partial at
        a kink, else empty."""
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"trace: unknown sections {unknown}; choose from {SECTIONS}")
        digits = self._digits(precision)
        kinks = {id(v) for v in self.kinks}
        out: list[tuple[str, str, str, str, float, int, str]] = []
        if "primal" in sections:
            for row in self.primals:
                out.append(("primal", fmt.var(row.index), "=", self._definition(row.node, fmt),
                            row.value, digits[("primal", id(row.node))], ""))
        if "tangent" in sections and self.direction is not None:
            for t in self.tangents:
                mark = KINK if id(t.node) in kinks and t.terms else ""
                out.append(("tangent", fmt.dot(fmt.var(t.index)), "=", self._tangent(t, fmt),
                            t.value, digits[("tangent", id(t.node))], mark))
        if "adjoint" in sections:
            for k, a in enumerate(self.adjoints):
                lhs = fmt.bar(fmt.var(a.index))
                d = digits[("adjoint", k)]
                if a.consumer is None:
                    out.append(("adjoint", lhs, "=", "1", a.value, d, ""))
                else:
                    mark = KINK if id(a.consumer) in kinks else ""
                    out.append(("adjoint", lhs, "+=" if a.accumulate else "=",
                                self._adjoint(a, fmt), a.value, d, mark))
        return out

    def _kink_notes(self, fmt: _Format, lines: Sequence[tuple[Any, ...]],
                    wrap: bool = False) -> list[str]:
        """One note per kink that a shown row used: which partial was taken there; for a
        terminal, wrapped to lines of 88 columns."""
        if not any(line[-1] for line in lines):
            return []
        notes = []
        for v in self.kinks:
            args = operands(v)
            name = fmt.var(self.index[id(v)])
            at = ", ".join(f"{self._name(p, fmt)} = {_number_text(p.data)}" for p in args
                           if p._op is not CONST)
            ds = local_partials(v, on_values=False)
            used = ", ".join(f"∂{name}/∂{self._name(p, fmt)} = {_number_text(float(d))}"
                             for p, d in zip(args, ds, strict=True) if p._op is not CONST)
            note = (f"{KINK} {name} = {self._definition(v, fmt)} is at a kink of "
                    f"{v._op.name} ({at}), where it has no derivative: the marked rows use "
                    f"{used} there, a subgradient.")
            notes += textwrap.wrap(note, 88, subsequent_indent="  ") if wrap else [note]
        return notes

    def _name(self, node: Value, fmt: _Format) -> str:
        if node._op is CONST:
            return fmt.number(node.data)
        return fmt.var(self.index[id(node)])

    def _definition(self, node: Value, fmt: _Format) -> str:
        if node._op is INPUT:
            return fmt.label(node.label) if node.label is not None else fmt.number(node.data)
        return node._op.format([self._name(p, fmt) for p in operands(node)], fmt.latex)

    def _partial(self, node: Value, position: int, fmt: _Format) -> str:
        names = [self._name(p, fmt) for p in operands(node)]
        return node._op.format_partial(position, names, self._name(node, fmt), fmt.latex)

    def _tangent(self, row: TangentRow, fmt: _Format) -> str:
        node = row.node
        if node._op is INPUT:
            return fmt.number(self.direction.get(id(node), 0.0) if self.direction else 0.0)
        args = operands(node)
        terms = [(self._partial(node, i, fmt), fmt.dot(self._name(args[i], fmt)))
                 for i in row.terms]
        return _sum_of_products(terms, fmt) if terms else "0"

    def _adjoint(self, row: AdjointRow, fmt: _Format) -> str:
        assert row.consumer is not None
        partial = self._partial(row.consumer, row.position, fmt)
        return _sum_of_products([(partial, fmt.bar(self._name(row.consumer, fmt)))], fmt)

    def to_text(self, precision: int = PRECISION, sections: Sequence[str] = SECTIONS) -> str:
        """Plain text for a terminal: one block per table, formulas aligned.

        ``precision`` is the fewest significant digits a value is written with; a value gets
        more where a formula of the trace needs them (see the module docstring)."""
        lines = self._lines(_TEXT, sections, precision)
        width_lhs = max((_width(line[1]) for line in lines), default=0)
        width_formula = max((_width(line[3]) for line in lines), default=0)
        out: list[str] = []
        current = None
        for section, lhs, op, formula, value, digits, mark in lines:
            if section != current:
                if out:
                    out.append("")
                out.append(self._title(section))
                current = section
            out.append(f"  {_pad(lhs, width_lhs)} {op:<2} {_pad(formula, width_formula)}   "
                       f"{_number_text(value, digits)}{'   ' + mark if mark else ''}".rstrip())
        notes = self._kink_notes(_TEXT, lines, wrap=True)
        return "\n".join(out + (["", *notes] if notes else []))

    def _title(self, section: str) -> str:
        if section == "primal":
            return "Primal trace"
        if section == "tangent":
            seeds = ", ".join(f"{self._input_name(v)}: {_number_text(self.direction[id(v)])}"
                              for v in self.inputs if self.direction and id(v) in self.direction)
            return f"Tangent trace (forward mode, ẋ = {{{seeds}}})"
        return "Adjoint trace (reverse mode)"

    def to_markdown(self, precision: int = PRECISION,
                    sections: Sequence[str] = SECTIONS) -> str:
        """Markdown tables with inline LaTeX, for notebooks and documents; ``precision`` as in
        :meth:`to_text`."""
        out: list[str] = []
        current = None
        lines = self._lines(_LATEX, sections, precision)
        for section, lhs, op, formula, value, digits, mark in lines:
            if section != current:
                if out:
                    out.append("")
                out += [f"**{self._title(section)}**", "", "| step | value |", "|---|---:|"]
                current = section
            out.append(f"| ${lhs} {_latex_op(op)} {formula}$ | {_number_text(value, digits)}"
                       f"{' ' + mark if mark else ''} |")
        notes = self._kink_notes(_TEXT, lines)
        return "\n".join(out + (["", *notes] if notes else []))

    def to_latex(self, precision: int = PRECISION, sections: Sequence[str] = SECTIONS) -> str:
        """An ``aligned`` block per table, ready to paste between ``$$`` or into an equation;
        ``precision`` as in :meth:`to_text`."""
        blocks: list[str] = []
        rows: list[str] = []
        current = None
        for section, lhs, op, formula, value, digits, mark in self._lines(_LATEX, sections,
                                                                          precision):
            if section != current and rows:
                blocks.append(_aligned(rows))
                rows = []
            current = section
            rows.append(f"{lhs} &{_latex_op(op)} {formula} && = {_latex_number(value, digits)}"
                        f"{_LATEX_KINK if mark else ''}")
        if rows:
            blocks.append(_aligned(rows))
        return "\n\n".join(blocks)

    def _repr_html_(self) -> str:
        parts = []
        current = None
        lines = self._lines(_HTML, SECTIONS, PRECISION)
        for section, lhs, op, formula, value, digits, mark in lines:
            if section != current:
                if current is not None:
                    parts.append("</tbody></table>")
                parts.append(f"<table><caption style='text-align:left'><b>"
                             f"{html.escape(self._title(section))}</b></caption><tbody>")
                current = section
            parts.append(f"<tr><td style='text-align:left'>{lhs}</td><td>{op}</td>"
                         f"<td style='text-align:left'>{formula}</td>"
                         f"<td style='text-align:right'>{_number_text(value, digits)}</td>"
                         f"<td>{mark}</td></tr>")
        if current is not None:
            parts.append("</tbody></table>")
        parts += [f"<p>{note}</p>" for note in self._kink_notes(_HTML, lines)]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Trace of {len(self.inputs)} inputs and {len(self.intermediates)} steps; "
                f"print() it for the tables>")


def trace(root: Value, wrt: Direction | None = None, *, full: bool = False) -> Trace:
    """The evaluation trace of ``root``; see :class:`Trace`."""
    return Trace(root, wrt, full=full)


#: The mark of a row that uses a partial at a kink, and how LaTeX writes it.
KINK = "‡"
_LATEX_KINK = r" \quad \ddagger"




# ---------------------------------------------------------------------------------------------
# Each row's arithmetic, redone from the numbers the tables show
# ---------------------------------------------------------------------------------------------


def _operand_keys(node: Value) -> tuple[Key, ...]:
    return tuple(("primal", id(p)) for p in operands(node) if p._op is not CONST)


def _shown_operands(node: Value, shown: Shown) -> list[float]:
    """The operands' values as the tables show them; a constant is written exactly."""
    return [p.data if p._op is CONST else shown(("primal", id(p))) for p in operands(node)]


def _shown_partials(node: Value, shown: Shown) -> list[float]:
    """The node's local partials, from the rule table, at the values the tables show."""
    rule = node._op
    xs = _shown_operands(node, shown)
    out = shown(("primal", id(node)))
    if rule.arity == VARIADIC:
        return list(rule.partials[0](xs, out))
    return [d(*xs, out) for d in rule.partials]


def _primal_check(node: Value) -> _Check:
    def recompute(shown: Shown) -> float:
        return node._op.primal(*_shown_operands(node, shown))

    return _Check(("primal", id(node)), _unique(_operand_keys(node)), recompute)


def _tangent_check(node: Value, dot: Mapping[int, float]) -> _Check:
    """v̇ = Σ ∂v/∂xᵢ · ẋᵢ over the operands that carry a tangent, summed in the order of the
    forward sweep. A zero term that ``full`` writes adds nothing (even where its partial is
    infinite: the sweep leaves it out), so it is left out here too."""
    args = operands(node)
    carried = [i for i, p in enumerate(args) if id(p) in dot]

    def recompute(shown: Shown) -> float:
        if not carried:
            return 0.0
        ds = _shown_partials(node, shown)
        total = 0.0
        for k, i in enumerate(carried):
            term = times(shown(("tangent", id(args[i]))), ds[i])
            total = term if k == 0 else total + term
        return float(total)

    keys = (*_operand_keys(node), ("primal", id(node)),
            *(("tangent", id(args[i])) for i in carried))
    return _Check(("tangent", id(node)), _unique(keys), recompute)


def _adjoint_check(k: int, row: AdjointRow, consumer_row: int, before: int | None,
                   partials: _Partials) -> _Check:
    """v̄ⱼ (=|+=) v̄ᵢ · ∂vᵢ/∂vⱼ: row ``k``, where ``consumer_row`` holds v̄ᵢ and ``before``, for
    a ``+=`` step, the row of v̄ⱼ before it.

    The operands that may get more digits are those the row's formula names: ∂z/∂wₖ of a
    neuron's Σ w·a + b is written aₖ, so the step reads v̄ and aₖ, not every input of z."""
    consumer = row.consumer
    assert consumer is not None

    def recompute(shown: Shown) -> float:
        step = shown(("adjoint", consumer_row)) * partials.at(consumer, row.position, shown)
        return step if before is None else shown(("adjoint", before)) + step

    keys = ((("adjoint", before),) if before is not None else ()) + (
        ("adjoint", consumer_row), *_named_in_partial(consumer, row.position))
    return _Check(("adjoint", k), _unique(keys), recompute)


def _named_in_partial(node: Value, position: int) -> tuple[Key, ...]:
    """The numbers that ∂node/∂(operand ``position``) is written with: the operands (and the
    result, ``{out}``) whose names appear in its display, found by writing it with names that
    cannot be mistaken for one another."""
    args = operands(node)
    marks = [f"\x00{k}\x00" for k in range(len(args))]
    text = node._op.format_partial(position, marks, "\x00out\x00")
    keys: list[Key] = [("primal", id(p)) for p, mark in zip(args, marks, strict=True)
                       if p._op is not CONST and mark in text]
    if "\x00out\x00" in text:
        keys.append(("primal", id(node)))
    return tuple(keys)


class _Partials:
    """The local partials of a node at the numbers the tables show, kept until one of those
    numbers changes: a neuron's Σ w·a + b has 2n + 1 of them, which every one of its 2n + 1
    adjoint steps reads, and working them out for each would take n² steps per neuron."""

    def __init__(self, nodes: Sequence[Value], shown: Shown) -> None:
        #: the numbers as the tables show them; partials read with any other (a row redone
        #: with one operand in full, to choose which gets a digit) are not kept
        self.shown = shown
        self._kept: dict[int, list[float]] = {}
        #: the nodes whose partials read each node's primal: its consumers and itself
        self._readers: dict[int, list[int]] = {}
        for v in nodes:
            self._readers.setdefault(id(v), []).append(id(v))
            for p in operands(v):
                self._readers.setdefault(id(p), []).append(id(v))

    def at(self, node: Value, position: int, shown: Shown) -> float:
        if shown is not self.shown:
            return _shown_partials(node, shown)[position]
        kept = self._kept.get(id(node))
        if kept is None:
            kept = self._kept[id(node)] = _shown_partials(node, shown)
        return kept[position]

    def changed(self, key: Key) -> None:
        """A number is shown with one more digit: forget the partials that read it."""
        if key[0] == "primal":
            for reader in self._readers.get(key[1], ()):
                self._kept.pop(reader, None)


def _unique(keys: Sequence[Key]) -> tuple[Key, ...]:
    return tuple(dict.fromkeys(keys))


def _redo(check: _Check, shown: Shown) -> float:
    """The row redone from ``shown``; nan where the shown numbers leave an op's domain."""
    try:
        return float(check.recompute(shown))
    except (ArithmeticError, ValueError):
        return math.nan


def _miss(check: _Check, key: Key, values: Mapping[Key, float], shown: Shown) -> float:
    """How far ``check``'s row is off when operand ``key`` is written in full."""
    redone = _redo(check, lambda k: values[k] if k == key else shown(k))
    off = abs(redone - values[check.result])
    return off if off == off else math.inf


def _agrees(redone: float, result: float, digits: int) -> bool:
    """Whether the operands' rounding costs the row at most one unit in the last of the
    ``digits`` digits its result is written with: ``redone`` (the row redone from the numbers
    shown) is that close to the exact ``result``. A result of 0 must come out 0, and inf or
    nan the same inf or nan."""
    if not (math.isfinite(result) and math.isfinite(redone)):
        return redone == result or (redone != redone and result != result)
    written = _rounded(result, digits)
    if written == 0.0:
        return redone == 0.0
    exponent = int(f"{written:.{digits - 1}e}".partition("e")[2])
    unit = 10.0 ** (exponent - digits + 1)
    return abs(redone - result) <= unit * (1.0 + 1e-9)  # the slack: the subtraction's rounding


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


def _rounded(x: float, digits: int) -> float:
    """``x`` as it reads when written to ``digits`` significant digits (−0 reads as 0)."""
    return float(f"{x:.{digits}g}") + 0.0


def _exact_digits(x: float) -> int:
    """The fewest significant digits that write ``x`` exactly (those of its shortest repr)."""
    if not math.isfinite(x):
        return 1
    for digits in range(1, FULL):
        if float(f"{x:.{digits}g}") == x:
            return digits
    return FULL


def _number_text(x: float, digits: int = FULL) -> str:
    """``x`` to ``digits`` significant digits, but no more than it needs to be exact, with a
    short exponent: ``2``, ``0.1``, ``123456789``, ``1e-7``, ``-2.5``, ``3.65519e-7``. A zero
    is ``0``, whatever its sign."""
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    exact = _exact_digits(x)
    if exact >= digits:
        text = f"{x:.{digits}g}"
    else:  # the digits of the shortest repr, laid out as :g would (as repr does for FULL)
        power = int(f"{x:.{exact - 1}e}".partition("e")[2])
        if -4 <= power < min(digits, 16):
            text = f"{x:.{max(exact - 1 - power, 0)}f}"
        else:
            text = f"{x:.{exact - 1}e}"
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    power = int(exponent)
    return f"{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"


def _latex_number(x: float, digits: int = FULL) -> str:
    """:func:`_number_text` in LaTeX: ``3.65519 \\times 10^{-7}``, ``\\infty``."""
    if x != x:
        return r"\mathrm{nan}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    text = _number_text(x, digits)
    mantissa, e, exponent = text.partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if e else text


class _Constant(str):
    """How a constant operand is named in a formula: its number, written exactly, that also
    carries the number itself in ``value``. Display functions receive names only; with this, a
    rule's ``display_partial`` can fold a constant in (pow writes ∂(x³)/∂x as ``3 · x ** 2``,
    not ``3 · x ** (3 − 1)``), and every other use sees a plain string."""

    value: float

    def __new__(cls, text: str, value: float) -> _Constant:
        name = super().__new__(cls, text)
        name.value = value
        return name


# ---------------------------------------------------------------------------------------------
# Formats: how names, numbers and decorations are written
# ---------------------------------------------------------------------------------------------

_SUB = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")


def node_name(index: int) -> str:
    """The trace's name for node ``index`` as plain text: ``node_name(-1) == "v₋₁"``."""
    return "v" + str(index).translate(_SUB)


@dataclass(frozen=True)
class _Format:
    var: Callable[[int], str]
    dot: Callable[[str], str]
    bar: Callable[[str], str]
    label: Callable[[str], str]
    latex: bool
    times: str

    def number(self, x: float) -> str:
        """A constant, written exactly (in brackets when negative) and carrying its value."""
        text = _latex_number(x) if self.latex else _number_text(x)
        return _Constant(f"({text})" if x < 0 else text, x)


_TEXT = _Format(
    var=node_name,
    dot=lambda name: _decorate(name, "\u0307"),
    bar=lambda name: _decorate(name, "\u0304"),
    label=lambda s: s,
    latex=False,
    times=" · ",
)
_LATEX = _Format(
    var=lambda i: f"v_{{{i}}}",
    dot=lambda name: rf"\dot{{v}}{name[1:]}" if name.startswith("v_") else name,
    bar=lambda name: rf"\bar{{v}}{name[1:]}" if name.startswith("v_") else name,
    label=lambda s: rf"\mathrm{{{s}}}",
    latex=True,
    times=r" \cdot ",
)
_HTML = _Format(
    var=lambda i: f"v<sub>{i}</sub>".replace("-", "−"),
    dot=lambda name: _decorate(name, "\u0307"),
    bar=lambda name: _decorate(name, "\u0304"),
    label=lambda s: html.escape(s),
    latex=False,
    times=" · ",
)


def _decorate(name: str, mark: str) -> str:
    """Put a combining mark (dot or bar) on the leading ``v`` of a node's name; a number
    (a constant) is left as it is."""
    return "v" + mark + name[1:] if name.startswith("v") else name


def _sum_of_products(terms: list[tuple[str, str]], fmt: _Format) -> str:
    """Σ partial · carried, written without ``1 ·`` and with ``−`` for a partial of −1."""
    pieces = []
    for partial, carried in terms:
        if partial == "1":
            piece = carried
        elif partial in ("−1", "-1"):
            piece = f"−{carried}" if not fmt.latex else f"-{carried}"
        else:
            piece = f"{carried}{fmt.times}{_wrap(partial)}"
        pieces.append(piece)
    text = pieces[0]
    for piece in pieces[1:]:
        text += f" − {piece[1:]}" if piece.startswith(("−", "-")) else f" + {piece}"
    return text


def _wrap(partial: str) -> str:
    """Parenthesise a partial that is a sum, difference or quotient, so that v̄ · (1 − v²)
    and v̄ · (1 / v) read right."""
    depth = 0
    for k, ch in enumerate(partial):
        depth += ch in "({"
        depth -= ch in ")}"
        if depth == 0 and k > 0 and ch in "+−-/" and partial[k - 1] == " ":
            return f"({partial})"
    return partial


def _width(text: str) -> int:
    """Columns on a terminal: combining marks (the dot of v̇, the bar of v̄) take none."""
    return sum(not unicodedata.combining(ch) for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _latex_op(op: str) -> str:
    return "=" if op == "=" else r"\mathrel{+}="


def _aligned(rows: list[str]) -> str:
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
