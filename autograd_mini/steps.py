"""The backward pass step by step: one frame per node, in reverse topological order, as
pictures of their own (:func:`backward_steps`) or as one widget (:class:`StepThrough`,
:func:`step_through`, :func:`save_steps`).

The frames come from the trace's reverse sweep (:class:`autograd_mini.tables.Trace`), so the
pictures and the adjoint table always agree. A frame shows an adjoint as it stands at that
moment: a node read by several ops receives one share per edge (``a * a`` gives two, which
arrive together), and until the last share has arrived its adjoint is a partial sum, drawn
grey in a dashed box, "grad 1 so far, 1 of 2 shares". The node being processed always has
its adjoint complete, since every op that reads it has been processed before it.

Every frame has one layout, computed once, so that nothing moves from frame to frame: the
graph is laid out with each box as wide as the widest text it shows in any frame (and the
caption likewise), and each frame is then drawn at those positions.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .engine import Value
from .files import write_atomic
from .tables import Trace, node_name
from .viz import (
    COLOURS,
    PARTIAL,
    RENDER_TIMEOUT,
    GraphView,
    Renderer,
    _grad_line,
    _node_names,
    _picture,
    _strip_xml_header,
    render,
    to_dot,
)

__all__ = ["StepThrough", "StepView", "backward_steps", "save_steps", "step_through"]

#: (shares received, shares in all) of an adjoint that is still a partial sum.
Shares = tuple[int, int]
#: An adjoint as a frame shows it: the node, v̄ so far, and its shares while it is partial
#: (None once it is complete).
Change = tuple[Value, float, Shares | None]


# ---------------------------------------------------------------------------------------------
# The frames
# ---------------------------------------------------------------------------------------------


def _sweep(t: Trace) -> list[tuple[Value, list[Change]]]:
    """The trace's reverse sweep cut into frames, one per node in reverse topological order:
    each frame's node, and the adjoints that change as that frame begins (the first frame:
    the seed v̄ₗ = 1; then what the previous frame's node passed to its operands).

    Changes rather than whole tables, so that the frames together are as large as the trace,
    not as the number of nodes squared. A node's shares are its edges into ops (the rows of
    the sweep that add to it), so ``a * a`` gives ``a`` two, both in one frame; a frame shows
    only the last change to each node.
    """
    total = Counter(id(row.node) for row in t.adjoints if row.consumer is not None)
    received: Counter[int] = Counter()
    rows = iter(t.adjoints)
    pending = next(rows, None)
    changes: list[Change] = []
    if pending is not None and pending.consumer is None:  # the seed v̄ₗ = 1
        changes.append((pending.node, pending.value, None))
        pending = next(rows, None)
    frames: list[tuple[Value, list[Change]]] = []
    for node in reversed(t.nodes):
        frames.append((node, changes))
        latest: dict[int, Change] = {}
        while pending is not None and pending.consumer is node:
            key = id(pending.node)
            received[key] += 1
            shares = (received[key], total[key])
            latest[key] = (pending.node, pending.value,
                           None if shares[0] == shares[1] else shares)
            pending = next(rows, None)
        changes = list(latest.values())
    return frames


def _caption(node: Value, t: Trace) -> str:
    name = node_name(t.index[id(node)])
    return (f"{name}'s adjoint is complete; next it passes v̄ to its operands" if node._op.arity
            else f"{name} is an input: ∂f/∂{node.label or name} is complete")


def _states(frames: list[tuple[Value, list[Change]]]
            ) -> list[tuple[dict[int, float], dict[int, Shares]]]:
    """Every frame's adjoints (by node id) and, among them, the partial ones with their
    shares."""
    known: dict[int, float] = {}
    partial: dict[int, Shares] = {}
    states = []
    for _, changes in frames:
        for v, value, shares in changes:
            known[id(v)] = value
            if shares is None:
                partial.pop(id(v), None)
            else:
                partial[id(v)] = shares
        states.append((dict(known), dict(partial)))
    return states


def backward_steps(root: Value, *, renderer: Renderer = "auto",
                   timeout: float = RENDER_TIMEOUT, **options: Any) -> list[StepView]:
    """One picture per node, in reverse topological order: the node being processed is
    highlighted, its adjoint complete, and every adjoint known at that moment is shown, the
    partial sums grey and dashed with the shares they have received ("1 of 2 shares"). The
    adjoints come from the trace's reverse sweep, so the pictures and
    :func:`autograd_mini.trace` always agree.

    The frames share one layout (computed once, when the first picture is drawn), so nothing
    moves between them; each frame's ``.source`` is its own DOT, and ``.svg()`` and
    ``.save()`` draw it at the shared positions. Options are those of :func:`to_dot`, plus
    ``renderer`` and ``timeout``.
    """
    t = Trace(root)
    frames = _sweep(t)
    views: list[StepView] = []
    layout = _Layout(lambda: [view.source for view in views], renderer, timeout)
    for (node, _), (known, partial) in zip(frames, _states(frames), strict=True):
        views.append(StepView(root, node, _caption(node, t), known, partial, layout,
                              renderer=renderer, timeout=timeout, **options))
    return views


class StepView(GraphView):
    """One frame of :func:`backward_steps`: the ``node`` being processed, a ``caption`` that
    says what happens, the ``partial`` adjoints (node id → shares received, shares in all),
    ``.source`` (the frame's DOT, laid out on its own), and ``.svg()``, ``.save(path)`` and
    Jupyter's display, which draw it in the layout that every frame of its list shares."""

    def __init__(self, root: Value, node: Value, caption: str, known: dict[int, float],
                 partial: dict[int, Shares], layout: _Layout, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, **options: Any) -> None:
        super().__init__(root, adjoints=known, partial=partial, highlight=node, title=caption,
                         renderer=renderer, timeout=timeout, **options)
        self.node = node
        self.caption = caption
        self.partial = partial
        self._layout = layout

    def fixed_source(self) -> str:
        """The frame's DOT at the positions of the shared layout (Graphviz's ``nop2`` engine
        draws it without laying it out again): what ``.svg()`` and ``.save()`` render."""
        return self._layout.frame(self.source)

    def svg(self) -> str:
        """The frame as SVG, in the shared layout."""
        return render(self.fixed_source(), "svg", self.renderer, self.timeout).decode("utf-8")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the frame, in the shared layout; the suffix chooses the format: .svg, .png,
        .pdf, or .dot (the DOT of :meth:`fixed_source`). All at once or not at all, as
        :meth:`GraphView.save`."""
        target = Path(path)
        return write_atomic(target, _picture(self.fixed_source(), target, self.renderer,
                                             self.timeout))


# ---------------------------------------------------------------------------------------------
# One layout for every frame
# ---------------------------------------------------------------------------------------------

#: A quoted string of DOT, which may run over several lines and hold escaped quotes.
_QUOTED = r'"(?:[^"\\]|\\[\s\S])*"'
#: One statement of DOT as the graphviz package writes it (the frames' DOT): a line that
#: starts with tabs, in which a quoted string (a label) may run over several lines.
_STATEMENT = re.compile(rf'^(\t+)((?:[^"\n]|{_QUOTED})*)$', re.M)
#: A node statement of Graphviz's own DOT output (``-Tdot``, the positioned layout): tabs,
#: the name, a tab, and the attributes, separated by commas.
_LAID_OUT = re.compile(rf'^(\t+)"?(\w+)"?\t\[((?:[^"\]]|{_QUOTED})*)\];$', re.M)
_ATTRIBUTE = re.compile(rf'(\w+)=({_QUOTED}|[^\s,"\]]+)')
_NODE = re.compile(r"(\w+) \[")
_SVG = "{http://www.w3.org/2000/svg}"

#: A statement's key: a node's name, or ("graph", k) for the k-th attribute statement of the
#: graph itself (such as its caption).
_Key = str | tuple[str, int]


def _attribute(statement: str, name: str) -> str | None:
    """The value of attribute ``name`` in a DOT statement, as written (quoted or not)."""
    return next((v for k, v in _ATTRIBUTE.findall(statement) if k == name), None)


def _statements(source: str) -> list[tuple[_Key | None, re.Match[str]]]:
    """The statements of ``source`` that a frame may change, keyed: node statements (at any
    depth: a node's attributes are the graph's wherever they are set) and the graph's own
    attribute statements; every other statement (defaults, edges, clusters) keyed None."""
    out: list[tuple[_Key | None, re.Match[str]]] = []
    k = 0
    for match in _STATEMENT.finditer(source):
        text = match.group(2)
        node = _NODE.match(text)
        if node is not None and node.group(1) not in ("graph", "node", "edge"):
            out.append((node.group(1), match))
        elif len(match.group(1)) == 1 and re.match(r"\w+=", text):
            out.append((("graph", k), match))
            k += 1
        else:
            out.append((None, match))
    return out


def _width(group: ET.Element) -> float:
    """How wide the shapes of an SVG group are (a node's or a cluster's), in points."""
    xs: list[float] = []
    for shape in group:
        tag = shape.tag.removeprefix(_SVG)
        if tag == "ellipse":
            cx, rx = float(shape.get("cx", 0)), float(shape.get("rx", 0))
            xs += [cx - rx, cx + rx]
        elif tag in ("polygon", "path", "polyline"):
            numbers = re.findall(r"-?\d+(?:\.\d*)?(?:e-?\d+)?",
                                 shape.get("points", "") + shape.get("d", ""))
            xs += [float(x) for x in numbers[::2]]
    return max(xs) - min(xs) if xs else 0.0


class _Layout:
    """The one layout that the frames of a step-through share, computed when first needed.

    The frames' DOT differ only in some statements: the value nodes' (their adjoint lines,
    fills and partial marks, and the boxes of folded groups) and the caption. The graph is
    laid out once, as positioned DOT, with each of those statements as it is widest in any
    frame: Graphviz measures them all in one render of every distinct variant side by side
    (a node as itself, a caption as a cluster's label, which has the graph label's fonts).
    A frame is then that DOT with the frame's own statements, each node keeping the layout's
    position and size (``fixedsize``), drawn by Graphviz's ``nop2`` engine, which keeps
    every position and edge as given: nothing moves, in any format.
    """

    def __init__(self, sources: Callable[[], Sequence[str]], renderer: Renderer,
                 timeout: float, every_node: bool = False) -> None:
        self._sources = sources
        self.renderer = renderer
        self.timeout = timeout
        #: every node's statement is a frame's own (the explorer's pictures, whose every
        #: number may change), not only those that differ between the sources
        self.every_node = every_node
        self._positioned: str | None = None
        self._varying: set[_Key] = set()

    def positioned(self) -> str:
        """The layout, as DOT with every position (laid out once, then kept)."""
        if self._positioned is None:
            sources = self._sources()
            keyed = [_statements(s) for s in sources]
            seen: dict[_Key, set[str]] = {}
            variants: dict[_Key, dict[str, str]] = {}  # key → label → a statement with it
            for statements in keyed:
                for key, match in statements:
                    if key is not None:
                        text = match.group(2)
                        seen.setdefault(key, set()).add(text)
                        variants.setdefault(key, {}).setdefault(
                            _attribute(text, "label") or text, text)
            self._varying = {key for key, texts in seen.items() if len(texts) > 1
                             or (self.every_node and isinstance(key, str))}
            widest = self._widest({key: list(variants[key].values()) for key in self._varying},
                                  keyed[0])
            parts, at = [], 0
            for key, match in keyed[0]:
                if key in widest:
                    parts += [sources[0][at:match.start(2)], widest[key]]
                    at = match.end(2)
            layout = "".join(parts) + sources[0][at:]
            self._positioned = render(layout, "dot", self.renderer,
                                      self.timeout).decode("utf-8")
        return self._positioned

    def _widest(self, variants: dict[_Key, list[str]],
                base: list[tuple[_Key | None, re.Match[str]]]) -> dict[_Key, str]:
        """For every key with several variants, the widest, as Graphviz draws it."""
        chosen = {key: texts[0] for key, texts in variants.items()}
        lines = ["digraph measure {"]
        # the graph's own node defaults (their fonts)
        lines += [m.group(0) for key, m in base if key is None and m.group(2).startswith(
            "node [")]
        entries: list[tuple[_Key, str]] = []
        for key, texts in variants.items():
            if len(texts) < 2:
                continue
            for text in texts:
                name = f"m{len(entries)}"
                if isinstance(key, str):  # a node, as itself under another name
                    lines.append(f"\t{name}{text[len(key):]}")
                else:  # the graph's caption, as a cluster's: same fonts
                    lines.append(f"\tsubgraph cluster_{name} {{\n\t\t{text}\n"
                                 f"\t\t{name} [shape=point]\n\t}}")
                entries.append((key, text))
        if not entries:
            return chosen
        svg = render("\n".join([*lines, "}\n"]), "svg", self.renderer, self.timeout)
        widths: dict[str, float] = {}
        for group in ET.fromstring(svg).iter(f"{_SVG}g"):
            title = group.find(f"{_SVG}title")
            if title is not None and title.text and group.get("class") in ("node", "cluster"):
                widths[title.text.removeprefix("cluster_")] = _width(group)
        best: dict[_Key, float] = {}
        for i, (key, text) in enumerate(entries):
            width = widths.get(f"m{i}", 0.0)
            if width > best.get(key, -1.0):
                best[key], chosen[key] = width, text
        return chosen

    def frame(self, source: str) -> str:
        """``source`` (one frame's DOT) drawn in this layout: the positioned DOT, in which
        each node that changes between frames is the frame's own statement at the layout's
        position and size, and the frame's caption."""
        positioned = self.positioned()
        own = {key: match.group(2) for key, match in _statements(source)
               if key in self._varying}

        def swap(match: re.Match[str]) -> str:
            name = match.group(2)
            if name not in own:
                return match.group(0)
            kept = " ".join(f"{k}={_attribute(match.group(3), k)}"
                            for k in ("pos", "width", "height"))
            # the frame's attributes, none of the layout's but where and how large
            return f"{match.group(1)}{name} [{own[name][len(name) + 2:-1]} {kept} fixedsize=true];"

        body = _LAID_OUT.sub(swap, positioned)
        captions = [f"\t{text}\n" for key, text in own.items() if not isinstance(key, str)]
        return body[:body.rindex("}")] + "\tlayout=nop2\n" + "".join(captions) + "}\n"


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------

#: How Graphviz's SVG draws ``style=dashed`` (and so a partial adjoint's box).
_DASHES = "5,2"


class StepThrough:
    """The backward step-through as one widget: the graph drawn once, as SVG (the first
    frame, laid out with room for every frame's adjoint lines; the captions are written
    below it), and each frame of :func:`backward_steps` as a few facts (the node being
    processed, the adjoint lines that change as it begins and whether each is still
    partial, a caption), which a slider, previous/next buttons and the arrow keys apply to
    that one picture in a few lines of plain JavaScript, with no external files: the
    adjoint's text, grey text in a dashed box while it is partial, and the highlight.
    Jupyter shows it inline (``_repr_html_``); :meth:`save` writes it as a page. Without
    JavaScript the first frame still shows.

    One layout, because laying every frame out again made the nodes jump between frames and
    the page grow with the square of the graph (a 50-term sum took 115 s and 50 MB); now the
    nodes cannot move and the page grows with the graph.

    Options are those of :func:`to_dot`, plus ``renderer`` and ``timeout``. The widget
    changes only the value nodes' adjoint lines, fills and partial marks, so it draws every
    node with its role's colour: ``collapse=`` and ``color="grad"`` are refused, and so is a
    graph that would have to be folded to fit ``max_nodes`` is refused with
    :class:`~autograd_mini.viz.GraphTooLargeError`. :func:`backward_steps` (and
    :attr:`frames`) draws those right, one picture per frame.
    """

    def __init__(self, root: Value, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, **options: Any) -> None:
        if options.get("collapse") is not None or options.get("color", "role") != "role":
            raise ValueError("the step-through widget draws every node by its role; for "
                             "folded or gradient-coloured frames, use backward_steps(root, "
                             "collapse=..., color=...), one picture per frame")
        self.root = root
        self.renderer = renderer
        self.timeout = timeout
        self.options = options
        t = Trace(root)
        frames = _sweep(t)
        self._seed = seed = {id(v): value for v, value, _ in frames[0][1]} if frames else {}
        #: the first frame's DOT, as the widget's picture shows it
        # NOTE: never folded to fit max_nodes, since the widget cannot update a folded box
        options = {**options, "fold": False}
        self.source = to_dot(root, adjoints=seed, highlight=frames[0][0] if frames else None,
                             **options)
        names = _node_names(t.nodes, t.index)
        # every value node's own fill, as the picture draws it, to restore it when the
        # highlight moves on
        plain = {key: match.group(2) for key, match in
                 _statements(to_dot(root, adjoints=seed, **options)) if isinstance(key, str)}
        self._fills: dict[str, str] = {}
        for v in t.nodes:
            fill = _attribute(plain.get(names[id(v)], ""), "fillcolor")
            if fill is not None:
                self._fills[names[id(v)]] = fill.strip('"')
        #: per frame: its node, its caption and the adjoint lines that change as it begins
        self._steps: list[dict[str, Any]] = [
            {"node": names[id(node)], "caption": _caption(node, t),
             "set": [] if k == 0 else [[names[id(v)], _grad_line(value, shares),
                                        shares is not None] for v, value, shares in changes]}
            for k, (node, changes) in enumerate(frames)]
        #: every adjoint each node shows after the first frame, in order
        self._shown: dict[int, list[tuple[float, Shares | None]]] = {}
        for _, changes in frames[1:]:
            for v, value, shares in changes:
                self._shown.setdefault(id(v), []).append((value, shares))
        self._layout = _Layout(self._sources, renderer, timeout)
        self._svg: str | None = None
        self._frames: list[StepView] | None = None

    def _sources(self) -> list[str]:
        """DOT sources that together show every adjoint line of every frame, so that the
        layout makes room for each: the first frame's, then for each k one in which every
        node shows the k-th adjoint it takes on (or its last). As many as the most adjoints
        one node takes on (at most its shares), not as many as there are frames: the widget
        changes only the adjoint lines, and the highlight, which takes no room."""
        rounds = max((len(shown) for shown in self._shown.values()), default=0)
        sources = [self.source]
        for k in range(rounds):
            now = {key: shown[min(k, len(shown) - 1)] for key, shown in self._shown.items()}
            adjoints = {**self._seed, **{key: value for key, (value, _) in now.items()}}
            partial = {key: shares for key, (_, shares) in now.items() if shares is not None}
            sources.append(to_dot(self.root, adjoints=adjoints, partial=partial,
                                  **self.options))
        return sources

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def frames(self) -> list[StepView]:
        """The frames as pictures of their own, with their captions (:func:`backward_steps`),
        made when first asked for: the widget itself does not need them."""
        if self._frames is None:
            self._frames = backward_steps(self.root, renderer=self.renderer,
                                          timeout=self.timeout, **self.options)
        return self._frames

    def svg(self) -> str:
        """The one picture, as the first frame shows it; rendered once and kept."""
        if self._svg is None:
            source = self._layout.frame(self.source) if self._steps else self.source
            self._svg = render(source, "svg", self.renderer, self.timeout).decode("utf-8")
        return self._svg

    def data(self) -> dict[str, Any]:
        """What the page's script needs to show every frame: the highlight colour, each value
        node's own fill (by DOT name), how a partial adjoint looks (its text colour and its
        box's dashes), and per frame the ``node`` highlighted, its ``caption`` and ``set``,
        the [node, adjoint line, still partial] triples that change as the frame begins."""
        return {"highlight": COLOURS["highlight"], "fills": self._fills,
                "partial": {"color": PARTIAL["fontcolor"], "dashes": _DASHES},
                "frames": self._steps}

    def html(self, element_id: str = "steps") -> str:
        """The widget as an HTML fragment whose controls act only on the element ``element_id``,
        so several can share a page (and the arrow keys work when it has the focus)."""
        first = self._steps[0]["caption"] if self._steps else ""
        caption = f"step 1 of {len(self._steps)}: {first}" if self._steps else ""
        # in a <script> element only "</" could end it early; \u003c is "<" in JSON
        data = json.dumps(self.data(), ensure_ascii=False, separators=(",", ":"))
        return _fill(_STEPS_WIDGET, ID=element_id, LAST=str(max(len(self._steps) - 1, 0)),
                     SVG=_strip_xml_header(self.svg()), CAPTION=html.escape(caption),
                     DATA=data.replace("<", "\\u003c"))

    def _repr_html_(self) -> str:
        return self.html(f"autograd-mini-steps-{next(_widget_ids)}")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the step-through as one self-contained HTML page, all at once or not at all
        (:func:`~autograd_mini.files.write_atomic`). ``page.html?step=3`` opens it at step 3."""
        return write_atomic(path, _fill(_STEPS_PAGE, WIDGET=self.html()))

    def __repr__(self) -> str:
        return f"<StepThrough of {len(self)} frames; shown inline in Jupyter, or .save()>"


def step_through(root: Value, **options: Any) -> StepThrough:
    """The backward pass of ``root`` step by step, to show in Jupyter or save as a page; the
    options are those of :func:`to_dot`, plus ``renderer`` and ``timeout``."""
    return StepThrough(root, **options)


def save_steps(root: Value, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the backward step-through as one self-contained HTML page; see
    :class:`StepThrough`."""
    return StepThrough(root, **options).save(path)


_widget_ids = itertools.count(1)


def _fill(template: str, **values: str) -> str:
    """``template`` with each ``@@NAME@@`` replaced in one pass, so that a value which happens
    to contain a placeholder (a label such as "@@ID@@") is never replaced in turn."""
    return re.sub(r"@@([A-Z]+)@@", lambda m: values[m.group(1)], template)


_STEPS_WIDGET = """<div id="@@ID@@" class="autograd-mini-steps" tabindex="0" style="outline:none">
<style>
#@@ID@@ .controls { display: flex; gap: 0.6em; align-items: center; margin-bottom: 1em; }
#@@ID@@ figure { margin: 0; } #@@ID@@ figure svg { max-width: 100%; height: auto; }
#@@ID@@ figcaption { margin-top: 0.5em; color: #333; font-family: Helvetica, Arial, sans-serif; }
</style>
<div class="controls">
  <button class="prev">&larr; previous</button>
  <input class="slider" type="range" min="0" max="@@LAST@@" value="0">
  <button class="next">next &rarr;</button>
</div>
<figure class="frame">@@SVG@@
<figcaption>@@CAPTION@@</figcaption></figure>
<script type="application/json" class="frames">@@DATA@@</script>
<script>
(() => {
  const root = document.getElementById("@@ID@@");
  const data = JSON.parse(root.querySelector("script.frames").textContent);
  const frames = data.frames;
  const slider = root.querySelector(".slider");
  const caption = root.querySelector("figcaption");
  const nodes = {};  // DOT name -> its box, its texts, its adjoint line and that line's first text
  root.querySelectorAll("svg g.node").forEach((g) => {
    const title = g.querySelector("title");
    const name = title ? title.textContent : "";
    if (!(name in data.fills)) return;  // an op or a constant
    const texts = Array.from(g.querySelectorAll("text"));
    const grad = texts[texts.length - 1];
    nodes[name] = { box: g.querySelector("path, polygon"), texts, grad,
                    first: grad.textContent };
  });
  function show(k) {
    if (!frames.length) return;
    k = Math.max(0, Math.min(frames.length - 1, k));
    const text = {}, partial = {};
    for (let i = 1; i <= k; i++) {
      frames[i].set.forEach(([name, t, p]) => { text[name] = t; partial[name] = p; });
    }
    for (const [name, node] of Object.entries(nodes)) {
      const on = name === frames[k].node;
      node.grad.textContent = name in text ? text[name] : node.first;
      node.box.setAttribute("fill", on ? data.highlight : data.fills[name]);
      node.box.setAttribute("stroke-width", on ? "2.5" : "1");
      if (partial[name]) {  // a partial sum: grey text in a dashed box
        node.box.setAttribute("stroke-dasharray", data.partial.dashes);
        node.texts.forEach((t) => t.setAttribute("fill", data.partial.color));
      } else {
        node.box.removeAttribute("stroke-dasharray");
        node.texts.forEach((t) => t.removeAttribute("fill"));
      }
    }
    caption.textContent = `step ${k + 1} of ${frames.length}: ${frames[k].caption}`;
    slider.value = k;
  }
  root.autogradMiniShow = show;
  slider.addEventListener("input", () => show(Number(slider.value)));
  root.querySelector(".prev").addEventListener("click", () => show(Number(slider.value) - 1));
  root.querySelector(".next").addEventListener("click", () => show(Number(slider.value) + 1));
  root.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") show(Number(slider.value) - 1);
    if (e.key === "ArrowRight") show(Number(slider.value) + 1);
  });
})();
</script>
</div>"""

_STEPS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Backward pass, step by step</title>
<style>body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; }</style></head>
<body>
<h2>Backward pass, step by step</h2>
<p>Use the slider, the buttons, or the arrow keys once the picture has the focus. A grey
adjoint in a dashed box is still a partial sum: it has received only some of its shares.</p>
@@WIDGET@@
<script>
(() => {
  const steps = document.getElementById("steps");
  steps.focus();
  const step = Number(new URLSearchParams(window.location.search).get("step"));
  if (step > 0 && steps.autogradMiniShow) steps.autogradMiniShow(step - 1);
})();
</script>
</body></html>
"""
