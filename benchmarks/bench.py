"""Benchmarks: autograd_mini against micrograd, PyTorch and the step written out by hand.

Run from the repository root (``make bench`` installs micrograd first)::

    .venv/bin/python benchmarks/bench.py            # writes docs/benchmarks.md and .json
    .venv/bin/python benchmarks/bench.py --quick    # one repetition each, to try it out

Every engine runs in this one process, round-robin (the order rotates every repetition), with
the cyclic garbage collector enabled as in a normal program and ``gc.collect()`` before every
timing, outside it. Reported times are medians. Engines that are not installed are skipped with
a note; see benchmarks/README.md for what is measured and why.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.metadata
import itertools
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import handwritten as hw

import autograd_mini
from autograd_mini import Value, detect_anomaly, site_of, total
from autograd_mini._graph import topological_order
from autograd_mini.datasets import moons
from autograd_mini.losses import hinge, l2
from autograd_mini.nn import MLP
from autograd_mini.sweep import reverse_sweep

ROOT = Path(__file__).resolve().parent.parent

# The workloads' parameters
SIZES = (2, 16, 16, 1)
N_POINTS = 100
ALPHA = 1e-4
LR = 0.1
CHAIN_A, CHAIN_B, CHAIN_Y0 = 0.9, 0.1, 0.5
CHAIN_STEPS = 10_000
LONG_CHAIN_STEPS = 1_000_000
WIDE_TERMS = 100_000
MEMORY_TERMS = 100_000
TOLERANCE = 1e-9  # max |Δ| between an engine's gradients and the hand-written ones

LOOP_STEPS, LOOP_REPS = 5, 3  # the mlp-step training-loop context
REPS = {"mlp-step": 9, "chain": 7, "chain-1e6": 3, "wide-sum": 5, "memory": 3, "backward": 9,
        "debugging": 7, "explore": 15}

# The targets of the issue
TARGET_SPEEDUP_OVER_MICROGRAD = 30.0
TARGET_BINARY_SPEEDUP_OVER_MICROGRAD = 28.0  # the same step written with micrograd's own code
TARGET_DYNAMIC_VS_HANDWRITTEN = 8.0
TARGET_BYTES_PER_NODE = 128.0
TARGET_COMPILED_VS_HANDWRITTEN = 1.2
TARGET_COMPILE_S = 0.1  # compiling the per-sample trace of the demo step
TARGET_COMPILE_MEMORY_SHARE = 0.1  # its peak memory, against compiling the whole graph
TARGET_EXPLORE_UPDATE_MS = 200.0

DYNAMIC = "autograd_mini dynamic"
DYNAMIC_BINARY = "autograd_mini dynamic, micrograd's code"
COMPILED = "autograd_mini compiled"
COMPILED_SAMPLE = "autograd_mini compiled per sample"
MICROGRAD = "micrograd 0.1.0"
HANDWRITTEN = "hand-written"
TORCH = "PyTorch (0-d tensors)"


def say(*parts: object) -> None:
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------
# The optional engines
# ---------------------------------------------------------------------------------------------


@dataclass
class Available:
    """What could be imported, and a note for each engine that could not."""

    compile: Callable[..., Any] | None = None
    micrograd: tuple[Any, Any] | None = None  # (Value, MLP)
    torch: Any = None
    notes: dict[str, str] = field(default_factory=dict)


def load_optional(use_torch: bool = True) -> Available:
    found = Available()
    try:
        from autograd_mini.compile import compile as compile_trace

        found.compile = compile_trace
    except Exception as error:  # ImportError, or a module half written
        found.notes[COMPILED] = (f"skipped: `from autograd_mini.compile import compile` failed "
                                 f"({type(error).__name__}: {error})")
    try:
        from micrograd.engine import Value as MgValue
        from micrograd.nn import MLP as MgMLP  # noqa: N811 (micrograd's own class name)

        found.micrograd = (MgValue, MgMLP)
        version = importlib.metadata.version("micrograd")
        if version != "0.1.0":
            found.notes[MICROGRAD] = f"note: micrograd {version} is installed, not 0.1.0"
    except Exception as error:
        found.notes[MICROGRAD] = (f"skipped: micrograd is not installed ({type(error).__name__}); "
                                  "`.venv/bin/pip install micrograd==0.1.0`")
    if not use_torch:
        found.notes[TORCH] = "skipped: --no-torch"
    else:
        try:
            import torch

            found.torch = torch
        except Exception as error:
            found.notes[TORCH] = f"skipped: torch is not importable ({type(error).__name__})"
    return found


def micrograd_tanh(value_cls: Any, v: Any) -> Any:
    """tanh for micrograd 0.1.0, which has only + * ** and relu: written the way micrograd
    writes every op (and as its author's lecture adds tanh), a closure per node."""
    t = math.tanh(v.data)
    out = value_cls(t, (v,), "tanh")

    def _backward() -> None:
        v.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def balanced_sum(terms: list[Any]) -> Any:
    """t₁ + … + tₙ added pairwise, so the graph is about log₂ n deep (micrograd's recursive
    backward cannot take a sum of 10⁵ terms added one after another)."""
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def max_abs_diff(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) != len(ys):
        return math.inf
    return max((abs(float(x) - float(y)) for x, y in zip(xs, ys, strict=True)), default=0.0)


def describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:120]}" if text else type(error).__name__


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One engine on one workload. ``run`` is what is timed; ``check`` returns the value and
    the gradients, to compare with the hand-written ones before any timing."""

    engine: str
    run: Callable[[], Any]
    check: Callable[[], tuple[float, list[float]]] | None = None
    note: str = ""
    failure: str = ""
    times: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def round_robin(cases: Sequence[Case], reps: int) -> None:
    """Time every case ``reps`` times, one repetition of each in turn (rotating the order),
    with ``gc.collect()`` before each timing and the collector left enabled during it."""
    live = [c for c in cases if not c.failure]
    for r in range(reps):
        k = r % len(live) if live else 0
        for case in live[k:] + live[:k]:
            gc.collect()
            start = perf_counter()
            case.run()
            case.times.append(perf_counter() - start)
    gc.collect()


def loop_timings(cases: Sequence[Case], reps: int, steps: int,
                 collector: bool = True) -> dict[str, list[float]]:
    """Per-step times of ``steps`` consecutive runs with no ``gc.collect()`` between them, as
    in a training loop, so that freeing the last step's garbage counts; round-robin, ``reps``
    times. With ``collector=False`` the cyclic collector is off during the runs (a diagnostic:
    what the collector costs)."""
    live = [c for c in cases if not c.failure]
    out: dict[str, list[float]] = {c.engine: [] for c in live}
    for r in range(reps):
        k = r % len(live) if live else 0
        for case in live[k:] + live[:k]:
            gc.collect()
            if not collector:
                gc.disable()
            try:
                start = perf_counter()
                for _ in range(steps):
                    case.run()
                out[case.engine].append((perf_counter() - start) / steps)
            finally:
                gc.enable()
    gc.collect()
    return out


def probe(case: Case) -> None:
    """Run a case once, untimed (a warm-up); an exception marks it failed, not the suite."""
    try:
        case.run()
    except RecursionError:
        case.failure = "fails (RecursionError)"
    except Exception as error:
        case.failure = f"fails ({describe(error)})"
    gc.collect()


def row(case: Case, reference: float | None, micrograd: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": case.engine}
    if case.failure:
        out["status"] = case.failure
    elif not case.times:
        out["status"] = case.note or "skipped"
    else:
        median = statistics.median(case.times)
        out.update(status="ok", median_s=median, min_s=min(case.times),
                   reps=len(case.times), times_s=case.times)
        if reference:
            out["x_handwritten"] = median / reference
        if micrograd:
            out["speedup_over_micrograd"] = micrograd / median
    if case.note:
        out["note"] = case.note
    out.update(case.extra)
    return out


def table_rows(cases: Sequence[Case]) -> list[dict[str, Any]]:
    medians = {c.engine: statistics.median(c.times) for c in cases if c.times and not c.failure}
    return [row(c, medians.get(HANDWRITTEN), medians.get(MICROGRAD)) for c in cases]


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


@dataclass
class Checks:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def compare(self, workload: str, case: Case, reference: tuple[float, list[float]],
                *, required: bool = False) -> None:
        """Compare a case's value and gradients with the hand-written ones. ``required``
        (the dynamic engine on the training step) asserts; any other mismatch is reported."""
        if case.check is None or case.failure:
            return
        try:
            value, grads = case.check()
        except RecursionError:
            case.failure = "fails (RecursionError)"
        except Exception as error:
            if required:
                raise
            case.failure = f"fails ({describe(error)})"
        finally:
            gc.collect()
        if case.failure:
            self.rows.append({"workload": workload, "engine": case.engine, "ok": None,
                              "status": case.failure})
            say(f"  check {workload:9} {case.engine:24} {case.failure}")
            return
        diff = max_abs_diff(grads, reference[1])
        value_diff = abs(value - reference[0])
        ok = diff < TOLERANCE and value_diff < TOLERANCE
        self.rows.append({"workload": workload, "engine": case.engine, "gradients": len(grads),
                          "max_abs_diff_grad": diff, "abs_diff_value": value_diff, "ok": ok})
        say(f"  check {workload:9} {case.engine:24} max|Δgrad| = {diff:.3g}, "
            f"|Δvalue| = {value_diff:.3g}  {'ok' if ok else 'MISMATCH'}")
        if required:
            assert diff < TOLERANCE, (
                f"{case.engine} and the hand-written step disagree: max |Δgrad| = {diff}")
        if not ok:
            case.note = (case.note + "; " if case.note else "") + (
                f"gradients differ from the hand-written ones (max |Δ| = {diff:.3g})")


# ---------------------------------------------------------------------------------------------
# mlp-step: micrograd's demo training step
# ---------------------------------------------------------------------------------------------


def mlp_cost(model: MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Value:
    """The demo's cost as an autograd_mini user writes it: the mean hinge loss plus α Σ p²."""
    data_loss = total([hinge(model(x), [y]) for x, y in zip(xs, ys, strict=True)]) / len(xs)
    return data_loss + l2(model.parameters(), ALPHA)


