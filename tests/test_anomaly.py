"""Anomaly mode: ``autograd_mini.detect_anomaly``.

What is checked, each against numbers and line numbers worked out here, never read back from
the engine or from an error message:

* the site: while anomaly mode is on every op records the file, line, function and code of
  the user's line that made it (``site_of``); off, nothing is recorded (``_g`` stays unset);
* forward: the first op that makes ``nan`` from operands that are not ``nan`` (inf − inf,
  0 · inf), and with ``check_inf=True`` the first ``±inf`` from finite operands (exp(1000),
  1e308 · 10), raises :class:`AnomalyError` naming the op, its operands and the site; a ``nan``
  or an ``inf`` that came in as data does not;
* backward: the first share x̄ += ∂v/∂x · v̄ that is ``nan`` while v̄ is not (sqrt′(0) = inf
  times 0), the first infinite share from a finite adjoint (check_inf), and the first sum of
  two shares that goes wrong, naming the node, the partial, the adjoint and the site; a
  failed pass leaves every ``grad`` as it was;
* the error's attributes (phase, node, op, operands, site, partial, adjoint) and its message
  (op, operand labels and values, the partial, the line of code);
* finite computations report nothing and give normal mode's gradients, which are worked by
  hand;
* kinks: relu′(0) = 0, abs′(0) = 0, maximum and minimum at a tie ½ each, leaky_relu′(0) =
  slope; one KinkWarning per pass with ``warn_kinks=True``, at the user's line, none without;
  ``.kinks`` is reset when a block is entered again;
* the decorator forms, nesting with groups and with :mod:`autograd_mini.nn`, no_grad,
  threads, the function transforms, ``backward(create_graph=True)``, pickle and deepcopy.

Line numbers come from :func:`line_of`, which finds a marker comment ``# <name>`` in this
file's source.
"""

from __future__ import annotations

import copy
import math
import pickle
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

import autograd_mini as am
from autograd_mini import AnomalyError, KinkWarning, Site, Value, detect_anomaly, site_of
from autograd_mini._graph import topological_order
from autograd_mini.engine import AnomalyMode, Group, group, group_of, no_grad
from autograd_mini.nn import MLP

INF = float("inf")
NAN = float("nan")
HERE = Path(__file__).resolve()
_SOURCE = HERE.read_text(encoding="utf-8").splitlines()


def line_of(name: str) -> int:
    """The line number (1-based) of the one line of this file that ends with ``# <name>``."""
    tag = f"# <{name}>"
    found = [i for i, text in enumerate(_SOURCE, start=1) if text.rstrip().endswith(tag)]
    assert len(found) == 1, f"marker {tag} found {len(found)} times"
    return found[0]


def code_of(name: str) -> str:
    """The code on the marked line, without the marker comment, as a Site keeps it."""
    text = _SOURCE[line_of(name) - 1]
    return text[: text.index(f"# <{name}>")].strip()


def assert_site(site: Site | None, name: str, function: str) -> None:
    """``site`` is this file, at the line marked ``# <name>``, in ``function``."""
    assert site is not None
    assert Path(site.file).resolve() == HERE
    assert site.line == line_of(name)
    assert site.function == function
    assert site.where == f"{HERE.name}:{line_of(name)}"
    assert site.code.startswith(code_of(name))


def has_slot(v: Value) -> bool:
    """Whether the node's group slot ``_g`` holds anything (it is left unset by default)."""
    try:
        v._g  # noqa: B018
    except AttributeError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Off by default, and the sites recorded while on
# ---------------------------------------------------------------------------------------------


def test_off_by_default_records_nothing() -> None:
    x = Value(2.0, label="x")
    y = (x * x).exp()
    z = Value(INF) - Value(INF)  # nan, and nothing raises: no check is made
    for v in (y, y.parents[0], z):
        assert site_of(v) is None
        assert not has_slot(v)
    assert math.isnan(z.data)
    with group("g") as g:
        w = x + 1.0
    assert w._g is g  # a plain group, not a record carrying a site
    assert type(w._g) is Group


def test_nothing_recorded_after_the_block() -> None:
    x = Value(1.0)
    with detect_anomaly():
        inside = x * 2.0
    after = x * 2.0
    assert site_of(inside) is not None
    assert site_of(after) is None
    assert not has_slot(after)


def test_every_op_records_its_site() -> None:
    x = Value(2.0, label="x")
    with detect_anomaly():
        y = x * x  # <site-mul>
        z = am.exp(y)  # <site-primitive>
        w = am.total([y, z, x.tanh()])  # <site-total>
    assert_site(site_of(y), "site-mul", "test_every_op_records_its_site")
    assert_site(site_of(z), "site-primitive", "test_every_op_records_its_site")
    assert_site(site_of(w), "site-total", "test_every_op_records_its_site")
    assert_site(site_of(w.parents[2]), "site-total", "test_every_op_records_its_site")
    assert site_of(x) is None  # an input is the user's data, made by Value(...)
    assert not has_slot(x)
    site = site_of(y)
    assert site is not None
    assert str(site) == f"{HERE.name}:{line_of('site-mul')}, in {site.function}: {site.code}"


def _helper_that_builds(x: Value) -> Value:
    return x.sin() + 1.0  # <site-helper>


