"""The network diagram of the backprop papers: neurons as circles in columns, an edge per
weight, and each neuron's z, a and δ after a backward pass.

This is the picture of neuralnetworksanddeeplearning.com, chapters 1 and 2, and of the backprop
tutorials that follow it. Column 0 holds the input units x₁ … xₙ (a⁰ = x); column l holds the
neurons of layer l, neuron j at the j-th place from the top; the edge from unit k of column
l − 1 to neuron j of column l is the weight Wˡⱼₖ. A forward pass computes, layer by layer,

    zˡ = Wˡ aˡ⁻¹ + bˡ,    aˡ = σ(zˡ),

and the backward pass carries the error δˡ = ∂C/∂zˡ from the output back to the first layer:

    δᴸ = ∂C/∂aᴸ ⊙ σ′(zᴸ),       δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ),
    ∂C/∂Wˡⱼₖ = δˡⱼ aˡ⁻¹ₖ,       ∂C/∂bˡⱼ = δˡⱼ.

The diagram writes these numbers where the equations put them: z, a and δ in the circle of
their neuron, and w (or ∂C/∂W) as the width and colour of its edge. The engine computes them
node by node; a neuron's ``z.grad`` is δ because z is one ``dot`` node (see
:mod:`autograd_mini.nn`), so the picture shows the engine's own adjoints, not a re-derivation.

The model is duck-typed (:class:`Network`): anything with ``nin``, ``layers`` of ``neurons``
(each with ``w``, ``b``, ``z``, ``a``, ``activation``), ``zero_grad()`` and a call on an input,
as :class:`~autograd_mini.nn.MLP` has. This module sits below :mod:`autograd_mini.nn` in the
layers, so it cannot import it.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .engine import Value, no_grad, recording
from .losses import get as get_loss
from .viz import COLOURS, RENDER_TIMEOUT, Picture, Renderer, literal, number

__all__ = ["EDGE_COLOURS", "MAX_NEURONS", "Network", "NetworkDiagram", "diagram"]

#: The most circles :func:`diagram` draws in one column unless told otherwise (``max_neurons``).
#: A column of 64 five-line circles is already about two metres tall at print size; past that
#: a diagram shows nothing a table would not show better (:func:`autograd_mini.explain`).
MAX_NEURONS = 64

#: Edge colours by sign, the two ends of ColorBrewer's RdBu scheme (safe for the common forms
#: of colour blindness, and distinct in greyscale by width anyway); exactly zero is grey.
EDGE_COLOURS = {"positive": "#2166ac", "negative": "#b2182b", "zero": "#c8c8c8"}

#: Edge pen widths in points: the thinnest edge (a value of 0) and the thickest (the largest
#: |value| in the picture).
THIN, THICK = 0.5, 4.5

Edges = Literal["w", "grad"]


class _Neuron(Protocol):
    @property
    def w(self) -> Sequence[Value]: ...
    @property
    def b(self) -> Value: ...
    @property
    def z(self) -> Value | None: ...
    @property
    def a(self) -> Value | None: ...
    @property
    def activation(self) -> str: ...


class _Layer(Protocol):
    @property
    def neurons(self) -> Sequence[_Neuron]: ...
    @property
    def activation(self) -> str: ...


class Network(Protocol):
    """What :func:`diagram` needs of a model: :class:`~autograd_mini.nn.MLP` has all of it."""

    @property
    def nin(self) -> int: ...
    @property
    def layers(self) -> Sequence[_Layer]: ...
    def zero_grad(self) -> None: ...
    def __call__(self, x: Sequence[Value | float]) -> Sequence[Value]: ...


@dataclass(frozen=True)
class _Unit:
    """What one circle shows: its DOT name, its heading, and the numbers in it (None: not
    computed for this picture)."""

    name: str
    heading: str
    value: float | None = None  # an input unit's x_k
    z: float | None = None
    a: float | None = None
    delta: float | None = None
    b: float | None = None


class NetworkDiagram(Picture):
    """The network diagram: a :class:`~autograd_mini.viz.Picture` (``.source``, ``.svg()``,
    ``.save(path)``, inline in Jupyter) that also keeps what it was drawn from.

    Attributes: ``model``; ``x`` and ``y`` (lists of floats, or None); ``loss`` (the loss's
    name, or None without ``y``); ``cost`` (C for this sample, or None without ``y``);
    ``edges`` (``"w"`` or ``"grad"``); ``sizes``, the units per column, inputs first.
    """

    def __init__(self, source: str, *, model: Any, sizes: list[int], x: list[float] | None,
                 y: list[float] | None, loss: str | None, cost: float | None, edges: Edges,
                 architecture: str, precision: int = 4, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT) -> None:
        state = ("" if x is None else ", forward pass only" if cost is None
                 else f", after backward: C = {number(cost, precision)} ({loss})")
        super().__init__(source, renderer=renderer, timeout=timeout,
                         summary=f"<network diagram of {architecture}{state}>")
        self.model = model
        self.sizes = sizes
        self.x = x
        self.y = y
        self.loss = loss
        self.cost = cost
        self.edges = edges


@dataclass(frozen=True)
class _Settings:
    edges: Edges = "w"
    precision: int = 4
    title: str | None = None
    renderer: Renderer = "auto"
    timeout: float = RENDER_TIMEOUT
    max_neurons: int = MAX_NEURONS


def _settings(options: Mapping[str, Any]) -> _Settings:
    """The options, checked: an unknown name is a TypeError, as for any keyword argument."""
    known = _Settings.__dataclass_fields__
    unknown = [name for name in options if name not in known]
    if unknown:
        raise TypeError(f"diagram() got an unexpected option {unknown[0]!r}; the options are "
                        f"{', '.join(known)}")
    settings = _Settings(**options)
    if settings.edges not in ("w", "grad"):
        raise ValueError(f"edges must be 'w' (edges by weight) or 'grad' (by ∂C/∂W), "
                         f"not {settings.edges!r}")
    for name in ("precision", "max_neurons"):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return settings


def _sizes(model: Any) -> list[int]:
    """The units per column, inputs first, or a TypeError if ``model`` is not MLP-like."""
    what = f"diagram() needs an MLP-like model, not {type(model).__name__}"
    nin = getattr(model, "nin", None)
    layers = getattr(model, "layers", None)
    if (isinstance(nin, bool) or not isinstance(nin, int) or nin < 1
            or not isinstance(layers, Sequence) or not layers or not callable(model)
            or not callable(getattr(model, "zero_grad", None))):
        raise TypeError(f"{what}: it needs nin (the number of inputs), a list of layers, "
                        "zero_grad() and a call on an input, as autograd_mini.nn.MLP has")
    sizes = [nin]
    for l_index, layer in enumerate(layers, start=1):
        neurons = getattr(layer, "neurons", None)
        if not isinstance(neurons, Sequence) or not neurons:
            raise TypeError(f"{what}: its layer {l_index} has no list of neurons")
        for j, neuron in enumerate(neurons, start=1):
            w = getattr(neuron, "w", None)
            if (not isinstance(w, Sequence) or len(w) != sizes[-1]
                    or not all(isinstance(v, Value) for v in w)
                    or not isinstance(getattr(neuron, "b", None), Value)):
                raise TypeError(f"{what}: neuron {j} of layer {l_index} should have "
                                f"{sizes[-1]} weights w and a bias b, all Values")
        sizes.append(len(neurons))
    return sizes


def _refuse_large(sizes: Sequence[int], max_neurons: int) -> None:
    for column, size in enumerate(sizes):
        if size > max_neurons:
            where = "the input has" if column == 0 else f"layer {column} has"
            units = "units" if column == 0 else "neurons"
            raise ValueError(
                f"{where} {size} {units}, more than max_neurons={max_neurons}: a column of "
                f"that many circles is unreadable. Draw a smaller model, read the numbers "
                f"with autograd_mini.explain(model, x, y, loss), or pass "
                f"max_neurons={size} to draw it anyway")


def _architecture(model: Any, sizes: Sequence[int]) -> str:
    """``MLP(2 → 3 relu → 1 linear)``, from the layers themselves."""
    parts = [str(sizes[0])] + [f"{n} {getattr(layer, 'activation', '?')}"
                               for n, layer in zip(sizes[1:], model.layers, strict=True)]
    return f"{type(model).__name__}({' → '.join(parts)})"


def _float(v: Value | float) -> float:
    return float(v.data if isinstance(v, Value) else v)


def _grad(v: Value) -> float:
    g = v.grad
    return float(g.data if isinstance(g, Value) else g)


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def diagram(model: Network, x: Sequence[Value | float] | None = None,
            y: Sequence[float] | None = None,
            loss: str | Callable[..., Value] = "squared_error", **options: Any,
            ) -> NetworkDiagram:
    """The network diagram of ``model`` (an :class:`~autograd_mini.nn.MLP`, or any
    :class:`Network`): one column of circles per layer, one edge per weight.

    * Without ``x``: the architecture, each neuron's bias b, and edges by weight.
    * With a sample ``x``: a forward pass (recording no graph), and each neuron shows its
      weighted input z = Σₖ wⱼₖ aₖ + bⱼ and activation a = σ(z); the inputs show x.
    * With ``x`` and a target ``y``: C = ``loss(outputs, y)`` and a backward pass, and each
      neuron also shows δ = ∂C/∂z; the caption and a loss node at the right show C.

    NOTE: with ``y`` the model's parameter grads are zeroed first and afterwards hold this
    sample's gradient ∂C/∂W, ∂C/∂b (as :func:`autograd_mini.explain` leaves them), so call it
    between training steps, not between a ``backward()`` and the optimiser's step. With ``x``,
    each neuron's ``z`` and ``a`` become the nodes of this sample.

    Options:
        edges: ``"w"`` (default): edge width ∝ |Wˡⱼₖ|, colour by its sign; ``"grad"``: the
            same by ∂C/∂Wˡⱼₖ = δˡⱼ aˡ⁻¹ₖ, which needs ``y``. Widths run from 0.5 pt (zero) to
            4.5 pt (the largest |value| in the picture, all layers together); blue is
            positive, red negative (:data:`EDGE_COLOURS`), grey exactly zero, so a dead relu
            neuron's edges turn grey with ``edges="grad"``.
        precision: significant digits of the numbers (default 4).
        title: the first line of the caption (default: the architecture).
        renderer, timeout: those of :func:`autograd_mini.viz.render`.
        max_neurons: a column with more units than this (default :data:`MAX_NEURONS`) is
            refused with a ValueError naming the layer; pass a larger value to draw it anyway.

    In SVG every circle and edge has a tooltip with its full numbers (the parameter's name,
    w and ∂C/∂W).

    Raises TypeError for a model that is not MLP-like or an unknown option; ValueError for an
    ``x`` of the wrong length, a ``y`` without ``x``, ``edges="grad"`` without ``y``, an
    unknown loss (the message of :func:`autograd_mini.losses.get`, even without ``y``) or a
    column too large. All of these are raised before the model is touched.

    >>> from autograd_mini.nn import MLP
    >>> picture = diagram(MLP(2, [3, 1]), [0.5, -1.0], [1.0])
    >>> picture.source.count("class=weight")   # one edge per weight: 2·3 + 3·1
    9
    >>> picture.source.count("class=neuron")   # 3 + 1 neurons
    4
    """
    settings = _settings(options)
    sizes = _sizes(model)
    _refuse_large(sizes, settings.max_neurons)
    if y is not None and x is None:
        raise ValueError("a target y needs a sample x: pass diagram(model, x, y)")
    if settings.edges == "grad" and y is None:
        raise ValueError('edges="grad" draws ∂C/∂W, which needs a backward pass: pass a sample '
                         "x and its target y")
    loss_name, loss_fn = get_loss(loss)  # an unknown loss is refused before anything runs
    xs = None if x is None else list(x)
    ys = None if y is None else [float(t) for t in y]
    if xs is not None and len(xs) != sizes[0]:
        raise ValueError(f"{_architecture(model, sizes)} takes {sizes[0]} inputs "
                         f"(nin = {sizes[0]}), but x has {len(xs)}")
    if ys is not None and len(ys) != sizes[-1]:
        raise ValueError(f"{_architecture(model, sizes)} has {sizes[-1]} outputs, but y has "
                         f"{len(ys)}")
    cost: float | None = None
    if xs is not None and ys is None:
        with no_grad():  # the numbers only: no graph to keep
            model(xs)
    elif xs is not None and ys is not None:
        # NOTE: recorded even inside the caller's no_grad, which would leave every δ at 0
        with recording():
            model.zero_grad()
            c = loss_fn(model(xs), ys)
            c.backward()
        cost = float(c.data)
    source = _source(model, sizes, xs, ys, loss_name if ys is not None else None, cost,
                     settings)
    return NetworkDiagram(source, model=model, sizes=sizes,
                          x=None if xs is None else [_float(v) for v in xs], y=ys,
                          loss=loss_name if ys is not None else None, cost=cost,
                          edges=settings.edges, architecture=_architecture(model, sizes),
                          precision=settings.precision, renderer=settings.renderer,
                          timeout=settings.timeout)


# ---------------------------------------------------------------------------------------------
# DOT
# ---------------------------------------------------------------------------------------------

#: Font sizes: a unit's heading, the numbers in it, column headings, the caption.
_SIZE_NAME, _SIZE_NUMBER, _SIZE_COLUMN, _SIZE_TITLE = 10, 9, 11, 14


def _text(text: str, size: int | None = None, bold: bool = False,
          colour: str | None = None) -> str:
    body = html.escape(text, quote=False)
    if bold:
        body = f"<B>{body}</B>"
    attrs = "".join(f' {k}="{v}"' for k, v in (("POINT-SIZE", size), ("COLOR", colour)) if v)
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


def _table(rows: Sequence[str], **attrs: str) -> str:
    """An HTML-like label: one centred cell per row."""
    table_attrs = {"BORDER": "0", "CELLBORDER": "0", "CELLSPACING": "0", "CELLPADDING": "0",
                   **attrs}
    head = " ".join(f'{k}="{v}"' for k, v in table_attrs.items())
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f"<<TABLE {head}>{cells}</TABLE>>"


def _unit_lines(unit: _Unit, digits: int) -> list[str]:
    """The lines of a circle, below its heading: an input's x, a neuron's z, a, δ and b."""
    lines = [] if unit.value is None else [number(unit.value, digits)]
    for symbol, value in (("z", unit.z), ("a", unit.a), ("δ", unit.delta), ("b", unit.b)):
        if value is not None:
            lines.append(f"{symbol} {number(value, digits)}")
    return lines


def _unit_label(unit: _Unit, digits: int) -> str:
    rows = [_text(unit.heading, _SIZE_NAME, bold=True)]
    rows += [_text(line, _SIZE_NUMBER, colour="#555555" if line.startswith("b ") else None)
             for line in _unit_lines(unit, digits)]
    return _table(rows)


def _diameter(units: Sequence[_Unit], digits: int) -> float:
    """One circle size (inches) for every unit, so that the columns look even.

    Graphviz fits a circle around a label of w × h points (plus its margins, 8 pt a side) by
    scaling the box by √2, so the circle of the largest label is √2 · max(w, h). A label's
    width is estimated at 0.62 em a character, a little wide for digits in DejaVu Sans (the
    font Helvetica resolves to), so every circle gets this one size; a label that still does
    not fit only makes its own circle larger.
    """
    side = 0.0
    for unit in units:
        lines = _unit_lines(unit, digits)
        width = max([len(unit.heading) * 0.62 * _SIZE_NAME]
                    + [len(line) * 0.62 * _SIZE_NUMBER for line in lines])
        height = _SIZE_NAME * 1.25 + len(lines) * _SIZE_NUMBER * 1.2
        side = max(side, width + 16, height + 8)
    return round(math.sqrt(2) * side / 72, 2)


def _edge_style(value: float, scale: float) -> dict[str, str]:
    """Pen width ∝ |value| / scale, from THIN to THICK, in the colour of its sign; a weak edge
    is also paler (opacity from 35% to 100%), so that the strong ones stand out in a dense
    picture."""
    if not math.isfinite(value):
        return {"penwidth": str(THIN), "color": EDGE_COLOURS["zero"], "style": "dashed"}
    share = abs(value) / scale if scale > 0 else 0.0
    return {"penwidth": f"{THIN + (THICK - THIN) * share:.2f}", "color": _colour(value, share)}


def _colour(value: float, share: float) -> str:
    if value == 0:
        return EDGE_COLOURS["zero"]
    base = EDGE_COLOURS["positive" if value > 0 else "negative"]
    return f"{base}{round(255 * (0.35 + 0.65 * share)):02x}"


_LEGEND_BACKGROUND = "#fafafa"


def _legend(settings: _Settings, scale: float, after_backward: bool, forward: bool,
            title: str, caption: str | None) -> str:
    """The graph's label: the title, C, and what the widths, colours and numbers mean.

    One flat table of text: the line samples are box-drawing characters in the edges' colours
    (light ─ for a weak edge, heavy ━ for the strongest), because Graphviz stretches a nested
    table to fill its cell, which would spread drawn samples apart.
    """
    quantity = "w" if settings.edges == "w" else "∂C/∂W"

    def sample(value: float) -> str:
        weak, strong = _colour(value, 0.1), _colour(value, 1.0)
        if value == 0:  # the heavy sample's room kept, in the legend's background colour
            return (f'<FONT COLOR="{weak}">────</FONT> '
                    f'<FONT COLOR="{_LEGEND_BACKGROUND}" POINT-SIZE="13">━━━</FONT>')
        return (f'<FONT COLOR="{weak}">────</FONT> '
                f'<FONT COLOR="{strong}" POINT-SIZE="13">━━━</FONT>')

    def cell(body: str) -> str:
        return f'<TD ALIGN="LEFT" BALIGN="LEFT">{body}</TD>'

    def words(text: str) -> str:
        return html.escape(text, quote=False)

    strongest = (f"the thickest: |{quantity}| = {number(scale, settings.precision)}"
                 if scale > 0 else f"all {quantity} = 0")
    edges = [
        f"{sample(1.0)}  {words(quantity)} &gt; 0",
        f"{sample(-1.0)}  {words(quantity)} &lt; 0",
        f"{sample(0.0)}  {words(quantity)} = 0",
        words(f"width and strength ∝ |{quantity}|; {strongest}"),
    ]
    if settings.edges == "grad":
        edges.append(words("∂C/∂Wˡⱼₖ = δˡⱼ aˡ⁻¹ₖ  (edge from unit k to neuron j)"))
    if after_backward:
        dashes = '<FONT COLOR="#888888">┄┄┄┄</FONT>'
        edges.append(f"{dashes}  {words('the outputs aᴸ into the loss C')}")
    circles = [words("b = bias")]
    if forward:
        circles = [words("z = Σₖ wⱼₖ aₖ + b  (weighted input)"), words("a = σ(z)  (activation)")]
        if after_backward:
            circles.append(words("δ = ∂C/∂z  (error, after backward)"))
        circles.append(words("b = bias"))
    rows = [f"<TR>{cell('<B>edges</B>')}<TD WIDTH=\"16\"></TD>{cell('<B>circles</B>')}</TR>"]
    for i in range(max(len(edges), len(circles))):
        left = edges[i] if i < len(edges) else ""
        right = circles[i] if i < len(circles) else ""
        rows.append(f"<TR>{cell(left)}<TD></TD>{cell(right)}</TR>")
    legend = (f'<TABLE BORDER="1" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="0" '
              f'CELLPADDING="4" BGCOLOR="{_LEGEND_BACKGROUND}"><TR><TD>'
              f'<FONT POINT-SIZE="{_SIZE_NUMBER}"><TABLE BORDER="0" CELLBORDER="0" '
              f'CELLSPACING="1" CELLPADDING="1">{"".join(rows)}</TABLE></FONT></TD></TR></TABLE>')
    heads = [_text(title, _SIZE_TITLE, bold=True)]
    if caption:
        heads.append(_text(caption, _SIZE_COLUMN))
    top = "".join(f"<TR><TD>{h}</TD></TR>" for h in heads)
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4">{top}'
            f"<TR><TD>{legend}</TD></TR></TABLE>>")


#: Significant digits of the numbers in tooltips: all that a float holds, near enough.
_FULL = 12


def _tooltip(unit: _Unit, column: int) -> str:
    """A circle's tooltip in SVG: what it is and its numbers to :data:`_FULL` digits."""
    if column == 0:
        where = f"input {unit.heading}"
        return where if unit.value is None else f"{where} = {number(unit.value, _FULL)}"
    numbers = [f"{symbol} = {number(value, _FULL)}" for symbol, value in
               (("z", unit.z), ("a", unit.a), ("δ = ∂C/∂z", unit.delta), ("b", unit.b))
               if value is not None]
    return f"{unit.heading}: " + ", ".join(numbers)


