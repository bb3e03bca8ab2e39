r"""Networks as Equinox architecture descriptions acting on flat parameter vectors.

Samplers see a flat float64 vector $\theta$; a network module holds only the architecture
(static) and maps $\theta$ to its function. Two families:

* `TwoLayerNetwork`: $f_\theta(x) = \sum_{i=1}^H a_i\,\sigma(w_i\cdot x + b_i)$
  (see Concepts), flat layout ``[a (H), w.ravel() (H·d, unit i's weights contiguous),
  b (H, only with bias)]``. Prior $a_i \sim N(0, s_a^2)$, $w_{ij} \sim N(0, s_w^2)$,
  $b_i \sim N(0, s_b^2)$, with the readout variance scaled with width:
  ``standard`` $s_a^2 = \rho^2$, ``ntk`` $s_a^2 = \rho^2/H$, ``mean_field``
  $s_a^2 = \rho^2/H^2$ ($\rho$ = `readout_scale`).
* `DeepLinearNetwork`: $f_\theta(x) = W_L\cdots W_1 x$ with widths $(H_1, \dots, H_{L+1})$
  and $W_s \in \mathbb R^{H_{s+1}\times H_s}$; flat layout
  ``[W_1.ravel(), ..., W_L.ravel()]`` (row-major), prior $N(0, s^2)$ on every entry.
"""

import math
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Array, Float, Key, Position, Scalar
from .._validation import positive_float, positive_int
from ..modes._activations import Activation, get_activation
from ..modes._measures import InputMeasure, get_measure

Scaling = Literal["standard", "ntk", "mean_field"]
SCALINGS: tuple[str, ...] = ("standard", "ntk", "mean_field")


class NetworkParameters(NamedTuple):
    """The parameters of a `TwoLayerNetwork`, unflattened."""

    readout: Float[Array, " width"]
    weights: Float[Array, "width input_dim"]
    biases: Float[Array, " width"]


class TwoLayerNetwork(eqx.Module):
    r"""$f_\theta(x) = \sum_{i=1}^H a_i\,\sigma(w_i\cdot x + b_i)$ (see Concepts).

    Args:
        width: $H$.
        activation: a name (``"tanh"``, ``"erf"``, ...), an `Activation` or a callable.
        measure: the input measure $q$ (``"gaussian"``, ``"circle"``, ``"uniform"`` or an
            `InputMeasure`); circle inputs are the 2-D points $(\cos t, \sin t)$.
        input_dim: $d$ for ``gaussian`` inputs (default 1); must match the measure
            otherwise.
        bias: include biases $b_i$ (default off: $b_i = 0$, not parameters).
        scaling: ``"standard"``, ``"ntk"`` or ``"mean_field"`` (readout variance
            $\rho^2$, $\rho^2/H$, $\rho^2/H^2$).
        readout_scale: $\rho$ (default 1).
        weight_scale: $s_w$ (default 1).
        bias_scale: $s_b$ (default 1).
    """

    width: int = eqx.field(static=True)
    activation: Activation = eqx.field(static=True)
    measure: InputMeasure = eqx.field(static=True)
    bias: bool = eqx.field(static=True)
    scaling: str = eqx.field(static=True)
    readout_scale: float = eqx.field(static=True)
    weight_scale: float = eqx.field(static=True)
    bias_scale: float = eqx.field(static=True)

    def __init__(self, width: int, activation="tanh", measure="gaussian", *,
                 input_dim: int | None = None, bias: bool = False, scaling: Scaling = "standard",
                 readout_scale: float = 1.0, weight_scale: float = 1.0,
                 bias_scale: float = 1.0):
        self.width = positive_int(width, "width")
        self.activation = get_activation(activation)
        measure = get_measure(measure)
        if input_dim is not None:
            input_dim = positive_int(input_dim, "input_dim")
            if measure.name == "gaussian" and input_dim != measure.input_dim:
                measure = type(measure)(input_dim=input_dim)
            elif input_dim != measure.input_dim:
                raise ValueError(f"input_dim={input_dim} does not match the {measure.name!r} "
                                 f"measure, whose inputs have dimension {measure.input_dim}.")
        self.measure = measure
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be True or False, got {bias!r}.")
        self.bias = bias
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}.")
        self.scaling = scaling
        self.readout_scale = positive_float(readout_scale, "readout_scale")
        self.weight_scale = positive_float(weight_scale, "weight_scale")
        self.bias_scale = positive_float(bias_scale, "bias_scale")

    @property
    def input_dim(self) -> int:
        return self.measure.input_dim

    @property
    def num_params(self) -> int:
        return self.width * (1 + self.input_dim + int(self.bias))

    @property
    def readout_variance(self) -> float:
        r"""$s_a^2$ after width scaling: $\rho^2$, $\rho^2/H$ or $\rho^2/H^2$."""
        power = {"standard": 0, "ntk": 1, "mean_field": 2}[self.scaling]
        return self.readout_scale**2 / self.width**power

    def unflatten(self, position: Position) -> NetworkParameters:
        """Split a flat vector ``[a, w.ravel(), b]`` into readout, weights and biases."""
        width, dim = self.width, self.input_dim
        readout = position[:width]
        weights = position[width: width * (1 + dim)].reshape(width, dim)
        if self.bias:
            biases = position[width * (1 + dim):]
        else:
            biases = jnp.zeros((width,), dtype=position.dtype)
        return NetworkParameters(readout, weights, biases)

    def flatten(self, parameters: NetworkParameters) -> Position:
        """Inverse of `unflatten`."""
        parts = [jnp.ravel(parameters.readout), jnp.ravel(parameters.weights)]
        if self.bias:
            parts.append(jnp.ravel(parameters.biases))
        return jnp.concatenate(parts)

    def prior_scales(self) -> Float[Array, " num_params"]:
        """Prior standard deviation of every entry of the flat vector."""
        parts = [np.full(self.width, math.sqrt(self.readout_variance)),
                 np.full(self.width * self.input_dim, self.weight_scale)]
        if self.bias:
            parts.append(np.full(self.width, self.bias_scale))
        return jnp.asarray(np.concatenate(parts))

    def log_prior(self, position: Position) -> Scalar:
        """Log density of the independent Gaussian prior at `position`."""
        return jnp.sum(jax.scipy.stats.norm.logpdf(position, 0.0, self.prior_scales()))

    def sample_prior(self, key: Key) -> Position:
        return self.prior_scales() * jax.random.normal(key, (self.num_params,),
                                                       dtype=jnp.float64)

    def units(self, position: Position, points: Float[Array, "num dim"]
              ) -> Float[Array, "num width"]:
        r"""Hidden activations $\sigma(w_i\cdot x + b_i)$ at `points`."""
        params = self.unflatten(position)
        return self.activation.function(points @ params.weights.T + params.biases)

    def __call__(self, position: Position, points: Float[Array, "num dim"]) -> Float[Array, " num"]:
        r"""$f_\theta(x)$ at `points` (shape ``(num, input_dim)``)."""
        return self.units(position, points) @ self.unflatten(position).readout


