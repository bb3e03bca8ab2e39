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
its cosine and sine amplitudes are both kept ($E_k$ of `efftheory._energies.mode_energies`).

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
chosen like the full loss's (`efftheory._quadrature_choice.choose_num_nodes`): the smallest
$Q = Q_0 2^j$ with $10\max|L_{K,Q} - L_{K,2Q}| \le 10^{-3}/n_{max}$ over 16 prior draws.
$K$ must not exceed the modes float64 resolves at the prior's typical weight
$|w| = s_w$ (`mode_coefficients` error bound below $10^{-3}|c_k|$); beyond it $L_K$ would
add rounding noise, not modes, and construction raises with the largest usable $K$.
"""

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._energies import TargetNetwork
from ._measures import (
    CircleMeasure,
    GaussianMeasure,
    hermite_recurrence,
    legendre_recurrence,
)
from ._models import (
    CollapsedReadoutModel,
    ModeAmplitudesUnavailable,
    NonlinearTemperingError,
    validate_target,
)
from ._modes import mode_coefficients
from ._networks import TwoLayerNetwork
from ._partition import PartitionFunction
from ._quadrature import mode_trapezoid
from ._quadrature_choice import (
    DEFAULT_MAX_NODES,
    QuadratureChoice,
    QuadratureError,
    validate_n_max,
)
from ._types import Array, Float, Key, Position, Scalar

# A kept coefficient is resolved when its float64 error bound is below this times |c_k|.
_RESOLUTION_RTOL = 1e-3
# Parity tests of sigma are exact identities up to rounding on |z| <= 8.
_PARITY_GRID = np.linspace(0.0, 8.0, 161)[1:]


# ------------------------------------------------------------------------- kept modes


def _parity(activation) -> tuple[bool, bool, bool, bool]:
    r"""Which parts of $\sigma$ are trivial: (odd part zero, even part zero, even part
    constant, odd part linear), tested on $0 < z \le 8$ up to rounding."""
    z = jnp.asarray(_PARITY_GRID)
    plus, minus = np.asarray(activation.function(z)), np.asarray(activation.function(-z))
    at_zero = float(activation.function(jnp.zeros(())))
    tolerance = 1e-10 * (1.0 + float(np.max(np.abs(plus)) + np.max(np.abs(minus))))
    even, odd = plus + minus, plus - minus
    slope = odd[-1] / z[-1]
    return (bool(np.max(np.abs(odd)) <= tolerance), bool(np.max(np.abs(even)) <= tolerance),
            bool(np.max(np.abs(even - 2.0 * at_zero)) <= tolerance),
            bool(np.max(np.abs(odd - slope * np.asarray(z))) <= tolerance))


def _vanishes_identically(k: int, parity) -> bool:
    odd_zero, even_zero, even_constant, odd_linear = parity
    if k % 2 == 0:
        return even_zero or (k >= 2 and even_constant)
    return odd_zero or (k >= 3 and odd_linear)


def _check_mode_basis(network) -> None:
    if not isinstance(network, TwoLayerNetwork):
        raise ValueError(
            f"a mode cutoff needs a mode basis, and {type(network).__name__} has none: "
            "cutoff models are built for two-layer networks (TwoLayerNetwork, builder "
            "'two_layer', e.g. the card 'learning-zero-small'); use form='raw' or drop "
            "form/num_modes for other models.")
    if isinstance(network.measure, GaussianMeasure) and network.input_dim > 1:
        raise ValueError(
            f"a mode cutoff with Gaussian inputs in input_dim={network.input_dim} is not "
            "supported (the mode amplitudes of degree k form a vector of dimension "
            f"C(k+{network.input_dim - 1}, {network.input_dim - 1})); use input_dim=1, or "
            "the full loss (form='raw' or 'collapsed').")


def kept_modes(network: TwoLayerNetwork, num_modes: int) -> tuple[int, ...]:
    r"""The indices of the first `num_modes` modes of `network` that do not vanish
    identically (see the module docstring), e.g. ``(1, 3)`` for tanh without bias.

    Raises ValueError if `num_modes` < 1, if the network has no mode basis, or if the
    last kept mode is not resolved in float64 at the prior's typical weight.
    """
    _check_mode_basis(network)
    if isinstance(num_modes, bool) or not isinstance(num_modes, int | np.integer) \
            or num_modes < 1:
        raise ValueError(f"num_modes must be an integer >= 1 (the number of kept modes K), "
                         f"got {num_modes!r}.")
    parity = (False,) * 4 if network.bias else _parity(network.activation)
    if not network.bias and parity[0] and parity[1]:
        raise ValueError("the activation vanishes identically: no mode can be kept.")
    kept, k = [], 0
    while len(kept) < num_modes:
        if not _vanishes_identically(k, parity):
            kept.append(k)
        k += 1
    _check_resolved(network, tuple(kept))
    return tuple(kept)


def _check_resolved(network, kept) -> None:
    bias = network.bias_scale if network.bias else 0.0
    values, error = mode_coefficients(network.activation, network.measure,
                                      w=network.weight_scale, b=bias, kmax=kept[-1],
                                      below_floor="keep", return_error=True, progress=False)
    values, error = np.abs(np.asarray(values)), np.asarray(error)
    resolved = [bool(error[k] <= _RESOLUTION_RTOL * values[k]) for k in kept]
    if all(resolved):
        return
    usable = resolved.index(False)
    first = kept[usable]
    raise ValueError(
        f"num_modes={len(kept)} keeps mode k={kept[-1]}, but float64 resolves the mode "
        f"coefficients of {network.activation.name} at the prior's typical weight "
        f"|w| = {network.weight_scale:g} only for the first {usable} kept modes (c_{first} = "
        f"{values[first]:.1e} with error bound {error[first]:.1e}): lower num_modes to at "
        f"most {usable}, or use the full loss (form='raw'), which sums every mode exactly.")


def mode_columns(measure, kept) -> list[int]:
    """Columns of `weighted_basis` for the kept modes (circle: cosine and sine)."""
    if isinstance(measure, CircleMeasure):
        return [c for k in kept for c in ((0,) if k == 0 else (2 * k - 1, 2 * k))]
    return list(kept)


# ----------------------------------------------------------------------- projection


class ModeProjection(eqx.Module):
    r"""Fixed nodes $x_q$ and the kept basis scaled by $\omega_q$: $u = f(x)^\top P$,
    $P_{qk} = \omega_q e_k(x_q)$."""

    points: Float[Array, "num_nodes dim"]
    basis: Float[Array, "num_nodes columns"]


def mode_projection(network: TwoLayerNetwork, kept: tuple[int, ...],
                    num_nodes: int) -> ModeProjection:
    """The projection onto the `kept` modes with `num_nodes` nodes (not jittable):
    trapezoid rule for Gaussian inputs (`efftheory._quadrature.mode_trapezoid`), the
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
    r"""$\sqrt{\omega_q}e_k(x_q)$ by the recurrence of `efftheory._measures.weighted_basis`
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


def _target_amplitudes(network, projection, target):
    if target is None:
        return jnp.zeros((projection.basis.shape[1],))
    return target.network(target.position, projection.points) @ projection.basis


@eqx.filter_jit
def _batched_cutoff_loss(network, projection, draws, target):
    reference = _target_amplitudes(network, projection, target)
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


# ----------------------------------------------------------------------------- models


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
        card: the model card (set by `load_model`).
    """

    network: TwoLayerNetwork
    target: TargetNetwork | None
    projection: ModeProjection
    target_amplitudes: Float[Array, " columns"]
    kept_modes: tuple[int, ...] = eqx.field(static=True)
    quadrature: QuadratureChoice = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)
    card: Any = eqx.field(static=True)

    @property
    def trustworthy_n(self) -> float:
        r"""`quadrature.trustworthy_n`: the $n$ up to which $n|\Delta L_K| \le 10^{-3}$."""
        return self.quadrature.trustworthy_n

    def __init__(self, network: TwoLayerNetwork, num_modes: int, *,
                 target: TargetNetwork | None = None, n_max: float = 1e6,
                 num_nodes: int | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                 card: Any = None):
        self.kept_modes = kept_modes(network, num_modes)
        self.network = network
        self.target = validate_target(network, target)
        self.quadrature = choose_cutoff_nodes(network, self.kept_modes, n_max,
                                              target=self.target, num_nodes=num_nodes,
                                              max_nodes=max_nodes)
        self.projection = mode_projection(network, self.kept_modes, self.quadrature.num_nodes)
        self.target_amplitudes = _target_amplitudes(network, self.projection, self.target)
        self.num_params = network.num_params
        self.loss_minimum = 0.0
        self.card = card

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
    card: Any = eqx.field(static=True)

    def __init__(self, network: TwoLayerNetwork, num_modes: int, *, n_max: float = 1e6,
                 num_nodes: int | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                 card: Any = None):
        raw = CutoffNetworkModel(network, num_modes, n_max=n_max, num_nodes=num_nodes,
                                 max_nodes=max_nodes)
        self.network, self.projection = network, raw.projection
        self.kept_modes, self.quadrature = raw.kept_modes, raw.quadrature
        self.num_params = network.num_params - network.width
        self.loss_minimum = 0.0
        self.card = card

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

