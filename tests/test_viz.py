"""Graph pictures: DOT structure, escaping, determinism, the node limit, every rendering path,
files by suffix, the Jupyter bundle and the backward step-through."""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from autograd_mini import Value, draw, viz
from autograd_mini.steps import backward_steps, save_steps, step_through
from autograd_mini.viz import (
    GraphTooLargeError,
    GraphView,
    RenderError,
    render,
    to_dot,
)


def trace_example() -> Value:
    """f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2) at (2, 5), the evaluation-trace example of Bishop
    and Bishop, Deep Learning: Foundations and Concepts, chapter 8."""
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    v = x1 * x2
    return v + v.exp() - x2.sin()


def test_a_plus_a_has_two_edges() -> None:
    a = Value(3.0, label="a")
    source = to_dot(a + a)
    assert source.count("v0 -> v1_op") == 2


def test_dot_is_deterministic() -> None:
    assert to_dot(trace_example()) == to_dot(trace_example())
    f = trace_example()
    f.backward()
    assert to_dot(f, edge_labels=True, wrt="x1") == to_dot(f, edge_labels=True, wrt="x1")


def test_adjoints_are_marked_until_backward_runs() -> None:
    f = trace_example()
    before = to_dot(f)
    assert before.count("grad not yet computed") == 7
    f.backward()
    after = to_dot(f)
    assert "not yet computed" not in after
    # ∂f/∂x1 = x2(1 + e^(x1 x2)) = 5(1 + e¹⁰), shown to 6 significant digits
    assert f"grad {5 * (1 + math.exp(10)):.6g}" in after
    f.zero_grad()
    assert to_dot(f).count("grad not yet computed") == 7


def test_edge_labels_and_tangents() -> None:
    x = Value(3.0, label="x")
    source = to_dot(x * x, edge_labels=True, wrt="x")
    assert source.count('label="∂ 3"') == 2  # ∂(x·x)/∂ each operand = the other, 3
    assert "tangent 6" in source  # d(x²)/dx = 6


def test_roles_have_their_colours() -> None:
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    source = to_dot((w * x + 1).tanh(), parameters=[w])
    for role in ("parameter", "input", "constant", "intermediate", "output"):
        assert viz.COLOURS[role] in source, role


@pytest.mark.parametrize("label", ['<b>bold</b>', 'say "hi"', "{a|b}", "x<y"])
def test_labels_are_escaped(label: str) -> None:
    pytest.importorskip("pygraphviz")
    source = to_dot(Value(1.0, label=label).exp())
    assert "label=<" not in source  # never an HTML-like label
    if '"' in label:
        assert '\\"hi\\"' in source
    svg = render(source, "svg", "pygraphviz").decode()
    assert "<svg" in svg
    # the text survives, XML-escaped, in the picture
    escaped = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.replace('"', "&quot;") in svg or escaped in svg


def test_node_limit() -> None:
    x = Value(0.1)
    y = x
    for _ in range(300):
        y = y * 1.01  # two nodes each: the product and its constant
    # 601 nodes, above the default of 200, and no groups to fold
    with pytest.raises(GraphTooLargeError, match="601 nodes, more than max_nodes=200"):
        to_dot(y)
    assert "digraph" in to_dot(y, max_nodes=1000)
    with pytest.raises(GraphTooLargeError, match="max_nodes=10"):
        draw(y, max_nodes=10)


# -- rendering paths ---------------------------------------------------------------------------


def test_pygraphviz_renders_svg_png_and_pdf() -> None:
    pytest.importorskip("pygraphviz")
    source = to_dot(trace_example())
    assert render(source, "svg", "pygraphviz").lstrip().startswith((b"<?xml", b"<svg"))
    assert render(source, "png", "pygraphviz").startswith(b"\x89PNG")
    assert render(source, "pdf", "pygraphviz").startswith(b"%PDF")