def test_site_is_the_innermost_frame_outside_the_package() -> None:
    x = Value(0.5)
    with detect_anomaly():
        y = _helper_that_builds(x)
    assert_site(site_of(y), "site-helper", "_helper_that_builds")
    assert_site(site_of(y.parents[0]), "site-helper", "_helper_that_builds")


def test_site_equality_and_where() -> None:
    a = Site("/some/dir/model.py", 42, "step", "loss = f(x)")
    b = Site("/some/dir/model.py", 42, "step", "")  # code is not part of identity
    assert a == b
    assert hash(a) == hash(b)
    assert a != Site("/some/dir/model.py", 43, "step", "loss = f(x)")
    assert a.where == "model.py:42"
    assert str(a) == "model.py:42, in step: loss = f(x)"
    assert str(b) == "model.py:42, in step"


# ---------------------------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------------------------


def test_forward_inf_minus_inf() -> None:
    a = Value(INF, label="a")
    b = Value(INF, label="b")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        a - b  # <fwd-sub>
    error = info.value
    assert isinstance(error, FloatingPointError)
    assert error.phase == "forward"
    assert error.op == "sub"
    assert error.operands == (INF, INF)
    assert error.node.op == "sub"
    assert math.isnan(error.node.data)  # inf − inf = nan
    assert error.partial is None
    assert error.adjoint is None
    assert_site(error.site, "fwd-sub", "test_forward_inf_minus_inf")
    text = str(error)
    assert text.startswith("forward: sub gave nan")
    assert "a − b with a = inf and b = inf" in text
    assert f"made at {HERE.name}:{line_of('fwd-sub')}, in test_forward_inf_minus_inf" in text
    assert code_of("fwd-sub") in text


def test_forward_zero_times_inf() -> None:
    x = Value(0.0, label="x")
    big = Value(INF, label="big")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        x * big  # <fwd-mul>
    error = info.value
    assert (error.op, error.operands) == ("mul", (0.0, INF))  # 0 · inf = nan
    assert_site(error.site, "fwd-mul", "test_forward_zero_times_inf")
    assert "x · big with x = 0.0 and big = inf" in str(error)


def test_forward_stops_at_the_first_nan_only() -> None:
    a = Value(INF, label="a")
    reached: list[Value] = []

    def build() -> None:
        d = a - a  # <fwd-first>
        reached.append(d)  # never reached: the error is raised where d is made

    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        build()
    assert_site(info.value.site, "fwd-first", "build")
    assert reached == []


def test_forward_nan_from_nan_input_does_not_raise() -> None:
    n = Value(NAN, label="n")
    w = Value(2.0, label="w")
    with detect_anomaly(check_inf=True) as mode:
        y = (n + 1.0) * w  # nan + 1 = nan, from a nan operand: data, not a new anomaly
        y.backward()  # ∂y/∂w = n + 1 = nan, a partial from a nan operand: data again
    assert math.isnan(y.data)
    assert n.grad == 2.0  # ∂y/∂n = w
    assert math.isnan(w.grad)
    assert mode.kinks == []


def test_forward_inf_is_not_checked_without_check_inf() -> None:
    x = Value(1000.0, label="x")
    with detect_anomaly():
        y = x.exp()  # e¹⁰⁰⁰ overflows to inf; only nan is an anomaly here
    assert y.data == INF


def test_forward_check_inf_exp() -> None:
    x = Value(1000.0, label="x")
    with detect_anomaly(check_inf=True):
        assert (x * 10).data == 10000.0  # finite: nothing to report
        with pytest.raises(AnomalyError) as info:
            x.exp()  # <fwd-exp>
    error = info.value
    assert (error.phase, error.op, error.operands) == ("forward", "exp", (1000.0,))
    assert error.node.data == INF  # e¹⁰⁰⁰ ≈ 10⁴³⁴ overflows
    assert_site(error.site, "fwd-exp", "test_forward_check_inf_exp")
    assert str(error).startswith("forward: exp gave inf from finite operands: exp(x) with "
                                 "x = 1000.0")


def test_forward_check_inf_overflowing_product() -> None:
    x = Value(1e308, label="x")
    with detect_anomaly(check_inf=True), pytest.raises(AnomalyError) as info:
        x * 10  # <fwd-overflow>
    error = info.value
    assert error.node.data == INF  # 10³⁰⁹ > the largest double, about 1.8·10³⁰⁸
    assert error.operands == (1e308, 10.0)
    assert_site(error.site, "fwd-overflow", "test_forward_check_inf_overflowing_product")
    assert "mul gave inf from finite operands: x · 10.0 with x = 1e+308" in str(error)
    y = Value(-1e308, label="y")
    with detect_anomaly(check_inf=True), pytest.raises(AnomalyError) as info:
        y * 10
    assert info.value.node.data == -INF
    assert "mul gave -inf from finite operands" in str(info.value)


def test_forward_check_inf_ignores_inf_that_came_in() -> None:
    big = Value(INF, label="big")
    with detect_anomaly(check_inf=True):
        y = big + 1.0  # inf + 1 = inf, from an infinite operand
    assert y.data == INF


# ---------------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------------


