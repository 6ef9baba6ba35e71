"""Neural networks built from Values: ``Neuron``, ``Layer`` and ``MLP``.

A layer computes, as the backprop literature writes it (the notation of "Backpropagation", a
tutorial notebook that follows neuralnetworksanddeeplearning.com, chapter 2),

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
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from .anomaly import current as _anomaly
from .diagram import NetworkDiagram, diagram
from .engine import Group, Value, as_value, dot, group, group_of, no_grad, set_group, total
from .files import write_atomic
from .losses import LOSSES, Probabilities
from .viz import SUMMARIES, number

__all__ = [
    "ACTIVATIONS", "MLP", "Layer", "Module", "Neuron", "Probabilities", "diagram", "load", "save",
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


def softmax(logits: Sequence[Value]) -> Probabilities:
    """a_j = e^{z_j − m} / Σ_i e^{z_i − m}, with m = max z (a constant shift, which changes
    nothing but keeps every exponential ≤ 1)."""
    m = max(z.data for z in logits)
    exps = [(z - m).exp() for z in logits]
    norm = total(exps)
    out = Probabilities(e / norm for e in exps)
    out.logits = list(logits)
    return out


def _neuron_summary(g: Group, nodes: list[Value],
                    adjoint: Callable[[Value], float | None]) -> list[str]:
    """A folded neuron's box: z, a and δ = ∂C/∂z when the picture holds one evaluation, and
    its parameters with the size of ∂C/∂w. Read from the nodes themselves (z is the ``dot``
    node, its operands w₁ … wₙ, a₁ … aₙ, b), so the group refers to nothing."""
    zs = [v for v in nodes if v.op == "dot"]
    lines = []
    if len(zs) == 1:
        z = zs[0]
        a = next((v for v in nodes if v.parents == (z,)), None)
        if a is None and not g.detail.startswith("softmax"):
            a = z  # a linear neuron's a is its z
        shown = f"z {number(z.data)}" + ("" if a is None else f"   a {number(a.data)}")
        lines.append(shown if a is not None else f"{shown}   a: the layer's softmax")
        delta = adjoint(z)
        lines.append("δ not yet computed" if delta is None else f"δ {number(delta)}")
    elif zs:
        lines.append(f"{len(zs)} evaluations")
    if zs:
        weights = zs[0].parents[:(len(zs[0].parents) - 1) // 2]
        grads = [adjoint(w) for w in weights]
        size = ("" if any(d is None for d in grads) else
                f", |∂C/∂w| {number(math.sqrt(sum(d * d for d in grads if d is not None)))}")
        lines.append(f"{len(weights) + 1} parameters{size}")
    else:
        lines.append(f"{sum(1 for v in nodes if v.op is None)} parameters")
    return lines


def _layer_summary(g: Group, nodes: list[Value],
                   adjoint: Callable[[Value], float | None]) -> list[str]:
    """A folded layer's box: its parameters, and ‖δ‖ over its neurons when the picture holds
    one evaluation of each."""
    neurons = {id(h) for v in nodes for h in _groups_of(v) if h.parent is g}
    zs = [v for v in nodes if v.op == "dot"]
    lines = [f"{sum(1 for v in nodes if v.op is None)} parameters"]
    deltas = [adjoint(z) for z in zs]
    if zs and len(zs) == len(neurons) and all(d is not None for d in deltas):
        lines.append(f"|δ| {number(math.sqrt(sum(d * d for d in deltas if d is not None)))}")
    return lines


def _groups_of(v: Value) -> list[Group]:
    g = group_of(v)
    return [] if g is None else g.path()


SUMMARIES.update(neuron=_neuron_summary, layer=_layer_summary)
_anomaly_mode = _anomaly.get


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
            p.zero_grad()  # a leaf: its own grad, and the last pass's journal of it

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
    in the tutorial notebook's XOR network."""

    def __init__(self, nin: int, activation: str = "relu", seed: int | random.Random | None = 0,
                 layer: int = 1, index: int = 1, init: str = "uniform",
                 parent: Group | None = None) -> None:
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
        if init == "normal":  # the tutorial's XOR network: W and b from N(0, 1)
            weights, bias = [rng.gauss(0.0, 1.0) for _ in range(nin)], rng.gauss(0.0, 1.0)
        else:  # ±1/√nin, LeCun's scale, and a zero bias
            weights, bias = [rng.uniform(-scale, scale) for _ in range(nin)], 0.0
        self.w = [Value(w, label=f"W{layer}[{index},{k + 1}]") for k, w in enumerate(weights)]
        self.b = Value(bias, label=f"b{layer}[{index}]")
        self.z: Value | None = None
        self.a: Value | None = None
        #: the picture's group for this neuron: its parameters, and the nodes of every call
        self.group = Group(f"neuron {index} of layer {layer}", "neuron", parent=parent,
                           detail=f"{activation} neuron")
        for p in (*self.w, self.b):
            p._g = self.group

    def __call__(self, x: Input) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} takes {len(self.w)} inputs, got {len(x)}")
        z = self.z = dot(self.w, x, self.b)
        # a softmax neuron's own output is its z; the layer normalises across neurons
        a = self.a = z if self.activation == "softmax" else _activate(z, self.activation)
        # NOTE: tagged here rather than inside ``with group(...)``: two stores instead of a
        # context per call, which on micrograd's demo step cost a fifth of its time. Under
        # no_grad the results are leaves with no history, and belong to no group. In anomaly
        # mode the nodes carry their creation sites, which keep the group instead.
        if z._a is not None:
            if _anomaly_mode() is None:
                z._g = a._g = self.group
            else:
                set_group(self.group, z, a)
        return a

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
        #: the picture's group for this layer, around its neurons' groups
        self.group = Group(f"layer {index}", "layer",
                           detail=f"{nout} {activation} neuron{'' if nout == 1 else 's'}")
        self.neurons = [Neuron(nin, activation, rng, layer=index, index=j + 1, init=init,
                               parent=self.group)
                        for j in range(nout)]

    def __call__(self, x: Input) -> list[Value]:
        outs = [n(x) for n in self.neurons]
        if self.activation != "softmax":
            return outs
        with group(self.group):  # the normalisation across the layer's neurons
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

    def draw(self, x: Input | None = None, y: Sequence[float] | None = None,
             loss: str | Callable[..., Value] = "squared_error",
             **options: Any) -> NetworkDiagram:
        """The network diagram of the backprop papers: neurons as circles in columns, an edge
        per weight, and, given a sample ``x`` (and a target ``y``, with a ``loss``), each
        neuron's z, a and δ. See :func:`autograd_mini.diagram.diagram` for the options.

        With ``y``, it runs a backward pass on the model, as :func:`autograd_mini.explain`
        does: the parameters' grads are zeroed first and then hold this sample's gradient.
        """
        return diagram(self, x, y, loss, **options)

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

