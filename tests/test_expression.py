"""The expression parser: values and gradients, shared subexpressions, the whitelist, error
positions, and robustness against any input string.

Every expected value and derivative is a closed form worked by hand in the test.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import pickle
import re
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mini.expression as expression_module
from autograd_mini import DomainError, Value
from autograd_mini.expression import (
    FUNCTIONS,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    parse,
)

# The evaluation-trace example of Bishop and Bishop, Deep Learning: Foundations and Concepts,
# chapter 8.
TRACE_EXAMPLE = "x1*x2 + exp(x1*x2) - sin(x2)"


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-14)


def value_and_gradient(text: str, **at: float) -> tuple[float, dict[str, float]]:
    f, inputs = parse(text).evaluate(at)
    f.backward()
    return f.data, {name: v.grad for name, v in inputs.items()}


def nodes(root: Value) -> list[Value]:
    """Every node reachable from ``root``, each once (an iterative walk over ``parents``)."""
    seen: dict[int, Value] = {}
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v.parents)
    return list(seen.values())


def refused(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    return info.value


def caret_line(err: ExpressionError) -> str:
    """The caret line of the message, without its two-space indent."""
    lines = str(err).splitlines()
    assert len(lines) == 3, str(err)
    return lines[2][2:]


# -- values and gradients ------------------------------------------------------------------------


def test_the_trace_example() -> None:
    f, g = value_and_gradient(TRACE_EXAMPLE, x1=2.0, x2=5.0)
    e = math.exp(10.0)
    assert close(f, 10.0 + e - math.sin(5.0))
    assert close(g["x1"], 5.0 * (1.0 + e))                       # x2·(1 + e^(x1·x2))
    assert close(g["x2"], 2.0 * (1.0 + e) - math.cos(5.0))       # x1·(1 + e^(x1·x2)) − cos x2


def test_quotient_of_powers() -> None:
    f, g = value_and_gradient("x**3 / (1 + y**2)", x=2.0, y=3.0)
    assert close(f, 0.8)
    assert close(g["x"], 3 * 4 / 10)                              # 3x²/(1 + y²)
    assert close(g["y"], -8 * 2 * 3 / 100)                        # −x³·2y/(1 + y²)²


def test_sqrt_log_tanh() -> None:
    f, g = value_and_gradient("sqrt(x) * log(y) + tanh(x - y)", x=4.0, y=2.0)
    sech2 = 1.0 - math.tanh(2.0) ** 2
    assert close(f, 2.0 * math.log(2.0) + math.tanh(2.0))
    assert close(g["x"], math.log(2.0) / (2.0 * 2.0) + sech2)      # ln y/(2√x) + sech²(x − y)
    assert close(g["y"], 2.0 / 2.0 - sech2)                        # √x/y − sech²(x − y)


def test_sigmoid_relu_abs() -> None:
    f, g = value_and_gradient("sigmoid(a) * relu(b) + abs(a - b)", a=0.5, b=2.0)
    s = 1.0 / (1.0 + math.exp(-0.5))
    assert close(f, 2.0 * s + 1.5)
    assert close(g["a"], 2.0 * s * (1.0 - s) - 1.0)                # b·σ(1 − σ) + sign(a − b)
    assert close(g["b"], s + 1.0)                                  # σ(a) − sign(a − b)


def test_precedence_is_pythons() -> None:
    # -x ** 2 is −(x²), and 2 ** x has a constant base.
    f, g = value_and_gradient("-x ** 2 + 2 ** x", x=3.0)
    assert close(f, -9.0 + 8.0)
    assert close(g["x"], -6.0 + 8.0 * math.log(2.0))
    f, _ = value_and_gradient("2 ** 3 ** 2")  # ** groups to the right: 2⁹
    assert f == 512.0


def test_trigonometric_quotient() -> None:
    x = 0.7
    f, g = value_and_gradient("cos(x) / x - tan(x)", x=x)
    assert close(f, math.cos(x) / x - math.tan(x))
    assert close(g["x"], (-math.sin(x) * x - math.cos(x)) / x**2 - (1.0 + math.tan(x) ** 2))


def test_unary_plus_and_negative_exponent() -> None:
    x = 1.5
    f, g = value_and_gradient("exp(+x) * x ** -1", x=x)
    assert close(f, math.exp(x) / x)
    assert close(g["x"], math.exp(x) * (x - 1.0) / x**2)


def test_a_signed_number_is_one_constant() -> None:
    f, inputs = parse("x - -2 * y").evaluate({"x": 1.0, "y": 4.0})
    f.backward()
    assert f.data == 9.0
    assert (inputs["x"].grad, inputs["y"].grad) == (1.0, 2.0)
    (mul,) = (v for v in nodes(f) if v.op == "mul")
    assert [(p.op, p.data) for p in mul.parents] == [("const", -2.0), (None, 4.0)]
    assert not any(v.op == "neg" for v in nodes(f))
    assert parse("-x").evaluate({"x": 1.0})[0].op == "neg"


def test_numbers_alone() -> None:
    f, inputs = parse("2 * 3").evaluate({})
    assert (f.data, f.op, inputs) == (6.0, "mul", {})
    f, _ = parse(" -7 ").evaluate({})
    assert (f.data, f.op) == (-7.0, "const")


def test_a_lone_variable_is_its_input() -> None:
    f, inputs = parse("x").evaluate({"x": 3})
    assert f is inputs["x"]
    assert (f.data, f.label) == (3.0, "x")


def test_inputs_are_labelled_and_in_order() -> None:
    _, inputs = parse("b * a + c").evaluate({"c": 1.0, "a": 2.0, "b": 3.0})
    assert list(inputs) == ["b", "a", "c"]
    assert [v.label for v in inputs.values()] == ["b", "a", "c"]
    assert [v.op for v in inputs.values()] == [None, None, None]


def test_evaluate_builds_a_fresh_graph_each_time() -> None:
    expr = parse("x * x")
    f1, in1 = expr.evaluate({"x": 2.0})
    f2, in2 = expr.evaluate({"x": 5.0})
    f1.backward()
    assert (f1.data, f2.data) == (4.0, 25.0)
    assert (in1["x"].grad, in2["x"].grad) == (4.0, 0.0)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("exp", math.exp),
        ("log", math.log),
        ("sqrt", math.sqrt),
        ("sin", math.sin),
        ("cos", math.cos),
        ("tan", math.tan),
        ("tanh", math.tanh),
        ("sigmoid", lambda x: 1.0 / (1.0 + math.exp(-x))),
        ("relu", lambda x: max(0.0, x)),
        ("abs", abs),
    ],
)
def test_every_function(name: str, reference: object) -> None:
    assert name in FUNCTIONS
    f, _ = parse(f"{name}(x)").evaluate({"x": 0.5})
    assert callable(reference)
    assert close(f.data, reference(0.5))


#: The built-in functions, written out here: every row that is written as a call.
ONE_ARGUMENT = {"abs", "exp", "log", "log1p", "sqrt", "sin", "cos", "tan", "atan", "erf", "tanh",
                "sigmoid", "relu", "softplus", "gelu", "silu", "stop_gradient"}
TWO_ARGUMENTS = {"maximum", "minimum"}
ONE_OR_TWO = {"leaky_relu": 0.01, "elu": 1.0}  # the second operand's default


def test_functions_come_from_the_rule_table() -> None:
    assert set(FUNCTIONS) == ONE_ARGUMENT | TWO_ARGUMENTS | set(ONE_OR_TWO)
    assert len(FUNCTIONS) == len(set(FUNCTIONS))
    for name in FUNCTIONS:
        call = f"{name}(x, y)" if name in TWO_ARGUMENTS else f"{name}(x)"
        f, _ = parse(call).evaluate({"x": 0.5, "y": 2.0} if name in TWO_ARGUMENTS else {"x": 0.5})
        assert f.op == name


@pytest.mark.parametrize(("name", "default"), sorted(ONE_OR_TWO.items()))
def test_a_left_out_operand_takes_its_default(name: str, default: float) -> None:
    f, _ = parse(f"{name}(x)").evaluate({"x": -0.5})
    assert [p.data for p in f.parents] == [-0.5, default]
    g, _ = parse(f"{name}(x, 0.2)").evaluate({"x": -0.5})
    assert [p.data for p in g.parents] == [-0.5, 0.2]


def test_two_argument_functions_read_their_arguments_in_order() -> None:
    f, inputs = parse("maximum(x, y) - minimum(y, x)").evaluate({"x": 1.0, "y": 3.0})
    f.backward()
    assert f.data == 2.0  # max(1, 3) − min(3, 1)
    assert (inputs["x"].grad, inputs["y"].grad) == (-1.0, 1.0)
    assert [p.label for p in f.parents[0].parents] == ["x", "y"]


@pytest.mark.parametrize(("text", "message"), [
    ("maximum(x)", "maximum() takes exactly two arguments (1 given)"),
    ("maximum(x, y, x)", "maximum() takes exactly two arguments (3 given)"),
    ("leaky_relu(x, y, x)", "leaky_relu() takes one to two arguments (3 given)"),
    ("leaky_relu()", "leaky_relu() takes one to two arguments (0 given)"),
])
def test_wrong_numbers_of_arguments(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text)


# -- shared subexpressions -----------------------------------------------------------------------


def test_the_trace_example_has_one_mul_node_read_twice() -> None:
    f, inputs = parse(TRACE_EXAMPLE).evaluate({"x1": 2.0, "x2": 5.0})
    graph = nodes(f)
    assert sorted(str(v.op) for v in graph) == sorted(
        ["None", "None", "mul", "exp", "add", "sin", "sub"]
    )
    (mul,) = (v for v in graph if v.op == "mul")
    assert mul.parents == (inputs["x1"], inputs["x2"])
    consumers = sorted(str(v.op) for v in graph if any(p is mul for p in v.parents))
    assert consumers == ["add", "exp"]
    (exp,) = (v for v in graph if v.op == "exp")
    assert exp.parents[0] is mul


def test_sharing_ignores_spacing_and_parentheses() -> None:
    f, inputs = parse("(x + 1) * ( x+1 )").evaluate({"x": 2.0})
    a, b = f.parents
    assert a is b
    assert sum(v.op == "add" for v in nodes(f)) == 1
    f.backward()
    assert inputs["x"].grad == 6.0  # d/dx (x + 1)² = 2(x + 1)


def test_sharing_a_function_call() -> None:
    x = 0.3
    f, g = value_and_gradient("exp(2*x) + exp(2*x)", x=x)
    assert close(f, 2.0 * math.exp(2 * x))
    assert close(g["x"], 4.0 * math.exp(2 * x))
    root, _ = parse("exp(2*x) + exp(2*x)").evaluate({"x": x})
    assert sum(v.op == "exp" for v in nodes(root)) == 1


def test_different_subtrees_are_not_shared() -> None:
    root, _ = parse("x*y + y*x").evaluate({"x": 1.0, "y": 2.0})
    assert sum(v.op == "mul" for v in nodes(root)) == 2


# -- variables -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        (TRACE_EXAMPLE, ("x1", "x2")),
        ("b * a + c / a + b", ("b", "a", "c")),
        ("exp(z) + y ** z", ("z", "y")),
        ("2 * 3", ()),
        ("sin(cos(tan(w)))", ("w",)),
        ("ｘ + x", ("ｘ", "x")),  # names are kept as written, not NFKC-normalised
    ],
)
def test_variables_in_order_of_first_appearance(text: str, variables: tuple[str, ...]) -> None:
    expr = parse(text)
    assert expr.variables == variables
    assert expr.text == text


def test_expression_is_immutable() -> None:
    expr = parse("x + 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.text = "y"  # type: ignore[misc]
    assert isinstance(expr, Expression)
    assert expr == parse("x + 1")
    assert hash(expr) == hash(parse("x + 1"))


def test_missing_variable() -> None:
    with pytest.raises(ExpressionError) as info:
        parse(TRACE_EXAMPLE).evaluate({"x1": 2.0})
    err = info.value
    assert err.reason == "no value for x2"
    assert err.position == 3  # the first use of x2
    assert caret_line(err) == "   ^^"


def test_extra_variables() -> None:
    with pytest.raises(ExpressionError, match="the expression does not use x3, 7"):
        parse("x1 + x2").evaluate({"x1": 1.0, "x2": 2.0, "x3": 3.0, 7: 1.0})  # type: ignore[dict-item]


def test_missing_and_extra_variables_together() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("x + y").evaluate({"x": 1.0, "z": 2.0})
    assert info.value.reason == "no value for y; the expression does not use z"


@pytest.mark.parametrize("value", ["2", None, True, [1.0], complex(1, 2)])
def test_values_must_be_numbers(value: object) -> None:
    with pytest.raises(ExpressionError, match="the value of y must be a number") as info:
        parse("x + y").evaluate({"x": 1.0, "y": value})  # type: ignore[dict-item]
    assert info.value.position == 4


def test_value_too_large_for_a_float() -> None:
    with pytest.raises(ExpressionError, match="too large"):
        parse("x").evaluate({"x": 10**400})


def test_at_must_be_a_mapping() -> None:
    with pytest.raises(TypeError):
        parse("x").evaluate([("x", 1.0)])  # type: ignore[arg-type]


# -- the whitelist: what is refused, why and where -----------------------------------------------

# (text, a phrase of the reason, the caret line under the text)
REFUSED = [
    ("x1.real + 1", "attribute access is not allowed", "^^^^^^^"),
    ("x[0] + 1", "subscripts are not allowed", "^^^^"),
    ("1 + (lambda: 1)", "lambda is not allowed", "     ^^^^^^^^^"),
    ("[x for x in y]", "comprehensions are not allowed", "^^^^^^^^^^^^^^"),
    ("{x for x in y}", "comprehensions are not allowed", "^^^^^^^^^^^^^^"),
    ("{x: 1 for x in y}", "comprehensions are not allowed", "^^^^^^^^^^^^^^^^^"),
    ("exp(x for x in y)", "generator expressions are not allowed", "   ^^^^^^^^^^^^^^"),
    ("x < 1", "comparisons are not allowed", "^^^^^"),
    ("x and y", "the operators and, or are not allowed", "^^^^^^^"),
    ("not x", "the operator not is not allowed", "^^^"),
    ("x % 2", "%", "  ^"),
    ("(a)//(b)", "//", "   ^^"),
    ("x @ y", "@", "  ^"),
    ("x ^ 2", "a power is written **", "  ^"),
    ("x | y", "|", "  ^"),
    ("x & y", "&", "  ^"),
    ("x << 1", "<<", "  ^^"),
    ("x >> 1", ">>", "  ^^"),
    ("1 + ~x", "~", "    ^"),
    ("exp(x=1)", "keyword arguments are not allowed", "    ^^^"),
    ("exp(**d)", "keyword arguments (**) are not allowed", "    ^^^"),
    ("exp(*a)", "starred arguments (*) are not allowed", "    ^^"),
    ("foo(x)", "unknown function foo", "^^^"),
    ("2 * __import__('os')", "unknown function __import__", "    ^^^^^^^^^^"),
    ("__import__('os').system('ls')", "unknown function __import__", "^^^^^^^^^^"),
    ("eval('x')", "unknown function eval", "^^^^"),
    ("x(2)", "unknown function x", "^"),
    ("(x + 1)(2)", "only a function can be called", "^^^^^^^^^^"),
    ("exp(x)(y)", "only a function can be called", "^^^^^^^^^"),
    ("x.exp()", "attribute access is not allowed", "^^^^^"),
    ("x + 'abc'", "strings are not allowed", "    ^^^^^"),
    ("b'x'", "bytes are not allowed", "^^^^"),
    ("f'{x}'", "f-strings are not allowed", "^^^^^^"),
    ("True * x", "True and False are not allowed", "^^^^"),
    ("None", "None is not allowed", "^^^^"),
    ("1j * x", "complex numbers are not allowed", "^^"),
    ("...", "... is not allowed", "^^^"),
    ("[x]", "lists are not allowed", "^^^"),
    ("(x, y)", "tuples are not allowed", "^^^^^^"),
    ("x, y", "tuples are not allowed", "^^^^"),
    ("{x}", "sets are not allowed", "^^^"),
    ("{1: x}", "dicts are not allowed", "^^^^^^"),
    ("(y := x) + 1", "assignment expressions (:=) are not allowed", " ^^^^^^"),
    ("x if y else z", "conditional expressions (if/else) are not allowed", "^^^^^^^^^^^^^"),
    ("await x", "await is not allowed", "^^^^^^^"),
    ("(yield x)", "yield is not allowed", " ^^^^^^^"),
    ("exp + 1", "exp is a function: call it as exp(...)", "^^^"),
    ("exp(sin)", "sin is a function", "    ^^^"),
    ("exp()", "exp() takes exactly one argument (0 given)", "^^^^^"),
    ("exp(x, y)", "exp() takes exactly one argument (2 given)", "^^^^^^^^^"),
    ("1e999 * x", "the number is too large for a float", "^^^^^"),
    ("x + 1" + "0" * 400, "the number is too large for a float", "    " + "^" * 76),
    ("x\n+ 1", "line breaks are not allowed", " ^"),
    ("x\r", "line breaks are not allowed", " ^"),
    ("x # note", "comments (#) are not allowed", "  ^"),
    ("x\x00", "the character U+0000 is not allowed", " ^"),
    ("x +", "syntax error: unexpected end of the expression", "   ^"),
    ("exp(x", "syntax error: '(' was never closed", "   ^"),
    ("x )", "syntax error: unmatched ')'", "  ^"),
]


@pytest.mark.parametrize(("text", "phrase", "carets"), REFUSED)
def test_refused_with_reason_and_position(text: str, phrase: str, carets: str) -> None:
    err = refused(text)
    assert isinstance(err, ValueError)
    assert phrase in err.reason
    assert err.text == text
    position = len(carets) - len(carets.lstrip(" "))
    assert err.position == position
    assert str(err).startswith(f"{err.reason} at column {position + 1}:\n")
    assert caret_line(err) == carets


def test_the_message_format() -> None:
    assert str(refused("x1.real + 1")) == (
        "attribute access is not allowed at column 1:\n"
        "  x1.real + 1\n"
        "  ^^^^^^^"
    )


def test_unknown_function_lists_the_functions() -> None:
    err = refused("__import__('os')")
    assert err.reason == f"unknown function __import__; the functions are {', '.join(FUNCTIONS)}"
    assert (err.position, err.end) == (0, 10)


@pytest.mark.parametrize(
    "text",
    ["x = 1", "import os", "x; y", "def f(): pass", "del x", "pass", "assert x",
     "for x in y: pass", "return x", "global x", "x += 1", "*x", "x y", "1 2", "x +* y", ")"],
)
def test_statements_and_bad_syntax_are_syntax_errors(text: str) -> None:
    err = refused(text)
    assert err.reason.startswith("syntax error: ")
    assert err.position is not None
    assert 0 <= err.position <= len(text)
    assert "^" in caret_line(err)


def test_positions_count_characters_from_the_start_of_the_text() -> None:
    err = refused("  x + y.z")  # leading spaces are allowed and counted
    assert (err.position, caret_line(err)) == (6, "      ^^^")
    err = refused("α * β.real")  # the parser counts bytes of UTF-8; we count characters
    assert (err.position, caret_line(err)) == (4, "    ^^^^^^")
    err = refused("变量 % 2")  # wide characters take two cells
    assert (err.position, caret_line(err)) == (3, "     ^")
    err = refused("x\t% 2")  # a tab is repeated, so that the lines align
    assert (err.position, caret_line(err)) == (2, " \t^")
    err = refused("  exp(")
    assert (err.position, caret_line(err)) == (5, "     ^")


def test_control_characters_are_not_echoed() -> None:
    err = refused("x\x1b[31m")
    assert "\x1b" not in str(err)
    assert err.position == 1


def test_the_innermost_of_refusals_at_one_column() -> None:
    # The outer call of an attribute, the attribute and __import__ all start at column 0.
    assert refused("__import__('os').system('ls')").reason.startswith(
        "unknown function __import__")
    # Otherwise the leftmost.
    assert refused("x.a + y[0]").reason == "attribute access is not allowed"
    assert refused("y[0] + x.a").reason == "subscripts are not allowed"


def test_empty() -> None:
    for text in ["", "   ", "\t"]:
        err = refused(text)
        assert (err.reason, err.position, str(err)) == ("the expression is empty", None,
                                                        "the expression is empty")


def test_no_warnings_from_the_parser() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert refused("1if x else 2").reason.startswith("conditional expressions")
        refused("x + '\\d'")
    assert caught == []


def test_the_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(refused("x % 2")))
    assert isinstance(err, ExpressionError)
    assert (err.reason, err.position, err.end) == (refused("x % 2").reason, 2, 3)
    assert str(err) == str(refused("x % 2"))


def test_parse_needs_a_str() -> None:
    with pytest.raises(TypeError):
        parse(b"x")  # type: ignore[arg-type]


def test_the_module_never_runs_code() -> None:
    source = Path(expression_module.__file__).read_text(encoding="utf-8")
    called = {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
    }
    assert not called & {"eval", "exec", "compile", "__import__", "import_module"}


# -- domain errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "at", "carets"),
    [
        ("log(x - 3) + 1", {"x": 2.0}, "^^^^^^^^^^"),
        ("1 + x / (y - y)", {"x": 1.0, "y": 2.0}, "    ^^^^^^^^^^^"),
        ("2 * sqrt(-x)", {"x": 1.0}, "    ^^^^^^^^"),
        ("x + (-8) ** (1/3)", {"x": 1.0}, "    ^^^^^^^^^^^^^"),
        ("x * 0 ** -1", {"x": 1.0}, "    ^^^^^^^"),
        ("log(x - 3) * log(x - 3)", {"x": 2.0}, "^^^^^^^^^^"),  # shared: the first use
    ],
)
def test_domain_errors_point_at_the_subexpression(text: str, at: dict[str, float],
                                                  carets: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text).evaluate(at)
    err = info.value
    cause = err.__cause__
    assert isinstance(cause, DomainError)
    assert err.reason == str(cause)
    assert str(err).startswith(str(cause))
    assert err.position == len(carets) - len(carets.lstrip(" "))
    assert caret_line(err) == carets


def test_domain_error_message_keeps_the_original() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("log(x)").evaluate({"x": -1.0})
    assert str(info.value) == (
        "log: log is defined only for x > 0: log(x) with x = -1.0 at column 1:\n"
        "  log(x)\n"
        "  ^^^^^^"
    )


def test_overflow_is_inf_not_an_error() -> None:
    f, _ = value_and_gradient("10 ** 400 + exp(x)", x=1000.0)
    assert f == math.inf


# -- long and deep inputs ------------------------------------------------------------------------


def test_too_long() -> None:
    err = refused("x" * (MAX_LENGTH + 1))
    assert err.position == MAX_LENGTH
    assert "too long" in err.reason
    assert len(str(err)) < 300  # a window of the text, not all of it
    assert parse("x" + " " * (MAX_LENGTH - 1)).variables == ("x",)
    assert parse("y" * MAX_LENGTH).variables == ("y" * MAX_LENGTH,)


def test_a_long_message_shows_a_window_around_the_error() -> None:
    text = "x + " * 100 + "y.z" + " + x" * 100
    err = refused(text)
    line, carets = str(err).splitlines()[1:]
    assert len(line) < 100
    assert line[len(carets) - 3:len(carets)] == "y.z"


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1000 + "x" + ")" * 1000,
        "exp(" * 1000 + "x" + ")" * 1000,
        "[" * 1000,
        "-" * 9000 + "x",
        "x" + "**x" * 3000,  # a power chain nests to the right: it cannot be split
    ],
)
def test_too_deep_is_an_expression_error(text: str) -> None:
    refused(text)


def test_deep_but_parseable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain of 500 ops: our walks and the engine's are iterative, so they work with a
    recursion limit far below the depth (the parser is not: it is given the tree)."""
    text = "-" * 499 + "x" + "+x" * 500
    tree = ast.parse(text, mode="eval")
    monkeypatch.setattr(ast, "parse", lambda *args, **kwargs: tree)
    limit = sys.getrecursionlimit()
    depth = _stack_depth()
    try:
        sys.setrecursionlimit(depth + 60)
        expr = parse(text)
        f, inputs = expr.evaluate({"x": 2.0})
        f.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert f.data == -2.0 + 500 * 2.0  # (−1)⁴⁹⁹·x + 500x
    assert inputs["x"].grad == 499.0


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    return depth


