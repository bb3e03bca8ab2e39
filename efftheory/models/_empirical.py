r"""A two-layer network on a finite data set: the empirical loss in place of the population's.

With $N$ inputs $x_i \sim q$ and labels $y_i = f^*(x_i) + \varepsilon_i$,
$\varepsilon_i \sim N(0, 1)$ (the unit-variance Gaussian noise whose KL divergence the
population loss is), the empirical loss and its value at the true parameters are

$$L_N(\theta) = \frac1N\sum_{i=1}^N \tfrac12\big(f_\theta(x_i) - y_i\big)^2, \qquad
L_0 = L_N(\theta_0) = \frac1N\sum_{i=1}^N \tfrac12\varepsilon_i^2,$$

the negative log-likelihood per datum of $y \sim N(f_\theta(x), 1)$ without its constant
$\tfrac12\log 2\pi$, and the empirical entropy $S_N$ without it. So $n\,(L_N - L_0)$ at
$n = N$ is Watanabe's normalized log-likelihood ratio $nK_n(\theta)$ and
$F(n) = -\log\int e^{-n(L_N - L_0)}\varphi$ his normalized free energy $F_n - nS_n$
(Watanabe 2009, *Algebraic Geometry and Statistical Learning Theory*, §1.4 and eq. 1.18;
Watanabe 2013, *A widely applicable Bayesian information criterion*, JMLR 14, §2). As
$N \to \infty$, $L_N(\theta) - L_0 \to L(\theta) - 0$, the population loss of the same
network (law of large numbers: $E[(f_\theta - f^* - \varepsilon)^2 - \varepsilon^2] =
E_q[(f_\theta - f^*)^2]$).

$L_0$ is the loss of the *true* parameters, not the minimum of $L_N$: the least-squares fit
lies below it by $O_p(1/N)$ (it fits the noise), so $n\,(E_n[L_N] - L_0)$ at $n = N$ differs
from the population $\hat\lambda(N)$ by an $O_p(1)$ fluctuation, as Watanabe's theory has it.

The energy is computed as $\frac1N\sum_i [\tfrac12 d_i^2 - d_i\varepsilon_i]$ with
$d_i = f_\theta(x_i) - f^*(x_i)$, which equals $L_N - L_0$ without subtracting two numbers
of size $\tfrac12$; so its rounding is relative to itself and the empirical model has no
largest trustworthy $n$ of its own.
"""


import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Array, Float, Key, Position, Scalar
from .._validation import positive_int
from ._energies import TargetNetwork
from ._models import NetworkModel, validate_target
from ._networks import TwoLayerNetwork
from ._partition import PartitionFunction
from ._quadrature_choice import DEFAULT_MAX_NODES


