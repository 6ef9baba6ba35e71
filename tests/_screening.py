"""Screening shared by the property tests: which random examples are a fair test.

A point is rejected when the program leaves its domain at the point or near it: central
differences step by 1e-6, and slopes blow up near a domain edge, so both distances are tried.
"""

from __future__ import annotations

from hypothesis import event, reject

from autograd_mini import DomainError, no_grad
from autograd_mini.testing import Program

Point = tuple[float, ...]

#: An argument of relu/abs this close to 0 is at a kink; a log/sqrt argument, a pow base or a
#: divisor this close to 0 is at a domain edge or a pole, where slopes blow up and central
#: differences straddle the edge.
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


def reject_kinks_and_edges(op: str | None, args: list[float]) -> None:
    """``reject()`` the example if an op's arguments sit at a kink or near a domain edge."""
    if op in ("relu", "abs") and abs(args[0]) < EDGE:
        event("rejected: at a kink")
        reject()
    if (
        (op in ("log", "sqrt") and args[0] < EDGE)
        or (op == "pow" and abs(args[0]) < EDGE)
        or (op == "div" and abs(args[1]) < EDGE)
    ):
        event("rejected: at a domain edge or pole")
        reject()
