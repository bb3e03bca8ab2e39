r"""Bayes and Gibbs generalization and training errors, and WAIC, of a finite-data posterior.

For the model $p(y \mid x, \theta) = N(y; f_\theta(x), 1)$, the truth
$q(y \mid x) = N(y; f^*(x), 1)$, posterior draws $\theta_1, \dots, \theta_S$ at $n$ and the
data $(x_i, y_i)_{i \le N}$ of an `EmpiricalNetworkModel` (Watanabe 2009, *Algebraic
Geometry and Statistical Learning Theory*, §1.3 and eqs. 1.19-1.22, at $\beta = 1$):

* Bayes generalization error $G = E_x\,\mathrm{KL}\big(q(\cdot\mid x)\,\|\,
  E_\theta[p(\cdot\mid x, \theta)]\big)$; with $d_s(x) = f_{\theta_s}(x) - f^*(x)$ and
  $y = f^*(x) + \varepsilon$,
  $G = E_x E_\varepsilon\big[-\tfrac12\varepsilon^2
  - \log\tfrac1S\sum_s e^{-\frac12(\varepsilon - d_s(x))^2}\big]$, by the loss's
  quadrature in $x$ and Gauss-Hermite in $\varepsilon$;
* Bayes training error $T = \frac1N\sum_i\big[-\log\tfrac1S\sum_s
  e^{-\frac12 r_{si}^2} - \tfrac12\varepsilon_i^2\big]$, $r_{si} = f_{\theta_s}(x_i) - y_i$;
* Gibbs errors $E_\theta[L(\theta)] - L_0$ (population) and $E_\theta[L_N] - L_N(\theta_0)$
  (empirical; $= \hat\lambda(n)/n$);
* WAIC in error form, $W = T + V/N$ with the functional variance
  $V = \sum_i \mathrm{Var}_\theta[\tfrac12 r_i^2]$, for which
  $E[G] = E[W] + o(1/N)$ (S. Watanabe 2010, *Asymptotic equivalence of Bayes cross
  validation and widely applicable information criterion in singular learning theory*,
  JMLR 11:3571-3594).

For a regular model at $n = N$, $E[G] = d/(2N)$ and $E[T] = -d/(2N)$ to leading order; in
general $E[G] = (\lambda + \ldots)/N$ involves the singular fluctuation too (ibid.). Each
is one data set's value: its spread over data sets is of the order of its mean.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from ..models._empirical import EmpiricalNetworkModel
from ._estimators import mean_and_mcse
from ._result import SamplingResult

# Gauss-Hermite nodes for the label noise: the integrand is smooth and grows like eps^2.
_NOISE_NODES = 48


@dataclasses.dataclass(frozen=True)
class BayesErrors:
    r"""Watanabe's errors of the posterior at `n` (module docstring), per datum.

    `bayes_generalization_error` is NaN for Gaussian inputs in `input_dim` > 1, whose
    population loss uses Mehler's formula and has no pointwise rule in $x$. The Gibbs
    errors come with MCSEs (ArviZ ESS over chains); the Bayes errors and WAIC are
    log-means over the draws, whose Monte Carlo error is not estimated.
    """

    n: float
    data_size: int
    bayes_generalization_error: float
    bayes_training_error: float
    gibbs_generalization_error: float
    gibbs_generalization_error_mcse: float
    gibbs_training_error: float
    gibbs_training_error_mcse: float
    waic: float
    functional_variance: float
    num_draws: int


def bayes_errors(model: EmpiricalNetworkModel, result: SamplingResult,
                 n: float | None = None) -> BayesErrors:
    r"""The errors of the posterior at rung `n` of `result` (default: $n = N$, the Bayes
    posterior of the data set), from its stored positions (module docstring)."""
    if not isinstance(model, EmpiricalNetworkModel):
        raise TypeError(f"bayes_errors needs an efftheory.EmpiricalNetworkModel (a data set "
                        f"and its truth), got {type(model).__name__}; build one with "
                        "load_model(card, data_size=N).")
    n = float(model.data_size if n is None else n)
    ladder = np.asarray(result.n_ladder)
    rungs = np.flatnonzero(ladder == n)
    if rungs.size == 0:
        raise ValueError(f"n = {n:g} is not a rung of the run (n_ladder = "
                         f"{[float(v) for v in ladder]}); sample a ladder that contains it, or "
                         "pass one of its rungs as n.")
    posterior = result.inference_data.posterior
    if "position" not in posterior:
        raise ValueError("the run stored no positions: sample with store_positions=True.")
    positions = jnp.asarray(posterior["position"].values[:, :, rungs[0]])  # chain, draw, d
    chains, draws = positions.shape[:2]
    flat = positions.reshape(chains * draws, -1)

    # (draws, data): d_s(x_i) = f_s(x_i) - f*(x_i); r = d - eps.
    difference = jax.vmap(lambda p: model.network(p, model.inputs))(flat) \
        - model.target_values(model.inputs)
    residual = difference - model.noise
    half_square = 0.5 * residual**2
    log_draws = jnp.log(flat.shape[0])
    training = jnp.mean(-(logsumexp(-half_square, axis=0) - log_draws)
                        - 0.5 * model.noise**2)
    functional_variance = jnp.sum(jnp.var(half_square, axis=0))

    population = model.population
    gibbs_generalization = np.asarray(jax.vmap(population.energy)(flat)).reshape(chains,
                                                                                 draws)
    gibbs_training = np.asarray(jax.vmap(model.energy)(flat)).reshape(chains, draws)
    gen_mean, gen_mcse = mean_and_mcse(gibbs_generalization)
    train_mean, train_mcse = mean_and_mcse(gibbs_training)
    return BayesErrors(
        n=n,
        data_size=model.data_size,
        bayes_generalization_error=_bayes_generalization(model, flat),
        bayes_training_error=float(training),
        gibbs_generalization_error=gen_mean,
        gibbs_generalization_error_mcse=gen_mcse,
        gibbs_training_error=train_mean,
        gibbs_training_error_mcse=train_mcse,
        waic=float(training + functional_variance / model.data_size),
        functional_variance=float(functional_variance),
        num_draws=int(flat.shape[0]),
    )


def _bayes_generalization(model: EmpiricalNetworkModel, flat) -> float:
    rule = model.population.rule
    if rule.mehler:
        return float("nan")
    weights = rule.root_weights**2
    noise, noise_weights = np.polynomial.hermite_e.hermegauss(_NOISE_NODES)
    noise_weights = jnp.asarray(noise_weights / np.sqrt(2.0 * np.pi))
    noise = jnp.asarray(noise)
    difference = jax.vmap(lambda p: model.network(p, rule.points))(flat) \
        - model.target_values(rule.points)  # draws, nodes
    log_draws = jnp.log(flat.shape[0])

    def at_node(differences):  # (draws,) -> E_eps[-eps^2/2 - log mean_s exp(...)]
        exponent = -0.5 * (noise[None, :] - differences[:, None]) ** 2
        log_mean = logsumexp(exponent, axis=0) - log_draws
        return jnp.sum(noise_weights * (-0.5 * noise**2 - log_mean))

    return float(jnp.sum(weights * jax.lax.map(at_node, difference.T)))