class DynamicMLP:
    def __init__(self, flat: Sequence[float], xs: list[list[float]], ys: list[float]) -> None:
        self.model = MLP(SIZES[0], list(SIZES[1:]), seed=0)
        for p, v in zip(self.model.parameters(), flat, strict=True):
            p.data = v
        self.xs, self.ys = xs, ys

    def value_and_grad(self) -> tuple[float, list[float]]:
        cost = mlp_cost(self.model, self.xs, self.ys)
        self.model.zero_grad()
        cost.backward()
        return cost.data, [p.grad for p in self.model.parameters()]

    def step(self) -> float:
        model = self.model
        cost = mlp_cost(model, self.xs, self.ys)
        model.zero_grad()
        cost.backward()
        for p in model.parameters():
            p.data -= LR * p.grad
        return cost.data

    def weights(self) -> list[float]:
        return [p.data for p in self.model.parameters()]


class CompiledMLP:
    """The cost as a function of all 337 parameters, the 100 points baked in as constants,
    compiled once to straight-line Python; SGD on a plain list of floats."""

    def __init__(self, compile_trace: Callable[..., Any], flat: Sequence[float],
                 xs: list[list[float]], ys: list[float]) -> None:
        model = MLP(SIZES[0], list(SIZES[1:]), seed=0)
        neurons = [n for _, _, n in model.neurons()]

        def cost(*ps: Value) -> Value:
            i = 0
            for n in neurons:
                k = len(n.w)
                n.w = list(ps[i:i + k])
                n.b = ps[i + k]
                i += k + 1
            return mlp_cost(model, xs, ys)

        start = perf_counter()
        self.fn = compile_trace(cost, tuple(flat))
        self.compile_s = perf_counter() - start
        source = getattr(self.fn, "source", None)
        self.source_lines = len(source.splitlines()) if isinstance(source, str) else None
        self.state = [float(v) for v in flat]

    def value_and_grad(self) -> tuple[float, list[float]]:
        value, grads = self.fn(*self.state)
        return value, list(grads)

    def value_and_grad_at(self, flat: Sequence[float]) -> tuple[float, list[float]]:
        value, grads = self.fn(*flat)
        return value, list(grads)

    def step(self) -> float:
        value, grads = self.fn(*self.state)
        self.state = [p - LR * g for p, g in zip(self.state, grads, strict=True)]
        return float(value)

    def weights(self) -> list[float]:
        return list(self.state)


class CompiledSampleMLP:
    """The demo step as ``fit(compiled=True)`` runs it: one sample's hinge loss traced once as
    a function of the 337 parameters and the sample (``compile_batch``), run in a loop over
    the 100 points inside the generated code; the L2 term compiled on its own."""

    def __init__(self, flat: Sequence[float], xs: list[list[float]], ys: list[float]) -> None:
        from autograd_mini.compile import compile as compile_trace
        from autograd_mini.compile import compile_batch

        model = MLP(SIZES[0], list(SIZES[1:]), seed=0)
        params = model.parameters()
        for p, v in zip(params, flat, strict=True):
            p.data = v
        start = perf_counter()
        self.batch = compile_batch(lambda x0, x1, y: hinge(model([x0, x1]), [y]), params,
                                   [*xs[0], ys[0]])
        self.reg = compile_trace(lambda *_: l2(params, ALPHA), params)
        self.compile_s = perf_counter() - start
        self.source_lines = len(self.batch.source.splitlines())
        self.samples = [(*x, y) for x, y in zip(xs, ys, strict=True)]
        self.state = [float(v) for v in flat]

    def value_and_grad_at(self, flat: Sequence[float]) -> tuple[float, list[float]]:
        n = len(self.samples)
        value, grads = self.batch(flat, self.samples)
        extra, extra_grads = self.reg(*flat)
        return value / n + extra, [g / n + h for g, h in zip(grads, extra_grads, strict=True)]

    def value_and_grad(self) -> tuple[float, list[float]]:
        return self.value_and_grad_at(self.state)

    def step(self) -> float:
        value, grads = self.value_and_grad_at(self.state)
        self.state = [p - LR * g for p, g in zip(self.state, grads, strict=True)]
        return value

    def weights(self) -> list[float]:
        return list(self.state)


