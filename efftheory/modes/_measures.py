r"""Input measures $q$: quadrature rules and orthonormal bases.

Three measures, each with its orthonormal basis (see Concepts):

* `gaussian`: $x \sim N(0, 1)$, basis $h_k = He_k/\sqrt{k!}$ (normalized probabilists'
  Hermite polynomials); Gauss–Hermite nodes for the probabilists' weight.
* `circle`: $x = (\cos t, \sin t)$, $t \sim U[0, 2\pi)$; basis $1, \sqrt2\cos kt,
  \sqrt2\sin kt$; the trapezoid rule in $t$, exact for trigonometric polynomials of
  degree below the number of nodes.
* `uniform`: $x \sim U[-1, 1]$, basis $\sqrt{2k+1}\,P_k$; Gauss–Legendre nodes.

Bases are evaluated with the three-term recurrences of the *normalized* polynomials,
never with factorials or unnormalized values (DLMF 18.9.1 and 18.9.2 rescaled):

$$h_{k+1}(x) = \frac{x\,h_k(x) - \sqrt{k}\,h_{k-1}(x)}{\sqrt{k+1}}, \qquad
p_{k+1}(x) = \frac{\sqrt{(2k+1)(2k+3)}}{k+1}\,x\,p_k(x)
             - \frac{k}{k+1}\sqrt{\frac{2k+3}{2k-1}}\,p_{k-1}(x),$$

with $p_k = \sqrt{2k+1}P_k$. Both stay of order one on the bulk of the measure to any order.
"""

import abc
import math
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from .._types import Array, Float, Key


class Quadrature(NamedTuple):
    """A quadrature rule for an input measure: $E_q[f] \\approx \\sum_i w_i f(x_i)$.

    `parameters` are the 1-D coordinates the basis is written in ($x$ for `gaussian` and
    `uniform`, the angle $t$ for `circle`); `points` are the inputs fed to a network,
    shape ``(num_nodes, input_dim)``.
    """

    parameters: Float[Array, " num_nodes"]
    points: Float[Array, "num_nodes input_dim"]
    weights: Float[Array, " num_nodes"]
    log_weights: Float[Array, " num_nodes"]


class InputMeasure(eqx.Module):
    """Abstract input distribution $q$ with a quadrature rule and an orthonormal basis."""

    name: ClassVar[str]
    input_dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def quadrature(self, num_nodes: int) -> Quadrature:
        """A rule with `num_nodes` nodes whose weights sum to one."""

    @abc.abstractmethod
    def sample(self, key: Key, num_points: int) -> Float[Array, "num_points input_dim"]:
        """`num_points` independent draws $x \\sim q$, as a network's inputs."""

    @abc.abstractmethod
    def basis(self, parameters: Float[Array, "..."], kmax: int) -> Float[Array, "... kmax+1"]:
        """The orthonormal basis $e_0, \\dots, e_{k_{max}}$ at 1-D coordinates."""


def _check_num_nodes(num_nodes: int) -> int:
    if not isinstance(num_nodes, int | np.integer) or num_nodes < 1:
        raise ValueError(f"num_nodes must be a positive integer, got {num_nodes!r}.")
    return int(num_nodes)


def check_kmax(kmax: int) -> int:
    if isinstance(kmax, bool) or not isinstance(kmax, int | np.integer) or kmax < 0:
        raise ValueError(f"kmax must be a non-negative integer (the highest mode index), "
                         f"got {kmax!r}.")
    return int(kmax)


def hermite_basis(x: Float[Array, "..."], kmax: int) -> Float[Array, "... kmax+1"]:
    r"""Normalized probabilists' Hermite polynomials $h_0(x), \dots, h_{k_{max}}(x)$.

    Orthonormal under $N(0, 1)$. Uses $h_{k+1} = (x h_k - \sqrt{k} h_{k-1})/\sqrt{k+1}$
    (DLMF 18.9.1 for $He_k$, divided by $\sqrt{k!}$). Values grow like $e^{x^2/4}$ for
    $|x| > 2\sqrt{k}$; multiply by a weight before summing far in the tails.
    """
    kmax = check_kmax(kmax)
    x = jnp.asarray(x, dtype=jnp.float64)
    return three_term_recurrence(x, kmax, hermite_recurrence(kmax), jnp.ones_like(x))


def legendre_basis(x: Float[Array, "..."], kmax: int) -> Float[Array, "... kmax+1"]:
    r"""$p_k(x) = \sqrt{2k+1}\,P_k(x)$, orthonormal under $U[-1, 1]$ (DLMF 18.9.1)."""
    kmax = check_kmax(kmax)
    x = jnp.asarray(x, dtype=jnp.float64)
    return three_term_recurrence(x, kmax, legendre_recurrence(kmax), jnp.ones_like(x))


