"""Saving and loading models as files: atomic saves, refused diverged models, and a loader
that trusts nothing in the file.

Every expected value comes from outside the code under test: parameter counts worked by hand
from (fan-in + 1) · fan-out, parameter values set by a formula here or drawn by a seeded
MLP built again in this process, file sizes from os.path.getsize, and the old file's bytes as
they were read before the save.
"""

from __future__ import annotations

import errno
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_mini import nn
from autograd_mini.nn import MLP, load, save

REPO = Path(__file__).resolve().parent.parent
FORMAT = "autograd_mini.mlp"  # the format's name, as documented
PEAK_BYTES = 10 * 2**20  # a hostile file may make load allocate at most this much
SECONDS = 5.0  # ... and take at most this long (generous: the machine is shared)


def _small_model() -> MLP:
    """MLP(2, [3, 1]): 3·(2 + 1) + 1·(3 + 1) = 13 parameters, with values set by a formula."""
    model = MLP(2, [3, 1], activation="tanh", output="sigmoid")
    for i, p in enumerate(model.parameters()):
        p.data = (-1) ** i * (i + 1) / 7
    return model


def _document(**changes: Any) -> dict[str, Any]:
    """A valid model file for MLP(2, [1]) (3 parameters), written out by hand, with changes."""
    document: dict[str, Any] = {
        "format": FORMAT, "version": 1, "nin": 2, "nouts": [1], "activation": "relu",
        "output": "linear", "init": "uniform",
        "state": {"W1[1,1]": 0.5, "W1[1,2]": -0.25, "b1[1]": 0.125},
    }
    document.update(changes)
    return document


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- round trip --------------------------------------------------------------------------------


def test_round_trip_keeps_parameters_predictions_and_loss(tmp_path: Path) -> None:
    model = MLP(3, [4, 2], activation="tanh", output="softmax", seed=3)
    for i, p in enumerate(model.parameters()):
        p.data = math.sin(i + 1) / 3.0  # digits that need every bit of a double
    path = save(model, tmp_path / "m.json", loss="cross_entropy")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["nin"] == 3
    assert document["nouts"] == [4, 2]
    assert len(document["state"]) == 4 * (3 + 1) + 2 * (4 + 1)
    loaded = load(path)
    names = [f"W1[{j},{k}]" for j in range(1, 5) for k in range(1, 4)]
    assert set(names) < set(loaded.state_dict())
    assert [p.data for p in loaded.parameters()] == [math.sin(i + 1) / 3.0 for i in range(26)]
    assert loaded.loss == "cross_entropy"
    assert repr(loaded) == "MLP(3 → 4 tanh → 2 softmax)"
    for x in ([0.1, -0.2, 0.3], [2.0, 0.0, -1.5]):
        assert loaded.predict(x) == model.predict(x)


def test_a_hand_written_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_document(state={"W1[1,1]": 2, "W1[1,2]": -1, "b1[1]": 0.5})))
    model = load(path)
    assert model.state_dict() == {"W1[1,1]": 2.0, "W1[1,2]": -1.0, "b1[1]": 0.5}
    assert model.predict([1.0, 1.0]) == [2.0 - 1.0 + 0.5]  # relu is not applied to the output


# -- atomic saves ------------------------------------------------------------------------------


