"""Geometric RLCT catalogue against hand-computed and independently derived values."""

import itertools
import math
import pathlib
import re
from fractions import Fraction

import numpy as np
import pytest

import efftheory.theory
from efftheory.theory import (
    RLCT,
    asymptotic_free_energy,
    dln_rlct,
    normal_crossing_rlct,
    regular_rlct,
    rrr_rlct,
    sum_rlct,
    tanh_zero_generic_stratum_rlct,
    tanh_zero_rlct,
)


def _pair(rlct: RLCT) -> tuple:
    return rlct.learning_coefficient, rlct.multiplicity


# --------------------------------------------------------------------------- regular


@pytest.mark.parametrize("d", [1, 2, 3, 7, 256])
def test_regular_is_half_dimension(d):
    rlct = regular_rlct(d)
    assert _pair(rlct) == (Fraction(d, 2), 1)
    assert isinstance(rlct.learning_coefficient, Fraction)


# --------------------------------------------------------------------------- normal crossing


@pytest.mark.parametrize(
    ("exponents", "prior", "expected"),
    [
        ([1], None, (Fraction(1, 2), 1)),  # K = w^2: regular, one parameter
        ([1, 1], None, (Fraction(1, 2), 2)),  # K = w1^2 w2^2
        ([1, 1, 1], None, (Fraction(1, 2), 3)),  # K = (w1 w2 w3)^2
        ([1, 2], None, (Fraction(1, 4), 1)),  # K = w1^2 w2^4
        ([2, 2, 1], None, (Fraction(1, 4), 2)),
        ([3, 0], None, (Fraction(1, 6), 1)),  # w2 does not appear in K
        ([1, 1], [1, 0], (Fraction(1, 2), 1)),  # |w1| prior: (1+1)/2 = 1 vs 1/2
        ([1, 2], [2, 1], (Fraction(1, 2), 1)),  # (2+1)/2 = 3/2 vs (1+1)/4 = 1/2
        ([2, 1], [1, 0], (Fraction(1, 2), 2)),  # 2/4 and 1/2 tie
    ],
)
def test_normal_crossing(exponents, prior, expected):
    assert _pair(normal_crossing_rlct(exponents, prior)) == expected


def test_normal_crossing_float_prior_gives_float():
    rlct = normal_crossing_rlct([1, 1], [0.5, 0.5])
    assert rlct.learning_coefficient == pytest.approx(0.75)
    assert rlct.multiplicity == 2


def test_sum_adds_learning_coefficients_and_multiplicities_minus_one():
    # K = w1^2 w2^2 + w3^2 w4^2 (disjoint groups): lambda = 1, m = 1 + 1 + 1 = 3.
    part = normal_crossing_rlct([1, 1])
    combined = sum_rlct(part, part)
    assert _pair(combined) == (Fraction(1), 3)
    # Adding a regular group shifts lambda and keeps m.
    assert _pair(sum_rlct(part, regular_rlct(3))) == (Fraction(2), 2)


# --------------------------------------------------------------------------- tanh


def _tanh_expected(H):
    i = math.isqrt(H)
    return Fraction(H + i * i + i, 4 * i + 2), (2 if i * i == H else 1)


@pytest.mark.parametrize(
    ("H", "expected"),
    [
        (1, Fraction(1, 2)),
        (2, Fraction(2, 3)),  # i = 1: (2+2)/6
        (3, Fraction(5, 6)),
        (4, Fraction(1)),  # i = 2: (4+6)/10
        (5, Fraction(11, 10)),
        (6, Fraction(6, 5)),
        (7, Fraction(13, 10)),
        (8, Fraction(7, 5)),
        (16, Fraction(2)),  # i = 4: (16+20)/18
        (32, Fraction(31, 11)),  # i = 5: (32+30)/22
        (64, Fraction(4)),  # i = 8: (64+72)/34
        (128, Fraction(130, 23)),  # i = 11: (128+132)/46
    ],
)
def test_tanh_learning_zero(H, expected):
    rlct = tanh_zero_rlct(H)
    assert rlct.learning_coefficient == expected
    assert isinstance(rlct.learning_coefficient, Fraction)
    assert _pair(rlct) == _tanh_expected(H)
    assert rlct.label == "global RLCT (origin)"


