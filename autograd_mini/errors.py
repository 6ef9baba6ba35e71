"""The errors that more than one layer raises: :class:`DomainError`, for an op applied
outside its domain, and how its message is written; and :class:`CompileError`.

This is the bottom layer: it imports nothing from the package. A node is recognised by duck
typing (``data``, ``label`` and ``rule``), so the same error serves the engine, which meets
Values, and a primitive called on plain floats, which meets numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["CompileError", "DomainError"]

#: Names for operands that have no label, in order, skipping any that a label already uses.
_FREE_NAMES = ("x", "y", "u", "w", "p", "q")


class DomainError(ValueError):
    """An op was applied outside its domain, such as ``log`` of a number ≤ 0.

    The engine never returns a complex number or a silent ``nan`` for these. The message names
    the op, the operand values and their labels; the same facts are attributes:
    ``op`` (the rule's name), ``operands`` (floats), ``labels`` and ``reason``.

    >>> from autograd_mini import Value
    >>> try:
    ...     (Value(2.0, label="a") - 3).log()
    ... except DomainError as error:
    ...     print(error)
    log: log is defined only for x > 0: log(a − 3.0) with a − 3.0 = -1.0
    """

    def __init__(self, rule: Any, operands: Sequence[Any], reason: str) -> None:
        self.op: str = rule.name
        self.operands = tuple(_data(v) for v in operands)
        self.labels = tuple(getattr(v, "label", None) for v in operands)
        self.reason = reason
        super().__init__(f"{rule.name}: {reason}: {call_text(rule, operands)}")

    def __reduce__(self) -> tuple[Any, ...]:
        # NOTE: pickled with its facts, not its arguments (a rule and nodes), so that an
        # error crosses a process boundary (a multiprocessing worker's) intact
        return (_unpickled_error, (DomainError, str(self), self.__dict__))


class CompileError(ValueError):
    """The function cannot be written as one straight-line trace
    (:func:`autograd_mini.compile.compile`).

    It lives here, below the engine, because the engine raises it too: a Value used as a
    Python bool or compared while compile traces would freeze one branch into the trace. The
    engine cannot import the compile module, which sits above it.
    """


def _unpickled_error(cls: type[Exception], message: str, facts: dict[str, Any]) -> Exception:
    """An error made again from its message and its attributes (see ``__reduce__``)."""
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(facts)
    return error


def call_text(rule: Any, operands: Sequence[Any]) -> str:
    """The op applied to its operands, named as a reader knows them, and their values:
    ``log(a − 3.0) with a − 3.0 = -1.0``. Operands are named by :func:`operand_names`."""
    names = operand_names(operands)
    bracketed = "({0})" in rule.text  # exp({0}) needs no more brackets; {0} / {1} does
    expression = rule.format([f"({n})" if " " in n and not bracketed else n for n in names])
    bindings = " and ".join(dict.fromkeys(  # an operand read twice is bound once
        f"{name} = {_data(v)!r}"
        for name, v in zip(names, operands, strict=True)
        if not _is_constant(v)
    ))
    return f"{expression} with {bindings}" if bindings else expression


def operand_names(operands: Sequence[Any]) -> list[str]:
    """How a message names each operand: its label, its number if it is a constant, its own
    formula one level deep if it was computed (``a − 3.0``), else a free letter. An operand
    read twice (``t − t``) has one name."""
    labels = {getattr(v, "label", None) for v in operands}
    free = iter([n for n in _FREE_NAMES if n not in labels] * 8)
    named: dict[int, str] = {}
    for v in operands:
        if id(v) not in named:
            named[id(v)] = _describe(v, "") or next(free, "v")
    keys_of: dict[str, list[int]] = {}
    for key, name in named.items():
        keys_of.setdefault(name, []).append(key)
    for keys in keys_of.values():
        if len(keys) > 1:  # two operands that read alike (… · 10.0 twice): letters instead
            for key in keys:
                named[key] = next(free, "v")
    return [named[id(v)] for v in operands]


def _data(v: Any) -> float:
    return float(v.data) if hasattr(v, "data") else float(v)


def _is_constant(v: Any) -> bool:
    return hasattr(v, "rule") and v.rule.name == "const"


def _describe(v: Any, default: str) -> str:
    """How an error message names an operand: its label, its number if it is a constant, its
    own formula one level deep if it was computed (``a − 3.0``), else ``default``."""
    if not hasattr(v, "rule"):  # a plain number, as a primitive called on floats meets
        return default
    if v.label is not None:
        return str(v.label)
    if _is_constant(v):
        return repr(v.data)
    if v.rule.arity:
        inner = [p.label or (repr(p.data) if _is_constant(p) else "…") for p in v.parents]
        return str(v.rule.format(inner))
    return default