# -- any text: a result or an ExpressionError, nothing else --------------------------------------

TOKENS = [
    "x", "y", "x1", "1", "0", "2.5", "1e308", "10", "(", ")", "(", ")", "+", "-", "*", "/", "**",
    "exp", "log", "sqrt", "sin", "tan", "relu", "abs", " ", " ",
    ".", "[", "]", ",", ":", "=", "%", "//", "@", "<", "lambda", "if", "else", "not", "and",
    "__import__", "'", '"', "1j", "True", "#", "\n", "\t", "é", "ｘ", "\\", "*", "**", "{", "}",
]


def _check_any_text(text: str) -> None:
    """Parse, evaluate with every variable at 0.5 and differentiate: only an ExpressionError
    may come out, with a position inside the text, caused (if at all) by a SyntaxError of the
    parser or a DomainError of an op."""
    error: ExpressionError | None = None
    try:
        f, _ = parse(text).evaluate(dict.fromkeys(parse(text).variables, 0.5))
        f.backward()
    except ExpressionError as err:
        error = err
    if error is not None:
        assert error.position is None or 0 <= error.position <= len(text)
        assert str(error).startswith(error.reason)
        assert error.__cause__ is None or isinstance(error.__cause__, (SyntaxError, DomainError))


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_any_text(text: str) -> None:
    _check_any_text(text)


