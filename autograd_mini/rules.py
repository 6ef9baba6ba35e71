"""The derivative-rule table: one row per primitive operation.

Every op that a :class:`~autograd_mini.Value` supports is one :class:`Rule` in :data:`RULES`.
A row knows four things, and every part of the package reads them from here:

* ``primal``: the value on floats, following IEEE 754 where CPython does not (overflow gives
  ``±inf`` instead of ``OverflowError``; ``sin(inf)`` gives ``nan`` instead of ``ValueError``);
* ``partials``: one function per operand, the local derivative ∂v/∂xᵢ;
* ``domain``: why an input is outside the op's domain, or ``None`` when it is inside;
* display templates: how the op and its partials are written in traces and graph labels.

For a scalar op the Jacobian is one row, so the same partials serve both modes of
automatic differentiation::

    reverse (adjoints):  x̄ᵢ += ∂v/∂xᵢ · v̄
    forward (tangents):  v̇   = Σᵢ ∂v/∂xᵢ · ẋᵢ

A partial is called as ``d(x, out)`` for a unary op and ``d(x, y, out)`` for a binary one,
where ``out`` is the op's own result. The arguments are either all floats (the fast
first-order path) or :class:`~autograd_mini.Value` nodes (so that a derivative can be
differentiated again). Partials therefore use only arithmetic operators and the helpers
below, which dispatch on the argument's type.

This module depends on :mod:`math` alone.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONST", "INPUT", "RULES", "VARIADIC", "Rule", "cos", "exp", "log", "primal", "sin"]

_INF = math.inf
_NAN = math.nan


@dataclass(frozen=True, eq=False)
class Rule:
    """One primitive: its value, its local partials, its domain and how to write it.

    Templates use ``{0}`` and ``{1}`` for the operands and ``{out}`` for the op's result,
    so that ``mul`` writes ``v3 = v1 · v2`` and its partials ``∂v3/∂v1 = v2``.
    """

    name: str
    arity: int
    primal: Callable[..., float]
    partials: tuple[Callable[..., Any], ...]
    text: str
    latex: str
    partials_text: tuple[str, ...] = ()
    partials_latex: tuple[str, ...] = ()
    domain: Callable[..., str | None] | None = None
    doc: str = field(default="", repr=False)
    #: For a variadic rule (arity VARIADIC): how to write the op and its i-th partial, given
    #: the operands' names and whether to write LaTeX; templates cannot say "any number of".
    display: Callable[[Sequence[str], bool], str] | None = field(default=None, repr=False)
    display_partial: Callable[[Sequence[str], int, bool], str] | None = field(
        default=None, repr=False)
    #: A short name for the op's node in graph pictures (default: the template without operands).
    symbol: str = ""
    #: Python expressions for the compiled trace (:mod:`autograd_mini.compile`) on floats, with
    #: ``{0}``, ``{1}`` (or, for a variadic rule, a function of the operands' names) and
    #: ``{out}``. A rule without them, or with a domain, compiles to calls of its own functions.
    code: str | Callable[[Sequence[str]], str] = field(default="", repr=False)
    partials_code: tuple[str, ...] | Callable[[Sequence[str], int], str] = field(
        default=(), repr=False)

    def __repr__(self) -> str:
        return f"<rule {self.name}/{self.arity}: {self.text}>"

    def format(self, names: Sequence[str], latex: bool = False) -> str:
        """The op applied to operands called ``names``: ``v₁ · v₂``, ``exp(v₁)``."""
        if self.display is not None:
            return self.display(names, latex)
        return (self.latex if latex else self.text).format(*names)

    def format_partial(self, i: int, names: Sequence[str], out: str, latex: bool = False) -> str:
        """∂out/∂(operand i), written with the operands' and the output's names."""
        if self.display_partial is not None:
            return self.display_partial(names, i, latex)
        template = (self.partials_latex if latex else self.partials_text)[i]
        return template.format(*names, out=out)

    @property
    def short(self) -> str:
        """The op's name in a graph picture: ``·``, ``exp``, ``σ``, ``Σ``."""
        if self.symbol:
            return self.symbol
        bare = self.text.replace("{0}", "").replace("{1}", "").replace(" ", "").strip("()")
        return bare if bare and bare != "||" else self.name


