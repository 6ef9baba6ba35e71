"""Tools for checking derivatives: central differences, ``gradcheck``, ``check_grads``, the
registration check of new primitives, and random programs.

The hypothesis strategies live in :mod:`autograd_mini.testing.strategies`, which imports
hypothesis; this module does not, so importing it costs nothing.

>>> gradcheck(lambda x, y: (x * y).sin(), [0.5, 2.0])
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from ..cost import charge, count_passes
from ..engine import Value, no_grad
from ..errors import DomainError
from ..functional import grad, jvp
from ..rules import VARIADIC, Primitive, Rule
from .program import Instruction, Program

__all__ = [
    "GradcheckError",
    "Instruction",
    "Program",
    "RuleCheckError",
    "check_grads",
    "check_rule",
    "gradcheck",
    "numerical_grad",
]


def _points(xs: Any, who: str) -> list[float]:
    if isinstance(xs, (int, float, Value)):
        raise TypeError(f"{who}: xs must be a list of numbers, one per argument, such as [0.5]")
    return [_scalar(x, f"{who}: each x") for x in xs]


def _scalar(result: Any, what: str) -> float:
    if isinstance(result, Value):
        return result.data
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return float(result)
    raise TypeError(f"{what} must return a Value or a number, not {type(result).__name__}")


def numerical_grad(f: Callable[..., Any], xs: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Central differences: ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, for every i.

    The error is O(ε²) from truncation plus O(u/ε) from rounding (u ≈ 1.1e-16), which is why
    ε = 1e-6 is a good default for double precision. It costs two evaluations per input, so
    O(W) evaluations of an O(W) function for W inputs: fine for checking, hopeless for training.

    ``f`` is called with :class:`Value` arguments (under :func:`no_grad`, so no graph is kept)
    and returns a Value or a number.
    """
    point = _points(xs, "numerical_grad")

    def at(shifted: list[float]) -> float:
        charge(evaluations=1)
        with no_grad():
            return _scalar(f(*(Value(x) for x in shifted)), "f")

    grads = []
    for i, x in enumerate(point):
        up, down = list(point), list(point)
        up[i], down[i] = x + eps, x - eps
        grads.append((at(up) - at(down)) / (2.0 * eps))
    return grads


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree. ``rows`` holds, per input,
    ``(index, x, analytic, numeric, ok)``; the message shows them side by side."""

    def __init__(self, rows: list[tuple[int, float, float, float, bool]], atol: float,
                 rtol: float, what: str = "gradients") -> None:
        self.rows = rows
        lines = [f"{what} disagree (atol={atol:g}, rtol={rtol:g}):",
                 f"  {'input':>6} {'x':>12} {'analytic':>22} {'numeric':>22} {'|diff|':>10}"]
        for i, x, a, n, ok in rows:
            mark = "" if ok else "  <-- mismatch"
            lines.append(f"  {i:>6} {x:>12.6g} {a:>22.15g} {n:>22.15g} {abs(a - n):>10.3g}{mark}")
        super().__init__("\n".join(lines))


def _close(a: float, n: float, atol: float, rtol: float) -> bool:
    if math.isnan(a) or math.isnan(n):
        return False
    if math.isinf(a) or math.isinf(n):
        return a == n
    return abs(a - n) <= atol + rtol * abs(n)


def gradcheck(f: Callable[..., Any], xs: Sequence[float], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check reverse-mode gradients of ``f`` at ``xs`` against central differences.

    Each input passes when |analytic − numeric| ≤ atol + rtol·|numeric| (PyTorch's test).
    Returns True, or raises :class:`GradcheckError` with both values for every input.
    A NaN on either side is a failure.
    """
    point = _points(xs, "gradcheck")
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, not {type(out).__name__}")
    out.backward()
    numeric = numerical_grad(f, point, eps)
    rows = [(i, x, v.grad, n, _close(v.grad, n, atol, rtol))
            for i, (x, v, n) in enumerate(zip(point, inputs, numeric, strict=True))]
    if not all(ok for *_, ok in rows):
        raise GradcheckError(rows, atol, rtol)
    return True


