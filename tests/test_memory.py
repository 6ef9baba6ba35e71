"""Memory: bytes per node at peak, and graphs freed without the cyclic garbage collector."""

from __future__ import annotations

import gc
import random
import tracemalloc

from autograd_mini import Value


def _balanced_sum(terms: list[Value]) -> Value:
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def test_peak_bytes_per_node_on_a_balanced_sum_of_products() -> None:
    # 100,000 products x_i·y_i summed pairwise: 200,000 inputs, 100,000 products and 99,999
    # sums. The input floats are the user's data and exist before measuring; every node, the
    # lists that hold them, and the backward pass are measured.
    n = 100_000
    rng = random.Random(0)
    a = [rng.uniform(-1, 1) for _ in range(n)]
    b = [rng.uniform(-1, 1) for _ in range(n)]
    tracemalloc.start()
    try:
        xs = [Value(v) for v in a]
        ys = [Value(v) for v in b]
        total = _balanced_sum([x * y for x, y in zip(xs, ys, strict=True)])
        total.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    nodes = 4 * n - 1
    assert peak / nodes <= 160, f"{peak / nodes:.1f} bytes per node"
    # the gradient is right too: ∂/∂x_i Σ x_j y_j = y_i
    assert xs[123].grad == b[123]
    assert ys[77].grad == a[77]


def test_graphs_are_freed_by_reference_counting_alone() -> None:
    # Every node is reachable only from its consumers: no cycles, so when the root goes the
    # whole graph goes, and the cyclic collector finds nothing to do.
    gc.collect()
    gc.disable()
    try:
        x = Value(0.3)
        y = x
        for _ in range(10_000):
            y = (y * x).tanh() + y.sin()
        y.backward()
        del y
        assert gc.collect() == 0
    finally:
        gc.enable()
