"""The derivative-rule table: one row per primitive operation, open to users.

Every op that a :class:`~autograd_mini.Value` supports is one :class:`Rule` in :data:`RULES`,
and every part of the package reads it from here:

* ``primal``: the value on floats, following IEEE 754 where CPython does not (overflow gives
  ``±inf`` instead of ``OverflowError``; ``sin(inf)`` gives ``nan`` instead of ``ValueError``);
* ``partials``: one function per operand, the local derivative ∂v/∂xᵢ;
* ``domain``: why an input is outside the op's domain, or ``None`` when it is inside;
* ``kink``: where the op is not differentiable, so that checks can stay away from it;
* how it is written: text and LaTeX templates for the op and its partials (the trace tables
  and graph labels), code templates for the compiled trace, and, for a user's op, its sympy
  form (the testing tools' oracle; the package's own are in :mod:`autograd_mini.testing.forms`).

For a scalar op the Jacobian is one row, so the same partials serve both modes of
automatic differentiation::

    reverse (adjoints):  x̄ᵢ += ∂v/∂xᵢ · v̄
    forward (tangents):  v̇   = Σᵢ ∂v/∂xᵢ · ẋᵢ

A partial is called as ``d(x, out)`` for a unary op and ``d(x, y, out)`` for a binary one,
where ``out`` is the op's own result. The arguments are either all floats (the fast
first-order path) or :class:`~autograd_mini.Value` nodes (so that a derivative can be
differentiated again). Partials therefore use only arithmetic operators, the helpers below and
other primitives: each :class:`Primitive` works on floats and on Values alike.

A row is added with :func:`primitive`, the same function that defines the built-in rows
below::

    >>> softsign = primitive(
    ...     "my_softsign", lambda x: x / (1.0 + abs(x)),
    ...     [lambda x, out: 1.0 / (1.0 + abs(x)) ** 2])
    >>> softsign(3.0)                          # on floats: the value
    0.75
    >>> from autograd_mini import Value
    >>> x = Value(3.0)
    >>> y = softsign(x)                        # on Values: a node
    >>> y.backward()
    >>> x.grad                                 # 1 / (1 + |x|)² = 1/16
    0.0625

This module imports only the standard library and :mod:`autograd_mini.errors`.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from .errors import DomainError

__all__ = [
    "CONST", "INPUT", "RULES", "STRONG_ZERO", "VARIADIC", "Primitive", "Rule", "cos", "divide",
    "erf", "exp", "log", "primal", "primitive", "sigmoid", "sin",
]

_INF = math.inf
_NAN = math.nan

#: The arity of a rule that takes any number of operands. Its node keeps them as a tuple, and
#: its one partials function returns every ∂v/∂xᵢ at once: ``d(xs, out) -> sequence``.
VARIADIC = -1

CodeTemplate = str | Callable[[Sequence[str]], str]
PartialCodeTemplates = tuple[str, ...] | Callable[[Sequence[str], int], str]


class _StrongZero(float):
    """The type of :data:`STRONG_ZERO`: a float equal to 0.0 that stays itself when it is
    multiplied by any number, inf and nan included."""

    __slots__ = ()

    def __mul__(self, other: object) -> Any:
        if isinstance(other, (int, float)):
            return self
        return NotImplemented  # a Value: its own operator decides (the sweeps never ask)

    __rmul__ = __mul__

    def __neg__(self) -> _StrongZero:
        return self

    def __pos__(self) -> _StrongZero:
        return self

    def __reduce__(self) -> str:
        return "STRONG_ZERO"  # pickled and copied as the one object it is


#: The strong zero: the partial of an edge that carries no derivative at all, such as
#: stop_gradient's. It is a float equal to 0.0, but unlike 0.0 it stays 0 when it is
#: multiplied by inf or nan, as JAX's symbolic zero and Julia's "strong zero" do, so that a
#: stopped branch gives nothing, not 0 · inf = nan, to what is below it: in
#: ``x + stop_gradient(sqrt(x))`` at x = 0, sqrt′(0) = inf and still ∂/∂x = 1.
#:
#: NOTE: every reader of the partials keeps it strong. The float backward pass multiplies
#: adjoints by it, so an interior adjoint that only stopped edges reach is STRONG_ZERO itself,
#: while an input's grad stays a plain float (its first share goes through ``float``, and
#: 0.5 + STRONG_ZERO is 0.5); the sweeps (``create_graph``, the transforms, forward mode) and
#: the compiled trace leave such an edge out altogether.
STRONG_ZERO = _StrongZero()


@dataclass(frozen=True, eq=False)
class Rule:
    """One primitive: its value, its local partials, its domain and how to write it.

    Templates use ``{0}`` and ``{1}`` for the operands and ``{out}`` for the op's result,
    so that ``mul`` writes ``v3 = v1 · v2`` and its partials ``∂v3/∂v1 = v2``. Rows are made
    by :func:`primitive`, which fills in defaults and checks them.
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
    #: How to write the op and its i-th partial, given the operands' names and whether to
    #: write LaTeX: needed by a variadic rule (arity VARIADIC), since templates cannot say
    #: "any number of", and useful where the display depends on an operand (pow folds a
    #: number exponent). ``display_partial`` may return None to use ``partials_text``.
    display: Callable[[Sequence[str], bool], str] | None = field(default=None, repr=False)
    display_partial: Callable[[Sequence[str], int, bool], str | None] | None = field(
        default=None, repr=False)
    #: A short name for the op's node in graph pictures (default: the template without operands).
    symbol: str = ""
    #: Python expressions for the compiled trace (:mod:`autograd_mini.compile`) on floats, with
    #: ``{0}``, ``{1}`` (or, for a variadic rule, a function of the operands' names) and
    #: ``{out}``; ``_p_NAME`` calls the raw primal of row NAME. A rule without them, or with a
    #: domain, compiles to calls of its own functions.
    code: CodeTemplate = field(default="", repr=False)
    partials_code: PartialCodeTemplates = field(default=(), repr=False)
    #: A user's op on sympy expressions, called as ``sympy(sp, *operands)`` with the sympy
    #: module first, so that this module never imports sympy; the testing tools differentiate
    #: it. The package's own rows leave it empty: their forms are written apart from the
    #: table, in :mod:`autograd_mini.testing.forms`, so that the oracle is independent of it.
    sympy: Callable[..., Any] | None = field(default=None, repr=False)
    #: A function of the operand values that is 0 exactly where the op is not differentiable
    #: (``x`` for relu, ``x − y`` for maximum); checks keep their points away from its zeros.
    kink: Callable[..., float] | None = field(default=None, repr=False)
    #: Values for the trailing operands when a call leaves them out (a slope, say).
    defaults: tuple[float, ...] = ()
    #: The operands' names, for keyword calls such as ``leaky_relu(x, slope=0.2)``.
    operands: tuple[str, ...] = ()
    #: Written as a call, ``name(x, …)``: then it is a function of the command line's
    #: expressions and, for a built-in row, a method of Value. The operators are not.
    function: bool = True
    #: One of the package's own rows (which cannot be replaced).
    builtin: bool = field(default=False, repr=False)
    #: The partials are defined, not derived: they are *not* the derivatives of ``primal``.
    #: stop_gradient's is 0 while its value is x; a straight-through estimator's would be 1
    #: through a step. Differentiation itself never reads this flag (every mode, at every
    #: order, uses the partials as they are); what reads it is every check that compares the
    #: partials with the primal's derivatives, which would refuse such a row by construction:
    #: the registration check checks the partials as functions instead (the same on floats
    #: and Values, compiled alike, and differentiable again), random programs leave the row
    #: out unless it is asked for by name, and gradcheck's mismatch message says why.
    surrogate: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        return f"<rule {self.name}/{self.arity}: {self.text}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # NOTE: a row is pickled (and copied) by its registered name, never by value: its
        # functions are lambdas, which pickle cannot write, and a graph must keep meaning the
        # one row of the table, so copy.copy and copy.deepcopy give the row itself too.
        if _registered(self.name) is not self:
            raise pickle.PicklingError(
                f"cannot pickle op {self.name!r}: it is not the row registered under that name "
                "(a rule made outside primitive(), or one replaced since), and a row is pickled "
                "by its registered name")
        return (_registered_row, (self.name,))

    def format(self, names: Sequence[str], latex: bool = False) -> str:
        """The op applied to operands called ``names``: ``v₁ · v₂``, ``exp(v₁)``."""
        if self.display is not None:
            return self.display(names, latex)
        return (self.latex if latex else self.text).format(*names)

    def format_partial(self, i: int, names: Sequence[str], out: str, latex: bool = False) -> str:
        """∂out/∂(operand i), written with the operands' and the output's names."""
        if self.display_partial is not None:
            text = self.display_partial(names, i, latex)
            if text is not None:
                return text
        template = (self.partials_latex if latex else self.partials_text)[i]
        return template.format(*names, out=out)

    @property
    def short(self) -> str:
        """The op's name in a graph picture: ``·``, ``exp``, ``σ``, ``Σ``."""
        if self.symbol:
            return self.symbol
        bare = self.text
        for k in range(max(self.arity, 0)):
            bare = bare.replace(f"{{{k}}}", "")
        bare = bare.replace(",", "").replace(" ", "").strip("()")
        return bare if bare and bare != "||" else self.name


