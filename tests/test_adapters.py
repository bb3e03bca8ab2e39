r"""`FunctionModel` and `NumPyroModel` against closed forms.

* Quadratic $L = \tfrac12|\theta|^2$, prior $N(0, s^2 I_d)$: $Z(n) = (1 + n s^2)^{-d/2}$, so
  $F(n) = \tfrac d2\log(1 + ns^2)$ and $\lambda(n) = \tfrac d2\,n/(n + s^{-2})$.
* Normal crossing $L = w_1^2w_2^2$, prior $N(0, I_2)$: integrating $w_2$ out,
  $Z(n) = E_{w_1}[(1 + 2nw_1^2)^{-1/2}]$ and $\lambda(n) = n E[w_1^2(1+2nw_1^2)^{-3/2}]/Z$.
* Bayesian linear regression, $y = X\theta + \sigma\varepsilon$ with known $\sigma$, prior
  $N(0, \tau^2 I_d)$: $L(\theta) - L_0 = \tfrac12(\theta - \hat\theta)^\top A(\theta - \hat\theta)$,
  $A = X^\top X/(N\sigma^2)$, $\hat\theta$ least squares. With $A = V\,\mathrm{diag}(h)V^\top$
  and $b = V^\top\hat\theta$, the Gaussian integral
  $\int N(\theta; 0, \tau^2 I) e^{-\frac12(\theta - m)^\top M(\theta - m)}d\theta
  = |I + \tau^2 M|^{-1/2}\exp(-\tfrac12 m^\top M(I + \tau^2M)^{-1}m)$ at $M = nA$ gives
  $$F(n) = \sum_j \tfrac12\log(1 + n\tau^2h_j) + \frac{n h_j b_j^2}{2(1 + n\tau^2h_j)},\qquad
  \lambda(n) = n F'(n) = \sum_j \frac{n\tau^2h_j}{2(1 + n\tau^2h_j)}
  + \frac{n h_j b_j^2}{2(1 + n\tau^2h_j)^2}.$$
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from scipy import integrate

import efftheory
from efftheory import FunctionModel, NumPyroModel, NumPyroModelError
from efftheory.sampling import SamplingWarning, geometric_ladder


def _within(estimate, exact, error, relative=0.0):
    return np.abs(estimate - exact) <= np.maximum(3 * error, relative * np.abs(exact))


def _standard_normal_log_prior(position):
    return jnp.sum(jax.scipy.stats.norm.logpdf(position))


def _standard_normal_draw(key):
    return jax.random.normal(key, (2,), dtype=jnp.float64)


def _crossing_loss(position):
    return position[0] ** 2 * position[1] ** 2


def _quadratic_loss(position):
    return 0.5 * jnp.sum(position**2)


def _sample_quietly(model, ladder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # tiny runs: R-hat, ESS warnings
        return efftheory.sample(model, ladder, progress=False, **kwargs)


# ------------------------------------------------------------------------ FunctionModel


def test_function_model_quadratic_matches_closed_form():
    """lambda(n) = (d/2) n/(n + 1) and F(n) = (d/2) log(1 + n) for s = 1, d = 2."""
    model = FunctionModel(_quadratic_loss, _standard_normal_log_prior,
                          _standard_normal_draw, num_params=2)
    ladder = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0])
    result = _sample_quietly(model, ladder, chains=2, warmup=300, draws=600, seed=0)
    exact_lambda = ladder / (ladder + 1.0)
    exact_free = np.log1p(ladder)
    assert _within(result.learning_coefficient, exact_lambda,
                   result.learning_coefficient_mcse, relative=0.03).all()
    assert _within(result.free_energy, exact_free, result.free_energy_err, 0.03).all()


def _over_w1(integrand):
    """$E_{w_1 \\sim N(0,1)}[g(w_1)]$ for even g, integrated in $s = \\log w_1$."""
    def in_log(s):
        w = np.exp(s)
        return 2 * integrand(w) * np.exp(-w**2 / 2) / np.sqrt(2 * np.pi) * w
    return integrate.quad(in_log, -40, 5, limit=500, epsabs=0, epsrel=1e-12)[0]


def _crossing_lambda(n):
    z = _over_w1(lambda w: (1 + 2 * n * w**2) ** -0.5)
    return n * _over_w1(lambda w: w**2 * (1 + 2 * n * w**2) ** -1.5) / z


def test_function_model_normal_crossing_matches_exact_lambda():
    model = FunctionModel(_crossing_loss, _standard_normal_log_prior,
                          _standard_normal_draw, num_params=2)
    ladder = np.array([0.0, 1.0, 3.0, 10.0, 30.0, 100.0])
    result = _sample_quietly(model, ladder, chains=2, warmup=300, draws=600, seed=0,
                             target_accept_prob=0.95)
    exact = np.array([_crossing_lambda(n) for n in ladder])
    assert _within(result.learning_coefficient, exact,
                   result.learning_coefficient_mcse, relative=0.03).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(num_params=3), r"shape \(num_params,\) = \(3,\), got \(2,\)"),
    (dict(num_params=0), "num_params must be a positive integer"),
    (dict(num_params=2.0), "num_params must be a positive integer"),
    (dict(num_params=2, loss=lambda p: p**2), "loss\\(position\\) must return a float scalar"),
    (dict(num_params=2, log_prior=lambda p: jax.scipy.stats.norm.logpdf(p)),
     "log_prior\\(position\\) must return a float scalar"),
    (dict(num_params=2, sample_prior=lambda key: jax.random.normal(key, (2,), jnp.float32)),
     "must return float64"),
    (dict(num_params=2, sample_prior=lambda key: {"w": jax.random.normal(key, (2,))}),
     "flat vector"),
    (dict(num_params=2, loss_minimum=float("nan")), "loss_minimum must be a finite number"),
])
def test_function_model_bad_input(kwargs, message):
    arguments = dict(loss=_crossing_loss, log_prior=_standard_normal_log_prior,
                     sample_prior=_standard_normal_draw) | kwargs
    with pytest.raises(ValueError, match=message):
        FunctionModel(**arguments)


def test_function_model_rejects_non_function():
    with pytest.raises(TypeError, match="loss must be a function"):
        FunctionModel(1.0, _standard_normal_log_prior, _standard_normal_draw, 2)


# ------------------------------------------------------------------------- NumPyroModel


def _regression(design, targets=None, noise=1.0, prior_scale=1.0):
    coefficients = numpyro.sample(
        "coefficients", dist.Normal(0.0, prior_scale).expand([design.shape[1]]).to_event(1))
    with numpyro.plate("data", design.shape[0]):
        numpyro.sample("y", dist.Normal(design @ coefficients, noise), obs=targets)


def _regression_data(num_data, dim, seed=0):
    rng = np.random.default_rng(seed)
    design = rng.normal(size=(num_data, dim))
    truth = np.linspace(1.0, -0.5, dim)
    targets = design @ truth + rng.normal(size=num_data)
    return jnp.asarray(design), jnp.asarray(targets)


def _regression_exact(design, targets, ladder, noise=1.0, prior_scale=1.0):
    """L0 and, at every n of `ladder`, the closed-form F(n) and lambda(n) (module doc)."""
    num_data = design.shape[0]
    design, targets = np.asarray(design), np.asarray(targets)
    least_squares, residual, *_ = np.linalg.lstsq(design, targets, rcond=None)
    loss_minimum = 0.5 * np.log(2 * np.pi * noise**2) + residual[0] / (2 * num_data * noise**2)
    curvatures, rotation = np.linalg.eigh(design.T @ design / (num_data * noise**2))
    projected = rotation.T @ least_squares
    n = np.asarray(ladder, dtype=float)[:, None]
    shrink = 1 + n * prior_scale**2 * curvatures
    free = np.sum(0.5 * np.log(shrink) + n * curvatures * projected**2 / (2 * shrink), axis=1)
    lam = np.sum(n * prior_scale**2 * curvatures / (2 * shrink)
                 + n * curvatures * projected**2 / (2 * shrink**2), axis=1)
    return loss_minimum, free, lam


def test_regression_exact_lambda_is_derivative_of_free_energy():
    design, targets = _regression_data(50, 3)
    n = np.array([0.5, 5.0, 500.0])
    step = 1e-6
    _, free_up, _ = _regression_exact(design, targets, n * np.exp(step))
    _, free_down, _ = _regression_exact(design, targets, n * np.exp(-step))
    _, _, lam = _regression_exact(design, targets, n)
    np.testing.assert_allclose((free_up - free_down) / (2 * step), lam, rtol=1e-6)


def test_numpyro_potential_equals_numpyros_at_n_equal_N():
    """At n = N (and L0 = 0) the tempered potential is NumPyro's own potential energy."""
    from numpyro.infer.util import potential_energy

    def model(design, targets):
        coefficients = numpyro.sample("coefficients",
                                      dist.Normal(0.0, 1.0).expand([2]).to_event(1))
        noise = numpyro.sample("noise", dist.HalfNormal(1.0))
        numpyro.deterministic("mean", design @ coefficients)
        with numpyro.plate("data", design.shape[0]):
            numpyro.sample("y", dist.Normal(design @ coefficients, noise), obs=targets)

    design, targets = _regression_data(20, 2)
    tempered = NumPyroModel(model, design, targets)
    assert tempered.num_params == 3 and tempered.num_observations == 20
    assert tempered.latent_sites == ("coefficients", "noise")
    position = tempered.sample_prior(jax.random.PRNGKey(1))
    expected = potential_energy(model, (design, targets), {}, tempered.unravel(position))
    np.testing.assert_allclose(tempered.potential_energy(position, 20.0), expected, rtol=1e-12)
    named = jax.vmap(tempered.constrained)(jnp.stack([position, position]))
    assert set(named) == {"coefficients", "noise", "mean"}
    assert named["noise"].shape == (2,) and bool(jnp.all(named["noise"] > 0))
    np.testing.assert_allclose(jnp.log(named["noise"][0]), position[2], rtol=1e-12)


