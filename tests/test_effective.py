"""Effective mode theory against closed forms, brute-force roots and synthetic curves."""

import re
import warnings

import mpmath
import numpy as np
import pytest
from scipy import optimize

from efftheory.theory import (
    crossover_n,
    fit_log_power,
    fit_multiplicity,
    free_free_energy,
    free_learning_coefficient,
    staircase_learning_coefficient,
)

TANH_LIKE = np.exp(-np.pi * np.sqrt(np.arange(1, 61)))


# --------------------------------------------------------------------------- free theory


def test_equal_eigenvalues_closed_form():
    n = np.logspace(-2, 12, 57)
    mu, count = 3e-4, 17
    x = n * mu
    np.testing.assert_allclose(
        free_learning_coefficient(n, np.full(count, mu)), 0.5 * count * x / (1 + x), rtol=1e-14
    )
    np.testing.assert_allclose(
        free_free_energy(n, np.full(count, mu)), 0.5 * count * np.log1p(x), rtol=1e-14
    )


def test_learning_coefficient_is_log_derivative_of_free_energy():
    n = np.logspace(1, 14, 9)
    step = 1e-5
    derivative = (
        free_free_energy(n * np.exp(step), TANH_LIKE)
        - free_free_energy(n * np.exp(-step), TANH_LIKE)
    ) / (2 * step)
    np.testing.assert_allclose(free_learning_coefficient(n, TANH_LIKE), derivative, rtol=1e-8)


def test_scalar_and_array_shapes():
    assert isinstance(free_learning_coefficient(10.0, TANH_LIKE), float)
    grid = np.ones((2, 3)) * 100.0
    assert free_learning_coefficient(grid, TANH_LIKE).shape == (2, 3)
    assert staircase_learning_coefficient(grid, TANH_LIKE).shape == (2, 3)


def test_rank_cap_keeps_the_largest_eigenvalues():
    rng = np.random.default_rng(0)
    spectrum = rng.permutation(TANH_LIKE)
    n = np.logspace(0, 20, 11)
    np.testing.assert_allclose(
        free_learning_coefficient(n, spectrum, rank_cap=5),
        free_learning_coefficient(n, TANH_LIKE[:5]),
        rtol=1e-15,
    )
    assert free_learning_coefficient(1e300, spectrum, rank_cap=5) == pytest.approx(2.5)


def test_resolved_modes_saturate_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = free_learning_coefficient(1e300, [1e10, 1e-3, 0.0])
    assert value == pytest.approx(1.0)


def test_staircase_counts_modes_strictly_above_one():
    spectrum = [1.0, 0.1, 0.01]
    np.testing.assert_array_equal(
        staircase_learning_coefficient(np.array([0.5, 1.0, 1.5, 10.0, 1e3]), spectrum),
        [0.0, 0.0, 0.5, 0.5, 1.5],
    )


# --------------------------------------------------------------------------- crossover


@pytest.mark.parametrize("target", [0.3, 1.0, 130 / 23, 12.0])
def test_crossover_matches_brute_force_float_root(target):
    def excess(log_n):
        return free_learning_coefficient(np.exp(log_n), TANH_LIKE) - target

    log_root = optimize.brentq(excess, -10.0, 200.0, xtol=1e-14, rtol=1e-15)
    got = crossover_n(TANH_LIKE, target)
    assert isinstance(got, mpmath.mpf)
    assert float(mpmath.log(got)) == pytest.approx(log_root, rel=1e-12, abs=1e-12)


def test_crossover_staircase_is_inverse_eigenvalue():
    # lambda_stair reaches 3 once 6 modes are resolved: n* = 1/mu_6.
    got = crossover_n(TANH_LIKE, 3.0, form="staircase")
    assert float(got) == pytest.approx(1 / TANH_LIKE[5], rel=1e-14)
    assert staircase_learning_coefficient(float(got) * (1 + 1e-9), TANH_LIKE) == 3.0
    assert staircase_learning_coefficient(float(got) * (1 - 1e-9), TANH_LIKE) == 2.5


def test_crossover_beyond_float_range_in_mpmath():
    with mpmath.workdps(50):
        spectrum = [mpmath.exp(-mpmath.pi * mpmath.sqrt(k)) for k in range(1, 2001)]
        target = mpmath.mpf(200)
        n_star = crossover_n(spectrum, target, precision=50)
        assert n_star > mpmath.mpf(10) ** 16
        value = sum(n_star * mu / (1 + n_star * mu) for mu in spectrum) / 2
        assert abs(value - target) < mpmath.mpf(10) ** -40
        # Staircase estimate: about 400 modes resolved, n* ~ 1/mu_400 ~ exp(pi sqrt(400)).
        assert abs(mpmath.log(n_star) - mpmath.pi * 20) < 5