# Sources: nodes with no operands.
# NOTE: backward never accumulates into a CONST, so ``x ** 2`` never asks for ∂/∂exponent.
#: The row of a variable, an input or a parameter: a node with no operands that collects a
#: gradient.
INPUT = Rule("input", 0, float, (), "{label}", "{label}", function=False, builtin=True)
#: The row of a number that an op met in an expression such as ``x * 2``: a node with no
#: operands that collects no gradient.
CONST = Rule("const", 0, float, (), "{value}", "{value}", function=False, builtin=True)

RULES: dict[str, Rule] = {}
"""Every registered row by name. Add to it with :func:`primitive`, never directly."""

_SOURCES = {"input": INPUT, "const": CONST}


def _registered(name: str) -> Rule | None:
    return _SOURCES.get(name) or RULES.get(name)


def _registered_row(name: str) -> Rule:
    """The row registered as ``name``: how a pickled graph finds its ops again when loaded."""
    rule = _registered(name)
    if rule is None:
        raise pickle.UnpicklingError(
            f"cannot load a node of op {name!r}: no primitive of that name is registered in "
            f"this process; register it (autograd_mini.primitive({name!r}, ...)) before "
            "loading")
    return rule


class Primitive:
    """A row of the table as a function: on numbers it is the op's value, on Values a node.

    ``exp``-like helpers that work on floats and on Values alike are what partials are written
    with, so every primitive is one: a partial may call any primitive, and stays
    differentiable. Trailing operands with defaults may be left out (``leaky_relu(x)``).
    ``rule`` is the row.
    """

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.__name__ = rule.name
        self.__doc__ = rule.doc or f"The primitive {rule.name}."

    def __repr__(self) -> str:
        return f"<primitive {self.rule.name}: {self.rule.text}>"

    def __call__(self, *operands: Any, **named: Any) -> Any:
        rule = self.rule
        operands = complete_operands(rule, operands, named)
        for x in operands:
            if type(x) is not float and not _is_number(x):
                # A node: its type knows how to apply a rule (duck typing, so that this
                # module never imports the engine; another engine's nodes may do the same).
                apply = getattr(type(x), "apply_rule", None)
                if apply is None:
                    raise TypeError(f"{rule.name}: operands must be Values or numbers, "
                                    f"not {type(x).__name__}")
                return apply(rule, *operands)
        xs = [float(x) for x in operands]
        if rule.domain is not None:
            reason = rule.domain(*xs)
            if reason is not None:
                raise DomainError(rule, xs, reason)
        return rule.primal(*xs)


