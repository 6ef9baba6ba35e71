"""autograd_mini: a small scalar automatic-differentiation engine for seeing and checking
how backpropagation works.

>>> from autograd_mini import Value
>>> x = Value(3.0, label="x")
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad  # d/dx (x² + 2x) = 2x + 2
8.0
"""

from .engine import (
    Cost,
    DomainError,
    Value,
    count_passes,
    dot,
    is_grad_enabled,
    no_grad,
    total,
)
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp

__all__ = [
    "Cost",
    "DomainError",
    "Value",
    "__version__",
    "count_passes",
    "dot",
    "grad",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "no_grad",
    "total",
    "value_and_grad",
    "vjp",
]

__version__ = "0.1.0"
