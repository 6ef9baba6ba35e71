"""The network diagram of the backprop papers: neurons as circles in columns, an edge per
weight, and each neuron's z, a and δ after a backward pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .engine import Value
from .viz import Picture

__all__ = ["diagram"]


def diagram(model: Any, x: Sequence[Value | float] | None = None,
            y: Sequence[float] | None = None,
            loss: str | Callable[..., Value] = "squared_error", **options: Any) -> Picture:
    """The network diagram of ``model`` (an :class:`~autograd_mini.nn.MLP`)."""
    raise NotImplementedError("the network diagram is being written")
