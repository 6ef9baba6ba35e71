"""The command line never loses training to an interrupt and never ends in a traceback.

Expected values come from outside the code under test: arithmetic on the datasets' sizes, an
uninterrupted run of the same training, the expression parser's own refusals.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from autograd_mini import cli, datasets, losses, nn, optim
from autograd_mini.cli import main
from autograd_mini.engine import Value
from autograd_mini.expression import ExpressionError, parse
from autograd_mini.optim import SGD, fit


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_error(err: str, *names: str) -> None:
    """One line on stderr, no traceback, naming every one of ``names``."""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    for name in names:
        assert name in err


# -- fit: an interrupt returns the history so far ----------------------------------------------

# Eight points, two per batch: four steps an epoch.
POINTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0],
          [0.5, 0.2], [0.2, 0.5], [0.9, 0.1], [0.1, 0.8]]
LABELS = [[0.0], [1.0], [1.0], [0.0], [1.0], [1.0], [1.0], [1.0]]


def _model() -> nn.MLP:
    return nn.MLP(2, [3, 1], activation="tanh", output="sigmoid", seed=1)


def _weights(model: nn.MLP) -> list[float]:
    return [p.data for p in model.parameters()]


class _StopAfter(SGD):
    """SGD whose step number ``k + 1`` raises KeyboardInterrupt before changing anything."""

    def __init__(self, parameters: Sequence[Value], k: int) -> None:
        super().__init__(parameters, lr=0.5)
        self.left = k

    def step(self) -> None:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        super().step()


def test_fit_interrupted_in_an_optimizer_step_keeps_the_whole_epochs() -> None:
    reference = _model()
    expected = fit(reference, POINTS, LABELS, "bce", SGD(reference.parameters(), lr=0.5),
                   epochs=1, batch_size=2)
    model = _model()
    history = fit(model, POINTS, LABELS, "bce", _StopAfter(model.parameters(), k=6), epochs=50,
                  batch_size=2)
    assert history.interrupted
    assert history.steps == 6  # the seventh step raised, so it does not count
    assert len(history.loss) == len(history.accuracy) == 1  # 6 steps: one whole epoch of 4
    assert history.loss == expected.loss
    assert history.accuracy == expected.accuracy
    assert not expected.interrupted
    assert expected.steps == 4


def test_fit_interrupted_at_an_epoch_boundary_has_the_weights_of_the_shorter_run() -> None:
    reference = _model()
    fit(reference, POINTS, LABELS, "bce", SGD(reference.parameters(), lr=0.5), epochs=2,
        batch_size=2)
    model = _model()
    history = fit(model, POINTS, LABELS, "bce", _StopAfter(model.parameters(), k=8), epochs=50,
                  batch_size=2)
    assert (history.interrupted, history.steps, len(history.loss)) == (True, 8, 2)
    assert _weights(model) == _weights(reference)


def _mse_raising_at(call: int) -> Callable[[Sequence[Value], Sequence[float]], Value]:
    calls = 0

    def mse(outputs: Sequence[Value], target: Sequence[float]) -> Value:
        nonlocal calls
        calls += 1
        if calls == call:
            raise KeyboardInterrupt
        return losses.mse(outputs, target)

    return mse


def test_fit_interrupted_in_the_loss_returns_the_completed_epochs() -> None:
    # full batches: one step an epoch of len(POINTS) loss calls; the first call of epoch 4
    reference = _model()
    expected = fit(reference, POINTS, LABELS, "mse", SGD(reference.parameters(), lr=0.5),
                   epochs=3)
    model = _model()
    history = fit(model, POINTS, LABELS, _mse_raising_at(3 * len(POINTS) + 1),
                  SGD(model.parameters(), lr=0.5), epochs=10)
    assert (history.interrupted, history.steps) == (True, 3)
    assert history.loss == expected.loss
    assert _weights(model) == _weights(reference)


def _mse_signalling_at(call: int, times: int) -> Callable[[Sequence[Value], Sequence[float]],
                                                          Value]:
    calls = 0

    def mse(outputs: Sequence[Value], target: Sequence[float]) -> Value:
        nonlocal calls
        calls += 1
        if calls == call:
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)  # let the handler run before the next one
        return losses.mse(outputs, target)

    return mse


needs_default_sigint = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="fit takes over only Python's default SIGINT handler")


@needs_default_sigint
def test_a_first_ctrl_c_lets_the_current_step_finish() -> None:
    reference = _model()
    fit(reference, POINTS, LABELS, "mse", SGD(reference.parameters(), lr=0.5), epochs=3)
    model = _model()
    # SIGINT in the middle of the third step's forward pass
    history = fit(model, POINTS, LABELS, _mse_signalling_at(2 * len(POINTS) + 3, times=1),
                  SGD(model.parameters(), lr=0.5), epochs=10)
    assert (history.interrupted, history.steps, len(history.loss)) == (True, 3, 3)
    assert _weights(model) == _weights(reference)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


@needs_default_sigint
def test_a_second_ctrl_c_abandons_the_step_and_stops_the_caller_too() -> None:
    reference = _model()
    fit(reference, POINTS, LABELS, "mse", SGD(reference.parameters(), lr=0.5), epochs=2)
    model = _model()
    with pytest.raises(KeyboardInterrupt) as stopped:  # a loop of fit calls can be stopped
        fit(model, POINTS, LABELS, _mse_signalling_at(2 * len(POINTS) + 3, times=2),
            SGD(model.parameters(), lr=0.5), epochs=10)
    history = stopped.value.history  # type: ignore[attr-defined]
    assert (history.interrupted, history.steps, len(history.loss)) == (True, 2, 2)
    assert _weights(model) == _weights(reference)  # the forward pass changed nothing
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_uninterrupted_history_says_so() -> None:
    model = _model()
    history = fit(model, POINTS, LABELS, "bce", SGD(model.parameters(), lr=0.5), epochs=3,
                  batch_size=3)
    assert not history.interrupted
    assert history.steps == 3 * math.ceil(len(POINTS) / 3)
    assert len(history.loss) == 3


# -- train: Ctrl-C saves the model and exits 130 -----------------------------------------------


def _moons_train_accuracy(model: nn.MLP) -> float:
    """The train accuracy of a moons model, computed here as train computes it by definition:
    the sign of the score against the label's sign, on train's split of train's data."""
    train_set, _ = datasets.train_test_split(datasets.moons(n=200, seed=0), 0.2, seed=0)
    right = sum((model.predict(x)[0] > 0) == (s > 0)
                for x, s in zip(train_set.X, train_set.signs(), strict=True))
    return 100.0 * right / len(train_set)


