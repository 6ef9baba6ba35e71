"""Pictures of a computation graph: DOT, SVG, PNG and PDF, inline in Jupyter or in files, with
groups that fold (an MLP's neurons and layers, or your own) and parts cut by depth. The
backward pass step by step is :mod:`autograd_mini.steps`; the network diagram,
:mod:`autograd_mini.diagram`.

Each value node shows its trace name (v₋₁, v₀, v₁ … as in :mod:`autograd_mini.tables`) and label,
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
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from ._graph import local_partial, operands, topological_order, wengert
from .engine import Group, Value, group_of, site_of
from .files import write_atomic
from .rules import CONST, INPUT
from .tables import Trace, node_name

__all__ = [
    "RENDER_TIMEOUT", "SUMMARIES", "GraphTooLargeError", "GraphView", "Picture",
    "RenderBudgetError", "RenderError", "draw", "literal", "number", "render", "to_dot",
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
    "group": "#e6e0f5",
    "zero": "#f2f2f2",
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


def literal(text: str) -> Any:
    """``text`` as a Graphviz label that shows it as it is: never HTML-like markup (a label
    such as ``<b>``) and never an escape sequence (Graphviz reads ``\\N`` as the node's
    name, ``\\G`` as the graph's, ``\\l`` as a line break): every backslash is doubled."""
    import graphviz

    return graphviz.nohtml(text.replace("\\", "\\\\"))


_literal = literal


#: Compass points for the second, third … edge from one operand into the same op (``a + a``),
#: on the side where edges arrive for each ``rankdir``.
_PORTS = {"LR": ("nw", "sw", "w", "n", "s"), "RL": ("ne", "se", "e", "n", "s"),
          "TB": ("nw", "ne", "n", "w", "e"), "BT": ("sw", "se", "s", "w", "e")}


#: How a folded group of each kind writes its box, below its name and detail: a function of
#: the group, the nodes of it that the picture shows, and a node's adjoint as the picture
#: shows it (None where it is not yet computed). :mod:`autograd_mini.nn` adds ``"neuron"``
#: (z, a, δ and |∂C/∂w|) and ``"layer"``; any other kind gets its size and its output.
SUMMARIES: dict[str, Callable[[Group, list[Value], Callable[[Value], float | None]],
                              list[str]]] = {}

#: The default of ``max_nodes``: a picture with more nodes than this is folded, or refused.
MAX_NODES = 200
#: The default ``size``: the largest drawing, in inches (Graphviz scales larger ones down), so
#: that a PNG is at most 3 840 pixels a side at Graphviz's 96 dpi for bitmaps.
SIZE = "40,40"


def to_dot(root: Value, *, rankdir: Literal["LR", "TB", "RL", "BT"] = "LR",
           edge_labels: bool = False, wrt: Any = None,
           parameters: Iterable[Value] = (), max_nodes: int = MAX_NODES,
           adjoints: Mapping[int, float] | None = None, highlight: Value | None = None,
           title: str | None = None, partial: Mapping[int, tuple[int, int]] | None = None,
           collapse: str | None = None, depth: int | None = None,
           stop_at: Iterable[Value] = (), color: Literal["role", "grad"] = "role",
           size: str | tuple[float, float] | None = SIZE, dpi: float | None = None,
           fold: bool = True) -> str:
    """The graph below ``root`` as DOT source.

    Options:
        rankdir: layout direction, ``"LR"`` (default) or ``"TB"``, ``"RL"``, ``"BT"``.
        edge_labels: write the local partial ∂vᵢ/∂vⱼ on every edge into an op.
        wrt: also show tangents v̇ for this direction (as :class:`~autograd_mini.tables.Trace`).
        parameters: Values to colour as parameters rather than inputs. The parameters of an
            :mod:`~autograd_mini.nn` module are coloured so without it.
        max_nodes: the most nodes a readable picture has. A larger graph is folded (see
            below), and refused with :class:`GraphTooLargeError` only if even its coarsest
            folding is larger.
        adjoints: show these adjoints (by node id) instead of ``.grad``; other nodes show
            "not yet computed". Used by the backward step-through.
        partial: nodes (by id) whose adjoint in ``adjoints`` is still a partial sum, with
            (shares received, shares in all): drawn grey and dashed, "2 of 3 shares".
        highlight: a node to highlight.
        title: a caption.
        collapse: fold every group of this kind into one box: ``"neuron"``, ``"layer"`` (the
            groups of :mod:`~autograd_mini.nn`), ``"loss"``, or the kind of your own groups
            (:func:`autograd_mini.group`, ``"group"`` by default). Groups that are not folded
            are drawn as clusters.
        depth: draw only the nodes at most this many edges above the root (0: the root).
        stop_at: nodes drawn without what lies below them, to draw a part of a graph (a
            node that is not in the graph stops nothing).
        color: ``"role"`` (inputs, parameters, constants, intermediates, output) or
            ``"grad"``: fill by the size of the adjoint |v̄|, with a legend (a folded group
            by the largest inside it).
        fold: fold groups when the picture would have more than ``max_nodes`` nodes (the
            default), or refuse such a picture (what the step-through widget needs).
        size, dpi: Graphviz's ``size``, the largest drawing in inches, as ``"w,h"`` or
            ``(w, h)`` (a larger one is scaled down to fit, so that a PNG stays a bitmap of a
            readable size; None: no limit), and ``dpi``.

    A cut is marked: a node whose operands are left out by ``depth`` or ``stop_at`` is fed
    by a "⋯" that says how many. Nodes keep their trace names (v₋₁, v₀, v₁ …) whatever is
    drawn, so a part of a graph and its trace table still agree.

    Folding. When the picture would have more than ``max_nodes`` nodes, the finest folding
    that fits is drawn instead, and the caption says so: first the innermost groups (an
    MLP's neurons), then the groups around them (its layers), and so on. A folded group is
    one box: its name and what its ``summary`` says (a neuron's z, a, δ and its parameters);
    a constant read only inside one group is folded with it.

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

    if color not in ("role", "grad"):
        raise ValueError(f"color must be 'role' or 'grad', not {color!r}")
    order, cut = _reach(root, depth, stop_at)
    plan = _fold(order, root, collapse, max_nodes, fold)
    _, index = wengert(root)
    params = {id(p) for p in parameters}
    # Before any backward pass the root's adjoint is 0: then no adjoint is known yet.
    known = adjoints if adjoints is not None else (
        {id(v): v.grad for v in order} if _has_adjoints(root) else {})

    def adjoint(v: Value) -> float | None:
        g = known.get(id(v))
        return None if g is None else float(g.data if isinstance(g, Value) else g)

    # the trace's own tangent table, so that picture and table always agree
    tangents = {} if wrt is None else {id(row.node): row.value
                                       for row in Trace(root, wrt).tangents}
    names = _node_names(order, index)
    consumers: dict[int, int] = {}  # how many ops use each value (a + a counts once)
    for v in order:
        for operand_id in {id(p) for p in operands(v)}:
            consumers[operand_id] = consumers.get(operand_id, 0) + 1
    # by |v̄| of what is drawn: a value node's own, a folded group's largest
    drawn = ([adjoint(v) for v in order if v._op is not CONST and id(v) not in plan.box]
             + [_box_adjoint(members, adjoint) for members in plan.members.values()])
    shade = _shades(drawn) if color == "grad" else None

    # Clusters: every group that is drawn open, nested as the groups are.
    clusters: dict[int, Any] = {}
    outer: list[tuple[Any, Any]] = []  # (cluster graph, its parent's graph), innermost last

    dot = graphviz.Digraph(name="autograd_mini",
                           graph_attr={"rankdir": rankdir,
                                       "concentrate": "true"})
    if size:
        dot.attr(size=_size(size))
    if dpi:
        dot.attr(dpi=f"{dpi:g}")
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9", color="#555555", weight="2")
    caption = "\n".join(t for t in (title, plan.note) if t)
    if caption:
        dot.attr(label=_literal(caption), labelloc="t", fontname="Helvetica")

    def home(path: list[Group]) -> Any:
        """The graph (a cluster or the picture itself) where a node with this group path
        lives, making the clusters it needs."""
        graph = dot
        for g in path:
            key = id(g)
            if key not in clusters:
                sub = graphviz.Digraph(name=f"cluster_{plan.groups[key]}")
                sub.attr(label=_literal(g.name), style="rounded,dashed", color="#9a8fbf",
                         fontname="Helvetica", fontsize="10", fontcolor="#5b4f8a")
                clusters[key] = sub
                outer.append((sub, graph))
            graph = clusters[key]
        return graph

    for v in order:
        key = id(v)
        box = plan.box.get(key)
        if box is not None:
            if plan.first.get(id(box)) == key:  # the box is drawn where its first node is
                inside = plan.members[id(box)]
                describe = SUMMARIES.get(box.kind)
                lines = [box.name, *([box.detail] if box.detail else []),
                         *(describe(box, inside, adjoint) if describe is not None
                           else _group_lines(inside, adjoint))]
                is_root = any(m is root for m in inside)
                lit = highlight is not None and any(m is highlight for m in inside)
                fill = (COLOURS["highlight"] if lit else shade(_box_adjoint(inside, adjoint))
                        if shade is not None else COLOURS["output"] if is_root
                        else COLOURS["group"])
                home(plan.open_path(v)).node(
                    plan.box_name(box), _literal("\n".join(lines)), shape="box",
                    style="filled,bold", peripheries="2", fillcolor=fill,
                    penwidth="2.5" if lit else "1",
                    **({"fontcolor": "white"} if fill in _RAMP[-2:] else {}))
            continue
        graph = home(plan.open_path(v))
        name = names[key]
        if v._op is CONST:
            graph.node(name, _literal(_constant_text(v.data)), shape="plaintext",
                       style="filled", fillcolor=COLOURS["constant"])
            continue
        if v is highlight:
            fill = COLOURS["highlight"]
        elif shade is not None:
            fill = shade(adjoint(v))
        else:
            fill = COLOURS[_role(v, root, params)]
        ink = {"fontcolor": "white"} if fill in _RAMP[-2:] else {}
        heading = node_name(index[key]) + ("" if v.label is None else f"  {v.label}")
        lines = [heading, f"data {_number(v.data)}"]
        if wrt is not None:
            lines.append(f"tangent {_number(float(tangents.get(key, 0.0)))}")
        shares = None if partial is None else partial.get(key)
        lines.append(_grad_line(adjoint(v), shares))
        look = {"style": "filled,rounded", **(PARTIAL if shares is not None else ink)}
        graph.node(name, _literal("\n".join(lines)), shape="box", fillcolor=fill,
                   penwidth="2.5" if v is highlight else "1", **look)
        if not v._op.arity:
            continue
        op_name = f"{name}_op"
        site = site_of(v)  # recorded in anomaly mode: shown when the pointer rests on the op
        made = {} if site is None else {"tooltip": _literal(f"made at {site}")}
        graph.node(op_name, _literal(_symbol(v)), shape="circle", width="0.3",
                   fontsize="14", fixedsize="false", margin="0.02", **made)
        dot.edge(op_name, name)
        if key in cut:
            hidden = cut[key]
            graph.node(f"{name}_cut", _literal(f"⋯ {hidden} not drawn"),
                       shape="plaintext", fontcolor="#777777", fontsize="9")
            dot.edge(f"{name}_cut", op_name, style="dashed", color="#999999")
    _edges(dot, order, plan, names, consumers, rankdir, edge_labels, cut, graphviz)
    columns = plan.columns()
    for key, boxes in columns.items():
        # NOTE: the folded groups side by side in one open group (a layer's neurons) keep
        # the order they were built in, neuron 1 first: one rank, an invisible edge between
        # neighbours (which Graphviz places head above tail across LR), and little crossing
        # minimisation (mclimit), which inside a cluster would otherwise rotate the column.
        chain = boxes[::-1] if rankdir in ("LR", "RL") else boxes
        with clusters[key].subgraph() as column:
            column.attr(rank="same")
            for upper, lower in itertools.pairwise(chain):
                column.edge(plan.box_name(upper), plan.box_name(lower), style="invis")
    if columns:
        dot.attr(mclimit="0.01")
    for sub, parent in reversed(outer):  # innermost first, so that each is complete
        parent.subgraph(sub)
    if shade is not None:
        _legend(dot, drawn, graphviz)
    return str(dot.source)


def _edges(dot: Any, order: list[Value], plan: _Plan, names: Mapping[int, str],
           consumers: Mapping[int, int], rankdir: str, edge_labels: bool,
           cut: Mapping[int, int], graphviz: Any) -> None:
    """The edges into the ops of ``order``: one per operand into an open op, and one per
    (operand, box) pair into a folded group, since its ops are not drawn."""
    drawn = {id(v) for v in order}
    into_box: set[tuple[str, str]] = set()
    for v in order:
        if not v._op.arity:
            continue
        box = plan.box.get(id(v))
        args = operands(v)
        repeats: dict[int, int] = {}
        for i, p in enumerate(args):
            if id(p) not in drawn:
                continue
            source = plan.item_name(p, names)
            if box is not None:  # into a folded group: one edge per outside operand
                if plan.box.get(id(p)) is box:
                    continue
                pair = (source, plan.box_name(box))
                if pair not in into_box:
                    into_box.add(pair)
                    dot.edge(*pair)
                continue
            op_name = f"{names[id(v)]}_op"
            if plan.box.get(id(p)) is not None:  # from a folded group
                pair = (source, op_name)
                if pair not in into_box:
                    into_box.add(pair)
                    dot.edge(*pair)
                continue
            attrs = {}
            if consumers[id(p)] > 1:
                attrs["weight"] = "1"
            if sum(q is p for q in args) > 1:  # a + a: keep both edges visible
                k = repeats[id(p)] = repeats.get(id(p), -1) + 1
                ports = _PORTS.get(rankdir, _PORTS["LR"])
                if k < len(ports):
                    attrs["headport"] = ports[k]
            if edge_labels and p._op is not CONST:
                d = float(local_partial(v, i, on_values=False))
                attrs["label"] = _literal(f"∂ {_number(d)}")
            dot.edge(source, op_name, **attrs)


def _size(size: str | tuple[float, float]) -> str:
    """Graphviz's ``size`` from ``"w,h"`` or ``(w, h)``, in inches, both positive."""
    parts: Any = size.split(",") if isinstance(size, str) else size
    try:
        w, h = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height) in inches, or 'w,h', not {size!r}") \
            from None
    if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
        raise ValueError(f"size must be two positive numbers of inches, not {size!r}")
    return f"{w:g},{h:g}"


