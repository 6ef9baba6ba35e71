"""Rendering within a budget, the one-layout step-through page and atomic saves.

The expected figures come from the graphs' own structure (how many nodes a sum of n terms
has) and from closed forms of the derivatives, never from earlier output. The timings are
loose guards against a layout that takes minutes again, not benchmarks.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from autograd_mini import Value, total, viz
from autograd_mini import steps as steps_module
from autograd_mini.expression import parse
from autograd_mini.steps import StepThrough, backward_steps, save_steps, step_through
from autograd_mini.viz import (
    GraphTooLargeError,
    GraphView,
    RenderBudgetError,
    RenderError,
    draw,
    render,
    to_dot,
)

pytestmark = pytest.mark.filterwarnings("error")


def sum_of_sines_as_parsed(n: int) -> Value:
    """sin(x*1) + sin(x*2) + … + sin(x*n) at x = 1, built as the CLI builds it: a chain of
    n − 1 binary ``+`` nodes."""
    text = "+".join(f"sin(x*{k})" for k in range(1, n + 1))
    root, _ = parse(text).evaluate({"x": 1.0})
    return root


def sum_of_sines_with_total(n: int) -> Value:
    x = Value(1.0, label="x")
    return total([(x * k).sin() for k in range(1, n + 1)])


def sum_of_sines_with_plus(n: int) -> Value:
    x = Value(1.0, label="x")
    terms = [(x * k).sin() for k in range(1, n + 1)]
    return sum(terms[1:], terms[0])


def trace_example() -> tuple[Value, Value, Value]:
    """f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2) at (2, 5), the evaluation-trace example of Bishop
    and Bishop, Deep Learning: Foundations and Concepts, chapter 8."""
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    v = x1 * x2
    return x1, x2, v + v.exp() - x2.sin()


def svg_nodes(svg: str) -> int:
    return svg.count('class="node"')


def svg_edges(svg: str) -> int:
    return svg.count('class="edge"')


def page_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" class="frames">(.*?)</script>', page,
                      re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


# -- the layout of a long sum ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "dot_nodes"),
    [
        # values: x, n constants, n products, n sines, n − 1 sums; one op node per op value
        (sum_of_sines_as_parsed, (1 + 124 + 124 + 124 + 123) + (124 + 124 + 123)),
        (sum_of_sines_with_plus, (1 + 124 + 124 + 124 + 123) + (124 + 124 + 123)),
        # values: x, n constants, n products, n sines and one Σ; ops likewise
        (sum_of_sines_with_total, (1 + 124 + 124 + 124 + 1) + (124 + 124 + 1)),
    ],
)
def test_a_sum_of_124_sines_is_drawn_in_seconds(build: Any, dot_nodes: int) -> None:
    # It took 114 s before the fan-out of x was bundled; now about 1 s.
    pytest.importorskip("pygraphviz")
    root = build(124)
    root.backward()
    start = time.perf_counter()
    svg = draw(root, max_nodes=1000).svg()  # above the default limit, and it has no groups
    assert time.perf_counter() - start < 20
    assert svg_nodes(svg) == dot_nodes  # every node is drawn


def test_the_fan_out_of_a_shared_value_is_bundled_and_light() -> None:
    x = Value(1.0, label="x")
    source = to_dot((x * 2).sin() + (x * 3).sin())
    assert "concentrate=true" in source
    # x feeds two products: its edges may stretch (weight 1) so that the terms stay by their sum
    assert source.count("v0 -> v1_op [weight=1]") == 1
    assert source.count("v0 -> v3_op [weight=1]") == 1
    assert "weight=2" in source  # every other edge


def test_a_plus_a_still_draws_two_edges() -> None:
    # bundling merges parallel edges unless they end at different points of the op
    pytest.importorskip("pygraphviz")
    a = Value(3.0, label="a")
    for rankdir in ("LR", "TB"):
        view = draw(a + a, rankdir=rankdir)
        assert len(set(re.findall(r"headport=(\w+)", view.source))) == 2
        assert svg_edges(view.svg()) == 3  # a → + twice, + → v₁
    b = Value(2.0, label="b")
    assert svg_edges(draw(total([b, b, b])).svg()) == 4


def test_random_graphs_render_without_any_warning(capfd: pytest.CaptureFixture[str]) -> None:
    # bundling in Graphviz once crashed on some graphs; these shapes must render cleanly
    pytest.importorskip("pygraphviz")
    for seed in range(12):
        rng = random.Random(seed)
        pool = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(3)]
        for _ in range(30):
            a, b = rng.choice(pool[-6:]), rng.choice(pool)
            pool.append(rng.choice([a + b, a * b, a.sin(), total([a, b, a]), a - b, a * 2]))
        root = total(pool[-3:])
        root.backward()
        svg = render(to_dot(root, edge_labels=seed % 3 == 0,
                            rankdir=rng.choice(["LR", "TB", "RL", "BT"])), "svg", "pygraphviz")
        assert b"</svg>" in svg
    assert capfd.readouterr().err == ""  # Graphviz's warnings would be passed on here


# -- the budget --------------------------------------------------------------------------------


def tangled(n: int) -> Value:
    """Each step multiplies by a random earlier value: long edges between unrelated nodes,
    which no bundling helps; 200 steps keep Graphviz busy for about two minutes."""
    rng = random.Random(0)
    values = [Value(0.9, label="x"), Value(0.3, label="y")]
    for _ in range(n):
        values.append(values[-1] * rng.choice(values))
    return values[-1]


def test_a_layout_over_the_time_budget_is_stopped() -> None:
    pytest.importorskip("pygraphviz")
    view = draw(tangled(200), timeout=0.5, max_nodes=1000)
    start = time.perf_counter()
    with pytest.raises(RenderBudgetError, match=r"time budget of 0\.5 s") as caught:
        view.svg()
    assert time.perf_counter() - start < 10
    assert isinstance(caught.value, GraphTooLargeError)  # the same refusal as max_nodes
    assert "timeout=" in str(caught.value)
    # Jupyter still gets a description of the graph, and why there is no picture
    bundle = view._repr_mimebundle_()
    assert "time budget" in bundle["text/plain"]
    assert "image/svg+xml" not in bundle


def test_the_dot_program_has_the_same_budget(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "dot"
    program.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    start = time.perf_counter()
    with pytest.raises(RenderBudgetError):
        render(to_dot(trace_example()[2]), "svg", "auto", timeout=0.5)
    # stopped at once, and pygraphviz was not tried after it: it would be as slow
    assert time.perf_counter() - start < 10


def test_the_default_budget_is_the_documented_one() -> None:
    assert viz.RENDER_TIMEOUT == 10.0
    assert GraphView(trace_example()[2]).timeout == viz.RENDER_TIMEOUT


def test_a_crashing_engine_is_a_render_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "dot"
    program.write_text("#!/bin/sh\nkill -SEGV $$\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="dot failed: killed by signal 11"):
        render(to_dot(trace_example()[2]), "svg", "dot")


# -- the step-through: one layout ---------------------------------------------------------------


def test_the_step_through_of_a_50_term_sum_takes_seconds(tmp_path: Path) -> None:
    # laying every frame out again took 115 s and wrote 50 MB
    pytest.importorskip("pygraphviz")
    root = sum_of_sines_as_parsed(50)
    start = time.perf_counter()
    page = save_steps(root, tmp_path / "steps.html").read_text(encoding="utf-8")
    assert time.perf_counter() - start < 20
    assert page.count("<svg") == 1
    # one frame per value that is not a constant: x, 50 products, 50 sines, 49 sums
    assert len(page_data(page)["frames"]) == 1 + 50 + 50 + 49
    assert len(page.encode("utf-8")) < 2_000_000


def test_the_page_grows_linearly_with_the_graph(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    size = {n: save_steps(sum_of_sines_as_parsed(n), tmp_path / f"s{n}.html").stat().st_size
            for n in (10, 20, 40)}
    # a graph twice as large gives a page about twice as large; quadratic growth would give 4
    assert size[40] / size[20] < 2.5
    assert size[20] / size[10] < 2.5


def replay(data: dict[str, Any], k: int, first: dict[str, str]) -> dict[str, str]:
    """The adjoint texts frame ``k`` shows, worked out as the page's script does: the first
    frame's texts, then every frame's changes up to ``k`` ([node, text, still partial])."""
    texts = dict(first)
    for frame in data["frames"][1:k + 1]:
        texts.update({name: text for name, text, _ in frame["set"]})
    return texts


def first_texts(svg: str, names: list[str]) -> dict[str, str]:
    """Each node's adjoint line in the picture: the last text of its group."""
    texts = {}
    for group in re.findall(r'<g id="node\d+" class="node">(.*?)</g>', svg, re.S):
        name = re.search(r"<title>(.*?)</title>", group).group(1)  # type: ignore[union-attr]
        if name in names:
            texts[name] = re.findall(r">([^<>]*)</text>", group)[-1]
    return texts


