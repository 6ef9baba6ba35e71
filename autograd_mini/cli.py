"""The ``autograd-mini`` command.

``autograd-mini trace EXPRESSION --at NAME=NUMBER …`` prints the evaluation trace of an
expression (primal and adjoint tables, the tangent table with ``--wrt``) and its gradient, and
can draw the graph (``--svg``, ``--png``) and the backward pass step by step (``--steps``).
The expression is parsed by :mod:`autograd_mini.expression` against a whitelist; nothing is
evaluated as Python.

``autograd-mini demo`` prints f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2), the evaluation-trace
example of Bishop and Bishop, *Deep Learning: Foundations and Concepts*, chapter 8, with its
gradient from the engine beside the closed form. ``autograd-mini --version`` prints the
version, ``autograd_mini.__version__``.

No command ends in a traceback. A mistake in the input (the expression, a number, a value
outside an op's domain, a file that cannot be read or written) prints one error on stderr and
exits with code 2; Ctrl-C exits with code 130. Ctrl-C during ``train`` stops training after
the current step and still prints the accuracies and saves the model: an interrupt never
throws the training away. Every output's name must end in its format's suffix (``--svg``
.svg, ``--png`` and ``--plot`` .png, ``--steps`` .html, ``--save`` .json), and its folder must
exist and be writable; both are checked before any training or drawing, so that no work is
lost to a mistyped path. Files are written atomically, so a failure leaves the old file as it
was, and "wrote X" is printed only for a file that was written.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rules
from .engine import Value
from .expression import FUNCTIONS, signature

__all__ = ["main"]


class UsageError(Exception):
    """A mistake in the command line or a file that cannot be used: printed as one message,
    exit code 2."""


class InterruptError(Exception):
    """Ctrl-C stopped the command after it had kept what it could (the model so far); the
    message says what was kept. Exit code 130, as a shell gives a command ended by SIGINT."""


# -- numbers -----------------------------------------------------------------------------------


class _NotANumberError(ValueError):
    """The text is not a number at all, as opposed to a number that is not allowed."""


def _finite(text: str) -> float:
    """``text`` as a finite float, under the rules of a literal in an expression: the parser
    refuses a literal too large for a float, and inf and nan are not literals, so a number on
    the command line may not be any of them either (``float`` alone accepts all three).

    Raises ValueError with a message that quotes the text, :class:`_NotANumberError` when it
    is not a number at all.
    """
    word = text.strip()
    try:
        value = float(word)
    except ValueError:
        raise _NotANumberError(f"{word!r} is not a number") from None
    if math.isfinite(value):
        return value
    if word.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        raise ValueError(f"{word} is not allowed: numbers must be finite, as in an expression")
    raise ValueError(f"{word} is too large for a float")


def _finite_float(text: str) -> float:
    """An argparse type: a finite float (see :func:`_finite`); argparse shows the message."""
    try:
        return _finite(text)
    except _NotANumberError:  # the wording argparse uses for type=float
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_float(text: str) -> float:
    try:
        value = _finite(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def _natural(text: str) -> int:
    """A whole number ≥ 0, such as a depth."""
    try:
        value = _finite(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not (value >= 0 and value.is_integer()):
        raise argparse.ArgumentTypeError(f"{text} is not a whole number ≥ 0")
    return int(value)


def _positive_int(text: str) -> int:
    value = _positive_float(text)
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"{text} is not a whole number")
    return int(value)


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of sizes such as 16,16") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive: {text!r}")
    return sizes


def _numbers(option: str, text: str) -> list[float]:
    """A comma-separated list of finite numbers, such as ``--x 1,0``."""
    values = []
    for part in text.split(","):
        try:
            values.append(_finite(part))
        except _NotANumberError:
            raise UsageError(f"bad {option} {text!r}: could not convert {part.strip()!r} to a "
                             "number") from None
        except ValueError as error:
            raise UsageError(f"bad {option} {text!r}: {error}") from None
    return values


# -- files -------------------------------------------------------------------------------------

#: What each output option writes: the suffix its file name must end in, and the format's name.
OUTPUTS = {
    "--svg": (".svg", "an SVG picture"),
    "--png": (".png", "a PNG picture"),
    "--steps": (".html", "an HTML page"),
    "--diagram": (".svg", "an SVG picture"),
    "--plot": (".png", "a PNG picture"),
    "--save": (".json", "the model as JSON"),
}


def _check_output(option: str, path: str) -> None:
    """Refuse, before any work, an output that could not be written: a name with the wrong
    suffix, a directory or device in its place, a folder that is missing, not a folder, or not
    writable. The write itself can still fail (a full disk); that is handled where it happens.

    The writability test creates and deletes a file named as :func:`files.write_atomic`'s
    temporary one would be, since permission bits say nothing for root, and a read-only file
    system or a name too long shows only when a file is made.
    """
    suffix, kind = OUTPUTS[option]
    target = Path(path)
    if target.suffix.lower() != suffix or path.endswith(("/", os.sep)):
        raise UsageError(f"{option} {path}: {option} writes {kind}, so the file name must end "
                         f"in {suffix}")
    folder = target.parent
    try:
        if target.is_dir():
            raise UsageError(f"cannot write {path}: it is a directory")
        if target.exists() and not target.is_file():  # /dev/full, a FIFO: never replace them
            raise UsageError(f"cannot write {path}: it is not a regular file")
        if not folder.exists():
            raise UsageError(f"cannot write {path}: no folder {folder}")
        if not folder.is_dir():
            raise UsageError(f"cannot write {path}: {folder} is not a folder")
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", suffix=".tmp"):
            pass
    except OSError as error:
        raise UsageError(_os_message(error, path)) from None
    except ValueError as error:  # an embedded NUL character
        raise UsageError(f"cannot write {path!r}: {error}") from None


def _named(message: str, path: str, verb: str = "write") -> str:
    """``message``, prefixed with the file's name unless it names it already."""
    if path in message or str(Path(path)) in message:
        return message
    return f"cannot {verb} {path}: {message}"