#: The arity of a rule that takes any number of operands. Its node keeps them as a tuple, and
#: its one partials function returns every ∂v/∂xᵢ at once: ``d(xs, out) -> sequence``.
VARIADIC = -1

# Sources: nodes with no operands. An INPUT is a variable (an input or a parameter) and
# collects a gradient; a CONST is a number that an op met in an expression such as ``x * 2``.
# NOTE: backward never accumulates into a CONST, so ``x ** 2`` never asks for ∂/∂exponent.
INPUT = Rule("input", 0, float, (), "{label}", "{label}")
CONST = Rule("const", 0, float, (), "{value}", "{value}")

RULES: dict[str, Rule] = {}


def _register(rule: Rule) -> Rule:
    if rule.name in RULES:
        raise ValueError(f"rule {rule.name!r} is registered twice")
    if rule.arity == VARIADIC:
        if len(rule.partials) != 1 or rule.display is None or rule.display_partial is None:
            raise ValueError(f"variadic rule {rule.name!r} needs one partials function that "
                             "returns them all, and display functions")
    elif rule.arity != len(rule.partials):
        raise ValueError(
            f"rule {rule.name!r}: arity {rule.arity} but {len(rule.partials)} partials"
        )
    RULES[rule.name] = rule
    return rule


# ---------------------------------------------------------------------------------------------
# Helpers that work on floats and on Values alike. A Value is recognised by duck typing, so
# this module never imports the engine.
# ---------------------------------------------------------------------------------------------


def primal(x: Any) -> float:
    """The float behind ``x``: ``x`` itself for a float, ``x.data`` for a Value."""
    return x if type(x) is float else float(x.data)


def exp(x: Any) -> Any:
    """eˣ on a float (``inf`` on overflow, as IEEE 754) or on a Value."""
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            return _INF
    return x.exp()


def log(x: Any) -> Any:
    """Natural logarithm on a float or a Value."""
    return math.log(x) if type(x) is float else x.log()


def _ieee(fn: Callable[[float], float]) -> Callable[[float], float]:
    """Wrap a periodic ``math`` function so that ``±inf`` gives ``nan`` (IEEE's invalid result)
    instead of CPython's ``ValueError``."""

    def wrapped(x: float) -> float:
        return fn(x) if x - x == 0.0 else _NAN  # x - x is nan exactly when x is ±inf or nan

    wrapped.__name__ = fn.__name__
    return wrapped


_sin = _ieee(math.sin)
_cos = _ieee(math.cos)
_tan = _ieee(math.tan)


def sin(x: Any) -> Any:
    """sin on a float or a Value."""
    return _sin(x) if type(x) is float else x.sin()


def cos(x: Any) -> Any:
    """cos on a float or a Value."""
    return _cos(x) if type(x) is float else x.cos()


def _fpow(x: float, y: float) -> float:
    """xʸ on floats with IEEE 754 results where CPython raises.

    Overflow gives ``±inf``; ``0`` to a negative power gives ``inf`` (a partial such as
    d/dx √x at 0 is a vertical tangent). Domain errors of the op itself are caught before this
    is called, so a negative base always has an integral exponent here.
    """
    try:
        result: float = x**y
        return result
    except OverflowError:
        return -_INF if x < 0 and y % 2 == 1 else _INF
    except ZeroDivisionError:
        return _INF


def _pow(x: Any, y: Any) -> Any:
    return _fpow(x, y) if type(x) is float and type(y) is float else x**y


def _fdiv(x: float, y: float) -> float:
    """x / y on floats, with ``±inf`` (or ``nan`` for 0/0) where CPython raises."""
    try:
        return x / y
    except ZeroDivisionError:
        return _NAN if x == 0.0 or x != x else math.copysign(_INF, x) * math.copysign(1.0, y)


def _div(x: Any, y: Any) -> Any:
    return _fdiv(x, y) if type(x) is float and type(y) is float else x / y


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

ADD = _register(Rule(
    "add", 2, operator.add,
    (lambda x, y, out: 1.0, lambda x, y, out: 1.0),
    "{0} + {1}", "{0} + {1}", ("1", "1"), ("1", "1"),
    doc="v = x + y;  ∂v/∂x = 1,  ∂v/∂y = 1",
    code="{0} + {1}", partials_code=("1.0", "1.0"),
))

