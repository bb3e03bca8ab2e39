"""Mode coefficients against exact answers: decay constants, closed forms, precision."""

import math
import re

import mpmath
import numpy as np
import pytest

import efftheory as et


@pytest.mark.parametrize("w", [0.5, 1.0, 2.0])
def test_tanh_hermite_decay_constant_is_pi_over_w(w):
    # c_k^2 ~ A k^p exp(-C sqrt k) with C = pi/|w| (Hille 1940); odd k up to 301, beyond
    # float64, so in arbitrary precision.
    kmax = 301
    coefficients = et.mode_coefficients("tanh", "gaussian", w=w, kmax=kmax, precision=60)
    k = np.arange(kmax + 1)
    odd = (k % 2 == 1) & (k >= 11)
    fit = et.fit_decay(k[odd], coefficients[odd], "sqrt_exp")
    assert fit.num_points == odd.sum()  # every odd coefficient is resolved
    assert abs(fit.rate / (math.pi / w) - 1) < 0.02
    assert et.predicted_decay("tanh", "gaussian", w=w)["constant"] == pytest.approx(math.pi / w)


def test_tanh_even_modes_vanish_exactly():
    coefficients = np.asarray(et.mode_coefficients("tanh", "gaussian", w=1.0, kmax=20))
    assert np.all(coefficients[0::2] == 0.0)  # by symmetry, not marked unresolved
    assert np.all(np.isfinite(coefficients[1::2]))


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.0])
def test_circle_tanh_decay_constant_is_asinh(radius):
    kmax = 61
    coefficients = et.mode_coefficients("tanh", "circle", w=radius, kmax=kmax, precision=80)
    k = np.arange(kmax + 1)
    odd = (k % 2 == 1) & (k >= 5)
    fit = et.fit_decay(k[odd], coefficients[odd], "exp")
    expected = math.asinh(math.pi / (2 * radius))
    assert abs(fit.rate / expected - 1) < 0.02
    assert et.predicted_decay("tanh", "circle", w=radius)["constant"] == pytest.approx(expected)


def erf_hermite_coefficient(w, k):
    """Closed form of E[erf(w x) h_k(x)], x ~ N(0, 1).

    By Stein's identity E[f(x) He_k(x)] = E[f^(k)(x)], with
    d^k/dx^k erf(wx) = (2/sqrt(pi)) w^k (-1)^(k-1) H_(k-1)(wx) exp(-w^2 x^2) (physicists'
    Hermite, Rodrigues' formula, DLMF 18.5.5), and the generating function (DLMF 18.12.15)
    giving E[H_(2j)(a y)] = (2j)!/j! (2a^2 - 1)^j. With s^2 = 1 + 2 w^2, k = 2j + 1:
    c_k = (-1)^j (2/sqrt(pi)) w^k (k-1)! / (j! sqrt(k!) s^(2j+1)); even k vanish.
    """
    if k % 2 == 0:
        return mpmath.mpf(0)
    j = (k - 1) // 2
    w = mpmath.mpf(w)
    return ((-1) ** j * 2 / mpmath.sqrt(mpmath.pi) * w**k * mpmath.factorial(k - 1)
            / (mpmath.factorial(j) * mpmath.sqrt(mpmath.factorial(k))
               * (1 + 2 * w * w) ** (j + mpmath.mpf(1) / 2)))


@pytest.mark.parametrize("w", [0.3, 1.0, 2.5])
def test_erf_matches_closed_form(w):
    kmax = 120
    exact = [erf_hermite_coefficient(w, k) for k in range(kmax + 1)]
    float64 = np.asarray(et.mode_coefficients("erf", "gaussian", w=w, kmax=kmax, rtol=1e-12))
    precise = et.mode_coefficients("erf", "gaussian", w=w, kmax=kmax, precision=40, rtol=1e-12)
    resolved = np.isfinite(float64)
    assert resolved[1]
    for k in np.flatnonzero(resolved):
        if exact[k] == 0:  # even modes of erf: zero by symmetry, returned as exact 0
            assert float64[k] == 0.0
        else:
            assert abs(float64[k] / float(exact[k]) - 1) < 1e-12
    checked = 0
    for k in range(kmax + 1):
        if mpmath.isfinite(precise[k]) and exact[k] != 0:
            assert abs(precise[k] / exact[k] - 1) < 1e-12
            checked += 1
        elif exact[k] == 0:
            assert precise[k] == 0
    assert checked >= 30


def test_relu_power_law_exponent():
    # |c_k| ~ k^(-5/4) for even k: c_k = (k-3)!!/(sqrt(2 pi) sqrt(k!)) up to sign, and
    # Stirling's formula gives (k-3)!!/sqrt(k!) ~ k^(-5/4).
    kmax = 400
    coefficients = np.asarray(et.mode_coefficients("relu", "gaussian", w=1.0, kmax=kmax))
    k = np.arange(kmax + 1)
    even = (k % 2 == 0) & (k >= 20)
    fit = et.fit_decay(k[even], coefficients[even], "power")
    assert abs(fit.exponent / 1.25 - 1) < 0.05


CASES = [(measure, activation, w, b)
         for measure in ("gaussian", "uniform", "circle")
         for activation in ("tanh", "sigmoid", "softplus", "erf", "gelu", "relu")
         for w, b in ((1.3, 0.0), (0.7, 0.4))]