def _os_message(error: OSError, path: str, verb: str = "write") -> str:
    """One line that names the file and says why, without the "[Errno 28]" prefix."""
    return _named(error.strerror or str(error), path, verb)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- output ------------------------------------------------------------------------------------


class _StdoutError(UsageError):
    """Standard output could not be written (``> /dev/full``)."""


def _say(text: str) -> None:
    """Print ``text`` on stdout at once, so that what was printed stays printed if a later step
    fails or is interrupted (and a test can wait for a line)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        raise
    except OSError as error:
        raise _StdoutError(f"cannot write to standard output: "
                           f"{error.strerror or error}") from None


def _note(text: str) -> None:
    """Print ``text`` on stderr; a stderr that cannot be written has nowhere to report to."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _drop_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush at exit neither
    fails again nor prints "Exception ignored" (the recipe of Python's signal docs)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor, as under pytest
        pass


# -- trace -------------------------------------------------------------------------------------


def _demo(x1_value: float, x2_value: float) -> str:
    x1, x2 = Value(x1_value, label="x1"), Value(x2_value, label="x2")
    f = x1 * x2 + (x1 * x2).exp() - x2.sin()
    f.backward()
    e = rules.exp(x1_value * x2_value)  # inf on overflow, as the engine gives
    by_hand = (x2_value * (1.0 + e), x1_value * (1.0 + e) - math.cos(x2_value))
    rows = [
        "f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2)",
        "",
        f"at x1 = {x1_value:g}, x2 = {x2_value:g}:",
        f"  f        = {f.data:.12g}",
        "",
        f"  {'':8} {'reverse mode':>20} {'closed form':>20}",
        f"  {'∂f/∂x1':8} {x1.grad:>20.12g} {by_hand[0]:>20.12g}   x2·(1 + e^(x1·x2))",
        f"  {'∂f/∂x2':8} {x2.grad:>20.12g} {by_hand[1]:>20.12g}   x1·(1 + e^(x1·x2)) − cos(x2)",
    ]
    return "\n".join(rows)


def _run_demo(args: argparse.Namespace) -> None:
    try:
        text = _demo(args.x1, args.x2)
    except (ValueError, ArithmeticError) as error:  # a DomainError is a ValueError
        raise UsageError(_first_line(error)) from None
    _say(text)


def _bindings(pairs: Sequence[str]) -> dict[str, float]:
    at: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"bad --at {pair!r}: expected NAME=NUMBER, such as x1=2")
        try:
            value = _finite(number)
        except ValueError as error:
            raise UsageError(f"bad --at {pair!r}: {error}") from None
        if name in at:
            raise UsageError(f"bad --at: {name} is given twice")
        at[name] = value
    return at