SUB = _register(Rule(
    "sub", 2, operator.sub,
    (lambda x, y, out: 1.0, lambda x, y, out: -1.0),
    "{0} − {1}", "{0} - {1}", ("1", "−1"), ("1", "-1"),
    doc="v = x − y;  ∂v/∂x = 1,  ∂v/∂y = −1",
    code="{0} - {1}", partials_code=("1.0", "-1.0"),
))

MUL = _register(Rule(
    "mul", 2, operator.mul,
    (lambda x, y, out: y, lambda x, y, out: x),
    "{0} · {1}", r"{0} \cdot {1}", ("{1}", "{0}"), ("{1}", "{0}"),
    doc="v = x·y;  ∂v/∂x = y,  ∂v/∂y = x",
    code="{0} * {1}", partials_code=("{1}", "{0}"),
))


def _div_domain(x: float, y: float) -> str | None:
    return "division by zero" if y == 0.0 else None


DIV = _register(Rule(
    "div", 2, operator.truediv,
    (lambda x, y, out: _div(1.0, y), lambda x, y, out: -out / y),
    "{0} / {1}", r"\frac{{{0}}}{{{1}}}",
    ("1 / {1}", "−{out} / {1}"), (r"\frac{{1}}{{{1}}}", r"-\frac{{{out}}}{{{1}}}"),
    domain=_div_domain,
    doc="v = x / y;  ∂v/∂x = 1/y,  ∂v/∂y = −x/y² = −v/y.  y = 0 is outside the domain.",
))


def _pow_domain(x: float, y: float) -> str | None:
    if x == 0.0 and y < 0.0:
        return "0 raised to a negative power"
    if x < 0.0 and math.isfinite(y) and not y.is_integer():
        return "a negative base with a non-integer exponent has no real value"
    return None


def _pow_dx(x: Any, y: Any, out: Any) -> Any:
    # y·x^(y−1); at x = 0 with 0 < y < 1 this is a vertical tangent (+inf on floats).
    # NOTE: at y = 0 the slope is 0 for every x; the formula would give 0·0⁻¹ = 0·inf = nan at
    # x = 0. Only a float y takes this shortcut: on the Value path a variable exponent comes as
    # a Value, and its partial must stay a function of y so that it can be differentiated.
    if type(y) is float and y == 0.0:
        return 0.0
    return y * _pow(x, y - 1.0)


def _pow_dy(x: Any, y: Any, out: Any) -> Any:
    # NOTE: xʸ·ln x needs x > 0. At x = 0 (y > 0), 0ʸ is identically 0 so the slope is 0. For
    # x < 0 the exponent is an integer and xʸ has no real value at any non-integer y nearby,
    # so the derivative does not exist: nan. It is only asked for when y is a variable.
    base = primal(x)
    if base > 0.0:
        return out * log(x)
    return 0.0 if base == 0.0 else _NAN


POW = _register(Rule(
    "pow", 2, _fpow,
    (_pow_dx, _pow_dy),
    "{0} ** {1}", "{{{0}}}^{{{1}}}",
    ("{1} · {0} ** ({1} − 1)", "{out} · log({0})"),
    (r"{1} \cdot {{{0}}}^{{{1} - 1}}", r"{out} \cdot \log {0}"),
    domain=_pow_domain,
    doc="v = xʸ;  ∂v/∂x = y·xʸ⁻¹,  ∂v/∂y = xʸ·ln x.  "
    "0 to a negative power and a negative base with a non-integer exponent are outside the domain.",
))

POS = _register(Rule(
    "pos", 1, float,
    (lambda x, out: 1.0,),
    "+{0}", "+{0}", ("1",), ("1",),
    doc="v = +x;  ∂v/∂x = 1.  The identity: a new node with the same value. The function "
    "transforms wrap Value arguments in it so that each transform has inputs of its own.",
    code="{0}", partials_code=("1.0",),
))

NEG = _register(Rule(
    "neg", 1, operator.neg,
    (lambda x, out: -1.0,),
    "−{0}", "-{0}", ("−1",), ("-1",),
    doc="v = −x;  ∂v/∂x = −1",
    code="-{0}", partials_code=("-1.0",),
))


def _sign(x: Any, out: Any) -> float:
    # NOTE: abs is not differentiable at 0; we use the subgradient 0 there.
    p = primal(x)
    return 1.0 if p > 0.0 else (-1.0 if p < 0.0 else 0.0)


