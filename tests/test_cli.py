"""The ``autograd-mini`` command."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from autograd_mini.cli import main


def _numbers_after(label: str, text: str) -> list[float]:
    line = next(row for row in text.splitlines() if row.strip().startswith(label))
    return [float(tok) for tok in line.split()[1:3]]


def test_demo_prints_the_gradient_beside_the_closed_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--x1", "1.5", "--x2", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "x1·x2 + exp(x1·x2) − sin(x2)" in out
    e = math.exp(0.75)  # by hand: ∂f/∂x1 = x2(1+e^(x1x2)), ∂f/∂x2 = x1(1+e^(x1x2)) − cos x2
    for label, expected in (("∂f/∂x1", 0.5 * (1 + e)), ("∂f/∂x2", 1.5 * (1 + e) - math.cos(0.5))):
        engine, closed = _numbers_after(label, out)
        assert math.isclose(engine, expected, rel_tol=1e-11)
        assert math.isclose(closed, expected, rel_tol=1e-11)


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "autograd_mini", "demo"],
                            capture_output=True, text=True, check=True)
    e = math.exp(10.0)
    engine, _ = _numbers_after("∂f/∂x1", result.stdout)
    assert math.isclose(engine, 5.0 * (1 + e), rel_tol=1e-11)


def test_usage_errors_exit_with_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--x1", "two"])
    assert info.value.code == 2
    assert "invalid float value" in capsys.readouterr().err
