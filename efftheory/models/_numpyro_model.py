r"""A NumPyro model tempered by $n$: its likelihood per datum is the loss, its latent sites
the prior.

For a model with observed sites $y_1, \dots, y_N$ and latent sites $z$,

$$L(\theta) = -\frac1N \sum_{i=1}^N \log p(y_i \mid z(\theta)), \qquad
\log\varphi(\theta) = \log p(z(\theta)) + \log\Big|\det \frac{\partial z}{\partial\theta}
\Big|,$$

where $\theta$ is the flat vector of unconstrained latents and $z(\theta)$ maps each site
through NumPyro's bijection onto its support (`numpyro.distributions.biject_to`). The
log-Jacobian belongs to the prior (it makes $\varphi$ a density in $\theta$), never to the
tempered loss, so $Z(n) = \int e^{-n(L - L_0)}\varphi\,d\theta$ is the same in $\theta$ and
$z$. At $n = N$ the tempered posterior is the model's posterior (up to $e^{n L_0}$);
$\lambda(n) = n\,(E_n[L] - L_0)$ (Watanabe 2009, *Algebraic Geometry and Statistical
Learning Theory*, §1.4; Watanabe 2013, *A widely applicable Bayesian information
criterion*, JMLR 14, eq. 4 for tempering the likelihood only).
"""

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from numpyro import handlers
from numpyro.distributions import biject_to

from .._types import Key, Position, Scalar
from .._validation import positive_int
from ._function_model import check_position_functions
from ._partition import NumPyroModelError, PartitionFunction


