r"""Mode-cutoff partition functions: the effective theory's truncated loss, sampled.

For a two-layer network with one-dimensional inputs (Gaussian: Hermite modes $h_k$;
uniform: Legendre; circle: Fourier harmonics) the loss is a sum over modes,
$L = \tfrac12\sum_k (u_k - u^*_k)^2$ with $u_k(\theta) = \sum_i a_i c_k(w_i, b_i)$
(Parseval). A cutoff keeps the first $K$ of them (see Concepts):

$$L_K(\theta) = \tfrac12\sum_{k \in \mathcal K} (u_k(\theta) - u^*_k)^2,$$

where $\mathcal K$ is the set of the first $K$ mode indices that **do not vanish
identically** for the activation. Without bias, the parity of $\sigma$ removes whole
families: for an odd activation (tanh, erf) every even mode is zero, so $K = 1$ keeps
$u_1$ alone and $K = 2$ keeps $u_1, u_3$; for $\sigma - \sigma(0)$ odd (sigmoid) the even
modes $k \ge 2$ vanish; for $\sigma(z) - \sigma(-z)$ linear in $z$ (softplus, gelu, relu) the
odd modes $k \ge 3$ vanish. (Each parity fact follows from $e_k(-x) = (-1)^k e_k(x)$ for a
symmetric measure; on the circle from $t \mapsto t + \pi$.) With biases nothing vanishes
identically and $\mathcal K = \{0, \dots, K - 1\}$. On the circle a mode is a harmonic $k$:
its cosine and sine amplitudes are both kept ($E_k$ of `efftheory.models._energies.mode_energies`).

**Raw weights** (`CutoffNetworkModel`): position $(a, w, b)$ as `NetworkModel`, energy
$L_K$. **Collapsed readout** (`CollapsedCutoffNetworkModel`): with target zero,
$L_K = \tfrac12 a^\top C_K C_K^\top a$ where $C_K$ ($H \times K$, $2K$ columns on the
circle for harmonics $k \ge 1$) holds the kept coefficients $c_k(w_i, b_i)$ of every unit,
so $G_K = C_K C_K^\top$ and, with $a \sim N(0, s_a^2 I)$ integrated out (Sylvester's
determinant identity $\det(I_H + AB) = \det(I_K + BA)$),

$$Z_K(n) = E_{w\sim\varphi}\big[\det(I_K + n s_a^2 C_K^\top C_K)^{-1/2}\big], \qquad
  \lambda_K(n) = E_{p_n(w)}\Big[\tfrac12\sum_j \frac{x_j}{1 + x_j}\Big],\;
  x_j = n s_a^2\,\mathrm{eig}_j(C_K^\top C_K),$$

a $K \times K$ log-determinant, with the tempering interface of `CollapsedNetworkModel`.

The coefficients are projections $u_k = \sum_q \omega_q f_\theta(x_q) e_k(x_q)$ with the
measure's own rule (Gauss–Hermite, trapezoid in $t$, Gauss–Legendre); its size $Q$ is
chosen like the full loss's (`efftheory.models._quadrature_choice.choose_num_nodes`): the smallest
$Q = Q_0 2^j$ with $10\max|L_{K,Q} - L_{K,2Q}| \le 10^{-3}/n_{max}$ over 16 prior draws.
$K$ must not exceed the modes float64 resolves at the prior's typical weight
$|w| = s_w$ (`mode_coefficients` error bound below $10^{-3}|c_k|$); beyond it $L_K$ would
add rounding noise, not modes, and construction raises with the largest usable $K$.
"""


import equinox as eqx
import jax.numpy as jnp

from .._types import Array, Float, Key, Position, Scalar
from ._cutoff_projection import (
    ModeProjection,
    choose_cutoff_nodes,
    mode_projection,
    target_mode_amplitudes,
)
from ._energies import TargetNetwork
from ._kept_modes import kept_modes
from ._models import (
    CollapsedReadoutModel,
    ModeAmplitudesUnavailable,
    NonlinearTemperingError,
    validate_target,
)
from ._networks import TwoLayerNetwork
from ._partition import PartitionFunction
from ._quadrature_choice import DEFAULT_MAX_NODES, QuadratureChoice


