r"""The local learning coefficient at $w^*$ against closed forms, tolerances from the MCSE.

Quadratic losses $L = \tfrac12\sum_i c_i(w_i - w^*_i)^2 + L(w^*)$ under either localizing
prior have an exact $\lambda(n) = n\,E_n[L - L(w^*)]$:

* Gaussian $N(w^*, \gamma^{-1}I)$: the posterior is Gaussian with precisions $nc_i + \gamma$,
  so $\lambda(n) = \sum_i \tfrac12\,nc_i/(nc_i + \gamma)$;
* box $|w - w^*|_\infty \le r$: each coordinate is a normal with variance $1/(nc_i)$
  truncated to $[-r, r]$, so with $a_i = r\sqrt{nc_i}$,
  $\lambda(n) = \sum_i \tfrac12\bigl(1 - 2a_i\phi(a_i)/\operatorname{erf}(a_i/\sqrt2)\bigr)$.
"""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special, stats

import efftheory
from efftheory.sampling._local import tempering_ladder

ignore_sampling_warnings = pytest.mark.filterwarnings(
    "ignore::efftheory.sampling.SamplingWarning")

CURVATURES = np.array([1.0, 10.0, 100.0])
CENTER = np.array([0.3, -1.2, 2.0])
LOSS_AT_CENTER = 0.7  # L(w*) > L0 = 0: the estimator must measure from L(w*)
N_VALUES = np.array([1.0, 10.0, 100.0])
GAMMA = 4.0
BOX = 0.5


def shifted_quadratic() -> efftheory.FunctionModel:
    """$L = \\tfrac12\\sum c_i(w_i - w^*_i)^2 + 0.7$ with a prior the localization replaces."""
    curvatures, center = jnp.asarray(CURVATURES), jnp.asarray(CENTER)
    return efftheory.FunctionModel(
        loss=lambda w: 0.5 * jnp.sum(curvatures * (w - center) ** 2) + LOSS_AT_CENTER,
        log_prior=lambda w: jnp.sum(jax.scipy.stats.norm.logpdf(w)),
        sample_prior=lambda key: jax.random.normal(key, (3,), dtype=jnp.float64),
        num_params=3,
    )


def gaussian_lambda(n: float) -> float:
    return float(np.sum(0.5 * n * CURVATURES / (n * CURVATURES + GAMMA)))


def box_lambda(n: float) -> float:
    a = BOX * np.sqrt(n * CURVATURES)
    return float(np.sum(0.5 * (1.0 - 2.0 * a * stats.norm.pdf(a) / special.erf(a / math.sqrt(2)))))


def run(localization: dict) -> efftheory.LocalLearningCoefficient:
    return efftheory.local_learning_coefficient(
        shifted_quadratic(), CENTER, N_VALUES, chains=2, warmup=200, draws=400, seed=0,
        progress=False, store_positions=False, **localization)


@pytest.fixture(scope="module")
def gaussian_result():
    with warnings.catch_warnings():  # 400 draws: ESS warnings at some rungs, as they should
        warnings.simplefilter("ignore", efftheory.SamplingWarning)
        return run({"gamma": GAMMA})


def test_gaussian_localization_matches_the_closed_form(gaussian_result):
    exact = np.array([gaussian_lambda(n) for n in N_VALUES])
    z = (gaussian_result.learning_coefficient - exact) / gaussian_result.learning_coefficient_mcse
    assert np.all(np.abs(z) < 3.0), np.c_[N_VALUES, exact, gaussian_result.learning_coefficient,
                                          gaussian_result.learning_coefficient_mcse]
    # Without the localization (the model's own N(0, 1) prior, off-centre) or without the
    # shift by L(w*), the answers would be far outside these errors.
    assert gaussian_result.loss_at_w_star == pytest.approx(LOSS_AT_CENTER)


@ignore_sampling_warnings
def test_box_localization_matches_the_closed_form():
    result = run({"box": BOX})
    exact = np.array([box_lambda(n) for n in N_VALUES])
    z = (result.learning_coefficient - exact) / result.learning_coefficient_mcse
    assert np.all(np.abs(z) < 3.0), np.c_[N_VALUES, exact, result.learning_coefficient,
                                          result.learning_coefficient_mcse]
    assert result.box == BOX and result.gamma is None
    assert not result.divergences.any()  # tanh coordinates: no wall for NUTS to hit