class EmpiricalNetworkModel(PartitionFunction):
    r"""Raw weights $\theta = (a, w, b)$ tempered by the empirical loss $L_N(\theta) - L_0$.

    $L_N(\theta) = \frac1N\sum_i\tfrac12(f_\theta(x_i) - y_i)^2$ over the data set
    (`inputs`, `labels`) and $L_0 = \frac1N\sum_i\tfrac12(f^*(x_i) - y_i)^2$, the loss of
    the target network $f^*$ (zero by default); see the module docstring for why $L_0$ is
    the truth's loss rather than the least-squares minimum. The prior is the network's.

    `population` is the `NetworkModel` of the same network and target (the population
    loss by quadrature, the $N \to \infty$ limit): `efftheory.bayes_errors` measures the
    generalization error with it. `population_loss(θ)`, the loss a `PartitionFunction`
    tempers, is here the *empirical* $L_N$ (also `empirical_loss`).

    Build one with `EmpiricalNetworkModel.draw(network, data_size, key=...)` (inputs from
    the network's input measure, labels $f^*(x) + N(0, 1)$ noise), from a card with
    ``efftheory.load_model(card, data_size=N, data_seed=s)``, or from your own arrays:
    `inputs` of shape ``(N, input_dim)`` and `labels` of shape ``(N,)``. `data_size`, if
    given, must equal $N$.
    """

    network: TwoLayerNetwork
    target: TargetNetwork | None
    inputs: Float[Array, "data input_dim"]
    labels: Float[Array, " data"]
    noise: Float[Array, " data"]
    population: NetworkModel
    data_size: int = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, network: TwoLayerNetwork, inputs, labels, *,
                 target: TargetNetwork | None = None, data_size: int | None = None,
                 n_max: float = 1e6, max_nodes: int = DEFAULT_MAX_NODES):
        if not isinstance(network, TwoLayerNetwork):
            raise ValueError(f"network must be a TwoLayerNetwork, got {type(network).__name__}.")
        inputs, labels = _check_data(network, inputs, labels, data_size)
        self.network = network
        self.target = validate_target(network, target)
        self.inputs, self.labels = inputs, labels
        self.noise = labels - self.target_values(inputs)
        self.data_size = int(labels.shape[0])
        self.population = NetworkModel(network, target=self.target, n_max=n_max,
                                       max_nodes=max_nodes)
        self.num_params = network.num_params
        self.loss_minimum = float(0.5 * jnp.mean(self.noise**2))

    @classmethod
    def draw(cls, network: TwoLayerNetwork, data_size: int, *, key: Key,
             target: TargetNetwork | None = None, **kwargs) -> "EmpiricalNetworkModel":
        r"""$N$ = `data_size` inputs $x_i \sim q$ (the network's measure) and labels
        $y_i = f^*(x_i) + \varepsilon_i$, $\varepsilon_i \sim N(0, 1)$, from `key`."""
        data_size = positive_int(data_size, "data_size")
        input_key, noise_key = jax.random.split(key)
        inputs = network.measure.sample(input_key, data_size)
        noise = jax.random.normal(noise_key, (data_size,), dtype=jnp.float64)
        labels = _target_values(network, target, inputs) + noise
        return cls(network, inputs, labels, target=target, **kwargs)

    def target_values(self, points: Float[Array, "num input_dim"]) -> Float[Array, " num"]:
        """$f^*(x)$ at `points` (zeros when learning zero)."""
        return _target_values(self.network, self.target, points)

    def empirical_loss(self, position: Position) -> Scalar:
        r"""$L_N(\theta) = \frac1N\sum_i\tfrac12(f_\theta(x_i) - y_i)^2$."""
        return 0.5 * jnp.mean((self.network(position, self.inputs) - self.labels) ** 2)

    def population_loss(self, position: Position) -> Scalar:
        """The tempered loss: here the empirical $L_N$ (see the class docstring)."""
        return self.empirical_loss(position)

    def energy(self, position: Position) -> Scalar:
        r"""$L_N(\theta) - L_0 = \frac1N\sum_i[\tfrac12 d_i^2 - d_i\varepsilon_i]$,
        $d_i = f_\theta(x_i) - f^*(x_i)$ (no cancellation against $L_0$)."""
        difference = self.network(position, self.inputs) - self.target_values(self.inputs)
        return jnp.mean(0.5 * difference**2 - difference * self.noise)

    def log_prior(self, position: Position) -> Scalar:
        return self.network.log_prior(position)

    def sample_prior(self, key: Key) -> Position:
        return self.network.sample_prior(key)


def _target_values(network: TwoLayerNetwork, target: TargetNetwork | None, points):
    if target is None:
        return jnp.zeros(points.shape[:1], dtype=jnp.float64)
    return target.network(target.position, points)


def _check_data(network: TwoLayerNetwork, inputs, labels, data_size):
    """Float64 `(N, input_dim)` inputs and `(N,)` labels, finite, with N = data_size."""
    try:
        inputs = np.asarray(inputs, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"inputs and labels must be arrays of numbers: {error}") from error
    dim = network.input_dim
    if inputs.ndim == 1 and dim == 1:
        inputs = inputs[:, None]
    if inputs.ndim != 2 or inputs.shape[1] != dim:
        raise ValueError(f"inputs must have shape (N, input_dim) = (N, {dim}) for this "
                         f"network's {network.measure.name!r} inputs, got {inputs.shape}.")
    if labels.shape != (inputs.shape[0],):
        raise ValueError(f"labels must have shape (N,) = ({inputs.shape[0]},), one per input, "
                         f"got {labels.shape}.")
    if inputs.shape[0] == 0:
        raise ValueError("the data set is empty: pass at least one input and label.")
    if data_size is not None and positive_int(data_size, "data_size") != inputs.shape[0]:
        raise ValueError(f"data_size = {data_size} but the data set has {inputs.shape[0]} "
                         f"points: set data_size = {inputs.shape[0]} (or leave it out), or "
                         f"pass {data_size} points.")
    for name, array in (("inputs", inputs), ("labels", labels)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite; {int(np.sum(~np.isfinite(array)))} "
                             "entries are not.")
    return jnp.asarray(inputs), jnp.asarray(labels)


def data_key(data_seed: int) -> Key:
    """The PRNG key a card's ``data_seed`` draws its data set with."""
    return jax.random.PRNGKey(data_seed)