def _trace(args: argparse.Namespace) -> None:
    from .expression import ExpressionError, parse
    from .tables import Trace

    for option in ("--svg", "--png", "--steps"):  # before any work, not after it
        path = getattr(args, option.lstrip("-"))
        if path is not None:
            _check_output(option, path)
    _check_picture_options(args)
    if args.full and args.wrt is None:
        raise UsageError("--full writes the zero terms of the tangent table, which needs "
                         "--wrt NAME")
    at = _bindings(args.at)
    try:
        expression = parse(args.expression)
    except ExpressionError as error:  # shown with a caret under the offending part
        raise UsageError(str(error)) from None
    try:
        root, inputs = expression.evaluate(at)
    except ExpressionError as error:  # one line, which names the column
        raise UsageError(str(error).splitlines()[0].rstrip(":")) from None
    if not inputs:
        raise UsageError(f"{args.expression!r} has no variables: there is nothing to "
                         "differentiate")
    if args.wrt is not None and args.wrt not in inputs:
        raise UsageError(f"--wrt {args.wrt}: not a variable of the expression "
                         f"({', '.join(inputs) or 'it has none'})")
    try:
        trace = Trace(root, wrt=args.wrt, full=args.full)
        root.backward()
        gradient = trace.gradient
    except (ValueError, ArithmeticError) as error:  # a DomainError is a ValueError
        raise UsageError(_first_line(error)) from None
    _pictures(root, args)
    if args.format == "markdown":
        rows = "\n".join(f"| ∂f/∂{name} | {value:.12g} |" for name, value in gradient.items())
        _say(f"{trace.to_markdown()}\n\n**Gradient**\n\n| | |\n|---|---:|\n{rows}")
    elif args.format == "latex":
        rows = " \\\\\n".join(rf"\frac{{\partial f}}{{\partial \mathrm{{{name}}}}} &= "
                              f"{value:.12g}" for name, value in gradient.items())
        _say(f"{trace.to_latex()}\n\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}")
    else:
        rows = "\n".join(f"  ∂f/∂{name} = {value:.12g}" for name, value in gradient.items())
        _say(f"{trace.to_text()}\n\nGradient\n{rows}")


def _pictures(root: Value, args: argparse.Namespace) -> None:
    """Draw what ``--svg``, ``--png`` and ``--steps`` ask for, saying "wrote" for each file
    as it is written."""
    from .steps import save_steps
    from .viz import GraphView

    options: dict[str, Any] = {} if args.max_nodes is None else {"max_nodes": args.max_nodes}
    drawing = {"depth": args.depth, "color": args.color,
               "collapse": getattr(args, "collapse", None), "wrt": getattr(args, "wrt", None)}
    jobs: list[tuple[str | None, Callable[[str], Path]]] = [
        (args.svg, lambda path: GraphView(root, **drawing, **options).save(path)),
        (args.png, lambda path: GraphView(root, **drawing, **options).save(path)),
        (getattr(args, "steps", None), lambda path: save_steps(root, path, **options)),
    ]
    for path, draw in jobs:
        if path is not None:
            _save_picture(path, draw)


def _save_picture(path: str, draw: Callable[[str], Path]) -> None:
    """Write one picture with ``draw``, saying "wrote" when it is written, or turn what went
    wrong into a one-line usage error that names the file."""
    from .viz import GraphTooLargeError, RenderBudgetError, RenderError

    try:
        written = draw(path)
    except RenderBudgetError as error:  # out of time, not of nodes: --max-nodes won't help
        raise UsageError(f"cannot draw {path}: {_first_line(error)}") from None
    except GraphTooLargeError as error:
        raise UsageError(f"cannot draw {path}: {_too_large(error)}") from None
    except OSError as error:
        raise UsageError(_os_message(error, path)) from None
    except (RenderError, ValueError) as error:
        raise UsageError(_named(_first_line(error), path, "draw")) from None
    _note(f"wrote {written}")


def _too_large(error: Exception) -> str:
    """viz's message for a graph over the limit, with the command's option in place of the
    library's keyword: ``max_nodes=N`` becomes ``--max-nodes N``."""
    message = re.sub(r"\bmax_nodes\s*=\s*(\d+)", r"--max-nodes \1", _first_line(error))
    message = message.replace("with depth=... or stop_at=[...]", "with --depth N")
    if "--max-nodes" not in message:
        message += "; --max-nodes N raises the limit"
    return message


