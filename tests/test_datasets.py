"""autograd_mini.datasets: seeded generators, Fisher's iris, splits and standardization.

Expected values are worked by hand in the test (points on circles and spirals, split sizes,
means and deviations computed here) or are published facts about the iris data (R's
``summary(iris)`` and per-species means, Fisher's values of flowers 35 and 38).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable

import pytest

from autograd_mini.datasets import (
    Dataset,
    Standardizer,
    circles,
    iris,
    moons,
    spirals,
    standardize,
    train_test_split,
    xor,
)

GENERATORS: dict[str, Callable[..., Dataset]] = {
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def pstd(xs: list[float]) -> float:
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def column(d: Dataset, j: int) -> list[float]:
    return [row[j] for row in d.X]


def of_class(d: Dataset, k: int) -> list[list[float]]:
    return [row for row, label in zip(d.X, d.y, strict=True) if label == k]


def indexed(labels: list[int]) -> Dataset:
    """Sample i has the single feature i, so a split's indices can be read back."""
    k = max(labels) + 1
    return Dataset([[i] for i in range(len(labels))], labels,
                   tuple(f"c{c}" for c in range(k)), ("i",), "indexed")


def indices(d: Dataset) -> list[int]:
    return [int(row[0]) for row in d.X]


# --- xor ---------------------------------------------------------------------------------


def test_xor_is_the_four_points_of_the_tutorial() -> None:
    # the four XOR points of the "Backpropagation" tutorial notebook (notation of
    # neuralnetworksanddeeplearning.com, chapter 2), which trains a [2, 2, 1] sigmoid network
    d = xor()
    assert d.X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert d.y == [0, 1, 1, 0]
    assert [[float(t)] for t in d.y] == [[0.0], [1.0], [1.0], [0.0]]
    assert len(d) == 4
    assert d.feature_names == ("x1", "x2")
    assert len(d.classes) == 2


# --- determinism -------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    make = GENERATORS[name]
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    assert a.X == b.X
    assert a.y == b.y
    assert a.X != c.X


@pytest.mark.parametrize("name", GENERATORS)
def test_a_random_instance_works_like_its_seed_and_advances(name: str) -> None:
    make = GENERATORS[name]
    rng = random.Random(3)
    first, second = make(seed=rng), make(seed=rng)
    assert first == make(seed=3)
    assert second.X != first.X


@pytest.mark.parametrize("name", GENERATORS)
def test_global_random_state_is_neither_read_nor_changed(name: str) -> None:
    make = GENERATORS[name]
    saved = random.getstate()
    try:
        random.seed(1)
        a = make()
        random.seed(2)
        state = random.getstate()
        b = make()
        assert random.getstate() == state
        assert a == b
    finally:
        random.setstate(saved)


@pytest.mark.parametrize("seed", [1.0, "0", None, True])
def test_seed_must_be_an_int_or_a_random(seed: object) -> None:
    with pytest.raises(TypeError, match="seed"):
        moons(seed=seed)  # type: ignore[arg-type]


# --- sizes and balance -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "n", "counts"), [
    ("moons", 100, [50, 50]),
    ("moons", 101, [50, 51]),
    ("circles", 100, [50, 50]),
    ("circles", 7, [3, 4]),
    ("spirals", 100, [50, 50]),
    ("spirals", 2, [1, 1]),
])
def test_sizes_and_class_balance(name: str, n: int, counts: list[int]) -> None:
    d = GENERATORS[name](n=n)
    assert len(d) == len(d.X) == n
    assert [d.y.count(k) for k in range(len(d.classes))] == counts
    assert all(len(row) == 2 for row in d.X)
    assert d.feature_names == ("x1", "x2")


def test_spirals_with_three_arms() -> None:
    d = spirals(n=100, classes=3)
    assert d.classes == ("arm 0", "arm 1", "arm 2")
    assert [d.y.count(k) for k in range(3)] == [33, 33, 34]


def test_samples_are_shuffled() -> None:
    d = moons(n=100)
    assert d.y != sorted(d.y)
    assert 10 < d.y[:50].count(0) < 40


