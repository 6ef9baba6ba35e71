"""The trace tables mark the rows that use a partial at a kink, and say which one was taken.

At a kink (relu or abs at 0, maximum or minimum at a tie) an op has no derivative; the
engine's partial there is a subgradient, a convention. Expected marks and notes are worked
out by hand below.
"""

from __future__ import annotations

from autograd_mini import Value, trace
from autograd_mini.anomaly import at_kink
from autograd_mini.tables import KINK


def test_relu_at_zero_marks_its_tangent_and_adjoint_rows() -> None:
    w = Value(0.0, label="w")
    r = w.relu()
    f = (r + 1) * w  # v₁ = relu(v₀) at v₀ = 0 is the only kink
    t = trace(f, wrt="w")
    assert t.kinks == [r]
    lines = str(t).splitlines()
    marked = [line for line in lines if line.rstrip().endswith(KINK)]
    # one tangent row (v̇₁ = v̇₀ · [v₀ > 0]) and one adjoint row (v̄₀ += v̄₁ · [v₀ > 0])
    assert len(marked) == 2
    assert all("[v₀ > 0]" in line for line in marked)
    note = " ".join(str(t).split("\n\n")[-1].split())  # the last block, unwrapped
    assert note.startswith(f"{KINK} v₁ = relu(v₀) is at a kink of relu (v₀ = 0)")
    assert "∂v₁/∂v₀ = 0 there" in note  # relu′(0) = 0, the subgradient the engine uses


def test_a_tie_of_maximum_gives_each_side_one_half() -> None:
    a, b = Value(2.0, label="a"), Value(2.0, label="b")
    t = trace(a.maximum(b) * a)
    text = t.to_text()
    assert "∂v₁/∂v₋₁ = 0.5, ∂v₁/∂v₀ = 0.5" in text  # ½ to each side of the tie a = b
    # both adjoint rows through maximum are marked, and no other row is
    marked = [line for line in text.splitlines() if line.rstrip().endswith(KINK)]
    assert len(marked) == 2
    assert all("[v₋₁ = v₀]" in line for line in marked)


def test_no_mark_away_from_kinks_and_marks_in_every_rendering() -> None:
    x = Value(0.5, label="x")
    t = trace(x.relu() * abs(x))
    assert t.kinks == []
    assert KINK not in t.to_text()
    assert KINK not in t.to_markdown()
    assert "ddagger" not in t.to_latex()
    assert KINK not in t._repr_html_()
    z = Value(0.0, label="z")
    k = trace(abs(z) * 3)
    assert KINK in k.to_markdown()
    assert r"\ddagger" in k.to_latex()
    assert KINK in k._repr_html_()
    assert "∂v₁/∂v₀ = 0 there" in k.to_text()  # abs′(0) = 0, the engine's subgradient


def test_at_kink_reads_the_rule_table() -> None:
    x = Value(0.0)
    assert at_kink(x.relu())
    assert at_kink(abs(x))
    assert at_kink(x.leaky_relu(0.1))
    assert at_kink(x.maximum(0.0))
    assert at_kink(x.minimum(x))
    assert not at_kink(x.exp())
    assert not at_kink(Value(1e-300).relu())
    assert not at_kink(x)  # an input has no op
