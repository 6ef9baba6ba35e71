"""The backward step-through, checked against tables worked out by hand.

For each graph below, the frames were derived on paper, not from the code's output: the
order (reverse topological, as the trace numbers the nodes: inputs v₋ₙ₊₁ … v₀, then the ops in
evaluation order, operands left to right), which adjoints each frame knows, which of them are
still partial sums and with how many of their shares (one per edge into an op), and their
values from the closed forms of the derivatives. The same table is checked in the widget's
data, in the pictures of :func:`backward_steps` (their SVG text and style, as Graphviz draws
them), and, when Chromium is installed, in the page as its JavaScript shows it.
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
import re
import shutil
import stat
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autograd_mini import Value, viz
from autograd_mini.steps import (
    StepThrough,
    StepView,
    backward_steps,
    save_steps,
    step_through,
)
from autograd_mini.viz import RenderBudgetError, render

SVG = "{http://www.w3.org/2000/svg}"
GREY = viz.PARTIAL["fontcolor"]

#: A hand-worked frame: the node being processed, and the adjoints that change as the frame
#: begins: DOT name → (v̄ so far, (shares received, shares in all) while it is partial).
Frame = tuple[str, dict[str, tuple[float, tuple[int, int] | None]]]
Case = tuple[Value, dict[str, Value], list[Frame], dict[int, str]]

E10 = math.exp(10.0)


def bishop() -> Case:
    """f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2) at (2, 5), the evaluation-trace example of
    Bishop and Bishop, Deep Learning: Foundations and Concepts, chapter 8:
    v₋₁ = x1, v₀ = x2, v₁ = v₋₁·v₀, v₂ = exp v₁, v₃ = v₁ + v₂, v₄ = sin v₀, v₅ = v₃ − v₄.

    Shares: v₀ is read by v₁ and v₄, v₁ by v₂ and v₃ (two each); every other node by one op,
    and v₅ by none (its adjoint is the seed)."""
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    v1 = x1 * x2
    v2 = v1.exp()
    v3 = v1 + v2
    v4 = x2.sin()
    v5 = v3 - v4
    nodes = {"vm1": x1, "v0": x2, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5}
    frames: list[Frame] = [
        ("v5", {"v5": (1.0, None)}),  # the seed v̄₅ = 1
        # v₅ = v₃ − v₄ passes v̄₅·1 to v₃ and v̄₅·(−1) to v₄: their only shares
        ("v4", {"v3": (1.0, None), "v4": (-1.0, None)}),
        # v₄ = sin v₀ passes v̄₄·cos v₀ = −cos 5 to v₀: the first of its two shares
        ("v3", {"v0": (-math.cos(5.0), (1, 2))}),
        # v₃ = v₁ + v₂ passes 1 to each: v₁'s first of two, v₂'s only one
        ("v2", {"v1": (1.0, (1, 2)), "v2": (1.0, None)}),
        # v₂ = exp v₁ passes v̄₂·e^v₁ = e¹⁰: v̄₁ = 1 + e¹⁰, complete
        ("v1", {"v1": (1.0 + E10, None)}),
        # v₁ = v₋₁·v₀ passes v̄₁·v₀ = 5(1 + e¹⁰) to v₋₁ (complete: ∂f/∂x1 = x2(1 + e^(x1x2)))
        # and v̄₁·v₋₁ = 2(1 + e¹⁰) to v₀, its second share (∂f/∂x2 = x1(1 + e^(x1x2)) − cos x2)
        ("v0", {"vm1": (5.0 * (1.0 + E10), None),
                "v0": (2.0 * (1.0 + E10) - math.cos(5.0), None)}),
        ("vm1", {}),  # v₀ is an input: it passes nothing on
    ]
    # the frames whose node is an input say so; the others that the node is complete
    captions = {2: "v₃'s adjoint is complete", 3: "v₂'s adjoint is complete",
                5: "v₀ is an input: ∂f/∂x2 is complete", 6: "v₋₁ is an input: ∂f/∂x1 is complete"}
    return v5, nodes, frames, captions


def square_plus() -> Case:
    """x·x + x at x = 3: v₀ = x, v₁ = v₀·v₀, v₂ = v₁ + v₀. x has three shares, two of them
    from one op, which arrive in the same frame."""
    x = Value(3.0, label="x")
    v1 = x * x
    v2 = v1 + x
    nodes = {"v0": x, "v1": v1, "v2": v2}
    frames: list[Frame] = [
        ("v2", {"v2": (1.0, None)}),
        # v₂ = v₁ + v₀ passes 1 to v₁ (its only share) and 1 to v₀ (the first of three)
        ("v1", {"v1": (1.0, None), "v0": (1.0, (1, 3))}),
        # v₁ = v₀·v₀ passes v̄₁·v₀ = 3 twice, in this one frame: v̄₀ = 1 + 3 + 3 = 2x + 1
        ("v0", {"v0": (7.0, None)}),
    ]
    return v2, nodes, frames, {0: "v₂'s adjoint is complete", 2: "∂f/∂x is complete"}


def three_readers() -> Case:
    """sin x + exp x + cos x at x = 0.5, summed as (sin x + exp x) + cos x: v₀ = x,
    v₁ = sin v₀, v₂ = exp v₀, v₃ = v₁ + v₂, v₄ = cos v₀, v₅ = v₃ + v₄. x is read by three
    ops, whose shares arrive in three different frames."""
    x = Value(0.5, label="x")
    s, e, c = x.sin(), x.exp(), x.cos()
    v3 = s + e
    v5 = v3 + c
    nodes = {"v0": x, "v1": s, "v2": e, "v3": v3, "v4": c, "v5": v5}
    frames: list[Frame] = [
        ("v5", {"v5": (1.0, None)}),
        ("v4", {"v3": (1.0, None), "v4": (1.0, None)}),
        ("v3", {"v0": (-math.sin(0.5), (1, 3))}),  # from v₄ = cos v₀
        ("v2", {"v1": (1.0, None), "v2": (1.0, None)}),
        ("v1", {"v0": (-math.sin(0.5) + math.exp(0.5), (2, 3))}),  # from v₂ = exp v₀
        # from v₁ = sin v₀: d/dx (sin x + exp x + cos x), complete
        ("v0", {"v0": (-math.sin(0.5) + math.exp(0.5) + math.cos(0.5), None)}),
    ]
    return v5, nodes, frames, {2: "v₃'s adjoint is complete", 4: "v₁'s adjoint is complete"}


CASES: dict[str, Callable[[], Case]] = {
    "bishop": bishop, "square_plus": square_plus, "three_readers": three_readers}


@functools.cache
def drawn(case: str) -> tuple[Case, list[StepView], list[str]]:
    """A case, its frames and their SVG, drawn once for the tests that read them."""
    made = CASES[case]()
    views = backward_steps(made[0])
    return made, views, [view.svg() for view in views]


def expected(frames: list[Frame], names: list[str]) -> list[dict[str, tuple[str, bool]]]:
    """Every frame's adjoint lines (DOT name → text, partial?), as the specification writes
    them: "grad 1 so far, 1 of 2 shares" while partial, "grad 22027.5" once complete (six
    significant digits), "grad not yet computed" before the first share."""
    shown = dict.fromkeys(names, ("grad not yet computed", False))
    out = []
    for _, changes in frames:
        for name, (value, shares) in changes.items():
            text = f"grad {value:.6g}"
            if shares is not None:
                text += f" so far, {shares[0]} of {shares[1]} shares"
            shown[name] = (text, shares is not None)
        out.append(dict(shown))
    return out


# -- reading pictures ----------------------------------------------------------------------------


def groups(svg: str, kind: str = "node") -> dict[str, ET.Element]:
    """The SVG's node (or edge) groups by their DOT name."""
    root = ET.fromstring(svg.encode("utf-8"))
    return {g.findtext(f"{SVG}title", ""): g for g in root.iter(f"{SVG}g")
            if g.get("class") == kind}


