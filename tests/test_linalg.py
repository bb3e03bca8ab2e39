"""SPD log-determinants (`efftheory._linalg`): values, gradients, and the CPU hang they avoid."""

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np

from efftheory._linalg import spd_logdet, spd_logdet_and_inverse


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


def test_collapsed_wide_ladder_does_not_hang():
    completed = subprocess.run([sys.executable, "-c", _REPRODUCTION], capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("finished") == 6
