"""Pictures of real networks: groups, folding, depth, stop_at, colour by |grad|, honest labels.

The node and edge counts are worked out by hand from the architecture. For an MLP
n₀ → n₁ → … → n_L (relu hidden layers, a linear output of m = n_L units) on one sample, with
the squared-error loss C = ½ Σ (a_k − y_k)² = 0.5 · dot(d, d, 0):

* unfolded, the picture has n₀ input constants; per neuron of layer l its n_{l−1} weights, its
  bias, z and, for a relu layer, a; and the loss's m differences, m targets, the dot, its
  constant bias 0, the product and its 0.5: 2m + 4 nodes;
* folded to neurons, each neuron is one box: n₀ + Σ n_l + 2m + 4;
* folded to layers, each layer is one box: n₀ + L + 2m + 4.

Edges into the loss: y_k → −, − → d_k, d_k → Σ twice, 0 → Σ, Σ → v, 0.5 → ·, v → ·, · → C:
4m + 5.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from autograd_mini import Value, draw, group, no_grad
from autograd_mini.backprop import Gradients, LayerParams, backprop
from autograd_mini.engine import group_of
from autograd_mini.losses import squared_error
from autograd_mini.nn import MLP
from autograd_mini.viz import COLOURS, GraphTooLargeError, to_dot


def network(sizes: list[int], nin: int = 2) -> tuple[MLP, Value]:
    model = MLP(nin, sizes, seed=3)
    cost = squared_error(model([0.5, -1.0, 0.25][:nin]), [1.0] * sizes[-1])
    cost.backward()
    return model, cost


def boxes(source: str) -> int:
    """Folded groups: the only nodes drawn with a double border."""
    return source.count("peripheries=2")


def nodes(source: str) -> int:
    """Value nodes (boxes, constants, folded groups), leaving out op circles, cut markers,
    and the legend."""
    names = re.findall(r"^\t+(\w+) \[", source, flags=re.M)
    return sum(1 for n in names if not n.endswith(("_op", "_cut"))
               and n not in ("legend", "graph", "node", "edge"))


def edges(source: str) -> int:
    """Visible edges: the invisible ones only keep a column in order."""
    return sum(1 for line in source.splitlines()
               if " -> " in line and "style=invis" not in line)


def unfolded(n0: int, sizes: list[int]) -> int:
    layers = [n0, *sizes]
    total = n0
    for l_index in range(1, len(layers)):
        relu = 1 if l_index < len(layers) - 1 else 0
        total += layers[l_index] * (layers[l_index - 1] + 2 + relu)
    return total + 2 * sizes[-1] + 4


@pytest.mark.parametrize("sizes", [[3, 1], [4, 3, 1], [16, 16, 1]])
def test_node_counts_at_each_level_match_the_architecture(sizes: list[int]) -> None:
    _, cost = network(sizes)
    m = sizes[-1]
    big = 10_000
    full = to_dot(cost, max_nodes=big)
    assert nodes(full) == unfolded(2, sizes)
    assert boxes(full) == 0
    by_neuron = to_dot(cost, collapse="neuron", max_nodes=big)
    assert nodes(by_neuron) == 2 + sum(sizes) + 2 * m + 4
    assert boxes(by_neuron) == sum(sizes)
    by_layer = to_dot(cost, collapse="layer", max_nodes=big)
    assert nodes(by_layer) == 2 + len(sizes) + 2 * m + 4
    assert boxes(by_layer) == len(sizes)


def test_edge_counts_of_a_2_3_1_network() -> None:
    _, cost = network([3, 1])
    # unfolded: a relu neuron of layer 1 has 2 weights, 2 inputs and a bias into its Σ, Σ → z,
    # z → relu, relu → a: 8 edges; the linear output neuron 3 + 3 + 1 into Σ and Σ → z: 8;
    # the loss 1 (its output a into −) + 4·1 + 5 = 10
    assert edges(to_dot(cost)) == 3 * 8 + 8 + 10
    # by neuron: each input constant into each layer-1 box (2·3), each layer-1 box into the
    # output's box (3), the output's box into − (1), and the loss's 9 others
    assert edges(to_dot(cost, collapse="neuron")) == 6 + 3 + 1 + 9
    # by layer: 2 inputs into layer 1, layer 1 into layer 2, layer 2 into −, the loss's 9
    assert edges(to_dot(cost, collapse="layer")) == 2 + 1 + 1 + 9
    # folding the loss alone: everything else open, and one edge from the output's z into it
    loss_only = to_dot(cost, collapse="loss")
    assert boxes(loss_only) == 1
    assert edges(loss_only) == 3 * 8 + 8 + 1


def test_groups_are_clusters_when_open() -> None:
    _, cost = network([3, 1])
    source = to_dot(cost)
    # two layers, four neurons and the loss: seven clusters
    assert len(re.findall(r"subgraph cluster_", source)) == 7
    assert 'label="neuron 2 of layer 1"' in source
    assert 'label="loss: squared_error"' in source
    by_neuron = to_dot(cost, collapse="neuron")
    assert len(re.findall(r"subgraph cluster_", by_neuron)) == 3  # the layers and the loss


def closed_form(model: MLP, x: list[float], y: list[float]) -> Gradients:
    """δ, ∂C/∂W by the layer-wise equations in plain floats (autograd_mini.backprop)."""
    layers = [LayerParams(W=[[w.data for w in n.w] for n in layer.neurons],
                          b=[n.b.data for n in layer.neurons], activation=layer.activation)
              for layer in model.layers]
    return backprop(layers, x, y, "squared_error")[1]


def test_a_folded_neuron_shows_z_a_delta_and_its_parameters() -> None:
    model, cost = network([3, 1])
    source = to_dot(cost, collapse="neuron")
    neuron = model.layers[0].neurons[1]
    label = re.search(r'label="(neuron 2 of layer 1[^"]*)"', source)
    assert label is not None
    text = label.group(1)
    assert "relu neuron" in text
    # z = w·x + b and a = relu(z), computed here from the weights
    z = sum(w.data * x for w, x in zip(neuron.w, [0.5, -1.0], strict=True)) + neuron.b.data
    assert f"z {z:.6g}" in text
    assert f"a {max(z, 0.0):.6g}".replace("-0", "0") in text
    assert "3 parameters" in text
    # δ from the closed-form recursion; ∂C/∂w_k = δ·x_k, so |∂C/∂w| = |δ|·√(0.25 + 1)
    delta = closed_form(model, [0.5, -1.0], [1.0]).delta[0][1]
    shown_delta = float(re.search(r"δ (\S+)", text).group(1))  # type: ignore[union-attr]
    assert shown_delta == pytest.approx(delta, rel=1e-5, abs=1e-12)
    shown = float(re.search(r"\|∂C/∂w\| (\S+)", text).group(1))  # type: ignore[union-attr]
    assert shown == pytest.approx(abs(delta) * 1.25 ** 0.5, rel=1e-5, abs=1e-12)


def test_a_folded_softmax_neuron_does_not_call_z_its_activation() -> None:
    from autograd_mini.losses import cross_entropy

    model = MLP(2, [3, 2], output="softmax", seed=1)
    cost = cross_entropy(model([0.5, -1.0]), [0.0, 1.0])
    cost.backward()
    source = to_dot(cost, collapse="neuron")
    label = re.search(r'label="(neuron 1 of layer 2[^"]*)"', source)
    assert label is not None
    assert "a: the layer's softmax" in label.group(1)
    assert "   a -" not in label.group(1)
    assert not re.search(r"   a \d", label.group(1))


def test_a_group_block_reads_its_state_when_entered() -> None:
    x = Value(2.0, label="x")
    made_outside = group("outside")
    with no_grad(), made_outside:
        y = x * x
    assert y.op is None  # no_grad wins: nothing recorded, nothing tagged
    with no_grad():
        made_inside = group("inside")
    with made_inside as g:
        y = x * x
    assert y.op == "mul"
    assert group_of(y) is g
    inner = group("inner")
    with group("outer") as o, inner as i:
        y = x * x
    assert i.parent is o
    assert group_of(y) is i
    again = group("again")  # entered twice, nested: two groups, the second inside the first
    with again as first, again as second:
        y = x * x
    assert second.parent is first
    assert group_of(y) is second
    with pytest.raises(TypeError, match="name must be a str or a Group"):
        group(3)  # type: ignore[arg-type]


def test_a_group_block_can_be_shared_by_threads() -> None:
    import threading

    shared = group("shared")
    seen: list[bool] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        x = Value(1.0)
        with shared as g:
            barrier.wait()  # all four threads inside the block at once
            y = x + 1.0
        seen.append(group_of(y) is g and group_of(x + 1.0) is None)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [True] * 4


def test_losses_take_keywords_as_before() -> None:
    from autograd_mini.losses import l2

    a = Value(3.0)
    assert squared_error(outputs=[a], target=[1.0]).data == 2.0  # ½ (3 − 1)²
    assert l2([a], alpha=0.5).data == 4.5  # 0.5 · 3²


def test_a_model_is_freed_by_reference_counting_alone() -> None:
    import gc
    import pickle
    import weakref

    gc.collect()
    gc.disable()
    try:
        model = MLP(2, [16, 16, 1])
        cost = squared_error(model([0.5, -1.0]), [1.0])
        cost.backward()
        probe = weakref.ref(model.layers[0])
        del model, cost
        assert probe() is None  # no cycle through the groups
        assert gc.collect() == 0
    finally:
        gc.enable()
    # a parameter pickles with its group, which refers to no module
    w = MLP(2, [3, 1]).parameters()[0]
    copy = pickle.loads(pickle.dumps(w))
    assert copy.data == w.data
    assert group_of(copy) is not None
    assert group_of(copy).name == "neuron 1 of layer 1"


def test_above_max_nodes_the_picture_folds_to_the_finest_level_that_fits() -> None:
    _, cost = network([16, 16, 1])
    source = to_dot(cost)  # 410 nodes, above the default max_nodes
    assert boxes(source) == 33
    assert "folded to neurons" in source
    assert f"would have {unfolded(2, [16, 16, 1])} nodes, more than max_nodes=200" in source
    # neurons folded: 2 + 33 + 6 = 41 nodes; with max_nodes 40 only layers fit
    assert nodes(to_dot(cost, max_nodes=41)) == 41
    coarser = to_dot(cost, max_nodes=40)
    assert "folded to layers" in coarser
    assert boxes(coarser) == 3
    # everything folded: 2 inputs, 3 layers, and the loss with its constants inside: 6
    assert nodes(to_dot(cost, max_nodes=6)) == 6
    with pytest.raises(GraphTooLargeError, match=r"and 6 with every group folded.*max_nodes=5"):
        to_dot(cost, max_nodes=5)
    # below the limit nothing is folded, and the caption says nothing
    small = to_dot(network([3, 1])[1])
    assert boxes(small) == 0
    assert "folded" not in small


def test_a_graph_without_groups_is_refused_with_what_to_do() -> None:
    x = Value(0.1, label="x")
    y = x
    for _ in range(120):
        y = y * 1.01
    with pytest.raises(GraphTooLargeError, match=r"241 nodes.*depth=.*stop_at=.*max_nodes=241"):
        to_dot(y)
    with pytest.raises(ValueError, match=r"collapse='neuron' names no group.*it has no groups"):
        to_dot(y, collapse="neuron", max_nodes=1000)


def trace_example() -> tuple[Value, Value, Value, Value]:
    """Bishop and Bishop's evaluation-trace example: x1·x2 + exp(x1·x2) − sin(x2)."""
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    v = x1 * x2
    return x1, x2, v, v + v.exp() - x2.sin()


