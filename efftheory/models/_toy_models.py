r"""Validation models with known learning coefficients, as partition functions.

* `RegularModel`: $L = \tfrac12\sum_i c_i\theta_i^2$; $\lambda = d/2$, $m = 1$ (Watanabe
  2009, Ch. 1); exact $Z(n) = \prod_i (1 + n c_i s^2)^{-1/2}$.
* `NormalCrossingModel`: $L = \prod_i w_i^{2k_i}$; $\lambda = \min_i 1/(2k_i)$, $m$ = how
  many attain it (Watanabe 2009, Thm. 6.1).
* `PolynomialMachine`: the overparameterised polynomial of Skalse (2023, *My criticism of
  singular learning theory*, LessWrong), $f(x) = \theta_1x^4 + \theta_2\theta_3x^3 +
  \theta_4\theta_5\theta_6x^2 + \theta_7\cdots\theta_{10}x + \theta_{11}\cdots\theta_{15}$,
  inputs $x \sim U[-1, 1]$, $L = \tfrac12E[(f - f^*)^2]$. With $f^* = 0$,
  $L = \tfrac12 c^\top M c$ with $c_j$ the monomial coefficients and $M$ the (positive
  definite) moment matrix, so $L$ is equivalent to $\sum_j c_j^2$, a sum over disjoint
  groups of normal crossings $\prod_{i\in g_j}\theta_i^2$: $\lambda = \sum_j \tfrac12$,
  $m = 1 + \sum_j(|g_j| - 1)$ (15 parameters: $\lambda = 5/2$, $m = 11$).
* `MinAbsModel`: the non-analytic loss $L = \min(|x|, |y|)$ from the same post. Watanabe's
  theorems do not apply; the volume $V(t) = P(L < t) \sim 4\phi(0)t$ still gives
  $Z(n) \sim 4\phi(0)/n$, i.e. $\lambda = 1$, $m = 1$, but the posterior does not
  concentrate at the most singular point $(0, 0)$: it spreads along both axes.
"""


import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from .._types import Array, Float, Key, Position, Scalar
from .._validation import positive_float, positive_int
from ._models import ModeAmplitudesUnavailable
from ._partition import PartitionFunction


class _GaussianPriorModel(PartitionFunction):
    """Shared: i.i.d. $N(0, s^2)$ prior, $L_0 = 0$, no mode amplitudes."""

    prior_scale: eqx.AbstractVar[float]

    def log_prior(self, position: Position) -> Scalar:
        return jnp.sum(jax.scipy.stats.norm.logpdf(position, 0.0, self.prior_scale))

    def sample_prior(self, key: Key) -> Position:
        return self.prior_scale * jax.random.normal(key, (self.num_params,), dtype=jnp.float64)

    def mode_amplitudes(self, position: Position, kmax: int):
        raise ModeAmplitudesUnavailable(
            f"{type(self).__name__} is not a function-space model: it has no input measure "
            "and hence no mode amplitudes."
        )


class RegularModel(_GaussianPriorModel):
    r"""$L = \tfrac12\sum_i c_i\theta_i^2$ with prior $N(0, s^2 I_d)$."""

    curvatures: Float[Array, " dim"]
    prior_scale: float = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, dim: int, *, curvatures=None, prior_scale: float = 1.0):
        self.num_params = positive_int(dim, "dim")
        curvatures = np.ones(dim) if curvatures is None else np.asarray(curvatures, float)
        if curvatures.shape != (dim,) or not np.all(np.isfinite(curvatures)) or np.any(
                curvatures <= 0):
            raise ValueError(f"curvatures must be {dim} positive numbers.")
        self.curvatures = jnp.asarray(curvatures)
        self.prior_scale = positive_float(prior_scale, "prior_scale")
        self.loss_minimum = 0.0

    def population_loss(self, position: Position) -> Scalar:
        return 0.5 * jnp.sum(self.curvatures * position**2)