def box(group: ET.Element) -> ET.Element:
    shape = next((e for e in group if e.tag in (f"{SVG}path", f"{SVG}polygon")), None)
    assert shape is not None
    return shape


def looks(svg: str, names: list[str]) -> dict[str, tuple[str, bool]]:
    """Each value node's adjoint line, and whether it is drawn partial (a dashed box, every
    line grey), from the SVG; a node drawn half one way and half the other fails."""
    out = {}
    for name, group in groups(svg).items():
        if name not in names:
            continue
        texts = group.findall(f"{SVG}text")
        dashed = box(group).get("stroke-dasharray") is not None
        grey = {t.get("fill") == GREY for t in texts}
        assert grey == {dashed}, (name, dashed, grey)
        out[name] = ("".join(texts[-1].itertext()), dashed)
    return out


def geometry(svg: str) -> dict[str, Any]:
    """Where everything is: every node's shapes and text positions, every edge's path, and
    the picture's size."""
    root = ET.fromstring(svg.encode("utf-8"))
    out: dict[str, Any] = {"size": (root.get("width"), root.get("height"))}
    for kind in ("node", "edge"):
        for name, group in groups(svg, kind).items():
            out[f"{kind} {name}"] = [
                (e.tag, e.get("d"), e.get("points"), e.get("cx"), e.get("rx"), e.get("x"),
                 e.get("y")) for e in group if e.tag != f"{SVG}title"]
    return out


