"""``explain``: an MLP's node-level adjoints beside the layer-wise backprop equations.

For one sample, the engine builds the graph of the loss and runs ``backward()``; every neuron
then holds its z and a, and ``z.grad`` is δ = ∂C/∂z. The closed form of
:mod:`autograd_mini.backprop` computes, with plain floats, the same z^l, a^l, δ^L, the δ^l
recursion, ∂C/∂W^l = δ^l (a^{l−1})ᵀ and ∂C/∂b^l = δ^l. The report sets them side by side, one
row per layer l, neuron j and input k, with the largest absolute difference.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .backprop import LayerParams, backprop
from .diagram import NetworkDiagram
from .engine import Value
from .losses import Loss, get
from .nn import MLP

__all__ = ["Report", "Row", "explain"]


@dataclass(frozen=True)
class Row:
    """Layer ``l``, neuron ``j``, input ``k`` (from 1): each quantity as (engine, closed form)."""

    l: int  # noqa: E741 (the maths' name)
    j: int
    k: int
    z: tuple[float, float]
    a: tuple[float, float]
    delta: tuple[float, float]
    dW: tuple[float, float]  # noqa: N815 (the maths' name)
    db: tuple[float, float]

    def max_abs_diff(self) -> float:
        """The largest |engine − closed form| over the row's quantities."""
        return max(abs(e - c) for e, c in (self.z, self.a, self.delta, self.dW, self.db))


class Report:
    """The rows, the loss (engine and closed form) and ``max_abs_diff``; prints as a table
    and shows as HTML in Jupyter. ``cost`` is the engine's loss node, whose graph
    :func:`autograd_mini.draw` pictures (``collapse="neuron"`` folds each neuron into a box),
    and :meth:`draw` shows the same z, a and δ on the network diagram."""

    def __init__(self, model: MLP, loss_name: str, rows: list[Row],
                 loss: tuple[float, float], cost: Value | None = None,
                 sample: tuple[Sequence[float], Sequence[float], str | Loss] | None = None,
                 ) -> None:
        self.model = model
        self.cost = cost
        self.sample = sample
        self.loss_name = loss_name
        self.rows = rows
        self.loss = loss
        self.max_abs_diff = max([abs(loss[0] - loss[1]), *(r.max_abs_diff() for r in rows)])

    _HEAD = ("l", "j", "k", "z", "a", "δ engine", "δ closed", "∂C/∂W engine", "∂C/∂W closed",
             "∂C/∂b engine", "∂C/∂b closed")

    def _cells(self, r: Row) -> list[str]:
        """A row's cells; a neuron's z, a, δ and ∂C/∂b are written on its first row (k = 1)
        only, since they do not depend on the input k."""
        weight = [str(r.l), str(r.j), str(r.k)]
        dw = [_number(r.dW[0], 10), _number(r.dW[1], 10)]
        if r.k != 1:
            return [*weight, "", "", "", "", *dw, "", ""]
        return [*weight, _number(r.z[0], 6), _number(r.a[0], 6), _number(r.delta[0], 10),
                _number(r.delta[1], 10), *dw, _number(r.db[0], 10), _number(r.db[1], 10)]

    def _summary(self) -> str:
        return (f"{self.model!r} with {self.loss_name}: C = {self.loss[0]:.10g} "
                f"(closed form {self.loss[1]:.10g}); largest difference between engine and "
                f"closed form: {self.max_abs_diff:.3g}")

    def draw(self, **options: Any) -> NetworkDiagram:
        """The network diagram of this sample (:meth:`autograd_mini.nn.MLP.draw`): each
        neuron's z, a and δ where the table lists them, and the weights as edges (pass
        ``edges="grad"`` to size them by ∂C/∂W instead)."""
        if self.sample is None:
            raise ValueError("this report does not know its sample; use model.draw(x, y, loss)")
        x, y, loss = self.sample
        return self.model.draw(x, y, loss, **options)

    def to_text(self) -> str:
        """The summary line and an aligned table, one row per layer, neuron and input."""
        table = [list(self._HEAD), *(self._cells(r) for r in self.rows)]
        widths = [max(len(row[c]) for row in table) for c in range(len(self._HEAD))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
                 for row in table]
        return "\n".join([self._summary(), "", *lines])

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Report: {len(self.rows)} rows, max_abs_diff={self.max_abs_diff:.3g}>"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(r))
                       + "</tr>" for r in self.rows)
        return (f"<p>{html.escape(self._summary())}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                "<p><code>.draw()</code> shows these z, a and δ on the network diagram.</p>")


def _number(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, with −0 written as 0 (an exact zero gradient,
    such as that of a weight whose input is 0, has no sign worth showing)."""
    return f"{x + 0.0:.{digits}g}"


def explain(model: MLP, x: Sequence[float], y: Sequence[float], loss: str | Loss) -> Report:
    """Run the engine and the closed-form equations on one sample and compare them node by
    node. ``loss`` is a loss function or its name (``"squared_error"``, ``"mse"``, ``"bce"``,
    ``"cross_entropy"``, ``"hinge"``).

    The engine's side is a real backward pass on ``model``: afterwards its parameters' grads
    hold this sample's gradient (any earlier grads are zeroed first), and each neuron's ``z``
    and ``a`` are the nodes of this sample's graph.

    >>> from autograd_mini.nn import MLP
    >>> report = explain(MLP(2, [3, 1], activation="tanh", seed=0), [0.5, -1.0], [1.0], "mse")
    >>> len(report.rows), report.max_abs_diff < 1e-12   # 3·2 + 1·3 weights
    (9, True)
    """
    name, loss_fn = get(loss)
    # The engine's side runs on the model itself: its grads are zeroed and then hold this
    # sample's gradient, and each neuron's z and a now belong to this sample's graph.
    model.zero_grad()
    cost = loss_fn(model(list(x)), list(y))
    cost.backward()
    layers = [LayerParams(W=[[w.data for w in n.w] for n in layer.neurons],
                          b=[n.b.data for n in layer.neurons], activation=layer.activation)
              for layer in model.layers]
    fp, grads = backprop(layers, list(x), list(y), name)
    rows = []
    for l_index, j, neuron in model.neurons():
        z, a = neuron.z, neuron.a
        assert z is not None  # the forward pass above set them
        assert a is not None
        m, i = l_index - 1, j - 1
        for k, w in enumerate(neuron.w):
            rows.append(Row(
                l_index, j, k + 1, (z.data, fp.z[m][i]), (a.data, fp.a[m][i]),
                (z.grad, grads.delta[m][i]), (w.grad, grads.dW[m][i][k]),
                (neuron.b.grad, grads.db[m][i]),
            ))
    return Report(model, name, rows, (cost.data, fp.loss), cost, (list(x), list(y), loss))
