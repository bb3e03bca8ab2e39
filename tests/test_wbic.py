"""WBIC against the closed forms of a Gaussian model, beside the ladder's F(n)."""

import math
from typing import ClassVar

import jax
import jax.numpy as jnp
import pytest

import efftheory as et

Z = 4.0  # z-threshold on error / standard error


def gaussian_model(dim: int) -> et.FunctionModel:
    """L = |theta|^2 / 2 under N(0, I): c = s = 1 in the module docstring's closed forms."""
    return et.FunctionModel(
        loss=lambda theta: 0.5 * jnp.sum(theta**2),
        log_prior=lambda theta: jnp.sum(jax.scipy.stats.norm.logpdf(theta)),
        sample_prior=lambda key: jax.random.normal(key, (dim,), dtype=jnp.float64),
        num_params=dim,
    )


def test_wbic_matches_its_closed_form_and_the_ladder_on_a_regular_model():
    dim, n = 2, 1000.0
    result = et.wbic(gaussian_model(dim), n, chains=2, warmup=200, draws=1000, seed=0,
                     progress=False)
    sampled_n = n / math.log(n)
    assert result.sampled_n == pytest.approx(sampled_n, rel=1e-15)
    exact_wbic = dim / 2 * n / (sampled_n + 1.0)
    exact_free_energy = dim / 2 * math.log1p(n)
    assert abs(result.free_energy - exact_wbic) < Z * result.free_energy_mcse
    assert abs(result.ladder_free_energy - exact_free_energy) < Z * result.ladder_free_energy_err
    # Regular, c s^2 = 1: WBIC - F = -(d/2)(log n)^2/n + ... = -0.05, below the errors.
    assert abs(exact_wbic - exact_free_energy) < 0.06
    assert abs(result.difference) < Z * result.difference_err
    # L0 = 0 here, so Watanabe's WBIC and efftheory's F estimate coincide.
    assert result.wbic == result.free_energy
    assert result.summary()["rung"] == result.rung


class _Nonlinear(et.FunctionModel):
    linear_in_inverse_temperature: ClassVar[bool] = False


def test_wbic_refuses_what_it_cannot_estimate():
    model = gaussian_model(1)
    with pytest.raises(ValueError, match="above e"):
        et.wbic(model, 2.0)
    with pytest.raises(ValueError, match="n is required"):
        et.wbic(model)
    with pytest.raises(ValueError, match="adapt_ladder"):
        et.wbic(model, 100.0, adapt_ladder=True)
    nonlinear = _Nonlinear(loss=model.loss, log_prior=model.log_prior_fn,
                           sample_prior=model.sample_prior_fn, num_params=1)
    with pytest.raises(et.NonlinearTemperingError, match="raw-weight"):
        et.wbic(nonlinear, 100.0)
