"""Property tests of forward mode, reverse mode and their nestings, on random programs.

Programs come from :func:`~autograd_mini.testing.strategies.expressions` (trees) and
:func:`~autograd_mini.testing.strategies.dags` (shared nodes, diamonds, fan-out), with 1-3 inputs
and fair points in [-2, 2] from :func:`~autograd_mini.testing.strategies.points`. The expected
values come only from sympy (``sympy.diff`` of ``Program.to_sympy()``, once and twice,
evaluated with 30 significant digits), from
derivatives worked by hand, or from the central differences inside ``check_grads``; never from
the package. The package is used only to *screen* an example, that is to decide whether it is a
fair test (``points``, then :func:`screen_first_order` and :func:`screen_second_order` for the
graphs of the derivatives).

1. Forward mode (``jvp``), reverse mode (``grad`` and ``Value.backward``) and both modes of
   ``jacobian`` give sympy's gradient.
2. ``hessian`` (forward over reverse), reverse-over-reverse (``backward(create_graph=True)``,
   then ``backward`` of each gradient), forward-over-forward (``jvp`` of ``jvp``) and
   reverse-over-forward (``grad`` of ``jvp``) give ``sympy.hessian``, entry by entry.
3. Third derivatives by ``grad(grad(grad(f)))`` (and by the other nestings) give closed forms.
4. ``check_grads(order=2)`` passes in both modes on random smooth programs.

The last section holds regression tests for a bug these properties found: a pow with a
variable exponent equal to 0 once lost its second derivatives.

Run pytest with ``--hypothesis-show-statistics`` to see how often each screening reason fires.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import event, given, reject, settings
from hypothesis import strategies as st

from autograd_mini import DomainError, Value, _graph, grad, hessian, jacobian, jvp
from autograd_mini.rules import RULES
from autograd_mini.testing import Program, check_grads, sympy_derivatives
from autograd_mini.testing.strategies import dags, expressions, points

#: The package's own rows (the strategies' default is every row, registered ones included).
BUILTIN_OPS = tuple(sorted(name for name, rule in RULES.items() if rule.builtin))

Point = tuple[float, ...]
Matrix = list[list[float]]

KINDS = ("dags", "expressions")
#: Small programs: sympy's Hessians are the slow part of every example.
MAX_OPS = 6
MAX_LEAVES = 6
#: Points are drawn from [-BOUND, BOUND] on every axis.
BOUND = 2.0
#: The ops whose every derivative exists and is continuous everywhere (for ``check_grads``).
SMOOTH = ("add", "cos", "exp", "mul", "neg", "sigmoid", "sin", "sub", "tanh")

#: Largest magnitude allowed for any value, adjoint, tangent or local term (adjoint · partial,
#: partial · tangent) of a graph that is differentiated: of the program's graph for the first
#: order, and also of the graphs of its gradients and tangents for the second order.
BIG = 1e6

#: First order, as in test_properties.py: every local term is at most BIG = 1e6 and carries a
#: relative rounding error of about (depth ≤ 16) × 2⁻⁵³, so when terms cancel a sum can be off
#: by a few times 16 · 1e6 · 1.1e-16 ≈ 2e-9 in absolute terms; hence the floor ABS1 = 1e-8.
REL1 = 1e-7
ABS1 = 1e-8
#: Second order: no loosening is needed. A Hessian entry is computed on the graph of a
#: gradient, about three times the size and twice the depth (≤ 32) of the program's graph, but
#: the screen bounds every local term of that graph by BIG = 1e6 as well, so cancellation costs
#: at most about 32 · 1e6 · 1.1e-16 ≈ 4e-9 < ABS1. Measured over about 5000 drawn examples, the
#: worst second-order error was 2e-5 of this tolerance (an exact 0 computed as 2.3e-13).
REL2 = REL1
ABS2 = ABS1


# ---------------------------------------------------------------------------------------------
# Drawing programs and points
# ---------------------------------------------------------------------------------------------


def program_strategy(kind: str, n: int,
                     ops: Sequence[str] | None = None) -> st.SearchStrategy[Program]:
    if kind == "expressions":
        return expressions(n_inputs=n, max_leaves=MAX_LEAVES, ops=ops or BUILTIN_OPS)
    return dags(n_inputs=n, max_ops=MAX_OPS, ops=ops or BUILTIN_OPS)


@st.composite
def programs_and_points(draw: st.DrawFn, kind: str,
                        ops: Sequence[str] | None = None) -> tuple[Program, Point]:
    n = draw(st.integers(1, 3), label="n_inputs")
    program = draw(program_strategy(kind, n, ops), label="program")
    point = draw(points(program, min_value=-BOUND, max_value=BOUND, bound=BIG), label="point")
    return program, point


def basis(n: int, k: int) -> list[float]:
    return [1.0 if j == k else 0.0 for j in range(n)]


# ---------------------------------------------------------------------------------------------
# Screening: is this example a fair test?
# ---------------------------------------------------------------------------------------------


def _moderate(x: float, bound: float) -> bool:
    return math.isfinite(x) and abs(x) <= bound


def walk(root: Value) -> list[Value]:
    """Every node below ``root`` (inclusive), each after its operands, through the public
    ``parents``; written here so that the screen does not share the package's graph walk."""
    order: list[Value] = []
    seen: set[int] = {id(root)}
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        parents = node.parents
        if i < len(parents):
            stack.append((node, i + 1))
            child = parents[i]
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, 0))
        else:
            order.append(node)
    return order


