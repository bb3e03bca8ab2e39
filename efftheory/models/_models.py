r"""Network models as partition functions: raw weights, collapsed readout, deep linear.

Every class here is a `PartitionFunction`, so one sampler serves all of them.

**Raw weights** (`NetworkModel`): position $\theta = (a, w, b)$, energy the exact
population loss by quadrature (`efftheory.models._energies`), prior the network's Gaussian prior.

**Collapsed readout** (`CollapsedNetworkModel`, see Concepts): with target zero the loss is the
quadratic form $L = \tfrac12 a^\top G(w) a$, $G_{ij} = E_q[\sigma(w_i\cdot x + b_i)
\sigma(w_j\cdot x + b_j)]$, and $a \sim N(0, s_a^2 I)$ integrates out exactly:

$$Z(n) = E_{w\sim\varphi}\big[\det(I + n s_a^2 G(w))^{-1/2}\big], \qquad
  U_n(w) = \tfrac12\log\det(I + n s_a^2 G(w)) - \log\varphi(w).$$

Its tempered part $T_n(w) = \tfrac12\log\det(I + ns_a^2G)$ is **not** $n$ times a function
of $w$, so the collapsed model does not fit the $n\,(L - L_0)$ interface:

* `potential_energy(w, n)` is exact (NUTS needs nothing else);
* `tempered_energy(w, n)` $= T_n(w)$; a replica swap of positions $w_r, w_s$ between rungs
  $n_r, n_s$ is accepted with $\min\{1, \exp[T_{n_r}(w_r) + T_{n_s}(w_s) - T_{n_r}(w_s)
  - T_{n_s}(w_r)]\}$ (for the linear models this is the usual
  $\exp[(n_r - n_s)(E_r - E_s)]$);
* `energy_derivative(w, n)` $= \partial_n T_n(w)$, whose posterior mean is $dF/dn$
  (thermodynamic integration), and `learning_coefficient_integrand(w, n)`
  $= n\,\partial_n T_n(w) = \tfrac12\sum_j x_j/(1 + x_j)$, $x_j = n s_a^2\,
  \mathrm{eig}_j G(w)$, whose posterior mean is $\lambda(n) = dF/d\log n$;
* ``linear_in_inverse_temperature = False`` selects the general swap rule in samplers;
* `energy(w)` raises `NonlinearTemperingError` instead of returning something wrong.
"""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._linalg import (
    factored_half_logdet,
    factored_logdet_parts,
    spd_logdet,
    spd_logdet_and_inverse,
)
from .._types import Array, Float, Key, Position, Scalar, ScalarLike
from ._energies import (
    LossRule,
    TargetNetwork,
    cutoff_energy,
    gram_factor,
    gram_matrix,
    loss_rule,
    mode_amplitudes,
    mode_energies,
    uses_mehler_form,
)
from ._energies import population_loss as network_population_loss
from ._networks import DeepLinearNetwork, TwoLayerNetwork
from ._partition import ModeAmplitudesUnavailable, NonlinearTemperingError, PartitionFunction
from ._quadrature_choice import (
    DEFAULT_MAX_NODES,
    QuadratureChoice,
    QuadratureError,
    assess_num_nodes,
    choose_num_nodes,
    test_draws,
    validate_n_max,
)


def validate_target(network: TwoLayerNetwork, target: TargetNetwork | None):
    if target is None:
        return None
    if not isinstance(target, TargetNetwork):
        raise ValueError("target must be None (learning zero) or a TargetNetwork.")
    teacher = target.network
    if teacher.activation.name != network.activation.name or teacher.measure != network.measure:
        raise ValueError("the target network must use the student's activation and input "
                         "measure (otherwise L0 is unknown).")
    if teacher.width > network.width or (teacher.bias and not network.bias):
        raise ValueError(
            f"a target of width {teacher.width}{' with bias' if teacher.bias else ''} is not "
            f"realizable by a student of width {network.width}"
            f"{' with bias' if network.bias else ''}: L0 would be unknown. Widen the student."
        )
    return target