def _vector(values: Sequence[float], digits: int) -> str:
    return "(" + ", ".join(number(v, digits) for v in values) + ")"


def _columns(model: Any, sizes: Sequence[int], xs: Sequence[Value | float] | None,
             backward: bool) -> list[list[_Unit]]:
    """What each circle shows, column by column, read from the model after the passes."""
    columns = [[_Unit(f"x{k}", f"x{_subscript(k)}",
                      value=None if xs is None else _float(xs[k - 1]))
                for k in range(1, sizes[0] + 1)]]
    for l_index, layer in enumerate(model.layers, start=1):
        column = []
        for j, neuron in enumerate(layer.neurons, start=1):
            # NOTE: without x, a z or a left by an earlier forward pass is not shown: it
            # belongs to some other sample
            z, a = (neuron.z, neuron.a) if xs is not None else (None, None)
            column.append(_Unit(
                f"l{l_index}n{j}", f"L{l_index} N{j}",
                z=None if z is None else _float(z), a=None if a is None else _float(a),
                delta=None if z is None or not backward else _grad(z), b=_float(neuron.b)))
        columns.append(column)
    return columns


def _heading(column: int, layers: Sequence[Any]) -> str:
    """A column's heading: "input", "layer l" and its σ, or "output" for the last layer."""
    if column == 0:
        return _table([_text("input", _SIZE_COLUMN, bold=True), _text("a⁰ = x", _SIZE_NUMBER)])
    activation = str(getattr(layers[column - 1], "activation", "?"))
    if column == len(layers):
        return _table([_text("output", _SIZE_COLUMN, bold=True),
                       _text(f"layer {column} · {activation}", _SIZE_NUMBER)])
    return _table([_text(f"layer {column}", _SIZE_COLUMN, bold=True),
                   _text(activation, _SIZE_NUMBER)])


