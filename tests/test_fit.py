import numpy as np
import pytest

import efftheory as et


def test_sqrt_exp_recovers_exact_constants():
    k = np.arange(1, 200, 2)
    c = np.sqrt(3.0 * k**0.7 * np.exp(-2.5 * np.sqrt(k)))
    fit = et.fit_decay(k, c, "sqrt_exp")
    assert fit.rate == pytest.approx(2.5, rel=1e-10)
    assert fit.exponent == pytest.approx(0.7, rel=1e-9)
    assert fit.amplitude == pytest.approx(3.0, rel=1e-9)
    np.testing.assert_allclose(fit.predict(k), c**2, rtol=1e-9)


def test_exp_and_power_recover_exact_constants():
    k = np.arange(1, 60)
    assert et.fit_decay(k, 0.4 * np.exp(-1.1 * k), "exp").rate == pytest.approx(1.1, rel=1e-10)
    power = et.fit_decay(k, 2.0 * k**-1.25, "power")
    assert power.exponent == pytest.approx(1.25, rel=1e-10)


def test_standard_errors_cover_the_truth():
    # Log-normal noise of known size: the fitted rate's z-score is standard normal.
    rng = np.random.default_rng(0)
    k = np.arange(1, 120)
    z = []
    for _ in range(200):
        c = 0.5 * np.exp(-0.3 * k) * np.exp(rng.normal(0.0, 0.1, k.size))
        fit = et.fit_decay(k, c, "exp")
        z.append((fit.rate - 0.3) / fit.rate_stderr)
    z = np.asarray(z)
    # 200 draws: the mean of z has standard error 1/sqrt(200) ~ 0.07.
    assert abs(z.mean()) < 0.25
    assert 0.8 < z.std() < 1.2


def test_unresolved_and_zero_values_are_left_out_and_counted():
    k = np.arange(1, 30)
    c = np.exp(-k.astype(float))
    c[::3] = np.nan
    c[1] = 0.0
    fit = et.fit_decay(k, c, "exp")
    assert fit.num_points == np.isfinite(c).sum() - 1
    assert fit.rate == pytest.approx(1.0)


def test_bad_fit_input():
    with pytest.raises(ValueError, match="law must be"):
        et.fit_decay([1, 2, 3, 4], [1, 2, 3, 4], "gaussian")
    with pytest.raises(ValueError, match="needs k > 0"):
        et.fit_decay([0, 1, 2, 3], [1, 0.5, 0.2, 0.1], "power")
    with pytest.raises(ValueError, match="needs more than 3"):
        et.fit_decay([1, 3, 5], [1, 0.5, 0.2], "sqrt_exp")