ABS = _register(Rule(
    "abs", 1, abs,
    (_sign,),
    "|{0}|", r"\lvert {0} \rvert", ("sign({0})",), (r"\operatorname{{sign}}({0})",),
    doc="v = |x|;  ∂v/∂x = sign(x), with abs′(0) = 0 (a subgradient).",
    code="abs({0})", partials_code=("(1.0 if {0} > 0.0 else (-1.0 if {0} < 0.0 else 0.0))",),
))

# ---------------------------------------------------------------------------------------------
# Exponentials and logarithms
# ---------------------------------------------------------------------------------------------

EXP = _register(Rule(
    "exp", 1, exp,
    (lambda x, out: out,),
    "exp({0})", r"\exp({0})", ("{out}",), ("{out}",),
    doc="v = eˣ;  ∂v/∂x = eˣ = v.  Overflow gives inf.",
    code="_exp({0})", partials_code=("{out}",),
))


def _log_domain(x: float) -> str | None:
    return "log is defined only for x > 0" if x <= 0.0 else None


LOG = _register(Rule(
    "log", 1, math.log,
    (lambda x, out: _div(1.0, x),),
    "log({0})", r"\log {0}", ("1 / {0}",), (r"\frac{{1}}{{{0}}}",),
    domain=_log_domain,
    doc="v = ln x;  ∂v/∂x = 1/x.  x ≤ 0 is outside the domain.",
))


def _sqrt(x: float) -> float:
    # NOTE: IEEE gives √(−0) = −0; adding 0.0 makes it +0 so that the slope 1/(2√x) at 0 is
    # +inf whatever the sign of the zero.
    return math.sqrt(x) + 0.0


def _sqrt_domain(x: float) -> str | None:
    return "sqrt is defined only for x ≥ 0" if x < 0.0 else None


SQRT = _register(Rule(
    "sqrt", 1, _sqrt,
    (lambda x, out: _div(0.5, out),),
    "sqrt({0})", r"\sqrt{{{0}}}", ("1 / (2 · {out})",), (r"\frac{{1}}{{2 {out}}}",),
    domain=_sqrt_domain,
    doc="v = √x;  ∂v/∂x = 1/(2√x) = 1/(2v), +inf at x = 0.  x < 0 is outside the domain.",
))

# ---------------------------------------------------------------------------------------------
# Trigonometric
# ---------------------------------------------------------------------------------------------

SIN = _register(Rule(
    "sin", 1, _sin,
    (lambda x, out: cos(x),),
    "sin({0})", r"\sin {0}", ("cos({0})",), (r"\cos {0}",),
    doc="v = sin x;  ∂v/∂x = cos x",
    code="_sin({0})", partials_code=("_cos({0})",),
))

COS = _register(Rule(
    "cos", 1, _cos,
    (lambda x, out: -sin(x),),
    "cos({0})", r"\cos {0}", ("−sin({0})",), (r"-\sin {0}",),
    doc="v = cos x;  ∂v/∂x = −sin x",
    code="_cos({0})", partials_code=("-_sin({0})",),
))

TAN = _register(Rule(
    "tan", 1, _tan,
    (lambda x, out: 1.0 + out * out,),
    "tan({0})", r"\tan {0}", ("1 + {out}²",), ("1 + {out}^2",),
    doc="v = tan x;  ∂v/∂x = 1 + tan²x = 1 + v²",
    code="_tan({0})", partials_code=("1.0 + {out} * {out}",),
))

# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

TANH = _register(Rule(
    "tanh", 1, math.tanh,
    (lambda x, out: 1.0 - out * out,),
    "tanh({0})", r"\tanh {0}", ("1 − {out}²",), ("1 - {out}^2",),
    doc="v = tanh x;  ∂v/∂x = 1 − tanh²x = 1 − v²",
    code="_tanh({0})", partials_code=("1.0 - {out} * {out}",),
))


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: σ(x) = 1/(1+e⁻ˣ) = eˣ/(1+eˣ).
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


SIGMOID = _register(Rule(
    "sigmoid", 1, _sigmoid,
    (lambda x, out: out * (1.0 - out),),
    "σ({0})", r"\sigma({0})", ("{out} · (1 − {out})",), (r"{out} (1 - {out})",),
    doc="v = σ(x) = 1/(1 + e⁻ˣ);  ∂v/∂x = σ(x)(1 − σ(x)) = v(1 − v)",
    code="_sigmoid({0})", partials_code=("{out} * (1.0 - {out})",),
))