#: The keys of a model file, in the order :func:`save` writes them; only ``loss`` is optional.
_KEYS = ("format", "version", "nin", "nouts", "activation", "output", "init", "state", "loss")
#: At most this many lists and objects in a model file (one has three: the document, ``nouts``
#: and ``state``). They are counted before the JSON is parsed, so 100 000 nested ``[`` or
#: millions of ``[]`` (25 bytes of memory per byte of file) are refused before Python builds a
#: single container for them.
_MAX_CONTAINERS = 16
#: The longest integer literal accepted, in digits: anything longer is larger than the largest
#: float (about 1.8·10^308), and ``int()`` of a long literal costs time quadratic in its length.
_MAX_INT_DIGITS = 308
#: How much of a file is read at once: ``os.read(fd, n)`` allocates n bytes before reading, so
#: a small file must not be read with n = max_bytes.
_CHUNK = 1 << 20
#: A JSON string, escapes included (the scanner's own definition, so for a valid prefix of a
#: document this finds exactly the strings the parser will find).
# NOTE: a string left open runs to the end of the text; without that the search would start
# again at every quote inside it, which takes the square of the file's size.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
#: A parameter's name, ``W2[1,3]`` or ``b2[1]`` (at most ten digits a number, so int() is cheap).
_NAME = re.compile(r"([Wb])([1-9][0-9]{0,9})\[([1-9][0-9]{0,9})(?:,([1-9][0-9]{0,9}))?\]")


