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

from .engine import Value

__all__ = ["main"]


class UsageError(Exception):
    """A mistake in the command line: printed as one message, exit code 2."""


def _demo(x1_value: float, x2_value: float) -> str:
    x1, x2 = Value(x1_value, label="x1"), Value(x2_value, label="x2")
    f = x1 * x2 + (x1 * x2).exp() - x2.sin()
    f.backward()
    e = math.exp(x1_value * x2_value)
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
    from .trace import Trace

    at = _bindings(args.at)
    try:
        expression = parse(args.expression)
    except ExpressionError as error:  # shown with a caret under the offending part
        raise UsageError(str(error)) from None
    try:
        root, inputs = expression.evaluate(at)
    except ExpressionError as error:  # one line, which names the column
        raise UsageError(str(error).splitlines()[0].rstrip(":")) from None
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
        "functions exp log sqrt sin cos tan tanh sigmoid relu abs.",
    )
    trace.add_argument("expression", help='for example "x1*x2 + exp(x1*x2) - sin(x2)"')
    trace.add_argument("--at", nargs="+", default=[], metavar="NAME=NUMBER",
                       help="the point, such as --at x1=2 x2=5")
    trace.add_argument("--wrt", metavar="NAME", help="add the tangent table for this variable")
    trace.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    trace.add_argument("--svg", metavar="FILE", help="draw the graph, after backward, as SVG")
    trace.add_argument("--png", metavar="FILE", help="draw the graph, after backward, as PNG")
    trace.add_argument("--steps", metavar="FILE.html",
                       help="write the backward pass step by step as one HTML page")
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
        elif args.command == "demo":
            print(_demo(args.x1, args.x2))
    except UsageError as error:
        print(f"autograd-mini {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