def _is_number(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def complete_operands(rule: Rule, operands: Sequence[Any],
                      named: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """``operands``, with those given by name (``slope=0.2``) put in place and the defaults
    filled in for the trailing ones left out, or a TypeError that says what the rule takes."""
    if named:
        operands = _place(rule, operands, named)
    n, arity = len(operands), rule.arity
    if arity == VARIADIC:
        if not n:
            raise TypeError(f"{rule.name}() needs at least one operand")
        return tuple(operands)
    if n == arity:
        return tuple(operands)
    missing = arity - n
    if 0 < missing <= len(rule.defaults):
        return (*operands, *rule.defaults[len(rule.defaults) - missing:])
    least = arity - len(rule.defaults)
    takes = f"{arity}" if least == arity else f"{least} to {arity}"
    raise TypeError(f"{rule.name}() takes {takes} operand(s), got {n}")


def _place(rule: Rule, operands: Sequence[Any], named: dict[str, Any]) -> list[Any]:
    names = rule.operands
    unknown = [key for key in named if key not in names]
    if unknown:
        known = ", ".join(names) if names else "none: pass them by position"
        raise TypeError(f"{rule.name}() has no operand {unknown[0]!r}; its operands are {known}")
    placed: list[Any] = list(operands)
    for k, name in enumerate(names):
        if name not in named:
            continue
        if k < len(operands):
            raise TypeError(f"{rule.name}() got operand {name!r} twice")
        while len(placed) < k:  # a gap before it: its default, if it has one
            gap = len(placed)
            first_default = rule.arity - len(rule.defaults)
            if gap < first_default:
                raise TypeError(f"{rule.name}() is missing operand {names[gap]!r}")
            placed.append(rule.defaults[gap - first_default])
        placed.append(named[name])
    return placed


# ---------------------------------------------------------------------------------------------
# Registering a row
# ---------------------------------------------------------------------------------------------

#: The registration check of :func:`primitive`: ``check(rule, points)`` raises if the partials
#: disagree with central differences. It needs the engine, which imports this module, so the
#: package installs it (:func:`autograd_mini.testing.check_rule`) as it is imported.
_registration_check: Callable[[Rule, Sequence[Sequence[float]] | None], None] | None = None


def set_registration_check(
        check: Callable[[Rule, Sequence[Sequence[float]] | None], None]) -> None:
    """Install the function that :func:`primitive` runs with ``check=True``."""
    global _registration_check
    _registration_check = check


def primitive(
    name: str,
    primal: Callable[..., float],
    partials: Sequence[Callable[..., Any]] | Callable[..., Sequence[Any]],
    *,
    domain: Callable[..., str | None] | None = None,
    kink: Callable[..., float] | None = None,
    defaults: Sequence[float] = (),
    operands: Sequence[str] | None = None,
    text: str | None = None,
    latex: str | None = None,
    partials_text: Sequence[str] | None = None,
    partials_latex: Sequence[str] | None = None,
    symbol: str = "",
    sympy: Callable[..., Any] | None = None,
    code: CodeTemplate = "",
    partials_code: Sequence[str] | Callable[[Sequence[str], int], str] = (),
    variadic: bool = False,
    display: Callable[[Sequence[str], bool], str] | None = None,
    display_partial: Callable[[Sequence[str], int, bool], str | None] | None = None,
    function: bool = True,
    doc: str = "",
    surrogate: bool = False,
    check: bool = True,
    check_at: Sequence[Sequence[float]] | None = None,
    replace: bool = False,
    _builtin: bool = False,
) -> Primitive:
    """Add a row to the table and return it as a function: ``softsign = primitive(...)``,
    then ``softsign(x)`` is a Value for a Value ``x`` (and a float for a float).

    Once registered, the row works everywhere with no further edit: ``backward`` (also with
    ``create_graph``), forward mode, ``grad``, ``jvp``, ``vjp``, ``jacobian``, ``hessian``,
    the trace tables, graph pictures and the step-through, the compiled trace, and the
    testing tools (``Program.to_sympy`` when ``sympy`` is given, and the strategies).

    Args:
        name: the op's name, a Python identifier: ``softsign``.
        primal: the value on floats, ``primal(x)`` or ``primal(x, y)``.
        partials: one function per operand, ∂v/∂xᵢ called as ``d(x, out)`` or
            ``d(x, y, out)``. Each must work on floats and on Values, so write it with
            arithmetic, :func:`primal` for a branch, and primitives (``exp``, ``erf``, …).
            With ``variadic=True``, one function ``d(xs, out)`` that returns them all.
        domain: ``domain(x, …)`` says why a point is outside the domain (``"x must be
            positive"``), or returns None. The op then raises
            :class:`~autograd_mini.DomainError` there instead of computing.
        kink: a function of the operands that is 0 where the op is not differentiable, so
            that the checks and property tests stay away from it.
        defaults: values for trailing operands that a call may leave out, such as a slope:
            ``defaults=(0.01,)`` makes ``leaky_relu(x)`` mean ``leaky_relu(x, 0.01)``.
        operands: the operands' names, so that calls may name them:
            ``operands=("x", "slope")`` allows ``leaky_relu(x, slope=0.2)``.
        text, latex: templates with ``{0}``, ``{1}``; default ``name({0})``.
        partials_text, partials_latex: templates for each partial, with ``{out}`` for the
            result; default ``name′({0})`` (or ``∂₁name({0}, {1})``).
        symbol: the op's label in graph pictures (default: ``text`` without its operands).
        sympy: the op on sympy expressions, called as ``sympy(sp, x, …)`` with the sympy
            module first: ``sympy=lambda sp, x: x / (1 + sp.Abs(x))``.
        code, partials_code: Python expressions for the compiled trace, templates as
            ``text``; ``_p_NAME(…)`` calls the primal of row NAME. They are checked against a
            whitelist (arithmetic, comparisons, conditional expressions and those calls).
            Default: the compiled trace calls ``primal`` and ``partials``.
        variadic: any number of operands (as ``sum`` and ``dot``); needs ``display`` and
            ``display_partial``, which write the op and its i-th partial from the operands'
            names (``display_partial(names, i, latex)``; a row with templates may also have
            one, and return None where its templates apply).
        function: written as a call; False for operators such as ``+``.
        doc: the docstring of the function (and of the Value method, for a built-in row).
        surrogate: the partials are defined, not the derivatives of ``primal`` (a
            straight-through estimator, say: ``primal=round``, ``partials=[lambda x, out:
            1.0]``). Every mode of differentiation uses them as they are. The check then
            cannot compare them with central differences of the primal, and checks them as
            functions instead: the same on floats and on Values, differentiable again (by
            central differences of each partial), and compiled alike. Random programs of
            :mod:`autograd_mini.testing.strategies` leave such a row out unless ``ops``
            names it. A partial may return :data:`STRONG_ZERO` for "no derivative at all".
        check: check the partials against central differences, to second order, at points
            inside the domain and away from kinks, before the row is added; a wrong partial,
            or one that is right but cannot be differentiated again because it computes on
            floats only, is refused with both values side by side.
        check_at: the points for the check, one tuple of operands each (default: three
            points drawn from [−2, 2]). The check also runs the code templates there.
        replace: replace a row of this name that you registered before (built-in rows
            cannot be replaced: the operators and methods are bound to them).

    Raises:
        ValueError: a bad argument, a name that is taken, or a failed check.
    """
    rule = _make_rule(name, primal, partials, domain=domain, kink=kink, defaults=defaults,
                      operands=operands, text=text, latex=latex, partials_text=partials_text,
                      partials_latex=partials_latex, symbol=symbol, sympy=sympy, code=code,
                      partials_code=partials_code, variadic=variadic, display=display,
                      display_partial=display_partial, function=function, doc=doc,
                      builtin=_builtin, surrogate=surrogate)
    old = RULES.get(name)
    if old is not None and (old.builtin or not replace):
        why = ("it is a built-in row" if old.builtin
               else "pass replace=True to replace your earlier row")
        raise ValueError(f"primitive {name!r} is registered already; {why}")
    if check:
        if _registration_check is None:  # only while the package itself is being imported
            raise RuntimeError("the registration check is not installed: import autograd_mini")
        _registration_check(rule, check_at)
    RULES[name] = rule
    return Primitive(rule)


def _make_rule(name: str, primal: Callable[..., float],
               partials: Sequence[Callable[..., Any]] | Callable[..., Sequence[Any]], *,
               domain: Any, kink: Any, defaults: Sequence[float],
               operands: Sequence[str] | None, text: str | None,
               latex: str | None, partials_text: Sequence[str] | None,
               partials_latex: Sequence[str] | None, symbol: str, sympy: Any,
               code: CodeTemplate, partials_code: Any, variadic: bool, display: Any,
               display_partial: Any, function: bool, doc: str, builtin: bool,
               surrogate: bool = False) -> Rule:
    """A checked :class:`Rule` from :func:`primitive`'s arguments, with defaults filled in."""
    where = f"primitive {name!r}"
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"primitive: the name must be a Python identifier, not {name!r}")
    if name in ("input", "const"):
        raise ValueError(f"{where}: the name is reserved for the graph's sources")
    if not callable(primal):
        raise ValueError(f"{where}: primal must be a function of the operands")
    for what, f in (("domain", domain), ("kink", kink), ("sympy", sympy)):
        if f is not None and not callable(f):
            raise ValueError(f"{where}: {what} must be a function or None")
    fns: tuple[Callable[..., Any], ...]
    if variadic:
        if not callable(partials) or display is None or display_partial is None:
            raise ValueError(f"{where}: a variadic rule needs one partials function that "
                             "returns them all, and display and display_partial functions")
        arity, fns = VARIADIC, (partials,)
    else:
        if callable(partials) or isinstance(partials, (str, bytes)):
            raise ValueError(f"{where}: partials must be a list of functions, one per "
                             "operand, such as [lambda x, out: ...]")
        fns = tuple(partials)
        arity = len(fns)
        if arity == 0 or not all(callable(d) for d in fns):
            raise ValueError(f"{where}: partials must be a non-empty list of functions, one "
                             "per operand")
    if isinstance(defaults, (str, bytes)) or not isinstance(defaults, Sequence) or not all(
            _is_number(d) for d in defaults):
        raise ValueError(f"{where}: defaults must be a tuple of numbers, such as (0.01,)")
    defaults = tuple(float(d) for d in defaults)
    if defaults and variadic:
        raise ValueError(f"{where}: a variadic rule has no defaults")
    if len(defaults) >= arity > 0:
        raise ValueError(f"{where}: defaults are for trailing operands, and the first "
                         "operand has none")
    if operands is None:
        operands = ()
    elif variadic or isinstance(operands, str) or len(operands) != arity or not all(
            isinstance(o, str) and o.isidentifier() for o in operands):
        raise ValueError(f"{where}: operands must name each of the {arity} operand(s), "
                         "such as ('x', 'slope')")
    n = 3 if variadic else arity
    placeholders = ", ".join(f"{{{k}}}" for k in range(n))
    if text is None:  # a variadic rule writes itself with display; its text names its node
        text = name if variadic else f"{name}({placeholders})"
    tex = name.replace("_", r"\_")  # in LaTeX, _ would start a subscript
    latex = rf"\operatorname{{{{{tex}}}}}({placeholders})" if latex is None else latex
    if not variadic:
        if partials_text is None:
            partials_text = tuple(f"{name}′({placeholders})" if arity == 1
                                  else f"∂{_subscript(k + 1)}{name}({placeholders})"
                                  for k in range(arity))
        if partials_latex is None:
            partials_latex = tuple(rf"\operatorname{{{{{tex}}}}}'({placeholders})"
                                   if arity == 1 else
                                   rf"\partial_{{{{{k + 1}}}}}\operatorname{{{{{tex}}}}}"
                                   f"({placeholders})"
                                   for k in range(arity))
    if not builtin:  # the package's own functions need no guard; a user's might
        primal = _real_valued(name, primal)
        fns = tuple(_guarded(name, k, d) for k, d in enumerate(fns))
        if domain is not None:
            domain = _reasons(name, domain)
    rule = Rule(
        name, arity, primal, fns, text, latex, tuple(partials_text or ()),
        tuple(partials_latex or ()), domain=domain, doc=doc, display=display,
        display_partial=display_partial, symbol=symbol, code=code,
        partials_code=partials_code if callable(partials_code) else tuple(partials_code),
        sympy=sympy, kink=kink, defaults=defaults, operands=tuple(operands),
        function=function, builtin=builtin, surrogate=bool(surrogate),
    )
    _check_templates(rule, where)
    return rule


def _real_valued(name: str, primal: Callable[..., Any]) -> Callable[..., float]:
    """``primal`` with its result made a float: an int is converted, and anything else, such
    as the complex number that ``(-1.0) ** 0.5`` gives, is refused with the op's name."""

    def real(*xs: float) -> float:
        out = primal(*xs)
        if type(out) is float:
            return out
        if _is_number(out):
            return float(out)
        at = ", ".join(repr(x) for x in xs)
        raise ValueError(f"{name}: its primal returned {out!r} ({type(out).__name__}) at "
                         f"({at}), not a real number; give the primitive a domain= that "
                         "refuses such points")

    real.__name__ = getattr(primal, "__name__", name)
    real.__doc__ = primal.__doc__
    return real


def _guarded(name: str, k: int, d: Callable[..., Any]) -> Callable[..., Any]:
    """A user's partial, whose arithmetic error (1/0, say) names the op and the point instead
    of surfacing from deep inside a backward pass."""

    def partial(*args: Any) -> Any:
        try:
            return d(*args)
        except ArithmeticError as error:
            at = ", ".join(repr(primal(a)) if not isinstance(a, list) else "…" for a in args)
            raise ValueError(f"{name}: partial {k} raised {type(error).__name__} ({error}) at "
                             f"({at}); for IEEE results (±inf, nan) divide with "
                             "autograd_mini.rules.divide, or give the primitive a domain="
                             ) from error

    partial.__name__ = getattr(d, "__name__", f"{name}_partial_{k}")
    return partial


def _reasons(name: str, domain: Callable[..., Any]) -> Callable[..., str | None]:
    """A user's domain function with its answer made a reason or None: a false value (None,
    False, "") means inside; a true one is the reason, as text."""

    def reason(*xs: float) -> str | None:
        why = domain(*xs)
        return str(why) if why else None

    return reason


_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _subscript(k: int) -> str:
    return str(k).translate(_SUBSCRIPT)


def _check_templates(rule: Rule, where: str) -> None:
    """Every template formats with the rule's operands, and every code template is an
    expression of the whitelist, so that a mistake shows now, not deep inside a trace."""
    n = 3 if rule.arity == VARIADIC else rule.arity
    names = [f"_a{k}" for k in range(n)]
    try:
        rule.format(names)
        rule.format(names, latex=True)
        for i in range(n if rule.arity == VARIADIC else rule.arity):
            rule.format_partial(i, names, "_out")
            rule.format_partial(i, names, "_out", latex=True)
    except (IndexError, KeyError, ValueError) as error:
        raise ValueError(f"{where}: a display template does not fit {n} operand(s) "
                         f"({{0}} … {{{n - 1}}}, and {{out}} in partials): {error!r}") from None
    if rule.arity != VARIADIC and len(rule.partials_text) != rule.arity:
        raise ValueError(f"{where}: partials_text needs one template per operand")
    if rule.arity != VARIADIC and len(rule.partials_latex) != rule.arity:
        raise ValueError(f"{where}: partials_latex needs one template per operand")
    allowed = {*names, "_out"}
    if rule.code:
        _check_code(rule.code(names) if callable(rule.code) else rule.code.format(*names),
                    allowed, where)
    if rule.partials_code:
        count = n if rule.arity == VARIADIC else rule.arity
        if not callable(rule.partials_code) and len(rule.partials_code) != count:
            raise ValueError(f"{where}: partials_code needs one template per operand")
        for i in range(count):
            text = (rule.partials_code(names, i) if callable(rule.partials_code)
                    else rule.partials_code[i].format(*names, out="_out"))
            _check_code(text, allowed, where)


#: What a code template may call besides the primals ``_p_NAME`` of the table's rows;
#: ``_zero`` is :data:`STRONG_ZERO` (the compiled trace leaves out an edge whose partial is it).
CODE_HELPERS = ("_sum", "abs", "_inf", "_nan", "_zero")

_CODE_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp,
               ast.Call, ast.Name, ast.Constant, ast.Tuple, ast.Load, ast.operator,
               ast.unaryop, ast.cmpop, ast.boolop)


