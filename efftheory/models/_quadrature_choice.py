r"""Choosing the number of quadrature nodes $Q$ of the population loss
(`efftheory.models._energies`).

The number of nodes $Q$ (and, for Mehler, the number of modes $K = Q/2$) is chosen by
`choose_num_nodes` so that the quadrature error matters nowhere the posterior lives up to
$n_{max}$. With $\Delta G = G_Q - G_{2Q}$ the change of the kernel $G_{ij} =
E_q[\sigma_i\sigma_j]$ between $Q$ and $2Q$ nodes, and $(\mu_j, v_j)$ the eigenpairs of
$G$, the error of the tempered energy averaged over the readout's conditional posterior
$a \mid w \sim N(0, (s_a^{-2} + nG)^{-1})$ is, to first order,

$$\varepsilon(n) = \tfrac12\,E[n\,a^\top\Delta G\,a] \le \tfrac12\sum_j
  \frac{n s_a^2\,|v_j^\top \Delta G\, v_j|}{1 + n s_a^2\mu_j},$$

which is also the error of the collapsed form's $T_n = \tfrac12\log\det(I + ns_a^2G)$.
Directions the data resolve ($ns_a^2\mu_j \gg 1$) need $\Delta G$ small *relative to*
$\mu_j$, unresolved ones need it small against $1/n$: an absolute tolerance on $L$ at
prior draws (where $L$ is large and its rounding noise with it) asks for far more than
that. $\varepsilon$ grows with $n$; the largest $n$ with $\varepsilon(n) \le 10^{-3}$ at
the chosen $Q$ is the model's **trustworthy n** (`QuadratureChoice.trustworthy_n`): the
measured $\Delta G$ includes float64 rounding of $G$, so this is also where the
arithmetic stops resolving the small kernel eigenvalues. It is capped where the posterior
width of the readout, $(n\mu_1)^{-1/2}$, falls to $10^3$ ulps of its prior scale (float64
positions stop resolving the posterior there).

**Factored kernels** (``factored=True``: the collapsed form with $T_n$ computed by QR of
$[\sqrt{ns_a^2}\,\Phi; I]$, $G = \Phi^\top\Phi$, `efftheory._linalg.factored_half_logdet`).
Forming $G$ rounds each entry by $\epsilon\|G\|$, which sets the floor above for
unresolved directions at $n\epsilon\|G\|$ each. The factored route never forms $G$:
$v_j^\top\Delta G v_j = \|\Phi_Q v_j\|^2 - \|\Phi_{2Q} v_j\|^2$ with $v_j$ from the SVD
of $\Phi_{2Q}$, and the rounding of the QR route is bounded to first order
(Householder QR is column-wise backward stable, Higham 2002, Thm. 19.4; $\delta\log\det =
2\operatorname{tr}(Q^\top\delta M R^{-1})$ with $\|R^{-1}\|_F^2 = \sum_j(1+c\mu_j)^{-1}$) by

$$\varepsilon_{\rm round}(n) = \epsilon\sqrt{H}\,\big(c\|\Phi\|_F^2 + H\big)^{1/2}
  \Big(\sum_j\frac{1}{1 + c\mu_j}\Big)^{1/2}, \qquad c = ns_a^2,$$

added to $\varepsilon(n)$: it grows like $\sqrt n$ rather than $n$ (a test checks it
against the same determinant in 60-digit arithmetic).
"""

import math
from typing import NamedTuple

import jax
import numpy as np

from .._types import Key
from ._energies import TargetNetwork, gram_factor, gram_matrix, loss_rule, uses_mehler_form
from ._networks import TwoLayerNetwork
from ._partition import QuadratureError

DEFAULT_MAX_NODES = 4096


class QuadratureChoice(NamedTuple):
    r"""What `choose_num_nodes` settled on.

    Attributes:
        num_nodes: $Q$.
        error_estimate: the stated error $\varepsilon(n_{max})$ of the tempered energy
            where the posterior lives (``margin`` × the measured one; module docstring).
        tolerance: the requirement on it, $10^{-3}$.
        num_modes: for the Mehler form ($d > 1$), the Hermite modes kept ($Q/2$), else 0.
        trustworthy_n: the largest $n$ with stated $\varepsilon(n) \le$ `tolerance` at
            this $Q$ (``inf`` when no $n$ below $10^{300}$ reaches it); samplers refuse
            rungs above it.
    """

    num_nodes: int
    error_estimate: float
    tolerance: float
    num_modes: int
    trustworthy_n: float = math.inf




# The tolerance on the posterior-averaged error of the tempered energy n(L - L0).
ENERGY_TOLERANCE = 1e-3


def validate_n_max(n_max: float) -> float:
    """`n_max` as a float, or a ValueError naming it."""
    if not (isinstance(n_max, int | float) and not isinstance(n_max, bool)
            and math.isfinite(n_max) and n_max > 0):
        raise ValueError(f"n_max must be a positive finite number, got {n_max!r}.")
    return float(n_max)