class CutoffNetworkModel(PartitionFunction):
    r"""Raw weights with the truncated loss $L_K(\theta) = \tfrac12\sum_{k\in\mathcal K}
    (u_k(\theta) - u^*_k)^2$ over the first $K$ non-vanishing modes (module docstring).

    For tanh without bias (odd), the even modes vanish: ``num_modes=1`` keeps $u_1$,
    ``num_modes=2`` keeps $u_1, u_3$. ``kept_modes`` lists the indices.

    Args:
        network: a `TwoLayerNetwork` with one-dimensional inputs (Gaussian, uniform) or
            circle inputs.
        num_modes: $K \ge 1$.
        target: None (learning zero) or a realizable `TargetNetwork`.
        n_max: the largest $n$ sampled; sets the projection's accuracy.
        num_nodes: a fixed projection size $Q$ instead (checked).
        max_nodes: the largest $Q$ tried.
    """

    network: TwoLayerNetwork
    target: TargetNetwork | None
    projection: ModeProjection
    target_amplitudes: Float[Array, " columns"]
    kept_modes: tuple[int, ...] = eqx.field(static=True)
    quadrature: QuadratureChoice = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    @property
    def trustworthy_n(self) -> float:
        r"""`quadrature.trustworthy_n`: the $n$ up to which $n|\Delta L_K| \le 10^{-3}$."""
        return self.quadrature.trustworthy_n

    def __init__(self, network: TwoLayerNetwork, num_modes: int, *,
                 target: TargetNetwork | None = None, n_max: float = 1e6,
                 num_nodes: int | None = None, max_nodes: int = DEFAULT_MAX_NODES):
        self.kept_modes = kept_modes(network, num_modes)
        self.network = network
        self.target = validate_target(network, target)
        self.quadrature = choose_cutoff_nodes(network, self.kept_modes, n_max,
                                              target=self.target, num_nodes=num_nodes,
                                              max_nodes=max_nodes)
        self.projection = mode_projection(network, self.kept_modes, self.quadrature.num_nodes)
        self.target_amplitudes = target_mode_amplitudes(network, self.projection, self.target)
        self.num_params = network.num_params
        self.loss_minimum = 0.0

    @property
    def num_modes(self) -> int:
        return len(self.kept_modes)

    def kept_amplitudes(self, position: Position) -> Float[Array, " columns"]:
        r"""$u_k(\theta)$ for $k \in \mathcal K$ (circle: cosine and sine per harmonic)."""
        return self.network(position, self.projection.points) @ self.projection.basis

    def population_loss(self, position: Position) -> Scalar:
        r"""$L_K(\theta)$ (not the full population loss)."""
        return 0.5 * jnp.sum((self.kept_amplitudes(position) - self.target_amplitudes) ** 2)

    def log_prior(self, position: Position) -> Scalar:
        return self.network.log_prior(position)

    def sample_prior(self, key: Key) -> Position:
        return self.network.sample_prior(key)


class CollapsedCutoffNetworkModel(CollapsedReadoutModel):
    r"""The cutoff model with its readout integrated out: a density over inner weights.

    $U_n(w) = \tfrac12\log\det(I_K + n s_a^2 C_K^\top C_K) - \log\varphi(w)$ (module
    docstring); tempering as `CollapsedNetworkModel` (``tempered_energy``,
    ``energy_derivative``, ``learning_coefficient_integrand``; not linear in $n$).
    Position ``[w.ravel(), b]``. Requires target zero. Kept modes as
    `CutoffNetworkModel`: for tanh, ``num_modes=1`` keeps $u_1$, ``num_modes=2`` keeps
    $u_1, u_3$.
    """

    network: TwoLayerNetwork
    projection: ModeProjection
    kept_modes: tuple[int, ...] = eqx.field(static=True)
    quadrature: QuadratureChoice = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, network: TwoLayerNetwork, num_modes: int, *, n_max: float = 1e6,
                 num_nodes: int | None = None, max_nodes: int = DEFAULT_MAX_NODES):
        raw = CutoffNetworkModel(network, num_modes, n_max=n_max, num_nodes=num_nodes,
                                 max_nodes=max_nodes)
        self.network, self.projection = network, raw.projection
        self.kept_modes, self.quadrature = raw.kept_modes, raw.quadrature
        self.num_params = network.num_params - network.width
        self.loss_minimum = 0.0

    @property
    def num_modes(self) -> int:
        return len(self.kept_modes)

    def coefficient_matrix(self, position: Position) -> Float[Array, "width columns"]:
        r"""$C_K$: row $i$ holds the kept coefficients $c_k(w_i, b_i)$ of unit $i$."""
        zeros = jnp.zeros((self.network.width,), dtype=position.dtype)
        hidden = self.network.units(jnp.concatenate([zeros, position]), self.projection.points)
        return hidden.T @ self.projection.basis

    def readout_kernel(self, position: Position) -> Float[Array, "columns columns"]:
        r"""$M = C_K^\top C_K$ (a $K\times K$ matrix; its log det equals that of
        $I_H + n s_a^2 C_K C_K^\top$)."""
        coefficients = self.coefficient_matrix(position)
        return coefficients.T @ coefficients

    def energy(self, position: Position) -> Scalar:
        raise NonlinearTemperingError(
            "the collapsed cutoff model's tempered part ½ log det(I + n s_a² C_Kᵀ C_K) is not "
            "n times an energy of w: use tempered_energy(position, n) and "
            "energy_derivative(position, n) (or learning_coefficient_integrand).")

    def population_loss(self, position: Position) -> Scalar:
        raise NonlinearTemperingError(
            "the collapsed cutoff model has no loss of the inner weights alone (the readout "
            "is integrated out); build CutoffNetworkModel for L_K(θ) of raw weights.")

    def mode_amplitudes(self, position: Position, kmax: int):
        raise ModeAmplitudesUnavailable(
            "the collapsed cutoff model integrates out the readout, so u_k is not a function "
            "of its position; use CutoffNetworkModel.kept_amplitudes.")

