"""The version: written once, as ``__version__`` in ``autograd_mini/__init__.py``, and the same
everywhere it shows: in the installed package's metadata, in ``autograd-mini --version`` and
in the changelog's newest release.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_mini
from autograd_mini.cli import main

ROOT = Path(__file__).resolve().parents[1]

#: A public version in PEP 440's canonical form, the regular expression of its appendix B:
#: N(.N)*[{a|b|rc}N][.postN][.devN], with an optional epoch N!.
CANONICAL = re.compile(
    r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
    r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$"
)


@pytest.mark.parametrize("text", ["0.2.0", "1.0", "1.0a1", "1.0rc2", "1.0.post1", "1.0.dev0",
                                  "1!2.0"])
def test_the_pattern_accepts_pep_440_versions(text: str) -> None:
    assert CANONICAL.match(text)


@pytest.mark.parametrize("text", ["", "v0.2.0", "0.2.0-beta", "1.0alpha1", "01.2.0",
                                  "0.2.0 ", "0.2.0+local", "0.2.x"])
def test_the_pattern_refuses_what_is_not_a_canonical_public_version(text: str) -> None:
    assert not CANONICAL.match(text)


def test_the_version_is_a_canonical_pep_440_version() -> None:
    assert CANONICAL.match(autograd_mini.__version__), autograd_mini.__version__


def test_the_installed_metadata_has_the_same_version() -> None:
    installed = importlib.metadata.version("autograd-mini")
    # NOTE: an editable install writes its metadata when it is installed, so after a change
    # of __version__ this passes only once the package is reinstalled; make does that, as
    # the venv's stamp depends on autograd_mini/__init__.py.
    assert installed == autograd_mini.__version__, (
        f"the installed metadata says {installed}, autograd_mini/__init__.py says "
        f"{autograd_mini.__version__}: reinstall the package (make test does, or "
        "pip install -e '.[dev,viz]')")


def test_dash_dash_version_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"autograd-mini {autograd_mini.__version__}\n"


def test_python_dash_m_prints_it(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "autograd_mini", "--version"],
                            capture_output=True, text=True, check=True, cwd=tmp_path)
    assert result.stdout == f"autograd-mini {autograd_mini.__version__}\n"


def test_the_changelog_has_a_dated_section_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    heading = re.compile(rf"^## \[{re.escape(autograd_mini.__version__)}\] - "
                         r"\d{4}-\d{2}-\d{2}$", re.MULTILINE)
    assert heading.search(changelog), (
        f"CHANGELOG.md has no '## [{autograd_mini.__version__}] - YYYY-MM-DD' section: a new "
        "version needs its entry")
