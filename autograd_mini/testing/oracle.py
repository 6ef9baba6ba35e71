"""sympy as the judge of anyone's derivatives: closed forms of recorded graphs, fair points, and
one call that compares an engine's gradient (or Hessian) with sympy's.

* :func:`to_sympy` writes any recorded graph, built by anyone with Values, as a sympy
  expression. Each op is translated by its sympy form (:mod:`autograd_mini.testing.forms`, or
  a user primitive's own), which says what the op *is*; sympy derives the derivatives itself.
* :func:`point_issue` says why a point is not a fair test of a function, or ``None`` when it
  is: every op inside its domain by a margin, no kink or tie within the margin, nothing huge or
  infinite, and every derivative finite. Kinks and domains are read from the rule table, so a
  user's primitive is screened as soon as it is registered.
  :func:`autograd_mini.testing.strategies.points` draws only points for which it is ``None``.
* :func:`assert_matches_sympy` compares at given points, and shows a side-by-side table when
  they disagree, as ``gradcheck`` does.

sympy is imported inside the functions that need it.

>>> from autograd_mini import Value
>>> x, y = Value(0.5, label="x"), Value(2.0, label="y")
>>> to_sympy(x * y.exp() + x)
x*exp(y) + x
>>> assert_matches_sympy(lambda x, y: x * y.exp() + x, at=(0.5, 2.0), order=2)
True
"""

from __future__ import annotations

import importlib.util
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._graph import operands, topological_order
from ..engine import Value, no_grad
from ..errors import DomainError
from ..rules import CONST, INPUT, VARIADIC, Rule
from .forms import exact, import_sympy, sympy_form
from .program import Program

__all__ = [
    "SympyMismatchError", "assert_matches_sympy", "point_issue", "sympy_derivatives", "to_sympy",
]

Point = tuple[float, ...]
Function = Callable[..., Any]

#: How far an op's operands must be from a kink, a tie or a domain edge: slopes blow up next to
#: an edge, and central differences (step 1e-6) must not straddle a kink.
MARGIN = 1e-3
#: The largest magnitude allowed for a value, an adjoint, or a term v̄·∂v/∂xᵢ of an adjoint:
#: beyond it, rounding in a sum of terms that cancel exceeds any fair tolerance.
BOUND = 1e6
#: Steps along each input at which the function must still evaluate: gradcheck's and
#: check_grads' step, and the margin.
PROBES = (1e-6, MARGIN)
#: The default tolerances of the comparison with sympy: a wrong partial is off by far more,
#: and rounding in a graph whose terms are bounded by BOUND stays far below.
RTOL, ATOL = 1e-7, 1e-8
#: Significant digits for sympy's numbers.
DIGITS = 30


# ---------------------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------------------


def to_sympy(value: Value, symbols: Mapping[Value | str, Any] | None = None) -> Any:
    """The recorded graph below ``value`` as a sympy expression.

    Inputs become real symbols named after their labels (an input without a label is ``x0``,
    ``x1``, … in the order the graph first uses it); ``symbols`` maps an input, or a label,
    to a symbol or expression of one's choice. Constants become exact rationals of their
    shortest decimal form (0.1 is 1/10). Each op is its row's sympy form; a row without one
    raises ValueError, as do two different inputs with the same label.

    >>> from autograd_mini import Value
    >>> a = Value(1.5, label="a")
    >>> to_sympy((a * 0.1).sin() ** 2)
    sin(a/10)**2
    """
    sp = import_sympy("to_sympy")

    if not isinstance(value, Value):
        raise TypeError(f"to_sympy: expected a Value, not {type(value).__name__}")
    given = dict(symbols or {})
    order = topological_order(value)
    exprs: dict[int, Any] = {}
    by_label: dict[str, Value] = {}
    taken = {v.label for v in order if v._op is INPUT and v.label is not None}
    unnamed = 0
    for node in order:
        rule = node._op
        if rule is INPUT:
            if node in given:
                exprs[id(node)] = given[node]
                continue
            if node.label is not None:
                other = by_label.setdefault(node.label, node)
                if other is not node:
                    raise ValueError(f"to_sympy: two different inputs are labelled "
                                     f"{node.label!r}; give them different labels, or map "
                                     "them with symbols={input: symbol}")
                name = node.label
            else:
                while f"x{unnamed}" in taken:
                    unnamed += 1
                name = f"x{unnamed}"
                unnamed += 1
            exprs[id(node)] = given[name] if name in given else sp.Symbol(name, real=True)
        elif rule is CONST:
            exprs[id(node)] = exact(sp, node.data)
        else:
            form = sympy_form(rule)
            exprs[id(node)] = form(sp, *(exprs[id(p)] for p in operands(node)))
    return exprs[id(value)]