def _compare(analytic: Sequence[Any], point: Sequence[float], numeric: Sequence[float],
             atol: float, rtol: float, what: str) -> None:
    values = [a.data if isinstance(a, Value) else float(a) for a in analytic]
    rows = [(i, x, a, n, _close(a, n, atol, rtol))
            for i, (x, a, n) in enumerate(zip(point, values, numeric, strict=True))]
    if not all(ok for *_, ok in rows):
        raise GradcheckError(rows, atol, rtol, what)


def check_grads(f: Callable[..., Any], xs: Sequence[float],
                modes: Sequence[str] = ("fwd", "rev"), order: int = 2, eps: float = 1e-6,
                atol: float = 1e-5, rtol: float = 1e-3, _level: int = 1, _of: str = "f") -> bool:
    """Check derivatives of ``f`` at ``xs`` in every mode, to ``order``, against central
    differences, in the style of HIPS autograd's and JAX's ``check_grads``.

    Order 1 checks every ∂f/∂xᵢ, by n forward passes (``"fwd"``) and by one reverse pass
    (``"rev"``). Order k > 1 checks the derivative functions themselves, differentiated again
    by every mode: for ``"rev"`` the gradient contracted with a fixed direction w,
    x ↦ w·∇f(x); for ``"fwd"`` the directional derivative x ↦ ∇f(x)·w. So order 2 checks
    forward-over-forward, reverse-over-reverse and both mixtures. A vector-valued ``f`` is
    first contracted with a fixed cotangent u, x ↦ u·f(x).

    Returns True or raises :class:`GradcheckError`, which names the mode, the order and the
    function whose derivatives disagree (w written out), and shows analytic and numeric values
    side by side.

    >>> check_grads(lambda x, y: (x * y).sin() + y.exp(), [0.5, -0.3])
    True
    """
    if isinstance(modes, str):
        modes = (modes,)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"check_grads: modes must be 'fwd' or 'rev', not {mode!r}")
    if order < 1:
        raise ValueError(f"check_grads: order must be at least 1, not {order}")
    point = _points(xs, "check_grads")
    n = len(point)
    # Fixed, unremarkable weights: every component matters, none cancels by symmetry.
    w = [1.0 + 0.37 * k for k in range(n)]

    def scalar_f(*args: Any) -> Any:
        out = f(*args)
        if isinstance(out, (list, tuple)):
            return sum((u * o for u, o in zip((1.0 + 0.29 * j for j in range(len(out))), out,
                                              strict=False)), 0.0)
        return out

    numeric = numerical_grad(scalar_f, point, eps)
    everything = tuple(range(n))
    for mode in modes:
        if mode == "rev":
            analytic = list(grad(scalar_f, argnums=everything)(*point))
        else:
            basis = [[1.0 if j == k else 0.0 for j in range(n)] for k in range(n)]
            analytic = [jvp(scalar_f, point, e)[1] for e in basis]
        _compare(analytic, point, numeric, atol, rtol,
                 f"mode={mode}, order {_level}: the derivatives of {_of}, analytic and numeric,")
    if order > 1:
        weights = ", ".join(f"{wk:g}" for wk in w)
        for mode in modes:
            of = f"x ↦ w·∇({_of})(x)" if mode == "rev" else f"x ↦ ∇({_of})(x)·w by jvp"
            if _level == 1:
                of += f", w = ({weights})"
            if mode == "rev":
                def derivative(*args: Any) -> Any:
                    g = grad(scalar_f, argnums=everything)(*args)
                    return sum((wk * gk for wk, gk in zip(w, g, strict=True)), 0.0)
            else:
                def derivative(*args: Any) -> Any:
                    return jvp(scalar_f, args, w)[1]
            check_grads(derivative, point, modes, order - 1, eps, atol, rtol, _level + 1, of)
    return True


# ---------------------------------------------------------------------------------------------
# The registration check of a new primitive
# ---------------------------------------------------------------------------------------------


class RuleCheckError(ValueError):
    """A new row's partials disagree with central differences, or fail on Values; the row is
    not registered. The message shows the analytic and numeric values side by side."""


