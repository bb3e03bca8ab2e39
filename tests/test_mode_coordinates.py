"""The finite-width mode-coordinate model: its potential against direct computations, the
conditional prior of u against Monte Carlo of C_K^T a, prior moments against the exact
covariance, the exact reference, bad input, and (slow) replica-exchange NUTS against the
raw-weight cutoff model and the exact lambda_K(n).
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import efftheory as et
from efftheory._linalg import factored_gaussian_log_density
from efftheory.models._mode_coordinates import _triangular_factor

PARAMETRIZATIONS = ("whitened", "amplitudes")


@pytest.fixture(scope="module")
def network():
    return et.TwoLayerNetwork(4, "tanh", "gaussian")


@pytest.fixture(scope="module", params=PARAMETRIZATIONS)
def model(request, network):
    return et.ModeCoordinateModel(network, 3, n_max=1e3, parametrization=request.param)


@pytest.fixture(scope="module")
def raw(network):
    return et.CutoffNetworkModel(network, 3, n_max=1e3)


def test_potential_against_a_direct_computation(model, raw, network):
    r"""$U_n = \tfrac n2|u|^2 - \log N(u; 0, s_a^2C_K^\top C_K) - \log\varphi(w)$, with
    $u = C_K^\top a$ the raw cutoff model's amplitudes at the same weights."""
    theta = raw.sample_prior(jax.random.PRNGKey(7))
    position = model.from_raw(theta)
    amplitudes, inner = np.asarray(raw.kept_amplitudes(theta)), np.asarray(theta[4:])
    np.testing.assert_allclose(model.kept_amplitudes(position), amplitudes, rtol=1e-10)
    np.testing.assert_allclose(model.population_loss(position), raw.population_loss(theta),
                               rtol=1e-10)
    coefficients = np.asarray(model.coefficient_matrix(jnp.asarray(inner)))
    covariance = network.readout_variance * coefficients.T @ coefficients
    np.testing.assert_allclose(model.conditional_covariance(jnp.asarray(inner)), covariance,
                               rtol=1e-12)
    weights = scipy.stats.norm.logpdf(inner).sum()
    if model.parametrization == "amplitudes":
        prior = scipy.stats.multivariate_normal(np.zeros(3), covariance).logpdf(amplitudes)
    else:
        # z = R^{-T} u / s_a is standard normal given w (no Jacobian: z is the coordinate).
        upper = np.linalg.cholesky(coefficients.T @ coefficients).T
        whitened = np.linalg.solve(upper.T, amplitudes) / np.sqrt(network.readout_variance)
        np.testing.assert_allclose(model.split(position)[0], whitened, rtol=1e-8)
        prior = scipy.stats.norm.logpdf(whitened).sum()
    for n in (0.0, 3.0, 1e3):
        expected = n * 0.5 * amplitudes @ amplitudes - prior - weights
        np.testing.assert_allclose(model.potential_energy(position, n), expected, rtol=1e-9)
    gradient = jax.grad(model.potential_energy)(position, 30.0)
    step = 1e-6
    difference = [(model.potential_energy(position + step * e, 30.0)
                   - model.potential_energy(position - step * e, 30.0)) / (2 * step)
                  for e in np.eye(model.num_params)]
    np.testing.assert_allclose(gradient, difference, rtol=1e-6, atol=1e-6)


def test_triangular_factor_is_the_positive_cholesky_factor(model):
    inner = model.split(model.sample_prior(jax.random.PRNGKey(2)))[1]
    coefficients = model.coefficient_matrix(inner)
    upper = _triangular_factor(coefficients)
    np.testing.assert_allclose(upper, np.linalg.cholesky(coefficients.T @ coefficients).T,
                               rtol=1e-8, atol=1e-14)