def _check_code(text: str, names: set[str], where: str) -> None:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"{where}: code template {text!r} is not an expression: "
                         f"{error.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _CODE_NODES):
            raise ValueError(f"{where}: code template {text!r} uses "
                             f"{type(node).__name__}, which is not allowed")
        if isinstance(node, ast.Constant) and not _is_number(node.value):
            raise ValueError(f"{where}: code template {text!r} has a non-numeric constant")
        if isinstance(node, ast.Name):
            # NOTE: _p_NAME may name a row registered later (sin's partial calls cos's
            # primal, and cos's calls sin's), so any identifier is accepted after _p_.
            known = (node.id in names or node.id in CODE_HELPERS
                     or (node.id.startswith("_p_") and node.id[3:].isidentifier()))
            if not known:
                raise ValueError(f"{where}: code template {text!r} uses the unknown name "
                                 f"{node.id!r}; it may use its operands, _p_NAME for a "
                                 f"row's primal, and {', '.join(CODE_HELPERS)}")
        if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func,
                                                                            ast.Name)):
            raise ValueError(f"{where}: code template {text!r} may only call names")


def _builtin(name: str, primal: Callable[..., float],
            partials: Sequence[Callable[..., Any]] | Callable[..., Sequence[Any]],
            **options: Any) -> Rule:
    """Register one of the package's own rows: :func:`primitive`, unchecked here (the test
    suite checks every built-in row in the same way, against hand-written derivatives and
    sympy) and marked as built-in. Returns the row."""
    return primitive(name, primal, partials, check=False, _builtin=True, **options).rule


