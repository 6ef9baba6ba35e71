"""The README's examples, and those of the site's landing page and guides, run as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from autograd_mini.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
GUIDES = sorted((DOCS / "guides").glob("*.md"))
#: Every page of the site with Python examples; the landing page shows only the two commands.
PAGES = [*GUIDES]


def run_examples(path: Path, name: str) -> doctest.TestResults:
    """Every ```python block of ``path``, in order, as one doctest session: a later block sees
    the names an earlier one made, and each file starts from an empty namespace. Rows that
    the examples add to the rule table (``primitive``) are taken out again, so that they are
    not drawn by the strategies of later examples and tests."""
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, name, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    before = set(RULES)
    try:
        runner.run(test)
    finally:
        for added in set(RULES) - before:
            RULES.pop(added)
    return runner.summarize(verbose=False)


def test_readme_examples() -> None:
    result = run_examples(README, "README")
    assert result.attempted > 0, "the README has no Python examples"
    assert result.failed == 0


def test_every_guide_is_tested() -> None:
    assert {p.stem for p in GUIDES} >= {
        "teaching", "visualising", "property-testing", "primitives", "debugging", "semantics",
        "performance"}


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_examples(path: Path) -> None:
    result = run_examples(path, path.stem)
    assert result.attempted > 0, f"{path.name} has no Python examples"
    assert result.failed == 0


def test_the_pages_without_examples_have_none() -> None:
    # a Python example added to one of them must join PAGES, so that it runs
    for page in sorted(DOCS.rglob("*.md")):
        if page not in PAGES:
            assert "```python" not in page.read_text(encoding="utf-8"), page