def test_frames_carry_the_adjoints_of_the_closed_forms() -> None:
    pytest.importorskip("pygraphviz")
    x1, x2, f = trace_example()
    steps = step_through(f)
    data = steps.data()
    frames = data["frames"]
    names = list(data["fills"])
    first = first_texts(steps.svg(), names)
    # the picture is the first frame: only the seed v̄₅ = 1 is known
    assert first == {name: "grad 1" if name == "v5" else "grad not yet computed"
                     for name in names}
    assert frames[0]["node"] == "v5"
    assert frames[0]["set"] == []
    e = math.exp(2.0 * 5.0)
    final = replay(data, len(frames) - 1, first)
    closed = {
        "vm1": 5.0 * (1 + e),                # ∂f/∂x1 = x2(1 + e^(x1 x2))
        "v0": 2.0 * (1 + e) - math.cos(5.0),  # ∂f/∂x2 = x1(1 + e^(x1 x2)) − cos x2
        "v1": 1 + e,                         # v̄₁ = v̄₃ + v̄₂ e^(v₁)
        "v2": 1.0, "v3": 1.0, "v4": -1.0, "v5": 1.0,
    }
    assert final == {name: f"grad {value:.6g}" for name, value in closed.items()}
    # x1 is finished last, when everything that uses it has been processed
    assert frames[-1]["node"] == "vm1"
    assert "∂f/∂x1 is complete" in frames[-1]["caption"]
    # every frame agrees with the picture that backward_steps draws for it on its own
    for k, view in enumerate(backward_steps(f)):
        lines = dict(re.findall(r'\t(\w+) \[label="[^"]*\n(grad [^"]*)"', view.source))
        assert replay(data, k, first) == lines, k
        assert frames[k]["node"] == re.search(  # type: ignore[union-attr]
            rf'\t(\w+) \[label="[^"]*" fillcolor="{viz.COLOURS["highlight"]}"',
            view.source).group(1)
    # no backward pass ran on the graph itself
    assert x1.grad == 0.0
    assert x2.grad == 0.0


