"""autograd_mini: a small scalar automatic-differentiation engine for seeing and checking
how backpropagation works.

>>> from autograd_mini import Value
>>> x = Value(3.0, label="x")
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad  # d/dx (x² + 2x) = 2x + 2
8.0
"""

from .engine import DomainError, Value, is_grad_enabled, no_grad

__all__ = ["DomainError", "Value", "__version__", "is_grad_enabled", "no_grad"]

__version__ = "0.1.0"
