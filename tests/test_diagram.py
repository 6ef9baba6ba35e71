"""The network diagram: its structure, its numbers, its edges, its errors and its rendering.

Expected values never come from the diagram's own output:
- counts of circles and edges from the architecture (Σ nₗ units, Σ nₗ₋₁·nₗ weights);
- z, a, δ and C from :func:`autograd_mini.backprop.backprop`, the layer-wise equations in
  plain floats, or from a two-neuron network whose numbers are worked out by hand below;
- edge widths from the documented formula 0.5 + 4·|v|/max|v| on weights set by hand;
- the layout (order top to bottom, aligned columns) from Graphviz's own coordinates.
"""

from __future__ import annotations

import html
import math
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from autograd_mini import Value
from autograd_mini.backprop import LayerParams, backprop
from autograd_mini.diagram import EDGE_COLOURS, NetworkDiagram, diagram
from autograd_mini.nn import MLP
from autograd_mini.viz import render

# ---------------------------------------------------------------------------------------------
# Reading the DOT
# ---------------------------------------------------------------------------------------------


def weight_edges(source: str) -> dict[tuple[str, str], dict[str, str]]:
    """(tail, head) → attributes, for every edge that stands for a weight."""
    edges = {}
    for line in source.splitlines():
        match = re.match(r"\s*(\w+) -> (\w+) \[(.*)\]$", line)
        if match and "class=weight" in match[3]:
            attrs = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', match[3]))
            edges[match[1], match[2]] = {k: v.strip('"') for k, v in attrs.items()}
    return edges


def label_text(source: str, node: str) -> str:
    """The text of a node's HTML-like label, tags removed."""
    match = re.search(rf"^\s*{node} \[label=<(.*?</TABLE>)>", source, re.M)
    assert match, f"no node {node} in the DOT"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[1])).split())


def shown(source: str, node: str, symbol: str) -> float:
    """The number written after ``symbol`` (z, a, δ, b) in a node's label."""
    match = re.search(rf"(?:^|\s){symbol} (\S+)", label_text(source, node))
    assert match, f"{node} shows no {symbol}: {label_text(source, node)!r}"
    return float(match[1])


def closed_form(model: MLP, x: Sequence[float], y: Sequence[float], loss: str) -> Any:
    """The layer-wise equations on the model's weights, in plain floats."""
    layers = [LayerParams(W=[[w.data for w in n.w] for n in layer.neurons],
                          b=[n.b.data for n in layer.neurons], activation=layer.activation)
              for layer in model.layers]
    return backprop(layers, list(x), list(y), loss)


def tiny() -> MLP:
    """A relu neuron feeding a linear one: W¹ = [1, −1], b¹ = 0, W² = [2], b² = 1.

    At x = (3, 1), y = 4 with C = ½(a² − y)², by hand:
    z¹ = 3 − 1 = 2, a¹ = 2;  z² = 2·2 + 1 = 5 = a²;  C = ½(5 − 4)² = 0.5;
    δ² = a² − y = 1;  δ¹ = W²δ²·relu′(2) = 2;  ∂C/∂W¹ = δ¹x = (6, 2);  ∂C/∂W² = δ²a¹ = 2.
    """
    model = MLP(2, [1, 1])
    model.load_state_dict({"W1[1,1]": 1.0, "W1[1,2]": -1.0, "b1[1]": 0.0,
                           "W2[1,1]": 2.0, "b2[1]": 1.0})
    return model


def needs_engine() -> None:
    """Skip unless Graphviz can render: the ``dot`` program, or pygraphviz's wheel."""
    if shutil.which("dot") is None:
        pytest.importorskip("pygraphviz")


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("nin", "nouts", "circles", "weights"), [
    (2, [3, 1], 2 + 3 + 1, 2 * 3 + 3 * 1),
    (3, [4, 4, 2], 3 + 4 + 4 + 2, 3 * 4 + 4 * 4 + 4 * 2),
])
def test_one_circle_per_unit_and_one_edge_per_weight(nin: int, nouts: list[int], circles: int,
                                                      weights: int) -> None:
    source = diagram(MLP(nin, nouts)).source
    assert source.count("shape=circle") == circles
    assert source.count("class=input") == nin
    assert source.count("class=neuron") == sum(nouts)
    edges = weight_edges(source)
    assert len(edges) == weights
    sizes = [nin, *nouts]
    for layer in range(1, len(sizes)):
        for j in range(1, sizes[layer] + 1):
            for k in range(1, sizes[layer - 1] + 1):
                tail = f"x{k}" if layer == 1 else f"l{layer - 1}n{k}"
                assert (tail, f"l{layer}n{j}") in edges  # W^l_jk: from unit k to neuron j