def test_backward_sqrt_at_zero_times_zero() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt() * 0.0  # <bwd-sqrt>
        with pytest.raises(AnomalyError) as info:
            y.backward()
    # ȳ = 1; the adjoint of sqrt(x) is ∂(s · 0)/∂s · 1 = 0; its share to x is
    # sqrt′(0) · 0 = inf · 0 = nan, while that adjoint, 0, is not nan
    error = info.value
    assert error.phase == "backward"
    assert error.op == "sqrt"
    assert error.node is y.parents[0]
    assert error.operands == (0.0,)
    assert error.partial == INF
    assert error.adjoint == 0.0
    assert_site(error.site, "bwd-sqrt", "test_backward_sqrt_at_zero_times_zero")
    text = str(error)
    assert text.startswith("backward: the adjoint of x (an input) became nan at sqrt(x)")
    assert "sqrt′(0.0) = inf" in text
    assert "times the adjoint of sqrt(x), 0.0, is nan" in text
    assert code_of("bwd-sqrt") in text
    assert f"{HERE.name}:{line_of('bwd-sqrt')}" in text


def test_backward_binary_partial_names_the_operand() -> None:
    big = Value(INF, label="big")
    w = Value(2.0, label="w")
    with detect_anomaly():
        p = big * w  # <bwd-binary>
        y = p.minimum(1.0)  # min(inf, 1) = 1, so the adjoint of p is 0
        with pytest.raises(AnomalyError) as info:
            y.backward()
    # the share to w is ∂(big · w)/∂w · 0 = big · 0 = inf · 0 = nan
    error = info.value
    assert (error.phase, error.op, error.node) == ("backward", "mul", p)
    assert (error.partial, error.adjoint) == (INF, 0.0)
    assert_site(error.site, "bwd-binary", "test_backward_binary_partial_names_the_operand")
    text = str(error)
    assert "the adjoint of w (an input) became nan at big · w with big = inf and w = 2.0" in text
    assert "∂(big · w)/∂w = inf" in text


def test_backward_check_inf_infinite_share_from_finite_adjoint() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly(check_inf=True):
        y = x.sqrt()  # <bwd-inf>
        with pytest.raises(AnomalyError) as info:
            y.backward()  # sqrt′(0) · 1 = inf
    error = info.value
    assert (error.phase, error.partial, error.adjoint) == ("backward", INF, 1.0)
    assert_site(error.site, "bwd-inf", "test_backward_check_inf_infinite_share_from_finite_adjoint")
    assert "became inf at sqrt(x) with x = 0.0" in str(error)
    with detect_anomaly():  # without check_inf the same pass is not an anomaly
        x.sqrt().backward()
    assert x.grad == INF


def test_backward_check_inf_sum_of_two_finite_shares() -> None:
    x = Value(1.0, label="x")
    with detect_anomaly(check_inf=True):
        y = x + x  # <bwd-sum-inf>
        with pytest.raises(AnomalyError) as info:
            y.backward(1e308)  # each share is 1e308, finite; their sum 2·10³⁰⁸ is inf
    error = info.value
    assert error.phase == "backward"
    assert error.node is y
    assert error.adjoint == 1e308  # the second share
    assert error.partial is None
    assert_site(error.site, "bwd-sum-inf", "test_backward_check_inf_sum_of_two_finite_shares")
    text = str(error)
    assert "the adjoint of x (an input) became inf when two of its shares were added" in text
    assert "1e+308 + 1e+308" in text


def test_backward_sum_of_opposite_infinite_shares_is_nan() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt() - x.sqrt()  # <bwd-sum-nan>
        # shares to x: sqrt′(0) · 1 = inf and sqrt′(0) · (−1) = −inf; inf + (−inf) = nan
        with pytest.raises(AnomalyError) as info:
            y.backward()
    assert info.value.phase == "backward"
    assert_site(info.value.site, "bwd-sum-nan",
                "test_backward_sum_of_opposite_infinite_shares_is_nan")
    text = str(info.value)
    assert "the adjoint of x (an input) became nan when two of its shares were added" in text
    assert "-inf + inf" in text  # reverse topological order: the second sqrt's share first
    assert "check_inf=True" in text  # two infinities cancelled: the hint says how to stop first
    assert x.grad == 0.0  # the failed pass wrote nothing


def test_backward_nan_seed_is_not_an_anomaly() -> None:
    x = Value(3.0, label="x")
    with detect_anomaly():
        (x * 2.0).backward(NAN)  # the seed is data: nan · 2 = nan, not made by the pass
    assert math.isnan(x.grad)


def test_failed_backward_leaves_grads_as_they_were() -> None:
    x = Value(0.0, label="x")
    (x * 3.0).backward()  # x̄ = 3
    with detect_anomaly(), pytest.raises(AnomalyError):
        (x.sqrt() * 0.0 + x * 5.0).backward()
    assert x.grad == 3.0


# ---------------------------------------------------------------------------------------------
# Finite computations: nothing reported, normal mode's gradients
# ---------------------------------------------------------------------------------------------


def _f(x: Value, y: Value) -> Value:
    # u = xy;  f = u² + relu(u) + x/y + log x
    u = x * y
    return u * u + u.relu() + x / y + x.log()