def local_partials(node: Value) -> list[float | None]:
    """The node's partials on floats, from the rule table, or None for a constant operand.
    Used only to measure the size of the terms of a sweep, never as an expected value."""
    partials = _graph.local_partials(node, on_values=False)
    return [None if p.op == "const" else float(d)
            for p, d in zip(node.parents, partials, strict=True)]


def graph_problem(root: Value, inputs: Sequence[Value], bound: float) -> str | None:
    """Why differentiating ``root`` with respect to ``inputs`` is not a fair test, or None.

    Every value, every adjoint and tangent, and every local term (adjoint · partial in the
    reverse sweep, partial · tangent in each forward sweep) must be finite and at most
    ``bound``: large terms that cancel lose the small ones (x/x + x at x = 1e-31 sums ±1e31 and
    1, and the 1 is lost), and a finite difference or a relative comparison of huge numbers
    says nothing.
    """
    order = walk(root)
    if not all(_moderate(v.data, bound) for v in order):
        return "non-finite or huge value"
    partials = {id(v): local_partials(v) for v in order}
    bar: dict[int, float] = {id(root): 1.0}
    for node in reversed(order):
        g = bar.get(id(node))
        if g is None:
            continue
        for p, d in zip(node.parents, partials[id(node)], strict=True):
            if d is None:
                continue
            term = g * d
            if not _moderate(term, bound):
                return "ill-conditioned: huge reverse term"
            bar[id(p)] = bar.get(id(p), 0.0) + term
    if not all(_moderate(b, bound) for b in bar.values()):
        return "non-finite or huge adjoint"
    for x in inputs:
        dot: dict[int, float] = {id(x): 1.0}
        for node in order:
            if id(node) in dot:
                continue
            total: float | None = None
            for p, d in zip(node.parents, partials[id(node)], strict=True):
                t = dot.get(id(p))
                if t is None or d is None:
                    continue
                term = t * d
                if not _moderate(term, bound):
                    return "ill-conditioned: huge forward term"
                total = term if total is None else total + term
            if total is not None:
                if not _moderate(total, bound):
                    return "non-finite or huge tangent"
                dot[id(node)] = total
    return None


def screen_first_order(program: Program, point: Point, bound: float = BIG) -> list[Value]:
    """Run the program on fresh Values and backward(); ``reject()`` an unfair example.
    Returns the inputs, whose ``grad`` holds the gradient."""
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = program(*inputs)  # points() drew a point inside every domain, away from kinks
    problem = graph_problem(out, inputs, bound)  # the forward sweeps' terms too
    if problem is not None:
        event(f"rejected: {problem}")
        reject()
    out.backward()
    return inputs


def screen_second_order(program: Program, point: Point,
                        bound: float = BIG) -> tuple[list[Value], list[Any]]:
    """Call after :func:`screen_first_order`. Runs ``backward(create_graph=True)`` on fresh
    Values and ``jvp`` on Values, and ``reject()``\\ s the example when a partial evaluated on
    Values leaves its domain (sqrt′ = 1/(2√x) at x = 0, say) or when the graph of a gradient or
    of a tangent is not a fair test by :func:`graph_problem`. Returns the inputs and their
    gradients (Values, or numbers where the gradient is constant)."""
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    n = len(point)
    out = program(*inputs)
    try:
        out.backward(create_graph=True)
        tangents = [jvp(program, inputs, basis(n, k))[1] for k in range(n)]
    except DomainError:
        event("rejected: domain error in a partial evaluated on Values")
        reject()
    gradients = [x.grad for x in inputs]
    for d in (*gradients, *tangents):
        if isinstance(d, Value):
            problem = graph_problem(d, inputs, bound)
            if problem is not None:
                event(f"rejected (second order): {problem}")
                reject()
    return inputs, gradients


