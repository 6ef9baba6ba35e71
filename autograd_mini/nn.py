"""Neural networks built from Values: ``Neuron``, ``Layer`` and ``MLP``.

A layer computes, as the backprop literature writes it (seed 004's notation),

    z^l = W^l a^{l−1} + b^l,    a^l = σ(z^l)

and each neuron's weighted input z_j is one node of the rule table's ``dot`` rule, with
partials ∂z/∂w_k = a_k, ∂z/∂a_k = w_k and ∂z/∂b = 1. After a forward pass every neuron keeps
the nodes of its z and a for the last input, so after ``backward()`` ``neuron.z.grad`` *is*
δ_j = ∂C/∂z_j, and a weight's ``grad`` is δ_j a_k: the layer-wise equations, node by node
(see :mod:`autograd_mini.backprop` and :func:`explain`).

Parameters are labelled as the equations name them, ``W2[1,3]`` for W^2_{13} and ``b2[1]``
for b^2_1 (layers, neurons and inputs counted from 1), so traces and pictures read like the
maths. Initialisation is seeded: the same ``seed`` gives the same network.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .engine import Value, as_value, dot, no_grad, total

__all__ = [
    "ACTIVATIONS", "MLP", "Layer", "Module", "Neuron", "Probabilities", "load", "save",
    "softmax",
]

#: Elementwise activations σ (rows of the rule table, with their default parameters: leaky_relu's
#: slope 0.01, elu's α = 1) and the output choices of a layer.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "gelu", "silu",
               "linear")
OUTPUTS = (*ACTIVATIONS, "softmax")
INITS = ("uniform", "normal")
FORMAT = "autograd_mini.mlp"
VERSION = 1

Input = Sequence[Value | float]


def _constant(x: float) -> Value:
    return as_value(x, "inputs")


#: σ for each activation but the linear one: the rule table's Value methods, with their defaults.
_SIGMA: dict[str, Callable[[Value], Value]] = {
    name: getattr(Value, name) for name in ACTIVATIONS if name != "linear"}


def _activate(z: Value, activation: str) -> Value:
    sigma = _SIGMA.get(activation)
    if sigma is not None:
        return sigma(z)
    if activation == "linear":
        return z
    raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")


class Probabilities(list[Value]):
    """The outputs of a softmax layer: a list of Values that also remembers the logits z, so
    that cross-entropy can be computed stably from them (log-sum-exp)."""

    logits: list[Value]


def softmax(logits: Sequence[Value]) -> Probabilities:
    """a_j = e^{z_j − m} / Σ_i e^{z_i − m}, with m = max z (a constant shift, which changes
    nothing but keeps every exponential ≤ 1)."""
    m = max(z.data for z in logits)
    exps = [(z - m).exp() for z in logits]
    norm = total(exps)
    out = Probabilities(e / norm for e in exps)
    out.logits = list(logits)
    return out


class Module:
    """Something with parameters: ``parameters()``, ``named_parameters()``, ``zero_grad()``,
    ``state_dict()`` and ``load_state_dict()``."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its name (``W2[1,3]``, ``b2[1]``), in a fixed order."""
        return []

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of :meth:`named_parameters`: what an optimiser
        takes."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's gradient; they accumulate across backward passes."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from ``state``, which must name exactly the same parameters."""
        named = dict(self.named_parameters())
        missing = [n for n in named if n not in state]
        unexpected = [n for n in state if n not in named]
        if missing or unexpected:
            raise ValueError("state does not match the model: "
                             + "; ".join(([f"missing {', '.join(missing[:5])}"] if missing else [])
                                         + ([f"unexpected {', '.join(unexpected[:5])}"]
                                            if unexpected else [])))
        for name, p in named.items():
            value = state[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"parameter {name} must be a number, not "
                                 f"{type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"parameter {name} is {value}, not a finite number")
            p.data = float(value)


def _rng(seed: int | random.Random | None) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


class Neuron(Module):
    """a = σ(Σ_k w_k x_k + b). With ``init="uniform"`` the weights start uniform in ±1/√nin
    (LeCun's scale) and the bias at 0; with ``init="normal"`` both are drawn from N(0, 1), as
    in seed 004's XOR network."""

    def __init__(self, nin: int, activation: str = "relu", seed: int | random.Random | None = 0,
                 layer: int = 1, index: int = 1, init: str = "uniform") -> None:
        if activation not in OUTPUTS:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"choose from {', '.join(OUTPUTS)}")
        if nin < 1:
            raise ValueError(f"a neuron needs at least one input, not {nin}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")
        rng = _rng(seed)
        scale = 1.0 / math.sqrt(nin)
        self.activation = activation
        if init == "normal":  # seed 004: W and b drawn from N(0, 1)
            weights, bias = [rng.gauss(0.0, 1.0) for _ in range(nin)], rng.gauss(0.0, 1.0)
        else:  # ±1/√nin, LeCun's scale, and a zero bias
            weights, bias = [rng.uniform(-scale, scale) for _ in range(nin)], 0.0
        self.w = [Value(w, label=f"W{layer}[{index},{k + 1}]") for k, w in enumerate(weights)]
        self.b = Value(bias, label=f"b{layer}[{index}]")
        self.z: Value | None = None
        self.a: Value | None = None

    def __call__(self, x: Input) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} takes {len(self.w)} inputs, got {len(x)}")
        self.z = dot(self.w, x, self.b)
        # a softmax neuron's own output is its z; the layer normalises across neurons
        self.a = self.z if self.activation == "softmax" else _activate(self.z, self.activation)
        return self.a

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [*((p.label or "", p) for p in self.w), (self.b.label or "", self.b)]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer(Module):
    """``nout`` neurons that read the same ``nin`` inputs: a^l = σ(W^l a^{l−1} + b^l).

    With ``activation="softmax"`` the layer's outputs are a_j = softmax(z)_j."""

    def __init__(self, nin: int, nout: int, activation: str = "relu",
                 seed: int | random.Random | None = 0, index: int = 1,
                 init: str = "uniform") -> None:
        rng = _rng(seed)
        self.activation = activation
        self.index = index
        self.neurons = [Neuron(nin, activation, rng, layer=index, index=j + 1, init=init)
                        for j in range(nout)]

    def __call__(self, x: Input) -> list[Value]:
        outs = [n(x) for n in self.neurons]
        if self.activation != "softmax":
            return outs
        probabilities = softmax(outs)
        for n, a in zip(self.neurons, probabilities, strict=True):
            n.a = a
        return probabilities

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [item for n in self.neurons for item in n.named_parameters()]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons[0].w)} → {len(self.neurons)}, {self.activation})"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` has two hidden layers of 16 ``relu``
    neurons and one ``linear`` output.

    ``activation`` is the hidden layers' σ; ``output`` the last layer's, which may also be
    ``"softmax"`` (over the layer). ``seed`` (an int or a ``random.Random``) fixes the
    initial weights. Calling the model on an input returns the list of output Values.

    >>> model = MLP(2, [3, 1], activation="tanh", output="sigmoid", seed=1)
    >>> model
    MLP(2 → 3 tanh → 1 sigmoid)
    >>> len(model.parameters())  # 3·(2 + 1) + 1·(3 + 1)
    13
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output: str = "linear", seed: int | random.Random | None = 0,
                 init: str = "uniform") -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"choose from {', '.join(ACTIVATIONS)}")
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose from {', '.join(OUTPUTS)}")
        if not nouts or any(n < 1 for n in nouts) or nin < 1:
            raise ValueError(f"layer sizes must be positive, not {nin} → {list(nouts)}")
        rng = _rng(seed)
        sizes = [nin, *nouts]
        self.nin = nin
        self.nouts = list(nouts)
        self.activation = activation
        self.output = output
        self.init = init
        #: the name of the loss it was trained with, when saved by ``train`` (or None)
        self.loss: str | None = None
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output if i == len(nouts) - 1 else activation, rng,
                  index=i + 1, init=init)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Input) -> list[Value]:
        # NOTE: numbers become constant nodes once here, not once per neuron of the first layer
        out: Sequence[Value | float] = [v if isinstance(v, Value) else _constant(v) for v in x]
        for layer in self.layers:
            out = layer(out)
        return out if isinstance(out, Probabilities) else [v for v in out if isinstance(v, Value)]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [item for layer in self.layers for item in layer.named_parameters()]

    def neurons(self) -> Iterator[tuple[int, int, Neuron]]:
        """(layer l, neuron j, neuron), both counted from 1, in order."""
        for l_index, layer in enumerate(self.layers, start=1):
            for j, n in enumerate(layer.neurons, start=1):
                yield l_index, j, n

    def predict(self, x: Input) -> list[float]:
        """The outputs as floats, without recording a graph."""
        with no_grad():
            return [v.data for v in self(x)]

    def __repr__(self) -> str:
        parts = [str(self.nin)] + [f"{len(layer.neurons)} {layer.activation}"
                                   for layer in self.layers]
        return f"MLP({' → '.join(parts)})"


