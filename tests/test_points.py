"""Fair points, drawn from what the rule table says: checked against sympy and the engine.

:func:`~autograd_mini.testing.strategies.points` screens with the table alone here
(``sympy=False``): each row's domain and kinks, and the finiteness of its own partials. The
check is independent of that screening: sympy's closed-form value and gradient of the same op,
evaluated with 30 digits by mpmath, must be finite and real at every point drawn, and the
engine must evaluate and differentiate there without an error and with finite numbers.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings

from autograd_mini import Value
from autograd_mini.rules import RULES, VARIADIC
from autograd_mini.testing import Instruction, Program
from autograd_mini.testing.forms import SYMPY_FORMS
from autograd_mini.testing.strategies import points

BUILTIN_OPS = sorted(name for name, rule in RULES.items() if rule.builtin)


def one_op(name: str) -> Program:
    """The op alone, on distinct inputs: x0 + x1, log(x0), dot(x0, x1, x2)."""
    arity = 3 if RULES[name].arity == VARIADIC else RULES[name].arity
    return Program(arity, (Instruction(name, tuple(range(arity))),))


def sympy_numbers(name: str) -> Any:
    """sympy's value and gradient of the op, as one mpmath function of the inputs. The form
    is the op's definition (testing.forms), not the table's primal or partials."""
    arity = one_op(name).n_inputs
    symbols = sp.symbols(f"x0:{arity}", real=True)
    expr = SYMPY_FORMS[name](sp, *symbols)
    return sp.lambdify(symbols, [expr, *(sp.diff(expr, s) for s in symbols)], "mpmath")


def finite_real(v: Any) -> bool:
    z = complex(v)
    return z.imag == 0.0 and math.isfinite(z.real)


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_points_are_fair_for_every_rule(name: str) -> None:
    program = one_op(name)
    exact = sympy_numbers(name)

    @settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(points(program, sympy=False))
    def check(point: tuple[float, ...]) -> None:
        with mpmath.workdps(30):
            numbers = exact(*map(mpmath.mpf, point))
        assert all(finite_real(v) for v in numbers), (point, numbers)
        inputs = [Value(x) for x in point]
        out = program(*inputs)
        out.backward()
        assert all(math.isfinite(v) for v in [out.data, *(x.grad for x in inputs)])

    check()