# ---------------------------------------------------------------------------------------------
# Helpers that work on floats and on Values alike. A Value is recognised by duck typing, so
# this module never imports the engine.
# ---------------------------------------------------------------------------------------------


def primal(x: Any) -> float:
    """The float behind ``x``: ``x`` itself for a float, ``x.data`` for a Value. A partial
    uses it to branch (at a kink, say): a branch is not differentiated."""
    return x if type(x) is float else float(x.data) if hasattr(x, "data") else float(x)


def exp(x: Any) -> Any:
    """eˣ on a number (``inf`` on overflow, as IEEE 754) or on a Value."""
    if type(x) is float or _is_number(x):
        try:
            return math.exp(x)
        except OverflowError:
            return _INF
    return x.exp()


def log(x: Any) -> Any:
    """Natural logarithm on a number (IEEE 754: ``-inf`` at 0, ``nan`` below) or a Value."""
    if type(x) is float or _is_number(x):
        return math.log(x) if x > 0.0 else (-_INF if x == 0.0 else _NAN)
    return x.log()


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
    """sin on a number or a Value."""
    return _sin(float(x)) if type(x) is float or _is_number(x) else x.sin()


def cos(x: Any) -> Any:
    """cos on a number or a Value."""
    return _cos(float(x)) if type(x) is float or _is_number(x) else x.cos()


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


def divide(x: Any, y: Any) -> Any:
    """x / y on numbers, with IEEE 754's ``±inf`` (or ``nan`` for 0/0) where CPython raises
    ZeroDivisionError, or on Values; for partials such as 1/x at x = 0."""
    if _is_number(x) and _is_number(y):
        return _fdiv(float(x), float(y))
    return x / y


_div = divide


def _identity(x: Any) -> Any:
    return x


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

ADD = _builtin(
    "add", operator.add,
    (lambda x, y, out: 1.0, lambda x, y, out: 1.0),
    text="{0} + {1}", latex="{0} + {1}", partials_text=("1", "1"), partials_latex=("1", "1"),
    function=False,
    doc="v = x + y;  ∂v/∂x = 1,  ∂v/∂y = 1",
    code="{0} + {1}", partials_code=("1.0", "1.0"),
)

SUB = _builtin(
    "sub", operator.sub,
    (lambda x, y, out: 1.0, lambda x, y, out: -1.0),
    text="{0} − {1}", latex="{0} - {1}", partials_text=("1", "−1"), partials_latex=("1", "-1"),
    function=False,
    doc="v = x − y;  ∂v/∂x = 1,  ∂v/∂y = −1",
    code="{0} - {1}", partials_code=("1.0", "-1.0"),
)

MUL = _builtin(
    "mul", operator.mul,
    (lambda x, y, out: y, lambda x, y, out: x),
    text="{0} · {1}", latex=r"{0} \cdot {1}", partials_text=("{1}", "{0}"),
    partials_latex=("{1}", "{0}"),
    function=False,
    doc="v = x·y;  ∂v/∂x = y,  ∂v/∂y = x",
    code="{0} * {1}", partials_code=("{1}", "{0}"),
)


def _div_domain(x: float, y: float) -> str | None:
    return "division by zero" if y == 0.0 else None


DIV = _builtin(
    "div", operator.truediv,
    (lambda x, y, out: _div(1.0, y), lambda x, y, out: -out / y),
    text="{0} / {1}", latex=r"\frac{{{0}}}{{{1}}}",
    partials_text=("1 / {1}", "−{out} / {1}"),
    partials_latex=(r"\frac{{1}}{{{1}}}", r"-\frac{{{out}}}{{{1}}}"),
    domain=_div_domain, function=False,
    doc="v = x / y;  ∂v/∂x = 1/y,  ∂v/∂y = −x/y² = −v/y.  y = 0 is outside the domain.",
)


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


_POW_PARTIALS_TEXT = ("{1} · {0} ** ({1} − 1)", "{out} · log({0})")
_POW_PARTIALS_LATEX = (r"{1} \cdot {{{0}}}^{{{1} - 1}}", r"{out} \cdot \log {0}")


def _pow_display_partial(names: Sequence[str], i: int, latex: bool) -> str | None:
    """How ∂v/∂x = y·xʸ⁻¹ and ∂v/∂y = xʸ·ln x are written. When the exponent is a number,
    y − 1 is worked out: ``2 · v₀`` for x², ``3 · v₀ ** 2`` for x³, ``1`` for x¹ and ``0`` for
    x⁰, as a reader would write them, not ``3 · v₀ ** (3 − 1)``. A name is a number when it
    carries one in ``value`` (the trace names its constants so) or when ``float`` reads it.
    Otherwise the row's templates apply (None), which name the result: ∂v/∂y = v · ln x."""
    y = _display_number(names[1])
    if i == 1 or y is None or not math.isfinite(y):
        return None
    if y == 0.0:  # x⁰ = 1
        return "0"
    if y == 1.0:
        return "1"
    x, power = names[0], _decimal_minus_one(y, latex)
    if power == "1":
        return rf"{names[1]} \cdot {x}" if latex else f"{names[1]} · {x}"
    if latex:
        return rf"{names[1]} \cdot {{{x}}}^{{{power}}}"
    return f"{names[1]} · {x} ** {f'({power})' if power.startswith('-') else power}"


