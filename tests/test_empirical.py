"""The empirical-loss network model: its energy, its limit, its data and its errors."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import efftheory as et

Z = 5.0  # z-threshold on error / standard error


@pytest.fixture(scope="module")
def network():
    return et.TwoLayerNetwork(2, "tanh", "gaussian")


@pytest.fixture(scope="module")
def model(network):
    return et.EmpiricalNetworkModel.draw(network, 20_000, key=jax.random.PRNGKey(0),
                                         n_max=1e4)


def test_energy_is_the_empirical_loss_and_tends_to_the_population_loss(network, model):
    assert model.loss_minimum == pytest.approx(0.5 * float(jnp.mean(model.labels**2)))
    theta = network.sample_prior(jax.random.PRNGKey(1))
    energy = float(model.energy(theta))
    assert energy == pytest.approx(float(model.empirical_loss(theta)) - model.loss_minimum,
                                   rel=1e-10)
    # Per-point terms of L_N - L0 have mean L(theta) (the population loss, L0 = 0).
    difference = np.asarray(network(theta, model.inputs))
    terms = 0.5 * difference**2 - difference * np.asarray(model.noise)
    standard_error = terms.std(ddof=1) / np.sqrt(terms.size)
    population = float(model.population.population_loss(theta))
    assert abs(energy - population) < Z * standard_error


def test_data_are_reproducible_from_the_seed(network, model):
    again = et.EmpiricalNetworkModel.draw(network, 20_000, key=jax.random.PRNGKey(0),
                                          n_max=1e4)
    assert np.array_equal(model.inputs, again.inputs)
    assert np.array_equal(model.labels, again.labels)
    key = jax.random.PRNGKey(1)
    assert not np.array_equal(network.measure.sample(key, 5), model.inputs[:5])
    circle = et.CircleMeasure().sample(key, 50)
    assert circle.shape == (50, 2) and np.allclose(jnp.sum(circle**2, axis=1), 1.0)
    uniform = et.UniformMeasure().sample(key, 50)
    assert uniform.shape == (50, 1) and np.all(np.abs(uniform) <= 1.0)


def test_bad_data_get_errors_that_say_what_to_change(network):
    inputs, labels = np.zeros((10, 1)), np.zeros(10)
    with pytest.raises(ValueError, match=r"data_size = 12 but the data set has 10 points"):
        et.EmpiricalNetworkModel(network, inputs, labels, data_size=12)
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(10,\)"):
        et.EmpiricalNetworkModel(network, inputs, labels[:9])
    with pytest.raises(ValueError, match=r"inputs must have shape \(N, input_dim\)"):
        et.EmpiricalNetworkModel(network, np.zeros((10, 2)), labels)
    with pytest.raises(ValueError, match="labels must be finite"):
        et.EmpiricalNetworkModel(network, inputs, np.full(10, np.nan))


def test_cards_take_data_size_only_where_it_means_something():
    card = "learning-zero-small"
    with pytest.raises(et.ModelCardError, match="data_size = 8 needs form = 'raw'"):
        et.load_model(card, data_size=8, form="collapsed")
    with pytest.raises(et.ModelCardError, match="data_seed given without data_size"):
        et.load_model(card, data_seed=1)
    with pytest.raises(et.ModelCardError, match="only two-layer cards take a finite data"):
        et.load_model("regular-10", data_size=8)
    with pytest.raises(et.ModelCardError,
                       match=r"data_size = 40 but the data set passed has 50 points"):
        et.load_model(card, data=(np.zeros((50, 1)), np.zeros(50)), data_size=40)


def _run_with(positions: np.ndarray, n: float):
    """A stand-in for a SamplingResult holding `positions` (chain, draw, d) at one rung."""
    values = positions[:, :, None, :]
    return types.SimpleNamespace(n_ladder=np.array([n]), inference_data=types.SimpleNamespace(
        posterior={"position": types.SimpleNamespace(values=values)}))


def test_bayes_errors_of_a_point_mass_are_the_losses_there(network, model):
    theta = np.asarray(network.sample_prior(jax.random.PRNGKey(5)))
    # Every draw at theta: the predictive is p(y|x, theta), so G = KL = L(theta) and
    # T = L_N(theta) - L_N(theta_0); the functional variance vanishes.
    errors = et.bayes_errors(model, _run_with(np.tile(theta, (2, 3, 1)), 20_000.0))
    population = float(model.population.population_loss(jnp.asarray(theta)))
    assert errors.bayes_generalization_error == pytest.approx(population, rel=1e-9)
    assert errors.gibbs_generalization_error == pytest.approx(population, rel=1e-12)
    assert errors.bayes_training_error == pytest.approx(float(model.energy(theta)), rel=1e-9)
    assert errors.functional_variance == pytest.approx(0.0, abs=1e-20)
    assert errors.waic == pytest.approx(errors.bayes_training_error, rel=1e-12)
    # At the truth (readout zero) every error is zero.
    truth = np.zeros_like(theta)
    errors = et.bayes_errors(model, _run_with(np.tile(truth, (1, 2, 1)), 20_000.0))
    assert errors.bayes_generalization_error == pytest.approx(0.0, abs=1e-12)
    assert errors.bayes_training_error == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="n = 100 is not a rung"):
        et.bayes_errors(model, _run_with(np.tile(truth, (1, 2, 1)), 20_000.0), n=100.0)
