import jax
import jax.numpy as jnp
import numpy as np
import pytest

import efftheory as et
from efftheory.models._energies import gram_matrix, loss_rule
from efftheory.models._models import NetworkModel
from efftheory.models._networks import TwoLayerNetwork
from efftheory.models._quadrature_choice import (
    QuadratureError,
    choose_num_nodes,
    tempered_energy_error,
)
from efftheory.modes._modes import mode_coefficients


@pytest.mark.parametrize("activation", ["tanh", "erf"])
def test_parseval_against_mode_coefficients(activation):
    # L(theta) = 1/2 sum_k u_k^2 with u_k = sum_i a_i c_k(w_i) from the independent,
    # accuracy-aware mode_coefficients (trapezoid rule, not the loss's quadrature).
    network = TwoLayerNetwork(8, activation, "gaussian", weight_scale=0.5)
    model = NetworkModel(network, n_max=1e8)
    position = model.sample_prior(jax.random.PRNGKey(11))
    params = network.unflatten(position)
    coefficients = mode_coefficients(activation, "gaussian", w=np.asarray(params.weights[:, 0]),
                                     kmax=300, below_floor="keep")
    amplitudes = np.asarray(params.readout) @ np.asarray(coefficients)
    loss = float(model.population_loss(position))
    assert 0.5 * np.sum(amplitudes**2) == pytest.approx(loss, rel=1e-10)
    # the jittable projection agrees with the accurate coefficients on the leading modes
    np.testing.assert_allclose(model.mode_amplitudes(position, 40), amplitudes[:41],
                               atol=1e-12 * np.sqrt(loss))


@pytest.mark.parametrize(("activation", "measure", "input_dim"),
                         [("tanh", "gaussian", 1), ("erf", "gaussian", 1),
                          ("tanh", "gaussian", 2), ("tanh", "circle", None)])
def test_population_loss_matches_monte_carlo(activation, measure, input_dim):
    network = TwoLayerNetwork(8, activation, measure, input_dim=input_dim)
    model = NetworkModel(network, n_max=1e6)
    position = model.sample_prior(jax.random.PRNGKey(5))
    key = jax.random.PRNGKey(123)
    if measure == "circle":
        angles = jax.random.uniform(key, (10**6,), maxval=2 * jnp.pi)
        points = jnp.stack([jnp.cos(angles), jnp.sin(angles)], -1)
    else:
        points = jax.random.normal(key, (10**6, network.input_dim))
    samples = 0.5 * np.asarray(network(position, points)) ** 2
    standard_error = samples.std() / np.sqrt(samples.size)
    assert abs(float(model.population_loss(position)) - samples.mean()) < 3 * standard_error


@pytest.mark.parametrize(("activation", "measure", "input_dim", "n_max"),
                         [("tanh", "gaussian", 1, 1e8), ("erf", "gaussian", 1, 1e8),
                          ("tanh", "circle", None, 1e8), ("softplus", "uniform", None, 1e8),
                          ("tanh", "gaussian", 2, 1e4)])
def test_automatic_nodes_meet_their_stated_error(activation, measure, input_dim, n_max):
    network = TwoLayerNetwork(8, activation, measure, input_dim=input_dim)
    choice = choose_num_nodes(network, n_max)
    assert choice.error_estimate <= choice.tolerance == pytest.approx(1e-3)
    assert choice.trustworthy_n >= n_max
    # verified against 4Q at fresh prior draws
    draws = jax.vmap(network.sample_prior)(jax.random.split(jax.random.PRNGKey(99), 16))

    def grams(num_nodes):
        rule = loss_rule(network, num_nodes)
        return np.asarray(jax.vmap(lambda p: gram_matrix(network, rule, p))(draws))

    coarse, fine = grams(choice.num_nodes), grams(4 * choice.num_nodes)
    measured = tempered_energy_error(coarse, fine, network.readout_variance, n_max)[0]
    assert measured <= choice.error_estimate


