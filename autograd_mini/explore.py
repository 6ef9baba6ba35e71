"""Explore a computation live in Jupyter: a slider per input, and the graph, the tables and
the gradient follow; a click on a node writes out its chain rule with the current numbers.

:func:`explore` returns an `anywidget <https://anywidget.dev>`_ widget, so it runs in
JupyterLab 4, Notebook 7 and VS Code (the ``explore`` extra, in ``notebooks`` too). The work
is done here, in the kernel, by :class:`Explorer`, which knows nothing of widgets, so it can
be driven and tested without a browser; the widget only carries its state to the page and
the slider values back.

Moving a slider evaluates ``f`` again on new inputs and draws the graph in one layout, laid
out once, so the boxes do not move as the numbers change: each box is as wide as its widest
text at the ranges' ends and start. Where ``f`` raises at a value (a
:class:`~autograd_mini.DomainError` for the log of a negative number), the widget shows the
message and keeps the last good picture.

A click on a node writes both expansions of the chain rule at that node, as in the trace
tables (Griewank and Walther's numbering):

* the adjoint, v̄ᵢ = Σⱼ v̄ⱼ · ∂vⱼ/∂vᵢ over the ops vⱼ that read vᵢ;
* the tangent, v̇ᵢ = Σₖ ∂vᵢ/∂vₖ · v̇ₖ over its operands vₖ, for the input chosen as ``wrt``.

>>> from autograd_mini import Value
>>> e = Explorer(lambda x1, x2: (v := x1 * x2) + v.exp() - x2.sin(),
...              {"x1": (0.0, 3.0, 2.0), "x2": (0.0, 6.0, 5.0)})
>>> round(e.gradient["x1"], 1), round(e.gradient["x2"], 1)   # x2(1 + e¹⁰), x1(1 + e¹⁰) − cos 5
(110137.3, 44054.6)
>>> x = e.expansion("v1")                    # v₁ = v₋₁ · v₀, read by v₂ = exp(v₁) and v₃
>>> print(x.adjoint)                          # v̄₁ = 1 + e¹⁰
v̄₁ = v̄₃ · 1 + v̄₂ · v₂ = 1 · 1 + 1 · 22026.5 = 22027.5
>>> print(x.tangent)                          # ∂(x1·x2)/∂x1 = x2 = 5
v̇₁ = v₀ · v̇₋₁ + v₋₁ · v̇₀ = 5 · 1 + 2 · 0 = 5
>>> x.consumers
('v3', 'v2')
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._graph import local_partial, operands
from .engine import Value
from .rules import CONST, INPUT
from .steps import _Layout, _sweep
from .tables import _TEXT, Trace, _number_text, _wrap
from .viz import RENDER_TIMEOUT, Renderer, _grad_line, _node_names, _strip_xml_header, render
from .viz import to_dot as _to_dot

__all__ = ["Expansion", "Explorer", "NetworkExplorer", "explore"]

#: A slider's range: (lo, hi), starting in the middle, or (lo, hi, start).
Range = tuple[float, float] | tuple[float, float, float]

#: Significant digits of the numbers in an expansion, as the trace tables write them.
DIGITS = 6


@dataclass(frozen=True)
class Expansion:
    """The chain rule at one node, with the current numbers: ``adjoint`` (v̄ᵢ = Σⱼ …) and
    ``tangent`` (v̇ᵢ = Σₖ …) as text, and ``consumers``, the DOT names of the ops that read
    the node (the terms of its adjoint), which the widget highlights with it."""

    node: str
    adjoint: str
    tangent: str
    consumers: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.adjoint}\n{self.tangent}"


def _ranges(ranges: Mapping[str, Any]) -> dict[str, tuple[float, float, float]]:
    """Each input's (lo, hi, start), checked: numbers, lo < hi, lo ≤ start ≤ hi."""
    if not ranges:
        raise TypeError("explore: give a range for each input of f, as explore(f, x=(-2, 2))")
    out = {}
    for name, spec in ranges.items():
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise TypeError(f"explore: the range of {name} must be (lo, hi) or (lo, hi, "
                            f"start), numbers, not {spec!r}")
        lo, hi = float(spec[0]), float(spec[1])
        start = float(spec[2]) if len(spec) == 3 else (lo + hi) / 2
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"explore: the range of {name} needs finite lo < hi, not "
                             f"({lo!r}, {hi!r})")
        if not lo <= start <= hi:
            raise ValueError(f"explore: {name} starts at {start!r}, outside its range "
                             f"[{lo!r}, {hi!r}]")
        out[name] = (lo, hi, start)
    return out