# -- train -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """The defaults of ``train`` for one dataset; each reaches its accuracy target with its
    seed (tests/test_cli.py checks that)."""

    hidden: tuple[int, ...]
    activation: str
    output: str
    loss: str
    optimizer: str
    lr: float
    epochs: int
    batch: int | None
    init: str = "uniform"


TASKS = {
    # the [2, 2, 1] sigmoid XOR network of the "Backpropagation" tutorial notebook (notation of
    # neuralnetworksanddeeplearning.com, chapter 2): cross-entropy, W and b from N(0, 1), lr 1
    "xor": Task((2,), "sigmoid", "sigmoid", "bce", "sgd", 1.0, 1000, None, init="normal"),
    "moons": Task((16, 16), "relu", "linear", "hinge", "adam", 0.05, 60, 32),
    "circles": Task((16, 16), "relu", "linear", "hinge", "adam", 0.05, 60, 32),
    # as in the article deriving backpropagation with the vector chain rule and the total
    # derivative: a ReLU hidden layer and softmax + cross-entropy on iris
    "iris": Task((8,), "relu", "softmax", "cross_entropy", "adam", 0.01, 150, 16),
}

#: The most parameters ``train`` builds. Every weight is a Python object and every forward pass
#: makes a graph node per multiply-add, so a network much larger than this would exhaust the
#: memory long before it trained; refusing it is better than an out-of-memory kill.
MAX_PARAMETERS = 1_000_000


def _matplotlib() -> Any:
    """pyplot on the Agg backend, or a UsageError saying what to install; called before
    training, so that a missing matplotlib does not cost the training."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'autograd-mini[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _train(args: argparse.Namespace) -> None:
    from . import datasets, nn
    from .optim import SGD, Adam, History, accuracy, fit

    task = TASKS[args.task]
    for option in ("--save", "--plot"):  # before training, not after it
        path = getattr(args, option.lstrip("-"))
        if path is not None:
            _check_output(option, path)
    plt = _matplotlib() if args.plot is not None else None
    if args.task == "xor":
        train_set = test_set = datasets.xor()
    else:
        data = datasets.iris() if args.task == "iris" else getattr(datasets, args.task)(
            n=200, seed=args.seed)
        train_set, test_set = datasets.train_test_split(data, 0.2, seed=args.seed)
        if args.task == "iris":
            train_set, test_set = datasets.standardize(train_set, test_set)

    def targets(d: datasets.Dataset) -> list[list[float]]:
        if task.loss == "hinge":
            return [[s] for s in d.signs()]
        if task.loss == "cross_entropy":
            return d.one_hot()
        return [[float(label)] for label in d.y]

    hidden = args.hidden or task.hidden
    sizes = [len(train_set.X[0]), *hidden, len(targets(train_set)[0])]
    count = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if count > MAX_PARAMETERS:
        raise UsageError(f"--hidden {','.join(map(str, hidden))}: that network has {count:,} "
                         f"parameters, more than the {MAX_PARAMETERS:,} this scalar engine "
                         "can train")
    model = nn.MLP(sizes[0], sizes[1:], activation=task.activation, output=task.output,
                   seed=args.seed, init=task.init)
    lr = args.lr or task.lr
    optimizer = (SGD(model.parameters(), lr=lr) if task.optimizer == "sgd"
                 else Adam(model.parameters(), lr=lr))
    epochs = args.epochs or task.epochs
    _say(f"{model!r}, {task.loss}, {epochs} epochs of {task.optimizer} (lr {lr:g})")
    try:
        history = fit(model, train_set.X, targets(train_set), task.loss, optimizer,
                      epochs=epochs, batch_size=task.batch, seed=args.seed)
    except KeyboardInterrupt as error:  # Ctrl-C twice: fit stopped at once; keep the model
        history = getattr(error, "history", None) or History(interrupted=True)
    with _holding_interrupts() as pressed:  # from here on, Ctrl-C cannot lose the model
        done = len(history.loss)
        interrupted = history.interrupted

        def score(d: datasets.Dataset) -> float:
            right = sum(accuracy(task.loss, model.predict(x), t)
                        for x, t in zip(d.X, targets(d), strict=True))
            return 100.0 * right / len(d)

        if not history.loss:
            _say("final loss: none (interrupted during the first epoch)")
        else:
            _say(f"final loss: {history.loss[-1]:.6g}"
                 + (f" (after epoch {done} of {epochs})" if interrupted else ""))
        try:
            _say(f"train accuracy: {score(train_set):.1f}%")
            _say(f"test accuracy: {score(test_set):.1f}%"
                 + (" (the four XOR points)" if args.task == "xor" else ""))
        except KeyboardInterrupt:  # a Ctrl-C after training: keep the model all the same
            interrupted = True
        if not all(math.isfinite(p.data) for p in model.parameters()):
            advice = (f"training diverged (some weights are nan or infinite); try a smaller --lr "
                      f"than {lr:g}")
            wanted = [path for path in (args.save, args.plot) if path is not None]
            if wanted:
                raise UsageError(f"{advice}. Not written: {', '.join(wanted)}")
            _note(f"autograd-mini train: warning: {advice}")
        saved = None
        if args.save is not None:
            try:
                saved = nn.save(model, args.save, loss=task.loss)
            except OSError as error:
                raise UsageError(_os_message(error, args.save)) from None
            except ValueError as error:  # nn.save refuses weights that are not finite numbers
                raise UsageError(_first_line(error)) from None
            _say(f"saved the model to {saved}")
        if args.plot is not None:
            written = _plot(plt, model, train_set, history.loss, args.plot, task.loss)
            _say(f"wrote {written}")
        if interrupted or pressed:
            kept = (f"the model so far was saved to {saved}" if saved is not None
                    else "the model was not saved (use --save FILE.json)")
            raise InterruptError(f"interrupted after {done} of {epochs} epochs "
                                 f"({history.steps} steps); {kept}")


