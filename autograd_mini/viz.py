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

import importlib.util
import os
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
    "RENDER_TIMEOUT", "GraphTooLargeError", "GraphView", "Picture", "RenderBudgetError",
    "RenderError", "draw", "number", "render", "to_dot",
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


def number(x: float, digits: int = 6) -> str:
    """``x`` as a picture writes it: ``digits`` significant digits, and never ``-0`` (a
    negative zero, or a tiny negative number rounded to zero, is written ``0``).

    >>> number(-0.0), number(-1e-12, 3), number(2 / 3), number(-2.5)
    ('0', '-1e-12', '0.666667', '-2.5')
    """
    text = f"{x:.{digits}g}"
    return "0" if text in ("-0", "0", "-0.0") else text


_number = number


def _grad_line(value: float | None, shares: tuple[int, int] | None = None) -> str:
    """A node's adjoint line (None: not known yet); ``shares`` = (received, total) marks an
    adjoint that is still a partial sum. The step-through page writes the same text into its
    picture."""
    if value is None:
        return f"grad {NOT_YET}"
    if shares is not None:
        return f"grad {_number(float(value))} so far, {shares[0]} of {shares[1]} shares"
    return f"grad {_number(float(value))}"


#: How a partial adjoint is drawn: grey text in a dashed box.
PARTIAL = {"fontcolor": "#8a8a8a", "style": "filled,rounded,dashed"}


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
           title: str | None = None, partial: Mapping[int, tuple[int, int]] | None = None,
           ) -> str:
    """The graph below ``root`` as DOT source.

    Options:
        rankdir: layout direction, ``"LR"`` (default) or ``"TB"``, ``"RL"``, ``"BT"``.
        edge_labels: write the local partial ∂vᵢ/∂vⱼ on every edge into an op.
        wrt: also show tangents v̇ for this direction (as :class:`~autograd_mini.trace.Trace`).
        parameters: Values to colour as parameters rather than inputs.
        max_nodes: refuse, with :class:`GraphTooLargeError`, a graph with more nodes.
        adjoints: show these adjoints (by node id) instead of ``.grad``; other nodes show
            "not yet computed". Used by the backward step-through.
        partial: nodes (by id) whose adjoint in ``adjoints`` is still a partial sum, with
            (shares received, shares in all): drawn grey and dashed, "2 of 3 shares".
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
        shares = None if partial is None else partial.get(id(v))
        lines.append(_grad_line(known.get(id(v)), shares))
        dot.node(name, graphviz.nohtml("\n".join(lines)), shape="box", style="filled,rounded",
                 fillcolor=fill, penwidth="2.5" if v is highlight else "1",
                 **(PARTIAL if shares is not None else {}))
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
                    d_edge = float(local_partial(v, i, on_values=False))
                    attrs["label"] = graphviz.nohtml(f"∂ {_number(d_edge)}")
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


class Picture:
    """A picture made from DOT source: ``.source``, ``.svg()``, ``.save(path)``, and inline
    display in Jupyter. :class:`GraphView` (a computation graph) and the network diagram of
    :mod:`autograd_mini.diagram` are pictures; ``renderer`` and ``timeout`` are those of
    :func:`render`."""

    def __init__(self, source: str, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, summary: str = "<Picture>") -> None:
        self.source = source
        self.renderer = renderer
        self.timeout = timeout
        self._text = summary

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
        return self._text

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


class GraphView(Picture):
    """A picture of a graph: ``.source`` (DOT), ``.svg()``, ``.save(path)``, and inline display
    in Jupyter. Options are those of :func:`to_dot`, plus ``renderer`` and ``timeout`` (of
    :func:`render`)."""

    def __init__(self, root: Value, *, renderer: Renderer = "auto",
                 timeout: float = RENDER_TIMEOUT, **options: Any) -> None:
        super().__init__(to_dot(root, **options), renderer=renderer, timeout=timeout)
        self.root = root
        self.options = options

    def _summary(self) -> str:
        order = topological_order(self.root)
        ops = sum(1 for v in order if v._op.arity)
        return f"<GraphView of {len(order)} nodes, {ops} ops: {self.root!r}>"


def _role(v: Value, root: Value, params: set[int]) -> str:
    return ("output" if v is root else "parameter" if id(v) in params
            else "input" if v._op is INPUT else "intermediate")


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