class Explorer:
    """The state of an exploration of ``f`` over ``ranges`` ({input: (lo, hi[, start])}):
    the inputs' values, the tangent's direction ``wrt`` (an input's name), and what follows
    from them, recomputed by :meth:`set`. ``f`` is called with the inputs by name, as
    Values labelled with their names, and returns a Value.

    After a value where ``f`` raises, ``error`` holds the message and everything else keeps
    the last good state.
    """

    def __init__(self, f: Callable[..., Value], ranges: Mapping[str, Any],
                 wrt: str | None = None, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, options: Mapping[str, Any] | None = None
                 ) -> None:
        if not callable(f):
            raise TypeError(f"explore: f must be callable, not {type(f).__name__}")
        self.f = f
        self.ranges = _ranges(ranges)
        self.renderer = renderer
        self.timeout = timeout
        self.options = dict(options or {})
        self.values = {name: start for name, (_, _, start) in self.ranges.items()}
        self.wrt = self._check_wrt(wrt if wrt is not None else next(iter(self.ranges)))
        self.error = ""
        self._layout: _Layout | None = None
        self.root: Value | None = None
        self.trace: Trace | None = None
        self.svg = ""
        self.gradient: dict[str, float] = {}
        self.value: float | None = None
        self.set()
        if self.root is None:
            raise ValueError(f"explore: f fails at the start {self.values}: {self.error}")

    # -- evaluating ------------------------------------------------------------------------------

    def _check_wrt(self, wrt: str) -> str:
        if wrt not in self.ranges:
            raise ValueError(f"explore: wrt must be one of the inputs {list(self.ranges)}, "
                             f"not {wrt!r}")
        return wrt

    def _evaluate(self, values: Mapping[str, float]) -> Value:
        inputs = {name: Value(x, label=name) for name, x in values.items()}
        out = self.f(**inputs)
        if not isinstance(out, Value):
            raise TypeError(f"explore: f must return a Value, not {type(out).__name__}")
        return out

    def _dot(self, root: Value, trace: Trace) -> str:
        adjoints = {id(row.node): row.value for row in trace.adjoints}
        return _to_dot(root, wrt=self.wrt, adjoints=adjoints, fold=False, **self.options)

    def set(self, values: Mapping[str, float] | None = None, wrt: str | None = None) -> bool:
        """Move to ``values`` (some or all inputs) and/or the direction ``wrt``, and redo
        everything. Returns False, with ``error`` set and the last good state kept, if ``f``
        or the picture fails there."""
        new = dict(self.values)
        for name, x in (values or {}).items():
            if name not in self.ranges:
                raise ValueError(f"explore: no input {name!r} (inputs: {list(self.ranges)})")
            new[name] = float(x)
        direction = self.wrt if wrt is None else self._check_wrt(wrt)
        try:
            root = self._evaluate(new)
            root.backward()
            trace = Trace(root, direction)
            source = self._dot(root, trace)
            layout = self._layout or self._first_layout(root, direction)
            svg = render(layout.frame(source), "svg", self.renderer,
                         self.timeout).decode("utf-8")
        except Exception as error:  # shown in the widget, and the last good state kept
            self.error = f"{type(error).__name__}: {error}"
            return False
        self._layout = layout
        self.values, self.wrt, self.root, self.trace = new, direction, root, trace
        self.svg = _strip_xml_header(svg)
        self.gradient = dict(trace.gradient)
        self.value = root.data
        self.error = ""
        return True

    def _first_layout(self, root: Value, wrt: str) -> _Layout:
        """The one layout of every picture: laid out with each box as wide as it is at the
        start and with every input at either end of its range (where f works there)."""
        sources = [self._dot(root, Trace(root, wrt))]
        for end in (0, 1):
            try:
                other = self._evaluate({n: r[end] for n, r in self.ranges.items()})
                other.backward()
                sources.append(self._dot(other, Trace(other, wrt)))
            except Exception:  # an end where f fails adds no widths
                continue
        structure = [s for s in sources if _shape(s) == _shape(sources[0])]
        return _Layout(lambda: structure, self.renderer, self.timeout, every_node=True)

    # -- reading ---------------------------------------------------------------------------------

    def tables_html(self) -> str:
        """The primal, tangent and adjoint tables, as HTML."""
        assert self.trace is not None
        return self.trace._repr_html_()

    def expansion(self, name: str) -> Expansion:
        """The chain rule at the node whose DOT name is ``name`` (``v3``, or its op's
        ``v3_op``), with the current numbers."""
        assert self.trace is not None
        t = self.trace
        names = _node_names(t.nodes, t.index)
        by_name = {n: v for v in t.nodes for n in (names[id(v)],)}
        node = by_name.get(name.removesuffix("_op"))
        if node is None:
            raise ValueError(f"explore: no node {name!r} in the picture")
        return Expansion(names[id(node)], self._adjoint_text(node),
                         self._tangent_text(node), self._consumers(node, names))

    def _consumers(self, node: Value, names: Mapping[int, str]) -> tuple[str, ...]:
        assert self.trace is not None
        return tuple(dict.fromkeys(names[id(row.consumer)] for row in self.trace.adjoints
                                   if row.node is node and row.consumer is not None))

    def _adjoint_text(self, node: Value) -> str:
        assert self.trace is not None
        t = self.trace
        me = _TEXT.bar(_TEXT.var(t.index[id(node)]))
        rows = [row for row in t.adjoints if row.node is node and row.consumer is not None]
        final = {id(row.node): row.value for row in t.adjoints}
        if node is t.root:
            return f"{me} = 1, the seed: ∂f/∂f = 1"
        if not rows:
            return f"{me} = 0: no op reads it"
        formula, numbers = [], []
        for row in rows:
            consumer = row.consumer
            assert consumer is not None
            partial = t._partial(consumer, row.position, _TEXT)
            bar = _TEXT.bar(_TEXT.var(t.index[id(consumer)]))
            formula.append(f"{bar} · {_wrap(partial)}")
            d = local_partial(consumer, row.position, on_values=False)
            numbers.append(f"{_num(final[id(consumer)])} · {_num(d)}")
        return (f"{me} = {' + '.join(formula)} = {' + '.join(numbers)} = "
                f"{_num(final[id(node)])}")

    def _tangent_text(self, node: Value) -> str:
        assert self.trace is not None
        t = self.trace
        me = _TEXT.dot(_TEXT.var(t.index[id(node)]))
        tangent = {id(row.node): row.value for row in t.tangents}
        if node._op is INPUT:
            seed = 1.0 if node.label == self.wrt else 0.0
            return f"{me} = {_num(seed)}: the direction, ẋ = 1 for {self.wrt} and 0 else"
        formula, numbers = [], []
        for i, p in enumerate(operands(node)):
            if p._op is CONST:
                continue
            partial = t._partial(node, i, _TEXT)
            dot = _TEXT.dot(_TEXT.var(t.index[id(p)]))
            formula.append(f"{_wrap(partial)} · {dot}")
            d = local_partial(node, i, on_values=False)
            numbers.append(f"{_num(d)} · {_num(tangent.get(id(p), 0.0))}")
        if not formula:
            return f"{me} = 0: it reads constants only"
        return (f"{me} = {' + '.join(formula)} = {' + '.join(numbers)} = "
                f"{_num(tangent.get(id(node), 0.0))}")

    def steps(self) -> dict[str, Any]:
        """The backward pass, node by node, for the widget's step and play controls: per
        step the node processed and the adjoint lines that change as it begins (with
        whether each is still a partial sum), as :mod:`autograd_mini.steps` cuts the sweep;
        and the line every value node shows before its first share arrives."""
        assert self.trace is not None
        t = self.trace
        names = _node_names(t.nodes, t.index)
        frames = _sweep(t)
        return {
            "blank": _grad_line(None, None),
            "nodes": [names[id(v)] for v in t.nodes],
            "frames": [{"node": names[id(node)],
                        "set": [[names[id(v)], _grad_line(value, shares), shares is not None]
                                for v, value, shares in changes]}
                       for node, changes in frames]}

    def html(self) -> str:
        """A static view at the current values, for where widgets do not run (an HTML
        export, GitHub's viewer): the inputs, the gradient, the picture and the tables."""
        values = ", ".join(f"{n} = {_num(x)}" for n, x in self.values.items())
        grads = ", ".join(f"∂f/∂{n} = {_num(g)}" for n, g in self.gradient.items())
        return (f"<div class='autograd-mini-explore'><p>At {html.escape(values)}: "
                f"f = {_num(self.value or 0.0)}; {html.escape(grads)}</p>"
                f"{self.svg}{self.tables_html()}</div>")