# ---------------------------------------------------------------------------------------------
# Running a function or a program on labelled inputs
# ---------------------------------------------------------------------------------------------


def input_names(f: Function | Program, n: int | None = None) -> list[str]:
    """The names of ``f``'s inputs: ``x0 … x{n−1}`` for a program, a function's positional
    parameters (``x``, ``y``) when they can be read, and ``x0 …`` otherwise."""
    if isinstance(f, Program):
        if n is not None and n != f.n_inputs:
            raise TypeError(f"the program takes {f.n_inputs} input(s), and the point has {n} "
                            "number(s)")
        return [f"x{i}" for i in range(f.n_inputs)]
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    if n is None:
        if variadic or not parameters:
            raise TypeError("cannot tell how many inputs the function takes; "
                            "pass n_inputs=")
        n = len(positional)
    elif parameters and not variadic and len(positional) != n:
        raise TypeError(f"the function takes {len(positional)} input(s) "
                        f"({', '.join(positional)}), and the point has {n} number(s)")
    if len(positional) >= n and len(set(positional[:n])) == n:
        return positional[:n]
    return [f"x{i}" for i in range(n)]


def _run(f: Function | Program, point: Sequence[float],
         names: Sequence[str]) -> tuple[list[Value], Value]:
    inputs = [Value(x, label=name) for x, name in zip(point, names, strict=True)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, not {type(out).__name__}")
    return inputs, out


# ---------------------------------------------------------------------------------------------
# Fair points
# ---------------------------------------------------------------------------------------------


def point_issue(f: Function | Program, point: Sequence[float], *, margin: float = MARGIN,
                bound: float = BOUND, sympy: bool | None = False) -> str | None:
    """Why ``point`` is not a fair test of ``f``'s derivatives, or ``None`` when it is.

    A point is fair when, with every op read from the rule table:

    * ``f`` evaluates, and its backward pass runs, at the point and a step of 1e-6 and of
      ``margin`` away along each input (so central differences can probe it);
    * every op's operands are more than ``margin`` from its kinks and ties (its ``kink`` is
      0 there: relu and abs at 0, maximum where x = y) and from the edges of its domain;
    * every op's partials are finite there and within ``margin`` of it (no pole: xʸ and x/y
      near a zero x or y);
    * every value, adjoint, and term v̄·∂v/∂xᵢ of an adjoint is finite and at most ``bound``
      in magnitude (nothing overflows, and no huge terms cancel);
    * with ``sympy=True``, sympy's value and gradient at the point are finite and real too
      (``sympy=None``: when sympy is installed and every op of the graph has a sympy form).

    >>> point_issue(lambda x: x.log(), [0.5]) is None
    True
    >>> point_issue(lambda x: x.relu() * 2, [1e-4])
    'relu(x) is within 0.001 of a kink: relu(0.0001)'
    """
    names = input_names(f, len(point))
    try:
        inputs, out = _run(f, point, names)
        out.backward()
    except (DomainError, ArithmeticError, ValueError) as error:
        return f"f raises {type(error).__name__} at the point: {error}"
    problem = _graph_issue(out, inputs, names, margin, bound)
    if problem is not None:
        return problem
    for i in range(len(point)):
        for h in (*PROBES, *(-p for p in PROBES)):
            shifted = list(point)
            shifted[i] += h
            try:
                with no_grad():
                    f(*(Value(x) for x in shifted))
            except (DomainError, ArithmeticError, ValueError) as error:
                return (f"f raises {type(error).__name__} a step of {h:g} away along "
                        f"{names[i]}: {error}")
    if sympy is None:
        sympy = importlib.util.find_spec("sympy") is not None and all(
            _has_form(v._op) for v in topological_order(out))
    if sympy:
        value, gradient, _ = sympy_derivatives(f, point, order=1)
        for what, x in (("f", value), *((f"∂f/∂{n}", g) for n, g in zip(names, gradient,
                                                                      strict=True))):
            if not math.isfinite(x):
                return f"sympy's {what} is {x} at the point"
    return None


def _graph_issue(out: Value, inputs: list[Value], names: Sequence[str], margin: float,
                 bound: float) -> str | None:
    for node in topological_order(out):
        rule = node._op
        if rule is INPUT or rule is CONST:
            continue
        parents = operands(node)
        args = [p.data for p in parents]
        where = _written(rule, parents, names, inputs)
        if not _moderate(node.data, bound):
            return f"{where} = {node.data!r} is beyond {bound:g}"
        if not _moderate(node.grad, bound):
            return f"the adjoint of {where} is {node.grad!r}, beyond {bound:g}"
        if rule.kink is not None and abs(rule.kink(*args)) <= margin:
            return f"{where} is within {margin:g} of a kink: {rule.name}({_numbers(args)})"
        for shifted in _corners(args, margin):
            if rule.domain is not None:
                reason = rule.domain(*shifted)
                if reason is not None:
                    return (f"{where} is within {margin:g} of the edge of its domain: at "
                            f"{rule.name}({_numbers(shifted)}), {reason}")
            partials = _partials(rule, shifted)
            if partials is None or not all(math.isfinite(d) for d in partials):
                return (f"the derivative of {where} is not finite within {margin:g} of the "
                        f"point: at {rule.name}({_numbers(shifted)}) it is {partials}")
        for parent, d in zip(parents, _partials(rule, args) or [], strict=False):
            if parent._op is not CONST and not _moderate(node.grad * d, bound):
                return (f"a term of an adjoint, v̄·∂v/∂xᵢ at {where}, is "
                        f"{node.grad * d!r}, beyond {bound:g}")
    for x, name in zip(inputs, names, strict=True):
        if not _moderate(x.grad, bound):
            return f"∂f/∂{name} = {x.grad!r} is beyond {bound:g}"
    return None


def _has_form(rule: Rule) -> bool:
    if rule is INPUT or rule is CONST:
        return True
    try:
        sympy_form(rule)
    except ValueError:
        return False
    return True


def _corners(args: list[float], margin: float) -> list[list[float]]:
    """The point, and the point moved by ±margin along each operand."""
    corners = [args]
    for i in range(len(args)):
        for h in (margin, -margin):
            shifted = list(args)
            shifted[i] += h
            corners.append(shifted)
    return corners


def _partials(rule: Rule, args: list[float]) -> list[float] | None:
    """The row's partials on floats, or None where they cannot be computed."""
    try:
        out = rule.primal(*args)
        if rule.arity == VARIADIC:
            return [float(d) for d in rule.partials[0](args, out)]
        return [float(d(*args, out)) for d in rule.partials]
    except (DomainError, ArithmeticError, ValueError):
        return None


def _moderate(x: Any, bound: float) -> bool:
    x = x.data if isinstance(x, Value) else x
    return math.isfinite(x) and abs(x) <= bound


def _numbers(xs: Sequence[float]) -> str:
    return ", ".join(f"{x:.6g}" for x in xs)


def _written(rule: Rule, parents: Sequence[Value], names: Sequence[str],
             inputs: Sequence[Value]) -> str:
    """``relu(x)`` for an op on an input, ``relu(v)`` for one on an intermediate value."""
    by_id = {id(x): n for x, n in zip(inputs, names, strict=True)}
    shown = [by_id.get(id(p), f"{p.data:g}" if p._op is CONST else "v") for p in parents]
    try:
        return rule.format(shown)
    except Exception:  # a user's display function that cannot write these names
        return f"{rule.name}({', '.join(shown)})"


# ---------------------------------------------------------------------------------------------
# sympy's numbers at a point
# ---------------------------------------------------------------------------------------------

#: Compiled sympy derivatives by graph shape: a property test meets the same shape at many
#: points, and differentiating is the slow part.
_CACHE: dict[Any, Callable[..., Any]] = {}
_CACHE_SIZE = 512


def _shape(nodes: list[Value], inputs: Sequence[Value]) -> tuple[Any, ...]:
    """The graph's structure: ops (by their sympy forms, which make the expression), operand
    positions, constants, and where the inputs are; not the inputs' values. NOTE: the key
    holds the forms themselves, not their ids, which a collected row's successor could reuse."""
    which = {id(x): k for k, x in enumerate(inputs)}
    index = {id(v): k for k, v in enumerate(nodes)}
    key: list[Any] = []
    for node in nodes:
        if node._op is INPUT:
            key.append(("input", which[id(node)]) if id(node) in which
                       else ("leaf", node.data))
        elif node._op is CONST:
            key.append(("const", node.data))
        else:
            key.append((sympy_form(node._op), tuple(index[id(p)] for p in operands(node))))
    return tuple(key)


def sympy_derivatives(f: Function | Program, point: Sequence[float], order: int = 1,
                      ) -> tuple[float, list[float], list[list[float]] | None]:
    """sympy's f, ∇f and (at ``order=2``) Hessian at ``point``, to 30 significant digits,
    rounded to floats. A value that is not a finite real number comes back as NaN."""
    sp = import_sympy("sympy_derivatives")
    import mpmath

    inputs, out = _run(f, point, input_names(f, len(point)))
    nodes = topological_order(out)
    key = (len(point), _shape(nodes, inputs), order)
    compiled = _CACHE.get(key)
    if compiled is None:
        # Our own symbol names, whatever the labels: lambdify writes them into its source.
        symbols = sp.symbols([f"x{i}" for i in range(len(point))], real=True)
        mapping: dict[Value | str, Any] = dict(zip(inputs, symbols, strict=True))
        for v in nodes:  # a Value that f holds (a parameter, say) is a constant of f
            if v._op is INPUT and v not in mapping:
                mapping[v] = exact(sp, v.data)
        expr = to_sympy(out, mapping)
        gradient = [sp.diff(expr, s) for s in symbols]
        entries = [expr, *gradient]
        if order >= 2:
            entries += [sp.diff(g, s) for g in gradient for s in symbols]
        compiled = _compile(sp, symbols, entries)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = compiled
    with mpmath.workdps(DIGITS):
        numbers = [_real(v) for v in compiled(*(mpmath.mpf(x) for x in point))]
    n = len(point)
    hessian = ([numbers[1 + n + i * n: 1 + n + (i + 1) * n] for i in range(n)]
               if order >= 2 else None)
    return numbers[0], numbers[1:1 + n], hessian


def _compile(sp: Any, symbols: Sequence[Any], entries: list[Any]) -> Callable[..., Any]:
    """The entries as one function of mpmath numbers.

    A DiracDelta (the second derivative of relu, abs or max) is 0 away from its kink, and the
    kinks themselves are refused before sympy is asked, so it is written as 0.
    NOTE: lambdify writes Python source from sympy's expression (our own symbols and numbers,
    and the ops' sympy forms) and runs it; where it cannot print or run an expression, evalf
    at each point does the same, slowly."""
    entries = [e.replace(sp.DiracDelta, lambda *args: sp.S.Zero) for e in entries]

    def by_evalf(*xs: Any) -> list[Any]:
        at = {s: sp.Float(x, DIGITS) for s, x in zip(symbols, xs, strict=True)}
        return [e.evalf(DIGITS, subs=at) for e in entries]

    try:
        fast = sp.lambdify(symbols, entries, modules="mpmath")
    except Exception:
        return by_evalf

    def evaluate(*xs: Any) -> list[Any]:
        try:
            return list(fast(*xs))
        except (NameError, TypeError, AttributeError, ZeroDivisionError):  # evalf says zoo
            return by_evalf(*xs)

    return evaluate


def _real(v: Any) -> float:
    try:
        z = complex(v)
    except (TypeError, ValueError):
        return math.nan
    return z.real if z.imag == 0.0 else math.nan


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------


class SympyMismatchError(AssertionError):
    """An engine's derivatives disagree with sympy's closed form. ``rows`` holds, per entry,
    ``(name, engine, sympy, ok)``; the message shows them side by side."""

    def __init__(self, header: str, rows: list[tuple[str, float, float, bool]],
                 rtol: float, atol: float) -> None:
        self.rows = rows
        width = max(len(name) for name, *_ in rows)
        lines = [f"{header} (rtol={rtol:g}, atol={atol:g}):",
                 f"  {'':<{width}} {'engine':>24} {'sympy':>24} {'|diff|':>10}"]
        for name, ours, theirs, ok in rows:
            mark = "" if ok else "  <-- mismatch"
            lines.append(f"  {name:<{width}} {ours:>24.17g} {theirs:>24.17g} "
                         f"{abs(ours - theirs):>10.3g}{mark}")
        super().__init__("\n".join(lines))


def assert_matches_sympy(f: Function | Program, at: Sequence[float] | Sequence[Sequence[float]],
                         order: int = 1, engine: type | None = None, rtol: float = RTOL,
                         atol: float = ATOL) -> bool:
    """Compare an engine's value and gradient of ``f`` (and at ``order=2`` its Hessian) with
    sympy's closed form, at one point or at each of a list of points.

    ``f`` is a :class:`~autograd_mini.testing.Program` or a function of Values. sympy's form
    is :func:`to_sympy` of the graph ``f`` records at the point, differentiated by sympy and
    evaluated to 30 digits. The engine is autograd_mini's reverse mode (and forward over
    reverse for the Hessian), or, with ``engine=`` a micrograd-like class, that class: inputs
    ``engine(x)``, a program run by :meth:`~autograd_mini.testing.Program.run_on` (a
    function called on the inputs), then ``backward()`` and each input's ``grad``.

    An entry passes when |engine − sympy| ≤ atol + rtol·|sympy|. Returns True, or raises
    :class:`SympyMismatchError` with both columns. A point where sympy's numbers are not
    finite, or where an op sits exactly on a kink (relu′(0) is 0 here, Heaviside(0) = ½ in
    sympy), raises ValueError: draw points with
    :func:`~autograd_mini.testing.strategies.points`, which avoids both.

    >>> assert_matches_sympy(lambda x: x.tanh(), at=[(0.5,), (-1.0,)], order=2)
    True
    """
    if order not in (1, 2):
        raise ValueError(f"assert_matches_sympy: order must be 1 or 2, not {order}")
    if engine is not None and order != 1:
        raise ValueError("assert_matches_sympy: an engine of one's own is checked at order=1 "
                         "(its backward() gives gradients)")
    for point in _point_list(at):
        _check_one(f, point, order, engine, rtol, atol)
    return True


def _point_list(at: Any) -> list[Point]:
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return [(float(at),)]
    items = list(at)
    if items and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
        return [tuple(float(x) for x in items)]
    points = []
    for p in items:
        if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in p):
            raise TypeError(f"assert_matches_sympy: at must be a point, such as (0.5, 2.0), "
                            f"or a list of points, not {at!r}")
        points.append(tuple(float(x) for x in p))
    if not points:
        raise ValueError("assert_matches_sympy: at holds no point")
    return points


