import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.special

import efftheory as et
from efftheory import exact
from efftheory.models._energies import gram_matrix
from efftheory.models._mode_models import FreeFieldModel, ScaleMixtureModel
from efftheory.models._models import CollapsedNetworkModel, NetworkModel
from efftheory.models._networks import TwoLayerNetwork
from efftheory.models._toy_models import (
    MinAbsModel,
    NormalCrossingModel,
    PolynomialMachine,
    RegularModel,
)

SAMPLE_SIZES = np.array([1.0, 10.0, 100.0, 1e3])


def _log_rule(step, lower=-30.0):
    """|w| = e^y on a trapezoid grid with the N(0, 1) density folded in (one sign)."""
    radius = np.exp(np.arange(lower, np.log(12.0) + step / 2, step))
    return radius, step * radius * np.exp(-radius**2 / 2) / np.sqrt(2 * np.pi)


def _raw_width_one(model, step=0.1):
    """Direct quadrature of Z = E_{a,w}[exp(-n L(a, w))] with the raw model's own loss."""
    radius, weights = _log_rule(step)
    readout, inner = np.meshgrid(radius, radius, indexing="ij")
    positions = jnp.stack([readout.ravel(), inner.ravel()], 1)
    loss = np.asarray(jax.vmap(model.population_loss)(positions)).reshape(readout.shape)
    grid = 4.0 * np.outer(weights, weights)  # four sign quadrants (a, w) -> (+-a, +-w)
    return np.array([-np.log(np.sum(grid * np.exp(-n * loss))) for n in SAMPLE_SIZES])


def _raw_width_two(model, sizes, step_y=0.25, step_v=0.4, step_b=0.2):
    """Direct 4-D quadrature of the raw integral over (a1, a2, w1, w2).

    w: w1 = e^y, w2 = +-e^y t, t = logistic(v) (x2 for the swap, x2 for w -> -w).
    a: a ~ N(0, I) in log-Cartesian coordinates b along the eigenvectors of G(w) (a rotation
    of a, Jacobian 1); the loss is evaluated as the quadratic form 1/2 a^T G a numerically,
    no Gaussian integral is done in closed form.
    """
    y = np.arange(-10.0, np.log(12.0) + step_y / 2, step_y)
    v = np.arange(-25.0, 25.0 + step_v / 2, step_v)
    big, ratio = np.exp(y)[:, None], (1.0 / (1.0 + np.exp(-v)))[None, :]
    small = big * ratio
    density = np.exp(-(big**2 + small**2) / 2) / (2 * np.pi)
    weights = (4 * step_y * step_v * density * big**2 * ratio * (1 - ratio)).ravel()
    radius, b_weights = _log_rule(step_b, lower=-20.0)
    first, second = np.meshgrid(radius, radius, indexing="ij")
    b_grid = np.outer(b_weights, b_weights)
    grams = jax.jit(jax.vmap(lambda p: gram_matrix(model.network, model.rule, p)))
    partition = np.zeros(len(sizes))
    for sign in (1.0, -1.0):
        zeros = np.zeros(weights.size)
        positions = jnp.stack([zeros, zeros, np.broadcast_to(big, small.shape).ravel(),
                               sign * small.ravel()], 1)
        gram = np.asarray(grams(positions))
        _, vectors = np.linalg.eigh(gram)
        for b_sign in (1.0, -1.0):
            for start in range(0, weights.size, 250):
                rows = slice(start, start + 250)
                a1 = vectors[rows, 0, 0, None, None] * first + b_sign * vectors[rows, 0, 1, None,
                                                                                None] * second
                a2 = vectors[rows, 1, 0, None, None] * first + b_sign * vectors[rows, 1, 1, None,
                                                                                None] * second
                g = gram[rows]
                loss = 0.5 * (g[:, 0, 0, None, None] * a1**2 + 2 * g[:, 0, 1, None, None] * a1
                              * a2 + g[:, 1, 1, None, None] * a2**2)
                for index, n in enumerate(sizes):
                    # x2: (b1, b2) -> (-b1, -b2) gives the same loss
                    partition[index] += 2 * np.einsum("p,bc,pbc->", weights[rows], b_grid,
                                                      np.exp(-n * loss))
    return -np.log(partition)


