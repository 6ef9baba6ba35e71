"""The ``autograd-mini`` command."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- autograd-mini trace -----------------------------------------------------------------------

# The evaluation-trace example of Bishop and Bishop, Deep Learning: Foundations and Concepts,
# chapter 8.
TRACE_EXAMPLE = "x1*x2 + exp(x1*x2) - sin(x2)"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_prints_the_tables_and_the_gradient(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "trace", TRACE_EXAMPLE, "--at", "x1=1.5", "x2=0.5")
    assert code == 0
    assert err == ""
    assert "Primal trace" in out
    assert "Adjoint trace (reverse mode)" in out
    assert "Tangent" not in out
    e = math.exp(0.75)  # by hand: x2(1 + e^(x1x2)), x1(1 + e^(x1x2)) − cos x2
    grads = dict(line.strip().split(" = ") for line in out.split("Gradient\n")[1].splitlines())
    assert math.isclose(float(grads["∂f/∂x1"]), 0.5 * (1 + e), rel_tol=1e-11)
    assert math.isclose(float(grads["∂f/∂x2"]), 1.5 * (1 + e) - math.cos(0.5), rel_tol=1e-11)
    # x1*x2 is written twice but is one node, read by exp and by +, as in the textbook trace
    assert "v₁  =  v₋₁ · v₀" in out
    assert "v₂  =  exp(v₁)" in out
    assert "v₃  =  v₁ + v₂" in out


def test_trace_wrt_adds_the_tangent_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "trace", TRACE_EXAMPLE, "--at", "x1=2", "x2=5", "--wrt", "x2")
    assert code == 0
    assert "Tangent trace (forward mode, ẋ = {x2: 1})" in out
    assert "v̇₄  =  v̇₀ · cos(v₀)" in out


@pytest.mark.parametrize(("fmt", "marker"), [("markdown", "| $v_{1} = v_{-1} \\cdot v_{0}$ |"),
                                             ("latex", "\\begin{aligned}")])
def test_trace_formats(capsys: pytest.CaptureFixture[str], fmt: str, marker: str) -> None:
    code, out, _ = run(capsys, "trace", TRACE_EXAMPLE, "--at", "x1=2", "x2=5", "--format", fmt)
    assert code == 0
    assert marker in out


def test_trace_writes_pictures(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    svg, png, steps = tmp_path / "g.svg", tmp_path / "g.png", tmp_path / "steps.html"
    code, _, err = run(capsys, "trace", "x*x", "--at", "x=3", "--svg", str(svg),
                       "--png", str(png), "--steps", str(steps))
    assert code == 0
    assert "<svg" in svg.read_text(encoding="utf-8")
    assert png.read_bytes().startswith(b"\x89PNG")
    page = steps.read_text(encoding="utf-8")
    assert page.count("<svg") == 1  # one layout for every frame
    assert "step 1 of 2" in page
    assert page.count('"node":') == 2  # the frames' data: x·x, then x
    assert f"wrote {svg}" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x1.real + 1", "--at", "x1=1"], "attribute access is not allowed"),
        (["__import__('os')"], "unknown function __import__"),
        (["log(x)", "--at", "x=-1"], "log: log is defined only for x > 0"),
        (["x / y", "--at", "x=1", "y=0"], "division by zero"),
        (["x + y", "--at", "x=1"], "no value for y"),
        (["x", "--at", "x=1", "z=2"], "does not use z"),
        (["x", "--at", "x=abc"], "'abc' is not a number"),
        (["x", "--at", "x"], "expected NAME=NUMBER"),
        (["x", "--at", "x=1", "x=2"], "x is given twice"),
        (["x", "--at", "x=1", "--wrt", "y"], "--wrt y: not a variable"),
    ],
)
def test_trace_errors_are_one_clean_message(capsys: pytest.CaptureFixture[str],
                                            argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "trace", *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("autograd-mini trace: error: ")


def test_evaluation_errors_fit_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(capsys, "trace", "x + sqrt(x - 2)", "--at", "x=1")
    assert err.count("\n") == 1
    assert "sqrt" in err


GRAMMAR = st.sampled_from(["x", "y", "1", "2.5", "(", ")", "+", "-", "*", "/", "**", "exp",
                           "log", "sqrt", ".", "[", "]", ",", "lambda", "__import__", "'",
                           "=", " ", "1e999", "0", ":"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(GRAMMAR, max_size=25).map("".join)))
def test_junk_expressions_only_ever_exit_with_0_or_2(text: str) -> None:
    try:
        code = main(["trace", text, "--at", "x=0.5", "y=1.5"])
    except SystemExit as done:  # argparse: a text that looks like an option
        code = int(done.code or 0)
    assert code in (0, 2)


# -- autograd-mini train and explain -----------------------------------------------------------


def _accuracies(out: str) -> tuple[float, float]:
    def number(prefix: str) -> float:
        line = next(row for row in out.splitlines() if row.startswith(prefix))
        return float(line.split(":")[1].split("%")[0])

    return number("train accuracy"), number("test accuracy")


@pytest.mark.parametrize(("task", "train_at_least", "test_at_least"), [
    # the [2, 2, 1] sigmoid XOR network of the "Backpropagation" tutorial notebook (notation of
    # neuralnetworksanddeeplearning.com, chapter 2)
    ("xor", 100.0, 100.0),
    ("moons", 98.0, 0.0),
    ("circles", 98.0, 0.0),
    ("iris", 0.0, 95.0),     # held out
])
def test_train_reaches_its_targets(capsys: pytest.CaptureFixture[str], task: str,
                                   train_at_least: float, test_at_least: float) -> None:
    code, out, _ = run(capsys, "train", task)
    assert code == 0
    train, test = _accuracies(out)
    assert train >= train_at_least
    assert test >= test_at_least


def test_train_saves_plots_and_explain_reads_the_model(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    model, plot = tmp_path / "xor.json", tmp_path / "xor.png"
    code, out, _ = run(capsys, "train", "xor", "--epochs", "50", "--save", str(model),
                       "--plot", str(plot))
    assert code == 0
    assert "1000" not in out.splitlines()[0]  # --epochs 50 was used
    assert plot.read_bytes().startswith(b"\x89PNG")
    code, out, _ = run(capsys, "explain", "--model", str(model), "--x", "0,1", "--y", "1")
    assert code == 0
    assert "largest difference between engine and closed form" in out
    difference = float(out.split("closed form: ")[1].split()[0])
    assert difference < 1e-12
    assert len(out.strip().splitlines()) == 2 + 1 + 6  # summary, blank, header, 6 weights


def test_explain_default_is_the_tutorial_xor_network(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain")
    assert code == 0
    assert out.startswith("MLP(2 → 2 sigmoid → 1 sigmoid) with bce")


@pytest.mark.parametrize(("argv", "message"), [
    (["explain", "--model", "/nonexistent/model.json"], "No such file"),
    (["explain", "--x", "1,0,5"], "takes 2 inputs, got 3"),
    (["explain", "--x", "a,b"], "could not convert"),
])
def test_explain_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                        message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert out == ""
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_train_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["train", "mnist"], ["train", "xor", "--lr", "-1"],
                 ["train", "xor", "--hidden", "16,x"], ["train", "xor", "--epochs", "2.5"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "invalid" in capsys.readouterr().err


def test_review_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    # demo at an overflowing point follows IEEE instead of raising
    code, out, _ = run(capsys, "demo", "--x1", "1000")
    assert code == 0
    assert "inf" in out
    # a bad --save is refused before training, in one line
    code, _, err = run(capsys, "train", "xor", "--save", "/nonexistent/x.json")
    assert code == 2
    assert "no folder /nonexistent" in err
    # a constant expression has nothing to differentiate
    code, _, err = run(capsys, "trace", "3")
    assert code == 2
    assert "has no variables" in err


def test_explain_uses_the_loss_the_model_was_trained_with(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    model = tmp_path / "moons.json"
    assert run(capsys, "train", "moons", "--epochs", "2", "--save", str(model))[0] == 0
    code, out, _ = run(capsys, "explain", "--model", str(model), "--x", "0.5,0.2", "--y", "1")
    assert code == 0
    assert "with hinge" in out


def test_repeated_at_options_are_one_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "trace", "x**2", "--at", "x=1", "--at", "x=2")
    assert code == 2
    assert "x is given twice" in err
