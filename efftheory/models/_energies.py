r"""Population loss by quadrature, mode amplitudes, mode energies and cutoff energies.

For a two-layer network with target $f^*$ (see Concepts),

$$L(\theta) = \tfrac12 E_q[(f_\theta - f^*)^2] \approx \tfrac12\sum_{q} \omega_q\,
  (f_\theta(x_q) - f^*(x_q))^2,$$

with the measure's own rule (Gauss–Hermite, trapezoid in $t$ on the circle,
Gauss–Legendre). A target network is folded in as extra units with negated readouts, so
$f_\theta - f^* = \sum_i \tilde a_i\,\sigma(\tilde w_i\cdot x + \tilde b_i)$.

Gaussian inputs in $d > 1$ dimensions use Mehler's formula (Mehler 1866; e.g. Daniely,
Frostig & Singer 2016, *Toward deeper understanding of neural networks*, NeurIPS, §4):
with $r_i = |w_i|$ and $\rho_{ij} = w_i\cdot w_j/(r_i r_j)$,
$E[\sigma(w_i\cdot x + b_i)\sigma(w_j\cdot x + b_j)] = \sum_k c_k(r_i, b_i)c_k(r_j, b_j)
\rho_{ij}^k$ where $c_k(r, b) = E_{z\sim N(0,1)}[\sigma(rz + b)h_k(z)]$, so

$$L = \sum_k E_k, \qquad E_k = \tfrac12\sum_{ij}\tilde a_i\tilde a_j\,c_k(r_i, b_i)
  c_k(r_j, b_j)\,\rho_{ij}^k .$$

The number of nodes $Q$ (and, for Mehler, the number of modes $K = Q/2$) is chosen by
`choose_num_nodes` (`efftheory.models._quadrature_choice`).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Array, Float, Position, Scalar
from ..modes._measures import CircleMeasure, GaussianMeasure, weighted_basis
from ..modes._quadrature import gaussian_trapezoid
from ._networks import TwoLayerNetwork


class TargetNetwork(eqx.Module):
    """A teacher $f^*$: a `TwoLayerNetwork` (same activation and measure) and its weights."""

    network: TwoLayerNetwork
    position: Float[Array, " target_params"]

    def __init__(self, network: TwoLayerNetwork, position):
        self.network = network
        position = jnp.asarray(position, dtype=jnp.float64)
        if position.shape != (network.num_params,):
            raise ValueError(f"target position must have shape ({network.num_params},), got "
                             f"{position.shape}.")
        self.position = position


class LossRule(eqx.Module):
    r"""Fixed nodes for the population loss.

    ``points``/``root_weights`` integrate $q$ (for Gaussian inputs, the trapezoid rule in
    the 1-D coordinate). For the Mehler form ($d > 1$), ``mehler_points`` are Gauss–Hermite
    nodes $z_q$ and ``basis`` is $\sqrt{\omega_q}h_k(z_q)$ for $k < K$; the diagonal terms
    $E[\sigma(r_i z + b_i)^2]$ use the trapezoid nodes directly.
    """

    mehler: bool = eqx.field(static=True)
    num_nodes: int = eqx.field(static=True)
    points: Float[Array, "num_nodes dim"]
    root_weights: Float[Array, " num_nodes"]
    mehler_points: Float[Array, " num_nodes"] | None = None
    mehler_root_weights: Float[Array, " num_nodes"] | None = None
    basis: Float[Array, "num_nodes num_modes"] | None = None


def loss_rule(network: TwoLayerNetwork, num_nodes: int,
              target: TargetNetwork | None = None) -> LossRule:
    r"""The fixed rule with `num_nodes` nodes used for `network`'s loss (not jittable).

    For a 1-D Gaussian input, an odd activation and no biases (student and target), every
    integrand of the loss is even in $x$ ($\sigma(w_i x)\sigma(w_j x)$), so the symmetric
    trapezoid rule is folded onto $x \ge 0$ with doubled weights: the same sum to
    rounding, at half the cost per gradient. ``num_nodes`` stays the unfolded $Q$.
    """
    measure = network.measure
    if isinstance(measure, GaussianMeasure):
        nodes, log_weights = gaussian_trapezoid(num_nodes)
        if measure.input_dim == 1:
            if _even_integrands(network, target):
                nodes, log_weights = _fold(nodes, log_weights)
            root_weights = jnp.exp(0.5 * jnp.asarray(log_weights))
            return LossRule(False, num_nodes, jnp.asarray(nodes)[:, None], root_weights)
        root_weights = jnp.exp(0.5 * jnp.asarray(log_weights))
        line = GaussianMeasure()
        quadrature = line.quadrature(num_nodes)
        basis = weighted_basis(line, quadrature, max(num_nodes // 2, 1) - 1)
        return LossRule(True, num_nodes, jnp.asarray(nodes), root_weights,
                        quadrature.parameters, jnp.exp(0.5 * quadrature.log_weights), basis)
    quadrature = measure.quadrature(num_nodes)
    return LossRule(False, num_nodes, quadrature.points, jnp.exp(0.5 * quadrature.log_weights))


def uses_mehler_form(network: TwoLayerNetwork) -> bool:
    """Whether `network`'s kernel is computed by Mehler's formula (Gaussian input, d > 1):
    then it is not a sum over nodes and has no node factor."""
    return network.measure.input_dim > 1 and isinstance(network.measure, GaussianMeasure)


def _even_integrands(network: TwoLayerNetwork, target: TargetNetwork | None) -> bool:
    """Whether every unit is odd in x (odd activation, no bias), target's units included."""
    networks = [network] if target is None else [network, target.network]
    return all(net.activation.odd and not net.bias for net in networks)