@contextmanager
def _holding_interrupts() -> Iterator[list[int]]:
    """While the results are written, Ctrl-C is only noted (in the list it yields), so that
    pressing it again and again cannot stop a save half way; in the main thread only, where
    SIGINT is handled."""
    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _plot(plt: Any, model: object, data: object, losses: list[float], path: str,
          loss: str) -> Path:
    """Draw the loss curve and, for 2-D data, the decision boundary, and write them to
    ``path`` at once or not at all; returns the file written."""
    from .datasets import Dataset
    from .files import write_atomic
    from .nn import MLP

    assert isinstance(model, MLP)
    assert isinstance(data, Dataset)
    two_d = len(data.X[0]) == 2
    fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(10 if two_d else 5, 4))
    try:
        ax_loss = axes[0] if two_d else axes
        # nan is drawn as a gap, while an infinite loss would upset the axis limits
        finite = [x if math.isfinite(x) else math.nan for x in losses]
        ax_loss.plot(range(1, len(losses) + 1), finite)
        ax_loss.set(xlabel="epoch", ylabel=f"mean {loss} loss", title="Training loss")
        if two_d:
            xs = [p[0] for p in data.X]
            ys = [p[1] for p in data.X]
            x0, x1 = min(xs) - 0.5, max(xs) + 0.5
            y0, y1 = min(ys) - 0.5, max(ys) + 0.5
            steps = 60
            gx = [x0 + (x1 - x0) * i / steps for i in range(steps + 1)]
            gy = [y0 + (y1 - y0) * i / steps for i in range(steps + 1)]
            threshold = 0.0 if loss == "hinge" else 0.5
            grid = [[model.predict([a, b])[0] - threshold for a in gx] for b in gy]
            ax = axes[1]
            ax.contourf(gx, gy, grid, levels=[-1e9, 0.0, 1e9], colors=["#cfe8ff", "#ffe3b3"])
            ax.contour(gx, gy, grid, levels=[0.0], colors="k", linewidths=1)
            ax.scatter(xs, ys, c=data.y, cmap="coolwarm", edgecolors="k", s=20)
            ax.set(title="Decision boundary", xlabel=data.feature_names[0],
                   ylabel=data.feature_names[1])
        fig.tight_layout()
        return write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=100))
    except OSError as error:
        raise UsageError(_os_message(error, path)) from None
    except ValueError as error:
        raise UsageError(_named(_first_line(error), path, "draw")) from None
    finally:
        plt.close(fig)


# -- explain -----------------------------------------------------------------------------------


