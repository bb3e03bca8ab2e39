"""Replica-exchange NUTS on tanh networks learning zero, against exact answers.

Widths 1 and 2 have an exact lambda(n) by quadrature of the collapsed form
(`efftheory.exact`); for width 8 no exact curve exists, and the raw-weight and collapsed
forms, two independent estimators of the same lambda(n), must agree within their combined
Monte Carlo errors. Long: marked slow (run with `pytest -m slow`).
"""

import warnings

import numpy as np
import pytest

import efftheory as et

SETTINGS = dict(chains=4, warmup=1000, draws=2000, seed=0, progress=False,
                target_accept_prob=0.9)


def _sample(model, ladder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", et.SamplingWarning)
        return et.sample(model, ladder, **SETTINGS)


@pytest.mark.slow
@pytest.mark.parametrize("width", [1, 2])
def test_small_widths_match_exact_learning_coefficient(width):
    ladder = np.concatenate([[0.0], np.geomspace(1.0, 1e6, 19)])
    model = et.load_model("learning-zero-small", width=width, n_max=1e6)
    result = _sample(model, ladder)
    exact = et.exact.learning_coefficient(model, ladder[1:])
    checked = ladder[1:] >= 10.0
    estimate = result.learning_coefficient[1:][checked]
    mcse = result.learning_coefficient_mcse[1:][checked]
    tolerance = np.maximum(3 * mcse, 0.03 * exact[checked])
    for n, value, reference, bound in zip(ladder[1:][checked], estimate, exact[checked],
                                          tolerance, strict=True):
        print(f"width {width} n={n:9.3g} lambda-hat={value:.4f} exact={reference:.4f} "
              f"tolerance={bound:.4f}")
    assert np.all(np.abs(estimate - exact[checked]) <= tolerance)
    free = et.exact.free_energy(model, ladder[-1:])[0]
    assert abs(result.free_energy[-1] - free) <= 3 * result.free_energy_err[-1]


@pytest.mark.slow
def test_width_eight_raw_and_collapsed_forms_agree():
    ladder = np.concatenate([[0.0], np.geomspace(1.0, 1e4, 13)])
    raw = _sample(et.load_model("learning-zero-small", width=8, n_max=1e4), ladder)
    collapsed = _sample(et.load_model("learning-zero-small", width=8, n_max=1e4,
                                      form="collapsed"), ladder)
    difference = raw.learning_coefficient - collapsed.learning_coefficient
    combined = np.hypot(raw.learning_coefficient_mcse, collapsed.learning_coefficient_mcse)
    for n, a, b, error in zip(ladder, raw.learning_coefficient,
                              collapsed.learning_coefficient, combined, strict=True):
        print(f"width 8 n={n:9.3g} raw={a:.4f} collapsed={b:.4f} combined MCSE={error:.4f}")
    assert np.all(np.abs(difference[1:]) <= 3 * combined[1:])