def fourier_basis(t: Float[Array, "..."], kmax: int) -> Float[Array, "... 2*kmax+1"]:
    r"""$1, \sqrt2\cos t, \sqrt2\sin t, \dots, \sqrt2\cos k_{max}t, \sqrt2\sin k_{max}t$.

    Orthonormal under $t \sim U[0, 2\pi)$; column $2k-1$ is the cosine of harmonic $k$,
    column $2k$ its sine.
    """
    kmax = check_kmax(kmax)
    t = jnp.asarray(t, dtype=jnp.float64)
    harmonics = jnp.arange(1, kmax + 1, dtype=jnp.float64)
    angles = t[..., None] * harmonics
    trig = jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1) * math.sqrt(2.0)
    trig = trig.reshape(*t.shape, 2 * kmax)
    return jnp.concatenate([jnp.ones((*t.shape, 1)), trig], axis=-1)


def hermite_recurrence(kmax: int) -> tuple[np.ndarray, np.ndarray]:
    r"""$(\alpha_k, \beta_k)$ of $h_{k+1} = \alpha_k x h_k - \beta_k h_{k-1}$ (module docstring)."""
    k = np.arange(max(kmax, 1), dtype=np.float64)
    return 1.0 / np.sqrt(k + 1.0), np.sqrt(k / (k + 1.0))


