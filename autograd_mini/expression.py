"""A safe parser for arithmetic expressions, which it builds as a graph of Values.

This is the parser behind ``autograd-mini trace "x1*x2 + exp(x1*x2) - sin(x2)" --at x1=2
x2=5``. The text comes from a command line, so it is never run: nothing here calls ``eval``,
``exec`` or ``compile``. :func:`ast.parse` only builds a syntax tree, and the tree is checked
against a whitelist. A construct is allowed only if this module knows how to build it from
:class:`~autograd_mini.Value` operations; everything else is refused with
:class:`ExpressionError`, whose message points at the offending part. So ``__import__('os')``
is nothing more dangerous than an unknown function.

Allowed:

* numbers: int and float literals (not booleans, complex numbers or strings);
* variables: any other name;
* the operators ``+ - * / **``, unary ``-`` and ``+``, and parentheses, with Python's
  precedence (``-x ** 2`` is ``-(x ** 2)`` and ``**`` groups to the right);
* calls ``f(x)``, ``f(x, y)``, with positional arguments, of the functions in
  :data:`FUNCTIONS`. These are the built-in rows of :data:`autograd_mini.rules.RULES` that
  are written as calls, so a new built-in row is callable here without a change to this
  module. A row's trailing operands with defaults may be left out: ``leaky_relu(x)`` is
  ``leaky_relu(x, 0.01)``.

Refused: attributes, subscripts, lambdas, comprehensions, comparisons, ``and``, ``or`` and
``not``, ``%``, ``//``, ``@`` and the bit operators, keyword and starred arguments, calls of
unknown functions or of anything but a name, strings, containers, ``:=``, ``if``/``else``,
statements, comments and line breaks.

>>> expr = parse("x1*x2 + exp(x1*x2) - sin(x2)")
>>> expr.variables
('x1', 'x2')
>>> f, inputs = expr.evaluate({"x1": 2.0, "x2": 5.0})
>>> f.backward()
>>> round(inputs["x1"].grad, 6)  # x2·(1 + e^(x1·x2))
110137.328974
>>> parse("x1.real + 1")
Traceback (most recent call last):
  ...
autograd_mini.expression.ExpressionError: attribute access is not allowed at column 1:
  x1.real + 1
  ^^^^^^^
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import tokenize
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, NamedTuple

from .engine import Value, apply_rule, constant
from .errors import DomainError
from .rules import ADD, DIV, MUL, NEG, POS, POW, RULES, SUB, VARIADIC, Rule

__all__ = ["FUNCTIONS", "MAX_LENGTH", "Expression", "ExpressionError", "parse", "signature"]

MAX_LENGTH = 100_000
"""The longest expression :func:`parse` reads, in characters."""

FUNCTIONS: tuple[str, ...] = tuple(sorted(
    name for name, rule in RULES.items()
    if rule.builtin and rule.function and rule.arity != VARIADIC
))
"""The names that can be called: every built-in row of the table written as a call."""


def signature(name: str) -> str:
    """How a function of :data:`FUNCTIONS` is called: ``exp(x)``, ``maximum(x, y)``,
    ``leaky_relu(x, 0.01)`` for one whose second operand may be left out (its default).

    >>> [signature(name) for name in ("exp", "maximum", "elu")]
    ['exp(x)', 'maximum(x, y)', 'elu(x[, 1])']
    """
    rule = RULES[name]
    required = rule.arity - len(rule.defaults)
    names = ["x", "y", "z"][:required]
    optional = "".join(f"[, {d:g}]" for d in rule.defaults)
    return f"{name}({', '.join(names)}{optional})"

_BINARY: dict[type[ast.operator], Rule] = {
    ast.Add: ADD, ast.Sub: SUB, ast.Mult: MUL, ast.Div: DIV, ast.Pow: POW,
}
_UNARY: dict[type[ast.unaryop], Rule] = {ast.USub: NEG, ast.UAdd: POS}

# Refused operators: how each is written (to point at it) and why it is refused.
_REFUSED_BINARY: dict[type[ast.operator], tuple[str, str]] = {
    ast.Mod: ("%", "the remainder operator % is not allowed"),
    ast.FloorDiv: ("//", "floor division // is not allowed"),
    ast.MatMult: ("@", "matrix multiplication @ is not allowed"),
    ast.BitXor: ("^", "the bitwise operator ^ is not allowed (a power is written **)"),
    ast.BitOr: ("|", "the bitwise operator | is not allowed"),
    ast.BitAnd: ("&", "the bitwise operator & is not allowed"),
    ast.LShift: ("<<", "the shift operator << is not allowed"),
    ast.RShift: (">>", "the shift operator >> is not allowed"),
}
_REFUSED_UNARY: dict[type[ast.unaryop], tuple[str, str]] = {
    ast.Not: ("not", "the operator not is not allowed"),
    ast.Invert: ("~", "the bitwise operator ~ is not allowed"),
}
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "the operators and, or are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.IfExp: "conditional expressions (if/else) are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "starred arguments (*) are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_REFUSED_CONSTANT: dict[type[object], str] = {
    str: "strings are not allowed",
    bytes: "bytes are not allowed",
    bool: "True and False are not allowed",
    type(None): "None is not allowed",
    complex: "complex numbers are not allowed",
    type(Ellipsis): "... is not allowed",
}
# Nodes that are parts of another node, which accepts or refuses them as a whole.
_PARTS = (ast.Expression, ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
          ast.comprehension, ast.arguments, ast.arg, ast.Slice)

_SHOWN = 80  # at most this many characters of the expression are shown in an error message


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated.

    The message gives the reason, and, where one place is at fault, the 1-based column, the
    expression on one line and a caret line under the offending span::

        attribute access is not allowed at column 1:
          x1.real + 1
          ^^^^^^^

    The same facts are attributes: ``reason`` (the first part of the message), ``text`` (the
    expression, or ``None``), ``position`` and ``end`` (0-based columns in ``text``, ``None``
    when no single place is at fault, as for an expression nested too deeply).
    """

    def __init__(self, reason: str, text: str | None = None, position: int | None = None,
                 end: int | None = None) -> None:
        self.reason = reason
        self.text = text
        self.position = position if text is not None else None
        self.end = None if self.position is None else max(self.position, end or 0)
        super().__init__(_describe(reason, text, self.position, self.end))

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.text, self.position, self.end)