def test_depth_draws_what_is_near_the_root_and_marks_the_cut() -> None:
    *_, f = trace_example()
    source = to_dot(f, depth=1)
    # v5 = v3 − v4, and its two operands; below them v1, v2 (for v3) and x2 (for v4) are cut
    assert nodes(source) == 3
    assert "⋯ 2 not drawn" in source
    assert "⋯ 1 not drawn" in source
    assert nodes(to_dot(f, depth=0)) == 1
    # the names stay those of the whole trace: the root is v5
    assert "v5 [" in source
    assert nodes(to_dot(f, depth=10)) == nodes(to_dot(f)) == 7
    with pytest.raises(ValueError, match="depth must be a non-negative int"):
        to_dot(f, depth=-1)


def test_stop_at_cuts_below_the_given_nodes() -> None:
    _x1, _x2, v, f = trace_example()
    source = to_dot(f, stop_at=[v])
    # x1 is reached only through v; x2 also through sin(x2), so it stays
    assert "x1" not in source
    assert "x2" in source
    assert nodes(source) == 6
    assert "⋯ 1 not drawn" in source
    with pytest.raises(TypeError, match="stop_at must hold Values"):
        to_dot(f, stop_at=[1.0])  # type: ignore[list-item]


def test_parameters_of_a_module_are_coloured_as_parameters() -> None:
    _, cost = network([3, 1])
    source = to_dot(cost)
    weight = re.search(r'\t\w+ \[label="[^"]*W1\[1,1\][^"]*" fillcolor="([^"]+)"', source)
    assert weight is not None
    assert weight.group(1) == COLOURS["parameter"]
    assert source.count(f'fillcolor="{COLOURS["input"]}"') == 0  # the inputs are numbers