def test_finite_computation_matches_normal_mode_and_hand() -> None:
    # at x = 2, y = 4: u = 8 > 0, f = 64 + 8 + 0.5 + ln 2
    # ∂f/∂x = (2u + 1)·y + 1/y + 1/x = 17·4 + 0.25 + 0.5 = 68.75
    # ∂f/∂y = (2u + 1)·x − x/y² = 17·2 − 2/16 = 33.875
    grads = []
    for anomaly in (False, True):
        x, y = Value(2.0, label="x"), Value(4.0, label="y")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if anomaly:
                with detect_anomaly(check_inf=True, warn_kinks=True) as mode:
                    f = _f(x, y)
                    f.backward()
                assert mode.kinks == []
            else:
                f = _f(x, y)
                f.backward()
        assert f.data == 64.0 + 8.0 + 0.5 + math.log(2.0)
        grads.append((x.grad, y.grad))
    assert grads == [(68.75, 33.875), (68.75, 33.875)]


def test_finite_interior_grads_match_normal_mode() -> None:
    # f = (x·x)·3 at x = 5: ∂f/∂(x·x) = 3, ∂f/∂x = 6x = 30; interior grads are written too
    results = []
    for anomaly in (False, True):
        x = Value(5.0)
        if anomaly:
            with detect_anomaly():
                sq = x * x
                f = sq * 3.0
                f.backward()
        else:
            sq = x * x
            f = sq * 3.0
            f.backward()
        results.append((x.grad, sq.grad, f.grad))
    assert results == [(30.0, 3.0, 1.0), (30.0, 3.0, 1.0)]


def test_grads_accumulate_across_passes_in_anomaly_mode() -> None:
    x = Value(3.0)
    with detect_anomaly():
        y = x * x  # ∂y/∂x = 2x = 6 per pass
        y.backward()
        y.backward()
    assert x.grad == 12.0


# ---------------------------------------------------------------------------------------------
# Kinks
# ---------------------------------------------------------------------------------------------


def test_kinks_counted_with_their_partials() -> None:
    x = Value(0.0, label="x")
    a = Value(2.0, label="a")
    b = Value(2.0, label="b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warn_kinks is off: no warning
        with detect_anomaly() as mode:
            first = x.relu() + abs(x) + a.maximum(b)  # <kinks>
            y = first + x.leaky_relu(0.2) + a.minimum(b) + x.leaky_relu()  # <kinks-2>
            y.backward()
    by_op = {k.op: k for k in mode.kinks}
    assert len(mode.kinks) == 6
    assert sorted(k.op for k in mode.kinks) == sorted(
        ["relu", "abs", "maximum", "minimum", "leaky_relu", "leaky_relu"])
    assert by_op["relu"].partials == (0.0,)  # relu′(0) = 0
    assert by_op["abs"].partials == (0.0,)  # abs′(0) = sign(0) = 0
    assert by_op["maximum"].partials == (0.5, 0.5)  # a tie: half each
    assert by_op["minimum"].partials == (0.5, 0.5)
    assert by_op["maximum"].operands == (2.0, 2.0)
    leaky = sorted(k.partials for k in mode.kinks if k.op == "leaky_relu")
    # ∂/∂x = slope at x = 0 (0.01 by default, or 0.2), ∂/∂slope = x = 0
    assert leaky == [(0.01, 0.0), (0.2, 0.0)]
    for k in mode.kinks:
        marker = "kinks" if k.op in ("relu", "abs", "maximum") else "kinks-2"
        assert_site(k.site, marker, "test_kinks_counted_with_their_partials")
        assert not hasattr(k, "node")  # a kink keeps no graph alive
    # the gradients use the same partials: x̄ = 0 + 0 + 0.2 + 0.01; ā = b̄ = ½ + ½
    assert x.grad == 0.2 + 0.01
    assert (a.grad, b.grad) == (1.0, 1.0)
    relu = by_op["relu"]
    assert str(relu) == (f"relu(x) with x = 0.0 (made at {HERE.name}:{line_of('kinks')}) "
                         "used relu′(0.0) = 0.0")


def test_no_kink_off_the_kink() -> None:
    x = Value(-1.0)
    a, b = Value(1.0), Value(2.0)
    with detect_anomaly(warn_kinks=True) as mode:
        (x.relu() + abs(x) + a.maximum(b) + x.leaky_relu()).backward()
    assert mode.kinks == []


def test_kink_warning_once_per_pass_at_the_users_line() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly(warn_kinks=True) as mode:
        y = x.relu() + abs(x)  # two kinks, one pass
        with pytest.warns(KinkWarning) as record:
            y.backward()  # <kink-warn>
    assert len(record) == 1
    warning = record[0]
    assert Path(warning.filename).resolve() == HERE
    assert warning.lineno == line_of("kink-warn")
    message = str(warning.message)
    assert message.startswith("backward met 2 nodes exactly at a kink, where a subgradient "
                              "was used")
    assert "relu′(0.0) = 0.0" in message
    assert "abs′(0.0) = 0.0" in message
    assert len(mode.kinks) == 2


def test_kink_warning_each_pass_and_more_than_three() -> None:
    x = Value(0.0, label="x")
    with detect_anomaly(warn_kinks=True) as mode:
        y = am.total([x.relu() for _ in range(5)])
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            y.backward()  # <kink-pass-1>
            y.backward()  # <kink-pass-2>
    kinds = [w for w in record if issubclass(w.category, KinkWarning)]
    assert [w.lineno for w in kinds] == [line_of("kink-pass-1"), line_of("kink-pass-2")]
    assert "met 5 nodes" in str(kinds[0].message)
    assert "; and 2 more" in str(kinds[0].message)  # three are shown
    assert len(mode.kinks) == 10  # both passes' kinks are kept


def test_kinks_reset_on_reentry_only_at_the_outermost() -> None:
    mode = detect_anomaly()
    x = Value(0.0)
    with mode:
        x.relu().backward()
        assert len(mode.kinks) == 1
        with mode:  # nested entry: the list is kept
            assert len(mode.kinks) == 1
            x.relu().backward()
        assert len(mode.kinks) == 2
    assert len(mode.kinks) == 2  # kept after the block, for the user to read
    with mode:  # a new outermost entry starts afresh
        assert mode.kinks == []
    assert repr(mode) == "detect_anomaly(check_inf=False, warn_kinks=False): 0 kinks"


# ---------------------------------------------------------------------------------------------
# The decorator forms and the arguments
# ---------------------------------------------------------------------------------------------


@detect_anomaly
def _plain(a: Value) -> Value:
    return a - a  # <deco-plain>


@detect_anomaly(check_inf=True)
def _with_inf(a: Value) -> Value:
    return a.exp()  # <deco-inf>


@detect_anomaly(warn_kinks=True)
def _with_kinks(a: Value) -> Value:
    y = a.relu()
    y.backward()  # <deco-kinks>
    return y


def test_decorator_plain() -> None:
    assert _plain.__name__ == "_plain"
    assert _plain(Value(1.0)).data == 0.0
    with pytest.raises(AnomalyError) as info:
        _plain(Value(INF))
    assert_site(info.value.site, "deco-plain", "_plain")
    assert info.value.operands == (INF, INF)
    # the decorator leaves anomaly mode when the function returns
    assert site_of(Value(1.0) * 2.0) is None


def test_decorator_with_check_inf() -> None:
    assert _with_inf(Value(0.0)).data == 1.0  # e⁰
    with pytest.raises(AnomalyError) as info:
        _with_inf(Value(1000.0))
    assert_site(info.value.site, "deco-inf", "_with_inf")
    assert _plain(Value(5.0)).data == 0.0  # plain decorator: check_inf is off


def test_decorator_with_warn_kinks() -> None:
    x = Value(0.0)
    with pytest.warns(KinkWarning) as record:
        _with_kinks(x)
    assert record[0].lineno == line_of("deco-kinks")
    assert x.grad == 0.0  # relu′(0) = 0


def test_detect_anomaly_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="by name"):
        detect_anomaly(True)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="True or False"):
        detect_anomaly(check_inf=1)  # type: ignore[call-overload]
    assert isinstance(detect_anomaly(), AnomalyMode)


