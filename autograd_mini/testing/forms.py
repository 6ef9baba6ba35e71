"""The package's own ops as sympy expressions: the oracle of the property tests.

Each entry says what an op *is* (its value), as a mathematician would write it, independently
of the rule table: the table's primal and partials are code to be checked, and this is what
they are checked against. sympy differentiates these forms itself, so a wrong partial in the
table, or a wrong primal, shows up as a disagreement with sympy.

A user's primitive brings its own form, ``primitive(..., sympy=lambda sp, x: ...)``; a row of
the package's own is looked up here. Every form is called as ``form(sp, *operands)`` with the
sympy module first, so that importing this module does not import sympy.

One row is not an expression of its operands: stop_gradient, whose value is x and whose
derivative is 0 by definition (a *surrogate* row, :attr:`~autograd_mini.rules.Rule.surrogate`),
which no expression of x has. Its form is a sympy function of its own, ``stop_gradient(x)``,
whose value is x and whose derivative sympy is told is 0, as JAX and PyTorch define it; see
:func:`stop_gradient_form`.

>>> from autograd_mini.rules import RULES
>>> sorted(set(name for name, rule in RULES.items() if rule.builtin) - set(SYMPY_FORMS))
[]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..rules import Rule

__all__ = ["SYMPY_FORMS", "exact", "import_sympy", "stop_gradient_form", "sympy_form"]


_STOP_GRADIENT: list[Any] = []  # the sympy function, made once sympy is first asked for it


def import_sympy(who: str) -> Any:
    """The sympy module, imported when a check first needs it; without sympy, an error that
    says which check needs it and how to get it, not the import error of one of its parts.

    >>> import_sympy("to_sympy").Symbol("x")
    x
    """
    try:
        import mpmath  # sympy's own dependency: a missing one is reported the same way
        import sympy
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{who} needs sympy, which is not installed here ({error}): pip install sympy, "
            "or pip install 'autograd-mini[notebooks]'") from error
    del mpmath
    return sympy


def stop_gradient_form(sp: Any, x: Any) -> Any:
    """stop_gradient(x) in sympy: a function whose value is x (numbers are folded, and
    lambdify and evalf compute it as x) and whose derivative is 0 by definition.

    NOTE: this is not an independent check of the row's partial, which is 0 by definition on
    both sides. What it makes checkable is everything around it: sympy's chain rule then
    treats a stopped value as a constant, so the property tests compare the engine's
    gradients and Hessians of random programs that contain stop_gradient, in every mode,
    with sympy's. Written as ``x`` it would be wrong (derivative 1), and written as a fresh
    symbol it would lose the value's dependence on x for the rest of the program.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> f = x * stop_gradient_form(sp, x)
    >>> f, sp.diff(f, x), sp.diff(f, x, 2), f.subs(x, 3)
    (x*stop_gradient(x), stop_gradient(x), 0, 9)
    """
    if not _STOP_GRADIENT:
        class stop_gradient(sp.Function):  # type: ignore[misc]  # noqa: N801
            nargs = 1

            @classmethod
            def eval(cls, arg: Any) -> Any:
                return arg if arg.is_Number else None

            def fdiff(self, argindex: int = 1) -> Any:
                return sp.S.Zero

            def _eval_is_real(self) -> Any:
                return self.args[0].is_real

            _imp_ = staticmethod(lambda arg: arg)  # what lambdify and evalf compute

        _STOP_GRADIENT.append(stop_gradient)
    return _STOP_GRADIENT[0](x)


def _dot(sp: Any, *xs: Any) -> Any:
    # operands (w₁ … wₙ, a₁ … aₙ, b): Σₖ wₖaₖ + b
    n = len(xs) // 2
    return sp.Add(*(w * a for w, a in zip(xs[:n], xs[n:2 * n], strict=True)), xs[-1])


#: Every built-in op, by name, as ``form(sp, *operands)``.
SYMPY_FORMS: dict[str, Callable[..., Any]] = {
    # arithmetic
    "add": lambda sp, x, y: x + y,
    "sub": lambda sp, x, y: x - y,
    "mul": lambda sp, x, y: x * y,
    "div": lambda sp, x, y: x / y,
    "pow": lambda sp, x, y: x**y,
    "pos": lambda sp, x: x,
    "neg": lambda sp, x: -x,
    "sum": lambda sp, *xs: sp.Add(*xs),
    "dot": _dot,
    # by definition: the value x, the derivative 0
    "stop_gradient": stop_gradient_form,
    # piecewise
    "abs": lambda sp, x: sp.Abs(x),
    "maximum": lambda sp, x, y: sp.Max(x, y),
    "minimum": lambda sp, x, y: sp.Min(x, y),
    "relu": lambda sp, x: sp.Max(x, 0),
    "leaky_relu": lambda sp, x, slope: sp.Max(x, 0) + slope * sp.Min(x, 0),
    "elu": lambda sp, x, alpha: sp.Max(x, 0) + alpha * (sp.exp(sp.Min(x, 0)) - 1),
    # elementary functions
    "exp": lambda sp, x: sp.exp(x),
    "log": lambda sp, x: sp.log(x),
    "log1p": lambda sp, x: sp.log(1 + x),
    "sqrt": lambda sp, x: sp.sqrt(x),
    "sin": lambda sp, x: sp.sin(x),
    "cos": lambda sp, x: sp.cos(x),
    "tan": lambda sp, x: sp.tan(x),
    "atan": lambda sp, x: sp.atan(x),
    "erf": lambda sp, x: sp.erf(x),
    "tanh": lambda sp, x: sp.tanh(x),
    # activations, by their definitions
    "sigmoid": lambda sp, x: 1 / (1 + sp.exp(-x)),
    "softplus": lambda sp, x: sp.log(1 + sp.exp(x)),
    "gelu": lambda sp, x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,  # x·Φ(x)
    "silu": lambda sp, x: x / (1 + sp.exp(-x)),
}


def sympy_form(rule: Rule, who: str = "to_sympy") -> Callable[..., Any]:
    """The sympy form of a row: the package's own from :data:`SYMPY_FORMS`, a user's from the
    row. A row without one raises ValueError, naming the op and how to give it one."""
    form = SYMPY_FORMS.get(rule.name) if rule.builtin else rule.sympy
    if form is None:
        raise ValueError(f"{who}: op {rule.name!r} has no sympy form; register it with "
                         f"primitive({rule.name!r}, ..., sympy=lambda sp, x: ...), the op "
                         "written with sympy functions")
    return form


def exact(sp: Any, x: float) -> Any:
    """A constant of a graph as sympy's number: the exact rational of its shortest decimal
    form (0.1 is 1/10, as the person who typed it meant), or ±oo and nan."""
    if math.isfinite(x):
        return sp.Rational(repr(float(x)))
    return sp.nan if math.isnan(x) else (sp.oo if x > 0 else -sp.oo)
