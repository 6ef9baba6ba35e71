"""The backward pass step by step: one frame per node, in reverse topological order, as
pictures of their own (:func:`backward_steps`) or as one widget over a single layout
(:class:`StepThrough`, :func:`step_through`, :func:`save_steps`).

The frames come from the trace's reverse sweep (:class:`autograd_mini.tables.Trace`), so the
pictures and the adjoint table always agree.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

from ._graph import topological_order
from .engine import Value
from .files import write_atomic
from .rules import CONST
from .tables import Trace, node_name
from .viz import (
    COLOURS,
    RENDER_TIMEOUT,
    GraphView,
    Renderer,
    _grad_line,
    _node_names,
    _role,
    _strip_xml_header,
    render,
    to_dot,
)

__all__ = ["StepThrough", "StepView", "backward_steps", "save_steps", "step_through"]


# ---------------------------------------------------------------------------------------------


def _sweep(t: Trace) -> tuple[dict[int, float], list[tuple[Value, list[tuple[Value, float]]]]]:
    """The trace's reverse sweep cut into frames, one per node in reverse topological order.

    Returns the adjoints known before the first frame (the seed v̄ₗ = 1, by node id) and, for
    each frame, its node and the adjoint updates (operand, v̄ after the step) made while that
    node is processed; they show from the next frame on. Updates rather than whole tables, so
    that the frames together are as large as the trace, not as the number of nodes squared.
    """
    seed: dict[int, float] = {}
    rows = iter(t.adjoints)
    pending = next(rows, None)
    if pending is not None and pending.consumer is None:  # the seed v̄ₗ = 1
        seed[id(pending.node)] = pending.value
        pending = next(rows, None)
    steps: list[tuple[Value, list[tuple[Value, float]]]] = []
    for node in reversed(t.nodes):
        updates: list[tuple[Value, float]] = []
        while pending is not None and pending.consumer is node:
            updates.append((pending.node, pending.value))
            pending = next(rows, None)
        steps.append((node, updates))
    return seed, steps


def _caption(node: Value, t: Trace) -> str:
    name = node_name(t.index[id(node)])
    return (f"{name}'s adjoint is complete; next it passes v̄ to its operands" if node._op.arity
            else f"{name} is an input: ∂f/∂{node.label or name} is complete")


def backward_steps(root: Value, **options: Any) -> list[StepView]:
    """One picture per node, in reverse topological order: the node being processed is
    highlighted, and every adjoint known at that moment is shown (its own is complete, since
    all of its consumers have been processed). The adjoints come from the trace's reverse
    sweep, so the pictures and :func:`autograd_mini.trace` always agree.

    Each frame is a picture of its own, laid out on its own; :class:`StepThrough` shows all of
    them with one layout instead."""
    t = Trace(root)
    seed, steps = _sweep(t)
    known = dict(seed)
    frames: list[StepView] = []
    for node, updates in steps:
        frames.append(StepView(root, node, dict(known), options, t))
        for operand, value in updates:
            known[id(operand)] = value
    return frames


class StepView(GraphView):
    """One frame of :func:`backward_steps`: the picture, the ``node`` being processed and a
    ``caption`` that says what happens."""

    def __init__(self, root: Value, node: Value, known: dict[int, float],
                 options: dict[str, Any], t: Trace) -> None:
        caption = _caption(node, t)
        super().__init__(root, adjoints=known, highlight=node, title=caption, **options)
        self.node = node
        self.caption = caption


class StepThrough:
    """The backward step-through as one widget: the graph laid out and rendered once, as SVG,
    and each frame of :func:`backward_steps` as a few facts (the node being processed, the
    adjoints that changed since the previous frame, a caption), which a slider, previous/next
    buttons and the arrow keys apply to that one picture in a few lines of plain JavaScript,
    with no external files. Jupyter shows it inline (``_repr_html_``); :meth:`save` writes it
    as a page. Without JavaScript the first frame still shows.

    One layout, because laying every frame out again made the nodes jump between frames and
    the page grow with the square of the graph (a 50-term sum took 115 s and 50 MB); now the
    nodes cannot move and the page grows with the graph. The picture is rendered as the first
    frame, where every adjoint but the seed reads "not yet computed": wider than any number
    that replaces it later (at most 13 characters, such as -1.23457e+100), so every box
    already fits the text of every frame.

    Options are those of :func:`to_dot`, plus ``renderer`` and ``timeout``.
    """

    def __init__(self, root: Value, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, **options: Any) -> None:
        self.root = root
        self.renderer = renderer
        self.timeout = timeout
        self.options = options
        t = Trace(root)
        seed, steps = _sweep(t)
        first = steps[0][0] if steps else None
        self.source = to_dot(root, adjoints=seed, highlight=first, **options)
        order = topological_order(root)
        names = _node_names(order, t.index)
        params = {id(p) for p in options.get("parameters", ())}
        #: every value node's own fill, to restore it when the highlight moves on
        self._fills = {names[id(v)]: COLOURS[_role(v, root, params)]
                       for v in order if v._op is not CONST}
        #: per frame: its node, its caption and the adjoint texts that change as it begins
        self._steps: list[dict[str, Any]] = []
        changed: list[tuple[Value, float]] = []
        for node, updates in steps:
            self._steps.append({
                "node": names[id(node)], "caption": _caption(node, t),
                "set": [[names[id(v)], _grad_line(value)] for v, value in changed]})
            changed = updates
        self._svg: str | None = None
        self._frames: list[StepView] | None = None

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def frames(self) -> list[StepView]:
        """The frames as pictures of their own (:func:`backward_steps`), made when first asked
        for: the widget itself does not need them."""
        if self._frames is None:
            self._frames = backward_steps(self.root, renderer=self.renderer,
                                          timeout=self.timeout, **self.options)
        return self._frames

    def svg(self) -> str:
        """The one picture, as the first frame shows it; rendered once and kept."""
        if self._svg is None:
            self._svg = render(self.source, "svg", self.renderer, self.timeout).decode("utf-8")
        return self._svg

    def data(self) -> dict[str, Any]:
        """What the page's script needs to show every frame: the highlight colour, each value
        node's own fill (by DOT name), and per frame the ``node`` highlighted, its ``caption``
        and ``set``, the [node, adjoint text] pairs that change as the frame begins."""
        return {"highlight": COLOURS["highlight"], "fills": self._fills, "frames": self._steps}

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
  const nodes = {};  // DOT name -> its box, its adjoint line and that line's first-frame text
  root.querySelectorAll("svg g.node").forEach((g) => {
    const title = g.querySelector("title");
    const name = title ? title.textContent : "";
    if (!(name in data.fills)) return;  // an op or a constant
    const texts = g.querySelectorAll("text");
    const grad = texts[texts.length - 1];
    nodes[name] = { box: g.querySelector("path, polygon"), grad, first: grad.textContent };
  });
  function show(k) {
    if (!frames.length) return;
    k = Math.max(0, Math.min(frames.length - 1, k));
    const text = {};
    for (let i = 1; i <= k; i++) frames[i].set.forEach(([name, t]) => { text[name] = t; });
    for (const [name, node] of Object.entries(nodes)) {
      const on = name === frames[k].node;
      node.grad.textContent = name in text ? text[name] : node.first;
      node.box.setAttribute("fill", on ? data.highlight : data.fills[name]);
      node.box.setAttribute("stroke-width", on ? "2.5" : "1");
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
<p>Use the slider, the buttons, or the arrow keys once the picture has the focus.</p>
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