def test_result_is_labelled_by_the_requested_n(gaussian_result):
    result = gaussian_result
    np.testing.assert_array_equal(result.n, N_VALUES)
    np.testing.assert_array_equal(result.sampling.n_ladder[result.rungs], N_VALUES)
    assert result.sampling.n_ladder[0] == 0.0  # the localized prior rung
    np.testing.assert_array_equal(result.learning_coefficient,
                                  result.sampling.learning_coefficient[result.rungs])
    for name in ("learning_coefficient_mcse", "rhat", "ess_bulk", "divergences"):
        assert getattr(result, name).shape == N_VALUES.shape, name
    np.testing.assert_array_equal(result.w_star, CENTER)
    summary = result.summary()
    assert [row["n"] for row in summary["rows"]] == N_VALUES.tolist()
    assert summary["gamma"] == GAMMA and summary["box"] is None


def test_tempering_ladder_hits_every_requested_n():
    ladder = tempering_ladder(np.array([10.0, 1000.0]), 2.0)
    np.testing.assert_allclose(ladder, [0, 1, 10**0.5, 10, 10**1.5, 100, 10**2.5, 1000])
    assert ladder[3] == 10.0 and ladder[-1] == 1000.0  # exactly, not exp(log(.))
    np.testing.assert_array_equal(tempering_ladder(np.array([0.5]), 2.0), [0.0, 0.5])
    np.testing.assert_array_equal(tempering_ladder(np.array([5.0, 7.0]), 0), [5.0, 7.0])
    # A gap shorter than one rung spacing gets no interior rung.
    np.testing.assert_array_equal(tempering_ladder(np.array([2.0]), 2.0), [0.0, 1.0, 2.0])


def test_localized_priors_are_normalized_and_sampled():
    model = efftheory.RegularModel(1)
    gaussian = efftheory.LocalizedModel(model, [0.4], gamma=9.0)
    assert float(gaussian.log_prior(jnp.array([0.1]))) == pytest.approx(
        stats.norm.logpdf(0.1, 0.4, 1.0 / 3.0))
    box = efftheory.LocalizedModel(model, [0.4], box=0.25)
    mass, _ = integrate.quad(lambda u: math.exp(box.log_prior(jnp.array([u]))), -40, 40)
    assert mass == pytest.approx(1.0, abs=1e-9)
    draws = jax.vmap(box.sample_prior)(jax.random.split(jax.random.PRNGKey(0), 4000))
    parameters = np.asarray(jax.vmap(box.parameters)(draws))[:, 0]
    assert np.all(np.abs(parameters - 0.4) <= 0.25)
    assert stats.kstest(parameters, stats.uniform(0.15, 0.5).cdf).pvalue > 1e-3
    # The energy is measured from w*, through the wrapped model's own L - L0.
    assert float(box.energy(jnp.zeros(1))) == pytest.approx(0.0)
    assert float(box.energy(jnp.array([10.0]))) == pytest.approx(
        0.5 * 0.65**2 - 0.5 * 0.4**2, rel=1e-6)


GOOD = {"model": efftheory.RegularModel(2), "w_star": np.zeros(2), "n": 10.0}