def _reach(root: Value, depth: int | None,
           stop_at: Iterable[Value]) -> tuple[list[Value], dict[int, int]]:
    """The nodes to draw, in topological order, and the cut ones: (node id → how many of its
    operands are not drawn). Breadth first from the root, so that ``depth`` is the length of
    the shortest path up from the root."""
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 0):
        raise ValueError(f"depth must be a non-negative int or None, not {depth!r}")
    if isinstance(stop_at, Value):
        raise TypeError("stop_at must be a list of Values: to stop at one node v, pass [v]")
    stops = set()
    for v in stop_at:
        if not isinstance(v, Value):
            raise TypeError(f"stop_at must hold Values, not {type(v).__name__}")
        stops.add(id(v))
    full = topological_order(root)
    if depth is None and not stops:
        return full, {}
    distance = {id(root): 0}
    frontier = [root]
    while frontier:
        following = []
        for v in frontier:
            args = operands(v)
            if not args:
                continue
            if id(v) in stops or (depth is not None and distance[id(v)] >= depth):
                continue
            for p in args:
                if id(p) not in distance:
                    distance[id(p)] = distance[id(v)] + 1
                    following.append(p)
        frontier = following
    # a node cut on one path may be reached whole by another: only what is missing counts
    cut = {}
    for v in full:
        if id(v) in distance:
            hidden = len({id(p) for p in operands(v) if id(p) not in distance})
            if hidden:
                cut[id(v)] = hidden
    return [v for v in full if id(v) in distance], cut