class NormalCrossingModel(_GaussianPriorModel):
    r"""$L = \prod_i w_i^{2k_i}$ with prior $N(0, s^2 I)$."""

    exponents: tuple[int, ...] = eqx.field(static=True)
    prior_scale: float = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, exponents, *, prior_scale: float = 1.0):
        if isinstance(exponents, str) or not hasattr(exponents, "__len__") or not exponents:
            raise ValueError(f"exponents must be a non-empty sequence of integers k_i >= 0, "
                             f"got {exponents!r}.")
        for i, k in enumerate(exponents):
            if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
                raise ValueError(f"exponents[{i}] must be a non-negative integer, got {k!r}.")
        if not any(exponents):
            raise ValueError("exponents needs at least one positive k_i (else L is constant).")
        self.exponents = tuple(int(k) for k in exponents)
        self.prior_scale = positive_float(prior_scale, "prior_scale")
        self.num_params = len(self.exponents)
        self.loss_minimum = 0.0

    def population_loss(self, position: Position) -> Scalar:
        active = [i for i, k in enumerate(self.exponents) if k > 0]
        powers = jnp.asarray([2 * self.exponents[i] for i in active])
        return jnp.prod(position[jnp.asarray(active)] ** powers)


class PolynomialMachine(_GaussianPriorModel):
    r"""$f(x) = \sum_j \big(\prod_{i\in g_j}\theta_i\big) x^{D - j}$, $x \sim U[-1, 1]$.

    `group_sizes` $(|g_0|, \dots, |g_D|)$; the default ``(1, 2, 3, 4, 5)`` is Skalse's
    15-parameter machine (coefficient of $x^4$ has one factor, the constant five).
    `target` gives $f^*$'s monomial coefficients (highest degree first; default zero).
    """

    group_sizes: tuple[int, ...] = eqx.field(static=True)
    moments: Float[Array, "groups groups"]
    target: Float[Array, " groups"]
    legendre: Float[Array, "groups groups"]
    prior_scale: float = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, group_sizes=(1, 2, 3, 4, 5), *, target=None, prior_scale: float = 1.0):
        if isinstance(group_sizes, str) or not hasattr(group_sizes, "__len__") or not group_sizes:
            raise ValueError(f"group_sizes must be a non-empty sequence of positive integers, "
                             f"got {group_sizes!r}.")
        self.group_sizes = tuple(positive_int(g, f"group_sizes[{j}]")
                                 for j, g in enumerate(group_sizes))
        degree = len(self.group_sizes) - 1
        powers = degree - np.arange(degree + 1)
        total = powers[:, None] + powers[None, :]
        self.moments = jnp.asarray(np.where(total % 2 == 0, 1.0 / (total + 1.0), 0.0))
        target = np.zeros(degree + 1) if target is None else np.asarray(target, float)
        if target.shape != (degree + 1,):
            raise ValueError(f"target must list {degree + 1} monomial coefficients.")
        self.target = jnp.asarray(target)
        # E[x^p P~_k(x)] by Gauss–Legendre, exact for these degrees.
        nodes, weights = scipy.special.roots_legendre(degree + 1)
        basis = np.stack([np.sqrt(2 * k + 1) * scipy.special.eval_legendre(k, nodes)
                          for k in range(degree + 1)], axis=1)
        self.legendre = jnp.asarray((nodes[:, None] ** powers[None, :] * weights[:, None] / 2).T
                                    @ basis)
        self.prior_scale = positive_float(prior_scale, "prior_scale")
        self.num_params = sum(self.group_sizes)
        self.loss_minimum = 0.0

    def coefficients(self, position: Position) -> Float[Array, " groups"]:
        """Monomial coefficients $c_j = \\prod_{i\\in g_j}\\theta_i$, highest degree first."""
        bounds = np.cumsum((0, *self.group_sizes))
        return jnp.stack([jnp.prod(position[a:b]) for a, b in zip(bounds[:-1], bounds[1:],
                                                                  strict=True)])

    def population_loss(self, position: Position) -> Scalar:
        residual = self.coefficients(position) - self.target
        return 0.5 * residual @ self.moments @ residual

    def mode_amplitudes(self, position: Position, kmax: int) -> Float[Array, " kmax+1"]:
        r"""Legendre coefficients $u_k = E[f_\theta\,\sqrt{2k+1}P_k]$, zero above degree $D$."""
        amplitudes = self.coefficients(position) @ self.legendre
        return jnp.concatenate([amplitudes, jnp.zeros(max(kmax + 1 - amplitudes.size, 0))])[
            : kmax + 1]


class MinAbsModel(_GaussianPriorModel):
    r"""$L(x, y) = \min(|x|, |y|)$ with prior $N(0, s^2 I_2)$ (non-analytic)."""

    prior_scale: float = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, *, prior_scale: float = 1.0):
        self.prior_scale = positive_float(prior_scale, "prior_scale")
        self.num_params = 2
        self.loss_minimum = 0.0

    def population_loss(self, position: Position) -> Scalar:
        return jnp.min(jnp.abs(position))