def _display_number(name: str) -> float | None:
    """The number an operand's name stands for, or None for a variable."""
    value = getattr(name, "value", None)
    if isinstance(value, float):
        return value
    try:
        return float(name.strip("()"))
    except ValueError:
        return None


def _decimal_minus_one(y: float, latex: bool) -> str:
    """y − 1 written as a reader works it out from y's shortest repr: rounded to y's decimal
    places, so that 1.1 gives 0.1, not the binary difference 0.10000000000000009."""
    mantissa, _, exponent = repr(y).partition("e")
    places = len(mantissa.partition(".")[2]) - int(exponent or 0)
    text = repr(round(y - 1.0, max(places, 0)))
    mantissa, _, exponent = text.removesuffix(".0").partition("e")
    if not exponent:
        return mantissa
    mantissa = mantissa.removesuffix(".0")
    return (rf"{mantissa} \times 10^{{{int(exponent)}}}" if latex
            else f"{mantissa}e{int(exponent):+d}")


POW = _builtin(
    "pow", _fpow,
    (_pow_dx, _pow_dy),
    text="{0} ** {1}", latex="{{{0}}}^{{{1}}}",
    partials_text=_POW_PARTIALS_TEXT, partials_latex=_POW_PARTIALS_LATEX,
    display_partial=_pow_display_partial,
    domain=_pow_domain, function=False,
    doc="v = xʸ;  ∂v/∂x = y·xʸ⁻¹,  ∂v/∂y = xʸ·ln x.  "
    "0 to a negative power and a negative base with a non-integer exponent are outside the domain.",
)

POS = _builtin(
    "pos", float,
    (lambda x, out: 1.0,),
    text="+{0}", latex="+{0}", partials_text=("1",), partials_latex=("1",),
    function=False,
    doc="v = +x;  ∂v/∂x = 1.  The identity: a new node with the same value. The function "
    "transforms wrap Value arguments in it so that each transform has inputs of its own.",
    code="{0}", partials_code=("1.0",),
)

NEG = _builtin(
    "neg", operator.neg,
    (lambda x, out: -1.0,),
    text="−{0}", latex="-{0}", partials_text=("−1",), partials_latex=("-1",),
    function=False,
    doc="v = −x;  ∂v/∂x = −1",
    code="-{0}", partials_code=("-1.0",),
)


STOP_GRADIENT = _builtin(
    "stop_gradient", float,
    (lambda x, out: STRONG_ZERO,),
    partials_text=("0",), partials_latex=("0",),
    surrogate=True,
    doc="v = x, and ∂v/∂x = 0 by definition: the value goes forward, no derivative comes "
    "back, in every mode and at every order (JAX's lax.stop_gradient; PyTorch's x.detach(), "
    "but as a node that traces and pictures show).  Its partial is not the derivative of its "
    "value (a surrogate row), and it is the strong zero (rules.STRONG_ZERO): a stopped "
    "branch passes nothing back, not 0 · inf = nan, so x + stop_gradient(sqrt(x)) has "
    "slope 1 at x = 0.",
    code="{0}", partials_code=("_zero",),
)


def _sign(x: Any, out: Any) -> float:
    # NOTE: abs is not differentiable at 0; we use the subgradient 0 there. At nan neither
    # comparison holds, so abs′(nan) = 0 too, as PyTorch's sign(nan) = 0 gives.
    p = primal(x)
    return 1.0 if p > 0.0 else (-1.0 if p < 0.0 else 0.0)


ABS = _builtin(
    "abs", abs,
    (_sign,),
    text="|{0}|", latex=r"\lvert {0} \rvert", partials_text=("sign({0})",),
    partials_latex=(r"\operatorname{{sign}}({0})",),
    kink=_identity,
    doc="v = |x|;  ∂v/∂x = sign(x), with abs′(0) = 0 (a subgradient) and abs′(nan) = 0, as "
    "in PyTorch (whose sign(nan) is 0).",
    code="abs({0})", partials_code=("(1.0 if {0} > 0.0 else (-1.0 if {0} < 0.0 else 0.0))",),
)


def _maximum(x: float, y: float) -> float:
    if x != x or y != y:  # NaN wins, as in PyTorch (Python's max would depend on the order)
        return _NAN
    return x if x >= y else y


def _minimum(x: float, y: float) -> float:
    if x != x or y != y:
        return _NAN
    return x if x <= y else y


def _larger(x: Any, y: Any, out: Any) -> float:
    # NOTE: at a tie x = y the op has no derivative; as PyTorch does, each side gets half,
    # so ∂v/∂x + ∂v/∂y = 1 there as everywhere else (maximum(x, x) has slope 1).
    a, b = primal(x), primal(y)
    return 1.0 if a > b else (0.5 if a == b else 0.0)


def _smaller(x: Any, y: Any, out: Any) -> float:
    a, b = primal(x), primal(y)
    return 1.0 if a < b else (0.5 if a == b else 0.0)


MAXIMUM = _builtin(
    "maximum", _maximum,
    (_larger, lambda x, y, out: _larger(y, x, out)),
    partials_text=("[{0} > {1}] + ½ · [{0} = {1}]", "[{1} > {0}] + ½ · [{0} = {1}]"),
    partials_latex=(r"[{0} > {1}] + \tfrac{{1}}{{2}} [{0} = {1}]",
                    r"[{1} > {0}] + \tfrac{{1}}{{2}} [{0} = {1}]"),
    kink=operator.sub, symbol="max",
    doc="v = max(x, y);  ∂v/∂x = 1 if x > y, 0 if x < y, and ½ at a tie x = y (as PyTorch: "
    "each side gets half).  NaN in either operand gives NaN.",
    code="_p_maximum({0}, {1})",
    partials_code=("(1.0 if {0} > {1} else (0.5 if {0} == {1} else 0.0))",
                   "(1.0 if {1} > {0} else (0.5 if {0} == {1} else 0.0))"),
)

MINIMUM = _builtin(
    "minimum", _minimum,
    (_smaller, lambda x, y, out: _smaller(y, x, out)),
    partials_text=("[{0} < {1}] + ½ · [{0} = {1}]", "[{1} < {0}] + ½ · [{0} = {1}]"),
    partials_latex=(r"[{0} < {1}] + \tfrac{{1}}{{2}} [{0} = {1}]",
                    r"[{1} < {0}] + \tfrac{{1}}{{2}} [{0} = {1}]"),
    kink=operator.sub, symbol="min",
    doc="v = min(x, y);  ∂v/∂x = 1 if x < y, 0 if x > y, and ½ at a tie x = y (as PyTorch: "
    "each side gets half).  NaN in either operand gives NaN.",
    code="_p_minimum({0}, {1})",
    partials_code=("(1.0 if {0} < {1} else (0.5 if {0} == {1} else 0.0))",
                   "(1.0 if {1} < {0} else (0.5 if {0} == {1} else 0.0))"),
)