# Test draws reach the prior's tail: the trapezoid rule's error grows with |w| (tanh's
# poles at i pi / (2|w|) narrow its strip of analyticity), so at least this many units are
# drawn in all (a narrow network gets more draws), which reaches about the 1/500 quantile.
_MINIMUM_TEST_UNITS = 512


def test_draws(network: TwoLayerNetwork, key: Key, num_draws: int = 16):
    """`num_draws` prior draws, more for narrow networks (at least 512 units in all)."""
    count = max(num_draws, math.ceil(_MINIMUM_TEST_UNITS / network.width))
    return jax.vmap(network.sample_prior)(jax.random.split(key, count))


def _grams_at_draws(network, num_nodes, draws, target, factored: bool = False) -> np.ndarray:
    r"""$G$ at each draw, or its node factor $\Phi$ (`gram_factor`) when `factored`."""
    rule = loss_rule(network, num_nodes, target)
    kernel = gram_factor if factored else gram_matrix
    return np.asarray(jax.vmap(lambda p: kernel(network, rule, p, target))(draws))


class _KernelChange(NamedTuple):
    r"""Per draw: eigenvalues $\mu_j$ of $G_{2Q}$ and $|v_j^\top(G_Q - G_{2Q})v_j|$; for
    factored kernels also $\|\Phi\|_F^2$ (the QR route's rounding, module docstring)."""

    eigenvalues: np.ndarray
    change: np.ndarray
    factor_norms: np.ndarray | None = None


def _kernel_change(coarse: np.ndarray, fine: np.ndarray, factored: bool = False
                   ) -> _KernelChange:
    # On the host: a batched LAPACK call inside XLA can deadlock a small CPU thread pool
    # (see efftheory._linalg).
    if factored:
        # v_j^T G v_j = |Phi v_j|^2 from the factors: G is never formed, so the change is
        # not buried under the rounding of forming it.
        _, singular, transposed = np.linalg.svd(fine, full_matrices=False)
        vectors = np.swapaxes(transposed, -1, -2)
        change = np.abs(np.sum((coarse @ vectors)**2, -2) - np.sum((fine @ vectors)**2, -2))
        return _KernelChange(singular**2, change, np.sum(fine**2, axis=(-2, -1)))
    eigenvalues, vectors = np.linalg.eigh(fine)
    change = np.abs(np.einsum("dij,dik,dkj->dj", vectors, coarse - fine, vectors))
    return _KernelChange(np.clip(eigenvalues, 0.0, None), change)


def tempered_energy_error(coarse: np.ndarray, fine: np.ndarray, readout_variance: float,
                          n: np.ndarray | float) -> np.ndarray:
    r"""$\varepsilon(n) = \tfrac12\sum_j n s_a^2|v_j^\top\Delta G v_j|/(1 + ns_a^2\mu_j)$,
    the worst over the draws (leading axis of `coarse`/`fine`, the kernels $G_Q$ and
    $G_{2Q}$), for every $n$ given (see the module docstring)."""
    return _worst_error(_kernel_change(coarse, fine), readout_variance, n)


def _worst_error(kernel: _KernelChange, readout_variance: float, n) -> np.ndarray:
    n = np.atleast_1d(np.asarray(n, dtype=np.float64))
    scaled = n[:, None, None] * readout_variance
    errors = 0.5 * np.sum(scaled * kernel.change[None]
                          / (1.0 + scaled * kernel.eigenvalues[None]), -1)
    if kernel.factor_norms is not None:
        errors = errors + _qr_rounding(kernel, scaled)
    return errors.max(axis=1)


def _qr_rounding(kernel: _KernelChange, scaled: np.ndarray) -> np.ndarray:
    r"""$\epsilon\sqrt{H}\,(c\|\Phi\|_F^2 + H)^{1/2}\,(\sum_j (1 + c\mu_j)^{-1})^{1/2}$,
    $c = ns_a^2$: the first-order rounding of $T_n$ by QR of $[\sqrt c\Phi; I]$ (module
    docstring)."""
    dim = kernel.eigenvalues.shape[-1]
    unresolved = np.sum(1.0 / (1.0 + scaled * kernel.eigenvalues[None]), -1)
    stacked = scaled[..., 0] * kernel.factor_norms[None] + dim
    return np.finfo(np.float64).eps * np.sqrt(dim * stacked * unresolved)


def _trustworthy_n(kernel: _KernelChange, readout_variance, margin, tolerance) -> float:
    """The largest n with margin * eps(n) <= tolerance (eps grows with n): a grid in
    log10 n, then bisection."""
    grid = np.linspace(-3.0, 300.0, 304)
    stated = margin * _worst_error(kernel, readout_variance, 10.0**grid)
    if stated[-1] <= tolerance:
        return math.inf
    if stated[0] > tolerance:
        return 0.0
    first_bad = int(np.argmax(stated > tolerance))
    low, high = grid[first_bad - 1], grid[first_bad]
    for _ in range(30):
        middle = 0.5 * (low + high)
        ok = margin * _worst_error(kernel, readout_variance, 10.0**middle)[0] <= tolerance
        low, high = (middle, high) if ok else (low, middle)
    return float(10.0**low)


