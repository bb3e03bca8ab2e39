r"""A partition function from three plain JAX functions: loss, log prior, prior sampler.

$$Z(n) = \int e^{-n (L(\theta) - L_0)}\,\varphi(\theta)\,d\theta$$

with $L$ = `loss`, $\log\varphi$ = `log_prior`, draws of $\varphi$ from `sample_prior` and
$L_0$ = `loss_minimum` (Watanabe 2009, *Algebraic Geometry and Statistical Learning
Theory*, §1.4). $\hat\lambda(n) = n\,(E_n[L] - L_0)$ is the learning coefficient only when
$L_0$ is the true minimum of $L$ over the prior's support: a too-small $L_0$ adds
$n\,(\min L - L_0)$ to every $\hat\lambda(n)$.
"""

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Key, Position, Scalar
from .._validation import positive_int
from ._partition import PartitionFunction


class FunctionModel(PartitionFunction):
    r"""$Z(n) = \int e^{-n(L(\theta) - L_0)}\varphi(\theta)\,d\theta$ for user functions.

    `loss(position) -> scalar` is $L(\theta)$, `log_prior(position) -> scalar` the
    normalized $\log\varphi(\theta)$, `sample_prior(key) -> position` one draw of
    $\varphi$ as a float64 vector of length `num_params`, and `loss_minimum` is $L_0$.
    All three must be JAX-traceable (they are jitted and vmapped over rungs and chains).
    A function may be an `equinox.Module` (an MLP's loss, say): its arrays are then
    traced, not baked into the compiled kernel.

    Shapes are checked on construction with `jax.eval_shape` (nothing is computed).

    Example: the regular quadratic $L = \tfrac12|\theta|^2$ under $N(0, I_2)$, whose
    $\lambda(n) = n d / (2(n + 1))$:

        model = FunctionModel(
            loss=lambda theta: 0.5 * jnp.sum(theta**2),
            log_prior=lambda theta: jnp.sum(jax.scipy.stats.norm.logpdf(theta)),
            sample_prior=lambda key: jax.random.normal(key, (2,)),
            num_params=2,
        )
    """

    loss: Callable[[Position], Scalar]
    log_prior_fn: Callable[[Position], Scalar]
    sample_prior_fn: Callable[[Key], Position]
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(
        self,
        loss: Callable[[Position], Scalar],
        log_prior: Callable[[Position], Scalar],
        sample_prior: Callable[[Key], Position],
        num_params: int,
        loss_minimum: float = 0.0,
    ):
        for name, fn in (("loss", loss), ("log_prior", log_prior),
                         ("sample_prior", sample_prior)):
            if not callable(fn):
                raise TypeError(f"{name} must be a function, got {type(fn).__name__}.")
        self.num_params = positive_int(num_params, "num_params")
        if isinstance(loss_minimum, bool) or not isinstance(
                loss_minimum, int | float | np.floating) or not math.isfinite(loss_minimum):
            raise ValueError(f"loss_minimum must be a finite number (L0, the minimum of the "
                             f"loss), got {loss_minimum!r}.")
        self.loss_minimum = float(loss_minimum)
        self.loss = loss
        self.log_prior_fn = log_prior
        self.sample_prior_fn = sample_prior
        check_position_functions(self.num_params, sample_prior,
                                 {"loss": loss, "log_prior": log_prior})

    def population_loss(self, position: Position) -> Scalar:
        return self.loss(position)

    def log_prior(self, position: Position) -> Scalar:
        return self.log_prior_fn(position)

    def sample_prior(self, key: Key) -> Position:
        return self.sample_prior_fn(key)


def check_position_functions(num_params: int, sample_prior, scalar_functions: dict) -> None:
    """Raise if `sample_prior` does not return a float64 ``(num_params,)`` vector or a
    function of `scalar_functions` does not return a float scalar there (abstractly)."""
    try:
        draw = jax.eval_shape(sample_prior, jax.random.PRNGKey(0))
    except Exception as error:
        raise ValueError(f"sample_prior(key) failed on key = jax.random.PRNGKey(0): {error}. "
                         "It must take one PRNG key and return a position vector.") from error
    shape, dtype = getattr(draw, "shape", None), getattr(draw, "dtype", None)
    if shape != (num_params,):
        raise ValueError(
            f"sample_prior(key) must return a flat vector of shape (num_params,) = "
            f"({num_params},), got {'a ' + type(draw).__name__ if shape is None else shape}. "
            "Flatten the parameters (jax.flatten_util.ravel_pytree) or fix num_params.")
    if dtype != jnp.float64:
        raise ValueError(f"sample_prior(key) must return float64, got {dtype}; efftheory runs "
                         "in float64 (e.g. jax.random.normal(key, shape, dtype=jnp.float64)).")
    position = jax.ShapeDtypeStruct((num_params,), jnp.float64)
    for name, fn in scalar_functions.items():
        try:
            value = jax.eval_shape(fn, position)
        except Exception as error:
            raise ValueError(f"{name}(position) failed on a float64 vector of shape "
                             f"({num_params},): {error}") from error
        if getattr(value, "shape", None) != () or not jnp.issubdtype(
                getattr(value, "dtype", jnp.int32), jnp.floating):
            raise ValueError(
                f"{name}(position) must return a float scalar, got "
                f"{getattr(value, 'shape', type(value).__name__)} "
                f"{getattr(value, 'dtype', '')}. Reduce it to one number (jnp.sum or "
                "jnp.mean over data points and parameters).")
