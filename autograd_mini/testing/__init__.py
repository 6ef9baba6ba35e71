"""Tools for checking derivatives, anyone's: central differences (``gradcheck``,
``check_grads``), sympy's closed forms (``to_sympy``, ``assert_matches_sympy``), PyTorch
(``compare_with_torch``), the registration check of new primitives, and random programs that
run on this engine or on an engine of one's own (``Program.run_on``).

The hypothesis strategies, programs and fair points, live in
:mod:`autograd_mini.testing.strategies`, which imports hypothesis; this module imports neither
hypothesis nor sympy nor torch, so importing it costs nothing.

>>> gradcheck(lambda x, y: (x * y).sin(), [0.5, 2.0])
True
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .._graph import topological_order
from ..cost import charge, count_passes
from ..engine import Value, no_grad
from ..errors import DomainError
from ..functional import grad, jvp
from ..rules import VARIADIC, Primitive, Rule
from .oracle import (
    SympyMismatchError,
    assert_matches_sympy,
    point_issue,
    sympy_derivatives,
    to_sympy,
)
from .program import Instruction, Program, UnsupportedOpError, supported_ops
from .pytorch import TorchMismatchError, compare_with_torch

__all__ = [
    "GradcheckError",
    "Instruction",
    "ProbeError",
    "Program",
    "RuleCheckError",
    "SympyMismatchError",
    "TorchMismatchError",
    "UnsupportedOpError",
    "assert_matches_sympy",
    "check_grads",
    "check_rule",
    "compare_with_torch",
    "gradcheck",
    "numerical_grad",
    "point_issue",
    "supported_ops",
    "sympy_derivatives",
    "to_sympy",
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


class ProbeError(ValueError):
    """A derivative by differences could not be taken at the caller's point: a probe x ± eps,
    a point the caller never gave, fell outside the domain of f, and the one-sided difference
    on the other side failed too (or did not settle).

    It is a ValueError, as the DomainError that caused it is: what is wrong is an argument's
    value (the point is within eps of a domain edge, or eps is too large for it), not a
    derivative, so it is not a :class:`GradcheckError`. The message names the function, the
    input, every failed probe with its numbers and what it raised, and what to do; ``index``,
    ``x`` and ``eps`` say the same, and the first failure is the ``__cause__``.
    """

    def __init__(self, message: str, *, index: int = -1, x: float = math.nan,
                 eps: float = math.nan) -> None:
        super().__init__(message)
        self.index, self.x, self.eps = index, x, eps


#: What f raises where it is not defined (a DomainError is a ValueError). At a probe the
#: caller never gave, these send the difference to the other side of x instead of escaping.
_UNDEFINED = (ValueError, ZeroDivisionError)

#: The one-sided difference halves its step until two estimates in a row agree this closely
#: (relative), or to within rounding, giving up after this many halvings.
_SETTLE_RTOL = 1e-9
_MAX_HALVINGS = 64


def numerical_grad(f: Callable[..., Any], xs: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Central differences: ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, for every i.

    The error is O(ε²) from truncation plus O(u/ε) from rounding (u ≈ 1.1e-16), which is why
    ε = 1e-6 is a good default for double precision. It costs two evaluations per input (a few
    dozen for an input within ε of a domain edge, below), so O(W) evaluations of an O(W)
    function for W inputs: fine for checking, hopeless for training.

    ``f`` is called with :class:`Value` arguments (under :func:`no_grad`, so no graph is kept)
    and returns a Value or a number.

    **Near a domain edge.** Within ε of an edge one probe leaves the domain (log at 1e-7:
    1e-7 − 1e-6 < 0). f is then differentiated from the other side alone, by the one-sided
    second-order difference, here forward (backward mirrors it, h → −h):

        f′(x) ≈ (−3f(x) + 4f(x + h) − f(x + 2h)) / 2h,

    since Taylor's f(x + h) = f + hf′ + h²f″/2 + h³f‴/6 + … and f(x + 2h) = f + 2hf′ + 2h²f″
    + 4h³f‴/3 + … give 4f(x + h) − f(x + 2h) = 3f + 2hf′ − 2h³f‴/3 + …, an error of h²f‴/3.
    Next to an edge f‴ is huge (2/d³ for log at distance d from 0), so h = ε would be far
    off; h therefore starts at ε/2 and halves, one evaluation each, until two estimates in a
    row agree to 1e-9 or to rounding (2⁻⁴⁸·Σ|f|/h), and Richardson's (4D(h/2) − D(h))/3 then
    cancels the h² term. Every probe stays between x and the probe x ± ε that worked.

    If both probes fail, or the one-sided estimates fail or never settle (an infinite slope,
    as sqrt's at 0), :class:`ProbeError` says which input and probe, what it raised, and what
    to do. If f fails at the caller's own point, that error escapes as it is: it names their
    point. (f at the point is evaluated only when a probe fails.)

    >>> (slope,) = numerical_grad(lambda x: x.log(), [1e-7])  # x − 1e-6 < 0: one-sided
    >>> math.isclose(slope, 1 / 1e-7, rel_tol=1e-6)  # d/dx log x = 1/x
    True
    """
    return _differences(f, _points(xs, "numerical_grad"), eps, "numerical_grad")