def _check_one(f: Function | Program, point: Point, order: int, engine: type | None,
               rtol: float, atol: float) -> None:
    names = input_names(f, len(point))
    inputs, out = _run(f, point, names)
    kink = _on_a_kink(out, inputs, names)
    if kink is not None:
        raise ValueError(f"assert_matches_sympy: at {_numbers(point)}, {kink}: the "
                         "derivative there is a convention, not a closed form; move the point")
    value, gradient, hess = sympy_derivatives(f, point, order)
    expected: list[tuple[str, float]] = [("f", value)]
    expected += [(f"∂f/∂{n}", g) for n, g in zip(names, gradient, strict=True)]
    if hess is not None:
        expected += [(f"∂²f/∂{a}∂{b}", h) for a, row in zip(names, hess, strict=True)
                     for b, h in zip(names, row, strict=True)]
    bad = [name for name, x in expected if not math.isfinite(x)]
    if bad:
        raise ValueError(f"assert_matches_sympy: sympy's {', '.join(bad)} is not a finite real "
                         f"number at ({_numbers(point)}), a pole or the edge of a domain; "
                         "move the point")
    ours = _engine_numbers(f, point, inputs, out, order, engine)
    rows = [(name, a, b, _close(a, b, rtol, atol))
            for (name, b), a in zip(expected, ours, strict=True)]
    if not all(ok for *_, ok in rows):
        who = "autograd_mini" if engine is None else engine.__name__
        at = ", ".join(f"{n} = {x!r}" for n, x in zip(names, point, strict=True))
        header = f"{who} and sympy disagree at {at}, for f = {to_sympy(out)}"
        raise SympyMismatchError(header, rows, rtol, atol)


def _engine_numbers(f: Function | Program, point: Point, inputs: list[Value], out: Value,
                    order: int, engine: type | None) -> list[float]:
    if engine is None:
        out.backward()
        numbers = [out.data, *(x.grad for x in inputs)]
        if order == 2:
            from ..functional import hessian

            numbers += [h for row in hessian(f)(*point) for h in row]
        return [float(v) for v in numbers]
    theirs = [engine(x) for x in point]
    result = f.run_on(engine, *theirs) if isinstance(f, Program) else f(*theirs)
    result.backward()
    return [float(result.data), *(float(x.grad) for x in theirs)]


def _on_a_kink(out: Value, inputs: list[Value], names: Sequence[str]) -> str | None:
    for node in topological_order(out):
        rule = node._op
        if rule.kink is not None:
            parents = operands(node)
            if rule.kink(*(p.data for p in parents)) == 0.0:
                return f"{_written(rule, parents, names, inputs)} sits on its kink"
    return None


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= atol + rtol * abs(b)
