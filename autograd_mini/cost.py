"""Counting what derivatives cost: function evaluations, forward and reverse passes, nodes.

The cost argument of forward against reverse mode (a full Jacobian of f: ℝⁿ → ℝᵐ takes n
forward passes or m reverse passes), measured rather than asserted. Counting is off unless a
:func:`count_passes` block is open, and then costs one context-variable look-up per pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Cost", "charge", "count_passes", "counting"]


@dataclass
class Cost:
    """What derivative passes cost, as counted by :func:`count_passes`.

    ``evaluations`` counts runs of a user's function by the transforms and by
    :func:`~autograd_mini.testing.numerical_grad`. A function made by a transform is not the
    user's: ``hessian(f)`` and ``grad(grad(f))`` run ``f`` once and count one evaluation.
    ``forward_passes`` and ``reverse_passes`` count tangent and adjoint sweeps; ``nodes``
    counts the nodes those sweeps visited.
    For f: ℝⁿ → ℝᵐ a full Jacobian takes n forward passes or m reverse passes.
    """

    evaluations: int = 0
    forward_passes: int = 0
    reverse_passes: int = 0
    nodes: int = 0


_cost: ContextVar[Cost | None] = ContextVar("autograd_mini.cost", default=None)


@contextmanager
def count_passes() -> Iterator[Cost]:
    """Count function evaluations, forward and reverse passes and the nodes they visit.

    >>> from autograd_mini import jacobian
    >>> with count_passes() as cost:
    ...     J = jacobian(lambda x, y, z: [x * y * z], mode="fwd")(1.0, 2.0, 3.0)
    >>> cost.forward_passes, cost.reverse_passes
    (3, 0)
    """
    cost = Cost()
    token = _cost.set(cost)
    try:
        yield cost
    finally:
        _cost.reset(token)


def counting() -> bool:
    """Whether a :func:`count_passes` block is open, so that a pass may skip the work of
    measuring itself when nobody is counting."""
    return _cost.get() is not None


def charge(evaluations: int = 0, forward: int = 0, reverse: int = 0, nodes: int = 0) -> None:
    """Add to the open :func:`count_passes` block's counts, if there is one."""
    cost = _cost.get()
    if cost is not None:
        cost.evaluations += evaluations
        cost.forward_passes += forward
        cost.reverse_passes += reverse
        cost.nodes += nodes