def _explain(args: argparse.Namespace) -> None:
    from . import nn
    from .report import explain

    _check_picture_options(args)
    for option in ("--svg", "--png", "--diagram"):  # before any work, not after it
        path = getattr(args, option.lstrip("-"))
        if path is not None:
            _check_output(option, path)
    x = _numbers("--x", args.x)
    y = _numbers("--y", args.y)
    if args.model is not None:
        try:  # nn.load refuses a device or a FIFO before opening it, so nothing blocks
            model = nn.load(args.model)
        except OSError as error:
            raise UsageError(_os_message(error, args.model, "read")) from None
        except ValueError as error:
            raise UsageError(_named(_first_line(error), args.model, "read")) from None
    else:  # the tutorial's XOR network
        model = nn.MLP(2, [2, 1], activation="sigmoid", output="sigmoid", seed=0, init="normal")
    loss = args.loss or model.loss or "bce"
    try:
        report = explain(model, x, y, loss)
    except (ValueError, ArithmeticError) as error:  # a DomainError is a ValueError
        raise UsageError(_first_line(error)) from None
    if report.cost is not None and (args.svg is not None or args.png is not None):
        _pictures(report.cost, args)
    if args.diagram is not None:
        _save_picture(args.diagram, lambda path: model.draw(x, y, loss).save(path))
    _say(str(report))


# -- the command line --------------------------------------------------------------------------


def _check_picture_options(args: argparse.Namespace) -> None:
    """Refuse an option that shapes the --svg and --png pictures when neither is asked for:
    it would do nothing, and silently."""
    if args.svg is not None or args.png is not None:
        return
    given = [option for option, on in (
        ("--collapse", getattr(args, "collapse", None) is not None),
        ("--depth", args.depth is not None), ("--color", args.color != "role")) if on]
    if given:
        raise UsageError(f"{given[0]} shapes the --svg and --png pictures; add one of them")


def _picture_options(command: argparse.ArgumentParser) -> None:
    """The options of a computation graph's picture, shared by trace and explain."""
    command.add_argument("--depth", type=_natural, metavar="N",
                         help="in the --svg and --png pictures, draw only the nodes at most N "
                         "edges above the result; what is cut below them is marked")
    command.add_argument("--color", choices=("role", "grad"), default="role",
                         help="in the --svg and --png pictures, fill nodes by role (input, "
                         "parameter, constant, output) or by the size of their adjoint "
                         "|grad|, with a legend")
    command.add_argument("--max-nodes", type=_positive_int, metavar="N",
                         help="draw graphs of up to N nodes; a larger one is folded where it "
                         "has groups, else refused (by default, above the library's limit)")