@pytest.mark.parametrize(("call", "match"), [
    (lambda: moons(n=1), "n must be"),
    (lambda: circles(n=0), "n must be"),
    (lambda: spirals(n=2, classes=3), "n must be"),
    (lambda: moons(n=10.0), "n must be"),  # type: ignore[arg-type]
    (lambda: moons(noise=-0.1), "noise"),
    (lambda: circles(noise=math.nan), "noise"),
    (lambda: circles(factor=1.0), "factor"),
    (lambda: circles(factor=-0.5), "factor"),
    (lambda: spirals(classes=1), "classes"),
    (lambda: spirals(turns=0.0), "turns"),
])
def test_bad_arguments_are_rejected(call: Callable[[], Dataset], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# --- geometry, noise = 0 -----------------------------------------------------------------


def test_moons_of_four_points_by_hand() -> None:
    # t ∈ {0, π}: upper (cos t, sin t) → (1, 0), (−1, 0); lower (1 − cos t, ½ − sin t) →
    # (0, ½), (2, ½)
    d = moons(n=4, noise=0.0)
    upper = sorted((round(x, 12) + 0.0, round(y, 12) + 0.0) for x, y in of_class(d, 0))
    lower = sorted((round(x, 12) + 0.0, round(y, 12) + 0.0) for x, y in of_class(d, 1))
    assert upper == [(-1.0, 0.0), (1.0, 0.0)]
    assert lower == [(0.0, 0.5), (2.0, 0.5)]


def test_moons_lie_on_their_unit_half_circles() -> None:
    d = moons(n=51, noise=0.0)
    for (x, y), label in zip(d.X, d.y, strict=True):
        if label == 0:
            assert close(math.hypot(x, y), 1.0)
            assert y >= 0.0
        else:
            assert close(math.hypot(x - 1.0, y - 0.5), 1.0)
            assert y <= 0.5 + 1e-12
    # the m = 25 upper angles are π·i/24, i = 0 … 24
    angles = sorted(math.atan2(y, x) for x, y in of_class(d, 0))
    assert all(close(a, math.pi * i / 24) for i, a in enumerate(angles))


def test_circles_have_radii_one_and_factor_and_even_angles() -> None:
    d = circles(n=20, noise=0.0, factor=0.3)
    outer, inner = of_class(d, 0), of_class(d, 1)
    assert all(close(math.hypot(x, y), 1.0) for x, y in outer)
    assert all(close(math.hypot(x, y), 0.3) for x, y in inner)
    # ten angles 2π·i/10, i = 0 … 9: no point repeats at 2π
    for ring in (outer, inner):
        angles = sorted(math.atan2(y, x) % (2 * math.pi) for x, y in ring)
        assert all(math.isclose(a, 2 * math.pi * i / 10, abs_tol=1e-12)
                   for i, a in enumerate(angles))


def test_circles_of_eight_points_by_hand() -> None:
    d = circles(n=8, noise=0.0, factor=0.5)
    points = sorted((label, round(x, 12) + 0.0, round(y, 12) + 0.0)
                    for (x, y), label in zip(d.X, d.y, strict=True))
    assert points == [
        (0, -1.0, 0.0), (0, 0.0, -1.0), (0, 0.0, 1.0), (0, 1.0, 0.0),
        (1, -0.5, 0.0), (1, 0.0, -0.5), (1, 0.0, 0.5), (1, 0.5, 0.0),
    ]


def test_spirals_of_four_points_by_hand() -> None:
    # one turn, m = 2 per arm: s = ½, 1; θ = 2πs = π, 2π; arm 1 is turned by π
    d = spirals(n=4, noise=0.0, turns=1.0)
    points = sorted((label, round(x, 12) + 0.0, round(y, 12) + 0.0)
                    for (x, y), label in zip(d.X, d.y, strict=True))
    assert points == [(0, -0.5, 0.0), (0, 1.0, 0.0), (1, -1.0, 0.0), (1, 0.5, 0.0)]


@pytest.mark.parametrize(("classes", "turns"), [(2, 1.5), (3, 2.0), (4, 0.75)])
def test_spiral_radius_grows_in_proportion_to_the_angle(classes: int, turns: float) -> None:
    d = spirals(n=40 * classes, noise=0.0, turns=turns, classes=classes)
    for k in range(classes):
        arm = sorted(of_class(d, k), key=lambda p: math.hypot(*p))
        radii = [math.hypot(x, y) for x, y in arm]
        assert all(close(r, (i + 1) / 40) for i, r in enumerate(radii))  # r = s = (i+1)/m
        # unwrap the polar angle along the arm: θ + 2πk/K increases, and θ = 2π·turns·r
        theta, previous = [], None
        for x, y in arm:
            a = math.atan2(y, x)
            if previous is not None:
                a = previous + (a - previous + math.pi) % (2 * math.pi) - math.pi
            theta.append(a)
            previous = a
        assert all(b > a for a, b in itertools.pairwise(theta))
        offset = theta[0] - 2 * math.pi * turns * radii[0]
        turned = (offset - 2 * math.pi * k / classes) % (2 * math.pi)  # arm k: turned by 2πk/K
        assert min(turned, 2 * math.pi - turned) < 1e-9
        assert all(math.isclose(t - offset, 2 * math.pi * turns * r, abs_tol=1e-9)
                   for t, r in zip(theta, radii, strict=True))


def test_noise_has_the_requested_standard_deviation() -> None:
    # radial noise of an isotropic N(0, σ²) perturbation of a unit circle is ≈ N(0, σ²)
    d = circles(n=4000, noise=0.05, factor=0.5)
    residuals = [math.hypot(x, y) - 1.0 for x, y in of_class(d, 0)]
    assert abs(mean(residuals)) < 0.01
    assert 0.045 < pstd(residuals) < 0.055


# --- iris --------------------------------------------------------------------------------


def test_iris_shape_names_and_order() -> None:
    d = iris()
    assert len(d) == 150
    assert all(len(row) == 4 for row in d.X)
    assert d.feature_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert d.classes == ("setosa", "versicolor", "virginica")
    assert d.y == [0] * 50 + [1] * 50 + [2] * 50
    assert d.name == "iris"


def test_iris_rows_published_by_fisher() -> None:
    d = iris()
    assert d.X[0] == [5.1, 3.5, 1.4, 0.2]
    assert d.y[0] == 0
    assert d.X[149] == [5.9, 3.0, 5.1, 1.8]
    assert d.y[149] == 2
    # flowers 35 and 38 as in Fisher's paper and R; UCI's iris.data has them wrong
    assert d.X[34] == [4.9, 3.1, 1.5, 0.2]
    assert d.X[37] == [4.9, 3.6, 1.4, 0.1]


def test_iris_summary_statistics() -> None:
    d = iris()
    # R: summary(iris) and sapply(iris[1:4], sd)
    assert [round(mean(column(d, j)), 3) for j in range(4)] == [5.843, 3.057, 3.758, 1.199]
    sample_sd = [pstd(column(d, j)) * math.sqrt(150 / 149) for j in range(4)]
    assert [round(s, 3) for s in sample_sd] == [0.828, 0.436, 1.765, 0.762]
    assert [min(column(d, j)) for j in range(4)] == [4.3, 2.0, 1.0, 0.1]
    assert [max(column(d, j)) for j in range(4)] == [7.9, 4.4, 6.9, 2.5]
    # R: aggregate(. ~ Species, iris, mean)
    species_means = [
        [5.006, 3.428, 1.462, 0.246],
        [5.936, 2.770, 4.260, 1.326],
        [6.588, 2.974, 5.552, 2.026],
    ]
    for k, expected in enumerate(species_means):
        rows = of_class(d, k)
        assert [round(mean([r[j] for r in rows]), 3) for j in range(4)] == expected


def test_iris_setosa_is_separated_by_petal_length() -> None:
    d = iris()
    setosa = [r[2] for r in of_class(d, 0)]
    others = [r[2] for k in (1, 2) for r in of_class(d, k)]
    assert max(setosa) == 1.9
    assert min(others) == 3.0


def test_iris_returns_a_fresh_copy_each_time() -> None:
    a = iris()
    a.X[0][0] = 99.0
    assert iris().X[0][0] == 5.1


# --- train_test_split --------------------------------------------------------------------


def test_iris_split_is_stratified() -> None:
    train, test = train_test_split(iris(), test_fraction=0.2, seed=0)
    assert (len(train), len(test)) == (120, 30)
    assert [train.y.count(k) for k in range(3)] == [40, 40, 40]
    assert [test.y.count(k) for k in range(3)] == [10, 10, 10]
    assert (train.name, test.name) == ("iris (train)", "iris (test)")
    assert train.classes == test.classes == iris().classes
    # iris repeats a flower, so compare multisets
    everything = Counter((tuple(r), c) for r, c in zip(iris().X, iris().y, strict=True))
    parts = Counter((tuple(r), c) for d in (train, test) for r, c in zip(d.X, d.y, strict=True))
    assert parts == everything


@pytest.mark.parametrize("stratify", [True, False])
def test_split_has_no_overlap_and_loses_nothing(stratify: bool) -> None:
    labels = [0] * 70 + [1] * 20 + [2] * 10
    train, test = train_test_split(indexed(labels), 0.25, seed=5, stratify=stratify)
    a, b = indices(train), indices(test)
    assert len(b) == 25
    assert len(a) == 75
    assert not set(a) & set(b)
    assert sorted(a + b) == list(range(100))
    assert all(labels[i] == c for i, c in zip(a + b, train.y + test.y, strict=True))


def test_stratified_shares_by_largest_remainder() -> None:
    # 25 of 100 test samples from classes of 70, 20, 10: exact shares 17.5, 5, 2.5, floors
    # 17, 5, 2 and the one left over to the lower label of the two remainders ½
    labels = [0] * 70 + [1] * 20 + [2] * 10
    _, test = train_test_split(indexed(labels), 0.25, seed=5)
    assert [test.y.count(k) for k in range(3)] == [18, 5, 2]
    # 10% of 10 + 3 + 2 samples: t = round(1.5) = 2, shares 1.33…, 0.4, 0.26…
    _, test = train_test_split(indexed([0] * 10 + [1] * 3 + [2] * 2), 0.1, seed=0)
    assert [test.y.count(k) for k in range(3)] == [1, 1, 0]


def test_split_is_seeded() -> None:
    data = indexed([0, 1] * 50)
    first = train_test_split(data, seed=1)
    assert indices(first[1]) == indices(train_test_split(data, seed=1)[1])
    assert indices(first[1]) != indices(train_test_split(data, seed=2)[1])
    assert first == train_test_split(data, seed=random.Random(1))


def test_split_of_xor() -> None:
    train, test = train_test_split(xor(), test_fraction=0.25)
    assert (len(train), len(test)) == (3, 1)
    assert test.y == [0]  # shares ½ and ½: the tie goes to the lower label


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, 0.01, 0.99])
def test_split_rejects_empty_parts(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(moons(n=20), test_fraction=fraction)


# --- targets -----------------------------------------------------------------------------


def test_one_hot() -> None:
    d = iris()
    targets = d.one_hot()
    assert len(targets) == 150
    assert all(len(t) == 3 for t in targets)
    assert all(sorted(t) == [0.0, 0.0, 1.0] and t[c] == 1.0
               for t, c in zip(targets, d.y, strict=True))


def test_signs_are_minus_one_and_plus_one() -> None:
    d = moons(n=30)
    assert d.signs() == [-1.0 if c == 0 else 1.0 for c in d.y]
    assert xor().signs() == [-1.0, 1.0, 1.0, -1.0]
    with pytest.raises(ValueError, match="2 classes"):
        iris().signs()


# --- standardization ---------------------------------------------------------------------


def test_standardized_has_mean_zero_and_std_one() -> None:
    d = iris()
    s = d.standardized()
    for j in range(4):
        assert math.isclose(mean(column(s, j)), 0.0, abs_tol=1e-12)
        assert math.isclose(pstd(column(s, j)), 1.0, rel_tol=1e-12)
    assert s.y == d.y
    assert s.classes == d.classes
    assert s.feature_names == d.feature_names
    assert d.X[0] == [5.1, 3.5, 1.4, 0.2]  # the original is untouched


def test_standardize_uses_the_training_statistics_for_the_test_set() -> None:
    train, test = train_test_split(iris(), seed=3)
    train_s, test_s = standardize(train, test)
    mu = [mean(column(train, j)) for j in range(4)]
    sigma = [pstd(column(train, j)) for j in range(4)]
    for raw, done in zip(test.X, test_s.X, strict=True):
        for j in range(4):
            assert math.isclose(done[j], (raw[j] - mu[j]) / sigma[j], rel_tol=1e-12,
                                abs_tol=1e-12)
    assert math.isclose(mean(column(train_s, 0)), 0.0, abs_tol=1e-12)
    assert abs(mean(column(test_s, 0))) > 1e-6  # the test set is not re-centred
    fitted = Standardizer.fit(train)
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(fitted.means, mu, strict=True))
    assert all(math.isclose(a, b, rel_tol=1e-12)
               for a, b in zip(fitted.stds, sigma, strict=True))