def _position_resolution_limit(kernel: _KernelChange, readout_variance: float) -> float:
    r"""The $n$ at which the readout's posterior width along $G$'s top eigenvector,
    $(n\mu_1)^{-1/2}$, shrinks to $10^3$ float64 ulps of its prior scale $s_a$: beyond it
    leapfrog steps and positions no longer resolve the posterior, whatever the quadrature."""
    resolution = 1e3 * np.finfo(np.float64).eps
    top = float(np.max(kernel.eigenvalues))
    return math.inf if top <= 0 else float(1.0 / (top * readout_variance * resolution**2))


def assess_num_nodes(network: TwoLayerNetwork, num_nodes: int, n_max: float, draws,
                     target: TargetNetwork | None = None, *, margin: float = 10.0,
                     coarse: np.ndarray | None = None, fine: np.ndarray | None = None,
                     factored: bool = False) -> QuadratureChoice:
    """The `QuadratureChoice` for `num_nodes` nodes, stated from `draws` (prior draws);
    `factored`: for a collapsed energy computed by QR of the node factor (module
    docstring), with `coarse`/`fine` the factors instead of the kernels."""
    if coarse is None:
        coarse = _grams_at_draws(network, num_nodes, draws, target, factored)
    if fine is None:
        fine = _grams_at_draws(network, 2 * num_nodes, draws, target, factored)
    variance = network.readout_variance
    kernel = _kernel_change(coarse, fine, factored)
    error = margin * float(_worst_error(kernel, variance, n_max)[0])
    mehler = uses_mehler_form(network)
    trustworthy = min(_trustworthy_n(kernel, variance, margin, ENERGY_TOLERANCE),
                      _position_resolution_limit(kernel, variance))
    return QuadratureChoice(num_nodes, error, ENERGY_TOLERANCE,
                            num_nodes // 2 if mehler else 0, trustworthy)


def choose_num_nodes(network: TwoLayerNetwork, n_max: float, *,
                     target: TargetNetwork | None = None, key: Key | None = None,
                     num_draws: int = 16, margin: float = 10.0, start: int = 16,
                     max_nodes: int = DEFAULT_MAX_NODES, factored: bool = False
                     ) -> QuadratureChoice:
    r"""The smallest $Q = \text{start}\cdot 2^j$ whose stated error $\varepsilon(n_{max})$
    of the tempered energy is below $10^{-3}$ (module docstring).

    $\varepsilon$ is measured from $G_Q - G_{2Q}$ at `num_draws` prior draws (fixed `key`,
    default ``PRNGKey(0)``; more for narrow networks, so that at least 512 units reach
    into the prior's tail, where the rule converges slowest), and stated with a safety
    ``margin``. With `factored`, the error is that of the collapsed energy computed by QR
    of the node factor (`efftheory._linalg.factored_half_logdet`; module docstring).
    Raises `QuadratureError` (naming what to change) if even ``max_nodes`` does not
    suffice.
    """
    n_max = validate_n_max(n_max)
    key = jax.random.PRNGKey(0) if key is None else key
    draws = test_draws(network, key, num_draws)
    num_nodes = int(start)
    if factored and uses_mehler_form(network):
        raise ValueError("factored=True needs a kernel that is a sum over nodes; the Mehler "
                         "form (Gaussian input in more than one dimension) is not.")
    coarse = _grams_at_draws(network, num_nodes, draws, target, factored)
    while True:
        fine = _grams_at_draws(network, 2 * num_nodes, draws, target, factored)
        choice = assess_num_nodes(network, num_nodes, n_max, draws, target, margin=margin,
                                  coarse=coarse, fine=fine, factored=factored)
        if choice.error_estimate <= choice.tolerance:
            return choice
        if 2 * num_nodes > max_nodes:
            raise QuadratureError(
                f"the population loss of this network cannot be integrated accurately enough "
                f"for n_max={n_max:g} with at most {max_nodes} nodes: the stated error of "
                f"the tempered energy n(L - L0) where the posterior lives is "
                f"{choice.error_estimate:.2e} at Q={num_nodes} (tolerance "
                f"{choice.tolerance:g}); at that Q it is trustworthy up to "
                f"n = {choice.trustworthy_n:.3g}. Lower n_max to at most that, raise "
                f"max_nodes (`efftheory run ... --override max_nodes={4 * max_nodes}`), or "
                "use a smaller weight_scale (nearly singular or non-analytic activations "
                "converge slowly)."
            )
        num_nodes, coarse = 2 * num_nodes, fine