def _version() -> str:
    """The package's version, ``__version__`` in ``autograd_mini/__init__.py``, the one place
    it is written (the build reads it from there too)."""
    # NOTE: no module of the package imports its __init__ (tests/test_imports.py), which
    # imports the modules. Python runs a package's __init__ before any of its submodules, so
    # by the time this module is running, the package is in sys.modules; reading it there
    # adds no import and no cycle.
    return str(sys.modules["autograd_mini"].__version__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-mini",
        description="A scalar automatic-differentiation engine for seeing and checking backprop.",
        epilog="Exit codes: 0 done, 2 a mistake in the input or a file that cannot be used, "
        "130 interrupted (Ctrl-C).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    trace = commands.add_parser(
        "trace", help="the evaluation trace and gradient of an expression",
        description="Print the primal and adjoint tables of EXPRESSION at a point, and its "
        "gradient. Allowed: numbers, variables, + - * / **, unary minus, parentheses and the "
        f"functions {', '.join(signature(name) for name in FUNCTIONS)}; a bracketed argument "
        "may be left out, and then takes the value shown.",
    )
    trace.add_argument("expression", help='for example "x1*x2 + exp(x1*x2) - sin(x2)"')
    trace.add_argument("--at", nargs="+", action="extend", default=[], metavar="NAME=NUMBER",
                       help="the point, such as --at x1=2 x2=5; finite numbers only, as in "
                       "the expression")
    trace.add_argument("--wrt", metavar="NAME", help="add the tangent table for this variable")
    trace.add_argument("--full", action="store_true",
                       help="keep the chain rule's zero terms in the tangent table")
    trace.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    trace.add_argument("--svg", metavar="FILE.svg", help="draw the graph, after backward, as SVG")
    trace.add_argument("--png", metavar="FILE.png", help="draw the graph, after backward, as PNG")
    trace.add_argument("--steps", metavar="FILE.html",
                       help="write the backward pass step by step as one HTML page")
    _picture_options(trace)
    train = commands.add_parser(
        "train", help="train an MLP on a small dataset",
        description="Train an MLP and print its final accuracies. Ctrl-C stops training "
        "after the current step; the accuracies so far are printed, the model is saved if "
        "--save was given, and the exit code is 130.")
    train.add_argument("task", choices=sorted(TASKS))
    train.add_argument("--epochs", type=_positive_int, help="passes over the training set")
    train.add_argument("--lr", type=_positive_float, help="learning rate")
    train.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    train.add_argument("--hidden", type=_hidden, help="hidden layer sizes, such as 16,16")
    train.add_argument("--save", metavar="FILE.json", help="save the trained model")
    train.add_argument("--plot", metavar="FILE.png",
                       help="plot the loss and, for 2-D data, the decision boundary")
    explain = commands.add_parser(
        "explain", help="node-level adjoints beside the layer-wise backprop equations",
        description="Run one sample through a network and print, per layer, neuron and input, "
        "z, a, δ, ∂C/∂W and ∂C/∂b from the engine beside the closed-form equations. Without "
        "--model it uses the [2, 2, 1] sigmoid XOR network of the 'Backpropagation' tutorial "
        "notebook (notation of neuralnetworksanddeeplearning.com, chapter 2).")
    explain.add_argument("--model", metavar="FILE.json", help="a model saved by train --save")
    explain.add_argument("--x", default="1,0", help="the input, such as 1,0")
    explain.add_argument("--y", default="1", help="the target, such as 1 or 0,1,0")
    explain.add_argument("--loss", choices=("squared_error", "mse", "bce", "cross_entropy",
                                            "hinge"),
                         help="default: the loss the model was trained with, else bce")
    explain.add_argument("--diagram", metavar="FILE.svg",
                         help="draw the network: neurons in columns with z, a and δ, edges by w")
    explain.add_argument("--svg", metavar="FILE.svg",
                         help="draw the sample's computation graph, after backward, as SVG")
    explain.add_argument("--png", metavar="FILE.png",
                         help="draw the sample's computation graph, after backward, as PNG")
    explain.add_argument("--collapse", choices=("neuron", "layer", "loss"),
                         help="fold each neuron, layer or the loss into one box (a graph "
                         "larger than --max-nodes is folded anyway, as far as it must be)")
    _picture_options(explain)
    demo = commands.add_parser(
        "demo", help="the gradient of the evaluation-trace example of Bishop and Bishop, Deep "
        "Learning, chapter 8, beside its closed form",
        description="Print f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2), the evaluation-trace "
        "example of Bishop and Bishop, Deep Learning, chapter 8, and its gradient beside the "
        "closed form worked by hand. `autograd-mini trace` prints its tables.")
    demo.add_argument("--x1", type=_finite_float, default=2.0, help="value of x1 (default 2)")
    demo.add_argument("--x2", type=_finite_float, default=5.0, help="value of x2 (default 5)")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "trace": _trace, "train": _train, "explain": _explain, "demo": _run_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code: 0, 2 for a usage error, 130 when
    interrupted. argparse's own errors raise SystemExit(2), and --help and --version
    SystemExit(0).

    Each command catches what it can raise and turns it into a UsageError with a message that
    says what went wrong and, for a file, which one; the handlers here only print it. The last
    one is a net for bugs: one line instead of a traceback, and exit code 1, which no mistake
    of the user's gives.
    """
    prog = "autograd-mini"
    try:
        args = _parser().parse_args(argv)
        prog = f"autograd-mini {args.command}"
        COMMANDS[args.command](args)
    except BrokenPipeError:  # the reader went away, as `| head` does: stop quietly
        _drop_stdout()
        return 0
    except UsageError as error:
        if isinstance(error, _StdoutError):
            _drop_stdout()
        _note(f"{prog}: error: {error}")
        return 2
    except InterruptError as note:
        _note(f"{prog}: {note}")
        return 130
    except KeyboardInterrupt:
        _note(f"{prog}: interrupted")
        return 130
    except Exception as error:  # a bug: say so in one line, not a traceback
        _note(f"{prog}: internal error, please report it: {type(error).__name__}: "
              f"{_first_line(error)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
