"""The ``autograd-mini`` command.

``autograd-mini trace EXPRESSION --at NAME=NUMBER …`` prints the evaluation trace of an
expression (primal and adjoint tables, the tangent table with ``--wrt``) and its gradient, and
can draw the graph (``--svg``, ``--png``) and the backward pass step by step (``--steps``).
The expression is parsed by :mod:`autograd_mini.expression` against a whitelist; nothing is
evaluated as Python.

``autograd-mini demo`` prints f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2), the evaluation-trace
example of ``seeds/002``, with its gradient from the engine beside the closed form.

Mistakes in the input (the expression, ``--at``, a value outside an op's domain) print one
error and exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import rules
from .engine import Value
from .expression import FUNCTIONS, signature

__all__ = ["main"]


class UsageError(Exception):
    """A mistake in the command line: printed as one message, exit code 2."""


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


def _bindings(pairs: Sequence[str]) -> dict[str, float]:
    at: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"bad --at {pair!r}: expected NAME=NUMBER, such as x1=2")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(f"bad --at {pair!r}: {number.strip()!r} is not a number") from None
        if name in at:
            raise UsageError(f"bad --at: {name} is given twice")
        at[name] = value
    return at


def _trace(args: argparse.Namespace) -> str:
    from .expression import ExpressionError, parse
    from .tables import Trace

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
    trace = Trace(root, wrt=args.wrt)
    root.backward()
    if args.svg or args.png or args.steps:
        _pictures(root, args)
    gradient = trace.gradient
    if args.format == "markdown":
        rows = "\n".join(f"| ∂f/∂{name} | {value:.12g} |" for name, value in gradient.items())
        return f"{trace.to_markdown()}\n\n**Gradient**\n\n| | |\n|---|---:|\n{rows}"
    if args.format == "latex":
        rows = " \\\\\n".join(rf"\frac{{\partial f}}{{\partial \mathrm{{{name}}}}} &= "
                              f"{value:.12g}" for name, value in gradient.items())
        return f"{trace.to_latex()}\n\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}"
    rows = "\n".join(f"  ∂f/∂{name} = {value:.12g}" for name, value in gradient.items())
    return f"{trace.to_text()}\n\nGradient\n{rows}"


def _pictures(root: Value, args: argparse.Namespace) -> None:
    from .viz import GraphView, RenderError, save_steps

    try:
        for path in (args.svg, args.png):
            if path:
                GraphView(root, wrt=args.wrt).save(path)
                print(f"wrote {path}", file=sys.stderr)
        if args.steps:
            save_steps(root, args.steps)
            print(f"wrote {args.steps}", file=sys.stderr)
    except (RenderError, OSError, ValueError) as error:
        raise UsageError(str(error)) from None


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
    # seed 004's network: [2, 2, 1] sigmoid, cross-entropy, W and b from N(0, 1), lr 1
    "xor": Task((2,), "sigmoid", "sigmoid", "bce", "sgd", 1.0, 1000, None, init="normal"),
    "moons": Task((16, 16), "relu", "linear", "hinge", "adam", 0.05, 60, 32),
    "circles": Task((16, 16), "relu", "linear", "hinge", "adam", 0.05, 60, 32),
    # seed 001: a hidden layer and softmax + cross-entropy on iris
    "iris": Task((8,), "tanh", "softmax", "cross_entropy", "adam", 0.01, 150, 16),
}


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of sizes such as 16,16") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive: {text!r}")
    return sizes


def _positive_int(text: str) -> int:
    value = _positive_float(text)
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"{text} is not a whole number")
    return int(value)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def _train(args: argparse.Namespace) -> str:
    from . import datasets, nn
    from .optim import SGD, Adam, accuracy, fit

    task = TASKS[args.task]
    for path in (args.save, args.plot):  # before training, not after it
        if path and not Path(path).resolve().parent.is_dir():
            raise UsageError(f"cannot write {path}: no folder {Path(path).parent}")
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
    model = nn.MLP(len(train_set.X[0]), [*hidden, len(targets(train_set)[0])],
                   activation=task.activation, output=task.output, seed=args.seed,
                   init=task.init)
    lr = args.lr or task.lr
    optimizer = (SGD(model.parameters(), lr=lr) if task.optimizer == "sgd"
                 else Adam(model.parameters(), lr=lr))
    epochs = args.epochs or task.epochs
    history = fit(model, train_set.X, targets(train_set), task.loss, optimizer, epochs=epochs,
                  batch_size=task.batch, seed=args.seed)

    def score(d: datasets.Dataset) -> float:
        right = sum(accuracy(task.loss, model.predict(x), t)
                    for x, t in zip(d.X, targets(d), strict=True))
        return 100.0 * right / len(d)

    lines = [f"{model!r}, {task.loss}, {epochs} epochs of {task.optimizer} (lr {lr:g})",
             f"final loss: {history.loss[-1]:.6g}",
             f"train accuracy: {score(train_set):.1f}%",
             f"test accuracy: {score(test_set):.1f}%"
             + (" (the four XOR points)" if args.task == "xor" else "")]
    if args.save:
        try:
            nn.save(model, args.save, loss=task.loss)
        except OSError as error:
            raise UsageError(f"cannot write {args.save}: {error.strerror}") from None
        lines.append(f"saved the model to {args.save}")
    if args.plot:
        _plot(model, train_set, history.loss, args.plot, task.loss)
        lines.append(f"wrote {args.plot}")
    return "\n".join(lines)


def _plot(model: object, data: object, losses: list[float], path: str, loss: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'autograd-mini[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .datasets import Dataset
    from .nn import MLP

    assert isinstance(model, MLP)
    assert isinstance(data, Dataset)
    two_d = len(data.X[0]) == 2
    fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(10 if two_d else 5, 4))
    ax_loss = axes[0] if two_d else axes
    ax_loss.plot(range(1, len(losses) + 1), losses)
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
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _explain(args: argparse.Namespace) -> str:
    from . import nn
    from .report import explain

    if args.model:
        try:
            model = nn.load(args.model)
        except (OSError, ValueError) as error:
            raise UsageError(str(error)) from None
    else:  # seed 004's XOR network
        model = nn.MLP(2, [2, 1], activation="sigmoid", output="sigmoid", seed=0, init="normal")
    try:
        x = [float(v) for v in args.x.split(",")]
        y = [float(v) for v in args.y.split(",")]
        return str(explain(model, x, y, args.loss or model.loss or "bce"))
    except ValueError as error:
        raise UsageError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-mini",
        description="A scalar automatic-differentiation engine for seeing and checking backprop.",
    )
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
                       help="the point, such as --at x1=2 x2=5")
    trace.add_argument("--wrt", metavar="NAME", help="add the tangent table for this variable")
    trace.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    trace.add_argument("--svg", metavar="FILE", help="draw the graph, after backward, as SVG")
    trace.add_argument("--png", metavar="FILE", help="draw the graph, after backward, as PNG")
    trace.add_argument("--steps", metavar="FILE.html",
                       help="write the backward pass step by step as one HTML page")
    train = commands.add_parser("train", help="train an MLP on a small dataset",
                                description="Train an MLP and print its final accuracies.")
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
        "--model it uses seed 004's [2, 2, 1] sigmoid network.")
    explain.add_argument("--model", metavar="FILE.json", help="a model saved by train --save")
    explain.add_argument("--x", default="1,0", help="the input, such as 1,0")
    explain.add_argument("--y", default="1", help="the target, such as 1 or 0,1,0")
    explain.add_argument("--loss", choices=("squared_error", "mse", "bce", "cross_entropy",
                                            "hinge"),
                         help="default: the loss the model was trained with, else bce")
    demo = commands.add_parser("demo", help="the seed-002 function and its gradient")
    demo.add_argument("--x1", type=float, default=2.0, help="value of x1 (default 2)")
    demo.add_argument("--x2", type=float, default=5.0, help="value of x2 (default 5)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for a usage error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "trace":
            print(_trace(args))
        elif args.command == "train":
            print(_train(args))
        elif args.command == "explain":
            print(_explain(args))
        elif args.command == "demo":
            print(_demo(args.x1, args.x2))
    except UsageError as error:
        print(f"autograd-mini {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away, as `| head` does: stop quietly
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