def compile_peak_bytes(build: Callable[[], Any]) -> int:
    """The tracemalloc peak of building an engine, that is of compiling it, on its own."""
    gc.collect()
    tracemalloc.start()
    try:
        build()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class MicrogradShaped:
    """micrograd 0.1.0's ``nn.py``, line for line, on autograd_mini's Values: each neuron's
    z is ``sum((wi*xi for wi, xi in zip(self.w, x)), self.b)``, a chain of binary ``*`` and
    ``+``, where ``nn.MLP`` makes one ``dot`` node. It measures the engine on the code a
    micrograd user already has."""

    class Neuron:
        def __init__(self, nin: int, nonlin: bool = True) -> None:
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0.0)
            self.nonlin = nonlin

        def __call__(self, x: Sequence[Any]) -> Value:
            act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
            return act.relu() if self.nonlin else act

        def parameters(self) -> list[Value]:
            return [*self.w, self.b]

    class Layer:
        def __init__(self, nin: int, nout: int, nonlin: bool) -> None:
            self.neurons = [MicrogradShaped.Neuron(nin, nonlin) for _ in range(nout)]

        def __call__(self, x: Sequence[Any]) -> Any:
            out = [n(x) for n in self.neurons]
            return out[0] if len(out) == 1 else out

        def parameters(self) -> list[Value]:
            return [p for n in self.neurons for p in n.parameters()]

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin, *nouts]
        self.layers = [MicrogradShaped.Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class MicrogradMLP:
    """micrograd's demo step (demo.ipynb's ``loss()``), with the demo's data as Values."""

    def __init__(self, micrograd: tuple[Any, Any], flat: Sequence[float],
                 xs: list[list[float]], ys: list[float]) -> None:
        self.value_cls, mlp_cls = micrograd
        random.seed(1337)  # micrograd draws its initial weights from `random`; they are replaced
        self.model = mlp_cls(SIZES[0], list(SIZES[1:]))
        params = self.model.parameters()
        if len(params) != len(flat):
            raise ValueError(f"micrograd's MLP has {len(params)} parameters, not {len(flat)}")
        for p, v in zip(params, flat, strict=True):
            p.data = v
        self.xs, self.ys = xs, ys

    def cost(self) -> Any:
        inputs = [list(map(self.value_cls, row)) for row in self.xs]
        scores = list(map(self.model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(self.ys, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in self.model.parameters())
        return data_loss + reg_loss

    def value_and_grad(self) -> tuple[float, list[float]]:
        cost = self.cost()
        self.model.zero_grad()
        cost.backward()
        return float(cost.data), [float(p.grad) for p in self.model.parameters()]

    def step(self) -> float:
        cost = self.cost()
        self.model.zero_grad()
        cost.backward()
        for p in self.model.parameters():
            p.data -= LR * p.grad
        return float(cost.data)

    def weights(self) -> list[float]:
        return [float(p.data) for p in self.model.parameters()]


class TorchMLP:
    """The same step on 0-d float64 tensors, one tensor per scalar, as a scalar engine."""

    def __init__(self, torch: Any, flat: Sequence[float], xs: list[list[float]],
                 ys: list[float]) -> None:
        self.torch = torch
        self.params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in flat]
        self.layers: list[list[tuple[list[Any], Any]]] = []
        i = 0
        for nin, nout in itertools.pairwise(SIZES):
            layer = []
            for _ in range(nout):
                layer.append((self.params[i:i + nin], self.params[i + nin]))
                i += nin + 1
            self.layers.append(layer)
        self.xs, self.ys = xs, ys

    def cost(self) -> Any:
        relu = self.torch.relu
        last = len(self.layers) - 1
        scores = []
        for x in self.xs:
            a: list[Any] = list(x)
            for m, layer in enumerate(self.layers):
                zs = [sum((wk * ak for wk, ak in zip(w, a, strict=True)), b) for w, b in layer]
                a = zs if m == last else [relu(z) for z in zs]
            scores.append(a[0])
        losses = [relu(1 - y * s) for y, s in zip(self.ys, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in self.params)
        return data_loss + reg_loss

    def _backward(self) -> Any:
        cost = self.cost()
        for p in self.params:
            p.grad = None
        cost.backward()
        return cost

    def value_and_grad(self) -> tuple[float, list[float]]:
        cost = self._backward()
        return cost.item(), [p.grad.item() for p in self.params]

    def step(self) -> float:
        cost = self._backward()
        with self.torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
        return float(cost.item())

    def weights(self) -> list[float]:
        return [p.item() for p in self.params]


class HandwrittenMLP:
    def __init__(self, flat: Sequence[float], xs: list[list[float]], ys: list[float]) -> None:
        self.layers = hw.unflatten(flat, SIZES)
        self.xs, self.ys = xs, ys

    def value_and_grad(self) -> tuple[float, list[float]]:
        loss, grads = hw.mlp_loss_and_grads(self.layers, self.xs, self.ys, ALPHA)
        return loss, hw.flatten(grads)

    def step(self) -> float:
        loss, self.layers = hw.mlp_step(self.layers, self.xs, self.ys, ALPHA, LR)
        return loss

    def weights(self) -> list[float]:
        return hw.flatten(self.layers)


def bench_mlp_step(opt: Available, checks: Checks, reps: int) -> dict[str, Any]:
    say(f"\nmlp-step: MLP {'-'.join(map(str, SIZES))}, {N_POINTS} moons points, hinge + L2, "
        f"SGD; {reps} repetitions")
    data = moons(n=N_POINTS, noise=0.1, seed=0)
    xs, ys = data.X, data.signs()
    flat = [p.data for p in MLP(SIZES[0], list(SIZES[1:]), seed=0).parameters()]

    engines: dict[str, Any] = {HANDWRITTEN: HandwrittenMLP(flat, xs, ys),
                               DYNAMIC: DynamicMLP(flat, xs, ys)}
    notes: dict[str, str] = {}
    extra: dict[str, dict[str, Any]] = {}
    builders: list[tuple[str, Callable[[], Any] | None]] = [
        (COMPILED_SAMPLE, (lambda: CompiledSampleMLP(flat, xs, ys)) if opt.compile else None),
        (COMPILED, (lambda: CompiledMLP(opt.compile, flat, xs, ys)) if opt.compile else None),
        (DYNAMIC_BINARY, lambda: MicrogradMLP((Value, MicrogradShaped), flat, xs, ys)),
        (MICROGRAD, (lambda: MicrogradMLP(opt.micrograd, flat, xs, ys))
         if opt.micrograd else None),
        (TORCH, (lambda: TorchMLP(opt.torch, flat, xs, ys)) if opt.torch else None),
    ]
    for name, build in builders:
        if build is None:
            notes[name] = opt.notes.get(name, "skipped")
            continue
        try:
            engines[name] = build()
        except Exception as error:
            notes[name] = f"fails to build ({describe(error)})"
    for name, rebuild in ((COMPILED_SAMPLE, lambda: CompiledSampleMLP(flat, xs, ys)),
                          (COMPILED, lambda: CompiledMLP(opt.compile, flat, xs, ys))):
        built = engines.get(name)
        if isinstance(built, (CompiledMLP, CompiledSampleMLP)):
            peak = compile_peak_bytes(rebuild)  # a second build, under tracemalloc
            extra[name] = {"compile_s": built.compile_s, "source_lines": built.source_lines,
                           "compile_peak_bytes": peak}
            say(f"  {name}: compiled in {built.compile_s:.3f} s ({built.source_lines} lines "
                f"of Python, {peak / 2**20:.1f} MiB at peak)")

    cases = []
    for name in (HANDWRITTEN, DYNAMIC, DYNAMIC_BINARY, COMPILED_SAMPLE, COMPILED, MICROGRAD,
                 TORCH):
        if name not in engines:
            cases.append(Case(name, lambda: None, note=notes.get(name, "skipped")))
            continue
        note = opt.notes.get(name, "")
        cases.append(Case(name, engines[name].step, engines[name].value_and_grad,
                          note=note if note.startswith("note") else "",
                          extra=extra.get(name, {})))

    # Before any timing: every engine's gradient at the same initial weights, against the
    # closed form. The dynamic engine must match it (asserted).
    reference = engines[HANDWRITTEN].value_and_grad()
    for case in cases:
        if case.engine in engines and case.engine != HANDWRITTEN:
            checks.compare("mlp-step", case, reference, required=case.engine == DYNAMIC)
    moved = hw.flatten(hw.mlp_step(hw.unflatten(flat, SIZES), xs, ys, ALPHA, LR)[1])
    moved_ref = HandwrittenMLP(moved, xs, ys).value_and_grad()
    for name in (COMPILED_SAMPLE, COMPILED):
        built = engines.get(name)
        if isinstance(built, (CompiledMLP, CompiledSampleMLP)) and \
                not _case(cases, name).failure:
            # a compiled step must be right away from the point it was traced at, too
            probe_case = Case(name + " (other weights)", lambda: None,
                              check=lambda built=built: built.value_and_grad_at(moved))
            checks.compare("mlp-step", probe_case, moved_ref)
            if probe_case.note:
                _case(cases, name).note = probe_case.note

    timed = [c for c in cases if c.engine in engines]
    for case in timed:
        probe(case)  # warm-up: every engine takes one step, the same step
    round_robin(timed, reps)

    # Every engine took the same steps from the same weights, so the weights must still agree.
    final = engines[HANDWRITTEN].weights()
    for case in timed:
        if case.engine != HANDWRITTEN and not case.failure:
            case.extra["weights_max_abs_diff_after_steps"] = max_abs_diff(
                engines[case.engine].weights(), final)
    rows = table_rows(cases)

    # Context, not used by the targets: the same steps back to back, as a training loop runs
    # them, and (a diagnostic) with the cyclic collector off.
    say(f"  training loop: {LOOP_STEPS} steps in a row, {LOOP_REPS} repetitions")
    loop = loop_timings(timed, LOOP_REPS, LOOP_STEPS)
    pair = [c for c in timed if c.engine in (DYNAMIC, MICROGRAD)]
    say(f"  the same with the collector off, {' and '.join(c.engine for c in pair)}")
    no_gc = loop_timings(pair, LOOP_REPS, LOOP_STEPS, collector=False)
    ref = statistics.median(loop[HANDWRITTEN])
    mg_loop = statistics.median(loop[MICROGRAD]) if loop.get(MICROGRAD) else None
    loop_rows = []
    for name, ts in loop.items():
        median = statistics.median(ts)
        entry: dict[str, Any] = {"engine": name, "status": "ok", "median_s": median,
                                 "min_s": min(ts), "reps": len(ts), "times_s": ts,
                                 "x_handwritten": median / ref}
        if mg_loop:
            entry["speedup_over_micrograd"] = mg_loop / median
        if no_gc.get(name):
            off = statistics.median(no_gc[name])
            entry["gc_off_median_s"] = off
            entry["gc_share"] = max(0.0, 1.0 - off / median)
        loop_rows.append(entry)
    return {"workload": "mlp-step",
            "description": (f"One SGD step of micrograd's demo: MLP {'-'.join(map(str, SIZES))} "
                            f"(ReLU hidden, linear output), {N_POINTS} two-moons points, mean "
                            f"hinge loss + {ALPHA:g}·Σp², zero_grad, backward, p -= {LR}·grad"),
            "reps": reps, "engines": rows,
            "loop": {"steps": LOOP_STEPS, "reps": LOOP_REPS, "engines": loop_rows}}


def _case(cases: Sequence[Case], engine: str) -> Case:
    return next(c for c in cases if c.engine == engine)


# ---------------------------------------------------------------------------------------------
# chain: y = tanh(y·a + b), deep
# ---------------------------------------------------------------------------------------------


def dynamic_chain(steps: int) -> tuple[float, list[float]]:
    a, b, y0 = Value(CHAIN_A), Value(CHAIN_B), Value(CHAIN_Y0)
    y = y0
    for _ in range(steps):
        y = (y * a + b).tanh()
    y.backward()
    return y.data, [a.grad, b.grad, y0.grad]


def micrograd_chain(micrograd: tuple[Any, Any], steps: int) -> tuple[float, list[float]]:
    value_cls = micrograd[0]
    a, b, y0 = value_cls(CHAIN_A), value_cls(CHAIN_B), value_cls(CHAIN_Y0)
    y = y0
    for _ in range(steps):
        y = micrograd_tanh(value_cls, y * a + b)
    y.backward()
    return y.data, [a.grad, b.grad, y0.grad]


def torch_chain(torch: Any, steps: int) -> tuple[float, list[float]]:
    a, b, y0 = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                for v in (CHAIN_A, CHAIN_B, CHAIN_Y0))
    y = y0
    tanh = torch.tanh
    for _ in range(steps):
        y = tanh(y * a + b)
    y.backward()
    return y.item(), [a.grad.item(), b.grad.item(), y0.grad.item()]


def handwritten_chain(steps: int) -> tuple[float, list[float]]:
    value, grads = hw.chain_value_and_grad(CHAIN_A, CHAIN_B, CHAIN_Y0, steps)
    return value, list(grads)


def compiled_chain(compile_trace: Callable[..., Any], steps: int) -> Case:
    def f(a: Value, b: Value, y: Value) -> Value:
        for _ in range(steps):
            y = (y * a + b).tanh()
        return y

    start = perf_counter()
    fn = compile_trace(f, (CHAIN_A, CHAIN_B, CHAIN_Y0))
    elapsed = perf_counter() - start

    def check() -> tuple[float, list[float]]:
        value, grads = fn(CHAIN_A, CHAIN_B, CHAIN_Y0)
        return value, list(grads)

    return Case(COMPILED, lambda: fn(CHAIN_A, CHAIN_B, CHAIN_Y0), check,
                extra={"compile_s": elapsed})


def optional_case(name: str, available: bool, opt: Available,
                  build: Callable[[], Case]) -> Case:
    if not available:
        return Case(name, lambda: None, note=opt.notes.get(name, "skipped"))
    try:
        return build()
    except RecursionError:
        return Case(name, lambda: None, failure="fails (RecursionError)")
    except Exception as error:
        return Case(name, lambda: None, failure=f"fails ({describe(error)})")
    finally:
        gc.collect()


def bench_chain(opt: Available, checks: Checks, reps: int) -> dict[str, Any]:
    n = CHAIN_STEPS
    say(f"\nchain: y = tanh(y·a + b), {n:,} steps ({3 * n:,} ops), build + backward; "
        f"{reps} repetitions")
    mg, torch = opt.micrograd, opt.torch
    cases = [
        Case(HANDWRITTEN, lambda: handwritten_chain(n), lambda: handwritten_chain(n)),
        Case(DYNAMIC, lambda: dynamic_chain(n), lambda: dynamic_chain(n)),
        optional_case(COMPILED, opt.compile is not None, opt,
                      lambda: compiled_chain(opt.compile, n)),  # type: ignore[arg-type]
        optional_case(MICROGRAD, mg is not None, opt,
                      lambda: Case(MICROGRAD, lambda: micrograd_chain(mg, n),
                                   lambda: micrograd_chain(mg, n),
                                   note="tanh added in micrograd's own style (0.1.0 has none)")),
        optional_case(TORCH, torch is not None, opt,
                      lambda: Case(TORCH, lambda: torch_chain(torch, n),
                                   lambda: torch_chain(torch, n))),
    ]
    reference = handwritten_chain(n)
    for case in cases[1:]:
        checks.compare("chain", case, reference, required=case.engine == DYNAMIC)
    # the checks above were each case's warm-up run
    round_robin([c for c in cases if c.check is not None], reps)
    return {"workload": "chain",
            "description": f"The chain y = tanh(y·a + b) for {n:,} steps from y₀, then backward "
                           "(∂y/∂a, ∂y/∂b, ∂y/∂y₀)",
            "reps": reps, "engines": table_rows(cases)}


def bench_long_chain(checks: Checks, reps: int) -> dict[str, Any]:
    n = LONG_CHAIN_STEPS
    say(f"\nchain-1e6: y = tanh(y·a + b), {n:,} steps ({3 * n:,} nodes), autograd_mini "
        f"dynamic; {reps} repetition(s)")
    dynamic = Case(DYNAMIC, lambda: dynamic_chain(n), lambda: dynamic_chain(n))
    reference = handwritten_chain(n)
    checks.compare("chain-1e6", dynamic, reference)  # also the first, untimed, run
    if not dynamic.failure:
        round_robin([dynamic], reps)
    result = table_rows([dynamic])[0]
    result["completes"] = not dynamic.failure and bool(dynamic.times)
    result["nodes"] = 3 * n + 3
    return {"workload": "chain-1e6",
            "description": f"The chain y = tanh(y·a + b) for {n:,} steps, build + backward, "
                           "autograd_mini dynamic only",
            "reps": reps, "engines": [result]}


# ---------------------------------------------------------------------------------------------
# backward: the fast float pass against the shared reverse-edge walk
# ---------------------------------------------------------------------------------------------

FAST = "backward() (fast float pass)"
SHARED = "reverse_sweep (the shared reverse-edge walk)"


def shared_backward(root: Value) -> None:
    """``root.backward()`` written on the walk that every other reverse reader shares
    (``_graph.reverse_edges`` through ``sweep.reverse_sweep``), with the same accumulation
    semantics: what the float pass would be without a loop of its own."""
    order = topological_order(root)
    adjoints = reverse_sweep(order, {id(root): 1.0}, on_values=False)
    for node in order:
        bar = adjoints.get(id(node))
        if node.op is None:
            if bar is not None:
                node.grad += bar
        elif node.op != "const":
            node.grad = 0.0 if bar is None else bar


def bench_backward(reps: int) -> dict[str, Any]:
    """Backward alone, on graphs built once: the mlp-step cost and the chain."""
    say(f"\nbackward: the fast float pass against the shared walk; {reps} repetitions")
    data = moons(n=N_POINTS, noise=0.1, seed=0)
    model = MLP(SIZES[0], list(SIZES[1:]), seed=0)
    xs, ys = data.X, data.signs()
    graphs = {"mlp-step": (mlp_cost(model, xs, ys), model.parameters())}
    a, b, y0 = Value(CHAIN_A), Value(CHAIN_B), Value(CHAIN_Y0)
    y = y0
    for _ in range(CHAIN_STEPS):
        y = (y * a + b).tanh()
    graphs["chain"] = (y, [a, b, y0])
    rows = []
    for name, (root, leaves) in graphs.items():
        def fast(root: Value = root) -> None:
            root.backward()

        def shared(root: Value = root) -> None:
            shared_backward(root)

        grads = []
        for run in (fast, shared):  # the same gradients, checked before any timing
            for leaf in leaves:
                leaf.grad = 0.0
            run()
            grads.append([leaf.grad for leaf in leaves])
        diff = max_abs_diff(*grads)
        cases = [Case(FAST, fast), Case(SHARED, shared)]
        round_robin(cases, reps)
        fast_s, shared_s = (statistics.median(c.times) for c in cases)
        nodes = len(topological_order(root))
        say(f"  {name}: {nodes:,} nodes; fast {ms(fast_s)} ms, shared {ms(shared_s)} ms "
            f"({shared_s / fast_s:.2f}×); gradients within {diff:.1g}")
        rows.append({"graph": name, "nodes": nodes, "fast_s": fast_s, "shared_s": shared_s,
                     "shared_over_fast": shared_s / fast_s, "max_abs_diff": diff})
    return {"workload": "backward",
            "description": "backward alone on a graph built once (the mlp-step cost; the "
                           f"{CHAIN_STEPS:,}-step chain): `backward()`'s own float pass "
                           "against the same pass written on the reverse-edge walk that the "
                           "adjoint table, the compiled trace and `create_graph` share",
            "reps": reps, "graphs": rows}


# ---------------------------------------------------------------------------------------------
# debugging: anomaly mode and hooks, on and off
# ---------------------------------------------------------------------------------------------

OFF = "off (no hook, no anomaly mode)"
LEAF_HOOKS = "a hook on every parameter"
ROOT_HOOK = "a hook on the cost (an interior node)"
ANOMALY = "inside detect_anomaly()"


class DebuggedMLP(DynamicMLP):
    """The dynamic mlp-step with one of the debugging tools on; every hook returns None."""

    def __init__(self, flat: Sequence[float], xs: list[list[float]], ys: list[float],
                 how: str) -> None:
        super().__init__(flat, xs, ys)
        self.how = how
        self.calls = 0
        if how == LEAF_HOOKS:
            for p in self.model.parameters():
                p.register_hook(self.seen)

    def seen(self, grad: float) -> None:
        self.calls += 1

    def cost(self) -> Value:
        cost = mlp_cost(self.model, self.xs, self.ys)
        if self.how == ROOT_HOOK:
            cost.register_hook(self.seen)
        return cost

    def value_and_grad(self) -> tuple[float, list[float]]:
        with detect_anomaly() if self.how == ANOMALY else _nothing():
            cost = self.cost()
            self.model.zero_grad()
            cost.backward()
        return cost.data, [p.grad for p in self.model.parameters()]

    def step(self) -> float:
        with detect_anomaly() if self.how == ANOMALY else _nothing():
            cost = self.cost()
            self.model.zero_grad()
            cost.backward()
        for p in self.model.parameters():
            p.data -= LR * p.grad
        return cost.data


class _nothing:  # noqa: N801 (a stand-in for a context manager, used as one)
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def bench_debugging(checks: Checks, reps: int) -> dict[str, Any]:
    """What the debugging tools cost on the mlp-step when they are on, side by side with the
    same step when they are off; and what a node built off records (nothing)."""
    say(f"\ndebugging: the mlp-step with hooks or anomaly mode on; {reps} repetitions")
    data = moons(n=N_POINTS, noise=0.1, seed=0)
    xs, ys = data.X, data.signs()
    flat = [p.data for p in MLP(SIZES[0], list(SIZES[1:]), seed=0).parameters()]
    engines = {how: DebuggedMLP(flat, xs, ys, how) for how in (OFF, LEAF_HOOKS, ROOT_HOOK,
                                                               ANOMALY)}
    cases = [Case(how, e.step, e.value_and_grad) for how, e in engines.items()]
    reference = engines[OFF].value_and_grad()
    for case in cases[1:]:
        checks.compare("debugging", case, reference, required=True)
    off = engines[OFF].cost()
    records = site_of(off) is not None or hasattr(off, "_g")
    assert not records, "a node built with anomaly mode off recorded something"
    for case in cases:
        probe(case)
    round_robin(cases, reps)
    base = statistics.median(cases[0].times)
    rows = []
    for case in cases:
        median = statistics.median(case.times)
        rows.append({"engine": case.engine, "status": "ok", "median_s": median,
                     "min_s": min(case.times), "reps": len(case.times),
                     "times_s": case.times, "x_off": median / base})
        say(f"  {case.engine:40} {ms(median)} ms ({times(median / base)} the step with both "
            "off)")

    def nodes_with_sites() -> Any:
        with detect_anomaly():
            a, b = wide_data(MEMORY_TERMS // 10)
            return balanced_sum([Value(x) * Value(y) for x, y in zip(a, b, strict=True)])

    nodes = 4 * (MEMORY_TERMS // 10) - 1
    per_node = peak_bytes(nodes_with_sites) / nodes
    say(f"  anomaly mode: {per_node:.0f} bytes per node built (a creation site each)")
    return {"workload": "debugging",
            "description": "micrograd's demo step (as mlp-step, autograd_mini dynamic) with "
                           "each debugging tool on, against the same step with both off; "
                           "every hook returns None",
            "reps": reps, "engines": rows, "records_when_off": records,
            "anomaly_bytes_per_node": per_node}


# ---------------------------------------------------------------------------------------------
# explore: a slider moved, and the kernel's answer
# ---------------------------------------------------------------------------------------------


def explore_function(x: Value, y: Value) -> Value:
    """A function of two inputs whose graph has about 30 nodes (the explorer's target)."""
    v = x
    for k in range(6):
        v = (v * y + 0.1 * k).tanh()
    return v + x.exp() * y


def bench_explore(reps: int) -> dict[str, Any]:
    """What the kernel does when a slider of ``explore`` moves: evaluate f, backward, the
    trace and its tables, and the picture drawn in the one layout (Graphviz included)."""
    from autograd_mini.explore import Explorer

    say(f"\nexplore: the kernel's update after a slider moves; {reps} repetitions")
    e = Explorer(explore_function, {"x": (-1.0, 1.0, 0.3), "y": (-2.0, 2.0, 0.7)})
    assert e.root is not None
    nodes = len(topological_order(e.root))
    points = [-0.9 + 1.8 * k / max(reps - 1, 1) for k in range(reps)]
    times_s = []
    for x in points:
        start = perf_counter()
        ok = e.set({"x": x})
        html_len = len(e.tables_html()) + len(e.svg)
        times_s.append(perf_counter() - start)
        assert ok, e.error
        assert html_len
    median = statistics.median(times_s)
    say(f"  {nodes} nodes: {ms(median)} ms median, {ms(max(times_s))} ms at most")
    return {"workload": "explore",
            "description": f"`Explorer.set` on a graph of {nodes} nodes: f evaluated, "
                           "backward, the trace and its HTML tables, and the picture drawn "
                           "in the one layout by Graphviz, as when a slider of `explore` "
                           "moves (the page adds its debounce and drawing the SVG)",
            "reps": reps, "nodes": nodes, "median_s": median, "max_s": max(times_s),
            "times_s": times_s}


# ---------------------------------------------------------------------------------------------
# wide-sum: Σ xᵢ·yᵢ, wide
# ---------------------------------------------------------------------------------------------


def wide_data(n: int) -> tuple[list[float], list[float]]:
    rng = random.Random(0)
    return [rng.uniform(-1, 1) for _ in range(n)], [rng.uniform(-1, 1) for _ in range(n)]


def bench_wide_sum(opt: Available, checks: Checks, reps: int) -> dict[str, Any]:
    n = WIDE_TERMS
    a, b = wide_data(n)
    say(f"\nwide-sum: Σ xᵢ·yᵢ over {n:,} products, build + backward; {reps} repetitions")

    def dynamic(how: str, collect: bool = False) -> Any:
        xs = [Value(v) for v in a]
        ys = [Value(v) for v in b]
        products = [x * y for x, y in zip(xs, ys, strict=True)]
        s = (total(products) if how == "total" else
             balanced_sum(products) if how == "balanced" else sum(products))
        s.backward()
        if collect:
            return s.data, [x.grad for x in xs] + [y.grad for y in ys]
        return s.data

    def micrograd(how: str, collect: bool = False) -> Any:
        value_cls = opt.micrograd[0]  # type: ignore[index]
        xs = [value_cls(v) for v in a]
        ys = [value_cls(v) for v in b]
        products = [x * y for x, y in zip(xs, ys, strict=True)]
        s = balanced_sum(products) if how == "balanced" else sum(products)
        s.backward()
        if collect:
            return s.data, [x.grad for x in xs] + [y.grad for y in ys]
        return s.data

    def torch_sum(collect: bool = False) -> Any:
        torch = opt.torch
        xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in a]
        ys = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in b]
        s = balanced_sum([x * y for x, y in zip(xs, ys, strict=True)])
        s.backward()
        if collect:
            return s.item(), [x.grad.item() for x in xs] + [y.grad.item() for y in ys]
        return s.item()

    def handwritten(collect: bool = False) -> Any:
        value, gx, gy = hw.wide_sum_value_and_grad(a, b)
        return (value, gx + gy) if collect else value

    mg_note = "balanced pairwise sum, the same graph as autograd_mini's balanced row"
    cases = [
        Case(HANDWRITTEN, handwritten, lambda: handwritten(True)),
        Case(DYNAMIC + ", total()", lambda: dynamic("total"), lambda: dynamic("total", True),
             note="one n-ary sum node, as a user writes it"),
        Case(DYNAMIC + ", balanced", lambda: dynamic("balanced"),
             lambda: dynamic("balanced", True), note="balanced pairwise sum"),
        Case(DYNAMIC + ", sum()", lambda: dynamic("sum"), lambda: dynamic("sum", True),
             note="builtin sum: a chain of 10⁵ additions"),
        Case(COMPILED, lambda: None, note=(
            "not run: it would trace a function of all 200,000 leaves (see "
            "benchmarks/README.md); the compiled engine is measured on mlp-step and chain"
            if opt.compile else opt.notes.get(COMPILED, "skipped"))),
        optional_case(MICROGRAD, opt.micrograd is not None, opt,
                      lambda: Case(MICROGRAD, lambda: micrograd("balanced"),
                                   lambda: micrograd("balanced", True), note=mg_note)),
        optional_case(MICROGRAD + ", sum()", opt.micrograd is not None, opt,
                      lambda: Case(MICROGRAD + ", sum()", lambda: micrograd("sum"),
                                   lambda: micrograd("sum", True),
                                   note="builtin sum: a chain of 10⁵ additions")),
        optional_case(TORCH, opt.torch is not None, opt,
                      lambda: Case(TORCH, torch_sum, lambda: torch_sum(True),
                                   note="balanced pairwise sum")),
    ]
    reference = handwritten(True)
    for case in cases[1:]:
        checks.compare("wide-sum", case, reference, required=case.engine.startswith(DYNAMIC))
    # the checks above were each case's warm-up run
    round_robin([c for c in cases if c.check is not None], reps)
    rows = table_rows(cases)
    # the ratio to micrograd is always against micrograd's balanced sum (its sum() fails)
    return {"workload": "wide-sum",
            "description": f"Σ xᵢ·yᵢ over {n:,} products of leaves, build (leaves included) "
                           "+ backward",
            "reps": reps, "engines": rows}


# ---------------------------------------------------------------------------------------------
# memory: peak bytes per node
# ---------------------------------------------------------------------------------------------


def peak_bytes(build: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        keep = build()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del keep
    gc.collect()
    return peak


def bench_memory(opt: Available, reps: int) -> dict[str, Any]:
    n = MEMORY_TERMS
    nodes = 4 * n - 1
    a, b = wide_data(n)
    say(f"\nmemory: peak bytes per node (tracemalloc), build + backward of a balanced sum of "
        f"{n:,} products ({nodes:,} nodes); {reps} repetitions")

    def build(value_cls: Any) -> Callable[[], Any]:
        def run() -> Any:
            xs = [value_cls(v) for v in a]
            ys = [value_cls(v) for v in b]
            root = balanced_sum([x * y for x, y in zip(xs, ys, strict=True)])
            root.backward()
            assert xs[123].grad == b[123]
            assert ys[77].grad == a[77]
            return root

        return run

    engines: list[tuple[str, Callable[[], Any] | None, str]] = [
        (DYNAMIC, build(Value), ""),
        (MICROGRAD, build(opt.micrograd[0]) if opt.micrograd else None,
         opt.notes.get(MICROGRAD, "")),
    ]
    peaks: dict[str, list[int]] = {name: [] for name, run, _ in engines if run}
    failures: dict[str, str] = {}
    for _ in range(reps):
        for name, run, _ in engines:
            if run is None or name in failures:
                continue
            try:
                peaks[name].append(peak_bytes(run))
            except Exception as error:
                failures[name] = f"fails ({describe(error)})"
    rows = []
    for name, run, note in engines:
        if run is None:
            rows.append({"engine": name, "status": note or "skipped"})
        elif name in failures:
            rows.append({"engine": name, "status": failures[name]})
        else:
            peak = statistics.median(peaks[name])
            rows.append({"engine": name, "status": "ok", "peak_bytes": peak,
                         "peaks_bytes": peaks[name], "bytes_per_node": peak / nodes})
            say(f"  {name:24} {peak / nodes:7.1f} bytes per node (peak {peak / 2**20:.1f} MiB)")
    mg = next((r for r in rows if r["engine"] == MICROGRAD and r["status"] == "ok"), None)
    for r in rows:
        if mg and r["status"] == "ok":
            r["x_less_than_micrograd"] = mg["bytes_per_node"] / r["bytes_per_node"]
    rows.append({"engine": TORCH, "status": "not measured: tracemalloc does not see "
                                            "PyTorch's own allocations"})
    return {"workload": "memory",
            "description": f"The tracemalloc peak during build + backward of a balanced sum of "
                           f"{n:,} products: {2 * n:,} leaves, {n:,} products, {n - 1:,} sums "
                           f"= {nodes:,} nodes (as tests/test_memory.py)",
            "reps": reps, "nodes": nodes, "engines": rows}


# ---------------------------------------------------------------------------------------------
# Targets, machine, report
# ---------------------------------------------------------------------------------------------


def engine_row(results: dict[str, Any], workload: str, engine: str) -> dict[str, Any] | None:
    for r in results[workload]["engines"]:
        if r["engine"] == engine:
            return r  # type: ignore[no-any-return]
    return None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, threshold: str, measured: float | None, ok: bool | None,
            shown: str, why: str = "") -> None:
        out.append({"target": name, "threshold": threshold, "measured": measured,
                    "shown": shown, "status": ("pass" if ok else "FAIL") if ok is not None
                    else f"not measured{': ' + why if why else ''}"})

    dyn = engine_row(results, "mlp-step", DYNAMIC) or {}
    mg = engine_row(results, "mlp-step", MICROGRAD) or {}
    comp = engine_row(results, "mlp-step", COMPILED_SAMPLE) or {}
    whole = engine_row(results, "mlp-step", COMPILED) or {}
    speedup = dyn.get("speedup_over_micrograd")
    add("dynamic mlp-step vs micrograd", f"≥ {TARGET_SPEEDUP_OVER_MICROGRAD:g}× faster", speedup,
        None if speedup is None else speedup >= TARGET_SPEEDUP_OVER_MICROGRAD,
        f"{times(speedup)} faster" if speedup else "—", mg.get("status", "micrograd skipped"))
    binary = (engine_row(results, "mlp-step", DYNAMIC_BINARY) or {}).get(
        "speedup_over_micrograd")
    add("dynamic mlp-step in micrograd's own code vs micrograd",
        f"≥ {TARGET_BINARY_SPEEDUP_OVER_MICROGRAD:g}× faster", binary,
        None if binary is None else binary >= TARGET_BINARY_SPEEDUP_OVER_MICROGRAD,
        f"{times(binary)} faster" if binary else "—", mg.get("status", "micrograd skipped"))
    ratio = dyn.get("x_handwritten")
    add("dynamic mlp-step vs hand-written", f"≤ {TARGET_DYNAMIC_VS_HANDWRITTEN:g}× its time",
        ratio, None if ratio is None else ratio <= TARGET_DYNAMIC_VS_HANDWRITTEN,
        times(ratio) if ratio else "—")
    mem = engine_row(results, "memory", DYNAMIC) or {}
    per_node = mem.get("bytes_per_node")
    add("autograd_mini peak memory", f"≤ {TARGET_BYTES_PER_NODE:g} bytes/node", per_node,
        None if per_node is None else per_node <= TARGET_BYTES_PER_NODE,
        f"{per_node:.2f} bytes/node" if per_node else "—")
    long = results["chain-1e6"]["engines"][0]
    add("10⁶-step chain completes", "completes", long.get("median_s"), bool(long.get("completes")),
        f"completes in {long['median_s']:.1f} s" if long.get("completes") else long["status"])
    slowest = min((g["shared_over_fast"] for g in results["backward"]["graphs"]), default=None)
    add("fast backward() vs the shared walk", "faster on every graph", slowest,
        None if slowest is None else slowest > 1.0,
        f"the shared walk takes {times(slowest)} its time or more" if slowest else "—")
    explore = results["explore"]
    add("explore: the kernel's update, 30-node graph", f"≤ {TARGET_EXPLORE_UPDATE_MS:g} ms",
        explore["median_s"], explore["median_s"] * 1e3 <= TARGET_EXPLORE_UPDATE_MS,
        f"{ms(explore['median_s'])} ms ({explore['nodes']} nodes)")
    cratio = comp.get("x_handwritten")
    add("compiled mlp-step (per sample) vs hand-written",
        f"≤ {TARGET_COMPILED_VS_HANDWRITTEN:g}× its time",
        cratio, None if cratio is None else cratio <= TARGET_COMPILED_VS_HANDWRITTEN,
        times(cratio) if cratio else "—", comp.get("status", ""))
    took = comp.get("compile_s")
    add("compiling the per-sample trace", f"≤ {TARGET_COMPILE_S:g} s", took,
        None if took is None else took <= TARGET_COMPILE_S,
        f"{took * 1e3:.0f} ms" if took is not None else "—", comp.get("status", ""))
    peak, peak_whole = comp.get("compile_peak_bytes"), whole.get("compile_peak_bytes")
    share = peak / peak_whole if peak and peak_whole else None
    add("its compile memory vs the whole graph's", f"≤ {TARGET_COMPILE_MEMORY_SHARE:.0%}",
        share, None if share is None else share <= TARGET_COMPILE_MEMORY_SHARE,
        f"{share:.1%} ({peak / 2**20:.1f} MiB against {peak_whole / 2**20:.0f} MiB)"
        if share is not None else "—", whole.get("status", ""))
    return out


def _command(*args: str) -> str:
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=10,
                              check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"autograd_mini": autograd_mini.__version__}
    for package in ("micrograd", "torch"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    commit = _command("git", "rev-parse", "--short", "HEAD")
    dirty = bool(_command("git", "status", "--porcelain", "--untracked-files=no"))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "gc_enabled": gc.isenabled(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": (commit + (" (with uncommitted changes)" if dirty else "")) or None,
        "versions": versions,
    }


def finite(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None, so that the JSON is standard."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def times(x: float) -> str:
    """A ratio with three significant digits at most: 0.98×, 6.89×, 20.2×, 140×."""
    return f"{x:.2f}×" if x < 10 else f"{x:.1f}×" if x < 100 else f"{x:,.0f}×"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def ms(seconds: float) -> str:
    value = seconds * 1e3
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def timing_table(result: dict[str, Any]) -> list[str]:
    lines = ["| engine | median (ms) | min (ms) | × hand-written | speed-up over micrograd | "
             "note |", "|---|---:|---:|---:|---:|---|"]
    for r in result["engines"]:
        notes = [r.get("note", "")]
        if "compile_s" in r:
            lines_of = r.get("source_lines")
            peak = r.get("compile_peak_bytes")
            sizes = [f"{lines_of:,} lines" if lines_of else "",
                     f"{peak / 2**20:.1f} MiB at peak" if peak else ""]
            shown = ", ".join(x for x in sizes if x)
            notes.append(f"compiled once in {r['compile_s']:.3g} s"
                         + (f" ({shown})" if shown else "") + ", not timed")
        if "weights_max_abs_diff_after_steps" in r:
            notes.append(f"weights after the {r['reps'] + 1} steps within "
                         f"{r['weights_max_abs_diff_after_steps']:.1g} of hand-written")
        note = "; ".join(n for n in notes if n and n != r["status"])
        if r["status"] != "ok":
            lines.append(f"| {r['engine']} | {r['status']} | | | | {note} |")
            continue
        x_hw = times(r["x_handwritten"]) if "x_handwritten" in r else ""
        speed = times(r["speedup_over_micrograd"]) if "speedup_over_micrograd" in r else ""
        lines.append(f"| {r['engine']} | {ms(r['median_s'])} | {ms(r['min_s'])} | {x_hw} | "
                     f"{speed} | {note} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    res = report["results"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    load = m["load_average_at_start"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `benchmarks/bench.py` (`make bench`); do not edit by hand. How it measures: "
        "`benchmarks/README.md`.",
        "",
        f"- Date: {m['date']}",
        f"- Machine: {m['platform']}; {m['cpu']}; {m['cpu_count']} CPUs"
        + (f"; load average {load[0]:.2f} at the start" if load else ""),
        f"- Python: {m['python']}, garbage collector enabled: {m['gc_enabled']}",
        f"- Versions: {versions}" + (f"; autograd_mini at {m['git_commit']}"
                                     if m["git_commit"] else ""),
        "- Method: all engines in one process, round-robin (the order rotates every "
        "repetition); `gc.collect()` before each timing, outside it; medians.",
        "",
        "## Targets",
        "",
        "| target | threshold | measured | status |",
        "|---|---|---|---|",
        *(f"| {t['target']} | {t['threshold']} | {t['shown']} | {t['status']} |"
          for t in report["targets"]),
        "",
    ]
    titles = {"mlp-step": "mlp-step: micrograd's demo training step",
              "chain": f"chain: y = tanh(y·a + b), {CHAIN_STEPS:,} steps",
              "wide-sum": f"wide-sum: Σ xᵢ·yᵢ, {WIDE_TERMS:,} products"}
    for key, title in titles.items():
        r = res[key]
        lines += [f"## {title}", "", f"{r['description']}; median of "
                  f"{plural(r['reps'], 'repetition')} after one warm-up run.", "",
                  *timing_table(r), ""]
        if key == "mlp-step" and "loop" in r:
            loop = r["loop"]
            lines += [f"The same step {loop['steps']} times in a row, as a training loop runs "
                      "it: no `gc.collect()` between the steps, so freeing the previous step's "
                      f"graph is paid inside the loop. Time per step, median of "
                      f"{plural(loop['reps'], 'repetition')}; context only, the targets use "
                      "the table above. The last column runs the same loop with the cyclic "
                      "collector switched off (a diagnostic) to show the share of the step "
                      "that the collector takes.", "",
                      "| engine | per step (ms) | × hand-written | speed-up over micrograd | "
                      "collector's share |", "|---|---:|---:|---:|---:|"]
            for e in loop["engines"]:
                speed = times(e["speedup_over_micrograd"]) if "speedup_over_micrograd" in e else ""
                share = f"{e['gc_share']:.0%}" if "gc_share" in e else ""
                lines.append(f"| {e['engine']} | {ms(e['median_s'])} | "
                             f"{times(e['x_handwritten'])} | {speed} | {share} |")
            lines.append("")
        if key == "wide-sum":
            lines += ["The speed-up column is against micrograd's balanced sum, which builds "
                      "the same graph as autograd_mini's balanced row.", ""]
    long = res["chain-1e6"]["engines"][0]
    lines += [f"## chain: {LONG_CHAIN_STEPS:,} steps, autograd_mini dynamic", "",
              f"{res['chain-1e6']['description']} ({long['nodes']:,} nodes).", ""]
    if long.get("completes"):
        lines.append(f"Completes: yes, in {long['median_s']:.2f} s (median of "
                     f"{plural(long['reps'], 'run')} after a first, checked run); the gradients "
                     "equal the hand-written recursion's.")
    else:
        lines.append(f"Completes: no, {long['status']}.")
    mem = res["memory"]
    lines += ["", "## memory: peak bytes per node", "",
              f"{mem['description']}; median of {plural(mem['reps'], 'run')}.", "",
              "| engine | bytes per node | peak (MiB) | × less than micrograd |",
              "|---|---:|---:|---:|"]
    for r in mem["engines"]:
        if r["status"] != "ok":
            lines.append(f"| {r['engine']} | {r['status']} | | |")
            continue
        less = times(r["x_less_than_micrograd"]) if "x_less_than_micrograd" in r else ""
        lines.append(f"| {r['engine']} | {r['bytes_per_node']:.2f} | "
                     f"{r['peak_bytes'] / 2**20:.1f} | {less} |")
    back = res["backward"]
    lines += ["", "## backward: the fast float pass against the shared walk", "",
              f"{back['description']}; median of {plural(back['reps'], 'repetition')}.", "",
              "| graph | nodes | backward() (ms) | shared walk (ms) | shared / fast | "
              "max \\|Δgrad\\| |", "|---|---:|---:|---:|---:|---:|"]
    for g in back["graphs"]:
        lines.append(f"| {g['graph']} | {g['nodes']:,} | {ms(g['fast_s'])} | "
                     f"{ms(g['shared_s'])} | {times(g['shared_over_fast'])} | "
                     f"{g['max_abs_diff']:.1g} |")
    debug = res["debugging"]
    lines += ["", "## debugging: hooks and anomaly mode, on and off", "",
              f"{debug['description']}; median of {plural(debug['reps'], 'repetition')}.", "",
              "| the step | median (ms) | min (ms) | × the step with both off |",
              "|---|---:|---:|---:|"]
    for r in debug["engines"]:
        lines.append(f"| {r['engine']} | {ms(r['median_s'])} | {ms(r['min_s'])} | "
                     f"{times(r['x_off'])} |")
    lines += ["", "With both off, a node records nothing"
              f" ({'NO: it did' if debug['records_when_off'] else 'checked'}): its group "
              "slot stays unset, and the memory table above is the engine's whole cost. "
              "Inside `detect_anomaly()` a node built costs "
              f"{debug['anomaly_bytes_per_node']:.0f} bytes at peak, its creation site "
              "included."]
    ex = res["explore"]
    lines += ["", "## explore: the kernel's update after a slider moves", "",
              f"{ex['description']}; {plural(ex['reps'], 'point')} across x's range.", "",
              f"Median {ms(ex['median_s'])} ms, at most {ms(ex['max_s'])} ms."]
    lines += ["", "## Gradient checks", "",
              f"Before any timing, each engine's value and gradients against the hand-written "
              f"closed form (tolerance {TOLERANCE:g}; required for autograd_mini dynamic).", "",
              "| workload | engine | gradients | max \\|Δgrad\\| | \\|Δvalue\\| | ok |",
              "|---|---|---:|---:|---:|---|"]
    for c in report["checks"]:
        if c["ok"] is None:
            lines.append(f"| {c['workload']} | {c['engine']} | | {c['status']} | | |")
            continue
        lines.append(f"| {c['workload']} | {c['engine']} | {c['gradients']:,} | "
                     f"{c['max_abs_diff_grad']:.2g} | {c['abs_diff_value']:.2g} | "
                     f"{'yes' if c['ok'] else 'NO'} |")
    if report["notes"]:
        lines += ["", "## Notes", "", *(f"- {n}" for n in report["notes"])]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one repetition of everything (and no report unless --output)")
    parser.add_argument("--output", type=Path, default=None,
                        help="directory for benchmarks.md and benchmarks.json (default: docs/)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a measured target fails")
    args = parser.parse_args(argv)
    reps = dict.fromkeys(REPS, 1) if args.quick else dict(REPS)
    output = args.output or (None if args.quick else ROOT / "docs")

    info = machine()
    say(f"{info['python']} on {info['platform']}, {info['cpu_count']} CPUs, {info['date']}")
    opt = load_optional(use_torch=not args.no_torch)
    for note in opt.notes.values():
        say(f"  {note}")
    checks = Checks()
    started = perf_counter()
    results = {
        "mlp-step": bench_mlp_step(opt, checks, reps["mlp-step"]),
        # NOTE: right after mlp-step, in a process that has not yet built the big graphs of
        # the later workloads, so that its "off" row is comparable with mlp-step's
        "debugging": bench_debugging(checks, reps["debugging"]),
        "chain": bench_chain(opt, checks, reps["chain"]),
        "chain-1e6": bench_long_chain(checks, reps["chain-1e6"]),
        "wide-sum": bench_wide_sum(opt, checks, reps["wide-sum"]),
        "memory": bench_memory(opt, reps["memory"]),
        "backward": bench_backward(reps["backward"]),
        "explore": bench_explore(reps["explore"]),
    }
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    info["duration_s"] = perf_counter() - started
    notes = [f"{engine}: {note}" for engine, note in opt.notes.items()]
    notes += [
        "micrograd 0.1.0 has no tanh; the chain adds one in micrograd's own style (a "
        "`_backward` closure per node). Its backward is recursive, so deep graphs raise "
        "RecursionError.",
        "The engines' own graphs are dropped inside the timed call; for micrograd (reference "
        "cycles) the final collection happens in the untimed `gc.collect()` between timings.",
        "The hand-written step does the whole δ recursion for every sample, as the engines do, "
        "including samples whose hinge is flat (δ = 0).",
    ]
    report = {"machine": info, "parameters": {
        "mlp_sizes": list(SIZES), "points": N_POINTS, "alpha": ALPHA, "lr": LR,
        "chain": {"a": CHAIN_A, "b": CHAIN_B, "y0": CHAIN_Y0, "steps": CHAIN_STEPS,
                  "long_steps": LONG_CHAIN_STEPS},
        "wide_terms": WIDE_TERMS, "memory_terms": MEMORY_TERMS, "tolerance": TOLERANCE,
        "reps": reps}, "results": results, "checks": checks.rows, "notes": notes}
    report["targets"] = targets(results)

    say("\nTargets")
    for t in report["targets"]:
        say(f"  {t['target']:36} {t['threshold']:22} {t['shown']:28} {t['status']}")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        document = json.dumps(finite(report), indent=1, ensure_ascii=False, allow_nan=False)
        (output / "benchmarks.json").write_text(document + "\n", encoding="utf-8")
        (output / "benchmarks.md").write_text(markdown(report), encoding="utf-8")
        say(f"\nwrote {output / 'benchmarks.md'} and {output / 'benchmarks.json'} "
            f"({info['duration_s']:.0f} s)")
    failed = any(t["status"] == "FAIL" for t in report["targets"])
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