class _HalfWriter:
    """A file whose write puts half the bytes in the temporary file, then fails."""

    def __init__(self, f: Any, folder: Path, error: BaseException, seen: list[str]) -> None:
        self._f, self._folder, self._error, self._seen = f, folder, error, seen

    def write(self, data: bytes) -> int:
        self._f.write(data[: len(data) // 2])
        self._f.flush()
        self._seen.extend(_listing(self._folder))  # the temporary file, with half in it
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.close()


@pytest.mark.parametrize("failure", ["disk full", "interrupt", "fsync", "replace"])
@pytest.mark.parametrize("existing", [True, False])
def test_a_save_that_fails_midway_leaves_the_old_file(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      failure: str, existing: bool) -> None:
    path = tmp_path / "m.json"
    if existing:
        save(MLP(2, [4, 1], seed=1), path)
    before = path.read_bytes() if existing else None
    seen: list[str] = []
    expected: type[BaseException] = OSError
    if failure in ("disk full", "interrupt"):
        error: BaseException = (OSError(errno.ENOSPC, "No space left on device")
                                if failure == "disk full" else KeyboardInterrupt())
        expected = type(error)
        real_fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _HalfWriter(
            real_fdopen(fd, *a, **k), tmp_path, error, seen))
    elif failure == "fsync":
        def fsync(fd: int) -> None:
            seen.extend(_listing(tmp_path))
            raise OSError(errno.EIO, "Input/output error")
        monkeypatch.setattr(os, "fsync", fsync)
    else:
        def replace(src: Any, dst: Any) -> None:
            seen.extend(_listing(tmp_path))
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(expected) as caught:
        save(MLP(2, [4, 1], seed=2), path)
    monkeypatch.undo()
    assert any(re.fullmatch(r"\.m\.json\..+\.tmp", name) for name in seen), seen
    if isinstance(caught.value, OSError):
        assert str(path) in str(caught.value)
    assert _listing(tmp_path) == (["m.json"] if existing else [])
    if existing:
        assert path.read_bytes() == before


# The child saves two models in turn until it is killed. Each model's JSON text is made once
# and reused, so that more of a save's time goes on the file (the temporary file's write, its
# fsync, the rename) rather than on json.dumps, before the file is touched. Even so, the moment
# in which a truncating save would leave half a file is short (a write of 3.5 MB takes 1-2 ms
# of a 90 ms save), so this test is a check of the real thing, a process killed anywhere, and
# not a sure detector of a truncating save: test_a_save_that_fails_midway_leaves_the_old_file
# is that.
_CHILD = """
import json, sys, types
from autograd_mini import nn
path = sys.argv[1]
old, new = nn.MLP(2, [300, 300, 1], seed=1), nn.MLP(2, [300, 300, 1], seed=2)
texts = {}
def dumps(document, **options):
    key = document["state"]["W1[1,1]"]
    if key not in texts:
        texts[key] = json.dumps(document, **options)
    return texts[key]
nn.json = types.SimpleNamespace(dumps=dumps)
nn.save(new, path + ".warm-up")
nn.save(old, path + ".warm-up")
print("ready", flush=True)
while True:
    nn.save(new, path)
    nn.save(old, path)
"""


@pytest.mark.slow
def test_a_save_killed_at_random_moments_leaves_the_old_or_the_new_model(tmp_path: Path) -> None:
    old = MLP(2, [300, 300, 1], seed=1).state_dict()
    new = MLP(2, [300, 300, 1], seed=2).state_dict()
    assert len(old) == 300 * 3 + 300 * 301 + 301  # big enough for a save to take a while
    path = tmp_path / "m.json"
    save(MLP(2, [300, 300, 1], seed=1), path)
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    seen = []
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], env=env,
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            if child.stdout is not None:
                child.stdout.close()
        state = load(path).state_dict()
        assert state in (old, new), f"seed {seed}: a model that is neither"
        seen.append("new" if state == new else "old")
        # a kill may leave a temporary file behind, hidden, and never in place of the model
        assert all(name in ("m.json", "m.json.warm-up")
                   or re.fullmatch(r"\.m\.json\..+\.tmp", name)
                   for name in _listing(tmp_path)), _listing(tmp_path)
        assert time.monotonic() - started < 120, f"seed {seed}: too slow"
    print(f"seed {seed}: {seen}")


# -- diverged models ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [(math.nan, "nan"), (math.inf, "inf"),
                                               (-math.inf, "-inf")])
def test_save_refuses_a_diverged_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       value: float, shown: str) -> None:
    path = tmp_path / "m.json"
    save(_small_model(), path)
    before = path.read_bytes()
    model = _small_model()
    model.layers[1].neurons[0].w[2].data = value  # W^2_{13}: layer 2, neuron 1, input 3

    def write_atomic(*args: object, **kwargs: object) -> None:
        raise AssertionError("save wrote something")

    monkeypatch.setattr(nn, "write_atomic", write_atomic)
    for target in (path, tmp_path / "new.json"):
        with pytest.raises(ValueError, match=re.escape(f"W2[1,3] = {shown}")) as caught:
            save(model, target)
        message = str(caught.value)
        assert "diverged" in message
        assert "smaller learning rate (--lr)" in message
        assert str(target) in message
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["m.json"]


