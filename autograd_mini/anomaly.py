"""Anomaly mode: where a NaN or an infinity was made, in the forward pass or in the backward
pass, and where backward went through a kink.

A NaN rarely shows where it was made: by the time a loss prints ``nan``, every node after the
first bad one is ``nan`` too. So, while :func:`autograd_mini.detect_anomaly` is on:

* every op records its creation :class:`Site` (file, line, function and the line of code,
  from the first frame outside this package), and checks its result. The first op that
  gives ``nan`` from operands that are not ``nan`` (``inf − inf``, ``0 · inf``), or, with
  ``check_inf=True``, ``±inf`` from finite operands (``exp(1000)``), raises
  :class:`AnomalyError` there, naming the op, its operands and the site;
* the backward pass checks every edge x̄ += ∂v/∂x · v̄. The first share that is ``nan`` while
  v̄ is not (a partial that is ``nan``, or ``sqrt′(0) = inf`` times an adjoint of 0), or the
  first sum of two shares that is (``inf + (−inf)``), raises, naming the node, the partial
  and the site where the node was made;
* the backward pass counts the nodes whose operands sit exactly on a kink of their op
  (``relu`` or ``abs`` at 0, ``maximum`` or ``minimum`` at a tie), where the partial it used
  is a subgradient, a convention rather than a derivative; it can warn about them.

When anomaly mode is off, nothing here runs: no site is recorded and no check is made, so
the engine is exactly as fast and as small as without it (``make bench``).

This module is part of the core: it imports only the standard library, and the engine and
the sweeps import it.
"""

from __future__ import annotations

import linecache
import os
import sys
import warnings
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from ._graph import local_partials, operands
from .errors import _unpickled_error, call_text, operand_names

__all__ = ["MAX_KINKS", "Anomaly", "AnomalyError", "Kink", "KinkWarning", "Site", "at_kink",
           "site_here"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class Site:
    """Where a node was made: ``file``, ``line``, ``function`` and ``code`` (the line itself).

    It is the first frame outside this package, so a node that a :class:`~autograd_mini.nn`
    layer or a loss makes is placed at the user's line that called the model.
    """

    __slots__ = ("code", "file", "function", "line")

    def __init__(self, file: str, line: int, function: str, code: str) -> None:
        self.file = file
        self.line = line
        self.function = function
        self.code = code

    @property
    def where(self) -> str:
        """``file.py:42``: the file's base name and the line; in Jupyter, ``notebook cell,
        line 42``, as the kernel's file for a cell (``/tmp/ipykernel_7/4240381445.py``) has a
        name that means nothing to the reader.

        >>> Site("/tmp/ipykernel_7/4240381445.py", 3, "f", "").where
        'notebook cell, line 3'
        """
        folder, name = os.path.split(self.file)
        if os.path.basename(folder).startswith("ipykernel_"):
            return f"notebook cell, line {self.line}"
        return f"{name}:{self.line}"

    def __str__(self) -> str:
        text = f"{self.where}, in {self.function}"
        return f"{text}: {self.code}" if self.code else text

    def __repr__(self) -> str:
        return f"Site({self.file!r}, {self.line}, {self.function!r}, {self.code!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Site) and (self.file, self.line, self.function) == (
            other.file, other.line, other.function)

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.function))


def site_here(skip: int = 1) -> Site | None:
    """The :class:`Site` of the innermost frame outside this package, or None if every
    frame is inside it; ``skip`` frames are passed over first."""
    frame: Any = sys._getframe(skip)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return None
    code = frame.f_code
    line = frame.f_lineno
    return Site(code.co_filename, line, code.co_name,
                linecache.getline(code.co_filename, line).strip())