def test_the_same_model_and_sample_give_the_same_dot() -> None:
    first = diagram(MLP(3, [4, 2], seed=4), [0.1, 0.2, 0.3], [1.0, 0.0]).source
    assert diagram(MLP(3, [4, 2], seed=4), [0.1, 0.2, 0.3], [1.0, 0.0]).source == first


def test_columns_have_headings_and_the_output_is_named() -> None:
    source = diagram(MLP(2, [3, 3, 1], activation="tanh")).source
    text = html.unescape(re.sub(r"<[^>]+>", " ", source))
    assert "rankdir=LR" in source
    assert source.count("rank=same") == 4  # input, two hidden layers, output
    for heading in ("input", "layer 1", "layer 2", "output", "layer 3 · linear", "tanh"):
        assert heading in text


def test_a_loss_node_takes_every_output_after_backward() -> None:
    model = MLP(2, [3, 2])
    source = diagram(model, [0.5, -1.0], [1.0, 0.0]).source
    into_loss = re.findall(r"^\s*(\w+) -> loss \[.*style=dashed", source, re.M)
    assert sorted(into_loss) == ["l2n1", "l2n2"]
    assert "loss" not in re.findall(r"^\s*(\w+) \[", diagram(model, [0.5, -1.0]).source, re.M)


# ---------------------------------------------------------------------------------------------
# The numbers
# ---------------------------------------------------------------------------------------------


def test_the_hand_worked_network() -> None:
    model = tiny()
    picture = model.draw([3.0, 1.0], [4.0])
    assert isinstance(picture, NetworkDiagram)
    source = picture.source
    assert (shown(source, "l1n1", "z"), shown(source, "l1n1", "a")) == (2.0, 2.0)
    assert (shown(source, "l2n1", "z"), shown(source, "l2n1", "a")) == (5.0, 5.0)
    assert (shown(source, "l1n1", "δ"), shown(source, "l2n1", "δ")) == (2.0, 1.0)
    assert (shown(source, "l1n1", "b"), shown(source, "l2n1", "b")) == (0.0, 1.0)
    assert "x₁ 3" in label_text(source, "x1")
    assert "C = 0.5 (squared_error)" in html.unescape(source)
    assert picture.cost == 0.5
    assert repr(picture) == ("<network diagram of MLP(2 → 1 relu → 1 linear), after backward: "
                             "C = 0.5 (squared_error)>")
    assert picture._repr_mimebundle_()["text/plain"].startswith(repr(picture))


@pytest.mark.parametrize(("activation", "output", "loss", "y"), [
    ("relu", "linear", "squared_error", [0.7, -0.2]),
    ("tanh", "sigmoid", "bce", [1.0, 0.0]),
    ("sigmoid", "softmax", "cross_entropy", [0.0, 1.0]),
])
def test_z_a_delta_are_the_layer_equations(activation: str, output: str, loss: str,
                                            y: list[float]) -> None:
    model = MLP(3, [4, 3, 2], activation=activation, output=output, init="normal", seed=5)
    x = [0.4, -1.2, 0.9]
    fp, grads = closed_form(model, x, y, loss)
    picture = diagram(model, x, y, loss, precision=12)
    for m, layer in enumerate(model.layers):
        for i in range(len(layer.neurons)):
            name = f"l{m + 1}n{i + 1}"
            assert shown(picture.source, name, "z") == pytest.approx(fp.z[m][i], abs=1e-10)
            assert shown(picture.source, name, "a") == pytest.approx(fp.a[m][i], abs=1e-10)
            assert shown(picture.source, name, "δ") == pytest.approx(grads.delta[m][i],
                                                                      abs=1e-10)
    assert picture.cost == pytest.approx(fp.loss, abs=1e-12)


def test_after_backward_the_grads_hold_this_samples_gradient() -> None:
    model = tiny()
    for _ in range(2):  # zeroed first each time: no accumulation across calls
        diagram(model, [3.0, 1.0], [4.0])
        assert [p.grad for p in model.parameters()] == [6.0, 2.0, 2.0, 2.0, 1.0]  # by hand