def test_factored_gaussian_log_density_and_its_derivatives():
    factor = jax.random.normal(jax.random.PRNGKey(0), (5, 3))
    vector = jnp.array([0.3, -1.1, 0.4])
    expected = scipy.stats.multivariate_normal(np.zeros(3), np.asarray(factor.T @ factor))
    np.testing.assert_allclose(factored_gaussian_log_density(factor, vector),
                               expected.logpdf(np.asarray(vector)), rtol=1e-12)
    def direct(f, v):
        return jax.scipy.stats.multivariate_normal.logpdf(v, jnp.zeros(3), f.T @ f)
    for argnum in (0, 1):
        np.testing.assert_allclose(jax.grad(factored_gaussian_log_density, argnum)(factor, vector),
                                   jax.grad(direct, argnum)(factor, vector), rtol=1e-9,
                                   atol=1e-12)
    batched = jax.vmap(factored_gaussian_log_density, in_axes=(0, None))(
        jnp.stack([factor, 2.0 * factor]), vector)
    np.testing.assert_allclose(batched[0], expected.logpdf(np.asarray(vector)), rtol=1e-12)


def test_conditional_covariance_against_monte_carlo_of_the_readout(network, raw):
    r"""$\mathrm{Cov}(C_K^\top a \mid w)$ over $a \sim N(0, s_a^2 I)$, within 5 standard
    errors of each entry."""
    model = et.ModeCoordinateModel(network, 3, n_max=1e3, parametrization="amplitudes")
    inner = model.split(model.sample_prior(jax.random.PRNGKey(4)))[1]
    count = 200_000
    readout = np.sqrt(network.readout_variance) * np.asarray(
        jax.random.normal(jax.random.PRNGKey(5), (count, network.width)))
    amplitudes = readout @ np.asarray(model.coefficient_matrix(inner))
    products = amplitudes[:, :, None] * amplitudes[:, None, :]
    error = products.std(axis=0) / np.sqrt(count)
    assert np.all(np.abs(products.mean(axis=0) - model.conditional_covariance(inner))
                  <= 5 * error)


def test_prior_draws_have_the_exact_prior_covariance(model, network):
    r"""$E[u u^\top] = Hs_a^2E_w[c_K(w)c_K(w)^\top]$ (`prior_mode_statistics`, by quadrature
    over $w$), within 5 standard errors of each entry, for both parametrizations."""
    count = 40_000
    draws = jax.vmap(model.sample_prior)(jax.random.split(jax.random.PRNGKey(11), count))
    amplitudes = np.asarray(jax.vmap(model.kept_amplitudes)(draws))
    products = amplitudes[:, :, None] * amplitudes[:, None, :]
    kept = list(model.kept_modes)
    exact = et.prior_mode_statistics(network, max(kept)).covariance[np.ix_(kept, kept)]
    error = products.std(axis=0) / np.sqrt(count)
    assert np.all(np.abs(products.mean(axis=0) - exact) <= 5 * error)


def test_exact_reference_is_the_cutoff_models():
    options = dict(width=2, num_modes=2, n_max=1e3)
    model = et.load_model("learning-zero-small", form="mode_coordinates", **options)
    cutoff = et.load_model("learning-zero-small", form="cutoff", **options)
    assert et.exact.learning_coefficient(model, 100.0) == et.exact.learning_coefficient(
        cutoff, 100.0)


def test_card_form_builds_the_model():
    loaded = et.load_card_model("learning-zero-small", width=4, form="mode_coordinates",
                                num_modes=2, n_max=1e3)
    model = loaded.model
    assert isinstance(model, et.ModeCoordinateModel)
    assert model.kept_modes == (1, 3) and model.parametrization == "whitened"
    assert model.num_params == 2 + 4
    assert loaded.card.known_values == ()  # the full network's RLCTs do not apply to L_K
    with pytest.raises(et.ModeAmplitudesUnavailable, match="kept_amplitudes"):
        model.mode_amplitudes(model.sample_prior(jax.random.PRNGKey(0)), 3)


