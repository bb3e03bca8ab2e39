"""The sampler on a model that is not linear in n: a collapsed Gaussian readout.

Raw form: L(a, w) = a^2 w^2 / 2 with a, w ~ N(0, 1). Integrating a out exactly gives the
collapsed form T_n(w) = log(1 + n w^2) / 2 over w ~ N(0, 1), with
Z(n) = E_w[(1 + n w^2)^(-1/2)] and lambda(n) = E_{p_n}[n w^2 / (2 (1 + n w^2))].
Both forms must reproduce the exact curve, computed here by quadrature.
"""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

import efftheory as et
from efftheory.models._partition import standard_normal_log_prior


class RawProduct(et.PartitionFunction):
    num_params: int = eqx.field(static=True, default=2)
    loss_minimum: float = eqx.field(static=True, default=0.0)

    def population_loss(self, position):
        return 0.5 * position[0] ** 2 * position[1] ** 2

    def log_prior(self, position):
        return standard_normal_log_prior(position)

    def sample_prior(self, key):
        return jax.random.normal(key, (2,), dtype=jnp.float64)


class CollapsedProduct(et.PartitionFunction):
    num_params: int = eqx.field(static=True, default=1)
    loss_minimum: float = eqx.field(static=True, default=0.0)
    linear_in_inverse_temperature = False

    def tempered_energy(self, position, inverse_temperature):
        return 0.5 * jnp.log1p(inverse_temperature * position[0] ** 2)

    def energy_derivative(self, position, inverse_temperature):
        return 0.5 * position[0] ** 2 / (1.0 + inverse_temperature * position[0] ** 2)

    def population_loss(self, position):
        raise TypeError("no loss of w alone")

    def log_prior(self, position):
        return standard_normal_log_prior(position)

    def sample_prior(self, key):
        return jax.random.normal(key, (1,), dtype=jnp.float64)


def exact_learning_coefficient(n):
    density = lambda w: np.exp(-w * w / 2) / np.sqrt(1 + n * w * w)  # noqa: E731
    mass = scipy.integrate.quad(density, -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    weighted = scipy.integrate.quad(lambda w: density(w) * n * w * w / (2 * (1 + n * w * w)),
                                    -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    return weighted / mass


def exact_free_energy(n):
    value = scipy.integrate.quad(lambda w: np.exp(-w * w / 2) / np.sqrt(1 + n * w * w),
                                 -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    return -np.log(value / np.sqrt(2 * np.pi))


LADDER = [0.0, 1.0, 10.0, 100.0, 1000.0]


@pytest.mark.parametrize("model", [RawProduct(), CollapsedProduct()], ids=["raw", "collapsed"])
def test_raw_and_collapsed_forms_match_the_exact_curve(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", et.SamplingWarning)
        result = et.sample(model, LADDER, chains=4, draws=1500, warmup=500, seed=3,
                           progress=False, target_accept_prob=0.9)
    for n, estimate, mcse in zip(LADDER[1:], result.learning_coefficient[1:],
                                 result.learning_coefficient_mcse[1:], strict=True):
        assert abs(estimate - exact_learning_coefficient(n)) < 3 * mcse, (n, estimate, mcse)
    top = exact_free_energy(LADDER[-1])
    assert abs(result.free_energy[-1] - top) < 3 * result.free_energy_err[-1]
    if model.linear_in_inverse_temperature:
        assert np.all(np.isfinite(result.free_energy_stepping_stone))
    else:
        # Stepping stones need T_{n'} - T_n = (n' - n) E: not available here.
        assert np.all(np.isnan(result.free_energy_stepping_stone))
    assert result.inference_data.posterior.attrs["linear_in_inverse_temperature"] == int(
        model.linear_in_inverse_temperature)