def _relu(x: float) -> float:
    return x if x > 0.0 or x != x else 0.0  # relu(nan) stays nan


def _step(x: Any, out: Any) -> float:
    # NOTE: relu is not differentiable at 0; we use the subgradient 0 there.
    return 1.0 if primal(x) > 0.0 else 0.0


RELU = _register(Rule(
    "relu", 1, _relu,
    (_step,),
    "relu({0})", r"\operatorname{{relu}}({0})", ("[{0} > 0]",), (r"[{0} > 0]",),
    doc="v = max(0, x);  ∂v/∂x = 1 if x > 0 else 0, with relu′(0) = 0 (a subgradient).",
    code="({0} if {0} > 0.0 or {0} != {0} else 0.0)",
    partials_code=("(1.0 if {0} > 0.0 else 0.0)",),
))

# ---------------------------------------------------------------------------------------------
# Variadic: sums and weighted sums, one node however many terms
# ---------------------------------------------------------------------------------------------


def _sum_display(names: Sequence[str], latex: bool) -> str:
    return " + ".join(names)


def _sum_code(names: Sequence[str]) -> str:
    # NOTE: the builtin sum, as the primal uses, not a chain of +: a chain of thousands of
    # terms is too deep for Python's compiler, and sum may compensate rounding (3.12+)
    return f"_sum(({', '.join(names)},))"


def _sum_partial_code(names: Sequence[str], i: int) -> str:
    return "1.0"


SUM = _register(Rule(
    "sum", VARIADIC, lambda *xs: sum(xs),
    (lambda xs, out: [1.0] * len(xs),),
    "Σ", r"\sum", symbol="Σ",
    display=_sum_display,
    display_partial=lambda names, i, latex: "1",
    doc="v = x₁ + … + xₙ;  ∂v/∂xᵢ = 1.  One node for a sum of any length.",
    code=_sum_code, partials_code=_sum_partial_code,
))


def _dot_primal(*xs: float) -> float:
    n = len(xs) // 2
    return sum(map(operator.mul, xs[:n], xs[n:2 * n]), xs[-1])


def _dot_partials(xs: Sequence[Any], out: Any) -> list[Any]:
    # operands are (w₁ … wₙ, a₁ … aₙ, b): ∂z/∂wₖ = aₖ, ∂z/∂aₖ = wₖ, ∂z/∂b = 1
    n = len(xs) // 2
    return [*xs[n:2 * n], *xs[:n], 1.0]


def _dot_display(names: Sequence[str], latex: bool) -> str:
    n = len(names) // 2
    times = r" \cdot " if latex else "·"
    terms = [f"{w}{times}{a}" for w, a in zip(names[:n], names[n:2 * n], strict=True)]
    return " + ".join([*terms, names[-1]])


def _dot_display_partial(names: Sequence[str], i: int, latex: bool) -> str:
    n = len(names) // 2
    if i == 2 * n:
        return "1"
    return names[i + n] if i < n else names[i - n]


def _dot_code(names: Sequence[str]) -> str:
    n = len(names) // 2  # sum(products, b), exactly as the primal computes it
    products = ", ".join(f"{w} * {a}" for w, a in zip(names[:n], names[n:2 * n], strict=True))
    return f"_sum(({products},), {names[-1]})"


def _dot_partial_code(names: Sequence[str], i: int) -> str:
    n = len(names) // 2
    return "1.0" if i == 2 * n else (names[i + n] if i < n else names[i - n])


DOT = _register(Rule(
    "dot", VARIADIC, _dot_primal,
    (_dot_partials,),
    "w·a + b", r"w \cdot a + b", symbol="Σ w·a + b",
    display=_dot_display,
    display_partial=_dot_display_partial,
    doc="z = Σₖ wₖaₖ + b, a neuron's weighted input, as one node;  ∂z/∂wₖ = aₖ, "
    "∂z/∂aₖ = wₖ, ∂z/∂b = 1.  Operands: w₁ … wₙ, a₁ … aₙ, b.",
    code=_dot_code, partials_code=_dot_partial_code,
))