def test_bad_input_says_what_to_change(network):
    with pytest.raises(ValueError, match="num_modes must be an integer >= 1"):
        et.ModeCoordinateModel(network, 0)
    with pytest.raises(ValueError, match=r"K <= H\. Lower num_modes to at most 4.*"
                                         r"form='cutoff'"):
        et.ModeCoordinateModel(network, 5, n_max=1e3)
    with pytest.raises(et.ModelCardError, match="Lower num_modes to at most 2"):
        et.load_model("learning-zero-small", width=2, form="mode_coordinates", num_modes=3)
    # The circle keeps cosine and sine of each harmonic: K = 2 is four amplitudes.
    with pytest.raises(ValueError, match="keeps 4 mode amplitudes.*at most 1"):
        et.ModeCoordinateModel(et.TwoLayerNetwork(3, "tanh", "circle"), 2, n_max=1e3)
    with pytest.raises(ValueError, match="span only 2 dimensions.*form='cutoff'"):
        et.ModeCoordinateModel(et.TwoLayerNetwork(4, "relu"), 3, n_max=10.0)
    with pytest.raises(et.ModelCardError, match="no mode basis"):
        et.load_model("rrr-main-even", form="mode_coordinates", num_modes=1)
    with pytest.raises(ValueError, match="needs a mode basis"):
        et.ModeCoordinateModel(et.DeepLinearNetwork([2, 2, 2]), 1)
    with pytest.raises(ValueError, match="use input_dim=1"):
        et.ModeCoordinateModel(et.TwoLayerNetwork(2, "tanh", input_dim=2), 1)
    with pytest.raises(ValueError, match="parametrization must be one of"):
        et.ModeCoordinateModel(network, 1, parametrization="centred")


# ------------------------------------------------------------------------------ slow

LADDER = np.concatenate([[0.0], np.geomspace(1.0, 1e4, 9)])
CHECKED = (10.0, 1e2, 1e3, 1e4)
SETTINGS = dict(chains=4, warmup=500, draws=1000, seed=0, progress=False,
                target_accept_prob=0.9)


def _sample(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", et.SamplingWarning)
        return et.sample(model, LADDER, **SETTINGS)


@pytest.mark.slow
@pytest.mark.parametrize(("width", "num_modes"), [(2, 1), (2, 2), (4, 1), (4, 2), (4, 4)])
def test_mode_coordinates_match_the_raw_cutoff_model(width, num_modes):
    r"""Issue 13, done when: $\hat\lambda_K(n)$ of the mode-coordinate sampler (whitened)
    and of the raw-weight cutoff model agree within 3 combined MCSE at $n = 10..10^4$, and
    both within 3 MCSE of exact where it exists (width 2); at $n = 0$ both mean energies
    are $\tfrac12\operatorname{tr}\Sigma_K$, the exact prior value."""
    options = dict(width=width, num_modes=num_modes, n_max=1e4)
    modes = et.load_model("learning-zero-small", form="mode_coordinates", **options)
    cutoff = et.load_model("learning-zero-small", form="cutoff", **options)
    first, second = _sample(modes), _sample(cutoff)
    kept = list(modes.kept_modes)
    covariance = et.prior_mode_statistics(modes.network, max(kept)).covariance
    prior_energy = 0.5 * np.trace(covariance[np.ix_(kept, kept)])
    for result in (first, second):
        assert abs(result.mean_energy[0] - prior_energy) <= 3 * result.mean_energy_mcse[0]
    exact = (et.exact.learning_coefficient(cutoff, np.array(CHECKED)) if width <= 2
             else [np.nan] * len(CHECKED))
    failures = []
    for n, reference in zip(CHECKED, exact, strict=True):
        rung = int(np.argmin(np.abs(LADDER - n)))
        value, error = first.learning_coefficient[rung], first.learning_coefficient_mcse[rung]
        other, other_error = (second.learning_coefficient[rung],
                              second.learning_coefficient_mcse[rung])
        combined = np.hypot(error, other_error)
        print(f"H={width} K={num_modes} n={n:7.0e} modes={value:.4f}+-{error:.4f} "
              f"raw={other:.4f}+-{other_error:.4f} z={(value - other) / combined:+.2f} "
              f"exact={reference:.4f}")
        if abs(value - other) > 3 * combined:
            failures.append((n, "raw"))
        if np.isfinite(reference) and abs(value - reference) > 3 * error:
            failures.append((n, "exact"))
    assert not failures
