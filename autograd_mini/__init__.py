"""autograd_mini: a small scalar automatic-differentiation engine for seeing and checking
how backpropagation works.

>>> from autograd_mini import Value
>>> x = Value(3.0, label="x")
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad  # d/dx (x² + 2x) = 2x + 2
8.0

Every op is a row of one table (:mod:`autograd_mini.rules`); :func:`primitive` adds one.
:func:`trace` writes a graph's evaluation trace and :func:`draw` pictures it.
"""

from typing import TYPE_CHECKING

from . import rules as _rules
from .anomaly import AnomalyError, KinkWarning, Site
from .cost import Cost, count_passes
from .engine import (
    METHODS,
    ConcurrentBackwardError,
    Group,
    RemovableHandle,
    Value,
    detect_anomaly,
    dot,
    group,
    is_grad_enabled,
    no_grad,
    site_of,
    total,
)
from .errors import DomainError
from .explore import explore
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .rules import Primitive, primitive
from .tables import trace
from .testing import check_rule as _check_rule
from .viz import draw

# The registration check of primitive() needs the engine and the checking tools, which
# import the rule table; the table cannot import them, so it is handed the check here.
_rules.set_registration_check(_check_rule)

# The built-in functions of the table, made from it as the Value methods are: ``atan(x)`` is
# ``x.atan()``, and on plain numbers each computes the value (``erf(0.5)`` is a float).
for _name in METHODS:
    globals()[_name] = Primitive(_rules.RULES[_name])
del _name

if TYPE_CHECKING:  # for the type checker, every such name is a Primitive
    def __getattr__(name: str) -> Primitive: ...

__all__ = [
    "AnomalyError",
    "ConcurrentBackwardError",
    "Cost",
    "DomainError",
    "Group",
    "KinkWarning",
    "Primitive",
    "RemovableHandle",
    "Site",
    "Value",
    "__version__",
    "count_passes",
    "detect_anomaly",
    "dot",
    "draw",
    "explore",
    "grad",
    "group",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "no_grad",
    "primitive",
    "site_of",
    "total",
    "trace",
    "value_and_grad",
    "vjp",
    *METHODS,
]

__version__ = "0.2.0"