class _Plan:
    """How a picture folds its groups: the box (a folded group) of every node inside one,
    the groups drawn open as clusters, and the caption's note when folding was forced."""

    def __init__(self, order: list[Value], root: Value, fold: frozenset[str]) -> None:
        self.fold = fold
        self.box: dict[int, Group] = {}
        self.members: dict[int, list[Value]] = {}
        self.first: dict[int, int] = {}
        self.groups: dict[int, int] = {}  # every group met, numbered in order of meeting
        self._paths: dict[int, list[Group]] = {}
        self.note: str | None = None
        paths = _paths(order)
        for v in order:
            path = paths.get(id(v), [])
            self._paths[id(v)] = path
            for g in path:
                self.groups.setdefault(id(g), len(self.groups))
            box = next((g for g in path if g.kind in fold), None)
            if box is not None:
                self.box[id(v)] = box
                self.members.setdefault(id(box), []).append(v)
                self.first.setdefault(id(box), id(v))
        self.items = len(order) - len(self.box) + len(self.members)

    def open_path(self, v: Value) -> list[Group]:
        """The groups around ``v`` (or around its box) that are drawn open."""
        path = self._paths.get(id(v), [])
        box = self.box.get(id(v))
        return path[:path.index(box)] if box is not None else path

    def columns(self) -> dict[int, list[Group]]:
        """The folded groups directly inside each open group (by its id), in the order they
        were met, where there are two or more."""
        inside: dict[int, list[Group]] = {}
        for members in self.members.values():
            path = self._paths[id(members[0])]
            box = self.box[id(members[0])]
            k = path.index(box)
            if k > 0:
                inside.setdefault(id(path[k - 1]), []).append(box)
        return {key: boxes for key, boxes in inside.items() if len(boxes) > 1}

    def box_name(self, box: Group) -> str:
        return f"g{self.groups[id(box)]}"

    def item_name(self, v: Value, names: Mapping[int, str]) -> str:
        box = self.box.get(id(v))
        return names[id(v)] if box is None else self.box_name(box)