class DeepLinearNetwork(eqx.Module):
    r"""$f_\theta(x) = W_L \cdots W_1 x$ with widths $(H_1, \dots, H_{L+1})$.

    Two layers ($L = 2$, widths $(M, H, N)$) is reduced rank regression
    (Aoyagi & Watanabe 2005). Prior: every entry $N(0, s^2)$, $s$ = `weight_scale`.
    """

    widths: tuple[int, ...] = eqx.field(static=True)
    weight_scale: float = eqx.field(static=True)

    def __init__(self, widths, *, weight_scale: float = 1.0):
        if isinstance(widths, str) or not hasattr(widths, "__len__") or len(widths) < 2:
            raise ValueError(f"widths must be a sequence of at least 2 positive integers "
                             f"(input, hidden..., output), got {widths!r}.")
        self.widths = tuple(positive_int(h, f"widths[{s}]") for s, h in enumerate(widths))
        self.weight_scale = positive_float(weight_scale, "weight_scale")

    @property
    def num_params(self) -> int:
        return sum(a * b for a, b in zip(self.widths[:-1], self.widths[1:], strict=True))

    def layers(self, position: Position) -> list[Float[Array, "out in"]]:
        """The matrices $W_1, \\dots, W_L$ ($W_s$ of shape ``(H_{s+1}, H_s)``)."""
        matrices, start = [], 0
        for fan_in, fan_out in zip(self.widths[:-1], self.widths[1:], strict=True):
            size = fan_in * fan_out
            matrices.append(position[start: start + size].reshape(fan_out, fan_in))
            start += size
        return matrices

    def end_to_end(self, position: Position) -> Float[Array, "out in"]:
        r"""The product $W_L \cdots W_1$."""
        product = None
        for matrix in self.layers(position):
            product = matrix if product is None else matrix @ product
        return product

    def log_prior(self, position: Position) -> Scalar:
        return jnp.sum(jax.scipy.stats.norm.logpdf(position, 0.0, self.weight_scale))

    def sample_prior(self, key: Key) -> Position:
        return self.weight_scale * jax.random.normal(key, (self.num_params,), dtype=jnp.float64)

    def __call__(self, position: Position,
                 points: Float[Array, "num dim"]) -> Float[Array, "num out"]:
        return points @ self.end_to_end(position).T