#: Where the check draws its points, and how far they stay from a domain edge or a kink: the
#: central differences step by 1e-6, and slopes blow up next to an edge.
CHECK_RANGE = 2.0
CHECK_MARGIN = 1e-3


def check_rule(rule: Rule, at: Sequence[Sequence[float]] | None = None) -> None:
    """Check a row's partials against central differences, to second order, in both modes.

    This is what :func:`~autograd_mini.primitive` runs before it adds a row (``check=True``).
    At each point (``at``, or three points drawn from [−2, 2] inside the domain and away from
    kinks):

    * :func:`check_grads` compares the first derivatives and the derivatives of the first
      derivatives with central differences, so a partial that is wrong, or right but computed
      on floats only (it cannot be differentiated again: its derivative comes out as 0), is
      refused;
    * each partial must have the same value on Values as on floats;
    * the code templates, if any, must compute what the row's functions compute.

    The absolute tolerance scales with the row's values at the point (10⁻⁷ of the largest of
    |v| and |∂v/∂xᵢ|), so that a row of tiny values is checked as strictly as any other; the
    relative tolerance is check_grads' 10⁻³. Nothing is counted by an open
    :func:`~autograd_mini.count_passes` block.

    >>> from autograd_mini.rules import RULES
    >>> check_rule(RULES["gelu"])  # raises RuleCheckError if a partial is wrong
    """
    points = _check_points(rule) if at is None else _given_points(rule, at)
    with count_passes():  # the check's own passes are not the caller's to count
        for point in points:
            _check_at(rule, point)


def _given_points(rule: Rule, at: Sequence[Sequence[float]]) -> list[tuple[float, ...]]:
    where = f"primitive {rule.name!r} is not registered"
    n = None if rule.arity == VARIADIC else rule.arity
    points: list[tuple[float, ...]] = []
    for p in at:
        if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in p):
            raise RuleCheckError(f"{where}: check_at must be a list of points, each a tuple of "
                                 f"numbers such as (0.5,), not {p!r}")
        if n is not None and len(p) != n:
            raise RuleCheckError(f"{where}: check_at point {tuple(p)!r} has {len(p)} "
                                 f"number(s), and the op takes {n}")
        points.append(tuple(float(x) for x in p))
    if not points:
        raise RuleCheckError(f"{where}: check_at is empty; to register without the check, "
                             "pass check=False")
    return points


def _check_at(rule: Rule, point: tuple[float, ...]) -> None:
    where = f"primitive {rule.name!r} is not registered: at {_point(point)}"
    f = Primitive(rule)

    def op(*xs: Any) -> Any:
        return f(*xs)

    try:
        value, on_floats = _on_floats(rule, point)
        scale = max([abs(value), *(abs(d) for d in on_floats)])
        atol = 1e-7 * scale if math.isfinite(scale) and scale > 0.0 else 1e-12
        check_grads(op, list(point), order=2, atol=atol)
        _compare_paths(rule, point, on_floats, atol)
        if rule.code or rule.partials_code:
            _compare_compiled(rule, op, point, value, on_floats, atol)
    except RuleCheckError:
        raise
    except GradcheckError as error:
        raise RuleCheckError(f"{where}, its partials disagree with central differences. "
                             "A second-order mismatch whose analytic side is 0 means a "
                             "partial computes on floats only: write it with arithmetic, "
                             f"primal() for a branch, and primitives such as exp.\n{error}"
                             ) from error
    except DomainError as error:
        raise RuleCheckError(f"{where}, the op is outside its domain: {error}") from error
    except Exception as error:  # a partial that fails on Values, say
        raise RuleCheckError(f"{where}, {_failure(error)}") from error


def _on_floats(rule: Rule, point: tuple[float, ...]) -> tuple[float, list[float]]:
    """The row's value and partials at ``point``, on floats."""
    out = rule.primal(*point)
    if rule.arity == VARIADIC:
        return out, [float(d) for d in rule.partials[0](list(point), out)]
    return out, [float(d(*point, out)) for d in rule.partials]


