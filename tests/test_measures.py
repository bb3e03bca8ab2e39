import math

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

import efftheory as et
from efftheory.modes._measures import fourier_basis, hermite_basis, legendre_basis, weighted_basis


@pytest.mark.parametrize("name, num_nodes, kmax", [("gaussian", 900, 400), ("uniform", 900, 400),
                                                   ("circle", 900, 400)])
def test_basis_orthonormal_to_high_order(name, num_nodes, kmax):
    measure = et.get_measure(name)
    rule = measure.quadrature(num_nodes)
    basis = weighted_basis(measure, rule, kmax)
    gram = np.asarray(basis.T @ basis)
    assert np.all(np.isfinite(gram))
    assert np.max(np.abs(gram - np.eye(gram.shape[0]))) < 1e-10


@pytest.mark.parametrize("name", ["gaussian", "uniform", "circle"])
def test_quadrature_weights_are_a_probability(name):
    rule = et.get_measure(name).quadrature(64)
    assert float(jnp.sum(rule.weights)) == pytest.approx(1.0, abs=1e-13)
    assert np.allclose(np.exp(rule.log_weights), rule.weights, rtol=1e-12)


def test_gaussian_rule_integrates_moments():
    rule = et.get_measure("gaussian").quadrature(40)
    for power in range(0, 20, 2):
        exact = scipy.special.factorial2(power - 1) if power else 1.0
        assert float(jnp.sum(rule.weights * rule.parameters**power)) == pytest.approx(exact,
                                                                                      rel=1e-12)


def test_bases_match_scipy_at_low_order():
    x = np.linspace(-3, 3, 13)
    hermite = np.asarray(hermite_basis(x, 12))
    legendre = np.asarray(legendre_basis(np.linspace(-1, 1, 13), 12))
    for k in range(13):
        expected = scipy.special.eval_hermitenorm(k, x) / math.sqrt(math.factorial(k))
        np.testing.assert_allclose(hermite[:, k], expected, rtol=1e-12, atol=1e-12)
        expected = math.sqrt(2 * k + 1) * scipy.special.eval_legendre(k, np.linspace(-1, 1, 13))
        np.testing.assert_allclose(legendre[:, k], expected, rtol=1e-12, atol=1e-12)
    t = np.linspace(0, 2 * np.pi, 7)
    fourier = np.asarray(fourier_basis(t, 3))
    np.testing.assert_allclose(fourier[:, 5], math.sqrt(2) * np.cos(3 * t), atol=1e-14)
    np.testing.assert_allclose(fourier[:, 6], math.sqrt(2) * np.sin(3 * t), atol=1e-14)


def test_bad_measure_input_says_what_to_change():
    with pytest.raises(ValueError, match="unknown measure 'sphere'.*gaussian"):
        et.get_measure("sphere")
    with pytest.raises(ValueError, match="num_nodes must be a positive integer"):
        et.get_measure("gaussian").quadrature(0)
    with pytest.raises(ValueError, match="kmax must be a non-negative integer"):
        hermite_basis(np.zeros(3), -1)
    with pytest.raises(ValueError, match="Mehler"):
        et.GaussianMeasure(input_dim=3).quadrature(10)


def test_gauss_legendre_weights_to_full_precision():
    # scipy's own weights are off by ~4e-11 relative at 200 nodes; ours match 30 digits.
    import mpmath

    from efftheory.modes._measures import gauss_legendre

    nodes, weights = gauss_legendre(200)
    with mpmath.workdps(30):
        exact_nodes, exact_weights = mpmath.gauss_quadrature(200, "legendre")
    exact_nodes = np.array([float(x) for x in exact_nodes])
    exact_weights = np.array([float(w) for w in exact_weights])[np.argsort(exact_nodes)]
    np.testing.assert_allclose(weights, exact_weights, rtol=2e-13)
