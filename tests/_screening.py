"""Screening shared by the property tests: which random examples are a fair test.

A point is rejected when the program leaves its domain at the point or near it: central
differences step by 1e-6, and slopes blow up near a domain edge, so both distances are tried.
Kinks and domain edges are read from each row of the table (its ``kink`` and ``domain``), so a
new row is screened as soon as it is registered; poles inside the domain are named here.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from hypothesis import event, reject

from autograd_mini import DomainError, no_grad
from autograd_mini.rules import RULES
from autograd_mini.testing import Program

Point = tuple[float, ...]

#: The package's own rows: the property tests draw from these, not from rows that a doctest or
#: another test registered (the strategies' default is every row of the table).
BUILTIN_OPS = tuple(sorted(name for name, rule in RULES.items() if rule.builtin))

#: An op's argument this close to a kink (relu, abs at 0; maximum at a tie), or this close to
#: a domain edge or a pole, is not a fair test: slopes blow up there, and central differences
#: straddle the edge.
EDGE = 1e-3

#: How far (along each axis) a point must be from a domain error: 1e-6 is the step of
#: gradcheck and check_grads; 1e-3 keeps clear of the steep slopes near an edge.
SHIFTS = (1e-6, -1e-6, 1e-3, -1e-3)


def reject_domain_errors_near(program: Program, point: Point) -> None:
    """``reject()`` the example if the program raises DomainError a SHIFT away from the point
    along any axis."""
    for i in range(len(point)):
        for h in SHIFTS:
            shifted = list(point)
            shifted[i] += h
            try:
                with no_grad():
                    program(*shifted)
            except DomainError:
                event("rejected: domain error near the point")
                reject()


def near_kink_or_edge(op: str, args: list[float]) -> bool:
    """Whether an op's arguments sit at a kink, near a domain edge, or near a pole."""
    rule = RULES[op]
    if rule.kink is not None and abs(rule.kink(*args)) < EDGE:
        return True
    if rule.domain is not None:
        for i in range(len(args)):
            for h in (EDGE, -EDGE):
                shifted = list(args)
                shifted[i] += h
                if rule.domain(*shifted) is not None:
                    return True
    # Poles inside the domain: xʸ near a zero base (slopes y·xʸ⁻¹), x/y near y = 0.
    return (op == "pow" and abs(args[0]) < EDGE) or (op == "div" and abs(args[1]) < EDGE)


def reject_kinks_and_edges(op: str | None, args: list[float]) -> None:
    """``reject()`` the example if an op's arguments sit at a kink or near a domain edge."""
    if op is not None and op in RULES and near_kink_or_edge(op, args):
        event(f"rejected: {op} at a kink, a domain edge or a pole")
        reject()


def sympy_number(expr: Any, point: dict[Any, float]) -> Any:
    """``expr`` at ``point`` to 30 digits, as sympy gives it.

    The point goes in as 30-digit Floats, which is fast. NOTE: at a point where two operands
    of Max or Min are equal in value but not in form (x0 and x0 − x1 + 1 at x1 = 1), their
    difference evaluates to a zero of no precision, which Max cannot compare; there, and only
    there, the point goes in as exact rationals (a float is one), which is slow but exact.
    """
    try:
        return expr.evalf(30, subs={s: sp.Float(x, 30) for s, x in point.items()})
    except (TypeError, ValueError):
        return expr.subs({s: sp.Rational(x) for s, x in point.items()}).evalf(30)
