"""The live explorer: its kernel side (:class:`~autograd_mini.explore.Explorer`) and the
widget's state, driven as the page drives it, by setting traits.

Expected numbers are closed forms worked by hand: for f(x1, x2) = x1·x2 + exp(x1·x2) − sin x2,
∂f/∂x1 = x2·(1 + e^(x1·x2)) and ∂f/∂x2 = x1·(1 + e^(x1·x2)) − cos x2.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from autograd_mini import Value
from autograd_mini.explore import Explorer, explore

pytest.importorskip("anywidget")


def f(x1: Value, x2: Value) -> Value:
    v = x1 * x2
    return v + v.exp() - x2.sin()


def closed_form(x1: float, x2: float) -> dict[str, float]:
    e = math.exp(x1 * x2)
    return {"x1": x2 * (1 + e), "x2": x1 * (1 + e) - math.cos(x2)}


@pytest.mark.parametrize("point", [(2.0, 5.0), (0.5, -1.0), (1.25, 0.0), (-2.0, 3.0)])
def test_moving_a_slider_updates_the_gradient_to_the_closed_form(point: tuple[float, ...]
                                                                 ) -> None:
    w = explore(f, x1=(-3, 3, 1.0), x2=(-6, 6, 1.0))
    w.values = {"x1": point[0], "x2": point[1]}
    expected = closed_form(*point)
    assert w.gradient.keys() == expected.keys()
    for name, g in expected.items():
        assert w.gradient[name] == pytest.approx(g, rel=1e-12)
    v = point[0] * point[1]
    assert w.value == pytest.approx(v + math.exp(v) - math.sin(point[1]), rel=1e-12)
    assert w.error == ""
    assert "<svg" in w.svg
    assert "Adjoint trace" in w.tables


def test_a_click_writes_the_chain_rule_with_the_current_numbers() -> None:
    w = explore(f, x1=(0, 3, 2.0), x2=(0, 6, 5.0))
    w.selected = "v1"  # v₁ = v₋₁ · v₀, read by v₃ = v₁ + v₂ and v₂ = exp(v₁)
    x = w.expansion
    # v̄₁ = v̄₃ · 1 + v̄₂ · e^(v₁) = 1 + e¹⁰ = 22027.47
    assert x["adjoint"] == "v̄₁ = v̄₃ · 1 + v̄₂ · v₂ = 1 · 1 + 1 · 22026.5 = 22027.5"
    # v̇₁ = ∂v₁/∂v₋₁ · v̇₋₁ + ∂v₁/∂v₀ · v̇₀ = x2 · 1 + x1 · 0 = 5
    assert x["tangent"] == "v̇₁ = v₀ · v̇₋₁ + v₋₁ · v̇₀ = 5 · 1 + 2 · 0 = 5"
    assert x["consumers"] == ["v3", "v2"]
    w.wrt = "x2"  # now v̇₁ = x2 · 0 + x1 · 1 = 2
    assert w.expansion["tangent"] == "v̇₁ = v₀ · v̇₋₁ + v₋₁ · v̇₀ = 5 · 0 + 2 · 1 = 2"
    w.values = {"x1": 1.0, "x2": 2.0}  # v̄₁ = 1 + e² = 8.38906
    assert w.expansion["adjoint"] == "v̄₁ = v̄₃ · 1 + v̄₂ · v₂ = 1 · 1 + 1 · 7.38906 = 8.38906"
    w.selected = "v1_op"  # a click on the op's circle means its node
    assert w.expansion["node"] == "v1"
    w.selected = "v5"  # the root: the seed
    assert w.expansion["adjoint"] == "v̄₅ = 1, the seed: ∂f/∂f = 1"


def test_an_error_shows_its_message_and_keeps_the_last_good_picture() -> None:
    w = explore(lambda x: (x - 1).log(), x=(0.0, 4.0, 3.0))
    svg, gradient = w.svg, dict(w.gradient)
    assert gradient["x"] == pytest.approx(1 / (3.0 - 1), rel=1e-15)  # d/dx log(x − 1)
    w.values = {"x": 0.5}  # log of −0.5
    assert w.error.startswith("DomainError: log: log is defined only for x > 0")
    assert (w.svg, w.gradient) == (svg, gradient)
    w.values = {"x": 2.0}
    assert w.error == ""
    assert w.gradient["x"] == pytest.approx(1.0, rel=1e-15)  # 1/(2 − 1)


def _boxes(svg: str) -> dict[str, str]:
    """Each node's title and the first coordinates of its shape: where it is drawn."""
    out = {}
    for title, shape in re.findall(r"<title>([^<]+)</title>\s*<(?:path|polygon|ellipse)[^>]*?"
                                   r"(?:points|d|cx)=\"([^\"]{0,24})", svg):
        out[title] = shape
    return out