def legendre_recurrence(kmax: int) -> tuple[np.ndarray, np.ndarray]:
    r"""$(\alpha_k, \beta_k)$ of $p_{k+1} = \alpha_k x p_k - \beta_k p_{k-1}$ (module docstring)."""
    k = np.arange(max(kmax, 1), dtype=np.float64)
    alpha = np.sqrt((2 * k + 1) * (2 * k + 3)) / (k + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(k > 0, k / (k + 1) * np.sqrt((2 * k + 3) / np.maximum(2 * k - 1, 1)), 0.0)
    return alpha, beta


def three_term_recurrence(x, kmax, coefficients, start):
    """Run $e_{k+1} = \\alpha_k x e_k - \\beta_k e_{k-1}$ from $e_0 = $ `start`."""
    alpha, beta = (jnp.asarray(c) for c in coefficients)
    if kmax == 0:
        return start[..., None]

    def step(carry, coefficient):
        previous, current = carry
        a, b = coefficient
        following = a * x * current - b * previous
        return (current, following), following

    _, rest = jax.lax.scan(step, (jnp.zeros_like(start), start), (alpha[:kmax], beta[:kmax]))
    return jnp.concatenate([start[None], rest], axis=0).transpose(*range(1, x.ndim + 1), 0)


def _gauss_hermite_log_weights(nodes: np.ndarray) -> jax.Array:
    r"""Log Christoffel weights $\log w_i = -\log Q - 2\log|h_{Q-1}(x_i)|$.

    For the probability-normalized Gauss–Hermite rule $w_i = 1/(Q\,h_{Q-1}(x_i)^2)$
    (Szegő 1975, eq. 3.4.8, rescaled to orthonormal $h_k$). Computed in log space because
    far nodes have weights below the smallest float64, yet $w_i h_k(x_i)^2$ is of order one
    near the turning point $x \approx 2\sqrt{k}$.
    """
    num_nodes = nodes.shape[0]
    previous, current = np.zeros_like(nodes), np.ones_like(nodes)
    log_scale = np.zeros_like(nodes)
    for k in range(num_nodes - 1):
        previous, current = current, (nodes * current - math.sqrt(k) * previous) / math.sqrt(k + 1)
        size = np.maximum(np.abs(current), np.abs(previous))
        previous, current = previous / size, current / size
        log_scale += np.log(size)
    return jnp.asarray(-math.log(num_nodes) - 2.0 * (np.log(np.abs(current)) + log_scale))


def weighted_basis(measure: "InputMeasure", quadrature: Quadrature,
                   kmax: int) -> Float[Array, "num_nodes kmax+1"]:
    r"""$\sqrt{w_i}\,e_k(x_i)$: the basis scaled by square-root quadrature weights.

    Started from $\sqrt{w_i}$ the recurrence stays bounded (for Hermite these are the
    Hermite functions at the nodes), so $\sum_i \sqrt{w_i} f(x_i) \cdot \sqrt{w_i} e_k(x_i)$
    projects onto high modes without overflow where $w_i$ alone would underflow.
    """
    kmax = check_kmax(kmax)
    root_weights = jnp.exp(0.5 * quadrature.log_weights)
    if isinstance(measure, GaussianMeasure):
        return three_term_recurrence(quadrature.parameters, kmax, hermite_recurrence(kmax),
                                     root_weights)
    return measure.basis(quadrature.parameters, kmax) * root_weights[:, None]


def gauss_legendre(num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Gauss–Legendre nodes and weights on $[-1, 1]$, weights accurate to ~1e-14.

    scipy's weights lose digits as the rule grows (about 4e-11 relative at 200 nodes), so
    they are recomputed from the nodes, polished by one Newton step, with
    $w_i = 2/((1 - x_i^2) P_N'(x_i)^2)$ (Szegő 1975, eq. 15.3.1) and the three-term
    recurrence for $P_N$, $P_{N-1}$.
    """
    nodes, _ = scipy.special.roots_legendre(num_nodes)
    for _ in range(2):
        previous, current = np.ones_like(nodes), nodes.copy()
        for k in range(1, num_nodes):
            previous, current = current, ((2 * k + 1) * nodes * current - k * previous) / (k + 1)
        derivative = num_nodes * (nodes * current - previous) / (nodes**2 - 1.0)
        nodes = nodes - current / derivative
    return nodes, 2.0 / ((1.0 - nodes**2) * derivative**2)


class GaussianMeasure(InputMeasure):
    r"""$x \sim N(0, I_d)$. Quadrature and the Hermite basis are one-dimensional ($d = 1$);
    for $d > 1$ the population loss uses Mehler's formula instead (Mehler 1866)."""

    name: ClassVar[str] = "gaussian"
    input_dim: int = 1

    def __check_init__(self):
        if not isinstance(self.input_dim, int) or self.input_dim < 1:
            raise ValueError(f"input_dim must be a positive integer, got {self.input_dim!r}.")

    def quadrature(self, num_nodes: int) -> Quadrature:
        """Gauss–Hermite rule for the probabilists' weight (exact to degree 2Q − 1)."""
        num_nodes = _check_num_nodes(num_nodes)
        if self.input_dim != 1:
            raise ValueError(
                f"a tensor Gauss–Hermite rule in input_dim={self.input_dim} dimensions is not "
                "provided; for d > 1 use the Mehler (dual-activation) form of the loss."
            )
        nodes, _ = scipy.special.roots_hermitenorm(num_nodes)
        log_weights = _gauss_hermite_log_weights(nodes)
        nodes = jnp.asarray(nodes)
        return Quadrature(nodes, nodes[:, None], jnp.exp(log_weights), log_weights)

    def sample(self, key, num_points):
        return jax.random.normal(key, (num_points, self.input_dim), dtype=jnp.float64)

    def basis(self, parameters, kmax):
        return hermite_basis(parameters, kmax)


class CircleMeasure(InputMeasure):
    r"""$x = (\cos t, \sin t)$ with $t \sim U[0, 2\pi)$."""

    name: ClassVar[str] = "circle"
    input_dim: int = 2

    def quadrature(self, num_nodes: int) -> Quadrature:
        """Trapezoid rule in $t$: exact for trigonometric polynomials of degree < Q."""
        num_nodes = _check_num_nodes(num_nodes)
        angles = 2.0 * jnp.pi * jnp.arange(num_nodes, dtype=jnp.float64) / num_nodes
        points = jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)
        log_weights = jnp.full((num_nodes,), -math.log(num_nodes))
        return Quadrature(angles, points, jnp.exp(log_weights), log_weights)

    def sample(self, key, num_points):
        angles = jax.random.uniform(key, (num_points,), dtype=jnp.float64,
                                    maxval=2.0 * jnp.pi)
        return jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)

    def basis(self, parameters, kmax):
        return fourier_basis(parameters, kmax)


class UniformMeasure(InputMeasure):
    r"""$x \sim U[-1, 1]$."""

    name: ClassVar[str] = "uniform"
    input_dim: int = 1

    def quadrature(self, num_nodes: int) -> Quadrature:
        """Gauss–Legendre rule (exact to degree 2Q − 1), weights normalized to sum to one."""
        num_nodes = _check_num_nodes(num_nodes)
        nodes, weights = gauss_legendre(num_nodes)
        nodes = jnp.asarray(nodes)
        weights = jnp.asarray(weights / 2.0)
        return Quadrature(nodes, nodes[:, None], weights, jnp.log(weights))

    def sample(self, key, num_points):
        return jax.random.uniform(key, (num_points, 1), dtype=jnp.float64, minval=-1.0)

    def basis(self, parameters, kmax):
        return legendre_basis(parameters, kmax)


MEASURES: dict[str, type[InputMeasure]] = {
    "gaussian": GaussianMeasure,
    "circle": CircleMeasure,
    "uniform": UniformMeasure,
}


def get_measure(measure: "str | InputMeasure") -> InputMeasure:
    """Look up an input measure by name (`gaussian`, `circle`, `uniform`) or pass one through."""
    if isinstance(measure, InputMeasure):
        return measure
    if isinstance(measure, str) and measure in MEASURES:
        return MEASURES[measure]()
    raise ValueError(
        f"unknown measure {measure!r}: choose one of {sorted(MEASURES)} or pass an "
        "InputMeasure instance."
    )