def test_tanh_multiplicity_two_exactly_at_squares():
    squares = {h for h in range(1, 200) if math.isqrt(h) ** 2 == h}
    assert {h for h in range(1, 200) if tanh_zero_rlct(h).multiplicity == 2} == squares


def test_tanh_single_unit_matches_normal_crossing():
    # H = 1: L = (1/2) E[x^2] a^2 b^2 + higher order, a normal crossing with k = (1, 1).
    assert _pair(tanh_zero_rlct(1)) == _pair(normal_crossing_rlct([1, 1]))


def test_tanh_generic_stratum_is_half_width_and_distinct_from_global():
    local = tanh_zero_generic_stratum_rlct(128)
    assert _pair(local) == (Fraction(64), 1)
    assert "generic stratum" in local.label
    assert local.learning_coefficient > tanh_zero_rlct(128).learning_coefficient


# --------------------------------------------------------------------------- reduced rank


@pytest.mark.parametrize(
    ("M", "N", "H", "r", "expected", "regime"),
    [
        # main regime, M+N+H+r = 12 even: [2*5*7 - 1 - 25]/8 = 44/8
        (3, 4, 3, 2, (Fraction(11, 2), 1), "main"),
        # main regime, M+N+H+r = 9 odd: [2*3*6 - 0 - 9]/8 + 1/8 = 7/2, m = 2
        (3, 3, 3, 0, (Fraction(7, 2), 2), "main"),
        # main regime, 1x1x1, r=0 (K = a^2 b^2): 1/2 from [2*1*2 - 0 - 1]/8 + 1/8
        (1, 1, 1, 0, (Fraction(1, 2), 2), "main"),
        # M + H < N + r: 1 + 1 < 5 + 0: (HM - Hr + Nr)/2 = 1/2
        (1, 5, 1, 0, (Fraction(1, 2), 1), "M + H < N + r"),
        # M + H < N + r: 2 + 2 < 6 + 1: (4 - 2 + 6)/2 = 4
        (2, 6, 2, 1, (Fraction(4), 1), "M + H < N + r"),
        # N + H < M + r: 2 + 2 < 6 + 1: (HN - Hr + Mr)/2 = (4 - 2 + 6)/2 = 4
        (6, 2, 2, 1, (Fraction(4), 1), "N + H < M + r"),
        # M + N < H + r: 2 + 3 < 6 + 0: MN/2 = 3
        (2, 3, 6, 0, (Fraction(3), 1), "M + N < H + r"),
        # M + N < H + r: 2 + 2 < 5 + 2: MN/2 = 2
        (2, 2, 5, 2, (Fraction(2), 1), "M + N < H + r"),
    ],
)
def test_rrr_regimes(M, N, H, r, expected, regime):
    rlct = rrr_rlct(M, N, H, r)
    assert _pair(rlct) == expected
    assert regime in rlct.label


def test_rrr_full_rank_is_regular_count():
    # r = M = N = H: the product is a generic invertible map, lambda = MN/2.
    for size in range(1, 6):
        assert rrr_rlct(size, size, size, size).learning_coefficient == Fraction(size * size, 2)


def test_rrr_never_exceeds_half_the_dimension():
    for M, N, H in itertools.product(range(1, 6), repeat=3):
        for r in range(min(M, N, H) + 1):
            assert rrr_rlct(M, N, H, r).learning_coefficient <= Fraction(H * (M + N), 2)


# --------------------------------------------------------------------------- deep linear


def test_dln_two_layers_reproduces_rrr_on_grid():
    mismatches = []
    for M, N, H in itertools.product(range(1, 7), repeat=3):
        for r in range(min(M, N, H) + 1):
            expected = _pair(rrr_rlct(M, N, H, r))
            got = _pair(dln_rlct((M, H, N), r))
            if got != expected:
                mismatches.append(((M, N, H, r), expected, got))
    assert not mismatches