def test_save_counts_the_other_diverged_parameters(tmp_path: Path) -> None:
    model = _small_model()
    model.layers[0].neurons[1].b.data = math.inf
    model.layers[1].neurons[0].b.data = math.nan
    with pytest.raises(ValueError, match=re.escape("b1[2] = inf, and 1 more")):
        save(model, tmp_path / "m.json")
    assert _listing(tmp_path) == []


# -- hostile files -----------------------------------------------------------------------------


def _guarded_load(path: Path, **limits: int) -> BaseException | None:
    """load(path) in a thread, with a deadline (a FIFO must not hang the test run) and the
    peak of memory allocated meanwhile measured by tracemalloc."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            load(path, **limits)
            outcome.append(None)
        except BaseException as error:  # whatever it is, the test reports it
            outcome.append(error)

    tracemalloc.start()
    try:
        started = time.monotonic()
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=2 * SECONDS)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if worker.is_alive():
        if path.is_fifo():  # let the stuck reader go
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"load({path}) hangs")
    assert elapsed < SECONDS, f"load took {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"load allocated {peak} bytes"
    return outcome[0]


def _text(text: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "m.json"
        path.write_text(text, encoding="utf-8")
        return path
    return make


def _bytes(data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "m.json"
        path.write_bytes(data)
        return path
    return make


def _json(document: Any) -> Callable[[Path], Path]:
    return _text(json.dumps(document))


def _fifo(folder: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path = folder / "m.json"
    os.mkfifo(path)
    return path


def _dev_zero(folder: Path) -> Path:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    return Path("/dev/zero")


def _directory(folder: Path) -> Path:
    (folder / "m.json").mkdir()
    return folder / "m.json"


_VALID = json.dumps(_document())
HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    # (2 + 1)·100000 + (100000 + 1)·100000 + (100000 + 1)·1 parameters, in 150 bytes
    "huge architecture": (_json(_document(nouts=[100000, 100000, 1], state={})),
                          str(3 * 100000 + 100001 * 100000 + 100001) + " parameters"),
    "deep nesting": (_text("[" * 100_000), "lists or objects"),
    "deep objects": (_text('{"a":' * 100_000), "lists or objects"),
    "many empty lists": (_text("[" + "[]," * 100_000 + "[]]"), "lists or objects"),
    "400-digit nin": (_text(_VALID.replace('"nin": 2', '"nin": ' + "7" * 400)), "400 digits"),
    "400-digit weight": (_text(_VALID.replace("0.5", "-" + "7" * 400)), "400 digits"),
    "100000-digit weight": (_text(_VALID.replace("0.5", "7" * 100_000)), "100000 digits"),
    "/dev/zero": (_dev_zero, "character device"),
    "FIFO": (_fifo, "FIFO"),
    "directory": (_directory, "directory"),
    "empty": (_text(""), "empty"),
    "invalid UTF-8": (_bytes(_VALID.encode().replace(b"relu", b"rel\xff")), "not UTF-8"),
    "UTF-16": (_bytes(_VALID.encode("utf-16")), "not UTF-8"),
    "truncated JSON": (_text(_VALID[: len(_VALID) // 2]), "invalid JSON"),
    "a list": (_text("[1, 2, 3]"), "not an autograd_mini model file"),
    "no format": (_json({k: v for k, v in _document().items() if k != "format"}),
                  "not an autograd_mini model file"),
    "duplicate key": (_text(_VALID.replace('"b1[1]": 0.125', '"b1[1]": 0.125, "b1[1]": 9')),
                      "'b1[1]' appears twice"),
    "string nin": (_json(_document(nin="2")), "'nin' must be an integer, not str"),
    "float nin": (_json(_document(nin=2.0)), "'nin' must be an integer, not float"),
    "bool version": (_json(_document(version=True)), "'version' must be an integer, not bool"),
    "nouts a number": (_json(_document(nouts=1)), "'nouts' must be a list, not int"),
    "empty nouts": (_json(_document(nouts=[])), "'nouts' must be a list of layer sizes"),
    "nested nouts": (_json(_document(nouts=[[1]])), "'nouts' must be a list of layer sizes"),
    "zero layer": (_json(_document(nouts=[0, 1])), "layer sizes must be positive"),
    "negative nin": (_json(_document(nin=-2)), "layer sizes must be positive"),
    "state a list": (_json(_document(state=[0.5, -0.25, 0.125])),
                     "'state' must be an object, not list"),
    "activation a list": (_json(_document(activation=["relu"])),
                          "'activation' must be a string, not list"),
    "unknown init": (_json(_document(init="zeros")), "unknown init 'zeros'"),
    "loss a number": (_json(_document(loss=3)), "'loss' must be a string, not int"),
    "unknown loss": (_json(_document(loss="huber")),
                     "unknown loss 'huber'; choose from squared_error, mse, bce"),
    "missing key": (_json({k: v for k, v in _document().items() if k != "nouts"}),
                    "has no 'nouts'"),
    "extra key": (_json(_document(pickle="cos\nsystem")), "unexpected key 'pickle'"),
    "missing parameter": (_json(_document(state={"W1[1,1]": 0.5, "W1[1,2]": 0.5})),
                          "has 3 parameters, the file 2; missing b1[1]"),
    "extra parameter": (_json(_document(state={**_document()["state"], "W1[1,3]": 1.0})),
                        "has 3 parameters, the file 4; unexpected W1[1,3]"),
    "renamed parameter": (_json(_document(state={"W1[1,1]": 0.5, "W1[1,2]": 0.5, "b": 0.5})),
                          "missing b1[1]; unexpected b"),
    "string weight": (_json(_document(state={**_document()["state"], "b1[1]": "0.1"})),
                      "b1[1] must be a number, not str"),
    "null weight": (_json(_document(state={**_document()["state"], "b1[1]": None})),
                    "b1[1] must be a number, not NoneType"),
    "NaN weight": (_text(_VALID.replace("0.125", "NaN")), "b1[1] is nan, not a finite number"),
    "Infinity weight": (_text(_VALID.replace("0.125", "-Infinity")),
                        "b1[1] is -inf, not a finite number"),
    "1e400 weight": (_text(_VALID.replace("0.125", "1e400")),
                     "b1[1] is inf, not a finite number"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_load_refuses_a_hostile_file_quickly_and_in_little_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    make, problem = HOSTILE[case]
    path = make(tmp_path)

    def no_mlp(*args: object, **kwargs: object) -> MLP:
        raise AssertionError("load built a network for a bad file")

    monkeypatch.setattr(nn, "MLP", no_mlp)  # every check comes before the network is built
    error = _guarded_load(path)
    assert isinstance(error, ValueError), repr(error)
    message = str(error)
    assert message.startswith(f"cannot load {path}: "), message
    assert problem in message, message


def test_load_reads_at_most_max_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(_small_model(), tmp_path / "m.json")
    size = os.path.getsize(path)
    assert load(path, max_bytes=size).state_dict() == _small_model().state_dict()
    error = _guarded_load(path, max_bytes=size - 1)
    assert isinstance(error, ValueError)
    assert str(error) == (f"cannot load {path}: it has {size} bytes, more than "
                          f"max_bytes = {size - 1}")
    # a file that grows after it was measured is still cut off at max_bytes + 1 bytes
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: os.stat_result(
        (*real_stat(p, *a, **k)[:6], 10, *real_stat(p, *a, **k)[7:])))
    reads: list[int] = []
    real_read = os.read

    def read(fd: int, n: int) -> bytes:
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    with pytest.raises(ValueError, match="more than max_bytes = 100 bytes"):
        load(path, max_bytes=100)
    assert sum(reads) <= 101


def test_load_refuses_more_than_max_parameters(tmp_path: Path) -> None:
    path = save(_small_model(), tmp_path / "m.json")
    assert len(load(path, max_parameters=13).parameters()) == 13  # 3·(2 + 1) + 1·(3 + 1)
    error = _guarded_load(path, max_parameters=12)
    assert isinstance(error, ValueError)
    assert "2 → 3 → 1 has 13 parameters, more than max_parameters = 12" in str(error)


@pytest.mark.parametrize("limits", [{"max_bytes": -1}, {"max_parameters": 1.5},
                                    {"max_bytes": True}])
def test_load_checks_its_limits(tmp_path: Path, limits: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be a non-negative integer"):
        load(save(_small_model(), tmp_path / "m.json"), **limits)


def test_errors_of_the_operating_system_stay_oserrors_that_name_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=re.escape(f"cannot load {missing}: ")):
        load(missing)
    path = save(_small_model(), tmp_path / "m.json")

    def denied(*args: object, **kwargs: object) -> int:  # root may read anything: simulate it
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(PermissionError) as caught:
        load(path)
    assert caught.value.errno == errno.EACCES
    assert str(path) in str(caught.value)
    with pytest.raises(ValueError, match=r"cannot load .*: embedded null"):
        load(str(tmp_path / "a\0b"))


# -- fuzzing: a loaded MLP or a ValueError, never anything else ---------------------------------

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.just(10**400)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12)


def _load_or_refuse(path: Path) -> MLP | None:
    """The model, or None when load refused the file with a ValueError naming it; any other
    exception fails the test."""
    try:
        return load(path)
    except ValueError as error:
        message = str(error)
    assert message.startswith(f"cannot load {path}: "), message
    return None


@FUZZ
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b'{"format": "' +
                                                              FORMAT.encode() + b'", ']))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes, prefix: bytes) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(prefix + data)
    _load_or_refuse(path)


@FUZZ
@given(document=json_values | st.fixed_dictionaries(
    {"format": st.just(FORMAT)},
    optional={key: json_values | st.sampled_from([1, 2, [1], [2, 1], "relu", "linear",
                                                  "uniform", {"b1[1]": 0.0}])
              for key in ("version", "nin", "nouts", "activation", "output", "init", "state",
                          "loss")}))
def test_fuzz_random_json(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _load_or_refuse(path)


_PARAMETERS = ["W1[1,1]", "W1[1,2]", "b1[1]", "W1[2,1]", "b2[1]", "W2[1,2]"]
mutations = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from([*_document()])),
    st.tuples(st.just("set"), st.sampled_from([*_document(), "loss", "extra"]), json_values),
    st.tuples(st.just("set"), st.sampled_from(["nin", "version"]), st.integers(-2, 10**9)),
    st.tuples(st.just("set"), st.just("nouts"), st.lists(st.integers(-1, 10**6), max_size=3)),
    st.tuples(st.just("drop parameter"), st.sampled_from(_PARAMETERS)),
    st.tuples(st.just("set parameter"), st.sampled_from(_PARAMETERS),
              json_values | st.floats(-1e308, 1e308)),
)


@FUZZ
@given(changes=st.lists(mutations, max_size=4), cut=st.none() | st.integers(0, 400),
       flip=st.none() | st.tuples(st.integers(0, 400), st.integers(0, 255)))
def test_fuzz_mutations_of_a_valid_file(tmp_path: Path, changes: list[tuple[Any, ...]],
                                        cut: int | None,
                                        flip: tuple[int, int] | None) -> None:
    document = _document()
    for change in changes:
        kind, key, *value = change
        if kind == "drop":
            document.pop(key, None)
        elif kind == "set":
            document[key] = value[0]
        elif isinstance(document.get("state"), dict):
            state = dict(document["state"])
            if kind == "drop parameter":
                state.pop(key, None)
            else:
                state[key] = value[0]
            document["state"] = state
    data = json.dumps(document).encode()
    intact = cut is None and flip is None
    if cut is not None:
        data = data[:cut]
    if flip is not None and flip[0] < len(data):
        data = data[: flip[0]] + bytes([flip[1]]) + data[flip[0] + 1:]
    path = tmp_path / "m.json"
    path.write_bytes(data)
    model = _load_or_refuse(path)
    if model is not None and intact:  # what was loaded is what the document says
        assert model.nin == document["nin"]
        assert model.nouts == document["nouts"]
        assert model.state_dict() == {k: float(v) for k, v in document["state"].items()}


def test_an_open_string_full_of_escaped_quotes_is_refused_quickly(tmp_path: Path) -> None:
    # a string left open, of 10⁶ escaped quotes: linear to scan, not quadratic
    path = tmp_path / "open.json"
    path.write_text('"' + '\\"' * 1_000_000, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="cannot load"):
        nn.load(path)
    assert time.perf_counter() - start < 5.0