def _hear_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_during_train_saves_the_model_and_exits_130(tmp_path: Path) -> None:
    saved = tmp_path / "moons.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "autograd_mini", "train", "moons", "--epochs", "1000",
         "--save", str(saved)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        # a shell's background job inherits SIGINT ignored; the child must hear Ctrl-C
        preexec_fn=_hear_sigint)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed just before training starts
        assert "1000 epochs" in first
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted after" in err
    assert str(saved) in err
    model = nn.load(saved)
    assert (model.nin, model.nouts) == (2, [16, 16, 1])
    printed = float(next(line for line in out.splitlines()
                         if line.startswith("train accuracy")).split(":")[1].rstrip("%\n"))
    assert printed == pytest.approx(_moons_train_accuracy(model), abs=0.05)
    epoch = int(out.split("(after epoch ")[1].split()[0]) if "(after epoch " in out else 0
    assert epoch < 1000


def test_train_interrupted_in_process_reports_the_steps(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    left = [7]
    step = optim.Adam.step

    def stopping(self: optim.Adam) -> None:
        if left[0] == 0:
            raise KeyboardInterrupt
        left[0] -= 1
        step(self)

    monkeypatch.setattr(optim.Adam, "step", stopping)
    saved, plot = tmp_path / "m.json", tmp_path / "m.png"
    argv = ["train", "moons", "--epochs", "50", "--save", str(saved)]
    if _has_matplotlib():
        argv += ["--plot", str(plot)]
    code, out, err = run(capsys, *argv)
    assert code == 130
    # moons: 200 points, 20% held out, batches of 32: 160 / 32 = 5 steps an epoch
    assert "interrupted after 1 of 50 epochs (7 steps)" in err
    assert_clean_error(err, str(saved))
    assert "train accuracy" in out
    assert "test accuracy" in out
    assert nn.load(saved).nouts == [16, 16, 1]
    if _has_matplotlib():
        assert plot.read_bytes().startswith(b"\x89PNG")
        assert f"wrote {plot}" in out


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _raise_interrupt(*args: Any, **kwargs: Any) -> Any:
    raise KeyboardInterrupt


@pytest.mark.parametrize(("target", "argv"), [
    ("autograd_mini.tables.Trace", ["trace", "x*x", "--at", "x=2"]),
    ("autograd_mini.report.explain", ["explain"]),
    ("autograd_mini.datasets.moons", ["train", "moons"]),  # before training: nothing to keep
])
def test_ctrl_c_anywhere_exits_130_without_a_traceback(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       target: str, argv: list[str]) -> None:
    monkeypatch.setattr(target, _raise_interrupt)
    code, _, err = run(capsys, *argv)
    assert code == 130
    assert err == f"autograd-mini {argv[0]}: interrupted\n"


# -- outputs: suffixes, folders, and failures at write time ------------------------------------

OUTPUT_OPTIONS = [
    (["train", "xor", "--epochs", "5", "--plot"], ".png"),
    (["train", "xor", "--epochs", "5", "--save"], ".json"),
    (["trace", "x*x", "--at", "x=2", "--svg"], ".svg"),
    (["trace", "x*x", "--at", "x=2", "--png"], ".png"),
    (["trace", "x*x", "--at", "x=2", "--steps"], ".html"),
]


def _bad_paths(tmp_path: Path, suffix: str) -> dict[str, str]:
    (tmp_path / "file.txt").write_text("a regular file\n", encoding="utf-8")
    (tmp_path / f"folder{suffix}").mkdir()
    (tmp_path / f"full{suffix}").symlink_to("/dev/full")
    wrong = ".json" if suffix != ".json" else ".png"
    return {
        "under a regular file": str(tmp_path / "file.txt" / f"out{suffix}"),  # fails for root
        "a directory": str(tmp_path / f"folder{suffix}"),
        "a device": "/dev/full",
        "a link to a device": str(tmp_path / f"full{suffix}"),
        "a missing folder": str(tmp_path / "missing" / f"out{suffix}"),
        "a wrong suffix": str(tmp_path / f"out{wrong}"),
        "no suffix": str(tmp_path / "out"),
        "a trailing slash": str(tmp_path / f"new{suffix}") + "/",
    }


@pytest.mark.parametrize(("argv", "suffix"), OUTPUT_OPTIONS)
def test_every_bad_output_is_refused_before_any_work(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path, argv: list[str],
                                                     suffix: str) -> None:
    for kind, path in _bad_paths(tmp_path, suffix).items():
        code, out, err = run(capsys, *argv, path)
        assert code == 2, kind
        assert_clean_error(err, path)
        assert out == "", kind  # refused before training or tracing
        assert "wrote" not in err
        if kind in ("a device", "a wrong suffix", "no suffix", "a trailing slash"):
            assert f"must end in {suffix}" in err, kind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["file.txt", f"folder{suffix}", f"full{suffix}"])  # nothing was created