def _paths(order: list[Value]) -> dict[int, list[Group]]:
    """Every node's groups, outermost first. A constant, which no group tags, belongs with
    its readers when they all share one innermost group (a slope, a target); an input or a
    constant read from several groups belongs to none."""
    paths: dict[int, list[Group]] = {}
    readers: dict[int, set[int]] = {}
    by_group: dict[int, Group] = {}
    for v in order:
        g = group_of(v)
        if g is not None:
            paths[id(v)] = g.path()
            by_group[id(g)] = g
        for p in operands(v):
            if p._op is CONST:
                readers.setdefault(id(p), set()).add(id(g) if g is not None else 0)
    for v in order:
        if v._op is CONST and id(v) in readers:
            owners = readers[id(v)]
            if len(owners) == 1 and 0 not in owners:
                paths[id(v)] = by_group[next(iter(owners))].path()
    return paths


def _fold(order: list[Value], root: Value, collapse: str | None, max_nodes: int,
          fold: bool = True) -> _Plan:
    """The finest folding at or beyond ``collapse`` whose picture has at most ``max_nodes``
    nodes (with ``fold`` False, ``collapse`` itself or nothing); see :func:`to_dot`."""
    kinds = _kinds(order)
    if collapse is not None and collapse not in kinds:
        known = ", ".join(repr(k) for k in kinds) if kinds else "none: it has no groups"
        raise ValueError(f"collapse={collapse!r} names no group of this graph (its kinds: "
                         f"{known}); nn's modules make 'neuron' and 'layer' groups, "
                         "autograd_mini.group(...) makes your own")
    levels: list[frozenset[str]] = [frozenset() if collapse is None else frozenset({collapse})]
    for k in range(len(kinds) if fold else 0):
        level = levels[0] | frozenset(kinds[:k + 1])
        if level != levels[-1]:
            levels.append(level)
    first = _Plan(order, root, levels[0])
    if first.items <= max_nodes:
        return first
    for level in levels[1:]:
        plan = _Plan(order, root, level)
        if plan.items <= max_nodes:
            asked = "unfolded" if collapse is None else f"with collapse={collapse!r}"
            plan.note = (f"folded to {_kind_names(level, kinds)}: {asked}, the picture would "
                         f"have {first.items} nodes, more than max_nodes={max_nodes}")
            return plan
    coarsest = _Plan(order, root, levels[-1]).items if len(levels) > 1 else first.items
    folded = (f", and {coarsest} with every group folded" if len(levels) > 1 else "")
    raise GraphTooLargeError(
        f"the graph has {first.items} nodes{folded}, more than max_nodes={max_nodes}; draw a "
        f"part of it with depth=... or stop_at=[...], or pass max_nodes={coarsest} to draw it")