def _check_user_nodes(network, num_nodes, n_max, target, factored: bool = False
                      ) -> QuadratureChoice:
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 2:
        raise ValueError(f"num_nodes must be None (automatic) or an integer >= 2, got "
                         f"{num_nodes!r}.")
    n_max = validate_n_max(n_max)
    draws = test_draws(network, jax.random.PRNGKey(0))
    choice = assess_num_nodes(network, num_nodes, n_max, draws, target, factored=factored)
    if choice.error_estimate > choice.tolerance:
        raise QuadratureError(
            f"num_nodes={num_nodes} gives a stated error {choice.error_estimate:.2e} of the "
            f"tempered energy at n_max={n_max:g} (tolerance {choice.tolerance:g}); it is "
            f"trustworthy up to n = {choice.trustworthy_n:.3g}. Lower n_max, or pass "
            "num_nodes=None to choose automatically."
        )
    return choice


def inner_weight_log_prior(network: TwoLayerNetwork, position: Position) -> Scalar:
    r"""$\log\varphi(w, b)$ of the inner weights (a collapsed model's position)."""
    scales = network.prior_scales()[network.width:]
    return jnp.sum(jax.scipy.stats.norm.logpdf(position, 0.0, scales))


def inner_weight_prior_draw(network: TwoLayerNetwork, key: Key) -> Position:
    """A prior draw of the inner weights: the raw draw without its readout."""
    return network.sample_prior(key)[network.width:]


class NetworkModel(PartitionFunction):
    r"""Raw weights: $\theta = (a, w, b)$, $L(\theta) = \tfrac12 E_q[(f_\theta - f^*)^2]$.

    Args:
        network: the `TwoLayerNetwork`.
        target: None (learning zero, the default) or a realizable `TargetNetwork`.
        n_max: the largest $n$ that will be sampled; $Q$ is chosen so that the error of
            the tempered energy $n(L - L_0)$ where the posterior lives is below $10^{-3}$
            at $n_{max}$ (see `choose_num_nodes`), reported in `quadrature` together with
            the largest trustworthy $n$ (`trustworthy_n`).
        num_nodes: a fixed $Q$ instead (checked against the same tolerance).
        max_nodes: the largest $Q$ tried before raising `QuadratureError`.
    """

    network: TwoLayerNetwork
    target: TargetNetwork | None
    rule: LossRule
    quadrature: QuadratureChoice = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, network: TwoLayerNetwork, *, target: TargetNetwork | None = None,
                 n_max: float = 1e6, num_nodes: int | None = None,
                 max_nodes: int = DEFAULT_MAX_NODES):
        if not isinstance(network, TwoLayerNetwork):
            raise ValueError(f"network must be a TwoLayerNetwork, got {type(network).__name__}.")
        self.network = network
        self.target = validate_target(network, target)
        if num_nodes is None:
            self.quadrature = choose_num_nodes(network, n_max, target=self.target,
                                               max_nodes=max_nodes)
        else:
            self.quadrature = _check_user_nodes(network, num_nodes, n_max, self.target)
        self.rule = loss_rule(network, self.quadrature.num_nodes, self.target)
        self.num_params = network.num_params
        self.loss_minimum = 0.0

    def population_loss(self, position: Position) -> Scalar:
        return network_population_loss(self.network, self.rule, position, self.target)

    @property
    def trustworthy_n(self) -> float:
        """`quadrature.trustworthy_n`: see `efftheory.QuadratureChoice`."""
        return self.quadrature.trustworthy_n

    def log_prior(self, position: Position) -> Scalar:
        return self.network.log_prior(position)

    def sample_prior(self, key: Key) -> Position:
        return self.network.sample_prior(key)

    def mode_amplitudes(self, position: Position, kmax: int) -> Float[Array, " modes"]:
        r"""$u_k(\theta)$, $k = 0..k_{max}$ (see `efftheory.models._energies.mode_amplitudes`)."""
        try:
            return mode_amplitudes(self.network, position, kmax, self.rule.num_nodes)
        except ValueError as error:
            raise ModeAmplitudesUnavailable(str(error)) from None

    def mode_energies(self, position: Position, kmax: int) -> Float[Array, " kmax+1"]:
        """$E_k$ for $k = 0..k_{max}$, target included."""
        return mode_energies(self.network, position, kmax, self.rule.num_nodes, self.target)

    def cutoff_energy(self, position: Position, num_modes: int) -> Scalar:
        """$L_K = \\sum_{k\\le K} E_k$."""
        return cutoff_energy(self.network, position, num_modes, self.rule.num_nodes,
                             self.target)


