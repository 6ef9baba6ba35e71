"""Small classification datasets as plain lists of floats, for training networks built from
:class:`~autograd_mini.Value` nodes.

Every generator takes a ``seed``, either an ``int`` or a :class:`random.Random`, and draws
from its own generator: the same seed always gives the same data, and the global
:mod:`random` state is neither read nor changed. Pure Python; no numpy.

The geometry, with ``m`` points in a class and Gaussian noise ε ~ N(0, noise²) added to
each coordinate afterwards:

* :func:`xor`: the four corners of the unit square, labelled x₁ XOR x₂.
* :func:`moons`: two interleaving half circles of radius 1, as scikit-learn's
  ``make_moons``. With tᵢ = π·i/(m − 1):
  upper moon (class 0) (cos t, sin t), centred at (0, 0), y ≥ 0;
  lower moon (class 1) (1 − cos t, ½ − sin t), centred at (1, ½), y ≤ ½.
* :func:`circles`: two concentric circles, as scikit-learn's ``make_circles``. With
  tᵢ = 2π·i/m: outer (class 0) (cos t, sin t), radius 1; inner (class 1)
  factor·(cos t, sin t), radius ``factor``.
* :func:`spirals`: K interleaved Archimedean spirals (Lang and Witbrock's "two spirals"
  benchmark, 1988). With sᵢ = (i + 1)/m, the angle θ = 2π·turns·s and the radius r = s, so
  r = θ/(2π·turns) grows in proportion to the angle and reaches 1 after ``turns`` turns; arm
  k is turned by 2πk/K: (r cos(θ + 2πk/K), r sin(θ + 2πk/K)).
* :func:`iris`: Fisher's 150 irises, read from the CSV shipped in ``autograd_mini/data``.

The generated points are shuffled, so any slice mixes the classes. Labels are the integers
0 … k − 1 of ``Dataset.classes``; :meth:`Dataset.one_hot` and :meth:`Dataset.signs` give the
targets of softmax or hinge losses. The geometry follows scikit-learn's generators (BSD-3);
the code is our own.

>>> from autograd_mini.datasets import iris, standardize, train_test_split
>>> data = iris()
>>> data
Dataset(name='iris', samples=150, features=('sepal_length', 'sepal_width', 'petal_length', \
'petal_width'), classes=('setosa', 'versicolor', 'virginica'))
>>> train, test = standardize(*train_test_split(data, test_fraction=0.2, seed=0))
>>> len(train), len(test)
(120, 30)
>>> [test.y.count(k) for k in range(3)]   # stratified: 10 of each species
[10, 10, 10]
"""

from __future__ import annotations

import csv
import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "Dataset",
    "Seed",
    "Standardizer",
    "circles",
    "iris",
    "moons",
    "spirals",
    "standardize",
    "train_test_split",
    "xor",
]

Seed = int | random.Random
"""An ``int`` seeds a fresh :class:`random.Random`; a ``Random`` is used (and advanced) as is."""


@dataclass(frozen=True, repr=False)
class Dataset:
    """Samples ``X`` (one list of floats per sample) with integer class labels ``y``.

    ``y[i]`` is an index into ``classes``. The constructor copies ``X`` and ``y`` (converting
    features to float) and checks that the shapes agree, so a Dataset never shares its lists
    with the caller.

    >>> d = Dataset([[0, 1], [2, 3]], [1, 0], ("no", "yes"), ("a", "b"), "tiny")
    >>> d.X, len(d)
    ([[0.0, 1.0], [2.0, 3.0]], 2)
    >>> d.one_hot(), d.signs()
    ([[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0])
    """

    X: list[list[float]]
    y: list[int]
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        rows = [[float(v) for v in row] for row in self.X]
        labels = list(self.y)
        classes, features = tuple(self.classes), tuple(self.feature_names)
        if len(rows) != len(labels):
            raise ValueError(f"{self.name}: {len(rows)} samples but {len(labels)} labels")
        if not classes:
            raise ValueError(f"{self.name}: a dataset needs at least one class")
        for i, row in enumerate(rows):
            if len(row) != len(features):
                raise ValueError(
                    f"{self.name}: sample {i} has {len(row)} features, expected {len(features)}"
                )
        for i, label in enumerate(labels):
            if isinstance(label, bool) or not isinstance(label, int):
                raise TypeError(f"{self.name}: label {i} is {label!r}, not an int")
            if not 0 <= label < len(classes):
                raise ValueError(
                    f"{self.name}: label {i} is {label}, outside 0..{len(classes) - 1}"
                )
        object.__setattr__(self, "X", rows)
        object.__setattr__(self, "y", labels)
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "feature_names", features)

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, samples={len(self)}, "
            f"features={self.feature_names!r}, classes={self.classes!r})"
        )

    def one_hot(self) -> list[list[float]]:
        """One row per sample: 1.0 in the column of its class, 0.0 elsewhere."""
        k = len(self.classes)
        return [[1.0 if j == label else 0.0 for j in range(k)] for label in self.y]

    def signs(self) -> list[float]:
        """The labels of a two-class dataset as −1.0 (class 0) and +1.0 (class 1), the
        targets of the hinge loss max(0, 1 − y·score)."""
        if len(self.classes) != 2:
            raise ValueError(
                f"{self.name}: signs() needs exactly 2 classes, this dataset has "
                f"{len(self.classes)}; use one_hot() instead"
            )
        return [2.0 * label - 1.0 for label in self.y]

    def standardized(self) -> Dataset:
        """A copy whose every feature has mean 0 and standard deviation 1.

        To transform a test set with the training set's statistics, use
        :func:`standardize` or :class:`Standardizer` instead.
        """
        return Standardizer.fit(self).transform(self)


