"""The command line's picture options: --depth, --color grad, and explain's --collapse,
--svg, --png and --diagram."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograd_mini.cli import main

BISHOP = "x1*x2 + exp(x1*x2) - sin(x2)"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def titles(svg: str) -> list[str]:
    """The names of the drawn nodes, op circles and cut markers left out."""
    return [t for t in re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg)
            if not t.endswith(("_op", "_cut")) and t != "legend"]


def test_trace_depth_draws_the_top_of_the_graph(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    picture = tmp_path / "g.svg"
    code, out, err = run(capsys, "trace", BISHOP, "--at", "x1=2", "x2=5", "--svg",
                         str(picture), "--depth", "1")
    assert code == 0, err
    svg = picture.read_text(encoding="utf-8")
    # v5 = v3 − v4 and its two operands; the rest is cut
    assert sorted(titles(svg)) == ["v3", "v4", "v5"]
    assert "not drawn" in svg
    assert "∂f/∂x1 = 110137.328974" in out  # the tables are whole whatever is drawn


def test_trace_color_grad_adds_the_legend(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    picture = tmp_path / "g.svg"
    code, _, err = run(capsys, "trace", BISHOP, "--at", "x1=2", "x2=5", "--svg", str(picture),
                       "--color", "grad")
    assert code == 0, err
    assert "log scale" in picture.read_text(encoding="utf-8")


@pytest.mark.parametrize("bad", ["-1", "1.5", "x"])
def test_a_bad_depth_is_a_usage_error(capsys: pytest.CaptureFixture[str], bad: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["trace", "x*x", "--at", "x=1", "--depth", bad])
    assert stopped.value.code == 2
    assert "--depth" in capsys.readouterr().err


def test_explain_draws_the_folded_graph_and_the_network(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    graph, network = tmp_path / "g.svg", tmp_path / "net.svg"
    code, out, err = run(capsys, "explain", "--svg", str(graph), "--collapse", "neuron",
                         "--diagram", str(network))
    assert code == 0, err
    assert err == f"wrote {graph}\nwrote {network}\n"
    svg = graph.read_text(encoding="utf-8")
    # the tutorial's [2, 2, 1] XOR network: three neurons, each one box
    for name in ("neuron 1 of layer 1", "neuron 2 of layer 1", "neuron 1 of layer 2"):
        assert name in svg
    assert "<svg" in network.read_text(encoding="utf-8")
    assert "δ" in out


def test_explain_refuses_a_bad_picture_name_before_any_work(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "explain", "--diagram", str(tmp_path / "net.png"))
    assert code == 2
    assert "--diagram" in err
    assert ".svg" in err
    assert "Traceback" not in err
    assert out == ""


def test_trace_full_keeps_the_zero_terms(capsys: pytest.CaptureFixture[str]) -> None:
    # with ẋ = (1, 0), sin(x2)'s tangent is cos(x2)·ẋ2 = 0: written out with --full only
    code, out, _ = run(capsys, "trace", BISHOP, "--at", "x1=2", "x2=5", "--wrt", "x1", "--full")
    assert code == 0
    assert re.search(r"v̇₄ += +v̇₀ · cos\(v₀\) +0$", out, flags=re.M)
    code, out, _ = run(capsys, "trace", BISHOP, "--at", "x1=2", "x2=5", "--wrt", "x1")
    assert code == 0
    assert re.search(r"v̇₄ += +0 +0$", out, flags=re.M)


def test_a_graph_too_large_names_the_command_line_options(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    # Σ sin(x·i), i = 1 … 60: x, 60 constants, 60 products, 60 sines and 59 sums, no groups
    expression = "+".join(f"sin(x*{i})" for i in range(1, 61))
    picture = tmp_path / "g.svg"
    code, _, err = run(capsys, "trace", expression, "--at", "x=1", "--svg", str(picture))
    assert code == 2
    assert "240 nodes" in err
    assert "--depth N" in err
    assert "--max-nodes 240" in err
    assert "stop_at" not in err
    assert not picture.exists()


def test_full_without_wrt_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "trace", "x*x", "--at", "x=1", "--full")
    assert code == 2
    assert "--full" in err
    assert "--wrt" in err
    assert out == ""


@pytest.mark.parametrize("argv", [
    ["trace", "x*x", "--at", "x=1", "--depth", "1"],
    ["trace", "x*x", "--at", "x=1", "--color", "grad"],
    ["explain", "--collapse", "neuron"],
])
def test_a_picture_option_without_a_picture_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "shapes the --svg and --png pictures" in err
    assert out == ""