# ---------------------------------------------------------------------------------------------
# Groups, nn and no_grad
# ---------------------------------------------------------------------------------------------


def test_group_outside_anomaly_mode() -> None:
    x = Value(2.0)
    with group("outer") as g, detect_anomaly():
        y = x * x  # <grp-outside>
    assert group_of(y) is g
    assert_site(site_of(y), "grp-outside", "test_group_outside_anomaly_mode")


def test_group_inside_anomaly_mode_nests() -> None:
    x = Value(2.0)
    with detect_anomaly():
        with group("h") as h:
            z = x * 3.0  # <grp-h>
            with group("inner") as inner:
                w = z + 1.0  # <grp-inner>
        after = w * 2.0  # <grp-none>
    assert group_of(z) is h
    assert group_of(w) is inner
    assert inner.parent is h
    assert group_of(after) is None
    assert_site(site_of(z), "grp-h", "test_group_inside_anomaly_mode_nests")
    assert_site(site_of(w), "grp-inner", "test_group_inside_anomaly_mode_nests")
    assert_site(site_of(after), "grp-none", "test_group_inside_anomaly_mode_nests")


def test_nn_nodes_keep_their_neuron_group_and_get_the_callers_site() -> None:
    model = MLP(2, [2, 1], activation="relu", output="linear", seed=0)
    # hidden neuron 1: w = (1, 1), b = 0; hidden neuron 2: w = (1, −1), b = 0;
    # output: w = (2, 3), b = 1
    values = [1.0, 1.0, 0.0, 1.0, -1.0, 0.0, 2.0, 3.0, 1.0]
    for p, v in zip(model.parameters(), values, strict=True):
        p.data = v
    # at (2, 3): z₁ = 5, a₁ = 5; z₂ = −1, a₂ = 0; out = 2·5 + 3·0 + 1 = 11
    # ∂out/∂(output w) = (a₁, a₂) = (5, 0), ∂out/∂(output b) = 1;
    # ∂out/∂(w of neuron 1) = 2·(2, 3) = (4, 6), ∂/∂b₁ = 2; neuron 2 is off: zeros
    expected = [4.0, 6.0, 2.0, 0.0, 0.0, 0.0, 5.0, 0.0, 1.0]
    with group("user") as user, detect_anomaly():
        out = model([2.0, 3.0])[0]  # <nn-call>
        out.backward()
    assert out.data == 11.0
    assert [p.grad for p in model.parameters()] == expected
    interior = [n for n in topological_order(out) if n.op not in (None, "const")]
    assert {n.op for n in interior} == {"dot", "relu"}
    for node in interior:
        g = group_of(node)
        assert g is not None
        assert g.kind == "neuron"
        assert g is not user
        assert_site(site_of(node),
                    "nn-call", "test_nn_nodes_keep_their_neuron_group_and_get_the_callers_site")
    assert group_of(out) is model.layers[1].neurons[0].group
    # the same model in normal mode: the same gradients, groups, and no sites
    model.zero_grad()
    plain = model([2.0, 3.0])[0]
    plain.backward()
    assert [p.grad for p in model.parameters()] == expected
    assert group_of(plain) is model.layers[1].neurons[0].group
    assert site_of(plain) is None