# ---------------------------------------------------------------------------------------------
# Persistence: JSON, never pickle
# ---------------------------------------------------------------------------------------------


def save(model: MLP, path: str | os.PathLike[str], loss: str | None = None) -> Path:
    """Write the architecture and weights as JSON, with the name of the ``loss`` it was
    trained with if given. Floats are written with ``repr``, so they read back exactly."""
    document: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "nin": model.nin, "nouts": model.nouts,
        "activation": model.activation, "output": model.output, "init": model.init,
        "state": model.state_dict(),
    }
    if loss is not None or model.loss is not None:
        document["loss"] = loss if loss is not None else model.loss
    target = Path(path)
    target.write_text(json.dumps(document, indent=1, allow_nan=False), encoding="utf-8")
    return target


def _field(document: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in document:
        raise ValueError(f"model file has no {key!r}")
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"model file: {key!r} has the wrong type ({type(value).__name__})")
    return value


def load(path: str | os.PathLike[str]) -> MLP:
    """Read a model written by :func:`save`. A malformed, truncated or tampered file raises a
    ``ValueError`` that says what is wrong; nothing in the file is ever executed."""
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not a model file: invalid JSON at line {error.lineno}, "
                         f"column {error.colno} ({error.msg})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{source}: not a model file: not UTF-8 text") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{source}: not an autograd_mini model file (format should be "
                         f"{FORMAT!r})")
    version = _field(document, "version", int)
    if version != VERSION:
        raise ValueError(f"{source}: model file version {version} is not supported "
                         f"(this is version {VERSION})")
    nin = _field(document, "nin", int)
    nouts = _field(document, "nouts", list)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in nouts):
        raise ValueError(f"{source}: 'nouts' must be a list of layer sizes")
    activation = _field(document, "activation", str)
    output = _field(document, "output", str)
    init = _field(document, "init", str)
    state = _field(document, "state", dict)
    loss = document.get("loss")
    if loss is not None and not isinstance(loss, str):
        raise ValueError(f"{source}: 'loss' must be a loss's name")
    try:
        model = MLP(nin, nouts, activation=activation, output=output, init=init)
        model.load_state_dict(state)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    model.loss = loss
    return model