def _differences(f: Callable[..., Any], point: list[float], eps: float,
                 who: str) -> list[float]:
    """:func:`numerical_grad` at ``point``; ``who`` begins a :class:`ProbeError`'s message."""

    def at(shifted: list[float]) -> float:
        charge(evaluations=1)
        with no_grad():
            return _scalar(f(*(Value(x) for x in shifted)), "f")

    here: list[float] = []  # f at the caller's point, once, if a probe fails

    def at_point() -> float:
        if not here:
            here.append(at(list(point)))  # not caught: a failure here names the caller's point
        return here[0]

    grads = []
    for i, x in enumerate(point):

        def probe(t: float, i: int = i) -> float | Exception:
            shifted = list(point)
            shifted[i] = t
            try:
                return at(shifted)
            except _UNDEFINED as error:
                return error

        up, down = probe(x + eps), probe(x - eps)
        if not isinstance(up, Exception) and not isinstance(down, Exception):
            grads.append((up - down) / (2.0 * eps))
            continue
        f0 = at_point()
        failed = [(_step(x, 1.0, eps, "eps"), x + eps, up)] if isinstance(up, Exception) else []
        if isinstance(down, Exception):
            failed.append((_step(x, -1.0, eps, "eps"), x - eps, down))
        where = f"{who}: at input {i}, x = {x!r}, with eps = {eps!r}"
        cause = failed[0][2]
        if not isinstance(up, Exception):
            grads.append(_one_sided(probe, x, f0, up, 1.0, eps, where, failed, i))
        elif not isinstance(down, Exception):
            grads.append(_one_sided(probe, x, f0, down, -1.0, eps, where, failed, i))
        else:
            raise ProbeError(
                f"{where}: f is defined at x but neither side of the central difference is: "
                f"{_failures(failed)}; so no one-sided difference can be taken either. "
                f"{_advice(eps)}", index=i, x=x, eps=eps) from cause
    return grads


def _advice(eps: float) -> str:
    return (f"Move the point at least eps = {eps!r} from the edge of the domain, or pass a "
            "smaller eps.")