class NetworkExplorer(Explorer):
    """:class:`Explorer` for one sample through a network: the inputs are the sample's
    components (``a1``, ``a2``, …), f is C = loss(model(x), y), and the network diagram (z, a
    and δ per neuron, :func:`autograd_mini.nn.diagram`) follows as well as the graph, which
    is drawn with each neuron folded into one box."""

    def __init__(self, model: Any, x: Any, y: Any, loss: Any = "squared_error",
                 ranges: Mapping[str, Any] | None = None, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT) -> None:
        from .diagram import diagram
        from .losses import get

        self.model = model
        self.target = [float(t) for t in (y if isinstance(y, (list, tuple)) else [y])]
        self.loss_name, self._loss = get(loss)
        xs = [float(v) for v in x]
        names = [f"a{k + 1}" for k in range(len(xs))]
        given = dict(ranges or {})
        spans = {n: given.get(n, (v - 2.0, v + 2.0, v)) for n, v in zip(names, xs, strict=True)}
        self._diagram = diagram
        self.diagram_svg = ""

        def cost(**inputs: Value) -> Value:
            return self._loss(model([inputs[n] for n in names]), self.target)

        super().__init__(cost, spans, renderer=renderer, timeout=timeout,
                         options={"collapse": "neuron"})

    def set(self, values: Mapping[str, float] | None = None, wrt: str | None = None) -> bool:
        if not super().set(values, wrt):
            return False
        try:
            picture = self._diagram(self.model, list(self.values.values()), self.target,
                                    self.loss_name, renderer=self.renderer,
                                    timeout=self.timeout)
            self.diagram_svg = _strip_xml_header(picture.svg())
        except Exception as error:  # shown in the widget; the graph is drawn already
            self.error = f"{type(error).__name__}: {error}"
        return True

    def html(self) -> str:
        return super().html().replace("<div class='autograd-mini-explore'>",
                                      f"<div class='autograd-mini-explore'>{self.diagram_svg}")