@dataclass(frozen=True)
class Standardizer:
    """Per-feature statistics for x ↦ (x − μ)/σ, fitted on one dataset and applied to any.

    ``means`` holds μ = (1/n)·Σ xᵢ and ``stds`` the population standard deviation
    σ = √((1/n)·Σ (xᵢ − μ)²) of each feature.

    NOTE: a constant feature has σ = 0; its divisor is stored as 1.0 (as scikit-learn's
    StandardScaler does), so it is centred but not scaled, and never divided by zero.

    >>> s = Standardizer.fit(Dataset([[1.0], [3.0]], [0, 1], ("a", "b"), ("x",), "two"))
    >>> s
    Standardizer(means=(2.0,), stds=(1.0,))
    >>> s.transform_row([5.0])
    [3.0]
    """

    means: tuple[float, ...]
    stds: tuple[float, ...]

    @classmethod
    def fit(cls, dataset: Dataset) -> Standardizer:
        """The means and standard deviations of ``dataset``'s features."""
        n = len(dataset)
        if n == 0:
            raise ValueError(f"{dataset.name}: cannot standardize an empty dataset")
        columns = [[row[j] for row in dataset.X] for j in range(len(dataset.feature_names))]
        means = [math.fsum(col) / n for col in columns]
        stds = [
            math.sqrt(math.fsum((v - mu) ** 2 for v in col) / n)
            for col, mu in zip(columns, means, strict=True)
        ]
        return cls(tuple(means), tuple(s if s > 0.0 else 1.0 for s in stds))

    def transform_row(self, row: Sequence[float]) -> list[float]:
        """One sample, standardized: [(xⱼ − μⱼ)/σⱼ for each feature j]."""
        if len(row) != len(self.means):
            raise ValueError(f"expected {len(self.means)} features, got {len(row)}")
        return [(v - mu) / s for v, mu, s in zip(row, self.means, self.stds, strict=True)]

    def transform(self, dataset: Dataset) -> Dataset:
        """A copy of ``dataset`` with every sample standardized; labels unchanged."""
        return dataclasses.replace(dataset, X=[self.transform_row(row) for row in dataset.X])


def standardize(train: Dataset, test: Dataset) -> tuple[Dataset, Dataset]:
    """Standardize both sets with the training set's means and standard deviations.

    The test set is not used to fit anything, so no information leaks from it into training.
    """
    s = Standardizer.fit(train)
    return s.transform(train), s.transform(test)


