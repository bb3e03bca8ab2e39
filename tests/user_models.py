"""A user's model builders for tests/test_registry.py, importable by name
(``user_models:crossing``) here, in subprocesses and in a sweep's spawned workers (which get
the parent's `sys.path`, this folder included)."""

import jax
import jax.numpy as jnp

import efftheory as et


def crossing(exponent: int = 1, prior_scale: float = 1.0) -> et.FunctionModel:
    r"""The normal crossing $L = w_1^2 w_2^{2k}$ under $N(0, s^2 I_2)$: $\lambda = 1/(2k)$
    for $k \ge 2$, $\tfrac12$ with multiplicity 2 for $k = 1$ (Watanabe 2009, §2.4)."""
    if not (isinstance(exponent, int) and exponent >= 1):
        raise ValueError(f"exponent must be a positive integer, got {exponent!r}")
    return et.FunctionModel(
        loss=lambda w: w[0] ** 2 * w[1] ** (2 * exponent),
        log_prior=lambda w: jnp.sum(jax.scipy.stats.norm.logpdf(w, 0.0, prior_scale)),
        sample_prior=lambda key: prior_scale * jax.random.normal(key, (2,),
                                                                 dtype=jnp.float64),
        num_params=2,
    )


def needs_width(width: int) -> et.FunctionModel:
    """A regular model in `width` dimensions; `width` has no default."""
    return et.FunctionModel(
        loss=lambda w: 0.5 * jnp.sum(w ** 2),
        log_prior=lambda w: jnp.sum(jax.scipy.stats.norm.logpdf(w)),
        sample_prior=lambda key: jax.random.normal(key, (width,), dtype=jnp.float64),
        num_params=width,
    )


def not_a_model(exponent: int = 1) -> dict:
    """Returns a dict, not a partition function."""
    return {"exponent": exponent}


NOT_A_FUNCTION = 3