def test_a_forward_pass_alone_leaves_the_grads_and_shows_no_delta() -> None:
    model = tiny()
    for p in model.parameters():
        p.grad = 7.0
    picture = diagram(model, [3.0, 1.0])
    assert [p.grad for p in model.parameters()] == [7.0] * 5
    assert shown(picture.source, "l2n1", "z") == 5.0
    assert "δ" not in label_text(picture.source, "l2n1")
    assert picture.cost is None
    assert repr(picture).endswith("forward pass only>")


def test_without_a_sample_only_the_architecture_and_biases() -> None:
    model = tiny()
    model([3.0, 1.0])  # an earlier forward pass must not leak into the picture
    picture = diagram(model)
    text = label_text(picture.source, "l2n1")
    assert "z" not in text
    assert "b 1" in text
    assert repr(picture) == "<network diagram of MLP(2 → 1 relu → 1 linear)>"


def test_precision_and_title() -> None:
    model = MLP(1, [1], output="linear")
    model.load_state_dict({"W1[1,1]": 1.0, "b1[1]": 0.0})
    x = [1 / 3]  # z = a = 1/3
    assert shown(diagram(model, x).source, "l1n1", "z") == 0.3333
    assert shown(diagram(model, x, precision=2).source, "l1n1", "z") == 0.33
    assert "My XOR net" in diagram(model, title="My XOR net").source


def test_values_as_inputs_and_a_loss_function() -> None:
    model = tiny()
    x = [Value(3.0, label="x1"), Value(1.0, label="x2")]

    def half_squares(outputs: Sequence[Value], target: Sequence[float]) -> Value:
        d = outputs[0] - target[0]
        return 0.5 * d * d

    picture = diagram(model, x, [4.0], half_squares)
    assert picture.loss == "half_squares"
    assert picture.cost == 0.5
    assert shown(picture.source, "l1n1", "δ") == 2.0
    assert x[0].grad == 2.0  # ∂C/∂x₁ = W¹₁₁ δ¹ = 1·2, by hand


# ---------------------------------------------------------------------------------------------
# Edges
# ---------------------------------------------------------------------------------------------


def hand_weights() -> MLP:
    model = MLP(3, [2])
    model.load_state_dict({"W1[1,1]": 0.5, "W1[1,2]": -2.0, "W1[1,3]": 0.0, "b1[1]": 0.0,
                           "W1[2,1]": 1.0, "W1[2,2]": -0.25, "W1[2,3]": 4.0, "b1[2]": 0.0})
    return model


def test_edge_width_and_colour_follow_the_weight() -> None:
    edges = weight_edges(diagram(hand_weights()).source)
    # width = 0.5 + 4·|w|/max|w| with max |w| = 4, so 0.5 + |w|
    expected = {("x1", "l1n1"): 0.5, ("x2", "l1n1"): -2.0, ("x3", "l1n1"): 0.0,
                ("x1", "l1n2"): 1.0, ("x2", "l1n2"): -0.25, ("x3", "l1n2"): 4.0}
    for edge, w in expected.items():
        assert float(edges[edge]["penwidth"]) == pytest.approx(0.5 + abs(w), abs=0.01)
        sign = "positive" if w > 0 else "negative" if w < 0 else "zero"
        assert edges[edge]["color"].startswith(EDGE_COLOURS[sign])
    assert len(set(EDGE_COLOURS.values())) == 3


def test_edges_by_gradient() -> None:
    # By hand (tiny()): ∂C/∂W = 6, 2 (layer 1) and 2 (layer 2), all positive, max 6.
    picture = diagram(tiny(), [3.0, 1.0], [4.0], edges="grad")
    edges = weight_edges(picture.source)
    widths = {edge: float(attrs["penwidth"]) for edge, attrs in edges.items()}
    assert widths[("x1", "l1n1")] == pytest.approx(4.5, abs=0.01)
    assert widths[("x2", "l1n1")] == pytest.approx(0.5 + 4 * 2 / 6, abs=0.01)
    assert widths[("l1n1", "l2n1")] == pytest.approx(0.5 + 4 * 2 / 6, abs=0.01)
    assert all(a["color"].startswith(EDGE_COLOURS["positive"]) for a in edges.values())
    # by weight instead: |w| = 1, 1, 2 and x₂'s weight is negative
    by_weight = weight_edges(diagram(tiny(), [3.0, 1.0], [4.0]).source)
    assert by_weight[("x2", "l1n1")]["color"].startswith(EDGE_COLOURS["negative"])
    assert float(by_weight[("l1n1", "l2n1")]["penwidth"]) == pytest.approx(4.5, abs=0.01)
    assert "∂C/∂W = 6" in by_weight[("x1", "l1n1")]["tooltip"]