def width(shape: ET.Element) -> float:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?",
                                            shape.get("d") or shape.get("points") or "")]
    return max(numbers[::2]) - min(numbers[::2])


def caption_of(svg: str) -> str:
    """The graph's own label: the text drawn outside every node and edge."""
    root = ET.fromstring(svg.encode("utf-8"))
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    return " ".join("".join(t.itertext()) for t in graph.findall(f"{SVG}text"))


def replay(data: dict[str, Any], first: dict[str, tuple[str, bool]]
           ) -> list[dict[str, tuple[str, bool]]]:
    """Every frame's adjoint lines as the page's script works them out: the picture's, then
    each frame's [node, text, partial] changes."""
    shown = dict(first)
    out = []
    for k, frame in enumerate(data["frames"]):
        if k:
            shown.update({name: (text, partial) for name, text, partial in frame["set"]})
        out.append(dict(shown))
    return out


# -- the hand-worked tables ----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_the_frames_follow_the_sweep_worked_by_hand(case: str) -> None:
    root, nodes, frames, _ = CASES[case]()
    views = backward_steps(root)
    assert [view.node for view in views] == [nodes[name] for name, _ in frames]
    ids = {id(v): name for name, v in nodes.items()}
    want = expected(frames, list(nodes))
    partial: dict[str, tuple[int, int]] = {}  # the hand table's partial adjoints so far
    for k, view in enumerate(views):
        for name, (_, shares) in frames[k][1].items():
            if shares is None:
                partial.pop(name, None)
            else:
                partial[name] = shares
        assert {ids[key]: shares for key, shares in view.partial.items()} == partial, k
        # the frame's own DOT writes the same lines
        for name, (text, _) in want[k].items():
            assert f"\n{text}\"" in view.source, (k, name)
    assert all(v.grad == 0.0 for v in nodes.values())  # no backward pass ran on the graph


@pytest.mark.parametrize("case", list(CASES))
def test_the_widget_data_carries_the_hand_worked_marks(case: str) -> None:
    pytest.importorskip("pygraphviz")
    root, nodes, frames, _ = CASES[case]()
    steps = step_through(root)
    data = steps.data()
    assert [frame["node"] for frame in data["frames"]] == [name for name, _ in frames]
    want = expected(frames, list(nodes))
    # without JavaScript the picture shows the first frame: only the seed is known
    first = looks(steps.svg(), list(nodes))
    assert first == want[0]
    assert replay(data, first) == want
    assert data["partial"] == {"color": GREY, "dashes": "5,2"}


@pytest.mark.parametrize("case", list(CASES))
def test_each_picture_draws_the_hand_worked_marks(case: str) -> None:
    pytest.importorskip("pygraphviz")
    (_, nodes, frames, captions), views, svgs = drawn(case)
    want = expected(frames, list(nodes))
    for k, (view, svg) in enumerate(zip(views, svgs, strict=True)):
        assert looks(svg, list(nodes)) == want[k], k
        lit = {name for name, g in groups(svg).items()
               if name in nodes and box(g).get("fill") == viz.COLOURS["highlight"]}
        assert lit == {frames[k][0]}, k
        assert caption_of(svg) == view.caption
        if k in captions:
            assert captions[k] in view.caption, k


def test_bishop_step_4_shows_v1_as_partial() -> None:
    # the frame that once read "grad 1" for v₁ though its adjoint is 1 + e¹⁰
    pytest.importorskip("pygraphviz")
    (_, nodes, *_), _, svgs = drawn("bishop")
    lines = looks(svgs[3], list(nodes))
    assert lines["v1"] == ("grad 1 so far, 1 of 2 shares", True)
    assert lines["v0"] == (f"grad {-math.cos(5.0):.6g} so far, 1 of 2 shares", True)
    assert lines["v2"] == ("grad 1", False)


# -- one layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_every_frame_has_one_layout_wide_enough_for_every_text(case: str) -> None:
    pytest.importorskip("pygraphviz")
    (root, nodes, *_), views, svgs = drawn(case)
    shared = geometry(svgs[0])
    for k, svg in enumerate(svgs):
        assert geometry(svg) == shared, k
    # Each box is as wide as the widest box its texts need, when each frame is laid out on
    # its own (Graphviz sizes a box to its text): no text of any frame overflows its box.
    fixed = {name: width(box(g)) for name, g in groups(svgs[0]).items() if name in nodes}
    alone = [{name: width(box(g)) for name, g in groups(
        render(view.source, "svg").decode("utf-8")).items() if name in nodes}
        for view in views]
    for name, w in fixed.items():
        assert max(a[name] for a in alone) == pytest.approx(w, abs=0.05), name
    # the widget reserves the same widths (its own layout has no caption in the picture)
    widget = {name: width(box(g)) for name, g in groups(step_through(root).svg()).items()
              if name in nodes}
    assert widget == pytest.approx(fixed, abs=0.05)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return w, h


