r"""The projection onto a cutoff's kept modes, $u_k = \sum_q \omega_q f_\theta(x_q)
e_k(x_q)$, and the choice of its size $Q$ (see `efftheory.models._cutoff_models`).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Array, Float
from ..modes._measures import (
    CircleMeasure,
    GaussianMeasure,
    hermite_recurrence,
    legendre_recurrence,
)
from ..modes._quadrature import mode_trapezoid
from ._energies import TargetNetwork
from ._kept_modes import mode_columns
from ._networks import TwoLayerNetwork
from ._partition import QuadratureError
from ._quadrature_choice import DEFAULT_MAX_NODES, QuadratureChoice, validate_n_max


class ModeProjection(eqx.Module):
    r"""Fixed nodes $x_q$ and the kept basis scaled by $\omega_q$: $u = f(x)^\top P$,
    $P_{qk} = \omega_q e_k(x_q)$."""

    points: Float[Array, "num_nodes dim"]
    basis: Float[Array, "num_nodes columns"]


def mode_projection(network: TwoLayerNetwork, kept: tuple[int, ...],
                    num_nodes: int) -> ModeProjection:
    """The projection onto the `kept` modes with `num_nodes` nodes (not jittable):
    trapezoid rule for Gaussian inputs (`efftheory.modes._quadrature.mode_trapezoid`), the
    measure's own rule otherwise (trapezoid in $t$ on the circle, Gauss–Legendre on the
    interval)."""
    measure, kmax = network.measure, max(kept)
    if isinstance(measure, GaussianMeasure):
        quadrature = mode_trapezoid(num_nodes, kmax)
    else:
        quadrature = measure.quadrature(num_nodes)
    root_weights = np.exp(0.5 * np.asarray(quadrature.log_weights))
    parameters = np.asarray(quadrature.parameters)
    if isinstance(measure, CircleMeasure):
        basis = np.asarray(measure.basis(quadrature.parameters, kmax)) * root_weights[:, None]
    else:
        coefficients = (hermite_recurrence(kmax) if isinstance(measure, GaussianMeasure)
                        else legendre_recurrence(kmax))
        basis = _three_term_numpy(parameters, kmax, coefficients, root_weights)
    columns = mode_columns(measure, kept)
    return ModeProjection(quadrature.points,
                          jnp.asarray(basis[:, columns] * root_weights[:, None]))


def _three_term_numpy(x, kmax, coefficients, start):
    r"""$\sqrt{\omega_q}e_k(x_q)$ by the recurrence of `efftheory.modes._measures.weighted_basis`
    (in NumPy: built once per model, so nothing is compiled per node count)."""
    alpha, beta = coefficients
    columns = [start, alpha[0] * x * start] if kmax >= 1 else [start]
    for k in range(1, kmax):
        columns.append(alpha[k] * x * columns[-1] - beta[k] * columns[-2])
    return np.stack(columns, axis=-1)


def _projection_factor(network) -> int:
    return 4 if isinstance(network.measure, CircleMeasure) else 2


def _cutoff_loss(network, projection, position, target_amplitudes):
    amplitudes = network(position, projection.points) @ projection.basis
    return 0.5 * jnp.sum((amplitudes - target_amplitudes) ** 2)


def target_mode_amplitudes(network, projection, target):
    """The target's kept amplitudes $u^*_k$ (zeros when learning zero)."""
    if target is None:
        return jnp.zeros((projection.basis.shape[1],))
    return target.network(target.position, projection.points) @ projection.basis


@eqx.filter_jit
def _batched_cutoff_loss(network, projection, draws, target):
    reference = target_mode_amplitudes(network, projection, target)
    return jax.vmap(lambda p: _cutoff_loss(network, projection, p, reference))(draws)


def _losses_at_draws(network, kept, num_nodes, draws, target):
    projection = mode_projection(network, kept, num_nodes)
    return np.asarray(_batched_cutoff_loss(network, projection, draws, target))


def _loss_tolerance(n_max: float) -> float:
    """The absolute accuracy of $L_K$ at prior draws asked for up to $n_{max}$."""
    return 1e-3 / validate_n_max(n_max)


def _stated_error(coarse, fine, margin: float) -> float:
    r"""``margin`` × the largest $|L_Q - L_{2Q}|$, plus a rounding floor $100\varepsilon
    \max L$ (a $K$-mode loss has no kernel eigenvalues below it to protect)."""
    rounding = 100.0 * np.finfo(np.float64).eps * float(np.max(np.abs(fine)))
    return float(margin * np.max(np.abs(coarse - fine)) + rounding)


def choose_cutoff_nodes(network: TwoLayerNetwork, kept: tuple[int, ...], n_max: float, *,
                        target: TargetNetwork | None = None, num_nodes: int | None = None,
                        max_nodes: int = DEFAULT_MAX_NODES) -> QuadratureChoice:
    r"""$Q$ for the projection: the smallest $Q_0 2^j$ with stated error of $L_K$ below
    $10^{-3}/n_{max}$ (or a user's `num_nodes`, checked against the same bound)."""
    tolerance = _loss_tolerance(n_max)
    draws = network.prior_scales() * jax.random.normal(jax.random.PRNGKey(0),
                                                       (16, network.num_params))
    minimum = _projection_factor(network) * (max(kept) + 1)
    if num_nodes is not None:
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) \
                or num_nodes < minimum:
            raise ValueError(f"num_nodes must be None (automatic) or an integer >= {minimum} "
                             f"(enough to project onto mode {max(kept)}), got {num_nodes!r}.")
        start = num_nodes
    else:
        start = max(16, minimum)
    current = start
    coarse = _losses_at_draws(network, kept, current, draws, target)
    while True:
        fine = _losses_at_draws(network, kept, 2 * current, draws, target)
        error = _stated_error(coarse, fine, 10.0)
        if error <= tolerance:
            # n * |error| <= 1e-3 up to n = 1e-3 / error.
            return QuadratureChoice(current, error, tolerance, len(kept),
                                    1e-3 / error if error > 0 else math.inf)
        if num_nodes is not None:
            raise QuadratureError(
                f"num_nodes={num_nodes} gives an estimated cutoff-loss error {error:.2e} above "
                f"1e-3/n_max = {tolerance:.1e}; pass num_nodes=None to choose automatically.")
        if 2 * current > max_nodes:
            raise QuadratureError(
                f"the cutoff loss cannot be integrated to {tolerance:.1e} (= 1e-3/n_max for "
                f"n_max={n_max:g}) with at most {max_nodes} nodes (error {error:.2e} at "
                f"Q={current}): lower n_max, raise max_nodes, or use smaller weight_scale.")
        current, coarse = 2 * current, fine