# ---------------------------------------------------------------------------------------------
# Exponentials and logarithms
# ---------------------------------------------------------------------------------------------

EXP = _builtin(
    "exp", exp,
    (lambda x, out: out,),
    latex=r"\exp({0})", partials_text=("{out}",), partials_latex=("{out}",),
    doc="v = eˣ;  ∂v/∂x = eˣ = v.  Overflow gives inf.",
    code="_p_exp({0})", partials_code=("{out}",),
)


def _log_domain(x: float) -> str | None:
    return "log is defined only for x > 0" if x <= 0.0 else None


LOG = _builtin(
    "log", math.log,
    (lambda x, out: _div(1.0, x),),
    latex=r"\log {0}", partials_text=("1 / {0}",), partials_latex=(r"\frac{{1}}{{{0}}}",),
    domain=_log_domain,
    doc="v = ln x;  ∂v/∂x = 1/x.  x ≤ 0 is outside the domain.",
)


def _log1p_domain(x: float) -> str | None:
    return "log1p is defined only for x > −1" if x <= -1.0 else None


LOG1P = _builtin(
    "log1p", math.log1p,
    (lambda x, out: 1.0 / (1.0 + x),),
    latex=r"\log(1 + {0})", partials_text=("1 / (1 + {0})",),
    partials_latex=(r"\frac{{1}}{{1 + {0}}}",),
    domain=_log1p_domain,
    doc="v = ln(1 + x), accurate for small x (log1p(1e-20) is 1e-20, not 0);  "
    "∂v/∂x = 1/(1 + x).  x ≤ −1 is outside the domain.",
)


def _sqrt(x: float) -> float:
    # NOTE: IEEE gives √(−0) = −0; adding 0.0 makes it +0 so that the slope 1/(2√x) at 0 is
    # +inf whatever the sign of the zero.
    return math.sqrt(x) + 0.0


def _sqrt_domain(x: float) -> str | None:
    return "sqrt is defined only for x ≥ 0" if x < 0.0 else None


SQRT = _builtin(
    "sqrt", _sqrt,
    (lambda x, out: _div(0.5, out),),
    latex=r"\sqrt{{{0}}}", partials_text=("1 / (2 · {out})",),
    partials_latex=(r"\frac{{1}}{{2 {out}}}",),
    domain=_sqrt_domain,
    doc="v = √x;  ∂v/∂x = 1/(2√x) = 1/(2v), +inf at x = 0.  x < 0 is outside the domain.",
)

# ---------------------------------------------------------------------------------------------
# Trigonometric and the error function
# ---------------------------------------------------------------------------------------------

SIN = _builtin(
    "sin", _sin,
    (lambda x, out: cos(x),),
    latex=r"\sin {0}", partials_text=("cos({0})",), partials_latex=(r"\cos {0}",),
    doc="v = sin x;  ∂v/∂x = cos x",
    code="_p_sin({0})", partials_code=("_p_cos({0})",),
)

COS = _builtin(
    "cos", _cos,
    (lambda x, out: -sin(x),),
    latex=r"\cos {0}", partials_text=("−sin({0})",), partials_latex=(r"-\sin {0}",),
    doc="v = cos x;  ∂v/∂x = −sin x",
    code="_p_cos({0})", partials_code=("-_p_sin({0})",),
)

TAN = _builtin(
    "tan", _tan,
    (lambda x, out: 1.0 + out * out,),
    latex=r"\tan {0}", partials_text=("1 + {out}²",), partials_latex=("1 + {out}^2",),
    doc="v = tan x;  ∂v/∂x = 1 + tan²x = 1 + v²",
    code="_p_tan({0})", partials_code=("1.0 + {out} * {out}",),
)