def test_numpyro_regression_lambda_and_free_energy():
    """Done-when of issue 15: d = 3, N = 1000, known noise; lambda-hat(N) within
    max(3 MCSE, 3 %) of d/2 and of the exact lambda(n) on the ladder; F(n) within 3 err."""
    num_data, dim = 1000, 3
    design, targets = _regression_data(num_data, dim)
    ladder = geometric_ladder(0.1, num_data, 9, include_prior=True)
    loss_minimum, exact_free, exact_lambda = _regression_exact(design, targets, ladder)
    model = NumPyroModel(_regression, design, targets, loss_minimum=float(loss_minimum))
    result = _sample_quietly(model, ladder, chains=2, warmup=300, draws=300, seed=0)
    for row in zip(ladder, exact_lambda, result.learning_coefficient,
                   result.learning_coefficient_mcse, exact_free, result.free_energy,
                   result.free_energy_err, strict=True):
        print("n {:8.3g}  lambda {:.4f} hat {:.4f} ± {:.4f}  F {:.4f} hat {:.4f} ± {:.4f}"
              .format(*row))
    top = int(np.argmax(ladder))
    assert ladder[top] == num_data
    assert _within(result.learning_coefficient[top], dim / 2,
                   result.learning_coefficient_mcse[top], relative=0.03)
    assert _within(result.learning_coefficient, exact_lambda,
                   result.learning_coefficient_mcse, relative=0.03).all()
    assert _within(result.free_energy, exact_free, result.free_energy_err, 0.01).all()
    assert result.swap_acceptance.min() > 0.1
    positions = result.inference_data.posterior["position"].values[:, :, top]
    named = jax.vmap(model.constrained)(jnp.asarray(positions.reshape(-1, dim)))
    posterior_mean = np.asarray(named["coefficients"]).mean(axis=0)
    least_squares = np.linalg.lstsq(np.asarray(design), np.asarray(targets), rcond=None)[0]
    np.testing.assert_allclose(posterior_mean, least_squares, atol=0.01)


