"""assert_matches_sympy, point_issue and points on hand-picked cases: the three false failures
a property test met at (0, 0) before fair points existed, a Hessian that is wrong while the
gradient is right, and the messages for bad input.

Expected values are closed forms worked by hand in each test.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings

from autograd_mini import Value, primitive
from autograd_mini.rules import RULES, primal
from autograd_mini.testing import (
    Instruction,
    Program,
    SympyMismatchError,
    assert_matches_sympy,
    point_issue,
    sympy_derivatives,
)
from autograd_mini.testing.strategies import points

# -- the false failures at (0, 0) -----------------------------------------------------------

@pytest.mark.parametrize(("f", "why"), [
    (lambda x: x.sqrt(), "not finite"),                 # √x′ = 1/(2√x) is infinite at 0
    (lambda x: x ** x, "not finite"),                   # ∂/∂y xʸ = xʸ ln x has no value at 0
    (lambda x: x.relu(), "kink"),                       # relu′(0): 0 here, ½ for Heaviside
])
def test_the_points_that_once_failed_are_refused(f: object, why: str) -> None:
    problem = point_issue(f, [0.0])  # type: ignore[arg-type]
    assert problem is not None
    assert why in problem


@pytest.mark.parametrize(("f", "positive"), [
    (lambda x: x.sqrt(), True),
    (lambda x: x ** x, True),  # a negative base needs an integer exponent
    (lambda x: x.relu(), False),
])
def test_points_keeps_away_from_them(f: object, positive: bool) -> None:
    @settings(max_examples=300, deadline=None)
    @given(points(f, n_inputs=1))  # type: ignore[arg-type]
    def check(point: tuple[float, ...]) -> None:
        (x,) = point
        assert abs(x) > 1e-3
        assert x > 0 or not positive
        assert assert_matches_sympy(f, at=point)  # type: ignore[arg-type]

    check()


# -- order 2 ----------------------------------------------------------------------------------


@pytest.fixture
def cube_on_floats() -> Iterator[str]:
    """x³ whose partial 3x² is computed on floats only: right gradient, Hessian 0."""
    name = "t_oracle_cube"
    primitive(name, lambda x: x ** 3, [lambda x, out: 3 * primal(x) ** 2],
              sympy=lambda sp, x: x ** 3, check=False)
    yield name
    RULES.pop(name, None)


def test_a_wrong_hessian_is_caught_where_the_gradient_is_right(cube_on_floats: str) -> None:
    program = Program(1, (Instruction(cube_on_floats, (0,)),))
    assert assert_matches_sympy(program, at=(1.5,))  # order 1: 3x² = 6.75
    with pytest.raises(SympyMismatchError) as caught:
        assert_matches_sympy(program, at=(1.5,), order=2)
    rows = {name: (ours, theirs) for name, ours, theirs, _ in caught.value.rows}
    assert rows["∂²f/∂x0∂x0"] == (0.0, 9.0)  # 6x at 1.5
    assert "<-- mismatch" in str(caught.value)


def test_sympy_derivatives_are_the_closed_forms() -> None:
    value, gradient, hessian = sympy_derivatives(lambda x, y: x * y.exp(), [0.5, 2.0], order=2)
    e2 = math.exp(2.0)
    assert value == pytest.approx(0.5 * e2, rel=1e-15)
    assert gradient == pytest.approx([e2, 0.5 * e2], rel=1e-15)
    assert hessian == [pytest.approx([0.0, e2], rel=1e-15),
                       pytest.approx([e2, 0.5 * e2], rel=1e-15)]


def test_a_value_held_by_the_function_is_a_constant() -> None:
    w = Value(3.0, label="w")  # a parameter, not an input
    assert sympy_derivatives(lambda x: w * x * x, [2.0])[1] == [12.0]  # 2wx


# -- bad input ---------------------------------------------------------------------------------


def test_the_messages_name_the_problem() -> None:
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(x, y\), and the point has 1"):
        assert_matches_sympy(lambda x, y: x * y, at=(0.5,))
    with pytest.raises(TypeError, match="must return a Value, not float"):
        assert_matches_sympy(lambda x: 3.0, at=(0.5,))
    with pytest.raises(TypeError, match="at must be a point"):
        assert_matches_sympy(lambda x: x, at="ab")
    with pytest.raises(ValueError, match=r"relu\(x\) sits on its kink"):
        assert_matches_sympy(lambda x: x.relu(), at=(0.0,))
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        assert_matches_sympy(lambda x: x, at=(0.5,), order=3)
    with pytest.raises(ValueError, match="an engine of one's own is checked at order=1"):
        assert_matches_sympy(lambda x: x, at=(0.5,), order=2, engine=Value)


def test_a_pole_at_the_given_point_is_reported_not_compared() -> None:
    # d/dx x^½ = 1/(2√x) has no value at 0: sympy's number there is zoo
    with pytest.raises(ValueError, match=r"sympy's ∂f/∂x is not a finite real number at \(0\)"):
        assert_matches_sympy(lambda x: x ** 0.5, at=(0.0,))


def test_points_for_a_primitive_without_a_sympy_form() -> None:
    """points() checks sympy only where every op has a form: a primitive registered without
    one still gets fair points, screened by its domain."""
    name = "t_oracle_no_form"
    primitive(name, lambda x: math.log(x) ** 2, [lambda x, out: 2 * x.log() / x
                                                 if isinstance(x, Value) else
                                                 2 * math.log(x) / x],
              domain=lambda x: None if x > 0 else "needs x > 0", check=False)
    try:
        program = Program(1, (Instruction(name, (0,)),))

        @settings(max_examples=100, deadline=None)
        @given(points(program))
        def check(point: tuple[float, ...]) -> None:
            assert point[0] > 1e-3  # the domain's edge, by the margin

        check()
    finally:
        RULES.pop(name, None)


def test_the_closed_form_follows_a_re_registered_row() -> None:
    """sympy's compiled derivatives are cached by graph shape: a row registered again under
    the same name, with another form, must not meet the old one's cache entry."""
    name = "t_oracle_again"
    for form, slope in ((lambda sp, x: 2 * x, 2.0), (lambda sp, x: 3 * x, 3.0)):
        primitive(name, lambda x, k=slope: k * x, [lambda x, out, k=slope: k + 0 * x],
                  sympy=form, check=False)
        try:
            program = Program(1, (Instruction(name, (0,)),))
            assert sympy_derivatives(program, [0.5])[1] == [slope]
        finally:
            RULES.pop(name, None)


def test_without_sympy_the_error_names_the_check_and_the_fix(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_mini.testing import assert_matches_sympy, to_sympy

    monkeypatch.setitem(sys.modules, "sympy", None)  # what an environment without it gives
    with pytest.raises(ModuleNotFoundError, match=r"sympy_derivatives needs sympy.*pip install"):
        assert_matches_sympy(lambda x: x.sin(), at=[(0.5,)])
    with pytest.raises(ModuleNotFoundError, match=r"to_sympy needs sympy"):
        to_sympy(Value(1.0, label="x").exp())
