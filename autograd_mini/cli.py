"""The ``autograd-mini`` command.

``autograd-mini demo`` prints the evaluation-trace example of Baydin et al. as used in
``seeds/002``, f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2), with its gradient from the engine
beside the closed form worked by hand.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from .engine import Value

__all__ = ["main"]


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-mini",
        description="A scalar automatic-differentiation engine for seeing and checking backprop.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="the seed-002 function and its gradient")
    demo.add_argument("--x1", type=float, default=2.0, help="value of x1 (default 2)")
    demo.add_argument("--x2", type=float, default=5.0, help="value of x2 (default 5)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for a usage error)."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        print(_demo(args.x1, args.x2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