class CollapsedReadoutModel(PartitionFunction):
    r"""Abstract: the readout $a \sim N(0, s_a^2 I)$ integrated out of a quadratic loss
    $\tfrac12 a^\top M(w) a$, leaving $U_n(w) = \tfrac12\log\det(I + n s_a^2 M(w))
    - \log\varphi(w)$ over the inner weights (module docstring).

    Subclasses give the kernel `readout_kernel` ($M = G$ for the full loss, $C_K^\top C_K$
    for a mode cutoff); tempering (`tempered_energy`, `energy_derivative`,
    `learning_coefficient_integrand`) and the prior over ``[w.ravel(), b]`` are shared.
    """

    network: eqx.AbstractVar[TwoLayerNetwork]
    quadrature: eqx.AbstractVar[QuadratureChoice]
    linear_in_inverse_temperature: ClassVar[bool] = False

    @abc.abstractmethod
    def readout_kernel(self, position: Position) -> Float[Array, "dim dim"]:
        """$M(w)$, symmetric positive semi-definite."""

    @property
    def trustworthy_n(self) -> float:
        """`quadrature.trustworthy_n`: see `efftheory.QuadratureChoice`."""
        return self.quadrature.trustworthy_n

    def readout_factor(self, position: Position) -> Float[Array, "rows dim"] | None:
        r"""A factor $F$ with $M = F^\top F$, or None. With a factor, $T_n$ and its
        derivative come from QR of $[\sqrt{ns_a^2}F; I]$, which keeps the directions
        the data do not resolve accurate far beyond where Cholesky of the formed
        $I + ns_a^2M$ stops (`efftheory._linalg.factored_half_logdet`)."""
        return None

    def _kernel_matrix(self, position, inverse_temperature):
        """$M(w)$ and $I + n s_a^2 M(w)$."""
        kernel = self.readout_kernel(position)
        scaled = inverse_temperature * self.network.readout_variance * kernel
        return kernel, jnp.eye(kernel.shape[0], dtype=kernel.dtype) + scaled

    def tempered_energy(self, position: Position, inverse_temperature: ScalarLike) -> Scalar:
        r"""$T_n(w) = \tfrac12\log\det(I + n s_a^2 M(w))$ (QR of the factor where there
        is one, else Cholesky; `efftheory._linalg`)."""
        factor = self.readout_factor(position)
        if factor is not None:
            scale = inverse_temperature * self.network.readout_variance
            return factored_half_logdet(factor, jnp.asarray(scale, factor.dtype))
        _, matrix = self._kernel_matrix(position, inverse_temperature)
        return 0.5 * spd_logdet(matrix)

    def potential_energy(self, position: Position, inverse_temperature: ScalarLike) -> Scalar:
        return self.tempered_energy(position, inverse_temperature) - self.log_prior(position)

    def energy_derivative(self, position: Position, inverse_temperature: ScalarLike) -> Scalar:
        r"""$\partial_n T_n(w) = \tfrac12 s_a^2\operatorname{tr}[M(I + n s_a^2 M)^{-1}]$;
        its posterior mean is $dF/dn$ (what samplers record as the rung's energy). With a
        factor: $\tfrac12 s_a^2\|FR^{-1}\|_F^2$, $R^\top R = I + ns_a^2F^\top F$."""
        variance = self.network.readout_variance
        factor = self.readout_factor(position)
        if factor is not None:
            scale = jnp.sqrt(jnp.asarray(inverse_temperature * variance, factor.dtype))
            _, inverse = factored_logdet_parts(factor, scale)
            return 0.5 * variance * jnp.sum((factor @ inverse)**2)
        kernel, matrix = self._kernel_matrix(position, inverse_temperature)
        _, inverse = spd_logdet_and_inverse(matrix)
        return 0.5 * variance * jnp.sum(inverse * kernel)

    def learning_coefficient_integrand(self, position: Position,
                                       inverse_temperature: ScalarLike) -> Scalar:
        r"""$n\,\partial_n T_n = \tfrac12\sum_j x_j/(1 + x_j)$, $x_j = n s_a^2\,
        \mathrm{eig}_j M(w)$; its mean under $p_n(w)$ is $\lambda(n)$."""
        return inverse_temperature * self.energy_derivative(position, inverse_temperature)

    def log_prior(self, position: Position) -> Scalar:
        return inner_weight_log_prior(self.network, position)

    def sample_prior(self, key: Key) -> Position:
        return inner_weight_prior_draw(self.network, key)