class NumPyroModel(PartitionFunction):
    r"""A NumPyro model `model_fn(*args, **kwargs)` as a partition function in $n$.

    The tempered potential is
    $U_n(\theta) = n\,(L(\theta) - L_0) - \log\varphi(\theta)$ with $L$ the observed sites'
    negative log-likelihood per datum and $\varphi$ the latent sites' prior in
    unconstrained coordinates (Jacobian included); see the module docstring. Positions are
    flat unconstrained vectors (`jax.flatten_util.ravel_pytree` of the sites in trace
    order); `constrained(position)` gives back ``{site name: value}`` as in the model,
    deterministic sites included. For a result of `efftheory.sample`,

        positions = result.inference_data.posterior["position"].values  # chain, draw, rung, d
        draws = jax.vmap(model.constrained)(positions[:, :, rung].reshape(-1, d))

    gives the named draws at one rung.

    `loss_minimum` is $L_0$, the minimum over $\theta$ of the per-datum loss; it is unknown
    in general, and $\hat\lambda(n)$ is the learning coefficient only when $L_0$ is that
    minimum (a too-small $L_0$ adds $n\,(\min L - L_0)$). For a Gaussian likelihood with
    known noise $\sigma$, $L_0 = \tfrac12\log(2\pi\sigma^2) + \mathrm{RSS}/(2N\sigma^2)$
    with RSS the least-squares residual. $N$ is the number of observations: the common
    batch size of the observed sites (each site's log-density terms), or
    `num_observations` when they differ. `loss_minimum` and `num_observations` are
    keyword-only and not passed to `model_fn`.

    Data passed as JAX arrays in `args`/`kwargs` are traced, not compiled in. Latent sites
    must be continuous; ``numpyro.factor`` sites count as observed (likelihood) terms.
    """

    model_fn: Callable = eqx.field(static=True)
    model_args: tuple
    model_kwargs: dict
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)
    num_observations: int = eqx.field(static=True)
    latent_sites: tuple[str, ...] = eqx.field(static=True)
    observed_sites: tuple[str, ...] = eqx.field(static=True)
    unravel: Callable = eqx.field(static=True)

    def __init__(self, model_fn: Callable, *args: Any, loss_minimum: float = 0.0,
                 num_observations: int | None = None, **kwargs: Any):
        if not callable(model_fn):
            raise TypeError(f"model_fn must be a NumPyro model function, got "
                            f"{type(model_fn).__name__}.")
        if isinstance(loss_minimum, bool) or not isinstance(
                loss_minimum, int | float | np.floating) or not math.isfinite(loss_minimum):
            raise ValueError(f"loss_minimum must be a finite number (L0, the minimum of the "
                             f"per-datum loss), got {loss_minimum!r}.")
        self.model_fn = model_fn
        self.model_args = tuple(args)
        self.model_kwargs = dict(kwargs)
        self.loss_minimum = float(loss_minimum)
        trace = handlers.trace(handlers.seed(model_fn, rng_seed=0)).get_trace(*args, **kwargs)
        latent, observed, sizes = [], [], {}
        for name, site in trace.items():
            if site["type"] != "sample":
                continue
            if site["is_observed"]:
                observed.append(name)
                sizes[name] = math.prod(jnp.shape(site["fn"].log_prob(site["value"])))
            elif site["fn"].support.is_discrete:
                raise NumPyroModelError(
                    f"latent site {name!r} is discrete; NUTS needs continuous latents. "
                    "Marginalize it out (numpyro.contrib.funsor's enumeration cannot be "
                    "tempered here) or make it observed.")
            else:
                latent.append(name)
        if not observed:
            raise NumPyroModelError(
                "the NumPyro model has no observed sites, so there is no likelihood to "
                "temper by n. Pass the data: numpyro.sample(name, distribution, obs=data).")
        if not latent:
            raise NumPyroModelError("the NumPyro model has no latent sample sites: there is "
                                    "nothing to sample.")
        if num_observations is None:
            if len(set(sizes.values())) != 1:
                raise NumPyroModelError(
                    f"the observed sites have different numbers of log-density terms "
                    f"{sizes}; pass num_observations=N, the number of data points.")
            num_observations = next(iter(sizes.values()))
        self.num_observations = positive_int(num_observations, "num_observations")
        self.latent_sites, self.observed_sites = tuple(latent), tuple(observed)
        unconstrained = {name: biject_to(trace[name]["fn"].support).inv(trace[name]["value"])
                         for name in latent}
        flat, self.unravel = ravel_pytree(unconstrained)
        self.num_params = int(flat.size)
        check_position_functions(self.num_params, self.sample_prior,
                                 {"population_loss": self.population_loss,
                                  "log_prior": self.log_prior})

    def _trace(self, position: Position, rng_key: Key | None = None) -> dict:
        """The model's trace with every latent site set to $z(\\theta)$."""
        unconstrained = self.unravel(position)

        def constrain(site):
            if site["type"] != "sample" or site["is_observed"]:
                return None
            # The support may depend on earlier sites, so the bijection is built here.
            return biject_to(site["fn"].support)(unconstrained[site["name"]])

        model = handlers.substitute(self.model_fn, substitute_fn=constrain)
        model = handlers.seed(model, rng_seed=jax.random.PRNGKey(0) if rng_key is None
                              else rng_key)
        return handlers.trace(model).get_trace(*self.model_args, **self.model_kwargs)

    def _log_densities(self, position: Position) -> tuple[Scalar, Scalar]:
        """(log-likelihood summed over the data, log prior with Jacobian)."""
        trace = self._trace(position)
        unconstrained = self.unravel(position)
        log_likelihood = jnp.zeros((), jnp.float64)
        log_prior = jnp.zeros((), jnp.float64)
        for name, site in trace.items():
            if site["type"] != "sample":
                continue
            term = site["fn"].log_prob(site["value"])
            if site["scale"] is not None:
                term = site["scale"] * term
            if site["is_observed"]:
                log_likelihood = log_likelihood + jnp.sum(term)
                continue
            transform = biject_to(site["fn"].support)
            jacobian = transform.log_abs_det_jacobian(unconstrained[name], site["value"])
            # Batch-shaped (the transform reduces its own event dimensions): sum it all.
            jacobian = jnp.sum(jacobian)
            if site["scale"] is not None:
                jacobian = site["scale"] * jacobian
            log_prior = log_prior + jnp.sum(term) + jacobian
        return log_likelihood, log_prior

    def population_loss(self, position: Position) -> Scalar:
        r"""$L(\theta) = -\frac1N\sum_i \log p(y_i \mid z(\theta))$ (not shifted by $L_0$)."""
        return -self._log_densities(position)[0] / self.num_observations

    def log_prior(self, position: Position) -> Scalar:
        r"""$\log p(z(\theta)) + \log|\det \partial z/\partial\theta|$."""
        return self._log_densities(position)[1]

    def sample_prior(self, key: Key) -> Position:
        """One prior draw of the latents, mapped to the flat unconstrained vector."""
        trace = handlers.trace(handlers.seed(self.model_fn, rng_seed=key)).get_trace(
            *self.model_args, **self.model_kwargs)
        unconstrained = {name: biject_to(trace[name]["fn"].support).inv(trace[name]["value"])
                         for name in self.latent_sites}
        return ravel_pytree(unconstrained)[0].astype(jnp.float64)

    def constrained(self, position: Position) -> dict[str, jax.Array]:
        """``{site name: value}`` of the latent and deterministic sites at `position`, as in
        the model (vmappable over positions)."""
        trace = self._trace(position)
        return {name: site["value"] for name, site in trace.items()
                if (site["type"] == "sample" and not site["is_observed"])
                or site["type"] == "deterministic"}
