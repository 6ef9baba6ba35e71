"""PyTorch as an oracle: the same graph, differentiated by an independent implementation.

:func:`compare_with_torch` records ``f`` once on Values, replays the recorded graph node by
node in PyTorch's float64 autograd, and compares the value, the gradient and (by default) the
Hessian. PyTorch is optional: nothing here imports it until :func:`compare_with_torch` runs.

Why
---
Every derivative autograd_mini computes comes from one place, the partials of the rule table
(:mod:`autograd_mini.rules`), combined by the sweeps::

    reverse (adjoints):  x̄ᵢ += ∂v/∂xᵢ · v̄        forward (tangents):  v̇ = Σᵢ ∂v/∂xᵢ · ẋᵢ

A mistake in a partial, a kink's convention, or the way the sweeps nest for second
derivatives is made once and then shows everywhere, consistently. Checking against
central differences catches much of that, but only to their own error, O(ε²) truncation
plus O(u/ε) rounding (about 1e-10 at best, so gradcheck's default rtol is 1e-3), and not at
all at a kink. PyTorch is an independent implementation of the same maths: its own derivative
formulas for each op (``derivatives.yaml``), its own reverse sweep, and a Hessian by reverse
over reverse (double backward) where ours is forward over reverse. For the graph of ``f`` with
nodes vₖ = φₖ(operands), both compute, exactly up to rounding,

    f(x),   ∂f/∂xᵢ = Σ over paths of the product of the local partials ∂φₖ/∂(operand),
    ∂²f/∂xᵢ∂xⱼ,

so they must agree to a few ulps per op, not to finite differences' 1e-6. That is why the
default tolerances are tight: an entry passes when
|ours − torch| ≤ atol + rtol · max(|ours|, |torch|), with rtol = 1e-9 (room for about 10⁷ ulps
of rounding through a long graph, and two libms' last bits in exp or erf) and atol = 1e-12
(for entries that are zero on one side and a rounding residue on the other). A partial that is
off by 1e-6 still fails. NaN agrees with NaN and ±inf with the same infinity: both libraries
documenting the same IEEE result is agreement.

Replaying the recorded graph, rather than asking for ``f`` to be written again in torch, keeps
the structure identical (each shared subexpression is one tensor, as it is one node), so the
only things that differ are the per-op derivative rules and the sweeps: exactly what is under
test. Each op is replayed through :data:`TORCH_FORMS`, a table keyed by rule name of ``lambda
torch, *operands: ...`` (the torch module first, as the sympy forms of
:mod:`autograd_mini.testing.forms` take sympy); a row of your own gets its form from ``forms=``.
At a kink both follow the same conventions (relu′(0) = 0, abs′(0) = 0, leaky_relu′(0) = slope,
elu′(0) = α, and ½ to each side of a tie of maximum or minimum), so kinks and ties are fair
points here. (elu is replayed from its definition: F.elu's double backward takes elu″(0) = 0,
the right side, against its own elu′(0) = α, the left one.) Where a derivative leaves its op's
domain, as d²√x/dx² at 0, ours raises :class:`~autograd_mini.DomainError` while torch returns
inf or nan; that error is not caught here.

>>> from autograd_mini.rules import RULES
>>> all(name in TORCH_FORMS for name, rule in RULES.items() if rule.builtin)
True
>>> compare_with_torch(lambda x, y: (x * y).tanh() + x.maximum(y), [0.3, -1.2])  # doctest: +SKIP
True
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._graph import local_partials, operands, topological_order
from ..engine import Value, constant, recording
from ..functional import grad, hessian
from ..rules import CONST, INPUT, VARIADIC

__all__ = ["TORCH_FORMS", "TorchMismatchError", "compare_with_torch"]


# ---------------------------------------------------------------------------------------------
# The torch form of every built-in row
# ---------------------------------------------------------------------------------------------


def _leaky_relu(torch: Any, x: Any, slope: Any) -> Any:
    # torch's own function when the slope is a number; with a variable slope (which
    # F.leaky_relu cannot take) the definition, so that ∂/∂slope = x for x ≤ 0 as well
    if not slope.requires_grad:
        return torch.nn.functional.leaky_relu(x, negative_slope=float(slope))
    return torch.where(x > 0, x, slope * x)


def _elu(torch: Any, x: Any, alpha: Any) -> Any:
    # NOTE: the definition, not F.elu: F.elu's double backward takes elu″(0) = 0 (the right
    # side) while its first derivative takes elu′(0) = α (the left side); differentiating the
    # definition takes the left side at both orders, as the row does (α·eˣ for x ≤ 0).
    # ``safe`` keeps expm1 finite on the side that where discards: 0 · inf would be nan in
    # the backward pass for a large x.
    safe = torch.where(x > 0, torch.zeros_like(x), x)
    return torch.where(x > 0, x, alpha * torch.expm1(safe))


def _softplus(torch: Any, x: Any) -> Any:
    # ln(1 + eˣ) exactly, as ln(1 + eˣ) for x < 0 and x + ln(1 + e⁻ˣ) for x ≥ 0, so that no
    # exponential overflows at any order. Not F.softplus, which switches to x above its
    # threshold 20 (a slope of exactly 1 where σ(20.5) = 1 − 1.3e-9) and, with the threshold
    # off, overflows to inf above 709; not torch.logaddexp(x, 0), whose double backward is
    # inf/inf = nan below −709.
    zero = torch.zeros_like(x)
    left = x < 0
    neg = torch.where(left, x, zero)
    pos = torch.where(left, zero, x)
    return torch.where(left, torch.log1p(torch.exp(neg)), pos + torch.log1p(torch.exp(-pos)))


def _sum(torch: Any, *xs: Any) -> Any:
    if not xs:
        return torch.zeros((), dtype=torch.float64)
    return torch.stack(xs).sum()


def _dot(torch: Any, *xs: Any) -> Any:
    # operands (w₁ … wₙ, a₁ … aₙ, b): z = Σₖ wₖaₖ + b
    n = len(xs) // 2
    bias = xs[-1]
    if n == 0:
        return bias + 0.0
    return torch.dot(torch.stack(xs[:n]), torch.stack(xs[n:2 * n])) + bias


#: How each built-in row of :data:`~autograd_mini.rules.RULES` is computed in torch, called as
#: ``form(torch, *operands)`` on float64 scalar tensors (constants are tensors without grad).
TORCH_FORMS: dict[str, Callable[..., Any]] = {
    "add": lambda torch, x, y: x + y,
    "sub": lambda torch, x, y: x - y,
    "mul": lambda torch, x, y: x * y,
    "div": lambda torch, x, y: x / y,
    "pow": lambda torch, x, y: torch.pow(x, y),
    "pos": lambda torch, x: +x,
    "neg": lambda torch, x: -x,
    "stop_gradient": lambda torch, x: x.detach(),
    "abs": lambda torch, x: torch.abs(x),
    "maximum": lambda torch, x, y: torch.maximum(x, y),
    "minimum": lambda torch, x, y: torch.minimum(x, y),
    "exp": lambda torch, x: torch.exp(x),
    "log": lambda torch, x: torch.log(x),
    "log1p": lambda torch, x: torch.log1p(x),
    "sqrt": lambda torch, x: torch.sqrt(x),
    "sin": lambda torch, x: torch.sin(x),
    "cos": lambda torch, x: torch.cos(x),
    "tan": lambda torch, x: torch.tan(x),
    "atan": lambda torch, x: torch.atan(x),
    "erf": lambda torch, x: torch.special.erf(x),
    "tanh": lambda torch, x: torch.tanh(x),
    "sigmoid": lambda torch, x: torch.sigmoid(x),
    "relu": lambda torch, x: torch.relu(x),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _softplus,
    "gelu": lambda torch, x: torch.nn.functional.gelu(x, approximate="none"),
    "silu": lambda torch, x: torch.nn.functional.silu(x),
    "sum": _sum,
    "dot": _dot,
}


# ---------------------------------------------------------------------------------------------
# The error
# ---------------------------------------------------------------------------------------------

#: One compared entry: (name such as ∂f/∂x0, autograd_mini's value, torch's, agreed).
Row = tuple[str, float, float, bool]

_MAX_ROWS = 60  # a larger table shows only the entries that disagree


class TorchMismatchError(AssertionError):
    """autograd_mini and PyTorch disagree. ``rows`` holds every compared entry as
    ``(name, ours, torch, ok)``, with names such as ``f``, ``∂f/∂x0`` and ``∂²f/∂x0∂x1``;
    ``point``, ``atol`` and ``rtol`` are the arguments, and ``culprits`` the ops whose own
    value or first partials disagree at their operands (the likely cause), as sentences."""

    def __init__(self, rows: list[Row], point: Sequence[float], atol: float, rtol: float,
                 ops: Sequence[str] = (), culprits: Sequence[str] = ()) -> None:
        self.rows = rows
        self.point = tuple(point)
        self.atol = atol
        self.rtol = rtol
        self.culprits = tuple(culprits)
        at = ", ".join(f"x{i} = {x!r}" for i, x in enumerate(point))
        bad = sum(not ok for *_, ok in rows)
        lines = [f"autograd_mini and PyTorch disagree on {bad} of {len(rows)} entries at {at} "
                 f"(|ours − torch| ≤ {atol:g} + {rtol:g} · max(|ours|, |torch|)):"]
        shown = rows if len(rows) <= _MAX_ROWS else [r for r in rows if not r[3]]
        width = max(len("entry"), *(len(name) for name, *_ in shown))
        lines.append(f"  {'entry':<{width}}  {'autograd_mini':>24}  {'torch':>24}  "
                     f"{'|difference|':>12}")
        for name, ours, theirs, ok in shown:
            diff = abs(ours - theirs) if math.isfinite(ours - theirs) else math.nan
            mark = "" if ok else "  <-- mismatch"
            lines.append(f"  {name:<{width}}  {ours!r:>24}  {theirs!r:>24}  {diff:>12.3g}{mark}")
        if len(shown) < len(rows):
            lines.append(f"  ({len(rows) - len(shown)} entries that agree are not shown)")
        if ops:
            lines.append(f"The graph's ops: {', '.join(ops)}.")
        if culprits:
            lines.append("Ops whose own value or first partials disagree at their operands:")
            lines.extend(f"  {c}" for c in culprits)
        elif ops:
            lines.append("Every op's value and first partials agree at its operands, so the "
                         "difference is in how they combine or in a second derivative: a "
                         "partial must be written with ops (so that it can be differentiated "
                         "on Values) and agree with its torch form.")
        super().__init__("\n".join(lines))


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------


def _import_torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        raise ModuleNotFoundError(
            "compare_with_torch needs PyTorch, which is not installed: pip install torch "
            "(the CPU build is enough: pip install torch --index-url "
            "https://download.pytorch.org/whl/cpu)", name="torch") from error


def _record(f: Callable[..., Any], point: Sequence[float]) -> tuple[list[Value], Value]:
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    with recording():  # a graph even inside no_grad
        out = f(*inputs)
    if isinstance(out, Value):
        return inputs, out
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return inputs, constant(float(out))
    raise TypeError("compare_with_torch: f must return a Value (a scalar), not "
                    f"{type(out).__name__}")


def _missing_forms(order: Sequence[Any], forms: Mapping[str, Any]) -> None:
    missing: dict[str, Any] = {}
    for node in order:
        if node._op.arity and node._op.name not in forms:
            missing.setdefault(node._op.name, node._op)
    if not missing:
        return
    examples = []
    for name, rule in missing.items():
        if rule.arity == VARIADIC:
            args = "*xs"
        else:
            args = ", ".join(rule.operands or ("x", "y", "z", "w")[:rule.arity])
        examples.append(f'"{name}": lambda torch, {args}: ...')
    ops = ", ".join(repr(name) for name in missing)
    raise ValueError(f"compare_with_torch: no torch form for the op(s) {ops}; pass one for "
                     f"each, written with torch on float64 tensors, as "
                     f"forms={{{', '.join(examples)}}}")


def _apply(torch: Any, form: Callable[..., Any], name: str, args: Sequence[Any]) -> Any:
    try:
        result = form(torch, *args)
    except Exception as error:
        at = ", ".join(repr(float(a.detach())) for a in args)
        raise ValueError(f"compare_with_torch: the torch form of {name!r} raised "
                         f"{type(error).__name__} at ({at}): {error}") from error
    if not isinstance(result, torch.Tensor) or result.numel() != 1:
        raise TypeError(f"compare_with_torch: the torch form of {name!r} must return a "
                        f"scalar tensor, not {type(result).__name__}")
    if result.dtype != torch.float64:
        raise TypeError(f"compare_with_torch: the torch form of {name!r} returned "
                        f"{result.dtype}; compute in float64 (make any tensor of its own "
                        "with dtype=torch.float64)")
    return result.reshape(())


def _replay(torch: Any, order: Sequence[Any], inputs: Sequence[Value],
            forms: Mapping[str, Callable[..., Any]]) -> tuple[dict[int, Any], list[Any]]:
    """Every node of ``order`` as a torch tensor: the inputs as leaves with requires_grad,
    constants (and any Value from outside f) as tensors without, each op by its form."""
    leaves = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for v in inputs]
    index = {id(v): k for k, v in enumerate(inputs)}
    tensors: dict[int, Any] = {}
    for node in order:
        key = id(node)
        if key in index:
            tensors[key] = leaves[index[key]]
        elif not node._op.arity:  # CONST, or an INPUT that is not one of ours: no gradient
            tensors[key] = torch.tensor(node.data, dtype=torch.float64)
        else:
            args = [tensors[id(p)] for p in operands(node)]
            tensors[key] = _apply(torch, forms[node._op.name], node._op.name, args)
    return tensors, leaves


def _torch_grads(torch: Any, y: Any, wrt: Sequence[Any], create_graph: bool) -> list[Any]:
    """∂y/∂w for each w, as tensors (kept differentiable with ``create_graph``), or None where
    y does not depend on w."""
    if not wrt or not y.requires_grad:
        return [None] * len(wrt)
    return list(torch.autograd.grad(y, list(wrt), create_graph=create_graph,
                                    retain_graph=True, allow_unused=True))


def _item(t: Any) -> float:
    return 0.0 if t is None else float(t.detach())


def _operand_names(rule: Any, n: int) -> list[str]:
    if rule.operands:
        return list(rule.operands)
    if rule.arity == VARIADIC:
        return [f"x{k + 1}" for k in range(n)]
    return list(("x", "y", "z", "w")[:n])


def _culprits(torch: Any, order: Sequence[Any], forms: Mapping[str, Callable[..., Any]],
              atol: float, rtol: float, limit: int = 5) -> list[str]:
    """Each op (its first node only) whose value or first partials, from the rule table,
    differ from its torch form's at the node's own operands."""
    found: list[str] = []
    done: set[str] = set()
    for node in order:
        rule = node._op
        if not rule.arity or rule.name in done:
            continue
        ops = operands(node)
        names = _operand_names(rule, len(ops))
        at = ", ".join(f"{n} = {p.data!r}" for n, p in zip(names, ops, strict=True))
        try:
            args = [torch.tensor(p.data, dtype=torch.float64,
                                 requires_grad=p._op is not CONST) for p in ops]
            value = _apply(torch, forms[rule.name], rule.name, args)
            theirs = _torch_grads(torch, value, [a for a in args if a.requires_grad], False)
            ours = [d for d, p in zip(local_partials(node, False), ops, strict=True)
                    if p._op is not CONST]
        except Exception:  # a diagnosis must not hide the mismatch it explains
            continue
        if not _close(node.data, float(value.detach()), atol, rtol):
            done.add(rule.name)
            found.append(f"{rule.name} at {at}: value {node.data!r}, torch "
                         f"{float(value.detach())!r}")
        else:
            wrt = [n for n, p in zip(names, ops, strict=True) if p._op is not CONST]
            for n, d, t in zip(wrt, ours, theirs, strict=True):
                if not _close(float(d), _item(t), atol, rtol):
                    done.add(rule.name)
                    found.append(f"∂{rule.name}/∂{n} at {at}: autograd_mini {float(d)!r}, "
                                 f"torch {_item(t)!r}")
                    break
        if len(found) >= limit:
            break
    return found


def compare_with_torch(f: Callable[..., Any], xs: Sequence[float], order: int = 2,
                       forms: Mapping[str, Callable[..., Any]] | None = None,
                       atol: float = 1e-12, rtol: float = 1e-9) -> bool:
    """Check ``f`` at ``xs`` against PyTorch's float64 autograd: the value, the gradient and,
    at ``order=2``, the Hessian.

    ``f`` is a function of Values (operators, methods such as ``x.exp()``, the package's
    functions such as ``maximum`` and ``dot``) returning one Value; ``xs`` the point, one
    float per argument. ``f`` is recorded once on Values labelled ``x0, x1, …``, and the graph
    is replayed in torch, one op at a time, through :data:`TORCH_FORMS`. Ours are
    :func:`~autograd_mini.grad` (reverse mode) and :func:`~autograd_mini.hessian` (forward over
    reverse); torch's are ``torch.autograd.grad`` and its double backward.

    Args:
        order: 0 (the value only), 1 (and the gradient) or 2 (and the Hessian).
        forms: torch forms for rows of your own (or to replace a built-in one), by rule
            name: ``{"my_op": lambda torch, x: x / (1 + torch.abs(x))}``, called on float64
            scalar tensors, the torch module first.
        atol, rtol: an entry passes when |ours − torch| ≤ atol + rtol · max(|ours|, |torch|).
            Tight by default, since both sides are exact up to rounding (see the module).

    Returns True, or raises :class:`TorchMismatchError` (an AssertionError) with every entry,
    ours beside torch's, and the ops whose own partials disagree. Raises ValueError for an op
    without a torch form (before torch is needed) and ModuleNotFoundError when torch is not
    installed.
    """
    if isinstance(xs, (int, float, Value)):
        raise TypeError("compare_with_torch: xs must be a list of numbers, one per argument, "
                        "such as [0.5]")
    point = [float(x) for x in xs]
    if isinstance(order, bool) or order not in (0, 1, 2):
        raise ValueError(f"compare_with_torch: order must be 0, 1 or 2, not {order!r}")
    table = dict(TORCH_FORMS)
    for name, form in (forms or {}).items():
        if not isinstance(name, str) or not callable(form):
            raise TypeError("compare_with_torch: forms maps rule names to functions "
                            "lambda torch, *operands: ..., such as "
                            '{"my_op": lambda torch, x: torch.exp(-x)}')
        table[name] = form

    inputs, out = _record(f, point)
    graph = topological_order(out, *inputs)
    _missing_forms(graph, table)
    torch = _import_torch()

    tensors, leaves = _replay(torch, graph, inputs, table)
    y = tensors[id(out)]
    rows: list[Row] = [("f", out.data, _item(y), _close(out.data, _item(y), atol, rtol))]
    n = len(inputs)
    if order >= 1 and n:
        ours_grad = grad(f, argnums=tuple(range(n)))(*point)
        theirs_grad = _torch_grads(torch, y, leaves, create_graph=order >= 2)
        for i in range(n):
            a, b = float(ours_grad[i]), _item(theirs_grad[i])
            rows.append((f"∂f/∂x{i}", a, b, _close(a, b, atol, rtol)))
        if order >= 2:
            ours_hess = hessian(f)(*point)
            for i in range(n):
                gi = theirs_grad[i]
                row = [None] * n if gi is None else _torch_grads(torch, gi, leaves, False)
                for j in range(n):
                    a, b = float(ours_hess[i][j]), _item(row[j])
                    name = f"∂²f/∂x{i}²" if i == j else f"∂²f/∂x{i}∂x{j}"
                    rows.append((name, a, b, _close(a, b, atol, rtol)))
    if all(ok for *_, ok in rows):
        return True
    ops = list(dict.fromkeys(node._op.name for node in graph
                             if node._op is not CONST and node._op is not INPUT))
    raise TorchMismatchError(rows, point, atol, rtol, ops,
                             _culprits(torch, graph, table, atol, rtol))