def test_suffixes_are_case_insensitive(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    saved = tmp_path / "M.JSON"
    code, _, _ = run(capsys, "train", "xor", "--epochs", "3", "--save", str(saved))
    assert code == 0
    assert nn.load(saved).nouts == [2, 1]


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_a_failure_at_write_time_comes_after_the_accuracies(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           option: str) -> None:
    if option == "--plot":
        pytest.importorskip("matplotlib")
    suffix = ".json" if option == "--save" else ".png"
    (tmp_path / f"folder{suffix}").mkdir()
    (tmp_path / f"full{suffix}").symlink_to("/dev/full")
    # as if the folder had changed after train checked it: the write itself fails
    monkeypatch.setattr(cli, "_check_output", lambda option, path: None)
    for name in (f"folder{suffix}", f"full{suffix}"):
        path = str(tmp_path / name)
        code, out, err = run(capsys, "train", "xor", "--epochs", "5", option, path)
        assert code == 2
        assert_clean_error(err, path)
        assert "train accuracy" in out
        assert "test accuracy" in out
        assert path not in out  # neither "saved the model to" nor "wrote"


def test_a_full_disk_is_named_without_errno_noise(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    saved = tmp_path / "m.json"
    saved.write_text("the old file\n", encoding="utf-8")
    monkeypatch.setattr(os, "fsync", full)
    code, out, err = run(capsys, "train", "xor", "--epochs", "5", "--save", str(saved))
    assert code == 2
    assert_clean_error(err, str(saved), os.strerror(errno.ENOSPC))
    assert "[Errno" not in err
    assert "train accuracy" in out
    assert saved.read_text(encoding="utf-8") == "the old file\n"  # written atomically
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_plot_and_save_write_real_files(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plot, saved = tmp_path / "p.png", tmp_path / "m.json"
    code, out, err = run(capsys, "train", "circles", "--epochs", "2", "--plot", str(plot),
                         "--save", str(saved))
    assert (code, err) == (0, "")
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert f"wrote {plot}" in out
    assert f"saved the model to {saved}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "p.png"]  # no temporaries


# -- divergence, numbers, and the graph limit --------------------------------------------------


def test_divergence_is_reported_in_one_line(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    saved = tmp_path / "m.json"
    code, out, err = run(capsys, "train", "moons", "--epochs", "3", "--lr", "1e308",
                         "--save", str(saved))
    assert code == 2
    assert_clean_error(err, "diverged", "smaller --lr", str(saved))
    assert "JSON compliant" not in err
    assert "train accuracy" in out
    assert not saved.exists()


@pytest.mark.parametrize("number", ["inf", "-inf", "+inf", "Infinity", "nan", "-NaN", "1e309",
                                    "-1e309", "1" + "0" * 400])
def test_at_refuses_what_an_expression_refuses(capsys: pytest.CaptureFixture[str],
                                               number: str) -> None:
    if number.lstrip("+-").lower() in ("inf", "infinity", "nan"):
        with pytest.raises(ExpressionError):  # not literals: read as variables, then unbound
            parse(number.lstrip("+-")).evaluate({})
    else:
        with pytest.raises(ExpressionError, match="too large for a float"):
            parse(f"x + {number.lstrip('+-')}")
    code, out, err = run(capsys, "trace", "x*x", "--at", f"x={number}")
    assert code == 2
    assert out == ""
    assert_clean_error(err, f"x={number}")


def test_at_accepts_signed_zero_and_tiny_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "trace", "x*y", "--at", "x=-0", "y=1e-320")
    assert code == 0
    grads = dict(line.strip().split(" = ") for line in out.split("Gradient\n")[1].splitlines())
    assert float(grads["∂f/∂x"]) == 1e-320  # ∂(xy)/∂x = y
    assert math.copysign(1.0, float(grads["∂f/∂y"])) == -1.0  # ∂(xy)/∂y = x = −0


@pytest.mark.parametrize("argv", [["demo", "--x1", "nan"], ["demo", "--x2", "inf"],
                                  ["demo", "--x1", "1e309"], ["train", "xor", "--lr", "1e309"],
                                  ["trace", "x", "--at", "x=1", "--max-nodes", "1e309"]])
def test_other_numbers_follow_the_same_rule(capsys: pytest.CaptureFixture[str],
                                            argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("x", ["1e309,0", "nan,1", "1,inf"])
def test_explain_refuses_numbers_that_are_not_finite(capsys: pytest.CaptureFixture[str],
                                                     x: str) -> None:
    code, _, err = run(capsys, "explain", "--x", x)
    assert code == 2
    assert_clean_error(err, "--x")


def test_the_graph_limit_names_the_cli_option(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    # x*x + 1 has four nodes: x, x·x, the constant 1 and the sum
    picture = tmp_path / "g.svg"
    code, out, err = run(capsys, "trace", "x*x + 1", "--at", "x=2", "--svg", str(picture),
                         "--max-nodes", "3")
    assert code == 2
    assert_clean_error(err, str(picture), "--max-nodes", "4")
    assert "max_nodes=" not in err
    assert out == ""
    assert not picture.exists()


def test_max_nodes_lets_a_graph_be_drawn(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    pytest.importorskip("pygraphviz")
    picture, steps = tmp_path / "g.svg", tmp_path / "s.html"
    code, _, err = run(capsys, "trace", "x*x + 1", "--at", "x=2", "--svg", str(picture),
                       "--steps", str(steps), "--max-nodes", "4")
    assert code == 0
    assert "<svg" in picture.read_text(encoding="utf-8")
    assert err == f"wrote {picture}\nwrote {steps}\n"


def test_stdout_on_a_full_device_is_one_error() -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        done = subprocess.run([sys.executable, "-m", "autograd_mini", "demo"], stdout=full,
                              stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == ("autograd-mini demo: error: cannot write to standard output: "
                           f"{os.strerror(errno.ENOSPC)}\n")


# -- fuzz: hostile command lines ---------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "file.txt").write_text("not a model\n", encoding="utf-8")
    (root / "dir.png").mkdir()
    (root / "bad.json").write_text('{"format": "autograd_mini.mlp"', encoding="utf-8")
    nn.save(nn.MLP(2, [2, 1], activation="sigmoid", output="sigmoid", seed=0), root / "ok.json",
            loss="bce")
    return root


#: Numbers that every option taking one accepts, and numbers meant to break something.
GOOD_NUMBERS = ["1", "2", "0.5", "3"]
BAD_NUMBERS = ["0", "-0", "-3", "1e309", "-1e309", "1e308", "-1e308", "1e-320", "nan", "-nan",
               "inf", "-inf", "9" * 40, "1_0", "0x10", "", " ", "abc", "2.5"]
GOOD_EXPRESSIONS = ["x*x", "x + y", "exp(x)", "tanh(x) * y - x", "-x", "x ** y", "x / y"]
BAD_EXPRESSIONS = ["log(x)", "sqrt(x - 2)", "1", "(", "__import__('os')", "x.real", "1e999 * x",
                   "sin(x, y)", "", "x ** 0.5", "x + 1e309"]


def _either(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """Half the time a value that works, so that many command lines reach the command."""
    return st.one_of(st.sampled_from(good), st.sampled_from(bad))


def _command_lines(root: Path) -> st.SearchStrategy[list[str]]:
    """Command lines shaped like real ones (a command, its options, values drawn from valid
    and hostile ones alike), so that most get past argparse into the commands, plus a few
    junk tokens anywhere."""
    bad_paths = [str(root / name) for name in ("file.txt/out.png", "dir.png", "missing/x.json",
                                               "bad.json", "file.txt", "out.txt")]
    bad_paths += ["/dev/full", "bad\0.png", "/", ""]
    outputs = _either([str(root / name) for name in ("g.svg", "g.png", "s.html", "m.json",
                                                     "p.png", "g.SVG")], bad_paths)
    models = _either([str(root / "ok.json")], bad_paths)  # never written: the same every time
    numbers = _either(GOOD_NUMBERS, BAD_NUMBERS)
    names = _either([f"{name}={number}" for name in "xy" for number in GOOD_NUMBERS],
                    [f"{name}={number}" for name in ("x", "z", "") for number in BAD_NUMBERS])
    vectors = _either(["1,0", "0,1", "0,1,0", "1", "-0,-0"],
                      ["nan,0", "1e309,1", "1,,0", "a,b", "1e308,-1e308", ""])
    hidden = _either(["2", "2,2", "3,1"], ["0", "-1", "x", "9" * 40, "1,,2", "", "1e309"])
    grammar: dict[str, tuple[list[st.SearchStrategy[str]], dict[str, st.SearchStrategy[Any]]]]
    grammar = {
        "trace": ([_either(GOOD_EXPRESSIONS, BAD_EXPRESSIONS)], {
            "--at": st.lists(names, min_size=1, max_size=3),
            "--wrt": st.sampled_from(["x", "y", "q", ""]),
            "--format": st.sampled_from(["text", "markdown", "latex", "html"]),
            "--svg": outputs, "--png": outputs, "--steps": outputs, "--max-nodes": numbers}),
        "train": ([st.sampled_from(["xor", "moons", "circles", "iris", "mnist"])], {
            "--epochs": numbers, "--lr": numbers, "--seed": numbers, "--hidden": hidden,
            "--save": outputs, "--plot": outputs}),
        "explain": ([], {
            "--model": models, "--x": vectors, "--y": vectors,
            "--loss": st.sampled_from(["bce", "hinge", "mse", "cross_entropy", "squared_error",
                                       "nll"])}),
        "demo": ([], {"--x1": numbers, "--x2": numbers}),
    }

    @st.composite
    def line(draw: st.DrawFn) -> list[str]:
        command = draw(st.sampled_from(sorted(grammar)))
        positionals, options = grammar[command]
        argv = [command, *(draw(p) for p in positionals)]
        for option in draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=4)):
            value = draw(options[option])
            argv += [option, *value] if isinstance(value, list) else [option, value]
        for _ in range(draw(st.integers(0, 3)) // 3):  # now and then, a token out of place
            junk = draw(st.sampled_from(["--help", "--", "-", "--bogus", "1e309", "x=1"]))
            argv.insert(draw(st.integers(1, len(argv))), junk)
        return argv

    return line()


def _capped_fit(real: Callable[..., optim.History]) -> Callable[..., optim.History]:
    """fit with at most two epochs, so that a drawn `train` runs in a fraction of a second."""
    def fit(*args: Any, **kwargs: Any) -> optim.History:
        kwargs["epochs"] = min(kwargs.get("epochs", 100), 2)
        return real(*args, **kwargs)
    return fit


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_command_lines_exit_0_2_or_130_without_a_traceback(folder: Path,
                                                                   data: st.DataObject) -> None:
    argv = data.draw(_command_lines(folder), "argv")
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        patch.setattr(optim, "fit", _capped_fit(optim.fit))
        try:
            code: object = main(argv)
        except SystemExit as done:  # argparse: a mistake in the options, or --help
            code = done.code
    event(f"{argv[0]}: exit {code}" + (" (argparse)" if "usage:" in err.getvalue() else ""))
    assert code in (0, 2, 130), (argv, err.getvalue())
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if code == 2 and "usage:" not in err.getvalue():
        assert err.getvalue().startswith(f"autograd-mini {argv[0]}: error: "), err.getvalue()
