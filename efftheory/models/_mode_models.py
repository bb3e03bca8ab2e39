r"""Mode-coordinate partition functions: the free field theory and a 1/H correction.

The first $K$ mode amplitudes $u_k = \sum_i a_i c_k(w_i)$ of a width-$H$ network have
prior covariance (see Concepts)

$$\Sigma_{kl} = E_\varphi[u_k u_l] = H s_a^2\,E_w[c_k(w)c_l(w)] = V\,\mathrm{diag}(\mu)\,V^\top.$$

Both models below work in the eigenbasis $v = V^\top u$ (the loss $\tfrac12|u|^2$ is
rotation invariant, so $L = \tfrac12|v|^2$) and drop eigenvalues below
``eigenvalue_floor`` $\times \mu_{max}$, which float64 cannot resolve (they matter only at
$n \gtrsim 10^{13}/\mu_{max}$).

* `FreeFieldModel`: $v_j \sim N(0, \mu_j)$ independently; exactly solvable,
  $F(n) = \tfrac12\sum_j\log(1 + n\mu_j)$.
* `ScaleMixtureModel`, the $1/H$ correction: given $w$, $v_j = \sum_i a_i\psi_j(w_i)$ is
  exactly Gaussian with variance $s_j = s_a^2\sum_i\psi_j(w_i)^2$ ($\psi = V^\top c$), a
  sum of $H$ i.i.d. terms with mean $\mu_j$ and variance $H s_a^4\mathrm{Var}(\psi_j^2)$.
  The model keeps that structure mode by mode, replacing the law of $s_j$ by the Gamma
  distribution with the same mean and variance:
  $v_j\,|\,s_j \sim N(0, s_j)$, $s_j \sim \mathrm{Gamma}(\alpha_j, \text{mean } \mu_j)$,
  $\alpha_j = H E[\psi_j^2]^2/\mathrm{Var}(\psi_j^2)$, so the excess kurtosis of $v_j$,
  $3/\alpha_j = 3\mathrm{Var}(\psi_j^2)/(H E[\psi_j^2]^2)$, is the width-$H$ value.
  Cross-mode cumulants (modes share the same $w_i$) are not modelled. Position
  $(v, \log s)$ so that NUTS runs on unconstrained coordinates. Exact:
  $Z(n) = \prod_j E_{s_j}[(1 + n s_j)^{-1/2}]$, a product of 1-D integrals
  (`efftheory.exact`).
"""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Array, Float, Key, Position, Scalar
from ..modes._modes import mode_coefficients
from ..modes._quadrature import normal_trapezoid
from ._models import ModeAmplitudesUnavailable
from ._networks import TwoLayerNetwork
from ._partition import PartitionFunction

DEFAULT_EIGENVALUE_FLOOR = 1e-13
MAX_SHAPE = 1e8


class PriorModeStatistics(NamedTuple):
    """Prior moments of a network's mode amplitudes (see `prior_mode_statistics`).

    Attributes:
        covariance: $\\Sigma$ over modes (coefficients) $0..M-1$.
        eigenvalues: the kept $\\mu_j$, descending.
        eigenvectors: $V$, shape ``(M, J)``.
        excess_kurtosis: width-$H$ excess kurtosis $3\\mathrm{Var}(\\psi_j^2)/(H
            E[\\psi_j^2]^2)$ of each eigenmode.
        covariance_error: max $|\\Sigma_{N_w} - \\Sigma_{N_w/2}|$ (weight quadrature check).
        num_dropped: eigenvalues below the floor.
    """

    covariance: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    excess_kurtosis: np.ndarray
    covariance_error: float
    num_dropped: int


def _coefficients(network, kmax, grid):
    measure = network.measure
    if measure.name != "circle":
        values = mode_coefficients(network.activation, measure, w=grid, kmax=kmax,
                                   below_floor="keep", progress=False)
        return np.asarray(values), None
    # Unit at angle phi and radius r: cos-coefficient c_k(r) cos(k phi), sin: c_k(r) sin(k phi).
    wx, wy = np.meshgrid(grid, grid, indexing="ij")
    radius, angle = np.hypot(wx, wy).ravel(), np.arctan2(wy, wx).ravel()
    radial = np.asarray(mode_coefficients(network.activation, measure, w=radius, kmax=kmax,
                                          below_floor="keep", progress=False))
    harmonics = np.arange(1, kmax + 1)
    rotated = np.stack([radial[:, 1:] * np.cos(harmonics * angle[:, None]),
                        radial[:, 1:] * np.sin(harmonics * angle[:, None])], axis=-1)
    return np.concatenate([radial[:, :1], rotated.reshape(len(radius), 2 * kmax)], axis=1), (
        wx.shape)