def test_a_loss_is_drawn_as_a_loss_not_as_a_neuron() -> None:
    _, cost = network([3, 1])
    source = to_dot(cost)
    # four neurons' Σ w·a + b, and the loss's sum of squares drawn as a plain Σ
    assert source.count('label="Σ w·a + b"') == 4
    assert source.count('label="Σ xᵢyᵢ"') == 1


def test_minus_zero_is_never_printed() -> None:
    x = Value(0.0, label="x")
    y = (x * -1.0).relu()  # −0 times anything; relu′(−0) = 0, so x̄ = −0 or 0
    y.backward()
    source = to_dot(y * 1e-300 * -1e-300)
    assert "-0" not in source.replace("e-300", "")
    assert "data 0" in source


def test_color_by_grad_uses_the_ramp_and_a_legend() -> None:
    _x1, _x2, _, f = trace_example()
    f.backward()
    source = to_dot(f, color="grad")
    assert "legend" in source
    assert "log scale" in source
    # the largest |v̄| here is v̄₁ = 1 + e¹⁰ ≈ 22027.5 (the product feeds exp): the darkest fill
    fills = dict(re.findall(r'\t(v\w+) \[label="[^"]*" fillcolor="([^"]+)"', source))
    assert fills["v1"] == "#800026"
    assert fills["v3"] != "#800026"  # v̄₃ = 1
    with pytest.raises(ValueError, match="color must be 'role' or 'grad'"):
        to_dot(f, color="rainbow")  # type: ignore[arg-type]


