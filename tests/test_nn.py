"""Networks, losses, optimisers, training, persistence and the node-by-node check.

The engine's adjoints are compared with the closed-form equations of autograd_mini.backprop,
which tests/test_backprop.py checks against central differences; every other expected value
is worked by hand here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_mini import Value, datasets
from autograd_mini.losses import bce, cross_entropy, hinge, l2, squared_error
from autograd_mini.nn import ACTIVATIONS, MLP, Layer, Neuron, load, save
from autograd_mini.optim import SGD, Adam, fit
from autograd_mini.report import explain

# -- the node-by-node check --------------------------------------------------------------------


@st.composite
def networks(draw: st.DrawFn) -> tuple[MLP, list[float], list[float], str]:
    loss = draw(st.sampled_from(["squared_error", "mse", "bce", "cross_entropy", "hinge"]))
    nin = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    activation = draw(st.sampled_from(ACTIVATIONS))
    if loss == "bce":
        output, nout = "sigmoid", draw(st.integers(1, 3))
        y = [float(draw(st.integers(0, 1))) for _ in range(nout)]
    elif loss == "cross_entropy":
        output, nout = "softmax", draw(st.integers(2, 4))
        y = [0.0] * nout
        y[draw(st.integers(0, nout - 1))] = 1.0
    elif loss == "hinge":
        output, nout = draw(st.sampled_from(["linear", "tanh"])), 1
        y = [draw(st.sampled_from([-1.0, 1.0]))]
    else:
        output = draw(st.sampled_from(ACTIVATIONS))
        nout = draw(st.integers(1, 3))
        y = [draw(st.floats(-2, 2)) for _ in range(nout)]
    model = MLP(nin, [*hidden, nout], activation=activation, output=output,
                seed=draw(st.integers(0, 10**6)))
    x = [draw(st.floats(-3, 3)) for _ in range(nin)]
    return model, x, y, loss


@settings(max_examples=150, deadline=None)
@given(networks())
def test_engine_adjoints_equal_the_layer_equations(case: tuple[MLP, list[float], list[float],
                                                               str]) -> None:
    model, x, y, loss = case
    report = explain(model, x, y, loss)
    # away from the kinks, where the engine and the equations both take subgradient 0
    assume(all(abs(r.z[0]) > 1e-9 for r in report.rows))
    if loss == "hinge":
        assume(abs(1 - y[0] * model.predict(x)[0]) > 1e-9)
    assert report.max_abs_diff <= 1e-12, report
    n_weights = sum(len(n.w) for _, _, n in model.neurons())
    assert len(report.rows) == n_weights


def test_neurons_keep_z_and_a_and_z_grad_is_delta() -> None:
    # One sigmoid neuron, squared error, by hand: z = w·x + b, a = σ(z),
    # δ = (a − y)·a(1 − a), ∂C/∂w = δ x, ∂C/∂b = δ
    n = Neuron(1, "sigmoid", seed=0)
    n.w[0].data, n.b.data = 0.5, -0.25
    a = n([2.0])
    c = squared_error([a], [1.0])
    c.backward()
    s = 1 / (1 + math.exp(-0.75))
    delta = (s - 1.0) * s * (1 - s)
    assert n.z is not None
    assert n.z.data == 0.75
    assert n.a is a
    assert math.isclose(n.z.grad, delta, rel_tol=1e-14)
    assert math.isclose(n.w[0].grad, 2 * delta, rel_tol=1e-14)
    assert math.isclose(n.b.grad, delta, rel_tol=1e-14)
    assert n.z.op == "dot"  # one node for the weighted sum


# -- modules -----------------------------------------------------------------------------------


def test_reprs_read_like_the_architecture() -> None:
    model = MLP(2, [16, 16, 1])
    assert repr(model) == "MLP(2 → 16 relu → 16 relu → 1 linear)"
    assert repr(model.layers[0]) == "Layer(2 → 16, relu)"
    assert repr(model.layers[0].neurons[0]) == "Neuron(2, relu)"
    assert repr(Layer(3, 2, "softmax")) == "Layer(3 → 2, softmax)"


def test_parameters_are_named_as_the_equations() -> None:
    model = MLP(2, [3, 1])
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == 3 * 3 + 4
    assert names[:3] == ["W1[1,1]", "W1[1,2]", "b1[1]"]
    assert names[-2:] == ["W2[1,3]", "b2[1]"]
    assert [p.label for p in model.parameters()] == names


def test_seeded_initialisation_is_reproducible() -> None:
    assert MLP(3, [4, 2], seed=7).state_dict() == MLP(3, [4, 2], seed=7).state_dict()
    assert MLP(3, [4, 2], seed=7).state_dict() != MLP(3, [4, 2], seed=8).state_dict()
    scale = 1 / math.sqrt(3)
    assert all(abs(w) <= scale for name, w in MLP(3, [4], seed=1).state_dict().items()
               if name.startswith("W"))


def test_softmax_outputs_sum_to_one() -> None:
    out = MLP(2, [3], output="softmax")([1.0, -2.0])
    assert math.isclose(sum(v.data for v in out), 1.0, rel_tol=1e-15)


def test_zero_grad_and_state_dict() -> None:
    model = MLP(2, [2, 1])
    squared_error(model([1.0, 2.0]), [3.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    state = model.state_dict()
    other = MLP(2, [2, 1], seed=99)
    other.load_state_dict(state)
    assert other.state_dict() == state
    with pytest.raises(ValueError, match="missing b2"):
        other.load_state_dict({k: v for k, v in state.items() if k != "b2[1]"})
    with pytest.raises(ValueError, match="must be a number"):
        other.load_state_dict({**state, "b2[1]": "0"})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"activation": "swish"}, "unknown activation"),
    ({"output": "softmin"}, "unknown output"),
    ({"init": "zeros"}, "unknown init"),
])
def test_bad_architectures(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLP(2, [2, 1], **kwargs)


def test_wrong_input_size() -> None:
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        MLP(2, [1])([1.0, 2.0, 3.0])


# -- losses, by hand ---------------------------------------------------------------------------


def test_loss_values_by_hand() -> None:
    a = [Value(0.2), Value(-0.5)]
    assert math.isclose(squared_error(a, [1.0, 0.5]).data, 0.5 * (0.8**2 + 1.0**2))
    z = Value(0.3)
    s = 1 / (1 + math.exp(-0.3))
    assert math.isclose(bce([z.sigmoid()], [1.0]).data, -math.log(s), rel_tol=1e-14)
    assert math.isclose(bce([z.sigmoid()], [0.0]).data, -math.log(1 - s), rel_tol=1e-14)
    logits = [0.1, 2.0, -1.0]
    probs = MLP(3, [3], output="softmax")([0.0, 0.0, 0.0])
    probs.logits = [Value(v) for v in logits]
    want = -(logits[1] - math.log(sum(math.exp(v) for v in logits)))
    assert math.isclose(cross_entropy(probs, [0.0, 1.0, 0.0]).data, want, rel_tol=1e-14)
    assert hinge([Value(0.25)], [1.0]).data == 0.75
    assert hinge([Value(2.0)], [1.0]).data == 0.0
    assert l2([Value(1.0), Value(-2.0)], 0.1).data == pytest.approx(0.5)


def test_stable_losses_at_saturation() -> None:
    # σ(40) rounds to 1.0: ln(1 − a) would be ln 0, but bce works from z: −ln(1 − σ(z)) ≈ z
    assert math.isclose(bce([Value(40.0).sigmoid()], [0.0]).data, 40.0, rel_tol=1e-12)
    out = MLP(1, [2], output="softmax")([0.0])
    out.logits = [Value(1000.0), Value(0.0)]
    assert math.isclose(cross_entropy(out, [0.0, 1.0]).data, 1000.0, rel_tol=1e-12)


def test_loss_errors() -> None:
    with pytest.raises(ValueError, match="bce needs sigmoid outputs"):
        bce([Value(0.5)], [1.0])
    with pytest.raises(ValueError, match="cross_entropy needs softmax outputs"):
        cross_entropy([Value(0.5), Value(0.5)], [1.0, 0.0])
    with pytest.raises(ValueError, match="hinge takes one score"):
        hinge([Value(0.5), Value(0.5)], [1.0, 1.0])
    with pytest.raises(ValueError, match="2 outputs but a target of 1"):
        squared_error([Value(0.5), Value(0.5)], [1.0])


# -- optimisers, by hand -----------------------------------------------------------------------


def test_sgd_and_momentum() -> None:
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.5)
    p.grad = 2.0
    opt.step()
    assert p.data == pytest.approx(1.0 - 0.1 * 2.0)  # v = 2
    opt.step()
    assert p.data == pytest.approx(0.8 - 0.1 * (0.5 * 2.0 + 2.0))  # v = 0.5·2 + 2 = 3
    opt.zero_grad()
    assert p.grad == 0.0


def test_adam_first_step_moves_by_lr_against_the_gradient() -> None:
    # m̂ = g, v̂ = g², so the first step is lr·g/(|g| + ε) ≈ lr·sign(g)
    p, q = Value(1.0), Value(1.0)
    p.grad, q.grad = 3.0, -0.001
    Adam([p, q], lr=0.01).step()
    assert p.data == pytest.approx(0.99, abs=1e-9)
    assert q.data == pytest.approx(1.01, abs=1e-6)


def test_optimiser_errors() -> None:
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        Adam([Value(1.0)], lr=0.0)


# -- training ----------------------------------------------------------------------------------


def test_the_tutorial_xor_network_learns_xor() -> None:
    # the [2, 2, 1] sigmoid XOR network of the "Backpropagation" tutorial notebook (notation of
    # neuralnetworksanddeeplearning.com, chapter 2): bce, learning rate 1, 1000 steps
    data = datasets.xor()
    model = MLP(2, [2, 1], activation="sigmoid", output="sigmoid", seed=0, init="normal")
    history = fit(model, data.X, [[float(t)] for t in data.y], "bce",
                  SGD(model.parameters(), lr=1.0), epochs=1000)
    assert len(history.loss) == 1000
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < history.loss[0]
    outputs = [model.predict(x)[0] for x in data.X]
    # the tutorial prints 0.0143, 0.9888, 0.9892, 0.0124 for its own random start
    assert outputs[0] < 0.05
    assert outputs[3] < 0.05
    assert outputs[1] > 0.95
    assert outputs[2] > 0.95


def test_fit_mini_batches_and_errors() -> None:
    data = datasets.xor()
    model = MLP(2, [3, 1], activation="tanh", output="sigmoid", seed=1)
    history = fit(model, data.X, [[float(t)] for t in data.y], "bce",
                  Adam(model.parameters(), lr=0.05), epochs=5, batch_size=3)
    assert len(history.loss) == len(history.accuracy) == 5
    with pytest.raises(ValueError, match="4 inputs but 3 targets"):
        fit(model, data.X, [[0.0]] * 3, "bce", SGD(model.parameters()), epochs=1)
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, data.X, [[0.0]] * 4, "l1", SGD(model.parameters()), epochs=1)


# -- persistence -------------------------------------------------------------------------------


def test_save_and_load_round_trip_exactly(tmp_path: Path) -> None:
    model = MLP(3, [4, 2], activation="tanh", output="softmax", seed=3)
    for p in model.parameters():
        p.data = p.data / 3.0  # digits that need every bit of a double
    loaded = load(save(model, tmp_path / "m.json"))
    assert repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()  # exact equality of every float
    x = [0.1, -0.2, 0.3]
    assert loaded.predict(x) == model.predict(x)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    return path


def _good(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads(save(MLP(2, [2, 1]), tmp_path / "good.json").read_text()))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: {**d, "format": "pickle"}, "not an autograd_mini model file"),
    (lambda d: {**d, "version": 2}, "version 2 is not supported"),
    (lambda d: {**d, "activation": "swish"}, "unknown activation"),
    (lambda d: {**d, "nouts": [2, "1"]}, "'nouts' must be a list of layer sizes"),
    (lambda d: {**d, "nin": 3}, "missing W1\\[1,3\\]"),
    (lambda d: {**d, "state": {**d["state"], "W1[1,1]": "x"}}, "must be a number"),
    (lambda d: {**d, "state": {**d["state"], "W1[1,1]": True}}, "must be a number"),
    (lambda d: {**d, "state": {**d["state"], "extra": 1.0}}, "unexpected extra"),
    (lambda d: {k: v for k, v in d.items() if k != "state"}, "has no 'state'"),
])
def test_bad_model_files(tmp_path: Path, change: Any, message: str) -> None:
    path = _write(tmp_path, json.dumps(change(_good(tmp_path))))
    with pytest.raises(ValueError, match=message):
        load(path)


def test_truncated_and_non_finite_files(tmp_path: Path) -> None:
    text = json.dumps(_good(tmp_path))
    with pytest.raises(ValueError, match="invalid JSON at line 1"):
        load(_write(tmp_path, text[: len(text) // 2]))
    with pytest.raises(ValueError, match="not a finite number"):
        load(_write(tmp_path, text.replace('"b1[1]": 0.0', '"b1[1]": NaN')))
    with pytest.raises(ValueError, match="not an autograd_mini model file"):
        load(_write(tmp_path, "[1, 2, 3]"))


def test_clear_messages_for_common_slips() -> None:
    from autograd_mini.testing import gradcheck

    model = MLP(2, [1])
    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        SGD(model, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="xs must be a list of numbers"):
        gradcheck(lambda x: x * x, 1.0)  # type: ignore[arg-type]


def test_fit_pauses_the_collector_for_each_step_and_gives_it_back() -> None:
    import gc

    from autograd_mini.losses import LOSSES

    seen: list[bool] = []

    def watching(outputs: Any, target: Any) -> Value:
        seen.append(gc.isenabled())
        return LOSSES["squared_error"](outputs, target)

    model = MLP(1, [1], seed=0)
    assert gc.isenabled()
    fit(model, [[0.5], [1.0]], [[1.0], [0.0]], watching, SGD(model.parameters()), epochs=2)
    assert seen == [False] * 4  # off inside every step
    assert gc.isenabled()  # and on again after

    def failing(outputs: Any, target: Any) -> Value:
        raise RuntimeError("a loss that fails")

    with pytest.raises(RuntimeError, match="a loss that fails"):
        fit(model, [[0.5]], [[1.0]], failing, SGD(model.parameters()), epochs=1)
    assert gc.isenabled()  # given back by the finally, even on an error

    gc.disable()
    try:  # a caller who turned it off keeps it off
        fit(model, [[0.5]], [[1.0]], "squared_error", SGD(model.parameters()), epochs=1)
        assert not gc.isenabled()
    finally:
        gc.enable()