class AnomalyError(FloatingPointError):
    """Anomaly mode found where a NaN or an infinity was made.

    Its attributes say what the message says: ``phase`` (``"forward"``, ``"backward"``, or
    ``"tangent"`` for forward mode's tangents, as in ``jvp``),
    ``op`` (the rule's name), ``operands`` (their values), ``site`` (the :class:`Site` of the
    node, or None), ``node`` (the node itself) and, in the backward pass, ``partial`` and
    ``adjoint``, the two factors of the share that went wrong.

    A FloatingPointError, as JAX's ``jax_debug_nans`` raises.
    """

    def __init__(self, message: str, *, phase: str, node: Any, site: Site | None,
                 partial: float | None = None, adjoint: float | None = None) -> None:
        super().__init__(message)
        self.phase = phase
        self.node = node
        self.op: str = node.rule.name
        self.operands = tuple(_number(p) for p in operands(node))
        self.site = site
        self.partial = partial
        self.adjoint = adjoint

    def __reduce__(self) -> tuple[Any, ...]:
        # NOTE: pickled without its node, a graph that may be large (node is None then)
        facts = {**self.__dict__, "node": None}
        return (_unpickled_error, (AnomalyError, str(self), facts))


class KinkWarning(UserWarning):
    """The backward pass went through a kink of an op exactly, where the partial it used is
    a subgradient (``relu′(0) = 0``) rather than a derivative."""


class Kink:
    """A node whose operands sit exactly on a kink of its op, met by a backward pass: its
    ``op``, its ``operands`` (values), the ``partials`` the pass used there, its ``site`` (or
    None), and ``text``, the node as a message writes it. It keeps no reference to the node,
    so a long run in anomaly mode keeps no graph alive."""

    __slots__ = ("op", "operands", "partials", "site", "text")

    def __init__(self, node: Any, partials: Sequence[float], site: Site | None) -> None:
        ops = operands(node)
        rule = node.rule
        names = operand_names(ops)
        self.op: str = rule.name
        self.operands = tuple(_number(p) for p in ops)
        self.partials = tuple(partials)
        self.site = site
        used = ", ".join(_partial_name(rule, i, names, self.operands) + f" = {d!r}"
                         for i, (d, p) in enumerate(zip(self.partials, ops, strict=True))
                         if p.rule.name != "const")
        at = "" if site is None else f" (made at {site.where})"
        self.text = f"{call_text(rule, ops)}{at} used {used}"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<kink {self}>"


def site_of(node: Any) -> Site | None:
    """The creation site a node recorded in anomaly mode, or None."""
    extras = getattr(node, "_g", None)
    site: Site | None = getattr(extras, "site", None)
    return site


def _number(x: Any) -> float:
    """A float for a node, a Value adjoint or a number."""
    return float(getattr(x, "data", x))


def _finite(x: float) -> bool:
    return x - x == 0.0  # false for ±inf and nan