def test_tempered_energy_error_is_the_posterior_mean_of_the_energy_change():
    # eps(n) = E_{a|w}[n a'dG a]/2 with a|w ~ N(0, (1/s^2 + nG)^-1): for a diagonal G and
    # a diagonal dG it is exactly (1/2) sum_j n s^2 dG_jj / (1 + n s^2 mu_j).
    gram = np.diag([2.0, 1e-3, 1e-9])[None]
    change = np.diag([1e-12, -1e-12, 1e-12])[None]
    n, variance = 1e6, 0.5
    expected = 0.5 * sum(n * variance * 1e-12 / (1 + n * variance * mu)
                         for mu in (2.0, 1e-3, 1e-9))
    error = tempered_energy_error(gram + change, gram, variance, n)[0]
    assert error == pytest.approx(expected, rel=1e-9)


def test_sampling_above_the_trustworthy_n_is_refused():
    model = NetworkModel(TwoLayerNetwork(2, "tanh"), n_max=1e4)
    limit = model.trustworthy_n
    assert 1e4 <= limit < 1e30
    with pytest.raises(ValueError, match="trustworthy n"):
        et.sample(model, [0.0, 1.0, 10 * limit], chains=1, draws=2, warmup=2, progress=False)


def test_unreachable_accuracy_raises():
    with pytest.raises(QuadratureError, match="max_nodes"):
        choose_num_nodes(TwoLayerNetwork(4, "relu"), 1e15, max_nodes=64)


def test_mode_energies_sum_to_the_loss():
    for network in (TwoLayerNetwork(4, "tanh", "gaussian"), TwoLayerNetwork(4, "tanh", "circle"),
                    TwoLayerNetwork(4, "tanh", "gaussian", input_dim=2, weight_scale=0.5)):
        model = NetworkModel(network, n_max=1e6)
        position = model.sample_prior(jax.random.PRNGKey(1))
        energies = np.asarray(model.mode_energies(position, 120))
        assert np.all(energies >= -1e-15)
        loss = float(model.population_loss(position))
        assert energies.sum() == pytest.approx(loss, rel=1e-9)
        assert float(model.cutoff_energy(position, 3)) == pytest.approx(energies[:4].sum())


@pytest.mark.parametrize("activation, bias, folded", [("tanh", False, True), ("erf", False, True),
                                                       ("tanh", True, False),
                                                       ("relu", False, False)])
def test_folded_rule_gives_the_same_loss_and_kernel(activation, bias, folded):
    # An odd activation without biases makes every integrand even in x: the rule keeps only
    # x >= 0 with doubled weights and must give the unfolded sums to rounding.
    network = TwoLayerNetwork(width=5, activation=activation, measure="gaussian", bias=bias)
    rule = loss_rule(network, 64)
    assert (rule.points.shape[0] == 32) == folded
    nodes, log_weights = et.modes._quadrature.gaussian_trapezoid(64)
    plain = et.models._energies.LossRule(False, 64, jnp.asarray(nodes)[:, None],
                                  jnp.exp(0.5 * jnp.asarray(log_weights)))
    for seed in range(3):
        position = network.sample_prior(jax.random.PRNGKey(seed))
        np.testing.assert_allclose(gram_matrix(network, rule, position),
                                   gram_matrix(network, plain, position), rtol=1e-13,
                                   atol=1e-15)
        np.testing.assert_allclose(et.models._energies.population_loss(network, rule, position),
                                   et.models._energies.population_loss(network, plain, position),
                                   rtol=1e-13)


def test_gram_derivatives_match_plain_autodiff():
    # The Gram matrix's custom JVP (one product in reverse mode) against autodiff of h.T @ h,
    # first and second order.
    hidden = jax.random.normal(jax.random.PRNGKey(3), (9, 4))
    shipped = lambda h: jnp.sum(jnp.sin(et.models._energies._symmetric_gram(h)) ** 2)  # noqa: E731
    plain = lambda h: jnp.sum(jnp.sin(h.T @ h) ** 2)  # noqa: E731
    np.testing.assert_allclose(jax.grad(shipped)(hidden), jax.grad(plain)(hidden), rtol=1e-12)
    np.testing.assert_allclose(jax.hessian(shipped)(hidden), jax.hessian(plain)(hidden),
                               rtol=1e-10, atol=1e-12)
