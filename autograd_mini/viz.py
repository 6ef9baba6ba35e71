"""Pictures of a computation graph: DOT, SVG, PNG and PDF, inline in Jupyter or in files, and a
step-by-step picture of the backward pass.

Each value node shows its trace name (v₋₁, v₀, v₁ … as in :mod:`autograd_mini.trace`) and label,
its data, and its adjoint v̄, marked "not yet computed" until a backward pass has run. Each op
is a node of its own with one edge per operand, so ``a + a`` shows two edges into ``+``.
Colours tell the roles apart: inputs, parameters, constants, intermediates and the output.

Rendering needs a Graphviz engine. :func:`render` tries the ``dot`` program on PATH, then
pygraphviz (the ``viz`` extra, whose wheels bundle Graphviz, so no system package is needed),
and otherwise raises :class:`RenderError` saying what to install. Either engine runs in a child
process with a time budget (:data:`RENDER_TIMEOUT`): a layout that would take minutes is
stopped and refused with :class:`RenderBudgetError`, and a crash inside Graphviz cannot take
the Python process (a Jupyter kernel) down with it. Files are written with
:func:`~autograd_mini.files.write_atomic`, so a failed save leaves the old file as it was.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from ._graph import local_partial, operands, topological_order, wengert
from .engine import Value
from .files import write_atomic
from .rules import CONST, INPUT
from .tables import Trace, node_name

__all__ = [
    "RENDER_TIMEOUT", "GraphTooLargeError", "GraphView", "RenderBudgetError", "RenderError",
    "StepThrough", "StepView", "backward_steps", "draw", "render", "save_steps", "step_through",
    "to_dot",
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

#: Seconds a render may take before it is stopped (:class:`RenderBudgetError`). Measured with
#: the bundled Graphviz 14 on a shared two-core machine: the graphs of up to 500 nodes of the
#: usual shapes render as SVG in under 1 s (a 124-term sum of sines built with ``+``, 0.7 s;
#: with ``total``, 0.1 s; a 500-node Fibonacci chain, 0.3 s), so 10 s leaves room for a busy
#: machine. What runs out of it: graphs whose long edges cannot be bundled (each step reusing a
#: random earlier value; 200 such steps take 2 minutes), and PNGs of huge drawings, whose cost
#: is the bitmap (the 124-term sum is 32767 × 14021 pixels, 10 s) rather than the layout.
RENDER_TIMEOUT = 10.0


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: drawing it would be unreadable and slow."""


class RenderBudgetError(GraphTooLargeError):
    """Rendering the graph took longer than the time budget (``timeout``), so it was stopped.

    A subclass of :class:`GraphTooLargeError`: it is the same refusal, measured in seconds
    rather than nodes, since some graphs well under ``max_nodes`` (many long edges between
    unrelated nodes) make Graphviz's layout take minutes.
    """


class RenderError(RuntimeError):
    """No Graphviz engine could render the picture."""


# ---------------------------------------------------------------------------------------------
# DOT
# ---------------------------------------------------------------------------------------------


def _number(x: float) -> str:
    return f"{x:.6g}"


def _grad_line(value: float | None) -> str:
    """A node's adjoint line (None: not known yet); the step-through page writes the same text
    into its picture."""
    return f"grad {NOT_YET}" if value is None else f"grad {_number(float(value))}"


def _node_names(order: list[Value], index: Mapping[int, int]) -> dict[int, str]:
    """The DOT name of every node: ``v<trace index>`` (``vm1`` for v₋₁), constants ``c<k>``."""
    return {id(v): f"c{k}" if v._op is CONST else f"v{index[id(v)]}".replace("-", "m")
            for k, v in enumerate(order)}