def _one_sided(probe: Callable[[float], float | Exception], x: float, f0: float, f_eps: float,
               s: float, eps: float, where: str,
               failed: list[tuple[str, float, Exception]], i: int) -> float:
    """The one-sided second-order difference at ``x`` on side ``s`` (+1 forward, −1 backward),
    its step halving from ε/2 until it settles; ``f_eps`` is f(x + sε), already known.

    The offsets a, b of the probes from x are taken as the floats they are, and the estimate is
    the slope at x of the parabola through (0, f0), (a, f1), (b, f2):
    −(a + b)/(ab)·f0 + b/(a(b − a))·f1 − a/(b(b − a))·f2, which for a = h, b = 2h is the
    formula of :func:`numerical_grad`."""
    far, f_far = x + s * eps, f_eps

    def estimate(near: float, f_near: float) -> float:
        a, b = near - x, far - x
        return -(a + b) / (a * b) * f0 + b / (a * (b - a)) * f_near - a / (b * (b - a)) * f_far

    previous: float | None = None
    calm, h = 0, eps
    for halving in range(1, _MAX_HALVINGS + 1):
        h /= 2.0
        near = x + s * h
        if near in (x, far):  # the step is below the spacing of floats at x
            break
        f_near = probe(near)
        if isinstance(f_near, Exception):
            failed.append((_step(x, s, h, f"eps/{2 ** halving}"), near, f_near))
            raise ProbeError(
                f"{where}: {_failures(failed)}; so the one-sided difference on the other "
                f"side failed too, though the probe {_step(x, s, eps, 'eps')} did not. "
                f"{_advice(eps)}",
                index=i, x=x, eps=eps) from failed[0][2]
        slope = estimate(near, f_near)
        if not math.isfinite(slope):
            return slope  # as a central difference would: gradcheck reports it
        if previous is not None:
            # Rounding: each f is off by a few ulps, and the weights sum to about 4/h.
            noise = 16.0 * sys.float_info.epsilon * (abs(f0) + abs(f_near) + abs(f_far)) / h
            calm = calm + 1 if abs(slope - previous) <= _SETTLE_RTOL * abs(slope) + noise else 0
            if calm == 2:
                return (4.0 * slope - previous) / 3.0
        previous, far, f_far = slope, near, f_near
    last = "" if previous is None else f" (its last estimate was {previous!r})"
    raise ProbeError(
        f"{where}: {_failures(failed)}; and the one-sided difference "
        f"(−3f(x) + 4f(x + h) − f(x + 2h)) / 2h on the other side did not settle as h shrank "
        f"from eps/2 to {h!r}{last}: the slope may be infinite at the edge of the domain, as "
        f"sqrt's is at 0, or eps may be too small for the floats near x. {_advice(eps)}",
        index=i, x=x, eps=eps) from failed[0][2]


def _step(x: float, s: float, step: float, name: str) -> str:
    """``x − eps = 1e-07 − 1e-06``: a probe, by name and in numbers."""
    sign = "+" if s > 0 else "−"
    return f"x {sign} {name} = {x!r} {sign} {step!r}"