def test_rendering_prints_no_fontconfig_warning(capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pygraphviz")
    render(to_dot(trace_example()), "png", "pygraphviz")
    assert "reset-dirs" not in capfd.readouterr().err


def _fake_dot(directory: Path) -> Path:
    """A ``dot`` program that renders with pygraphviz and leaves a mark that it ran."""
    marker = directory / "dot-ran"
    program = directory / "dot"
    program.write_text(
        f"#!{sys.executable}\n"
        "import sys, pygraphviz\n"
        "fmt = sys.argv[1][2:]\n"
        "g = pygraphviz.AGraph(string=sys.stdin.read())\n"
        "sys.stdout.buffer.write(g.draw(format=fmt, prog='dot'))\n"
        f"open({str(marker)!r}, 'w').close()\n",
        encoding="utf-8",
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return marker


def test_the_dot_program_on_path_comes_first(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pygraphviz")
    marker = _fake_dot(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    svg = GraphView(trace_example()).svg()
    assert "<svg" in svg
    assert marker.exists()


def test_a_failing_dot_program_is_reported(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "dot"
    program.write_text("#!/bin/sh\necho 'Error: broken' >&2\nexit 1\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="dot failed: Error: broken"):
        render(to_dot(trace_example()), "svg", "dot")


def test_without_any_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # import fails
    view = GraphView(trace_example())
    with pytest.raises(RenderError, match=r"autograd-mini\[viz\]"):
        view.svg()
    bundle = view._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "text/html" not in bundle
    assert "no picture" in bundle["text/plain"]
    assert "7 nodes" in bundle["text/plain"]
    assert "digraph" in view.source  # the DOT is still there


def test_mimebundle_has_svg_and_text() -> None:
    pytest.importorskip("pygraphviz")
    bundle = draw(trace_example())._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert bundle["text/plain"].startswith("<GraphView of 7 nodes, 5 ops")
    # front ends show the HTML: the same SVG inline, free to shrink to a notebook cell's width
    html = bundle["text/html"]
    assert html.startswith('<svg style="max-width:100%;height:auto" width=')
    assert html.count("<svg") == 1
    assert html[html.index(" width="):] == bundle["image/svg+xml"][
        bundle["image/svg+xml"].index(" width="):]


def test_save_by_suffix(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    view = draw(trace_example())
    assert view.save(tmp_path / "g.dot").read_text(encoding="utf-8") == view.source
    assert b"<svg" in view.save(tmp_path / "g.svg").read_bytes()
    assert view.save(tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert view.save(tmp_path / "g.PDF").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="cannot tell the format"):
        view.save(tmp_path / "g.jpeg")


def test_unknown_renderer() -> None:
    with pytest.raises(ValueError, match="renderer must be"):
        render("digraph {}", "svg", "magic")  # type: ignore[arg-type]


# -- backward step-through ---------------------------------------------------------------------


def test_backward_steps_follow_the_reverse_sweep() -> None:
    f = trace_example()
    frames = backward_steps(f)
    assert len(frames) == 7  # one per node: 2 inputs and 5 ops
    assert frames[0].node is f
    assert "grad 1" in frames[0].source  # the seed is known from the start
    assert frames[0].source.count("grad not yet computed") == 6
    # the last frame knows every adjoint: ∂f/∂x2 = x1(1 + e¹⁰) − cos 5
    assert f"grad {2 * (1 + math.exp(10)) - math.cos(5):.6g}" in frames[-1].source
    assert frames[-1].source.count("not yet computed") == 0
    # each frame highlights its node
    for frame in frames:
        assert frame.source.count(viz.COLOURS["highlight"]) == 1
    assert f.grad == 0.0  # drawing the steps runs no backward pass on the graph itself


def _frames_in(page: str) -> list[dict[str, object]]:
    """The frames a step-through page carries, from its JSON data."""
    found = re.search(r'<script type="application/json" class="frames">(.*?)</script>', page,
                      re.S)
    assert found is not None
    frames: list[dict[str, object]] = json.loads(found.group(1))["frames"]
    return frames


def test_save_steps_writes_one_self_contained_page(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    page = save_steps(trace_example(), tmp_path / "steps.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1  # one layout, shared by every frame
    assert len(_frames_in(page)) == 7  # one frame per node
    assert 'type="range"' in page
    assert "previous" in page
    assert "next" in page
    assert "src=" not in page
    assert "<link" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page


def test_step_through_shows_inline_with_controls_of_its_own() -> None:
    pytest.importorskip("pygraphviz")
    f = trace_example()
    first, second = step_through(f)._repr_html_(), step_through(f)._repr_html_()
    assert len(step_through(f)) == 7  # one frame per node of Bishop and Bishop's graph
    assert first.count("<svg") == 1
    assert len(_frames_in(first)) == 7
    ids = [re.search(r'<div id="([^"]+)"', widget).group(1)  # type: ignore[union-attr]
           for widget in (first, second)]
    assert ids[0] != ids[1]
    # each widget's script looks up its own element, so two on one page do not interfere
    for element_id, widget in zip(ids, (first, second), strict=True):
        assert f'getElementById("{element_id}")' in widget
        assert "document.addEventListener" not in widget  # arrow keys only when focused