class CollapsedNetworkModel(CollapsedReadoutModel):
    r"""The readout integrated out exactly: a density over the inner weights (see Concepts).

    Position ``[w.ravel(), b]`` (the raw layout without its first $H$ entries).
    $U_n(w) = \tfrac12\log\det(I + n s_a^2 G(w)) - \log\varphi(w)$; see the module
    docstring for how tempering and estimators use it. Requires target zero.

    $T_n$ comes from Cholesky of the formed $I + ns_a^2G$ while that is accurate to
    `n_max` (about twice as fast), else from QR of $[\sqrt{ns_a^2}\,\Phi; I]$ with
    $G = \Phi^\top\Phi$, whose rounding grows like $\sqrt n$ instead of $n$
    (`efftheory.models._quadrature_choice`, "Factored kernels"); ``factored`` says which. At
    width 128 this moves the trustworthy $n$ from $1.9\cdot10^9$ to $3.6\cdot10^{15}$ at
    $Q = 256$.
    """

    network: TwoLayerNetwork
    rule: LossRule
    quadrature: QuadratureChoice = eqx.field(static=True)
    factored: bool = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, network: TwoLayerNetwork, *, n_max: float = 1e6,
                 num_nodes: int | None = None, max_nodes: int = DEFAULT_MAX_NODES):
        if not isinstance(network, TwoLayerNetwork):
            raise ValueError(f"network must be a TwoLayerNetwork, got {type(network).__name__}.")
        mehler = uses_mehler_form(network)

        def choose(factored):
            if num_nodes is None:
                return choose_num_nodes(network, n_max, max_nodes=max_nodes, factored=factored)
            return _check_user_nodes(network, num_nodes, n_max, None, factored=factored)

        # Cholesky of the formed kernel costs about half as much per gradient as QR of the
        # factor (width 128: 105 against 196 ms per 100 lanes, docs/benchmarks.md), so QR
        # only where Cholesky is not accurate to n_max.
        try:
            self.quadrature, self.factored = choose(False), False
        except QuadratureError:
            if mehler:
                raise
            try:
                self.quadrature, self.factored = choose(True), True
            except QuadratureError as error:
                raise error from None
        self.network = network
        self.rule = loss_rule(network, self.quadrature.num_nodes)
        self.num_params = network.num_params - network.width
        self.loss_minimum = 0.0

    def raw_position(self, position: Position, readout: Float[Array, " width"]) -> Position:
        """The raw-weight vector ``[a, w.ravel(), b]`` for inner weights and a readout."""
        return jnp.concatenate([readout, position])

    def gram_matrix(self, position: Position) -> Float[Array, "width width"]:
        zeros = jnp.zeros((self.network.width,), dtype=position.dtype)
        return gram_matrix(self.network, self.rule, self.raw_position(position, zeros))

    def readout_kernel(self, position: Position) -> Float[Array, "width width"]:
        """$M = G(w)$."""
        return self.gram_matrix(position)

    def readout_factor(self, position: Position) -> Float[Array, "nodes width"] | None:
        r"""$\Phi_{qi} = \sqrt{\omega_q}\sigma(w_i x_q + b_i)$ ($G = \Phi^\top\Phi$), or None
        for the Mehler form."""
        if not self.factored:
            return None
        zeros = jnp.zeros((self.network.width,), dtype=position.dtype)
        return gram_factor(self.network, self.rule, self.raw_position(position, zeros))

    def energy(self, position: Position) -> Scalar:
        raise NonlinearTemperingError(
            "the collapsed model's tempered part ½ log det(I + n s_a² G(w)) is not n times an "
            "energy of w (linear_in_inverse_temperature is False): use "
            "tempered_energy(position, n) for replica swaps and energy_derivative(position, n) "
            "(or learning_coefficient_integrand = n times it) for estimators."
        )

    def population_loss(self, position: Position) -> Scalar:
        raise NonlinearTemperingError(
            "the collapsed model has no population loss of the inner weights alone (the "
            "readout is integrated out); build NetworkModel for L(θ) of raw weights."
        )

    def mode_amplitudes(self, position: Position, kmax: int):
        raise ModeAmplitudesUnavailable(
            "the collapsed model integrates out the readout, so u_k(θ) = Σ a_i c_k(w_i) is not "
            "a function of its position; use NetworkModel or FreeFieldModel for modes."
        )