def test_no_grad_inside_anomaly_mode_records_and_checks_nothing() -> None:
    big = Value(INF)
    with detect_anomaly(check_inf=True):
        with no_grad():
            q = big - big  # nan, but nothing is recorded or checked under no_grad
            r = Value(1000.0).exp()
        s = Value(3.0) * 2.0  # <ng-after>
    for v in (q, r):
        assert v.op is None
        assert site_of(v) is None
        assert not has_slot(v)
    assert math.isnan(q.data)
    assert r.data == INF
    assert_site(site_of(s), "ng-after",
                "test_no_grad_inside_anomaly_mode_records_and_checks_nothing")


def test_anomaly_mode_entered_inside_no_grad_records_nothing() -> None:
    with no_grad(), detect_anomaly():
        q = Value(INF) - Value(INF)
    assert site_of(q) is None
    assert not has_slot(q)


# ---------------------------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------------------------


def test_anomaly_mode_does_not_cross_threads() -> None:
    entered = threading.Event()
    built = threading.Event()
    seen: dict[str, Any] = {}

    def worker() -> None:
        with detect_anomaly():
            entered.set()
            seen["own"] = site_of(Value(1.0) * 2.0)
            built.wait(5.0)
            try:
                Value(INF) - Value(INF)
            except AnomalyError:
                seen["raised"] = True

    thread = threading.Thread(target=worker)
    thread.start()
    assert entered.wait(5.0)
    # the worker is inside its block now; this thread is not
    mine = Value(INF) - Value(INF)  # nan, and no error here
    built.set()
    thread.join(5.0)
    assert math.isnan(mine.data)
    assert site_of(mine) is None
    assert not has_slot(mine)
    assert seen["own"] is not None
    assert seen.get("raised") is True

    # and the other way round: this thread's block does not reach a worker's ops
    result: dict[str, Any] = {}
    go = threading.Event()

    def plain_worker() -> None:
        go.wait(5.0)
        v = Value(INF) - Value(INF)
        result["site"] = site_of(v)
        result["slot"] = has_slot(v)

    other = threading.Thread(target=plain_worker)
    other.start()
    with detect_anomaly():
        go.set()
        other.join(5.0)
    assert result == {"site": None, "slot": False}


# ---------------------------------------------------------------------------------------------
# Function transforms and create_graph
# ---------------------------------------------------------------------------------------------


def _nan_in_backward(t: Any) -> Any:
    return t.sqrt() * 0.0  # <tf-sqrt>


def _cube(t: Any) -> Any:
    return t * t * t  # <tf-cube>


def test_transforms_finite_match_hand() -> None:
    with detect_anomaly(check_inf=True) as mode:
        assert am.grad(_cube)(2.0) == 12.0  # 3t² at 2
        assert am.value_and_grad(lambda t: t * t)(3.0) == (9.0, 6.0)  # (t², 2t)
        assert am.jvp(lambda t, u: t * u, (2.0, 5.0), (1.0, 0.0)) == (10.0, 5.0)  # ∂(tu)/∂t = u
    assert mode.kinks == []


def test_transform_nodes_get_sites() -> None:
    seen: list[Site | None] = []

    def f(t: Any) -> Any:
        y = _cube(t)
        seen.append(site_of(y))
        return y

    with detect_anomaly():
        am.grad(f)(2.0)
    assert_site(seen[0], "tf-cube", "_cube")
    am.grad(f)(2.0)  # outside: no site
    assert seen[1] is None


def test_grad_transform_checks_its_reverse_sweep() -> None:
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        am.grad(_nan_in_backward)(0.0)  # sqrt′(0) · 0 = inf · 0 = nan
    error = info.value
    assert (error.phase, error.op, error.partial, error.adjoint) == ("backward", "sqrt", INF, 0.0)
    assert_site(error.site, "tf-sqrt", "_nan_in_backward")
    assert "sqrt′(0.0) = inf" in str(error)
    assert am.grad(_nan_in_backward)(1.0) == 0.0  # ½ · 0 = 0 away from 0; and off, no check


def test_value_and_grad_checks_forward() -> None:
    with detect_anomaly(check_inf=True), pytest.raises(AnomalyError) as info:
        am.value_and_grad(lambda t: t.exp() * 2.0)(1000.0)  # <tf-vag>
    assert info.value.op == "exp"
    assert info.value.site is not None
    assert info.value.site.line == line_of("tf-vag")


