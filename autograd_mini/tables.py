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
display templates. Constants appear as numbers, not as inputs.

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
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ._graph import operands, reverse_edges, topological_order, wengert
from .engine import Value
from .rules import CONST, INPUT
from .sweep import forward_sweep

__all__ = ["AdjointRow", "PrimalRow", "TangentRow", "Trace", "node_name", "trace"]

Direction = Value | str | Mapping[Value | str, float]

SECTIONS = ("primal", "tangent", "adjoint")


@dataclass(frozen=True)
class PrimalRow:
    """vᵢ = φᵢ(operands): ``node`` and its ``value``."""

    index: int
    node: Value
    value: float


@dataclass(frozen=True)
class TangentRow:
    """v̇ᵢ = Σⱼ ∂vᵢ/∂vⱼ · v̇ⱼ over the operands that carry a tangent (positions ``terms``)."""

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


class Trace:
    """The evaluation trace of ``root``; see the module docstring. Build one with
    :func:`autograd_mini.trace`.

    ``wrt`` chooses the tangent direction ẋ: an input Value or its label (ẋ = 1 there and 0
    elsewhere), or a mapping from inputs or labels to numbers. Without it there is no tangent
    table.
    """

    def __init__(self, root: Value, wrt: Direction | None = None) -> None:
        self.root = root
        self.nodes, self.index = wengert(root)
        self.inputs: list[Value] = [v for v in self.nodes if v._op is INPUT]
        self.intermediates: list[Value] = [v for v in self.nodes if v._op is not INPUT]
        order = topological_order(root)
        self.primals = [PrimalRow(self.index[id(v)], v, v.data) for v in self.nodes]
        self.direction = None if wrt is None else self._direction(wrt)
        self.tangents = [] if self.direction is None else self._tangent_rows(order)
        self.adjoints = self._adjoint_rows(order)

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
        rows = []
        for v in self.nodes:
            if v._op is INPUT:
                terms: tuple[int, ...] = ()
            else:
                terms = tuple(i for i, p in enumerate(operands(v)) if id(p) in dot)
            rows.append(TangentRow(self.index[id(v)], v, terms, float(dot.get(id(v), 0.0))))
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

    # -- rendering -----------------------------------------------------------------------------

    def _lines(self, fmt: _Format,
               sections: Sequence[str]) -> list[tuple[str, str, str, str, float]]:
        """(section, left-hand side, ``=`` or ``+=``, formula, value) for every row of the
        chosen sections."""
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"trace: unknown sections {unknown}; choose from {SECTIONS}")
        out: list[tuple[str, str, str, str, float]] = []
        if "primal" in sections:
            for row in self.primals:
                out.append(("primal", fmt.var(row.index), "=", self._definition(row.node, fmt),
                            row.value))
        if "tangent" in sections and self.direction is not None:
            for t in self.tangents:
                out.append(("tangent", fmt.dot(fmt.var(t.index)), "=", self._tangent(t, fmt),
                            t.value))
        if "adjoint" in sections:
            for a in self.adjoints:
                lhs = fmt.bar(fmt.var(a.index))
                if a.consumer is None:
                    out.append(("adjoint", lhs, "=", "1", a.value))
                else:
                    out.append(("adjoint", lhs, "+=" if a.accumulate else "=",
                                self._adjoint(a, fmt), a.value))
        return out

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

    def to_text(self, precision: int = 6,
                sections: Sequence[str] = SECTIONS) -> str:
        """Plain text for a terminal: one block per table, formulas aligned."""
        lines = self._lines(_TEXT, sections)
        width_lhs = max((_width(lhs) for _, lhs, _, _, _ in lines), default=0)
        width_formula = max((_width(f) for _, _, _, f, _ in lines), default=0)
        out: list[str] = []
        current = None
        for section, lhs, op, formula, value in lines:
            if section != current:
                if out:
                    out.append("")
                out.append(self._title(section))
                current = section
            out.append(f"  {_pad(lhs, width_lhs)} {op:<2} {_pad(formula, width_formula)}   "
                       f"{value:.{precision}g}".rstrip())
        return "\n".join(out)

    def _title(self, section: str) -> str:
        if section == "primal":
            return "Primal trace"
        if section == "tangent":
            seeds = ", ".join(f"{self._input_name(v)}: {self.direction[id(v)]:g}"
                              for v in self.inputs if self.direction and id(v) in self.direction)
            return f"Tangent trace (forward mode, ẋ = {{{seeds}}})"
        return "Adjoint trace (reverse mode)"

    def to_markdown(self, precision: int = 6, sections: Sequence[str] = SECTIONS) -> str:
        """Markdown tables with inline LaTeX, for notebooks and documents."""
        out: list[str] = []
        current = None
        for section, lhs, op, formula, value in self._lines(_LATEX, sections):
            if section != current:
                if out:
                    out.append("")
                out += [f"**{self._title(section)}**", "", "| step | value |", "|---|---:|"]
                current = section
            out.append(f"| ${lhs} {_latex_op(op)} {formula}$ | {value:.{precision}g} |")
        return "\n".join(out)

    def to_latex(self, precision: int = 6, sections: Sequence[str] = SECTIONS) -> str:
        """An ``aligned`` block per table, ready to paste between ``$$`` or into an equation."""
        blocks: list[str] = []
        rows: list[str] = []
        current = None
        for section, lhs, op, formula, value in self._lines(_LATEX, sections):
            if section != current and rows:
                blocks.append(_aligned(rows))
                rows = []
            current = section
            rows.append(f"{lhs} &{_latex_op(op)} {formula} && = {_latex_number(value, precision)}")
        if rows:
            blocks.append(_aligned(rows))
        return "\n\n".join(blocks)

    def _repr_html_(self) -> str:
        parts = []
        current = None
        for section, lhs, op, formula, value in self._lines(_HTML, SECTIONS):
            if section != current:
                if current is not None:
                    parts.append("</tbody></table>")
                parts.append(f"<table><caption style='text-align:left'><b>"
                             f"{html.escape(self._title(section))}</b></caption><tbody>")
                current = section
            parts.append(f"<tr><td style='text-align:left'>{lhs}</td><td>{op}</td>"
                         f"<td style='text-align:left'>{formula}</td>"
                         f"<td style='text-align:right'>{value:.6g}</td></tr>")
        if current is not None:
            parts.append("</tbody></table>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Trace of {len(self.inputs)} inputs and {len(self.intermediates)} steps; "
                f"print() it for the tables>")


def trace(root: Value, wrt: Direction | None = None) -> Trace:
    """The evaluation trace of ``root``; see :class:`Trace`."""
    return Trace(root, wrt)


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
        text = f"{x:g}"
        return f"({text})" if x < 0 else text


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


def _latex_number(x: float, precision: int) -> str:
    text = f"{x:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def _aligned(rows: list[str]) -> str:
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