class DeepLinearModel(PartitionFunction):
    r"""$L = \tfrac12\|W_L\cdots W_1 - W^*\|_F^2$ (inputs $x \sim N(0, I)$, exact).

    $W^*$ has rank `true_rank` $r$: the first $r$ diagonal entries are one. Geometric
    RLCT: `dln_rlct(widths, r)` (Aoyagi 2024); two layers are reduced rank regression
    (`rrr_rlct(M, N, H, r)`, Aoyagi & Watanabe 2005).
    """

    network: DeepLinearNetwork
    true_map: Float[Array, "out in"]
    true_rank: int = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, network: DeepLinearNetwork, *, true_rank: int = 0):
        if isinstance(true_rank, bool) or not isinstance(true_rank, int) or true_rank < 0:
            raise ValueError(f"true_rank must be a non-negative integer, got {true_rank!r}.")
        if true_rank > min(network.widths):
            raise ValueError(f"true_rank={true_rank} exceeds the narrowest width "
                             f"{min(network.widths)}: the map would not be realizable.")
        self.network = network
        out_dim, in_dim = network.widths[-1], network.widths[0]
        self.true_map = jnp.eye(out_dim, in_dim) * (jnp.arange(in_dim) < true_rank)
        self.true_rank = true_rank
        self.num_params = network.num_params
        self.loss_minimum = 0.0

    def population_loss(self, position: Position) -> Scalar:
        return 0.5 * jnp.sum((self.network.end_to_end(position) - self.true_map) ** 2)

    def log_prior(self, position: Position) -> Scalar:
        return self.network.log_prior(position)

    def sample_prior(self, key: Key) -> Position:
        return self.network.sample_prior(key)

    def mode_amplitudes(self, position: Position, kmax: int):
        raise ModeAmplitudesUnavailable(
            "a deep linear network only excites the linear (k = 1) Hermite modes; its "
            "'amplitudes' are the entries of W_L⋯W_1 (use network.end_to_end)."
        )
