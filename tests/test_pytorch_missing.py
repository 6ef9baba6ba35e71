"""compare_with_torch without PyTorch: the module imports without it, says how to install it,
and checks its arguments and the torch forms it needs before it looks for torch. These tests
hide torch (``sys.modules["torch"] = None`` makes ``import torch`` fail), so they run the same
whether or not torch is installed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import autograd_mini as am
from autograd_mini.rules import RULES
from autograd_mini.testing.pytorch import TORCH_FORMS, TorchMismatchError, compare_with_torch


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)


@pytest.fixture
def softsign() -> Iterator[tuple[str, Any]]:
    name = "t_torch_missing_softsign"
    op = am.primitive(name, lambda x: x / (1.0 + abs(x)),
                      [lambda x, out: 1.0 / (1.0 + abs(x)) ** 2])
    yield name, op
    RULES.pop(name, None)


def test_importing_the_module_does_not_import_torch() -> None:
    code = ("import sys, autograd_mini.testing.pytorch as p; "
            "print('torch' in sys.modules, len(p.TORCH_FORMS) > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.usefixtures("no_torch")
def test_missing_torch_says_how_to_install_it() -> None:
    with pytest.raises(ModuleNotFoundError, match="pip install torch") as caught:
        compare_with_torch(lambda x, y: x * y.exp(), [0.5, 2.0])
    assert isinstance(caught.value, ImportError)
    assert caught.value.name == "torch"


@pytest.mark.usefixtures("no_torch")
def test_a_missing_form_is_named_before_torch_is_needed(softsign: tuple[str, Any]) -> None:
    name, op = softsign
    with pytest.raises(ValueError, match=rf"no torch form for the op\(s\) '{name}'") as caught:
        compare_with_torch(lambda x: op(x).exp() + op(x * 2.0), [0.5])
    message = str(caught.value)
    assert f'forms={{"{name}": lambda torch, x: ...}}' in message
    assert "'exp'" not in message  # built-in rows have their forms
    # with the form given, the next thing needed is torch itself
    with pytest.raises(ModuleNotFoundError, match="pip install torch"):
        compare_with_torch(lambda x: op(x), [0.5],
                           forms={name: lambda torch, x: x / (1 + torch.abs(x))})


@pytest.mark.usefixtures("no_torch")
def test_bad_arguments_are_refused_before_torch_is_needed() -> None:
    with pytest.raises(ValueError, match="order must be 0, 1 or 2"):
        compare_with_torch(lambda x: x, [0.5], order=3)
    with pytest.raises(TypeError, match="xs must be a list"):
        compare_with_torch(lambda x: x, 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="forms maps rule names to functions"):
        compare_with_torch(lambda x: x, [0.5], forms={"exp": "torch.exp"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="must return a Value"):
        compare_with_torch(lambda x: [x, x], [0.5])


def test_every_builtin_row_has_a_torch_form() -> None:
    builtin = {name for name, rule in RULES.items() if rule.builtin}
    assert builtin <= set(TORCH_FORMS), sorted(builtin - set(TORCH_FORMS))


def test_the_mismatch_table_names_every_entry() -> None:
    rows = [("f", 1.0, 1.0, True), ("∂f/∂x0", 2.2, 2.0, False), ("∂²f/∂x0²", 0.0, 0.0, True)]
    error = TorchMismatchError(rows, [0.5], 1e-12, 1e-9, ["mul"],
                               ["∂t/∂x at x = 0.5: autograd_mini 2.2, torch 2.0"])
    assert isinstance(error, AssertionError)
    lines = str(error).splitlines()
    assert lines[0].startswith("autograd_mini and PyTorch disagree on 1 of 3 entries at x0 = 0.5")
    assert "autograd_mini" in lines[1]
    assert "torch" in lines[1]
    assert lines[3].split()[:3] == ["∂f/∂x0", "2.2", "2.0"]
    assert lines[3].endswith("mismatch")
    assert "mismatch" not in lines[2]
    assert "mismatch" not in lines[4]
    assert "The graph's ops: mul." in lines
    assert lines[-1] == "  ∂t/∂x at x = 0.5: autograd_mini 2.2, torch 2.0"
    assert error.rows == rows
    assert error.point == (0.5,)