def test_frames_restore_each_nodes_own_colour() -> None:
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    data = StepThrough((w * x).tanh(), parameters=[w]).data()
    assert data["fills"] == {"vm1": viz.COLOURS["parameter"], "v0": viz.COLOURS["input"],
                             "v1": viz.COLOURS["intermediate"], "v2": viz.COLOURS["output"]}
    assert data["highlight"] == viz.COLOURS["highlight"]


def test_labels_cannot_break_the_page(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    x = Value(2.0, label="</script>@@ID@@")
    page = save_steps((x * x).sin(), tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.count("</script>") == 3  # the data, the widget's script and the page's
    assert page.count('id="steps"') == 1
    captions = [frame["caption"] for frame in page_data(page)["frames"]]
    assert "∂f/∂</script>@@ID@@ is complete" in captions[-1]


def test_the_page_opens_at_a_step_and_the_widget_exposes_show(tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    page = save_steps(trace_example()[2], tmp_path / "p.html").read_text(encoding="utf-8")
    assert 'get("step")' in page
    assert "root.autogradMiniShow = show" in page
    assert page.count("<figure") == 1


def test_the_widget_also_gives_its_frames_as_pictures() -> None:
    pytest.importorskip("pygraphviz")
    *_, f = trace_example()
    steps = step_through(f)
    frames = steps.frames
    assert len(frames) == len(steps) == 7
    assert all("<svg" in frame.svg() for frame in frames[:2])
    assert frames[3].caption == steps.data()["frames"][3]["caption"]
    assert steps.frames is frames  # made once


# -- atomic saves ----------------------------------------------------------------------------


@pytest.fixture
def old_files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name in ("g.svg", "g.png", "g.dot", "steps.html"):
        path = tmp_path / name
        path.write_text("the old file", encoding="utf-8")
        paths[name] = path
    return paths


def unchanged(paths: dict[str, Path]) -> bool:
    folder = next(iter(paths.values())).parent
    return (all(p.read_text(encoding="utf-8") == "the old file" for p in paths.values())
            and sorted(p.name for p in folder.iterdir()) == sorted(paths))


def test_a_failed_render_leaves_the_old_file(old_files: dict[str, Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RenderError("no engine today")

    monkeypatch.setattr(viz, "render", broken)
    monkeypatch.setattr(steps_module, "render", broken)
    *_, f = trace_example()
    for name in ("g.svg", "g.png"):
        with pytest.raises(RenderError):
            draw(f).save(old_files[name])
    with pytest.raises(RenderError):
        save_steps(f, old_files["steps.html"])
    assert unchanged(old_files)


def test_a_failed_write_leaves_the_old_file(old_files: dict[str, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pygraphviz")
    *_, f = trace_example()
    view, steps = draw(f), step_through(f)
    view.svg(), steps.svg()  # rendered before the disk fills up

    def full(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)  # the last step of files.write_atomic
    for name in ("g.svg", "g.png", "g.dot"):
        with pytest.raises(OSError, match=re.escape(f"cannot write {old_files[name]}")):
            view.save(old_files[name])
    with pytest.raises(OSError, match="No space left"):
        steps.save(old_files["steps.html"])
    assert unchanged(old_files)


def test_an_unknown_suffix_names_the_ones_to_use(tmp_path: Path) -> None:
    target = tmp_path / "g.jpeg"
    with pytest.raises(ValueError, match=r"use a \.svg, \.png, \.pdf or \.dot file name"):
        draw(trace_example()[2]).save(target)
    assert not target.exists()


def test_saves_replace_the_old_file(old_files: dict[str, Path]) -> None:
    pytest.importorskip("pygraphviz")
    *_, f = trace_example()
    view = draw(f)
    assert view.save(old_files["g.dot"]).read_text(encoding="utf-8") == view.source
    assert view.save(old_files["g.png"]).read_bytes().startswith(b"\x89PNG")
    assert "<svg" in view.save(old_files["g.svg"]).read_text(encoding="utf-8")
    assert "<svg" in save_steps(f, old_files["steps.html"]).read_text(encoding="utf-8")
    assert sorted(p.name for p in old_files["g.svg"].parent.iterdir()) == sorted(old_files)
