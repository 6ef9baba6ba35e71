"""Pictures of a computation graph: DOT, SVG, PNG and PDF, inline in Jupyter or in files, and a
step-by-step picture of the backward pass.

Each value node shows its trace name (v₋₁, v₀, v₁ … as in :mod:`autograd_mini.trace`) and label,
its data, and its adjoint v̄, marked "not yet computed" until a backward pass has run. Each op
is a node of its own with one edge per operand, so ``a + a`` shows two edges into ``+``.
Colours tell the roles apart: inputs, parameters, constants, intermediates and the output.

Rendering needs a Graphviz engine. :func:`render` tries the ``dot`` program on PATH, then
pygraphviz (the ``viz`` extra, whose wheels bundle Graphviz, so no system package is needed),
and otherwise raises :class:`RenderError` saying what to install.
"""

from __future__ import annotations

import html
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from ._graph import local_partial, operands, topological_order, wengert
from .engine import Value
from .rules import CONST, INPUT
from .tables import Trace, node_name

__all__ = [
    "GraphTooLargeError", "GraphView", "RenderError", "StepThrough", "StepView", "backward_steps",
    "draw", "render", "save_steps", "step_through", "to_dot",
]

Renderer = Literal["auto", "dot", "pygraphviz"]

#: Fill colours by role.
COLOURS = {
    "input": "#cfe8ff",
    "parameter": "#ffe3b3",
    "constant": "#eeeeee",
    "intermediate": "#ffffff",
    "output": "#c9f0c9",
    "highlight": "#ffd54f",
}
NOT_YET = "not yet computed"


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: drawing it would be unreadable and slow."""


class RenderError(RuntimeError):
    """No Graphviz engine could render the picture."""


# ---------------------------------------------------------------------------------------------
# DOT
# ---------------------------------------------------------------------------------------------


def _number(x: float) -> str:
    return f"{x:.6g}"


def to_dot(root: Value, *, rankdir: Literal["LR", "TB", "RL", "BT"] = "LR",
           edge_labels: bool = False, wrt: Any = None,
           parameters: Iterable[Value] = (), max_nodes: int = 500,
           adjoints: Mapping[int, float] | None = None, highlight: Value | None = None,
           title: str | None = None) -> str:
    """The graph below ``root`` as DOT source.

    Options:
        rankdir: layout direction, ``"LR"`` (default) or ``"TB"``, ``"RL"``, ``"BT"``.
        edge_labels: write the local partial ∂vᵢ/∂vⱼ on every edge into an op.
        wrt: also show tangents v̇ for this direction (as :class:`~autograd_mini.trace.Trace`).
        parameters: Values to colour as parameters rather than inputs.
        max_nodes: refuse, with :class:`GraphTooLargeError`, a graph with more nodes.
        adjoints: show these adjoints (by node id) instead of ``.grad``; other nodes show
            "not yet computed". Used by the backward step-through.
        highlight: a node to highlight.
        title: a caption.

    The same graph always gives byte-identical DOT: node names come from the trace numbering.
    """
    import graphviz  # the DOT writer, a dependency; imported here so that importing the
    # package does not load it

    order = topological_order(root)
    if len(order) > max_nodes:
        raise GraphTooLargeError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}; draw a "
            f"smaller part of it, or pass max_nodes={len(order)} to draw it all")
    _, index = wengert(root)
    params = {id(p) for p in parameters}
    # Before any backward pass the root's adjoint is 0: then no adjoint is known yet.
    known = adjoints if adjoints is not None else (
        {id(v): v.grad for v in order} if _has_adjoints(root) else {})
    # the trace's own tangent table, so that picture and table always agree
    tangents = {} if wrt is None else {id(row.node): row.value
                                       for row in Trace(root, wrt).tangents}

    names: dict[int, str] = {}
    for k, v in enumerate(order):
        names[id(v)] = f"c{k}" if v._op is CONST else f"v{index[id(v)]}".replace("-", "m")

    dot = graphviz.Digraph(name="autograd_mini", graph_attr={"rankdir": rankdir})
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")
    if title:
        dot.attr(label=title, labelloc="t", fontname="Helvetica")
    for v in order:
        name = names[id(v)]
        if v._op is CONST:
            dot.node(name, graphviz.nohtml(_number(v.data)), shape="plaintext",
                     style="filled", fillcolor=COLOURS["constant"])
            continue
        role = ("output" if v is root else "parameter" if id(v) in params
                else "input" if v._op is INPUT else "intermediate")
        fill = COLOURS["highlight"] if v is highlight else COLOURS[role]
        heading = node_name(index[id(v)]) + ("" if v.label is None else f"  {v.label}")
        lines = [heading, f"data {_number(v.data)}"]
        if wrt is not None:
            lines.append(f"tangent {_number(float(tangents.get(id(v), 0.0)))}")
        lines.append(f"grad {_number(float(known[id(v)]))}" if id(v) in known
                     else f"grad {NOT_YET}")
        dot.node(name, graphviz.nohtml("\n".join(lines)), shape="box", style="filled,rounded",
                 fillcolor=fill, penwidth="2.5" if v is highlight else "1")
        if v._op.arity:
            op_name = f"{name}_op"
            dot.node(op_name, graphviz.nohtml(v._op.short), shape="circle", width="0.3",
                     fontsize="14",
                     fixedsize="false", margin="0.02")
            dot.edge(op_name, name)
            for i, p in enumerate(operands(v)):
                attrs = {}
                if edge_labels and p._op is not CONST:
                    partial = float(local_partial(v, i, on_values=False))
                    attrs["label"] = graphviz.nohtml(f"∂ {_number(partial)}")
                dot.edge(names[id(p)], op_name, **attrs)
    return str(dot.source)


def _has_adjoints(root: Value) -> bool:
    g = root.grad
    return bool(g.data if isinstance(g, Value) else g)


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

@contextmanager
def _without_fontconfig_noise() -> Iterator[None]:
    """Drop the bundled fontconfig's warning about the system configuration's ``reset-dirs``
    element, printed to file descriptor 2 on every render.

    The fontconfig inside pygraphviz's wheel is older than the system's configuration and
    parses its template directory whatever ``FONTCONFIG_FILE`` says, so the warning cannot be
    prevented; it is filtered instead. Every other line is passed on, so real errors are seen.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode("utf-8", "replace").splitlines()
                    if "reset-dirs" not in line]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def _with_dot(source: str, fmt: str) -> bytes:
    executable = shutil.which("dot")
    if executable is None:
        raise RenderError("no 'dot' program on PATH")
    done = subprocess.run([executable, f"-T{fmt}"], input=source.encode("utf-8"),
                          capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RenderError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _with_pygraphviz(source: str, fmt: str) -> bytes:
    try:
        import pygraphviz
    except ImportError as error:
        raise RenderError("pygraphviz is not installed") from error
    graph = pygraphviz.AGraph(string=source)
    with _without_fontconfig_noise():
        data = graph.draw(format=fmt, prog="dot")
    return bytes(data)


def render(source: str, fmt: str = "svg", renderer: Renderer = "auto") -> bytes:
    """Render DOT ``source`` to ``fmt`` (``svg``, ``png``, ``pdf``) with the system ``dot``,
    else pygraphviz; ``renderer`` forces one of them."""
    if renderer == "dot":
        return _with_dot(source, fmt)
    if renderer == "pygraphviz":
        return _with_pygraphviz(source, fmt)
    if renderer != "auto":
        raise ValueError(f"renderer must be 'auto', 'dot' or 'pygraphviz', not {renderer!r}")
    reasons = []
    for attempt in (_with_dot, _with_pygraphviz):
        try:
            return attempt(source, fmt)
        except RenderError as error:
            reasons.append(str(error))
    raise RenderError(
        "cannot render the graph: " + "; ".join(reasons) + ". Install the viz extra "
        "(pip install 'autograd-mini[viz]', which needs no system package) or Graphviz "
        "(which provides 'dot'). The DOT source is available as .source, and .save('g.dot') "
        "writes it.")


def draw(root: Value, **options: Any) -> GraphView:
    """A picture of ``root``'s graph, shown inline in Jupyter and saved with ``.save(path)``;
    the options are those of :func:`to_dot`, plus ``renderer``.

    >>> from autograd_mini import Value
    >>> x = Value(2.0, label="x")
    >>> draw(x * x).source.count("v0 -> v1_op")   # x feeds the product twice
    2
    """
    return GraphView(root, **options)


class GraphView:
    """A picture of a graph: ``.source`` (DOT), ``.svg()``, ``.save(path)``, and inline display
    in Jupyter. Options are those of :func:`to_dot`, plus ``renderer``."""

    def __init__(self, root: Value, *, renderer: Renderer = "auto", **options: Any) -> None:
        self.root = root
        self.renderer = renderer
        self.options = options
        self.source = to_dot(root, **options)

    def svg(self) -> str:
        """The picture as SVG text."""
        return render(self.source, "svg", self.renderer).decode("utf-8")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the picture; the suffix chooses the format: .svg, .png, .pdf or .dot."""
        target = Path(path)
        suffix = target.suffix.lower().lstrip(".")
        if suffix == "dot":
            target.write_text(self.source, encoding="utf-8")
        elif suffix in ("svg", "png", "pdf"):
            target.write_bytes(render(self.source, suffix, self.renderer))
        else:
            raise ValueError(f"cannot tell the format from {target.name!r}: "
                             "use a .svg, .png, .pdf or .dot file name")
        return target

    def _summary(self) -> str:
        order = topological_order(self.root)
        ops = sum(1 for v in order if v._op.arity)
        return f"<GraphView of {len(order)} nodes, {ops} ops: {self.root!r}>"

    def __repr__(self) -> str:
        return self._summary()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """The picture for Jupyter, plus a plain-text description. Never raises: if nothing can
        render, the text says why.

        Front ends prefer ``text/html``: the SVG inline, styled to shrink to the cell's width,
        since JupyterLab shows ``image/svg+xml`` at its natural size and crops a wide graph.
        ``image/svg+xml`` stays for exports that want an image.
        """
        bundle = {"text/plain": self._summary()}
        try:
            svg = self.svg()
        except Exception as error:  # a notebook cell must still show something useful
            bundle["text/plain"] += f"\n(no picture: {error})"
            return bundle
        bundle["image/svg+xml"] = svg
        bundle["text/html"] = _strip_xml_header(svg).replace(
            "<svg ", '<svg style="max-width:100%;height:auto" ', 1)
        return bundle


# ---------------------------------------------------------------------------------------------
# The backward pass, step by step
# ---------------------------------------------------------------------------------------------


def backward_steps(root: Value, **options: Any) -> list[StepView]:
    """One picture per node, in reverse topological order: the node being processed is
    highlighted, and every adjoint known at that moment is shown (its own is complete, since
    all of its consumers have been processed). The adjoints come from the trace's reverse
    sweep, so the pictures and :func:`autograd_mini.trace` always agree."""
    t = Trace(root)
    known: dict[int, float] = {}
    frames: list[StepView] = []
    rows = iter(t.adjoints)
    pending = next(rows, None)
    if pending is not None and pending.consumer is None:  # the seed v̄ₗ = 1
        known[id(pending.node)] = pending.value
        pending = next(rows, None)
    for node in reversed(t.nodes):
        frames.append(StepView(root, node, dict(known), options, t))
        while pending is not None and pending.consumer is node:
            known[id(pending.node)] = pending.value
            pending = next(rows, None)
    return frames


class StepView(GraphView):
    """One frame of :func:`backward_steps`: the picture, the ``node`` being processed and a
    ``caption`` that says what happens."""

    def __init__(self, root: Value, node: Value, known: dict[int, float],
                 options: dict[str, Any], t: Trace) -> None:
        name = node_name(t.index[id(node)])
        caption = (f"{name}'s adjoint is complete; next it passes v̄ to its operands"
                   if node._op.arity
                   else f"{name} is an input: ∂f/∂{node.label or name} is complete")
        super().__init__(root, adjoints=known, highlight=node, title=caption, **options)
        self.node = node
        self.caption = caption


class StepThrough:
    """The backward step-through as one widget: every frame of :func:`backward_steps` inlined as
    SVG, with a slider and previous/next buttons in a few lines of plain JavaScript and no
    external files. Jupyter shows it inline (``_repr_html_``); :meth:`save` writes it as a page.
    Without JavaScript the first frame still shows.
    """

    def __init__(self, root: Value, **options: Any) -> None:
        self.frames = backward_steps(root, **options)

    def __len__(self) -> int:
        return len(self.frames)

    def html(self, element_id: str = "steps") -> str:
        """The widget as an HTML fragment whose controls act only on the element ``element_id``,
        so several can share a page (and the arrow keys work when it has the focus)."""
        figures = "\n".join(
            f'<figure class="frame" style="display:{"block" if k == 0 else "none"}">'
            f"{_strip_xml_header(frame.svg())}"
            f"<figcaption>step {k + 1} of {len(self.frames)}: {html.escape(frame.caption)}"
            f"</figcaption></figure>"
            for k, frame in enumerate(self.frames))
        return (_STEPS_WIDGET.replace("%ID%", element_id).replace("%FRAMES%", figures)
                .replace("%LAST%", str(len(self.frames) - 1)))

    def _repr_html_(self) -> str:
        return self.html(f"autograd-mini-steps-{next(_widget_ids)}")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the step-through as one self-contained HTML page."""
        target = Path(path)
        target.write_text(_STEPS_PAGE.replace("%WIDGET%", self.html()), encoding="utf-8")
        return target

    def __repr__(self) -> str:
        return f"<StepThrough of {len(self.frames)} frames; shown inline in Jupyter, or .save()>"


def step_through(root: Value, **options: Any) -> StepThrough:
    """The backward pass of ``root`` step by step, to show in Jupyter or save as a page; the
    options are those of :func:`to_dot`."""
    return StepThrough(root, **options)


def save_steps(root: Value, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the backward step-through as one self-contained HTML page; see
    :class:`StepThrough`."""
    return StepThrough(root, **options).save(path)


_widget_ids = itertools.count(1)


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


_STEPS_WIDGET = """<div id="%ID%" class="autograd-mini-steps" tabindex="0" style="outline:none">
<style>
#%ID% .controls { display: flex; gap: 0.6em; align-items: center; margin-bottom: 1em; }
#%ID% figure { margin: 0; } #%ID% figure svg { max-width: 100%; height: auto; }
#%ID% figcaption { margin-top: 0.5em; color: #333; font-family: Helvetica, Arial, sans-serif; }
</style>
<div class="controls">
  <button class="prev">&larr; previous</button>
  <input class="slider" type="range" min="0" max="%LAST%" value="0">
  <button class="next">next &rarr;</button>
</div>
%FRAMES%
<script>
(() => {
  const root = document.getElementById("%ID%");
  const frames = root.querySelectorAll(".frame");
  const slider = root.querySelector(".slider");
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach((f, i) => { f.style.display = i === k ? "block" : "none"; });
    slider.value = k;
  }
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
<p>Use the slider, the buttons, or the arrow keys once the pictures have the focus.</p>
%WIDGET%
<script>document.getElementById("steps").focus();</script>
</body></html>
"""