def test_jvp_checks_forward() -> None:
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        am.jvp(lambda t: t - t * INF, (INF,), (1.0,))  # <tf-jvp>
    # t · inf = inf; t − inf = inf − inf = nan
    assert (info.value.op, info.value.operands) == ("sub", (INF, INF))
    assert info.value.site is not None
    assert info.value.site.line == line_of("tf-jvp")


def test_kinks_in_a_transform_warn_at_the_callers_line() -> None:
    with detect_anomaly(warn_kinks=True) as mode, pytest.warns(KinkWarning) as record:
        assert am.grad(lambda t: t.relu())(0.0) == 0.0  # <tf-kink>
    assert record[0].lineno == line_of("tf-kink")
    assert [k.partials for k in mode.kinks] == [(0.0,)]


def test_create_graph_finite() -> None:
    x = Value(3.0, label="x")
    with detect_anomaly(check_inf=True):
        y = x**3
        y.backward(create_graph=True)  # <cg-backward>
        g = x.grad  # 3x² = 27, a Value
        assert isinstance(g, Value)
        assert g.data == 27.0
        assert_site(site_of(g), "cg-backward", "test_create_graph_finite")
        x.zero_grad()
        g.backward()  # d(3x²)/dx = 6x = 18
    assert x.grad == 18.0
    # the same in normal mode
    x2 = Value(3.0)
    (x2**3).backward(create_graph=True)
    g2 = x2.grad
    x2.zero_grad()
    g2.backward()
    assert (g2.data, x2.grad) == (27.0, 18.0)


def test_create_graph_checks() -> None:
    x = Value(1000.0, label="x")
    with detect_anomaly():
        y = x.exp().minimum(1.0)  # e¹⁰⁰⁰ = inf; min(inf, 1) = 1
        with pytest.raises(AnomalyError):
            # the adjoint of exp(x) is 0; its share to x is exp′(1000) · 0 = inf · 0 = nan
            y.backward(create_graph=True)
    assert x.grad == 0.0  # the failed pass wrote nothing


def test_create_graph_error_is_a_backward_error() -> None:
    x = Value(1000.0, label="x")
    with detect_anomaly():
        y = x.exp().minimum(1.0)  # <cg-exp>
        with pytest.raises(AnomalyError) as info:
            y.backward(create_graph=True)
    error = info.value
    assert (error.phase, error.op) == ("backward", "exp")
    assert error.partial == INF
    assert_site(error.site, "cg-exp", "test_create_graph_error_is_a_backward_error")


# ---------------------------------------------------------------------------------------------
# Pickle and deepcopy
# ---------------------------------------------------------------------------------------------


def test_pickle_and_deepcopy_keep_sites_and_groups() -> None:
    # y = sin(x²) at x = 2: ∂y/∂x = 2x · cos(x²) = 4 cos 4
    x = Value(2.0, label="x")
    with group("G"), detect_anomaly():
        y = (x * x).sin()  # <pickle>
    for copied in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert copied is not y
        for node in (copied, copied.parents[0]):
            site = site_of(node)
            assert_site(site, "pickle", "test_pickle_and_deepcopy_keep_sites_and_groups")
            g = group_of(node)
            assert g is not None
            assert g.name == "G"
        copied.backward()
        x_copy = copied.parents[0].parents[0]
        assert x_copy is not x
        assert x_copy.label == "x"
        assert x_copy.grad == 4.0 * math.cos(4.0)
    y.backward()
    assert x.grad == 4.0 * math.cos(4.0)


def test_error_is_a_floating_point_error_and_reads_in_a_traceback() -> None:
    x = Value(INF, label="x")
    with pytest.raises(FloatingPointError, match=r"forward: sub gave nan: x − x"), \
            detect_anomaly():
        x - x


# ---------------------------------------------------------------------------------------------
# Messages: one name per operand, and where an infinite operand was made
# ---------------------------------------------------------------------------------------------


def test_an_operand_read_twice_has_one_name_and_an_infinite_one_says_where_it_was_made() -> None:
    t = Value(1000.0)
    with detect_anomaly():
        e = t.exp()  # <msg-exp>
        with pytest.raises(AnomalyError) as info:
            e - e  # <msg-sub>
    text = str(info.value)
    # exp(1000) overflows to inf; inf − inf = nan, and the inf came from the line above
    assert "exp(…) − exp(…) with exp(…) = inf (" in text  # t is unlabelled: "…"
    assert text.count("exp(…) = inf") == 1
    assert f"exp(…) was made at {HERE.name}:{line_of('msg-exp')}" in text
    assert_site(info.value.site, "msg-sub",
                "test_an_operand_read_twice_has_one_name_and_an_infinite_one_says_where_it_was_made")


def test_a_picture_shows_where_each_op_was_made_on_hover() -> None:
    x = Value(2.0, label="x")
    with detect_anomaly():
        y = (x * x).exp()  # <picture>
    source = am.draw(y).source
    where = f"made at {HERE.name}:{line_of('picture')}, in test_a_picture_shows"
    assert source.count(f'tooltip="{where}') == 2  # the product and the exp
    assert "tooltip" not in am.draw((x * x).exp()).source  # built with anomaly mode off