def _failures(failed: list[tuple[str, float, Exception]]) -> str:
    """``the probe x − eps = 1e-07 − 1e-06 = -9e-07 left the domain of the op (log: …)``."""
    said = []
    for probe, t, error in failed:
        what = (f"left the domain of the op ({error})" if isinstance(error, DomainError)
                else f"made f raise {type(error).__name__} ({error})")
        said.append(f"the probe {probe} = {t!r} {what}")
    return ", and ".join(said)


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
            # NOTE: + 0.0 prints −0.0 (a zero partial times a negative adjoint) as 0, as the
            # trace tables do: the sign of a zero is no part of a derivative's value
            lines.append(f"  {i:>6} {x + 0.0:>12.6g} {a + 0.0:>22.15g} {n + 0.0:>22.15g} "
                         f"{abs(a - n):>10.3g}{mark}")
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

    Within eps of a domain edge the numeric side is a one-sided difference, as
    :func:`numerical_grad` explains, so a point the user gave is checked even where x − eps
    is not in the domain; :class:`ProbeError` (a ValueError, not a mismatch) says when no
    difference can be taken at all. An error of f at the user's own point escapes as it is.

    >>> gradcheck(lambda x: x.log(), [1e-7])  # 1e-7 − 1e-6 < 0: differenced from the right
    True
    """
    point = _points(xs, "gradcheck")
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, not {type(out).__name__}")
    out.backward()
    numeric = _differences(f, point, eps, "gradcheck")
    rows = [(i, x, v.grad, n, _close(v.grad, n, atol, rtol))
            for i, (x, v, n) in enumerate(zip(point, inputs, numeric, strict=True))]
    if not all(ok for *_, ok in rows):
        error = GradcheckError(rows, atol, rtol)
        _note_surrogates(error, out)
        raise error
    return True


def _note_surrogates(error: GradcheckError, out: Value) -> None:
    """Add a note to a mismatch of a function that uses a surrogate row, where the mismatch
    is expected: say so beside the numbers."""
    surrogates = sorted({v._op.name for v in topological_order(out) if v._op.surrogate})
    if surrogates:
        error.args = (f"{error}\nNOTE: f uses {', '.join(surrogates)}, whose partials are "
                      "defined rather than derived from its value (a surrogate row, such as "
                      "stop_gradient's 0), so central differences of f are not its gradient "
                      "here.",)


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

    Every order's numeric side is :func:`numerical_grad`'s, one-sided within eps of a domain
    edge: the derivative functions x ↦ w·∇f(x) are no more defined beyond the edge than f is.
    When no difference can be taken, :class:`ProbeError` names the modes, the order and the
    function as above, then the input and the probe.

    >>> check_grads(lambda x, y: (x * y).sin() + y.exp(), [0.5, -0.3])
    True
    >>> check_grads(lambda x: x.log(), [1e-7])  # one-sided at every order
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

    def scalar_f(*args: Any) -> Any:
        out = f(*args)
        if isinstance(out, (list, tuple)):
            return sum((u * o for u, o in zip((1.0 + 0.29 * j for j in range(len(out))), out,
                                              strict=False)), 0.0)
        return out

    numeric = _differences(scalar_f, point, eps, f"check_grads (mode={'/'.join(modes)}, "
                           f"order {_level}): the central differences of {_of}")
    if _level == 1:
        try:
            return _check_all(scalar_f, point, numeric, modes, order, eps, atol, rtol, _of)
        except GradcheckError as error:
            try:  # which rows f uses, from one more run of it on Values
                out = scalar_f(*(Value(x) for x in point))
            except Exception:  # the mismatch is the error to report
                out = None
            if isinstance(out, Value):
                _note_surrogates(error, out)
            raise
    return _check_all(scalar_f, point, numeric, modes, order, eps, atol, rtol, _of, _level)


def _check_all(scalar_f: Callable[..., Any], point: list[float], numeric: Sequence[float],
               modes: Sequence[str], order: int, eps: float, atol: float, rtol: float,
               _of: str, _level: int = 1) -> bool:
    """The comparisons of :func:`check_grads` at one order, then the orders above it."""
    n = len(point)
    # Fixed, unremarkable weights: every component matters, none cancels by symmetry.
    w = [1.0 + 0.37 * k for k in range(n)]
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

    A surrogate row (``surrogate=True``: its partials are defined, not the derivatives of its
    primal, as stop_gradient's 0 is) cannot be compared with central differences of its
    primal. Its partials are checked as functions in their own right instead: each one,
    differentiated by both modes, against central differences of that partial, so that
    derivatives of any order through the row are right; the last two checks apply as above.

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
        if rule.surrogate:
            _check_surrogate_partials(rule, op, point, atol)
        else:
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
    except ProbeError as error:
        raise RuleCheckError(f"{where}, the point is too near the edge of the op's domain "
                             f"for central differences: {error}") from error
    except Exception as error:  # a partial that fails on Values, say
        raise RuleCheckError(f"{where}, {_failure(error)}") from error


def _check_surrogate_partials(rule: Rule, op: Callable[..., Any], point: tuple[float, ...],
                              atol: float) -> None:
    """Each partial of a surrogate row, as a function of the operands, against central
    differences of itself: the derivative that a second-order pass through the row uses."""
    count = len(point) if rule.arity == VARIADIC else rule.arity
    for k in range(count):
        def partial(*xs: Any, k: int = k) -> Any:
            out = op(*xs)
            if rule.arity == VARIADIC:
                return rule.partials[0](list(xs), out)[k]
            return rule.partials[k](*xs, out)

        check_grads(partial, list(point), order=1, atol=atol, _of=f"partial {k}")


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