def _kinds(order: list[Value]) -> list[str]:
    """The kinds of the groups in ``order``, innermost first: by how deep their groups
    nest, then by how many groups there are (a network's layers before its one loss)."""
    deepest: dict[str, int] = {}
    count: dict[str, set[int]] = {}
    for v in order:
        g = group_of(v)
        if g is None:
            continue
        for level, h in enumerate(g.path(), start=1):
            deepest[h.kind] = max(deepest.get(h.kind, 0), level)
            count.setdefault(h.kind, set()).add(id(h))
    return sorted(deepest, key=lambda k: (-deepest[k], -len(count[k]), k))


def _kind_names(level: frozenset[str], kinds: list[str]) -> str:
    """The coarsest kind folded, in the plural: "neurons", "layers"."""
    coarsest = max(level, key=kinds.index)
    return f"{coarsest}s"


def _box_adjoint(nodes: list[Value], adjoint: Any) -> float | None:
    """What colours a folded group by |v̄|: the largest adjoint inside it (None if none is
    known)."""
    known = [g for g in (adjoint(v) for v in nodes if v._op is not CONST) if g is not None]
    return max(known, key=abs) if known else None


def _group_lines(nodes: list[Value], adjoint: Any) -> list[str]:
    """A folded group's box when its group has no ``summary``: its size, and the value and
    adjoint of what leaves it."""
    ops = sum(1 for v in nodes if v._op.arity)
    lines = [f"{ops} ops, {len(nodes)} nodes"]
    last = nodes[-1]  # in topological order, the group's last value is what it returns
    g = adjoint(last)
    lines.append(f"out {_number(last.data)}, grad "
                 + (NOT_YET if g is None else _number(g)))
    return lines