def test_forward_mode_checks_each_term_of_a_tangent() -> None:
    # d/dt log(1 + eᵗ) at t = 1000: the tangent of 1 + eᵗ is eᵗ · 1 = inf, and log′(inf) = 0
    # times it is 0 · inf = nan: the first tangent that is nan, in the log
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        am.jvp(lambda t: (1 + t.exp()).log(), (1000.0,), (1.0,))  # <jvp-log>
    error = info.value
    assert (error.phase, error.op) == ("tangent", "log")
    assert (error.partial, error.adjoint) == (0.0, INF)
    assert str(error).startswith("forward mode: the tangent of log(")
    assert "log′(inf) = 0.0, times the tangent of" in str(error)
    assert error.site is not None
    assert error.site.line == line_of("jvp-log")
    # with check_inf the first infinite term stops it earlier, in exp: exp′(1000) · 1 = inf
    with detect_anomaly(check_inf=True), pytest.raises(AnomalyError) as info:
        am.jvp(lambda t: (1 + t.exp()).log(), (1000.0,), (1.0,))
    assert info.value.op == "exp"  # the forward check: exp(1000) = inf from a finite 1000
    # a finite jvp reports nothing and agrees with the closed form σ(t) = 1/(1 + e^−t)
    with detect_anomaly():
        _, tangent = am.jvp(lambda t: (1 + t.exp()).log(), (0.5,), (1.0,))
    assert tangent == pytest.approx(1 / (1 + math.exp(-0.5)), rel=1e-15)


def test_a_long_run_keeps_a_bounded_list_of_kinks_and_no_graph() -> None:
    from autograd_mini.anomaly import MAX_KINKS

    w = Value(0.0, label="w")
    with detect_anomaly() as mode:
        for _ in range(30):
            total = am.total([w.relu() for _ in range(50)])  # 50 kinks per pass
            total.backward()
    assert mode.kink_count == 30 * 50
    assert len(mode.kinks) == min(MAX_KINKS, 30 * 50)
    assert w.grad == 0.0  # relu′(0) = 0, 1500 times


def test_transforms_and_create_graph_nodes_belong_to_no_group() -> None:
    x = Value(3.0, label="x")
    with group("G"):
        (x * x * x).backward(create_graph=True)  # x̄ = 3x² = 27, built by the pass
        d = am.grad(lambda t: t * t)(x)  # 2x = 6, built by the transform
    assert (x.grad.data, d.data) == (27.0, 6.0)
    assert group_of(x.grad) is None
    assert group_of(d) is None


def test_one_block_shared_by_asyncio_tasks_and_an_async_decorated_function() -> None:
    import asyncio

    mode = detect_anomaly()
    seen: list[bool] = []

    async def task(delay: float) -> None:
        with mode:
            await asyncio.sleep(delay)  # the other task enters and leaves meanwhile
            seen.append(am.anomaly.current.get() is mode)
        seen.append(am.anomaly.current.get() is None)

    async def both() -> None:
        await asyncio.gather(task(0.0), task(0.02))  # the first in leaves first

    asyncio.run(both())
    assert seen == [True, True, True, True]

    @detect_anomaly
    async def f() -> None:
        x = Value(0.0)
        (x.sqrt() * 0.0).backward()  # sqrt′(0)·0 = inf·0 = nan

    with pytest.raises(AnomalyError, match="sqrt′"):
        asyncio.run(f())


def test_a_group_block_shared_by_asyncio_tasks() -> None:
    import asyncio

    scope = group("shared")
    x = Value(2.0)
    made: list[Value] = []

    async def task(delay: float) -> None:
        with scope:
            await asyncio.sleep(delay)
            made.append(x * x)
        made.append(x + x)

    async def both() -> None:
        await asyncio.gather(task(0.0), task(0.02))  # the first in leaves first

    asyncio.run(both())
    inside = [v for v in made if v.op == "mul"]
    outside = [v for v in made if v.op == "add"]
    assert [group_of(v).name for v in inside] == ["shared", "shared"]  # type: ignore[union-attr]
    assert [group_of(v) for v in outside] == [None, None]


def test_operands_that_read_alike_get_letters_and_errors_pickle() -> None:
    p, q = Value(1.0, label="p"), Value(2.0, label="q")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        (p * 0.0 * 10.0) * (q * 1e308 * 10.0)  # 0 · inf = nan; both factors read "… · 10.0"
    text = str(info.value)
    assert "x · y with x = 0.0 and y = inf" in text
    copy_of = pickle.loads(pickle.dumps(info.value))
    assert type(copy_of) is AnomalyError
    assert str(copy_of) == text
    assert (copy_of.phase, copy_of.op, copy_of.operands) == ("forward", "mul", (0.0, INF))
    assert copy_of.site == info.value.site
    assert copy_of.node is None  # the graph is not pickled with the error
    with pytest.raises(am.DomainError) as domain:
        Value(-1.0, label="a").log()
    again = pickle.loads(pickle.dumps(domain.value))
    assert (str(again), again.op, again.operands, again.labels) == (
        "log: log is defined only for x > 0: log(a) with a = -1.0", "log", (-1.0,), ("a",))