def _describe(reason: str, text: str | None, position: int | None, end: int | None) -> str:
    if text is None or position is None:
        return reason
    return f"{reason} at column {position + 1}:\n{_excerpt(text, position, end or position)}"


def _width(c: str) -> int:
    """Terminal cells that ``c`` takes (approximately: wide East Asian characters take two)."""
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in "WF" else 1


def _shown(c: str) -> str:
    return c if c.isprintable() or c == "\t" else "\N{REPLACEMENT CHARACTER}"


def _excerpt(text: str, start: int, end: int) -> str:
    """The expression (a window of it, if long) and a caret line under ``text[start:end]``.

    Non-printable characters are shown as U+FFFD, so a message never carries a control
    sequence to the terminal. A tab is repeated in the caret line, so both lines align.
    """
    lo, hi = 0, len(text)
    if len(text) > _SHOWN:
        lo = max(0, min(start - _SHOWN // 4, len(text) - _SHOWN))
        hi = lo + _SHOWN
    head = "…" if lo else ""
    tail = "…" if hi < len(text) else ""
    line = head + "".join(_shown(c) for c in text[lo:hi]) + tail
    pad = " " * len(head) + "".join(
        "\t" if c == "\t" else " " * _width(_shown(c)) for c in text[lo:start]
    )
    marks = "^" * max(1, sum(_width(_shown(c)) for c in text[start:min(end, hi)]))
    return f"  {line}\n  {pad}{marks}"


# ---------------------------------------------------------------------------------------------
# The expression
# ---------------------------------------------------------------------------------------------


class _Step(NamedTuple):
    """One instruction of a parsed expression: an input, a number or a rule applied to
    earlier steps (by index); ``start`` and ``end`` give its span in the text."""

    rule: Rule | None
    operands: tuple[int, ...]
    name: str | None
    number: float
    start: int
    end: int


@dataclass(frozen=True)
class Expression:
    """A parsed expression, made by :func:`parse`; immutable, and evaluated as often as needed.

    ``text`` is the expression as given and ``variables`` its variable names in the order of
    their first appearance, left to right.

    NOTE: common subexpressions are shared. Subtrees that are identical (as :func:`ast.dump`
    compares them, so spacing and parentheses do not matter but ``x*y`` and ``y*x`` differ)
    are evaluated once, to one node that every use reads. In
    ``x1*x2 + exp(x1*x2) - sin(x2)`` there is a single ``mul`` node, read by both ``exp`` and
    ``+``, as the evaluation trace of this function is written in the textbooks: v₁ = v₋₁·v₀
    feeds both v₂ = exp(v₁) and v₃ = v₁ + v₂.

    A number becomes a constant node at each use; a sign in front of a number is part of it,
    so ``x * -2`` multiplies by the constant −2, while ``-x`` is a ``neg`` node.
    """

    text: str
    variables: tuple[str, ...]
    _steps: tuple[_Step, ...] = field(repr=False, compare=False)

    def evaluate(self, at: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
        """Build the graph at the point ``at`` (a value for every variable, and no others).

        Returns the root and the input Values by name, in the order of ``variables``; each
        input is labelled with its name. Call ``backward()`` on the root to fill the inputs'
        ``grad``. An op outside its domain (``log(-1)``, ``1/0``) raises
        :class:`ExpressionError` pointing at the subexpression, with the
        :class:`~autograd_mini.DomainError` as its ``__cause__``.

        >>> f, inputs = parse("x ** 2 + 1").evaluate({"x": 3.0})
        >>> f.backward()
        >>> f.data, inputs["x"].grad
        (10.0, 6.0)
        """
        inputs = self._inputs(at)
        values: list[Value | float] = []
        for step in self._steps:
            if step.rule is None:
                values.append(step.number if step.name is None else inputs[step.name])
                continue
            try:
                values.append(apply_rule(step.rule, *(values[i] for i in step.operands)))
            except DomainError as err:
                raise ExpressionError(str(err), self.text, step.start, step.end) from err
        root = values[-1]
        if not isinstance(root, Value):  # the whole expression is a number
            root = constant(root)
        return root, inputs

    def _inputs(self, at: Mapping[str, float]) -> dict[str, Value]:
        if not isinstance(at, Mapping):
            raise TypeError(f"evaluate: 'at' must be a mapping, not {type(at).__name__}")
        # Each variable has one input step (they are shared too): the place of its first use.
        first_use = {s.name: s for s in self._steps if s.name is not None}
        missing = [name for name in self.variables if name not in at]
        extra = [key for key in at if key not in first_use]
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"no value for {_names(missing)}")
            if extra:
                problems.append(f"the expression does not use {_names(extra)}")
            if not missing:
                raise ExpressionError("; ".join(problems), self.text)
            first = first_use[missing[0]]
            raise ExpressionError("; ".join(problems), self.text, first.start, first.end)
        inputs: dict[str, Value] = {}
        for name in self.variables:
            raw: object = at[name]
            step = first_use[name]
            if isinstance(raw, bool) or not isinstance(raw, Real):
                raise ExpressionError(f"the value of {name} must be a number, "
                                      f"not {type(raw).__name__}", self.text, step.start, step.end)
            try:
                number = float(raw)
            except OverflowError:
                raise ExpressionError(f"the value of {name} is too large for a float",
                                      self.text, step.start, step.end) from None
            inputs[name] = Value(number, label=name)
        return inputs


def _names(names: list[Any]) -> str:
    return ", ".join(n if isinstance(n, str) else repr(n) for n in names)


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def parse(text: str) -> Expression:
    """Read ``text`` as an expression, or raise :class:`ExpressionError` saying where and why.

    Any string gives one or the other, never another exception: the length is limited to
    :data:`MAX_LENGTH`, and an expression nested too deeply for Python's parser is refused.
    Leading and trailing spaces are allowed.

    >>> parse("sqrt(b) * a + b").variables
    ('b', 'a')
    >>> try:
    ...     parse("__import__('os')")
    ... except ExpressionError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    unknown function __import__; the functions are abs, atan, cos, ... at column 1:
      __import__('os')
      ^^^^^^^^^^
    """
    if not isinstance(text, str):
        raise TypeError(f"parse: the expression must be a str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long: {len(text)} characters, "
                              f"at most {MAX_LENGTH}", text, MAX_LENGTH, len(text))
    _check_characters(text)
    indent = len(text) - len(text.lstrip(" \t"))
    if indent == len(text):
        raise ExpressionError("the expression is empty")
    source = _Source(text, indent)
    tree = _syntax_tree(source)
    refusal = _first_refusal(tree, source)
    if refusal is not None:
        raise ExpressionError(refusal.reason, text, refusal.start, refusal.end)
    steps = _compile(tree, source)
    variables = tuple(s.name for s in steps if s.name is not None)
    return Expression(text, variables, steps)


def _check_characters(text: str) -> None:
    """Refuse what the parser would read differently from how it looks on one line: line
    breaks (the parser would read several lines), comments (everything after ``#`` would be
    ignored) and non-printable characters."""
    for i, c in enumerate(text):
        if c in "\n\r":
            reason = "line breaks are not allowed: write the expression on one line"
        elif c == "#":
            reason = "comments (#) are not allowed"
        elif not c.isprintable() and c != "\t":
            reason = f"the character U+{ord(c):04X} is not allowed"
        else:
            continue
        raise ExpressionError(reason, text, i, i + 1)


class _Source:
    """The text, and columns in it from the parser's positions.

    The parser reads the text without its leading spaces (``indent`` characters), and gives
    node positions as offsets in bytes of UTF-8; these become character columns in the text.
    """

    def __init__(self, text: str, indent: int) -> None:
        self.text = text
        self.indent = indent
        self.body = text[indent:]
        self._columns: list[int] | None = None
        if not self.body.isascii():
            columns = [i for i, c in enumerate(self.body) for _ in c.encode("utf-8")]
            self._columns = [*columns, len(self.body)]

    def column(self, offset: int | None) -> int:
        """The column in ``text`` of a byte offset in the body."""
        offset = max(0, offset or 0)
        if self._columns is None:
            return self.indent + min(offset, len(self.body))
        return self.indent + self._columns[min(offset, len(self._columns) - 1)]

    def span(self, node: ast.AST) -> tuple[int, int]:
        col_offset = getattr(node, "col_offset", None)
        if col_offset is None:  # not a node with a place of its own: say the whole text
            return self.indent, len(self.text)
        start = self.column(col_offset)
        return start, max(start, self.column(getattr(node, "end_col_offset", None)))

    def written(self, node: ast.AST) -> str:
        """The node as written. For a name this is the name as typed: the parser turns
        names into Unicode normal form NFKC (``ｘ`` into ``x``), and we do not, so that a
        variable is called exactly what the user wrote."""
        start, end = self.span(node)
        return self.text[start:end]


def _syntax_tree(source: _Source) -> ast.Expression:
    text = source.text
    try:
        return ast.Expression(body=_parse_part(source.body, 0, len(source.body)))
    except SyntaxError as err:
        raise _syntax_error(err, source) from err
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply to parse", text) from None
    except (ValueError, OverflowError) as err:  # such as a hexadecimal literal too long
        raise ExpressionError(f"cannot parse the expression: {err}", text) from None


#: The operators a long flat chain is split at, loosest first: a + b − c, then a · b / c.
_CHAIN_SPLITS: tuple[dict[str, type[ast.operator]], ...] = (
    {"+": ast.Add, "-": ast.Sub}, {"*": ast.Mult, "/": ast.Div})


def _parse_part(body: str, start: int, end: int, level: int = 0) -> ast.expr:
    """The syntax tree of ``body[start:end]``, with node columns counted from the body's
    start.

    Python's parser recurses once per operator of a chain, so a flat sum of a few thousand
    terms is too deep for it. Such a chain is split at its top-level operators (outside
    parentheses) into terms that are parsed one by one and joined again as the same
    left-nested tree, without recursion. ``level`` says which operators to split at.
    """
    text = body[start:end]
    try:
        # NOTE: the parser warns about some odd spellings, such as "invalid decimal literal"
        # for 1if; we refuse or accept those ourselves, so the warnings are only noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval").body
    except SyntaxError as err:  # its columns count from this part's start: from the body's
        if start and isinstance(err.offset, int) and err.offset > 0 and (err.lineno or 1) == 1:
            err.offset += start
            if isinstance(err.end_offset, int) and err.end_offset > 0:
                err.end_offset += start
        raise
    except RecursionError:
        if level >= len(_CHAIN_SPLITS):
            raise
        pieces = _split_chain(text, _CHAIN_SPLITS[level])
        if pieces is None:
            return _parse_part(body, start, end, level + 1)
        (_, first, first_end), *rest = pieces
        tree = _parse_part(body, start + first, start + first_end, level + 1)
        for op, term, term_end in rest:
            right = _parse_part(body, start + term, start + term_end, level + 1)
            tree = ast.BinOp(left=tree, op=op(), right=right, lineno=1,
                             col_offset=tree.col_offset, end_lineno=1,
                             end_col_offset=right.end_col_offset)
        return tree
    shift = len(body[:start].encode("utf-8"))  # node columns are UTF-8 byte offsets
    if shift:
        for node in ast.walk(tree):
            if isinstance(node, (ast.expr, ast.keyword, ast.arg)):
                node.col_offset += shift
                if node.end_col_offset is not None:
                    node.end_col_offset += shift
    return tree


def _split_chain(text: str, operators: dict[str, type[ast.operator]]
                 ) -> list[tuple[type[ast.operator], int, int]] | None:
    """Where ``text`` splits at its top-level binary ``operators``: (operator, start, end) of
    each term, the first one's operator unused; None if it has no such operator or does not
    tokenize."""
    depth = 0
    previous = ""  # the last significant token: after an operand, + and − are binary
    previous_operand = False
    cuts: list[tuple[type[ast.operator], int]] = []
    ends: list[int] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for tok in tokens:
        if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.COMMENT):
            continue
        if tok.string in "([{":
            depth += 1
        elif tok.string in ")]}":
            depth -= 1
        elif (depth == 0 and tok.type == tokenize.OP and tok.string in operators
              and (previous in (")", "]", "}") or previous_operand)):
            ends.append(tok.start[1])
            cuts.append((operators[tok.string], tok.end[1]))
        previous = tok.string
        # a name (not a keyword such as `if` or `not`) or a number ends an operand
        previous_operand = (tok.type == tokenize.NUMBER or (
            tok.type == tokenize.NAME and not keyword.iskeyword(tok.string)))
    if not cuts:
        return None
    starts = [(ast.Add, 0), *cuts]
    bounds = [*ends, len(text)]
    pieces = []
    for (op, begin), finish in zip(starts, bounds, strict=True):
        begin += len(text[begin:finish]) - len(text[begin:finish].lstrip())  # no indent
        pieces.append((op, begin, finish))
    return pieces


def _syntax_error(err: SyntaxError, source: _Source) -> ExpressionError:
    """A SyntaxError as an ExpressionError. Its offsets are 1-based columns in characters of
    the body; 0 means the end of the input."""
    text = source.text
    offset = err.offset if isinstance(err.offset, int) else 0
    if offset < 1 or (err.lineno or 1) > 1:
        start = end = len(text.rstrip(" \t"))
        if err.msg == "invalid syntax":
            return ExpressionError("syntax error: unexpected end of the expression",
                                   text, start, end)
    else:
        start = min(source.indent + offset - 1, len(text))
        end_offset = getattr(err, "end_offset", None)
        end = start + 1
        if isinstance(end_offset, int) and end_offset > offset and (err.end_lineno or 1) == 1:
            end = source.indent + end_offset - 1
        end = min(end, len(text))
    return ExpressionError(f"syntax error: {err.msg}", text, start, end)


class _Refusal(NamedTuple):
    reason: str
    start: int
    end: int


def _first_refusal(tree: ast.Expression, source: _Source) -> _Refusal | None:
    """The leftmost construct that is not allowed, and of several that start at the same
    column the innermost (so ``__import__('os').system('ls')`` is refused for its unknown
    function). ``ast.walk`` is iterative, so any depth is fine."""
    callees: set[int] = set()  # the names being called: functions, not variables
    best: _Refusal | None = None
    for node in ast.walk(tree):  # breadth first: a call is seen before its callee
        found = _refusal(node, source, callees)
        if found is not None and (best is None or found[1:] < best[1:]):
            best = found
    return best


def _refusal(node: ast.AST, source: _Source, callees: set[int]) -> _Refusal | None:
    """Why ``node`` itself is not allowed, and where; ``None`` if it is allowed."""
    if isinstance(node, _PARTS):
        return None
    if isinstance(node, ast.Name):
        if id(node) in callees:
            return None
        name = source.written(node)
        if name in FUNCTIONS:
            return _Refusal(f"{name} is a function: call it as {name}(...)", *source.span(node))
        return None
    if isinstance(node, ast.Constant):
        return _number_refusal(node, source)
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINARY:
            return None
        symbol, reason = _REFUSED_BINARY.get(
            type(node.op), ("", f"the operator {type(node.op).__name__} is not allowed"))
        # Point at the operator: it is the only thing between the operands except
        # parentheses and spaces.
        gap_start, gap_end = source.span(node.left)[1], source.span(node.right)[0]
        at = source.text.find(symbol, gap_start, gap_end) if symbol else -1
        if at >= 0:
            return _Refusal(reason, at, at + len(symbol))
        return _Refusal(reason, *source.span(node))
    if isinstance(node, ast.UnaryOp):
        if type(node.op) in _UNARY:
            return None
        symbol, reason = _REFUSED_UNARY.get(
            type(node.op), ("", f"the operator {type(node.op).__name__} is not allowed"))
        start, end = source.span(node)
        return _Refusal(reason, start, min(end, start + len(symbol)) if symbol else end)
    if isinstance(node, ast.Call):
        return _call_refusal(node, source, callees)
    if isinstance(node, ast.keyword):
        reason = ("keyword arguments are not allowed" if node.arg is not None
                  else "keyword arguments (**) are not allowed")
        return _Refusal(reason, *source.span(node))
    reason = _REFUSED.get(type(node), f"{type(node).__name__} is not allowed")
    return _Refusal(reason, *source.span(node))


def _number_refusal(node: ast.Constant, source: _Source) -> _Refusal | None:
    value = node.value
    if type(value) is int:  # not bool, a subclass of int
        try:
            float(value)
        except OverflowError:
            return _Refusal("the number is too large for a float", *source.span(node))
        return None
    if type(value) is float:
        if math.isfinite(value):
            return None
        return _Refusal("the number is too large for a float", *source.span(node))
    reason = _REFUSED_CONSTANT.get(type(value), f"{type(value).__name__} is not allowed")
    return _Refusal(reason, *source.span(node))


def _call_refusal(node: ast.Call, source: _Source, callees: set[int]) -> _Refusal | None:
    func = node.func
    if not isinstance(func, ast.Name):
        # The whole call's span: a refusal inside the callee itself (an attribute, say),
        # which starts at the same column but ends earlier, is the one reported.
        return _Refusal("only a function can be called, by its name, as in exp(x)",
                        *source.span(node))
    callees.add(id(func))
    name = source.written(func)
    if name not in FUNCTIONS:
        return _Refusal(f"unknown function {name}; the functions are {', '.join(FUNCTIONS)}",
                        *source.span(func))
    rule = RULES[name]
    given = len(node.args) + len(node.keywords)
    least = rule.arity - len(rule.defaults)
    if not least <= given <= rule.arity:
        words = {1: "one", 2: "two", 3: "three"}
        most = words.get(rule.arity, str(rule.arity))
        takes = f"exactly {most}" if least == rule.arity else f"{words.get(least, least)} to {most}"
        plural = "" if rule.arity == 1 else "s"
        return _Refusal(f"{name}() takes {takes} argument{plural} ({given} given)",
                        *source.span(node))
    return None


def _compile(tree: ast.Expression, source: _Source) -> tuple[_Step, ...]:
    """The steps that evaluate an allowed tree, in evaluation order (operands left to right,
    each before its consumer), with identical subtrees made one step.

    An iterative post-order walk: each frame is a node and whether its operands are done.
    Each step has a key that stands for its subtree (the rule and the operands' step indices),
    so identical subtrees get identical keys and map to the first step made for them.
    """
    steps: list[_Step] = []
    index: dict[tuple[object, ...], int] = {}
    done: list[int] = []  # the step indices of finished operands, a stack

    def emit(key: tuple[object, ...], step: _Step) -> None:
        k = index.get(key)
        if k is None:
            k = index[key] = len(steps)
            steps.append(step)
        done.append(k)

    def emit_rule(rule: Rule, operands: tuple[int, ...], node: ast.AST) -> None:
        emit((rule.name, *operands), _Step(rule, operands, None, 0.0, *source.span(node)))

    stack: list[tuple[ast.expr, bool]] = [(tree.body, False)]
    while stack:
        node, operands_done = stack.pop()
        if isinstance(node, ast.Name):
            name = source.written(node)
            emit(("input", name), _Step(None, (), name, 0.0, *source.span(node)))
        elif isinstance(node, ast.Constant):
            _emit_number(node.value, node, source, emit)
        elif isinstance(node, ast.UnaryOp):
            if operands_done:
                emit_rule(_UNARY[type(node.op)], (done.pop(),), node)
                continue
            # A chain of signs: fold it into a number in front of a literal (-2 is the
            # number −2), else push the whole chain at once, so that it is walked once.
            chain: list[ast.UnaryOp] = []
            inner: ast.expr = node
            while isinstance(inner, ast.UnaryOp):
                chain.append(inner)
                inner = inner.operand
            if isinstance(inner, ast.Constant):
                value: Any = inner.value
                for link in chain:
                    if isinstance(link.op, ast.USub):
                        value = -value
                _emit_number(value, node, source, emit)
            else:
                stack.extend((link, True) for link in chain)
                stack.append((inner, False))
        elif isinstance(node, ast.BinOp):
            if operands_done:
                right = done.pop()
                emit_rule(_BINARY[type(node.op)], (done.pop(), right), node)
            else:
                stack += [(node, True), (node.right, False), (node.left, False)]
        elif isinstance(node, ast.Call):
            if operands_done:
                rule = RULES[source.written(node.func)]
                given = len(node.args)
                for default in rule.defaults[len(rule.defaults) - (rule.arity - given):]:
                    _emit_number(default, node, source, emit)  # a left-out operand
                operands = tuple(done[-rule.arity:])
                del done[-rule.arity:]
                emit_rule(rule, operands, node)
            else:  # pushed last to first, so that the arguments are walked left to right
                stack += [(node, True), *((arg, False) for arg in reversed(node.args))]
        else:  # _first_refusal has refused everything else; this is a second line of defence
            raise ExpressionError(f"{type(node).__name__} is not allowed", source.text,
                                  *source.span(node))
    return tuple(steps)


def _emit_number(value: Any, node: ast.AST, source: _Source,
                 emit: Callable[[tuple[object, ...], _Step], None]) -> None:
    number = float(value)
    # The key tells 2 from 2.0 (as ast.dump does) and 0.0 from -0.0 (which == does not).
    emit(("number", type(value).__name__, number.hex()),
         _Step(None, (), None, number, *source.span(node)))