def test_numpyro_model_without_observed_sites_is_refused():
    def prior_only():
        numpyro.sample("w", dist.Normal(0.0, 1.0))

    with pytest.raises(NumPyroModelError, match="no observed sites.*obs=data"):
        NumPyroModel(prior_only)


def test_numpyro_model_with_discrete_latent_is_refused():
    def mixture(data):
        component = numpyro.sample("component", dist.Bernoulli(0.5))
        numpyro.sample("y", dist.Normal(component, 1.0), obs=data)

    with pytest.raises(NumPyroModelError, match="'component' is discrete"):
        NumPyroModel(mixture, jnp.zeros(3))


def test_numpyro_observation_count_must_be_given_when_sites_disagree():
    def two_sites(first, second):
        mean = numpyro.sample("mean", dist.Normal(0.0, 1.0))
        numpyro.sample("a", dist.Normal(mean, 1.0).expand([first.size]), obs=first)
        numpyro.sample("b", dist.Normal(mean, 1.0).expand([second.size]), obs=second)

    with pytest.raises(NumPyroModelError, match="num_observations=N"):
        NumPyroModel(two_sites, jnp.zeros(3), jnp.zeros(5))
    assert NumPyroModel(two_sites, jnp.zeros(3), jnp.zeros(5),
                        num_observations=8).num_observations == 8


def test_sample_still_rejects_other_objects():
    with pytest.raises(TypeError, match="PartitionFunction.*efftheory.NumPyroModel"):
        efftheory.sample(_regression, [1.0])
