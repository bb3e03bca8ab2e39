"""Arbitrary-precision kernel eigenvalues against the float64 mode basis and the free theory."""

import math

import mpmath
import numpy as np
import pytest

import efftheory as et
from efftheory.theory import crossover_n, kernel_eigenvalues

PRECISION = 30  # resolves mu_j / mu_1 to ~1e-34 in about 2 s (cached across tests)


@pytest.fixture(scope="module")
def spectrum():
    return kernel_eigenvalues(16, precision=PRECISION)


def test_agrees_with_float64_mode_basis_where_it_is_converged(spectrum):
    from efftheory.models._mode_models import prior_mode_statistics

    network = et.load_model("learning-zero-small").network
    # The mode-basis eigenvalues carry a truncation error in k_max (the Hermite expansion of
    # tanh(wx) converges slowly for large |w|): it is ~1e-11 for mu_1 and grows with j. The
    # mp values must agree to 1e-10 where float64 is converged, and elsewhere lie closer to
    # the k_max = 513 values than those lie to the k_max = 257 ones (the cutoff converging
    # towards them).
    low = prior_mode_statistics(network, 257).eigenvalues
    high = prior_mode_statistics(network, 513).eigenvalues
    mp_values = np.array([float(v) for v in spectrum.eigenvalues[:6]])
    truncation = np.abs(low[:6] / high[:6] - 1)
    assert truncation[0] < 1e-10
    np.testing.assert_allclose(mp_values[0], high[0], rtol=1e-10)
    assert np.all(np.abs(mp_values / high[:6] - 1) < truncation)


def test_resolved_beyond_the_float64_floor_positive_and_descending(spectrum):
    values = spectrum.resolved()
    assert spectrum.num_resolved >= 20
    assert values[-1] / values[0] < mpmath.mpf("1e-20")  # far below float64's 1e-13 floor
    assert all(v > 0 for v in values)
    assert all(a > b for a, b in zip(values, values[1:], strict=False))
    for value, error in zip(values, spectrum.errors, strict=False):
        assert error <= 1e-6 * value
    # Unresolved ones are NaN, never noise.
    assert all(mpmath.isnan(v) for v in spectrum.eigenvalues[spectrum.num_resolved:])


def test_width_scaling_is_exact():
    small = kernel_eigenvalues(16, precision=PRECISION)
    wide = kernel_eigenvalues(128, readout_variance=0.5, precision=PRECISION)
    for a, b in zip(small.resolved()[:10], wide.resolved()[:10], strict=True):
        assert b / a == pytest.approx(4.0, rel=1e-25)


def test_free_theory_to_1e100_is_finite_and_below_the_rank_bound(spectrum):
    mu = spectrum.resolved()[:16]  # width 16: the rank cap keeps the 16 largest
    with mpmath.workdps(120):
        n = mpmath.mpf("1e100")
        value = sum(n * m / (1 + n * m) for m in mu) / 2
        deficit = sum(1 / (1 + n * m) for m in mu) / 2
    assert mpmath.isfinite(value)
    # Every kept mode has n mu >> 1 at 1e100: lambda_eff lies just below H/2 = 8, by
    # 1/2 sum 1/(1 + n mu_j), dominated by the smallest kept eigenvalue.
    assert value < 8
    assert 8 - value == pytest.approx(deficit, rel=1e-20)
    assert deficit < 1e-80


def test_crossover_to_the_global_rlct_at_width_16(spectrum):
    # Global RLCT of the width-16 network: 2 (Aoyagi & Watanabe 2005). docs/study.md had
    # 10^4.41 from float64 mode-basis eigenvalues with k_max = 65, whose truncation error
    # is 3% at mu_4 and grows with j (they are too small): the converged value is 10^4.36.
    n_star = crossover_n(spectrum.resolved()[:16], 2.0, rank_cap=16)
    assert float(mpmath.log10(n_star)) == pytest.approx(4.360, abs=0.002)


@pytest.mark.parametrize("kwargs, match", [
    ({"activation": "relu"}, "odd activations"),
    ({"precision": 16}, "precision"),
    ({"weight_scale": -1.0}, "weight_scale"),
    ({"rtol": 2.0}, "rtol"),
])
def test_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kernel_eigenvalues(16, **kwargs)


@pytest.mark.slow
def test_width_128_crossovers_are_numbers():
    result = kernel_eigenvalues(128, precision=90, rtol=1e-3)
    assert result.num_resolved >= 128
    mu = result.resolved()[:128]
    global_star = crossover_n(mu, 130 / 23, rank_cap=128)
    generic_star = crossover_n(mu, 64, rank_cap=128, form="staircase")
    assert math.isfinite(float(mpmath.log10(global_star)))
    assert generic_star > global_star