def test_width_one_collapsed_matches_raw_integral():
    raw = NetworkModel(TwoLayerNetwork(1, "tanh"), n_max=1e8)
    collapsed = CollapsedNetworkModel(TwoLayerNetwork(1, "tanh"), n_max=1e8)
    reference = exact.free_energy(collapsed, SAMPLE_SIZES)
    np.testing.assert_allclose(exact.free_energy(raw, SAMPLE_SIZES), reference, rtol=1e-14)
    # the raw loss's quadrature is accurate to its stated error of n(L - L0) where the
    # posterior lives, which bounds |dF| for every n <= n_max
    np.testing.assert_allclose(_raw_width_one(raw), reference,
                               atol=raw.quadrature.error_estimate)
    assert raw.quadrature.error_estimate < 1e-3


def test_width_two_collapsed_matches_raw_integral():
    raw = NetworkModel(TwoLayerNetwork(2, "tanh"), n_max=1e8)
    sizes = np.array([1.0, 1e3])
    np.testing.assert_allclose(_raw_width_two(raw, sizes), exact.free_energy(raw, sizes),
                               atol=1e-7)


@pytest.mark.parametrize("width", [1, 2])
def test_network_learning_coefficient_is_the_log_derivative(width):
    model = CollapsedNetworkModel(TwoLayerNetwork(width, "erf", "uniform"), n_max=1e4)
    sizes = np.array([10.0, 1e4, 1e8])
    step = 1e-4
    derivative = (exact.free_energy(model, sizes * np.exp(step))
                  - exact.free_energy(model, sizes * np.exp(-step))) / (2 * step)
    coefficient = exact.learning_coefficient(model, sizes)
    np.testing.assert_allclose(coefficient, derivative, rtol=1e-6)
    assert np.all(np.diff(coefficient) > 0) and np.all(coefficient < width / 2 + 1e-12)


def test_free_theory_matches_monte_carlo():
    covariance = np.array([[1.0, 0.3], [0.3, 0.2]])
    eigenvalues, vectors = np.linalg.eigh(covariance)
    model = FreeFieldModel(eigenvalues, vectors)
    draws = np.random.default_rng(0).multivariate_normal(np.zeros(2), covariance, 10**6)
    for n in (1.0, 10.0, 50.0):
        factors = np.exp(-0.5 * n * np.sum(draws**2, axis=1))
        estimate = -np.log(factors.mean())
        standard_error = factors.std() / np.sqrt(factors.size) / factors.mean()
        assert abs(estimate - exact.free_energy(model, n)) < 4 * standard_error
        # lambda = n E_n[L] by self-normalized importance weights
        loss = 0.5 * np.sum(draws**2, axis=1)
        lam = n * np.sum(factors * loss) / factors.sum()
        assert lam == pytest.approx(exact.learning_coefficient(model, n), rel=0.01)


def test_scale_mixture_against_hypergeometric_and_free_limit():
    sizes = np.array([0.5, 30.0, 1e6])
    shape, mean = 2.5, 0.7
    model = ScaleMixtureModel([mean], [shape])
    # E[(1 + n s)^(-1/2)] = z^a U(a, a + 1/2, z), z = 1/(n beta) (Tricomi U, DLMF 13.4.4)
    z = shape / (mean * sizes)
    closed = -np.log(z**shape * scipy.special.hyperu(shape, shape + 0.5, z))
    np.testing.assert_allclose(exact.free_energy(model, sizes), closed, rtol=1e-9)
    wide = ScaleMixtureModel([1.0, 0.1], [1e7, 1e7])
    free = FreeFieldModel([1.0, 0.1])
    np.testing.assert_allclose(exact.learning_coefficient(wide, sizes),
                               exact.learning_coefficient(free, sizes), rtol=1e-6)