def test_crossover_with_eigenvalues_below_double_precision():
    # mu_j = 10^(-100 j): the j-th mode resolves at n ~ 10^(100 j), far beyond 1e308.
    with mpmath.workdps(60):
        spectrum = [mpmath.mpf(10) ** (-100 * j) for j in range(1, 11)]
        n_star = crossover_n(spectrum, 4.75, precision=60)
        value = sum(n_star * mu / (1 + n_star * mu) for mu in spectrum) / 2
        assert abs(value - mpmath.mpf("4.75")) < mpmath.mpf(10) ** -50
        # Nine modes are resolved to within 1e-100 (1/2 each) and the tenth contributes
        # x/(2(1+x)) with x = n 10^-1000, so lambda = 4.75 at x = 1: n* = 10^1000.
        assert abs(mpmath.log10(n_star) - 1000) < mpmath.mpf(10) ** -40


def test_crossover_unreachable_names_the_cap():
    with pytest.raises(ValueError, match="rank_cap=4"):
        crossover_n(TANH_LIKE, 2.0, rank_cap=4)  # sup = 2, never attained
    with pytest.raises(ValueError, match="rank_cap=4"):
        crossover_n(TANH_LIKE, 2.5, rank_cap=4, form="staircase")
    assert crossover_n(TANH_LIKE, 2.0, rank_cap=4, form="staircase") == pytest.approx(
        1 / TANH_LIKE[3], rel=1e-14
    )


# --------------------------------------------------------------------------- fits

N_GRID = np.logspace(2, 12, 15)


def test_fit_log_power_recovers_noise_free_curve():
    curve = 0.3 * np.log(N_GRID) ** 2.1
    fit = fit_log_power(N_GRID, curve, 0.01 * curve)
    assert fit.amplitude == pytest.approx(0.3, rel=1e-10)
    assert fit.exponent == pytest.approx(2.1, rel=1e-10)
    assert fit.reduced_chi_squared < 1e-20
    assert fit.exponent_standard_error > 0 and fit.amplitude_standard_error > 0


def test_fit_multiplicity_recovers_noise_free_curve():
    curve = 130 / 23 - (2 - 1) / np.log(N_GRID)
    fit = fit_multiplicity(N_GRID, curve, np.full(N_GRID.size, 0.05))
    assert fit.learning_coefficient == pytest.approx(130 / 23, rel=1e-10)
    assert fit.multiplicity == pytest.approx(2.0, rel=1e-10)
    assert fit.reduced_chi_squared < 1e-20


def _z_scores(fit_function, truth_curve, truths, relative, replicates=400):
    rng = np.random.default_rng(20240611)
    z_scores, chi2 = [], []
    errors = relative * truth_curve if relative else np.full(truth_curve.size, 0.05)
    for _ in range(replicates):
        noisy = truth_curve + errors * rng.standard_normal(truth_curve.size)
        fit = fit_function(N_GRID, noisy, errors)
        z_scores.append([(fit[i] - truths[i]) / fit[i + 2] for i in range(2)])
        chi2.append(fit.reduced_chi_squared)
    return np.array(z_scores), np.array(chi2)


def test_fit_log_power_errors_cover_the_truth():
    curve = 0.3 * np.log(N_GRID) ** 2.1
    z, chi2 = _z_scores(fit_log_power, curve, (0.3, 2.1), relative=0.01)
    # 400 replicates: the mean of z has sd 0.05, the sd of z about 0.035.
    assert np.all(np.abs(z.mean(axis=0)) < 0.2)
    assert np.all(np.abs(z.std(axis=0) - 1) < 0.15)
    assert abs(chi2.mean() - 1) < 0.1


def test_fit_multiplicity_errors_cover_the_truth():
    curve = 130 / 23 - (2 - 1) / np.log(N_GRID)
    z, chi2 = _z_scores(fit_multiplicity, curve, (130 / 23, 2.0), relative=None)
    assert np.all(np.abs(z.mean(axis=0)) < 0.2)
    assert np.all(np.abs(z.std(axis=0) - 1) < 0.15)
    assert abs(chi2.mean() - 1) < 0.1


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: free_learning_coefficient(10.0, [-1.0, 2.0]), "`eigenvalues`"),
        (lambda: free_learning_coefficient(10.0, []), "`eigenvalues`"),
        (lambda: free_free_energy(-1.0, [1.0]), "`n`"),
        (lambda: staircase_learning_coefficient(1.0, [1.0], rank_cap=0), "`rank_cap`"),
        (lambda: crossover_n([1.0], -1.0), "`target`"),
        (lambda: crossover_n([1.0], 0.25, form="hard"), "`form`"),
        (lambda: crossover_n([1.0], 0.25, precision=5), "`precision`"),
        (lambda: fit_log_power([1.0, 10.0, 100.0], [1.0, 2.0, 3.0], [0.1] * 3), "`n`"),
        (lambda: fit_log_power([5.0, 10.0, 100.0], [1.0, 0.0, 3.0], [0.1] * 3), "`learning_coef"),
        (lambda: fit_multiplicity([5.0, 10.0, 100.0], [1.0, 2.0, 3.0], [0.1, 0.0, 0.1]), "`stand"),
        (lambda: fit_multiplicity([5.0, 10.0], [1.0, 2.0], [0.1, 0.1]), "at least 3"),
        (lambda: fit_multiplicity([5.0, 10.0, 20.0], [1.0, 2.0], [0.1, 0.1]), "same length"),
    ],
)
def test_bad_inputs_raise_with_the_parameter(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