def test_saved_frames_share_the_layout(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    root, *_ = bishop()
    views = backward_steps(root)
    sizes = {png_size(views[k].save(tmp_path / f"f{k}.png")) for k in (0, 3, 6)}
    assert len(sizes) == 1
    saved = [views[k].save(tmp_path / f"f{k}.svg").read_text(encoding="utf-8") for k in (0, 3)]
    assert geometry(saved[0]) == geometry(saved[1])
    # the .dot of a frame is the one that draws it in the shared layout
    dot = views[3].save(tmp_path / "f3.dot").read_text(encoding="utf-8")
    assert dot == views[3].fixed_source()
    assert "layout=nop2" in dot
    assert geometry(render(dot, "svg").decode("utf-8")) == geometry(saved[0])


def test_a_long_caption_does_not_move_the_graph() -> None:
    # the inputs' captions name their labels, which may be long: room is kept for the longest
    pytest.importorskip("pygraphviz")
    x = Value(2.0, label="an input with a long name, so that its caption is the widest")
    y = Value(3.0, label="y")
    views = backward_steps((x * y).sin())
    assert len({repr(geometry(view.svg())) for view in views}) == 1


def test_a_folded_graph_keeps_one_layout() -> None:
    # folded groups are boxes whose text (z, a, δ) changes from frame to frame too
    pytest.importorskip("pygraphviz")
    from autograd_mini.losses import squared_error
    from autograd_mini.nn import MLP

    model = MLP(2, [2, 1], seed=0)
    loss = squared_error(model([Value(0.5, label="x1"), Value(-1.0, label="x2")]), [1.0])
    views = backward_steps(loss, collapse="neuron")
    picked = [views[0], views[len(views) // 2], views[-1]]
    assert len({repr(geometry(view.svg())) for view in picked}) == 1


def test_the_step_through_keeps_the_render_budget(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # every render of the step-through (measuring, laying out, drawing) has the time budget
    program = tmp_path / "dot"
    program.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    root, *_ = bishop()
    start = time.perf_counter()
    with pytest.raises(RenderBudgetError):
        step_through(root, renderer="dot", timeout=0.3).svg()
    view = backward_steps(root, renderer="dot", timeout=0.3)[3]
    with pytest.raises(RenderBudgetError):
        view.svg()
    assert "time budget" in view._repr_mimebundle_()["text/plain"]
    assert time.perf_counter() - start < 15


# -- the page in a browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Appended to a saved page: shows every step of the first widget forwards and backwards,
#: uses its buttons and arrow keys, checks that the second widget does not follow, and writes
#: what each picture shows into a <pre> that Chromium's --dump-dom prints.
HARNESS = """<script>
(() => {
  function look(widget) {
    const svg = widget.querySelector("svg");
    const nodes = {};
    widget.querySelectorAll("svg g.node").forEach((g) => {
      const box = g.querySelector("path, polygon, ellipse");
      const texts = Array.from(g.querySelectorAll("text"));
      nodes[g.querySelector("title").textContent] = {
        grad: texts[texts.length - 1].textContent,
        dashes: box.getAttribute("stroke-dasharray"),
        ink: texts.map((t) => t.getAttribute("fill")),
        fill: box.getAttribute("fill"),
        shape: ["d", "points", "cx", "cy", "rx"].map((a) => box.getAttribute(a)),
        at: texts.map((t) => [t.getAttribute("x"), t.getAttribute("y")]),
      };
    });
    return { nodes, size: [svg.getAttribute("width"), svg.getAttribute("height")],
             caption: widget.querySelector("figcaption").textContent,
             slider: Number(widget.querySelector(".slider").value) };
  }
  const [one, two] = document.querySelectorAll(".autograd-mini-steps");
  const n = JSON.parse(one.querySelector("script.frames").textContent).frames.length;
  const out = { opened: look(one), other: look(two), forth: [], back: [], moves: [] };
  for (let k = 0; k < n; k++) { one.autogradMiniShow(k); out.forth.push(look(one)); }
  for (let k = n - 1; k >= 0; k--) { one.autogradMiniShow(k); out.back.push(look(one)); }
  one.autogradMiniShow(3);
  one.querySelector(".next").click(); out.moves.push(look(one).slider);
  one.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
  out.moves.push(look(one).slider);
  one.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft" }));
  out.moves.push(look(one).slider);
  one.querySelector(".prev").click(); out.moves.push(look(one).slider);
  out.otherAfter = look(two);
  const pre = document.createElement("pre");
  pre.id = "harness";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def in_chromium(page: Path, query: str, profile: Path) -> dict[str, Any]:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--disable-gpu", f"--user-data-dir={profile}",
               "--dump-dom", f"{page.as_uri()}{query}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    found = re.search(r'<pre id="harness">(.*?)</pre>', done.stdout, re.S)
    assert found is not None, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium to run the page's JavaScript")
def test_the_page_shows_the_hand_worked_marks_in_a_browser(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    root, nodes, frames, _ = bishop()
    path = save_steps(root, tmp_path / "steps.html")
    other, *_ = square_plus()
    widget = step_through(other)._repr_html_()  # a second widget on the same page
    page = path.read_text(encoding="utf-8").replace("</body>", f"{widget}\n{HARNESS}</body>")
    path.write_text(page, encoding="utf-8")
    seen = in_chromium(path, "?step=4", tmp_path / "profile")

    names = list(nodes)
    want = expected(frames, names)
    highlight = viz.COLOURS["highlight"]
    fills = StepThrough(root).data()["fills"]

    def marks(look: dict[str, Any]) -> dict[str, tuple[str, bool]]:
        out = {}
        for name in names:
            node = look["nodes"][name]
            dashed = node["dashes"] is not None
            assert set(node["ink"]) == ({GREY} if dashed else {None}), name
            if dashed:
                assert node["dashes"] == "5,2"
            out[name] = (node["grad"], dashed)
        return out

    assert len(seen["forth"]) == len(frames)
    for k, look in enumerate(seen["forth"]):
        assert marks(look) == want[k], k
        lit = {name for name in names if look["nodes"][name]["fill"] == highlight}
        assert lit == {frames[k][0]}, k
        assert all(look["nodes"][name]["fill"] == fills[name] for name in names
                   if name not in lit)
        assert look["caption"].startswith(f"step {k + 1} of 7: ")
    # going back restores every earlier frame: final styles become partial again, and back
    for k, look in enumerate(reversed(seen["back"])):
        assert marks(look) == want[k], k
    # ?step=4 opens the page at the frame where v₁ has 1 of its 2 shares
    assert seen["opened"]["slider"] == 3
    assert marks(seen["opened"]) == want[3]
    assert seen["opened"]["nodes"]["v1"]["grad"] == "grad 1 so far, 1 of 2 shares"
    assert "v₂'s adjoint is complete" in seen["opened"]["caption"]
    # next, →, ←, previous
    assert seen["moves"] == [4, 5, 4, 3]
    # nothing moves from step to step
    shapes = [{name: (n["shape"], n["at"]) for name, n in look["nodes"].items()} | {
        "size": look["size"]} for look in seen["forth"]]
    assert all(shape == shapes[0] for shape in shapes)
    # the script draws a partial adjoint as Graphviz does (the picture of backward_steps)
    by_graphviz = groups(drawn("bishop")[2][3])["v1"]
    assert box(by_graphviz).get("stroke-dasharray") == seen["opened"]["nodes"]["v1"]["dashes"]
    assert {t.get("fill") for t in by_graphviz.findall(f"{SVG}text")} == set(
        seen["opened"]["nodes"]["v1"]["ink"])
    # the other widget on the page stayed at its first frame
    assert seen["otherAfter"] == seen["other"]
    assert seen["other"]["slider"] == 0
    assert seen["other"]["nodes"]["v0"]["grad"] == "grad not yet computed"


def test_the_widget_refuses_what_it_could_not_update() -> None:
    from autograd_mini.losses import squared_error
    from autograd_mini.nn import MLP
    from autograd_mini.viz import GraphTooLargeError

    model = MLP(2, [3, 1])
    cost = squared_error(model([0.5, -1.0]), [1.0])
    for options in ({"collapse": "neuron"}, {"color": "grad"}):
        with pytest.raises(ValueError, match="use backward_steps"):
            step_through(cost, **options)
    # 28 nodes: above max_nodes=20 the widget is refused rather than folded
    with pytest.raises(GraphTooLargeError, match="28 nodes, more than max_nodes=20"):
        step_through(cost, max_nodes=20)
    assert "folded to" in backward_steps(cost, max_nodes=20)[0].source