def _symbol(v: Value) -> str:
    """The op's circle: the rule's symbol, except that a ``dot`` is Σ w·a + b only as a
    neuron's weighted input; elsewhere (a loss's Σ dᵢ²) it is a plain sum of products."""
    if v._op.name != "dot":
        return v._op.short
    g = group_of(v)
    if g is not None and g.kind == "neuron":
        return v._op.short
    bias = operands(v)[-1]
    plain = bias._op is CONST and bias.data == 0.0
    return "Σ xᵢyᵢ" if plain else "Σ xᵢyᵢ + c"


def _constant_text(x: float) -> str:
    """A constant exactly as given: the shortest text that reads back as the same float."""
    text = repr(x)
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


#: The fills of ``color="grad"``, from small |v̄| to large (ColorBrewer's YlOrRd, which reads
#: in grey and to colour-blind eyes as one ramp).
_RAMP = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")


def _shades(values: list[float | None]) -> Any:
    """The fill for an adjoint: on a log scale between the smallest and largest nonzero |v̄|
    of the picture, since adjoints of one graph often span many orders of magnitude."""
    sizes = [abs(g) for g in values if g is not None and g != 0.0 and math.isfinite(g)]
    if not sizes:
        return lambda g: COLOURS["intermediate"]
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes))

    def shade(g: float | None) -> str:
        if g is None:
            return COLOURS["intermediate"]
        if g == 0.0:
            return COLOURS["zero"]
        if not math.isfinite(g):
            return _RAMP[-1]
        t = 0.0 if hi == lo else (math.log10(abs(g)) - lo) / (hi - lo)
        return _RAMP[min(int(t * len(_RAMP)), len(_RAMP) - 1)]

    return shade


def _legend(dot: Any, values: list[float | None], graphviz: Any) -> None:
    """The key of ``color="grad"``: the ramp, from the smallest to the largest |v̄|."""
    sizes = [abs(g) for g in values if g is not None and g != 0.0 and math.isfinite(g)]
    if not sizes:
        text = "|grad|: no adjoint is known yet" if all(g is None for g in values) \
            else "|grad|: every adjoint is 0"
        dot.node("legend", _literal(text), shape="note", fontsize="10")
        return
    lo, hi = min(sizes), max(sizes)
    cells = "".join(f'<td bgcolor="{c}" width="24"> </td>' for c in _RAMP)
    label = (f'<<table border="0" cellborder="1" cellspacing="0"><tr><td colspan="5" '
             f'border="0">fill: |grad|, log scale</td></tr><tr>{cells}</tr><tr>'
             f'<td colspan="2" border="0" align="left">{html.escape(_number(lo, 3))}</td>'
             f'<td border="0"> </td><td colspan="2" border="0" align="right">'
             f'{html.escape(_number(hi, 3))}</td></tr><tr><td colspan="5" border="0" '
             f'bgcolor="{COLOURS["zero"]}">0</td></tr></table>>')
    dot.node("legend", label, shape="plaintext", fontsize="10")


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
    doing = "laying out the graph" if fmt == "dot" else f"rendering the graph as {fmt.upper()}"
    return RenderBudgetError(
        f"{doing} took longer than the time budget of "
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
        drawn, _ = _reach(root, options.get("depth"), options.get("stop_at", ()))
        #: what the caption says when the picture was folded to fit ``max_nodes``, or None
        self.folded = _fold(drawn, root, options.get("collapse"),
                            options.get("max_nodes", MAX_NODES), options.get("fold", True)).note

    def _summary(self) -> str:
        order = topological_order(self.root)
        ops = sum(1 for v in order if v._op.arity)
        folded = "" if self.folded is None else f", {self.folded.split(':')[0]}"
        return f"<GraphView of {len(order)} nodes, {ops} ops{folded}: {self.root!r}>"


def _role(v: Value, root: Value, params: set[int]) -> str:
    """A node's role in a picture; a leaf that belongs to a group is a module's parameter."""
    if v is root:
        return "output"
    if v._op is INPUT:
        return "parameter" if id(v) in params or group_of(v) is not None else "input"
    return "intermediate"


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