ATAN = _builtin(
    "atan", math.atan,
    (lambda x, out: 1.0 / (1.0 + x * x),),
    latex=r"\arctan {0}", partials_text=("1 / (1 + {0}²)",),
    partials_latex=(r"\frac{{1}}{{1 + {0}^2}}",),
    doc="v = arctan x;  ∂v/∂x = 1/(1 + x²)",
    code="_p_atan({0})", partials_code=("1.0 / (1.0 + {0} * {0})",),
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

ERF = _builtin(
    "erf", math.erf,
    (lambda x, out: _TWO_OVER_SQRT_PI * exp(-(x * x)),),
    latex=r"\operatorname{{erf}} {0}", partials_text=("2/√π · exp(−{0}²)",),
    partials_latex=(r"\frac{{2}}{{\sqrt{{\pi}}}} e^{{-{0}^2}}",),
    doc="v = erf x = (2/√π) ∫₀ˣ e^(−t²) dt;  ∂v/∂x = (2/√π) e^(−x²)",
    code="_p_erf({0})", partials_code=(f"{_TWO_OVER_SQRT_PI!r} * _p_exp(-({{0}} * {{0}}))",),
)

#: The helper form of erf for partials: a float for a float, a node for a Value.
erf = Primitive(ERF)

# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

TANH = _builtin(
    "tanh", math.tanh,
    (lambda x, out: 1.0 - out * out,),
    latex=r"\tanh {0}", partials_text=("1 − {out}²",), partials_latex=("1 - {out}^2",),
    doc="v = tanh x;  ∂v/∂x = 1 − tanh²x = 1 − v²",
    code="_p_tanh({0})", partials_code=("1.0 - {out} * {out}",),
)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: σ(x) = 1/(1+e⁻ˣ) = eˣ/(1+eˣ).
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


SIGMOID = _builtin(
    "sigmoid", _sigmoid,
    (lambda x, out: out * (1.0 - out),),
    text="σ({0})", latex=r"\sigma({0})", partials_text=("{out} · (1 − {out})",),
    partials_latex=(r"{out} (1 - {out})",),
    doc="v = σ(x) = 1/(1 + e⁻ˣ);  ∂v/∂x = σ(x)(1 − σ(x)) = v(1 − v).  No overflow for any x.",
    code="_p_sigmoid({0})", partials_code=("{out} * (1.0 - {out})",),
)

#: The helper form of σ for partials: a float for a float, a node for a Value.
sigmoid = Primitive(SIGMOID)


def _relu(x: float) -> float:
    return x if x > 0.0 or x != x else 0.0  # relu(nan) stays nan


def _step(x: Any, out: Any) -> float:
    # NOTE: relu is not differentiable at 0; we use the subgradient 0 there. At nan the test
    # x > 0 is false, so relu′(nan) = 0 as well (the value, relu(nan), is nan).
    return 1.0 if primal(x) > 0.0 else 0.0


RELU = _builtin(
    "relu", _relu,
    (_step,),
    latex=r"\operatorname{{relu}}({0})", partials_text=("[{0} > 0]",),
    partials_latex=(r"[{0} > 0]",),
    kink=_identity,
    doc="v = max(0, x);  ∂v/∂x = 1 if x > 0 else 0, with relu′(0) = 0 (a subgradient) and "
    "relu′(nan) = 0 (relu(nan) is nan).  NOTE: PyTorch's relu′(nan) is 1: its backward masks "
    "where the result is ≤ 0, which nan is not.",
    code="({0} if {0} > 0.0 or {0} != {0} else 0.0)",
    partials_code=("(1.0 if {0} > 0.0 else 0.0)",),
)


def _leaky_relu(x: float, slope: float) -> float:
    return x if x > 0.0 else slope * x  # nan stays nan: slope · nan


LEAKY_RELU = _builtin(
    "leaky_relu", _leaky_relu,
    (lambda x, slope, out: 1.0 if primal(x) > 0.0 else slope,
     lambda x, slope, out: 0.0 if primal(x) > 0.0 else x),
    defaults=(0.01,), operands=("x", "slope"),
    partials_text=("[{0} > 0] + {1} · [{0} ≤ 0]", "{0} · [{0} ≤ 0]"),
    partials_latex=(r"[{0} > 0] + {1} [{0} \le 0]", r"{0} [{0} \le 0]"),
    kink=lambda x, slope: x,
    doc="v = x if x > 0 else slope·x, slope 0.01 by default (PyTorch's negative_slope);  "
    "∂v/∂x = 1 if x > 0 else slope, so slope at the kink x = 0, as in PyTorch;  "
    "∂v/∂slope = 0 if x > 0 else x.",
    code="({0} if {0} > 0.0 else {1} * {0})",
    partials_code=("(1.0 if {0} > 0.0 else {1})", "(0.0 if {0} > 0.0 else {0})"),
)


def _elu(x: float, alpha: float) -> float:
    return x if x > 0.0 else alpha * math.expm1(x)


def _expm1(x: Any) -> Any:
    # eˣ − 1, without cancellation on floats: expm1(1e-10) is 1e-10 to the last digit
    return math.expm1(x) if type(x) is float else exp(x) - 1.0


ELU = _builtin(
    "elu", _elu,
    (lambda x, alpha, out: 1.0 if primal(x) > 0.0 else alpha * exp(x),
     lambda x, alpha, out: 0.0 if primal(x) > 0.0 else _expm1(x)),
    defaults=(1.0,), operands=("x", "alpha"),
    partials_text=("[{0} > 0] + {1} · exp({0}) · [{0} ≤ 0]", "(exp({0}) − 1) · [{0} ≤ 0]"),
    partials_latex=(r"[{0} > 0] + {1} e^{{{0}}} [{0} \le 0]", r"(e^{{{0}}} - 1) [{0} \le 0]"),
    kink=lambda x, alpha: x,
    doc="v = x if x > 0 else α(eˣ − 1), α = 1 by default (PyTorch's alpha);  "
    "∂v/∂x = 1 if x > 0 else α·eˣ, so α at the kink x = 0, as in PyTorch;  "
    "∂v/∂α = 0 if x > 0 else eˣ − 1.",
)


def _softplus(x: float) -> float:
    # ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): exp never overflows, so softplus(1000) = 1000.
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))


SOFTPLUS = _builtin(
    "softplus", _softplus,
    (lambda x, out: sigmoid(x),),
    latex=r"\operatorname{{softplus}}({0})", partials_text=("σ({0})",),
    partials_latex=(r"\sigma({0})",),
    doc="v = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so that it never overflows;  "
    "∂v/∂x = σ(x).  PyTorch's softplus switches to v = x above its threshold 20, where the "
    "two differ by less than 2.1e-9.",
    code="_p_softplus({0})", partials_code=("_p_sigmoid({0})",),
)

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu(x: float) -> float:
    if x == -_INF:  # x·Φ(x) → 0 as x → −∞; the product would be −inf · 0 = nan
        return -0.0
    return 0.5 * x * (1.0 + math.erf(x * _SQRT_HALF))


def _gelu_slope(x: Any, out: Any) -> Any:
    p = primal(x)
    if p - p != 0.0 and p == p:  # ±inf: the slope's limits, 1 and 0 (the formula has inf·0)
        return 1.0 if p > 0.0 else 0.0
    return 0.5 * (1.0 + erf(x * _SQRT_HALF)) + x * exp(-0.5 * (x * x)) * _INV_SQRT_TWO_PI


GELU = _builtin(
    "gelu", _gelu,
    (_gelu_slope,),
    latex=r"\operatorname{{gelu}}({0})", partials_text=("Φ({0}) + {0} · φ({0})",),
    partials_latex=(r"\Phi({0}) + {0} \varphi({0})",),
    doc="v = x·Φ(x) = (x/2)(1 + erf(x/√2)), the exact GELU (PyTorch's approximate='none');  "
    "∂v/∂x = Φ(x) + x·φ(x), with φ(x) = e^(−x²/2)/√(2π).",
)


def _silu(x: float) -> float:
    if x == -_INF:  # x·σ(x) → 0 as x → −∞
        return -0.0
    return x * _sigmoid(x)


def _silu_slope(x: Any, out: Any) -> Any:
    p = primal(x)
    if p - p != 0.0 and p == p:  # ±inf: the slope's limits, 1 and 0 (the formula has inf·0)
        return 1.0 if p > 0.0 else 0.0
    s = sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


SILU = _builtin(
    "silu", _silu,
    (_silu_slope,),
    latex=r"\operatorname{{silu}}({0})", partials_text=("σ({0}) · (1 + {0} · (1 − σ({0})))",),
    partials_latex=(r"\sigma({0}) (1 + {0} (1 - \sigma({0})))",),
    doc="v = x·σ(x), also called swish;  ∂v/∂x = σ(x)(1 + x(1 − σ(x))).",
)

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


SUM = _builtin(
    "sum", lambda *xs: sum(xs),
    lambda xs, out: [1.0] * len(xs),
    variadic=True, text="Σ", latex=r"\sum", symbol="Σ",
    display=_sum_display,
    display_partial=lambda names, i, latex: "1",
    function=False,
    doc="v = x₁ + … + xₙ;  ∂v/∂xᵢ = 1.  One node for a sum of any length.",
    code=_sum_code, partials_code=_sum_partial_code,
)


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


DOT = _builtin(
    "dot", _dot_primal,
    _dot_partials,
    variadic=True, text="w·a + b", latex=r"w \cdot a + b", symbol="Σ w·a + b",
    display=_dot_display,
    display_partial=_dot_display_partial,
    function=False,
    doc="z = Σₖ wₖaₖ + b, a neuron's weighted input, as one node;  ∂z/∂wₖ = aₖ, "
    "∂z/∂aₖ = wₖ, ∂z/∂b = 1.  Operands: w₁ … wₙ, a₁ … aₙ, b.",
    code=_dot_code, partials_code=_dot_partial_code,
)
