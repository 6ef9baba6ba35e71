"""backward() survives interrupts at any moment, and two threads never get a wrong number.

An interrupt (KeyboardInterrupt, as Ctrl-C gives) is injected at every line that the pass
runs, once and twice, by a trace function; and at random moments of a large pass by a signal
timer. After each, every input's ``grad`` is either what it was before the call or the whole
result, never a partial sum, and the next ``backward()`` gives exactly the closed form.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from autograd_mini import Value, total
from autograd_mini import engine as engine_module
from autograd_mini.engine import ConcurrentBackwardError

ENGINE = engine_module.__file__
K = 6  # f(x, w) = Σₖ sin(k·x) + w·x·x reads x many times


def graph() -> tuple[Value, Value, Value]:
    x, w = Value(0.7, label="x"), Value(-1.3, label="w")
    f = total([(x * k).sin() for k in range(1, K + 1)]) + w * x * x
    return x, w, f


def closed_form(x: float, w: float) -> tuple[float, float]:
    # ∂f/∂x = Σₖ k·cos(k·x) + 2wx,  ∂f/∂w = x²
    return sum(k * math.cos(k * x) for k in range(1, K + 1)) + 2 * w * x, x * x


class Injector:
    """A trace function that raises KeyboardInterrupt at the given line events of the
    engine's own frames (counting from 0)."""

    def __init__(self, at: set[int]) -> None:
        self.at = at
        self.count = 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if frame.f_code.co_filename != ENGINE:
            return None
        if event == "line":
            k = self.count
            self.count += 1
            if k in self.at:
                raise KeyboardInterrupt
        return self


def run_with(injector: Injector, f: Value) -> bool:
    """Run f.backward() under the injector; True if it was interrupted."""
    sys.settrace(injector)
    try:
        f.backward()
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(None)
    return False


def line_events() -> int:
    *_, f = graph()
    counter = Injector(set())
    run_with(counter, f)
    return counter.count


def check_after(x: Value, w: Value, f: Value, before: tuple[float, float]) -> None:
    gx, gw = closed_form(0.7, -1.3)
    after = (x.grad, w.grad)
    full = (before[0] + gx, before[1] + gw)
    assert after == before or after == pytest.approx(full, rel=1e-14), (after, before, full)
    f.zero_grad()
    f.backward()
    assert (x.grad, w.grad) == (pytest.approx(gx, rel=1e-14), pytest.approx(gw, rel=1e-14))


def test_there_are_many_places_to_interrupt() -> None:
    assert line_events() > 100


@pytest.mark.parametrize("second", [None, 1, 3, 17])
def test_an_interrupt_at_every_line_once_and_twice(second: int | None) -> None:
    n = line_events()
    interrupted = 0
    for k in range(n + 1):
        x, w, f = graph()
        x.grad, w.grad = 0.25, -2.0  # gradients from an earlier pass, to be kept or added to
        at = {k} if second is None else {k, k + second}
        interrupted += run_with(Injector(at), f)
        check_after(x, w, f, (0.25, -2.0))
    assert interrupted >= n  # every line but none past the last was a place to interrupt


def test_the_same_graph_interrupted_again_and_again() -> None:
    x, w, f = graph()
    for k in range(0, line_events(), 7):
        run_with(Injector({k, k + 2}), f)
        f.zero_grad()
    f.backward()
    gx, gw = closed_form(0.7, -1.3)
    assert (x.grad, w.grad) == (pytest.approx(gx, rel=1e-14), pytest.approx(gw, rel=1e-14))


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_interrupts_from_a_timer_during_a_large_pass() -> None:
    # y = Σᵢ (xᵢ · a)·b over 20,000 terms: ∂y/∂a = b·Σxᵢ, ∂y/∂b = a·Σxᵢ
    xs = [Value(0.001 * (i % 97)) for i in range(20_000)]
    a, b = Value(1.5), Value(-0.5)
    y = total([(x * a) * b for x in xs])
    s = sum(x.data for x in xs)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    interrupted = 0
    try:
        for delay in (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016):
            a.grad = b.grad = 0.0
            signal.setitimer(signal.ITIMER_REAL, delay, 0.05)  # and again, 20 times a second
            try:
                y.backward()
            except KeyboardInterrupt:
                interrupted += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            assert (a.grad, b.grad) in ((0.0, 0.0), (pytest.approx(-0.5 * s, rel=1e-12),
                                                      pytest.approx(1.5 * s, rel=1e-12)))
    finally:
        signal.signal(signal.SIGALRM, old)
    assert interrupted > 0
    a.grad = b.grad = 0.0
    y.backward()
    assert (a.grad, b.grad) == (pytest.approx(-0.5 * s, rel=1e-12),
                                pytest.approx(1.5 * s, rel=1e-12))


def test_two_threads_on_one_graph_give_an_error_or_the_exact_result() -> None:
    xs = [Value(0.001 * i) for i in range(3000)]
    a = Value(2.0)
    y = total([(x * a).tanh() for x in xs])
    # ∂y/∂a = Σ xᵢ (1 − tanh²(a xᵢ)), per pass
    one = sum(x.data * (1 - math.tanh(a.data * x.data) ** 2) for x in xs)
    outcomes: list[str] = []

    def work() -> None:
        for _ in range(5):
            try:
                y.backward()
                outcomes.append("ok")
            except ConcurrentBackwardError:
                outcomes.append("refused")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 20
    passes = outcomes.count("ok")
    assert a.grad == pytest.approx(passes * one, rel=1e-12)  # each pass that ran added once


def test_a_partial_may_run_a_backward_pass_of_its_own() -> None:
    from autograd_mini import primitive

    def slope(x: Any, out: Any) -> Any:  # d/dx x² = 2x, found by a backward pass of its own
        t = Value(float(x.data) if isinstance(x, Value) else x)
        (t * t).backward()
        return t.grad

    square = primitive("t_square_by_backward", lambda x: x * x, [slope], check=False)
    try:
        x = Value(3.0)
        (square(x) * 2).backward()
        assert x.grad == 12.0  # 2 · 2x at x = 3
    finally:
        from autograd_mini.rules import RULES

        RULES.pop("t_square_by_backward", None)


def test_create_graph_writes_all_the_grads_or_none() -> None:
    def build() -> tuple[Value, Value, Value]:
        x, y = Value(0.5), Value(2.0)
        return x, y, (x * y).sin() + y * y

    x, y, f = build()
    counter = Injector(set())
    sys.settrace(counter)
    try:
        f.backward(create_graph=True)
    finally:
        sys.settrace(None)
    n_events = counter.count
    # ∂f/∂x = y cos(xy), ∂f/∂y = x cos(xy) + 2y
    full = (2.0 * math.cos(1.0), 0.5 * math.cos(1.0) + 4.0)
    for k in range(n_events):
        x, y, f = build()
        x.grad, y.grad = 1.5, -0.5
        sys.settrace(Injector({k, k + 1}))
        try:
            f.backward(create_graph=True)
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        got = tuple(g.data if isinstance(g, Value) else g for g in (x.grad, y.grad))
        assert got == (1.5, -0.5) or got == pytest.approx((1.5 + full[0], -0.5 + full[1]),
                                                          rel=1e-14), (k, got)


def test_zero_grad_lets_go_of_the_last_pass_journal() -> None:
    x = Value(2.0)
    y = x ** 3
    y.backward(create_graph=True)
    old = x.grad  # 3x², a graph that holds x: a reference cycle through x
    y.backward()  # the float pass journals x's grad, old, before adding to it
    x.zero_grad()
    assert sys.getrefcount(old) == 2  # only this name and getrefcount's own argument