def save(model: MLP, path: str | os.PathLike[str], loss: str | None = None) -> Path:
    """Write the architecture and weights as JSON, with the name of the ``loss`` it was
    trained with if given. Floats are written with ``repr``, so they read back exactly.

    The file is replaced all at once by :func:`autograd_mini.files.write_atomic`, never
    truncated first: a crash, a kill or a full disk part-way leaves the old file byte for byte
    as it was. Write errors are :class:`OSError`\\ s whose message names the file.

    A model with a NaN or infinite parameter is refused with a ``ValueError`` before anything
    is written: it is what a diverged training run leaves, it predicts nothing, and saving it
    would replace a good model with it.
    """
    target = Path(path)
    _refuse_diverged(model, target)
    document: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "nin": model.nin, "nouts": model.nouts,
        "activation": model.activation, "output": model.output, "init": model.init,
        "state": model.state_dict(),
    }
    if loss is not None or model.loss is not None:
        document["loss"] = loss if loss is not None else model.loss
    return write_atomic(target, json.dumps(document, indent=1, allow_nan=False))


def _refuse_diverged(model: MLP, target: Path) -> None:
    """Raise the ``ValueError`` of :func:`save` if a parameter is NaN or ±inf, naming the first
    one, because "Out of range float values are not JSON compliant" would not say why."""
    bad = [(name, p.data) for name, p in model.named_parameters() if not math.isfinite(p.data)]
    if not bad:
        return
    name, value = bad[0]
    more = f", and {len(bad) - 1} more parameters are not finite numbers" if len(bad) > 1 else ""
    raise ValueError(f"refusing to save {target}: the training diverged ({name} = {value}{more});"
                     " train again with a smaller learning rate (--lr). The file was not written.")


def load(path: str | os.PathLike[str], *, max_bytes: int = 64 * 2**20,
         max_parameters: int = 10**7) -> MLP:
    """Read a model written by :func:`save`, trusting nothing in the file; nothing in it is ever
    executed.

    Only a regular file is read (a FIFO, a device such as ``/dev/zero`` or a directory is
    refused before it is opened, so nothing blocks), and at most ``max_bytes`` of it. The
    declared architecture is checked, and its parameter count compared with ``max_parameters``
    and with the values in the file, before any network is built, so a small file cannot make
    ``load`` allocate a huge one.

    Whatever is wrong with the file (its kind, size, encoding, JSON, keys, types, sizes or
    numbers) raises a ``ValueError`` whose message starts ``cannot load <path>:`` and says what
    is wrong. When the operating system cannot read the path (it does not exist, permission is
    denied, an I/O error) the error stays an :class:`OSError` of the same kind and errno, since
    the file's content is not at fault, and its message also names the path.
    """
    source = Path(path)
    for name, limit in (("max_bytes", max_bytes), ("max_parameters", max_parameters)):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"{name} must be a non-negative integer, not {limit!r}")
    try:
        return _from_document(_parse(_read(source, max_bytes)), max_parameters)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are handled inside
        raise ValueError(f"cannot load {source}: {error}") from None
    except RecursionError:  # a backstop: nesting is limited before parsing
        raise ValueError(f"cannot load {source}: lists or objects nested too deeply") from None
    except MemoryError:
        raise ValueError(f"cannot load {source}: not enough memory for it (lower max_bytes or "
                         "max_parameters to refuse such files sooner)") from None