def train_test_split(
    dataset: Dataset, test_fraction: float = 0.2, seed: Seed = 0, stratify: bool = True
) -> tuple[Dataset, Dataset]:
    """Split ``dataset`` into a training and a test set after a seeded shuffle.

    The test set gets t = round(test_fraction · n) samples (halves round up). With
    ``stratify`` (the default) each class c, of n_c samples, contributes its share
    ⌊t · n_c / n⌋, and the few samples left over go to the classes with the largest
    remainders (ties to the lower label), so the class proportions of both sets match the
    whole as closely as whole numbers allow. Within a class, which samples go to the test
    set is decided by the shuffle. Both sets are in shuffled order; together they hold every
    sample exactly once.

    >>> from autograd_mini.datasets import moons
    >>> train, test = train_test_split(moons(n=10), test_fraction=0.2)
    >>> len(train), len(test), sorted(test.y)
    (8, 2, [0, 1])
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    n = len(dataset)
    n_test = math.floor(test_fraction * n + 0.5)
    if not 0 < n_test < n:
        raise ValueError(
            f"{dataset.name}: test_fraction {test_fraction} of {n} samples leaves "
            f"{n_test} for testing and {n - n_test} for training; both must be non-empty"
        )
    order = list(range(n))
    _rng(seed).shuffle(order)
    if not stratify:
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        quota = _apportion(n_test, [dataset.y.count(c) for c in range(len(dataset.classes))])
        test_idx, train_idx = [], []
        for i in order:
            label = dataset.y[i]
            if quota[label] > 0:
                quota[label] -= 1
                test_idx.append(i)
            else:
                train_idx.append(i)
    return _subset(dataset, train_idx, "train"), _subset(dataset, test_idx, "test")


def xor() -> Dataset:
    """The four points of XOR: inputs (0, 0), (0, 1), (1, 0), (1, 1) and labels 0, 1, 1, 0.

    The classic problem no single linear unit can solve: the classes sit on the two
    diagonals of the unit square. For one sigmoid output, the targets are
    ``[[float(t)] for t in xor().y]``.

    >>> d = xor()
    >>> d.X, d.y
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    return Dataset(
        [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        [0, 1, 1, 0],
        ("0", "1"),
        ("x1", "x2"),
        "xor",
    )


def moons(n: int = 100, noise: float = 0.1, seed: Seed = 0) -> Dataset:
    """Two interleaving half circles of radius 1, ``n // 2`` points in the upper one.

    With tᵢ = π·i/(m − 1), i = 0 … m − 1, evenly spaced over [0, π]:

    * class 0, upper moon: (cos t, sin t), centred at (0, 0), y ≥ 0;
    * class 1, lower moon: (1 − cos t, ½ − sin t), centred at (1, ½), y ≤ ½;

    then N(0, noise²) noise on each coordinate. Each moon's tip reaches into the other's
    hollow, so no straight line separates the classes.

    >>> import math
    >>> d = moons(n=20, noise=0.0)
    >>> all(math.isclose(math.dist(p, (0, 0) if c == 0 else (1, 0.5)), 1.0)
    ...     for p, c in zip(d.X, d.y))
    True
    """
    _check_n(n, 2)
    _check_noise(noise)
    rng = _rng(seed)
    n_upper, n_lower = _class_sizes(n, 2)
    points = [[math.cos(t), math.sin(t)] for t in _linspace(math.pi, n_upper, endpoint=True)]
    points += [
        [1.0 - math.cos(t), 0.5 - math.sin(t)]
        for t in _linspace(math.pi, n_lower, endpoint=True)
    ]
    labels = [0] * n_upper + [1] * n_lower
    return _finish(points, labels, noise, rng, ("upper", "lower"), "moons")


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: Seed = 0) -> Dataset:
    """Two concentric circles, ``n // 2`` points on the outer one.

    With tᵢ = 2π·i/m, i = 0 … m − 1 (evenly spaced, 2π left out so no point repeats):

    * class 0, outer circle: (cos t, sin t), radius 1;
    * class 1, inner circle: factor·(cos t, sin t), radius ``factor`` (0 ≤ factor < 1);

    then N(0, noise²) noise on each coordinate. The classes are separated by the radius
    alone, a feature a network has to build from x and y.

    >>> import math
    >>> d = circles(n=20, noise=0.0, factor=0.25)
    >>> sorted({round(math.hypot(*p), 12) for p in d.X})
    [0.25, 1.0]
    """
    _check_n(n, 2)
    _check_noise(noise)
    if not 0.0 <= factor < 1.0:
        raise ValueError(f"circles: factor must be in [0, 1), got {factor}")
    rng = _rng(seed)
    n_outer, n_inner = _class_sizes(n, 2)
    points = [[math.cos(t), math.sin(t)] for t in _linspace(2 * math.pi, n_outer, endpoint=False)]
    points += [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in _linspace(2 * math.pi, n_inner, endpoint=False)
    ]
    labels = [0] * n_outer + [1] * n_inner
    return _finish(points, labels, noise, rng, ("outer", "inner"), "circles")


def spirals(
    n: int = 100, noise: float = 0.05, turns: float = 1.5, classes: int = 2, seed: Seed = 0
) -> Dataset:
    """``classes`` interleaved Archimedean spirals, each turned by 2π/classes from the last.

    Arm k of K = ``classes`` holds m points (n split as evenly as possible). For
    i = 0 … m − 1, with s = (i + 1)/m:

        θ = 2π·turns·s,   r = s = θ/(2π·turns),   φ = θ + 2πk/K,
        point = (r cos φ, r sin φ),

    so the radius grows in proportion to the angle, from 1/m to 1 after ``turns`` full
    turns; then N(0, noise²) noise on each coordinate. The arms never share a point (s > 0),
    and the more turns, the harder the problem: the two-spirals benchmark of Lang and
    Witbrock (1988) is a classic test of how a network bends its decision boundary.

    >>> import math
    >>> d = spirals(n=4, noise=0.0, turns=1.0)   # r = ½ at θ = π, r = 1 at θ = 2π
    >>> sorted((c, round(x, 12) + 0.0, round(y, 12) + 0.0) for (x, y), c in zip(d.X, d.y))
    [(0, -0.5, 0.0), (0, 1.0, 0.0), (1, -1.0, 0.0), (1, 0.5, 0.0)]
    """
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"spirals: classes must be an int ≥ 2, got {classes!r}")
    _check_n(n, classes)
    _check_noise(noise)
    if not (math.isfinite(turns) and turns > 0.0):
        raise ValueError(f"spirals: turns must be positive, got {turns}")
    rng = _rng(seed)
    points: list[list[float]] = []
    labels: list[int] = []
    for k, m in enumerate(_class_sizes(n, classes)):
        for i in range(m):
            s = (i + 1) / m
            phi = 2 * math.pi * (turns * s + k / classes)
            points.append([s * math.cos(phi), s * math.sin(phi)])
            labels.append(k)
    names = tuple(f"arm {k}" for k in range(classes))
    return _finish(points, labels, noise, rng, names, "spirals")


_IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
_IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def iris() -> Dataset:
    """Fisher's iris data: 150 flowers, 50 of each of three species, four measurements in cm.

    Features: sepal length, sepal width, petal length and petal width; classes: setosa,
    versicolor and virginica, in the order of the file (50 setosa, then 50 versicolor, then
    50 virginica). Setosa is linearly separable from the other two; versicolor and virginica
    overlap a little.

    Source: R. A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of
    Eugenics 7 (1936), 179–188; measurements by Edgar Anderson. The values are those of
    Fisher's paper (and of R's ``iris``), distributed by the UCI Machine Learning Repository
    (CC BY 4.0); the file is a copy of the one scikit-learn ships (see
    ``autograd_mini/data/README.md``).

    >>> d = iris()
    >>> d.X[0], d.classes[d.y[0]]
    ([5.1, 3.5, 1.4, 0.2], 'setosa')
    """
    path = resources.files("autograd_mini") / "data" / "iris.csv"
    reader = csv.reader(path.read_text(encoding="utf-8").splitlines())
    header = next(reader)
    if tuple(header) != (*_IRIS_FEATURES, "species"):
        raise ValueError(f"iris.csv: unexpected header {header}")
    rows: list[list[float]] = []
    labels: list[int] = []
    for record in reader:
        *values, species = record
        rows.append([float(v) for v in values])
        labels.append(_IRIS_CLASSES.index(species))
    return Dataset(rows, labels, _IRIS_CLASSES, _IRIS_FEATURES, "iris")


# --- helpers -----------------------------------------------------------------------------


def _rng(seed: Seed) -> random.Random:
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or a random.Random, not {type(seed).__name__}")
    return random.Random(seed)


def _check_n(n: int, k: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < k:
        raise ValueError(f"n must be an int ≥ {k} (one point per class), got {n!r}")


def _check_noise(noise: float) -> None:
    if not (math.isfinite(noise) and noise >= 0.0):
        raise ValueError(f"noise must be a finite standard deviation ≥ 0, got {noise}")


def _class_sizes(n: int, k: int) -> list[int]:
    """n split into k near-equal parts; the last n mod k parts get one point more."""
    q, r = divmod(n, k)
    return [q + (1 if c >= k - r else 0) for c in range(k)]


def _linspace(stop: float, m: int, endpoint: bool) -> list[float]:
    """m evenly spaced angles from 0 to ``stop``, including ``stop`` if ``endpoint``."""
    if endpoint:
        return [stop * i / (m - 1) for i in range(m)] if m > 1 else [0.0] * m
    return [stop * i / m for i in range(m)]


def _finish(
    points: list[list[float]],
    labels: list[int],
    noise: float,
    rng: random.Random,
    classes: tuple[str, ...],
    name: str,
) -> Dataset:
    """Add N(0, noise²) to every coordinate, then shuffle samples and labels together."""
    if noise > 0.0:
        points = [[v + rng.gauss(0.0, noise) for v in p] for p in points]
    order = list(range(len(points)))
    rng.shuffle(order)
    return Dataset(
        [points[i] for i in order], [labels[i] for i in order], classes, ("x1", "x2"), name
    )


def _apportion(total: int, sizes: list[int]) -> list[int]:
    """``total`` split in proportion to ``sizes`` by largest remainders (Hamilton's method)."""
    n = sum(sizes)
    shares = [total * s // n for s in sizes]
    remainders = sorted(range(len(sizes)), key=lambda c: (-(total * sizes[c] % n), c))
    for c in remainders[: total - sum(shares)]:
        shares[c] += 1
    return shares


def _subset(dataset: Dataset, indices: list[int], part: str) -> Dataset:
    return dataclasses.replace(
        dataset,
        X=[dataset.X[i] for i in indices],
        y=[dataset.y[i] for i in indices],
        name=f"{dataset.name} ({part})",
    )