class Anomaly:
    """The settings and the findings of one :func:`autograd_mini.detect_anomaly` block.

    ``check_inf`` also stops at the first infinity made from finite numbers; ``warn_kinks``
    warns (:class:`KinkWarning`) after each backward pass that went through a kink exactly.
    ``kinks`` lists the :class:`Kink` records of every pass run in the block.
    """

    def __init__(self, check_inf: bool = False, warn_kinks: bool = False) -> None:
        if not isinstance(check_inf, bool) or not isinstance(warn_kinks, bool):
            raise TypeError("detect_anomaly: check_inf and warn_kinks must be True or False")
        self.check_inf = check_inf
        self.warn_kinks = warn_kinks
        #: The first :data:`MAX_KINKS` kinks of the block's passes, and how many there were.
        self.kinks: list[Kink] = []
        self.kink_count = 0

    # -- forward ---------------------------------------------------------------------------------

    def check_forward(self, node: Any, site: Site | None) -> None:
        """Raise if ``node``'s value is the first NaN (or, with check_inf, infinity).

        NOTE: not while a backward pass on Values (``create_graph``) builds its shares: the
        pass checks each share itself, and names the partial, which this check cannot."""
        y = node.data
        if y - y == 0.0 or in_backward.get():  # finite: the common case
            return
        xs = [p.data for p in operands(node)]
        if y != y:
            if any(x != x for x in xs):
                return  # a nan that came in: the op that made it raised already, or it is data
            what = "nan"
        elif self.check_inf and all(_finite(x) for x in xs):
            what = repr(y)
        else:
            return
        rule = node.rule
        text = (f"forward: {rule.name} gave {what}"
                f"{' from finite operands' if what != 'nan' else ''}: "
                f"{call_text(rule, operands(node))}{_made(operands(node))}{_at(site)}")
        raise AnomalyError(text, phase="forward", node=node, site=site)

    # -- backward --------------------------------------------------------------------------------

    def check_share(self, consumer: Any, i: int, operand: Any, partial: Any, adjoint: Any,
                    share: Any, before: Any, after: Any, *, tangent: bool = False) -> None:
        """Raise if the share ∂consumer/∂operand · adjoint, or the operand's adjoint once the
        share is added, is the first NaN (or, with check_inf, infinity) of the pass.

        With ``tangent`` it is forward mode's term instead: ``adjoint`` is the operand's
        tangent, and the sum is the consumer's tangent."""
        s = _number(share)
        total = _number(after)
        if _finite(s) and _finite(total):  # the common case: nothing to report
            return
        g = _number(adjoint)
        b = None if before is None else _number(before)
        if s != s:
            if g == g and not self._nan_operand(consumer, partial):
                self._share_error(consumer, i, operand, partial, g, s, tangent)
            return  # else the adjoint was nan already (a seed), or an operand is nan data
        if total != total:  # two finite or infinite shares that cancel: inf + (−inf)
            if b is not None and b == b:
                self._sum_error(consumer, operand, b, s, total, tangent)
            return
        if not self.check_inf:
            return
        if not _finite(s):
            if _finite(g):
                self._share_error(consumer, i, operand, partial, g, s, tangent)
        elif b is not None and _finite(b):  # two finite shares whose sum overflows
            self._sum_error(consumer, operand, b, s, total, tangent)

    @staticmethod
    def _nan_operand(consumer: Any, partial: Any) -> bool:
        """Whether a nan partial comes from a nan operand: data, or the forward check saw
        it made."""
        d = _number(partial)
        return d != d and any(x != x for x in (_number(p) for p in operands(consumer)))

    def _share_error(self, consumer: Any, i: int, operand: Any, partial: Any, g: float,
                     s: float, tangent: bool) -> None:
        rule = consumer.rule
        ops = operands(consumer)
        names = operand_names(ops)
        site = site_of(consumer)
        d = _number(partial)
        node = call_text(rule, ops)
        part = _partial_name(rule, i, names, [_number(p) for p in ops])
        expression = node.split(" with ")[0]
        operand_name = _name(operand, names[i])
        if tangent:
            text = (f"forward mode: the tangent of {expression} became {s!r} at {node}: "
                    f"{part} = {d!r}, times the tangent of {operand_name}, {g!r}, is {s!r}")
        else:
            text = (f"backward: the adjoint of {operand_name} became {s!r} at {node}: "
                    f"{part} = {d!r}, times the adjoint of {expression}, {g!r}, is {s!r}")
        raise AnomalyError(text + _at(site), phase="tangent" if tangent else "backward",
                           node=consumer, site=site, partial=d, adjoint=g)

    def _sum_error(self, consumer: Any, operand: Any, before: float, share: float,
                   total: float, tangent: bool) -> None:
        ops = operands(consumer)
        site = site_of(consumer)
        name = _name(operand, operand_names([operand])[0])
        hint = ("; detect_anomaly(check_inf=True) stops at the first infinity instead"
                if not (_finite(before) or _finite(share)) else "")
        node = call_text(consumer.rule, ops)
        if tangent:
            text = (f"forward mode: the tangent of {node.split(' with ')[0]} became {total!r} "
                    f"when two of its terms were added: {before!r} + {share!r}; the second "
                    f"came through {name}, at {node}{hint}")
        else:
            text = (f"backward: the adjoint of {name} became {total!r} when two of its shares "
                    f"were added: {before!r} + {share!r}; the second came from {node}{hint}")
        raise AnomalyError(text + _at(site), phase="tangent" if tangent else "backward",
                           node=consumer, site=site, adjoint=share)

    def check_accumulation(self, node: Any, old: Any, adjoint: Any, grad: Any) -> None:
        """Raise if adding this pass's adjoint to the grad an input had makes the first nan
        (inf + (−inf)), or with check_inf the first infinity."""
        g = _number(grad)
        if _finite(g):
            return
        a, b = _number(old), _number(adjoint)
        if (a == a and b == b) if g != g else (self.check_inf and _finite(a) and _finite(b)):
            name = _name(node, operand_names([node])[0])
            raise AnomalyError(
                f"backward: the grad of {name} became {g!r} when this pass's adjoint was "
                f"added to the grad it had from earlier passes: {a!r} + {b!r}; zero_grad() "
                "between passes starts it afresh", phase="backward", node=node, site=None,
                adjoint=b)

    def reached(self, node: Any, adjoint: Any, pass_kinks: list[Kink]) -> None:
        """Count a node of the pass that sits exactly on a kink of its op."""
        if adjoint is not None and at_kink(node):
            partials = [float(d) for d in local_partials(node, False)]
            pass_kinks.append(Kink(node, partials, site_of(node)))

    def end_pass(self, pass_kinks: list[Kink]) -> None:
        """Keep the pass's kinks, and warn about them if asked to."""
        if not pass_kinks:
            return
        self.kink_count += len(pass_kinks)
        self.kinks.extend(pass_kinks[:max(0, MAX_KINKS - len(self.kinks))])
        if self.warn_kinks:
            shown = "; ".join(str(k) for k in pass_kinks[:3])
            more = f"; and {len(pass_kinks) - 3} more" if len(pass_kinks) > 3 else ""
            count = len(pass_kinks)
            nodes = "a node" if count == 1 else f"{count} nodes"
            warnings.warn(
                f"backward met {nodes} exactly at a kink, where a subgradient was used: "
                f"{shown}{more}", KinkWarning, stacklevel=_user_level())