def test_a_dead_neuron_has_grey_gradient_edges() -> None:
    model = tiny()
    model.load_state_dict({"W1[1,1]": -1.0, "W1[1,2]": -1.0, "b1[1]": 0.0,
                           "W2[1,1]": 2.0, "b2[1]": 1.0})  # z¹ = −4 < 0: relu′ = 0, so δ¹ = 0
    edges = weight_edges(diagram(model, [3.0, 1.0], [4.0], edges="grad").source)
    assert edges[("x1", "l1n1")]["color"] == EDGE_COLOURS["zero"]
    assert float(edges[("x1", "l1n1")]["penwidth"]) == 0.5


def test_the_legend_says_what_the_picture_means() -> None:
    text = html.unescape(diagram(tiny(), [3.0, 1.0], [4.0], edges="grad").source)
    for phrase in ("δ = ∂C/∂z", "a = σ(z)", "∂C/∂W > 0", "∂C/∂W < 0", "width",
                   "|∂C/∂W| = 6"):
        assert phrase in text
    assert "δ = ∂C/∂z" not in html.unescape(diagram(tiny(), [3.0, 1.0]).source)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class Wrapped:
    """An MLP-like model that is not an MLP: diagram() only duck-types."""

    def __init__(self, model: MLP) -> None:
        self.inner = model
        self.nin = model.nin
        self.layers = model.layers

    def zero_grad(self) -> None:
        self.inner.zero_grad()

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self.inner(x)


def test_any_mlp_like_model() -> None:
    picture = diagram(Wrapped(tiny()), [3.0, 1.0], [4.0])
    assert isinstance(picture, NetworkDiagram)
    assert repr(picture).startswith("<network diagram of Wrapped(2 → 1 relu → 1 linear)")
    assert shown(picture.source, "l1n1", "δ") == 2.0


@pytest.mark.parametrize("model", [42, "MLP", Value(1.0), object(), [MLP(2, [1])]])
def test_not_a_model(model: Any) -> None:
    with pytest.raises(TypeError, match="MLP-like"):
        diagram(model)


def test_a_model_with_a_malformed_layer() -> None:
    model = Wrapped(MLP(2, [2, 1]))
    model.nin = 3  # but the first layer's neurons have 2 weights each
    with pytest.raises(TypeError, match="neuron 1 of layer 1 should have 3 weights"):
        diagram(model)


def test_x_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match=r"takes 2 inputs \(nin = 2\), but x has 3"):
        diagram(MLP(2, [3, 1]), [1.0, 2.0, 3.0])


def test_y_without_x() -> None:
    with pytest.raises(ValueError, match="needs a sample x"):
        diagram(MLP(2, [3, 1]), y=[1.0])


def test_gradient_edges_need_y() -> None:
    with pytest.raises(ValueError, match="target y"):
        diagram(MLP(2, [3, 1]), [1.0, 2.0], edges="grad")
    with pytest.raises(ValueError, match="target y"):
        diagram(MLP(2, [3, 1]), edges="grad")


def test_an_unknown_loss_is_refused_before_anything_runs() -> None:
    model = tiny()
    for p in model.parameters():
        p.grad = 7.0
    with pytest.raises(ValueError, match="unknown loss 'nope'; choose from squared_error"):
        diagram(model, [3.0, 1.0], [4.0], loss="nope")
    assert [p.grad for p in model.parameters()] == [7.0] * 5


def test_bad_options() -> None:
    model = MLP(2, [3, 1])
    with pytest.raises(TypeError, match="unexpected option 'colour'"):
        diagram(model, colour="red")
    with pytest.raises(ValueError, match="edges must be 'w'"):
        diagram(model, edges="weights")
    for name in ("precision", "max_neurons"):
        for bad in (0, -1, 2.5, True):
            option: dict[str, Any] = {name: bad}
            with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
                diagram(model, **option)


