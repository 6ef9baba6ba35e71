"""The core imports only the standard library, and optional packages load only when used."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograd_mini"
CORE = ["rules.py", "_graph.py", "engine.py", "forward.py", "functional.py"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_imports_only_the_standard_library(module: str) -> None:
    outside = {n for n in _imports(PACKAGE / module) if n not in sys.stdlib_module_names}
    assert not outside, f"{module} imports {sorted(outside)}"


def test_rules_depend_on_math_alone() -> None:
    allowed = {"math", "operator", "collections", "dataclasses", "typing", "__future__"}
    assert _imports(PACKAGE / "rules.py") <= allowed


def test_import_loads_no_optional_package() -> None:
    code = (
        "import sys, autograd_mini, autograd_mini.testing;"
        "print(sorted(m for m in ('graphviz', 'hypothesis', 'sympy', 'numpy', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