def _read(source: Path, max_bytes: int) -> bytes:
    """The bytes of ``source`` if it is a regular file of at most ``max_bytes`` bytes.

    The kind of file is checked with ``os.stat`` before opening, since opening a FIFO blocks
    until a writer comes and a device like /dev/zero never ends; it is opened non-blocking and
    checked again with ``fstat`` in case the path was swapped in between. At most
    ``max_bytes + 1`` bytes are read, so a file that grows meanwhile is still refused.
    """
    try:
        info = os.stat(source)
    except OSError as error:
        raise _named(error, source) from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"it is {_kind(info.st_mode)}, not a regular file")
    if info.st_size > max_bytes:
        raise ValueError(f"it has {info.st_size} bytes, more than max_bytes = {max_bytes}")
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(source, flags)
    except OSError as error:
        raise _named(error, source) from None
    chunks: list[bytes] = []
    size = 0
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"it is {_kind(mode)}, not a regular file")
        while size <= max_bytes:
            chunk = os.read(fd, min(max_bytes + 1 - size, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise _named(error, source) from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise ValueError(f"it has more than max_bytes = {max_bytes} bytes")
    return b"".join(chunks)


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, for the message."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def _named(error: OSError, source: Path) -> OSError:
    """The same kind of OSError, with its errno, and a message that names the file."""
    return type(error)(error.errno, f"cannot load {source}: {error.strerror or error}")


def _parse(data: bytes) -> Any:
    """The JSON document in ``data``, or a ``ValueError`` that says why there is none.

    Containers are counted (outside strings) before parsing: a model file has three, and
    nesting or many empty containers is how a small file becomes deep recursion or gigabytes.
    """
    if not data.strip():
        raise ValueError("not a model file: it is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not a model file: not UTF-8 text (byte 0x{data[error.start]:02x} at "
                         f"offset {error.start})") from None
    outside_strings = _STRING.sub("", text)
    containers = outside_strings.count("[") + outside_strings.count("{")
    del outside_strings
    if containers > _MAX_CONTAINERS:
        raise ValueError(f"not a model file: it has {containers} lists or objects (a model file "
                         f"has 3, and at most {_MAX_CONTAINERS} are read)")
    try:
        return json.loads(text, parse_int=_parse_int, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise ValueError(f"not a model file: invalid JSON at line {error.lineno}, "
                         f"column {error.colno} ({error.msg})") from None


def _parse_int(literal: str) -> int:
    """An integer literal, refused if it has more digits than any float could hold."""
    digits = len(literal) - literal.startswith("-")
    if digits > _MAX_INT_DIGITS:
        raise ValueError(f"not a model file: it has an integer of {digits} digits, larger than "
                         "any number a model file holds")
    return int(literal)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused if it names a key twice (json keeps the last silently, so the
    file would not mean what it seems to)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"not a model file: the key {_show(key)} appears twice")
            seen.add(key)
    return document


def _from_document(document: Any, max_parameters: int) -> MLP:
    """The MLP a parsed model file describes, after every field has been checked."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not an autograd_mini model file (format should be {FORMAT!r})")
    unexpected = [key for key in document if key not in _KEYS]
    if unexpected:
        raise ValueError(f"unexpected key {_show(unexpected[0])} (a model file has "
                         f"{', '.join(_KEYS)})")
    version = _field(document, "version", int, "an integer")
    if version != VERSION:
        raise ValueError(f"model file version {_number(version)} is not supported "
                         f"(this is version {VERSION})")
    nin = _field(document, "nin", int, "an integer")
    nouts = _field(document, "nouts", list, "a list")
    if not nouts or not all(isinstance(n, int) and not isinstance(n, bool) for n in nouts):
        raise ValueError("'nouts' must be a list of layer sizes (positive integers)")
    sizes: list[int] = [nin, *nouts]
    if any(n < 1 for n in sizes):
        raise ValueError(f"layer sizes must be positive, not {_architecture(sizes)}")
    activation = _choice(document, "activation", ACTIVATIONS)
    output = _choice(document, "output", OUTPUTS)
    init = _choice(document, "init", INITS)
    state: dict[str, Any] = _field(document, "state", dict, "an object")
    # optional: the loss that train saved with the model, which explain then uses
    loss = _choice(document, "loss", tuple(LOSSES)) if document.get("loss") is not None else None
    count = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], nouts, strict=True))
    if count > max_parameters:
        raise ValueError(f"its architecture {_architecture(sizes)} has {_number(count)} "
                         f"parameters, more than max_parameters = {max_parameters}")
    _check_state(state, sizes, count)
    model = MLP(nin, nouts, activation=activation, output=output, init=init)
    model.load_state_dict(state)
    model.loss = loss
    return model


def _field(document: Mapping[str, Any], key: str, kind: type, what: str) -> Any:
    """``document[key]``, refused if missing or not of ``kind`` (a bool is not an int here)."""
    if key not in document:
        raise ValueError(f"the model file has no {key!r}")
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{key!r} must be {what}, not {type(value).__name__}")
    return value


def _choice(document: Mapping[str, Any], key: str, choices: Sequence[str]) -> str:
    """``document[key]``, refused unless it is one of ``choices``."""
    value: str = _field(document, key, str, "a string")
    if value not in choices:
        raise ValueError(f"unknown {key} {_show(value)}; choose from {', '.join(choices)}")
    return value


def _check_state(state: Mapping[str, Any], sizes: Sequence[int], count: int) -> None:
    """Refuse ``state`` unless it holds exactly the ``count`` parameters of ``sizes``, each a
    finite number, without building the network (count ≤ max_parameters by now)."""
    missing = list(islice((n for n in _parameter_names(sizes) if n not in state), 5))
    if missing or len(state) != count:
        unexpected = list(islice((_show(n, quote=False) for n in state
                                  if not _is_parameter(n, sizes)), 5))
        raise ValueError(
            f"its architecture {_architecture(sizes)} has {count} parameters, the file "
            f"{len(state)}" + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(unexpected)}" if unexpected else ""))
    for name in _parameter_names(sizes):
        value = state[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"parameter {name} must be a number, not {type(value).__name__}")
        if not math.isfinite(value):  # ints have at most _MAX_INT_DIGITS digits: no overflow
            raise ValueError(f"parameter {name} is {value}, not a finite number")


def _parameter_names(sizes: Sequence[int]) -> Iterator[str]:
    """The names ``MLP(sizes[0], sizes[1:])`` gives its parameters, in order, as its neurons
    label them, without building it."""
    for layer in range(1, len(sizes)):
        for j in range(1, sizes[layer] + 1):
            for k in range(1, sizes[layer - 1] + 1):
                yield f"W{layer}[{j},{k}]"
            yield f"b{layer}[{j}]"


def _is_parameter(name: str, sizes: Sequence[int]) -> bool:
    """Whether ``name`` is one of :func:`_parameter_names`, in constant time and memory."""
    match = _NAME.fullmatch(name)
    if match is None:
        return False
    kind, layer, j, k = match.groups()
    index = int(layer)
    if index >= len(sizes) or int(j) > sizes[index]:
        return False
    return k is None if kind == "b" else k is not None and int(k) <= sizes[index - 1]


def _architecture(sizes: Sequence[int]) -> str:
    """``2 → 16 → 1``, shortened for a hostile file's thousand layers."""
    shown = " → ".join(_number(n) for n in sizes[:8])
    return shown + (f" → … ({len(sizes) - 1} layers)" if len(sizes) > 8 else "")


def _number(n: int) -> str:
    """An integer for a message; a huge one by its size, since str() of it costs time."""
    return str(n) if n.bit_length() <= 64 else f"about 10^{int(n.bit_length() * math.log10(2))}"


def _show(text: str, quote: bool = True) -> str:
    """A string from the file, for a message: printable and at most about 40 characters."""
    shown = repr(text) if quote or not text.isprintable() else text
    return shown if len(shown) <= 40 else shown[:37] + "…"