def test_the_layout_does_not_move_as_the_numbers_change() -> None:
    w = explore(f, x1=(-3, 3, 1.0), x2=(-6, 6, 1.0))
    first = _boxes(w.svg)
    assert len(first) >= 10
    for point in [(2.9, -5.9), (-0.001, 0.123456789), (3.0, 6.0)]:
        w.values = {"x1": point[0], "x2": point[1]}
        assert _boxes(w.svg) == first


def test_the_step_data_follow_the_backward_pass() -> None:
    e = Explorer(f, {"x1": (0.0, 3.0, 2.0), "x2": (0.0, 6.0, 5.0)})
    steps = e.steps()
    # one frame per node, root first: v5 … v1, then the inputs x2 (v0), x1 (v−1)
    assert [frame["node"] for frame in steps["frames"]] == ["v5", "v4", "v3", "v2", "v1",
                                                             "v0", "vm1"]
    assert steps["blank"].startswith("grad ")
    # by the last frame every value node has been given its final adjoint line
    last: dict[str, str] = {}
    for frame in steps["frames"]:
        for name, text, partial in frame["set"]:
            last[name] = text
            assert not (partial and frame is steps["frames"][-1])
    assert last["vm1"] == "grad 110137"  # x2(1 + e¹⁰), six digits


def test_the_html_fallback_shows_the_current_values() -> None:
    w = explore(f, x1=(0, 3, 2.0), x2=(0, 6, 5.0))
    bundle: Any = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    page = data["text/html"]
    assert "x1 = 2, x2 = 5" in page
    assert "∂f/∂x1 = 110137" in page
    assert "<svg" in page
    assert "Adjoint trace" in page
    assert "application/vnd.jupyter.widget-view+json" in data


@pytest.mark.parametrize(("ranges", "error"), [
    ({}, TypeError),
    ({"x": (1.0,)}, TypeError),
    ({"x": (2.0, 1.0)}, ValueError),
    ({"x": (0.0, 1.0, 5.0)}, ValueError),
    ({"x": (0.0, math.inf)}, ValueError),
    ({"x": ("a", 1.0)}, TypeError),
])
def test_bad_ranges_are_refused_with_a_clear_error(ranges: dict[str, Any],
                                                   error: type[Exception]) -> None:
    with pytest.raises(error, match="explore"):
        Explorer(lambda x: x * x, ranges)


def test_a_function_that_fails_at_its_start_or_a_bad_wrt_is_refused() -> None:
    with pytest.raises(ValueError, match="f fails at the start"):
        Explorer(lambda x: x.log(), {"x": (-2.0, 1.0, -1.0)})
    with pytest.raises(ValueError, match="wrt must be one of the inputs"):
        Explorer(lambda x: x * x, {"x": (0.0, 1.0)}, wrt="y")


def test_a_network_sample_with_its_diagram() -> None:
    from autograd_mini import no_grad
    from autograd_mini.nn import MLP

    model = MLP(2, [3, 1], seed=4)
    w = explore(model, [0.5, -1.0], [1.0], "squared_error")
    assert [spec["name"] for spec in w.inputs] == ["a1", "a2"]
    assert (w.inputs[0]["lo"], w.inputs[0]["hi"]) == (-1.5, 2.5)  # x ± 2

    def cost(a1: float, a2: float) -> float:  # C = ½ (y − a)², on floats
        with no_grad():
            out = model([Value(a1), Value(a2)])[0].data
        return 0.5 * (1.0 - out) ** 2

    for point in [(0.5, -1.0), (1.2, 0.3)]:
        w.values = {"a1": point[0], "a2": point[1]}
        h = 1e-6
        for k, name in enumerate(["a1", "a2"]):
            up = list(point)
            down = list(point)
            up[k] += h
            down[k] -= h
            numeric = (cost(*up) - cost(*down)) / (2 * h)  # a central difference
            assert w.gradient[name] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
        assert w.value == pytest.approx(cost(*point), rel=1e-12)
        assert "<svg" in w.diagram
    assert "neuron" in w.svg  # the graph is drawn with each neuron folded
    with pytest.raises(TypeError, match="give the sample x"):
        explore(model, [0.5, -1.0])