def test_a_layer_too_large_is_refused_with_what_to_do() -> None:
    model = MLP(2, [70, 1])
    with pytest.raises(ValueError, match=r"layer 1 has 70 neurons, more than max_neurons=64.*"
                                         r"max_neurons=70 to draw it anyway"):
        diagram(model)
    with pytest.raises(ValueError, match="the input has 5 units, more than max_neurons=4"):
        diagram(MLP(5, [2]), max_neurons=4)
    assert diagram(model, max_neurons=70).source.count("class=neuron") == 71


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def test_save_dot_needs_no_engine(tmp_path: Path) -> None:
    picture = diagram(MLP(2, [3, 1]))
    target = picture.save(tmp_path / "n.dot")
    assert target.read_text(encoding="utf-8") == picture.source


def test_svg_and_png(tmp_path: Path) -> None:
    needs_engine()
    picture = diagram(MLP(2, [3, 1], seed=1), [0.5, -1.0], [1.0])
    svg = picture.svg()
    assert "<svg" in svg
    assert svg.count('class="edge weight"') == 9  # the edges keep their class in SVG
    png = picture.save(tmp_path / "n.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "image/svg+xml" in picture._repr_mimebundle_()


@pytest.mark.parametrize(("nin", "nouts", "with_y"), [
    (2, [3, 1], True), (3, [4, 4, 2], True), (1, [5, 2], False), (4, [1, 3], True),
])
def test_layout_columns_in_order(nin: int, nouts: list[int], with_y: bool) -> None:
    """Graphviz's coordinates: each column at one x, left to right; within it the heading on
    top and units 1, 2, … from top to bottom; all headings level."""
    needs_engine()
    model = MLP(nin, nouts, seed=2)
    x = [0.1 * (k + 1) for k in range(nin)]
    y = [0.5] * nouts[-1] if with_y else None
    plain = render(diagram(model, x, y).source, "plain").decode("utf-8")
    place = {parts[1]: (float(parts[2]), float(parts[3]))
             for parts in (line.split() for line in plain.splitlines()) if parts[0] == "node"}
    sizes = [nin, *nouts]
    column_x = []
    for c, n in enumerate(sizes):
        names = [f"head{c}"] + [f"x{k}" if c == 0 else f"l{c}n{k}" for k in range(1, n + 1)]
        xs = {round(place[name][0], 3) for name in names}
        assert len(xs) == 1, f"column {c} is not aligned"
        column_x.append(xs.pop())
        ys = [place[name][1] for name in names]  # plain's y grows upwards
        assert ys == sorted(ys, reverse=True), f"column {c} is out of order"
    assert column_x == sorted(column_x)
    heads = [place[f"head{c}"][1] for c in range(len(sizes) + (1 if with_y else 0))]
    assert max(heads) - min(heads) < 1e-6
    if with_y:
        assert place["loss"][0] > column_x[-1]
    if with_y and nouts[-1] == 1:  # the loss node level with the one output
        assert math.isclose(place["loss"][1], place[f"l{len(nouts)}n1"][1], abs_tol=1e-6)


def test_the_diagram_is_right_inside_no_grad_and_checks_y_first() -> None:
    from autograd_mini import no_grad
    from autograd_mini.backprop import LayerParams, backprop

    model = MLP(2, [3, 1], activation="tanh", seed=2)
    with no_grad():
        picture = model.draw([0.5, -1.0], [1.0])
    layers = [LayerParams(W=[[w.data for w in n.w] for n in layer.neurons],
                          b=[n.b.data for n in layer.neurons], activation=layer.activation)
              for layer in model.layers]
    _, grads = backprop(layers, [0.5, -1.0], [1.0], "squared_error")
    for l_index, j, neuron in model.neurons():
        assert neuron.z is not None
        assert neuron.z.grad == pytest.approx(grads.delta[l_index - 1][j - 1], rel=1e-12)
    assert "after backward" in repr(picture)
    for p in model.parameters():
        p.grad = 7.0
    with pytest.raises(ValueError, match="has 1 outputs, but y has 2"):
        model.draw([0.5, -1.0], [1.0, 0.0])
    assert all(p.grad == 7.0 for p in model.parameters())  # refused before zero_grad