#: Compass points for the second, third … edge from one operand into the same op (``a + a``),
#: on the side where edges arrive for each ``rankdir``.
_PORTS = {"LR": ("nw", "sw", "w", "n", "s"), "RL": ("ne", "se", "e", "n", "s"),
          "TB": ("nw", "ne", "n", "w", "e"), "BT": ("sw", "se", "s", "w", "e")}


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

    The layout is steered so that Graphviz stays fast on graphs where one value feeds ops far
    apart, such as ``x`` in sin(x·1) + sin(x·2) + … + sin(x·n) built with ``+``. Every edge
    spanning k ranks costs ``dot`` k − 1 hidden "virtual" nodes, and such a sum has one long
    edge per term, about n² virtual nodes in all (3 400 at n = 60, 7 800 at n = 90); placing
    them (the network simplex of ``dot``'s position phase) took 1.6 s at n = 60, 17 s at
    n = 90 and 114 s at n = 124. So the edges out of a value with several consumers get half
    the weight of the others (``dot`` then keeps each term next to the ``+`` that uses it and
    lets the edges from ``x`` stretch instead), and ``concentrate`` bundles edges that leave
    one node into a single trunk before the nodes are placed, so that the trunk's virtual nodes
    are shared: 0.1 s at n = 60 and 0.7 s at n = 124. Bundling would also merge the edges of
    ``a + a``, so repeated operands arrive at distinct compass points of the op.
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
    names = _node_names(order, index)
    consumers: dict[int, int] = {}  # how many ops use each value (a + a counts once)
    for v in order:
        for operand_id in {id(p) for p in operands(v)}:
            consumers[operand_id] = consumers.get(operand_id, 0) + 1

    dot = graphviz.Digraph(name="autograd_mini",
                           graph_attr={"rankdir": rankdir, "concentrate": "true"})
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9", color="#555555", weight="2")
    if title:
        dot.attr(label=title, labelloc="t", fontname="Helvetica")
    for v in order:
        name = names[id(v)]
        if v._op is CONST:
            dot.node(name, graphviz.nohtml(_number(v.data)), shape="plaintext",
                     style="filled", fillcolor=COLOURS["constant"])
            continue
        fill = COLOURS["highlight"] if v is highlight else COLOURS[_role(v, root, params)]
        heading = node_name(index[id(v)]) + ("" if v.label is None else f"  {v.label}")
        lines = [heading, f"data {_number(v.data)}"]
        if wrt is not None:
            lines.append(f"tangent {_number(float(tangents.get(id(v), 0.0)))}")
        lines.append(_grad_line(known.get(id(v))))
        dot.node(name, graphviz.nohtml("\n".join(lines)), shape="box", style="filled,rounded",
                 fillcolor=fill, penwidth="2.5" if v is highlight else "1")
        if v._op.arity:
            op_name = f"{name}_op"
            dot.node(op_name, graphviz.nohtml(v._op.short), shape="circle", width="0.3",
                     fontsize="14",
                     fixedsize="false", margin="0.02")
            dot.edge(op_name, name)
            args = operands(v)
            repeats: dict[int, int] = {}
            for i, p in enumerate(args):
                attrs = {}
                if consumers[id(p)] > 1:
                    attrs["weight"] = "1"
                if sum(q is p for q in args) > 1:  # a + a: keep both edges visible
                    k = repeats[id(p)] = repeats.get(id(p), -1) + 1
                    ports = _PORTS.get(rankdir, _PORTS["LR"])
                    if k < len(ports):
                        attrs["headport"] = ports[k]
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

def _quiet(stderr: bytes) -> str:
    """Graphviz's messages without the bundled fontconfig's warning about the system
    configuration's ``reset-dirs`` element, printed on every render.

    The fontconfig inside pygraphviz's wheel is older than the system's configuration and
    parses its template directory whatever ``FONTCONFIG_FILE`` says, so the warning cannot be
    prevented; it is filtered instead. Every other line is kept, so real errors are seen.
    """
    return "\n".join(line for line in stderr.decode("utf-8", "replace").splitlines()
                     if "reset-dirs" not in line).strip()


def _over_budget(timeout: float, fmt: str) -> RenderBudgetError:
    bitmap = (" A PNG of a graph this large is a huge bitmap: .svg or .pdf is drawn in a "
              "fraction of the time." if fmt == "png" else "")
    return RenderBudgetError(
        f"rendering the graph as {fmt.upper()} took longer than the time budget of "
        f"{timeout:g} s, so it was stopped. Draw a smaller part of it, or allow more time with "
        "timeout=... (render, draw, GraphView, step_through); .save('g.dot') writes the DOT "
        f"source, to lay out elsewhere.{bitmap}")


def _run(command: list[str], source: str, fmt: str, timeout: float, who: str) -> bytes:
    """Run one Graphviz child with the DOT on its standard input, within ``timeout`` seconds.

    A child rather than pygraphviz in this process, because a layout cannot be interrupted
    from Python once it has started: only a process can be stopped when the budget runs out.
    """
    try:
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:  # the child has been killed
        raise _over_budget(timeout, fmt) from None
    except OSError as error:
        raise RenderError(f"cannot start {who}: {error}") from None
    messages = _quiet(done.stderr)
    if done.returncode != 0:
        detail = (messages.splitlines()[-1] if messages
                  else f"killed by signal {-done.returncode}" if done.returncode < 0
                  else f"exit status {done.returncode}")
        raise RenderError(f"{who} failed: {detail}")
    if messages:  # Graphviz's warnings, passed on
        sys.stderr.write(messages + "\n")
    return done.stdout


def _with_dot(source: str, fmt: str, timeout: float = RENDER_TIMEOUT) -> bytes:
    executable = shutil.which("dot")
    if executable is None:
        raise RenderError("no 'dot' program on PATH")
    return _run([executable, f"-T{fmt}"], source, fmt, timeout, "dot")


#: What the pygraphviz child runs: argv is the format and the folder that holds pygraphviz.
_PYGRAPHVIZ_CHILD = """\
import sys
sys.path.insert(0, sys.argv[2])
import pygraphviz
graph = pygraphviz.AGraph(string=sys.stdin.buffer.read().decode("utf-8"))
sys.stdout.buffer.write(graph.draw(format=sys.argv[1], prog="dot"))
"""


def _with_pygraphviz(source: str, fmt: str, timeout: float = RENDER_TIMEOUT) -> bytes:
    """Render with pygraphviz in a child Python, the same interpreter, told where this
    process found pygraphviz (so a ``sys.path`` changed at run time still works)."""
    spec = importlib.util.find_spec("pygraphviz")
    if spec is None or not spec.submodule_search_locations:
        raise RenderError("pygraphviz is not installed")
    folder = str(Path(next(iter(spec.submodule_search_locations))).parent)
    return _run([sys.executable, "-I", "-c", _PYGRAPHVIZ_CHILD, fmt, folder], source, fmt,
                timeout, "pygraphviz")


def render(source: str, fmt: str = "svg", renderer: Renderer = "auto",
           timeout: float = RENDER_TIMEOUT) -> bytes:
    """Render DOT ``source`` to ``fmt`` (``svg``, ``png``, ``pdf``) with the system ``dot``,
    else pygraphviz; ``renderer`` forces one of them.

    A layout that takes longer than ``timeout`` seconds is stopped with
    :class:`RenderBudgetError` (and the other engine is not tried: it would be as slow).
    """
    if renderer == "dot":
        return _with_dot(source, fmt, timeout)
    if renderer == "pygraphviz":
        return _with_pygraphviz(source, fmt, timeout)
    if renderer != "auto":
        raise ValueError(f"renderer must be 'auto', 'dot' or 'pygraphviz', not {renderer!r}")
    reasons = []
    for attempt in (_with_dot, _with_pygraphviz):
        try:
            return attempt(source, fmt, timeout)
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


def _picture(source: str, target: Path, renderer: Renderer, timeout: float) -> bytes:
    """The bytes of the file ``target`` names: its suffix chooses DOT, SVG, PNG or PDF."""
    suffix = target.suffix.lower().lstrip(".")
    if suffix == "dot":
        return source.encode("utf-8")
    if suffix in ("svg", "png", "pdf"):
        return render(source, suffix, renderer, timeout)
    raise ValueError(f"cannot tell the format from {target.name!r}: "
                     "use a .svg, .png, .pdf or .dot file name")


class GraphView:
    """A picture of a graph: ``.source`` (DOT), ``.svg()``, ``.save(path)``, and inline display
    in Jupyter. Options are those of :func:`to_dot`, plus ``renderer`` and ``timeout`` (of
    :func:`render`)."""

    def __init__(self, root: Value, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, **options: Any) -> None:
        self.root = root
        self.renderer = renderer
        self.timeout = timeout
        self.options = options
        self.source = to_dot(root, **options)

    def svg(self) -> str:
        """The picture as SVG text."""
        return render(self.source, "svg", self.renderer, self.timeout).decode("utf-8")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the picture; the suffix chooses the format: .svg, .png, .pdf or .dot.

        The picture is rendered in full before the file is touched, and then replaces it in
        one step (:func:`~autograd_mini.files.write_atomic`): a failed render, a full disk or
        an interrupt leaves the old file as it was.
        """
        target = Path(path)
        return write_atomic(target, _picture(self.source, target, self.renderer, self.timeout))

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


def _role(v: Value, root: Value, params: set[int]) -> str:
    return ("output" if v is root else "parameter" if id(v) in params
            else "input" if v._op is INPUT else "intermediate")


def step_through(root: Value, **options: Any) -> StepThrough:
    """The backward pass of ``root`` step by step, to show in Jupyter or save as a page; the
    options are those of :func:`to_dot`, plus ``renderer`` and ``timeout``."""
    return StepThrough(root, **options)


def save_steps(root: Value, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the backward step-through as one self-contained HTML page; see
    :class:`StepThrough`."""
    return StepThrough(root, **options).save(path)


_widget_ids = itertools.count(1)


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


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
