r"""Partition functions: an energy and a prior, tempered by an inverse temperature $n$.

Every model in efftheory is a `PartitionFunction`: a flat parameter vector $\theta$, a
population loss $L(\theta)$ with known minimum $L_0$, and a prior density $\varphi$. At
inverse temperature $n$ (the number of samples),

$$Z(n) = \int e^{-n (L(\theta) - L_0)} \varphi(\theta)\, d\theta, \qquad
F(n) = -\log Z(n), \qquad \lambda(n) = \frac{dF}{d\log n} = n\,(E_n[L] - L_0).$$

(Watanabe 2009, *Algebraic Geometry and Statistical Learning Theory*, §1.4 and eq. 6.2;
the $n L_0$ term of the free energy is dropped by measuring $L$ from its minimum.)

Samplers only ever see `potential_energy(position, inverse_temperature)`, so one compiled
kernel serves every rung of a ladder: $n$ is a traced argument, never a constant.

Most models are *linear* in $n$: $U_n = T_n - \log\varphi$ with the tempered energy
$T_n(\theta) = n\,(L(\theta) - L_0)$. A model whose tempered part is not $n$ times a
function of $\theta$ (the collapsed readout, $T_n = \tfrac12\log\det(I + n s_a^2 G(w))$)
sets ``linear_in_inverse_temperature = False`` and overrides `tempered_energy` and
`energy_derivative`; samplers then use the general replica-swap rule and record
$\partial_n T_n$, whose mean is $dF/dn$, so $\hat\lambda(n) = n\,E_n[\partial_n T_n]$ holds
for every model.

The errors models raise live here too, beside the interface they belong to.
"""

import abc
import math
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from .._types import Key, Position, Scalar, ScalarLike


class PartitionFunction(eqx.Module):
    r"""Abstract base: $Z(n) = \int \exp(-n(L(\theta) - L_0))\,\varphi(\theta)\,d\theta$.

    Subclasses provide `num_params`, `loss_minimum` ($L_0$), `population_loss`,
    `log_prior` and `sample_prior`. Positions are flat float64 vectors of length
    `num_params`.
    """

    num_params: eqx.AbstractVar[int]
    loss_minimum: eqx.AbstractVar[float]
    linear_in_inverse_temperature: ClassVar[bool] = True

    @property
    def trustworthy_n(self) -> float:
        """The largest $n$ at which this model's tempered energy is accurate enough to
        sample (quadrature and float64 rounding; ``inf`` for exact energies). Samplers
        refuse ladders that go above it."""
        return math.inf

    @abc.abstractmethod
    def population_loss(self, position: Position) -> Scalar:
        """The population loss $L(\\theta)$ (not shifted by $L_0$)."""

    @abc.abstractmethod
    def log_prior(self, position: Position) -> Scalar:
        """Log density of the prior $\\varphi$ at `position`, normalized."""

    @abc.abstractmethod
    def sample_prior(self, key: Key) -> Position:
        """One draw from the prior $\\varphi$."""

    def energy(self, position: Position) -> Scalar:
        """$L(\\theta) - L_0$, the quantity tempered by $n$."""
        return self.population_loss(position) - self.loss_minimum

    def tempered_energy(self, position: Position, inverse_temperature: ScalarLike) -> Scalar:
        r"""$T_n(\theta) = U_n(\theta) + \log\varphi(\theta)$; here $n\,(L(\theta) - L_0)$."""
        return inverse_temperature * self.energy(position)

    def energy_derivative(self, position: Position, inverse_temperature: ScalarLike) -> Scalar:
        r"""$\partial_n T_n(\theta)$, whose posterior mean is $dF/dn$; here $L - L_0$."""
        return self.energy(position)

    def potential_energy(self, position: Position, inverse_temperature: ScalarLike) -> Scalar:
        r"""$U_n(\theta) = T_n(\theta) - \log\varphi(\theta)$."""
        return self.tempered_energy(position, inverse_temperature) - self.log_prior(position)

    def numpyro_model(self, inverse_temperature: ScalarLike) -> Callable[[], None]:
        """A NumPyro model whose potential energy is `potential_energy(·, n)`.

        The position is one site ``"position"`` of shape ``(num_params,)``; the tempered
        likelihood and the prior enter as one factor, so NumPyro's potential equals ours to
        the last bit.
        """

        def model() -> None:
            position = numpyro.sample(
                "position",
                dist.ImproperUniform(dist.constraints.real_vector, (), (self.num_params,)),
            )
            numpyro.factor("tempered_posterior", -self.potential_energy(position,
                                                                         inverse_temperature))

        return model


def standard_normal_log_prior(position: Position, scale: jax.Array | float = 1.0) -> Scalar:
    r"""$\log \prod_i N(\theta_i; 0, s_i^2)$ for a diagonal Gaussian prior."""
    scale = jnp.broadcast_to(jnp.asarray(scale, dtype=position.dtype), position.shape)
    return jnp.sum(jax.scipy.stats.norm.logpdf(position, 0.0, scale))


# ------------------------------------------------------------------------------- errors


class ModeAmplitudesUnavailable(ValueError):
    """This model has no mode amplitudes $u_k(\\theta)$."""


class NonlinearTemperingError(TypeError):
    """The model's tempered potential is not $n$ times an energy of the position alone."""


class NumPyroModelError(ValueError):
    """A NumPyro model that cannot be tempered (no observed sites, discrete latents, ...)."""


class QuadratureError(RuntimeError):
    """The population loss cannot be integrated to the requested accuracy."""


class ModelCardError(ValueError):
    """A model card (or an override) is malformed; the message names the file and field."""


class ExactReferenceUnavailable(ValueError):
    """No exact $Z(n)$ is known (or implemented) for this model; the message says why."""
