"""SPD log-determinants (`efftheory._linalg`): values, gradients, and the CPU hang they avoid."""

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from efftheory._linalg import factored_half_logdet, spd_logdet, spd_logdet_and_inverse
from efftheory.models._quadrature_choice import _kernel_change, _qr_rounding


def _spd_batch(size, dim, seed=0):
    noise = jax.random.normal(jax.random.PRNGKey(seed), (size, dim, dim))
    return jnp.eye(dim) + jnp.einsum("bij,bkj->bik", noise, noise) / dim


def test_logdet_and_inverse_match_numpy():
    matrices = _spd_batch(5, 12)
    logdet, inverse = jax.vmap(spd_logdet_and_inverse)(matrices)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(np.asarray(matrices))[1], rtol=1e-13)
    np.testing.assert_allclose(inverse, np.linalg.inv(np.asarray(matrices)), atol=1e-12)


def test_logdet_gradient_is_the_inverse_and_matches_finite_differences():
    matrices = _spd_batch(3, 6, seed=1)
    gradient = jax.vmap(jax.grad(spd_logdet))(matrices)
    np.testing.assert_allclose(gradient, np.linalg.inv(np.asarray(matrices)), atol=1e-12)
    # d/dt log det(A + tB) at t = 0 by central differences, B symmetric.
    direction = _spd_batch(3, 6, seed=2)
    step = 1e-5
    slope = (jax.vmap(spd_logdet)(matrices + step * direction)
             - jax.vmap(spd_logdet)(matrices - step * direction)) / (2 * step)
    np.testing.assert_allclose(jnp.sum(gradient * direction, axis=(1, 2)), slope, rtol=1e-7)


# The reproduction from the flagship issue: replica-exchange NUTS on the collapsed width-128
# model over a 3-rung ladder hung on nearly every try on a 2-core machine (two batched
# Cholesky factorizations in flight, each blocking one of the two pool threads while waiting
# for the other). Width 64 as well, and each ladder run three times, so that a hang that
# only happens sometimes is still caught. A hang is a timeout, not a wrong answer.
_REPRODUCTION = textwrap.dedent("""
    import warnings
    import efftheory as et
    warnings.simplefilter("ignore", et.SamplingWarning)
    for width in (128, 64):
        model = et.load_model("learning-zero-256", form="collapsed", n_max=1e6, width=width)
        for repeat in range(3):
            result = et.sample(model, [0.0, 1.0, 1e6], chains=2, draws=5, warmup=5,
                               seed=repeat, progress=False)
            assert result.learning_coefficient.shape == (3,)
            print("finished", width, repeat, flush=True)
""")


def _graded_factor(rows=16, dim=8, seed=2):
    # A factor whose singular values fall from 1 to 1e-14, like a kernel's spectrum.
    rng = np.random.default_rng(seed)
    left, _ = np.linalg.qr(rng.normal(size=(rows, dim)))
    right, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    return left @ np.diag(np.logspace(0, -14, dim)) @ right.T


@pytest.mark.parametrize("scale", [0.0, 0.7, 25.0])
def test_factored_logdet_matches_cholesky_and_its_derivatives(scale):
    factors = jnp.asarray(np.random.default_rng(3).normal(size=(3, 10, 4)))

    def by_cholesky(factor, c):
        return 0.5 * spd_logdet(jnp.eye(4) + c * factor.T @ factor)

    np.testing.assert_allclose(
        jax.vmap(factored_half_logdet, (0, None))(factors, scale),
        jax.vmap(by_cholesky, (0, None))(factors, scale), rtol=1e-13, atol=1e-15)
    by_factor = jax.jit(jax.vmap(jax.grad(factored_half_logdet), (0, None)))(factors, scale)
    expected = jax.vmap(jax.grad(by_cholesky), (0, None))(factors, scale)
    np.testing.assert_allclose(by_factor, expected, atol=1e-12)
    by_scale = jax.grad(factored_half_logdet, argnums=1)(factors[0], scale)
    expected = jax.grad(by_cholesky, argnums=1)(factors[0], scale)
    assert float(by_scale) == pytest.approx(float(expected), rel=1e-12)


def test_factored_logdet_keeps_unresolved_directions_where_cholesky_loses_them():
    # Against the same determinant in 60 digits (the float64 factor taken as exact): QR of
    # [sqrt(c) F; I] stays within its stated first-order rounding bound at c = 1e14, where
    # Cholesky of the formed I + cF'F is off by orders of magnitude more.
    factor = _graded_factor()
    scale = 1e14
    with mpmath.workdps(60):
        exact_matrix = mpmath.eye(factor.shape[1]) + mpmath.mpf(scale) * (
            mpmath.matrix(factor.tolist()).T * mpmath.matrix(factor.tolist()))
        exact = float(mpmath.log(mpmath.det(exact_matrix)) / 2)
    by_qr = float(factored_half_logdet(jnp.asarray(factor), scale))
    formed = jnp.eye(factor.shape[1]) + scale * jnp.asarray(factor).T @ jnp.asarray(factor)
    by_cholesky = float(0.5 * spd_logdet(formed))
    kernel = _kernel_change(factor[None], factor[None], factored=True)
    bound = float(_qr_rounding(kernel, np.array([[[scale]]]))[0, 0])
    assert abs(by_qr - exact) <= bound
    assert abs(by_cholesky - exact) > 100 * abs(by_qr - exact)


def test_collapsed_wide_ladder_does_not_hang():
    completed = subprocess.run([sys.executable, "-c", _REPRODUCTION], capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("finished") == 6
