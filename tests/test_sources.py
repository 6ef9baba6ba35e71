"""The product cites its source documents by what a reader can look up, never as "seed 00N".

A reader cannot look up "seed 002", and the word clashes with random seeds (``seed=0``), so
no text of the package, the notebooks, the README or the docs may call a document that.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: "seed 0", "seed-0", "Seed 004", "seed-002's": a source document named by its file number.
SOURCE_AS_SEED = re.compile(r"\bseed[ -]0", re.IGNORECASE)


def _texts() -> list[Path]:
    files = [p for p in (ROOT / "autograd_mini").rglob("*")
             if p.is_file() and p.suffix in {".py", ".js", ".md", ".txt", ".csv"}]
    files += sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "docs").rglob("*.md"))
    files += [ROOT / name for name in ("README.md", "CHANGELOG.md", "CONTRIBUTING.md")]
    return [p for p in files if p.is_file()]


def _hits(text: str) -> list[str]:
    """Each line of ``text`` that names a source document as a seed."""
    return [line.strip() for line in text.splitlines() if SOURCE_AS_SEED.search(line)]


def test_the_check_finds_what_it_looks_for() -> None:
    planted = 'help="the seed-002 function"\n# as in Seed 004\nMLP(init="normal")  # seed 004'
    assert _hits(planted) == ['help="the seed-002 function"', "# as in Seed 004",
                              'MLP(init="normal")  # seed 004']
    # random seeds are another thing, and stay
    assert _hits("make_moons(100, seed=0)\n--seed 7\nrandom seeds\nseed=4") == []


def test_the_scan_covers_the_product() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _texts()}
    for expected in ("README.md", "autograd_mini/cli.py", "autograd_mini/engine.py",
                     "notebooks/01_evaluation_trace.ipynb", "docs/index.md"):
        assert expected in names


@pytest.mark.parametrize("path", _texts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_source_document_is_called_a_seed(path: Path) -> None:
    hits = _hits(path.read_text(encoding="utf-8"))
    assert not hits, f"{path.relative_to(ROOT)} names a source document as a seed: {hits}"


def test_the_cli_help_cites_by_title() -> None:
    from autograd_mini.cli import _parser

    parser = _parser()
    helps = [parser.format_help()]
    actions = [a for a in parser._actions if a.choices and isinstance(a.choices, dict)]
    for action in actions:
        helps += [sub.format_help() for sub in action.choices.values()]
    text = "\n".join(helps)
    assert not _hits(text)
    assert "Bishop and Bishop" in text  # the demo's function, by its book