def test_scale_mixture_from_network_has_width_kurtosis():
    network = TwoLayerNetwork(4, "tanh")
    model = ScaleMixtureModel.from_network(network, 9, num_weight_nodes=81)
    free = FreeFieldModel.from_network(network, 9, num_weight_nodes=81)
    np.testing.assert_allclose(model.eigenvalues, free.eigenvalues)
    draws = jax.vmap(model.sample_prior)(jax.random.split(jax.random.PRNGKey(0), 200000))
    leading = np.asarray(draws[:, 0])
    kurtosis = np.mean(leading**4) / np.mean(leading**2) ** 2 - 3.0
    assert kurtosis == pytest.approx(3.0 / float(model.shapes[0]), abs=0.15)
    # finite width raises F above the free theory at the same spectrum (Jensen)
    assert np.all(exact.free_energy(model, SAMPLE_SIZES) < exact.free_energy(free, SAMPLE_SIZES))


def test_normal_crossing_and_regular():
    model = NormalCrossingModel([1, 1])
    for n in (1.0, 100.0):
        direct = scipy.integrate.dblquad(
            lambda w2, w1, n=n: np.exp(-n * w1**2 * w2**2 - (w1**2 + w2**2) / 2) / (2 * np.pi),
            -12, 12, -12, 12, epsabs=1e-12)[0]
        assert exact.free_energy(model, n) == pytest.approx(-np.log(direct), abs=1e-8)
    coefficient = exact.learning_coefficient(model, np.array([1e4, 1e8, 1e16]))
    assert np.all(np.diff(coefficient) > 0) and np.all(coefficient < 0.5)
    quartic = NormalCrossingModel([0, 2])
    direct = scipy.integrate.quad(lambda w: np.exp(-50 * w**4 - w**2 / 2) / np.sqrt(2 * np.pi),
                                  -12, 12, epsabs=1e-13, points=[0])[0]
    assert exact.free_energy(quartic, 50.0) == pytest.approx(-np.log(direct), abs=1e-9)
    regular = RegularModel(10)
    assert exact.free_energy(regular, 3.0) == pytest.approx(5 * np.log(4.0))
    assert exact.learning_coefficient(regular, 1e12) == pytest.approx(5.0, rel=1e-11)


def test_min_abs():
    model = MinAbsModel()
    for n in (1.0, 30.0):
        direct = scipy.integrate.quad(
            lambda t, n=n: 4 * np.exp(-t**2 / 2) / np.sqrt(2 * np.pi) * scipy.special.erfc(
                t / np.sqrt(2)) * np.exp(-n * t), 0, 12, epsabs=1e-14, limit=200)[0]
        assert exact.free_energy(model, n) == pytest.approx(-np.log(direct), abs=1e-9)
    assert exact.learning_coefficient(model, 1e8) == pytest.approx(1.0, abs=1e-6)


def test_vectorized_over_n():
    model = CollapsedNetworkModel(TwoLayerNetwork(1, "tanh", "circle"), n_max=1e4)
    sizes = np.geomspace(1, 1e12, 6).reshape(2, 3)
    assert exact.free_energy(model, sizes).shape == (2, 3)
    assert isinstance(exact.learning_coefficient(model, 5.0), float)


def test_unavailable_references_say_why():
    with pytest.raises(exact.ExactReferenceUnavailable, match="width 3"):
        exact.free_energy(NetworkModel(TwoLayerNetwork(3), n_max=1e3), 10.0)
    with pytest.raises(exact.ExactReferenceUnavailable, match="PolynomialMachine"):
        exact.learning_coefficient(PolynomialMachine(), 10.0)
    with pytest.raises(exact.ExactReferenceUnavailable, match="3 active"):
        exact.free_energy(NormalCrossingModel([1, 1, 1]), 10.0)


@pytest.mark.parametrize("width", [1, 2])
def test_network_reference_refuses_where_its_error_bound_fails(width):
    # Issue: at width 2 the reference drifted to 0.504 at n = 1e30, and at width 1 it
    # jumped to exactly 0.5 at 1e40, silently.
    model = et.load_model("learning-zero-small", width=width, n_max=1e4)
    assert 0.4 < exact.learning_coefficient(model, 1e6) < 0.8
    with pytest.raises(ValueError, match="cannot be trusted at n = 1e\\+30"):
        exact.learning_coefficient(model, np.array([1e6, 1e30]))
    with pytest.raises(ValueError, match="cannot be trusted"):
        exact.free_energy(model, 1e40)