def _compare_paths(rule: Rule, point: tuple[float, ...], on_floats: list[float],
                   atol: float) -> None:
    values = [Value(x) for x in point]
    out = Primitive(rule)(*values)
    partials = (rule.partials[0](values, out) if rule.arity == VARIADIC
                else [d(*values, out) for d in rule.partials])
    for k, (a, b) in enumerate(zip(partials, on_floats, strict=True)):
        a_value = a.data if isinstance(a, Value) else float(a)
        if not _close(a_value, b, atol, 1e-9):
            raise RuleCheckError(
                f"primitive {rule.name!r} is not registered: at {_point(point)}, partial {k} "
                f"is {a_value!r} on Values but {b!r} on floats; it must compute the same "
                "number on both")


def _compare_compiled(rule: Rule, op: Callable[..., Any], point: tuple[float, ...],
                      value: float, on_floats: list[float], atol: float) -> None:
    from ..compile import compile as compile_trace  # the code templates, as compiled

    compiled_value, compiled_grads = compile_trace(op, list(point))(*point)
    rows = [(k, x, c, d, _close(c, d, atol, 1e-9)) for k, (x, c, d) in
            enumerate(zip(point, compiled_grads, on_floats, strict=True))]
    if not _close(compiled_value, value, atol, 1e-9) or not all(r[-1] for r in rows):
        table = GradcheckError(rows, atol, 1e-9, "the compiled partials and the row's")
        raise RuleCheckError(
            f"primitive {rule.name!r} is not registered: at {_point(point)}, its code "
            f"templates compute the value {compiled_value!r} (the primal gives {value!r}) and "
            f"partials unlike its functions':\n{table}")


def _failure(error: Exception) -> str:
    hint = ("Each partial must work on floats and on Values: write it with arithmetic, "
            "primal() for a branch, and primitives such as exp and erf")
    if isinstance(error, TypeError):
        hint += "; a partial is called as d(x, out), or d(x, y, out), with the op's result last"
    if isinstance(error, NameError):
        hint = ("A partial cannot call the primitive being registered (it has no name yet): "
                "use out, the op's result, as in d(x, out) = out for exp")
    return f"checking the row raised {type(error).__name__}: {error}. {hint}"


def _point(point: Sequence[float]) -> str:
    return "(" + ", ".join(f"{x:.6g}" for x in point) + ")"


def _check_points(rule: Rule, count: int = 3, tries: int = 1000) -> list[tuple[float, ...]]:
    """``count`` points drawn from [−2, 2]ⁿ, the same every time for the same name, where the
    op is inside its domain with a margin, away from kinks, and finite with finite partials."""
    rng = random.Random(f"autograd_mini.check_rule {rule.name}")
    n = 3 if rule.arity == VARIADIC else rule.arity
    points: list[tuple[float, ...]] = []
    for _ in range(tries):
        point = tuple(rng.uniform(-CHECK_RANGE, CHECK_RANGE) for _ in range(n))
        if _fair(rule, point):
            points.append(point)
            if len(points) == count:
                return points
    raise RuleCheckError(
        f"primitive {rule.name!r} is not registered: the check found no {count} points in "
        f"[−{CHECK_RANGE:g}, {CHECK_RANGE:g}] inside its domain, away from its kinks; pass "
        "check_at=[(x, …), …] with points to check at, or check=False")


def _fair(rule: Rule, point: tuple[float, ...]) -> bool:
    if rule.kink is not None and abs(rule.kink(*point)) <= CHECK_MARGIN:
        return False
    if rule.domain is not None:
        for i in range(len(point)):
            for h in (0.0, CHECK_MARGIN, -CHECK_MARGIN):
                shifted = list(point)
                shifted[i] += h
                if rule.domain(*shifted) is not None:
                    return False
    try:
        out, partials = _on_floats(rule, point)
    except (ArithmeticError, ValueError):  # outside a domain the row does not declare
        return False
    except Exception as error:
        raise RuleCheckError(f"primitive {rule.name!r} is not registered: at "
                             f"{_point(point)}, {_failure(error)}") from error
    return all(math.isfinite(x) for x in (out, *partials))