@pytest.mark.parametrize("measure, activation, w, b", CASES)
def test_float64_agrees_with_arbitrary_precision_above_its_floor(measure, activation, w, b):
    # The float64 path marks every coefficient whose error bound exceeds rtol |c_k|; what
    # it does return must then be right to rtol, checked against 80 digits.
    kmax = 80 if measure == "gaussian" else 30
    float64 = np.asarray(et.mode_coefficients(activation, measure, w=w, b=b, kmax=kmax,
                                              rtol=1e-10))
    precise = et.mode_coefficients(activation, measure, w=w, b=b, kmax=kmax, precision=80,
                                   below_floor="keep")
    resolved = np.flatnonzero(np.isfinite(float64))
    assert resolved.size >= 3
    for k in resolved:
        if precise[k] == 0:  # zero by symmetry in both
            assert float64[k] == 0.0
        else:
            assert abs(float64[k] / float(precise[k]) - 1) < 1e-10


def test_layer_of_weights_keeps_leading_axes():
    w = np.array([[0.5, 1.0, 2.0], [1.5, -1.0, 0.25]])
    layer = np.asarray(et.mode_coefficients("tanh", "gaussian", w=w, kmax=9, below_floor="keep"))
    assert layer.shape == (2, 3, 10)
    single = np.asarray(et.mode_coefficients("tanh", "gaussian", w=-1.0, kmax=9,
                                             below_floor="keep"))
    np.testing.assert_allclose(layer[1, 1], single, atol=1e-14)
    # tanh is odd: c_k(-w) = -c_k(w).
    np.testing.assert_allclose(layer[1, 1], -layer[0, 1], atol=1e-14)


def test_error_bounds_are_reported():
    values, error = et.mode_coefficients("tanh", "gaussian", w=1.0, kmax=200, return_error=True,
                                         below_floor="keep")
    floor = et.coefficient_floor("tanh", "gaussian", w=1.0, kmax=200)
    np.testing.assert_allclose(np.asarray(error), np.asarray(floor))
    assert float(np.max(error)) < 1e-13


def test_bad_input_says_what_to_change():
    with pytest.raises(ValueError, match="unknown activation"):
        et.mode_coefficients("swish", "gaussian", w=1.0, kmax=5)
    with pytest.raises(ValueError, match="unknown measure"):
        et.mode_coefficients("tanh", "sphere", w=1.0, kmax=5)
    with pytest.raises(ValueError, match="kmax must be a non-negative integer"):
        et.mode_coefficients("tanh", "gaussian", w=1.0, kmax=-1)
    with pytest.raises(ValueError, match="w contains non-finite"):
        et.mode_coefficients("tanh", "gaussian", w=[1.0, np.nan], kmax=5)
    with pytest.raises(ValueError, match="raise precision to at least"):
        et.mode_coefficients("tanh", "gaussian", w=0.5, kmax=400, precision=20)
    with pytest.raises(ValueError, match="use precision=None"):
        et.mode_coefficients("tanh", "gaussian", w=1.0, kmax=5, precision=8)
    with pytest.raises(ValueError, match="no mpmath implementation"):
        et.mode_coefficients(lambda z: z**3, "gaussian", w=1.0, kmax=5, precision=30)


def test_suggested_precision_is_enough():
    """The refusal's suggestion (issue 16: it asked for 37 < 40 digits) is accepted and
    resolves every coefficient."""
    with pytest.raises(ValueError, match="at least") as error:
        et.mode_coefficients("tanh", "circle", w=1.5, kmax=81, precision=40)
    suggested = int(re.search(r"at least (\d+)", str(error.value)).group(1))
    assert suggested > 40
    values = et.mode_coefficients("tanh", "circle", w=1.5, kmax=81, precision=suggested)
    assert not any(mpmath.isnan(value) for value in values)


@pytest.mark.parametrize("measure", ["gaussian", "circle", "uniform"])
def test_symmetric_zeros_are_exact(measure):
    """Even modes of an odd activation with b = 0 vanish exactly: 0, not NaN."""
    values = np.asarray(et.mode_coefficients("tanh", measure, w=1.0, kmax=8))
    assert np.all(values[::2] == 0.0)
    assert np.all(np.abs(values[1::2]) > 0)
    assert np.isfinite(np.sum(values**2))
    high = et.mode_coefficients("tanh", measure, w=1.0, kmax=8, precision=30)
    assert all(value == 0 for value in high[::2])


@pytest.mark.parametrize("measure", ["gaussian", "circle", "uniform"])
def test_zero_weight_is_the_constant_bias(measure):
    values = np.asarray(et.mode_coefficients("tanh", measure, w=[0.0, 0.5], b=0.3, kmax=6))
    assert values[0, 0] == pytest.approx(np.tanh(0.3), rel=1e-15)
    np.testing.assert_array_equal(values[0, 1:], 0.0)
    assert np.all(np.isfinite(values[1])) and values[1, 1] != 0
    high = et.mode_coefficients("tanh", measure, w=0.0, b=0.3, kmax=4, precision=30)
    with mpmath.workdps(40):
        assert abs(high[0] - mpmath.tanh(mpmath.mpf(0.3))) < mpmath.mpf(10) ** -28
    assert all(value == 0 for value in high[1:])