def _moments(network, kmax, num_weight_nodes):
    grid, density = normal_trapezoid(num_weight_nodes, network.weight_scale)
    coefficients, shape = _coefficients(network, kmax, grid)
    weights = density if shape is None else np.outer(density, density).ravel()
    return coefficients, weights, shape


def prior_mode_statistics(network: TwoLayerNetwork, kmax: int, *,
                          num_weight_nodes: int = 161,
                          eigenvalue_floor: float = DEFAULT_EIGENVALUE_FLOOR
                          ) -> PriorModeStatistics:
    r"""$\Sigma = H s_a^2 E_w[c(w)c(w)^\top]$, its eigenbasis and width-$H$ kurtoses.

    $E_w$ over $w \sim N(0, s_w^2)$ (or $N(0, s_w^2 I_2)$ on the circle) by the trapezoid
    rule on $[-10 s_w, 10 s_w]$ with `num_weight_nodes` nodes per axis; the error is
    estimated by repeating with every other node. Modes $0..k_{max}$ (on the circle,
    harmonics $0..k_{max}$: $2k_{max} + 1$ coefficients). Not jittable.
    """
    if network.bias:
        raise ValueError("prior_mode_statistics supports networks without bias only "
                         "(bias adds an integral over b); build the network with bias=False.")
    if network.measure.name == "gaussian" and network.input_dim > 1:
        raise ValueError("mode coordinates need input_dim = 1 for Gaussian inputs (in d > 1 "
                         "mode k is a C(k+d-1, d-1)-dimensional space).")
    if num_weight_nodes % 2 == 0 or num_weight_nodes < 21:
        raise ValueError(f"num_weight_nodes must be odd and >= 21, got {num_weight_nodes}.")
    coefficients, weights, shape = _moments(network, kmax, num_weight_nodes)
    scale = network.width * network.readout_variance
    covariance = scale * (coefficients * weights[:, None]).T @ coefficients
    # The same rule with every other node (step doubled) for the error estimate.
    if shape is None:
        coarse_rows = np.arange(0, num_weight_nodes, 2)
        coarse_weights = 2.0 * weights[coarse_rows]
    else:
        keep = np.zeros(shape, dtype=bool)
        keep[::2, ::2] = True
        coarse_rows = np.flatnonzero(keep.ravel())
        coarse_weights = 4.0 * weights[coarse_rows]
    coarse_coefficients = coefficients[coarse_rows]
    coarse = scale * (coarse_coefficients * coarse_weights[:, None]).T @ coarse_coefficients
    error = float(np.max(np.abs(covariance - coarse)))
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    kept = values > eigenvalue_floor * values[0]
    values, vectors = values[kept], vectors[:, kept]
    projected = coefficients @ vectors  # psi_j(w_p)
    second = weights @ projected**2
    fourth = weights @ projected**4
    kurtosis = 3.0 * (fourth - second**2) / (network.width * second**2)
    return PriorModeStatistics(covariance, values, vectors, np.maximum(kurtosis, 0.0), error,
                               int(np.sum(~kept)))


def _as_vector(values, name) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be a non-empty vector of positive finite numbers.")
    return array


class FreeFieldModel(PartitionFunction):
    r"""Free Gaussian field over eigen-coordinates: $v_j \sim N(0, \mu_j)$,
    $L = \tfrac12|v|^2$; $F(n) = \tfrac12\sum_j\log(1 + n\mu_j)$ (see Concepts)."""

    eigenvalues: Float[Array, " modes"]
    eigenvectors: Float[Array, "coefficients modes"] | None
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, eigenvalues, eigenvectors=None):
        eigenvalues = _as_vector(eigenvalues, "eigenvalues")
        self.eigenvalues = jnp.asarray(eigenvalues)
        self.eigenvectors = None if eigenvectors is None else jnp.asarray(eigenvectors)
        if self.eigenvectors is not None and self.eigenvectors.shape[1] != eigenvalues.size:
            raise ValueError("eigenvectors must have one column per eigenvalue.")
        self.num_params = int(eigenvalues.size)
        self.loss_minimum = 0.0

    @classmethod
    def from_network(cls, network: TwoLayerNetwork, kmax: int,
                     **statistics_options) -> "FreeFieldModel":
        """The free theory of `network`'s modes $0..k_{max}$ (`prior_mode_statistics`)."""
        statistics = prior_mode_statistics(network, kmax, **statistics_options)
        return cls(statistics.eigenvalues, statistics.eigenvectors)

    def population_loss(self, position: Position) -> Scalar:
        return 0.5 * jnp.sum(position**2)

    def log_prior(self, position: Position) -> Scalar:
        return jnp.sum(jax.scipy.stats.norm.logpdf(position, 0.0, jnp.sqrt(self.eigenvalues)))

    def sample_prior(self, key: Key) -> Position:
        return jnp.sqrt(self.eigenvalues) * jax.random.normal(key, (self.num_params,),
                                                              dtype=jnp.float64)

    def mode_amplitudes(self, position: Position, kmax: int) -> Float[Array, " modes"]:
        """$u = Vv$, the first ``kmax + 1`` coefficients."""
        return _rotate(self.eigenvectors, position, kmax)