# ---------------------------------------------------------------------------------------------
# The oracle: sympy
# ---------------------------------------------------------------------------------------------


def _finite(numbers: list[float]) -> list[float]:
    """sympy's numbers, or ``reject()`` when one is not a finite real number (a DiracDelta
    that stays symbolic in a second derivative, say)."""
    if not all(math.isfinite(x) for x in numbers):
        event("rejected: sympy gives no finite number")
        reject()
    return numbers


def sympy_gradient(program: Program, point: Point) -> list[float]:
    """sympy's gradient: ``sympy.diff`` of the program's closed form, to 30 digits."""
    return _finite(sympy_derivatives(program, point, order=1)[1])


def sympy_hessian(program: Program, point: Point) -> Matrix:
    """sympy's Hessian: ``sympy.diff`` twice of the program's closed form, to 30 digits."""
    h = sympy_derivatives(program, point, order=2)[2]
    assert h is not None
    return [_finite(row) for row in h]


def assert_close(got: Any, expected: float, rel: float, abs_: float, what: str,
                 program: Program, point: Point) -> None:
    assert type(got) is float, (what, type(got).__name__, program, point)
    assert math.isclose(got, expected, rel_tol=rel, abs_tol=abs_), (
        f"{what}: got {got!r}, sympy gives {expected!r}\nat {point}\n{program!r}"
    )


# ---------------------------------------------------------------------------------------------
# 1. First order: forward mode = reverse mode = sympy
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_forward_and_reverse_modes_match_sympy(kind: str, data: st.DataObject) -> None:
    program, point = data.draw(programs_and_points(kind))
    inputs = screen_first_order(program, point)
    expected = sympy_gradient(program, point)
    n = len(point)
    by_grad = grad(program, argnums=tuple(range(n)))(*point)
    assert isinstance(by_grad, tuple)
    assert len(by_grad) == n
    for k in range(n):
        _, by_jvp = jvp(program, point, basis(n, k))
        for what, got in (("jvp", by_jvp), ("grad", by_grad[k]), ("backward", inputs[k].grad)):
            assert_close(got, expected[k], REL1, ABS1, f"{what} ∂f/∂x{k}", program, point)
    forward = jacobian(program, mode="fwd")(*point)
    reverse = jacobian(program, mode="rev")(*point)
    assert len(forward) == len(reverse) == 1
    assert len(forward[0]) == len(reverse[0]) == n
    for k in range(n):
        assert_close(forward[0][k], expected[k], REL1, ABS1, f"jacobian fwd [0][{k}]",
                     program, point)
        assert_close(reverse[0][k], expected[k], REL1, ABS1, f"jacobian rev [0][{k}]",
                     program, point)
        # Each is within the tolerance of sympy, so of each other within twice of it.
        assert math.isclose(forward[0][k], reverse[0][k], rel_tol=2 * REL1, abs_tol=2 * ABS1)


# ---------------------------------------------------------------------------------------------
# 2. Second order: hessian = reverse-over-reverse = forward-over-forward = sympy.hessian
# ---------------------------------------------------------------------------------------------


def rows_by_reverse_over_reverse(inputs: list[Value], gradients: list[Any]) -> Matrix:
    """Row k of the Hessian: backward() on the gradient ∂f/∂xₖ left by
    ``backward(create_graph=True)``, with the inputs' gradients zeroed before each pass."""
    rows = []
    for g in gradients:
        for x in inputs:
            x.grad = 0.0
        if isinstance(g, Value):
            g.backward()
        else:  # a constant gradient, as a plain number: its row is 0
            assert isinstance(g, float), type(g).__name__
        rows.append([x.grad for x in inputs])
    return rows


def forward_over_forward(program: Program, point: Point, i: int, j: int) -> Any:
    """∂²f/∂xᵢ∂xⱼ as the jvp along eᵢ of x ↦ jvp(f, x, eⱼ)."""
    n = len(point)

    def directional(*xs: Any) -> Any:
        return jvp(program, xs, basis(n, j))[1]

    return jvp(directional, point, basis(n, i))[1]