def _shape(source: str) -> list[str]:
    """The node and edge names of a DOT source, in order: what its layout depends on besides
    the widths."""
    return [line.split("[")[0].strip() for line in source.splitlines() if "[" in line]


def _num(x: float) -> str:
    return _number_text(x, DIGITS)


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------

_ESM = Path(__file__).with_name("explore.js")
_WIDGET: Any = None


def _widget_class() -> Any:
    """The anywidget class, made when first needed: anywidget is imported only here."""
    global _WIDGET
    if _WIDGET is not None:
        return _WIDGET
    try:
        import anywidget
        import traitlets
    except ImportError as error:
        raise ImportError("explore needs anywidget: pip install 'autograd-mini[explore]' "
                          "(it is in the notebooks extra too)") from error

    class ExploreWidget(anywidget.AnyWidget):
        """The widget of :func:`explore`; its state is :class:`Explorer`'s."""

        _esm = _ESM
        inputs: Any = traitlets.List().tag(sync=True)
        values = traitlets.Dict().tag(sync=True)
        wrt = traitlets.Unicode().tag(sync=True)
        svg = traitlets.Unicode().tag(sync=True)
        tables = traitlets.Unicode().tag(sync=True)
        gradient = traitlets.Dict().tag(sync=True)
        value = traitlets.Float(allow_none=True).tag(sync=True)
        error = traitlets.Unicode().tag(sync=True)
        selected = traitlets.Unicode().tag(sync=True)
        expansion = traitlets.Dict().tag(sync=True)
        steps = traitlets.Dict().tag(sync=True)
        diagram = traitlets.Unicode().tag(sync=True)

        def __init__(self, explorer: Explorer) -> None:
            super().__init__()
            self.explorer = explorer
            self.inputs = [{"name": n, "lo": lo, "hi": hi, "step": (hi - lo) / 200}
                           for n, (lo, hi, _) in explorer.ranges.items()]
            self._show()
            self.observe(self._moved, names=["values", "wrt"])
            self.observe(self._clicked, names=["selected"])

        def _show(self) -> None:
            e = self.explorer
            with self.hold_sync():
                self.values = dict(e.values)
                self.wrt = e.wrt
                self.svg = e.svg
                self.tables = e.tables_html()
                self.gradient = dict(e.gradient)
                self.value = e.value
                self.error = e.error
                self.steps = e.steps()
                self.diagram = getattr(e, "diagram_svg", "")
                self._expand()

        def _moved(self, change: Any) -> None:
            e = self.explorer
            values = self.values if change["name"] == "values" else None
            wrt = self.wrt if change["name"] == "wrt" else None
            if values == e.values and wrt in (None, e.wrt):
                return
            if e.set(values, wrt):
                self._show()
            else:
                self.error = e.error  # the last good picture stays

        def _clicked(self, change: Any) -> None:
            self._expand()

        def _expand(self) -> None:
            if not self.selected:
                self.expansion = {}
                return
            try:
                x = self.explorer.expansion(self.selected)
            except ValueError:
                self.expansion = {}
                return
            self.expansion = {"node": x.node, "adjoint": x.adjoint, "tangent": x.tangent,
                              "consumers": list(x.consumers)}

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            bundle: Any = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            if data is not None:
                data["text/html"] = self.explorer.html()  # where widgets do not run
            return bundle

    _WIDGET = ExploreWidget
    return _WIDGET


