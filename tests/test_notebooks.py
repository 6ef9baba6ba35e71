"""The notebooks are committed clean, and the README points at each of them.

Running them is ``make nbtest`` (part of ``make test``): nbmake executes each notebook top to
bottom in a fresh kernel, and a cell that raises fails the build. These tests check what can be
read without a kernel: a notebook committed with outputs would put stale numbers and pictures
in front of a reader, and would make every diff noisy.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [
    "01_evaluation_trace.ipynb",
    "02_backprop_equations.ipynb",
    "03_training.ipynb",
    "04_checking_derivatives.ipynb",
    "05_higher_order.ipynb",
]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_every_chapter_is_there() -> None:
    assert [p.name for p in NOTEBOOKS] == CHAPTERS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    nb = _load(path)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"]  # no saved widget state either
    dirty = [k for k, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell["outputs"] or cell["execution_count"] is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} hold outputs; clear them (Jupyter: Edit > "
                       f"Clear Outputs of All Cells) before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_a_title_and_ends_with_what_to_try(path: Path) -> None:
    cells = _load(path)["cells"]
    number = int(path.name[:2])
    first = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown"
    assert first.startswith(f"# {number}. ")
    last = "".join(cells[-1]["source"])
    assert cells[-1]["cell_type"] == "markdown"
    assert "what to try next" in last.lower()


def test_readme_links_each_notebook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in CHAPTERS:
        assert f"(notebooks/{name})" in readme


def test_readme_picture_is_the_trace_example_graph_after_backward() -> None:
    """``make figures`` draws docs/trace.svg with the package: the graph of the evaluation-trace
    example of Bishop and Bishop, Deep Learning: Foundations and Concepts, chapter 8, after
    backward(). The numbers it must show are worked here by hand: f(2, 5) = 10 + e¹⁰ − sin 5,
    ∂f/∂x1 = x2(1 + e^{x1x2}) and ∂f/∂x2 = x1(1 + e^{x1x2}) − cos x2."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"!\[[^\]]+\]\(docs/trace\.svg\)", readme)
    svg = (ROOT / "docs" / "trace.svg").read_text(encoding="utf-8")
    e10 = math.exp(10)
    for label, number in [
        ("data", 10 + e10 - math.sin(5)),
        ("grad", 5 * (1 + e10)),
        ("grad", 2 * (1 + e10) - math.cos(5)),
        ("tangent", 5 * (1 + e10)),  # drawn with --wrt x1
    ]:
        assert f"{label} {number:.6g}<" in svg