def _user_level() -> int:
    """The ``stacklevel`` of a warning that points at the user's line: the first frame
    outside this package, counted from the caller of :func:`warnings.warn`."""
    frame: Any = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level - 1


#: How many kinks a block keeps (it counts them all, in ``kink_count``).
MAX_KINKS = 1000


def at_kink(node: Any) -> bool:
    """Whether ``node``'s operands sit exactly on a kink of its op: where the rule's
    ``kink`` function is 0 (relu and abs at 0, maximum and minimum at a tie)."""
    rule = node._op
    if rule.kink is None or not rule.arity:
        return False
    try:
        return bool(rule.kink(*(_number(p) for p in operands(node))) == 0)
    except (ArithmeticError, ValueError, TypeError):
        return False


def _partial_name(rule: Any, i: int, names: Sequence[str], xs: Sequence[float]) -> str:
    """``sqrt′(0.0)`` for a unary op; ``∂(x / y)/∂y`` for any other."""
    if rule.arity == 1:
        return f"{rule.name}′({xs[0]!r})"
    bracketed = "({0})" in rule.text
    expression = rule.format([f"({n})" if " " in n and not bracketed else n for n in names])
    wrt = f"({names[i]})" if " " in names[i] else names[i]
    return f"∂({expression})/∂{wrt}"


def _name(node: Any, fallback: str) -> str:
    label = getattr(node, "label", None)
    if label:
        kind = " (an input)" if node.rule.name == "input" else ""
        return f"{label}{kind}"
    return fallback


def _made(nodes: Sequence[Any]) -> str:
    """Where the operands that are not finite were made, when anomaly mode saw it: without
    check_inf, the first infinity is often the real culprit."""
    names = operand_names(nodes)
    seen: set[int] = set()
    parts = []
    for name, p in zip(names, nodes, strict=True):
        site = site_of(p)
        if site is not None and not _finite(p.data) and id(p) not in seen:
            seen.add(id(p))
            parts.append(f"{name} was made at {site.where}")
    return f" ({'; '.join(parts)})" if parts else ""


def _at(site: Site | None) -> str:
    if site is None:
        return ""
    code = f"\n    {site.code}" if site.code else ""
    return f"\n  made at {site.where}, in {site.function}{code}"


#: The settings of the innermost detect_anomaly block, or None: read once per backward pass
#: and once per sweep, never per op (the engine's op path reads its own state).
current: ContextVar[Anomaly | None] = ContextVar("autograd_mini.anomaly", default=None)
#: True while a backward pass on Values builds its shares (see Anomaly.check_forward).
in_backward: ContextVar[bool] = ContextVar("autograd_mini.anomaly_in_backward", default=False)