def reverse_over_forward(program: Program, point: Point, i: int, j: int) -> Any:
    """∂²f/∂xᵢ∂xⱼ as component i of the gradient of x ↦ jvp(f, x, eⱼ)."""
    n = len(point)

    def directional(*xs: Any) -> Any:
        return jvp(program, xs, basis(n, j))[1]

    return grad(directional, argnums=tuple(range(n)))(*point)[i]


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=250)
@given(data=st.data())
def test_second_derivatives_match_sympy_hessian(kind: str, data: st.DataObject) -> None:
    program, point = data.draw(programs_and_points(kind))
    screen_first_order(program, point)
    inputs, gradients = screen_second_order(program, point)
    expected = sympy_hessian(program, point)
    n = len(point)

    by_hessian = hessian(program)(*point)
    assert len(by_hessian) == n
    assert all(len(row) == n for row in by_hessian)
    by_rows = rows_by_reverse_over_reverse(inputs, gradients)
    for i in range(n):
        for j in range(n):
            want = expected[i][j]
            assert_close(by_hessian[i][j], want, REL2, ABS2, f"hessian [{i}][{j}]",
                         program, point)
            assert_close(by_rows[i][j], want, REL2, ABS2,
                         f"backward of x{i}.grad after create_graph: ∂/∂x{j}", program, point)
            got = forward_over_forward(program, point, i, j)
            assert_close(got, want, REL2, ABS2, f"jvp of jvp [{i}][{j}]", program, point)
            got = reverse_over_forward(program, point, i, j)
            assert_close(got, want, REL2, ABS2, f"grad of jvp [{i}][{j}]", program, point)


# ---------------------------------------------------------------------------------------------
# 3. Third derivatives against closed forms worked by hand
# ---------------------------------------------------------------------------------------------


def _tanh3(x: float) -> float:
    # t′ = 1 − t², t″ = −2t(1 − t²), t‴ = −2(1 − t²)² + 4t²(1 − t²) = (1 − t²)(6t² − 2)
    t = math.tanh(x)
    return (1 - t * t) * (6 * t * t - 2)


def _sigmoid3(x: float) -> float:
    # s′ = s(1 − s), s″ = s′(1 − 2s), s‴ = s″(1 − 2s) − 2s′² = s(1 − s)(1 − 6s + 6s²)
    s = 1.0 / (1.0 + math.exp(-x))
    return s * (1 - s) * (1 - 6 * s + 6 * s * s)


#: (name, f, f‴ by hand, interval of x).
THIRD_DERIVATIVES: list[tuple[str, Callable[[Any], Any], Callable[[float], float],
                              tuple[float, float]]] = [
    ("sin", lambda x: x.sin(), lambda x: -math.cos(x), (-BOUND, BOUND)),
    ("cos", lambda x: x.cos(), lambda x: math.sin(x), (-BOUND, BOUND)),
    ("exp(2x)", lambda x: (2 * x).exp(), lambda x: 8 * math.exp(2 * x), (-BOUND, BOUND)),
    ("x**4", lambda x: x**4, lambda x: 24 * x, (-BOUND, BOUND)),
    ("x**3", lambda x: x**3, lambda x: 6.0, (-BOUND, BOUND)),
    ("x*x*x*x*x", lambda x: x * x * x * x * x, lambda x: 60 * x * x, (-BOUND, BOUND)),
    ("x*sin(x)", lambda x: x * x.sin(),  # (sin + x cos)′ = 2cos − x sin; ′ = −3 sin − x cos
     lambda x: -3 * math.sin(x) - x * math.cos(x), (-BOUND, BOUND)),
    ("tanh", lambda x: x.tanh(), _tanh3, (-BOUND, BOUND)),
    ("sigmoid", lambda x: x.sigmoid(), _sigmoid3, (-BOUND, BOUND)),
    ("log", lambda x: x.log(), lambda x: 2 / x**3, (0.1, BOUND)),  # 1/x, −1/x², 2/x³
    ("1/x", lambda x: 1 / x, lambda x: -6 / x**4, (0.1, BOUND)),  # −1/x², 2/x³, −6/x⁴
    ("sqrt", lambda x: x.sqrt(),  # ½x^(−½), −¼x^(−3/2), ⅜x^(−5/2)
     lambda x: 0.375 * x**-2.5, (0.1, BOUND)),
    ("x**x", lambda x: x**x,  # (xˣ)′ = xˣ(ln x + 1); ″ = xˣ((ln x + 1)² + 1/x);
     lambda x: x**x * ((math.log(x) + 1) ** 3 + 3 * (math.log(x) + 1) / x - 1 / x**2),
     (0.1, BOUND)),  # ‴ = xˣ((ln x + 1)³ + 3(ln x + 1)/x − 1/x²)
]


