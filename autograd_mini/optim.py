"""Optimisers and the training loop.

``SGD`` (with optional momentum) and ``Adam`` update ``p.data`` from ``p.grad`` under
:func:`~autograd_mini.no_grad`. :func:`fit` runs epochs of mini-batches: forward, the mean
loss over the batch, ``zero_grad``, ``backward`` and a step, and returns the loss and accuracy
of every epoch. Ctrl-C during :func:`fit` stops it after the current step and returns what was
trained so far, marked ``interrupted``: an interrupt never throws the training away.
"""

from __future__ import annotations

import contextlib
import gc
import math
import random
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

from .engine import Value, no_grad, total
from .losses import Loss, get
from .nn import MLP

__all__ = ["SGD", "Adam", "History", "Optimizer", "accuracy", "fit"]


class Optimizer:
    """Holds the parameters; ``step()`` updates them, ``zero_grad()`` clears their grads."""

    def __init__(self, parameters: Iterable[Value], lr: float) -> None:
        if isinstance(parameters, MLP) or not isinstance(parameters, Iterable):
            raise TypeError(f"an optimiser takes a list of parameters, not a "
                            f"{type(parameters).__name__}: pass model.parameters()")
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("the optimiser got no parameters")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, not {lr}")
        self.lr = lr

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0; gradients accumulate across backward passes."""
        for p in self.parameters:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter's ``data`` from its ``grad``."""
        raise NotImplementedError


class SGD(Optimizer):
    """p ← p − lr·v with v ← μ·v + ∇p (plain gradient descent when μ = 0)."""

    def __init__(self, parameters: Iterable[Value], lr: float = 0.1,
                 momentum: float = 0.0) -> None:
        super().__init__(parameters, lr)
        self.momentum = momentum
        self._velocity = [0.0] * len(self.parameters)

    def step(self) -> None:
        with no_grad():
            for i, p in enumerate(self.parameters):
                v = self.momentum * self._velocity[i] + p.grad
                self._velocity[i] = v
                p.data -= self.lr * v


class Adam(Optimizer):
    """Adam (Kingma and Ba): bias-corrected running means of the gradient and its square,
    p ← p − lr·m̂/(√v̂ + ε)."""

    def __init__(self, parameters: Iterable[Value], lr: float = 0.01,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(parameters, lr)
        self.betas = betas
        self.eps = eps
        self._m = [0.0] * len(self.parameters)
        self._v = [0.0] * len(self.parameters)
        self._t = 0

    def step(self) -> None:
        b1, b2 = self.betas
        self._t += 1
        c1, c2 = 1.0 - b1**self._t, 1.0 - b2**self._t
        with no_grad():
            for i, p in enumerate(self.parameters):
                g = p.grad
                self._m[i] = b1 * self._m[i] + (1.0 - b1) * g
                self._v[i] = b2 * self._v[i] + (1.0 - b2) * g * g
                p.data -= self.lr * (self._m[i] / c1) / (math.sqrt(self._v[i] / c2) + self.eps)


def accuracy(loss_name: str, outputs: Sequence[float], target: Sequence[float]) -> bool:
    """Whether one prediction is right, in the sense the loss implies: the sign of the score
    for hinge, a > ½ for BCE, the largest output for several outputs, and for one regression
    output the nearer of 0 and 1."""
    if loss_name == "hinge":
        return (outputs[0] > 0) == (target[0] > 0)
    if len(outputs) == 1:
        return (outputs[0] > 0.5) == (target[0] > 0.5)
    return max(range(len(outputs)), key=outputs.__getitem__) == max(
        range(len(target)), key=target.__getitem__)


@dataclass
class History:
    """The mean training loss and the training accuracy after each completed epoch.

    ``steps`` counts the optimiser steps that completed, and ``interrupted`` says whether an
    interrupt (Ctrl-C) stopped :func:`fit`, which then returned early. An epoch that was
    cut short has no entry in ``loss`` and ``accuracy`` (a mean over part of an epoch would not
    be comparable with the others), so ``len(history.loss)`` is the number of whole epochs,
    while the model holds the parameters after all ``steps`` steps.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    steps: int = 0
    interrupted: bool = False


class _DeferredInterrupt:
    """While active, the first SIGINT only sets ``requested``, so that the step under way
    finishes and the model is never left half updated; a second one raises
    KeyboardInterrupt at once, for a step that would take too long to wait for.

    It takes over SIGINT only from Python's default handler, and only in the main thread (the
    only one where a handler can be set): a handler of the application's own is left alone,
    and so is an ignored SIGINT. Otherwise a KeyboardInterrupt arrives as an exception, and
    :func:`fit` handles that too.
    """

    def __init__(self) -> None:
        self.requested = False
        self._installed = False

    def __enter__(self) -> _DeferredInterrupt:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._installed = False


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one training step, then back as it was.

    NOTE: a step's graph is acyclic (plain ``backward()`` makes no reference cycles), so it is
    freed by reference counting the moment the next step drops it, and the collector would
    only spend time tracing the step's thousands of new objects and find nothing. Pausing it
    for the step, and restoring it in a ``finally``, saves that time; a cycle that user code
    makes (a regularization with create_graph, say) is still collected between steps.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _progress(epochs: int) -> Any:
    """A tqdm bar on a terminal when tqdm is installed; otherwise nothing."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, unit="epoch", leave=False)