def _rotate(eigenvectors, eigen_coordinates, kmax):
    if eigenvectors is None:
        raise ModeAmplitudesUnavailable("built from eigenvalues alone: no eigenvectors to "
                                        "rotate back to mode amplitudes.")
    if kmax + 1 > eigenvectors.shape[0]:
        raise ModeAmplitudesUnavailable(f"kmax={kmax} exceeds the {eigenvectors.shape[0]} "
                                        "coefficients this model was built with.")
    return (eigenvectors @ eigen_coordinates)[: kmax + 1]


class ScaleMixtureModel(PartitionFunction):
    r"""The $1/H$ correction: $v_j | s_j \sim N(0, s_j)$, $s_j \sim \mathrm{Gamma}(\alpha_j,
    \text{mean } \mu_j)$, $L = \tfrac12|v|^2$; position $(v, \log s)$ of length $2J$.

    As $\alpha_j \to \infty$ (infinite width) it becomes `FreeFieldModel`. Shapes above
    ``1e8`` are capped there (the mode is Gaussian to float64 accuracy anyway).
    """

    eigenvalues: Float[Array, " modes"]
    shapes: Float[Array, " modes"]
    eigenvectors: Float[Array, "coefficients modes"] | None
    num_modes: int = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, eigenvalues, shapes, eigenvectors=None):
        eigenvalues = _as_vector(eigenvalues, "eigenvalues")
        shapes = np.minimum(_as_vector(shapes, "shapes"), MAX_SHAPE)
        if shapes.shape != eigenvalues.shape:
            raise ValueError("shapes must have one entry per eigenvalue.")
        self.eigenvalues, self.shapes = jnp.asarray(eigenvalues), jnp.asarray(shapes)
        self.eigenvectors = None if eigenvectors is None else jnp.asarray(eigenvectors)
        self.num_modes = int(eigenvalues.size)
        self.num_params = 2 * self.num_modes
        self.loss_minimum = 0.0

    @classmethod
    def from_network(cls, network: TwoLayerNetwork, kmax: int,
                     **statistics_options) -> "ScaleMixtureModel":
        r"""Shapes $\alpha_j = 3/\kappa_j$ from the width-$H$ excess kurtoses $\kappa_j$."""
        statistics = prior_mode_statistics(network, kmax, **statistics_options)
        kurtosis = np.maximum(statistics.excess_kurtosis, 3.0 / MAX_SHAPE)
        return cls(statistics.eigenvalues, 3.0 / kurtosis, statistics.eigenvectors)

    def split(self, position: Position):
        """``(v, log s)``."""
        return position[: self.num_modes], position[self.num_modes:]

    def population_loss(self, position: Position) -> Scalar:
        amplitudes, _ = self.split(position)
        return 0.5 * jnp.sum(amplitudes**2)

    def log_prior(self, position: Position) -> Scalar:
        r"""$\log N(v; 0, s) + \log\mathrm{Gamma}(s; \alpha, \mu/\alpha) + \log s$
        (the last term is the Jacobian of $s = e^{\log s}$)."""
        amplitudes, log_variance = self.split(position)
        variance = jnp.exp(log_variance)
        rate = self.shapes / self.eigenvalues
        log_gamma = (self.shapes * jnp.log(rate) - jax.scipy.special.gammaln(self.shapes)
                     + self.shapes * log_variance - rate * variance)
        log_normal = -0.5 * (jnp.log(2 * jnp.pi) + log_variance + amplitudes**2 / variance)
        return jnp.sum(log_gamma + log_normal)

    def sample_prior(self, key: Key) -> Position:
        gamma_key, normal_key = jax.random.split(key)
        # loggamma keeps small-shape draws (s far below 1e-300) finite in log space.
        log_variance = jax.random.loggamma(gamma_key, self.shapes, dtype=jnp.float64) + jnp.log(
            self.eigenvalues / self.shapes)
        amplitudes = jnp.exp(0.5 * log_variance) * jax.random.normal(
            normal_key, (self.num_modes,), dtype=jnp.float64)
        return jnp.concatenate([amplitudes, log_variance])

    def mode_amplitudes(self, position: Position, kmax: int) -> Float[Array, " modes"]:
        return _rotate(self.eigenvectors, self.split(position)[0], kmax)