def _rank(dot: Any, column: int, heading: str, nodes: Sequence[tuple[str, dict[str, str]]],
          ) -> None:
    """One column: a rank of its own, the heading on top, then the nodes in order."""
    with dot.subgraph(name=f"column{column}") as sub:
        sub.attr(rank="same")
        sub.node(f"head{column}", heading, shape="plaintext", height="0.3")
        for name, attrs in nodes:
            sub.node(name, **attrs)
        # NOTE: invisible edges inside a rank fix the order top to bottom (heading, unit 1,
        # unit 2, …), which crossing minimisation could otherwise change. The heading's edge
        # has weight 0 so that it does not pull unit 1 up to it: a column of one neuron stays
        # centred on the neurons that feed it.
        order = [f"head{column}"] + [name for name, _ in nodes]
        for upper, lower in itertools.pairwise(order):
            sub.edge(upper, lower, style="invis", weight="0" if upper == order[0] else "1")


def _source(model: Any, sizes: list[int], xs: list[Value | float] | None,
            ys: list[float] | None, loss: str | None, cost: float | None,
            settings: _Settings) -> str:
    """The DOT of the diagram, for the state the model is in after :func:`diagram`'s passes."""
    import graphviz  # the DOT writer, a dependency; imported here as viz.to_dot does

    digits = settings.precision
    layers = list(model.layers)
    columns = _columns(model, sizes, xs, cost is not None)

    def edge_value(w: Value) -> float:
        return _float(w) if settings.edges == "w" else _grad(w)

    values = [edge_value(w) for layer in layers for n in layer.neurons for w in n.w]
    scale = max((abs(v) for v in values if math.isfinite(v)), default=0.0)

    caption = None
    if xs is not None:
        shown_x = _vector([_float(v) for v in xs], digits)
        caption = (f"forward pass for x = {shown_x}" if cost is None or ys is None
                   else f"C = {number(cost, digits)} ({loss})   for x = {shown_x}, "
                        f"y = {_vector(ys, digits)}")
    title = settings.title if settings.title is not None else _architecture(model, sizes)
    dot = graphviz.Digraph(name="network", graph_attr={
        "rankdir": "LR", "splines": "line", "nodesep": "0.12", "ranksep": "1.6",
        "newrank": "true", "fontname": "Helvetica", "labelloc": "t", "labeljust": "c",
        "label": _legend(settings, scale, cost is not None, xs is not None, title, caption),
        "outputorder": "edgesfirst", "pad": "0.2",
    })
    dot.attr("node", fontname="Helvetica", fontsize=str(_SIZE_NUMBER), penwidth="1.2")
    dot.attr("edge", arrowhead="none")

    diameter = str(_diameter([u for column in columns for u in column], digits))
    for c, column in enumerate(columns):
        fill = (COLOURS["input"] if c == 0 else COLOURS["output"] if c == len(layers)
                else "#ffffff")
        _rank(dot, c, _heading(c, layers), [
            (unit.name, {"label": _unit_label(unit, digits), "shape": "circle",
                         "style": "filled", "fillcolor": fill, "width": diameter,
                         "height": diameter, "tooltip": literal(_tooltip(unit, c)),
                         "class": "input" if c == 0 else "neuron"})
            for unit in column])
    n_ranks = len(columns)
    if cost is not None and ys is not None:
        n_ranks += 1
        rows = [_text("C", _SIZE_NAME, bold=True), _text(number(cost, digits), _SIZE_NUMBER),
                _text(f"y = {_vector(ys, digits)}", _SIZE_NUMBER)]
        _rank(dot, len(columns), _table([_text("loss", _SIZE_COLUMN, bold=True),
                                         _text(str(loss), _SIZE_NUMBER)]),
              [("loss", {"label": _table(rows), "shape": "box", "style": "filled,rounded",
                         "fillcolor": COLOURS["highlight"], "tooltip": f"C = {loss}(a, y)",
                         "class": "loss"})])
        for unit in columns[-1]:
            dot.edge(unit.name, "loss", style="dashed", color="#888888", arrowhead="normal",
                     arrowsize="0.6")
    # the headings in one row: a heavy invisible chain pulls them level
    for c in range(n_ranks - 1):
        dot.edge(f"head{c}", f"head{c + 1}", style="invis", weight="100")
    for l_index, layer in enumerate(layers, start=1):
        previous = columns[l_index - 1]
        for j, neuron in enumerate(layer.neurons, start=1):
            for k, w in enumerate(neuron.w, start=1):
                name = getattr(w, "label", None) or f"W{l_index}[{j},{k}]"
                tip = f"{name} = {number(_float(w), _FULL)}"
                if cost is not None:
                    tip += f", ∂C/∂W = {number(_grad(w), _FULL)}"
                dot.edge(previous[k - 1].name, f"l{l_index}n{j}", tooltip=literal(tip),
                         **_edge_style(edge_value(w), scale), **{"class": "weight"})
    return str(dot.source)