@pytest.mark.parametrize("num_layers", range(2, 8))
@pytest.mark.parametrize(("input_dim", "output_dim"), [(1, 1), (1, 3), (2, 2), (3, 1), (2, 3)])
def test_dln_scalar_chain_matches_normal_crossing(num_layers, input_dim, output_dim):
    # widths (p, 1, ..., 1, q), r = 0: y = v s_{L-2} ... s_1 u^T x, so
    # K = |u|^2 s_1^2 ... s_{L-2}^2 |v|^2; in polar coordinates |u|, |v| carry prior
    # exponents p - 1 and q - 1: a normal crossing with an exactly known (lambda, m).
    widths = (input_dim,) + (1,) * (num_layers - 1) + (output_dim,)
    expected = normal_crossing_rlct(
        [1] * num_layers, [input_dim - 1] + [0] * (num_layers - 2) + [output_dim - 1]
    )
    assert _pair(dln_rlct(widths, 0)) == _pair(expected)


def test_dln_single_layer_is_regular():
    assert _pair(dln_rlct((3, 4), 2)) == (Fraction(6), 1)


def test_dln_bounded_by_half_dimension():
    for widths in itertools.product(range(1, 5), repeat=4):
        dimension = sum(a * b for a, b in itertools.pairwise(widths))
        for r in range(min(widths) + 1):
            rlct = dln_rlct(widths, r)
            assert 0 < rlct.learning_coefficient <= Fraction(dimension, 2)
            assert rlct.multiplicity >= 1


# --------------------------------------------------------------------------- free energy


def test_asymptotic_free_energy_vectorised():
    n = np.array([10.0, 1e3, 1e8])
    got = asymptotic_free_energy(n, Fraction(130, 23), 2, constant=1.5)
    expected = 130 / 23 * np.log(n) - np.log(np.log(n)) + 1.5
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert asymptotic_free_energy(100.0, 0.5, 1) == pytest.approx(0.5 * np.log(100.0))


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: regular_rlct(0), "d"),
        (lambda: regular_rlct(2.5), "d"),
        (lambda: normal_crossing_rlct([0, 0]), "exponents"),
        (lambda: normal_crossing_rlct([1, -1]), "exponents[1]"),
        (lambda: normal_crossing_rlct([1, 1], [0]), "prior_exponents"),
        (lambda: normal_crossing_rlct([1, 1], [0, -1]), "prior_exponents[1]"),
        (lambda: tanh_zero_rlct(0), "H"),
        (lambda: tanh_zero_generic_stratum_rlct(-3), "H"),
        (lambda: rrr_rlct(0, 2, 2, 0), "M"),
        (lambda: rrr_rlct(2, 0, 2, 0), "N"),
        (lambda: rrr_rlct(2, 2, 0, 0), "H"),
        (lambda: rrr_rlct(2, 2, 2, -1), "r"),
        (lambda: rrr_rlct(3, 3, 2, 3), "r"),
        (lambda: dln_rlct((3,), 0), "widths"),
        (lambda: dln_rlct((3, 0, 2), 0), "widths[1]"),
        (lambda: dln_rlct((3, 2, 4), 3), "r"),
        (lambda: asymptotic_free_energy(1.0, 0.5, 1), "n"),
        (lambda: asymptotic_free_energy(10.0, 0.5, 0), "multiplicity"),
        (lambda: sum_rlct(), "sum_rlct"),
    ],
)
def test_bad_inputs_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=re.escape(f"`{name}`" if name != "sum_rlct" else name)):
        call()


def test_theory_never_imports_the_samplers():
    for path in pathlib.Path(efftheory.theory.__file__).parent.glob("*.py"):
        imports = [
            line
            for line in path.read_text().splitlines()
            if line.lstrip().startswith(("import ", "from "))
        ]
        assert not [line for line in imports if "sampling" in line], path