def _fold(nodes: np.ndarray, log_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Symmetric nodes folded onto $x \ge 0$: positive nodes get twice their weight."""
    positive, zero = nodes > 0, nodes == 0
    folded = np.where(positive, log_weights + math.log(2.0), log_weights)
    keep = positive | zero
    return nodes[keep], folded[keep]


def _signed_units(network: TwoLayerNetwork, position: Position,
                  target: TargetNetwork | None):
    """Readouts, weights, biases of $f_\\theta - f^*$ as one list of units."""
    params = network.unflatten(position)
    if target is None:
        return params
    teacher = target.network.unflatten(target.position)
    return type(params)(jnp.concatenate([params.readout, -teacher.readout]),
                        jnp.concatenate([params.weights, teacher.weights]),
                        jnp.concatenate([params.biases, teacher.biases]))


def _safe_norm(weights):
    squared = jnp.sum(weights**2, axis=-1)
    positive = squared > 0
    norm = jnp.sqrt(jnp.where(positive, squared, 1.0))
    return jnp.where(positive, norm, 0.0), jnp.where(positive, 1.0 / norm, 0.0)


def _mehler_parts(network, rule, readout, weights, biases):
    """$c_k(r_i, b_i)$ (units × K) and the cosines $\\rho_{ij}$."""
    radius, inverse = _safe_norm(weights)
    samples = network.activation.function(radius[:, None] * rule.mehler_points[None, :]
                                          + biases[:, None]) * rule.mehler_root_weights
    coefficients = samples @ rule.basis
    directions = weights * inverse[:, None]
    cosines = jnp.clip(directions @ directions.T, -1.0, 1.0)
    return coefficients, cosines


def _mehler_gram(network, rule, units) -> Float[Array, "units units"]:
    """$G_{ij}$ by Mehler's series off the diagonal and 1-D quadrature on it."""
    readout, weights, biases = units
    coefficients, cosines = _mehler_parts(network, rule, readout, weights, biases)
    orders = jnp.arange(coefficients.shape[1], dtype=jnp.float64)
    series = jnp.einsum("ik,kij,jk->ij", coefficients, cosines[None] ** orders[:, None, None],
                        coefficients)
    radius, _ = _safe_norm(weights)
    samples = network.activation.function(radius[:, None] * rule.points[None, :]
                                          + biases[:, None]) * rule.root_weights
    diagonal = jnp.sum(samples**2, axis=-1)
    return series - jnp.diag(jnp.diagonal(series)) + jnp.diag(diagonal)


def _mehler_mode_energies(network, rule, units) -> Float[Array, " num_modes"]:
    readout, weights, biases = units
    coefficients, cosines = _mehler_parts(network, rule, readout, weights, biases)
    scaled = readout[:, None] * coefficients  # (units, K)
    orders = jnp.arange(coefficients.shape[1], dtype=jnp.float64)
    powers = cosines[None] ** orders[:, None, None]  # 0**0 = 1: a zero-weight unit is k = 0 only
    return 0.5 * jnp.einsum("ik,kij,jk->k", scaled, powers, scaled)


def population_loss(network: TwoLayerNetwork, rule: LossRule, position: Position,
                    target: TargetNetwork | None = None) -> Scalar:
    r"""$L(\theta) = \tfrac12 E_q[(f_\theta - f^*)^2]$ with the fixed `rule` (jittable)."""
    units = _signed_units(network, position, target)
    if rule.mehler:
        # Mehler for i != j (|rho_ij| < 1 speeds the tail up); the diagonal exactly in 1-D.
        gram = _mehler_gram(network, rule, units)
        return 0.5 * units.readout @ gram @ units.readout
    hidden = network.activation.function(rule.points @ units.weights.T + units.biases)
    residual = (hidden @ units.readout) * rule.root_weights
    return 0.5 * jnp.sum(residual**2)


def gram_matrix(network: TwoLayerNetwork, rule: LossRule, position: Position,
                target: TargetNetwork | None = None) -> Float[Array, "units units"]:
    r"""$G_{ij} = E_q[\sigma(w_i\cdot x + b_i)\sigma(w_j\cdot x + b_j)]$ (readouts ignored;
    with a `target`, over the student's and the teacher's units together)."""
    if rule.mehler:
        return _mehler_gram(network, rule, _signed_units(network, position, target))
    return _symmetric_gram(gram_factor(network, rule, position, target))


def gram_factor(network: TwoLayerNetwork, rule: LossRule, position: Position,
                target: TargetNetwork | None = None) -> Float[Array, "nodes units"]:
    r"""$\Phi_{qi} = \sqrt{\omega_q}\,\sigma(w_i\cdot x_q + b_i)$, so that $G = \Phi^\top\Phi$
    (not for the Mehler form, whose kernel is not a sum over nodes)."""
    if rule.mehler:
        raise ValueError("the Mehler form's kernel has no node factor; use gram_matrix.")
    units = _signed_units(network, position, target)
    hidden = network.activation.function(rule.points @ units.weights.T + units.biases)
    return hidden * rule.root_weights[:, None]


@jax.custom_jvp
def _symmetric_gram(hidden: Float[Array, "nodes units"]) -> Float[Array, "units units"]:
    r"""$\Phi^\top\Phi$, with the tangent written as $S + S^\top$, $S = \Phi^\top d\Phi$, so
    that reverse mode transposes it to one product $\bar\Phi = \Phi(\bar G + \bar G^\top)$
    instead of the two that autodiff of ``h.T @ h`` emits (forward mode still works)."""
    return hidden.T @ hidden


@_symmetric_gram.defjvp
def _symmetric_gram_jvp(primals, tangents):
    (hidden,), (tangent,) = primals, tangents
    half = hidden.T @ tangent
    return hidden.T @ hidden, half + half.T


# ------------------------------------------------------------------------- mode amplitudes


def _mode_rule(network: TwoLayerNetwork, kmax: int, num_nodes: int):
    """Points and weighted basis projecting onto modes $0..k_{max}$ (built at trace time)."""
    measure = network.measure
    if isinstance(measure, GaussianMeasure) and measure.input_dim > 1:
        raise ValueError(
            f"mode amplitudes u_k are vectors of dimension C(k+{measure.input_dim - 1}, "
            f"{measure.input_dim - 1}) for Gaussian inputs in d={measure.input_dim}; use "
            "mode_energies (the Mehler form E_k) instead, or input_dim=1."
        )
    # Nodes per mode: the loss's Q is sized for L, not for resolving the oscillations of
    # h_k (about 2 sqrt(k) half-waves over the trapezoid's [-10, 10]); 8 per mode keeps the
    # projection of modes up to kmax at rounding level.
    factor = 4 if isinstance(measure, CircleMeasure) else 8
    num_nodes = max(int(num_nodes), factor * (kmax + 1))
    quadrature = measure.quadrature(num_nodes)
    return quadrature.points, jnp.exp(0.5 * quadrature.log_weights), weighted_basis(
        measure, quadrature, kmax)


def mode_amplitudes(network: TwoLayerNetwork, position: Position, kmax: int,
                    num_nodes: int) -> Float[Array, " num_coefficients"]:
    r"""$u_k(\theta) = \sum_i a_i c_k(w_i, b_i) = E_q[f_\theta e_k]$, $k = 0..k_{max}$.

    Jittable (fixed nodes, `kmax` static). On the circle, $2k_{max} + 1$ coefficients in
    the order of `fourier_basis` ($1, \cos t, \sin t, \cos 2t, \dots$). Uses at least
    ``2(kmax + 1)`` nodes (``4(kmax + 1)`` on the circle) so that the projection onto the
    highest mode is as accurate as the loss.
    """
    points, root_weights, basis = _mode_rule(network, kmax, num_nodes)
    return (network(position, points) * root_weights) @ basis


def mode_energies(network: TwoLayerNetwork, position: Position, kmax: int, num_nodes: int,
                  target: TargetNetwork | None = None) -> Float[Array, " kmax+1"]:
    r"""Energy of each mode $k = 0..k_{max}$, with $L = \sum_k E_k$.

    $E_k = \tfrac12(u_k - u^*_k)^2$ (line measures), $\tfrac12[(u_{k}^{c} - u_k^{c*})^2 +
    (u_k^{s} - u_k^{s*})^2]$ (circle: cosine and sine of harmonic $k$), or the Mehler
    form for Gaussian inputs with $d > 1$.
    """
    measure = network.measure
    if isinstance(measure, GaussianMeasure) and measure.input_dim > 1:
        num_nodes = max(int(num_nodes), 2 * (kmax + 1))
        line = GaussianMeasure()
        quadrature = line.quadrature(num_nodes)
        rule = LossRule(True, num_nodes, quadrature.parameters[:, None],
                        jnp.exp(0.5 * quadrature.log_weights), quadrature.parameters,
                        jnp.exp(0.5 * quadrature.log_weights),
                        weighted_basis(line, quadrature, kmax))
        return _mehler_mode_energies(network, rule, _signed_units(network, position, target))
    amplitudes = mode_amplitudes(network, position, kmax, num_nodes)
    if target is not None:
        amplitudes = amplitudes - mode_amplitudes(target.network, target.position, kmax,
                                                  num_nodes)
    squares = 0.5 * amplitudes**2
    if isinstance(measure, CircleMeasure):
        return jnp.concatenate([squares[:1], squares[1:].reshape(kmax, 2).sum(axis=-1)])
    return squares


def cutoff_energy(network: TwoLayerNetwork, position: Position, num_modes: int,
                  num_nodes: int, target: TargetNetwork | None = None) -> Scalar:
    r"""The effective theory's loss $L_K = \sum_{k \le K} E_k$ (see Concepts), $K$ = `num_modes`."""
    return jnp.sum(mode_energies(network, position, num_modes, num_nodes, target))
