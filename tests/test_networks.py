import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from efftheory.models._energies import TargetNetwork
from efftheory.models._mode_models import FreeFieldModel, ScaleMixtureModel
from efftheory.models._models import CollapsedNetworkModel, DeepLinearModel, NetworkModel
from efftheory.models._networks import DeepLinearNetwork, TwoLayerNetwork
from efftheory.models._toy_models import (
    MinAbsModel,
    NormalCrossingModel,
    PolynomialMachine,
    RegularModel,
)


def test_flat_layout_round_trip():
    network = TwoLayerNetwork(3, "tanh", "gaussian", input_dim=2, bias=True)
    assert network.num_params == 3 * (1 + 2 + 1)
    position = jnp.arange(network.num_params, dtype=jnp.float64)
    params = network.unflatten(position)
    np.testing.assert_array_equal(params.readout, [0, 1, 2])
    np.testing.assert_array_equal(params.weights, [[3, 4], [5, 6], [7, 8]])
    np.testing.assert_array_equal(params.biases, [9, 10, 11])
    np.testing.assert_array_equal(network.flatten(params), position)


def test_network_evaluates_the_formula():
    network = TwoLayerNetwork(4, "erf", "circle")
    position = network.sample_prior(jax.random.PRNGKey(3))
    points = jnp.stack([jnp.cos(jnp.linspace(0, 6, 7)), jnp.sin(jnp.linspace(0, 6, 7))], -1)
    params = network.unflatten(position)
    expected = jax.scipy.special.erf(points @ params.weights.T) @ params.readout
    np.testing.assert_allclose(network(position, points), expected, rtol=1e-14)


@pytest.mark.parametrize(("scaling", "power"), [("standard", 0), ("ntk", 1), ("mean_field", 2)])
def test_readout_variance_scaling(scaling, power):
    network = TwoLayerNetwork(16, scaling=scaling, readout_scale=2.0)
    assert network.readout_variance == pytest.approx(4.0 / 16**power)
    draws = jax.vmap(network.sample_prior)(jax.random.split(jax.random.PRNGKey(0), 4000))
    assert np.var(np.asarray(draws[:, :16])) == pytest.approx(4.0 / 16**power, rel=0.05)
    assert np.var(np.asarray(draws[:, 16:])) == pytest.approx(1.0, rel=0.05)


def test_invalid_network_arguments_name_the_fix():
    with pytest.raises(ValueError, match="width"):
        TwoLayerNetwork(0)
    with pytest.raises(ValueError, match="scaling"):
        TwoLayerNetwork(4, scaling="xavier")
    with pytest.raises(ValueError, match="input_dim"):
        TwoLayerNetwork(4, measure="circle", input_dim=3)
    with pytest.raises(ValueError, match="widths"):
        DeepLinearNetwork([3])


def test_target_must_be_realizable():
    student = TwoLayerNetwork(2)
    teacher = TwoLayerNetwork(3)
    with pytest.raises(ValueError, match="not realizable"):
        NetworkModel(student, target=TargetNetwork(teacher, jnp.ones(6)), n_max=1e3)


def test_teacher_copy_has_zero_loss():
    teacher = TwoLayerNetwork(2)
    target_position = jnp.array([0.7, -0.4, 1.1, -0.6])
    model = NetworkModel(TwoLayerNetwork(3), target=TargetNetwork(teacher, target_position),
                         n_max=1e4)
    copy = jnp.array([0.7, -0.4, 0.0, 1.1, -0.6, 2.0])
    assert float(model.population_loss(copy)) < 1e-25
    assert float(model.population_loss(model.sample_prior(jax.random.PRNGKey(0)))) > 1e-3


def test_deep_linear_loss_is_frobenius():
    model = DeepLinearModel(DeepLinearNetwork([3, 2, 2]), true_rank=1)
    position = model.sample_prior(jax.random.PRNGKey(2))
    first, second = model.network.layers(position)
    target = np.zeros((2, 3))
    target[0, 0] = 1.0
    expected = 0.5 * np.sum((np.asarray(second @ first) - target) ** 2)
    assert float(model.population_loss(position)) == pytest.approx(expected, rel=1e-14)


def _all_models():
    tanh = TwoLayerNetwork(4, "tanh", "gaussian")
    return [
        NetworkModel(tanh, n_max=1e4),
        NetworkModel(TwoLayerNetwork(3, "erf", "gaussian", input_dim=2), n_max=1e3),
        NetworkModel(TwoLayerNetwork(3, "tanh", "circle"), n_max=1e4),
        NetworkModel(TwoLayerNetwork(3, "sigmoid", "uniform", bias=True), n_max=1e4),
        CollapsedNetworkModel(tanh, n_max=1e4),
        FreeFieldModel.from_network(tanh, 7, num_weight_nodes=41),
        ScaleMixtureModel.from_network(tanh, 7, num_weight_nodes=41),
        DeepLinearModel(DeepLinearNetwork([2, 3, 2])),
        NormalCrossingModel([1, 2]),
        RegularModel(3),
        PolynomialMachine(),
        MinAbsModel(),
    ]


@eqx.filter_jit
def _value_and_grad(model, position, n):
    return jax.value_and_grad(model.potential_energy)(position, n)


def test_every_potential_is_finite_and_differentiable_under_jit():
    for model in _all_models():
        for seed in range(3):
            position = model.sample_prior(jax.random.PRNGKey(seed))
            assert position.dtype == jnp.float64 and position.shape == (model.num_params,)
            for n in (1.0, 1e4):
                value, gradient = _value_and_grad(model, position, jnp.float64(n))
                assert np.isfinite(float(value)), type(model).__name__
                assert np.all(np.isfinite(np.asarray(gradient))), type(model).__name__


@pytest.mark.parametrize(("width", "n_max", "factored"), [(3, 1e4, False), (16, 1e14, True)])
def test_collapsed_interface_is_consistent(width, n_max, factored):
    # Cholesky of the formed kernel up to where it is accurate, QR of its factor beyond
    # (at width 16 most kernel directions are still unresolved at 1e14).
    model = CollapsedNetworkModel(TwoLayerNetwork(width, "tanh"), n_max=n_max)
    assert model.factored is factored
    assert model.trustworthy_n >= n_max
    assert not model.linear_in_inverse_temperature
    position = model.sample_prior(jax.random.PRNGKey(4))
    n = jnp.float64(250.0)
    eigenvalues = np.linalg.eigvalsh(np.asarray(model.gram_matrix(position)))
    scaled = float(n) * model.network.readout_variance * eigenvalues
    assert float(model.tempered_energy(position, n)) == pytest.approx(
        0.5 * np.sum(np.log1p(scaled)), rel=1e-12)
    assert float(model.learning_coefficient_integrand(position, n)) == pytest.approx(
        0.5 * np.sum(scaled / (1 + scaled)), rel=1e-12)
    derivative = jax.grad(model.tempered_energy, argnums=1)(position, n)
    assert float(model.energy_derivative(position, n)) == pytest.approx(float(derivative),
                                                                      rel=1e-12)
    with pytest.raises(TypeError, match="tempered_energy"):
        model.energy(position)
