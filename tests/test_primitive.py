"""``primitive()``: a user's row works in every mode with no further edit, and the registration
check refuses a wrong row.

Every expected value is a closed form worked out by hand in the comments, or sympy, or a
central difference. The rows registered here are removed again after each test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mini
from autograd_mini import (
    DomainError,
    Primitive,
    Value,
    draw,
    grad,
    hessian,
    jacobian,
    jvp,
    primitive,
    sigmoid,
    trace,
    vjp,
)
from autograd_mini.cli import main
from autograd_mini.compile import compile as compile_trace
from autograd_mini.engine import METHODS, apply_rule
from autograd_mini.rules import RULES, VARIADIC, cos, primal
from autograd_mini.steps import backward_steps
from autograd_mini.testing import (
    Instruction,
    Program,
    RuleCheckError,
    check_rule,
    numerical_grad,
)
from autograd_mini.testing.forms import sympy_form
from autograd_mini.testing.strategies import dags, points

Register = Callable[..., Primitive]


@pytest.fixture
def register() -> Iterator[Register]:
    """``primitive`` for a test: every row it adds is taken out of the table afterwards."""
    names: list[str] = []

    def add(name: str, *args: Any, **options: Any) -> Primitive:
        names.append(name)
        return primitive(name, *args, **options)

    yield add
    for name in names:
        RULES.pop(name, None)


# softsign(x) = x / (1 + |x|), by hand:
#   s′(x) = 1 / (1 + |x|)²,   s″(x) = −2 sign(x) / (1 + |x|)³


def s(x: float) -> float:
    return x / (1 + abs(x))


def ds(x: float) -> float:
    return 1 / (1 + abs(x)) ** 2


def d2s(x: float) -> float:
    return -2 * math.copysign(1.0, x) / (1 + abs(x)) ** 3


def add_softsign(register: Register, name: str = "t_softsign", **options: Any) -> Primitive:
    return register(name, lambda x: x / (1 + abs(x)), [lambda x, out: 1 / (1 + abs(x)) ** 2],
                    sympy=lambda sp, x: x / (1 + sp.Abs(x)), kink=lambda x: x, **options)


# logaddexp(x, y) = ln(eˣ + eʸ), by hand, with σ the logistic function and d = x − y:
#   ∂/∂x = σ(d),  ∂/∂y = σ(−d),  ∂²/∂x² = ∂²/∂y² = σ(d)σ(−d) = −∂²/∂x∂y


def add_logaddexp(register: Register) -> Primitive:
    def value(x: float, y: float) -> float:
        top = max(x, y)
        return top + math.log1p(math.exp(-abs(x - y)))

    return register("t_logaddexp", value,
                    [lambda x, y, out: sigmoid(x - y), lambda x, y, out: sigmoid(y - x)],
                    sympy=lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y)))


def logistic(t: float) -> float:
    return 1 / (1 + math.exp(-t))


# -- every mode -----------------------------------------------------------------------------


@pytest.mark.parametrize("x0", [1.5, -0.7])
def test_backward_and_create_graph(register: Register, x0: float) -> None:
    softsign = add_softsign(register)
    x = Value(x0, label="x")
    y = softsign(x)
    assert y.op == "t_softsign"
    assert y.data == s(x0)
    y.backward()
    assert math.isclose(x.grad, ds(x0), rel_tol=1e-15)
    x.zero_grad()
    softsign(x).backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    x.zero_grad()
    g.backward()
    assert math.isclose(x.grad, d2s(x0), rel_tol=1e-14)


def test_on_floats_it_is_the_value(register: Register) -> None:
    softsign = add_softsign(register)
    assert softsign(3.0) == 0.75  # 3 / (1 + 3)
    assert softsign(-1) == -0.5


def test_transforms(register: Register) -> None:
    softsign = add_softsign(register)
    logaddexp = add_logaddexp(register)
    assert math.isclose(grad(softsign)(2.0), ds(2.0), rel_tol=1e-15)
    assert math.isclose(grad(grad(softsign))(2.0), d2s(2.0), rel_tol=1e-14)
    value, tangent = jvp(softsign, (-2.0,), (1.0,))
    assert (value, tangent) == (s(-2.0), pytest.approx(ds(-2.0), rel=1e-15))
    x, y = 0.3, -1.1
    _, pullback = vjp(logaddexp, x, y)
    gx, gy = pullback(1.0)
    assert math.isclose(gx, logistic(x - y), rel_tol=1e-14)
    assert math.isclose(gy, logistic(y - x), rel_tol=1e-14)
    for mode in ("rev", "fwd"):
        (row,) = jacobian(logaddexp, mode=mode)(x, y)  # type: ignore[arg-type]
        assert row == [pytest.approx(logistic(x - y), rel=1e-14),
                       pytest.approx(logistic(y - x), rel=1e-14)]
    curvature = logistic(x - y) * logistic(y - x)
    h = hessian(logaddexp)(x, y)
    assert h == [[pytest.approx(curvature, rel=1e-12), pytest.approx(-curvature, rel=1e-12)],
                 [pytest.approx(-curvature, rel=1e-12), pytest.approx(curvature, rel=1e-12)]]


def test_defaults_for_trailing_operands(register: Register) -> None:
    # soft_clip(x, a) = a·tanh(x/a), a = 2 by default; by hand, with t = tanh(x/a):
    #   ∂/∂x = 1 − t²,  ∂/∂a = t − (x/a)(1 − t²)
    soft_clip = register(
        "t_soft_clip", lambda x, a: a * math.tanh(x / a),
        [lambda x, a, out: 1.0 - (out / a) * (out / a),
         lambda x, a, out: out / a - (x / a) * (1.0 - (out / a) * (out / a))],
        defaults=(2.0,), domain=lambda x, a: "a must be positive" if a <= 0 else None)
    x, a = Value(1.0), Value(2.0)
    soft_clip(x).backward()  # a = 2, a constant
    t = math.tanh(0.5)
    assert math.isclose(x.grad, 1 - t * t, rel_tol=1e-14)
    x.zero_grad()
    soft_clip(x, a).backward()
    assert math.isclose(a.grad, t - 0.5 * (1 - t * t), rel_tol=1e-14)
    with pytest.raises(DomainError, match="t_soft_clip: a must be positive"):
        soft_clip(x, -1.0)
    with pytest.raises(DomainError, match="a must be positive"):
        soft_clip(1.0, 0.0)  # on floats too
    with pytest.raises(TypeError, match=r"t_soft_clip\(\) takes 1 to 2 operand"):
        soft_clip(x, a, a)


def test_a_variadic_primitive(register: Register) -> None:
    # the product x₁x₂…xₙ: ∂/∂xᵢ = Π over j ≠ i of xⱼ
    def partials(xs: list[Any], out: Any) -> list[Any]:
        return [math.prod(xs[:i] + xs[i + 1:]) if all(type(x) is float for x in xs)
                else _product(xs[:i] + xs[i + 1:]) for i in range(len(xs))]

    product = register(
        "t_product", lambda *xs: math.prod(xs), partials, variadic=True,
        display=lambda names, latex: " · ".join(names),
        display_partial=lambda names, i, latex: " · ".join(names[:i] + names[i + 1:]))
    a, b, c = Value(2.0), Value(3.0), Value(5.0)
    product(a, b, c).backward()
    assert (a.grad, b.grad, c.grad) == (15.0, 10.0, 6.0)
    h = hessian(lambda x, y: product(x, y, x))(2.0, 3.0)  # x²y: [[2y, 2x], [2x, 0]]
    assert h == [[6.0, 4.0], [4.0, 0.0]]


def _product(xs: list[Any]) -> Any:
    out: Any = 1.0
    for x in xs:
        out = out * x
    return out


def test_trace_tables_pictures_and_steps(register: Register) -> None:
    softsign = add_softsign(register)
    x = Value(3.0, label="x")
    y = softsign(x * 2.0)  # softsign(6): s′(6) = 1/49, so ∂y/∂x = 2/49
    y.backward()
    tables = trace(y, wrt="x")
    text = tables.to_text()
    assert "v₂ =  softsign(v₁)" not in text  # the name is t_softsign
    assert "t_softsign(v₁)" in text
    assert "v̄₁ =  v̄₂ · t_softsign′(v₁)" in text
    assert tables.gradient["x"] == pytest.approx(2 / 49, rel=1e-15)
    assert tables.tangents[-1].value == pytest.approx(2 / 49, rel=1e-15)
    assert r"\operatorname{t\_softsign}(v_{1})" in tables.to_latex()
    source = draw(y).source
    assert "label=t_softsign" in source
    frames = backward_steps(y)
    assert len(frames) == 3  # one per node, last to first: y, the product by 2, x
    assert f"grad {2 / 49:.6g}" in frames[-1].source  # x's adjoint, complete in the last frame


def test_compiled_trace(register: Register) -> None:
    softsign = add_softsign(register)
    step = compile_trace(lambda x: softsign(x) * x, [0.3])
    assert "_f_t_softsign(x0)" in step.source  # no code template: it calls the row's functions
    value, (gx,) = step(1.7)  # d/dx x·s(x) = s(x) + x·s′(x)
    assert value == pytest.approx(1.7 * s(1.7), rel=1e-15)
    assert gx == pytest.approx(s(1.7) + 1.7 * ds(1.7), rel=1e-14)


def test_compiled_trace_with_code_templates(register: Register) -> None:
    softsign = add_softsign(register, code="{0} / (1.0 + abs({0}))",
                            partials_code=("1.0 / (1.0 + abs({0})) ** 2",))
    step = compile_trace(lambda x: softsign(x), [0.3])
    assert "v1 = x0 / (1.0 + abs(x0))" in step.source
    assert step(-4.0) == (s(-4.0), (pytest.approx(ds(-4.0), rel=1e-15),))


def test_program_to_sympy(register: Register) -> None:
    add_softsign(register)
    x0 = sp.Symbol("x0", real=True)
    program = Program(1, (Instruction("t_softsign", (0,)),))
    assert sp.simplify(program.to_sympy([x0]) - x0 / (1 + sp.Abs(x0))) == 0


@pytest.fixture(scope="module")
def softsign_row() -> Iterator[str]:
    """softsign registered once for a property test (hypothesis runs its body many times)."""
    name = "t_softsign_property"
    primitive(name, lambda x: x / (1 + abs(x)), [lambda x, out: 1 / (1 + abs(x)) ** 2],
              sympy=lambda sp, x: x / (1 + sp.Abs(x)), kink=lambda x: x)
    yield name
    RULES.pop(name, None)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_strategies_draw_it_and_sympy_checks_it(softsign_row: str, data: st.DataObject) -> None:
    program = data.draw(dags(n_inputs=2, max_ops=5, ops=[softsign_row, "add", "mul", "sin"]))
    point = data.draw(points(program, min_value=-2, max_value=2, sympy=False))
    inputs = [Value(p) for p in point]
    program(*inputs).backward()
    symbols = sp.symbols("x0:2", real=True)
    expr = program.to_sympy(symbols)
    subs = dict(zip(symbols, point, strict=True))
    for v, sym in zip(inputs, symbols, strict=True):
        expected = float(sp.diff(expr, sym).evalf(30, subs=subs))
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_a_row_without_a_sympy_form_says_so(register: Register) -> None:
    register("t_cube", lambda x: x ** 3, [lambda x, out: 3 * x * x])
    program = Program(1, (Instruction("t_cube", (0,)),))
    with pytest.raises(ValueError, match="op 't_cube' has no sympy form"):
        program.to_sympy()


# -- the registration check -----------------------------------------------------------------


def test_a_partial_wrong_by_one_percent_is_refused(register: Register) -> None:
    with pytest.raises(RuleCheckError, match="disagree with central differences") as error:
        register("t_bad", lambda x: x / (1 + abs(x)), [lambda x, out: 1.01 / (1 + abs(x)) ** 2],
                 kink=lambda x: x)
    message = str(error.value)
    assert "analytic" in message
    assert "numeric" in message
    assert "<-- mismatch" in message
    assert "t_bad" not in RULES


def test_a_partial_frozen_as_a_float_is_refused(register: Register) -> None:
    # right in value, but computed on the float behind x: its own derivative comes out as 0
    with pytest.raises(RuleCheckError, match="order 2") as error:
        register("t_frozen", lambda x: x / (1 + abs(x)),
                 [lambda x, out: 1 / (1 + abs(primal(x))) ** 2], kink=lambda x: x)
    assert "computes on floats only" in str(error.value)
    assert "t_frozen" not in RULES


def test_a_partial_that_fails_on_values_is_refused(register: Register) -> None:
    with pytest.raises(RuleCheckError, match="must work on floats and on Values"):
        register("t_math_sin", math.sin, [lambda x, out: math.cos(x)])
    assert "t_math_sin" not in RULES


def test_the_check_uses_the_given_points_and_says_when_it_finds_none(register: Register) -> None:
    # right at x > 0 only: the check passes where it is told to look, and nowhere else
    half = [lambda x, out: 1.0 if primal(x) > 0 else 2.0]
    register("t_half", lambda x: abs(x), half, check_at=[(0.5,), (1.5,)])
    with pytest.raises(RuleCheckError, match="disagree"):
        register("t_half_everywhere", lambda x: abs(x), half)
    with pytest.raises(RuleCheckError, match="check_at"):
        register("t_nowhere", math.log, [lambda x, out: 1 / x],
                 domain=lambda x: "x must exceed 10" if x <= 10 else None)


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.builtin
                                        and r.arity != 0))
def test_every_builtin_row_passes_the_registration_check(name: str) -> None:
    check_rule(RULES[name])


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.builtin))
def test_every_builtin_sympy_form_has_the_rows_value(name: str) -> None:
    rule = RULES[name]
    form = sympy_form(rule)
    n = 5 if rule.arity == VARIADIC else rule.arity  # dot: w₁ w₂ a₁ a₂ b
    for point in ([0.3, 1.7, 0.9, -0.4, 2.2][:n], [1.1, 0.6, -0.8, 0.5, 1.3][:n]):
        if rule.domain is not None and rule.domain(*point) is not None:
            continue
        symbols = sp.symbols(f"x0:{n}", real=True)
        expected = float(form(sp, *symbols).evalf(30, subs=dict(zip(symbols, point,
                                                                          strict=True))))
        assert rule.primal(*point) == pytest.approx(expected, rel=1e-14, abs=1e-15)


# -- registering ------------------------------------------------------------------------------


def test_a_name_registered_twice_is_refused_unless_replaced(register: Register) -> None:
    add_softsign(register, name="t_twice")
    with pytest.raises(ValueError, match="'t_twice' is registered already; pass replace=True"):
        add_softsign(register, name="t_twice")
    doubled = register("t_twice", lambda x: 2 * x, [lambda x, out: 2.0], replace=True)
    x = Value(1.0)
    doubled(x).backward()
    assert x.grad == 2.0


def test_builtin_rows_cannot_be_replaced() -> None:
    with pytest.raises(ValueError, match="'exp' is registered already; it is a built-in row"):
        primitive("exp", math.exp, [lambda x, out: out], replace=True)
    assert RULES["exp"].builtin


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "2x"}, "must be a Python identifier"),
    ({"name": "lambda"}, "must be a Python identifier"),
    ({"name": "const"}, "reserved"),
    ({"partials": lambda x, out: 1.0}, "partials must be a list of functions"),
    ({"partials": []}, "non-empty list"),
    ({"text": "f({0}, {1})"}, "a display template does not fit 1 operand"),
    ({"partials_text": ("a", "b")}, "partials_text needs one template per operand"),
    ({"code": "{0}.real"}, "uses Attribute, which is not allowed"),
    ({"code": "__import__('os')"}, "non-numeric constant|unknown name"),
    ({"code": "secret({0})"}, "unknown name 'secret'"),
    ({"partials_code": ("1.0", "2.0")}, "partials_code needs one template per operand"),
    ({"defaults": (1.0,)}, "the first operand has none"),
    ({"domain": "x > 0"}, "domain must be a function"),
])
def test_bad_arguments_name_the_problem(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"name": "t_bad_args", "primal": lambda x: x,
                                 "partials": [lambda x, out: 1.0], **kwargs}
    with pytest.raises(ValueError, match=message):
        primitive(arguments.pop("name"), arguments.pop("primal"), arguments.pop("partials"),
                  **arguments)
    assert "t_bad_args" not in RULES


# -- the built-in rows are methods and functions ----------------------------------------------

#: Written out here: the built-in rows that are written as calls, other than abs (abs(x)).
BUILTIN_FUNCTIONS = {"exp", "log", "log1p", "sqrt", "sin", "cos", "tan", "atan", "erf", "tanh",
                     "sigmoid", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu",
                     "maximum", "minimum", "stop_gradient"}


def test_methods_and_functions_come_from_the_table() -> None:
    assert set(METHODS) == BUILTIN_FUNCTIONS
    x = Value(0.4)
    for name in BUILTIN_FUNCTIONS:
        others = (Value(0.9),) if RULES[name].arity == 2 and not RULES[name].defaults else ()
        node = getattr(x, name)(*others)
        assert node.op == name
        assert node.rule is RULES[name]
        function = getattr(autograd_mini, name)
        assert function.rule is RULES[name]
        assert name in autograd_mini.__all__
        assert function(x, *others).data == node.data
        assert getattr(Value, name).__doc__ == RULES[name].doc
    assert not hasattr(x, "add")
    assert not hasattr(x, "dot")


def test_the_command_line_knows_the_new_functions(capsys: pytest.CaptureFixture[str]) -> None:
    # f = maximum(x, y) · leaky_relu(x) at x = −2, y = 1: the maximum is y, leaky_relu(−2) = −0.02
    #   ∂f/∂x = y · 0.01 = 0.01,  ∂f/∂y = leaky_relu(x) = −0.02
    assert main(["trace", "maximum(x, y) * leaky_relu(x)", "--at", "x=-2", "y=1"]) == 0
    out = capsys.readouterr().out
    assert "∂f/∂x = 0.01\n" in out
    assert "∂f/∂y = -0.02" in out
    assert "leaky_relu(v₋₁, 0.01)" in out


def test_central_differences_agree_with_the_new_rows_through_compile() -> None:
    def f(x: Any, y: Any) -> Any:
        return (x.gelu() + y.silu() * x.atan() + x.erf().softplus() + x.log1p()
                + x.maximum(y) * y.minimum(x) + x.leaky_relu(0.3) * y.elu(0.7))

    step = compile_trace(f, [0.5, -0.25])
    for point in ([0.8, -1.3], [1.9, 0.4]):
        value, gradient = step(*point)
        numeric = numerical_grad(f, point)
        assert gradient == pytest.approx(numeric, rel=1e-6, abs=1e-8)
        assert value == pytest.approx(f(*(Value(p) for p in point)).data, rel=1e-15)


def test_a_primal_that_is_not_real_valued_is_refused(register: Register) -> None:
    # (−1)^½ is complex in Python; the row has no domain, so the value itself is refused
    root = register("t_root", lambda x: x ** 0.5, [lambda x, out: 0.5 / out], check_at=[(4.0,)])
    assert root(Value(4.0)).data == 2.0
    with pytest.raises(ValueError, match=r"t_root: its primal returned .*\(complex\) at "
                                         r"\(-1.0\), not a real number; give the primitive a "
                                         "domain="):
        root(Value(-1.0))
    assert type(register("t_floor", math.floor, [lambda x, out: 0.0], check=False)(2.5)) is float


# -- edges found in review ---------------------------------------------------------------------


def test_operands_may_be_named(register: Register) -> None:
    x = Value(-2.0)
    assert autograd_mini.leaky_relu(x, slope=0.2).data == -0.4  # 0.2 · (−2)
    assert x.elu(alpha=2.0).data == 2.0 * math.expm1(-2.0)
    assert autograd_mini.leaky_relu(-2.0, slope=0.5) == -1.0
    with pytest.raises(TypeError, match="no operand 'negative_slope'; its operands are x, slope"):
        autograd_mini.leaky_relu(x, negative_slope=0.2)
    with pytest.raises(TypeError, match="got operand 'x' twice"):
        autograd_mini.leaky_relu(x, x=x)
    softsign = add_softsign(register)
    with pytest.raises(TypeError, match="none: pass them by position"):
        softsign(x=x)


def test_a_variadic_domain_holds_on_values_too(register: Register) -> None:
    logsum = register("t_logsum", lambda *xs: math.log(sum(xs)),
                      lambda xs, out: [1.0 / sum(primal(x) for x in xs)] * len(xs),
                      variadic=True, check=False,
                      domain=lambda *xs: "the sum must be positive" if sum(xs) <= 0 else None,
                      display=lambda names, latex: f"log({' + '.join(names)})",
                      display_partial=lambda names, i, latex: "1 / Σ")
    for args in ((1.0, -2.0), (Value(1.0), Value(-2.0))):
        with pytest.raises(DomainError, match="t_logsum: the sum must be positive"):
            logsum(*args)
    assert "label=t_logsum" in draw(logsum(Value(1.0), Value(2.0))).source


def test_compile_uses_each_nodes_own_rule(register: Register) -> None:
    twice = register("t_twice", lambda x: 2 * x, [lambda x, out: 2.0])
    y = Value(1.0)
    old = twice(y)
    register("t_twice", lambda x: 3 * x, [lambda x, out: 3.0], replace=True)
    new = RULES["t_twice"]
    step = compile_trace(lambda t: twice(t) + apply_rule(new, t), [1.0])  # 2t + 3t
    assert step(1.0) == (5.0, (5.0,))
    assert old.data == 2.0


def test_compiled_names_of_similar_rows_do_not_collide(register: Register) -> None:
    foo = register("t_foo", lambda x: 2 * x, [lambda x, out: 2.0])
    register("t_foo_0", lambda *xs: sum(xs), lambda xs, out: [1.0] * len(xs), variadic=True,
             display=lambda names, latex: "+".join(names),
             display_partial=lambda names, i, latex: "1")
    assert compile_trace(lambda t: foo(t), [1.0])(4.0) == (8.0, (2.0,))


def test_code_templates_are_checked_against_the_rows_functions(register: Register) -> None:
    with pytest.raises(RuleCheckError, match="code templates compute the value"):
        register("t_cube_code", lambda x: x ** 3, [lambda x, out: 3 * x * x],
                 code="{0} * {0}", partials_code=("2.0 * {0}",))
    with pytest.raises(RuleCheckError, match="NameError"):
        register("t_cube_name", lambda x: x ** 3, [lambda x, out: 3 * x * x],
                 code="_p_nonexistent({0})")
    assert "t_cube_code" not in RULES
    assert "t_cube_name" not in RULES


def test_a_partial_that_differs_on_values_is_refused(register: Register) -> None:
    # 2x on floats, 2x + 1 on Values: right first derivative, wrong for create_graph
    with pytest.raises(RuleCheckError, match=r"on Values but .* on floats"):
        register("t_two_faced", lambda x: x * x,
                 [lambda x, out: 2 * x if type(x) is float else 2 * x + 1])


def test_the_check_scales_with_the_rows_values(register: Register) -> None:
    # a row of tiny values with a partial of the wrong sign: 2e-6 apart, below a fixed 1e-5
    with pytest.raises(RuleCheckError, match="disagree"):
        register("t_tiny", lambda x: 1e-6 * math.sin(x), [lambda x, out: -1e-6 * cos(x)])
    # a right partial of a row of huge values: rounding in the differences is about 1
    register("t_huge", lambda x: 1e10 + x * x, [lambda x, out: 2 * x])


def test_the_check_names_the_mistake(register: Register) -> None:
    with pytest.raises(RuleCheckError, match=r"TypeError.*called as d\(x, out\)"):
        register("t_no_out", lambda x: x * x, [lambda x: 2 * x])
    with pytest.raises(RuleCheckError, match="cannot call the primitive being registered"):
        register("t_self", math.exp, [lambda x, out: t_self(x)])  # type: ignore[name-defined]  # noqa: F821
    with pytest.raises(RuleCheckError, match=r"check_at is empty; .* check=False"):
        register("t_empty", lambda x: x * x, [lambda x, out: 2 * x], check_at=[])
    with pytest.raises(RuleCheckError, match="has 2 number"):
        register("t_shape", lambda x: x * x, [lambda x, out: 2 * x], check_at=[(1.0, 2.0)])


def test_registering_is_not_counted(register: Register) -> None:
    with autograd_mini.count_passes() as cost:
        add_softsign(register)
    assert (cost.evaluations, cost.forward_passes, cost.reverse_passes) == (0, 0, 0)


def test_create_graph_gives_values_for_int_partials(register: Register) -> None:
    plus_one = register("t_plus_one", lambda x: x + 1, [lambda x, out: 1])
    x = Value(2.0)
    plus_one(x).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == 1.0


def test_a_false_domain_answer_means_inside(register: Register) -> None:
    root = register("t_pos_root", math.sqrt, [lambda x, out: 0.5 / out],
                    domain=lambda x: x < 0 and "x must not be negative")
    assert root(Value(4.0)).data == 2.0
    with pytest.raises(DomainError, match="t_pos_root: x must not be negative"):
        root(Value(-1.0))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"defaults": 0.5}, "defaults must be a tuple of numbers"),
    ({"operands": ("x", "y")}, "operands must name each of the 1 operand"),
])
def test_more_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        primitive("t_bad_more", lambda x: x, [lambda x, out: 1.0], **kwargs)


def test_a_users_partial_that_divides_by_zero_names_the_op(register: Register) -> None:
    # ∂/∂x of |x|·x is 2|x|; written as 2x²/|x| it divides by zero at 0
    f = register("t_xabsx", lambda x: abs(x) * x, [lambda x, out: 2 * x * x / abs(x)],
                 kink=lambda x: x)
    x = Value(0.0)
    with pytest.raises(ValueError, match=r"t_xabsx: partial 0 raised ZeroDivisionError .* at "
                                         r"\(0.0, 0.0\); .*rules\.divide"):
        f(x).backward()


@pytest.mark.parametrize(("name", "slopes"), [("gelu", (1.0, 0.0)), ("silu", (1.0, 0.0))])
def test_gelu_and_silu_slopes_at_infinity_are_their_limits(name: str,
                                                            slopes: tuple[float, float]) -> None:
    for x0, slope in zip((math.inf, -math.inf), slopes, strict=True):
        x = Value(x0)
        getattr(x, name)().backward()
        assert x.grad == slope