@settings(max_examples=400)
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_any_mix_of_tokens(text: str) -> None:
    _check_any_text(text)


_atoms = st.sampled_from(["x", "y", "0", "1", "0.5", "2", "1e300", "-3"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(sorted(ONE_ARGUMENT | set(ONE_OR_TWO))), inner).map(
            lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(sorted(TWO_ARGUMENTS | set(ONE_OR_TWO))), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        inner.map(lambda s: f"-{s}"),
    )


@settings(max_examples=300)
@given(st.recursive(_atoms, _grow, max_leaves=12))
def test_any_grammatical_expression(text: str) -> None:
    expr = parse(text)  # always parses
    assert set(expr.variables) <= {"x", "y"}
    _check_any_text(text)


# -- long flat chains ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3_000, 10_000])
def test_long_flat_sums_and_products_parse(n: int) -> None:
    # Python's own parser recurses once per operator of a chain and gives up near 3,000
    f, inputs = parse("+".join(["x"] * n)).evaluate({"x": 2.0})
    f.backward()
    assert (f.data, inputs["x"].grad) == (2.0 * n, float(n))  # n·x, slope n
    g, inputs = parse("*".join(["x"] * n)).evaluate({"x": 1.0001})
    g.backward()
    # xⁿ and n·xⁿ⁻¹, by repeated multiplication as the graph computes them
    assert g.data == pytest.approx(1.0001 ** n, rel=1e-12)
    assert inputs["x"].grad == pytest.approx(n * 1.0001 ** (n - 1), rel=1e-9)


def test_a_long_chain_of_mixed_terms_keeps_its_order_and_signs() -> None:
    terms = [f"{k}*x" for k in range(1, 4001)]
    text = terms[0] + "".join(("-" if k % 2 else "+") + t for k, t in enumerate(terms[1:], 1))
    f, inputs = parse(text).evaluate({"x": 1.0})
    f.backward()
    # 1 − 2 + 3 − 4 + … − 4000 = −2000, and the slope is the same sum
    assert (f.data, inputs["x"].grad) == (-2000.0, -2000.0)


def test_errors_in_a_long_chain_point_at_the_right_column() -> None:
    text = "x+" * 3000 + "y.z"
    err = refused(text)
    assert err.reason == "attribute access is not allowed"
    assert err.position == 6000  # the 'y' after 3,000 "x+"
    assert refused("+".join(["x"] * 3000) + "+").reason.startswith("syntax error")


@pytest.mark.parametrize("text", ["-x" + " + x" * 5000, "  +x" + " - x" * 5000,
                                  "-x" + " * x" * 5000])
def test_a_long_chain_may_start_with_a_sign(text: str) -> None:
    f, _ = parse(text).evaluate({"x": 1.0})
    # −1 + 5000, +1 − 5000, and −1 · 1 · … · 1
    assert f.data == {0: 4999.0, 1: -4999.0, 2: -1.0}[["+", "-", "*"].index(text.split()[1])]


def test_a_sign_after_a_keyword_in_a_long_chain_is_not_an_operator() -> None:
    err = refused("x + " * 4000 + "x if y else -z" + " + x" * 10)
    assert err.reason == "conditional expressions (if/else) are not allowed"