def d_fwd(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The derivative of a function of one variable by forward mode."""
    return lambda x: jvp(f, (x,), (1.0,))[1]


def d3_by_backward(f: Callable[[Any], Any], x0: float) -> Any:
    """f‴ by backward(create_graph=True) twice and a plain backward(), zeroing x.grad between."""
    x = Value(x0)
    f(x).backward(create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward(create_graph=True)
    second = x.grad
    x.grad = 0.0
    second.backward()
    return x.grad


#: Closed forms are evaluated in floats by hand; the engine's chain of 3 × (a few) ops has a
#: relative error of a few dozen ulps, and near a zero of f‴ (tanh‴ at t² = 1/3) the cancelling
#: terms are at most ~10 in size, so 1e-12 absolute covers their rounding.
REL3 = 1e-10
ABS3 = 1e-12


@pytest.mark.parametrize(("name", "f", "d3", "interval"), THIRD_DERIVATIVES,
                         ids=[case[0] for case in THIRD_DERIVATIVES])
@settings(deadline=None, max_examples=50)
@given(data=st.data())
def test_third_derivatives_match_closed_forms(
    name: str, f: Callable[[Any], Any], d3: Callable[[float], float],
    interval: tuple[float, float], data: st.DataObject,
) -> None:
    x = data.draw(st.floats(*interval), label="x")
    want = d3(x)
    def by_backward(x0: float) -> Any:
        return d3_by_backward(f, x0)

    nestings: dict[str, Callable[[float], Any]] = {
        "grad(grad(grad(f)))": grad(grad(grad(f))),
        "jvp(jvp(jvp(f)))": d_fwd(d_fwd(d_fwd(f))),
        "grad(jvp(grad(f)))": grad(d_fwd(grad(f))),
        "jvp(grad(jvp(f)))": d_fwd(grad(d_fwd(f))),
        "backward(create_graph=True) ×2, backward()": by_backward,
    }
    for how, d in nestings.items():
        got = d(x)
        assert type(got) is float, (how, type(got).__name__)
        assert math.isclose(got, want, rel_tol=REL3, abs_tol=ABS3), (name, how, x, got, want)


# ---------------------------------------------------------------------------------------------
# 4. check_grads to order 2, both modes, on smooth programs
# ---------------------------------------------------------------------------------------------

#: check_grads compares against central differences with ε = 1e-6, whose rounding error is
#: about u · (size of the terms of the function differenced) / ε. At order 2 that function is a
#: first derivative, so its terms must stay well below atol · ε / u ≈ 1e-5 · 1e-6 / 1e-16 = 1e5
#: times a margin for the number of terms: 1e3 on every value, adjoint, tangent and local term.
CHECK_BOUND = 1e3


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_check_grads_to_second_order_on_smooth_programs(kind: str, data: st.DataObject) -> None:
    program, point = data.draw(programs_and_points(kind, ops=SMOOTH))
    screen_first_order(program, point, bound=CHECK_BOUND)
    screen_second_order(program, point, bound=CHECK_BOUND)
    assert check_grads(program, list(point), modes=("fwd", "rev"), order=2)


# ---------------------------------------------------------------------------------------------
# Regressions: a pow whose variable exponent is 0 at the point once lost its second
# derivatives (the partial y·x^(y−1) was short-circuited to the float 0 for any y = 0)
# ---------------------------------------------------------------------------------------------


def test_pow_with_a_variable_exponent_at_zero_second_derivative() -> None:
    # f = xʸ: ∂²f/∂x² = y(y − 1)x^(y−2), ∂²f/∂x∂y = x^(y−1)(1 + y ln x), ∂²f/∂y² = xʸ ln²x;
    # at (x, y) = (2, 0): [[0, 1/2], [1/2, ln²2]].
    want = [[0.0, 0.5], [0.5, math.log(2.0) ** 2]]
    got = hessian(lambda x, y: x**y)(2.0, 0.0)
    assert all(math.isclose(g, w, rel_tol=1e-12, abs_tol=1e-15)
               for gr, wr in zip(got, want, strict=True) for g, w in zip(gr, wr, strict=True)), got
    x, y = Value(2.0), Value(0.0)
    (x**y).backward(create_graph=True)
    dx = x.grad
    x.grad, y.grad = 0.0, 0.0
    if isinstance(dx, Value):
        dx.backward()
    assert math.isclose(y.grad, 0.5, rel_tol=1e-12), y.grad  # ∂/∂y of ∂f/∂x


def test_third_derivative_of_x_to_the_x_at_one() -> None:
    # (xˣ)‴ = xˣ((ln x + 1)³ + 3(ln x + 1)/x − 1/x²) = 1 + 3 − 1 = 3 at x = 1.
    # The inner x^(x−1) in ∂(xˣ)/∂x = x·x^(x−1) has exponent x − 1 = 0 at x = 1.
    assert grad(grad(grad(lambda x: x**x)))(1.0) == pytest.approx(3.0, rel=1e-12)