@pytest.mark.parametrize("change, error, match", [
    ({"w_star": np.zeros(3)}, ValueError, r"w_star must be a flat .* = \(2,\)"),
    ({"w_star": np.zeros((1, 2))}, ValueError, r"got shape \(1, 2\)"),
    ({"w_star": np.array([0.0, np.nan])}, ValueError, "w_star must be finite"),
    ({"w_star": "origin"}, ValueError, "w_star must be an array of numbers"),
    ({"gamma": 0.0}, ValueError, "gamma must be positive"),
    ({"gamma": -1.0}, ValueError, "gamma must be positive"),
    ({"gamma": math.inf}, ValueError, "gamma must be positive and finite"),
    ({"gamma": "1"}, ValueError, "gamma must be a positive number"),
    ({"box": 0.0}, ValueError, "box must be positive"),
    ({"gamma": 1.0, "box": 1.0}, ValueError, "exactly one of gamma"),
    ({"n": 0.0}, ValueError, "n must be positive"),
    ({"n": [100.0, 10.0]}, ValueError, "n must be strictly increasing"),
    ({"n": [[10.0]]}, ValueError, "n must be one inverse temperature"),
    ({"rungs_per_decade": -1}, ValueError, "rungs_per_decade must be"),
    ({"n": [1.0, 10.0], "adapt_ladder": True}, ValueError, "adapt_ladder=True"),
    ({"model": lambda w: w}, TypeError, "model must be an efftheory.PartitionFunction"),
    ({"model": efftheory.LocalizedModel(efftheory.RegularModel(2), np.zeros(2))}, TypeError,
     "already a LocalizedModel"),
])
def test_bad_input_says_what_to_change(change, error, match):
    arguments = {**GOOD, **change}
    with pytest.raises(error, match=match):
        efftheory.local_learning_coefficient(
            arguments.pop("model"), arguments.pop("w_star"), arguments.pop("n"),
            progress=False, draws=1, warmup=0, **arguments)


def test_a_model_without_a_population_loss_is_refused():
    collapsed = efftheory.load_model("learning-zero-small", width=2, form="collapsed")
    with pytest.raises(efftheory.NonlinearTemperingError, match="raw-weight model"):
        efftheory.local_learning_coefficient(collapsed, np.zeros(collapsed.num_params), 10.0)


def test_a_non_finite_loss_at_w_star_is_refused():
    model = efftheory.FunctionModel(
        loss=lambda w: jnp.sum(jnp.log(w)), log_prior=lambda w: jnp.sum(-w**2),
        sample_prior=lambda key: jax.random.uniform(key, (2,), dtype=jnp.float64), num_params=2)
    with pytest.raises(ValueError, match="loss at w_star is nan"):
        efftheory.LocalizedModel(model, [-1.0, 1.0])


# ------------------------------------------------------------ deep linear network cards


def true_rank_point(model: efftheory.DeepLinearModel) -> np.ndarray:
    """Every layer the identity on its first r columns: the product is the true map and
    every hidden unit past the r-th is off (the origin when r = 0)."""
    widths, rank = model.network.widths, model.true_rank
    return np.concatenate([(np.eye(fan_out, fan_in) * (np.arange(fan_in) < rank)).ravel()
                           for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True)])


@pytest.mark.slow
@ignore_sampling_warnings
@pytest.mark.parametrize("card", ["dln-three-layer", "rrr-wide-hidden"])
def test_recovers_the_deep_linear_rlct_at_a_true_point(card):
    """At the deepest point of the true-rank set the LLC is the card's global RLCT (Aoyagi
    2024; Aoyagi & Watanabe 2005), read at finite n as lambda - (m - 1)/log n (as in
    docs/benchmarks.md); within max(5 %, 3 MCSE) at n = 1e5 and 1e6."""
    model = efftheory.load_model(card)
    w_star = true_rank_point(model)
    assert float(model.energy(jnp.asarray(w_star))) == 0.0
    if model.true_rank:
        assert np.any(w_star)  # a point away from the origin: the localization matters
    known = efftheory.load_card(card).known_values[0]
    rlct, multiplicity = float(known.learning_coefficient), known.multiplicity
    result = efftheory.local_learning_coefficient(
        model, w_star, [1e5, 1e6], gamma=1.0, chains=4, warmup=500, draws=1000, seed=0,
        progress=False, store_positions=False, target_accept_prob=0.95)
    reference = rlct - (multiplicity - 1) / np.log(result.n)
    error = result.learning_coefficient - reference
    print(f"\n{card}: n {result.n}, LLC {result.learning_coefficient} ± "
          f"{result.learning_coefficient_mcse}, reference {reference}, rhat {result.rhat}, "
          f"ESS {result.ess_bulk}, divergences {result.divergences}")
    tolerance = np.maximum(0.05 * reference, 3.0 * result.learning_coefficient_mcse)
    assert np.all(np.abs(error) <= tolerance)
    assert np.all(result.rhat < 1.05)