def fit(model: MLP, X: Sequence[Sequence[float]], y: Sequence[Sequence[float]],  # noqa: N803
        loss: str | Loss, optimizer: Optimizer, epochs: int = 100,
        batch_size: int | None = None, seed: int = 0,
        regularization: Callable[[], Value] | None = None, compiled: bool = False) -> History:
    """Train ``model`` on inputs ``X`` and targets ``y`` (one list of floats per sample).

    Each step takes a mini-batch of ``batch_size`` samples (all of them when None), reshuffled
    every epoch from ``seed``, and minimises the mean loss over the batch (plus
    ``regularization()``, such as ``lambda: losses.l2(model.parameters(), 1e-4)``).

    With ``compiled=True`` one sample's loss is traced once, by
    :func:`autograd_mini.compile.compile_batch`, and every step runs it as straight-line
    float code in a loop over the batch's samples, so any ``batch_size`` works, a last
    partial batch included; the accuracy after each epoch comes from the compiled forward
    pass (:func:`~autograd_mini.compile.compile_forward`), and ``regularization`` is compiled
    on its own. See :mod:`autograd_mini.compile` for the contract. The results match the
    dynamic engine's up to rounding (the sums of a batch are taken in another order).

    An interrupt stops training instead of losing it: the first Ctrl-C lets the step under
    way finish, and ``fit`` then returns the history so far with ``interrupted=True`` (see
    :class:`History`) instead of raising KeyboardInterrupt; a caller that wants to stop too
    checks that flag. Ctrl-C pressed a second time raises KeyboardInterrupt at once, so that a
    loop of ``fit`` calls can be stopped; the history so far is its ``history`` attribute.
    A KeyboardInterrupt raised inside a step (by that second Ctrl-C, or by the loss, the
    regularization or the optimiser) abandons that step, which is not counted;
    forward and backward never change the parameters, but one raised from inside
    ``optimizer.step()`` may leave that step's update partly applied.
    """
    if len(X) != len(y) or not X:
        raise ValueError(f"fit: {len(X)} inputs but {len(y)} targets")
    name, loss_fn = get(loss)
    rng = random.Random(seed)
    order = list(range(len(X)))
    size = batch_size or len(X)
    history = History()

    def batch_cost(batch: Sequence[int]) -> Value:
        cost = total([loss_fn(model(X[i]), y[i]) for i in batch]) / len(batch)
        return cost + regularization() if regularization is not None else cost

    step = forward = regularizer = None
    if compiled:
        from .compile import compile as compile_trace
        from .compile import compile_batch, compile_forward

        parameters = model.parameters()
        nin, nout = len(X[0]), len(y[0])
        samples = [(*X[i], *y[i]) for i in range(len(X))]
        if any(len(sample) != nin + nout for sample in samples):
            raise ValueError(f"fit: compiled=True needs every input of {nin} numbers and "
                             f"every target of {nout}, as the first sample's")
        step = compile_batch(lambda *s: loss_fn(model(list(s[:nin])), list(s[nin:])),
                             parameters, samples[0])
        forward = compile_forward(lambda *s: model(list(s)), parameters, X[0])
        if regularization is not None:
            regularizer = compile_trace(lambda *_: regularization(), parameters)

    def one_step(batch: Sequence[int]) -> float:
        """One optimiser step on ``batch``; returns the batch's mean loss."""
        optimizer.zero_grad()
        if step is not None:
            values = [p.data for p in parameters]
            value, grads = step(values, [samples[i] for i in batch])
            value /= len(batch)
            mean = [g / len(batch) for g in grads]
            if regularizer is not None:
                extra, extra_grads = regularizer(*values)
                value += extra
                mean = [g + h for g, h in zip(mean, extra_grads, strict=True)]
            for p, g in zip(parameters, mean, strict=True):
                p.grad = g
        else:
            cost = batch_cost(batch)
            cost.backward()
            value = cost.data
        optimizer.step()
        return value

    bar = _progress(epochs)
    try:
        with _DeferredInterrupt() as stop:
            for _ in range(epochs):
                rng.shuffle(order)
                epoch_loss = 0.0
                for start in range(0, len(order), size):
                    if stop.requested:
                        break
                    batch = order[start:start + size]
                    with _collector_paused():
                        value = one_step(batch)
                    history.steps += 1
                    epoch_loss += value * len(batch)
                else:  # every step of the epoch ran: record it, both numbers or neither
                    outputs = forward([p.data for p in parameters], X) if forward \
                        else [model.predict(x) for x in X]
                    right = sum(accuracy(name, list(out), target)
                                for out, target in zip(outputs, y, strict=True))
                    history.loss.append(epoch_loss / len(X))
                    history.accuracy.append(right / len(X))
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{history.loss[-1]:.4g}",
                                        acc=f"{history.accuracy[-1]:.3f}")
                if stop.requested:
                    break
        history.interrupted = stop.requested
    except KeyboardInterrupt as error:  # raised inside a step, or a second Ctrl-C: stop now
        history.interrupted = True
        if stop.requested:  # pressed twice: the caller wants out, so it goes on up, with
            error.history = history  # type: ignore[attr-defined]  # what was trained so far
            raise
    finally:
        if bar is not None:
            bar.close()
    return history