def test_user_groups_nest_and_fold() -> None:
    x = Value(1.5, label="x")
    with group("attention") as outer:
        with group("scores") as inner:
            s = x * x
        t = s.exp()
    assert group_of(s) is inner
    assert inner.parent is outer
    assert group_of(t) is outer
    assert group_of(x) is None
    with no_grad(), group("nothing"):
        u = x * 2.0
    assert group_of(u) is None
    f = t + x
    assert boxes(to_dot(f, collapse="group")) == 1  # the outer group, its inner inside it
    source = to_dot(f)
    assert "label=attention" in source
    assert "label=scores" in source


def test_pngs_are_capped_to_a_readable_size(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    _, cost = network([16, 16, 1])
    png = draw(cost, max_nodes=1000).save(tmp_path / "g.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert max(width, height) <= 40 * 96 + 1  # size="40,40" inches at 96 dpi
    svg = draw(cost, max_nodes=1000, size=None).svg()
    assert "<svg" in svg


def test_explain_points_at_the_network_diagram_with_the_closed_form_deltas() -> None:
    from autograd_mini.report import explain
    from autograd_mini.viz import number

    report = explain(MLP(2, [3, 1], activation="tanh", seed=1), [0.5, -1.0], [1.0], "mse")
    source = report.draw().source
    # every neuron's δ from the closed-form equations (backprop.py, plain floats) is shown
    for row in report.rows:
        if row.k == 1:
            assert number(row.delta[1], 4) in source
    assert ".draw()" in report._repr_html_()


def test_group_names_are_text_never_markup(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    x = Value(2.0, label="x")
    with group('<b>"quoted" & odd</b>'):
        y = x * x
    view = draw(y + 1.0, size=(5, 5))
    assert 'size="5,5"' in view.source
    svg = view.svg()
    assert "&lt;b&gt;&quot;quoted&quot; &amp; odd&lt;/b&gt;" in svg or \
        "&lt;b&gt;\"quoted\" &amp; odd&lt;/b&gt;" in svg
    folded = draw(y + 1.0, collapse="group").svg()
    assert "&lt;b&gt;" in folded


def test_backslashes_in_names_and_labels_are_shown_as_written() -> None:
    pytest.importorskip("pygraphviz")
    # Graphviz reads \\N as the node's name, \\G as the graph's and \\l as a line break
    x = Value(2.0, label="x\\N")
    with group("g\\G ends with \\"):
        y = x * x
    svg = draw(y + 1.0, title="t\\l").svg()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "t\\l" in texts
    assert "g\\G ends with \\" in texts
    assert any(t.endswith("x\\N") for t in texts)


def test_folded_boxes_are_coloured_by_grad_and_captions_say_what_was_asked() -> None:
    _, cost = network([3, 1])
    source = to_dot(cost, collapse="layer", color="grad")
    fills = re.findall(r'\tg\d+ \[label="[^"]*" fillcolor="([^"]+)"', source)
    assert len(fills) == 2
    assert COLOURS["group"] not in fills  # each box by the largest |v̄| inside it
    ramp = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")  # YlOrRd, small to large
    assert all(fill in ramp for fill in fills)
    _, cost = network([16, 16, 1])
    caption = to_dot(cost, collapse="neuron", max_nodes=30)
    assert "folded to layers: with collapse='neuron', the picture would have 41 nodes" in caption


def test_stop_at_and_size_are_checked() -> None:
    *_, f = trace_example()
    with pytest.raises(TypeError, match=r"to stop at one node v, pass \[v\]"):
        to_dot(f, stop_at=f)  # type: ignore[arg-type]
    for bad in [(3,), (0, 4), "4", (float("inf"), 2)]:
        with pytest.raises(ValueError, match="size must be"):
            to_dot(f, size=bad)  # type: ignore[arg-type]
    assert 'size="4,2.5"' in to_dot(f, size="4, 2.5")


def test_draw_after_a_backward_pass_that_records_a_graph() -> None:
    x = Value(3.0, label="x")
    y = x ** 3
    y.backward(create_graph=True)  # x.grad is the Value 3x² = 27
    assert "grad 27" in to_dot(y)


@pytest.mark.parametrize("rankdir", ["LR", "TB", "RL", "BT"])
def test_a_layers_folded_neurons_are_drawn_in_order(rankdir: str) -> None:
    pytest.importorskip("pygraphviz")
    from autograd_mini.viz import render

    _, cost = network([5, 4, 1])
    source = to_dot(cost, collapse="neuron", rankdir=rankdir)  # type: ignore[arg-type]
    names = dict(re.findall(r'\t\t(g\d+) \[label="(neuron \d+ of layer \d+)', source))
    svg = render(source, "svg").decode()
    across = 1 if rankdir in ("LR", "RL") else 0  # the axis along a column: y, or x
    place: dict[str, float] = {}
    for name, points in re.findall(
            r'<title>(g\d+)</title>\s*<polygon[^>]*points="([^"]+)"', svg):
        if name in names:
            place[names[name]] = min(float(p.split(",")[across]) for p in points.split())
    for layer, size in ((1, 5), (2, 4)):
        column = [place[f"neuron {j} of layer {layer}"] for j in range(1, size + 1)]
        assert column == sorted(column), (layer, column)  # neuron 1 first, top or left


def test_a_folded_pictures_text_says_it_is_folded() -> None:
    _, cost = network([16, 16, 1])
    assert "410 nodes, 68 ops, folded to neurons:" in repr(draw(cost))
    _, small = network([3, 1])
    assert "folded" not in repr(draw(small))
