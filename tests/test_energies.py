import jax
import jax.numpy as jnp
import numpy as np
import pytest

from efftheory._energies import QuadratureError, choose_num_nodes, loss_rule, population_loss
from efftheory._models import NetworkModel
from efftheory._modes import mode_coefficients
from efftheory._networks import TwoLayerNetwork


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
    assert choice.error_estimate <= choice.tolerance == pytest.approx(1e-3 / n_max)
    # verified against 4Q at fresh prior draws
    draws = jax.vmap(network.sample_prior)(jax.random.split(jax.random.PRNGKey(99), 16))
    coarse, fine = (loss_rule(network, q) for q in (choice.num_nodes, 4 * choice.num_nodes))
    losses = [np.asarray(jax.vmap(lambda p, r=r: population_loss(network, r, p))(draws))
              for r in (coarse, fine)]
    assert np.max(np.abs(losses[0] - losses[1])) <= choice.error_estimate


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
