"""Imports run one way, down the layers, and the core imports only the standard library.

Every import of every module is read with ``ast``, function bodies included, so an import
made inside a function to dodge a cycle is caught like any other.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograd_mini"

#: The layers, bottom first. A module may import only modules of earlier layers; modules of
#: one layer do not import each other. ``__init__`` gathers the public names and is imported
#: by nothing inside the package.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "files"),
    ("rules",),
    ("_graph",),
    ("cost", "anomaly"),
    ("sweep",),
    ("engine",),
    ("functional",),
    ("tables", "compile"),
    ("viz",),
    ("steps",),
    ("datasets",),
    ("losses",),
    ("diagram",),
    ("nn",),
    ("optim",),
    ("backprop",),
    ("report",),
    ("explore",),
    ("testing.forms",),
    ("testing.program",),
    ("testing.oracle", "testing.pytorch"),
    ("testing",),
    ("testing.strategies",),
    ("expression",),
    ("cli",),
    ("__main__",),
]
CORE = ("errors", "files", "rules", "_graph", "cost", "anomaly", "sweep", "engine",
        "functional")
OPTIONAL = ("graphviz", "pygraphviz", "hypothesis", "sympy", "mpmath", "torch", "numpy",
            "matplotlib", "anywidget")


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imports(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, what) for every import in the file, at any depth: a module of the package by
    its name inside it (``engine``, ``testing.program``), any other by its top-level name."""
    here = module_name(path, package).split(".")
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name == "autograd_mini" or name.startswith("autograd_mini."):
                    found.append((node.lineno, name.partition(".")[2] or "__init__"))
                else:
                    found.append((node.lineno, name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
                if module == "autograd_mini" or module.startswith("autograd_mini."):
                    base = module.partition(".")[2].split(".") if "." in module else []
                else:
                    found.append((node.lineno, module.split(".")[0]))
                    continue
            else:  # relative: from the module's package, up node.level − 1 packages
                base = here if is_package else here[:-1]
                base = base[:len(base) - (node.level - 1)]
                if node.module:
                    base = [*base, *node.module.split(".")]
            target = ".".join(base)
            for alias in node.names:  # from . import rules: the submodule rules
                sub = ".".join([*base, alias.name])
                found.append((node.lineno, sub if _is_module(package, sub) else
                              (target or "__init__")))
    return found


def _is_module(package: Path, name: str) -> bool:
    path = package.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(package: Path) -> list[str]:
    """Every import of a package module that goes up or sideways in :data:`LAYERS`, every
    import of ``__init__``, and every module missing from the layers."""
    rank = {name: k for k, layer in enumerate(LAYERS) for name in layer}
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        here = module_name(path, package)
        if here == "__init__":
            continue
        if here not in rank:
            found.append(f"{here} is in no layer of tests/test_imports.py")
            continue
        for line, target in imports(path, package):
            if target == "__init__":
                found.append(f"{here}:{line} imports the package's __init__")
            elif target in rank and rank[target] >= rank[here]:
                found.append(f"{here}:{line} imports {target}, which is not below it")
    return found


def test_imports_run_down_the_layers() -> None:
    assert violations(PACKAGE) == []


def test_an_upward_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "autograd_mini"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert violations(copy) == []
    engine = copy / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8")
                      + "\n\ndef picture(v):\n    from .viz import draw\n\n    return draw(v)\n",
                      encoding="utf-8")
    assert violations(copy) == [f"engine:{_last_line(engine) - 2} imports viz, which is not "
                                "below it"]


def test_a_cycle_through_an_absolute_import_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "autograd_mini"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    rules = copy / "rules.py"
    rules.write_text(rules.read_text(encoding="utf-8")
                     + "\n\ndef node():\n    import autograd_mini.engine\n",
                     encoding="utf-8")
    assert violations(copy) == [f"rules:{_last_line(rules)} imports engine, which is not "
                                "below it"]


def _last_line(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("module", CORE)
def test_core_imports_only_the_standard_library(module: str) -> None:
    path = PACKAGE / f"{module}.py"
    outside = {name for _, name in imports(path, PACKAGE)
               if not _is_module(PACKAGE, name) and name not in sys.stdlib_module_names}
    assert not outside, f"{module} imports {sorted(outside)}"


def test_import_loads_no_optional_package() -> None:
    code = (
        "import sys, autograd_mini, autograd_mini.testing, autograd_mini.viz;"
        f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