def explore(f: Any, *sample: Any, wrt: str | None = None, **ranges: Range) -> Any:
    """A live view of ``f`` in Jupyter: a slider and a number box per input, and the graph,
    the three tables and the gradient, which follow the sliders. ``f`` takes the inputs by
    name; each keyword gives one input's range, ``(lo, hi)`` or ``(lo, hi, start)``:

        explore(lambda x1, x2: x1 * x2 + (x1 * x2).exp() - x2.sin(),
                x1=(0, 3, 2), x2=(0, 6, 5))

    ``wrt`` chooses the tangent's input (the first by default); the widget has a choice of
    it too. A click on a node writes its adjoint's and its tangent's chain rule with the
    current numbers; step and play run the backward pass one node at a time.

    For a network, ``explore(model, x, y, loss="squared_error")``: a slider per component of
    the sample x (``a1``, ``a2``, …, from x − 2 to x + 2 unless given by keyword), the cost
    C = loss(model(x), y) as f, its graph with each neuron folded, and the network diagram
    (z, a and δ per neuron). Needs the ``explore`` extra (anywidget).
    """
    from .nn import Module

    if isinstance(f, Module):
        if len(sample) not in (2, 3):
            raise TypeError("explore(model, x, y, loss='squared_error'): give the sample x "
                            "and its target y")
        x, y = sample[0], sample[1]
        loss = sample[2] if len(sample) == 3 else "squared_error"
        return _widget_class()(NetworkExplorer(f, x, y, loss, ranges=ranges))
    if sample:
        raise TypeError("explore(f, x1=(lo, hi), …): give each input's range by name")
    return _widget_class()(Explorer(f, ranges, wrt))