def test_a_constant_feature_is_centred_not_divided_by_zero() -> None:
    d = Dataset([[2.0, 1.0], [2.0, 3.0]], [0, 1], ("a", "b"), ("const", "x"), "c")
    s = Standardizer.fit(d)
    assert s == Standardizer(means=(2.0, 2.0), stds=(1.0, 1.0))
    assert d.standardized().X == [[0.0, -1.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="features"):
        s.transform_row([1.0])


# --- Dataset -----------------------------------------------------------------------------


def test_dataset_copies_and_converts_its_input() -> None:
    rows, labels = [[1, 2]], [0]
    d = Dataset(rows, labels, ("only",), ("a", "b"), "one")  # type: ignore[arg-type]
    rows[0][0] = 5
    labels[0] = 9
    assert d.X == [[1.0, 2.0]]
    assert isinstance(d.X[0][0], float)
    assert d.y == [0]
    with pytest.raises(AttributeError):
        d.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("rows", "labels", "error"), [
    ([[1.0]], [0, 1], ValueError),
    ([[1.0, 2.0]], [0], ValueError),
    ([[1.0]], [2], ValueError),
    ([[1.0]], [-1], ValueError),
    ([[1.0]], [True], TypeError),
    ([[1.0]], [0.0], TypeError),
])
def test_dataset_checks_its_shape(rows: list[list[float]], labels: list[int],
                                  error: type[Exception]) -> None:
    with pytest.raises(error):
        Dataset(rows, labels, ("a", "b"), ("x",), "bad")


def test_repr_is_short() -> None:
    assert repr(xor()) == (
        "Dataset(name='xor', samples=4, features=('x1', 'x2'), classes=('0', '1'))"
    )
